//! `HttpTarget`: the user's agent behind an HTTP endpoint.
//!
//! Each case is one `POST` of the request JSON to `url` (with the configured headers); the
//! response body is the reply JSON. A connection error, a non-2xx status or a body that is not
//! a valid reply makes the case `errored` with the reason, the status and a body excerpt. The
//! runner's per-case timeout drops the request future, which cancels the request.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use serde::Deserialize;

use crate::agent::case_input::CaseInput;
use crate::agent::conversation::{converse, TurnAgent};
use crate::agent::protocol::{read_reply, Reply, Request};
use crate::agent::target::Target;
use crate::agent::target_load::TargetLoad;
use crate::agent::traced::{reply_trajectory, Traced};
use crate::http_client::HttpClientError;
use crate::limits::format_size;
use crate::otlp::receiver::TraceRun;
use crate::otlp::traces::Traces;
use crate::provider::body::{read_capped, read_prefix, BodyError, ERROR_BODY_BYTES};
use crate::provider::registry::Providers;
use crate::provider::types::ModelId;
use crate::text::excerpt;
use crate::trajectory::Trajectory;

/// The header that tells a traced http agent where gauntlet's OTLP receiver listens.
pub const OTLP_ENDPOINT_HEADER: &str = "x-gauntlet-otlp-endpoint";

/// How much of an error body a message quotes.
const BODY_EXCERPT: usize = 300;

/// The user's agent behind an HTTP endpoint: each case is one POST of the request JSON.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHttp {
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// `otlp`: receive the agent's OpenTelemetry spans as its trajectory.
    #[serde(default)]
    pub traces: Option<crate::otlp::traces::Traces>,
    /// The model that plays a case's simulated `user` (the turn protocol), e.g. `mock:user`.
    #[serde(default)]
    pub user_model: Option<String>,
    /// Send every case turn by turn (the turn protocol), even one with no simulated user:
    /// one request per scripted turn.
    #[serde(default)]
    pub turn_by_turn: bool,
}

#[derive(Debug, Clone)]
pub struct HttpTarget {
    pub url: reqwest::Url,
    /// Sent with every request, sorted by name.
    pub headers: BTreeMap<String, String>,
    /// The largest reply body read (`run.limits.max_output_bytes`); a longer one errors the run.
    pub max_reply_bytes: u64,
    /// `traces: otlp`: a `traceparent` header per run; the run's spans are its trajectory
    /// when the reply carries none.
    pub traced: Arc<Traced>,
    /// Plays a case's simulated user, turn by turn (`agent::conversation`).
    pub user_model: Option<ModelId>,
    /// `turn_by_turn`: every case goes through the turn protocol.
    pub turn_by_turn: bool,
    /// Built at the first case (`crate::http_client`), then shared by every case: the suite
    /// holds what the user wrote, the run what it needs to reach it.
    client: OnceLock<reqwest::Client>,
}

impl HttpTarget {
    pub fn new(url: reqwest::Url, headers: BTreeMap<String, String>, max_reply_bytes: u64) -> Self {
        HttpTarget {
            url,
            headers,
            max_reply_bytes,
            traced: Arc::default(),
            user_model: None,
            turn_by_turn: false,
            client: OnceLock::new(),
        }
    }

    /// This target with the model that plays simulated users.
    pub fn with_user_model(mut self, user_model: Option<ModelId>) -> Self {
        self.user_model = user_model;
        self
    }

    /// This target with its `turn_by_turn` setting.
    pub fn with_turn_by_turn(mut self, turn_by_turn: bool) -> Self {
        self.turn_by_turn = turn_by_turn;
        self
    }

    /// This target with its `traces:` setting.
    pub fn with_traces(mut self, traces: Option<Traces>) -> Self {
        self.traced = Arc::new(Traced::new(traces));
        self
    }

    fn client(&self) -> Result<&reqwest::Client, HttpClientError> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        // No timeout of its own: the runner's per-case timeout drops the request.
        let built = crate::http_client::build("the http agent", None)?;
        Ok(self.client.get_or_init(|| built))
    }

    /// This target with the suite's reply limit (known only once `run:` is read).
    pub(crate) fn with_max_reply_bytes(self: Arc<Self>, bytes: u64) -> Arc<Self> {
        let mut target = Arc::unwrap_or_clone(self);
        target.max_reply_bytes = bytes;
        Arc::new(target)
    }

    /// Runs repeat `repeat` of one case: never fails, a broken endpoint gives an `errored`
    /// trajectory. The request carries `id` and `repeat`, as a command agent's does. A case
    /// with a simulated user is a conversation (the turn protocol), one POST per user turn.
    pub(crate) async fn run(
        &self,
        case: &dyn CaseInput,
        repeat: u32,
        providers: &Providers,
    ) -> Trajectory {
        if self.turn_by_turn || case.simulated_user().is_some() {
            let user_model = self.user_model.as_ref();
            return converse(case, repeat, user_model, providers, &mut HttpTurns(self)).await;
        }
        let client = match self.client() {
            Ok(c) => c,
            Err(e) => return Trajectory::errored(error_chain(&e)),
        };
        let trace = match self
            .traced
            .begin(case.id(), repeat, self.max_reply_bytes)
            .await
        {
            Ok(t) => t,
            Err(e) => return Trajectory::errored(e.to_string()),
        };
        let body = Request::new(case)
            .with_repeat(repeat)
            .with_traceparent(trace.as_ref().map(|t| t.context().traceparent()))
            .to_line();
        match self.post(client, body, trace_headers(trace.as_ref())).await {
            Ok(body) => reply_trajectory(&body, trace).await,
            Err(t) => t,
        }
    }

    /// One POST of `body`: the reply body of a 2xx answer, or the `errored` trajectory of a
    /// failed request.
    async fn post(
        &self,
        client: &reqwest::Client,
        body: String,
        extra_headers: Vec<(&str, String)>,
    ) -> Result<String, Trajectory> {
        let mut request = client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        for (name, value) in extra_headers {
            request = request.header(name, value);
        }
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                return Err(Trajectory::errored(format!(
                    "cannot reach the agent at {}: {}",
                    self.url,
                    error_chain(&e)
                )))
            }
        };
        let status = response.status();
        // An error reply is only quoted, so only its start is read.
        let read = if status.is_success() {
            read_capped(response, self.max_reply_bytes).await
        } else {
            read_prefix(response, ERROR_BODY_BYTES.min(self.max_reply_bytes)).await
        };
        let body = match read {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(BodyError::TooLarge { limit }) => {
                return Err(Trajectory::errored(format!(
                    "the agent's reply is larger than run.limits.max_output_bytes ({})",
                    format_size(limit)
                )))
            }
            Err(BodyError::Transport(e)) => {
                return Err(Trajectory::errored(format!(
                    "cannot read the agent's reply (HTTP {status}): {}",
                    error_chain(&e)
                )))
            }
        };
        if !status.is_success() {
            return Err(Trajectory::errored(format!(
                "the agent answered HTTP {status}: {}",
                excerpt(&body, BODY_EXCERPT, "(nothing)")
            )));
        }
        Ok(body)
    }
}

/// The turn protocol on an http agent: one POST per user turn.
struct HttpTurns<'a>(&'a HttpTarget);

impl TurnAgent for HttpTurns<'_> {
    async fn answer(
        &mut self,
        request: String,
        trace: Option<&TraceRun>,
    ) -> Result<Reply, Trajectory> {
        let client = self
            .0
            .client()
            .map_err(|e| Trajectory::errored(error_chain(&e)))?;
        let body = self.0.post(client, request, trace_headers(trace)).await?;
        read_reply(&body)
    }

    fn traced(&self) -> &Traced {
        &self.0.traced
    }

    fn max_trace_bytes(&self) -> u64 {
        self.0.max_reply_bytes
    }
}

/// The headers of a traced request (a run's, or a turn's): its `traceparent`, and where to
/// export — the port is the OS's choice, known only now, so an agent that exports per
/// request can read where to.
fn trace_headers(trace: Option<&TraceRun>) -> Vec<(&'static str, String)> {
    match trace {
        Some(run) => vec![
            ("traceparent", run.context().traceparent()),
            (OTLP_ENDPOINT_HEADER, run.endpoint()),
        ],
        None => Vec::new(),
    }
}

/// reqwest's top-level message ("error sending request") hides the cause; append the chain.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Validates `target: {http: ...}`: an http(s) URL and valid header names and values.
pub(crate) fn load(raw: &RawHttp, cx: &mut TargetLoad) -> Option<Target> {
    let url = match reqwest::Url::parse(&raw.url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Some(u),
        Ok(u) => {
            cx.problem(
                format!(
                    "`http.url` has scheme `{}`; expected http or https",
                    u.scheme()
                ),
                &raw.url,
            );
            None
        }
        Err(e) => {
            cx.problem(format!("`http.url` is not a URL: {e}"), &raw.url)
                .hint = Some("e.g. `url: http://127.0.0.1:8000/agent`".into());
            None
        }
    };
    let mut headers_ok = true;
    for (name, value) in &raw.headers {
        if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            cx.problem(format!("invalid HTTP header name `{name}`"), name);
            headers_ok = false;
        } else if reqwest::header::HeaderValue::from_str(value).is_err() {
            cx.problem(format!("invalid value for HTTP header `{name}`"), name);
            headers_ok = false;
        }
    }
    let user_model = crate::agent::target_load::user_model(raw.user_model.as_deref(), cx);
    if !headers_ok {
        return None;
    }
    Some(Target::Http(Arc::new(
        HttpTarget::new(
            url?,
            raw.headers.clone(),
            crate::limits::Limits::default().max_output_bytes,
        )
        .with_traces(raw.traces)
        .with_user_model(user_model?)
        .with_turn_by_turn(raw.turn_by_turn),
    )))
}
