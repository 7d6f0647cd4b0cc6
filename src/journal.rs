//! `Journal`: `reports/<suite>/journal.jsonl`, one line per finished case run, appended and
//! flushed as soon as the run finishes, so a killed run loses nothing that had finished and
//! `--resume` can skip it.
//!
//! The first line names the suite; every other line is a finished run with its trajectory and
//! its fingerprint: the hash of everything that decided its result (the suite's settings,
//! checks, judges and target, and the case's dataset record). `--resume` keeps only runs whose
//! fingerprint is still the current one, so an edited suite reruns what changed; a line for a
//! run already read is ignored. A last line cut short by a kill is ignored on reading.
//!
//! The output folder is locked (`.lock`, flock) while the journal is open: a second eval into
//! the same folder is refused instead of interleaving its runs with this one's.
//!
//! The journal is also where trajectories wait for the reports: `append` remembers where each
//! run's line starts, the caller drops the trajectory from memory, and `trajectories()` reads
//! them back one at a time while `trajectories.jsonl` and `index.html` are written. Memory
//! then holds no trajectory however many cases run.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::report::trajectory_source::{InMemory, TrajectorySource};
use crate::results::case_result::CaseResult;
use crate::results::run_result::RunResult;
use crate::trajectory::Trajectory;

pub(crate) const JOURNAL_FILE: &str = "journal.jsonl";
/// Version 2: runs carry a fingerprint. Version 1 journals cannot be resumed.
const JOURNAL_VERSION: u32 = 2;
/// Held (flock) while an eval writes into the folder.
pub(crate) const LOCK_FILE: &str = ".lock";

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
    fingerprint: String,
    result: RunResult,
    trajectory: Trajectory,
}

/// The same entry, borrowed, so appending copies nothing.
#[derive(Serialize)]
struct EntryRef<'a> {
    repeat: u32,
    fingerprint: &'a str,
    result: &'a RunResult,
    trajectory: &'a Trajectory,
}

/// Only the trajectory of an entry, for reading it back (the rest is skipped unparsed).
#[derive(Deserialize)]
struct TrajectoryOnly {
    trajectory: Trajectory,
}

/// Only the trajectory of an entry, without its end state (skimmed, not built).
#[derive(Deserialize)]
struct TrajectoryOnlyWithoutState {
    trajectory: crate::trajectory::TrajectoryWithoutState,
}

/// Only the trajectory of an entry, as the JSON text it was written as.
#[derive(Deserialize)]
struct TrajectoryText<'a> {
    #[serde(borrow)]
    trajectory: &'a serde_json::value::RawValue,
}

/// Why a journal could not be opened, written or read. Each names the file it is about.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot create {}: {source}", dir.display())]
    CreateDir { dir: PathBuf, source: io::Error },
    #[error("cannot open lock {}: {source}", path.display())]
    OpenLock { path: PathBuf, source: io::Error },
    #[error(
        "another gauntlet eval is writing to {} (hint: wait for it, or give another --out)",
        dir.display()
    )]
    Locked { dir: PathBuf },
    #[error("cannot lock {}: {source}", path.display())]
    Lock { path: PathBuf, source: io::Error },
    #[error("cannot open journal {}: {source}", path.display())]
    Open { path: PathBuf, source: io::Error },
    #[error("cannot write journal {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot replace journal {}: {source}", path.display())]
    Replace { path: PathBuf, source: io::Error },
    #[error("cannot read journal {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("{}:1: not a gauntlet journal: {source}", path.display())]
    NotAJournal {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error(
        "{} was written by another gauntlet version (journal version {found}, this one reads {JOURNAL_VERSION}) and cannot be resumed (hint: run without --resume to start over)",
        path.display()
    )]
    OtherVersion { path: PathBuf, found: u32 },
    #[error(
        "{} is the journal of suite `{found}` (version {version}), not `{suite}` (hint: run without --resume to start over)",
        path.display()
    )]
    OtherSuite {
        path: PathBuf,
        found: String,
        version: u32,
        suite: String,
    },
    /// `line` is 1-based.
    #[error("{}:{line}: corrupt journal line: {source}", path.display())]
    Corrupt {
        path: PathBuf,
        line: usize,
        source: serde_json::Error,
    },
}

/// A run's key in the journal: case id and repeat index.
type RunKey = (String, u32);

/// An open journal, appended to as runs finish.
#[derive(Debug)]
pub struct Journal {
    file: File,
    path: PathBuf,
    /// Bytes written so far: where the next entry starts.
    len: u64,
    /// Where each journalled run's line starts.
    offsets: HashMap<RunKey, u64>,
    /// A write failed part-way: nothing more is appended after a possibly cut line.
    broken: bool,
    /// The current fingerprint of each case's runs, by case id.
    fingerprints: HashMap<String, String>,
    /// Held open: the folder's lock lasts as long as the journal.
    _lock: File,
}

/// What `--resume` found in the old journal.
#[derive(Debug, Default)]
pub struct Resumed {
    /// The runs carried over, without their trajectories (they stay in the journal).
    pub done: Vec<RunResult>,
    /// Runs dropped because what decides their result changed (or their case is gone).
    pub changed: usize,
    /// Lines for a run already read, ignored.
    pub duplicates: usize,
}

impl Journal {
    /// Starts a fresh journal in `dir` (truncating an old one), or, with `resume`, carries the
    /// runs of the existing one into a fresh one and returns them. The returned runs have no
    /// trajectory in memory: it stays in the journal (see `trajectories`).
    ///
    /// `fingerprints` maps every case id of the suite to the fingerprint of its runs.
    pub(crate) fn open(
        dir: &Path,
        suite: &str,
        resume: bool,
        fingerprints: HashMap<String, String>,
    ) -> Result<(Journal, Resumed), JournalError> {
        let path = dir.join(JOURNAL_FILE);
        std::fs::create_dir_all(dir).map_err(|source| JournalError::CreateDir {
            dir: dir.to_path_buf(),
            source,
        })?;
        let lock = lock_folder(dir)?;
        // Written anew even on resume: a line cut short by a kill must not end up in the middle
        // of the journal once more runs are appended after it. The new journal is built beside
        // the old one and renamed over it, so the old runs are streamed across, never all held.
        let fresh = path.with_file_name(format!(".{JOURNAL_FILE}.tmp"));
        let file = File::create(&fresh).map_err(|source| JournalError::Open {
            path: fresh.clone(),
            source,
        })?;
        let mut journal = Journal {
            file,
            path: path.clone(),
            len: 0,
            offsets: HashMap::new(),
            broken: false,
            fingerprints,
            _lock: lock,
        };
        let write_err = |source: io::Error| JournalError::Write {
            path: fresh.clone(),
            source,
        };
        let header = Header {
            journal: JOURNAL_VERSION,
            suite: suite.to_string(),
        };
        journal.write_line(&header).map_err(write_err)?;
        let mut resumed = Resumed::default();
        let carried = if resume && path.is_file() {
            let mut seen = std::collections::HashSet::new();
            read_each(&path, suite, &mut |mut result, trajectory, fingerprint| {
                if !seen.insert((result.id.clone(), result.repeat)) {
                    resumed.duplicates += 1;
                    return Ok(());
                }
                if journal.fingerprints.get(&result.id).map(String::as_str) != Some(fingerprint) {
                    resumed.changed += 1;
                    return Ok(());
                }
                journal
                    .append_with(&result, &trajectory)
                    .map_err(write_err)?;
                result.trajectory = Trajectory::default();
                resumed.done.push(result);
                Ok(())
            })
        } else {
            Ok(())
        };
        let replaced = carried.and_then(|()| {
            std::fs::rename(&fresh, &path).map_err(|source| JournalError::Replace {
                path: path.clone(),
                source,
            })
        });
        if let Err(e) = replaced {
            // The old journal is left as it was; the half-built new one goes.
            let _ = std::fs::remove_file(&fresh);
            return Err(e);
        }
        Ok((journal, resumed))
    }

    /// Appends one finished run and flushes it to the OS at once. Once it returned `Ok`, the
    /// run's trajectory can be read back from `trajectories()` and need not stay in memory.
    pub(crate) fn append(&mut self, result: &RunResult) -> io::Result<()> {
        self.append_with(result, &result.trajectory)
    }

    pub(crate) fn append_with(
        &mut self,
        result: &RunResult,
        trajectory: &Trajectory,
    ) -> io::Result<()> {
        let at = self.len;
        let fingerprint = self
            .fingerprints
            .get(&result.id)
            .cloned()
            .unwrap_or_default();
        let entry = EntryRef {
            repeat: result.repeat,
            fingerprint: &fingerprint,
            result,
            trajectory,
        };
        self.write_line(&entry)?;
        self.offsets.insert((result.id.clone(), result.repeat), at);
        Ok(())
    }

    fn write_line<T: Serialize>(&mut self, value: &T) -> io::Result<()> {
        if self.broken {
            return Err(io::Error::other("an earlier write failed"));
        }
        let mut line = serde_json::to_vec(value).map_err(io::Error::other)?;
        line.push(b'\n');
        // One write per line: a kill leaves at most the last line incomplete.
        if let Err(e) = self.file.write_all(&line) {
            // Part of the line may be out: appending after it would corrupt the next line.
            self.broken = true;
            return Err(e);
        }
        self.len += line.len() as u64;
        Ok(())
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The journalled runs' trajectories, read back from the file one at a time; the
    /// trajectory of a run that is not in the journal (its append failed) is taken from
    /// `unjournalled`.
    pub(crate) fn trajectories(
        &self,
        unjournalled: InMemory,
    ) -> io::Result<JournalTrajectories<'_>> {
        let file = File::open(&self.path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", self.path.display())))?;
        Ok(JournalTrajectories {
            offsets: &self.offsets,
            path: &self.path,
            file: BufReader::new(file),
            line: String::new(),
            unjournalled,
        })
    }
}

/// Trajectories read back from a journal by the offsets `Journal::append` recorded.
pub struct JournalTrajectories<'a> {
    offsets: &'a HashMap<RunKey, u64>,
    path: &'a Path,
    file: BufReader<File>,
    line: String,
    unjournalled: InMemory,
}

impl JournalTrajectories<'_> {
    /// Reads the journal line of `case`'s run into `self.line` and returns where it starts;
    /// `None` when the run was not journalled here (its trajectory is then in memory).
    fn read_line_of(&mut self, case: &CaseResult) -> io::Result<Option<u64>> {
        let Some(&at) = self.offsets.get(&(case.id.clone(), case.repeat)) else {
            return Ok(None);
        };
        // Reports read in id order and runs were journalled in about that order, so most reads
        // continue where the last one ended and the buffer is kept.
        let here = self.file.stream_position()?;
        if here != at {
            self.file.seek_relative(at as i64 - here as i64)?;
        }
        self.line.clear();
        self.file.read_line(&mut self.line)?;
        Ok(Some(at))
    }

    fn unreadable(&self, case: &CaseResult, at: u64, e: serde_json::Error) -> io::Error {
        io::Error::other(format!(
            "{}: the run `{}` (repeat {}) cannot be read back at byte {at}: {e}",
            self.path.display(),
            case.id,
            case.repeat
        ))
    }
}

impl TrajectorySource for JournalTrajectories<'_> {
    fn trajectory(&mut self, case: &CaseResult) -> io::Result<Cow<'_, Trajectory>> {
        let Some(at) = self.read_line_of(case)? else {
            return self.unjournalled.trajectory(case);
        };
        let entry: TrajectoryOnly =
            serde_json::from_str(&self.line).map_err(|e| self.unreadable(case, at, e))?;
        Ok(Cow::Owned(entry.trajectory))
    }

    fn trajectory_without_state(&mut self, case: &CaseResult) -> io::Result<Cow<'_, Trajectory>> {
        let Some(at) = self.read_line_of(case)? else {
            return self.unjournalled.trajectory_without_state(case);
        };
        let entry: TrajectoryOnlyWithoutState =
            serde_json::from_str(&self.line).map_err(|e| self.unreadable(case, at, e))?;
        Ok(Cow::Owned(entry.trajectory.into()))
    }

    /// Copies the trajectory's JSON text from the journal as it is: the journal wrote it with
    /// the same serializer, so the bytes are those a parse and re-serialization would give,
    /// without the cost of either (a trajectory with a world state is several KB).
    fn write_trajectory_json(&mut self, case: &CaseResult, out: &mut dyn Write) -> io::Result<()> {
        let Some(at) = self.read_line_of(case)? else {
            return self.unjournalled.write_trajectory_json(case, out);
        };
        let entry: TrajectoryText =
            serde_json::from_str(&self.line).map_err(|e| self.unreadable(case, at, e))?;
        out.write_all(entry.trajectory.get().as_bytes())
    }
}

/// Calls `f` with each run recorded in a journal and its trajectory, in file order. A journal
/// of another suite is an error; an unparsable line is tolerated only at the end (a run killed
/// mid-write).
fn read_each(
    path: &Path,
    suite: &str,
    f: &mut dyn FnMut(RunResult, Trajectory, &str) -> Result<(), JournalError>,
) -> Result<(), JournalError> {
    let read_err = |source: io::Error| JournalError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(read_err)?;
    // Bytes, not `lines()`: a kill can cut a line inside a UTF-8 character, which must read as
    // a cut line, not as an unreadable file.
    let mut lines = BufReader::new(file)
        .split(b'\n')
        .enumerate()
        .filter(|(_, l)| {
            l.as_ref()
                .map_or(true, |l| !l.iter().all(u8::is_ascii_whitespace))
        });
    let Some((_, first)) = lines.next() else {
        return Ok(());
    };
    let first = first.map_err(read_err)?;
    let header: Header =
        serde_json::from_slice(&first).map_err(|source| JournalError::NotAJournal {
            path: path.to_path_buf(),
            source,
        })?;
    if header.journal != JOURNAL_VERSION {
        return Err(JournalError::OtherVersion {
            path: path.to_path_buf(),
            found: header.journal,
        });
    }
    if header.suite != suite {
        return Err(JournalError::OtherSuite {
            path: path.to_path_buf(),
            found: header.suite,
            version: header.journal,
            suite: suite.to_string(),
        });
    }
    // A line that does not parse is only an error if another line follows it.
    let mut bad: Option<JournalError> = None;
    for (i, line) in lines {
        if let Some(e) = bad.take() {
            return Err(e);
        }
        let line = line.map_err(read_err)?;
        match serde_json::from_slice::<Entry>(&line) {
            Ok(entry) => {
                let result = RunResult {
                    repeat: entry.repeat,
                    ..entry.result
                };
                f(result, entry.trajectory, &entry.fingerprint)?;
            }
            Err(source) => {
                bad = Some(JournalError::Corrupt {
                    path: path.to_path_buf(),
                    line: i + 1,
                    source,
                })
            }
        }
    }
    Ok(())
}

/// The runs recorded in a journal, with their trajectories (see `read_each`).
pub fn read(path: &Path, suite: &str) -> Result<Vec<RunResult>, JournalError> {
    let mut done = Vec::new();
    read_each(path, suite, &mut |result, trajectory, _| {
        done.push(RunResult {
            trajectory,
            ..result
        });
        Ok(())
    })?;
    Ok(done)
}

/// Takes the folder's lock, or says who holds it. The lock goes with the process, so a killed
/// eval never leaves the folder locked.
fn lock_folder(dir: &Path) -> Result<File, JournalError> {
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| JournalError::OpenLock {
            path: path.clone(),
            source,
        })?;
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: flock(2) on a descriptor we own; no memory is passed.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let e = io::Error::last_os_error();
            return Err(if e.kind() == io::ErrorKind::WouldBlock {
                JournalError::Locked {
                    dir: dir.to_path_buf(),
                }
            } else {
                JournalError::Lock { path, source: e }
            });
        }
    }
    Ok(file)
}

/// The (case id, repeat) pairs a journal already covers.
pub(crate) fn done_keys(done: &[RunResult]) -> BTreeSet<(String, u32)> {
    done.iter().map(|r| (r.id.clone(), r.repeat)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trajectory::{EndReason, Step, Usage};
    use crate::verdict::CaseStatus;

    /// Every case id of the tests, with the same fingerprint.
    fn fps(f: &str) -> HashMap<String, String> {
        ["a", "b", "c", "d", "z"]
            .iter()
            .map(|id| (id.to_string(), f.to_string()))
            .collect()
    }

    fn result(id: &str, repeat: u32) -> RunResult {
        RunResult {
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
            latency_ms: None,
            duration_ms: Some(7),
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
        let (mut j, resumed) = Journal::open(dir.path(), "s", true, fps("f")).unwrap();
        assert!(resumed.done.is_empty());
        j.append(&result("a", 0)).unwrap();
        j.append(&result("a", 1)).unwrap();
        drop(j);
        // A kill in the middle of a write leaves half a line.
        let path = dir.path().join(JOURNAL_FILE);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"repeat\": 2, \"resu");
        std::fs::write(&path, text).unwrap();

        let (mut j, resumed) = Journal::open(dir.path(), "s", true, fps("f")).unwrap();
        let done = resumed.done;
        let bare = |id: &str, repeat: u32| RunResult {
            trajectory: Trajectory::default(),
            ..result(id, repeat)
        };
        assert_eq!(
            done,
            vec![bare("a", 0), bare("a", 1)],
            "the trajectories stay in the journal"
        );
        assert_eq!(done_keys(&done).len(), 2);
        j.append(&result("b", 0)).unwrap();
        let mut back = j.trajectories(InMemory::default()).unwrap();
        for r in [bare("b", 0), bare("a", 1), bare("a", 0)] {
            assert_eq!(
                *back.trajectory(&r.clone().into_case()).unwrap(),
                result(&r.id, r.repeat).trajectory,
                "{} {}",
                r.id,
                r.repeat
            );
        }
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
            .to_string()
            .contains(":4: corrupt journal line"));
    }

    #[test]
    fn trajectories_read_back_by_run_in_any_order_and_unjournalled_runs_keep_theirs() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, _) = Journal::open(dir.path(), "s", false, fps("f")).unwrap();
        let run = |id: &str, repeat: u32| {
            let mut r = result(id, repeat);
            r.trajectory.output = format!("{id}/{repeat}");
            r
        };
        let runs = [run("b", 0), run("a", 1), run("a", 0), run("c", 0)];
        for r in &runs {
            j.append(r).unwrap();
        }
        let stripped = |r: &RunResult| r.clone().into_case();
        // Not journalled: its trajectory is the one kept in memory.
        let kept = run("d", 0);
        let unjournalled = InMemory::new([("d".to_string(), kept.trajectory.clone())].into());
        let mut back = j.trajectories(unjournalled).unwrap();
        for r in [&runs[2], &runs[1], &runs[0], &runs[3], &runs[0], &runs[2]] {
            assert_eq!(
                back.trajectory(&stripped(r)).unwrap().output,
                r.trajectory.output
            );
        }
        assert_eq!(*back.trajectory(&stripped(&kept)).unwrap(), kept.trajectory);
    }

    #[test]
    fn a_trajectory_read_without_its_state_keeps_everything_else() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, _) = Journal::open(dir.path(), "s", false, fps("f")).unwrap();
        let mut r = result("a", 0);
        // Every field set, written out: a field added to `Trajectory` must be added here and
        // to `TrajectoryWithoutState`, or this stops compiling or fails.
        r.trajectory = Trajectory {
            steps: vec![Step::User {
                content: "hi".into(),
            }],
            output: "done".into(),
            end: EndReason::Escalated,
            error: Some("escalated to a human: angry".into()),
            usage: Usage {
                input_tokens: 3,
                output_tokens: 4,
            },
            cost_usd: Some(0.25),
            state: Some(serde_json::json!({"orders": {"1": {"total": 29.99}}}).into()),
        };
        j.append(&r).unwrap();
        let mut back = j.trajectories(InMemory::default()).unwrap();
        let case = r.clone().into_case();
        let without = back.trajectory_without_state(&case).unwrap().into_owned();
        let whole = back.trajectory(&case).unwrap().into_owned();
        assert_eq!(whole, r.trajectory);
        assert_eq!(
            without,
            Trajectory {
                state: None,
                ..r.trajectory
            }
        );
    }

    #[test]
    fn trajectory_json_is_copied_as_serialized() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, _) = Journal::open(dir.path(), "s", false, fps("f")).unwrap();
        let mut r = result("a", 0);
        r.trajectory.output = "price \"29.99\" \u{e9}".into();
        r.trajectory.cost_usd = Some(0.1 + 0.2);
        r.trajectory.state = Some(serde_json::json!({"orders": {"1": {"total": 29.99}}}).into());
        j.append(&r).unwrap();
        let want = serde_json::to_string(&r.trajectory).unwrap();
        let stripped = r.clone().into_case();
        let z = result("z", 0);
        let unjournalled = InMemory::new([("z".to_string(), z.trajectory.clone())].into());
        let mut back = j.trajectories(unjournalled).unwrap();
        let mut out = Vec::new();
        back.write_trajectory_json(&stripped, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), want);
        // An unjournalled run writes its own.
        let mut out = Vec::new();
        back.write_trajectory_json(&z.clone().into_case(), &mut out)
            .unwrap();
        assert_eq!(out, serde_json::to_vec(&z.trajectory).unwrap());
    }

    #[test]
    fn without_resume_the_journal_starts_over_and_other_suites_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, _) = Journal::open(dir.path(), "s", false, fps("f")).unwrap();
        j.append(&result("a", 0)).unwrap();
        drop(j);
        let (_, resumed) = Journal::open(dir.path(), "s", false, fps("f")).unwrap();
        assert!(resumed.done.is_empty());
        assert!(read(&dir.path().join(JOURNAL_FILE), "s")
            .unwrap()
            .is_empty());
        let err = Journal::open(dir.path(), "other", true, fps("f"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("journal of suite `s`"), "{err}");
        let files: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n != LOCK_FILE)
            .collect();
        assert_eq!(
            files.len(),
            1,
            "the refused journal is kept, nothing else is left"
        );
    }

    #[test]
    fn resume_drops_changed_runs_and_duplicate_lines() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, _) = Journal::open(dir.path(), "s", false, fps("f")).unwrap();
        for r in [result("a", 0), result("b", 0), result("c", 0)] {
            j.append(&r).unwrap();
        }
        drop(j);
        // The same line twice: one run, not an extra repeat.
        let path = dir.path().join(JOURNAL_FILE);
        let text = std::fs::read_to_string(&path).unwrap();
        let line_a = text.lines().nth(1).unwrap().to_string();
        std::fs::write(&path, format!("{text}{line_a}\n")).unwrap();
        // `b` was edited since, `c` is gone from the suite.
        let mut now = fps("f");
        now.insert("b".into(), "g".into());
        now.remove("c");
        let (_, resumed) = Journal::open(dir.path(), "s", true, now).unwrap();
        let ids: Vec<_> = resumed.done.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["a"]);
        assert_eq!((resumed.changed, resumed.duplicates), (2, 1));
    }

    #[test]
    fn old_journals_are_refused_and_a_second_writer_is_locked_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JOURNAL_FILE);
        std::fs::write(&path, "{\"journal\":1,\"suite\":\"s\"}\n").unwrap();
        let err = Journal::open(dir.path(), "s", true, fps("f"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("journal version 1"), "{err}");
        assert!(err.contains("without --resume"), "{err}");

        let (first, _) = Journal::open(dir.path(), "s", false, fps("f")).unwrap();
        let err = Journal::open(dir.path(), "s", false, fps("f"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("another gauntlet eval"), "{err}");
        drop(first);
        assert!(Journal::open(dir.path(), "s", false, fps("f")).is_ok());
    }
}
