//! `write_reports`: every report file of a run, written into one directory.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::report::csv::write_csv;
use crate::report::html::write_html;
use crate::report::json::{render_meta, write_json};
use crate::report::junit::write_junit;
use crate::report::markdown::write_markdown;
use crate::report::trajectories::write_trajectories;
use crate::report::trajectory_source::TrajectorySource;
use crate::results::run_report::{Meta, RunReport};

/// Creates `dir` and writes `report.json`, `summary.md`, `junit.xml`, `results.csv`,
/// `trajectories.jsonl`, `index.html` and `meta.json`, returning their paths in that order,
/// with the trajectories taken from `trajectories` (e.g. read back from the journal one at a
/// time).
///
/// Each file is streamed to a temporary file beside it, flushed, then renamed over the
/// target, so a crash of gauntlet or Ctrl-C leaves either the old file or the new one, never half of one;
/// no file is ever held whole in memory.
pub(crate) fn write_reports(
    dir: &Path,
    report: &RunReport,
    meta: &Meta,
    trajectories: &mut (dyn TrajectorySource + Send),
) -> io::Result<Vec<PathBuf>> {
    fs::create_dir_all(dir).map_err(|e| with_path(dir, e))?;
    let write = |name: &str, render: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>| {
        let path = dir.join(name);
        write_atomic(&path, render).map_err(|e| with_path(&path, e))
    };
    // Three groups written at once on rayon, each file by one thread: for a 100,000-case run
    // the files are hundreds of megabytes and writing them one after another took seconds.
    // The two files that read trajectories share the one source, so they go one after the other.
    let (with_trajectories, (json_md_meta, junit_csv)) = rayon::join(
        || {
            write("trajectories.jsonl", &mut |w| {
                write_trajectories(w, report, trajectories)
            })?;
            write("index.html", &mut |w| write_html(w, report, trajectories))
        },
        || {
            rayon::join(
                || {
                    write("report.json", &mut |w| write_json(w, report))?;
                    write("summary.md", &mut |w| write_markdown(w, report))?;
                    write("meta.json", &mut |w| {
                        w.write_all(render_meta(meta).as_bytes())
                    })
                },
                || {
                    write("junit.xml", &mut |w| {
                        write_junit(w, report, Some(Duration::from_millis(meta.duration_ms)))
                    })?;
                    write("results.csv", &mut |w| write_csv(w, report))
                },
            )
        },
    );
    json_md_meta?;
    junit_csv?;
    with_trajectories?;
    Ok([
        "report.json",
        "summary.md",
        "junit.xml",
        "results.csv",
        "trajectories.jsonl",
        "index.html",
        "meta.json",
    ]
    .iter()
    .map(|name| dir.join(name))
    .collect())
}

fn with_path(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// Streams `render`'s output via `.NAME.tmp` in the same directory (so the rename stays on one
/// filesystem).
pub(crate) fn write_atomic(
    path: &Path,
    render: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let result = (|| {
        let mut file = BufWriter::with_capacity(1 << 16, fs::File::create(&tmp)?);
        render(&mut file)?;
        // Flushed, then renamed over the target: a reader sees the old file or the whole new
        // one. Not fsynced: a report is rebuilt from the journal, and syncing the hundreds of
        // megabytes of a 100,000-case run's reports cost seconds of waiting on the disk.
        file.into_inner().map_err(|e| e.into_error())?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        // Best effort: a stale temp file is harmless, the error that matters is returned.
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::json::render_json;
    use crate::report::trajectory_source::InMemory;
    use crate::results::fixture::{sample_report, sample_trajectories};

    fn meta() -> Meta {
        Meta {
            gauntlet_version: "0.1.0".into(),
            concurrency: 4,
            duration_ms: 99,
            ..Meta::default()
        }
    }

    #[test]
    fn writes_every_file_and_no_temp_files() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("reports").join("support");
        let report = sample_report();
        let paths = write_reports(
            &dir,
            &report,
            &meta(),
            &mut InMemory::new(sample_trajectories()),
        )
        .expect("writes");
        let names: Vec<String> = paths
            .iter()
            .map(|p| p.file_name().expect("name").to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "report.json",
                "summary.md",
                "junit.xml",
                "results.csv",
                "trajectories.jsonl",
                "index.html",
                "meta.json"
            ]
        );
        assert_eq!(
            fs::read_to_string(&paths[0]).expect("read"),
            render_json(&report)
        );
        let mut listed: Vec<String> = fs::read_dir(&dir)
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        listed.sort();
        let mut want = names.clone();
        want.sort();
        assert_eq!(listed, want, "no temp files left behind");
    }

    #[test]
    fn overwrites_an_earlier_run() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut report = sample_report();
        write_reports(
            tmp.path(),
            &report,
            &meta(),
            &mut InMemory::new(sample_trajectories()),
        )
        .expect("first");
        report.cases.truncate(1);
        let paths = write_reports(
            tmp.path(),
            &report,
            &meta(),
            &mut InMemory::new(sample_trajectories()),
        )
        .expect("second");
        assert_eq!(
            fs::read_to_string(&paths[0]).expect("read"),
            render_json(&report)
        );
    }

    #[test]
    fn an_unwritable_dir_is_an_error_naming_the_path() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let file = tmp.path().join("not-a-dir");
        fs::write(&file, "x").expect("write");
        let dir = file.join("sub");
        let err = write_reports(
            &dir,
            &sample_report(),
            &meta(),
            &mut InMemory::new(sample_trajectories()),
        )
        .expect_err("not a dir");
        assert!(err.to_string().contains(&*dir.to_string_lossy()), "{err}");
    }
}
