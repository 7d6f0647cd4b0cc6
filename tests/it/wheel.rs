//! The wheel as a user meets it: `pip install` into a fresh virtual environment puts `gauntlet`
//! on PATH, and that binary runs the demo suite. `.ci/run` builds the wheel (maturin, debug
//! profile) before the tests; `scripts/wheel.sh` does the same with a release build.

use std::path::PathBuf;
use std::process::Command;

use crate::support::{missing_external, root};

fn built_wheel() -> Option<PathBuf> {
    std::fs::read_dir(root().join("target/wheels"))
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("gauntlet_rs-") && n.ends_with(".whl"))
        })
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
}

#[test]
fn the_wheel_installs_into_a_fresh_venv_and_runs_the_demo() {
    let Some(wheel) = built_wheel() else {
        return missing_external(
            "target/wheels/gauntlet_rs-*.whl",
            ".ci/run builds it with maturin",
        );
    };
    let dir = tempfile::tempdir().unwrap();
    let venv = dir.path().join("venv");
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .expect("python3 runs");
    assert!(made.success());
    let pip = Command::new(venv.join("bin/pip"))
        .args(["install", "-q", "--disable-pip-version-check", "--no-index"])
        .arg(&wheel)
        .output()
        .expect("pip runs");
    assert!(
        pip.status.success(),
        "{}",
        String::from_utf8_lossy(&pip.stderr)
    );

    // Only the fresh environment on PATH: the gauntlet that runs is the one pip installed.
    let path = format!("{}:/usr/bin:/bin", venv.join("bin").display());
    let version = Command::new("gauntlet")
        .arg("--version")
        .env("PATH", &path)
        .output()
        .expect("gauntlet is on PATH");
    assert!(
        String::from_utf8_lossy(&version.stdout).contains(env!("CARGO_PKG_VERSION")),
        "{version:?}"
    );
    let eval = Command::new("gauntlet")
        .args(["eval", "suites/support.yaml", "--no-progress", "--out"])
        .arg(dir.path().join("reports"))
        .env("PATH", &path)
        .current_dir(root())
        .output()
        .expect("gauntlet runs");
    let stdout = String::from_utf8_lossy(&eval.stdout);
    assert_eq!(
        eval.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&eval.stderr)
    );
    assert!(stdout.contains("gate: PASSED"), "{stdout}");
    assert!(dir.path().join("reports/support/report.json").is_file());
}
