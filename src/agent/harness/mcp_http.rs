//! `McpHttpClient`: rmcp's `StreamableHttpClient` over gauntlet's own reqwest client
//! (`crate::http_client`), for MCP servers reached by URL (`mcp: {retail: {url: ...}}`).
//!
//! rmcp's built-in HTTP client needs another major version of reqwest; this one keeps one HTTP
//! stack with the same proxy and user-agent rules as every other request gauntlet makes. The
//! protocol (initialize, `Mcp-Session-Id`, SSE reconnection, DELETE at the end) stays rmcp's:
//! this file only moves bytes, and bounds them. Every body is read within the suite's
//! `run.limits.max_response_bytes` — a JSON reply as a whole, an SSE stream per event — so an
//! endless or huge reply is an error naming the limit, never unbounded memory. Timeouts are the
//! caller's (`McpSession` bounds each request), because an SSE stream may rightly stay open.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use http::{HeaderName, HeaderValue, StatusCode};
use rmcp::model::{ClientJsonRpcMessage, JsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::common::http_header::{
    EVENT_STREAM_MIME_TYPE, HEADER_LAST_EVENT_ID, HEADER_SESSION_ID, JSON_MIME_TYPE,
};
use rmcp::transport::streamable_http_client::{
    SseError, StreamableHttpClient, StreamableHttpError, StreamableHttpPostResponse,
    StreamableHttpResponseLimits,
};
use sse_stream::{Sse, SseStream};

type HttpError = StreamableHttpError<reqwest::Error>;
type Events = BoxStream<'static, Result<Sse, SseError>>;

/// How much of an error body a message quotes.
const BODY_EXCERPT: usize = 300;

/// The streamable-HTTP client of one MCP session; the reqwest client (and its connections) is
/// shared by all sessions with the server.
#[derive(Debug, Clone)]
pub(crate) struct McpHttpClient {
    client: reqwest::Client,
    broken: StreamFailure,
}

/// Why an event stream of the session broke. rmcp closes the transport on such an error and
/// tells the waiting request only "Transport closed"; the session quotes this instead.
#[derive(Debug, Clone, Default)]
pub(crate) struct StreamFailure(Arc<Mutex<Option<String>>>);

impl StreamFailure {
    fn note(&self, why: String) {
        let mut slot = self.0.lock().unwrap_or_else(|e| e.into_inner());
        slot.get_or_insert(why);
    }

    /// The first failure noted, if any.
    pub(crate) fn get(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl McpHttpClient {
    pub(crate) fn new(client: reqwest::Client, broken: StreamFailure) -> Self {
        McpHttpClient { client, broken }
    }

    /// A request with the transport's headers: the caller's, then the bearer token and session.
    fn request(
        &self,
        method: reqwest::Method,
        uri: &str,
        session_id: Option<&str>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> reqwest::RequestBuilder {
        let mut request = self.client.request(method, uri);
        for (name, value) in custom_headers {
            request = request.header(name, value);
        }
        if let Some(token) = auth_header {
            request = request.bearer_auth(token);
        }
        if let Some(id) = session_id {
            request = request.header(HEADER_SESSION_ID, id);
        }
        request
    }
}

/// Why an SSE stream stopped before its end.
#[derive(Debug, thiserror::Error)]
enum SseBodyError {
    #[error("reading the event stream: {0}")]
    Read(reqwest::Error),
    #[error("an SSE event exceeded the limit of {max} bytes (`run.limits.max_response_bytes`)")]
    TooLarge { max: usize },
}

/// Counts the bytes of the event being received: a blank line ends an event. Counting raw
/// bytes before the parser sees them bounds what the parser may buffer.
#[derive(Debug, Default)]
struct EventSize {
    bytes: usize,
    /// The last byte ended a line (`\n`), so a following line break ends the event.
    at_line_start: bool,
    /// The last byte was `\r`: a `\n` right after it belongs to the same line break.
    after_cr: bool,
}

impl EventSize {
    /// Takes in `chunk`; `false` once the event being received is larger than `max`.
    fn take(&mut self, chunk: &[u8], max: usize) -> bool {
        for &b in chunk {
            match b {
                b'\n' if self.after_cr => self.after_cr = false,
                b'\n' | b'\r' => {
                    if self.at_line_start {
                        self.bytes = 0;
                    } else {
                        self.at_line_start = true;
                    }
                    self.after_cr = b == b'\r';
                }
                _ => {
                    self.at_line_start = false;
                    self.after_cr = false;
                    self.bytes += 1;
                    if self.bytes > max {
                        return false;
                    }
                }
            }
        }
        true
    }
}

/// The response's body as SSE events, each at most `max` bytes; a failure is noted in
/// `broken` as well as returned.
fn bounded_events(response: reqwest::Response, max: usize, broken: StreamFailure) -> Events {
    let chunks = futures::stream::unfold(
        (Some(response), EventSize::default()),
        move |(response, mut size)| {
            let broken = broken.clone();
            async move {
                let mut response = response?;
                let error = match response.chunk().await {
                    Ok(Some(chunk)) if size.take(&chunk, max) => {
                        return Some((Ok::<Bytes, _>(chunk), (Some(response), size)))
                    }
                    Ok(Some(_)) => SseBodyError::TooLarge { max },
                    Ok(None) => return None,
                    Err(e) => SseBodyError::Read(e),
                };
                broken.note(chain(&error));
                // The stream ends after the error: nothing more is read from this response.
                Some((Err(error), (None, size)))
            }
        },
    );
    SseStream::from_bytes_stream(chunks).boxed()
}

/// The whole body, refused as soon as it is longer than `max` bytes.
async fn bounded_body(mut response: reqwest::Response, max: usize) -> Result<Vec<u8>, HttpError> {
    // Named for the user: the limit they can raise, not rmcp's own wording.
    let too_large = || {
        StreamableHttpError::UnexpectedServerResponse(Cow::Owned(format!(
            "the reply is longer than {max} bytes, the limit (`run.limits.max_response_bytes`)"
        )))
    };
    if response.content_length().is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(StreamableHttpError::Client)?
    {
        if chunk.len() > max - body.len() {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The start of an error body, for a message; what cannot be read is left out.
async fn excerpt(mut response: reqwest::Response, max: usize) -> String {
    let max = max.min(BODY_EXCERPT);
    let mut body = Vec::new();
    while body.len() < max {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk[..chunk.len().min(max - body.len())]),
            _ => break,
        }
    }
    crate::text::one_line(&String::from_utf8_lossy(&body), max)
}

/// Whether the response's `Content-Type` is `expected` (parameters such as `charset` aside).
fn is_type(response: &reqwest::Response, expected: &str) -> bool {
    response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case(expected))
}

fn content_type(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// A failed status as an error with the start of its body (`HTTP 500 Internal Server Error: …`).
async fn status_error(response: reqwest::Response, max: usize) -> HttpError {
    let status = response.status();
    let body = excerpt(response, max).await;
    let text = match body.is_empty() {
        true => format!("HTTP {status}"),
        false => format!("HTTP {status}: {body}"),
    };
    StreamableHttpError::UnexpectedServerResponse(Cow::Owned(text))
}

/// Why a request to an MCP server failed, in words: the HTTP cause under rmcp's wrappers (whose
/// own text names Rust types and steps the error's kind already says).
pub(crate) fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    use rmcp::service::{ClientInitializeError, ServiceError};
    use rmcp::transport::DynamicTransportError;
    if let Some(http) = e.downcast_ref::<HttpError>() {
        return match http {
            StreamableHttpError::Client(e) => chain(e),
            StreamableHttpError::UnexpectedServerResponse(text) => text.to_string(),
            StreamableHttpError::UnexpectedContentType(found) => format!(
                "the reply's content type is {}, not JSON or an event stream",
                found.as_deref().unwrap_or("missing")
            ),
            StreamableHttpError::SessionExpired => {
                "the server no longer knows the session (HTTP 404)".into()
            }
            StreamableHttpError::Sse(e) => format!("its event stream broke: {}", chain(e)),
            other => chain(other),
        };
    }
    let inner: Option<&(dyn std::error::Error + 'static)> =
        if let Some(ClientInitializeError::TransportError { error, .. }) = e.downcast_ref() {
            Some(error)
        } else if let Some(ServiceError::TransportSend(error)) = e.downcast_ref() {
            Some(error)
        } else if let Some(d) = e.downcast_ref::<DynamicTransportError>() {
            Some(&*d.error)
        } else {
            None
        };
    match inner {
        Some(inner) => describe(inner),
        None => chain(e),
    }
}

/// An error and its causes, `: `-joined (a cause its parent already quotes is left out).
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

impl StreamableHttpClient for McpHttpClient {
    type Error = reqwest::Error;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<StreamableHttpPostResponse, HttpError> {
        self.post_message_with_response_limits(
            uri,
            message,
            session_id,
            auth_header,
            custom_headers,
            StreamableHttpResponseLimits::default(),
        )
        .await
    }

    async fn post_message_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<StreamableHttpPostResponse, HttpError> {
        let mut limits = StreamableHttpResponseLimits::default();
        limits.max_sse_event_size = max_sse_event_size;
        self.post_message_with_response_limits(
            uri,
            message,
            session_id,
            auth_header,
            custom_headers,
            limits,
        )
        .await
    }

    async fn post_message_with_response_limits(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        limits: StreamableHttpResponseLimits,
    ) -> Result<StreamableHttpPostResponse, HttpError> {
        let body = serde_json::to_vec(&message)?;
        let had_session = session_id.is_some();
        let response = self
            .request(
                reqwest::Method::POST,
                &uri,
                session_id.as_deref(),
                auth_header,
                custom_headers,
            )
            .header(
                reqwest::header::ACCEPT,
                format!("{EVENT_STREAM_MIME_TYPE}, {JSON_MIME_TYPE}"),
            )
            .header(reqwest::header::CONTENT_TYPE, JSON_MIME_TYPE)
            .body(body)
            .send()
            .await
            .map_err(StreamableHttpError::Client)?;
        let status = response.status();
        if matches!(status, StatusCode::ACCEPTED | StatusCode::NO_CONTENT) {
            return Ok(StreamableHttpPostResponse::Accepted);
        }
        if status == StatusCode::NOT_FOUND && had_session {
            return Err(StreamableHttpError::SessionExpired);
        }
        let new_session = response
            .headers()
            .get(HEADER_SESSION_ID)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if !status.is_success() {
            // A JSON-RPC error sent with a failed status is the server's answer (the model is
            // told, or the handshake reports it); anything else is the status.
            if is_type(&response, JSON_MIME_TYPE) {
                let body = bounded_body(response, limits.max_json_response_size).await?;
                if let Ok(error @ JsonRpcMessage::Error(_)) =
                    serde_json::from_slice::<ServerJsonRpcMessage>(&body)
                {
                    return Ok(StreamableHttpPostResponse::Json(error, new_session));
                }
                let text = crate::text::one_line(&String::from_utf8_lossy(&body), BODY_EXCERPT);
                return Err(StreamableHttpError::UnexpectedServerResponse(Cow::Owned(
                    format!("HTTP {status}: {text}"),
                )));
            }
            return Err(status_error(response, limits.max_error_response_size).await);
        }
        let answers_nothing = !matches!(message, ClientJsonRpcMessage::Request(_));
        if answers_nothing && response.content_length() == Some(0) {
            // Some servers answer a notification with an empty 200 instead of 202.
            return Ok(StreamableHttpPostResponse::Accepted);
        }
        if is_type(&response, EVENT_STREAM_MIME_TYPE) {
            let events = bounded_events(response, limits.max_sse_event_size, self.broken.clone());
            return Ok(StreamableHttpPostResponse::Sse(events, new_session));
        }
        if is_type(&response, JSON_MIME_TYPE) {
            let body = bounded_body(response, limits.max_json_response_size).await?;
            return match serde_json::from_slice::<ServerJsonRpcMessage>(&body) {
                Ok(reply) => Ok(StreamableHttpPostResponse::Json(reply, new_session)),
                Err(e) => {
                    let text = crate::text::one_line(&String::from_utf8_lossy(&body), BODY_EXCERPT);
                    Err(StreamableHttpError::UnexpectedServerResponse(Cow::Owned(
                        format!("the reply is not a JSON-RPC message ({e}): {text}"),
                    )))
                }
            };
        }
        Err(StreamableHttpError::UnexpectedContentType(content_type(
            &response,
        )))
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<(), HttpError> {
        let response = self
            .request(
                reqwest::Method::DELETE,
                &uri,
                Some(&session_id),
                auth_header,
                custom_headers,
            )
            .send()
            .await
            .map_err(StreamableHttpError::Client)?;
        let status = response.status();
        // A server that keeps no sessions may refuse the DELETE: nothing is left to end.
        if status.is_success() || status == StatusCode::METHOD_NOT_ALLOWED {
            return Ok(());
        }
        Err(status_error(response, BODY_EXCERPT).await)
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<Events, HttpError> {
        let max = StreamableHttpResponseLimits::default().max_sse_event_size;
        self.get_stream_with_max_sse_event_size(
            uri,
            session_id,
            last_event_id,
            auth_header,
            custom_headers,
            max,
        )
        .await
    }

    async fn get_stream_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<Events, HttpError> {
        let mut request = self
            .request(
                reqwest::Method::GET,
                &uri,
                session_id.as_deref(),
                auth_header,
                custom_headers,
            )
            .header(
                reqwest::header::ACCEPT,
                format!("{EVENT_STREAM_MIME_TYPE}, {JSON_MIME_TYPE}"),
            );
        if let Some(id) = last_event_id {
            request = request.header(HEADER_LAST_EVENT_ID, id);
        }
        let response = request.send().await.map_err(StreamableHttpError::Client)?;
        if response.status() == StatusCode::METHOD_NOT_ALLOWED {
            return Err(StreamableHttpError::ServerDoesNotSupportSse);
        }
        if !response.status().is_success() {
            return Err(status_error(response, BODY_EXCERPT).await);
        }
        if !is_type(&response, EVENT_STREAM_MIME_TYPE) {
            return Err(StreamableHttpError::UnexpectedContentType(content_type(
                &response,
            )));
        }
        Ok(bounded_events(
            response,
            max_sse_event_size,
            self.broken.clone(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_counted_until_its_blank_line() {
        let mut size = EventSize::default();
        assert!(size.take(b"data: 12345\n\n", 11));
        // The blank line ended the event: the next one starts from zero, in any line ending.
        assert!(size.take(b"data: 12345\r\n\r\n", 11));
        assert!(size.take(b"data: 12345\r\rdata: 1", 11));
        assert!(size.take(b"2345\n", 11));
        assert!(!size.take(b"x", 11));
        // Lines of one event add up, across chunks.
        let mut size = EventSize::default();
        assert!(size.take(b"data: 1\n", 12));
        assert!(size.take(b"data", 12));
        assert!(!size.take(b": 2\n", 12));
    }
}
