//! `score_chunk`: scores replayed trajectories on rayon, many cases at a time.
//!
//! A `replay` target whose checks are all deterministic has nothing to wait for: no model,
//! tool, judge or process. Sending each case through the async runner (two tasks, a timeout
//! and a wake-up per case) would cost more than the checks themselves, so such runs are cut
//! into chunks and every chunk is scored in parallel on rayon's pool. The runner still emits
//! the same events, in work order, and checks for Ctrl-C and the run budget between chunks.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use rayon::prelude::*;

use crate::agent::replay::ReplayTarget;
use crate::agent::target::Target;
use crate::check::eval::evaluate;
use crate::check::spec::CheckSpec;
use crate::plan::WorkItem;
use crate::results::run_result::{run_result, RunResult};
use crate::suite::model::Suite;
use crate::verdict::{Outcome, Verdict};

/// Cases scored per chunk: large enough that rayon's split costs nothing next to the checks,
/// small enough that Ctrl-C and the run budget are seen within a few milliseconds.
pub(crate) const CHUNK: usize = 2048;

/// The replay target, when the run can be scored in batches: a replay target, and no judge or
/// command check in the suite or in any case to run.
pub(crate) fn batchable(suite: &Suite, work: &[WorkItem]) -> Option<Arc<ReplayTarget>> {
    let async_check = |s: &CheckSpec| !s.check.is_deterministic();
    let Target::Replay(replay) = &suite.target else {
        return None;
    };
    let deterministic = !suite.checks.iter().any(async_check)
        && !work
            .iter()
            .any(|(case, _)| case.checks.iter().any(async_check));
    deterministic.then(|| replay.clone())
}

/// Replays and scores a chunk of work items, in parallel; results come back in work order.
/// A check that panics turns its case into an errored one instead of taking the run down.
pub(crate) fn score_chunk(
    replay: &ReplayTarget,
    suite_checks: &[CheckSpec],
    chunk: &[WorkItem],
) -> Vec<RunResult> {
    chunk
        .par_iter()
        .map(|(case, repeat)| {
            let started = std::time::Instant::now();
            let trajectory = replay.run(case);
            let scored = catch_unwind(AssertUnwindSafe(|| {
                suite_checks
                    .iter()
                    .chain(case.checks.iter())
                    .map(|spec| evaluate(spec, case, &trajectory))
                    .collect::<Vec<_>>()
            }));
            let verdicts = scored.unwrap_or_else(|payload| {
                vec![Verdict {
                    check: "scoring".into(),
                    outcome: Outcome::Error,
                    score: None,
                    weight: 1.0,
                    reason: format!("scoring crashed: {}", panic_text(payload.as_ref())),
                }]
            });
            let mut result = run_result(&case.id, &case.tags, *repeat, trajectory, verdicts);
            result.duration_ms = Some(started.elapsed().as_millis() as u64);
            result
        })
        .collect()
}

/// The message a panic was raised with (`panic!("...")` carries a `&str` or a `String`).
pub(crate) fn panic_text(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_string())
}
