//! Output sized for CI: the terminal summary fits `COLUMNS`, an agent's crash is one line with
//! the end of its stderr, and `GAUNTLET_LOG` writes no colour into a pipe.

use std::process::{Command, Output};

use crate::support::{root, stdout};

/// `gauntlet ARGS` with extra environment, as `support::gauntlet` runs it otherwise.
fn gauntlet_with(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gauntlet"));
    cmd.args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .env_remove("GAUNTLET_LOG")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the gauntlet binary runs")
}

fn widest(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

#[test]
fn columns_80_fits_the_demo_summary_in_80_columns() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let args = ["eval", "suites/support.yaml", "--out", dir];
    let wide = gauntlet_with(&args, &[]);
    assert_eq!(wide.status.code(), Some(0), "{}", stdout(&wide));
    assert!(
        widest(&stdout(&wide)) > 80,
        "a pipe has no width: nothing is wrapped"
    );
    let narrow = gauntlet_with(&args, &[("COLUMNS", "80")]);
    assert_eq!(narrow.status.code(), Some(0));
    let text = stdout(&narrow);
    assert!(widest(&text) <= 80, "{text}");
    assert!(text.contains("gate: PASSED"), "{text}");
}

#[test]
fn a_crashing_agent_is_one_line_ending_in_its_stderr_in_80_columns() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("crash.yaml");
    // A crash with a long traceback: the message that explains it is at the end.
    let script =
        "for i in $(seq 1 30); do echo \"  File agent.py, line $i, in step_$i\" >&2; done; \
                  echo 'KeyError: OPENAI_API_KEY' >&2; exit 3";
    std::fs::write(
        dir.path().join("cases.yaml"),
        "- id: crashes\n  input: hi\n  checks: [{contains: a}, {contains: b}, {contains: c}]\n",
    )
    .unwrap();
    std::fs::write(
        &suite,
        format!(
            "name: crash\ndataset: cases.yaml\ntarget:\n  command:\n    argv: [sh, -c, {script:?}]\n\
             gate: {{max_error_rate: null}}\n"
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = gauntlet_with(
        &[
            "eval",
            suite.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &[("COLUMNS", "80")],
    );
    let text = stdout(&o);
    assert!(widest(&text) <= 80, "{text}");
    assert!(
        text.contains("agent: "),
        "{text}{}",
        crate::support::stderr(&o)
    );
    // The end of the stderr, not its first characters; said once, not once per check.
    let joined = text.replace(['│', '┆'], " ");
    let joined = joined.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(joined.contains("KeyError: OPENAI_API_KEY"), "{text}");
    assert_eq!(joined.matches("KeyError").count(), 1, "{text}");
    assert!(!joined.contains("contains \"a\""), "{text}");
}

#[test]
fn gauntlet_log_writes_no_colour_into_a_pipe() {
    let out = tempfile::tempdir().unwrap();
    let o = gauntlet_with(
        &[
            "eval",
            "suites/support.yaml",
            "--out",
            out.path().to_str().unwrap(),
            "--filter",
            "order-status-shipped",
        ],
        // NO_COLOR would hide the bug: colour must follow the stream, not only this variable.
        &[("GAUNTLET_LOG", "debug"), ("NO_COLOR", "")],
    );
    let err = crate::support::stderr(&o);
    assert!(err.contains("DEBUG"), "debug logs were written: {err}");
    assert!(!err.contains('\x1b'), "no escape codes in a pipe: {err}");
}
