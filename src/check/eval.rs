//! `evaluate`: the verdict of one deterministic check on one trajectory. Pure: no I/O, no
//! async, so batches can be scored on rayon. Judges are graded by `check::judge::grade`.

use serde_json::Value;

use crate::check::json_subset::{exact_mismatch, render, subset_mismatch, Mismatch};
use crate::check::spec::{
    ArgRules, Check, CheckSpec, EndStateSpec, Times, TrajectoryMode, ValueRef,
};
use crate::check::trajectory_match::{expected_calls, match_calls, ExpectedCall, TrajectoryMatch};
use crate::suite::Case;
use crate::text::{one_line, quote};
use crate::trajectory::{EndReason, Step, Trajectory};
use crate::verdict::{Outcome, Verdict};

/// How much of the output a reason quotes.
const EXCERPT: usize = 60;

/// Evaluates `spec` on `trajectory`. A trajectory that ended in error makes every check an
/// `error` (nothing to judge); a `judge` check is `skipped` here.
pub fn evaluate(spec: &CheckSpec, case: &Case, trajectory: &Trajectory) -> Verdict {
    let (outcome, score, reason) = if trajectory.end == EndReason::Error {
        errored_run(trajectory)
    } else {
        run(&spec.check, case, trajectory)
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

type Judged = (Outcome, Option<f64>, String);

/// The `error` verdict parts for a trajectory whose run failed.
pub(crate) fn errored_run(trajectory: &Trajectory) -> Judged {
    let why = trajectory
        .error
        .as_deref()
        .map(|e| one_line(e, 200))
        .unwrap_or_else(|| "the agent run failed".to_string());
    (Outcome::Error, None, why)
}

fn pass(reason: impl Into<String>) -> Judged {
    (Outcome::Pass, Some(1.0), reason.into())
}

fn fail(reason: impl Into<String>) -> Judged {
    (Outcome::Fail, Some(0.0), reason.into())
}

fn boolean(ok: bool, reason: impl Into<String>) -> Judged {
    if ok {
        pass(reason)
    } else {
        fail(reason)
    }
}

fn skipped(reason: impl Into<String>) -> Judged {
    (Outcome::Skipped, None, reason.into())
}

fn error(reason: impl Into<String>) -> Judged {
    (Outcome::Error, None, reason.into())
}

/// The expected value, or the reason it is missing from the case.
fn resolve(expected: &ValueRef, case: &Case) -> Result<Value, String> {
    match expected {
        ValueRef::Inline(v) => Ok(v.clone()),
        ValueRef::Case(path) => case
            .lookup(path)
            .ok_or_else(|| format!("case `{}` has no `{path}`", case.id)),
    }
}

fn run(check: &Check, case: &Case, t: &Trajectory) -> Judged {
    let output = t.output.as_str();
    match check {
        Check::Equals { expected } => match resolve(expected, case) {
            Ok(v) => equals(&v, output),
            Err(why) => skipped(why),
        },
        Check::Contains {
            values,
            all,
            ignore_case,
        } => {
            let found = present(values, output, *ignore_case);
            let missing: Vec<String> = values
                .iter()
                .zip(&found)
                .filter(|(_, f)| !**f)
                .map(|(v, _)| quote(v, 30))
                .collect();
            let ok = if *all {
                missing.is_empty()
            } else {
                found.contains(&true)
            };
            if ok {
                let hits: Vec<String> = values
                    .iter()
                    .zip(&found)
                    .filter(|(_, f)| **f)
                    .map(|(v, _)| quote(v, 30))
                    .collect();
                pass(format!("found {}", one_line(&hits.join(", "), 80)))
            } else if *all {
                fail(format!(
                    "missing {} in output {}",
                    missing.join(", "),
                    quote(output, EXCERPT)
                ))
            } else {
                fail(format!(
                    "none of {} in output {}",
                    missing.join(", "),
                    quote(output, EXCERPT)
                ))
            }
        }
        Check::NotContains {
            values,
            ignore_case,
        } => {
            let found: Vec<String> = values
                .iter()
                .zip(present(values, output, *ignore_case))
                .filter(|(_, f)| *f)
                .map(|(v, _)| quote(v, 30))
                .collect();
            if found.is_empty() {
                let all: Vec<String> = values.iter().map(|v| quote(v, 30)).collect();
                pass(format!("none of {} found", one_line(&all.join(", "), 80)))
            } else {
                fail(format!(
                    "found {} in output {}",
                    found.join(", "),
                    quote(output, EXCERPT)
                ))
            }
        }
        Check::Regex { regex } => {
            let shown = one_line(regex.as_str(), 40);
            match regex.find(output) {
                Some(m) => pass(format!("/{shown}/ matched {}", quote(m.as_str(), 40))),
                None => fail(format!(
                    "no match for /{shown}/ in output {}",
                    quote(output, EXCERPT)
                )),
            }
        }
        Check::JsonValid => match serde_json::from_str::<Value>(output.trim()) {
            Ok(_) => pass("output is valid JSON"),
            Err(e) => fail(format!(
                "output is not JSON ({e}): {}",
                quote(output, EXCERPT)
            )),
        },
        Check::JsonSchema { schema } => match serde_json::from_str::<Value>(output.trim()) {
            Err(e) => fail(format!(
                "output is not JSON ({e}): {}",
                quote(output, EXCERPT)
            )),
            Ok(v) => match schema.iter_errors(&v).next() {
                None => pass("output matches the schema"),
                Some(err) => {
                    let at = err.instance_path().to_string();
                    let at = if at.is_empty() { "/".to_string() } else { at };
                    fail(format!(
                        "output does not match the schema at {at}: {}",
                        one_line(&err.to_string(), 120)
                    ))
                }
            },
        },
        Check::ToolCalled {
            name,
            args,
            times,
            before,
            after,
            rules,
        } => tool_called(
            t,
            name,
            args.as_ref(),
            rules,
            *times,
            before.as_deref(),
            after.as_deref(),
        ),
        Check::ToolNotCalled { name, args, rules } => {
            let hits: Vec<&Value> = matching_calls(t, name, args.as_ref(), rules)
                .map(|(_, a)| a)
                .collect();
            match hits.first() {
                None => pass(format!(
                    "`{name}` was not called{}",
                    with_args(args.as_ref())
                )),
                Some(first) => fail(format!(
                    "`{name}` was called {} (args {})",
                    count(hits.len()),
                    render(first)
                )),
            }
        }
        Check::Trajectory {
            mode,
            expected,
            args,
            partial,
        } => {
            let value = match resolve(expected, case) {
                Ok(v) => v,
                Err(why) => return skipped(why),
            };
            let calls = match expected_calls(&value) {
                Ok(c) => c,
                Err(e) => return error(format!("bad expected tool calls: {e}")),
            };
            let actual: Vec<(&str, &Value)> = t.tool_calls().collect();
            let m = match_calls(*mode, args, &calls, &actual);
            let names = |it: &mut dyn Iterator<Item = &str>| {
                one_line(&it.collect::<Vec<_>>().join(", "), 80)
            };
            let mut reason = format!(
                "{}: expected [{}], found [{}]; precision {:.2}, recall {:.2}, F1 {:.2}",
                mode.as_str(),
                names(&mut calls.iter().map(|c| c.name.as_str())),
                names(&mut actual.iter().map(|(n, _)| *n)),
                m.precision(),
                m.recall(),
                m.f1()
            );
            if !m.passed {
                reason.push_str(&trajectory_miss(*mode, &m, &calls, &actual, args));
            }
            let (outcome, score) = match (m.passed, *partial) {
                (_, true) => (pass_or_fail(m.passed), m.f1()),
                (true, false) => (Outcome::Pass, 1.0),
                (false, false) => (Outcome::Fail, 0.0),
            };
            (outcome, Some(score), reason)
        }
        Check::EndState(spec) => end_state(spec, case, t),
        Check::MaxSteps(max) => {
            let n = t.model_calls() as u64;
            boolean(n <= *max, format!("{n} model calls (max {max})"))
        }
        Check::MaxTokens(max) => {
            let n = t.usage.total();
            boolean(n <= *max, format!("{n} tokens (max {max})"))
        }
        Check::Escalated(want) => {
            let did = t.escalated();
            let why = escalation_reason(t)
                .map(|r| format!(": {}", one_line(r, EXCERPT)))
                .unwrap_or_default();
            match (want, did) {
                (true, true) => pass(format!("escalated{why}")),
                (false, false) => pass("did not escalate"),
                (true, false) => fail("expected an escalation, the agent did not escalate"),
                (false, true) => fail(format!("expected no escalation, the agent escalated{why}")),
            }
        }
        Check::Expr { expr } => match expr.eval(case, t) {
            Ok(true) => pass(format!("{} is true", quote(expr.source(), EXCERPT))),
            Ok(false) => fail(format!("{} is false", quote(expr.source(), EXCERPT))),
            Err(e) => error(format!(
                "{} failed: {}",
                quote(expr.source(), EXCERPT),
                one_line(&e, 160)
            )),
        },
        Check::Judge { .. } => skipped("graded by the judge"),
        Check::Command { .. } => skipped("run by the runner (async)"),
    }
}

fn equals(expected: &Value, output: &str) -> Judged {
    match expected {
        Value::String(s) => boolean(
            output.trim() == s.trim(),
            format!(
                "expected {}, found {}",
                quote(s.trim(), EXCERPT),
                quote(output.trim(), EXCERPT)
            ),
        ),
        _ => match serde_json::from_str::<Value>(output.trim()) {
            Err(_) => fail(format!(
                "expected JSON {}, found non-JSON output {}",
                render(expected),
                quote(output, EXCERPT)
            )),
            Ok(actual) => match exact_mismatch(expected, &actual) {
                None => pass(format!("output equals {}", render(expected))),
                Some(m) => fail(m.to_string()),
            },
        },
    }
}

/// For each value, whether it occurs in the output.
fn present(values: &[String], output: &str, ignore_case: bool) -> Vec<bool> {
    if ignore_case {
        let hay = output.to_lowercase();
        values
            .iter()
            .map(|v| hay.contains(&v.to_lowercase()))
            .collect()
    } else {
        values.iter().map(|v| output.contains(v.as_str())).collect()
    }
}

/// The calls of `name` whose args match `args` under `rules`, with their index among all calls.
fn matching_calls<'a>(
    t: &'a Trajectory,
    name: &'a str,
    args: Option<&'a Value>,
    rules: &'a ArgRules,
) -> impl Iterator<Item = (usize, &'a Value)> + 'a {
    t.tool_calls()
        .enumerate()
        .filter(move |(_, (n, a))| *n == name && rules.matches(name, args, a))
        .map(|(i, (_, a))| (i, a))
}

fn tool_called(
    t: &Trajectory,
    name: &str,
    args: Option<&Value>,
    rules: &ArgRules,
    times: Option<Times>,
    before: Option<&str>,
    after: Option<&str>,
) -> Judged {
    let hits: Vec<usize> = matching_calls(t, name, args, rules)
        .map(|(i, _)| i)
        .collect();
    let n = hits.len() as u32;
    let (ok, wanted) = match times {
        None => (n >= 1, "at least once".to_string()),
        Some(Times {
            min,
            max: Some(max),
        }) if min == max => (n == min, count(min as usize)),
        Some(Times {
            min,
            max: Some(max),
        }) => (n >= min && n <= max, format!("{min} to {max} times")),
        Some(Times { min, max: None }) => (n >= min, format!("at least {}", count(min as usize))),
    };
    if !ok {
        let by_name: Vec<&Value> = t
            .tool_calls()
            .filter(|(n, _)| *n == name)
            .map(|(_, a)| a)
            .collect();
        let mut reason = format!(
            "expected `{name}`{} called {wanted}, found {}",
            with_args(args),
            count(hits.len())
        );
        if let (Some(want), Some(first)) = (args, by_name.first()) {
            if hits.is_empty() {
                let diff = rules
                    .mismatch(name, Some(want), first)
                    .map(|m| m.to_string())
                    .unwrap_or_default();
                reason.push_str(&format!(
                    " with those args ({} by name; first differs: {diff})",
                    count(by_name.len())
                ));
            }
        }
        return fail(reason);
    }
    let positions = |other: &str| -> Vec<usize> {
        t.tool_calls()
            .enumerate()
            .filter(|(_, (n, _))| *n == other)
            .map(|(i, _)| i)
            .collect()
    };
    // Ordering holds vacuously when the other tool was never called: pair the check with
    // `tool_called: OTHER` to require it.
    if let Some(other) = before {
        if let Some(first) = positions(other).first() {
            if !hits.iter().any(|i| i < first) {
                return fail(format!(
                    "`{name}`{} was not called before `{other}` (first `{other}` is call {}, matching `{name}` calls: {})",
                    with_args(args),
                    first + 1,
                    call_numbers(&hits)
                ));
            }
        }
    }
    if let Some(other) = after {
        if let Some(last) = positions(other).last() {
            if !hits.iter().any(|i| i > last) {
                return fail(format!(
                    "`{name}`{} was not called after `{other}` (last `{other}` is call {}, matching `{name}` calls: {})",
                    with_args(args),
                    last + 1,
                    call_numbers(&hits)
                ));
            }
        }
    }
    let mut reason = format!("`{name}` called {}{}", count(hits.len()), with_args(args));
    if let Some(other) = before {
        reason.push_str(&format!(", before `{other}`"));
    }
    if let Some(other) = after {
        reason.push_str(&format!(", after `{other}`"));
    }
    pass(reason)
}

/// 1-based call numbers: `2, 5` or `none`.
fn call_numbers(idx: &[usize]) -> String {
    if idx.is_empty() {
        "none".into()
    } else {
        idx.iter()
            .map(|i| (i + 1).to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Why a trajectory match failed: the first missing expected call (with the closest same-name
/// call's first differing argument) and the first unexpected actual call, as the mode cares.
fn trajectory_miss(
    mode: TrajectoryMode,
    m: &TrajectoryMatch,
    calls: &[ExpectedCall],
    actual: &[(&str, &Value)],
    rules: &ArgRules,
) -> String {
    let mut out = String::new();
    let cares_missing = !matches!(mode, TrajectoryMode::Subset);
    let cares_extra = matches!(
        mode,
        TrajectoryMode::Strict | TrajectoryMode::Unordered | TrajectoryMode::Subset
    );
    if let Some(i) = m.first_missing.filter(|_| cares_missing) {
        let c = &calls[i];
        out.push_str(&format!(
            "; missing {}{}",
            c.name,
            with_args(c.args.as_ref())
        ));
        let same_name = actual.iter().find(|(n, _)| *n == c.name);
        if let Some((_, a)) = same_name {
            if let Some(diff) = rules.mismatch(&c.name, c.args.as_ref(), a) {
                out.push_str(&format!(" (a `{}` call differs: {diff})", c.name));
            }
        }
    }
    if let Some(j) = m.first_unexpected.filter(|_| cares_extra) {
        let (n, a) = actual[j];
        out.push_str(&format!("; unexpected call {} {n} {}", j + 1, render(a)));
    }
    if out.is_empty() && matches!(mode, TrajectoryMode::InOrder | TrajectoryMode::Strict) {
        out.push_str("; calls out of order");
    }
    out
}

/// `end_state`: the whole world as a recursive subset, or each path assertion.
fn end_state(spec: &EndStateSpec, case: &Case, t: &Trajectory) -> Judged {
    let no_state = || fail("the target reported no end state");
    match spec {
        EndStateSpec::Subset(expected) => {
            let want = match resolve(expected, case) {
                Ok(v) => v,
                Err(why) => return skipped(why),
            };
            let Some(state) = &t.state else {
                return no_state();
            };
            match subset_mismatch(&want, state) {
                None => pass("end state matches"),
                Some(m) => fail(m.to_string()),
            }
        }
        EndStateSpec::Paths(asserts) => {
            let Some(state) = &t.state else {
                return no_state();
            };
            for a in asserts {
                let found = json_path(state, &a.path);
                match (found, &a.equals, a.exists) {
                    (Some(v), _, Some(false)) => {
                        return fail(format!("{}: expected nothing, found {}", a.path, render(v)))
                    }
                    (None, _, Some(false)) => {}
                    (None, Some(want), _) => {
                        return fail(format!(
                            "{}: expected {}, found nothing",
                            a.path,
                            render(want)
                        ))
                    }
                    (None, None, _) => {
                        return fail(format!("{}: expected a value, found nothing", a.path))
                    }
                    (Some(v), Some(want), _) => {
                        if let Some(m) = subset_mismatch(want, v) {
                            let path = if m.path.is_empty() {
                                a.path.clone()
                            } else if m.path.starts_with('[') {
                                format!("{}{}", a.path, m.path)
                            } else {
                                format!("{}.{}", a.path, m.path)
                            };
                            return fail(Mismatch { path, ..m }.to_string());
                        }
                    }
                    (Some(_), None, _) => {}
                }
            }
            pass(format!(
                "end state matches at {}",
                one_line(
                    &asserts
                        .iter()
                        .map(|a| a.path.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    80
                )
            ))
        }
    }
}

/// The value at a dot path; a numeric segment also indexes a list (`refunds.0.amount`).
pub(crate) fn json_path<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |cur, key| match cur {
        Value::Object(map) => map.get(key),
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

fn with_args(args: Option<&Value>) -> String {
    args.map(|a| format!(" with args {}", render(a)))
        .unwrap_or_default()
}

fn count(n: usize) -> String {
    match n {
        0 => "0 times".into(),
        1 => "once".into(),
        n => format!("{n} times"),
    }
}

fn escalation_reason(t: &Trajectory) -> Option<&str> {
    t.steps
        .iter()
        .find_map(|s| match s {
            Step::Escalation { reason } => Some(reason.as_str()),
            _ => None,
        })
        .or(t.error.as_deref())
}

#[cfg(test)]
#[path = "eval_tests.rs"]
mod tests;

fn pass_or_fail(passed: bool) -> Outcome {
    if passed {
        Outcome::Pass
    } else {
        Outcome::Fail
    }
}
