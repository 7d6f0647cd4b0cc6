//! `Cli`: the command line (clap) and what each command does, returning an exit code.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use tokio::sync::watch;

use crate::check::calibration_gate::{check_calibration, soften_suite};
use crate::diagnostic::Diagnostic;
use crate::dry_run;
use crate::duration::parse_duration;
use crate::event::RunEvent;
use crate::exit;
use crate::gate;
use crate::journal::{done_keys, Journal};
use crate::plan::{work_items, Selection};
use crate::provider::registry::missing_keys;
use crate::provider::registry::Providers;
use crate::report::build::{build_report, ReportHeader};
use crate::report::compare::{compare, DEFAULT_ALPHA};
use crate::report::comparison_render::render_text as render_comparison;
use crate::report::github::render_annotations;
use crate::report::json::render_json;
use crate::report::markdown::render_markdown;
use crate::report::model::Meta;
use crate::report::model::RunReport;
use crate::report::repeats::reduce as reduce_repeats;
use crate::report::terminal::{render_summary, TerminalReporter};
use crate::report::trajectories::parse_trajectories;
use crate::report::write::write_reports;
use crate::runner::{self, RunOptions, CANCEL_ABORT, CANCEL_NONE, CANCEL_STOP_SCHEDULING};
use crate::shard::Shard;
use crate::suite::load::{load_suite_with, ModelOverrides};
use crate::suite::model::{Suite, Target};

#[derive(Debug, Parser)]
#[command(
    name = "gauntlet",
    version,
    about = "Agent evaluation and regression testing: run golden cases through an agent, score them, gate CI."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run suites: execute every selected case, score it, write reports, apply the gate.
    Eval(EvalArgs),
    /// Load and check suites, datasets, judges and templates; call no model.
    Validate {
        #[arg(required = true, value_name = "SUITE")]
        suites: Vec<PathBuf>,
    },
    /// Compare two report.json files: regressions, fixes, score and tool-sequence changes.
    /// Exits 1 when there are regressions.
    Diff {
        #[arg(value_name = "OLD.json")]
        old: PathBuf,
        #[arg(value_name = "NEW.json")]
        new: PathBuf,
    },
    /// Join the reports of the shards of one run (`--shard K/N`) into one, re-apply the gate,
    /// and write every report file to OUT/<suite>/.
    Merge {
        #[arg(required = true, value_name = "REPORT.json")]
        reports: Vec<PathBuf>,
        /// Reports root: the merged files go to OUT/<suite>/.
        #[arg(long, value_name = "DIR", default_value = "reports")]
        out: PathBuf,
    },
    /// Measure a judge against human labels: accuracy, Cohen's kappa, confusion matrix, correlation.
    Calibrate(CalibrateArgs),
    /// List the cases of a suite after `--filter` and `--tag`.
    List {
        #[arg(value_name = "SUITE")]
        suite: PathBuf,
        #[command(flatten)]
        select: SelectArgs,
    },
}

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// The judge rubric, e.g. judges/policy.yaml.
    #[arg(value_name = "JUDGE")]
    pub judge: PathBuf,
    /// JSONL of labelled examples: {input, output, reference?, pass? , score?}.
    #[arg(long, value_name = "FILE")]
    pub labels: PathBuf,
    /// Where a `mock:NAME` judge model finds its rules (NAME.yaml).
    #[arg(long, value_name = "DIR", default_value = "suites/mocks")]
    pub mocks: PathBuf,
    /// Exit 1 when Cohen's kappa is below this.
    #[arg(long, value_name = "KAPPA")]
    pub min_kappa: Option<f64>,
}

#[derive(Debug, Args)]
pub struct SelectArgs {
    /// Only cases whose id matches this glob (repeatable: any matches).
    #[arg(long, value_name = "GLOB")]
    pub filter: Vec<String>,
    /// Only cases with this tag (repeatable: any matches).
    #[arg(long, value_name = "TAG")]
    pub tag: Vec<String>,
    /// Only shard K of N (1-based), split by a stable hash of the case id.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
}

impl SelectArgs {
    fn selection(&self) -> Selection {
        Selection {
            filters: self.filter.clone(),
            tags: self.tag.clone(),
            shard: self.shard,
        }
    }
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    #[arg(required = true, value_name = "SUITE")]
    pub suites: Vec<PathBuf>,
    #[command(flatten)]
    pub select: SelectArgs,
    /// Cases run at once (default: the suite's `run.concurrency`, else 8).
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: Option<u16>,
    /// Run every case N times: pass@k, pass^k, flaky detection (default: the suite's `run.repeat`, else 1).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub repeat: Option<u32>,
    /// Reports go to OUT/<suite>/.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub out: PathBuf,
    /// Per-case timeout, e.g. 30s, 500ms (default: the suite's `run.timeout`, else 60s).
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Never draw the progress bar (it is only drawn when stderr is a terminal anyway).
    #[arg(long)]
    pub no_progress: bool,
    /// Compare with an earlier report.json (or a folder of `<suite>.json` baselines): the
    /// report lists regressions and the gate fails on more than `gate.max_regressions` (default 0).
    #[arg(long, value_name = "FILE|DIR")]
    pub baseline: Option<PathBuf>,
    /// Write this run's report as the new baseline, OUT/baseline/<suite>.json.
    #[arg(long)]
    pub update_baseline: bool,
    /// Print the plan (runs, model calls) and an estimated cost; run nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Skip the runs already in OUT/<suite>/journal.jsonl (from an interrupted or killed run).
    #[arg(long)]
    pub resume: bool,
    /// Run the agent on this model instead of the suite's, e.g. `openai:gpt-4o-mini`.
    #[arg(long, value_name = "PROVIDER:MODEL")]
    pub model: Option<String>,
    /// Grade with this model instead of each judge's own.
    #[arg(long, value_name = "PROVIDER:MODEL")]
    pub judge_model: Option<String>,
    /// Read and write cached judge answers (.gauntlet/cache/judges/) and model and
    /// http/command tool calls (.gauntlet/cache/models/, tools/): repeating a run is free.
    #[arg(long, conflicts_with_all = ["record", "replay"])]
    pub cache: bool,
    /// Call every model and tool, and store each answer in .gauntlet/cache/ for `--replay`.
    #[arg(long, conflicts_with = "replay")]
    pub record: bool,
    /// Answer every model and http/command tool call from .gauntlet/cache/ (no key, no
    /// network); a call that was not recorded errors its case and says what differed.
    #[arg(long)]
    pub replay: bool,
    /// Where `--cache`, `--record` and `--replay` keep their files.
    #[arg(long, value_name = "DIR", default_value = crate::provider::cache::DEFAULT_DIR)]
    pub cache_dir: PathBuf,
}

/// Runs the parsed command; returns the process exit code.
pub fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Eval(args) => eval(args),
        Command::Validate { suites } => validate(&suites),
        Command::List { suite, select } => list(&suite, &select),
        Command::Diff { old, new } => diff(&old, &new),
        Command::Merge { reports, out } => merge(&reports, &out),
        Command::Calibrate(args) => {
            crate::check::calibrate::run(&args.judge, &args.labels, &args.mocks, args.min_kappa)
        }
    }
}

/// Loads every suite; on any error prints all diagnostics and returns `None`.
fn load_all(paths: &[PathBuf]) -> Option<Vec<Suite>> {
    load_all_with(paths, &ModelOverrides::default())
}

fn load_all_with(paths: &[PathBuf], overrides: &ModelOverrides) -> Option<Vec<Suite>> {
    let mut suites = Vec::new();
    let mut failed = false;
    for path in paths {
        match load_suite_with(path, overrides) {
            Ok(s) => suites.push(s),
            Err(errors) => {
                failed = true;
                print_diagnostics(path, &errors);
            }
        }
    }
    (!failed).then_some(suites)
}

fn print_diagnostics(path: &Path, errors: &[Diagnostic]) {
    for e in errors {
        eprintln!("{e}");
    }
    let n = errors.len();
    eprintln!(
        "error: {} is invalid ({n} problem{}); nothing was run",
        path.display(),
        if n == 1 { "" } else { "s" }
    );
}

fn usage_error(message: impl std::fmt::Display) -> u8 {
    eprintln!("error: {message}");
    exit::INVALID_INPUT
}

fn validate(paths: &[PathBuf]) -> u8 {
    let Some(suites) = load_all(paths) else {
        return exit::INVALID_INPUT;
    };
    for suite in &suites {
        // `validate` calls no model, so a missing key is only a warning here; `eval` refuses.
        for problem in missing_keys(suite) {
            eprintln!("warning: {}: {problem}", suite.path.display());
        }
        let checks: usize = suite.checks.len() * suite.cases.len()
            + suite.cases.iter().map(|c| c.checks.len()).sum::<usize>();
        println!(
            "ok: {} — suite `{}`: {} cases, {} checks, {} judges",
            suite.path.display(),
            suite.name,
            suite.cases.len(),
            checks,
            suite.judges.len()
        );
    }
    exit::GATE_PASSED
}

fn list(path: &Path, select: &SelectArgs) -> u8 {
    let selection = match select.selection().compile() {
        Ok(s) => s,
        Err(msg) => return usage_error(msg),
    };
    let Some(suites) = load_all(&[path.to_path_buf()]) else {
        return exit::INVALID_INPUT;
    };
    for suite in &suites {
        for case in selection.apply(&suite.cases) {
            if case.tags.is_empty() {
                println!("{}", case.id);
            } else {
                println!("{}  [{}]", case.id, case.tags.join(", "));
            }
        }
    }
    exit::GATE_PASSED
}

fn eval(args: EvalArgs) -> u8 {
    let selection = match args.select.selection().compile() {
        Ok(s) => s,
        Err(msg) => return usage_error(msg),
    };
    let timeout = match args.timeout.as_deref().map(parse_duration).transpose() {
        Ok(t) => t,
        Err(msg) => return usage_error(format!("--timeout: {msg}")),
    };
    let overrides = ModelOverrides {
        model: args.model.clone(),
        judge_model: args.judge_model.clone(),
    };
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
        match Providers::for_suite_with(&s, !args.replay) {
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
        match baseline_for(args.baseline.as_deref(), &suite.name, planned.len()) {
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
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit::RUN_INCOMPLETE;
        }
    };
    let (cancel_tx, cancel_rx) = watch::channel(CANCEL_NONE);
    runtime.spawn(async move {
        // First Ctrl-C: stop scheduling; second: abort.
        for level in [CANCEL_STOP_SCHEDULING, CANCEL_ABORT] {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            if level == CANCEL_STOP_SCHEDULING {
                eprintln!("\ninterrupted: finishing running cases (Ctrl-C again to abort)");
            }
            let _ = cancel_tx.send(level);
        }
    });

    let color = std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let progress = !args.no_progress && std::io::stderr().is_terminal();
    let mut code = exit::GATE_PASSED;
    for ((suite, cases, providers), baseline) in planned.into_iter().zip(baselines) {
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
            resume: args.resume,
            out: &args.out,
            baseline: baseline.as_ref(),
            update_baseline: args.update_baseline,
            progress,
            color,
        };
        let suite_code = runtime.block_on(eval_suite(
            &suite,
            (cases, providers),
            &options,
            &outputs,
            cancel_rx.clone(),
        ));
        code = worst(code, suite_code);
        if *cancel_rx.borrow() != CANCEL_NONE {
            break;
        }
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
    resume: bool,
    out: &'a Path,
    baseline: Option<&'a RunReport>,
    update_baseline: bool,
    progress: bool,
    color: bool,
}

/// `work`: the selected cases and the providers built for them.
async fn eval_suite(
    suite: &Suite,
    work: (Vec<Arc<crate::suite::model::Case>>, Arc<Providers>),
    options: &RunOptions,
    outputs: &Outputs<'_>,
    cancel: watch::Receiver<u8>,
) -> u8 {
    let Outputs {
        out,
        color,
        progress,
        ..
    } = *outputs;
    let started = Instant::now();
    let dir = out.join(&suite.name);
    let (mut journal, done) = match Journal::open(&dir, &suite.name, outputs.resume) {
        Ok(j) => j,
        Err(msg) => return usage_error(msg),
    };
    if !done.is_empty() {
        eprintln!(
            "resuming: {} finished runs from {}",
            done.len(),
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
    let mut reporter = TerminalReporter::new(progress, color);
    let mut journal_failed = false;
    let output = runner::run(suite, work, providers, options, cancel, &mut |event| {
        if let RunEvent::CaseFinished { result } = &event {
            if let Err(e) = journal.append(result) {
                if !journal_failed {
                    eprintln!(
                        "warning: cannot append to {}: {e}",
                        journal.path().display()
                    );
                }
                journal_failed = true;
            }
        }
        reporter.on_event(&event)
    })
    .await;
    reporter.finish();

    let header = ReportHeader {
        suite: suite.name.clone(),
        description: suite.description.clone(),
        target: target_label(&suite.target),
    };
    let policy = |id: &str| suite.min_pass.get(id).copied();
    let results = reduce_repeats(done.into_iter().chain(output.results).collect(), &policy);
    let mut report = build_report(header, &suite.gate, results, output.incomplete);
    report.gate.uncalibrated = uncalibrated;
    if let Some(base) = outputs.baseline {
        let cmp = compare(base, &report, suite.gate.alpha);
        gate::apply_baseline(&suite.gate, &mut report.gate, &cmp);
        report.baseline = Some(cmp);
    }
    print!("{}", render_summary(&report, color));
    if let Some(cmp) = &report.baseline {
        print!("{}", render_comparison(cmp));
    }
    let meta = Meta {
        gauntlet_version: env!("CARGO_PKG_VERSION").to_string(),
        concurrency: options.concurrency,
        duration_ms: started.elapsed().as_millis() as u64,
    };
    match write_reports(&dir, &report, &meta) {
        Ok(_) => println!("reports: {}", dir.display()),
        Err(e) => {
            eprintln!("error: cannot write reports to {}: {e}", dir.display());
            return exit::RUN_INCOMPLETE;
        }
    }
    publish_to_github(&report);
    if outputs.update_baseline {
        let file = out.join("baseline").join(format!("{}.json", suite.name));
        let written = std::fs::create_dir_all(out.join("baseline"))
            .and_then(|_| std::fs::write(&file, render_json(&report)));
        match written {
            Ok(()) => println!("baseline updated: {}", file.display()),
            Err(e) => {
                eprintln!("error: cannot write baseline {}: {e}", file.display());
                return exit::RUN_INCOMPLETE;
            }
        }
    }
    gate::exit_code(&report)
}

/// The baseline report for a suite: `--baseline FILE` (its suite must match) or a folder
/// holding `<suite>.json`; a folder without one means no baseline for that suite.
fn baseline_for(
    arg: Option<&Path>,
    suite: &str,
    suites: usize,
) -> Result<Option<RunReport>, String> {
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
    let report = read_report(&file)?;
    if report.suite != suite {
        let hint = if suites > 1 {
            " (hint: with several suites, give a folder of <suite>.json)"
        } else {
            ""
        };
        return Err(format!(
            "--baseline {} is a report of suite `{}`, not `{suite}`{hint}",
            file.display(),
            report.suite
        ));
    }
    Ok(Some(report))
}

fn read_report(path: &Path) -> Result<RunReport, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read report {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}:{}:{}: not a gauntlet report.json: {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })
}

fn diff(old: &Path, new: &Path) -> u8 {
    let (base, current) = match (read_report(old), read_report(new)) {
        (Ok(b), Ok(c)) => (b, c),
        (Err(e), _) | (_, Err(e)) => return usage_error(e),
    };
    let cmp = compare(&base, &current, DEFAULT_ALPHA);
    print!("{}", render_comparison(&cmp));
    if cmp.has_regressions() {
        exit::GATE_FAILED
    } else {
        exit::GATE_PASSED
    }
}

fn merge(paths: &[PathBuf], out: &Path) -> u8 {
    let mut reports = Vec::new();
    let mut duration_ms = 0;
    for path in paths {
        let mut report = match read_report(path) {
            Ok(r) => r,
            Err(e) => return usage_error(e),
        };
        // The trajectories live beside each shard's report; carry them into the merged one.
        let dir = path.parent().unwrap_or(Path::new("."));
        if let Ok(text) = std::fs::read_to_string(dir.join("trajectories.jsonl")) {
            let lines = match parse_trajectories(&text) {
                Ok(l) => l,
                Err(e) => {
                    return usage_error(format!(
                        "{}: {e}",
                        dir.join("trajectories.jsonl").display()
                    ))
                }
            };
            let mut by_id: std::collections::BTreeMap<String, _> =
                lines.into_iter().map(|l| (l.id, l.trajectory)).collect();
            for case in &mut report.cases {
                if let Some(t) = by_id.remove(&case.id) {
                    case.trajectory = t;
                }
            }
        }
        if let Ok(meta) = std::fs::read_to_string(dir.join("meta.json")) {
            duration_ms += serde_json::from_str::<Meta>(&meta).map_or(0, |m| m.duration_ms);
        }
        reports.push(report);
    }
    let report = match crate::report::merge::merge(reports) {
        Ok(r) => r,
        Err(e) => return usage_error(e),
    };
    let color = std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    print!("{}", render_summary(&report, color));
    let meta = Meta {
        gauntlet_version: env!("CARGO_PKG_VERSION").to_string(),
        concurrency: 0,
        duration_ms,
    };
    let dir = out.join(&report.suite);
    if let Err(e) = write_reports(&dir, &report, &meta) {
        eprintln!("error: cannot write reports to {}: {e}", dir.display());
        return exit::RUN_INCOMPLETE;
    }
    println!("reports: {}", dir.display());
    publish_to_github(&report);
    gate::exit_code(&report)
}

/// Inside GitHub Actions: failed cases as annotations, summary.md into the job summary.
fn publish_to_github(report: &RunReport) {
    if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
        print!("{}", render_annotations(report));
    }
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| {
                std::io::Write::write_all(&mut f, render_markdown(report).as_bytes())
            });
        if let Err(e) = appended {
            eprintln!(
                "warning: cannot append to GITHUB_STEP_SUMMARY {}: {e}",
                Path::new(&path).display()
            );
        }
    }
}

/// How the target reads in reports: `harness mock:support`.
pub fn target_label(target: &Target) -> String {
    match target {
        Target::Harness(h) => format!("harness {}", h.model),
        // As written, not resolved: the label must not depend on the machine.
        Target::Command(c) => format!("command {}", c.argv.join(" ")),
        Target::Http(h) => format!("http {}", h.url),
        // The target that recorded the trajectories, so a replay reproduces its report.
        Target::Replay(r) => r.label.clone(),
    }
}
