//! `RunResult`: one run of a case, scored, with the trajectory it was scored on. Runs are
//! reduced to one `CaseResult` per case by `results::repeats::reduce`.

use serde::{Deserialize, Serialize};

use crate::results::case_result::CaseResult;
use crate::trajectory::{EndReason, Step, Trajectory, Usage};
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
    /// The agent's time in its model, tool and sub-agent steps (`agent_latency_ms`).
    /// Wall-clock: kept in the journal, never in report.json.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Wall time gauntlet spent on the run, agent and checks (judges included); set by the
    /// runner, absent when nothing timed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
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
            latency_ms: self.latency_ms,
            duration_ms: self.duration_ms,
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
        latency_ms: agent_latency_ms(&trajectory.steps),
        duration_ms: None,
        checks,
        repeat,
        trajectory,
    }
}

/// The summed latencies of the steps the agent spent time in: model calls, tool calls, and
/// sub-agents (their own latency, or their steps' when they report none). `None` when no step
/// reports one: unknown, not zero.
pub(crate) fn agent_latency_ms(steps: &[Step]) -> Option<u64> {
    let mut total: Option<u64> = None;
    for step in steps {
        let ms = match step {
            Step::Model { latency_ms, .. } | Step::Tool { latency_ms, .. } => *latency_ms,
            Step::Agent {
                latency_ms, steps, ..
            } => latency_ms.or_else(|| agent_latency_ms(steps)),
            Step::User { .. } | Step::Escalation { .. } => None,
        };
        if let Some(ms) = ms {
            total = Some(total.unwrap_or(0).saturating_add(ms));
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
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
        assert_eq!((r.latency_ms, r.duration_ms), (Some(3), None));
        let c = r.into_case();
        assert_eq!((c.repeat, c.repeats), (2, None), "the run is the case");
    }

    #[test]
    fn agent_latency_sums_what_is_known_and_looks_into_sub_agents() {
        let tool = |ms: Option<u64>| Step::Tool {
            id: String::new(),
            name: "t".into(),
            args: serde_json::json!({}),
            result: None,
            error: None,
            latency_ms: ms,
            agent: None,
            started_at: None,
            metadata: Default::default(),
        };
        let agent = |ms: Option<u64>, steps: Vec<Step>| Step::Agent {
            name: "a".into(),
            steps,
            started_at: None,
            latency_ms: ms,
            metadata: Default::default(),
        };
        let user = Step::User {
            content: "hi".into(),
        };
        assert_eq!(agent_latency_ms(&[]), None);
        assert_eq!(
            agent_latency_ms(&[user.clone(), tool(None)]),
            None,
            "unknown"
        );
        assert_eq!(agent_latency_ms(&[tool(Some(0))]), Some(0), "known zero");
        assert_eq!(
            agent_latency_ms(&[user, tool(Some(5)), tool(None), tool(Some(7))]),
            Some(12)
        );
        // A sub-agent's own latency covers its steps; without one, its steps count.
        let inner = vec![tool(Some(4)), tool(Some(6))];
        assert_eq!(
            agent_latency_ms(&[agent(Some(30), inner.clone())]),
            Some(30)
        );
        assert_eq!(
            agent_latency_ms(&[agent(None, inner), tool(Some(1))]),
            Some(11)
        );
    }
}
