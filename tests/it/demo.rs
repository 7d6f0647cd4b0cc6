//! The offline demo, end to end: `gauntlet eval suites/support.yaml` on the bundled mock model.

use std::path::Path;

use crate::support::{eval_into, gauntlet, read, stderr, stdout, without_timings};

const SUITE: &str = "suites/support.yaml";
const REPORT_FILES: &[&str] = &[
    "report.json",
    "summary.md",
    "junit.xml",
    "results.csv",
    "trajectories.jsonl",
];

fn report_dir(out: &Path) -> std::path::PathBuf {
    out.join("support")
}

#[test]
fn demo_passes_the_gate_and_writes_every_report() {
    let (o, out) = eval_into(SUITE, &["-j", "4"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        stdout(&o),
        stderr(&o)
    );
    let dir = report_dir(out.path());
    for f in REPORT_FILES.iter().chain(["meta.json"].iter()) {
        assert!(dir.join(f).is_file(), "{f} was written");
    }
    let text = stdout(&o);
    assert!(text.contains("gate: PASSED"), "{text}");
    assert!(!text.contains('\x1b'), "NO_COLOR means no escape codes");

    // Every verdict kind shows up in the demo, as the README promises.
    let report: serde_json::Value = serde_json::from_str(&read(dir.join("report.json"))).unwrap();
    let statuses: Vec<&str> = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert!(statuses.len() >= 25, "at least 25 golden cases");
    for kind in ["passed", "soft_failed", "failed"] {
        assert!(
            statuses.contains(&kind),
            "a `{kind}` case in the demo: {statuses:?}"
        );
    }
    assert_eq!(report["version"], 1);
    let first_key = read(dir.join("report.json"));
    assert!(
        first_key.trim_start().starts_with("{\n  \"version\""),
        "version comes first"
    );
}

#[test]
fn report_json_is_identical_at_any_concurrency() {
    let (a, out_a) = eval_into(SUITE, &["-j", "1"]);
    let (b, out_b) = eval_into(SUITE, &["-j", "16"]);
    assert_eq!(a.status.code(), b.status.code());
    for f in REPORT_FILES.iter().filter(|f| **f != "trajectories.jsonl") {
        let x = read(report_dir(out_a.path()).join(f));
        let y = read(report_dir(out_b.path()).join(f));
        // Only junit.xml and results.csv hold wall-clock times (report.json and summary.md
        // none): the rest of their bytes must agree.
        assert!(
            without_timings(f, &x) == without_timings(f, &y),
            "{f} differs between -j1 and -j16"
        );
        if matches!(*f, "report.json" | "summary.md") {
            assert!(x == y, "{f} differs between -j1 and -j16");
        }
    }
}

#[test]
fn every_report_format_is_pinned() {
    let (o, out) = eval_into(SUITE, &["-j", "8"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let dir = report_dir(out.path());
    insta::assert_snapshot!("report.json", read(dir.join("report.json")));
    insta::assert_snapshot!("summary.md", read(dir.join("summary.md")));
    let junit = read(dir.join("junit.xml"));
    assert!(
        junit.contains(
            r#"<testcase name="kb-international-shipping" classname="support.kb" time=""#
        ),
        "{junit}"
    );
    insta::assert_snapshot!("junit.xml", without_timings("junit.xml", &junit));
    let csv = read(dir.join("results.csv"));
    assert!(
        csv.starts_with("id,")
            && csv
                .lines()
                .next()
                .unwrap()
                .ends_with(",cost_usd,latency_ms,duration_ms")
    );
    for row in csv.lines().skip(1) {
        let duration = row.rsplit(',').next().unwrap();
        assert!(
            duration.parse::<u64>().is_ok(),
            "every case was timed: {row}"
        );
    }
    insta::assert_snapshot!("results.csv", without_timings("results.csv", &csv));
    insta::with_settings!({filters => vec![(r#""latency_ms":\d+"#, r#""latency_ms":"<duration>""#)]}, {
        insta::assert_snapshot!("trajectories.jsonl", read(dir.join("trajectories.jsonl")));
    });
}

#[test]
fn validate_and_list_call_no_model() {
    let o = gauntlet(&["validate", SUITE]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("ok: suites/support.yaml"),
        "{}",
        stdout(&o)
    );

    let o = gauntlet(&["list", SUITE, "--tag", "refund-policy"]);
    assert_eq!(o.status.code(), Some(0));
    let lines: Vec<String> = stdout(&o).lines().map(String::from).collect();
    assert!(!lines.is_empty());
    assert!(
        lines.iter().all(|l| l.contains("refund-policy")),
        "{lines:?}"
    );
}

#[test]
fn filter_runs_only_matching_cases() {
    let all = stdout(&gauntlet(&["list", SUITE]));
    let first_id = all
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let (o, out) = eval_into(SUITE, &["--filter", &first_id]);
    assert!(
        matches!(o.status.code(), Some(0) | Some(1)),
        "{}",
        stderr(&o)
    );
    let report: serde_json::Value =
        serde_json::from_str(&read(report_dir(out.path()).join("report.json"))).unwrap();
    let ids: Vec<&str> = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![first_id.as_str()]);
}

#[test]
fn shards_partition_the_cases() {
    let all: Vec<String> = stdout(&gauntlet(&["list", SUITE]))
        .lines()
        .map(String::from)
        .collect();
    let mut union = Vec::new();
    for k in 1..=3 {
        let o = gauntlet(&["list", SUITE, "--shard", &format!("{k}/3")]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        union.extend(stdout(&o).lines().map(String::from));
    }
    union.sort();
    let mut sorted_all = all.clone();
    sorted_all.sort();
    assert_eq!(union, sorted_all, "every case in exactly one shard");
    assert_eq!(
        gauntlet(&["list", SUITE, "--shard", "4/3"]).status.code(),
        Some(2)
    );
}

#[test]
fn repeats_report_pass_at_k_and_stay_deterministic() {
    let (a, out_a) = eval_into(SUITE, &["--repeat", "3", "-j", "1"]);
    let (b, out_b) = eval_into(SUITE, &["--repeat", "3", "-j", "12"]);
    assert_eq!(a.status.code(), Some(0), "{}", stderr(&a));
    assert_eq!(b.status.code(), Some(0));
    let x = read(report_dir(out_a.path()).join("report.json"));
    assert!(
        x == read(report_dir(out_b.path()).join("report.json")),
        "repeated runs reduce the same at any concurrency"
    );
    let report: serde_json::Value = serde_json::from_str(&x).unwrap();
    let failed = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["status"] == "failed")
        .unwrap();
    assert_eq!(failed["repeats"]["runs"], 3);
    assert_eq!(failed["repeats"]["passes"], 0);
    assert_eq!(failed["repeats"]["pass_at_k"]["3"], 0.0);
    let passed = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["status"] == "passed")
        .unwrap();
    assert_eq!(passed["repeats"]["pass_pow_k"]["3"], 1.0);
}

#[test]
fn dry_run_prints_the_plan_and_a_cost_and_runs_nothing() {
    let (o, out) = eval_into(SUITE, &["--dry-run", "--repeat", "2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("32 cases × 2 repeats = 64 runs"), "{text}");
    assert!(
        text.contains("estimated cost: unknown, no price for mock:support"),
        "{text}"
    );
    assert!(
        !report_dir(out.path()).exists(),
        "nothing was run or written"
    );

    // A priced model gets a cost range, and a dry run needs no API key.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args([
            "eval",
            SUITE,
            "--dry-run",
            "--model",
            "openai:gpt-4o-mini",
            "--judge-model",
            "openai:gpt-4o-mini",
        ])
        .current_dir(crate::support::root())
        .env_remove("OPENAI_API_KEY")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("estimated cost: $"), "{}", stdout(&o));
}
