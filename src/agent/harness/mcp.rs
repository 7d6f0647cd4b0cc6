//! `McpServer`: an MCP tool server of the harness (`mcp:` in the suite), and `McpTools`, the
//! live sessions of one run.
//!
//! Each run of a case starts its own server processes (stdio transport, through
//! `crate::process`: own process group, killed with the run), or opens its own session with a
//! server at a URL (streamable HTTP, `mcp_http`: initialize gives a new `Mcp-Session-Id`, a
//! DELETE ends it with the run), lists their tools with `tools/list`, and reads the declared
//! state resource at the end, over the run's own session: a world never leaks from one case or
//! repeat into the next (an HTTP server must keep one world per session). A server that cannot
//! start, cannot be reached, dies, hangs or answers garbage is `McpError`: the run ends in
//! `error` with the tail of the server's stderr, or its URL. A tool that answers `isError` is
//! the tool's answer, given to the model like any failed call. Under `--replay` no server
//! starts: `McpTools::replayed` offers what the servers listed when the run was recorded.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use http::{HeaderName, HeaderValue};
use rmcp::model::{CallToolRequestParams, ReadResourceRequestParams};
use rmcp::service::{RoleClient, RunningService, ServiceError};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::ServiceExt;
use serde_json::Value;
use tokio::process::Child;
use tokio::task::JoinHandle;

use crate::agent::harness::mcp_http::{describe, McpHttpClient, StreamFailure};
use crate::agent::harness::raw_mcp::RawMcpServer;
use crate::duration::parse_duration;
use crate::limits::Limits;
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

/// Headers the MCP transport sets itself: a suite may not override them.
const RESERVED_HEADERS: [&str; 5] = [
    "accept",
    "content-type",
    "mcp-session-id",
    "mcp-protocol-version",
    "last-event-id",
];

/// A validated `mcp:` entry.
#[derive(Debug)]
pub struct McpServer {
    pub name: String,
    endpoint: Endpoint,
    timeout: Duration,
    start_timeout: Duration,
    /// The resource read at the end of each run as its end state.
    pub state_resource: Option<String>,
    pub select: McpSelect,
    stderr_bytes: u64,
}

/// How a server is reached.
#[derive(Debug)]
enum Endpoint {
    /// A process each run starts, spoken to over its stdin and stdout.
    Stdio(Program),
    /// A server already running, spoken to over streamable HTTP: a session per run.
    Http(HttpEndpoint),
}

#[derive(Debug)]
struct HttpEndpoint {
    url: reqwest::Url,
    headers: HashMap<HeaderName, HeaderValue>,
    /// The largest JSON reply or SSE event read (`run.limits.max_response_bytes`).
    max_bytes: usize,
    /// Built at the first run, then shared by every run: one connection pool per server.
    client: OnceLock<reqwest::Client>,
}

impl HttpEndpoint {
    /// The URL as messages show it: without a user or password.
    fn shown(&self) -> String {
        shown_url(&self.url)
    }
}

/// `url` without its user and password, which are credentials.
fn shown_url(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_password(None);
    let _ = shown.set_username("");
    shown.to_string()
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
    #[error(
        "MCP server `{0}` needs `command` (a stdio server) or `url` (a streamable-HTTP server)"
    )]
    NoEndpoint(String),
    #[error("MCP server `{0}` has both `command` and `url`; a server is reached one way")]
    TwoEndpoints(String),
    #[error("MCP server `{server}`: `url`: {reason}")]
    BadUrl { server: String, reason: String },
    // The value is a secret: never quoted.
    #[error("MCP server `{server}`: header `{name}`: {reason}")]
    BadHeader {
        server: String,
        name: String,
        reason: String,
    },
    #[error("MCP server `{server}`: `{field}` applies to a `{applies_to}` server only")]
    WrongKind {
        server: String,
        field: &'static str,
        applies_to: &'static str,
    },
}

impl McpServer {
    pub(crate) fn compile(
        name: &str,
        raw: &RawMcpServer,
        select: McpSelect,
        suite_dir: &Path,
        limits: &Limits,
    ) -> Result<McpServer, McpConfigError> {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(McpConfigError::BadName(name.to_string()));
        }
        let endpoint = match (&raw.command, &raw.url) {
            (Some(command), None) => Endpoint::Stdio(stdio_program(name, raw, command, suite_dir)?),
            (None, Some(url)) => Endpoint::Http(http_endpoint(name, raw, url, limits)?),
            (None, None) => return Err(McpConfigError::NoEndpoint(name.to_string())),
            (Some(_), Some(_)) => return Err(McpConfigError::TwoEndpoints(name.to_string())),
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
            endpoint,
            timeout,
            start_timeout,
            state_resource: raw.state.as_ref().map(|s| s.resource.clone()),
            select,
            stderr_bytes: limits.max_stderr_bytes,
        })
    }

    /// Where the server is, as messages show it: its URL, or nothing for a process.
    fn place(&self) -> Option<String> {
        match &self.endpoint {
            Endpoint::Stdio(_) => None,
            Endpoint::Http(h) => Some(h.shown()),
        }
    }
}

/// The program of a stdio server (`command:`).
fn stdio_program(
    name: &str,
    raw: &RawMcpServer,
    command: &[String],
    suite_dir: &Path,
) -> Result<Program, McpConfigError> {
    let Some(program) = command.first() else {
        return Err(McpConfigError::EmptyCommand(name.to_string()));
    };
    if !raw.headers.is_empty() {
        return Err(McpConfigError::WrongKind {
            server: name.to_string(),
            field: "headers",
            applies_to: "url",
        });
    }
    Ok(Program {
        path: locate_program(program, suite_dir),
        args: command[1..].to_vec(),
        // Like a command agent: relative arguments (`../server.py`) read from the suite.
        cwd: suite_dir.to_path_buf(),
        env: raw.env.clone(),
        pass_env: raw.pass_env.clone(),
    })
}

/// The endpoint of a streamable-HTTP server (`url:`): an http(s) URL and valid headers, whose
/// values (and the URL's password) are remembered as secrets, so no report or log shows them.
fn http_endpoint(
    name: &str,
    raw: &RawMcpServer,
    url: &str,
    limits: &Limits,
) -> Result<HttpEndpoint, McpConfigError> {
    let bad_url = |reason: String| McpConfigError::BadUrl {
        server: name.to_string(),
        reason,
    };
    let url = reqwest::Url::parse(url)
        .map_err(|e| bad_url(format!("not a URL: {e} (e.g. `http://127.0.0.1:8765/mcp`)")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad_url(format!(
            "scheme `{}`; expected http or https",
            url.scheme()
        )));
    }
    if let Some(password) = url.password() {
        crate::redact::remember(password);
    }
    for (field, set) in [
        ("env", !raw.env.is_empty()),
        ("pass_env", !raw.pass_env.is_empty()),
    ] {
        if set {
            return Err(McpConfigError::WrongKind {
                server: name.to_string(),
                field,
                applies_to: "command",
            });
        }
    }
    let mut headers = HashMap::new();
    for (key, value) in &raw.headers {
        let bad = |reason: &str| McpConfigError::BadHeader {
            server: name.to_string(),
            name: key.clone(),
            reason: reason.to_string(),
        };
        let header = HeaderName::from_bytes(key.as_bytes()).map_err(|_| bad("not a valid name"))?;
        if RESERVED_HEADERS.contains(&header.as_str()) {
            return Err(bad("set by the MCP transport itself"));
        }
        let mut v = HeaderValue::from_str(value).map_err(|_| bad("its value is not valid"))?;
        v.set_sensitive(true);
        crate::redact::remember(value);
        // A bare token (`Bearer abc…`) is remembered as well as the whole value.
        if let Some((_, token)) = value.split_once(' ') {
            crate::redact::remember(token.trim());
        }
        headers.insert(header, v);
    }
    Ok(HttpEndpoint {
        url,
        headers,
        max_bytes: usize::try_from(limits.max_response_bytes).unwrap_or(usize::MAX),
        client: OnceLock::new(),
    })
}

/// A server that failed the run, with the tail of what it wrote on stderr (a process) or its
/// URL (a server reached over HTTP, whose stderr gauntlet never sees).
#[derive(Debug)]
pub(crate) struct McpError {
    pub server: String,
    pub kind: McpErrorKind,
    pub origin: McpOrigin,
}

/// What an `McpError` adds about where the server is.
#[derive(Debug)]
pub(crate) enum McpOrigin {
    Stderr(String),
    Url(String),
    /// Under `--replay`: what the server listed when the run was recorded.
    Recorded,
}

impl std::fmt::Display for McpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let McpError {
            server,
            kind,
            origin,
        } = self;
        match origin {
            McpOrigin::Stderr(stderr) => {
                write!(f, "MCP server `{server}` {kind}; its stderr: {stderr}")
            }
            McpOrigin::Url(url) => write!(f, "MCP server `{server}` at {url} {kind}"),
            McpOrigin::Recorded => write!(f, "MCP server `{server}` (as recorded) {kind}"),
        }
    }
}

impl std::error::Error for McpError {}

#[derive(Debug, thiserror::Error)]
pub(crate) enum McpErrorKind {
    #[error("cannot start `{program}`: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("has no HTTP client: {0}")]
    Client(String),
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
    #[error("has no recorded tools/list: {0}")]
    NotRecorded(String),
}

/// One live server of one run.
struct McpSession {
    server: Arc<McpServer>,
    client: RunningService<RoleClient, ()>,
    link: Link,
}

/// What a session holds beside its MCP client.
enum Link {
    /// The run's own process: its stderr, and the process group killed when it drops.
    Stdio {
        stderr: Arc<Mutex<Tail>>,
        stderr_done: Mutex<Option<JoinHandle<()>>>,
        // Boxed: a session is mostly the other kind's size.
        _child: Box<Child>,
        _group: Group,
    },
    /// A session with a server at a URL: ended by `close`.
    Http(StreamFailure),
}

impl McpSession {
    async fn start(
        server: Arc<McpServer>,
    ) -> Result<(McpSession, Vec<rmcp::model::Tool>), McpError> {
        let (client, link) = match &server.endpoint {
            Endpoint::Stdio(program) => Self::spawn(&server, program).await?,
            Endpoint::Http(endpoint) => {
                let broken = StreamFailure::default();
                let client = Self::connect(&server, endpoint, broken.clone()).await?;
                (client, Link::Http(broken))
            }
        };
        let session = McpSession {
            server: server.clone(),
            client,
            link,
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

    /// Starts the server's process and shakes hands over its stdio.
    async fn spawn(
        server: &McpServer,
        program: &Program,
    ) -> Result<(RunningService<RoleClient, ()>, Link), McpError> {
        let fail = |kind| McpError {
            server: server.name.clone(),
            kind,
            origin: McpOrigin::Stderr("(empty)".into()),
        };
        let (mut child, group) = program.spawn().map_err(|source| {
            fail(McpErrorKind::Spawn {
                program: program.path.display().to_string(),
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
        let kind = match started {
            Ok(Ok(client)) => {
                let link = Link::Stdio {
                    stderr: tail_buf,
                    stderr_done: Mutex::new(Some(drain)),
                    _child: Box::new(child),
                    _group: group,
                };
                return Ok((client, link));
            }
            Ok(Err(e)) => McpErrorKind::Handshake(e.to_string()),
            Err(_) => McpErrorKind::TimedOut {
                what: "the initialize handshake".into(),
                after: server.start_timeout,
            },
        };
        Err(stderr_error(server, &tail_buf, Some(drain), kind).await)
    }

    /// Opens a new session with the server at its URL: the initialize handshake.
    async fn connect(
        server: &McpServer,
        endpoint: &HttpEndpoint,
        broken: StreamFailure,
    ) -> Result<RunningService<RoleClient, ()>, McpError> {
        let fail = |kind| McpError {
            server: server.name.clone(),
            kind,
            origin: McpOrigin::Url(endpoint.shown()),
        };
        let client = match endpoint.client.get() {
            Some(c) => c.clone(),
            None => {
                let purpose = format!("MCP server `{}`", server.name);
                // No overall timeout: an event stream may stay open for the whole run; each
                // request is bounded by the server's `timeout` instead.
                let built = crate::http_client::build(&purpose, None)
                    .map_err(|e| fail(McpErrorKind::Client(e.to_string())))?;
                endpoint.client.get_or_init(|| built).clone()
            }
        };
        let mut config = StreamableHttpClientTransportConfig::with_uri(endpoint.url.as_str())
            .custom_headers(endpoint.headers.clone())
            .max_json_response_size(endpoint.max_bytes)
            .max_sse_event_size(endpoint.max_bytes);
        // A session the server forgot mid-run must fail the run: a new one would start from a
        // fresh world and the end state would lie.
        config.reinit_on_expired_session = false;
        let transport = StreamableHttpClientTransport::with_client(
            McpHttpClient::new(client, broken.clone()),
            config,
        );
        match tokio::time::timeout(server.start_timeout, ().serve(transport)).await {
            Ok(Ok(client)) => Ok(client),
            Ok(Err(e)) => Err(fail(McpErrorKind::Handshake(
                broken.get().unwrap_or_else(|| describe(&e)),
            ))),
            Err(_) => Err(fail(McpErrorKind::TimedOut {
                what: "the initialize handshake".into(),
                after: server.start_timeout,
            })),
        }
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
                    reason: describe(&e),
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
        match &self.link {
            Link::Stdio {
                stderr,
                stderr_done,
                ..
            } => {
                let drain = stderr_done.lock().unwrap_or_else(|e| e.into_inner()).take();
                stderr_error(&self.server, stderr, drain, kind).await
            }
            Link::Http(broken) => {
                // A broken event stream closed the transport: its cause is the reason.
                let kind = match (kind, broken.get()) {
                    (McpErrorKind::Broken { what, .. }, Some(reason)) => {
                        McpErrorKind::Broken { what, reason }
                    }
                    (kind, _) => kind,
                };
                McpError {
                    server: self.server.name.clone(),
                    kind,
                    origin: McpOrigin::Url(self.server.place().unwrap_or_default()),
                }
            }
        }
    }

    /// Ends a session with a server at a URL (its DELETE), within the server's timeout. A
    /// process needs nothing: its group is killed when the session drops.
    async fn close(&mut self) {
        if matches!(self.link, Link::Http(_)) {
            // The run is over: a server that cannot end its session changes no result.
            let _ = self.client.close_with_timeout(self.server.timeout).await;
        }
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
                    reason: describe(&e),
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
        origin: McpOrigin::Stderr(tail(&text, STDERR_TAIL)),
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
    /// One per server, in the suite's order; `None` for a server replayed from the store.
    sessions: Vec<Option<McpSession>>,
    /// What each server listed (all its tools, before `tools:` selects): what a record stores.
    pub(crate) listings: Vec<(String, Vec<rmcp::model::Tool>)>,
    pub(crate) specs: Vec<ToolSpec>,
    pub(crate) validators: BTreeMap<String, jsonschema::Validator>,
    route: BTreeMap<String, usize>,
    /// Whether a server declares a state resource.
    has_state: bool,
}

impl McpTools {
    fn empty(servers: &[Arc<McpServer>]) -> McpTools {
        McpTools {
            sessions: Vec::new(),
            listings: Vec::new(),
            specs: Vec::new(),
            validators: BTreeMap::new(),
            route: BTreeMap::new(),
            has_state: servers.iter().any(|s| s.state_resource.is_some()),
        }
    }

    /// Starts every server (in order), lists its tools and keeps those `tools:` selects.
    pub(crate) async fn start(servers: &[Arc<McpServer>]) -> Result<McpTools, McpError> {
        let mut out = McpTools::empty(servers);
        for server in servers {
            let (session, listed) = McpSession::start(server.clone()).await?;
            if let Err(kind) = out.offer(server, listed) {
                return Err(session.error(kind).await);
            }
            out.sessions.push(Some(session));
        }
        Ok(out)
    }

    /// The tools the servers listed when the run was recorded (`--replay`): no server starts,
    /// and every call and the end state are answered from the store.
    pub(crate) fn replayed(
        servers: &[Arc<McpServer>],
        listings: Vec<Vec<rmcp::model::Tool>>,
    ) -> Result<McpTools, McpError> {
        let mut out = McpTools::empty(servers);
        for (server, listed) in servers.iter().zip(listings) {
            out.offer(server, listed).map_err(|kind| McpError {
                server: server.name.clone(),
                kind,
                origin: McpOrigin::Recorded,
            })?;
            out.sessions.push(None);
        }
        Ok(out)
    }

    /// Offers the tools of the next server that `tools:` selects, with their compiled schemas.
    fn offer(
        &mut self,
        server: &McpServer,
        listed: Vec<rmcp::model::Tool>,
    ) -> Result<(), McpErrorKind> {
        let index = self.sessions.len();
        if let McpSelect::Only(names) = &server.select {
            if let Some(missing) = names.iter().find(|n| !listed.iter().any(|t| t.name == **n)) {
                return Err(McpErrorKind::MissingTool(missing.clone()));
            }
        }
        for tool in &listed {
            let name = tool.name.to_string();
            let offered = match &server.select {
                McpSelect::All => true,
                McpSelect::Only(names) => names.contains(&name),
            };
            if !offered {
                continue;
            }
            let parameters = Value::Object((*tool.input_schema).clone());
            let validator =
                jsonschema::validator_for(&parameters).map_err(|e| McpErrorKind::BadSchema {
                    tool: name.clone(),
                    reason: e.to_string(),
                })?;
            self.validators.insert(name.clone(), validator);
            self.route.insert(name.clone(), index);
            self.specs.push(ToolSpec {
                name,
                description: tool
                    .description
                    .as_ref()
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                parameters,
            });
        }
        self.listings.push((server.name.clone(), listed));
        Ok(())
    }

    /// Whether `name` is a tool of one of the run's servers.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.route.contains_key(name)
    }

    /// Whether `pick` (an agent's choice; `None`: all) takes the tool `name`.
    pub(crate) fn picked(&self, name: &str, pick: Option<&[(String, McpSelect)]>) -> bool {
        let Some(pick) = pick else { return true };
        let Some(server) = self.route.get(name).map(|&i| &self.listings[i].0) else {
            return false;
        };
        pick.iter().any(|(s, select)| {
            s == server
                && match select {
                    McpSelect::All => true,
                    McpSelect::Only(names) => names.iter().any(|n| n == name),
                }
        })
    }

    /// Whether a server declares a state resource: the run's end state.
    pub(crate) fn has_state(&self) -> bool {
        self.has_state
    }

    /// Calls an MCP tool on validated arguments. `Err`: its server broke.
    pub(crate) async fn call(&self, name: &str, args: &Value) -> Result<ToolOutcome, McpError> {
        match self.route.get(name).map(|&i| &self.sessions[i]) {
            Some(Some(session)) => session.call(name, args).await,
            // A replayed server: the recorder answers every call before it gets here.
            Some(None) => Ok(Err(ToolFailure(format!(
                "tool `{name}` was not recorded (--replay starts no MCP server)"
            )))),
            None => Ok(Err(ToolFailure(format!("unknown tool `{name}`")))),
        }
    }

    /// Ends the run's sessions with servers at a URL; processes end when the tools drop.
    pub(crate) async fn close(&mut self) {
        for s in self.sessions.iter_mut().flatten() {
            s.close().await;
        }
    }

    /// The run's end state: the one declared state resource, read now.
    pub(crate) async fn end_state(&self) -> Result<Option<Value>, McpError> {
        for s in self.sessions.iter().flatten() {
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
        let e = McpServer::compile(
            "r",
            &raw("command: []"),
            McpSelect::All,
            dir,
            &Limits::DEFAULT,
        )
        .unwrap_err();
        assert_eq!(e, McpConfigError::EmptyCommand("r".into()));
        let e = McpServer::compile(
            "a.b",
            &raw("command: [x]"),
            McpSelect::All,
            dir,
            &Limits::DEFAULT,
        )
        .unwrap_err();
        assert!(matches!(e, McpConfigError::BadName(_)));
        let e = McpServer::compile(
            "r",
            &raw("command: [x]\ntimeout: soon"),
            McpSelect::All,
            dir,
            &Limits::DEFAULT,
        )
        .unwrap_err();
        assert!(matches!(e, McpConfigError::BadTimeout { .. }), "{e}");
    }

    #[test]
    fn a_server_has_a_command_or_a_url_and_each_its_own_fields() {
        let compile = |y: &str| {
            let raw: RawMcpServer = serde_yaml::from_str(y).unwrap();
            McpServer::compile("r", &raw, McpSelect::All, Path::new("."), &Limits::DEFAULT)
        };
        let err = |y: &str| compile(y).unwrap_err().to_string();
        assert_eq!(
            err("timeout: 5s"),
            "MCP server `r` needs `command` (a stdio server) or `url` (a streamable-HTTP server)"
        );
        assert_eq!(
            err("{command: [x], url: 'http://127.0.0.1:1/mcp'}"),
            "MCP server `r` has both `command` and `url`; a server is reached one way"
        );
        assert!(err("url: 'ftp://host/mcp'").contains("scheme `ftp`; expected http or https"));
        assert!(err("url: 'not a url'").contains("`url`: not a URL"));
        assert_eq!(
            err("{url: 'http://127.0.0.1:1/mcp', env: {A: b}}"),
            "MCP server `r`: `env` applies to a `command` server only"
        );
        assert_eq!(
            err("{command: [x], headers: {A: b}}"),
            "MCP server `r`: `headers` applies to a `url` server only"
        );
        assert_eq!(
            err("{url: 'http://127.0.0.1:1/mcp', headers: {Mcp-Session-Id: abc}}"),
            "MCP server `r`: header `Mcp-Session-Id`: set by the MCP transport itself"
        );
        // A bad value is named by its header, never quoted.
        let e = err("{url: 'http://127.0.0.1:1/mcp', headers: {X-Token: \"sekrit-value\\n\"}}");
        assert_eq!(
            e,
            "MCP server `r`: header `X-Token`: its value is not valid"
        );
        let ok = compile(
            "{url: 'https://mcp.example/mcp', headers: {Authorization: Bearer tok-1234567890abc}}",
        )
        .unwrap();
        assert_eq!(ok.place().as_deref(), Some("https://mcp.example/mcp"));
    }

    #[test]
    fn header_values_and_url_passwords_are_redacted() {
        let raw: RawMcpServer = serde_yaml::from_str(
            "{url: 'http://user:pw-0123456789xyz@127.0.0.1:9/mcp', headers: {X-Retail-Key: k-9f8e7d6c5b4a}}",
        )
        .unwrap();
        let s = McpServer::compile("r", &raw, McpSelect::All, Path::new("."), &Limits::DEFAULT)
            .unwrap();
        // Messages show the URL without its credentials...
        assert_eq!(s.place().as_deref(), Some("http://127.0.0.1:9/mcp"));
        // ...and anything that still quotes a secret (a server echoing it) is masked.
        let r = crate::redact::Redactor::global();
        assert_eq!(r.redact("got k-9f8e7d6c5b4a"), "got [REDACTED]");
        assert_eq!(r.redact("pw-0123456789xyz"), "[REDACTED]");
    }

    /// A server at a wiremock URL, with short bounds.
    fn at(uri: &str) -> Arc<McpServer> {
        let raw: RawMcpServer = serde_yaml::from_str(&format!(
            "{{url: '{uri}/mcp', timeout: 300ms, start_timeout: 300ms}}"
        ))
        .unwrap();
        Arc::new(
            McpServer::compile("r", &raw, McpSelect::All, Path::new("."), &Limits::DEFAULT)
                .unwrap(),
        )
    }

    #[tokio::test]
    async fn an_http_server_answering_garbage_or_nothing_errors_naming_its_url() {
        use wiremock::matchers::method;
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let garbage = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(200).set_body_raw("<html>hi</html>", "application/json"),
            )
            .mount(&garbage)
            .await;
        let err = McpTools::start(&[at(&garbage.uri())]).await.err().unwrap();
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!(
                "MCP server `r` at {}/mcp failed its handshake",
                garbage.uri()
            )),
            "{msg}"
        );
        assert!(msg.contains("not a JSON-RPC message"), "{msg}");

        let hung = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
            .mount(&hung)
            .await;
        let started = std::time::Instant::now();
        let err = McpTools::start(&[at(&hung.uri())]).await.err().unwrap();
        assert!(matches!(err.kind, McpErrorKind::TimedOut { .. }), "{err}");
        assert!(err.to_string().contains(&hung.uri()), "{err}");
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_server_that_dies_at_start_errors_with_its_stderr() {
        let raw: RawMcpServer = serde_yaml::from_str(
            "command: [sh, -c, 'echo boom: no database >&2; exit 3']\ntimeout: 5s",
        )
        .unwrap();
        let s = McpServer::compile("r", &raw, McpSelect::All, Path::new("."), &Limits::DEFAULT)
            .unwrap();
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
        let s = McpServer::compile("r", &raw, McpSelect::All, Path::new("."), &Limits::DEFAULT)
            .unwrap();
        let started = std::time::Instant::now();
        let err = McpTools::start(&[Arc::new(s)]).await.err().unwrap();
        assert!(matches!(err.kind, McpErrorKind::TimedOut { .. }), "{err}");
        assert!(err.to_string().contains("waiting"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
