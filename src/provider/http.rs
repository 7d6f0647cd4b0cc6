//! `HttpClient`: one keep-alive connection pool per provider, a JSON POST, and the mapping of
//! HTTP outcomes onto `ProviderError` (what is retried, what fails at once).

use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::duration::MAX_DURATION;
use crate::http_client::HttpClientError;
use crate::limits::format_size;
use crate::provider::body::{read_capped, read_prefix, BodyError, ERROR_BODY_BYTES};
use crate::provider::types::ProviderError;
use crate::redact::Redactor;

/// Longest excerpt of a response body quoted in an error.
const EXCERPT_CHARS: usize = 300;

#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    /// The provider's name, for messages.
    provider: String,
    /// The largest response body read (`run.limits.max_response_bytes`).
    max_body: u64,
}

// The client holds no key (headers are added per request), but keep Debug short anyway.
impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HttpClient({})", self.provider)
    }
}

impl HttpClient {
    pub fn new(provider: &str, timeout: Duration) -> Result<Self, HttpClientError> {
        let client = crate::http_client::build(provider, Some(timeout))?;
        Ok(HttpClient {
            client,
            provider: provider.to_string(),
            max_body: crate::limits::Limits::default().max_response_bytes,
        })
    }

    /// This client, reading response bodies of at most `bytes`.
    pub(crate) fn with_max_body(mut self, bytes: u64) -> Self {
        self.max_body = bytes;
        self
    }

    /// POSTs `body` as JSON to `url` with `headers`; returns the parsed JSON of a 2xx answer.
    pub(crate) async fn post_json<B: serde::Serialize + ?Sized>(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: &B,
    ) -> Result<Value, ProviderError> {
        let mut req = self.client.post(url).json(body);
        for (k, v) in headers {
            // Marked sensitive so no Debug output or HPACK table ever holds the key.
            let mut value = reqwest::header::HeaderValue::from_str(v).map_err(|_| {
                ProviderError::fatal(format!(
                    "{}: the `{k}` header has characters HTTP does not allow (hint: check the \
                     API key variable for stray quotes or newlines)",
                    self.provider
                ))
            })?;
            value.set_sensitive(true);
            req = req.header(*k, value);
        }
        let result = self.send(req).await;
        // A provider may quote the key it was sent: mask it (and any credential) before the
        // message goes anywhere.
        result.map_err(|mut e| {
            let redactor = Redactor::global().with(headers.iter().map(|(_, v)| *v));
            e.message = redactor.redact(&e.message).into_owned();
            e
        })
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<Value, ProviderError> {
        let resp = req.send().await.map_err(|e| self.transport_error(&e))?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        if !status.is_success() {
            // Only the start of an error body is ever quoted: the rest is not read.
            let body = read_prefix(resp, ERROR_BODY_BYTES.min(self.max_body))
                .await
                .map_err(|e| self.body_error(e))?;
            return Err(status_error(
                &self.provider,
                status.as_u16(),
                &String::from_utf8_lossy(&body),
                retry_after,
            ));
        }
        let body = read_capped(resp, self.max_body)
            .await
            .map_err(|e| self.body_error(e))?;
        serde_json::from_slice(&body).map_err(|e| {
            // A 200 with garbage will be garbage again: not retried.
            ProviderError::fatal(format!(
                "{} returned a response that is not JSON ({e}): {}",
                self.provider,
                excerpt(&String::from_utf8_lossy(&body))
            ))
        })
    }

    fn body_error(&self, e: BodyError) -> ProviderError {
        match e {
            // The same request would get the same reply: not retried.
            BodyError::TooLarge { limit } => ProviderError::fatal(format!(
                "{}'s response is larger than run.limits.max_response_bytes ({}) (hint: raise \
                 the limit in the suite's `run.limits` if the reply is expected)",
                self.provider,
                format_size(limit)
            )),
            BodyError::Transport(e) => self.transport_error(&e),
        }
    }

    fn transport_error(&self, e: &reqwest::Error) -> ProviderError {
        let what = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "connection failed"
        } else {
            "request failed"
        };
        // reqwest's message names the URL, never the headers, so the key stays out of it; its
        // top-level text ("error sending request") hides the cause, so the chain follows.
        ProviderError::transient(
            format!("{} {what}: {}", self.provider, error_chain(e)),
            None,
        )
    }
}

/// An error and its sources, `: `-separated ("… for url (…): client error (Connect): tcp
/// connect error: Connection refused (os error 111)").
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        // hyper repeats its cause in its own message: keep each text once.
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// 429, 408, 409 and 5xx (incl. Anthropic's 529 "overloaded") are transient; everything else
/// (400 bad request, 401 bad key, 403, 404 unknown model) fails at once with the provider's message.
pub(crate) fn status_error(
    provider: &str,
    status: u16,
    body: &str,
    retry_after: Option<Duration>,
) -> ProviderError {
    let message = format!("{provider} answered HTTP {status}: {}", error_message(body));
    if status == 429 || status == 408 || status == 409 || status >= 500 {
        ProviderError::transient(message, retry_after)
    } else {
        ProviderError::fatal(message)
    }
}

/// The provider's own error message (`{"error": {"message": ...}}` in both APIs), else an
/// excerpt of the body.
fn error_message(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| {
            v.pointer("/error/message")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| excerpt(body))
}

/// The start of a response body, for an error message.
pub(crate) fn excerpt(text: &str) -> String {
    crate::text::excerpt(text, EXCERPT_CHARS, "(empty body)")
}

/// `Retry-After` as seconds (`120`, `1.5`) or an HTTP date; a date in the past means now. A
/// huge value (or a date centuries ahead) saturates at [`MAX_DURATION`], which is more than
/// any `retries.max_delay`, so the call gives up instead of panicking or sleeping for ever.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<f64>() {
        if secs.is_nan() || secs < 0.0 {
            return None;
        }
        return Some(
            Duration::try_from_secs_f64(secs).map_or(MAX_DURATION, |d| d.min(MAX_DURATION)),
        );
    }
    let at = parse_http_date(v)?;
    Some(
        at.map_or(MAX_DURATION, |at| {
            at.duration_since(now).unwrap_or(Duration::ZERO)
        })
        .min(MAX_DURATION),
    )
}

/// IMF-fixdate, e.g. `Wed, 21 Oct 2015 07:28:00 GMT` (the form RFC 9110 requires senders to use).
/// `Some(None)`: a well-formed date too far ahead for the clock to represent.
fn parse_http_date(s: &str) -> Option<Option<SystemTime>> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let day: u64 = day.parse().ok()?;
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m == month)? as u64 + 1;
    let year: u64 = year.parse().ok()?;
    let hms: Vec<u64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, sec] = hms.as_slice() else {
        return None;
    };
    if !(1..=31).contains(&day) || year < 1970 || *h > 23 || *m > 59 || *sec > 60 {
        return None;
    }
    // Beyond year 9999 the arithmetic below could overflow; such a date is "never" anyway.
    if year > 9999 {
        return Some(None);
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + h * 3600 + m * 60 + sec;
    Some(SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs)))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: u64, m: u64, d: u64) -> u64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_470); // 07:27:50
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("0.25", now),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("-0.5", now), None);
        assert_eq!(parse_retry_after("NaN", now), None);
    }

    #[test]
    fn absurd_retry_after_values_saturate_instead_of_panicking() {
        let now = SystemTime::now();
        for v in [
            "99999999999999999999999",
            "1e308",
            "inf",
            "18446744073709551616",
            "Wed, 21 Oct 300000000000 07:28:00 GMT",
            "Fri, 31 Dec 9999 23:59:60 GMT",
        ] {
            let d = parse_retry_after(v, now).expect(v);
            assert!(d <= MAX_DURATION, "{v}: {d:?}");
            assert!(d > Duration::from_secs(86_400 * 365 * 50), "{v}: {d:?}");
        }
    }

    #[test]
    fn statuses_split_into_transient_and_fatal() {
        let body = r#"{"error": {"message": "Incorrect API key provided", "type": "auth"}}"#;
        let e = status_error("openai", 401, body, None);
        assert!(!e.retryable);
        assert_eq!(
            e.message,
            "openai answered HTTP 401: Incorrect API key provided"
        );
        assert!(!status_error("openai", 400, "bad", None).retryable);
        for s in [408, 409, 429, 500, 502, 503, 529] {
            assert!(status_error("x", s, "", None).retryable, "{s}");
        }
        let e = status_error("x", 503, "<html>down</html>", None);
        assert!(e.message.ends_with("<html>down</html>"), "{}", e.message);
    }
}
