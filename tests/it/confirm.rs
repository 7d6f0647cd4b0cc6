//! `--confirm`, exact ties and errors against a baseline, on an external support agent with
//! known-bad variants and a regression-free noisy variant (tests/fixtures/agents/support_mutants.py).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::{read, root, stderr, stdout};

const SUITE: &str = "tests/fixtures/valid/mutants.yaml";

/// `gauntlet eval SUITE --out OUT ARGS` with the agent variant `mutant` (and a noise seed with
/// its state file in `out`).
fn eval(mutant: &str, seed: &str, out: &Path, args: &[&str]) -> (Output, Value) {
    let o = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args([
            "eval",
            SUITE,
            "--no-progress",
            "--out",
            out.to_str().unwrap(),
        ])
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_ACTIONS")
        .env("MUTANT", mutant)
        .env("MUTANT_SEED", seed)
        .env("NOISE_STATE", out.parent().unwrap().join("noise-state"))
        .output()
        .expect("gauntlet runs");
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    let report = serde_json::from_str(&read(out.join("mutants/report.json"))).unwrap();
    (o, report)
}

/// A baseline report of `mutant` at `--repeat runs`, in `dir/base`.
fn baseline(mutant: &str, seed: &str, dir: &Path, runs: &str) -> PathBuf {
    let out = dir.join("base");
    let (o, _) = eval(mutant, seed, &out, &["--repeat", runs]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    out.join("mutants/report.json")
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| {
            x.as_str()
                .map_or_else(|| x["id"].as_str().unwrap().to_string(), str::to_string)
        })
        .collect()
}

#[test]
fn every_mutant_is_caught_at_repeat_1_confirm_3_against_a_5_run_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let base = baseline("good", "1", dir.path(), "5");
    let base = base.to_str().unwrap();
    for (mutant, broken) in [
        (
            "skip_lookup",
            vec![
                "refund-1001",
                "refund-1002",
                "refund-processing",
                "refund-shipped",
                "status-1003",
            ],
        ),
        ("refund_policy", vec!["refund-processing", "refund-shipped"]),
        ("no_escalation", vec!["human", "lawyer"]),
        ("wrong_amount", vec!["refund-1001", "refund-1002"]),
    ] {
        let out = dir.path().join(mutant);
        let (o, r) = eval(
            mutant,
            "1",
            &out,
            &["--baseline", base, "--repeat", "1", "--confirm", "3"],
        );
        assert_eq!(o.status.code(), Some(1), "{mutant}: {}", stdout(&o));
        let b = &r["baseline"];
        assert_eq!(ids(&b["regressions"]), broken, "{mutant}");
        assert_eq!(ids(&b["confirmation"]["confirmed"]), broken, "{mutant}");
        assert_eq!(b["confirmation"]["runs"], 3 * broken.len(), "{mutant}");
        assert!(
            stdout(&o).contains(
                "power: 5-run baseline, --repeat 1 --confirm 3: a case must fall from 5/5 to 0/3"
            ),
            "{}",
            stdout(&o)
        );
    }
}

#[test]
fn the_noisy_agent_raises_no_alarm_once_confirmed() {
    // 20% of answers fail at random. Without --confirm, these seeds give single-run regressions
    // (a case that passed 5/5 fails once); with it, none survives its fresh runs.
    let mut screened = 0;
    for seed in ["t1", "t2", "t3"] {
        let dir = tempfile::tempdir().unwrap();
        let base = baseline("noisy", seed, dir.path(), "5");
        let out = dir.path().join("pr");
        let (o, r) = eval(
            "noisy",
            seed,
            &out,
            &["--baseline", base.to_str().unwrap(), "--confirm", "3"],
        );
        let b = &r["baseline"];
        assert_eq!(
            ids(&b["regressions"]),
            Vec::<String>::new(),
            "seed {seed}: {}",
            stdout(&o)
        );
        assert_eq!(o.status.code(), Some(0), "seed {seed}: {}", stdout(&o));
        let conf = &b["confirmation"];
        screened += conf["cases"].as_array().unwrap().len()
            + conf["unreachable"].as_array().map_or(0, Vec::len);
    }
    assert!(screened > 0, "the seeds must exercise screening failures");
}

#[test]
fn at_repeat_3_a_3_of_3_to_0_of_3_drop_regresses_and_the_interval_holds_the_change() {
    let dir = tempfile::tempdir().unwrap();
    let base = baseline("good", "1", dir.path(), "3");
    let out = dir.path().join("pr");
    let (o, r) = eval(
        "no_escalation",
        "1",
        &out,
        &["--baseline", base.to_str().unwrap(), "--repeat", "3"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let b = &r["baseline"];
    assert_eq!(
        ids(&b["regressions"]),
        vec!["human", "lawyer"],
        "p = 1/20 exactly is significant"
    );
    let change = &b["change"];
    assert_eq!(change["test"], "paired_t");
    assert_eq!(change["delta"], -0.25);
    let (lo, hi) = (
        change["ci"][0].as_f64().unwrap(),
        change["ci"][1].as_f64().unwrap(),
    );
    assert!(lo <= -0.25 && -0.25 <= hi, "{change}");
}

#[test]
fn an_always_crashing_agent_fails_the_default_gate_and_is_lost_against_a_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let (o, r) = eval("crash", "1", &dir.path().join("alone"), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let rule = r["gate"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["rule"] == "max_error_rate")
        .cloned()
        .unwrap();
    assert_eq!(
        (rule["limit"].as_f64(), rule["passed"].as_bool()),
        (Some(0.1), Some(false))
    );

    let base = baseline("good", "1", dir.path(), "1");
    let (o, r) = eval(
        "crash",
        "1",
        &dir.path().join("pr"),
        &["--baseline", base.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(r["baseline"]["lost"].as_array().unwrap().len(), 8);
    assert!(
        stdout(&o).contains("0 regressions, 8 lost"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn confirmed_reports_are_the_same_at_any_concurrency() {
    let dir = tempfile::tempdir().unwrap();
    let base = baseline("good", "1", dir.path(), "5");
    let mut reports = Vec::new();
    for j in ["1", "4"] {
        let out = dir.path().join(format!("j{j}"));
        let (_, _) = eval(
            "wrong_amount",
            "1",
            &out,
            &[
                "--baseline",
                base.to_str().unwrap(),
                "--confirm",
                "3",
                "-j",
                j,
            ],
        );
        reports.push(read(out.join("mutants/report.json")));
    }
    assert!(
        reports[0] == reports[1],
        "report.json differs between -j1 and -j4"
    );
}

#[test]
fn too_few_runs_warn_that_nothing_can_count() {
    let dir = tempfile::tempdir().unwrap();
    let base = baseline("good", "1", dir.path(), "2");
    let (o, r) = eval(
        "good",
        "1",
        &dir.path().join("pr"),
        &["--baseline", base.to_str().unwrap(), "--repeat", "2"],
    );
    assert!(
        stderr(&o).contains("no single case can reach significance"),
        "{}",
        stderr(&o)
    );
    assert!(r["baseline"]["power"].get("from").is_none());
}
