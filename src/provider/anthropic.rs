//! `AnthropicProvider`: the Messages API with tool use (multi-block content, top-level
//! `system`, `tool_result` blocks in a user message).

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use crate::provider::http::{excerpt, HttpClient};
use crate::provider::types::{
    ModelRequest, ModelResponse, Provider, ProviderError, Role, ToolSpec,
};
use crate::trajectory::{ToolCall, Usage};

/// The API version header every request must carry.
const API_VERSION: &str = "2023-06-01";
/// The Messages API requires `max_tokens`; used when the suite sets none.
pub(crate) const DEFAULT_MAX_TOKENS: u32 = 1024;

pub struct AnthropicProvider {
    http: HttpClient,
    /// E.g. `https://api.anthropic.com`; requests go to `{base_url}/v1/messages`.
    base_url: String,
    api_key: Option<String>,
}

// Never print the key.
impl std::fmt::Debug for AnthropicProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AnthropicProvider({})", self.base_url)
    }
}

impl AnthropicProvider {
    pub fn new(http: HttpClient, base_url: String, api_key: Option<String>) -> Self {
        AnthropicProvider {
            http,
            base_url,
            api_key,
        }
    }
}

#[async_trait]
impl Provider for AnthropicProvider {
    fn name(&self) -> &str {
        "anthropic"
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelResponse, ProviderError> {
        let url = format!("{}/v1/messages", self.base_url);
        let mut headers = vec![("anthropic-version", API_VERSION)];
        if let Some(k) = &self.api_key {
            headers.push(("x-api-key", k.as_str()));
        }
        let body = request_body(request);
        let answer = self.http.post_json(&url, &headers, &body).await?;
        parse_response(&answer, &request.model)
    }
}

/// The documented request shape. System messages become the top-level `system`; tool results
/// become `tool_result` blocks of a user message; consecutive messages of one role are merged,
/// since the API wants user and assistant turns to alternate.
pub fn request_body(request: &ModelRequest) -> Value {
    let system: Vec<&str> = request
        .messages
        .iter()
        .filter(|m| m.role == Role::System)
        .map(|m| m.content.as_str())
        .collect();
    let mut messages: Vec<(&str, Vec<Value>)> = Vec::new();
    for m in &request.messages {
        let (role, blocks) = match m.role {
            Role::System => continue,
            Role::User => ("user", vec![json!({"type": "text", "text": m.content})]),
            Role::Tool => (
                "user",
                vec![json!({
                    "type": "tool_result",
                    "tool_use_id": m.tool_call_id.clone().unwrap_or_default(),
                    "content": m.content,
                })],
            ),
            Role::Assistant => {
                let mut blocks = Vec::new();
                if !m.content.is_empty() {
                    blocks.push(json!({"type": "text", "text": m.content}));
                }
                for c in &m.tool_calls {
                    let input = if c.args.is_object() {
                        c.args.clone()
                    } else {
                        json!({})
                    };
                    blocks.push(
                        json!({"type": "tool_use", "id": c.id, "name": c.name, "input": input}),
                    );
                }
                ("assistant", blocks)
            }
        };
        match messages.last_mut() {
            Some((last, existing)) if *last == role => existing.extend(blocks),
            _ => messages.push((role, blocks)),
        }
    }
    let messages: Vec<Value> = messages
        .into_iter()
        .map(|(role, blocks)| json!({"role": role, "content": simplify(blocks)}))
        .collect();

    let mut body = Map::new();
    body.insert("model".into(), json!(request.model));
    body.insert(
        "max_tokens".into(),
        json!(request.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS)),
    );
    if !system.is_empty() {
        body.insert("system".into(), json!(system.join("\n\n")));
    }
    body.insert("messages".into(), Value::Array(messages));
    if !request.tools.is_empty() {
        body.insert(
            "tools".into(),
            Value::Array(request.tools.iter().map(tool).collect()),
        );
    }
    if let Some(t) = request.temperature {
        body.insert("temperature".into(), json!(t));
    }
    Value::Object(body)
}

/// A lone text block is sent as a plain string, the common form in the API's examples.
fn simplify(blocks: Vec<Value>) -> Value {
    match blocks.as_slice() {
        [only] if only["type"] == "text" => only["text"].clone(),
        _ => Value::Array(blocks),
    }
}

fn tool(t: &ToolSpec) -> Value {
    json!({"name": t.name, "description": t.description, "input_schema": t.parameters})
}

/// Reads the `content` blocks (text blocks joined by newlines, `tool_use` blocks as calls;
/// other kinds such as `thinking` are skipped) and `usage`.
pub fn parse_response(v: &Value, requested_model: &str) -> Result<ModelResponse, ProviderError> {
    let bad = |what: &str| {
        ProviderError::fatal(format!(
            "anthropic response {what}: {}",
            excerpt(&v.to_string())
        ))
    };
    let blocks = v
        .get("content")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("has no content array"))?;
    let mut texts = Vec::new();
    let mut tool_calls = Vec::new();
    for b in blocks {
        match b.get("type").and_then(Value::as_str) {
            Some("text") => {
                if let Some(t) = b.get("text").and_then(Value::as_str) {
                    texts.push(t);
                }
            }
            Some("tool_use") => {
                let name = b
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("has a tool_use block without a name"))?;
                tool_calls.push(ToolCall {
                    id: b
                        .get("id")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    name: name.to_string(),
                    args: b.get("input").cloned().unwrap_or_else(|| json!({})),
                });
            }
            _ => {}
        }
    }
    let count = |p: &str| crate::provider::usage::token_count(v, p, "anthropic");
    Ok(ModelResponse {
        content: (!texts.is_empty()).then(|| texts.join("\n")),
        tool_calls,
        usage: Usage {
            input_tokens: count("/usage/input_tokens")?,
            output_tokens: count("/usage/output_tokens")?,
        },
        model: v
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or(requested_model)
            .to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::types::{Message, Purpose};

    #[test]
    fn request_has_the_documented_shape() {
        let request = ModelRequest {
            model: "claude-sonnet-4-5".into(),
            messages: vec![
                Message::system("You are support."),
                Message::user("Where is order 7? And 8?"),
                Message::assistant(
                    "Let me look.",
                    vec![
                        ToolCall {
                            id: "toolu_1".into(),
                            name: "lookup_order".into(),
                            args: json!({"order_id": "7"}),
                        },
                        ToolCall {
                            id: "toolu_2".into(),
                            name: "lookup_order".into(),
                            args: json!({"order_id": "8"}),
                        },
                    ],
                ),
                Message::tool("toolu_1", "lookup_order", "shipped"),
                Message::tool("toolu_2", "lookup_order", "error: unknown order"),
            ],
            tools: vec![ToolSpec {
                name: "lookup_order".into(),
                description: "Find an order".into(),
                parameters: json!({"type": "object"}),
            }]
            .into(),
            temperature: None,
            max_tokens: None,
            purpose: Purpose::Agent,
            seed: None,
            response_format: None,
        };
        assert_eq!(
            request_body(&request),
            json!({
                "model": "claude-sonnet-4-5",
                "max_tokens": 1024,
                "system": "You are support.",
                "messages": [
                    {"role": "user", "content": "Where is order 7? And 8?"},
                    {"role": "assistant", "content": [
                        {"type": "text", "text": "Let me look."},
                        {"type": "tool_use", "id": "toolu_1", "name": "lookup_order", "input": {"order_id": "7"}},
                        {"type": "tool_use", "id": "toolu_2", "name": "lookup_order", "input": {"order_id": "8"}}
                    ]},
                    {"role": "user", "content": [
                        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "shipped"},
                        {"type": "tool_result", "tool_use_id": "toolu_2", "content": "error: unknown order"}
                    ]}
                ],
                "tools": [{"name": "lookup_order", "description": "Find an order",
                           "input_schema": {"type": "object"}}]
            })
        );
    }

    #[test]
    fn multi_block_response_parses() {
        let v = json!({
            "id": "msg_01", "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-5-20250929",
            "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "x"},
                {"type": "text", "text": "I'll check both."},
                {"type": "tool_use", "id": "toolu_a", "name": "lookup_order", "input": {"order_id": "7"}},
                {"type": "text", "text": "One moment."}
            ],
            "stop_reason": "tool_use",
            "usage": {"input_tokens": 412, "output_tokens": 57}
        });
        let r = parse_response(&v, "claude-sonnet-4-5").unwrap();
        assert_eq!(r.content.as_deref(), Some("I'll check both.\nOne moment."));
        assert_eq!(r.tool_calls.len(), 1);
        assert_eq!(r.tool_calls[0].id, "toolu_a");
        assert_eq!(r.tool_calls[0].args, json!({"order_id": "7"}));
        assert_eq!(r.usage.input_tokens, 412);
        assert_eq!(r.usage.output_tokens, 57);
        assert_eq!(r.model, "claude-sonnet-4-5-20250929");
    }
}
