//! Limit checks on how the run went — `max_steps`, `max_tokens`, `max_cost_usd`,
//! `max_latency_ms`, `escalated`, `not_escalated` — their shapes, validation and evaluation.
//!
//! `max_cost_usd` bounds the trajectory's summed USD (priced model calls); a run with no priced
//! call has no cost to compare and is `skipped`. `max_latency_ms` bounds the summed wall time of
//! the model and tool calls (the agent's own time between them is not recorded). On a pass the
//! reason names only the limit, so a report does not change with timing noise.

use serde_json::Value;

use crate::check::case::CaseFacts;
use crate::check::eval::{boolean, fail, pass, skipped, Judged, EXCERPT};
use crate::check::family::tools::parse_agent;
use crate::check::parse::{describe, unknown_keys, CheckEnv, CheckError};
use crate::check::registry::{Kind, Shape};
use crate::text::one_line;
use crate::trajectory::{Step, Trajectory};
use crate::trajectory_tree::usage_of;

pub(crate) const KINDS: &[Kind] = &[
    Kind {
        name: "max_steps",
        shape: Shape::U64OrAgent,
    },
    Kind {
        name: "max_tokens",
        shape: Shape::U64OrAgent,
    },
    Kind {
        name: "escalated",
        shape: Shape::Bool,
    },
    Kind {
        name: "not_escalated",
        shape: Shape::Bool,
    },
    Kind {
        name: "max_cost_usd",
        shape: Shape::F64OrAgent,
    },
    Kind {
        name: "max_latency_ms",
        shape: Shape::U64OrAgent,
    },
];

#[derive(Debug, Clone, PartialEq)]
pub enum LimitCheck {
    /// At most this many model calls.
    MaxSteps(u64),
    /// At most this many tokens (input + output) over all model calls.
    MaxTokens(u64),
    /// At most this many USD over all priced model calls.
    MaxCostUsd(f64),
    /// At most this many milliseconds over all model and tool calls.
    MaxLatencyMs(u64),
    /// `true`: must escalate; `false`: must not.
    Escalated(bool),
    /// `{max, agent}`: one of the bounds above on that agent's own calls only.
    Agent { agent: String, bound: AgentBound },
}

/// A limit on one agent's own model (and, for latency, tool) calls.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentBound {
    Steps(u64),
    Tokens(u64),
    CostUsd(f64),
    LatencyMs(u64),
}

/// Validates `kind: value`; the check and its display name.
pub(crate) fn parse(
    kind: &str,
    v: &Value,
    env: &CheckEnv,
    errs: &mut Vec<CheckError>,
) -> Option<(LimitCheck, String)> {
    match (kind, v) {
        ("escalated", Value::Bool(b)) => Some(escalated(*b)),
        ("not_escalated", Value::Bool(true)) => Some(escalated(false)),
        ("not_escalated", _) => {
            errs.push(
                CheckError::new("`not_escalated: false` checks nothing")
                    .hint("remove the check, or write `escalated: true`")
                    .needle("not_escalated"),
            );
            None
        }
        (_, Value::Object(map)) => {
            unknown_keys(kind, map, &["max", "agent"], errs);
            let agent = parse_agent(kind, map, env, errs);
            let Some(max) = map.get("max") else {
                errs.push(
                    CheckError::new(format!("`{kind}` needs `max`"))
                        .hint(format!("`{kind}: {{max: 1000, agent: billing}}`"))
                        .needle(kind.to_string()),
                );
                return None;
            };
            let bound = bound(kind, max, errs)?;
            let Some(agent) = agent else {
                errs.push(
                    CheckError::new(format!("`{kind}` as a map needs `agent`"))
                        .hint(format!("or write `{kind}: N` for the whole run"))
                        .needle(kind.to_string()),
                );
                return None;
            };
            let name = format!("{} by {agent}", bound.1);
            Some((
                LimitCheck::Agent {
                    agent,
                    bound: bound.0,
                },
                name,
            ))
        }
        _ => {
            let (bound, name) = bound(kind, v, errs)?;
            let check = match bound {
                AgentBound::Steps(n) => LimitCheck::MaxSteps(n),
                AgentBound::Tokens(n) => LimitCheck::MaxTokens(n),
                AgentBound::CostUsd(usd) => LimitCheck::MaxCostUsd(usd),
                AgentBound::LatencyMs(n) => LimitCheck::MaxLatencyMs(n),
            };
            Some((check, name))
        }
    }
}

/// The number of a `max_*` kind, with its display name.
fn bound(kind: &str, v: &Value, errs: &mut Vec<CheckError>) -> Option<(AgentBound, String)> {
    let whole = || v.as_u64();
    let bound = match kind {
        "max_steps" => whole().map(AgentBound::Steps),
        "max_tokens" => whole().map(AgentBound::Tokens),
        "max_latency_ms" => whole().map(AgentBound::LatencyMs),
        "max_cost_usd" => v
            .as_f64()
            .filter(|usd| usd.is_finite() && *usd >= 0.0)
            .map(AgentBound::CostUsd),
        _ => None,
    };
    match bound {
        Some(b) => {
            let name = match &b {
                AgentBound::CostUsd(usd) => format!("{kind} {usd}"),
                _ => format!("{kind} {v}"),
            };
            Some((b, name))
        }
        None => {
            let what = if kind == "max_cost_usd" {
                "a number of 0 or more"
            } else {
                "a whole number of 0 or more"
            };
            let found = match v {
                Value::Number(n) => n.to_string(),
                other => describe(other),
            };
            errs.push(
                CheckError::new(format!("`{kind}` must be {what}, found {found}"))
                    .hint(format!(
                        "or `{kind}: {{max: N, agent: NAME}}` for one agent"
                    ))
                    .needle(kind.to_string()),
            );
            None
        }
    }
}

fn escalated(want: bool) -> (LimitCheck, String) {
    let name = if want { "escalated" } else { "not escalated" };
    (LimitCheck::Escalated(want), name.to_string())
}

pub(crate) fn evaluate(check: &LimitCheck, _case: &dyn CaseFacts, t: &Trajectory) -> Judged {
    match check {
        LimitCheck::MaxSteps(max) => {
            let n = t.model_calls() as u64;
            boolean(n <= *max, format!("{n} model calls (max {max})"))
        }
        LimitCheck::MaxTokens(max) => {
            let n = t.usage.total();
            boolean(n <= *max, format!("{n} tokens (max {max})"))
        }
        LimitCheck::MaxCostUsd(max) => match t.cost_usd {
            None => skipped("no model call was priced: the run's cost is unknown"),
            Some(usd) if usd <= *max => pass(format!("cost within ${max}")),
            Some(usd) => fail(format!("cost ${usd:.6} (max ${max})")),
        },
        LimitCheck::MaxLatencyMs(max) => {
            let ms = latency_ms(t);
            if ms <= *max {
                pass(format!("latency within {max} ms"))
            } else {
                fail(format!("latency {ms} ms (max {max})"))
            }
        }
        LimitCheck::Agent { agent, bound } => agent_bound(t, agent, bound),
        LimitCheck::Escalated(want) => {
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
    }
}

/// A bound on one agent's own calls; an agent that never ran has used nothing.
fn agent_bound(t: &Trajectory, agent: &str, bound: &AgentBound) -> Judged {
    let used = usage_of(t, agent);
    match bound {
        AgentBound::Steps(max) => boolean(
            used.model_calls <= *max,
            format!("`{agent}`: {} model calls (max {max})", used.model_calls),
        ),
        AgentBound::Tokens(max) => boolean(
            used.tokens <= *max,
            format!("`{agent}`: {} tokens (max {max})", used.tokens),
        ),
        AgentBound::CostUsd(max) => match used.cost_usd {
            None => skipped(format!(
                "no model call of `{agent}` was priced: its cost is unknown"
            )),
            Some(usd) if usd <= *max => pass(format!("`{agent}`: cost within ${max}")),
            Some(usd) => fail(format!("`{agent}`: cost ${usd:.6} (max ${max})")),
        },
        AgentBound::LatencyMs(max) if used.latency_ms <= *max => {
            pass(format!("`{agent}`: latency within {max} ms"))
        }
        AgentBound::LatencyMs(max) => fail(format!(
            "`{agent}`: latency {} ms (max {max})",
            used.latency_ms
        )),
    }
}

/// Summed wall time of the model and tool calls.
fn latency_ms(t: &Trajectory) -> u64 {
    t.flat_steps()
        .into_iter()
        .map(|s| match s {
            // Unknown latencies add nothing: the bound is on what was measured.
            Step::Model { latency_ms, .. } | Step::Tool { latency_ms, .. } => {
                latency_ms.unwrap_or(0)
            }
            _ => 0,
        })
        .sum()
}

fn escalation_reason(t: &Trajectory) -> Option<&str> {
    t.flat_steps()
        .into_iter()
        .find_map(|s| match s {
            Step::Escalation { reason } => Some(reason.as_str()),
            _ => None,
        })
        .or(t.error.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::eval::evaluate;
    use crate::suite::model::Case;
    use crate::trajectory::{EndReason, Usage};
    use crate::verdict::Outcome;

    use crate::check::parse::parse_alone as parse;

    fn model(latency_ms: u64) -> Step {
        Step::Model {
            content: None,
            tool_calls: Vec::new(),
            usage: Usage::default(),
            model: "mock".into(),
            latency_ms: Some(latency_ms),
            agent: None,
            started_at: None,
            metadata: Default::default(),
            cost_usd: None,
        }
    }

    fn tool(latency_ms: u64) -> Step {
        Step::Tool {
            id: String::new(),
            name: "lookup_order".into(),
            args: Value::Null,
            result: None,
            error: None,
            latency_ms: Some(latency_ms),
            agent: None,
            started_at: None,
            metadata: Default::default(),
        }
    }

    #[test]
    fn cost_latency_and_escalation_table() {
        use Outcome::*;
        let priced = Trajectory {
            cost_usd: Some(0.0125),
            steps: vec![model(300), tool(150), model(100)],
            ..Default::default()
        };
        let escalated = Trajectory {
            end: EndReason::Escalated,
            steps: vec![Step::Escalation {
                reason: "refund above limit".into(),
            }],
            ..Default::default()
        };
        let unpriced = Trajectory::default();
        let table: [(&str, &Trajectory, Outcome, &str); 9] = [
            ("max_cost_usd: 0.02", &priced, Pass, "cost within $0.02"),
            ("max_cost_usd: 0.0125", &priced, Pass, "within"),
            (
                "max_cost_usd: 0.01",
                &priced,
                Fail,
                "cost $0.012500 (max $0.01)",
            ),
            ("max_cost_usd: 1", &unpriced, Skipped, "cost is unknown"),
            (
                "max_latency_ms: 550",
                &priced,
                Pass,
                "latency within 550 ms",
            ),
            (
                "max_latency_ms: 549",
                &priced,
                Fail,
                "latency 550 ms (max 549)",
            ),
            ("not_escalated: true", &priced, Pass, "did not escalate"),
            (
                "not_escalated: true",
                &escalated,
                Fail,
                "escalated: refund above limit",
            ),
            (
                "escalated: false",
                &escalated,
                Fail,
                "expected no escalation",
            ),
        ];
        for (yaml, t, want, reason) in table {
            let spec = parse(yaml).unwrap_or_else(|e| panic!("{yaml}: {e:?}"));
            let v = evaluate(&spec, &Case::new("c", "hi"), t);
            assert_eq!(v.outcome, want, "{yaml}: {v:?}");
            assert!(v.reason.contains(reason), "{yaml}: {}", v.reason);
        }
    }

    #[test]
    fn names_and_load_errors() {
        let name = |yaml: &str| parse(yaml).unwrap().name;
        assert_eq!(name("not_escalated: true"), "not escalated");
        assert_eq!(name("max_cost_usd: 0.5"), "max_cost_usd 0.5");
        assert_eq!(name("max_latency_ms: 2000"), "max_latency_ms 2000");
        let msg = |yaml: &str| parse(yaml).unwrap_err()[0].to_string();
        assert_eq!(
            msg("not_escalated: false"),
            "`not_escalated: false` checks nothing (hint: remove the check, or write `escalated: true`)"
        );
        assert_eq!(
            msg("max_cost_usd: -1"),
            "`max_cost_usd` must be a number of 0 or more, found -1 (hint: or `max_cost_usd: {max: N, agent: NAME}` for one agent)"
        );
        assert!(msg("max_latency_ms: soon")
            .starts_with("`max_latency_ms` must be a whole number of 0 or more, found a string"));
        assert_eq!(msg("max_tokens: {max: 5}"), "`max_tokens` as a map needs `agent` (hint: or write `max_tokens: N` for the whole run)");
        assert!(msg("max_steps: {agent: a, max: 2, min: 1}").contains("min"));
        assert_eq!(
            name("max_tokens: {max: 500, agent: billing}"),
            "max_tokens 500 by billing"
        );
        assert!(matches!(
            parse("max_cost_usd: 2").unwrap().check,
            crate::check::spec::Check::Limits(LimitCheck::MaxCostUsd(usd)) if usd == 2.0
        ));
    }
}
