//! `eval`: run suites — plan, run, score, compare with a baseline, report, gate.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::watch;

use crate::cancellation::Cancellation;
use crate::cli::{load_all_with, quiet, stdout_color, usage_error, EvalArgs};
use crate::command::calibration_gate::{check_calibration, soften_suite};
use crate::command::confirm_runs::{confirm, ConfirmPlan};
use crate::command::history_record::HistoryHook;
use crate::command::reports::{read_report, ReadReportError};
use crate::dry_run;
use crate::duration::parse_duration;
use crate::event::RunEvent;
use crate::exit;
use crate::gate::Policy;
use crate::history::record::LatencyLog;
use crate::journal::{done_keys, Journal};
use crate::plan::work_items;
use crate::provider::registry::Providers;
use crate::report::comparison_render::render_text as render_comparison;
use crate::report::diff_html::{changed_ids, write_diff_html, Side};
use crate::report::json::write_json;
use crate::report::terminal::render_summary;
use crate::report::trajectory_source::{InMemory, TrajectorySource};
use crate::report::write::{write_atomic, write_reports};
use crate::reporter::fan_out::{Reporter, Reporters};
use crate::reporter::github::GithubReporter;
use crate::reporter::journal::JournalReporter;
use crate::reporter::otlp::{export_url, OtlpExporter, OtlpReporter, UrlFrom};
use crate::reporter::progress::ProgressReporter;
use crate::results::build::{build_report, ReportHeader, Scored};
use crate::results::compare::{baseline_runs, compare};
use crate::results::confirm::apply as apply_confirmation;
use crate::results::repeats::reduce as reduce_repeats;
use crate::results::run_report::{Meta, RunReport};
use crate::runner::{self, RunOptions};
use crate::suite::load::ModelOverrides;
use crate::suite::model::Suite;
use crate::trajectory::Trajectory;

pub fn eval(args: EvalArgs) -> u8 {
    let selection = match args.select.selection().compile() {
        Ok(s) => s,
        Err(msg) => return usage_error(msg),
    };
    let timeout = match args.timeout.as_deref().map(parse_duration).transpose() {
        Ok(t) => t,
        Err(msg) => return usage_error(format!("--timeout: {msg}")),
    };
    if args.confirm.is_some() && args.baseline.is_none() {
        // Confirmation reruns what did worse than a baseline: without one there is nothing to do.
        return usage_error(
            "--confirm needs --baseline (hint: --baseline reports/baseline/SUITE.json)",
        );
    }
    let overrides = ModelOverrides {
        model: args.model.clone(),
        judge_model: args.judge_model.clone(),
    };
    let otlp_env = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok();
    let otlp = match export_url(args.otlp.as_deref(), otlp_env.as_deref()) {
        Ok(url) => url,
        Err(e) if e.from == UrlFrom::Flag => return usage_error(e.to_string()),
        // Set for some other program, maybe: it does not stop the run.
        Err(e) => {
            eprintln!("warning: {e}; no spans will be exported");
            None
        }
    };
    let history = match crate::command::history_record::location(args.history.as_deref()) {
        Ok(l) => l,
        Err(e) => return usage_error(e),
    };
    if history.is_some() && args.select.shard.is_some() {
        return usage_error(
            "--history records whole runs, and a shard is part of one (hint: record the merged \
             run: `gauntlet merge shard*/SUITE/report.json --history`)",
        );
    }
    let history_baseline = args
        .baseline
        .as_deref()
        .is_some_and(|b| b == Path::new(crate::history::baseline::LAST_PASSED));
    if history_baseline && history.is_none() {
        return usage_error(format!(
            "--baseline {} reads the run history (hint: add --history)",
            crate::history::baseline::LAST_PASSED
        ));
    }
    let Some(suites) = load_all_with(&args.suites, &overrides) else {
        return exit::INVALID_INPUT;
    };
    if args.dry_run {
        // Calls nothing, so it needs no key: the plan and what it would cost.
        for s in &suites {
            let cases = selection.apply(&s.cases);
            let est = dry_run::estimate(s, &cases, args.repeat.unwrap_or(s.run.repeat));
            print!("{}", dry_run::render(&s.name, &est));
        }
        return exit::GATE_PASSED;
    }
    // Keys are checked and clients built for every suite before anything runs.
    let mut planned: Vec<(Suite, Vec<_>, Arc<Providers>)> = Vec::new();
    let mut key_problems = false;
    for s in suites {
        match Providers::for_run(&s.provider_setup(), !args.replay) {
            Ok(p) => {
                let cases = selection.apply(&s.cases);
                planned.push((s, cases, Arc::new(p)));
            }
            Err(problems) => {
                key_problems = true;
                for p in problems {
                    eprintln!("error: {}: {p}", s.path.display());
                }
            }
        }
    }
    if key_problems {
        eprintln!("error: nothing was run");
        return exit::INVALID_INPUT;
    }
    if planned.iter().all(|(_, cases, _)| cases.is_empty()) {
        return usage_error("no case matches the given --filter/--tag; nothing was run");
    }
    let mut baselines = Vec::new();
    for (suite, _, _) in &planned {
        match baseline_for(
            args.baseline.as_deref().filter(|_| !history_baseline),
            &suite.name,
            planned.len(),
            suite.run.limits.max_file_bytes,
        ) {
            // Compare like with like: a filtered or sharded run against the same slice of the
            // baseline, so cases outside the selection do not read as removed.
            Ok(b) => baselines.push(b.map(|mut b| {
                b.cases.retain(|c| selection.selects_id(&c.id, &c.tags));
                b
            })),
            Err(msg) => return usage_error(msg),
        }
    }

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // A team's sub-agent runs inside its caller's turn (polled within it), so delegation
        // depth multiplies stack use: the main thread's 8 MiB rather than tokio's 2 MiB.
        .thread_stack_size(8 << 20)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit::RUN_INCOMPLETE;
        }
    };
    // No SDK at all without `--otlp`: the runs pay nothing for it.
    let exporter = otlp.and_then(
        |url| match OtlpExporter::start(&url, runtime.handle().clone()) {
            Ok(e) => Some(e),
            Err(e) => {
                eprintln!("warning: {e}; no spans will be exported");
                None
            }
        },
    );
    let (cancel_tx, cancel_rx) = watch::channel(Cancellation::NotCancelled);
    let cancel_tx = Arc::new(cancel_tx);
    #[cfg(unix)]
    {
        // SIGTERM (a cancelled CI job, a Kubernetes pod stopping) aborts at once: the agents'
        // process groups go now, and the finished cases are still reported (exit 3).
        let cancel_tx = Arc::clone(&cancel_tx);
        runtime.spawn(async move {
            use tokio::signal::unix::{signal, SignalKind};
            let Ok(mut term) = signal(SignalKind::terminate()) else {
                return;
            };
            if term.recv().await.is_some() {
                eprintln!("\nterminated: aborting running cases");
                // The runner hears of the abort before the agents die, so a case that ends
                // because its agent was killed is never taken for a finished run.
                let _ = cancel_tx.send(Cancellation::Aborting);
                crate::process::kill_all();
            }
        });
    }
    runtime.spawn(async move {
        // First Ctrl-C: stop scheduling; second: abort.
        for level in [Cancellation::Draining, Cancellation::Aborting] {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            if level == Cancellation::Draining {
                eprintln!("\ninterrupted: finishing running cases (Ctrl-C again to abort)");
            }
            let _ = cancel_tx.send(level);
            if level.aborts() {
                // Aborting: the agents' process groups go now, not when their cases unwind.
                crate::process::kill_all();
            }
        }
    });

    if args.cache || args.record {
        if let Err(e) = crate::provider::cache::probe_writable(&args.cache_dir) {
            eprintln!("warning: {e}; nothing will be cached (hint: pass a writable --cache-dir)");
        }
    }
    let color = stdout_color();
    let progress = !args.no_progress && !quiet() && std::io::stderr().is_terminal();
    let mut code = exit::GATE_PASSED;
    for ((mut suite, cases, providers), baseline) in planned.into_iter().zip(baselines) {
        if cases.is_empty() {
            eprintln!(
                "note: suite `{}`: no case matches the filters; skipped",
                suite.name
            );
            continue;
        }
        let options = RunOptions {
            concurrency: args
                .concurrency
                .map(usize::from)
                .unwrap_or(suite.run.concurrency),
            timeout: timeout.unwrap_or(suite.run.timeout),
            judge_cache: args
                .cache
                .then(|| crate::check::judge_cache::JudgeCache::new(args.cache_dir.join("judges"))),
            model_cache: cache_mode(&args).map(|mode| {
                Arc::new(crate::provider::cache::ModelCache::new(
                    &args.cache_dir,
                    mode,
                ))
            }),
        };
        let outputs = Outputs {
            repeat: args.repeat.unwrap_or(suite.run.repeat),
            confirm: args.confirm,
            resume: args.resume,
            out: &args.out,
            baseline: baseline.as_ref(),
            update_baseline: args.update_baseline,
            progress,
            color,
            otlp: exporter.as_ref(),
            history: history.as_ref(),
            history_baseline,
            baseline_trajectories: baseline_trajectories(
                args.baseline.as_deref(),
                history_baseline,
            ),
            selection: &selection,
        };
        let suite_code = runtime.block_on(eval_suite(
            &suite,
            (cases, providers),
            &options,
            &outputs,
            cancel_rx.clone(),
        ));
        code = worst(code, suite_code);
        // Only the cases: the target is dropped here, so that idle persistent agents are
        // killed before gauntlet exits, not left to a thread the exit may cut short.
        free_in_background(std::mem::take(&mut suite.cases));
        if *cancel_rx.borrow() != Cancellation::NotCancelled {
            break;
        }
    }
    if let Some(exporter) = exporter {
        // Before the runtime goes: the last spans are sent on it.
        exporter.finish();
    }
    runtime.shutdown_background();
    code
}

/// `--cache`, `--record`, `--replay` (clap keeps them exclusive).
fn cache_mode(args: &EvalArgs) -> Option<crate::provider::cache::CacheMode> {
    use crate::provider::cache::CacheMode;
    match (args.cache, args.record, args.replay) {
        (_, _, true) => Some(CacheMode::Replay),
        (_, true, _) => Some(CacheMode::Record),
        (true, _, _) => Some(CacheMode::ReadWrite),
        _ => None,
    }
}

/// The exit code that matters most when several suites run: incomplete, then gate failure.
fn worst(a: u8, b: u8) -> u8 {
    let rank = |c: u8| match c {
        exit::RUN_INCOMPLETE => 3,
        exit::INVALID_INPUT => 2,
        exit::GATE_FAILED => 1,
        _ => 0,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

/// Where and how a suite's results are shown and written.
struct Outputs<'a> {
    repeat: u32,
    /// `--confirm K`.
    confirm: Option<u32>,
    resume: bool,
    out: &'a Path,
    baseline: Option<&'a RunReport>,
    update_baseline: bool,
    progress: bool,
    color: bool,
    /// `--otlp`: where the runs are exported.
    otlp: Option<&'a OtlpExporter>,
    /// `--history`: where the run is recorded.
    history: Option<&'a crate::history::location::Location>,
    /// `--baseline history:last-passed`.
    history_baseline: bool,
    /// The baseline's `trajectories.jsonl`, for the side-by-side page, or why there is none.
    baseline_trajectories: Result<PathBuf, String>,
    selection: &'a crate::plan::CompiledSelection,
}

/// `work`: the selected cases and the providers built for them.
async fn eval_suite(
    suite: &Suite,
    work: (Vec<Arc<crate::suite::model::Case>>, Arc<Providers>),
    options: &RunOptions,
    outputs: &Outputs<'_>,
    cancel: watch::Receiver<Cancellation>,
) -> u8 {
    let Outputs {
        out,
        color,
        progress,
        ..
    } = *outputs;
    let started = Instant::now();
    let started_at = crate::history::time::now_unix();
    let hook = match outputs.history {
        Some(location) => HistoryHook::open(location, suite_dir(&suite.path), started_at)
            .await
            .map(|h| h.with_slice(outputs.selection.slice())),
        None => None,
    };
    // Kept only for the history: 100,000 cases would otherwise carry a map of ids for nothing.
    let track_latency = hook.is_some();
    let mut latencies = LatencyLog::default();
    let dir = out.join(&suite.name);
    let fingerprints = suite
        .cases
        .iter()
        .map(|c| {
            let run = crate::fingerprint::stable_hash(&[&suite.fingerprint, &c.fingerprint]);
            (c.id.clone(), run)
        })
        .collect();
    let (journal, resumed) = match Journal::open(&dir, &suite.name, outputs.resume, fingerprints) {
        Ok(j) => j,
        Err(msg) => return usage_error(msg),
    };
    let done = resumed.done;
    if !done.is_empty() || resumed.changed > 0 {
        eprintln!(
            "resuming: {} finished runs from {}",
            done.len(),
            journal.path().display()
        );
    }
    if resumed.changed > 0 {
        eprintln!(
            "resuming: {} runs rerun: the suite, dataset, checks, judges or target they ran with changed",
            resumed.changed
        );
    }
    if resumed.duplicates > 0 {
        eprintln!(
            "warning: {} duplicate lines in {} ignored",
            resumed.duplicates,
            journal.path().display()
        );
    }
    let (cases, providers) = work;
    // Judges that must be calibrated first: one that falls short still grades, but only warns.
    let uncalibrated = check_calibration(suite, &providers).await;
    for u in &uncalibrated {
        eprintln!(
            "warning: judge `{}` is not calibrated ({}): its verdicts only warn in this run",
            u.judge, u.why
        );
    }
    let uncalibrated: Vec<String> = uncalibrated.into_iter().map(|u| u.judge).collect();
    let softened;
    let (suite, cases) = if uncalibrated.is_empty() {
        (suite, cases)
    } else {
        softened = soften_suite(suite, &cases, &uncalibrated);
        (&softened.0, softened.1)
    };
    let work = work_items(&cases, outputs.repeat, &done_keys(&done));
    let mut reporters = SuiteReporters {
        progress: ProgressReporter::new(progress, color),
        journal: JournalReporter::new(journal),
        github: GithubReporter::from_env(),
        otlp: outputs
            .otlp
            .map(|e| e.reporter(&suite.name, &suite.target.label())),
    };
    // Resumed runs keep their journalled latency: the history sees every run of the report.
    for r in done.iter().filter(|_| track_latency) {
        latencies.add(&r.id, r.latency_ms);
    }
    let mut results = done;
    results.reserve_exact(work.len());
    let output = runner::run(
        suite,
        work,
        Arc::clone(&providers),
        options,
        cancel.clone(),
        &mut reporters.list(),
        &mut |mut result| {
            // The runs are reduced without their trajectories: the journal reporter has them
            // now, and the report writers read them back from there one at a time.
            if track_latency {
                latencies.add(&result.id, result.latency_ms);
            }
            result.trajectory = Trajectory::default();
            results.push(result);
        },
    )
    .await;
    let unattributed = suite.target.unattributed_spans();
    if unattributed > 0 {
        eprintln!(
            "warning: suite `{}`: {unattributed} spans received over OTLP belonged to no run of a case and were dropped (hint: {})",
            suite.name,
            crate::otlp::receiver::UNATTRIBUTED_HINT
        );
    }

    let header = ReportHeader {
        suite: suite.name.clone(),
        description: suite.description.clone(),
        target: suite.target.label(),
    };
    let policy = |id: &str| suite.min_pass.get(id).copied();
    let mut scored = Scored::new(reduce_repeats(results, &policy));
    let mut incomplete = output.incomplete;
    let mut history_base = None;
    let judges = crate::command::history_record::judge_names(suite);
    if let Some(hook) = &hook {
        scored.drift = hook
            .drift(&suite.name, &scored.cases, &latencies, &judges)
            .await;
        if outputs.history_baseline {
            history_base = hook.last_passed(&suite.name).await.map(|mut b| {
                b.cases
                    .retain(|c| outputs.selection.selects_id(&c.id, &c.tags));
                b
            });
            if history_base.is_none() {
                eprintln!(
                    "note: no passing run of suite `{}` in the history yet: no baseline",
                    suite.name
                );
            }
        }
    }
    let comparison = match outputs.baseline.or(history_base.as_ref()) {
        None => None,
        Some(base) => {
            let mut cmp = compare(base, &scored.cases, suite.gate.alpha);
            let power = crate::power::power(
                baseline_runs(base),
                outputs.repeat,
                outputs.confirm.unwrap_or(0),
                suite.gate.alpha,
            );
            if !power.can_detect() {
                eprintln!(
                    "warning: suite `{}`: against a {}-run baseline at --repeat {}{}, no single case can reach significance: no regression can be reported (hint: --confirm 3 against a 5-run baseline)",
                    suite.name,
                    power.baseline_runs,
                    power.runs,
                    outputs
                        .confirm
                        .map(|k| format!(" --confirm {k}"))
                        .unwrap_or_default()
                );
            }
            cmp.power = Some(power);
            if let (Some(runs), None) = (outputs.confirm, &incomplete) {
                let plan = ConfirmPlan {
                    suite,
                    cases: &cases,
                    providers,
                    options,
                    runs,
                    first_repeat: outputs.repeat.max(1),
                };
                let (confirmation, stopped) =
                    confirm(plan, &base.cases, &scored.cases, cancel).await;
                apply_confirmation(&mut cmp, confirmation, &base.cases, &scored.cases);
                incomplete = stopped;
            }
            Some(cmp)
        }
    };
    let gate = Policy::Suite {
        gate: &suite.gate,
        uncalibrated,
    };
    let report = build_report(header, gate, scored, comparison, incomplete);
    // `-q`: the exit code and the report files say it all.
    if !quiet() {
        print!("{}", render_summary(&report, color));
        if let Some(cmp) = &report.baseline {
            print!("{}", render_comparison(cmp));
        }
    }
    crate::command::history_record::print_drift(&report);
    let models: Vec<String> = suite
        .provider_setup()
        .models
        .iter()
        .map(ToString::to_string)
        .collect();
    let meta = Meta {
        gauntlet_version: env!("CARGO_PKG_VERSION").to_string(),
        concurrency: options.concurrency,
        duration_ms: started.elapsed().as_millis() as u64,
        started_at: Some(started_at),
        models: models.clone(),
        judges: judges.iter().cloned().collect(),
        slice: outputs.selection.slice(),
    };
    let base = outputs.baseline.or(history_base.as_ref());
    let written = reporters
        .journal
        .trajectories(&report.cases)
        .and_then(|mut from_journal| {
            write_reports(&dir, &report, &meta, &mut from_journal)?;
            write_diff_page(
                &dir,
                &report,
                base,
                outputs,
                suite.run.limits.max_file_bytes,
                &mut from_journal,
            )
        });
    match written {
        Ok(_) if quiet() => {}
        Ok(_) => println!("reports: {}", dir.display()),
        Err(e) => {
            eprintln!("error: cannot write reports to {}: {e}", dir.display());
            return exit::RUN_INCOMPLETE;
        }
    }
    reporters
        .list()
        .on_event(&RunEvent::Reported { report: &report });
    if let Some(hook) = hook {
        hook.record(&report, models, latencies, &judges).await;
    }
    if outputs.update_baseline {
        let file = out.join("baseline").join(format!("{}.json", suite.name));
        let written = std::fs::create_dir_all(out.join("baseline"))
            .and_then(|_| write_atomic(&file, &mut |w| write_json(w, &report)));
        match written {
            Ok(()) => println!("baseline updated: {}", file.display()),
            Err(e) => {
                eprintln!("error: cannot write baseline {}: {e}", file.display());
                return exit::RUN_INCOMPLETE;
            }
        }
    }
    let code = report.exit_code();
    free_in_background((report, reporters.journal.into_journal()));
    code
}

/// `diff.html` beside the reports when the run was compared with a baseline: the changed
/// cases side by side. Without a comparison a `diff.html` left by an earlier run is removed,
/// so the folder never shows a page that is not this run's.
fn write_diff_page(
    dir: &Path,
    report: &RunReport,
    base: Option<&RunReport>,
    outputs: &Outputs<'_>,
    max_file_bytes: u64,
    current: &mut dyn TrajectorySource,
) -> std::io::Result<()> {
    let page = dir.join("diff.html");
    let (Some(base), Some(cmp)) = (base, &report.baseline) else {
        return match std::fs::remove_file(&page) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    };
    let mut old = outputs
        .baseline_trajectories
        .clone()
        .and_then(|file| InMemory::read_jsonl(&file, &changed_ids(cmp), max_file_bytes));
    let label = if outputs.history_baseline {
        crate::history::baseline::LAST_PASSED
    } else {
        "baseline"
    };
    write_atomic(&page, &mut |w| {
        let before = Side {
            label,
            report: base,
            trajectories: match &mut old {
                Ok(t) => Ok(t as &mut dyn TrajectorySource),
                Err(e) => Err(e.clone()),
            },
        };
        let after = Side {
            label: "this run",
            report,
            trajectories: Ok(&mut *current),
        };
        write_diff_html(w, cmp, before, after)
    })
}

/// Where the side-by-side page finds the baseline's trajectories: the `trajectories.jsonl`
/// beside a `--baseline FILE`. A folder of baselines and the history keep none.
fn baseline_trajectories(arg: Option<&Path>, from_history: bool) -> Result<PathBuf, String> {
    match arg {
        _ if from_history => Err("a baseline from the run history keeps no trajectories".into()),
        Some(path) if path.is_dir() => Err(format!(
            "{} is a folder of baselines, which keeps no trajectories (hint: --baseline DIR/SUITE/report.json of a run kept whole)",
            path.display()
        )),
        Some(path) => Ok(path
            .parent()
            .unwrap_or(Path::new("."))
            .join("trajectories.jsonl")),
        None => Err("no baseline".into()),
    }
}

/// Frees `value` on a thread of its own. A 100,000-case run's cases, results and journal
/// index are millions of allocations: freeing them one at a time took over a second at the end
/// of such a run, while the process exit that follows returns all of it at once. The thread
/// frees what it can while the next suite runs; an exit first simply ends it.
fn free_in_background<T: Send + 'static>(value: T) {
    let spawned = std::thread::Builder::new()
        .name("free".into())
        .spawn(move || drop(value));
    // Without a thread the value was freed here, as the closure was dropped: nothing is lost.
    drop(spawned);
}

/// Why `--baseline` cannot be used for a suite.
#[derive(Debug, thiserror::Error)]
enum BaselineError {
    #[error(transparent)]
    Read(#[from] ReadReportError),
    /// `several`: more than one suite runs, so a folder of baselines is the way.
    #[error(
        "--baseline {} is a report of suite `{found}`, not `{suite}`{}",
        file.display(),
        if *several { " (hint: with several suites, give a folder of <suite>.json)" } else { "" }
    )]
    OtherSuite {
        file: PathBuf,
        found: String,
        suite: String,
        several: bool,
    },
}

/// The baseline report for a suite: `--baseline FILE` (its suite must match) or a folder
/// holding `<suite>.json`; a folder without one means no baseline for that suite.
fn baseline_for(
    arg: Option<&Path>,
    suite: &str,
    suites: usize,
    max_file_bytes: u64,
) -> Result<Option<RunReport>, BaselineError> {
    let Some(path) = arg else { return Ok(None) };
    let file = if path.is_dir() {
        let f = path.join(format!("{suite}.json"));
        if !f.is_file() {
            eprintln!("note: no baseline {} for suite `{suite}`", f.display());
            return Ok(None);
        }
        f
    } else {
        path.to_path_buf()
    };
    let report = read_report(&file, max_file_bytes)?;
    if report.suite != suite {
        return Err(BaselineError::OtherSuite {
            file,
            found: report.suite,
            suite: suite.to_string(),
            several: suites > 1,
        });
    }
    Ok(Some(report))
}

/// The reporters of one suite's run. Owned here, not by the list, so that the journal can be
/// read back between the run's events and the report's.
struct SuiteReporters {
    progress: ProgressReporter,
    journal: JournalReporter,
    github: GithubReporter,
    otlp: Option<OtlpReporter>,
}

impl SuiteReporters {
    /// Every reporter, in the order they hear each event.
    fn list(&mut self) -> Reporters<'_> {
        let list = Reporters::new()
            .with(&mut self.progress)
            .with(&mut self.journal)
            .with(&mut self.github);
        match &mut self.otlp {
            Some(otlp) => list.with(otlp),
            None => list,
        }
    }
}

/// The folder of a suite file, where git is asked about the run's commit and branch.
fn suite_dir(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new("."))
}
