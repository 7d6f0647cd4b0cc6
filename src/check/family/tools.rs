//! Tool checks — `tool_called`, `tool_not_called` — on the tool calls of the trajectory: their
//! shapes, validation and evaluation. The argument matchers and ignore patterns parsed here are
//! shared with `trajectory` checks.

use serde_json::Value;

use crate::check::arg_match::{ArgMatch, ArgRules, KeyPattern};
use crate::check::case::CaseFacts;
use crate::check::eval::{count, fail, pass, with_args, Judged};
use crate::check::json_subset::render;
use crate::check::parse::{describe, get_string, string_list, unknown_keys, CheckEnv, CheckError};
use crate::check::registry::{Kind, Shape};
use crate::check::trajectory_match::kind_of;
use crate::diagnostic::did_you_mean;
use crate::text::truncate;
use crate::trajectory::Trajectory;
use crate::trajectory_tree::owned_tool_calls;

pub(crate) const KINDS: &[Kind] = &[
    Kind {
        name: "tool_called",
        shape: Shape::Any,
    },
    Kind {
        name: "tool_not_called",
        shape: Shape::Any,
    },
];

#[derive(Debug, Clone)]
pub enum ToolCheck {
    /// The tool was called (with args a recursive superset of `args`), `times` times if given.
    Called {
        name: String,
        args: Option<Value>,
        /// `None`: at least once.
        times: Option<Times>,
        /// A matching call must come before the first (`before`) / after the last (`after`)
        /// call of this other tool; a tool never called imposes nothing.
        before: Option<String>,
        after: Option<String>,
        rules: ArgRules,
        /// Only this agent's own calls count (`None`: every call in the tree).
        agent: Option<String>,
    },
    /// The tool was never called (with matching args, if given).
    NotCalled {
        name: String,
        args: Option<Value>,
        rules: ArgRules,
        agent: Option<String>,
    },
}

/// How often a tool must be called: `times: N` is `{min: N, max: N}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Times {
    pub min: u32,
    pub max: Option<u32>,
}

/// Validates `kind: value`; the check and its display name.
pub(crate) fn parse(
    kind: &str,
    v: &Value,
    env: &CheckEnv,
    errs: &mut Vec<CheckError>,
) -> Option<(ToolCheck, String)> {
    parse_tool(kind, v, env, errs)
}

pub(crate) fn evaluate(check: &ToolCheck, _case: &dyn CaseFacts, t: &Trajectory) -> Judged {
    match check {
        ToolCheck::Called {
            name,
            args,
            times,
            before,
            after,
            rules,
            agent,
        } => tool_called(
            t,
            Wanted {
                name,
                args: args.as_ref(),
                rules,
                agent: agent.as_deref(),
            },
            *times,
            before.as_deref(),
            after.as_deref(),
        ),
        ToolCheck::NotCalled {
            name,
            args,
            rules,
            agent,
        } => {
            let want = Wanted {
                name,
                args: args.as_ref(),
                rules,
                agent: agent.as_deref(),
            };
            let calls = owned_tool_calls(t);
            let hits: Vec<&Value> = matching_calls(&calls, &want).map(|(_, a)| a).collect();
            let by = by_agent(want.agent);
            match hits.first() {
                None => pass(format!(
                    "`{name}` was not called{by}{}",
                    with_args(args.as_ref())
                )),
                Some(first) => fail(format!(
                    "`{name}` was called{by} {} (args {})",
                    count(hits.len()),
                    render(first)
                )),
            }
        }
    }
}

/// How a check's `times`, `before` and `after` read in its display name (` ×2..3 before X`).
pub(crate) fn times_and_order(
    times: Option<Times>,
    before: Option<&str>,
    after: Option<&str>,
) -> String {
    let mut out = match times {
        Some(Times {
            min,
            max: Some(max),
        }) if min == max => format!(" ×{min}"),
        Some(Times {
            min,
            max: Some(max),
        }) => format!(" ×{min}..{max}"),
        Some(Times { min, max: None }) => format!(" ×{min}+"),
        None => String::new(),
    };
    if let Some(b) = before {
        out.push_str(&format!(" before {b}"));
    }
    if let Some(a) = after {
        out.push_str(&format!(" after {a}"));
    }
    out
}

pub(crate) fn check_tool(name: &str, env: &CheckEnv, errs: &mut Vec<CheckError>) {
    let Some(tools) = env.tools else { return };
    if tools.iter().any(|t| t == name) {
        return;
    }
    if let Some(later) = env.mcp_named {
        // Perhaps an MCP server's: each run checks it once its servers list their tools.
        later
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_string());
        return;
    }
    let hint = did_you_mean(name, tools.iter().map(String::as_str))
        .map(|b| format!("did you mean `{b}`?"))
        .unwrap_or_else(|| format!("the target's tools are: {}", tools.join(", ")));
    errs.push(
        CheckError::new(format!("unknown tool `{name}`"))
            .hint(hint)
            .needle(name),
    );
}

fn parse_tool(
    kind: &str,
    v: &Value,
    env: &CheckEnv,
    errs: &mut Vec<CheckError>,
) -> Option<(ToolCheck, String)> {
    let called = kind == "tool_called";
    let mut times = None;
    let (mut before, mut after) = (None, None);
    let mut agent = None;
    let mut rules = ArgRules::default();
    let (name, args) = match v {
        Value::String(s) if !s.is_empty() => (s.clone(), None),
        Value::Object(map) => {
            let allowed: &[&str] = if called {
                &[
                    "name",
                    "args",
                    "args_match",
                    "ignore",
                    "defaults",
                    "times",
                    "before",
                    "after",
                    "agent",
                ]
            } else {
                &["name", "args", "args_match", "ignore", "defaults", "agent"]
            };
            unknown_keys(kind, map, allowed, errs);
            let args = map.get("args").filter(|a| !a.is_null()).cloned();
            times = parse_times(kind, map.get("times"), errs);
            for (key, slot) in [("before", &mut before), ("after", &mut after)] {
                if map.get(key).is_some_and(|v| !v.is_null()) {
                    if let Some(other) = get_string(kind, map, key, errs) {
                        check_tool(&other, env, errs);
                        *slot = Some(other);
                    }
                }
            }
            agent = parse_agent(kind, map, env, errs);
            let name = get_string(kind, map, "name", errs)?;
            if let Some(m) = map.get("args_match").filter(|v| !v.is_null()) {
                rules.default = parse_matcher(&format!("{kind}.args_match"), m, errs)?;
            }
            rules.ignore = parse_ignore(kind, map.get("ignore"), errs);
            if let Some(d) = map.get("defaults").filter(|v| !v.is_null()) {
                match d {
                    Value::Object(defaults) => {
                        rules.defaults.insert(name.clone(), defaults.clone());
                    }
                    other => errs.push(
                        CheckError::new(format!(
                            "`{kind}.defaults` must be a map of argument names to their default values, found {}",
                            kind_of(other)
                        ))
                        .needle("defaults"),
                    ),
                }
            }
            (name, args)
        }
        other => {
            errs.push(
                CheckError::new(format!(
                    "`{kind}` expects a tool name or a map `{{name, args{}}}`, found {}",
                    if called { ", times" } else { "" },
                    describe(other)
                ))
                .needle(kind),
            );
            return None;
        }
    };
    check_tool(&name, env, errs);
    let mut display = format!("{kind} {name}");
    if let Some(a) = &agent {
        display.push_str(&format!(" by {a}"));
    }
    if let Some(a) = &args {
        display.push(' ');
        display.push_str(&truncate(&a.to_string(), 40));
    }
    display.push_str(&times_and_order(times, before.as_deref(), after.as_deref()));
    let check = if called {
        ToolCheck::Called {
            name,
            args,
            times,
            before,
            after,
            rules,
            agent,
        }
    } else {
        ToolCheck::NotCalled {
            name,
            args,
            rules,
            agent,
        }
    };
    Some((check, display))
}

/// `times: N` or `times: {min, max}` (either may be left out).
pub(crate) fn parse_times(
    kind: &str,
    v: Option<&Value>,
    errs: &mut Vec<CheckError>,
) -> Option<Times> {
    let count = |key: &str, v: &Value, errs: &mut Vec<CheckError>| {
        let n = v.as_u64().and_then(|n| u32::try_from(n).ok());
        if n.is_none() {
            errs.push(
                CheckError::new(format!(
                    "`{kind}.{key}` must be a whole number of 0 or more, found {v}"
                ))
                .needle("times"),
            );
        }
        n
    };
    match v? {
        Value::Null => None,
        Value::Object(map) => {
            unknown_keys(&format!("{kind}.times"), map, &["min", "max"], errs);
            let min = match map.get("min") {
                Some(v) => count("times.min", v, errs)?,
                None => 0,
            };
            let max = match map.get("max") {
                Some(v) => Some(count("times.max", v, errs)?),
                None => None,
            };
            if map.is_empty() {
                errs.push(
                    CheckError::new(format!("`{kind}.times` needs `min`, `max` or both"))
                        .needle("times"),
                );
                return None;
            }
            if let Some(max) = max.filter(|m| *m < min) {
                errs.push(
                    CheckError::new(format!(
                        "`{kind}.times.max` ({max}) is below `times.min` ({min})"
                    ))
                    .needle("times"),
                );
                return None;
            }
            Some(Times { min, max })
        }
        other => count("times", other, errs).map(|n| Times {
            min: n,
            max: Some(n),
        }),
    }
}

/// One matcher name: `exact`, `subset`, `superset` or `ignore`.
pub(crate) fn parse_matcher(key: &str, v: &Value, errs: &mut Vec<CheckError>) -> Option<ArgMatch> {
    let word = v.as_str().unwrap_or_default();
    if let Some(m) = ArgMatch::parse(word) {
        return Some(m);
    }
    errs.push(
        CheckError::new(format!(
            "unknown argument matcher {v} in `{key}` (expected `exact`, `subset`, `superset` or `ignore`)"
        ))
        .maybe_hint(
            did_you_mean(word, ArgMatch::NAMES).map(|b| format!("did you mean `{b}`?")),
        )
        .needle(if word.is_empty() { "args" } else { word }.to_string()),
    );
    None
}

/// `ignore: ["metadata.trace_id", "*.timestamp"]`: key patterns removed before comparing.
pub(crate) fn parse_ignore(
    kind: &str,
    v: Option<&Value>,
    errs: &mut Vec<CheckError>,
) -> Vec<KeyPattern> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Vec::new();
    };
    let Some(list) = string_list(kind, "ignore", v, errs) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|p| {
            KeyPattern::new(p)
                .map_err(|e| {
                    errs.push(
                        CheckError::new(e.to_string())
                            .hint("dot paths with `*` (one key) and `**` (any depth)")
                            .needle(p.clone()),
                    )
                })
                .ok()
        })
        .collect()
}

/// An agent a check names, checked against the team when the target's agents are known.
pub(crate) fn check_agent(name: &str, env: &CheckEnv, errs: &mut Vec<CheckError>) {
    let Some(agents) = env.agents else { return };
    if agents.iter().any(|a| a == name) {
        return;
    }
    let hint = did_you_mean(name, agents.iter().map(String::as_str))
        .map(|b| format!("did you mean `{b}`?"))
        .unwrap_or_else(|| format!("the team's agents are: {}", agents.join(", ")));
    errs.push(
        CheckError::new(format!("unknown agent `{name}`"))
            .hint(hint)
            .needle(name),
    );
}

/// `agent: NAME` of an agent-aware check: a non-empty string, or absent.
pub(crate) fn parse_agent(
    kind: &str,
    map: &serde_json::Map<String, Value>,
    env: &CheckEnv,
    errs: &mut Vec<CheckError>,
) -> Option<String> {
    match map.get("agent") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.is_empty() => {
            check_agent(s, env, errs);
            Some(s.clone())
        }
        Some(other) => {
            errs.push(
                CheckError::new(format!(
                    "`{kind}.agent` must be an agent's name, found {}",
                    describe(other)
                ))
                .needle("agent"),
            );
            None
        }
    }
}

/// ` by NAME` for a scoped check's reason, else nothing.
fn by_agent(agent: Option<&str>) -> String {
    agent.map(|a| format!(" by `{a}`")).unwrap_or_default()
}

/// What a tool check looks for.
struct Wanted<'a> {
    name: &'a str,
    args: Option<&'a Value>,
    rules: &'a ArgRules,
    /// Only this agent's own calls.
    agent: Option<&'a str>,
}

type OwnedCall<'a> = (&'a str, &'a Value, Option<&'a str>);

/// The calls of `name` (by the agent, if scoped) whose args match, with their index among
/// all calls of the tree (so `before`/`after` compare positions across agents).
fn matching_calls<'a>(
    calls: &'a [OwnedCall<'a>],
    want: &'a Wanted<'a>,
) -> impl Iterator<Item = (usize, &'a Value)> + 'a {
    calls
        .iter()
        .enumerate()
        .filter(move |(_, (n, a, owner))| {
            *n == want.name
                && (want.agent.is_none() || *owner == want.agent)
                && want.rules.matches(want.name, want.args, a)
        })
        .map(|(i, (_, a, _))| (i, *a))
}

fn tool_called(
    t: &Trajectory,
    want: Wanted<'_>,
    times: Option<Times>,
    before: Option<&str>,
    after: Option<&str>,
) -> Judged {
    let Wanted {
        name,
        args,
        rules,
        agent,
    } = want;
    let calls = owned_tool_calls(t);
    let hits: Vec<usize> = matching_calls(&calls, &want).map(|(i, _)| i).collect();
    let by = by_agent(agent);
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
        let by_name: Vec<&Value> = calls
            .iter()
            .filter(|(n, _, owner)| *n == name && (agent.is_none() || *owner == agent))
            .map(|(_, a, _)| *a)
            .collect();
        let mut reason = format!(
            "expected `{name}`{} called{by} {wanted}, found {}",
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
        if let Some(a) = agent {
            let others: Vec<&str> = calls
                .iter()
                .filter(|(n, _, owner)| *n == name && *owner != Some(a))
                .map(|(_, _, owner)| owner.unwrap_or("the root agent"))
                .collect();
            if let Some(first) = others.first() {
                reason.push_str(&format!(" (called by `{first}` instead)"));
            }
        }
        return fail(reason);
    }
    let positions = |other: &str| -> Vec<usize> {
        calls
            .iter()
            .enumerate()
            .filter(|(_, (n, _, _))| *n == other)
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
    let mut reason = format!(
        "`{name}` called{by} {}{}",
        count(hits.len()),
        with_args(args)
    );
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
