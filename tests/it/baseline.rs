//! Baselines: `--update-baseline`, `--baseline` on eval, and `gauntlet diff`.

use crate::support::{eval_into, gauntlet, read, stderr, stdout};

const SUITE: &str = "suites/support.yaml";

/// A baseline in which the demo's failing case still passed: the current run regresses it.
fn baseline_with_a_pass_that_now_fails(report_json: &str) -> String {
    let mut report: serde_json::Value = serde_json::from_str(report_json).unwrap();
    let cases = report["cases"].as_array_mut().unwrap();
    let failed = cases
        .iter_mut()
        .find(|c| c["status"] == "failed")
        .expect("the demo has a failing case");
    failed["status"] = "passed".into();
    failed["tools"] = serde_json::json!(["lookup_order"]);
    serde_json::to_string_pretty(&report).unwrap()
}

#[test]
fn update_baseline_then_compare_against_it() {
    let (o, out) = eval_into(SUITE, &["--update-baseline"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let baseline = out.path().join("baseline/support.json");
    assert_eq!(
        read(&baseline),
        read(out.path().join("support/report.json"))
    );

    let (o, out2) = eval_into(SUITE, &["--baseline", baseline.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "same agent, no regression: {}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("vs baseline: pass rate 96.9% → 96.9% · 0 regressions"),
        "{}",
        stdout(&o)
    );
    let report: serde_json::Value =
        serde_json::from_str(&read(out2.path().join("support/report.json"))).unwrap();
    assert_eq!(report["baseline"]["regressions"], serde_json::json!([]));

    // A folder of `<suite>.json` baselines works the same.
    let folder = out.path().join("baseline");
    let (o, _) = eval_into(SUITE, &["--baseline", folder.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).contains("vs baseline: pass rate 96.9% → 96.9% · 0 regressions"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_regression_fails_the_gate_and_the_diff() {
    let (o, out) = eval_into(SUITE, &[]);
    assert_eq!(o.status.code(), Some(0));
    let current = out.path().join("support/report.json");
    let old = out.path().join("old.json");
    std::fs::write(&old, baseline_with_a_pass_that_now_fails(&read(&current))).unwrap();

    let (o, out2) = eval_into(SUITE, &["--baseline", old.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "a regression fails the gate: {}",
        stdout(&o)
    );
    let text = stdout(&o);
    assert!(
        text.contains("regressed kb-international-shipping: passed → failed"),
        "{text}"
    );
    assert!(text.contains("max_regressions"), "{text}");
    let summary = read(out2.path().join("support/summary.md"));
    assert!(summary.contains("### Baseline"), "{summary}");
    assert!(
        summary.contains("🔻 regressed | kb-international-shipping"),
        "{summary}"
    );

    let d = gauntlet(&["diff", old.to_str().unwrap(), current.to_str().unwrap()]);
    assert_eq!(d.status.code(), Some(1));
    assert!(
        stdout(&d).contains("tools     kb-international-shipping: lookup_order → search_kb"),
        "{}",
        stdout(&d)
    );
    let same = gauntlet(&["diff", current.to_str().unwrap(), current.to_str().unwrap()]);
    assert_eq!(same.status.code(), Some(0));
}

#[test]
fn a_baseline_of_another_suite_or_garbage_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("g.json");
    std::fs::write(&garbage, "{not json").unwrap();
    let o = gauntlet(&["eval", SUITE, "--baseline", garbage.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not a gauntlet report.json"),
        "{}",
        stderr(&o)
    );
    let o = gauntlet(&["diff", garbage.to_str().unwrap(), garbage.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
}
