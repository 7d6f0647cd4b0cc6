//! `command` checks: a user program (argv, no shell, run in the suite's folder) reads
//! `{case, output, trajectory, state}` as JSON on stdin and answers `{"pass": bool,
//! "score": 0..1?, "reason": "..."?}` on stdout. A crash, a non-zero exit, garbage or a timeout
//! is an `error` verdict, never a pass.

use std::time::Duration;

use serde::Deserialize;

use crate::check::case::CaseFacts;
use crate::check::eval::errored_run;
use crate::check::expr::check_context;
use crate::check::family::command::CommandCheck;
use crate::check::spec::{Check, CheckSpec};
use crate::process::{resolve_program, Program, RunError};
use crate::text::one_line;
use crate::trajectory::{EndReason, Trajectory};
use crate::verdict::{Outcome, Verdict};

/// Default time a check program may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Answer {
    pass: bool,
    #[serde(default)]
    score: Option<f64>,
    #[serde(default)]
    reason: Option<String>,
}

/// Runs a `command` check; other checks are not handled here.
pub async fn grade(spec: &CheckSpec, case: &dyn CaseFacts, trajectory: &Trajectory) -> Verdict {
    let (outcome, score, reason) = match &spec.check {
        Check::Command(check) => {
            if trajectory.end == EndReason::Error {
                errored_run(trajectory)
            } else {
                run(check, case, trajectory).await
            }
        }
        _ => (Outcome::Skipped, None, "not a command check".into()),
    };
    Verdict {
        check: spec.name.clone(),
        outcome,
        score,
        weight: spec.weight,
        reason,
    }
    .with_severity(spec.severity)
}

async fn run(
    check: &CommandCheck,
    case: &dyn CaseFacts,
    trajectory: &Trajectory,
) -> (Outcome, Option<f64>, String) {
    let CommandCheck {
        argv,
        dir,
        timeout,
        limits,
        pass_env,
    } = check;
    let (timeout, limits) = (*timeout, *limits);
    let err = |m: String| (Outcome::Error, None, m);
    let Some((program, args)) = argv.split_first() else {
        return err("empty command".into());
    };
    // A program given as a relative path (`checks/x.py`) is relative to the suite's folder;
    // a bare name (`python3`) is looked up on PATH.
    let path = match resolve_program(program, dir) {
        Ok(p) => p,
        Err(e) => return err(format!("cannot start `{program}`: {e}")),
    };
    let command = Program {
        path,
        args: args.to_vec(),
        cwd: dir.to_path_buf(),
        env: Default::default(),
        pass_env: pass_env.clone(),
    };
    let input = check_context(case, trajectory).to_string();
    let output = match command.run(input.as_bytes(), limits, Some(timeout)).await {
        Ok(o) => o,
        Err(RunError::Spawn(e)) => return err(format!("cannot start `{program}`: {e}")),
        Err(e) => return err(format!("`{program}` {e}")),
    };
    if !output.status.success() {
        return err(format!(
            "`{program}` exited with {}: {}",
            output.status,
            one_line(&output.stderr, 160)
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let answer: Answer = match serde_json::from_str(stdout.trim()) {
        Ok(a) => a,
        Err(e) => {
            return err(format!(
                "`{program}` did not answer {{\"pass\", \"score\", \"reason\"}} ({e}): {}",
                one_line(&stdout, 120)
            ))
        }
    };
    if let Some(s) = answer
        .score
        .filter(|s| !(0.0..=1.0).contains(s) || s.is_nan())
    {
        return err(format!("`{program}` answered score {s}, outside 0..1"));
    }
    let score = answer.score.unwrap_or(if answer.pass { 1.0 } else { 0.0 });
    let outcome = if answer.pass {
        Outcome::Pass
    } else {
        Outcome::Fail
    };
    let reason = answer
        .reason
        .map(|r| one_line(&r, 200))
        .unwrap_or_else(|| format!("`{program}` answered pass: {}", answer.pass));
    (outcome, Some(score), reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::OutputLimits;
    use crate::suite::model::Case;
    use crate::verdict::Severity;
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    fn spec(dir: &Path, argv: &[&str], timeout: Duration) -> CheckSpec {
        CheckSpec {
            check: Check::Command(CommandCheck {
                argv: argv.iter().map(|s| s.to_string()).collect(),
                dir: dir.to_path_buf(),
                timeout,
                limits: OutputLimits::default(),
                pass_env: Vec::new(),
            }),
            name: "command".into(),
            severity: Severity::Hard,
            weight: 1.0,
        }
    }

    fn case() -> Case {
        Case {
            source: "x".into(),
            ..Case::new("c", "hi")
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    fn script(dir: &Path, name: &str, body: &str) {
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn provider_keys_are_withheld_unless_passed() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        script(
            d,
            "key.sh",
            r#"cat >/dev/null; if [ -n "$GAUNTLET_CHECK_TEST_API_KEY" ]; then echo '{"pass": true}'; else echo '{"pass": false, "reason": "no key"}'; fi"#,
        );
        // A name of its own: no other test reads or sets it.
        std::env::set_var("GAUNTLET_CHECK_TEST_API_KEY", "sk-test");
        let rt = runtime();
        let t = Trajectory::default();
        let mut passed = spec(d, &["./key.sh"], Duration::from_secs(30));
        let withheld = rt.block_on(grade(&passed, &case(), &t));
        assert_eq!(withheld.outcome, Outcome::Fail, "{withheld:?}");
        if let Check::Command(c) = &mut passed.check {
            c.pass_env = vec!["GAUNTLET_CHECK_TEST_API_KEY".into()];
        }
        let seen = rt.block_on(grade(&passed, &case(), &t));
        assert_eq!(seen.outcome, Outcome::Pass, "{seen:?}");
    }

    #[test]
    fn answers_crashes_garbage_and_timeouts() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // Passes when the output (from the JSON on stdin) mentions a refund.
        script(
            d,
            "refund.sh",
            r#"if grep -q '"output":"Refunded' ; then echo '{"pass": true, "score": 0.9, "reason": "refund confirmed"}'; else echo '{"pass": false}'; fi"#,
        );
        script(d, "crash.sh", "echo boom >&2; exit 3");
        script(d, "garbage.sh", "cat >/dev/null; echo 'SCORE: 10'");
        script(d, "slow.sh", "sleep 10");
        script(d, "far.sh", r#"echo '{"pass": true, "score": 7}'"#);
        let rt = runtime();
        let t = Trajectory {
            output: "Refunded 30.00".into(),
            ..Default::default()
        };
        let long = Duration::from_secs(30);
        let table: Vec<(&str, Duration, Outcome, &str)> = vec![
            ("./refund.sh", long, Outcome::Pass, "refund confirmed"),
            ("./crash.sh", long, Outcome::Error, "boom"),
            ("./garbage.sh", long, Outcome::Error, "did not answer"),
            (
                "./slow.sh",
                Duration::from_millis(100),
                Outcome::Error,
                "timed out",
            ),
            ("./far.sh", long, Outcome::Error, "outside 0..1"),
            ("./missing.sh", long, Outcome::Error, "cannot start"),
        ];
        for (prog, timeout, want, reason) in table {
            let v = rt.block_on(grade(&spec(d, &[prog], timeout), &case(), &t));
            assert_eq!(v.outcome, want, "{prog}: {v:?}");
            assert!(v.reason.contains(reason), "{prog}: {}", v.reason);
        }
        let no_refund = Trajectory {
            output: "Sorry".into(),
            ..Default::default()
        };
        let v = rt.block_on(grade(&spec(d, &["./refund.sh"], long), &case(), &no_refund));
        assert_eq!((v.outcome, v.score), (Outcome::Fail, Some(0.0)));
    }

    #[test]
    fn a_timed_out_check_leaves_no_grandchild() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        script(
            d,
            "fork.sh",
            "sleep 300 &\necho $! > grandchild.pid\nsleep 300",
        );
        let rt = runtime();
        let spec = spec(d, &["./fork.sh"], Duration::from_millis(300));
        let v = rt.block_on(grade(&spec, &case(), &Trajectory::default()));
        assert_eq!(v.outcome, Outcome::Error, "{v:?}");
        assert!(v.reason.contains("timed out"), "{}", v.reason);
        let pid = std::fs::read_to_string(d.join("grandchild.pid")).unwrap();
        assert!(
            !crate::process::is_running(&pid),
            "the grandchild {pid} survived"
        );
    }
}
