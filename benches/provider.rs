//! Provider benches: one mock model call, and one OpenAI round of the pure halves
//! (`request_body` + serialisation, then JSON parsing + `parse_response`); no network.

use std::path::Path;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;

use gauntlet::provider::mock::MockProvider;
use gauntlet::provider::mock_rules::MockRules;
use gauntlet::provider::openai::{parse_response, request_body};
use gauntlet::provider::types::{Message, ModelRequest, Provider, Purpose, ToolSpec};
use gauntlet::trajectory::ToolCall;

fn request() -> ModelRequest {
    let system = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/support/system.md.j2"),
    )
    .expect("read the system prompt");
    let tool = |name: &str| ToolSpec {
        name: name.into(),
        description: format!("The {name} tool of the support world."),
        parameters: json!({"type": "object", "properties": {"order_id": {"type": "string"}},
                           "required": ["order_id"]}),
    };
    ModelRequest {
        model: "support".into(),
        messages: vec![
            Message::system(system),
            Message::user("Where is my order 1003?"),
            Message::assistant(
                "",
                vec![ToolCall {
                    id: "call_1".into(),
                    name: "lookup_order".into(),
                    args: json!({"order_id": "1003"}),
                }],
            ),
            Message::tool(
                "call_1",
                "lookup_order",
                r#"{"carrier":"UPS","estimated_delivery":"2026-03-23","order_id":"1003","status":"shipped","tracking":"1Z999AA10123456784"}"#,
            ),
        ],
        tools: ["lookup_order", "search_kb", "create_ticket", "issue_refund"]
            .map(tool)
            .to_vec()
            .into(),
        temperature: Some(0.0),
        max_tokens: Some(512),
        purpose: Purpose::Agent,
        seed: None,
        response_format: None,
    }
}

fn mock_call(c: &mut Criterion) {
    let rules = MockRules::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("suites/mocks/support.yaml"),
        &gauntlet::limits::Limits::DEFAULT,
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    let provider = MockProvider::new(Arc::new(rules), Vec::new());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let req = request();
    c.bench_function("provider/mock_call", |b| {
        b.iter(|| {
            rt.block_on(provider.complete(&req))
                .expect("the mock answers")
        })
    });
}

fn openai_round(c: &mut Criterion) {
    let req = request();
    let answer = serde_json::to_vec(&json!({
        "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": null,
            "tool_calls": [{"id": "call_2", "type": "function", "function": {
                "name": "issue_refund", "arguments": "{\"order_id\":\"1003\",\"amount\":30.0}"}}]}}],
        "usage": {"prompt_tokens": 412, "completion_tokens": 21, "total_tokens": 433}
    }))
    .expect("static JSON");
    c.bench_function("provider/openai_request_body", |b| {
        b.iter(|| serde_json::to_vec(&request_body(&req)).expect("serialises"))
    });
    c.bench_function("provider/openai_parse_response", |b| {
        b.iter(|| {
            let v: serde_json::Value = serde_json::from_slice(&answer).expect("parses");
            parse_response(&v, "gpt-4o-mini").expect("a valid answer")
        })
    });
}

criterion_group!(benches, mock_call, openai_round);
criterion_main!(benches);
