//! `HarnessConfig`: the validated `target.harness` of a suite — model, prompt, tools, world,
//! limits — with its tools and system prompt compiled once for the whole suite.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::agent::harness::budget::Budget;
use crate::agent::harness::custom_tool::CustomTool;
use crate::agent::harness::faults::Faults;
use crate::agent::harness::mcp::{McpSelect, McpServer};
use crate::agent::harness::pricing::PriceTable;
use crate::agent::harness::state_source::StateSource;
use crate::agent::harness::tools::SharedToolSet;
use crate::provider::types::ModelId;
use crate::template::SharedTemplate;

#[derive(Debug, Clone)]
pub struct HarnessConfig {
    pub model: ModelId,
    /// Compiled system prompt template source (rendered per case with `case` and `vars`).
    pub system: Option<String>,
    /// Builtin tool names, in the order given.
    pub tools: Vec<String>,
    /// The world fixture (JSON), cloned and mutated per case.
    pub world: Option<Arc<Value>>,
    pub max_steps: u32,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    /// Malformed tool calls (unknown tool, invalid arguments) the model may repair per case.
    pub max_repairs: u32,
    /// Token budget of the history sent to the model (`None`: everything).
    pub context_tokens: Option<u64>,
    /// Tools beyond the builtin world, offered after the builtin ones.
    pub custom_tools: Vec<Arc<CustomTool>>,
    /// Fault injection by tool name (builtin or custom).
    pub faults: BTreeMap<String, Faults>,
    /// USD per million tokens by `provider:model`: built-in defaults plus the suite's.
    pub pricing: PriceTable,
    /// Per-case limits (the run limits live in `RunSettings`).
    pub budget: Budget,
    /// MCP tool servers, started afresh for each run (`mcp:`).
    pub mcp: Vec<Arc<McpServer>>,
    /// Which of the run's MCP tools this agent is offered: `None`, all of them (the harness);
    /// a team agent's own choice from its `tools` (`retail.*`, `retail.get_order`).
    pub mcp_pick: Option<Vec<(String, McpSelect)>>,
    /// Tool names the checks and `faults` use that no builtin or custom tool has: each run
    /// checks them against what its MCP servers list (a typo would otherwise pass as a tool
    /// never called). Sorted.
    pub mcp_named: Vec<String>,
    /// `state:`: the custom tools' world, read at the end of each run as its end state.
    pub state: Option<Arc<StateSource>>,
    /// The model playing a case's simulated user (default: the agent's model).
    pub user_model: Option<ModelId>,
    /// `tools` and `custom_tools` compiled, once for the whole suite.
    pub toolset: SharedToolSet,
    /// `system` compiled, once for the whole suite.
    pub system_template: SharedTemplate,
    /// Named agents and how they connect (`harness.team`); `None`: one agent.
    pub team: Option<Arc<crate::agent::harness::team::Team>>,
}

#[cfg(test)]
impl HarnessConfig {
    /// A harness on `model` with no prompt, tools, world, faults or team: tests set what
    /// they are about on top (`..HarnessConfig::bare(..)`).
    pub(crate) fn bare(model: &str, max_steps: u32) -> HarnessConfig {
        HarnessConfig {
            model: ModelId::parse(model).expect("a test model id"),
            system: None,
            tools: vec![],
            world: None,
            max_steps,
            temperature: None,
            max_tokens: None,
            max_repairs: 2,
            context_tokens: None,
            custom_tools: vec![],
            toolset: Default::default(),
            system_template: Default::default(),
            faults: Default::default(),
            pricing: Default::default(),
            budget: Default::default(),
            user_model: None,
            mcp: vec![],
            mcp_pick: None,
            mcp_named: vec![],
            state: None,
            team: None,
        }
    }
}
