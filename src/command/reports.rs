//! `diff` and `merge`: work on finished reports without running anything.

use std::path::{Path, PathBuf};

use crate::cli::{quiet, stdout_color, usage_error};
use crate::command::merge_history;
use crate::event::RunEvent;
use crate::exit;
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
    // Each case's agent latency, found again in the trajectory its shard kept (report.json
    // holds no wall-clock time): for junit.xml, results.csv and the run history.
    let mut latencies = LatencyLog::default();
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
                    let latency = crate::results::run_result::agent_latency_ms(&t.steps);
                    latencies.add(&case.id, latency);
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
        ..merge_history::shards_meta(&metas)
    };
    let recorder = match &history {
        Some(location) => match merge_history::MergedHistory::open(location, &meta) {
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
        history.drift(suite, cases, &latencies)
    };
    let mut report = match merge_reports(reports, drift) {
        Ok(r) => r,
        Err(e) => return usage_error(e.to_string()),
    };
    // The shards' durations are gone with them.
    for case in &mut report.cases {
        case.latency_ms = latencies.mean(&case.id);
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
        h.record(&report, &meta, latencies);
    }
    report.exit_code()
}
