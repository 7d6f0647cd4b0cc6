//! `command` checks: a user program that grades (see `check::command` for how it is run):
//! shape, validation, and the async entry the runner calls.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::check::case::CaseFacts;
use crate::check::parse::{describe, string_list, unknown_keys, CheckEnv, CheckError};
use crate::check::registry::{Kind, Shape};
use crate::check::spec::CheckSpec;
use crate::check::trajectory_match::kind_of;
use crate::process::OutputLimits;
use crate::text::truncate;
use crate::trajectory::Trajectory;
use crate::verdict::Verdict;

pub(crate) const KINDS: &[Kind] = &[Kind {
    name: "command",
    shape: Shape::Any,
}];

/// A user program that grades; run by the runner, async.
#[derive(Debug, Clone)]
pub struct CommandCheck {
    pub argv: Vec<String>,
    /// The suite's folder: the working directory, and the base of a relative program.
    pub dir: PathBuf,
    pub timeout: Duration,
    /// Bounds on what is read of its stdout and stderr (`run.limits`).
    pub limits: OutputLimits,
    /// Provider keys (`*_API_KEY`) the program may see; all others are withheld, as from
    /// command agents and tools.
    pub pass_env: Vec<String>,
}

/// Runs the check's program on the trajectory. `spec` must hold a `command` check.
pub(crate) async fn grade(spec: &CheckSpec, case: &dyn CaseFacts, t: &Trajectory) -> Verdict {
    crate::check::command::grade(spec, case, t).await
}

/// Validates `command: value`; the check and its display name.
pub(crate) fn parse(
    _kind: &str,
    v: &Value,
    env: &CheckEnv,
    errs: &mut Vec<CheckError>,
) -> Option<(CommandCheck, String)> {
    parse_command(v, env, errs)
}

/// `[program, args...]` or `{argv: [...], timeout: 10s, pass_env: [NAME_API_KEY]}`.
fn parse_command(
    v: &Value,
    env: &CheckEnv,
    errs: &mut Vec<CheckError>,
) -> Option<(CommandCheck, String)> {
    let mut pass_env = Vec::new();
    let (argv_value, timeout) = match v {
        Value::Array(_) => (v.clone(), crate::check::command::DEFAULT_TIMEOUT),
        Value::Object(map) => {
            unknown_keys("command", map, &["argv", "timeout", "pass_env"], errs);
            if let Some(names) = map.get("pass_env").filter(|v| !v.is_null()) {
                pass_env = string_list("command", "pass_env", names, errs)?;
            }
            let timeout = match map.get("timeout") {
                None | Some(Value::Null) => crate::check::command::DEFAULT_TIMEOUT,
                Some(Value::String(t)) => match crate::duration::parse_duration(t) {
                    Ok(d) => d,
                    Err(e) => {
                        errs.push(
                            CheckError::new(format!("`command.timeout`: {e}")).needle("timeout"),
                        );
                        return None;
                    }
                },
                Some(other) => {
                    errs.push(
                        CheckError::new(format!(
                            "`command.timeout` must be a duration like `10s`, found {}",
                            kind_of(other)
                        ))
                        .needle("timeout"),
                    );
                    return None;
                }
            };
            (map.get("argv").cloned().unwrap_or(Value::Null), timeout)
        }
        other => {
            errs.push(
                CheckError::new(format!(
                    "`command` expects a list `[program, args...]` or a map `{{argv, timeout, pass_env}}`, found {}",
                    describe(other)
                ))
                .hint("no shell is involved: write each argument as its own list item")
                .needle("command"),
            );
            return None;
        }
    };
    let argv = string_list("command", "argv", &argv_value, errs)?;
    let name = format!("command {}", truncate(&argv.join(" "), 50));
    Some((
        CommandCheck {
            argv,
            dir: env.suite_dir.to_path_buf(),
            timeout,
            limits: (&env.limits).into(),
            pass_env,
        },
        name,
    ))
}
