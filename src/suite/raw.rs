//! The serde mirror of what users write: suite YAML, cases (JSONL/YAML/CSV rows) and checks.
//!
//! These types only describe the shape. `suite::load` resolves paths, compiles regexes, schemas
//! and templates, and turns them into the validated `Suite`. Every struct denies unknown fields
//! so that a typo is an error with a "did you mean", not a silently ignored key.
//! Shorthand forms (`contains: "x"` vs `contains: {any: [..]}`) are kept as JSON values here and
//! parsed in `check::spec`, since `#[serde(untagged)]` would make the errors unreadable.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::verdict::Severity;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSuite {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// One dataset file...
    #[serde(default)]
    pub dataset: Option<String>,
    /// ...or several.
    #[serde(default)]
    pub datasets: Vec<String>,
    pub target: RawTarget,
    /// Applied to every case; a case adds its own.
    #[serde(default)]
    pub checks: Vec<RawCheck>,
    /// Where `judge: NAME` looks for `NAME.yaml`. Default: the nearest `judges/` folder at or
    /// above the suite's folder.
    #[serde(default)]
    pub judges_dir: Option<String>,
    #[serde(default)]
    pub gate: RawGate,
    #[serde(default)]
    pub run: RawRun,
}

/// Exactly one of the target kinds. (An enum would read better, but serde's error for a wrong
/// externally-tagged enum does not list the variants; this struct does.)
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    #[serde(default)]
    pub harness: Option<RawHarness>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHarness {
    /// `provider:model`, e.g. `mock:support`.
    pub model: String,
    /// Path to a minijinja template for the system prompt (sees `case` and `vars`).
    #[serde(default)]
    pub system: Option<String>,
    /// Builtin tool names offered to the model.
    #[serde(default)]
    pub tools: Vec<String>,
    /// Path to the JSON world fixture the builtin tools act on.
    #[serde(default)]
    pub world: Option<String>,
    #[serde(default)]
    pub max_steps: Option<u32>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub max_tokens: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGate {
    #[serde(default)]
    pub min_pass_rate: Option<f64>,
    #[serde(default)]
    pub max_soft_fail_rate: Option<f64>,
    #[serde(default)]
    pub max_error_rate: Option<f64>,
    /// Tags or case ids: any failure there fails the gate.
    #[serde(default)]
    pub critical: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRun {
    #[serde(default)]
    pub concurrency: Option<usize>,
    /// Per-case timeout, e.g. `60s`, `500ms`, `2m`.
    #[serde(default)]
    pub timeout: Option<String>,
}

/// One golden case as written in a JSONL line, a YAML list item, or assembled from a CSV row.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCase {
    pub id: String,
    #[serde(default)]
    pub description: Option<String>,
    /// A message, or a list of user turns (scripted multi-turn).
    pub input: Value,
    #[serde(default)]
    pub vars: BTreeMap<String, Value>,
    #[serde(default)]
    pub expected: RawExpected,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub checks: Vec<RawCheck>,
    /// `{world: {...}}`: deep-merged over the suite's world for this case.
    #[serde(default)]
    pub fixtures: Option<Value>,
    /// Per-case script for the mock provider: the n-th agent model call gets the n-th reply,
    /// then the mock's rules take over.
    #[serde(default)]
    pub mock: Vec<RawMockReply>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExpected {
    /// Reference answer, for judges and `equals: expected.reference`.
    #[serde(default)]
    pub reference: Option<String>,
    /// Expected output (string or JSON), for `equals`.
    #[serde(default)]
    pub output: Option<Value>,
    /// Expected tool calls `[{name, args}]`, for `trajectory` checks.
    #[serde(default)]
    pub tools: Option<Vec<RawToolCall>>,
    /// Expected end state of the tool world (recursive subset), for `end_state`.
    #[serde(default)]
    pub state: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawToolCall {
    pub name: String,
    #[serde(default)]
    pub args: Option<Value>,
}

/// One scripted mock reply: text, tool calls, or both.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawMockReply {
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub tool_calls: Vec<RawToolCall>,
}

/// One check: exactly one kind key, plus the common keys `name`, `severity`, `weight`
/// (and `threshold`/`soft_threshold` for judges).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCheck {
    // --- common keys
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub severity: Option<Severity>,
    #[serde(default)]
    pub weight: Option<f64>,

    // --- the kinds (exactly one must be present)
    /// `"text"`, `{value: "text"}` or `expected.output` / `expected.reference`.
    #[serde(default)]
    pub equals: Option<Value>,
    /// `"text"` or `{value|any|all, ignore_case}`.
    #[serde(default)]
    pub contains: Option<Value>,
    #[serde(default)]
    pub not_contains: Option<Value>,
    /// `"pattern"` or `{pattern, ignore_case}`.
    #[serde(default)]
    pub regex: Option<Value>,
    #[serde(default)]
    pub json_valid: Option<bool>,
    /// An inline JSON Schema, or a path to one (relative to the suite).
    #[serde(default)]
    pub json_schema: Option<Value>,
    /// `"name"` or `{name, args, times}`.
    #[serde(default)]
    pub tool_called: Option<Value>,
    /// `"name"` or `{name, args}`.
    #[serde(default)]
    pub tool_not_called: Option<Value>,
    /// `{mode, expected, args}`.
    #[serde(default)]
    pub trajectory: Option<Value>,
    /// `expected.state` (a reference into the case) or an inline expected state.
    #[serde(default)]
    pub end_state: Option<Value>,
    #[serde(default)]
    pub max_steps: Option<u64>,
    #[serde(default)]
    pub max_tokens: Option<u64>,
    /// `true`: the agent must escalate; `false`: it must not.
    #[serde(default)]
    pub escalated: Option<bool>,
    /// A judge name: `judges/NAME.yaml`.
    #[serde(default)]
    pub judge: Option<String>,
    /// A minijinja expression over `case`, `output`, `trajectory`, `state` that must be true.
    #[serde(default)]
    pub expr: Option<String>,
    /// `[program, args...]` or `{argv: [...], timeout: 10s}`: a program that grades.
    #[serde(default)]
    pub command: Option<Value>,

    // --- judge options
    #[serde(default)]
    pub threshold: Option<f64>,
    #[serde(default)]
    pub soft_threshold: Option<f64>,
}

/// The check kinds, in the order of `RawCheck`'s fields; for "did you mean" and messages.
pub const CHECK_KINDS: &[&str] = &[
    "equals",
    "contains",
    "not_contains",
    "regex",
    "json_valid",
    "json_schema",
    "tool_called",
    "tool_not_called",
    "trajectory",
    "end_state",
    "max_steps",
    "max_tokens",
    "escalated",
    "judge",
    "expr",
    "command",
];

/// A judge rubric: `judges/NAME.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJudge {
    #[serde(default)]
    pub description: Option<String>,
    /// `provider:model` of the judge.
    pub model: String,
    /// minijinja template of the judge prompt; sees `case`, `input`, `output`, `reference`,
    /// `trajectory`, `vars`.
    pub prompt: String,
    /// Optional system prompt for the judge.
    #[serde(default)]
    pub system: Option<String>,
    /// The score scale the judge answers in, normalised to 0..1. Default `[1, 5]`.
    #[serde(default)]
    pub scale: Option<[f64; 2]>,
    /// Pass at or above (normalised 0..1).
    pub threshold: f64,
    /// Between this and `threshold`: soft fail.
    #[serde(default)]
    pub soft_threshold: Option<f64>,
    /// Extra attempts when the judge's answer cannot be parsed. Default 2.
    #[serde(default)]
    pub retries: Option<u32>,
    /// Independent judge calls per verdict (default 1), reduced by `aggregate`.
    #[serde(default)]
    pub samples: Option<u32>,
    /// `mean` (default), `majority` or `min`.
    #[serde(default)]
    pub aggregate: Option<crate::check::judge_samples::Aggregate>,
}
