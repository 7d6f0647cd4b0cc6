//! Builds a `CaseResult` from a case, its trajectory and its verdicts.

use crate::report::model::CaseResult;
use crate::suite::model::Case;
use crate::trajectory::{EndReason, Trajectory};
use crate::verdict::{
    case_score, case_status, no_check_applied, CaseStatus, Verdict, NO_CHECK_APPLIED,
};

/// The case's result. A trajectory that could not be produced (provider down, timeout,
/// crash) makes the case `errored` whatever its checks say: nothing was judged.
pub fn case_result(case: &Case, trajectory: Trajectory, checks: Vec<Verdict>) -> CaseResult {
    let status = if trajectory.end == EndReason::Error {
        CaseStatus::Errored
    } else {
        case_status(&checks)
    };
    CaseResult {
        id: case.id.clone(),
        tags: case.tags.clone(),
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
        tools: trajectory
            .tool_calls()
            .map(|(name, _)| name.to_string())
            .collect(),
        checks,
        repeats: None,
        repeat: 0,
        trajectory,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trajectory::Step;
    use crate::verdict::Outcome;

    fn case() -> Case {
        Case {
            tags: vec!["t".into()],
            ..Case::new("c", "hi")
        }
    }

    #[test]
    fn errored_trajectory_makes_an_errored_case_even_with_passing_checks() {
        let pass = Verdict {
            check: "x".into(),
            outcome: Outcome::Pass,
            score: Some(1.0),
            weight: 1.0,
            reason: String::new(),
        };
        let r = case_result(
            &case(),
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
                latency_ms: 3,
            }],
            ..Default::default()
        };
        let r = case_result(&case(), ok, vec![pass]);
        assert_eq!(r.status, CaseStatus::Passed);
        assert_eq!(r.tools, vec!["lookup_order".to_string()]);
    }
}
