//! `write_reports`: every report file of a run, written into one directory.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::report::csv::render_csv;
use crate::report::html::render_html;
use crate::report::json::{render_json, render_meta};
use crate::report::junit::render_junit;
use crate::report::markdown::render_markdown;
use crate::report::model::{Meta, RunReport};
use crate::report::trajectories::render_trajectories;

/// Creates `dir` and writes `report.json`, `summary.md`, `junit.xml`, `results.csv`,
/// `trajectories.jsonl`, `index.html` and `meta.json`, returning their paths in that order.
///
/// Each file is written to a temporary file beside it, flushed to disk, then renamed over the
/// target, so a crash or Ctrl-C leaves either the old file or the new one, never half of one.
pub fn write_reports(dir: &Path, report: &RunReport, meta: &Meta) -> io::Result<Vec<PathBuf>> {
    fs::create_dir_all(dir).map_err(|e| with_path(dir, e))?;
    let files = [
        ("report.json", render_json(report)),
        ("summary.md", render_markdown(report)),
        ("junit.xml", render_junit(report)),
        ("results.csv", render_csv(report)),
        ("trajectories.jsonl", render_trajectories(report)),
        ("index.html", render_html(report)),
        ("meta.json", render_meta(meta)),
    ];
    let mut paths = Vec::with_capacity(files.len());
    for (name, text) in files {
        let path = dir.join(name);
        write_atomic(&path, text.as_bytes()).map_err(|e| with_path(&path, e))?;
        paths.push(path);
    }
    Ok(paths)
}

fn with_path(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// Writes via `.NAME.tmp` in the same directory (so the rename stays on one filesystem).
fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
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
    use crate::report::fixture::sample_report;

    fn meta() -> Meta {
        Meta {
            gauntlet_version: "0.1.0".into(),
            concurrency: 4,
            duration_ms: 99,
        }
    }

    #[test]
    fn writes_every_file_and_no_temp_files() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("reports").join("support");
        let report = sample_report();
        let paths = write_reports(&dir, &report, &meta()).expect("writes");
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
        write_reports(tmp.path(), &report, &meta()).expect("first");
        report.cases.truncate(1);
        let paths = write_reports(tmp.path(), &report, &meta()).expect("second");
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
        let err = write_reports(&dir, &sample_report(), &meta()).expect_err("not a dir");
        assert!(err.to_string().contains(&*dir.to_string_lossy()), "{err}");
    }
}
