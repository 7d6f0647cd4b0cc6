//! A suite whose gate fails: every verdict kind, exit 1, and nothing lost from the reports.

use crate::support::{eval_into, read, stderr, stdout};

const SUITE: &str = "tests/fixtures/valid/gate_fail.yaml";

#[test]
fn failing_gate_exits_1_and_reports_every_case() {
    let (o, out) = eval_into(SUITE, &["-j", "3"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "stdout:\n{}\nstderr:\n{}",
        stdout(&o),
        stderr(&o)
    );
    let text = stdout(&o);
    assert!(text.contains("gate: FAILED"), "{text}");
    assert!(text.contains("critical: order-7-wrong"), "{text}");

    let dir = out.path().join("gate-fail");
    let report: serde_json::Value = serde_json::from_str(&read(dir.join("report.json"))).unwrap();
    let status = |id: &str| -> String {
        report["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .map(|c| c["status"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("case {id} in the report"))
    };
    assert_eq!(
        status("greet"),
        "soft_failed",
        "the judge's last SCORE line (2 of 5) lies between the thresholds"
    );
    assert_eq!(status("order-7"), "passed");
    assert_eq!(status("order-7-wrong"), "failed");
    assert_eq!(
        status("unmatched"),
        "errored",
        "a provider error is `errored`, not `failed`"
    );
    assert_eq!(report["gate"]["passed"], false);
    assert_eq!(
        report["gate"]["critical_failures"],
        serde_json::json!(["order-7-wrong"])
    );

    let unmatched = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "unmatched")
        .unwrap();
    assert!(
        unmatched["error"]
            .as_str()
            .unwrap()
            .contains("no mock rule"),
        "{unmatched}"
    );

    let junit = read(dir.join("junit.xml"));
    assert_eq!(junit.matches("<testcase").count(), 4);
    assert_eq!(
        junit.matches("<failure").count(),
        1,
        "only the hard fail is a failure: {junit}"
    );
    assert_eq!(junit.matches("<error").count(), 1, "{junit}");
}

#[test]
fn a_case_selection_that_avoids_the_failures_passes() {
    let (o, _out) = eval_into(SUITE, &["--filter", "order-7"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn inside_github_actions_failures_become_annotations_and_the_summary_is_appended() {
    let dir = tempfile::tempdir().unwrap();
    let step_summary = dir.path().join("step_summary.md");
    std::fs::write(&step_summary, "earlier step\n").unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(["eval", SUITE, "--out", dir.path().to_str().unwrap()])
        .current_dir(crate::support::root())
        .env("NO_COLOR", "1")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &step_summary)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o);
    assert!(
        text.contains("::error title=gauntlet gate-fail/order-7-wrong failed::contains"),
        "{text}"
    );
    assert!(
        text.contains("::error title=gauntlet gate-fail/unmatched errored::"),
        "{text}"
    );
    let summary = read(&step_summary);
    assert!(
        summary.starts_with("earlier step\n## ❌ gate-fail: gate failed"),
        "{summary}"
    );
}
