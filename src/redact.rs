//! `Redactor`: removes secrets from text before it is written anywhere — every configured API
//! key, any `Authorization`/`x-api-key` header value, `Bearer …` tokens and `sk-…`-style keys.
//!
//! Providers quote the key they were sent in their error bodies ("Incorrect API key provided:
//! sk-…"), and those messages travel into case results, every report file, CI annotations and
//! debug logs. Rather than trust each sink, the case result is redacted once as it is recorded
//! (see `runner`), provider errors as they are made, and the debug log as it is written.
//!
//! Keys are learned when they are read from the environment (`remember`); the process-wide set
//! only grows, so redaction is the same at any concurrency and never forgets a key.

use std::borrow::Cow;
use std::io::Write;
use std::sync::{LazyLock, RwLock};

use regex::Regex;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::results::run_result::RunResult;
use crate::trajectory::Trajectory;

/// What a secret is replaced with.
pub const MASK: &str = "[REDACTED]";

/// Shorter values are not treated as secrets: redacting every `a` would wreck the output, and
/// a key that short protects nothing anyway.
const MIN_SECRET_CHARS: usize = 8;

/// Header-like `name: value` or `name=value` pairs whose value is a credential, `Bearer` tokens,
/// and `sk-`-prefixed keys (OpenAI `sk-…`, `sk-proj-…`, Anthropic `sk-ant-…`). Values must be
/// key-like in length (12+ after a header name, 16+ after `Bearer`/`sk-`), so prose such as
/// "Bearer tokens expire" or "authorization: required" in an agent's answer stays as written:
/// a replay re-scores the recorded text.
static PATTERNS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r#"(?i)(?P<head>\b(?:authorization|proxy-authorization|x-api-key|api[-_]?key)"#,
        r#"["']?\s*[:=]\s*["']?)(?:bearer\s+|basic\s+)?[^\s"',;}]{12,}"#,
        r"|(?P<bearer>\bbearer\s+)[A-Za-z0-9._~+/=-]{15,}[A-Za-z0-9_~+/=-]",
        r"|\bsk-[A-Za-z0-9_-]{16,}",
    ))
    .expect("the redaction pattern compiles")
});

/// The keys learned so far (see `remember`).
static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// A set of literal secrets plus the fixed patterns.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// `secrets` too short to be keys (under 8 characters) are ignored.
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(secrets: I) -> Self {
        let mut secrets: Vec<String> = secrets
            .into_iter()
            .map(Into::into)
            .filter(|s| s.trim().chars().count() >= MIN_SECRET_CHARS)
            .collect();
        // Longest first, so a key that contains another is masked whole.
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        secrets.dedup();
        Redactor { secrets }
    }

    /// The process-wide redactor: every key `remember`ed so far, and any `*_API_KEY` variable
    /// of the environment (so a key is masked in debug logs before any suite is loaded).
    pub fn global() -> Self {
        let mut all: Vec<String> = SECRETS.read().map(|s| s.clone()).unwrap_or_default();
        all.extend(
            std::env::vars_os()
                .filter(|(k, _)| k.to_string_lossy().ends_with("_API_KEY"))
                .filter_map(|(_, v)| v.into_string().ok()),
        );
        Redactor::new(all)
    }

    /// This redactor with `extra` secrets too (e.g. the header values of one request).
    pub fn with<I: IntoIterator<Item = S>, S: Into<String>>(self, extra: I) -> Self {
        Redactor::new(
            self.secrets
                .into_iter()
                .chain(extra.into_iter().map(Into::into)),
        )
    }

    /// Whether `text` holds anything to redact.
    pub fn finds(&self, text: &str) -> bool {
        self.secrets.iter().any(|s| text.contains(s.as_str())) || PATTERNS.is_match(text)
    }

    /// `text` with every secret replaced by `[REDACTED]`; borrowed when there was none.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = Cow::Owned(out.replace(s.as_str(), MASK));
            }
        }
        if PATTERNS.is_match(&out) {
            let replaced = PATTERNS.replace_all(&out, |c: &regex::Captures<'_>| {
                let keep = c
                    .name("head")
                    .or_else(|| c.name("bearer"))
                    .map_or("", |m| m.as_str());
                format!("{keep}{MASK}")
            });
            out = Cow::Owned(replaced.into_owned());
        }
        out
    }

    /// Redacts every string (and object key) of a JSON value in place.
    pub fn redact_value(&self, v: &mut Value) {
        match v {
            Value::String(s) => {
                if let Cow::Owned(r) = self.redact(s) {
                    *s = r;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| self.redact_value(i)),
            Value::Object(map) => {
                let taken = std::mem::take(map);
                for (k, mut val) in taken {
                    self.redact_value(&mut val);
                    map.insert(self.redact(&k).into_owned(), val);
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// `value` with every string it serializes redacted. The common case (nothing to redact)
    /// costs one serialization; `None` when the redacted form no longer deserializes (a secret
    /// inside an enum tag, say), so the caller can drop the value rather than leak it.
    pub fn redact_serde<T: Serialize + DeserializeOwned>(&self, value: T) -> Option<T> {
        let text = serde_json::to_string(&value).ok()?;
        // Escaped as JSON, a key with a quote or backslash in it would not be found verbatim.
        if !self.finds(&text) && !self.secrets.iter().any(|s| text.contains(&escaped(s))) {
            return Some(value);
        }
        let mut v = serde_json::to_value(&value).ok()?;
        self.redact_value(&mut v);
        serde_json::from_value(v).ok()
    }

    /// A case result as it is recorded: its error, output, check reasons and trajectory (ids,
    /// tags and tool names come from the suite, not from a server).
    pub fn redact_case(&self, mut result: RunResult) -> RunResult {
        let fix = |s: &mut String| {
            if let Cow::Owned(r) = self.redact(s) {
                *s = r;
            }
        };
        fix(&mut result.output);
        if let Some(e) = &mut result.error {
            fix(e);
        }
        for v in &mut result.checks {
            fix(&mut v.reason);
        }
        let trajectory = std::mem::take(&mut result.trajectory);
        let error = result.error.clone();
        result.trajectory = self.redact_serde(trajectory).unwrap_or_else(|| {
            // Cannot happen with today's types; keep nothing rather than a secret.
            Trajectory::errored(
                error.unwrap_or_else(|| "the trajectory could not be redacted".into()),
            )
        });
        result
    }
}

/// `s` as it appears inside a JSON string.
fn escaped(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap_or_default();
    quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or(&quoted)
        .to_string()
}

/// Adds a key to the process-wide set: called wherever a key is read from the environment.
pub fn remember(secret: &str) {
    if secret.trim().chars().count() < MIN_SECRET_CHARS {
        return;
    }
    if let Ok(mut all) = SECRETS.write() {
        if !all.iter().any(|s| s == secret) {
            all.push(secret.to_string());
        }
    }
}

/// `text` with every known secret and credential pattern masked.
pub fn redact(text: &str) -> String {
    Redactor::global().redact(text).into_owned()
}

/// A writer for the debug log: collects one event's text and writes it redacted when dropped
/// (the log formatter writes each event through a fresh writer, so keys never split).
pub struct RedactingWriter<W: Write> {
    inner: W,
    buffer: Vec<u8>,
}

impl<W: Write> RedactingWriter<W> {
    pub fn new(inner: W) -> Self {
        RedactingWriter {
            inner,
            buffer: Vec::new(),
        }
    }

    fn flush_buffer(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&self.buffer);
        let redacted = Redactor::global().redact(&text).into_owned();
        self.buffer.clear();
        self.inner.write_all(redacted.as_bytes())?;
        self.inner.flush()
    }
}

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.flush_buffer()
    }
}

impl<W: Write> Drop for RedactingWriter<W> {
    fn drop(&mut self) {
        // A log line that cannot be written is dropped: logging never fails the run.
        let _ = self.flush_buffer();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_keys_and_credential_patterns_are_masked() {
        let r = Redactor::new(["my-custom-key-123456", "short"]);
        assert_eq!(
            r.redact("bad key my-custom-key-123456!"),
            "bad key [REDACTED]!"
        );
        assert_eq!(
            r.redact("short stays"),
            "short stays",
            "too short to be a key"
        );
        assert_eq!(
            r.redact("Incorrect API key provided: Bearer sk-abcdef1234567890."),
            "Incorrect API key provided: Bearer [REDACTED]."
        );
        assert_eq!(
            r.redact("key sk-ant-api03-AAAAbbbbCCCC end"),
            "key [REDACTED] end"
        );
        assert_eq!(
            r.redact(r#"{"x-api-key": "abc123secretvalue", "n": 1}"#),
            r#"{"x-api-key": "[REDACTED]", "n": 1}"#
        );
        assert_eq!(
            r.redact("Authorization: Basic dXNlcjpwYXNz\nnext"),
            "Authorization: [REDACTED]\nnext"
        );
        for prose in [
            "nothing here, sk-short",
            "Bearer tokens expire after an hour",
            "authorization: required",
            "we used sk-learn-pipeline",
        ] {
            assert_eq!(r.redact(prose), prose);
        }
        assert!(matches!(r.redact("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn the_log_writer_redacts_what_it_was_given_when_dropped() {
        let mut out = Vec::new();
        {
            let mut w = RedactingWriter::new(&mut out);
            w.write_all(b"DEBUG sent authorization: Bearer sk-")
                .unwrap();
            w.write_all(b"0123456789abcdef\n").unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "DEBUG sent authorization: [REDACTED]\n"
        );
    }

    #[test]
    fn a_longer_key_containing_a_shorter_one_is_masked_whole() {
        let r = Redactor::new(["abcdefgh", "abcdefgh-and-more"]);
        assert_eq!(r.redact("k=abcdefgh-and-more"), "k=[REDACTED]");
    }

    #[test]
    fn json_values_are_redacted_everywhere_and_clean_ones_untouched() {
        let r = Redactor::new(["secretsecret"]);
        let mut v = serde_json::json!({"a": ["x secretsecret"], "secretsecret": 1, "n": 2.5});
        r.redact_value(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"a": ["x [REDACTED]"], "[REDACTED]": 1, "n": 2.5})
        );
        let clean = serde_json::json!({"n": 0.1, "s": "ok"});
        assert_eq!(r.redact_serde(clean.clone()), Some(clean));
    }

    #[test]
    fn a_case_result_is_redacted_in_error_output_reasons_and_trajectory() {
        let r = Redactor::new(["k-0123456789"]);
        let mut t = crate::trajectory::Trajectory::errored("HTTP 401: bad key k-0123456789");
        t.output = "echo k-0123456789".into();
        let result = crate::results::run_result::run_result("c", &[], 3, t, Vec::new());
        let out = r.redact_case(result);
        assert_eq!(out.error.as_deref(), Some("HTTP 401: bad key [REDACTED]"));
        assert_eq!(out.output, "echo [REDACTED]");
        assert_eq!(out.trajectory.output, "echo [REDACTED]");
        assert_eq!(
            out.trajectory.error.as_deref(),
            Some("HTTP 401: bad key [REDACTED]")
        );
        assert_eq!(out.repeat, 3, "fields not serialized survive");
    }
}
