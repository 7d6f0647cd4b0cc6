//! `decode`: an OTLP/HTTP trace export body (protobuf or JSON) into `Span`s grouped by
//! resource, with the message types of the `opentelemetry-proto` crate.

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use prost::Message;
use serde_json::Value;

use crate::otlp::span::{Span, SpanEvent};

/// The encodings OTLP/HTTP defines, by `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    /// `application/x-protobuf` or `application/json` (parameters such as `charset` ignored).
    pub fn from_content_type(content_type: &str) -> Option<Encoding> {
        let essence = content_type.split(';').next()?.trim();
        match essence.to_ascii_lowercase().as_str() {
            "application/x-protobuf" | "application/protobuf" => Some(Encoding::Protobuf),
            "application/json" => Some(Encoding::Json),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("invalid OTLP protobuf: {0}")]
    Protobuf(#[from] prost::DecodeError),
    #[error("invalid OTLP JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// The spans of one resource (one process, one service) and that resource's attributes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResourceBatch {
    pub resource: BTreeMap<String, Value>,
    pub spans: Vec<Span>,
}

pub fn decode(body: &[u8], encoding: Encoding) -> Result<Vec<ResourceBatch>, DecodeError> {
    let request = match encoding {
        Encoding::Protobuf => ExportTraceServiceRequest::decode(body)?,
        Encoding::Json => serde_json::from_slice(body)?,
    };
    Ok(from_request(request))
}

fn from_request(request: ExportTraceServiceRequest) -> Vec<ResourceBatch> {
    request
        .resource_spans
        .into_iter()
        .map(|rs| ResourceBatch {
            resource: rs
                .resource
                .map(|r| attributes(r.attributes))
                .unwrap_or_default(),
            spans: rs
                .scope_spans
                .into_iter()
                .flat_map(|ss| ss.spans)
                .filter_map(|s| {
                    // A span without valid ids cannot be placed in any trace: skipped.
                    let trace_id = s.trace_id.as_slice().try_into().ok()?;
                    let span_id = s.span_id.as_slice().try_into().ok()?;
                    let parent_span_id = s
                        .parent_span_id
                        .as_slice()
                        .try_into()
                        .ok()
                        .filter(|p: &[u8; 8]| p.iter().any(|b| *b != 0));
                    let error = s
                        .status
                        .filter(|st| st.code == StatusCode::Error as i32)
                        .map(|st| {
                            if st.message.is_empty() {
                                "error".to_string()
                            } else {
                                st.message
                            }
                        });
                    Some(Span {
                        trace_id,
                        span_id,
                        parent_span_id,
                        name: s.name,
                        start_unix_nano: s.start_time_unix_nano,
                        end_unix_nano: s.end_time_unix_nano,
                        attributes: attributes(s.attributes),
                        events: s
                            .events
                            .into_iter()
                            .map(|e| SpanEvent {
                                name: e.name,
                                attributes: attributes(e.attributes),
                            })
                            .collect(),
                        error,
                    })
                })
                .collect(),
        })
        .collect()
}

fn attributes(kvs: Vec<KeyValue>) -> BTreeMap<String, Value> {
    kvs.into_iter()
        .map(|kv| (kv.key, kv.value.map(json).unwrap_or(Value::Null)))
        .collect()
}

/// An attribute value as JSON: bytes as lowercase hex, a non-finite double as null.
fn json(v: AnyValue) -> Value {
    match v.value {
        None => Value::Null,
        Some(any_value::Value::StringValue(s)) => Value::String(s),
        Some(any_value::Value::BoolValue(b)) => Value::Bool(b),
        Some(any_value::Value::IntValue(i)) => Value::from(i),
        Some(any_value::Value::DoubleValue(d)) => serde_json::Number::from_f64(d)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Some(any_value::Value::ArrayValue(a)) => {
            Value::Array(a.values.into_iter().map(json).collect())
        }
        Some(any_value::Value::KvlistValue(kv)) => {
            Value::Object(attributes(kv.values).into_iter().collect())
        }
        Some(any_value::Value::BytesValue(b)) => Value::String(hex(&b)),
        // A string-table index (profiles only): meaningless without the table.
        Some(_) => Value::Null,
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::ArrayValue;
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Status};

    fn kv(key: &str, v: any_value::Value) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(v) }),
            ..Default::default()
        }
    }

    #[test]
    fn protobuf_bodies_decode_with_typed_attributes_and_error_status() {
        let span = opentelemetry_proto::tonic::trace::v1::Span {
            trace_id: vec![1; 16],
            span_id: vec![2; 8],
            parent_span_id: vec![],
            name: "execute_tool lookup_order".into(),
            start_time_unix_nano: 5,
            end_time_unix_nano: 9,
            attributes: vec![
                kv("n", any_value::Value::IntValue(3)),
                kv("f", any_value::Value::DoubleValue(f64::NAN)),
                kv(
                    "a",
                    any_value::Value::ArrayValue(ArrayValue {
                        values: vec![AnyValue {
                            value: Some(any_value::Value::BoolValue(true)),
                        }],
                    }),
                ),
            ],
            status: Some(Status {
                message: "".into(),
                code: StatusCode::Error as i32,
            }),
            ..Default::default()
        };
        let bad = opentelemetry_proto::tonic::trace::v1::Span {
            trace_id: vec![1; 3],
            ..span.clone()
        };
        let request = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![kv(
                        "service.name",
                        any_value::Value::StringValue("a".into()),
                    )],
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    spans: vec![span, bad],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let batches = decode(&request.encode_to_vec(), Encoding::Protobuf).unwrap();
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].resource["service.name"], "a");
        assert_eq!(
            batches[0].spans.len(),
            1,
            "a span with a bad trace id is skipped"
        );
        let s = &batches[0].spans[0];
        assert_eq!(s.parent_span_id, None);
        assert_eq!(s.attributes["n"], 3);
        assert_eq!(s.attributes["f"], Value::Null);
        assert_eq!(s.attributes["a"], serde_json::json!([true]));
        assert_eq!(s.error.as_deref(), Some("error"));
        assert!(decode(b"\xff\xff\xff", Encoding::Protobuf).is_err());
    }

    #[test]
    fn json_bodies_use_hex_ids_and_string_integers() {
        let body = r#"{"resourceSpans": [{"resource": {"attributes": [
            {"key": "gauntlet.case_id", "value": {"stringValue": "c1"}}]},
          "scopeSpans": [{"spans": [{
            "traceId": "0102030405060708090a0b0c0d0e0f10", "spanId": "1112131415161718",
            "parentSpanId": "2122232425262728", "name": "chat gpt-4o",
            "startTimeUnixNano": "1000000", "endTimeUnixNano": "3000000",
            "attributes": [{"key": "gen_ai.usage.input_tokens", "value": {"intValue": "12"}}],
            "events": [{"name": "gen_ai.content.completion", "timeUnixNano": "2000000",
              "attributes": [{"key": "gen_ai.completion", "value": {"stringValue": "hi"}}]}],
            "status": {"code": 2, "message": "boom"}}]}]}]}"#;
        let batches = decode(body.as_bytes(), Encoding::Json).unwrap();
        let s = &batches[0].spans[0];
        assert_eq!(hex(&s.trace_id), "0102030405060708090a0b0c0d0e0f10");
        assert_eq!(
            s.parent_span_id,
            Some([0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28])
        );
        assert_eq!((s.start_unix_nano, s.end_unix_nano), (1_000_000, 3_000_000));
        assert_eq!(s.u64_attr("gen_ai.usage.input_tokens"), Some(12));
        assert_eq!(s.events[0].attributes["gen_ai.completion"], "hi");
        assert_eq!(s.error.as_deref(), Some("boom"));
        assert_eq!(batches[0].resource["gauntlet.case_id"], "c1");
        assert!(decode(b"{\"resourceSpans\": 3}", Encoding::Json).is_err());
    }

    #[test]
    fn content_types() {
        assert_eq!(
            Encoding::from_content_type("application/x-protobuf"),
            Some(Encoding::Protobuf)
        );
        assert_eq!(
            Encoding::from_content_type("application/json; charset=utf-8"),
            Some(Encoding::Json)
        );
        assert_eq!(Encoding::from_content_type("text/plain"), None);
    }
}
