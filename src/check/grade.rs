//! `grade`: the verdict of any check on one trajectory — the entry point the runner calls.
//! Judge checks ask their model, command checks run their program; every other check is
//! `check::eval::evaluate`, which the batch path calls directly.

use crate::check::case::CaseFacts;
use crate::check::eval::evaluate;
use crate::check::family::{command, judge};
use crate::check::judge_cache::JudgeCache;
use crate::check::spec::{Check, CheckSpec};
use crate::provider::registry::Providers;
use crate::trajectory::Trajectory;
use crate::verdict::{Outcome, Verdict};

/// Where judge checks get their model: the run's providers, and the judge cache when in use.
#[derive(Clone, Copy)]
pub(crate) struct JudgeModels<'a> {
    pub providers: &'a Providers,
    pub cache: Option<&'a JudgeCache>,
}

/// Grades `spec`; the verdict carries the check's name, weight and severity.
pub(crate) async fn grade(
    spec: &CheckSpec,
    case: &dyn CaseFacts,
    trajectory: &Trajectory,
    models: JudgeModels<'_>,
) -> Verdict {
    match &spec.check {
        Check::Judge(check) => match models.providers.get(&check.judge.model, &[]) {
            Ok(provider) => {
                judge::grade(
                    spec,
                    check,
                    provider.as_ref(),
                    case,
                    trajectory,
                    models.cache,
                )
                .await
            }
            Err(e) => Verdict {
                check: spec.name.clone(),
                outcome: Outcome::Error,
                score: None,
                weight: spec.weight,
                reason: format!("judge model unavailable: {e}"),
            },
        },
        Check::Command(_) => command::grade(spec, case, trajectory).await,
        _ => evaluate(spec, case, trajectory),
    }
}
