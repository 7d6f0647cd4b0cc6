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

/// The side-by-side page: `gauntlet diff --html` and `eval --baseline` write it, each changed
/// case with both runs' trajectories and the tool-sequence diff; it renders in headless
/// Chromium; a baseline copied without its trajectories.jsonl is said so on the page.
#[test]
fn the_side_by_side_page_renders_in_chromium() {
    let (o, out) = eval_into(SUITE, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let current = out.path().join("support/report.json");
    let old_dir = out.path().join("old");
    std::fs::create_dir(&old_dir).unwrap();
    let old = old_dir.join("report.json");
    std::fs::write(&old, baseline_with_a_pass_that_now_fails(&read(&current))).unwrap();
    std::fs::copy(
        out.path().join("support/trajectories.jsonl"),
        old_dir.join("trajectories.jsonl"),
    )
    .unwrap();

    let page = out.path().join("diff.html");
    let d = gauntlet(&[
        "diff",
        old.to_str().unwrap(),
        current.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
    ]);
    assert_eq!(d.status.code(), Some(1), "{}", stderr(&d));
    let html = read(&page);
    let case = &html[html
        .find("id=\"case-kb-international-shipping\"")
        .unwrap_or_else(|| panic!("the regression is on the page: {html}"))..];
    let case = &case[..case.find("</section>").unwrap()];
    assert_eq!(case.matches("<div class=\"side\">").count(), 2, "{case}");
    assert_eq!(
        case.matches("<div class=\"step user\">").count(),
        2,
        "both trajectories: {case}"
    );
    assert!(
        case.contains("<div class=\"del\">- lookup_order</div>"),
        "{case}"
    );
    assert!(
        case.contains("<div class=\"add\">+ search_kb</div>"),
        "{case}"
    );
    assert!(!html.contains("not available"), "{html}");
    assert_eq!(
        html.matches("<section class=\"case\"").count(),
        1,
        "only the changed case: {html}"
    );

    // eval --baseline writes it beside the reports; the same page, "this run" on the right.
    let (o, out2) = eval_into(SUITE, &["--baseline", old.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let beside = out2.path().join("support/diff.html");
    let html = read(&beside);
    assert!(html.contains("<h3>this run</h3>"), "{html}");
    assert!(html.contains("id=\"case-kb-international-shipping\""));
    assert!(!html.contains("not available"), "{html}");
    // A run without a baseline into the same folder leaves no stale page behind.
    let again = gauntlet(&["eval", SUITE, "--out", out2.path().to_str().unwrap(), "-q"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(!beside.exists(), "the earlier run's diff.html is gone");

    // Without the baseline's trajectories.jsonl the page says so and still shows this run's.
    let full = out.path().join("full.html");
    std::fs::copy(&page, &full).unwrap();
    std::fs::remove_file(old_dir.join("trajectories.jsonl")).unwrap();
    let d = gauntlet(&[
        "diff",
        old.to_str().unwrap(),
        current.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
    ]);
    assert_eq!(d.status.code(), Some(1));
    let html = read(&page);
    assert!(
        html.contains("are not available") && html.contains("trajectories.jsonl"),
        "{html}"
    );

    let Some(chrome) = crate::html::chromium() else {
        return;
    };
    let png = crate::html::screenshot(&chrome, &full, "1400,1600");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
    let dom = |p: &std::path::Path| {
        String::from_utf8_lossy(&crate::html::headless(&chrome, p, &["--dump-dom"]).stdout)
            .into_owned()
    };
    let full = dom(&full);
    assert!(full.contains("kb-international-shipping"), "{full}");
    assert!(full.contains("+ search_kb"), "{full}");
    assert_eq!(full.matches("class=\"step user\"").count(), 2, "{full}");
    let missing = dom(&page);
    assert!(missing.contains("are not available"), "{missing}");
}
