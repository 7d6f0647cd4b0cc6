//! `Cli`: the command line (clap) and what each command does, returning an exit code.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use tokio::sync::watch;

use crate::diagnostic::Diagnostic;
use crate::duration::parse_duration;
use crate::exit;
use crate::gate;
use crate::plan::Selection;
use crate::provider::registry::Providers;
use crate::report::build::{build_report, ReportHeader};
use crate::report::model::Meta;
use crate::report::terminal::{render_summary, TerminalReporter};
use crate::report::write::write_reports;
use crate::runner::{self, RunOptions, CANCEL_ABORT, CANCEL_NONE, CANCEL_STOP_SCHEDULING};
use crate::suite::load::load_suite;
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
}

impl SelectArgs {
    fn selection(&self) -> Selection {
        Selection {
            filters: self.filter.clone(),
            tags: self.tag.clone(),
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
    /// Reports go to OUT/<suite>/.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub out: PathBuf,
    /// Per-case timeout, e.g. 30s, 500ms (default: the suite's `run.timeout`, else 60s).
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Never draw the progress bar (it is only drawn when stderr is a terminal anyway).
    #[arg(long)]
    pub no_progress: bool,
    /// Read and write cached judge answers (.gauntlet/cache/judges/): re-scoring is free.
    #[arg(long)]
    pub cache: bool,
}

/// Runs the parsed command; returns the process exit code.
pub fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Eval(args) => eval(args),
        Command::Validate { suites } => validate(&suites),
        Command::List { suite, select } => list(&suite, &select),
        Command::Calibrate(args) => {
            crate::check::calibrate::run(&args.judge, &args.labels, &args.mocks, args.min_kappa)
        }
    }
}

/// Loads every suite; on any error prints all diagnostics and returns `None`.
fn load_all(paths: &[PathBuf]) -> Option<Vec<Suite>> {
    let mut suites = Vec::new();
    let mut failed = false;
    for path in paths {
        match load_suite(path) {
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
    let Some(suites) = load_all(&args.suites) else {
        return exit::INVALID_INPUT;
    };
    let planned: Vec<(Suite, Vec<_>)> = suites
        .into_iter()
        .map(|s| {
            let cases = selection.apply(&s.cases);
            (s, cases)
        })
        .collect();
    if planned.iter().all(|(_, cases)| cases.is_empty()) {
        return usage_error("no case matches the given --filter/--tag; nothing was run");
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
    for (suite, cases) in planned {
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
            judge_cache: args.cache.then(|| {
                crate::check::judge_cache::JudgeCache::new(crate::check::judge_cache::DEFAULT_DIR)
            }),
        };
        let suite_code = runtime.block_on(eval_suite(
            &suite,
            cases,
            &options,
            &args.out,
            cancel_rx.clone(),
            progress,
            color,
        ));
        code = worst(code, suite_code);
        if *cancel_rx.borrow() != CANCEL_NONE {
            break;
        }
    }
    runtime.shutdown_background();
    code
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

async fn eval_suite(
    suite: &Suite,
    cases: Vec<Arc<crate::suite::model::Case>>,
    options: &RunOptions,
    out: &Path,
    cancel: watch::Receiver<u8>,
    progress: bool,
    color: bool,
) -> u8 {
    let started = Instant::now();
    let providers = Arc::new(Providers::new(suite.mocks.clone()));
    let mut reporter = TerminalReporter::new(progress, color);
    let output = runner::run(suite, cases, providers, options, cancel, &mut |event| {
        reporter.on_event(&event)
    })
    .await;
    reporter.finish();

    let header = ReportHeader {
        suite: suite.name.clone(),
        description: suite.description.clone(),
        target: target_label(&suite.target),
    };
    let report = build_report(header, &suite.gate, output.results, output.incomplete);
    print!("{}", render_summary(&report, color));
    let meta = Meta {
        gauntlet_version: env!("CARGO_PKG_VERSION").to_string(),
        concurrency: options.concurrency,
        duration_ms: started.elapsed().as_millis() as u64,
    };
    let dir = out.join(&suite.name);
    match write_reports(&dir, &report, &meta) {
        Ok(_) => println!("reports: {}", dir.display()),
        Err(e) => {
            eprintln!("error: cannot write reports to {}: {e}", dir.display());
            return exit::RUN_INCOMPLETE;
        }
    }
    gate::exit_code(&report)
}

/// How the target reads in reports: `harness mock:support`.
pub fn target_label(target: &Target) -> String {
    match target {
        Target::Harness(h) => format!("harness {}", h.model),
    }
}
