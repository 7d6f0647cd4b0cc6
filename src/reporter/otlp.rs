//! `OtlpReporter`: with `--otlp URL` (or `OTEL_EXPORTER_OTLP_ENDPOINT`), every finished run is
//! sent to an OpenTelemetry collector as GenAI-convention spans (laid out by
//! `reporter::genai_spans`), over OTLP/HTTP protobuf. `OtlpExporter` is the SDK behind it: set
//! up only when asked for, shared by every suite of the command, flushed before exit.
//!
//! A collector that is down or refuses the spans never fails a run: the batch processor sends
//! from its own thread, and `OtlpExporter::finish` warns once with what was lost.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{Span, SpanKind, Status, TraceContextExt, Tracer, TracerProvider};
use opentelemetry::{Context, KeyValue};
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracer, SdkTracerProvider, SpanData, SpanExporter,
};
use opentelemetry_sdk::Resource;

use crate::event::RunEvent;
use crate::reporter::fan_out::Reporter;
use crate::reporter::genai_spans::{plan_run, RunOrigin, SpanPlan, SpanRole};

/// The OTLP/HTTP path of traces, appended to a base URL as the OpenTelemetry specification
/// says for `OTEL_EXPORTER_OTLP_ENDPOINT`.
const TRACES_PATH: &str = "/v1/traces";

/// One request to the collector may take this long; a collector that hangs costs at most this
/// per batch, on the exporter's thread, never on a case.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the last spans may take to leave at exit.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(15);

/// Spans held while the collector is slow. A run is a handful of spans; past this many waiting
/// spans are dropped (the SDK's default, 2048, is a few hundred runs of a fast mock suite).
const MAX_QUEUE: usize = 65_536;

/// Why the exporter cannot be set up.
#[derive(Debug, thiserror::Error)]
#[error("--otlp `{url}`: {reason}")]
pub(crate) struct OtlpError {
    url: String,
    reason: String,
}

/// Where the collector's URL came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UrlFrom {
    Flag,
    Env,
}

/// A collector URL that is not an http(s) URL.
#[derive(Debug, thiserror::Error)]
#[error(
    "{} `{url}` is not an http(s) URL (hint: http://localhost:4318; gRPC is not spoken)",
    match from { UrlFrom::Flag => "--otlp", UrlFrom::Env => "OTEL_EXPORTER_OTLP_ENDPOINT" }
)]
pub(crate) struct NotHttp {
    pub(crate) url: String,
    pub(crate) from: UrlFrom,
}

/// The traces URL to export to: `--otlp`'s, else `OTEL_EXPORTER_OTLP_ENDPOINT`'s (empty is
/// unset, as OpenTelemetry SDKs take it), else none.
pub(crate) fn export_url(flag: Option<&str>, env: Option<&str>) -> Result<Option<String>, NotHttp> {
    let chosen = match (flag, env) {
        (Some(url), _) => Some((url, UrlFrom::Flag)),
        (None, Some(url)) if !url.trim().is_empty() => Some((url, UrlFrom::Env)),
        _ => None,
    };
    chosen
        .map(|(url, from)| {
            traces_url(url).ok_or_else(|| NotHttp {
                url: url.to_string(),
                from,
            })
        })
        .transpose()
}

/// The collector's traces URL for a base URL: it gets `/v1/traces`, unless it already ends
/// with it. `None`: not an http(s) URL.
fn traces_url(base: &str) -> Option<String> {
    let base = base.trim();
    let url = reqwest::Url::parse(base).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    let path = url.path().trim_end_matches('/');
    Some(if path.ends_with(TRACES_PATH) {
        base.to_string()
    } else {
        format!("{}{TRACES_PATH}", base.trim_end_matches('/'))
    })
}

/// The SDK set up for `--otlp`: a batch processor feeding the OTLP/HTTP exporter.
pub(crate) struct OtlpExporter {
    provider: SdkTracerProvider,
    url: String,
    failures: Arc<Mutex<Failures>>,
}

/// What the collector did not take.
#[derive(Debug, Default)]
struct Failures {
    spans: usize,
    /// The exporter's first error: for a request that never got an answer only "network
    /// error", so the cause is kept apart, in `unsent`.
    first: Option<String>,
    /// Why the first request that could not be sent was not (refused, timed out, ...).
    unsent: Option<String>,
}

impl OtlpExporter {
    /// Exports to `url` (already resolved by `traces_url`). The requests are made on `runtime`,
    /// with the client every other part of gauntlet uses (proxies, loopback direct).
    pub(crate) fn start(url: &str, runtime: tokio::runtime::Handle) -> Result<Self, OtlpError> {
        let setup = |reason: String| OtlpError {
            url: url.to_string(),
            reason,
        };
        let client = crate::http_client::build("the OTLP exporter", Some(REQUEST_TIMEOUT))
            .map_err(|e| setup(e.to_string()))?;
        let failures = Arc::new(Mutex::new(Failures::default()));
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(OnRuntime {
                client,
                runtime,
                failures: Arc::clone(&failures),
            })
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(url)
            .with_timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| setup(e.to_string()))?;
        let exporter = Counted {
            inner: exporter,
            failures: Arc::clone(&failures),
        };
        let batch = BatchConfigBuilder::default()
            .with_max_queue_size(MAX_QUEUE)
            .build();
        let mut resource = Resource::builder()
            .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")));
        // The environment's `OTEL_SERVICE_NAME` wins (the builder reads it); else "gauntlet".
        if std::env::var_os("OTEL_SERVICE_NAME").is_none_or(|v| v.is_empty()) {
            resource = resource.with_service_name("gauntlet");
        }
        let provider = SdkTracerProvider::builder()
            .with_span_processor(
                BatchSpanProcessor::builder(exporter)
                    .with_batch_config(batch)
                    .build(),
            )
            .with_resource(resource.build())
            .build();
        Ok(OtlpExporter {
            provider,
            url: url.to_string(),
            failures,
        })
    }

    /// The reporter of one suite's runs.
    pub(crate) fn reporter(&self, suite: &str, target: &str) -> OtlpReporter {
        OtlpReporter {
            tracer: self.provider.tracer("gauntlet"),
            origin: RunOrigin {
                suite: suite.to_string(),
                target: target.to_string(),
            },
        }
    }

    /// Sends what is left and stops the exporter; warns when spans were lost. Blocks: call it
    /// outside the async runtime, which must still be running (the requests are made there).
    pub(crate) fn finish(self) {
        let flushed = self.provider.shutdown_with_timeout(FLUSH_TIMEOUT);
        let failures = self
            .failures
            .lock()
            .map(|f| (f.spans, f.unsent.clone().or_else(|| f.first.clone())))
            .unwrap_or_default();
        match (failures, flushed) {
            ((0, _), Ok(())) => {}
            ((0, _), Err(e)) => eprintln!(
                "warning: --otlp: the last spans may not have reached {}: {e} (the reports are not affected)",
                self.url
            ),
            ((spans, first), _) => eprintln!(
                "warning: --otlp: {spans} spans could not be exported to {}: {} (the reports are not affected)",
                self.url,
                first.unwrap_or_default()
            ),
        }
    }
}

/// Exports each finished run, as `genai_spans` lays it out.
pub(crate) struct OtlpReporter {
    tracer: SdkTracer,
    origin: RunOrigin,
}

impl Reporter for OtlpReporter {
    fn on_event(&mut self, event: &RunEvent<'_>) {
        let RunEvent::RunFinished { result } = event else {
            return;
        };
        let plans = plan_run(&self.origin, result, SystemTime::now());
        emit(&self.tracer, plans);
    }
}

/// Starts and ends the planned spans: the first is the root of a new trace, each other one a
/// child of the plan its `parent` names (which comes before it). A span with no children ends
/// at once, in plan order (the batch exports in that order); spans with children end after
/// them, innermost first. Ending a span only queues it for the batch processor.
fn emit(tracer: &SdkTracer, plans: Vec<SpanPlan>) {
    let mut has_children = vec![false; plans.len()];
    for plan in plans.iter().skip(1) {
        has_children[plan.parent] = true;
    }
    let mut open: Vec<(Context, SystemTime)> = Vec::with_capacity(plans.len());
    let mut parents = Vec::new();
    for (i, plan) in plans.into_iter().enumerate() {
        let end = plan.end;
        // The root (nothing started yet) opens a new trace.
        let parent = open
            .get(plan.parent)
            .map_or_else(Context::new, |(cx, _)| cx.clone());
        let cx = Context::new().with_span(start(tracer, plan, &parent));
        if has_children[i] {
            parents.push(i);
        } else {
            cx.span().end_with_timestamp(end);
        }
        open.push((cx, end));
    }
    for i in parents.into_iter().rev() {
        let (cx, end) = &open[i];
        cx.span().end_with_timestamp(*end);
    }
}

fn start(tracer: &SdkTracer, plan: SpanPlan, parent: &Context) -> opentelemetry_sdk::trace::Span {
    let kind = match plan.role {
        // A model call leaves the process; the rest happens in the agent.
        SpanRole::Chat => SpanKind::Client,
        SpanRole::Agent | SpanRole::Tool | SpanRole::Judge => SpanKind::Internal,
    };
    let mut span = tracer
        .span_builder(plan.name)
        .with_kind(kind)
        .with_start_time(plan.start)
        .with_attributes(plan.attributes)
        .start_with_context(tracer, parent);
    for event in plan.events {
        span.add_event_with_timestamp(event.name, event.at, event.attributes);
    }
    if let Some(description) = plan.error {
        span.set_status(Status::error(description));
    }
    span
}

/// The OTLP exporter with a count of what failed, which the batch processor otherwise only
/// logs.
#[derive(Debug)]
struct Counted<E> {
    inner: E,
    failures: Arc<Mutex<Failures>>,
}

impl<E: SpanExporter> SpanExporter for Counted<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let spans = batch.len();
        let result = self.inner.export(batch).await;
        if let Err(e) = &result {
            if let Ok(mut f) = self.failures.lock() {
                f.spans += spans;
                f.first.get_or_insert_with(|| e.to_string());
            }
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// The batch processor runs the exporter on a thread of its own, outside tokio; the request is
/// made on gauntlet's runtime by its reqwest client, and awaited from there.
#[derive(Debug)]
struct OnRuntime {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
    failures: Arc<Mutex<Failures>>,
}

#[async_trait::async_trait]
impl HttpClient for OnRuntime {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let client = self.client.clone();
        let sent = self.runtime.spawn(async move {
            let request = reqwest::Request::try_from(request)?;
            let response = client.execute(request).await?;
            let mut back = Response::builder().status(response.status());
            if let Some(headers) = back.headers_mut() {
                *headers = response.headers().clone();
            }
            Ok::<_, HttpError>(back.body(response.bytes().await?)?)
        });
        let result = sent.await.map_err(HttpError::from).and_then(|r| r);
        if let Err(e) = &result {
            if let Ok(mut f) = self.failures.lock() {
                f.unsent.get_or_insert_with(|| with_causes(e.as_ref()));
            }
        }
        result
    }
}

/// An error and its causes on one line: reqwest's own message is only "error sending request".
fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !line.contains(&text) {
            line = format!("{line}: {text}");
        }
        cause = c.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_over_the_environment_and_only_the_flag_is_a_usage_error() {
        let url = |flag, env| export_url(flag, env).map_err(|e| e.from);
        assert_eq!(url(None, None).unwrap(), None);
        assert_eq!(url(None, Some(" ")).unwrap(), None, "empty is unset");
        assert_eq!(
            url(Some("http://a:1"), Some("http://b:2"))
                .unwrap()
                .as_deref(),
            Some("http://a:1/v1/traces")
        );
        assert_eq!(
            url(None, Some("http://b:2")).unwrap().as_deref(),
            Some("http://b:2/v1/traces")
        );
        assert_eq!(url(Some("b:2"), None).unwrap_err(), UrlFrom::Flag);
        assert_eq!(url(None, Some("b:2")).unwrap_err(), UrlFrom::Env);
        assert_eq!(
            url(Some(""), None).unwrap_err(),
            UrlFrom::Flag,
            "given, but empty"
        );
    }

    #[test]
    fn the_traces_path_is_added_to_a_base_url_once() {
        let ok = |s: &str| traces_url(s).unwrap();
        assert_eq!(
            ok("http://127.0.0.1:4318"),
            "http://127.0.0.1:4318/v1/traces"
        );
        assert_eq!(ok("http://h:4318/"), "http://h:4318/v1/traces");
        assert_eq!(
            ok("https://h/api/public/otel"),
            "https://h/api/public/otel/v1/traces"
        );
        assert_eq!(ok("http://h:4318/v1/traces"), "http://h:4318/v1/traces");
        for bad in ["127.0.0.1:4318", "grpc://h:4317", "not a url", ""] {
            assert_eq!(traces_url(bad), None, "{bad}");
        }
    }
}
