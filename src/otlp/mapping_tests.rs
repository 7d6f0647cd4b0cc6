//! The mapping, span by span: one table row per convention and attribute.

use serde_json::{json, Value};

use super::*;

const MS: u64 = 1_000_000;
/// 2026-01-02T03:04:05.000Z
const T0: u64 = 1_767_323_045_000 * MS;

fn span(name: &str, id: u64, parent: Option<u64>, start_ms: u64, attrs: Value) -> Span {
    let mut s = Span::new(name, id, parent);
    s.start_unix_nano = T0 + start_ms * MS;
    s.end_unix_nano = T0 + (start_ms + 10) * MS;
    if let Value::Object(o) = attrs {
        s.attributes = o.into_iter().collect();
    }
    s
}

fn only(steps: Vec<Step>) -> Step {
    assert_eq!(steps.len(), 1, "{steps:#?}");
    steps.into_iter().next().unwrap()
}

#[test]
fn roles_by_genai_operation_and_openinference_kind() {
    for (attrs, want) in [
        (json!({"gen_ai.operation.name": "chat"}), SpanRole::Model),
        (
            json!({"gen_ai.operation.name": "text_completion"}),
            SpanRole::Model,
        ),
        (
            json!({"gen_ai.operation.name": "execute_tool"}),
            SpanRole::Tool,
        ),
        (
            json!({"gen_ai.operation.name": "invoke_agent"}),
            SpanRole::Agent,
        ),
        (
            json!({"gen_ai.operation.name": "embeddings"}),
            SpanRole::Other,
        ),
        (json!({"openinference.span.kind": "LLM"}), SpanRole::Model),
        (json!({"openinference.span.kind": "TOOL"}), SpanRole::Tool),
        (json!({"openinference.span.kind": "AGENT"}), SpanRole::Agent),
        (json!({"openinference.span.kind": "CHAIN"}), SpanRole::Other),
        (json!({"http.method": "GET"}), SpanRole::Other),
    ] {
        assert_eq!(role(&span("s", 1, None, 0, attrs.clone())), want, "{attrs}");
    }
}

#[test]
fn a_genai_chat_span_is_a_model_step_with_model_usage_latency_and_start() {
    let s = span(
        "chat gpt-4o-mini",
        1,
        None,
        6,
        json!({"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini",
               "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
               "gen_ai.usage.input_tokens": 120, "gen_ai.usage.output_tokens": 7,
               "gen_ai.system": "openai",
               "gen_ai.output.messages": "[{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":\"It shipped.\"},{\"type\":\"tool_call\",\"id\":\"c1\",\"name\":\"lookup_order\",\"arguments\":{\"order_id\":\"7\"}}]}]"}),
    );
    let Step::Model {
        content,
        tool_calls,
        usage,
        model,
        latency_ms,
        started_at,
        metadata,
        agent,
        cost_usd,
    } = only(to_steps(&[s]))
    else {
        panic!("not a model step")
    };
    assert_eq!(model, "gpt-4o-mini-2024-07-18", "the response model wins");
    assert_eq!((usage.input_tokens, usage.output_tokens), (120, 7));
    assert_eq!(latency_ms, Some(10));
    assert_eq!(started_at.as_deref(), Some("2026-01-02T03:04:05.006Z"));
    assert_eq!(content.as_deref(), Some("It shipped."));
    assert_eq!(
        tool_calls,
        [ToolCall {
            id: "c1".into(),
            name: "lookup_order".into(),
            args: json!({"order_id": "7"})
        }]
    );
    assert_eq!((agent, cost_usd), (None, None));
    assert_eq!(
        metadata.keys().collect::<Vec<_>>(),
        ["gen_ai.system", "span.name"],
        "unmapped attributes are kept"
    );
}

#[test]
fn v1_36_completion_events_and_legacy_token_names_are_read() {
    let mut s = span(
        "chat",
        1,
        None,
        0,
        json!({"gen_ai.operation.name": "chat", "gen_ai.request.model": "m",
               "gen_ai.usage.prompt_tokens": "3", "gen_ai.usage.completion_tokens": 4}),
    );
    s.events.push(crate::otlp::span::SpanEvent {
        name: "gen_ai.content.completion".into(),
        attributes: [(
            "gen_ai.completion".to_string(),
            json!("[{\"role\": \"assistant\", \"content\": \"Hello\"}]"),
        )]
        .into(),
    });
    let Step::Model { content, usage, .. } = only(to_steps(&[s])) else {
        panic!()
    };
    assert_eq!(content.as_deref(), Some("Hello"));
    assert_eq!(usage.total(), 7);
}

#[test]
fn an_openinference_llm_span_is_a_model_step() {
    let s = span(
        "ChatOpenAI",
        1,
        None,
        0,
        json!({"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o",
               "llm.token_count.prompt": 10, "llm.token_count.completion": 2,
               "llm.token_count.total": 12,
               "llm.output_messages.0.message.content": "Done",
               "llm.output_messages.0.message.tool_calls.0.tool_call.id": "t1",
               "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "send_email",
               "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments": "{\"to\": \"a@b\"}"}),
    );
    let Step::Model {
        content,
        usage,
        model,
        tool_calls,
        metadata,
        ..
    } = only(to_steps(&[s]))
    else {
        panic!()
    };
    assert_eq!(model, "gpt-4o");
    assert_eq!(usage.total(), 12);
    assert_eq!(content.as_deref(), Some("Done"));
    assert_eq!(tool_calls[0].name, "send_email");
    assert_eq!(tool_calls[0].args, json!({"to": "a@b"}));
    assert_eq!(tool_calls[0].id, "t1");
    assert_eq!(metadata.keys().collect::<Vec<_>>(), ["span.name"]);
}

#[test]
fn a_genai_tool_span_is_a_tool_step_with_arguments_result_and_error() {
    let ok = span(
        "execute_tool lookup_order",
        1,
        None,
        0,
        json!({"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup_order",
               "gen_ai.tool.call.id": "c1",
               "gen_ai.tool.call.arguments": "{\"order_id\": \"1042\"}",
               "gen_ai.tool.call.result": "{\"status\": \"delivered\"}"}),
    );
    let Step::Tool {
        id,
        name,
        args,
        result,
        error,
        latency_ms,
        ..
    } = only(to_steps(&[ok]))
    else {
        panic!()
    };
    assert_eq!((id.as_str(), name.as_str()), ("c1", "lookup_order"));
    assert_eq!(args, json!({"order_id": "1042"}));
    assert_eq!(result, Some(json!({"status": "delivered"})));
    assert_eq!((error, latency_ms), (None, Some(10)));

    let mut failed = span(
        "execute_tool issue_refund",
        2,
        None,
        0,
        json!({"gen_ai.operation.name": "execute_tool", "gen_ai.tool.call.arguments": "not json"}),
    );
    failed.error = Some("refund window closed".into());
    let Step::Tool {
        name, args, error, ..
    } = only(to_steps(&[failed]))
    else {
        panic!()
    };
    assert_eq!(name, "issue_refund", "the name from the span name");
    assert_eq!(args, json!("not json"), "unparsable arguments kept as text");
    assert_eq!(error.as_deref(), Some("refund window closed"));
}

#[test]
fn an_openinference_tool_span_reads_tool_name_and_input_output_values() {
    let s = span(
        "lookup_order",
        1,
        None,
        0,
        json!({"openinference.span.kind": "TOOL", "tool.name": "lookup_order",
               "input.value": "{\"order_id\": \"7\"}", "input.mime_type": "application/json",
               "output.value": "shipped"}),
    );
    let Step::Tool {
        name,
        args,
        result,
        metadata,
        ..
    } = only(to_steps(&[s]))
    else {
        panic!()
    };
    assert_eq!(name, "lookup_order");
    assert_eq!(args, json!({"order_id": "7"}));
    assert_eq!(result, Some(json!("shipped")));
    assert_eq!(metadata.keys().collect::<Vec<_>>(), ["span.name"]);
}

#[test]
fn invoke_agent_spans_nest_their_children_in_start_order_and_name_the_agent() {
    let spans = [
        // Arrival order is not start order: the root ends (and is exported) last.
        span(
            "execute_tool lookup_order",
            4,
            Some(3),
            30,
            json!({"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup_order"}),
        ),
        span(
            "chat",
            2,
            Some(1),
            1,
            json!({"gen_ai.operation.name": "chat", "gen_ai.request.model": "m"}),
        ),
        span(
            "invoke_agent orders",
            3,
            Some(1),
            20,
            json!({"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "orders"}),
        ),
        span(
            "invoke_agent support",
            1,
            Some(99),
            0,
            json!({"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "support",
                   "gen_ai.agent.id": "a-1"}),
        ),
    ];
    let Step::Agent {
        name,
        steps,
        metadata,
        latency_ms,
        ..
    } = only(to_steps(&spans))
    else {
        panic!()
    };
    assert_eq!(name, "support");
    assert_eq!(latency_ms, Some(10));
    assert_eq!(metadata["gen_ai.agent.id"], "a-1");
    assert_eq!(steps.len(), 2, "{steps:#?}");
    assert!(matches!(&steps[0], Step::Model { agent: Some(a), .. } if a == "support"));
    let Step::Agent { name, steps, .. } = &steps[1] else {
        panic!("{:?}", steps[1])
    };
    assert_eq!(name, "orders");
    assert!(
        matches!(&steps[..], [Step::Tool { name, agent: Some(a), .. }] if name == "lookup_order" && a == "orders")
    );
}

#[test]
fn other_spans_add_no_step_and_their_children_take_their_place() {
    let spans = [
        span(
            "workflow",
            1,
            None,
            0,
            json!({"openinference.span.kind": "CHAIN"}),
        ),
        span(
            "t",
            2,
            Some(1),
            5,
            json!({"openinference.span.kind": "TOOL", "tool.name": "b"}),
        ),
        span(
            "t",
            3,
            Some(1),
            2,
            json!({"openinference.span.kind": "TOOL", "tool.name": "a"}),
        ),
        span("http GET", 4, Some(2), 6, json!({"http.method": "GET"})),
    ];
    let names: Vec<String> = to_steps(&spans)
        .into_iter()
        .map(|s| match s {
            Step::Tool { name, .. } => name,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(names, ["a", "b"]);
}

#[test]
fn duplicates_cycles_and_deep_chains_are_safe() {
    let tool = |id, parent| {
        span(
            "t",
            id,
            parent,
            id,
            json!({"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "x"}),
        )
    };
    // A span sent twice counts once.
    assert_eq!(to_steps(&[tool(1, None), tool(1, None)]).len(), 1);
    // A cycle has no root: nothing to place, and no endless loop.
    assert!(to_steps(&[tool(1, Some(2)), tool(2, Some(1))]).is_empty());
    // A chain deeper than MAX_DEPTH is cut, without overflowing the stack.
    let deep: Vec<Span> = (1..=10_000u64)
        .map(|i| {
            span(
                "a",
                i,
                (i > 1).then(|| i - 1),
                i,
                json!({"gen_ai.operation.name": "invoke_agent"}),
            )
        })
        .collect();
    let mut depth = 0;
    let mut steps = to_steps(&deep);
    while let Some(Step::Agent { steps: inner, .. }) = steps.pop() {
        depth += 1;
        steps = inner;
    }
    assert_eq!(depth, MAX_DEPTH);
}

#[test]
fn unknown_times_give_no_latency_or_start() {
    let mut s = span(
        "t",
        1,
        None,
        0,
        json!({"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "x"}),
    );
    s.start_unix_nano = 0;
    let Step::Tool {
        latency_ms,
        started_at,
        args,
        ..
    } = only(to_steps(&[s]))
    else {
        panic!()
    };
    assert_eq!((latency_ms, started_at), (None, None));
    assert_eq!(args, json!({}), "no arguments: an empty object");
}

#[test]
fn rfc3339_dates() {
    assert_eq!(rfc3339_millis(1), "1970-01-01T00:00:00.000Z");
    assert_eq!(rfc3339_millis(T0 + 6 * MS), "2026-01-02T03:04:05.006Z");
    // A leap day.
    assert_eq!(
        rfc3339_millis(1_709_208_000_000 * MS),
        "2024-02-29T12:00:00.000Z"
    );
}
