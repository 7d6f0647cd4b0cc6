//! Property tests: every loader (suite, dataset in its three formats, judge, mock rules,
//! calibration labels, baseline report, journal) takes mutated versions of real files —
//! bytes inserted, deleted, duplicated, replaced by YAML/JSON/template syntax — and answers
//! with a value or errors, never a panic. The case count is bounded so this runs in seconds.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::Config;

use crate::support::{gauntlet, root};

/// Fragments that tend to reach parser corners.
const PIECES: &[&str] = &[
    "",
    "[",
    "]",
    "{",
    "}",
    ":",
    ": ",
    "- ",
    "\n",
    "  ",
    "\"",
    "'",
    "&a ",
    "*a",
    "!!binary ",
    "~",
    "1e999",
    "-1",
    "null",
    "{{",
    "}}",
    "{%",
    "%}",
    "\u{202e}",
    "\0",
    "#",
    "|",
    ">",
    "? ",
    ",",
    "18446744073709551616",
    "NaN",
    "\t",
    "\\u0000",
    "é",
    "<<: *a",
    "---\n",
    "...\n",
];

fn config() -> Config {
    Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    }
}

/// One edit of `text`: (where, kind, length, fragment).
type Edit = (usize, u8, usize, &'static str);

fn apply(seed: &str, edits: &[Edit]) -> String {
    let mut bytes = seed.as_bytes().to_vec();
    for &(at, kind, n, piece) in edits {
        let at = at.min(bytes.len());
        let end = (at + n).min(bytes.len());
        match kind {
            0 => {
                bytes.splice(at..at, piece.bytes());
            }
            1 => {
                bytes.drain(at..end);
            }
            2 => {
                let slice = bytes[at..end].to_vec();
                bytes.splice(at..at, slice);
            }
            _ => {
                bytes.splice(at..end, piece.bytes());
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn mutations(seed: String) -> impl Strategy<Value = String> {
    let len = seed.len();
    prop::collection::vec(
        (0..=len, 0u8..4, 0usize..64, prop::sample::select(PIECES)),
        1..8,
    )
    .prop_map(move |edits| apply(&seed, &edits))
}

/// A copy of the demo's files (suites, datasets, judges) to mutate in, made once.
fn workspace() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        for sub in ["suites", "datasets", "judges"] {
            copy_tree(&root().join(sub), &dir.path().join(sub));
        }
        dir
    })
    .path()
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A report.json and a journal.jsonl of the offline demo, made once.
fn demo_run() -> &'static PathBuf {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DIR.get_or_init(|| {
        let out = tempfile::tempdir().expect("temp dir");
        let o = gauntlet(&[
            "eval",
            "suites/support.yaml",
            "--out",
            out.path().to_str().unwrap(),
        ]);
        assert!(o.status.code().is_some(), "the demo ran");
        let dir = out.path().join("support");
        (out, dir)
    })
    .1
}

fn seed(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Writes `text` to a fresh file named `name` and returns its path.
fn scratch(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

#[test]
fn the_suite_loader_never_panics() {
    let ws = workspace();
    let suite = ws.join("suites/mutated.yaml");
    proptest!(config(), |(text in mutations(seed(&root().join("suites/support.yaml"))))| {
        std::fs::write(&suite, &text).unwrap();
        let _ = gauntlet::suite::load::load_suite(&suite);
    });
}

#[test]
fn dataset_loaders_never_panic() {
    let limits = gauntlet::limits::Limits::default();
    let jsonl = seed(&root().join("datasets/support/cases.jsonl"));
    proptest!(config(), |(text in mutations(jsonl.clone()))| {
        let (_d, path) = scratch("cases.jsonl", &text);
        let _ = gauntlet::dataset::load::<gauntlet::suite::raw::RawCase>(&path, &limits);
    });
    let yaml = seed(&root().join("tests/fixtures/valid/cases.yaml"));
    proptest!(config(), |(text in mutations(yaml.clone()))| {
        let (_d, path) = scratch("cases.yaml", &text);
        let _ = gauntlet::dataset::load::<gauntlet::suite::raw::RawCase>(&path, &limits);
    });
    let csv = "id,input,tags,expected.reference\na,\"hi, there\",x;y,ok\nb,hello,,\n".to_string();
    proptest!(config(), |(text in mutations(csv.clone()))| {
        let (_d, path) = scratch("cases.csv", &text);
        let _ = gauntlet::dataset::load::<gauntlet::suite::raw::RawCase>(&path, &limits);
    });
}

#[test]
fn judge_mock_and_label_loaders_never_panic() {
    let judge = seed(&root().join("judges/helpfulness.yaml"));
    proptest!(config(), |(text in mutations(judge.clone()))| {
        let _ = gauntlet::check::judge::Judge::from_source("j", Path::new("j.yaml"), &text);
    });
    let mocks = seed(&root().join("suites/mocks/support.yaml"));
    proptest!(config(), |(text in mutations(mocks.clone()))| {
        let _ = gauntlet::provider::mock_rules::MockRules::parse(Path::new("m.yaml"), &text);
    });
    let labels = seed(&root().join("judges/labels/helpfulness.jsonl"));
    proptest!(config(), |(text in mutations(labels.clone()))| {
        let (_d, path) = scratch("labels.jsonl", &text);
        let _ = gauntlet::check::calibrate::load_labels(&path);
    });
}

#[test]
fn baseline_report_and_journal_readers_never_panic() {
    let run = demo_run();
    let report = seed(&run.join("report.json"));
    proptest!(config(), |(text in mutations(report.clone()))| {
        let (_d, path) = scratch("report.json", &text);
        let _ = gauntlet::command::reports::read_report(&path, u64::MAX);
    });
    let journal = seed(&run.join("journal.jsonl"));
    proptest!(config(), |(text in mutations(journal.clone()))| {
        let (_d, path) = scratch("journal.jsonl", &text);
        let _ = gauntlet::journal::read(&path, "support");
    });
}
