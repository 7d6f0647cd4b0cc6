//! `Journal`: `reports/<suite>/journal.jsonl`, one line per finished case run, appended and
//! flushed as soon as the run finishes, so a killed run loses nothing that had finished and
//! `--resume` can skip it.
//!
//! The first line names the suite; every other line is a finished run with its trajectory.
//! A last line cut short by a kill is ignored on reading.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::report::model::CaseResult;
use crate::trajectory::Trajectory;

pub const JOURNAL_FILE: &str = "journal.jsonl";
const JOURNAL_VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    journal: u32,
    suite: String,
}

/// A finished run as journalled: the result plus what `report.json` leaves out of it.
#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    repeat: u32,
    result: CaseResult,
    trajectory: Trajectory,
}

/// An open journal, appended to as runs finish.
#[derive(Debug)]
pub struct Journal {
    file: File,
    path: PathBuf,
}

impl Journal {
    /// Starts a fresh journal in `dir` (truncating an old one), or, with `resume`, opens the
    /// existing one for appending and returns the runs it already holds.
    pub fn open(
        dir: &Path,
        suite: &str,
        resume: bool,
    ) -> Result<(Journal, Vec<CaseResult>), String> {
        let path = dir.join(JOURNAL_FILE);
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let done = if resume && path.is_file() {
            read(&path, suite)?
        } else {
            Vec::new()
        };
        // Written anew even on resume: a line cut short by a kill must not end up in the middle
        // of the journal once more runs are appended after it.
        let mut file = File::create(&path)
            .map_err(|e| format!("cannot open journal {}: {e}", path.display()))?;
        let header = Header {
            journal: JOURNAL_VERSION,
            suite: suite.to_string(),
        };
        let mut journal_err =
            |e: io::Error| format!("cannot write journal {}: {e}", path.display());
        write_line(&mut file, &header).map_err(&mut journal_err)?;
        let mut journal = Journal {
            file,
            path: path.clone(),
        };
        for r in &done {
            journal.append(r).map_err(&mut journal_err)?;
        }
        Ok((journal, done))
    }

    /// Appends one finished run and flushes it to the OS at once.
    pub fn append(&mut self, result: &CaseResult) -> io::Result<()> {
        let entry = Entry {
            repeat: result.repeat,
            result: result.clone(),
            trajectory: result.trajectory.clone(),
        };
        write_line(&mut self.file, &entry)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn write_line<T: Serialize>(file: &mut File, value: &T) -> io::Result<()> {
    let mut line = serde_json::to_vec(value).map_err(io::Error::other)?;
    line.push(b'\n');
    // One write per line: a kill leaves at most the last line incomplete.
    file.write_all(&line)?;
    file.flush()
}

/// The runs recorded in a journal. A journal of another suite is an error; an unparsable line
/// is tolerated only at the end (a run killed mid-write).
pub fn read(path: &Path, suite: &str) -> Result<Vec<CaseResult>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read journal {}: {e}", path.display()))?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .peekable();
    let Some((_, first)) = lines.next() else {
        return Ok(Vec::new());
    };
    let header: Header = serde_json::from_str(first)
        .map_err(|e| format!("{}:1: not a gauntlet journal: {e}", path.display()))?;
    if header.suite != suite || header.journal != JOURNAL_VERSION {
        return Err(format!(
            "{} is the journal of suite `{}` (version {}), not `{suite}` (hint: run without --resume to start over)",
            path.display(),
            header.suite,
            header.journal
        ));
    }
    let mut done = Vec::new();
    while let Some((i, line)) = lines.next() {
        match serde_json::from_str::<Entry>(line) {
            Ok(entry) => done.push(CaseResult {
                repeat: entry.repeat,
                trajectory: entry.trajectory,
                ..entry.result
            }),
            Err(_) if lines.peek().is_none() => break,
            Err(e) => {
                return Err(format!(
                    "{}:{}: corrupt journal line: {e}",
                    path.display(),
                    i + 1
                ))
            }
        }
    }
    Ok(done)
}

/// The (case id, repeat) pairs a journal already covers.
pub fn done_keys(done: &[CaseResult]) -> BTreeSet<(String, u32)> {
    done.iter().map(|r| (r.id.clone(), r.repeat)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trajectory::{EndReason, Step, Usage};
    use crate::verdict::CaseStatus;

    fn result(id: &str, repeat: u32) -> CaseResult {
        CaseResult {
            id: id.into(),
            tags: vec![],
            status: CaseStatus::Passed,
            score: Some(1.0),
            checks: vec![],
            output: "ok".into(),
            end: EndReason::Completed,
            error: None,
            usage: Usage::default(),
            steps: 1,
            tools: vec![],
            cost_usd: None,
            repeats: None,
            repeat,
            trajectory: Trajectory {
                steps: vec![Step::User {
                    content: "hi".into(),
                }],
                output: "ok".into(),
                ..Default::default()
            },
        }
    }

    #[test]
    fn resume_reads_back_what_was_appended_and_tolerates_a_cut_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, done) = Journal::open(dir.path(), "s", true).unwrap();
        assert!(done.is_empty());
        j.append(&result("a", 0)).unwrap();
        j.append(&result("a", 1)).unwrap();
        drop(j);
        // A kill in the middle of a write leaves half a line.
        let path = dir.path().join(JOURNAL_FILE);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"repeat\": 2, \"resu");
        std::fs::write(&path, text).unwrap();

        let (mut j, done) = Journal::open(dir.path(), "s", true).unwrap();
        assert_eq!(done, vec![result("a", 0), result("a", 1)]);
        assert_eq!(done_keys(&done).len(), 2);
        j.append(&result("b", 0)).unwrap();
        drop(j);
        let done = read(&path, "s").unwrap();
        assert_eq!(
            done,
            vec![result("a", 0), result("a", 1), result("b", 0)],
            "the cut line is gone"
        );

        // A cut line in the middle is corruption, reported with its line.
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replacen("\"b\"", "\"b", 1);
        std::fs::write(&path, format!("{text}{}\n", text.lines().nth(1).unwrap())).unwrap();
        assert!(read(&path, "s")
            .unwrap_err()
            .contains(":4: corrupt journal line"));
    }

    #[test]
    fn without_resume_the_journal_starts_over_and_other_suites_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, _) = Journal::open(dir.path(), "s", false).unwrap();
        j.append(&result("a", 0)).unwrap();
        drop(j);
        let (_, done) = Journal::open(dir.path(), "s", false).unwrap();
        assert!(done.is_empty());
        assert!(read(&dir.path().join(JOURNAL_FILE), "s")
            .unwrap()
            .is_empty());
        let err = Journal::open(dir.path(), "other", true).unwrap_err();
        assert!(err.contains("journal of suite `s`"), "{err}");
    }
}
