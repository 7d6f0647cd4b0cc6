//! The receiver over real HTTP on localhost: both encodings, attribution, bounds.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};
use prost::Message;

use super::*;
use crate::otlp::decode::hex;

fn request(
    trace_id: [u8; 16],
    parent: [u8; 8],
    names: &[&str],
    resource: &[(&str, &str)],
) -> ExportTraceServiceRequest {
    let spans = names
        .iter()
        .enumerate()
        .map(|(i, n)| opentelemetry_proto::tonic::trace::v1::Span {
            trace_id: trace_id.to_vec(),
            span_id: (i as u64 + 1).to_be_bytes().to_vec(),
            parent_span_id: parent.to_vec(),
            name: n.to_string(),
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: resource
                    .iter()
                    .map(|(k, v)| KeyValue {
                        key: k.to_string(),
                        value: Some(AnyValue {
                            value: Some(any_value::Value::StringValue(v.to_string())),
                        }),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

async fn post(r: &Receiver, content_type: &str, body: Vec<u8>) -> (u16, String) {
    let resp = reqwest::Client::new()
        .post(format!("{}{TRACES_PATH}", r.endpoint()))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("the receiver answers");
    (
        resp.status().as_u16(),
        resp.text().await.unwrap_or_default(),
    )
}

#[tokio::test]
async fn protobuf_and_json_spans_reach_their_run_and_others_are_counted() {
    let r = Receiver::start(1 << 20).await.unwrap();
    assert!(r.endpoint().starts_with("http://127.0.0.1:"));
    let run = r.begin("c1", 0);
    let ctx = *run.context();
    let body = request(ctx.trace_id, ctx.parent_span_id, &["root"], &[]).encode_to_vec();
    assert_eq!(post(&r, "application/x-protobuf", body).await.0, 200);
    let json = format!(
        r#"{{"resourceSpans": [{{"scopeSpans": [{{"spans": [
            {{"traceId": "{}", "spanId": "00000000000000aa", "parentSpanId": "0000000000000001", "name": "child"}}]}}]}}]}}"#,
        hex(&ctx.trace_id)
    );
    assert_eq!(
        post(&r, "application/json", json.into_bytes()).await,
        (200, "{}".into())
    );
    // A foreign trace belongs to no run.
    let foreign = request([7; 16], [0; 8], &["x", "y"], &[]).encode_to_vec();
    assert_eq!(post(&r, "application/x-protobuf", foreign).await.0, 200);
    assert_eq!(r.unattributed(), 2);
    let spans = run.finish(GRACE).await;
    let mut names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["child", "root"]);
    // The run is closed: a late span is counted, not kept.
    let late = request(ctx.trace_id, ctx.parent_span_id, &["late"], &[]).encode_to_vec();
    assert_eq!(post(&r, "application/x-protobuf", late).await.0, 200);
    assert_eq!(r.unattributed(), 3);
}

#[tokio::test]
async fn spans_without_the_context_are_placed_by_their_resource_case_and_repeat() {
    let r = Receiver::start(1 << 20).await.unwrap();
    let run = r.begin("c,1", 2);
    let other = r.begin("c,1", 3);
    let body = request(
        [9; 16],
        [0; 8],
        &["root"],
        &[("gauntlet.case_id", "c,1"), ("gauntlet.repeat", "2")],
    )
    .encode_to_vec();
    assert_eq!(post(&r, "application/x-protobuf", body).await.0, 200);
    assert_eq!(run.finish(GRACE).await.len(), 1);
    assert!(other.finish(Duration::ZERO).await.is_empty());
    assert_eq!(r.unattributed(), 0);
}

#[tokio::test]
async fn finishing_waits_at_most_the_grace_without_a_root_span() {
    let r = Receiver::start(1 << 20).await.unwrap();
    let run = r.begin("c", 0);
    let started = Instant::now();
    assert!(run.finish(Duration::from_millis(100)).await.is_empty());
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(100), "{waited:?}");
}

#[tokio::test]
async fn bad_requests_are_refused_and_bodies_are_bounded() {
    let r = Receiver::start(1024).await.unwrap();
    let run = r.begin("c", 0);
    let ctx = *run.context();
    let big: Vec<&str> = std::iter::repeat_n("a-long-span-name", 100).collect();
    let body = request(ctx.trace_id, ctx.parent_span_id, &big, &[]).encode_to_vec();
    assert!(body.len() > 1024);
    let (status, text) = post(&r, "application/x-protobuf", body).await;
    assert_eq!(status, 413, "{text}");
    assert_eq!(post(&r, "text/plain", b"x".to_vec()).await.0, 415);
    assert_eq!(
        post(&r, "application/x-protobuf", b"\xff\xff".to_vec())
            .await
            .0,
        400
    );
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/logs", r.endpoint()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    assert!(run.finish(Duration::ZERO).await.is_empty());
}

#[tokio::test]
async fn a_run_keeps_at_most_its_cap_of_spans() {
    let r = Receiver::start(64 << 20).await.unwrap();
    let run = r.begin("c", 0);
    let ctx = *run.context();
    let names: Vec<String> = (0..MAX_SPANS_PER_RUN + 5).map(|i| i.to_string()).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let body = request(ctx.trace_id, ctx.parent_span_id, &names, &[]).encode_to_vec();
    assert_eq!(post(&r, "application/x-protobuf", body).await.0, 200);
    assert_eq!(run.finish(GRACE).await.len(), MAX_SPANS_PER_RUN);
    assert_eq!(r.unattributed(), 5);
}
