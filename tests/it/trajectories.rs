//! Trajectories leave memory once journalled and are read back from the journal for
//! `trajectories.jsonl` and `index.html`: each must still land on its own case, the
//! representative run of a repeated case included, and a resumed run must write the same files.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::{gauntlet, read, root, stderr};

const SUITE: &str = "suites/support.yaml";

fn lines(path: impl AsRef<Path>) -> Vec<Value> {
    read(path)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Latencies are the one thing that differs between identical runs.
fn without_latencies(mut v: Value) -> Value {
    match &mut v {
        Value::Object(map) => {
            map.remove("latency_ms");
            for x in map.values_mut() {
                *x = without_latencies(x.take());
            }
        }
        Value::Array(items) => {
            for x in items {
                *x = without_latencies(x.take());
            }
        }
        _ => {}
    }
    v
}

fn strip(path: impl AsRef<Path>) -> Vec<Value> {
    lines(path).into_iter().map(without_latencies).collect()
}

/// Every `trajectories.jsonl` line belongs to the report case at the same position and holds
/// a run of that case from the journal (with steps, when the target records `steps`).
fn assert_trajectories_match(dir: &Path, steps: bool) {
    let report: Value = serde_json::from_str(&read(dir.join("report.json"))).unwrap();
    let cases = report["cases"].as_array().unwrap();
    let lines = lines(dir.join("trajectories.jsonl"));
    let journal = lines_after_header(dir.join("journal.jsonl"));
    assert_eq!(lines.len(), cases.len());
    for (line, case) in lines.iter().zip(cases) {
        let id = &case["id"];
        assert_eq!(&line["id"], id);
        assert_eq!(line["status"], case["status"], "{id}");
        let t = &line["trajectory"];
        assert_eq!(
            t["output"], case["output"],
            "{id}: another run's trajectory"
        );
        if steps {
            assert!(
                !t["steps"].as_array().unwrap().is_empty(),
                "{id}: steps lost"
            );
        }
        assert!(
            journal
                .iter()
                .any(|e| &e["result"]["id"] == id && &e["trajectory"] == t),
            "{id}: not a journalled run"
        );
    }
}

fn lines_after_header(path: impl AsRef<Path>) -> Vec<Value> {
    lines(path).into_iter().skip(1).collect()
}

#[test]
fn repeated_and_resumed_runs_write_each_cases_own_trajectory() {
    let out = tempfile::tempdir().unwrap();
    let out_s = out.path().to_str().unwrap();
    let dir = out.path().join("support");
    let full = gauntlet(&["eval", SUITE, "--out", out_s, "--repeat", "2", "-j", "5"]);
    assert_eq!(full.status.code(), Some(0), "{}", stderr(&full));
    assert_trajectories_match(&dir, true);
    let trajectories = strip(dir.join("trajectories.jsonl"));
    let html = read(dir.join("index.html"));
    assert!(html.contains("<div class=\"step tool\"><b>tool</b> lookup_order"));

    // Killed after 13 runs: the resumed run reads those back from the old journal.
    let journal = read(dir.join("journal.jsonl"));
    let kept: Vec<&str> = journal.lines().take(1 + 13).collect();
    std::fs::write(dir.join("journal.jsonl"), kept.join("\n") + "\n").unwrap();
    let resumed = gauntlet(&[
        "eval", SUITE, "--out", out_s, "--repeat", "2", "--resume", "-j", "3",
    ]);
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    assert!(stderr(&resumed).contains("resuming: 13 finished runs"));
    assert_trajectories_match(&dir, true);
    assert_eq!(strip(dir.join("trajectories.jsonl")), trajectories);
    assert_eq!(read(dir.join("index.html")), html);
}

#[test]
fn a_repeated_case_shows_the_trajectory_of_its_representative_run() {
    // Seed 1: the flaky case answers ok, nope, nope, nope, nope, ok; the first failing run
    // (repeat 1) represents it, so its trajectory is not repeat 0's.
    let out = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(["eval", "tests/fixtures/valid/flaky.yaml", "--out"])
        .arg(out.path())
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("FLAKY_SEED", "1")
        .env("FLAKY_BREAK", "0")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let dir = out.path().join("flaky");
    // A command agent reports no steps, only its output.
    assert_trajectories_match(&dir, false);
    let flaky = lines(dir.join("trajectories.jsonl"))
        .into_iter()
        .find(|l| l["id"] == "flaky")
        .unwrap();
    assert_eq!(flaky["status"], "flaky");
    assert_eq!(
        flaky["trajectory"]["output"], "nope",
        "repeat 1's, not repeat 0's"
    );
}
