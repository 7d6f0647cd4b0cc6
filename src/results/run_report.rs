//! `RunReport`: the record of one run, from which every report format is rendered.
//!
//! Field order is the serialized order of `report.json`: version first, then identity, then
//! results. Nothing here depends on time or concurrency (that lives in `Meta`, written apart),
//! maps are `BTreeMap`, cases are sorted by id and floats are rounded with `verdict::round`.

use serde::{Deserialize, Serialize};

use crate::drift::Drift;
use crate::exit;
use crate::gate::GateResult;
use crate::results::case_result::CaseResult;
use crate::results::compare::Comparison;
use crate::results::summary::Summary;

/// Bumped when the shape of `report.json` changes incompatibly.
pub(crate) const REPORT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// Drift alerts over the run history, when the run was recorded with `--history`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<Drift>,
    pub cases: Vec<CaseResult>,
}

impl RunReport {
    /// The process exit code for a finished run: an incomplete run is never a pass, whatever
    /// the partial numbers say.
    pub(crate) fn exit_code(&self) -> u8 {
        if self.incomplete.is_some() {
            exit::RUN_INCOMPLETE
        } else if self.gate.passed {
            exit::GATE_PASSED
        } else {
            exit::GATE_FAILED
        }
    }
}

/// What varies between identical runs: written to `meta.json`, never to `report.json`. Also
/// what `gauntlet merge --history` needs of each shard to record the merged run as `eval
/// --history` records a run: when it started, its models and its judge checks.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub(crate) struct Meta {
    pub gauntlet_version: String,
    pub concurrency: usize,
    pub duration_ms: u64,
    /// Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<String>,
    /// The display names of the suite's judge checks (`history_record::judge_names`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub judges: Vec<String>,
    /// What `--filter`/`--tag` kept of the suite, when not all of it (`CompiledSelection::slice`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slice: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_code_prefers_incomplete_then_gate() {
        let report = |incomplete: Option<&str>, passed: bool| RunReport {
            version: 1,
            suite: "s".into(),
            description: None,
            target: "t".into(),
            incomplete: incomplete.map(String::from),
            summary: Summary::default(),
            gate: GateResult {
                passed,
                ..GateResult::default()
            },
            baseline: None,
            drift: None,
            cases: vec![],
        };
        let table = [
            (None, true, exit::GATE_PASSED),
            (None, false, exit::GATE_FAILED),
            (Some("cancelled"), true, exit::RUN_INCOMPLETE),
            (Some("cancelled"), false, exit::RUN_INCOMPLETE),
        ];
        for (incomplete, passed, want) in table {
            assert_eq!(report(incomplete, passed).exit_code(), want);
        }
    }
}
