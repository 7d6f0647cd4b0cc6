//! The `gauntlet` binary: parse the command line, run it, exit with its code.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use gauntlet::cli::{Cli, Command};
use gauntlet::command;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors; usage errors exit with INVALID_INPUT (2).
            let code = if e.use_stderr() {
                gauntlet::exit::INVALID_INPUT
            } else {
                gauntlet::exit::GATE_PASSED
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_tracing(cli.output.verbose);
    gauntlet::cli::set_output(cli.output);
    let code = run(cli);
    // No agent, check or tool process outlives gauntlet, whatever path led here.
    gauntlet::process::kill_all();
    ExitCode::from(code)
}

/// Runs the parsed command; returns the process exit code.
fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Eval(args) => command::eval::eval(args),
        Command::Validate { suites } => command::inspect::validate(&suites),
        Command::List {
            suite,
            select,
            format,
        } => command::inspect::list(&suite, &select, format),
        Command::Schema { kind } => command::schema::print(kind),
        Command::Init(args) => command::init::init(&args),
        Command::Completions { shell } => command::completions::print(shell),
        Command::Diff { old, new, html } => command::reports::diff(&old, &new, html.as_deref()),
        Command::Merge {
            reports,
            out,
            history,
        } => command::reports::merge(&reports, &out, history.as_deref()),
        Command::Import { traces, out } => command::import::import(&traces, out.as_deref()),
        Command::History(args) => command::history::run(&args),
        Command::Calibrate(args) => {
            command::calibrate::run(&args.judge, &args.labels, &args.mocks, args.min_kappa)
        }
    }
}

/// Spans and events go to stderr when `GAUNTLET_LOG` is set (e.g. `GAUNTLET_LOG=debug`) or
/// with `-v` (info, `-vv` debug, `-vvv` trace), with every known key and credential masked.
fn init_tracing(verbose: u8) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("GAUNTLET_LOG")
        .ok()
        .or_else(|| {
            let level = match verbose {
                0 => return None,
                1 => "info",
                2 => "debug",
                _ => "trace",
            };
            Some(tracing_subscriber::EnvFilter::new(level))
        });
    if let Some(filter) = filter {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            // Colour only for a terminal: a log piped into a file or a CI log stays plain text.
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(|| gauntlet::redact::RedactingWriter::new(std::io::stderr()))
            .init();
    }
}
