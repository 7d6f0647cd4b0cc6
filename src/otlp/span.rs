//! `Span`: one received OpenTelemetry span, reduced to what the mapping reads (ids, name,
//! times, attributes as JSON values, events, error status).

use std::collections::BTreeMap;

use serde_json::Value;

pub type TraceId = [u8; 16];
pub type SpanId = [u8; 8];

#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    /// `None` for a root span (an empty or malformed parent id).
    pub parent_span_id: Option<SpanId>,
    pub name: String,
    pub start_unix_nano: u64,
    pub end_unix_nano: u64,
    pub attributes: BTreeMap<String, Value>,
    pub events: Vec<SpanEvent>,
    /// The status message of a span whose status is ERROR (`"error"` when it has none).
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SpanEvent {
    pub name: String,
    pub attributes: BTreeMap<String, Value>,
}

impl Span {
    /// A span with only its identity and name: the start of a test's span.
    pub fn new(name: &str, span_id: u64, parent: Option<u64>) -> Self {
        Span {
            trace_id: [0; 16],
            span_id: span_id.to_be_bytes(),
            parent_span_id: parent.map(u64::to_be_bytes),
            name: name.to_string(),
            start_unix_nano: 0,
            end_unix_nano: 0,
            attributes: BTreeMap::new(),
            events: Vec::new(),
            error: None,
        }
    }

    pub fn attr(&self, key: &str) -> Option<&Value> {
        self.attributes.get(key)
    }

    /// A string attribute (a number is taken as its text).
    pub fn str_attr(&self, key: &str) -> Option<String> {
        match self.attributes.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// A count attribute: an integer, or a string holding one (some exporters send strings).
    pub fn u64_attr(&self, key: &str) -> Option<u64> {
        match self.attributes.get(key)? {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}
