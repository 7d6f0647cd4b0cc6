//! `RunReport`: the record of one run, from which every report format is rendered.
//!
//! Field order is the serialized order of `report.json`: version first, then identity, then
//! results. Nothing here depends on time or concurrency (that lives in `Meta`, written apart),
//! maps are `BTreeMap`, cases are sorted by id and floats are rounded with `verdict::round`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::report::compare::Comparison;
use crate::trajectory::{EndReason, Trajectory, Usage};
use crate::verdict::{CaseStatus, Verdict};

/// Bumped when the shape of `report.json` changes incompatibly.
pub const REPORT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub version: u32,
    pub suite: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// E.g. `harness mock:support`.
    pub target: String,
    /// Set when the run stopped early (Ctrl-C, too many errors): the report holds what finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
    pub summary: Summary,
    pub gate: GateResult,
    /// Changes against `--baseline`, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Comparison>,
    pub cases: Vec<CaseResult>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Summary {
    pub total: usize,
    pub passed: usize,
    pub soft_failed: usize,
    pub failed: usize,
    pub errored: usize,
    pub flaky: usize,
    /// (passed + soft_failed) / total; 0 when there are no cases.
    pub pass_rate: f64,
    pub soft_fail_rate: f64,
    pub error_rate: f64,
    /// 95% Wilson interval of the pass rate, over the cases of this run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass_rate_ci: Option<[f64; 2]>,
    /// Mean of the case scores that exist.
    pub mean_score: Option<f64>,
    pub usage: Usage,
    pub by_tag: BTreeMap<String, TagSummary>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TagSummary {
    pub total: usize,
    pub passed: usize,
    pub pass_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GateResult {
    pub passed: bool,
    /// Every configured rule with its limit and the actual value, in a fixed order.
    pub rules: Vec<GateRule>,
    /// Ids of failed (or errored) cases that are critical by tag or id.
    pub critical_failures: Vec<String>,
    /// Flaky cases left out of the gated rates (`gate.quarantine_flaky`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quarantined: Vec<String>,
    /// Judges below their suite's calibration requirement: their verdicts only warned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uncalibrated: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateRule {
    /// `min_pass_rate`, `max_soft_fail_rate`, `max_error_rate`.
    pub rule: String,
    pub limit: f64,
    pub actual: f64,
    pub passed: bool,
}

/// One case's result. `trajectory` is not part of `report.json` (it carries latencies); it is
/// written to `trajectories.jsonl`. In `eval` it is empty once the run is journalled: the
/// report writers read it back from the journal (`report::trajectory_source`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    pub id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    pub status: CaseStatus,
    pub score: Option<f64>,
    pub checks: Vec<Verdict>,
    pub output: String,
    pub end: EndReason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub usage: Usage,
    /// USD of the priced model calls; absent when none was priced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// Model calls made.
    pub steps: usize,
    /// Tool-call sequence by name, for review diffs.
    pub tools: Vec<String>,
    /// With `--repeat N`: how the N runs went. The fields above describe one representative
    /// run (the first that did not pass, else the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeats: Option<Repeats>,
    /// Which run of the case this is (0-based); after repeats are reduced, the representative
    /// run's, whose trajectory this is.
    #[serde(skip)]
    pub repeat: u32,
    #[serde(skip)]
    pub trajectory: Trajectory,
}

/// Pass statistics of a repeated case.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Repeats {
    pub runs: u32,
    pub passes: u32,
    pub errored: u32,
    /// Unbiased pass@k for k = 1..=runs (at most 10 values): at least one of k runs passes.
    pub pass_at_k: BTreeMap<u32, f64>,
    /// pass^k for the same k: all k runs pass.
    pub pass_pow_k: BTreeMap<u32, f64>,
}

/// What varies between identical runs: written to `meta.json`, never to `report.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    pub gauntlet_version: String,
    pub concurrency: usize,
    pub duration_ms: u64,
}
