//! `diff` and `merge`: work on finished reports without running anything.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::cli::{quiet, stdout_color, usage_error};
use crate::command::history_record::HistoryHook;
use crate::drift::Drift;
use crate::event::RunEvent;
use crate::exit;
use crate::history::location::Location;
use crate::history::record::LatencyLog;
use crate::report::comparison_render::render_text as render_comparison;
use crate::report::diff_html::{changed_ids, write_diff_html, Side};
use crate::report::terminal::render_summary;
use crate::report::trajectory_source::{InMemory, TrajectorySource};
use crate::report::write::{write_atomic, write_reports};
use crate::reporter::fan_out::Reporter;
use crate::reporter::github::GithubReporter;
use crate::results::case_result::CaseResult;
use crate::results::compare::compare;
use crate::results::merge::merge as merge_reports;
use crate::results::run_report::{Meta, RunReport};
use crate::trajectory_line::parse_trajectories;
use crate::verdict::DEFAULT_ALPHA;

/// Why a `report.json` could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadReportError {
    /// `reason` is the file reader's: missing, not a regular file, too large.
    #[error("cannot read report {}: {reason}", path.display())]
    Read {
        path: PathBuf,
        reason: crate::input_file::ReadError,
    },
    #[error(
        "{}:{}:{}: not a gauntlet report.json: {source}",
        path.display(),
        source.line(),
        source.column()
    )]
    NotAReport {
        path: PathBuf,
        source: serde_json::Error,
    },
}

/// Reports given on the command line have no suite, hence the default file limit.
const DEFAULT_FILE_BYTES: u64 = crate::limits::Limits::DEFAULT.max_file_bytes;

/// Reads a report.json of at most `max_file_bytes` (a baseline under its suite's
/// `run.limits`, otherwise the default).
pub fn read_report(path: &Path, max_file_bytes: u64) -> Result<RunReport, ReadReportError> {
    let text = crate::input_file::read_to_string(path, max_file_bytes).map_err(|reason| {
        ReadReportError::Read {
            path: path.to_path_buf(),
            reason,
        }
    })?;
    serde_json::from_str(&text).map_err(|source| ReadReportError::NotAReport {
        path: path.to_path_buf(),
        source,
    })
}

pub fn diff(old: &Path, new: &Path, html: Option<&Path>) -> u8 {
    let (base, current) = match (
        read_report(old, DEFAULT_FILE_BYTES),
        read_report(new, DEFAULT_FILE_BYTES),
    ) {
        (Ok(b), Ok(c)) => (b, c),
        (Err(e), _) | (_, Err(e)) => return usage_error(e),
    };
    let cmp = compare(&base, &current.cases, DEFAULT_ALPHA);
    print!("{}", render_comparison(&cmp));
    if let Some(page) = html {
        let labels = [old.display().to_string(), new.display().to_string()];
        let written = write_side_by_side(
            page,
            &cmp,
            [(&labels[0], &base, old), (&labels[1], &current, new)],
        );
        if let Err(e) = written {
            eprintln!("error: cannot write {}: {e}", page.display());
            return exit::RUN_INCOMPLETE;
        }
        if !quiet() {
            println!("side by side: {}", page.display());
        }
    }
    if cmp.has_regressions() {
        exit::GATE_FAILED
    } else {
        exit::GATE_PASSED
    }
}

fn side<'a>(
    (label, report, _): (&'a str, &'a RunReport, &Path),
    trajectories: &'a mut Result<InMemory, String>,
) -> Side<'a> {
    Side {
        label,
        report,
        trajectories: match trajectories {
            Ok(t) => Ok(t as &mut dyn TrajectorySource),
            Err(e) => Err(e.clone()),
        },
    }
}

/// Writes the side-by-side page of `cmp` to `page`, each run's trajectories read from the
/// `trajectories.jsonl` beside its report (a run whose file is missing or unreadable is shown
/// without them, the page saying why).
fn write_side_by_side(
    page: &Path,
    cmp: &crate::results::compare::Comparison,
    [before, after]: [(&str, &RunReport, &Path); 2],
) -> std::io::Result<()> {
    let wanted = changed_ids(cmp);
    let read = |report: &Path| {
        let file = report
            .parent()
            .unwrap_or(Path::new("."))
            .join("trajectories.jsonl");
        InMemory::read_jsonl(&file, &wanted, DEFAULT_FILE_BYTES)
    };
    let (mut old, mut new) = (read(before.2), read(after.2));
    write_atomic(page, &mut |w| {
        write_diff_html(w, cmp, side(before, &mut old), side(after, &mut new))
    })
}

/// `gauntlet merge`: joins the shards' reports (and trajectories) into the report of the whole
/// run, re-applies the gate and writes every report file. With `history` (`--history[=URL]`)
/// the merged run is tested for drift and recorded, as `eval --history` does a whole run.
pub fn merge(paths: &[PathBuf], out: &Path, history: Option<&str>) -> u8 {
    let history = match crate::command::history_record::location(history) {
        Ok(l) => l,
        Err(e) => return usage_error(e),
    };
    let mut reports = Vec::new();
    let mut metas = Vec::new();
    let mut trajectories = InMemory::default();
    let mut duration_ms = 0;
    for path in paths {
        let report = match read_report(path, DEFAULT_FILE_BYTES) {
            Ok(r) => r,
            Err(e) => return usage_error(e),
        };
        // The trajectories live beside each shard's report; carry them into the merged one.
        let dir = path.parent().unwrap_or(Path::new("."));
        if let Ok(text) =
            crate::input_file::read_to_string(&dir.join("trajectories.jsonl"), DEFAULT_FILE_BYTES)
        {
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
            for case in &report.cases {
                if let Some(t) = by_id.remove(&case.id) {
                    trajectories.insert(case.id.clone(), t);
                }
            }
        }
        if let Ok(meta) =
            crate::input_file::read_to_string(&dir.join("meta.json"), DEFAULT_FILE_BYTES)
        {
            if let Ok(meta) = serde_json::from_str::<Meta>(&meta) {
                duration_ms += meta.duration_ms;
                metas.push(meta);
            }
        }
        reports.push(report);
    }
    let meta = Meta {
        gauntlet_version: env!("CARGO_PKG_VERSION").to_string(),
        concurrency: 0,
        duration_ms,
        ..shards_meta(&metas)
    };
    let recorder = match &history {
        Some(location) => match MergedHistory::open(location, &meta) {
            Ok(h) => h,
            Err(e) => {
                eprintln!("error: cannot start the runtime the run history needs: {e}");
                return exit::RUN_INCOMPLETE;
            }
        },
        None => None,
    };
    let drift = |suite: &str, cases: &[CaseResult]| {
        let history = recorder.as_ref()?;
        let mut latencies = LatencyLog::default();
        for case in cases {
            latencies.add(&case.id, latency_of(&mut trajectories, case));
        }
        history.drift(suite, cases, &latencies)
    };
    let mut report = match merge_reports(reports, drift) {
        Ok(r) => r,
        Err(e) => return usage_error(e.to_string()),
    };
    // report.json holds no wall-clock time; the agent's latency is found again in the shards'
    // trajectories (for junit.xml and results.csv). Their durations are gone with the shards.
    for case in &mut report.cases {
        case.latency_ms = latency_of(&mut trajectories, case);
    }
    if !quiet() {
        print!("{}", render_summary(&report, stdout_color()));
    }
    crate::command::history_record::print_drift(&report);
    let dir = out.join(&report.suite);
    if let Err(e) = write_reports(&dir, &report, &meta, &mut trajectories) {
        eprintln!("error: cannot write reports to {}: {e}", dir.display());
        return exit::RUN_INCOMPLETE;
    }
    if !quiet() {
        println!("reports: {}", dir.display());
    }
    GithubReporter::from_env().on_event(&RunEvent::Reported { report: &report });
    if let Some(h) = recorder {
        h.record(&report, &meta);
    }
    report.exit_code()
}

/// What the shards' `meta.json` say about the whole run: it started when the first shard did,
/// with every model and judge check any shard had; shards of a `--filter`/`--tag` slice join
/// into that slice.
fn shards_meta(metas: &[Meta]) -> Meta {
    let union = |f: fn(&Meta) -> &Vec<String>| -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        for m in metas {
            for v in f(m) {
                if !all.contains(v) {
                    all.push(v.clone());
                }
            }
        }
        all
    };
    Meta {
        started_at: metas.iter().filter_map(|m| m.started_at).min(),
        models: union(|m| &m.models),
        judges: union(|m| &m.judges),
        slice: metas.iter().find_map(|m| m.slice.clone()),
        ..Meta::default()
    }
}

/// The run history of a merged run (`merge --history`): its store, on a runtime of its own,
/// and the suite's judge checks (from the shards' `meta.json`).
struct MergedHistory {
    runtime: tokio::runtime::Runtime,
    hook: HistoryHook,
    judges: BTreeSet<String>,
}

impl MergedHistory {
    /// `Ok(None)`: the store could not be opened (a warning, as for `eval --history`).
    fn open(location: &Location, meta: &Meta) -> std::io::Result<Option<MergedHistory>> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let started_at = meta
            .started_at
            .unwrap_or_else(crate::history::time::now_unix);
        // Merged where the shards' reports were gathered: git is asked here.
        let hook = runtime
            .block_on(HistoryHook::open(location, Path::new("."), started_at))
            .map(|h| h.with_slice(meta.slice.clone()));
        Ok(hook.map(|hook| MergedHistory {
            runtime,
            hook,
            judges: meta.judges.iter().cloned().collect(),
        }))
    }

    /// The merged run's drift over the history (the gate judges it by the suite's
    /// `max_drift`, which the shards kept in their gates).
    fn drift(&self, suite: &str, cases: &[CaseResult], latencies: &LatencyLog) -> Option<Drift> {
        let drift = self.hook.drift(suite, cases, latencies, &self.judges);
        self.runtime.block_on(drift)
    }

    /// Records the merged run; a failure is a warning.
    fn record(self, report: &RunReport, meta: &Meta) {
        let models = meta.models.clone();
        let recorded = self
            .hook
            .record(report, models, latencies(report), &self.judges);
        self.runtime.block_on(recorded);
    }
}

/// A case's agent latency in the trajectory its shard kept (its representative run: a shard
/// keeps one trajectory per case).
fn latency_of(trajectories: &mut InMemory, case: &CaseResult) -> Option<u64> {
    let t = trajectories.trajectory(case).ok()?;
    crate::results::run_result::agent_latency_ms(&t.steps)
}

/// Each case's latency as the merge found it in the shards' trajectories.
fn latencies(report: &RunReport) -> LatencyLog {
    let mut log = LatencyLog::default();
    for case in &report.cases {
        log.add(&case.id, case.latency_ms);
    }
    log
}
