//! `HistoryHook`: what `eval --history` does around a suite's run — read the recorded runs
//! for the drift test and the `history:last-passed` baseline, and record the finished run.
//! Any failure here is a warning: the run and its reports stand.

use std::collections::BTreeSet;
use std::path::Path;

use crate::drift::{detect, Drift, Point, DEFAULT_ALPHA, DEFAULT_WINDOW};
use crate::history::baseline::{as_report, last_passed};
use crate::history::git::{git_info, GitInfo};
use crate::history::location::Location;
use crate::history::record::RunRecord;
use crate::history::record::{judge_scores, run_record, LatencyLog, RunContext};
use crate::history::store::{RunFilter, Store};
use crate::judge_drift::{judge_drift, JudgeScore};
use crate::results::case_result::CaseResult;
use crate::results::run_report::RunReport;

/// The store of a run and the facts gathered for its record.
pub(crate) struct HistoryHook {
    store: Store,
    git: GitInfo,
    started_at: i64,
    /// The run is a slice of the suite (`--filter`/`--tag`): no drift test; recorded as
    /// incomplete.
    slice: Option<String>,
}

impl HistoryHook {
    /// Opens the store for a run that started at `started_at` (unix seconds); git is asked
    /// about the commit and branch in `repo_dir`. A store that cannot be opened is a warning
    /// and no hook.
    pub(crate) async fn open(
        location: &Location,
        repo_dir: &Path,
        started_at: i64,
    ) -> Option<HistoryHook> {
        match Store::open(location).await {
            Ok(store) => Some(HistoryHook {
                store,
                git: git_info(repo_dir),
                started_at,
                slice: None,
            }),
            Err(e) => {
                eprintln!("warning: {e}; this run is not recorded");
                None
            }
        }
    }

    /// The run keeps only part of the suite (`CompiledSelection::slice`, `None`: all of it).
    pub(crate) fn with_slice(mut self, slice: Option<String>) -> HistoryHook {
        self.slice = slice;
        self
    }

    fn branch_filter(&self) -> RunFilter {
        RunFilter {
            branch: self.git.branch.clone(),
            ..RunFilter::default()
        }
    }

    /// The newest passing run on this branch, as a baseline report.
    pub(crate) async fn last_passed(&self, suite: &str) -> Option<RunReport> {
        match self.store.runs(suite, &self.branch_filter()).await {
            Ok(runs) => last_passed(&runs).map(as_report),
            Err(e) => {
                eprintln!("warning: {e}; no baseline from the history");
                None
            }
        }
    }

    /// Drift over the last runs on this branch and this one (`cases`, `latencies`).
    pub(crate) async fn drift(
        &self,
        suite: &str,
        cases: &[CaseResult],
        latencies: &LatencyLog,
        judges: &BTreeSet<String>,
    ) -> Option<Drift> {
        if let Some(slice) = &self.slice {
            // Its pass rate, cost and latency are not the whole suite's: no series to join.
            eprintln!("note: suite `{suite}` ran {slice}: no drift test, and the history keeps the run as incomplete");
            return None;
        }
        let filter = RunFilter {
            last: Some(DEFAULT_WINDOW as u32 - 1),
            ..self.branch_filter()
        };
        let runs = match self.store.runs(suite, &filter).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("warning: {e}; no drift test");
                return None;
            }
        };
        let mut points: Vec<Point> = runs
            .iter()
            .filter(|r| r.incomplete.is_none())
            .map(RunRecord::point)
            .collect();
        points.push(Point::of_cases(
            cases
                .iter()
                .map(|c| (c.status.is_pass(), c.cost_usd, latencies.mean(&c.id))),
        ));
        let mut drift = detect(&points, DEFAULT_ALPHA);
        let mut scores: Vec<Vec<JudgeScore>> = runs
            .into_iter()
            .filter(|r| r.incomplete.is_none())
            .map(|r| r.judge_scores)
            .collect();
        scores.push(judge_scores(cases, judges));
        drift.judges = judge_drift(&scores, DEFAULT_ALPHA);
        Some(drift)
    }

    /// Records the finished run; a failure is a warning.
    pub(crate) async fn record(
        self,
        report: &RunReport,
        models: Vec<String>,
        latencies: LatencyLog,
        judges: &BTreeSet<String>,
    ) {
        let ctx = RunContext {
            started_at: self.started_at,
            git: self.git.clone(),
            models,
            latencies: latencies.means(),
            judges: judges.clone(),
            slice: self.slice.clone(),
        };
        let record = run_record(report, ctx);
        match self.store.record(&record).await {
            Ok(id) => println!("history: run {id} recorded"),
            Err(e) => eprintln!("warning: {e}; this run is not recorded (its reports stand)"),
        }
        self.store.close().await;
    }
}

/// The display names of the suite's judge checks (suite-wide and per case): the verdicts the
/// history keeps as judge scores.
pub(crate) fn judge_names(suite: &crate::suite::model::Suite) -> BTreeSet<String> {
    suite
        .checks
        .iter()
        .chain(suite.cases.iter().flat_map(|c| c.checks.iter()))
        .filter(|c| c.check.family() == crate::check::registry::Family::Judge)
        .map(|c| c.name.clone())
        .collect()
}

/// Where `--history[=URL]` records (`GAUNTLET_HISTORY` for a bare flag); `None` without the
/// flag. `Err`: the message of a usage error. A bare `--history` takes the next word as its
/// store, so a file that exists and is no SQLite database (a suite, a report) is refused
/// rather than taken from the command's own arguments.
pub(crate) fn location(flag: Option<&str>) -> Result<Option<Location>, String> {
    let Some(flag) = flag else { return Ok(None) };
    let env = std::env::var(crate::history::location::ENV).ok();
    let location =
        Location::resolve(Some(flag), env.as_deref()).map_err(|e| format!("--history: {e}"))?;
    if let Location::Sqlite(path) = &location {
        if !is_sqlite_or_new(path) {
            return Err(format!(
                "--history: `{}` is not a SQLite database (hint: a bare `--history` takes the \
                 next word as its store: put it after the files, or write `--history=FILE`)",
                path.display()
            ));
        }
    }
    Ok(Some(location))
}

/// Whether SQLite can take `path` as its database: missing or empty (it creates one), or a
/// file that starts with SQLite's header.
fn is_sqlite_or_new(path: &Path) -> bool {
    use std::io::Read;
    const HEADER: &[u8; 16] = b"SQLite format 3\0";
    let Ok(mut file) = std::fs::File::open(path) else {
        // Missing (created on open), or unreadable: the store's own open says why.
        return true;
    };
    let mut head = Vec::with_capacity(16);
    match file.by_ref().take(16).read_to_end(&mut head) {
        Ok(0) => true,
        Ok(_) => head == HEADER,
        Err(_) => true,
    }
}

/// The drift alerts of a run's history, one line each.
pub(crate) fn print_drift(report: &RunReport) {
    for alert in report.drift.iter().flat_map(|d| &d.alerts) {
        println!("{}", crate::drift::describe(alert));
    }
    for alert in report.drift.iter().flat_map(|d| &d.judges) {
        println!("{}", crate::judge_drift::describe(alert));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_sqlite_file_or_none_is_taken_for_a_store() {
        let dir = tempfile::tempdir().unwrap();
        let at = |name: &str, body: Option<&[u8]>| {
            let path = dir.path().join(name);
            if let Some(body) = body {
                std::fs::write(&path, body).unwrap();
            }
            is_sqlite_or_new(&path)
        };
        assert!(at("missing.db", None));
        assert!(at("empty.db", Some(b"")));
        assert!(at("real.db", Some(b"SQLite format 3\0and pages")));
        assert!(!at("report.json", Some(b"{\"version\": 1}")));
        assert!(!at("suite.yaml", Some(b"name: support\n")));
        let suite = dir.path().join("suite.yaml").display().to_string();
        let err = location(Some(&suite)).unwrap_err();
        assert!(err.contains("is not a SQLite database"), "{err}");
        let db = dir.path().join("real.db").display().to_string();
        assert_eq!(location(Some(&db)), Ok(Some(Location::Sqlite(db.into()))));
    }
}
