//! `CheckSpec`: a validated check, ready to evaluate. Built from a `RawCheck` by `CheckSpec::from_raw`.

use std::sync::Arc;

use serde_json::Value;

use crate::check::judge::Judge;
use crate::verdict::Severity;

#[derive(Debug, Clone)]
pub struct CheckSpec {
    pub check: Check,
    /// Display name: the user's `name`, else derived from the kind and its argument.
    pub name: String,
    pub severity: Severity,
    /// Weight in the case score (default 1; 0 = informational).
    pub weight: f64,
}

// Checks hold compiled regexes and schemas, which cannot be compared; cases compare by their
// other fields in tests, so equality of checks is by display name and kind.
impl PartialEq for CheckSpec {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.severity == other.severity && self.weight == other.weight
    }
}

/// A value given inline, or a reference into the case such as `expected.tools`, resolved per case.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueRef {
    Inline(Value),
    Case(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrajectoryMode {
    /// Same calls, same order, same count.
    Strict,
    /// The expected calls appear in order; extra calls allowed.
    InOrder,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgMatch {
    /// Arguments equal.
    Exact,
    /// Expected arguments are a recursive subset of the actual ones.
    Subset,
    /// Arguments are not compared.
    Ignore,
}

#[derive(Debug, Clone)]
pub enum Check {
    /// The output (trimmed) equals the value; JSON values compare as JSON.
    Equals {
        expected: ValueRef,
    },
    /// The output contains all (or any) of the values.
    Contains {
        values: Vec<String>,
        all: bool,
        ignore_case: bool,
    },
    /// The output contains none of the values.
    NotContains {
        values: Vec<String>,
        ignore_case: bool,
    },
    Regex {
        regex: regex::Regex,
    },
    JsonValid,
    JsonSchema {
        schema: Arc<jsonschema::Validator>,
    },
    /// The tool was called (with args a recursive superset of `args`), `times` times if given.
    ToolCalled {
        name: String,
        args: Option<Value>,
        times: Option<u32>,
    },
    /// The tool was never called (with matching args, if given).
    ToolNotCalled {
        name: String,
        args: Option<Value>,
    },
    Trajectory {
        mode: TrajectoryMode,
        expected: ValueRef,
        args: ArgMatch,
    },
    /// The tool world's end state contains the expected state as a recursive subset.
    EndState {
        expected: ValueRef,
    },
    MaxSteps(u64),
    MaxTokens(u64),
    /// `true`: must escalate; `false`: must not.
    Escalated(bool),
    Judge {
        judge: Arc<Judge>,
        threshold: f64,
        soft_threshold: Option<f64>,
    },
}
