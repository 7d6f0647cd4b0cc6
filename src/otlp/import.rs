//! `import_cases`: exported production traces (OTLP JSON) as golden cases — the user's input,
//! the tool calls observed as `expected.tools`, the output as `expected.reference` — so a
//! production failure becomes a regression case in one command (`gauntlet import`).

use serde::Serialize;
use serde_json::Value;

use crate::otlp::file::{traced_run, traces_by_case, BadExport};
use crate::otlp::span::Span;

/// One golden case, in the dataset's JSONL shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportedCase {
    pub id: String,
    pub input: String,
    pub expected: ImportedExpected,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportedExpected {
    pub tools: Vec<ExpectedTool>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reference: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExpectedTool {
    pub name: String,
    pub args: Value,
}

/// The cases of a file, and the ids of the traces skipped because no user input was found.
pub fn import_cases(text: &str) -> Result<(Vec<ImportedCase>, Vec<String>), BadExport> {
    let mut cases = Vec::new();
    let mut skipped = Vec::new();
    for (id, spans) in traces_by_case(text)? {
        let Some(input) = input_of(&spans) else {
            skipped.push(id);
            continue;
        };
        let t = traced_run(&spans).trajectory();
        let tools = t
            .tool_calls()
            .map(|(name, args)| ExpectedTool {
                name: name.to_string(),
                args: args.clone(),
            })
            .collect();
        cases.push(ImportedCase {
            id,
            input,
            expected: ImportedExpected {
                tools,
                reference: t.output,
            },
        });
    }
    Ok((cases, skipped))
}

/// The first user message of a trace, earliest span first: GenAI `gen_ai.input.messages`,
/// v1.36's `gen_ai.prompt` (attribute, or `gen_ai.content.prompt` event) and
/// `gen_ai.user.message` events, OpenInference `llm.input_messages.*` and `input.value`.
pub fn input_of(spans: &[Span]) -> Option<String> {
    let mut ordered: Vec<&Span> = spans.iter().collect();
    ordered.sort_by_key(|s| s.start_unix_nano);
    ordered.into_iter().find_map(span_input)
}

fn span_input(span: &Span) -> Option<String> {
    for key in ["gen_ai.input.messages", "gen_ai.prompt"] {
        if let Some(text) = span.attr(key).and_then(first_user_text) {
            return Some(text);
        }
    }
    for e in &span.events {
        let found = match e.name.as_str() {
            "gen_ai.content.prompt" => e.attributes.get("gen_ai.prompt").and_then(first_user_text),
            "gen_ai.user.message" => e.attributes.get("content").and_then(plain_text),
            _ => None,
        };
        if found.is_some() {
            return found;
        }
    }
    for i in 0..64 {
        let role = span.str_attr(&format!("llm.input_messages.{i}.message.role"))?;
        if role == "user" {
            return span.str_attr(&format!("llm.input_messages.{i}.message.content"));
        }
    }
    None
}

/// The first user message of `[{"role", "content" | "parts"}]` (or JSON text of it); plain
/// text is taken as the message itself.
fn first_user_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(inner @ Value::Array(_)) => first_user_text(&inner),
            _ => Some(s.clone()).filter(|s| !s.is_empty()),
        },
        Value::Array(messages) => messages
            .iter()
            .filter(|m| m.get("role").and_then(Value::as_str) == Some("user"))
            .find_map(|m| {
                m.get("content")
                    .or_else(|| m.get("parts"))
                    .and_then(plain_text)
            }),
        _ => None,
    }
}

/// Text content: a string, or the `text` parts of a list.
fn plain_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()).filter(|s| !s.is_empty()),
        Value::Array(parts) => {
            let texts: Vec<&str> = parts
                .iter()
                .filter(|p| {
                    p.get("type")
                        .and_then(Value::as_str)
                        .is_none_or(|t| t == "text")
                })
                .filter_map(|p| {
                    p.get("content")
                        .or_else(|| p.get("text"))
                        .and_then(Value::as_str)
                })
                .collect();
            (!texts.is_empty()).then(|| texts.join("\n"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn span_with(attrs: Value, start: u64) -> Span {
        let mut s = Span::new("s", start, None);
        s.start_unix_nano = start;
        if let Value::Object(o) = attrs {
            s.attributes = o.into_iter().collect();
        }
        s
    }

    #[test]
    fn the_first_user_message_in_each_convention() {
        for (attrs, want) in [
            (
                json!({"gen_ai.input.messages": "[{\"role\":\"system\",\"parts\":[{\"type\":\"text\",\"content\":\"be nice\"}]},{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"Where is 1003?\"}]}]"}),
                "Where is 1003?",
            ),
            (
                json!({"gen_ai.prompt": "[{\"role\": \"user\", \"content\": \"Refund 1001\"}]"}),
                "Refund 1001",
            ),
            (
                json!({"llm.input_messages.0.message.role": "system",
                       "llm.input_messages.0.message.content": "x",
                       "llm.input_messages.1.message.role": "user",
                       "llm.input_messages.1.message.content": "Hi there"}),
                "Hi there",
            ),
        ] {
            assert_eq!(
                input_of(&[span_with(attrs.clone(), 1)]).as_deref(),
                Some(want),
                "{attrs}"
            );
        }
        // The earliest span that has one wins.
        let spans = [
            span_with(json!({"gen_ai.prompt": "later"}), 9),
            span_with(json!({"gen_ai.prompt": "first"}), 2),
        ];
        assert_eq!(input_of(&spans).as_deref(), Some("first"));
        assert_eq!(input_of(&[span_with(json!({}), 1)]), None);
    }

    #[test]
    fn a_trace_becomes_a_case_with_its_tools_and_output_and_traces_without_input_are_skipped() {
        let line = r#"{"resourceSpans": [{"scopeSpans": [{"spans": [
            {"traceId": "0102030405060708090a0b0c0d0e0f10", "spanId": "0000000000000001", "name": "chat",
             "startTimeUnixNano": "1",
             "attributes": [{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                            {"key": "gen_ai.input.messages", "value": {"stringValue": "[{\"role\":\"user\",\"content\":\"Where is order 1003?\"}]"}},
                            {"key": "gen_ai.completion", "value": {"stringValue": "It shipped."}}]},
            {"traceId": "0102030405060708090a0b0c0d0e0f10", "spanId": "0000000000000002", "name": "execute_tool lookup_order",
             "startTimeUnixNano": "0",
             "attributes": [{"key": "gen_ai.operation.name", "value": {"stringValue": "execute_tool"}},
                            {"key": "gen_ai.tool.call.arguments", "value": {"stringValue": "{\"order_id\": \"1003\"}"}}]},
            {"traceId": "ffffffffffffffffffffffffffffffff", "spanId": "0000000000000003", "name": "x"}]}]}]}"#
            .replace('\n', " ");
        let (cases, skipped) = import_cases(&line).unwrap();
        assert_eq!(skipped, ["ffffffffffffffffffffffffffffffff"]);
        let line = serde_json::to_string(&cases[0]).unwrap();
        assert_eq!(
            line,
            r#"{"id":"0102030405060708090a0b0c0d0e0f10","input":"Where is order 1003?","expected":{"tools":[{"name":"lookup_order","args":{"order_id":"1003"}}],"reference":"It shipped."}}"#
        );
    }
}
