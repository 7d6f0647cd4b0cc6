//! `McpServer`: an MCP tool server of the harness (`mcp:` in the suite), and `McpTools`, the
//! live sessions of one run.
//!
//! Each run of a case starts its own server processes (stdio transport, through
//! `crate::process`: own process group, killed with the run), lists their tools with
//! `tools/list`, and reads the declared state resource at the end: a world never leaks from one
//! case or repeat into the next. A server that cannot start, dies or hangs is `McpError`: the
//! run ends in `error` with the tail of the server's stderr. A tool that answers `isError` is the
//! tool's answer, given to the model like any failed call.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::model::{CallToolRequestParams, ReadResourceRequestParams};
use rmcp::service::{RoleClient, RunningService, ServiceError};
use rmcp::ServiceExt;
use serde_json::Value;
use tokio::process::Child;
use tokio::task::JoinHandle;

use crate::agent::harness::raw_mcp::RawMcpServer;
use crate::duration::parse_duration;
use crate::process::{locate_program, Group, Program, Tail};
use crate::provider::types::ToolSpec;
use crate::text::tail;
use crate::trajectory::{ToolFailure, ToolOutcome};

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How much of a broken server's stderr its error quotes.
const STDERR_TAIL: usize = 600;
/// How long a dead server's stderr may take to reach its end before what was read is quoted.
const STDERR_GRACE: Duration = Duration::from_millis(500);

/// Which of a server's tools the model is offered (`tools: [retail.*]` or `[retail.cancel]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum McpSelect {
    All,
    Only(Vec<String>),
}

/// A validated `mcp:` entry.
#[derive(Debug)]
pub struct McpServer {
    pub name: String,
    program: Program,
    timeout: Duration,
    start_timeout: Duration,
    /// The resource read at the end of each run as its end state.
    pub state_resource: Option<String>,
    pub select: McpSelect,
    stderr_bytes: u64,
}

/// Why an `mcp:` entry is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum McpConfigError {
    #[error("MCP server name `{0}` must be letters, digits, `_` or `-`")]
    BadName(String),
    #[error("MCP server `{0}`: `command` must not be empty")]
    EmptyCommand(String),
    #[error("MCP server `{server}`: `{field}`: {reason}")]
    BadTimeout {
        server: String,
        field: &'static str,
        reason: String,
    },
    #[error("MCP server `{0}`: `state.resource` must not be empty")]
    EmptyResource(String),
}

impl McpServer {
    pub(crate) fn compile(
        name: &str,
        raw: &RawMcpServer,
        select: McpSelect,
        suite_dir: &Path,
        stderr_bytes: u64,
    ) -> Result<McpServer, McpConfigError> {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(McpConfigError::BadName(name.to_string()));
        }
        let Some(program) = raw.command.first() else {
            return Err(McpConfigError::EmptyCommand(name.to_string()));
        };
        let bound = |field: &'static str, text: &Option<String>| {
            text.as_deref()
                .map(parse_duration)
                .transpose()
                .map_err(|e| McpConfigError::BadTimeout {
                    server: name.to_string(),
                    field,
                    reason: e.to_string(),
                })
                .map(|d| d.unwrap_or(DEFAULT_TIMEOUT))
        };
        let timeout = bound("timeout", &raw.timeout)?;
        let start_timeout = bound("start_timeout", &raw.start_timeout)?;
        if raw.state.as_ref().is_some_and(|s| s.resource.is_empty()) {
            return Err(McpConfigError::EmptyResource(name.to_string()));
        }
        Ok(McpServer {
            name: name.to_string(),
            program: Program {
                path: locate_program(program, suite_dir),
                args: raw.command[1..].to_vec(),
                // Like a command agent: relative arguments (`../server.py`) read from the suite.
                cwd: suite_dir.to_path_buf(),
                env: raw.env.clone(),
                pass_env: raw.pass_env.clone(),
            },
            timeout,
            start_timeout,
            state_resource: raw.state.as_ref().map(|s| s.resource.clone()),
            select,
            stderr_bytes,
        })
    }
}

/// A server that failed the run, with the tail of what it wrote on stderr.
#[derive(Debug, thiserror::Error)]
#[error("MCP server `{server}` {kind}; its stderr: {stderr}")]
pub(crate) struct McpError {
    pub server: String,
    pub kind: McpErrorKind,
    pub stderr: String,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum McpErrorKind {
    #[error("cannot start `{program}`: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("failed its handshake: {0}")]
    Handshake(String),
    #[error("did not answer {what} within {}s (hung)", .after.as_secs_f64())]
    TimedOut { what: String, after: Duration },
    #[error("broke during {what}: {reason}")]
    Broken { what: String, reason: String },
    #[error("state resource `{uri}`: {reason}")]
    BadState { uri: String, reason: String },
    #[error("has no tool `{0}` (listed in `tools`)")]
    MissingTool(String),
    #[error("tool `{tool}` has an invalid input schema: {reason}")]
    BadSchema { tool: String, reason: String },
}

/// One live server of one run.
struct McpSession {
    server: Arc<McpServer>,
    client: RunningService<RoleClient, ()>,
    stderr: Arc<Mutex<Tail>>,
    stderr_done: Mutex<Option<JoinHandle<()>>>,
    // Held for their drop: the whole process group is killed with the run.
    _child: Child,
    _group: Group,
}

impl McpSession {
    async fn start(
        server: Arc<McpServer>,
    ) -> Result<(McpSession, Vec<rmcp::model::Tool>), McpError> {
        let fail = |kind| McpError {
            server: server.name.clone(),
            kind,
            stderr: "(empty)".into(),
        };
        let (mut child, group) = server.program.spawn().map_err(|source| {
            fail(McpErrorKind::Spawn {
                program: server.program.path.display().to_string(),
                source,
            })
        })?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(fail(McpErrorKind::Handshake(
                "the pipes are missing".into(),
            )));
        };
        let tail_buf = Arc::new(Mutex::new(Tail::new(server.stderr_bytes)));
        let sink = tail_buf.clone();
        let drain = tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            let mut stderr = stderr;
            let mut chunk = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(&chunk[..n]);
            }
        });
        let started = tokio::time::timeout(server.start_timeout, ().serve((stdout, stdin))).await;
        let client = match started {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                let session_less = Broken::new(&server, tail_buf, drain);
                return Err(session_less
                    .error(McpErrorKind::Handshake(e.to_string()))
                    .await);
            }
            Err(_) => {
                let session_less = Broken::new(&server, tail_buf, drain);
                return Err(session_less
                    .error(McpErrorKind::TimedOut {
                        what: "the initialize handshake".into(),
                        after: server.start_timeout,
                    })
                    .await);
            }
        };
        let session = McpSession {
            server: server.clone(),
            client,
            stderr: tail_buf,
            stderr_done: Mutex::new(Some(drain)),
            _child: child,
            _group: group,
        };
        let tools = session
            .bounded(
                "tools/list",
                session.start_timeout(),
                session.client.list_all_tools(),
            )
            .await?;
        Ok((session, tools))
    }

    /// Runs `work` within the server's timeout; a transport failure or a timeout is the
    /// server's breakage, with its stderr.
    async fn bounded<T>(
        &self,
        what: &str,
        after: Duration,
        work: impl std::future::Future<Output = Result<T, ServiceError>>,
    ) -> Result<T, McpError> {
        match tokio::time::timeout(after, work).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self
                .error(McpErrorKind::Broken {
                    what: what.to_string(),
                    reason: e.to_string(),
                })
                .await),
            Err(_) => Err(self
                .error(McpErrorKind::TimedOut {
                    what: what.to_string(),
                    after,
                })
                .await),
        }
    }

    fn start_timeout(&self) -> Duration {
        self.server.start_timeout
    }

    async fn error(&self, kind: McpErrorKind) -> McpError {
        let drain = self
            .stderr_done
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        stderr_error(&self.server, &self.stderr, drain, kind).await
    }

    /// One `tools/call`. `Ok(Err)`: the tool answered with an error (the model is told);
    /// `Err`: the server broke.
    async fn call(&self, tool: &str, args: &Value) -> Result<ToolOutcome, McpError> {
        let mut params = CallToolRequestParams::new(tool.to_string());
        params.arguments = args.as_object().cloned();
        let what = format!("the call of `{tool}`");
        match tokio::time::timeout(self.server.timeout, self.client.call_tool(params)).await {
            Ok(Ok(result)) => Ok(call_outcome(
                serde_json::to_value(&result).unwrap_or(Value::Null),
            )),
            // The server answered with a JSON-RPC error (an unknown tool, bad arguments):
            // its answer, not its breakage.
            Ok(Err(ServiceError::McpError(e))) => Ok(Err(ToolFailure(e.message.to_string()))),
            Ok(Err(e)) => Err(self
                .error(McpErrorKind::Broken {
                    what,
                    reason: e.to_string(),
                })
                .await),
            Err(_) => Err(self
                .error(McpErrorKind::TimedOut {
                    what,
                    after: self.server.timeout,
                })
                .await),
        }
    }

    /// The declared state resource, parsed as JSON; `None` when the server declares none.
    async fn read_state(&self) -> Result<Option<Value>, McpError> {
        let Some(uri) = &self.server.state_resource else {
            return Ok(None);
        };
        let result = self
            .bounded(
                &format!("the read of `{uri}`"),
                self.server.timeout,
                self.client
                    .read_resource(ReadResourceRequestParams::new(uri.clone())),
            )
            .await?;
        let value = serde_json::to_value(&result).unwrap_or(Value::Null);
        let bad = |reason: String| McpErrorKind::BadState {
            uri: uri.clone(),
            reason,
        };
        let Some(text) = value["contents"]
            .as_array()
            .and_then(|c| c.first())
            .and_then(|c| c["text"].as_str())
        else {
            return Err(self
                .error(bad("the resource has no text contents".into()))
                .await);
        };
        match serde_json::from_str(text) {
            Ok(v) => Ok(Some(v)),
            Err(e) => Err(self.error(bad(format!("its text is not JSON: {e}"))).await),
        }
    }
}

/// The pieces of a server that failed before its session existed.
struct Broken<'a> {
    server: &'a McpServer,
    stderr: Arc<Mutex<Tail>>,
    drain: JoinHandle<()>,
}

impl<'a> Broken<'a> {
    fn new(server: &'a McpServer, stderr: Arc<Mutex<Tail>>, drain: JoinHandle<()>) -> Self {
        Broken {
            server,
            stderr,
            drain,
        }
    }

    async fn error(self, kind: McpErrorKind) -> McpError {
        stderr_error(self.server, &self.stderr, Some(self.drain), kind).await
    }
}

/// The error with the stderr read so far; a server that has exited gets a moment to let its
/// last words (a traceback) reach the end of the pipe.
async fn stderr_error(
    server: &McpServer,
    stderr: &Mutex<Tail>,
    drain: Option<JoinHandle<()>>,
    kind: McpErrorKind,
) -> McpError {
    if let Some(mut d) = drain {
        if tokio::time::timeout(STDERR_GRACE, &mut d).await.is_err() {
            d.abort();
        }
    }
    let text = stderr.lock().unwrap_or_else(|e| e.into_inner()).text();
    McpError {
        server: server.name.clone(),
        kind,
        stderr: tail(&text, STDERR_TAIL),
    }
}

/// What the model gets from a `tools/call` result: its structured content when there is one,
/// else its text (parsed as JSON when it is JSON); `isError` makes it a failed call.
fn call_outcome(result: Value) -> ToolOutcome {
    let text: Vec<&str> = result["content"]
        .as_array()
        .map(|blocks| blocks.iter().filter_map(|b| b["text"].as_str()).collect())
        .unwrap_or_default();
    let text = text.join("\n");
    if result["isError"].as_bool() == Some(true) {
        return Err(ToolFailure(text));
    }
    if let Some(structured) = result.get("structuredContent").filter(|v| !v.is_null()) {
        // FastMCP wraps a non-object return value as `{"result": value}`.
        return Ok(match structured.as_object() {
            Some(o) if o.len() == 1 && o.contains_key("result") => o["result"].clone(),
            _ => structured.clone(),
        });
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// The MCP servers of one run: their sessions, the tools they offer and where each tool lives.
pub(crate) struct McpTools {
    sessions: Vec<McpSession>,
    pub(crate) specs: Vec<ToolSpec>,
    pub(crate) validators: BTreeMap<String, jsonschema::Validator>,
    route: BTreeMap<String, usize>,
}

impl McpTools {
    /// Starts every server (in order), lists its tools and keeps those `tools:` selects.
    pub(crate) async fn start(servers: &[Arc<McpServer>]) -> Result<McpTools, McpError> {
        let mut out = McpTools {
            sessions: Vec::new(),
            specs: Vec::new(),
            validators: BTreeMap::new(),
            route: BTreeMap::new(),
        };
        for server in servers {
            let (session, listed) = McpSession::start(server.clone()).await?;
            let index = out.sessions.len();
            if let McpSelect::Only(names) = &server.select {
                if let Some(missing) = names.iter().find(|n| !listed.iter().any(|t| t.name == **n))
                {
                    return Err(session
                        .error(McpErrorKind::MissingTool(missing.clone()))
                        .await);
                }
            }
            for tool in listed {
                let name = tool.name.to_string();
                let offered = match &server.select {
                    McpSelect::All => true,
                    McpSelect::Only(names) => names.contains(&name),
                };
                if !offered {
                    continue;
                }
                let parameters = Value::Object((*tool.input_schema).clone());
                let validator = match jsonschema::validator_for(&parameters) {
                    Ok(v) => v,
                    Err(e) => {
                        return Err(session
                            .error(McpErrorKind::BadSchema {
                                tool: name,
                                reason: e.to_string(),
                            })
                            .await)
                    }
                };
                out.validators.insert(name.clone(), validator);
                out.route.insert(name.clone(), index);
                out.specs.push(ToolSpec {
                    name,
                    description: tool.description.map(|d| d.to_string()).unwrap_or_default(),
                    parameters,
                });
            }
            out.sessions.push(session);
        }
        Ok(out)
    }

    /// Whether `name` is a tool of one of the run's servers.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.route.contains_key(name)
    }

    /// Calls an MCP tool on validated arguments. `Err`: its server broke.
    pub(crate) async fn call(&self, name: &str, args: &Value) -> Result<ToolOutcome, McpError> {
        match self.route.get(name) {
            Some(&i) => self.sessions[i].call(name, args).await,
            None => Ok(Err(ToolFailure(format!("unknown tool `{name}`")))),
        }
    }

    /// The run's end state: the one declared state resource, read now.
    pub(crate) async fn end_state(&self) -> Result<Option<Value>, McpError> {
        for s in &self.sessions {
            if let Some(state) = s.read_state().await? {
                return Ok(Some(state));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn structured_content_is_preferred_and_errors_are_failures() {
        let r = json!({"content": [{"type": "text", "text": "{\"a\": 1}"}], "structuredContent": {"a": 1, "b": 2}});
        assert_eq!(call_outcome(r), Ok(json!({"a": 1, "b": 2})));
        let r = json!({"content": [{"type": "text", "text": "[1,2]"}], "structuredContent": {"result": [1, 2]}});
        assert_eq!(call_outcome(r), Ok(json!([1, 2])));
        let r = json!({"content": [{"type": "text", "text": "{\"a\": 1}"}]});
        assert_eq!(call_outcome(r), Ok(json!({"a": 1})));
        let r = json!({"content": [{"type": "text", "text": "plain"}]});
        assert_eq!(call_outcome(r), Ok(json!("plain")));
        let r = json!({"content": [{"type": "text", "text": "order is shipped"}], "isError": true});
        assert_eq!(call_outcome(r), Err(ToolFailure("order is shipped".into())));
    }

    #[test]
    fn bad_entries_are_refused() {
        let raw = |y: &str| -> RawMcpServer { serde_yaml::from_str(y).unwrap() };
        let dir = Path::new(".");
        let e = McpServer::compile("r", &raw("command: []"), McpSelect::All, dir, 100).unwrap_err();
        assert_eq!(e, McpConfigError::EmptyCommand("r".into()));
        let e =
            McpServer::compile("a.b", &raw("command: [x]"), McpSelect::All, dir, 100).unwrap_err();
        assert!(matches!(e, McpConfigError::BadName(_)));
        let e = McpServer::compile(
            "r",
            &raw("command: [x]\ntimeout: soon"),
            McpSelect::All,
            dir,
            100,
        )
        .unwrap_err();
        assert!(matches!(e, McpConfigError::BadTimeout { .. }), "{e}");
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_server_that_dies_at_start_errors_with_its_stderr() {
        let raw: RawMcpServer = serde_yaml::from_str(
            "command: [sh, -c, 'echo boom: no database >&2; exit 3']\ntimeout: 5s",
        )
        .unwrap();
        let s = McpServer::compile("r", &raw, McpSelect::All, Path::new("."), 4096).unwrap();
        let err = McpTools::start(&[Arc::new(s)]).await.err().unwrap();
        let msg = err.to_string();
        assert!(msg.contains("MCP server `r`"), "{msg}");
        assert!(msg.contains("boom: no database"), "{msg}");
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_server_that_never_answers_times_out() {
        let raw: RawMcpServer = serde_yaml::from_str(
            "command: [sh, -c, 'echo waiting >&2; sleep 30']\nstart_timeout: 300ms",
        )
        .unwrap();
        let s = McpServer::compile("r", &raw, McpSelect::All, Path::new("."), 4096).unwrap();
        let started = std::time::Instant::now();
        let err = McpTools::start(&[Arc::new(s)]).await.err().unwrap();
        assert!(matches!(err.kind, McpErrorKind::TimedOut { .. }), "{err}");
        assert!(err.to_string().contains("waiting"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
