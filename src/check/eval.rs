//! `evaluate`: the verdict of one check on one trajectory, for the deterministic families. Pure:
//! no I/O, no async, so batches can be scored on rayon. Judge and command checks need I/O and
//! are graded by `check::grade::grade`, which calls this for every other check.

use serde_json::Value;

use crate::check::case::CaseFacts;
use crate::check::family::{agents, end_state, expr, json, limits, text, tools, trajectory};
use crate::check::json_subset::render;
use crate::check::spec::{Check, CheckSpec, ValueRef};
use crate::text::one_line;
use crate::trajectory::{EndReason, Trajectory};
use crate::verdict::{Outcome, Verdict};

/// How much of the output a reason quotes.
pub(crate) const EXCERPT: usize = 60;

/// Evaluates `spec` on `trajectory`. A trajectory that ended in error makes every check an
/// `error` (nothing to judge); a judge or command check is `skipped` here.
pub fn evaluate(spec: &CheckSpec, case: &dyn CaseFacts, trajectory: &Trajectory) -> Verdict {
    let (outcome, score, reason) = if trajectory.end == EndReason::Error {
        errored_run(trajectory)
    } else {
        run(&spec.check, case, trajectory)
    };
    Verdict {
        check: spec.name.clone(),
        outcome,
        score,
        weight: spec.weight,
        reason,
    }
    .with_severity(spec.severity)
}

/// Hands the check to its family. The one place a family is chosen for evaluation.
fn run(check: &Check, case: &dyn CaseFacts, t: &Trajectory) -> Judged {
    match check {
        Check::Text(c) => text::evaluate(c, case, t),
        Check::Json(c) => json::evaluate(c, case, t),
        Check::Tools(c) => tools::evaluate(c, case, t),
        Check::Trajectory(c) => trajectory::evaluate(c, case, t),
        Check::Agents(c) => agents::evaluate(c, case, t),
        Check::EndState(c) => end_state::evaluate(c, case, t),
        Check::Limits(c) => limits::evaluate(c, case, t),
        Check::Expr(c) => expr::evaluate(c, case, t),
        Check::Judge(_) => skipped("graded by the judge"),
        Check::Command(_) => skipped("run by the runner (async)"),
    }
}

/// A verdict without the check's name, weight and severity: what a family's evaluation says.
pub(crate) type Judged = (Outcome, Option<f64>, String);

/// The `error` verdict parts for a trajectory whose run failed.
pub(crate) fn errored_run(trajectory: &Trajectory) -> Judged {
    let why = trajectory
        .error
        .as_deref()
        .map(|e| one_line(e, 200))
        .unwrap_or_else(|| "the agent run failed".to_string());
    (Outcome::Error, None, why)
}

pub(crate) fn pass(reason: impl Into<String>) -> Judged {
    (Outcome::Pass, Some(1.0), reason.into())
}

pub(crate) fn fail(reason: impl Into<String>) -> Judged {
    (Outcome::Fail, Some(0.0), reason.into())
}

pub(crate) fn boolean(ok: bool, reason: impl Into<String>) -> Judged {
    if ok {
        pass(reason)
    } else {
        fail(reason)
    }
}

pub(crate) fn skipped(reason: impl Into<String>) -> Judged {
    (Outcome::Skipped, None, reason.into())
}

pub(crate) fn error(reason: impl Into<String>) -> Judged {
    (Outcome::Error, None, reason.into())
}

pub(crate) fn pass_or_fail(passed: bool) -> Outcome {
    if passed {
        Outcome::Pass
    } else {
        Outcome::Fail
    }
}

/// A reference into the case (`expected.tools`) that the case does not fill: the check is
/// `skipped` for that case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("case `{case}` has no `{path}`")]
pub(crate) struct MissingRef {
    case: String,
    path: String,
}

/// The expected value, inline or looked up in the case.
pub(crate) fn resolve(expected: &ValueRef, case: &dyn CaseFacts) -> Result<Value, MissingRef> {
    match expected {
        ValueRef::Inline(v) => Ok(v.clone()),
        ValueRef::Case(path) => case.lookup(path).ok_or_else(|| MissingRef {
            case: case.id().to_string(),
            path: path.clone(),
        }),
    }
}

pub(crate) fn with_args(args: Option<&Value>) -> String {
    args.map(|a| format!(" with args {}", render(a)))
        .unwrap_or_default()
}

pub(crate) fn count(n: usize) -> String {
    match n {
        0 => "0 times".into(),
        1 => "once".into(),
        n => format!("{n} times"),
    }
}

#[cfg(test)]
#[path = "eval_tests.rs"]
mod tests;
