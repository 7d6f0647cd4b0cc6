//! Getting started and living in a shell: `init` → `eval` passes at once (harness and command
//! targets), `completions` for bash, zsh and fish, `list --format json`, `-q` and `--color`.

use std::process::Command;

use super::support::{gauntlet, missing_external, read, root, stderr, stdout};

fn path(p: &std::path::Path) -> &str {
    p.to_str().expect("a UTF-8 temp path")
}

#[test]
fn init_then_eval_passes_on_the_mock_model() {
    let dir = tempfile::tempdir().expect("temp dir");
    let project = dir.path().join("evals");
    let out = gauntlet(&["init", path(&project)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("next: gauntlet eval"),
        "{}",
        stdout(&out)
    );
    let suite = project.join("suites/smoke.yaml");
    let reports = dir.path().join("reports");
    let out = gauntlet(&["eval", path(&suite), "--out", path(&reports)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let report: serde_json::Value =
        serde_json::from_str(&read(reports.join("smoke/report.json"))).expect("JSON");
    assert_eq!(report["summary"]["passed"], 2, "{report}");
    // The tool case really called the tool: the scaffold shows a trajectory check that bites.
    let weather = &report["cases"][1];
    assert_eq!(weather["id"], "weather-paris");
    assert_eq!(weather["tools"], serde_json::json!(["get_weather"]));

    // Its files validate against the schemas they point at, and nothing is overwritten.
    let out = gauntlet(&["init", path(&project)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("would overwrite"), "{}", stderr(&out));
    let first = read(&suite).lines().next().unwrap_or_default().to_string();
    assert_eq!(first, "# yaml-language-server: $schema=schema/suite.json");
    assert_eq!(
        read(project.join("suites/schema/suite.json")),
        read(root().join("docs/schema/suite.json"))
    );
}

#[test]
fn init_with_a_command_wraps_the_users_agent() {
    let python = root().join(".venv/bin/python");
    let python = if python.exists() {
        python
    } else if Command::new("python3").arg("-V").output().is_ok() {
        "python3".into()
    } else {
        return missing_external("python3", "install python3");
    };
    let dir = tempfile::tempdir().expect("temp dir");
    // The user's agent: the JSON protocol on stdin/stdout, in the folder init runs for.
    std::fs::write(
        dir.path().join("agent.py"),
        "import json, sys\ncase = json.load(sys.stdin)\nprint(json.dumps({\"output\": \"you said: \" + str(case[\"input\"])}))\n",
    )
    .expect("write");
    let out = gauntlet(&[
        "init",
        path(dir.path()),
        "--name",
        "mine",
        "--command",
        path(&python),
        "agent.py",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let suite = read(dir.path().join("suites/mine.yaml"));
    assert!(suite.contains("argv: ["), "{suite}");
    let reports = dir.path().join("reports");
    let out = gauntlet(&[
        "eval",
        path(&dir.path().join("suites/mine.yaml")),
        "--out",
        path(&reports),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let report = read(reports.join("mine/report.json"));
    assert!(report.contains("you said: Hello!"), "{report}");

    let out = gauntlet(&["init", path(dir.path()), "--name", "../x"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn completions_print_a_script_each_shell_loads() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef gauntlet"),
        ("fish", "complete -c gauntlet"),
    ] {
        let out = gauntlet(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        assert!(script.contains(marker), "{shell}: {script}");
        for subcommand in ["eval", "schema", "init", "completions"] {
            assert!(script.contains(subcommand), "{shell} lacks {subcommand}");
        }
    }
    // bash parses the script it would source (`bash -n`: syntax only, nothing runs).
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("gauntlet.bash");
    std::fs::write(&file, stdout(&gauntlet(&["completions", "bash"]))).expect("write");
    match Command::new("bash").arg("-n").arg(&file).output() {
        Ok(out) => assert!(out.status.success(), "{}", stderr(&out)),
        Err(_) => missing_external("bash", "install bash"),
    }
    let out = gauntlet(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn list_as_json() {
    let out = gauntlet(&[
        "list",
        "suites/support.yaml",
        "--tag",
        "refund-policy",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let cases: Vec<serde_json::Value> = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert!(!cases.is_empty());
    for case in &cases {
        assert!(case["id"].is_string(), "{case}");
        assert!(
            case["tags"]
                .as_array()
                .expect("tags")
                .contains(&"refund-policy".into()),
            "{case}"
        );
        assert!(
            case["source"]
                .as_str()
                .expect("source")
                .contains("cases.jsonl:"),
            "{case}"
        );
    }
}

#[test]
fn quiet_prints_no_table_and_color_always_colours_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = gauntlet(&[
        "eval",
        "suites/support.yaml",
        "--filter",
        "refund-*",
        "-q",
        "--out",
        path(dir.path()),
    ]);
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "", "-q printed a table");
    assert!(dir.path().join("support/report.json").exists());

    // `support::gauntlet` sets NO_COLOR; `--color always` overrides it, `never` keeps it plain.
    let run = |color: &str| {
        stdout(&gauntlet(&[
            "eval",
            "suites/support.yaml",
            "--filter",
            "refund-*",
            "--color",
            color,
            "--out",
            path(dir.path()),
        ]))
    };
    assert!(run("always").contains("\u{1b}["), "no colour");
    assert!(!run("never").contains("\u{1b}["), "colour");
}

#[test]
fn verbose_logs_and_quiet_and_verbose_conflict() {
    let dir = tempfile::tempdir().expect("temp dir");
    let eval = |flags: &[&str]| {
        let mut args = vec!["eval", "suites/support.yaml", "--filter", "refund-late"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["--out", path(dir.path())]);
        stderr(&gauntlet(&args))
    };
    assert!(
        eval(&["-vv"]).contains("mock rule matched"),
        "-vv logs debug events"
    );
    assert!(
        !eval(&["-v"]).contains("mock rule matched"),
        "-v is info only"
    );
    assert!(!eval(&[]).contains("mock rule matched"));
    let out = gauntlet(&["-q", "-v", "validate", "suites/support.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot be used with"),
        "{}",
        stderr(&out)
    );
}
