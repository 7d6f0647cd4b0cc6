//! Calibration as a precondition of gating: a suite's `calibration:` names judges whose verdicts
//! gate only when they agree with human labels well enough (Cohen's kappa ≥ `min_kappa`). A
//! judge that falls short still grades every case, but its failures only warn in that run.

use std::sync::Arc;

use crate::check::calibrate::calibrate;
use crate::check::family::judge::JudgeCheck;
use crate::check::spec::{Check, CheckSpec};
use crate::provider::registry::Providers;
use crate::suite::model::{Case, Suite};
use crate::verdict::Severity;

/// A judge that did not meet its suite's calibration requirement, and why.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Uncalibrated {
    pub judge: String,
    pub why: String,
}

/// Calibrates every judge the suite requires, in name order (so the mock sees the same calls).
pub(crate) async fn check_calibration(suite: &Suite, providers: &Providers) -> Vec<Uncalibrated> {
    let mut out = Vec::new();
    for (name, req) in &suite.calibration {
        let Some(judge) = suite.judges.get(name) else {
            continue;
        };
        let why = match providers.get(&judge.model, &[]) {
            Err(e) => Some(format!("cannot be calibrated: {e}")),
            Ok(provider) => {
                let result = calibrate(judge, provider.as_ref(), &req.labels).await;
                match result.agreement.kappa() {
                    Some(k) if k >= req.min_kappa => None,
                    Some(k) => Some(format!(
                        "kappa {k:.3} < {} on {} labels",
                        req.min_kappa,
                        result.agreement.total()
                    )),
                    None => Some("no pass/fail labels to compute kappa".to_string()),
                }
            }
        };
        if let Some(why) = why {
            out.push(Uncalibrated {
                judge: name.clone(),
                why,
            });
        }
    }
    out
}

/// The checks with every judge check of an uncalibrated judge made soft.
pub(crate) fn soften(checks: &[CheckSpec], judges: &[String]) -> Vec<CheckSpec> {
    checks
        .iter()
        .map(|spec| match &spec.check {
            Check::Judge(JudgeCheck { judge, .. }) if judges.contains(&judge.name) => CheckSpec {
                severity: Severity::Soft,
                ..spec.clone()
            },
            _ => spec.clone(),
        })
        .collect()
}

/// The suite and the selected cases with uncalibrated judges' checks softened.
pub(crate) fn soften_suite(
    suite: &Suite,
    cases: &[Arc<Case>],
    judges: &[String],
) -> (Suite, Vec<Arc<Case>>) {
    let soften_case = |c: &Arc<Case>| {
        Arc::new(Case {
            checks: soften(&c.checks, judges),
            ..(**c).clone()
        })
    };
    let suite = Suite {
        checks: soften(&suite.checks, judges),
        cases: suite.cases.iter().map(soften_case).collect(),
        ..suite.clone()
    };
    (suite, cases.iter().map(soften_case).collect())
}
