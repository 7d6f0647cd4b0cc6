//! `RawMcpServer`: one `mcp:` entry of the harness as written (serde mirror);
//! `McpServer::compile` validates it.

use std::collections::BTreeMap;

use serde::Deserialize;

/// An MCP tool server of the harness: one the harness starts for each run (`{command: [python3,
/// server.py]}`, stdio), or one already running at a URL (`{url: http://127.0.0.1:8765/mcp}`,
/// streamable HTTP, a session per run). Exactly one of `command` and `url`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMcpServer {
    /// Program and arguments of a stdio server; no shell. A program with a `/` is relative to
    /// the suite's folder, a bare name is looked up on `PATH`; the server runs in the suite's
    /// folder.
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// The endpoint of a streamable-HTTP server (http or https), e.g.
    /// `http://127.0.0.1:8765/mcp`. Each run opens its own MCP session and ends it (DELETE).
    #[serde(default)]
    pub url: Option<String>,
    /// HTTP headers sent with every request to `url` (e.g. `Authorization: Bearer …`). Their
    /// values are secrets: redacted from every report and log.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Added to gauntlet's environment (`command` only).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Provider keys (`*_API_KEY`) the server may see; all others are withheld (`command`
    /// only).
    #[serde(default)]
    pub pass_env: Vec<String>,
    /// Bound on each tool call and the state read (default `30s`): a server that takes
    /// longer is taken as hung, and the run errors.
    #[serde(default)]
    pub timeout: Option<String>,
    /// Bound on the start: the process (or the connection), the initialize handshake and
    /// `tools/list` (default `30s`; an interpreter importing a large SDK on a busy machine
    /// takes seconds).
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
