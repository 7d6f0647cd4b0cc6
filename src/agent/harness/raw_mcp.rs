//! `RawMcpServer`: one `mcp:` entry of the harness as written (serde mirror);
//! `McpServer::compile` validates it.

use std::collections::BTreeMap;

use serde::Deserialize;

/// An MCP tool server the harness starts for each run: `{command: [python3, server.py]}`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMcpServer {
    /// Program and arguments of a stdio server; no shell. A program with a `/` is relative to
    /// the suite's folder, a bare name is looked up on `PATH`; the server runs in the suite's
    /// folder.
    pub command: Vec<String>,
    /// Added to gauntlet's environment.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Provider keys (`*_API_KEY`) the server may see; all others are withheld.
    #[serde(default)]
    pub pass_env: Vec<String>,
    /// Bound on each tool call and the state read (default `30s`): a server that takes
    /// longer is taken as hung, and the run errors.
    #[serde(default)]
    pub timeout: Option<String>,
    /// Bound on the start: the process, the initialize handshake and `tools/list` (default
    /// `30s`; an interpreter importing a large SDK on a busy machine takes seconds).
    #[serde(default)]
    pub start_timeout: Option<String>,
    /// Where the server's world is read at the end of each run: the run's end state.
    #[serde(default)]
    pub state: Option<RawMcpState>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMcpState {
    /// URI of a resource whose text is JSON, e.g. `state://db`.
    pub resource: String,
}
