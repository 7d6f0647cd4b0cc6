//! `--shard K/N` + `gauntlet merge`: four shards merged equal the unsharded run, byte for byte,
//! with and without a baseline.

use std::path::Path;

use crate::support::{gauntlet, read, stderr, stdout, without_timings};

const SUITE: &str = "suites/support.yaml";

fn eval(out: &Path, extra: &[&str]) -> Option<i32> {
    let mut args = vec!["eval", SUITE, "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = gauntlet(&args);
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    o.status.code()
}

/// Latencies are wall-clock: the only thing allowed to differ between the two runs.
fn without_latencies(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("\"latency_ms\":") {
        let (head, tail) = rest.split_at(i + "\"latency_ms\":".len());
        out.push_str(head);
        out.push('0');
        rest = tail.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out.push_str(rest);
    out
}

fn shards_then_merge(root: &Path, extra: &[&str]) -> (Option<i32>, std::path::PathBuf) {
    let mut reports = Vec::new();
    for k in 1..=4 {
        let dir = root.join(format!("shard{k}"));
        let shard = format!("{k}/4");
        let mut args = vec!["--shard", shard.as_str()];
        args.extend_from_slice(extra);
        eval(&dir, &args);
        reports.push(
            dir.join("support/report.json")
                .to_str()
                .unwrap()
                .to_string(),
        );
    }
    let merged = root.join("merged");
    let mut args = vec!["merge".to_string()];
    args.extend(reports);
    args.extend(["--out".to_string(), merged.to_str().unwrap().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = gauntlet(&args);
    assert!(stdout(&o).contains("gate:"), "{}{}", stdout(&o), stderr(&o));
    (o.status.code(), merged.join("support"))
}

#[test]
fn four_shards_merged_equal_the_unsharded_run() {
    let root = tempfile::tempdir().unwrap();
    let whole = root.path().join("whole");
    let code = eval(&whole, &[]);
    let (merged_code, merged) = shards_then_merge(root.path(), &[]);
    assert_eq!(merged_code, code);
    for f in ["report.json", "summary.md", "junit.xml", "results.csv"] {
        assert!(
            without_timings(f, &read(merged.join(f)))
                == without_timings(f, &read(whole.join("support").join(f))),
            "{f} differs"
        );
    }
    // The merged junit.xml still times its cases, by their agents' latencies.
    assert!(read(merged.join("junit.xml")).contains(" time=\""));
    assert_eq!(
        without_latencies(&read(merged.join("trajectories.jsonl"))),
        without_latencies(&read(whole.join("support/trajectories.jsonl")))
    );
}

#[test]
fn shards_with_a_baseline_merge_to_the_unsharded_comparison() {
    let root = tempfile::tempdir().unwrap();
    let whole = root.path().join("whole");
    assert_eq!(eval(&whole, &[]), Some(0));
    // A baseline in which every case passed: the demo's failing case is a regression.
    let mut base: serde_json::Value =
        serde_json::from_str(&read(whole.join("support/report.json"))).unwrap();
    for c in base["cases"].as_array_mut().unwrap() {
        c["status"] = "passed".into();
    }
    let base_file = root.path().join("base.json");
    std::fs::write(&base_file, serde_json::to_string(&base).unwrap()).unwrap();
    let b = base_file.to_str().unwrap();

    let with_base = root.path().join("with-base");
    let code = eval(&with_base, &["--baseline", b]);
    assert_eq!(code, Some(1));
    let (merged_code, merged) = shards_then_merge(root.path(), &["--baseline", b]);
    assert_eq!(merged_code, Some(1));
    let want = read(with_base.join("support/report.json"));
    assert!(want.contains("\"regressions\": ["), "{want}");
    assert!(
        read(merged.join("report.json")) == want,
        "merged comparison equals the unsharded one"
    );
}

#[test]
fn merging_overlapping_reports_is_refused() {
    let root = tempfile::tempdir().unwrap();
    assert_eq!(eval(root.path(), &[]), Some(0));
    let r = root.path().join("support/report.json");
    let o = gauntlet(&[
        "merge",
        r.to_str().unwrap(),
        r.to_str().unwrap(),
        "--out",
        root.path().join("m").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("is in reports 1 and 2"),
        "{}",
        stderr(&o)
    );
}
