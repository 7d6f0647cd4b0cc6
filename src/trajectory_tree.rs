//! Who did what in a multi-agent trajectory: the owner of each step, the agents that ran (and
//! who ran them), the handoffs between them, and each agent's own usage. Pure functions over a
//! `Trajectory`, read by the agent-aware checks (`check::family::agents`, the `agent` key of the
//! tool, trajectory and limit checks) and by `expr`'s `agents` variable.
//!
//! Ownership: a `model` or `tool` step belongs to the agent its `agent` field names; without
//! one, to the nearest enclosing `agent` step; at the top level with neither, to no agent
//! (`None`). An `agent` step itself is *run by* the agent that owns its position (its caller).
//!
//! A handoff is a top-level `agent` step that directly follows another (control passed from one
//! agent to the next, as the OpenAI Agents SDK's traces and the bundled harness record it), or a
//! nested `agent` step whose `metadata.handoff` is `true`: from the `agent` step just before it
//! at its level, else from its caller. Nested agent steps without the mark are agents used as
//! tools, however many follow each other.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::trajectory::{Step, Trajectory, Usage};

/// One step of the tree in pre-order with its owner and depth (0 = top level).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Owned<'a> {
    pub(crate) step: &'a Step,
    /// The agent the step belongs to; for an `agent` step, the agent that ran it.
    pub(crate) owner: Option<&'a str>,
    pub(crate) depth: usize,
}

/// Every step in pre-order (as `Trajectory::flat_steps`), each with its owner.
pub(crate) fn owned_steps(t: &Trajectory) -> Vec<Owned<'_>> {
    let mut out = Vec::new();
    walk(&t.steps, None, 0, &mut out);
    out
}

fn walk<'a>(steps: &'a [Step], enclosing: Option<&'a str>, depth: usize, out: &mut Vec<Owned<'a>>) {
    for step in steps {
        let owner = match step {
            Step::Model { agent, .. } | Step::Tool { agent, .. } => agent.as_deref().or(enclosing),
            _ => enclosing,
        };
        out.push(Owned { step, owner, depth });
        if let Step::Agent { name, steps, .. } = step {
            walk(steps, Some(name), depth + 1, out);
        }
    }
}

/// Every tool call in order: (name, args, owner).
pub(crate) fn owned_tool_calls(t: &Trajectory) -> Vec<(&str, &Value, Option<&str>)> {
    owned_steps(t)
        .into_iter()
        .filter_map(|o| match o.step {
            Step::Tool { name, args, .. } => Some((name.as_str(), args, o.owner)),
            _ => None,
        })
        .collect()
}

/// The tool calls (name, args) in order: all of them (`agent: None`), or only those the named
/// agent made itself (not its sub-agents').
pub(crate) fn tool_calls_of<'a>(
    t: &'a Trajectory,
    agent: Option<&str>,
) -> Vec<(&'a str, &'a Value)> {
    owned_steps(t)
        .into_iter()
        .filter(|o| agent.is_none() || o.owner == agent)
        .filter_map(|o| match o.step {
            Step::Tool { name, args, .. } => Some((name.as_str(), args)),
            _ => None,
        })
        .collect()
}

/// One run of a sub-agent: an `agent` step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AgentRun<'a> {
    pub(crate) name: &'a str,
    /// The agent that ran it (`None` at the top level of an unnamed root).
    pub(crate) caller: Option<&'a str>,
    pub(crate) depth: usize,
}

/// Every `agent` step in pre-order.
pub(crate) fn agent_runs(t: &Trajectory) -> Vec<AgentRun<'_>> {
    owned_steps(t)
        .into_iter()
        .filter_map(|o| match o.step {
            Step::Agent { name, .. } => Some(AgentRun {
                name,
                caller: o.owner,
                depth: o.depth,
            }),
            _ => None,
        })
        .collect()
}

/// The handoffs (from, to) in order; see the module's comment for what counts as one.
pub(crate) fn handoffs(t: &Trajectory) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    level_handoffs(&t.steps, None, &mut out);
    out
}

fn level_handoffs<'a>(
    steps: &'a [Step],
    enclosing: Option<&'a str>,
    out: &mut Vec<(&'a str, &'a str)>,
) {
    let mut previous: Option<&str> = None;
    for step in steps {
        match step {
            Step::Agent {
                name,
                steps,
                metadata,
                ..
            } => {
                let marked = metadata.get("handoff") == Some(&Value::Bool(true));
                let from = match enclosing {
                    None => previous,
                    Some(caller) => marked.then(|| previous.unwrap_or(caller)),
                };
                if let Some(from) = from {
                    out.push((from, name.as_str()));
                }
                level_handoffs(steps, Some(name), out);
                previous = Some(name);
            }
            // A user turn between two agents is a new request, not a handoff.
            Step::User { .. } => previous = None,
            _ => {}
        }
    }
}

/// One agent's own work: its model calls, tokens, USD, wall time and tool calls.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct AgentUsage {
    /// How many times the agent ran as an `agent` step.
    pub(crate) runs: u64,
    pub(crate) model_calls: u64,
    pub(crate) tokens: u64,
    #[serde(skip)]
    pub(crate) usage: Usage,
    /// USD over its priced model calls; `None` when none was priced.
    pub(crate) cost_usd: Option<f64>,
    /// Summed measured wall time of its model and tool calls.
    pub(crate) latency_ms: u64,
    /// Its own tool calls' names, in order.
    pub(crate) tools: Vec<String>,
}

/// Each agent's own usage, by name (steps with no owner are left out).
pub(crate) fn usage_by_agent(t: &Trajectory) -> BTreeMap<String, AgentUsage> {
    let mut out: BTreeMap<String, AgentUsage> = BTreeMap::new();
    for o in owned_steps(t) {
        if let Step::Agent { name, .. } = o.step {
            out.entry(name.clone()).or_default().runs += 1;
        }
        let Some(owner) = o.owner else { continue };
        match o.step {
            Step::Model {
                usage,
                cost_usd,
                latency_ms,
                ..
            } => {
                let a = out.entry(owner.to_string()).or_default();
                a.model_calls += 1;
                a.usage.add(*usage);
                a.tokens = a.usage.total();
                if let Some(c) = cost_usd {
                    a.cost_usd = Some(a.cost_usd.unwrap_or(0.0) + c);
                }
                a.latency_ms = a.latency_ms.saturating_add(latency_ms.unwrap_or(0));
            }
            Step::Tool {
                name, latency_ms, ..
            } => {
                let a = out.entry(owner.to_string()).or_default();
                a.tools.push(name.clone());
                a.latency_ms = a.latency_ms.saturating_add(latency_ms.unwrap_or(0));
            }
            _ => {}
        }
    }
    out
}

/// One agent's own usage (all zero when it never ran).
pub(crate) fn usage_of(t: &Trajectory, agent: &str) -> AgentUsage {
    usage_by_agent(t).remove(agent).unwrap_or_default()
}

/// The names of every agent that appears (as an `agent` step or a step's owner), sorted.
pub(crate) fn agent_names(t: &Trajectory) -> Vec<&str> {
    let mut names: Vec<&str> = owned_steps(t)
        .into_iter()
        .flat_map(|o| {
            let own = match o.step {
                Step::Agent { name, .. } => Some(name.as_str()),
                _ => None,
            };
            own.into_iter().chain(o.owner)
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// triage (top-level agent) calls lookup_order, runs kb as a tool, hands off to billing,
    /// which refunds.
    pub(crate) fn tree() -> Trajectory {
        serde_json::from_value(json!({"steps": [
            {"type": "user", "content": "refund 7"},
            {"type": "agent", "name": "triage", "steps": [
                {"type": "model", "usage": {"input_tokens": 10, "output_tokens": 2}, "cost_usd": 0.5},
                {"type": "tool", "name": "lookup_order", "args": {"order_id": "7"}},
                {"type": "agent", "name": "kb", "steps": [
                    {"type": "model", "usage": {"input_tokens": 3, "output_tokens": 1}},
                    {"type": "tool", "name": "search_kb", "args": {"q": "refund"}}]}]},
            {"type": "agent", "name": "billing", "steps": [
                {"type": "model", "usage": {"input_tokens": 5, "output_tokens": 5}},
                {"type": "tool", "name": "issue_refund", "args": {"order_id": "7"}},
                {"type": "tool", "name": "send_email", "args": {}, "agent": "mailer"}]}
        ]}))
        .unwrap()
    }

    #[test]
    fn owners_runs_and_handoffs() {
        let t = tree();
        let names = |a: Option<&str>| -> Vec<&str> {
            tool_calls_of(&t, a).into_iter().map(|(n, _)| n).collect()
        };
        assert_eq!(
            names(None),
            ["lookup_order", "search_kb", "issue_refund", "send_email"]
        );
        assert_eq!(names(Some("triage")), ["lookup_order"], "not kb's call");
        assert_eq!(
            names(Some("billing")),
            ["issue_refund"],
            "an explicit agent wins"
        );
        assert_eq!(names(Some("mailer")), ["send_email"]);
        let runs: Vec<(&str, Option<&str>, usize)> = agent_runs(&t)
            .into_iter()
            .map(|r| (r.name, r.caller, r.depth))
            .collect();
        assert_eq!(
            runs,
            [
                ("triage", None, 0),
                ("kb", Some("triage"), 1),
                ("billing", None, 0)
            ]
        );
        assert_eq!(handoffs(&t), [("triage", "billing")]);
        assert_eq!(agent_names(&t), ["billing", "kb", "mailer", "triage"]);
    }

    #[test]
    fn usage_is_each_agents_own() {
        let t = tree();
        let u = usage_by_agent(&t);
        assert_eq!(u["triage"].tokens, 12, "kb's tokens are kb's");
        assert_eq!(u["triage"].cost_usd, Some(0.5));
        assert_eq!(u["kb"].tokens, 4);
        assert_eq!(u["kb"].cost_usd, None, "no priced call");
        assert_eq!(u["billing"].model_calls, 1);
        assert_eq!(u["billing"].tools, ["issue_refund"]);
        assert_eq!(usage_of(&t, "nobody"), AgentUsage::default());
    }

    #[test]
    fn a_nested_step_marked_handoff_and_a_user_turn_between_agents() {
        let t: Trajectory = serde_json::from_value(json!({"steps": [
            {"type": "agent", "name": "a", "steps": [
                {"type": "agent", "name": "b", "metadata": {"handoff": true}, "steps": []}]},
            {"type": "user", "content": "next"},
            {"type": "agent", "name": "c", "steps": [
                {"type": "agent", "name": "d", "steps": []},
                {"type": "agent", "name": "d", "steps": []},
                {"type": "agent", "name": "e", "metadata": {"handoff": true}, "steps": []}]}
        ]}))
        .unwrap();
        assert_eq!(
            handoffs(&t),
            [("a", "b"), ("d", "e")],
            "d twice is a tool used twice"
        );
    }
}
