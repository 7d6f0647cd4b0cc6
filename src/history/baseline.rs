//! `--baseline history:last-passed`: the newest recorded run whose gate passed (on the branch
//! of this run, when known), as a `RunReport` the comparison reads.
//!
//! The history keeps no verdicts or outputs, so the report holds what the comparison needs
//! of each case: status, score, repeats, usage, cost and tool sequence. A repeated case's
//! errored runs are not stored: they count as failed runs of the baseline.

use std::collections::BTreeMap;

use crate::gate::GateResult;
use crate::history::record::RunRecord;
use crate::results::case_result::{CaseResult, Repeats};
use crate::results::run_report::{RunReport, REPORT_VERSION};
use crate::trajectory::{EndReason, Usage};
use crate::verdict::CaseStatus;

/// The value of `--baseline` that reads the baseline from the history.
pub const LAST_PASSED: &str = "history:last-passed";

/// The newest run of `runs` (oldest first) whose gate passed and that is complete.
pub fn last_passed(runs: &[RunRecord]) -> Option<&RunRecord> {
    runs.iter()
        .rev()
        .find(|r| r.gate_passed && r.incomplete.is_none())
}

/// The run as a baseline report.
pub fn as_report(run: &RunRecord) -> RunReport {
    RunReport {
        version: REPORT_VERSION,
        suite: run.suite.clone(),
        description: None,
        target: run.target.clone(),
        incomplete: None,
        summary: run.summary.clone(),
        gate: GateResult {
            passed: run.gate_passed,
            ..GateResult::default()
        },
        baseline: None,
        drift: None,
        cases: run
            .cases
            .iter()
            .map(|c| CaseResult {
                id: c.id.clone(),
                tags: c.tags.clone(),
                status: c.status,
                score: c.score,
                checks: Vec::new(),
                output: String::new(),
                end: if c.status == CaseStatus::Errored {
                    EndReason::Error
                } else {
                    EndReason::Completed
                },
                error: None,
                usage: Usage {
                    input_tokens: c.input_tokens,
                    output_tokens: c.output_tokens,
                },
                cost_usd: c.cost_usd,
                steps: 0,
                tools: c.tools.clone(),
                repeats: (c.runs > 1).then(|| Repeats {
                    runs: c.runs,
                    passes: c.passes,
                    errored: 0,
                    pass_at_k: BTreeMap::new(),
                    pass_pow_k: BTreeMap::new(),
                }),
                repeat: 0,
                latency_ms: c.latency_ms,
                duration_ms: None,
            })
            .collect(),
    }
}
