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

pub use crate::check::arg_match::{ArgMatch, ArgRules};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrajectoryMode {
    /// Same calls, same order, same count.
    Strict,
    /// The expected calls appear in order; extra calls allowed.
    InOrder,
    /// Same multiset of calls, any order.
    Unordered,
    /// Every actual call is matched by an expected one (the agent did nothing unexpected).
    Subset,
    /// Every expected call is matched by an actual one (extras allowed).
    Superset,
}

impl TrajectoryMode {
    pub const NAMES: [&'static str; 5] = ["strict", "in_order", "unordered", "subset", "superset"];

    pub fn parse(s: &str) -> Option<TrajectoryMode> {
        match s {
            "strict" => Some(TrajectoryMode::Strict),
            "in_order" => Some(TrajectoryMode::InOrder),
            "unordered" => Some(TrajectoryMode::Unordered),
            "subset" => Some(TrajectoryMode::Subset),
            "superset" => Some(TrajectoryMode::Superset),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            TrajectoryMode::Strict => "strict",
            TrajectoryMode::InOrder => "in_order",
            TrajectoryMode::Unordered => "unordered",
            TrajectoryMode::Subset => "subset",
            TrajectoryMode::Superset => "superset",
        }
    }
}

/// How often a tool must be called: `times: N` is `{min: N, max: N}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Times {
    pub min: u32,
    pub max: Option<u32>,
}

/// One `end_state` assertion on a JSON path of the tool world.
#[derive(Debug, Clone, PartialEq)]
pub struct PathAssert {
    /// Dot path: `orders.1042.status`, `refunds.0.amount`.
    pub path: String,
    /// The value there must contain this as a recursive subset; `None` with `exists`.
    pub equals: Option<Value>,
    /// `Some(false)`: the path must not exist.
    pub exists: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EndStateSpec {
    /// The whole world contains this as a recursive subset.
    Subset(ValueRef),
    /// Each path assertion holds.
    Paths(Vec<PathAssert>),
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
        /// One instance for every case that writes the pattern: a clone would start its
        /// matching caches cold, and warming them costs more than the match.
        regex: Arc<regex::Regex>,
    },
    JsonValid,
    JsonSchema {
        schema: Arc<jsonschema::Validator>,
    },
    /// The tool was called (with args a recursive superset of `args`), `times` times if given.
    ToolCalled {
        name: String,
        args: Option<Value>,
        /// `None`: at least once.
        times: Option<Times>,
        /// A matching call must come before the first (`before`) / after the last (`after`)
        /// call of this other tool; a tool never called imposes nothing.
        before: Option<String>,
        after: Option<String>,
        rules: ArgRules,
    },
    /// The tool was never called (with matching args, if given).
    ToolNotCalled {
        name: String,
        args: Option<Value>,
        rules: ArgRules,
    },
    Trajectory {
        mode: TrajectoryMode,
        expected: ValueRef,
        args: ArgRules,
        /// `score: f1`: a passing check scores its F1 (partial credit). Otherwise a pass scores
        /// 1 and a fail 0, so a score delta against a baseline always means a verdict change.
        partial: bool,
    },
    /// The tool world's end state contains the expected state (or path values) as a
    /// recursive subset.
    EndState(EndStateSpec),
    MaxSteps(u64),
    MaxTokens(u64),
    /// `true`: must escalate; `false`: must not.
    Escalated(bool),
    /// A minijinja expression that must be true (compiled and checked at load).
    Expr {
        expr: crate::check::expr::CompiledExpr,
    },
    /// A user program that grades (see `check::command`); run by the runner, async.
    Command {
        argv: Vec<String>,
        /// The suite's folder: the working directory, and the base of a relative program.
        dir: std::path::PathBuf,
        timeout: std::time::Duration,
        /// Bounds on what is read of its stdout and stderr (`run.limits`).
        limits: crate::process::OutputLimits,
    },
    Judge {
        judge: Arc<Judge>,
        threshold: f64,
        soft_threshold: Option<f64>,
    },
}
