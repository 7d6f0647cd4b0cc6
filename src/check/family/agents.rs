//! Agent checks — `agent_called`, `handoff` — on the nested `agent` steps of a multi-agent
//! trajectory: their shapes, validation and evaluation. Who ran what and what counts as a
//! handoff is `trajectory_tree`'s.

use serde_json::Value;

use crate::check::case::CaseFacts;
use crate::check::eval::{count, fail, pass, Judged};
use crate::check::family::tools::{check_agent, parse_times, times_and_order, Times};
use crate::check::parse::{describe, get_string, unknown_keys, CheckEnv, CheckError};
use crate::check::registry::{Kind, Shape};
use crate::trajectory::Trajectory;
use crate::trajectory_tree::{agent_names, agent_runs, handoffs};

pub(crate) const KINDS: &[Kind] = &[
    Kind {
        name: "agent_called",
        shape: Shape::Any,
    },
    Kind {
        name: "handoff",
        shape: Shape::Any,
    },
];

#[derive(Debug, Clone, PartialEq)]
pub enum AgentCheck {
    /// The agent ran (as an `agent` step), `times` times if given; a run must come before the
    /// first run of `before` / after the last run of `after` (vacuous when that one never ran).
    Called {
        name: String,
        /// Only runs started by this agent count.
        by: Option<String>,
        times: Option<Times>,
        before: Option<String>,
        after: Option<String>,
    },
    /// Control passed from `from` to `to` at least once.
    Handoff { from: String, to: String },
}

/// Validates `kind: value`; the check and its display name.
pub(crate) fn parse(
    kind: &str,
    v: &Value,
    env: &CheckEnv,
    errs: &mut Vec<CheckError>,
) -> Option<(AgentCheck, String)> {
    match (kind, v) {
        ("agent_called", Value::String(s)) if !s.is_empty() => {
            check_agent(s, env, errs);
            Some((
                AgentCheck::Called {
                    name: s.clone(),
                    by: None,
                    times: None,
                    before: None,
                    after: None,
                },
                format!("agent_called {s}"),
            ))
        }
        ("agent_called", Value::Object(map)) => {
            unknown_keys(kind, map, &["name", "by", "times", "before", "after"], errs);
            let times = parse_times(kind, map.get("times"), errs);
            let mut optional = |key: &str| {
                map.get(key)
                    .is_some_and(|v| !v.is_null())
                    .then(|| get_string(kind, map, key, errs))
                    .flatten()
            };
            let (by, before, after) = (optional("by"), optional("before"), optional("after"));
            let name = get_string(kind, map, "name", errs)?;
            for agent in std::iter::once(&name)
                .chain(by.iter())
                .chain(before.iter())
                .chain(after.iter())
            {
                check_agent(agent, env, errs);
            }
            let mut display = format!("agent_called {name}");
            if let Some(b) = &by {
                display.push_str(&format!(" by {b}"));
            }
            display.push_str(&times_and_order(times, before.as_deref(), after.as_deref()));
            Some((
                AgentCheck::Called {
                    name,
                    by,
                    times,
                    before,
                    after,
                },
                display,
            ))
        }
        ("handoff", Value::Object(map)) => {
            unknown_keys(kind, map, &["from", "to"], errs);
            let from = get_string(kind, map, "from", errs);
            let to = get_string(kind, map, "to", errs);
            let (from, to) = (from?, to?);
            check_agent(&from, env, errs);
            check_agent(&to, env, errs);
            let display = format!("handoff {from} → {to}");
            Some((AgentCheck::Handoff { from, to }, display))
        }
        _ => {
            let shape = if kind == "handoff" {
                "a map `{from, to}`"
            } else {
                "an agent's name or a map `{name, by, times, before, after}`"
            };
            errs.push(
                CheckError::new(format!("`{kind}` expects {shape}, found {}", describe(v)))
                    .needle(kind.to_string()),
            );
            None
        }
    }
}

pub(crate) fn evaluate(check: &AgentCheck, _case: &dyn CaseFacts, t: &Trajectory) -> Judged {
    match check {
        AgentCheck::Called {
            name,
            by,
            times,
            before,
            after,
        } => agent_called(
            t,
            name,
            by.as_deref(),
            *times,
            before.as_deref(),
            after.as_deref(),
        ),
        AgentCheck::Handoff { from, to } => {
            let all = handoffs(t);
            if all.iter().any(|(f, x)| f == from && x == to) {
                return pass(format!("`{from}` handed off to `{to}`"));
            }
            let seen = if all.is_empty() {
                "no handoff happened".to_string()
            } else {
                format!(
                    "handoffs: {}",
                    all.iter()
                        .map(|(f, x)| format!("{f} → {x}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            fail(format!("expected a handoff `{from}` → `{to}`; {seen}"))
        }
    }
}

fn agent_called(
    t: &Trajectory,
    name: &str,
    by: Option<&str>,
    times: Option<Times>,
    before: Option<&str>,
    after: Option<&str>,
) -> Judged {
    let runs = agent_runs(t);
    let hits: Vec<usize> = runs
        .iter()
        .enumerate()
        .filter(|(_, r)| r.name == name && (by.is_none() || r.caller == by))
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
    let by_text = by.map(|b| format!(" by `{b}`")).unwrap_or_default();
    if !ok {
        let names = agent_names(t);
        let seen = if names.is_empty() {
            "no agent ran".to_string()
        } else {
            format!("agents: {}", names.join(", "))
        };
        return fail(format!(
            "expected agent `{name}` run{by_text} {wanted}, found {}; {seen}",
            count(hits.len())
        ));
    }
    let positions = |other: &str| -> Vec<usize> {
        runs.iter()
            .enumerate()
            .filter(|(_, r)| r.name == other)
            .map(|(i, _)| i)
            .collect()
    };
    if let Some(other) = before {
        if let Some(first) = positions(other).first() {
            if !hits.iter().any(|i| i < first) {
                return fail(format!("agent `{name}` did not run before `{other}`"));
            }
        }
    }
    if let Some(other) = after {
        if let Some(last) = positions(other).last() {
            if !hits.iter().any(|i| i > last) {
                return fail(format!("agent `{name}` did not run after `{other}`"));
            }
        }
    }
    pass(format!("agent `{name}` ran{by_text} {}", count(hits.len())))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::check::eval::evaluate;
    use crate::check::parse::parse_alone as parse;
    use crate::suite::model::Case;
    use crate::trajectory::Trajectory;
    use crate::verdict::Outcome;

    fn tree() -> Trajectory {
        serde_json::from_value(json!({"steps": [
            {"type": "agent", "name": "triage", "steps": [
                {"type": "tool", "name": "lookup_order", "args": {}},
                {"type": "agent", "name": "kb", "steps": []},
                {"type": "agent", "name": "kb", "steps": []}]},
            {"type": "agent", "name": "billing", "steps": [
                {"type": "tool", "name": "issue_refund", "args": {"order_id": "7"}}]}
        ]}))
        .unwrap()
    }

    #[test]
    fn agent_and_handoff_table() {
        use Outcome::*;
        let t = tree();
        let table: [(&str, Outcome, &str); 13] = [
            ("agent_called: billing", Pass, "agent `billing` ran once"),
            ("agent_called: {name: kb, times: 2}", Pass, "ran 2 times"),
            ("agent_called: {name: kb, by: triage}", Pass, "by `triage`"),
            (
                "agent_called: {name: kb, by: billing}",
                Fail,
                "found 0 times",
            ),
            (
                "agent_called: {name: kb, times: 1}",
                Fail,
                "expected agent `kb` run once, found 2",
            ),
            ("agent_called: refunds", Fail, "agents: billing, kb, triage"),
            (
                "agent_called: {name: triage, before: billing}",
                Pass,
                "ran once",
            ),
            (
                "agent_called: {name: billing, before: kb}",
                Fail,
                "did not run before `kb`",
            ),
            ("agent_called: {name: billing, after: kb}", Pass, "ran once"),
            (
                "handoff: {from: triage, to: billing}",
                Pass,
                "`triage` handed off to `billing`",
            ),
            (
                "handoff: {from: triage, to: kb}",
                Fail,
                "handoffs: triage → billing",
            ),
            // Agent scoping on the tool and limit checks, on the same tree.
            (
                "tool_not_called: {name: issue_refund, agent: triage}",
                Pass,
                "not called by `triage`",
            ),
            (
                "tool_called: {name: issue_refund, agent: triage}",
                Fail,
                "(called by `billing` instead)",
            ),
        ];
        for (yaml, want, reason) in table {
            let spec = parse(yaml).unwrap_or_else(|e| panic!("{yaml}: {e:?}"));
            let v = evaluate(&spec, &Case::new("c", "hi"), &t);
            assert_eq!(v.outcome, want, "{yaml}: {v:?}");
            assert!(v.reason.contains(reason), "{yaml}: {}", v.reason);
        }
    }

    #[test]
    fn shapes_that_do_not_parse() {
        let msg = |yaml: &str| parse(yaml).unwrap_err()[0].to_string();
        assert_eq!(
            msg("handoff: billing"),
            "`handoff` expects a map `{from, to}`, found a string"
        );
        assert!(
            msg("handoff: {from: a}").contains("`to`"),
            "{}",
            msg("handoff: {from: a}")
        );
        assert!(msg("agent_called: {name: a, times: -1}").contains("whole number"));
        assert!(msg("agent_called: {name: a, by: 3}").contains("by"));
        assert_eq!(
            parse("handoff: {from: a, to: b}").unwrap().name,
            "handoff a → b"
        );
    }
}
