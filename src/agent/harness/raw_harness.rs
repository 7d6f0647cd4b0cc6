//! `RawHarness`: `target.harness` of a suite as written (serde mirror), with its fault and
//! price entries; `suite::load` validates it into a `HarnessConfig`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::agent::harness::raw_custom_tool::RawCustomTool;
use crate::agent::harness::raw_mcp::RawMcpServer;
use crate::agent::harness::state_source::RawStateSource;

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHarness {
    /// `provider:model`, e.g. `mock:support`.
    pub model: String,
    /// Path to a minijinja template for the system prompt (sees `case` and `vars`).
    #[serde(default)]
    pub system: Option<String>,
    /// Builtin tool names offered to the model.
    #[serde(default)]
    pub tools: Vec<String>,
    /// Path to the JSON world fixture the builtin tools act on.
    #[serde(default)]
    pub world: Option<String>,
    #[serde(default)]
    pub max_steps: Option<u32>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Models tried in order when `model` is down (breaker open or retries exhausted).
    #[serde(default)]
    pub fallback: Vec<String>,
    /// Malformed tool calls the model may repair per case (default 2).
    #[serde(default)]
    pub max_repairs: Option<u32>,
    /// Token budget of the history sent to the model (chars/4 estimate).
    #[serde(default)]
    pub context_tokens: Option<u64>,
    /// Tools beyond the builtin world: `mock`, `http` or `command`.
    #[serde(default)]
    pub custom_tools: Vec<RawCustomTool>,
    /// MCP tool servers by name; `tools: [NAME.*]` offers all of a server's tools,
    /// `NAME.TOOL` one of them.
    #[serde(default)]
    pub mcp: BTreeMap<String, RawMcpServer>,
    /// Where the world of the custom tools' server is read at the end of each run (the run's
    /// end state): `{command: {argv: [...]}}` or `{http: {url: ...}}`.
    #[serde(default)]
    pub state: Option<RawStateSource>,
    /// Fault injection by tool name: `{lookup_order: {error_rate: 0.3, seed: 7}}`.
    #[serde(default)]
    pub faults: BTreeMap<String, RawFaults>,
    /// Prices in USD per million tokens by `provider:model`, over the built-in table.
    #[serde(default)]
    pub pricing: BTreeMap<String, RawPrice>,
    /// `provider:model` playing simulated users (default: `model`).
    #[serde(default)]
    pub user_model: Option<String>,
    /// Named agents and how they connect (a multi-agent system).
    #[serde(default)]
    pub team: Option<crate::agent::harness::team::RawTeam>,
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFaults {
    /// Probability (0..1) that a call fails with an injected error instead of running.
    #[serde(default)]
    pub error_rate: Option<f64>,
    /// Added delay before each call.
    #[serde(default)]
    pub latency_ms: Option<u64>,
    /// Seed of the fault draws (default 0).
    #[serde(default)]
    pub seed: Option<u64>,
}

#[derive(Debug, Clone, Copy, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPrice {
    /// USD per million input tokens.
    pub input: f64,
    /// USD per million output tokens.
    pub output: f64,
}
