//! `Runner`: runs a suite's selected cases concurrently, scores them, and emits `RunEvent`s.
//!
//! Concurrency is bounded by the number of live tasks in a `JoinSet`; each case has a timeout;
//! a case whose agent or scoring panics becomes `errored` instead of taking the run down.
//! Cancellation is a `Cancellation` level on a watch channel: draining stops scheduling and
//! lets running cases finish (first Ctrl-C); aborting drops them (second Ctrl-C, SIGTERM).
//! Results come back in completion order; the report sorts them, so the outcome does not
//! depend on concurrency.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::agent::harness::budget::Budget;
use crate::agent::harness::pricing::round_usd;
use crate::agent::replay::ReplayTarget;
use crate::agent::target::run_case;
use crate::agent::target::Target;
use crate::batch::{self, panic_text};
use crate::cancellation::Cancellation;
use crate::check::grade::{grade, JudgeModels};
use crate::check::judge_cache::JudgeCache;
use crate::check::spec::CheckSpec;
use crate::event::RunEvent;
use crate::plan::WorkItem;
use crate::provider::cache::{CallContext, ModelCache};
use crate::provider::registry::Providers;
use crate::redact::Redactor;
use crate::reporter::fan_out::Reporter;
use crate::results::run_result::{run_result, RunResult};
use crate::suite::model::{Case, Suite};
use crate::trajectory::Trajectory;
use crate::verdict::{Outcome, Verdict};

#[derive(Debug, Clone)]
pub(crate) struct RunOptions {
    pub concurrency: usize,
    pub timeout: Duration,
    /// `eval --cache`: judge answers are read from and written to this cache.
    pub judge_cache: Option<JudgeCache>,
    /// `eval --cache`/`--record`/`--replay`: model and tool calls go through this store.
    pub model_cache: Option<Arc<ModelCache>>,
}

#[derive(Debug)]
pub(crate) struct RunOutput {
    /// Why the run stopped early, if it did.
    pub incomplete: Option<String>,
}

/// What every case task shares.
struct Shared {
    target: Target,
    suite_checks: Vec<CheckSpec>,
    providers: Arc<Providers>,
    timeout: Duration,
    judge_cache: Option<JudgeCache>,
    model_cache: Option<Arc<ModelCache>>,
}

/// Runs the work items (case, repeat index). `reporter` is called from this task, in order;
/// each finished result is handed to `on_finished` (in completion order, right after its
/// `RunFinished` event), which owns it from then on: the runner keeps none, so the caller
/// decides what stays in memory.
pub(crate) async fn run(
    suite: &Suite,
    work: Vec<WorkItem>,
    providers: Arc<Providers>,
    options: &RunOptions,
    cancel: watch::Receiver<Cancellation>,
    reporter: &mut dyn Reporter,
    on_finished: &mut dyn FnMut(RunResult),
) -> RunOutput {
    let shared = Arc::new(Shared {
        target: suite.target.clone(),
        suite_checks: suite.checks.clone(),
        providers,
        timeout: options.timeout,
        judge_cache: options.judge_cache.clone(),
        model_cache: options.model_cache.clone(),
    });
    // From here a template that breaks its memory budget leaves finished runs behind: exit 3.
    crate::render_memory::runs_started();
    reporter.on_event(&RunEvent::SuiteStarted {
        suite: suite.name.clone(),
        total: work.len(),
    });
    let mut tally = Tally::new(suite.run.budget, reporter, on_finished);
    if let Some(replay) = batch::batchable(suite, &work) {
        run_batched(&shared, &replay, work, &mut tally, &cancel).await;
    } else {
        let concurrency = options.concurrency.max(1);
        run_tasks(&shared, work, concurrency, &mut tally, cancel).await;
    }
    let Tally {
        incomplete,
        reporter,
        ..
    } = tally;
    reporter.on_event(&RunEvent::SuiteFinished {
        suite: suite.name.clone(),
    });
    RunOutput { incomplete }
}

/// Each case in its own task, at most `concurrency` at a time.
async fn run_tasks(
    shared: &Arc<Shared>,
    work: Vec<WorkItem>,
    concurrency: usize,
    tally: &mut Tally<'_>,
    mut cancel: watch::Receiver<Cancellation>,
) {
    let mut pending = work.into_iter();
    let mut running = JoinSet::new();
    let mut cancel_open = true;
    loop {
        while tally.scheduling && running.len() < concurrency {
            let Some((case, r)) = pending.next() else {
                break;
            };
            tally.reporter.on_event(&RunEvent::RunStarted {
                id: case.id.clone(),
                repeat: r,
            });
            running.spawn(run_one(shared.clone(), case, r));
        }
        if running.is_empty() {
            break;
        }
        tokio::select! {
            // Cancellation first: a case killed by the abort must not finish the run as if
            // nothing had happened.
            biased;
            changed = cancel.changed(), if cancel_open => {
                if changed.is_err() {
                    cancel_open = false;
                    continue;
                }
                let level = *cancel.borrow_and_update();
                if level.aborts() {
                    running.abort_all();
                    tally.incomplete = Some("aborted: unfinished cases were dropped".to_string());
                    tally.reporter.on_event(&RunEvent::Cancelled { level });
                    break;
                }
                if level.stops_scheduling() && tally.scheduling {
                    tally.interrupt();
                }
            }
            joined = running.join_next() => {
                // `run_one` never panics (it isolates the agent in its own task), so a join
                // error here can only be an abort, which the branch above handles.
                if let Some(Ok(result)) = joined {
                    tally.finished(result);
                }
            }
        }
    }
    // The abort came as the last running case ended (killed by it): the run is still aborted.
    if cancel.borrow().aborts() && tally.incomplete.is_none() {
        tally.incomplete = Some("aborted: unfinished cases were dropped".to_string());
    }
}

/// Replayed trajectories with deterministic checks only: chunks scored on rayon (see
/// `batch`), off the async threads. A chunk is short, so Ctrl-C is looked at between chunks.
async fn run_batched(
    shared: &Arc<Shared>,
    replay: &Arc<ReplayTarget>,
    work: Vec<WorkItem>,
    tally: &mut Tally<'_>,
    cancel: &watch::Receiver<Cancellation>,
) {
    let mut pending = work.into_iter();
    // Pipelined: the next chunk is scored on rayon while this task journals and reports the
    // one before it, so the serial part of a run overlaps the parallel part.
    let mut next = start_chunk(shared, replay, &mut pending, tally, cancel);
    while let Some((chunk, scoring)) = next.take() {
        let scored = scoring.await;
        next = start_chunk(shared, replay, &mut pending, tally, cancel);
        match scored {
            Ok(results) => {
                for result in results {
                    tally.finished(result);
                }
            }
            // `score_chunk` catches panics per case; this is the pool itself failing.
            Err(e) => {
                let why = format!("the agent crashed: {}", panic_message(e));
                for (case, repeat) in chunk.iter() {
                    let t = Trajectory::errored(why.clone());
                    let result = run_result(&case.id, &case.tags, *repeat, t, Vec::new());
                    tally.finished(result);
                }
            }
        }
    }
}

/// A chunk being scored: its work items and the task scoring them.
type Scoring = (Arc<Vec<WorkItem>>, tokio::task::JoinHandle<Vec<RunResult>>);

/// Starts scoring the next chunk, unless the work is done, the run budget is spent or Ctrl-C
/// was pressed (a chunk already started still finishes: it is short).
fn start_chunk(
    shared: &Arc<Shared>,
    replay: &Arc<ReplayTarget>,
    pending: &mut impl Iterator<Item = WorkItem>,
    tally: &mut Tally<'_>,
    cancel: &watch::Receiver<Cancellation>,
) -> Option<Scoring> {
    if !tally.scheduling {
        return None;
    }
    if cancel.borrow().stops_scheduling() {
        tally.interrupt();
        return None;
    }
    let chunk: Vec<WorkItem> = pending.take(batch::CHUNK).collect();
    if chunk.is_empty() {
        return None;
    }
    for (case, repeat) in &chunk {
        tally.reporter.on_event(&RunEvent::RunStarted {
            id: case.id.clone(),
            repeat: *repeat,
        });
    }
    let chunk = Arc::new(chunk);
    let scoring = {
        let (shared, replay, chunk) = (shared.clone(), replay.clone(), chunk.clone());
        tokio::task::spawn_blocking(move || {
            batch::score_chunk(&replay, &shared.suite_checks, &chunk)
        })
    };
    Some((chunk, scoring))
}

/// What the finished cases cost, whether new cases may still start, and where events and
/// results go.
struct Tally<'a> {
    incomplete: Option<String>,
    scheduling: bool,
    budget: Budget,
    spent: Spent,
    reporter: &'a mut dyn Reporter,
    on_finished: &'a mut dyn FnMut(RunResult),
    /// Built once the providers have read their keys.
    redactor: Redactor,
}

impl<'a> Tally<'a> {
    fn new(
        budget: Budget,
        reporter: &'a mut dyn Reporter,
        on_finished: &'a mut dyn FnMut(RunResult),
    ) -> Self {
        Tally {
            incomplete: None,
            scheduling: true,
            budget,
            spent: Spent::default(),
            reporter,
            on_finished,
            redactor: Redactor::global(),
        }
    }

    /// Reports a finished run, hands it over, and stops scheduling once the run budget is spent.
    fn finished(&mut self, result: RunResult) {
        // The one place every result passes before it is journalled, reported or shown.
        let result = self.redactor.redact_case(result);
        self.spent.add(&result.trajectory);
        self.reporter
            .on_event(&RunEvent::RunFinished { result: &result });
        (self.on_finished)(result);
        if self.scheduling {
            if let Some(why) = self.spent.over(&self.budget) {
                // Running cases finish (they are paid for); nothing new starts.
                self.scheduling = false;
                self.incomplete = Some(why);
            }
        }
    }

    /// First Ctrl-C: nothing new starts.
    fn interrupt(&mut self) {
        self.scheduling = false;
        self.incomplete = Some("interrupted: cases not started were skipped".to_string());
        self.reporter.on_event(&RunEvent::Cancelled {
            level: Cancellation::Draining,
        });
    }
}

/// What the finished cases used, against the run budget.
#[derive(Debug, Default)]
struct Spent {
    tokens: u64,
    usd: f64,
}

impl Spent {
    fn add(&mut self, t: &Trajectory) {
        self.tokens = self.tokens.saturating_add(t.usage.total());
        self.usd = round_usd(self.usd + t.cost_usd.unwrap_or(0.0));
    }

    /// Why the run must stop scheduling, if it must.
    fn over(&self, budget: &Budget) -> Option<String> {
        if let Some(limit) = budget.run_tokens.filter(|l| self.tokens > *l) {
            return Some(format!(
                "run budget exhausted: {} tokens used, limit {limit}; cases not started were skipped",
                self.tokens
            ));
        }
        if let Some(limit) = budget.run_usd.filter(|l| self.usd > *l) {
            return Some(format!(
                "run budget exhausted: ${:.6} spent, limit ${limit}; cases not started were skipped",
                self.usd
            ));
        }
        None
    }
}

/// One run of a case: agent run (with timeout, panic-isolated), then scoring.
async fn run_one(shared: Arc<Shared>, case: Arc<Case>, repeat: u32) -> RunResult {
    let started = std::time::Instant::now();
    let span = tracing::info_span!("case", id = %case.id, repeat);
    // Every call of this run (agent, simulated user, judges, tools) is cached under its case
    // and repeat, so repeats are not copies of each other.
    let ctx = CallContext {
        case_id: case.id.clone(),
        repeat,
    };
    let providers = Arc::new(shared.providers.for_case(ctx, shared.model_cache.clone()));
    let agent = {
        let shared = shared.clone();
        let case = case.clone();
        let providers = providers.clone();
        tokio::spawn(
            async move {
                let run = run_case(&shared.target, &case, repeat, &providers);
                match tokio::time::timeout(shared.timeout, run).await {
                    Ok(t) => t,
                    Err(_) => Trajectory::errored(format!(
                        "timed out after {}",
                        format_duration(shared.timeout)
                    )),
                }
            }
            .instrument(span.clone()),
        )
    };
    let trajectory = match agent.await {
        Ok(t) => t,
        Err(e) => Trajectory::errored(format!("the agent crashed: {}", panic_message(e))),
    };
    // Shared with the scoring task rather than copied: a trajectory can be large.
    let trajectory = Arc::new(trajectory);
    let verdicts = {
        let shared = shared.clone();
        let case = case.clone();
        let trajectory = trajectory.clone();
        tokio::spawn(
            async move { score(&shared, &providers, &case, &trajectory).await }.instrument(span),
        )
    };
    let verdicts = match verdicts.await {
        Ok(v) => v,
        Err(e) => vec![Verdict {
            check: "scoring".into(),
            outcome: Outcome::Error,
            score: None,
            weight: 1.0,
            reason: format!("scoring crashed: {}", panic_message(e)),
        }],
    };
    // The scoring task has ended and dropped its reference, so this does not copy.
    let trajectory = Arc::try_unwrap(trajectory).unwrap_or_else(|t| (*t).clone());
    let mut result = run_result(&case.id, &case.tags, repeat, trajectory, verdicts);
    // Wall-clock, so only junit.xml and results.csv show it, never report.json.
    result.duration_ms = Some(started.elapsed().as_millis() as u64);
    result
}

/// Suite checks, then the case's own, in order. Judges are graded one after another: a case
/// rarely has more than two, and their order keeps mock and cache behaviour reproducible.
async fn score(
    shared: &Shared,
    providers: &Providers,
    case: &Case,
    trajectory: &Trajectory,
) -> Vec<Verdict> {
    // Sized up front: kept with the result for the rest of the run, so no growth slack.
    let mut verdicts = Vec::with_capacity(shared.suite_checks.len() + case.checks.len());
    let models = JudgeModels {
        providers,
        cache: shared.judge_cache.as_ref(),
    };
    for spec in shared.suite_checks.iter().chain(case.checks.iter()) {
        verdicts.push(grade(spec, case, trajectory, models).await);
    }
    verdicts
}

fn panic_message(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(payload) => panic_text(payload.as_ref()),
        Err(e) => e.to_string(),
    }
}

/// `60s`, `1500ms`: how a timeout reads in a message.
pub(crate) fn format_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}
