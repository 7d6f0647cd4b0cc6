//! `judge` checks: an LLM-as-judge rubric (`judges/NAME.yaml`, see `check::judge`) with the
//! check's `threshold` and `soft_threshold`: shape, validation, and the async entry the runner
//! calls.

use std::sync::Arc;

use serde_json::Value;

use crate::check::case::CaseFacts;
use crate::check::judge::{grade as grade_judge, Judge};
use crate::check::judge_cache::{CachedJudge, JudgeCache};
use crate::check::parse::{CheckEnv, CheckError};
use crate::check::raw::RawCheck;
use crate::check::registry::{Family, Kind, Shape};
use crate::check::spec::CheckSpec;
use crate::diagnostic::did_you_mean;
use crate::provider::types::Provider;
use crate::trajectory::Trajectory;
use crate::verdict::Verdict;

pub(crate) const KINDS: &[Kind] = &[Kind {
    name: "judge",
    shape: Shape::String,
}];

#[derive(Debug, Clone)]
pub struct JudgeCheck {
    pub judge: Arc<Judge>,
    pub threshold: f64,
    pub soft_threshold: Option<f64>,
}

/// Grades `check` through `provider`, reading and writing judge answers in `cache` when given.
/// The verdict carries the check's name, weight and severity.
pub(crate) async fn grade(
    spec: &CheckSpec,
    check: &JudgeCheck,
    provider: &dyn Provider,
    case: &dyn CaseFacts,
    trajectory: &Trajectory,
    cache: Option<&JudgeCache>,
) -> Verdict {
    let cached = cache.map(|cache| CachedJudge {
        inner: provider,
        cache,
        judge: &check.judge.name,
    });
    let provider: &dyn Provider = match &cached {
        Some(c) => c,
        None => provider,
    };
    let v = grade_judge(
        &check.judge,
        provider,
        case,
        trajectory,
        check.threshold,
        check.soft_threshold,
    )
    .await;
    Verdict {
        check: spec.name.clone(),
        weight: spec.weight,
        ..v
    }
    .with_severity(spec.severity)
}

/// The judge a raw check names (`judge: NAME`), so the loader can load each judge once.
pub(crate) fn named_judge(raw: &RawCheck) -> Option<&str> {
    raw.kinds
        .iter()
        .find(|k| k.kind.family == Family::Judge)
        .and_then(|k| k.value.as_str())
}

/// Validates `judge: NAME` with the check's thresholds; the check and its display name.
pub(crate) fn parse(
    _kind: &str,
    v: &Value,
    raw: &RawCheck,
    env: &CheckEnv,
    errs: &mut Vec<CheckError>,
) -> Option<(JudgeCheck, String)> {
    parse_judge(v.as_str().unwrap_or_default(), raw, env, errs)
}

fn unit_interval(key: &str, x: f64, errs: &mut Vec<CheckError>) -> bool {
    if (0.0..=1.0).contains(&x) {
        true
    } else {
        errs.push(
            CheckError::new(format!("`{key}` must be between 0 and 1, found {x}"))
                .hint("judge scores are normalised to 0..1")
                .needle(key),
        );
        false
    }
}

fn parse_judge(
    name: &str,
    raw: &RawCheck,
    env: &CheckEnv,
    errs: &mut Vec<CheckError>,
) -> Option<(JudgeCheck, String)> {
    let threshold_ok = raw
        .threshold
        .is_none_or(|t| unit_interval("threshold", t, errs));
    let soft_ok = raw
        .soft_threshold
        .is_none_or(|t| unit_interval("soft_threshold", t, errs));
    let Some(judge) = env.judges.get(name) else {
        if env.available_judges.iter().any(|j| j == name) {
            errs.push(
                CheckError::new(format!("judge `{name}` has errors"))
                    .hint("see the errors of its file")
                    .needle(name),
            );
        } else {
            let hint = did_you_mean(name, env.available_judges.iter().map(String::as_str))
                .map(|b| format!("did you mean `{b}`?"))
                .unwrap_or_else(|| {
                    if env.available_judges.is_empty() {
                        "no judges found: add `judges/NAME.yaml`".to_string()
                    } else {
                        format!("available judges: {}", env.available_judges.join(", "))
                    }
                });
            errs.push(
                CheckError::new(format!("unknown judge `{name}`"))
                    .hint(hint)
                    .needle(name),
            );
        }
        return None;
    };
    if !(threshold_ok && soft_ok) {
        return None;
    }
    let threshold = raw.threshold.unwrap_or(judge.threshold);
    let soft_threshold = raw.soft_threshold.or(judge.soft_threshold);
    if let Some(soft) = soft_threshold {
        if soft > threshold {
            errs.push(
                CheckError::new(format!(
                    "`soft_threshold` ({soft}) is above `threshold` ({threshold})"
                ))
                .hint(if raw.soft_threshold.is_none() {
                    format!("`soft_threshold` {soft} comes from judge `{name}`: set it here too")
                } else {
                    "a soft fail lies between soft_threshold and threshold".to_string()
                })
                .needle("soft_threshold"),
            );
            return None;
        }
    }
    Some((
        JudgeCheck {
            judge: Arc::clone(judge),
            threshold,
            soft_threshold,
        },
        format!("judge {name}"),
    ))
}
