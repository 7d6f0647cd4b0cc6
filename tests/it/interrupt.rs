//! Ctrl-C: the first SIGINT stops scheduling, lets the running case finish, writes a partial
//! report and exits 3.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{read, root};

#[test]
fn first_ctrl_c_finishes_running_cases_and_writes_a_partial_report() {
    let out = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args([
            "eval",
            "tests/fixtures/valid/interrupt.yaml",
            "--out",
            out.path().to_str().unwrap(),
        ])
        .current_dir(root())
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait (bounded) until the first case is journalled: `hang` is then running.
    let journal = out.path().join("interrupt/journal.jsonl");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::read_to_string(&journal).map_or(0, |j| j.lines().count()) < 2 {
        assert!(Instant::now() < deadline, "the first case never finished");
        std::thread::sleep(Duration::from_millis(50));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(3),
        "an interrupted run is incomplete: {stderr}"
    );
    assert!(
        stderr.contains("interrupted: finishing running cases"),
        "{stderr}"
    );

    let report: serde_json::Value =
        serde_json::from_str(&read(out.path().join("interrupt/report.json"))).unwrap();
    assert!(
        report["incomplete"]
            .as_str()
            .unwrap()
            .starts_with("interrupted"),
        "{report}"
    );
    let ids: Vec<&str> = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec!["a-ok", "hang"],
        "the running case finished (by its timeout); the next never started"
    );
}

#[test]
fn kill_9_then_resume_equals_an_uninterrupted_run() {
    let whole = tempfile::tempdir().unwrap();
    let o = crate::support::gauntlet(&[
        "eval",
        "tests/fixtures/valid/interrupt.yaml",
        "--out",
        whole.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", crate::support::stderr(&o));

    let out = tempfile::tempdir().unwrap();
    let out_s = out.path().to_str().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args([
            "eval",
            "tests/fixtures/valid/interrupt.yaml",
            "--out",
            out_s,
        ])
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let journal = out.path().join("interrupt/journal.jsonl");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::read_to_string(&journal).map_or(0, |j| j.lines().count()) < 2 {
        assert!(Instant::now() < deadline, "the first case never finished");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL: no handler runs, nothing is flushed but the journal.
    child.wait().unwrap();
    assert!(
        !out.path().join("interrupt/report.json").exists(),
        "killed before any report"
    );

    let o = crate::support::gauntlet(&[
        "eval",
        "tests/fixtures/valid/interrupt.yaml",
        "--out",
        out_s,
        "--resume",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", crate::support::stderr(&o));
    assert!(crate::support::stderr(&o).contains("resuming: 1 finished runs"));
    assert!(
        read(out.path().join("interrupt/report.json"))
            == read(whole.path().join("interrupt/report.json")),
        "resumed report equals the uninterrupted one"
    );
}
