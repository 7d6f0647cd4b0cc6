//! Helpers to run the binary and read what it wrote.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root: tests run the binary from here so paths in messages are relative.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `gauntlet ARGS` from the repository root, without colour or progress bar.
pub fn gauntlet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("GAUNTLET_LOG")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .expect("the gauntlet binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn read(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Runs `eval` of `suite` into a fresh temporary reports folder and returns (output, folder).
pub fn eval_into(suite: &str, extra: &[&str]) -> (Output, tempfile::TempDir) {
    let out = tempfile::tempdir().expect("temp dir");
    let out_str = out.path().to_str().expect("utf-8 temp path").to_string();
    let mut args = vec!["eval", suite, "--out", &out_str];
    args.extend_from_slice(extra);
    (gauntlet(&args), out)
}
