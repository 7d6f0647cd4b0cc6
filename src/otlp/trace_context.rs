//! `TraceContext`: the W3C trace context gauntlet hands one run of a case — a fresh trace id
//! and a parent span id, always sampled — and the environment a command agent gets with it.

use crate::otlp::decode::hex;
use crate::otlp::span::{SpanId, TraceId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    pub trace_id: TraceId,
    /// The span the agent's root spans are children of (gauntlet's own run, never exported).
    pub parent_span_id: SpanId,
}

/// The resource attributes that name the run a process's spans belong to.
pub const CASE_ID_ATTRIBUTE: &str = "gauntlet.case_id";
pub const REPEAT_ATTRIBUTE: &str = "gauntlet.repeat";

impl TraceContext {
    /// Fresh random ids (never all zero: that is the invalid id of the spec).
    pub fn fresh() -> Self {
        let mut trace_id = [0u8; 16];
        let mut parent_span_id = [0u8; 8];
        // An OS without randomness is not one gauntlet runs on; fall back to the clock so a
        // run still gets distinct ids.
        if getrandom::fill(&mut trace_id).is_err() || getrandom::fill(&mut parent_span_id).is_err()
        {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(1);
            trace_id = nanos.to_be_bytes();
            parent_span_id = (nanos as u64 | 1).to_be_bytes();
        }
        trace_id[15] |= 1;
        parent_span_id[7] |= 1;
        TraceContext {
            trace_id,
            parent_span_id,
        }
    }

    /// `traceparent`, version 00, sampled flag `01`: OpenTelemetry SDKs drop every span of an
    /// unsampled parent.
    pub fn traceparent(&self) -> String {
        format!(
            "00-{}-{}-01",
            hex(&self.trace_id),
            hex(&self.parent_span_id)
        )
    }

    /// What a command agent's environment gets for this run.
    pub fn env(&self, endpoint: &str, case_id: &str, repeat: u32) -> Vec<(String, String)> {
        vec![
            ("OTEL_EXPORTER_OTLP_ENDPOINT".into(), endpoint.to_string()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL".into(), "http/protobuf".into()),
            ("TRACEPARENT".into(), self.traceparent()),
            (
                "OTEL_RESOURCE_ATTRIBUTES".into(),
                format!(
                    "{CASE_ID_ATTRIBUTE}={},{REPEAT_ATTRIBUTE}={repeat}",
                    percent_encode(case_id)
                ),
            ),
        ]
    }
}

/// `OTEL_RESOURCE_ATTRIBUTES` values are percent-encoded (W3C Baggage octets): a case id with
/// a comma or `=` must not split the list.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_run_gets_a_fresh_sampled_traceparent() {
        let a = TraceContext::fresh();
        let b = TraceContext::fresh();
        assert_ne!(a.trace_id, b.trace_id);
        let tp = a.traceparent();
        let parts: Vec<&str> = tp.split('-').collect();
        assert_eq!(parts.len(), 4, "{tp}");
        assert_eq!((parts[0], parts[3]), ("00", "01"));
        assert_eq!((parts[1].len(), parts[2].len()), (32, 16));
        assert_ne!(parts[1], "0".repeat(32));
    }

    #[test]
    fn the_environment_names_the_endpoint_and_the_run() {
        let c = TraceContext {
            trace_id: [0xab; 16],
            parent_span_id: [0xcd; 8],
        };
        let env = c.env("http://127.0.0.1:4318", "refund,late=1", 2);
        let get = |k: &str| env.iter().find(|(n, _)| n == k).unwrap().1.clone();
        assert_eq!(get("OTEL_EXPORTER_OTLP_ENDPOINT"), "http://127.0.0.1:4318");
        assert_eq!(get("OTEL_EXPORTER_OTLP_PROTOCOL"), "http/protobuf");
        assert_eq!(
            get("TRACEPARENT"),
            format!("00-{}-{}-01", "ab".repeat(16), "cd".repeat(8))
        );
        assert_eq!(
            get("OTEL_RESOURCE_ATTRIBUTES"),
            "gauntlet.case_id=refund%2Clate%3D1,gauntlet.repeat=2"
        );
    }
}
