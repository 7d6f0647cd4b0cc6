//! `Team`: the validated `harness.team` of a suite — named agents, how they connect (agents
//! offered as tools, handoffs) and the delegation limits — and `RawTeam`, what users write.
//!
//! Each agent is a `HarnessConfig` of its own (model, system prompt, tools, `max_steps`, token
//! and USD budget), derived from the suite's harness, so it runs through the same loop and the
//! same provider stack as a single agent does.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;

use crate::agent::harness::config::HarnessConfig;
use crate::agent::harness::mcp::McpSelect;
use crate::agent::harness::mcp_load::is_mcp_selector;
use crate::provider::types::{ModelId, ToolSpec};

/// `harness.team` as written.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTeam {
    /// The agent that gets the user's turns.
    pub entry: String,
    /// How deep agents may call agents (the entry agent is depth 0; default 3).
    #[serde(default)]
    pub max_depth: Option<u32>,
    /// Sub-agent runs and handoffs per case, all agents together (default 10).
    #[serde(default)]
    pub max_calls: Option<u32>,
    pub agents: BTreeMap<String, RawAgent>,
}

/// One agent as written.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAgent {
    /// `provider:model` (default: the harness's `model`).
    #[serde(default)]
    pub model: Option<String>,
    /// The agent's system prompt, inline.
    #[serde(default)]
    pub instructions: Option<String>,
    /// What the agent does, offered to its callers as the tool's description.
    #[serde(default)]
    pub description: Option<String>,
    /// Tools of the harness (builtin or custom) this agent may call.
    #[serde(default)]
    pub tools: Vec<String>,
    /// Agents offered to this one as tools: it gets their final answer.
    #[serde(default)]
    pub agents: Vec<String>,
    /// Agents this one may hand the conversation to (`transfer_to_NAME`).
    #[serde(default)]
    pub handoffs: Vec<String>,
    #[serde(default)]
    pub max_steps: Option<u32>,
    /// Tokens this agent may spend, its sub-agents' included.
    #[serde(default)]
    pub max_tokens: Option<u64>,
    /// USD this agent may spend, its sub-agents' included.
    #[serde(default)]
    pub max_cost_usd: Option<f64>,
}

pub(crate) const DEFAULT_MAX_DEPTH: u32 = 3;
pub(crate) const DEFAULT_MAX_CALLS: u32 = 10;
/// The tool name a handoff to `agent` is offered as.
pub(crate) const HANDOFF_PREFIX: &str = "transfer_to_";

/// The validated team.
#[derive(Debug, Clone)]
pub struct Team {
    pub entry: String,
    pub max_depth: u32,
    pub max_calls: u32,
    pub agents: BTreeMap<String, Arc<TeamAgent>>,
}

/// One validated agent.
#[derive(Debug, Clone)]
pub struct TeamAgent {
    pub name: String,
    /// Its own model, prompt, tools, `max_steps` and budget (as `budget.case_*`).
    pub config: HarnessConfig,
    /// The specs of the agents it may call and hand off to, offered after its tools.
    pub agent_specs: Vec<ToolSpec>,
    /// Tool name → what calling it does.
    pub links: BTreeMap<String, Link>,
}

/// What an agent-tool call does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// Runs the agent on `task`; the caller gets its final answer.
    Call(String),
    /// Passes the conversation to the agent.
    Handoff(String),
}

/// One problem of a team: the message and the text to place it at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TeamProblem {
    pub message: String,
    pub needle: String,
}

impl Team {
    /// Validates `raw` against the suite's harness `base` (whose tools are the ones agents may
    /// pick from). Every problem is returned.
    pub(crate) fn load(raw: &RawTeam, base: &HarnessConfig) -> Result<Team, Vec<TeamProblem>> {
        let mut problems = Vec::new();
        let mut problem = |message: String, needle: &str| {
            problems.push(TeamProblem {
                message,
                needle: needle.to_string(),
            })
        };
        if !raw.agents.contains_key(&raw.entry) {
            problem(
                format!("`team.entry`: no agent `{}` in `team.agents`", raw.entry),
                &raw.entry,
            );
        }
        let custom: Vec<&str> = base
            .custom_tools
            .iter()
            .map(|t| t.spec.name.as_str())
            .collect();
        let mut agents = BTreeMap::new();
        for (name, a) in &raw.agents {
            let model = match a.model.as_deref().map(ModelId::parse) {
                None => base.model.clone(),
                Some(Ok(m)) => m,
                Some(Err(e)) => {
                    problem(
                        format!("agent `{name}`: {e}"),
                        a.model.as_deref().unwrap_or(name),
                    );
                    continue;
                }
            };
            let (mut builtin, mut own_custom) = (Vec::new(), Vec::new());
            let mut mcp_pick: Vec<(String, McpSelect)> = Vec::new();
            for tool in &a.tools {
                if is_mcp_selector(tool) {
                    // `SERVER.*` or `SERVER.TOOL`, of what the harness takes from the server.
                    match pick_mcp(tool, base) {
                        Ok((server, select)) => add_pick(&mut mcp_pick, server, select),
                        Err(why) => problem(format!("agent `{name}`: {why}"), tool),
                    }
                } else if base.tools.contains(tool) {
                    builtin.push(tool.clone());
                } else if let Some(t) = base.custom_tools.iter().find(|t| &t.spec.name == tool) {
                    own_custom.push(t.clone());
                } else {
                    problem(
                        format!(
                            "agent `{name}`: tool `{tool}` is not one of the harness's tools ({})",
                            base.tools
                                .iter()
                                .map(String::as_str)
                                .chain(custom.iter().copied())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        tool,
                    );
                }
            }
            let mut links = BTreeMap::new();
            let mut agent_specs = Vec::new();
            for (other, handoff) in a
                .agents
                .iter()
                .map(|o| (o, false))
                .chain(a.handoffs.iter().map(|o| (o, true)))
            {
                let Some(target) = raw.agents.get(other) else {
                    problem(
                        format!("agent `{name}`: no agent `{other}` in `team.agents`"),
                        other,
                    );
                    continue;
                };
                let about = target.description.clone().unwrap_or_default();
                let (tool, link, spec) = if handoff {
                    let tool = format!("{HANDOFF_PREFIX}{other}");
                    let spec = ToolSpec {
                        name: tool.clone(),
                        description: format!(
                            "Hand the conversation over to the {other} agent. {about}"
                        )
                        .trim()
                        .to_string(),
                        parameters: json!({"type": "object", "properties": {}}),
                    };
                    (tool, Link::Handoff(other.clone()), spec)
                } else {
                    let spec = ToolSpec {
                        name: other.clone(),
                        description: format!(
                            "Ask the {other} agent; it answers with its result. {about}"
                        )
                        .trim()
                        .to_string(),
                        parameters: json!({
                            "type": "object",
                            "properties": {"task": {"type": "string", "description": "What the agent should do"}},
                            "required": ["task"]
                        }),
                    };
                    (other.clone(), Link::Call(other.clone()), spec)
                };
                if links.contains_key(&tool) || a.tools.contains(&tool) {
                    problem(
                        format!("agent `{name}`: tool `{tool}` is offered twice"),
                        other,
                    );
                    continue;
                }
                links.insert(tool, link);
                agent_specs.push(spec);
            }
            if a.max_steps == Some(0) {
                problem(
                    format!("agent `{name}`: `max_steps` must be at least 1"),
                    "max_steps",
                );
            }
            if let Some(usd) = a.max_cost_usd.filter(|u| !u.is_finite() || *u < 0.0) {
                problem(
                    format!("agent `{name}`: `max_cost_usd` must be 0 or more, found {usd}"),
                    "max_cost_usd",
                );
            }
            let mut config = base.clone();
            config.model = model;
            config.system = a.instructions.clone();
            config.tools = builtin;
            config.custom_tools = own_custom;
            config.mcp_pick = Some(mcp_pick);
            config.max_steps = a.max_steps.unwrap_or(base.max_steps);
            config.budget.case_tokens = a.max_tokens;
            config.budget.case_usd = a.max_cost_usd;
            // Its own tools and prompt, compiled once for the suite like the harness's.
            config.toolset = Default::default();
            config.system_template = Default::default();
            config.team = None;
            agents.insert(
                name.clone(),
                Arc::new(TeamAgent {
                    name: name.clone(),
                    config,
                    agent_specs,
                    links,
                }),
            );
        }
        if raw.max_depth == Some(0) {
            problem("`team.max_depth` must be at least 1".into(), "max_depth");
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Team {
            entry: raw.entry.clone(),
            max_depth: raw.max_depth.unwrap_or(DEFAULT_MAX_DEPTH),
            max_calls: raw.max_calls.unwrap_or(DEFAULT_MAX_CALLS),
            agents,
        })
    }

    /// The MCP tools agents pick one by one (`retail.get_order`): each run checks that its
    /// servers list them.
    pub(crate) fn mcp_named(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .agents
            .values()
            .flat_map(|a| a.config.mcp_pick.iter().flatten())
            .flat_map(|(_, select)| match select {
                McpSelect::All => Vec::new(),
                McpSelect::Only(names) => names.clone(),
            })
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Every agent's model, for the provider setup and the mock rules to load.
    pub(crate) fn models(&self) -> impl Iterator<Item = &ModelId> {
        self.agents.values().map(|a| &a.config.model)
    }
}

/// A team agent's `SERVER.*` or `SERVER.TOOL`: the server must be the harness's, and a single
/// tool one the harness takes from it.
fn pick_mcp(entry: &str, base: &HarnessConfig) -> Result<(String, McpSelect), String> {
    let (server, tool) = entry.split_once('.').unwrap_or((entry, ""));
    let Some(s) = base.mcp.iter().find(|s| s.name == server) else {
        return Err(format!("tool `{entry}` names no MCP server of the harness"));
    };
    match (tool, &s.select) {
        ("*", _) => Ok((server.to_string(), McpSelect::All)),
        ("", _) => Err(format!("tool `{entry}` names no tool")),
        (t, McpSelect::Only(names)) if !names.iter().any(|n| n == t) => Err(format!(
            "tool `{entry}` is not one the harness takes from `{server}` ({})",
            names.join(", ")
        )),
        (t, _) => Ok((server.to_string(), McpSelect::Only(vec![t.to_string()]))),
    }
}

/// Adds one `SERVER.…` choice to an agent's picks: `*` takes the whole server.
fn add_pick(picks: &mut Vec<(String, McpSelect)>, server: String, select: McpSelect) {
    let Some((_, mine)) = picks.iter_mut().find(|(s, _)| *s == server) else {
        picks.push((server, select));
        return;
    };
    match (mine, select) {
        (McpSelect::All, _) => {}
        (mine, McpSelect::All) => *mine = McpSelect::All,
        (McpSelect::Only(names), McpSelect::Only(more)) => {
            for n in more {
                if !names.contains(&n) {
                    names.push(n);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::harness::mcp::McpServer;
    use crate::agent::harness::raw_mcp::RawMcpServer;
    use crate::limits::Limits;

    fn harness(select: McpSelect) -> HarnessConfig {
        let raw: RawMcpServer = serde_yaml::from_str("command: [python3, server.py]").unwrap();
        let dir = std::path::Path::new(".");
        let server = McpServer::compile("retail", &raw, select, dir, &Limits::DEFAULT).unwrap();
        HarnessConfig {
            mcp: vec![Arc::new(server)],
            ..HarnessConfig::bare("mock:m", 5)
        }
    }

    fn team(tools: &str) -> RawTeam {
        serde_yaml::from_str(&format!("entry: a\nagents:\n  a:\n    tools: {tools}\n")).unwrap()
    }

    fn messages(r: Result<Team, Vec<TeamProblem>>) -> Vec<String> {
        r.unwrap_err().into_iter().map(|p| p.message).collect()
    }

    #[test]
    fn agents_pick_the_mcp_tools_the_harness_takes() {
        let some = harness(McpSelect::Only(vec![
            "get_order".into(),
            "cancel_order".into(),
        ]));
        let t = Team::load(&team("[retail.get_order, retail.cancel_order]"), &some).unwrap();
        let pick = t.agents["a"].config.mcp_pick.clone().unwrap();
        let both = McpSelect::Only(vec!["get_order".into(), "cancel_order".into()]);
        assert_eq!(pick, [("retail".to_string(), both)]);
        assert_eq!(t.mcp_named(), ["cancel_order", "get_order"]);
        // `*` takes the whole server, whatever else is listed.
        let t = Team::load(&team("[retail.get_order, retail.*]"), &some).unwrap();
        let pick = t.agents["a"].config.mcp_pick.clone().unwrap();
        assert_eq!(pick, [("retail".to_string(), McpSelect::All)]);
        assert!(t.mcp_named().is_empty());
        assert_eq!(
            messages(Team::load(&team("[retail.return_items]"), &some)),
            ["agent `a`: tool `retail.return_items` is not one the harness takes from `retail` (get_order, cancel_order)"]
        );
        assert_eq!(
            messages(Team::load(&team("[shop.*]"), &some)),
            ["agent `a`: tool `shop.*` names no MCP server of the harness"]
        );
        // A harness that takes all of a server's tools: any name, checked by each run.
        let all = harness(McpSelect::All);
        let t = Team::load(&team("[retail.return_items]"), &all).unwrap();
        assert_eq!(t.mcp_named(), ["return_items"]);
    }
}
