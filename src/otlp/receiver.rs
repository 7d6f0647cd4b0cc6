//! `Receiver`: the OTLP/HTTP trace receiver of `traces: otlp` targets — `POST /v1/traces`,
//! protobuf or JSON, on 127.0.0.1 at a port the OS picks, started at the first traced case.
//!
//! Each run of a case opens a `TraceRun` under a fresh trace id; a received span goes to the
//! open run of its trace (or, for an agent that did not propagate the context, to the open run
//! its resource attributes `gauntlet.case_id`/`gauntlet.repeat` name). A span that belongs to
//! no open run — late, foreign, or past the per-run cap — is counted, never kept.
//!
//! Memory is bounded: a request body is read up to `max_body_bytes` (the suite's
//! `run.limits.max_output_bytes`), at most `MAX_CONNECTIONS` requests are served at once, and
//! a run keeps at most `MAX_SPANS_PER_RUN` spans.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::Value;

use crate::otlp::decode::{decode, Encoding, ResourceBatch};
use crate::otlp::span::{Span, TraceId};
use crate::otlp::trace_context::{TraceContext, CASE_ID_ATTRIBUTE, REPEAT_ATTRIBUTE};

/// How long a run waits after the agent's reply for its spans: until the run's root span has
/// arrived and nothing more came for `QUIET`, and at most this long. SDKs export a trace's
/// root span last (it ends last), so a flushed trace finishes at once.
pub const GRACE: Duration = Duration::from_secs(2);
/// No span for this long after the root arrived: the trace is complete.
const QUIET: Duration = Duration::from_millis(50);
const POLL: Duration = Duration::from_millis(10);

/// Why spans usually belong to no run, for the warning that counts them.
pub const UNATTRIBUTED_HINT: &str = "an agent exports each run's spans before it replies (force_flush, or a simple span processor), within the 2s grace, under the TRACEPARENT it was given";

pub const MAX_SPANS_PER_RUN: usize = 10_000;
pub const MAX_CONNECTIONS: usize = 32;

pub const TRACES_PATH: &str = "/v1/traces";

#[derive(Debug)]
pub struct Receiver {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    /// Spans that belonged to no open run.
    unattributed: Arc<AtomicU64>,
    server: tokio::task::JoinHandle<()>,
}

#[derive(Debug, Default)]
struct State {
    open: HashMap<TraceId, OpenRun>,
    /// The open runs by case id and repeat, for spans that lost the trace context.
    by_case: HashMap<(String, u32), TraceId>,
}

#[derive(Debug)]
struct OpenRun {
    spans: Vec<Span>,
    last_arrival: Option<Instant>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Receiver {
    /// Binds 127.0.0.1 at an OS-chosen port and serves in the background until dropped.
    pub async fn start(max_body_bytes: u64) -> std::io::Result<Arc<Receiver>> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let unattributed = Arc::new(AtomicU64::new(0));
        let shared = Shared {
            state: state.clone(),
            unattributed: unattributed.clone(),
            max_body_bytes,
        };
        let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
        let server = tokio::spawn(async move {
            loop {
                let Ok(permit) = slots.clone().acquire_owned().await else {
                    return;
                };
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let shared = shared.clone();
                tokio::spawn(async move {
                    let _permit = permit;
                    let service = hyper::service::service_fn(move |req| {
                        let shared = shared.clone();
                        async move { Ok::<_, Infallible>(shared.handle(req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Arc::new(Receiver {
            addr,
            state,
            unattributed,
            server,
        }))
    }

    /// The base URL an SDK exports to (`OTEL_EXPORTER_OTLP_ENDPOINT`): spans go to
    /// `{endpoint}/v1/traces`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Spans so far that belonged to no run.
    pub fn unattributed(&self) -> u64 {
        self.unattributed.load(Ordering::Relaxed)
    }

    /// Opens a run under a fresh trace context.
    pub fn begin(self: &Arc<Self>, case_id: &str, repeat: u32) -> TraceRun {
        let context = TraceContext::fresh();
        if let Ok(mut state) = self.state.lock() {
            state.open.insert(
                context.trace_id,
                OpenRun {
                    spans: Vec::new(),
                    last_arrival: None,
                },
            );
            state
                .by_case
                .insert((case_id.to_string(), repeat), context.trace_id);
        }
        TraceRun {
            receiver: self.clone(),
            context,
            key: (case_id.to_string(), repeat),
        }
    }
}

/// One run's trace: open until `finish` or drop.
#[derive(Debug)]
pub struct TraceRun {
    receiver: Arc<Receiver>,
    context: TraceContext,
    key: (String, u32),
}

impl TraceRun {
    pub fn context(&self) -> &TraceContext {
        &self.context
    }

    pub fn endpoint(&self) -> String {
        self.receiver.endpoint()
    }

    /// Waits for the run's spans (see `GRACE`), closes the run and returns them.
    pub async fn finish(self, grace: Duration) -> Vec<Span> {
        let deadline = Instant::now() + grace;
        loop {
            if self.complete() || Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(POLL).await;
        }
        let mut state = match self.receiver.state.lock() {
            Ok(s) => s,
            Err(_) => return Vec::new(),
        };
        state
            .open
            .get_mut(&self.context.trace_id)
            .map(|r| std::mem::take(&mut r.spans))
            .unwrap_or_default()
        // Dropping `self` closes the run.
    }

    /// The root span arrived and the trace has been quiet since.
    fn complete(&self) -> bool {
        let Ok(state) = self.receiver.state.lock() else {
            return true;
        };
        let Some(run) = state.open.get(&self.context.trace_id) else {
            return true;
        };
        let parent = self.context.parent_span_id;
        let has_root = run
            .spans
            .iter()
            .any(|s| s.parent_span_id.is_none() || s.parent_span_id == Some(parent));
        has_root && run.last_arrival.is_some_and(|t| t.elapsed() >= QUIET)
    }
}

impl Drop for TraceRun {
    fn drop(&mut self) {
        if let Ok(mut state) = self.receiver.state.lock() {
            state.open.remove(&self.context.trace_id);
            if state.by_case.get(&self.key) == Some(&self.context.trace_id) {
                state.by_case.remove(&self.key);
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Shared {
    state: Arc<Mutex<State>>,
    unattributed: Arc<AtomicU64>,
    max_body_bytes: u64,
}

type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Reply {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    if let Ok(v) = hyper::header::HeaderValue::from_str(content_type) {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

fn problem(status: StatusCode, message: String) -> Reply {
    reply(status, "text/plain; charset=utf-8", message)
}

impl Shared {
    async fn handle(&self, req: Request<Incoming>) -> Reply {
        if req.uri().path() != TRACES_PATH {
            return problem(
                StatusCode::NOT_FOUND,
                format!("only {TRACES_PATH} is served"),
            );
        }
        if req.method() != Method::POST {
            return problem(StatusCode::METHOD_NOT_ALLOWED, "POST only".into());
        }
        let header = |name| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let encoding = header(hyper::header::CONTENT_ENCODING);
        if !encoding.is_empty() && !encoding.eq_ignore_ascii_case("identity") {
            return problem(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("content-encoding `{encoding}` is not supported (hint: OTEL_EXPORTER_OTLP_COMPRESSION=none)"),
            );
        }
        let content_type = header(hyper::header::CONTENT_TYPE);
        let Some(format) = Encoding::from_content_type(&content_type) else {
            return problem(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("content-type `{content_type}`: expected application/x-protobuf or application/json"),
            );
        };
        let limit = usize::try_from(self.max_body_bytes).unwrap_or(usize::MAX);
        let body = match Limited::new(req.into_body(), limit).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => {
                return problem(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "a trace export is limited to {limit} bytes (run.limits.max_output_bytes)"
                    ),
                )
            }
        };
        match decode(&body, format) {
            Ok(batches) => {
                self.ingest(batches);
                // An empty ExportTraceServiceResponse: full success.
                match format {
                    Encoding::Protobuf => reply(StatusCode::OK, "application/x-protobuf", ""),
                    Encoding::Json => reply(StatusCode::OK, "application/json", "{}"),
                }
            }
            Err(e) => problem(StatusCode::BAD_REQUEST, e.to_string()),
        }
    }

    fn ingest(&self, batches: Vec<ResourceBatch>) {
        let mut lost = 0u64;
        if let Ok(mut state) = self.state.lock() {
            let now = Instant::now();
            for batch in batches {
                let by_resource =
                    resource_run(&batch.resource).and_then(|key| state.by_case.get(&key).copied());
                for span in batch.spans {
                    let trace = if state.open.contains_key(&span.trace_id) {
                        Some(span.trace_id)
                    } else {
                        by_resource
                    };
                    match trace.and_then(|t| state.open.get_mut(&t)) {
                        Some(run) if run.spans.len() < MAX_SPANS_PER_RUN => {
                            run.spans.push(span);
                            run.last_arrival = Some(now);
                        }
                        _ => lost += 1,
                    }
                }
            }
        }
        if lost > 0 {
            self.unattributed.fetch_add(lost, Ordering::Relaxed);
        }
    }
}

/// The case id and repeat a process's resource attributes name, when both are there.
fn resource_run(resource: &std::collections::BTreeMap<String, Value>) -> Option<(String, u32)> {
    let id = resource.get(CASE_ID_ATTRIBUTE)?.as_str()?.to_string();
    let repeat = match resource.get(REPEAT_ATTRIBUTE)? {
        Value::String(s) => s.parse().ok()?,
        Value::Number(n) => u32::try_from(n.as_u64()?).ok()?,
        _ => return None,
    };
    Some((id, repeat))
}

#[cfg(test)]
#[path = "receiver_tests.rs"]
mod tests;
