//! Harness engineering through the binary: custom tools, seeded faults, repairs, case and run
//! budgets, a simulated user (`tests/fixtures/harness/`).

use serde_json::Value;

use crate::support::{case, eval_into, read, stderr, stdout};

fn report(dir: &std::path::Path, suite: &str) -> Value {
    serde_json::from_str(&read(dir.join(suite).join("report.json"))).unwrap()
}

#[test]
fn harness_features_end_to_end_and_reproducibly() {
    let (o, out) = eval_into("tests/fixtures/harness/harness.yaml", &[]);
    let code = o.status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "stdout:\n{}\nstderr:\n{}",
        stdout(&o),
        stderr(&o)
    );
    let r = report(out.path(), "harness");
    assert!(r["incomplete"].is_null(), "{}", r["incomplete"]);
    // The command tool echoed its stdin.
    assert_eq!(
        case(&r, "b-echo")["status"],
        "passed",
        "{}",
        case(&r, "b-echo")
    );
    // Malformed calls past max_repairs end the case, scored by its checks.
    let broken = case(&r, "c-broken");
    assert_eq!(broken["end"], "max_repairs", "{broken}");
    // A looping case runs out of its token budget and escalates with its partial trajectory.
    let chatty = case(&r, "d-chatty");
    assert_eq!(chatty["end"], "escalated", "{chatty}");
    assert!(
        chatty["error"]
            .as_str()
            .unwrap()
            .contains("case budget exhausted"),
        "{chatty}"
    );
    // The simulated user asked again until it heard a temperature, then stopped.
    let sim = case(&r, "e-sim-user");
    assert_eq!(sim["status"], "passed", "{sim}");
    let traj = read(out.path().join("harness/trajectories.jsonl"));
    assert!(
        traj.contains("Please try again: weather in Paris"),
        "{traj}"
    );
    assert!(
        traj.contains("injected fault"),
        "the seeded fault fired somewhere"
    );
    assert!(
        traj.contains("\"cost_usd\""),
        "priced mock calls carry a cost"
    );

    // Same inputs, other concurrency: byte-identical report.json (faults included).
    let (_, again) = eval_into("tests/fixtures/harness/harness.yaml", &["-j", "1"]);
    assert_eq!(
        read(out.path().join("harness/report.json")),
        read(again.path().join("harness/report.json"))
    );
}

#[test]
fn run_budget_stops_scheduling_and_exits_3_with_a_partial_report() {
    let (o, out) = eval_into("tests/fixtures/harness/run_budget.yaml", &[]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "stdout:\n{}\nstderr:\n{}",
        stdout(&o),
        stderr(&o)
    );
    let r = report(out.path(), "run-budget");
    let why = r["incomplete"].as_str().unwrap();
    assert!(why.contains("run budget exhausted"), "{why}");
    // Concurrency 1: the first case finished, went over, and nothing else started.
    let ids: Vec<&str> = r["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["a-weather"]);
    assert_eq!(case(&r, "a-weather")["status"], "passed");
    for f in [
        "summary.md",
        "junit.xml",
        "results.csv",
        "trajectories.jsonl",
    ] {
        assert!(out.path().join("run-budget").join(f).is_file(), "{f}");
    }
    assert!(
        stdout(&o).contains("run budget exhausted"),
        "{}",
        stdout(&o)
    );
}
