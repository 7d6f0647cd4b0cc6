//! `confirm_runs`: the reruns of `--confirm K` — fresh runs of the cases that did worse than
//! their baseline, after the screening runs, decided by `results::confirm`.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::watch;

use crate::cancellation::Cancellation;
use crate::provider::registry::Providers;
use crate::reporter::fan_out::Reporters;
use crate::results::case_result::CaseResult;
use crate::results::confirm::{candidates, decide, Tally};
use crate::results::confirmation::Confirmation;
use crate::runner::{self, RunOptions};
use crate::suite::model::{Case, Suite};
use crate::verdict::CaseStatus;

/// What the reruns need besides the two runs' cases.
pub(crate) struct ConfirmPlan<'a> {
    pub suite: &'a Suite,
    pub cases: &'a [Arc<Case>],
    pub providers: Arc<Providers>,
    pub options: &'a RunOptions,
    /// `--confirm K`: fresh runs per case.
    pub runs: u32,
    /// The screening's runs per case: fresh runs take the repeat indexes after them, so a
    /// target that varies by repeat sees new runs, and the report is the same at any `-j`.
    pub first_repeat: u32,
}

/// Reruns the candidates `plan.runs` times each and decides which regressed, with why the
/// reruns stopped early if they did (Ctrl-C): the run is then incomplete. The fresh runs
/// are tallied (passes over judged runs), not added to the report's cases: the screening
/// report stays what was screened. They are not journaled either, so `--resume` reruns them.
pub(crate) async fn confirm(
    plan: ConfirmPlan<'_>,
    baseline: &[CaseResult],
    screening: &[CaseResult],
    cancel: watch::Receiver<Cancellation>,
) -> (Confirmation, Option<String>) {
    let alpha = plan.suite.gate.alpha;
    let (rerun, unreachable) = candidates(baseline, screening, plan.runs, alpha);
    let by_id: BTreeMap<&str, &Arc<Case>> = plan.cases.iter().map(|c| (c.id.as_str(), c)).collect();
    let work: Vec<(Arc<Case>, u32)> = rerun
        .iter()
        .filter_map(|c| by_id.get(c.id.as_str()))
        .flat_map(|case| {
            (plan.first_repeat..plan.first_repeat + plan.runs).map(|r| (Arc::clone(case), r))
        })
        .collect();
    let mut fresh: BTreeMap<String, Tally> = BTreeMap::new();
    let mut incomplete = None;
    if !work.is_empty() {
        let output = runner::run(
            plan.suite,
            work,
            plan.providers,
            plan.options,
            cancel,
            // Fresh runs are tallied, not shown: no reporter follows them.
            &mut Reporters::new(),
            &mut |result| {
                let t = fresh.entry(result.id.clone()).or_default();
                if result.status != CaseStatus::Errored {
                    t.1 += 1;
                    t.0 += u64::from(result.status.is_pass());
                }
            },
        )
        .await;
        incomplete = output
            .incomplete
            .map(|why| format!("confirmation reruns: {why}"));
    }
    let mut out = decide(&rerun, &fresh, plan.runs, alpha);
    out.unreachable = unreachable;
    (out, incomplete)
}
