//! A seeded flaky agent under `--repeat`: classified `flaky` with pass@k, and against a
//! baseline its noise is not a regression while a real break is.

use std::process::Command;

use crate::support::{case, read, root, stderr, stdout};

const SUITE: &str = "tests/fixtures/valid/flaky.yaml";

fn eval(out: &std::path::Path, seed: &str, broken: bool, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(["eval", SUITE, "--out", out.to_str().unwrap()])
        .args(extra)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("FLAKY_SEED", seed)
        .env("FLAKY_BREAK", if broken { "1" } else { "0" })
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap()
}

#[test]
fn flaky_noise_is_not_a_regression_but_a_real_break_is() {
    let dir = tempfile::tempdir().unwrap();
    let base_out = dir.path().join("base");
    let o = eval(&base_out, "7", false, &["--update-baseline"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let base: serde_json::Value =
        serde_json::from_str(&read(base_out.join("flaky/report.json"))).unwrap();
    let flaky = case(&base, "flaky");
    assert_eq!(flaky["status"], "flaky");
    assert_eq!(flaky["repeats"]["passes"], 4, "seed 7 passes 4 of 6");
    // n = 6, c = 4: pass@2 = 1 − C(2,2)/C(6,2) = 14/15, pass^2 = C(4,2)/C(6,2) = 6/15.
    assert_eq!(flaky["repeats"]["pass_at_k"]["2"], 0.9333);
    assert_eq!(flaky["repeats"]["pass_pow_k"]["2"], 0.4);
    assert_eq!(case(&base, "stable")["status"], "passed");

    // Another seed: the flaky case passes 2 of 6 (noise, p ≈ 0.28); the broken one 0 of 6.
    let baseline = base_out.join("baseline/flaky.json");
    let now_out = dir.path().join("now");
    let o = eval(
        &now_out,
        "8",
        true,
        &["--baseline", baseline.to_str().unwrap()],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "the real regression fails the gate: {}",
        stdout(&o)
    );
    let now: serde_json::Value =
        serde_json::from_str(&read(now_out.join("flaky/report.json"))).unwrap();
    assert_eq!(case(&now, "flaky")["repeats"]["passes"], 2);
    let regressed: Vec<&str> = now["baseline"]["regressions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        regressed,
        vec!["regress"],
        "flaky 4/6 → 2/6 is noise; 6/6 → 0/6 is not"
    );
}

#[test]
fn min_pass_sets_when_a_repeated_case_passes() {
    let dir = tempfile::tempdir().unwrap();
    let run = |seed: &str| -> serde_json::Value {
        let out = dir.path().join(seed);
        let o = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
            .args([
                "eval",
                "tests/fixtures/valid/flaky_tolerant.yaml",
                "--out",
                out.to_str().unwrap(),
            ])
            .current_dir(root())
            .env("FLAKY_SEED", seed)
            .env_remove("FLAKY_BREAK")
            .output()
            .unwrap();
        assert!(o.status.code().is_some(), "{}", stderr(&o));
        serde_json::from_str(&read(out.join("flaky-tolerant/report.json"))).unwrap()
    };
    assert_eq!(
        case(&run("7"), "flaky")["status"],
        "passed",
        "4 of 6 meets min_pass 4/6"
    );
    assert_eq!(
        case(&run("8"), "flaky")["status"],
        "flaky",
        "2 of 6 does not"
    );
}
