//! `RunResult`: one run of a case, scored, with the trajectory it was scored on. Runs are
//! reduced to one `CaseResult` per case by `results::repeats::reduce`.

use serde::{Deserialize, Serialize};

use crate::results::case_result::CaseResult;
use crate::trajectory::{EndReason, Trajectory, Usage};
use crate::verdict::{
    case_score, case_status, no_check_applied, CaseStatus, Verdict, NO_CHECK_APPLIED,
};

/// Serialized (the journal's `result`) without its repeat index and trajectory, which the
/// journal writes beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
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
    /// Tool-call sequence by name; `AGENT/NAME` for a call a named agent made.
    pub tools: Vec<String>,
    /// Which run of the case this is (0-based).
    #[serde(skip)]
    pub repeat: u32,
    /// Empty once `eval` has journalled the run: from then on the journal holds it.
    #[serde(skip)]
    pub trajectory: Trajectory,
}

impl RunResult {
    /// This run as the case's result, when it is the case's only run (or its representative).
    pub(crate) fn into_case(self) -> CaseResult {
        CaseResult {
            id: self.id,
            tags: self.tags,
            status: self.status,
            score: self.score,
            checks: self.checks,
            output: self.output,
            end: self.end,
            error: self.error,
            usage: self.usage,
            cost_usd: self.cost_usd,
            steps: self.steps,
            tools: self.tools,
            repeats: None,
            repeat: self.repeat,
        }
    }
}

/// Run `repeat` of the case `id` (with its `tags`). A trajectory that could not be produced
/// (provider down, timeout, crash) makes the run `errored` whatever its checks say: nothing
/// was judged.
pub fn run_result(
    id: &str,
    tags: &[String],
    repeat: u32,
    trajectory: Trajectory,
    checks: Vec<Verdict>,
) -> RunResult {
    let status = if trajectory.end == EndReason::Error {
        CaseStatus::Errored
    } else {
        case_status(&checks)
    };
    RunResult {
        id: id.to_string(),
        tags: tags.to_vec(),
        status,
        score: case_score(&checks),
        output: trajectory.output.clone(),
        end: trajectory.end,
        error: trajectory
            .error
            .clone()
            .or_else(|| no_check_applied(&checks).then(|| NO_CHECK_APPLIED.to_string())),
        usage: trajectory.usage,
        cost_usd: trajectory.cost_usd,
        steps: trajectory.model_calls(),
        // In a multi-agent run each call names its agent (`billing/issue_refund`), so the
        // tool-sequence diff against a baseline shows which agent's calls changed.
        tools: crate::trajectory_tree::owned_tool_calls(&trajectory)
            .into_iter()
            .map(|(name, _, owner)| match owner {
                Some(agent) => format!("{agent}/{name}"),
                None => name.to_string(),
            })
            .collect(),
        checks,
        repeat,
        trajectory,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trajectory::Step;
    use crate::verdict::Outcome;

    fn tags() -> Vec<String> {
        vec!["t".into()]
    }

    #[test]
    fn errored_trajectory_makes_an_errored_run_even_with_passing_checks() {
        let pass = Verdict {
            check: "x".into(),
            outcome: Outcome::Pass,
            score: Some(1.0),
            weight: 1.0,
            reason: String::new(),
        };
        let r = run_result(
            "c",
            &tags(),
            0,
            Trajectory::errored("timed out"),
            vec![pass.clone()],
        );
        assert_eq!(r.status, CaseStatus::Errored);
        assert_eq!(r.error.as_deref(), Some("timed out"));
        let ok = Trajectory {
            steps: vec![Step::Tool {
                id: String::new(),
                name: "lookup_order".into(),
                args: serde_json::json!({}),
                result: None,
                error: None,
                latency_ms: Some(3),
                agent: None,
                started_at: None,
                metadata: Default::default(),
            }],
            ..Default::default()
        };
        let r = run_result("c", &tags(), 2, ok, vec![pass]);
        assert_eq!(r.status, CaseStatus::Passed);
        assert_eq!(
            (r.id.as_str(), r.tags.as_slice(), r.repeat),
            ("c", &tags()[..], 2)
        );
        assert_eq!(r.tools, vec!["lookup_order".to_string()]);
        let c = r.into_case();
        assert_eq!((c.repeat, c.repeats), (2, None), "the run is the case");
    }
}
