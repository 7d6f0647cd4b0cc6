//! `action.yml` (the composite GitHub Action) and `examples/ci/github-actions.yml`, which uses it,
//! pass actionlint — run on a scratch repository where the workflow sits in
//! `.github/workflows/` and the action at its root, so actionlint also reads the action's
//! metadata and checks every `with:` key the workflow passes it — and each `run:` script of the
//! action is valid bash.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::support::{missing_external, read, root, stderr, stdout};

fn actionlint() -> Option<PathBuf> {
    let venv = root().join(".venv/bin/actionlint");
    if venv.exists() {
        return Some(venv);
    }
    let on_path = Command::new("actionlint").arg("-version").output();
    on_path.is_ok().then(|| PathBuf::from("actionlint"))
}

/// actionlint run in a scratch repository holding the action and `workflow` as its workflow.
fn lint(tool: &Path, workflow: &str) -> Output {
    let repo = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(repo.path().join(".git")).expect("mkdir");
    std::fs::create_dir_all(repo.path().join(".github/workflows")).expect("mkdir");
    std::fs::copy(root().join("action.yml"), repo.path().join("action.yml")).expect("copy");
    std::fs::write(repo.path().join(".github/workflows/eval.yml"), workflow).expect("write");
    Command::new(tool)
        .arg("-no-color")
        .current_dir(repo.path())
        .output()
        .expect("actionlint runs")
}

#[test]
fn the_example_workflow_and_the_action_pass_actionlint() {
    let Some(tool) = actionlint() else {
        return missing_external(
            "actionlint",
            "python3 -m venv .venv && .venv/bin/pip install -r .ci/requirements.txt",
        );
    };
    let workflow = read(root().join("examples/ci/github-actions.yml"));
    assert!(
        workflow.contains("uses: ./\n"),
        "the example uses the action"
    );
    let out = lint(&tool, &workflow);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));

    // The lint reaches the action: an input it does not declare is caught.
    let typo = workflow.replace("fail-on-gate:", "fail-on-gat:");
    assert_ne!(typo, workflow);
    let out = lint(&tool, &typo);
    assert!(!out.status.success());
    assert!(
        stdout(&out).contains(r#"input "fail-on-gat" is not defined"#),
        "{}",
        stdout(&out)
    );
}

#[test]
fn the_actions_scripts_are_valid_bash() {
    let action: serde_yaml::Value =
        serde_yaml::from_str(&read(root().join("action.yml"))).expect("action.yml is YAML");
    assert_eq!(action["runs"]["using"].as_str(), Some("composite"));
    let steps = action["runs"]["steps"].as_sequence().expect("steps");
    let scripts: Vec<&str> = steps.iter().filter_map(|s| s["run"].as_str()).collect();
    assert!(scripts.len() >= 3, "install, eval and gate steps");
    assert!(
        steps
            .iter()
            .any(|s| s["uses"].as_str() == Some("actions/upload-artifact@v6")),
        "the reports are uploaded"
    );
    for script in scripts {
        let out = match Command::new("bash").args(["-n", "-c", script]).output() {
            Ok(out) => out,
            Err(_) => return missing_external("bash", "install bash"),
        };
        assert!(out.status.success(), "{script}\n{}", stderr(&out));
    }
}

#[test]
fn the_gate_step_fails_the_job_as_documented() {
    let action: serde_yaml::Value =
        serde_yaml::from_str(&read(root().join("action.yml"))).expect("action.yml is YAML");
    let gate = action["runs"]["steps"]
        .as_sequence()
        .expect("steps")
        .iter()
        .find(|s| s["name"].as_str() == Some("Apply the gate"))
        .and_then(|s| s["run"].as_str())
        .expect("a gate step")
        .to_string();
    // (gauntlet's exit code, fail-on-gate) → the step's exit code.
    for (code, fail_on_gate, expected) in [
        ("0", "true", 0),
        ("1", "true", 1),
        ("1", "false", 0),
        ("2", "false", 2),
        ("3", "true", 3),
    ] {
        let out = match Command::new("bash")
            .args(["-e", "-c", &gate])
            .env("CODE", code)
            .env("FAIL_ON_GATE", fail_on_gate)
            .output()
        {
            Ok(out) => out,
            Err(_) => return missing_external("bash", "install bash"),
        };
        assert_eq!(
            out.status.code(),
            Some(expected),
            "exit {code}, fail-on-gate {fail_on_gate}: {}",
            stdout(&out)
        );
    }
}
