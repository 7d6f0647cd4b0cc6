//! `Cli`: the command line (clap) and the helpers the commands share; `main` dispatches it
//! to `command::*`.

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::diagnostic::Diagnostic;
use crate::exit;
use crate::plan::Selection;
use crate::schema::SchemaKind;
use crate::shard::Shard;
use crate::suite::load::{load_suite_with, ModelOverrides};
use crate::suite::model::Suite;

#[derive(Debug, Parser)]
#[command(
    name = "gauntlet",
    version,
    about = "Agent evaluation and regression testing: run golden cases through an agent, score them, gate CI."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub output: OutputArgs,
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
        /// Also write the side-by-side page to FILE: each changed case's two trajectories (from
        /// the trajectories.jsonl beside each report) with the tool-sequence diff.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
    },
    /// Join the reports of the shards of one run (`--shard K/N`) into one, re-apply the gate,
    /// and write every report file to OUT/<suite>/.
    Merge {
        #[arg(required = true, value_name = "REPORT.json")]
        reports: Vec<PathBuf>,
        /// Reports root: the merged files go to OUT/<suite>/.
        #[arg(long, value_name = "DIR", default_value = "reports")]
        out: PathBuf,
        /// Record the merged run in the run history and test it for drift, as `eval
        /// --history` does a whole run (same store: `GAUNTLET_HISTORY`, else
        /// .gauntlet/history.db, or the URL given with `=`).
        #[arg(long, value_name = "URL", num_args = 0..=1, default_missing_value = "")]
        history: Option<String>,
    },
    /// Measure a judge against human labels: accuracy, Cohen's kappa, confusion matrix, correlation.
    Calibrate(CalibrateArgs),
    /// Turn exported traces (OTLP JSON, one export per line) into golden cases: the user's
    /// input, the observed tool calls as `expected.tools`, the output as the reference.
    Import {
        #[arg(value_name = "TRACES.jsonl")]
        traces: PathBuf,
        /// Write the cases (JSON lines) here instead of stdout.
        #[arg(long, short, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// The recorded runs of a suite (`eval --history`): pass rate with its interval, cost,
    /// tokens, latency, commit; the cases that flip most; drift over the last runs.
    History(HistoryCliArgs),
    /// List the cases of a suite after `--filter` and `--tag`.
    List {
        #[arg(value_name = "SUITE")]
        suite: PathBuf,
        #[command(flatten)]
        select: SelectArgs,
        /// `text`: one id per line with its tags; `json`: an array of {id, tags, description, source}.
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// Print the JSON Schema (draft 2020-12) of a file format, for editors and validators.
    Schema {
        #[arg(value_enum, default_value_t = SchemaKind::Suite)]
        kind: SchemaKind,
    },
    /// Scaffold a suite that `eval` passes at once: the bundled harness on a mock model, or
    /// with `--command` a `command` target around your own agent.
    Init(InitArgs),
    /// Print a shell's completion script, e.g. `gauntlet completions bash > ~/.local/share/bash-completion/completions/gauntlet`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// How much gauntlet writes to the terminal, and in what colour: for every command.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct OutputArgs {
    /// Colour on the terminal: `auto` (a terminal without `NO_COLOR`), `always`, `never`.
    #[arg(long, value_enum, global = true, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// No progress bar, no results table: warnings, errors and the exit code only.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Log to stderr: -v info, -vv debug, -vvv trace (`GAUNTLET_LOG`, when set, wins).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to scaffold (created if missing). Nothing existing is overwritten.
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// Your agent's command line (no shell), speaking the JSON protocol on stdin/stdout, e.g.
    /// `--command python3 agent.py`. Relative paths are from DIR.
    #[arg(long, value_name = "ARGV", num_args = 1.., allow_hyphen_values = true)]
    pub command: Vec<String>,
    /// The suite's name: suites/NAME.yaml, datasets/NAME/cases.jsonl.
    #[arg(long, default_value = "smoke", value_parser = parse_suite_name)]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct HistoryCliArgs {
    /// The suite's name, or its file.
    #[arg(value_name = "SUITE")]
    pub suite: String,
    /// The store: a SQLite file or `postgres://…` (default: `GAUNTLET_HISTORY`, else
    /// .gauntlet/history.db).
    #[arg(long, value_name = "URL")]
    pub history: Option<String>,
    /// Only runs on this git branch.
    #[arg(long)]
    pub branch: Option<String>,
    /// Only runs since a date (2026-01-31) or an age (7d, 12h).
    #[arg(long, value_name = "DATE|AGE")]
    pub since: Option<String>,
    /// Only the last N runs.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub last: Option<u32>,
    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Write a self-contained HTML page of the trends to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
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
    /// Exit 1 when Cohen's kappa is below this (0..1).
    #[arg(long, value_name = "KAPPA", value_parser = parse_min_kappa)]
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
    pub(crate) fn selection(&self) -> Selection {
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
    /// With --baseline: rerun each case that did worse K more times; it regresses only if those fresh runs are significantly worse than the baseline's (Fisher, Benjamini–Hochberg).
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..=100))]
    pub confirm: Option<u32>,
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
    /// Export every run as OpenTelemetry GenAI spans to this OTLP/HTTP collector, e.g.
    /// `http://localhost:4318` (`/v1/traces` is added unless the URL ends with it). Default:
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`, when set.
    #[arg(long, value_name = "URL")]
    pub otlp: Option<String>,
    /// Record this run in the run history: `--history` alone uses `GAUNTLET_HISTORY`, else
    /// .gauntlet/history.db; `--history=postgres://user@host/db` or `--history=FILE` names one.
    /// Also tests drift over the last runs. Put the suites first or use `=`: a bare value after
    /// `--history` is taken as its URL.
    #[arg(long, value_name = "URL", num_args = 0..=1, default_missing_value = "")]
    pub history: Option<String>,
}

/// Why a `--min-kappa` value is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MinKappaError {
    #[error("`{0}` is not a number")]
    NotANumber(String),
    #[error("`{0}` is outside 0..1 (Cohen's kappa of 0 is chance, 1 perfect agreement)")]
    OutOfRange(String),
}

/// `--min-kappa`: a number from 0 to 1 (NaN, infinities and negatives are refused, so a typo
/// cannot switch the bar off).
pub fn parse_min_kappa(text: &str) -> Result<f64, MinKappaError> {
    let k: f64 = text
        .trim()
        .parse()
        .map_err(|_| MinKappaError::NotANumber(text.to_string()))?;
    if (0.0..=1.0).contains(&k) {
        Ok(k)
    } else {
        Err(MinKappaError::OutOfRange(text.to_string()))
    }
}

/// Loads every suite; on any error prints all diagnostics and returns `None`.
pub(crate) fn load_all(paths: &[PathBuf]) -> Option<Vec<Suite>> {
    load_all_with(paths, &ModelOverrides::default())
}

pub(crate) fn load_all_with(paths: &[PathBuf], overrides: &ModelOverrides) -> Option<Vec<Suite>> {
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

pub(crate) fn print_diagnostics(path: &Path, errors: &[Diagnostic]) {
    for line in crate::diagnostic::printable(errors) {
        eprintln!("{line}");
    }
    let n = errors.len();
    eprintln!(
        "error: {} is invalid ({n} problem{}); nothing was run",
        path.display(),
        if n == 1 { "" } else { "s" }
    );
}

/// An `init --name` that could not name files.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "`{0}` is not a suite name (letters, digits, `-` and `_`, starting with a letter or digit)"
)]
pub struct SuiteNameError(String);

/// `--name` of `init`: it names files, so a letter or digit, then letters, digits, `-`, `_`.
pub fn parse_suite_name(text: &str) -> Result<String, SuiteNameError> {
    let ok = text
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(text.to_string())
    } else {
        Err(SuiteNameError(text.to_string()))
    }
}

/// The global output flags, set once by `main` before a command runs. A process-wide setting,
/// like the `NO_COLOR` it sits beside: every command and reporter reads it, none changes it.
static OUTPUT: std::sync::OnceLock<OutputArgs> = std::sync::OnceLock::new();

/// Records `--color`, `-q` and `-v` for the rest of the process (the first call wins).
pub fn set_output(output: OutputArgs) {
    let _ = OUTPUT.set(output);
}

fn output() -> OutputArgs {
    OUTPUT.get().copied().unwrap_or_default()
}

/// `-q`: no progress bar and no results table.
pub(crate) fn quiet() -> bool {
    output().quiet
}

/// Colour on stdout: `--color always|never`, else only for a terminal and never when
/// `NO_COLOR` is set.
pub(crate) fn stdout_color() -> bool {
    match output().color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::IsTerminal::is_terminal(&std::io::stdout())
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

pub(crate) fn usage_error(message: impl std::fmt::Display) -> u8 {
    eprintln!("error: {message}");
    exit::INVALID_INPUT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suite_name_is_one_plain_word() {
        assert_eq!(parse_suite_name("smoke-2_b"), Ok("smoke-2_b".into()));
        for bad in ["", "-x", "../x", "a b", "a/b", "é"] {
            assert_eq!(parse_suite_name(bad), Err(SuiteNameError(bad.into())));
        }
    }

    #[test]
    fn min_kappa_is_a_number_from_0_to_1() {
        assert_eq!(parse_min_kappa(" 0.6 "), Ok(0.6));
        assert_eq!(parse_min_kappa("1"), Ok(1.0));
        for bad in ["NaN", "-0.1", "1.5", "inf"] {
            assert_eq!(
                parse_min_kappa(bad),
                Err(MinKappaError::OutOfRange(bad.into()))
            );
        }
        assert_eq!(
            parse_min_kappa("high"),
            Err(MinKappaError::NotANumber("high".into()))
        );
    }
}
