//! `trajectory` checks: the flattened tool calls against expected calls under a match mode
//! (`strict`, `in_order`, `unordered`, `subset`, `superset`), with precision, recall and F1:
//! their shape, validation and evaluation. The matching itself is `check::trajectory_match`.

use serde_json::{Map, Value};

use crate::check::arg_match::ArgRules;
use crate::check::case::CaseFacts;
use crate::check::eval::{error, pass_or_fail, resolve, skipped, with_args, Judged};
use crate::check::family::tools::{check_tool, parse_agent, parse_ignore, parse_matcher};
use crate::check::json_subset::render;
use crate::check::parse::{case_ref, unknown_keys, CheckEnv, CheckError};
use crate::check::registry::{Kind, Shape};
use crate::check::spec::ValueRef;
use crate::check::trajectory_match::{
    expected_calls, kind_of, match_calls, ExpectedCall, TrajectoryMatch,
};
use crate::diagnostic::did_you_mean;
use crate::text::one_line;
use crate::trajectory::Trajectory;
use crate::trajectory_tree::tool_calls_of;
use crate::verdict::Outcome;

pub(crate) const KINDS: &[Kind] = &[Kind {
    name: "trajectory",
    shape: Shape::Any,
}];

#[derive(Debug, Clone)]
pub struct TrajectoryCheck {
    pub mode: TrajectoryMode,
    pub expected: ValueRef,
    pub args: ArgRules,
    /// `score: f1`: a passing check scores its F1 (partial credit). Otherwise a pass scores
    /// 1 and a fail 0, so a score delta against a baseline always means a verdict change.
    pub partial: bool,
    /// Only this agent's own calls are compared (`None`: every call in the tree).
    pub agent: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrajectoryMode {
    /// Same calls, same order, same count.
    Strict,
    /// The expected calls appear in order; extra calls allowed.
    InOrder,
    /// Same multiset of calls, any order.
    Unordered,
    /// Every actual call is matched by an expected one (the agent did nothing unexpected).
    Subset,
    /// Every expected call is matched by an actual one (extras allowed).
    Superset,
}

impl TrajectoryMode {
    pub const NAMES: [&'static str; 5] = ["strict", "in_order", "unordered", "subset", "superset"];

    pub fn parse(s: &str) -> Option<TrajectoryMode> {
        match s {
            "strict" => Some(TrajectoryMode::Strict),
            "in_order" => Some(TrajectoryMode::InOrder),
            "unordered" => Some(TrajectoryMode::Unordered),
            "subset" => Some(TrajectoryMode::Subset),
            "superset" => Some(TrajectoryMode::Superset),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            TrajectoryMode::Strict => "strict",
            TrajectoryMode::InOrder => "in_order",
            TrajectoryMode::Unordered => "unordered",
            TrajectoryMode::Subset => "subset",
            TrajectoryMode::Superset => "superset",
        }
    }
}

/// Validates `trajectory: value`; the check and its display name.
pub(crate) fn parse(
    _kind: &str,
    v: &Value,
    env: &CheckEnv,
    errs: &mut Vec<CheckError>,
) -> Option<(TrajectoryCheck, String)> {
    parse_trajectory(v, env, errs)
}

pub(crate) fn evaluate(check: &TrajectoryCheck, case: &dyn CaseFacts, t: &Trajectory) -> Judged {
    let TrajectoryCheck {
        mode,
        expected,
        args,
        partial,
        agent,
    } = check;
    let value = match resolve(expected, case) {
        Ok(v) => v,
        Err(why) => return skipped(why.to_string()),
    };
    let calls = match expected_calls(&value) {
        Ok(c) => c,
        Err(e) => return error(format!("bad expected tool calls: {e}")),
    };
    let actual: Vec<(&str, &Value)> = tool_calls_of(t, agent.as_deref());
    let m = match_calls(*mode, args, &calls, &actual);
    let names =
        |it: &mut dyn Iterator<Item = &str>| one_line(&it.collect::<Vec<_>>().join(", "), 80);
    let by = agent
        .as_deref()
        .map(|a| format!(" by `{a}`"))
        .unwrap_or_default();
    let mut reason = format!(
        "{}: expected [{}], found{by} [{}]; precision {:.2}, recall {:.2}, F1 {:.2}",
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

/// `args: subset` or `args: {default: subset, tools: {issue_refund: exact}}`, plus the
/// trajectory's `ignore` and `defaults: {TOOL: {ARG: VALUE}}`.
fn parse_trajectory_rules(
    map: &Map<String, Value>,
    env: &CheckEnv,
    errs: &mut Vec<CheckError>,
) -> Option<ArgRules> {
    let mut rules = ArgRules::default();
    let mut ok = true;
    match map.get("args") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            unknown_keys("trajectory.args", m, &["default", "tools"], errs);
            if let Some(d) = m.get("default").filter(|v| !v.is_null()) {
                match parse_matcher("trajectory.args.default", d, errs) {
                    Some(d) => rules.default = d,
                    None => ok = false,
                }
            }
            match m.get("tools") {
                None | Some(Value::Null) => {}
                Some(Value::Object(tools)) => {
                    for (tool, how) in tools {
                        check_tool(tool, env, errs);
                        match parse_matcher(&format!("trajectory.args.tools.{tool}"), how, errs) {
                            Some(how) => {
                                rules.tools.insert(tool.clone(), how);
                            }
                            None => ok = false,
                        }
                    }
                }
                Some(other) => {
                    errs.push(
                        CheckError::new(format!(
                            "`trajectory.args.tools` must map tool names to matchers, found {}",
                            kind_of(other)
                        ))
                        .needle("tools"),
                    );
                    ok = false;
                }
            }
        }
        Some(other) => match parse_matcher("trajectory.args", other, errs) {
            Some(d) => rules.default = d,
            None => ok = false,
        },
    }
    rules.ignore = parse_ignore("trajectory", map.get("ignore"), errs);
    match map.get("defaults") {
        None | Some(Value::Null) => {}
        Some(Value::Object(tools)) => {
            for (tool, defaults) in tools {
                check_tool(tool, env, errs);
                match defaults {
                    Value::Object(d) => {
                        rules.defaults.insert(tool.clone(), d.clone());
                    }
                    other => {
                        errs.push(
                            CheckError::new(format!(
                                "`trajectory.defaults.{tool}` must be a map of argument defaults, found {}",
                                kind_of(other)
                            ))
                            .needle(tool.clone()),
                        );
                        ok = false;
                    }
                }
            }
        }
        Some(other) => {
            errs.push(
                CheckError::new(format!(
                    "`trajectory.defaults` must map tool names to argument defaults, found {}",
                    kind_of(other)
                ))
                .hint("e.g. `defaults: {search_kb: {limit: 3}}`")
                .needle("defaults"),
            );
            ok = false;
        }
    }
    ok.then_some(rules)
}

fn parse_trajectory(
    v: &Value,
    env: &CheckEnv,
    errs: &mut Vec<CheckError>,
) -> Option<(TrajectoryCheck, String)> {
    let Value::Object(map) = v else {
        errs.push(
            CheckError::new(format!(
                "`trajectory` expects a map `{{mode, expected, args}}`, found {}",
                kind_of(v)
            ))
            .needle("trajectory"),
        );
        return None;
    };
    unknown_keys(
        "trajectory",
        map,
        &[
            "mode", "expected", "args", "ignore", "defaults", "score", "agent",
        ],
        errs,
    );
    let agent = parse_agent("trajectory", map, env, errs);
    let partial = match map.get("score") {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) if s == "f1" => true,
        Some(other) => {
            errs.push(
                CheckError::new(format!(
                    "`trajectory.score` must be `f1` (partial credit), found {other}"
                ))
                .hint("leave `score` out for 1 on pass and 0 on fail")
                .needle("score"),
            );
            false
        }
    };

    let mode = match map.get("mode") {
        None | Some(Value::Null) => Some(TrajectoryMode::InOrder),
        Some(other) => {
            let word = other.as_str().unwrap_or_default();
            let mode = TrajectoryMode::parse(word);
            if mode.is_none() {
                errs.push(
                    CheckError::new(format!(
                        "unknown trajectory mode {other} (expected one of: {})",
                        TrajectoryMode::NAMES
                            .iter()
                            .map(|m| format!("`{m}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                    .maybe_hint(
                        did_you_mean(word, TrajectoryMode::NAMES)
                            .map(|b| format!("did you mean `{b}`?")),
                    )
                    .needle(word.to_string()),
                );
            }
            mode
        }
    };
    let args = parse_trajectory_rules(map, env, errs);
    let expected = match map.get("expected") {
        Some(Value::String(s)) if case_ref(s) => Some(ValueRef::Case(s.clone())),
        Some(Value::Array(_)) => {
            let value = &map["expected"];
            match expected_calls(value) {
                Ok(calls) => {
                    for call in &calls {
                        check_tool(&call.name, env, errs);
                    }
                    Some(ValueRef::Inline(value.clone()))
                }
                Err(e) => {
                    errs.push(
                        CheckError::new(format!("`trajectory.expected`: {e}")).needle("expected"),
                    );
                    None
                }
            }
        }
        None | Some(Value::Null) => {
            errs.push(
                CheckError::new("`trajectory` needs `expected`")
                    .hint("`expected: expected.tools` or a list `[{name, args}]`")
                    .needle("trajectory"),
            );
            None
        }
        Some(other) => {
            errs.push(
                CheckError::new(format!(
                    "`trajectory.expected` must be `expected.tools` or a list of `{{name, args}}`, found {}",
                    match other {
                        Value::String(s) => format!("`{s}`"),
                        o => kind_of(o).to_string(),
                    }
                ))
                .needle("expected"),
            );
            None
        }
    };
    let (mode, expected, args) = (mode?, expected?, args?);
    let mut name = format!("trajectory {}", mode.as_str());
    if let Some(a) = &agent {
        name.push_str(&format!(" by {a}"));
    }
    Some((
        TrajectoryCheck {
            mode,
            expected,
            args,
            partial,
            agent,
        },
        name,
    ))
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
