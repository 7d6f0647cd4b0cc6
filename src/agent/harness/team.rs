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
        // Team agents pick their tools from the harness's at load; an MCP server's tools are
        // known only once it runs, so the two do not combine yet.
        if let Some(server) = base.mcp.first() {
            problem(
                format!(
                    "`team` cannot be used with MCP servers yet (`mcp.{}`): give the team's \
                     tools as builtin or custom tools",
                    server.name
                ),
                "team:",
            );
        }
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
            for tool in &a.tools {
                if base.tools.contains(tool) {
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

    /// Every agent's model, for the provider setup and the mock rules to load.
    pub(crate) fn models(&self) -> impl Iterator<Item = &ModelId> {
        self.agents.values().map(|a| &a.config.model)
    }
}
