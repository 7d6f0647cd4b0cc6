//! The journal and `--resume`: a run cut short (here: its journal truncated mid-line, as a
//! SIGKILL leaves it) and resumed gives the same report as an uninterrupted run.

use crate::support::{gauntlet, read, stderr};

const SUITE: &str = "suites/support.yaml";

#[test]
fn a_killed_run_resumed_equals_an_uninterrupted_one() {
    let out = tempfile::tempdir().unwrap();
    let out_s = out.path().to_str().unwrap();
    let full = gauntlet(&["eval", SUITE, "--out", out_s, "--repeat", "2"]);
    assert_eq!(full.status.code(), Some(0), "{}", stderr(&full));
    let dir = out.path().join("support");
    let uninterrupted = read(dir.join("report.json"));
    let journal = read(dir.join("journal.jsonl"));
    assert_eq!(
        journal.lines().count(),
        1 + 32 * 2,
        "a header and one line per run"
    );

    // What a kill leaves: the header, some finished runs, half a line.
    let kept: Vec<&str> = journal.lines().take(1 + 21).collect();
    let cut = journal.lines().nth(22).unwrap();
    std::fs::write(
        dir.join("journal.jsonl"),
        format!("{}\n{}", kept.join("\n"), &cut[..cut.len() / 2]),
    )
    .unwrap();
    std::fs::remove_file(dir.join("report.json")).unwrap();

    let resumed = gauntlet(&[
        "eval", SUITE, "--out", out_s, "--repeat", "2", "--resume", "-j", "3",
    ]);
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    assert!(
        stderr(&resumed).contains("resuming: 21 finished runs"),
        "{}",
        stderr(&resumed)
    );
    assert!(
        read(dir.join("report.json")) == uninterrupted,
        "resumed report equals the uninterrupted one"
    );
    assert_eq!(read(dir.join("journal.jsonl")).lines().count(), 1 + 32 * 2);
}

#[test]
fn resume_refuses_the_journal_of_another_suite() {
    let out = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(out.path().join("support")).unwrap();
    std::fs::write(
        out.path().join("support/journal.jsonl"),
        "{\"journal\":2,\"suite\":\"other\"}\n",
    )
    .unwrap();
    let o = gauntlet(&[
        "eval",
        SUITE,
        "--out",
        out.path().to_str().unwrap(),
        "--resume",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("journal of suite `other`"),
        "{}",
        stderr(&o)
    );
}
