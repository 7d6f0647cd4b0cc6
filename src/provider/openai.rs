//! `OpenAiProvider`: the Chat Completions API with tools (function calling), at any
//! OpenAI-compatible base URL (OpenAI, vLLM, Ollama, llama.cpp server, LiteLLM, OpenRouter).

use async_trait::async_trait;
use serde::Serialize;
use serde_json::{json, Value};

use crate::provider::http::{excerpt, HttpClient};
use crate::provider::types::{
    Message, ModelRequest, ModelResponse, Provider, ProviderError, ResponseFormat, Role, ToolSpec,
};
use crate::trajectory::{ToolCall, Usage};

pub struct OpenAiProvider {
    http: HttpClient,
    /// E.g. `https://api.openai.com/v1`; requests go to `{base_url}/chat/completions`.
    base_url: String,
    /// Local servers often need none; then no Authorization header is sent.
    api_key: Option<String>,
}

// Never print the key.
impl std::fmt::Debug for OpenAiProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OpenAiProvider({})", self.base_url)
    }
}

impl OpenAiProvider {
    pub fn new(http: HttpClient, base_url: String, api_key: Option<String>) -> Self {
        OpenAiProvider {
            http,
            base_url,
            api_key,
        }
    }
}

#[async_trait]
impl Provider for OpenAiProvider {
    fn name(&self) -> &str {
        "openai"
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelResponse, ProviderError> {
        let url = format!("{}/chat/completions", self.base_url);
        let auth = self.api_key.as_ref().map(|k| format!("Bearer {k}"));
        let headers: Vec<(&str, &str)> = auth
            .as_deref()
            .map(|a| vec![("authorization", a)])
            .unwrap_or_default();
        let body = RequestBody::new(request);
        let answer = self.http.post_json(&url, &headers, &body).await?;
        parse_response(&answer, &request.model)
    }
}

/// The documented request shape: `messages` with `tool_calls` on assistant turns and a `tool`
/// message per result; `tools` as `{"type": "function", "function": {...}}`. As a `Value`, for
/// tests and benchmarks; requests are serialized from [`RequestBody`] directly.
pub fn request_body(request: &ModelRequest) -> Value {
    serde_json::to_value(RequestBody::new(request)).unwrap_or(Value::Null)
}

/// The request body, borrowing from the request: serializing it copies nothing but the bytes
/// sent (a system prompt and six tool schemas per model call add up).
#[derive(Serialize)]
pub(crate) struct RequestBody<'a> {
    model: &'a str,
    messages: Vec<OutMessage<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<OutTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    /// `max_tokens` rather than `max_completion_tokens`: every compatible server knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    /// Judges pin a seed and ask for a JSON object, so their grades reproduce and parse.
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<OutFormat>,
}

impl<'a> RequestBody<'a> {
    pub(crate) fn new(request: &'a ModelRequest) -> Self {
        RequestBody {
            model: &request.model,
            messages: request.messages.iter().map(message).collect(),
            tools: request.tools.iter().map(tool).collect(),
            temperature: request.temperature,
            max_tokens: request.max_tokens,
            seed: request.seed,
            response_format: request
                .response_format
                .map(|ResponseFormat::Json| OutFormat {
                    kind: "json_object",
                }),
        }
    }
}

#[derive(Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
enum OutMessage<'a> {
    System {
        content: &'a str,
    },
    User {
        content: &'a str,
    },
    Assistant {
        /// With tool calls and no text the API wants `null`, not "".
        content: Option<&'a str>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<OutCall<'a>>,
    },
    Tool {
        tool_call_id: &'a str,
        content: &'a str,
    },
}

#[derive(Serialize)]
struct OutCall<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: OutCallFunction<'a>,
}

#[derive(Serialize)]
struct OutCallFunction<'a> {
    name: &'a str,
    arguments: String,
}

#[derive(Serialize)]
struct OutTool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: OutToolFunction<'a>,
}

#[derive(Serialize)]
struct OutToolFunction<'a> {
    name: &'a str,
    description: &'a str,
    parameters: &'a Value,
}

#[derive(Serialize)]
struct OutFormat {
    #[serde(rename = "type")]
    kind: &'static str,
}

fn message(m: &Message) -> OutMessage<'_> {
    match m.role {
        Role::System => OutMessage::System {
            content: &m.content,
        },
        Role::User => OutMessage::User {
            content: &m.content,
        },
        Role::Assistant => OutMessage::Assistant {
            content: (!m.content.is_empty() || m.tool_calls.is_empty()).then_some(&*m.content),
            tool_calls: m
                .tool_calls
                .iter()
                .map(|c| OutCall {
                    id: &c.id,
                    kind: "function",
                    function: OutCallFunction {
                        name: &c.name,
                        arguments: arguments_text(&c.args),
                    },
                })
                .collect(),
        },
        Role::Tool => OutMessage::Tool {
            tool_call_id: m.tool_call_id.as_deref().unwrap_or_default(),
            content: &m.content,
        },
    }
}

/// Arguments go back as the JSON text the model wrote; a malformed call we kept as a string
/// goes back verbatim, so the model sees its own mistake.
fn arguments_text(args: &Value) -> String {
    match args {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn tool(t: &ToolSpec) -> OutTool<'_> {
    OutTool {
        kind: "function",
        function: OutToolFunction {
            name: &t.name,
            description: &t.description,
            parameters: &t.parameters,
        },
    }
}

/// Reads `choices[0].message` and `usage`. Arguments that are not valid JSON are kept as a
/// string, so the harness's verification loop can hand the mistake back to the model.
pub fn parse_response(v: &Value, requested_model: &str) -> Result<ModelResponse, ProviderError> {
    let bad = |what: &str| {
        ProviderError::fatal(format!(
            "openai response {what}: {}",
            excerpt(&v.to_string())
        ))
    };
    let msg = v
        .pointer("/choices/0/message")
        .ok_or_else(|| bad("has no choices[0].message"))?;
    let content = msg
        .get("content")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut tool_calls = Vec::new();
    for call in msg
        .get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = call
            .pointer("/function/name")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("has a tool call without a function name"))?;
        let raw_args = call
            .pointer("/function/arguments")
            .and_then(Value::as_str)
            .unwrap_or("");
        let args = if raw_args.trim().is_empty() {
            json!({})
        } else {
            serde_json::from_str(raw_args).unwrap_or_else(|_| Value::String(raw_args.into()))
        };
        tool_calls.push(ToolCall {
            id: call
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            name: name.to_string(),
            args,
        });
    }
    let count = |p: &str| crate::provider::usage::token_count(v, p, "openai");
    Ok(ModelResponse {
        content,
        tool_calls,
        usage: Usage {
            input_tokens: count("/usage/prompt_tokens")?,
            output_tokens: count("/usage/completion_tokens")?,
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
    use crate::provider::types::Purpose;

    fn conversation() -> ModelRequest {
        ModelRequest {
            model: "gpt-4o-mini".into(),
            messages: vec![
                Message::system("You are support."),
                Message::user("Where is order 7?"),
                Message::assistant(
                    "",
                    vec![ToolCall {
                        id: "call_abc".into(),
                        name: "lookup_order".into(),
                        args: json!({"order_id": "7"}),
                    }],
                ),
                Message::tool("call_abc", "lookup_order", r#"{"status":"shipped"}"#),
            ],
            tools: vec![ToolSpec {
                name: "lookup_order".into(),
                description: "Find an order".into(),
                parameters: json!({"type": "object", "properties": {"order_id": {"type": "string"}}}),
            }]
            .into(),
            temperature: Some(0.0),
            max_tokens: Some(256),
            purpose: Purpose::Agent,
            seed: None,
            response_format: None,
        }
    }

    #[test]
    fn judge_requests_pin_a_seed_and_ask_for_json() {
        let mut r = conversation();
        r.seed = Some(3);
        r.response_format = Some(ResponseFormat::Json);
        let body = request_body(&r);
        assert_eq!(body["seed"], json!(3));
        assert_eq!(body["response_format"], json!({"type": "json_object"}));
        assert!(
            request_body(&conversation()).get("seed").is_none(),
            "absent unless asked for"
        );
    }

    #[test]
    fn request_has_the_documented_shape() {
        assert_eq!(
            request_body(&conversation()),
            json!({
                "model": "gpt-4o-mini",
                "messages": [
                    {"role": "system", "content": "You are support."},
                    {"role": "user", "content": "Where is order 7?"},
                    {"role": "assistant", "content": null, "tool_calls": [
                        {"id": "call_abc", "type": "function",
                         "function": {"name": "lookup_order", "arguments": "{\"order_id\":\"7\"}"}}
                    ]},
                    {"role": "tool", "tool_call_id": "call_abc", "content": "{\"status\":\"shipped\"}"}
                ],
                "tools": [{"type": "function", "function": {
                    "name": "lookup_order", "description": "Find an order",
                    "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}}}}],
                "temperature": 0.0,
                "max_tokens": 256
            })
        );
    }

    #[test]
    fn response_with_tool_calls_and_usage_parses() {
        let v = json!({
            "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                "role": "assistant", "content": null,
                "tool_calls": [
                    {"id": "call_1", "type": "function",
                     "function": {"name": "lookup_order", "arguments": "{\"order_id\": \"7\"}"}},
                    {"id": "call_2", "type": "function",
                     "function": {"name": "search_kb", "arguments": "{\"query\": "}}
                ]}}],
            "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}
        });
        let r = parse_response(&v, "gpt-4o-mini").unwrap();
        assert_eq!(r.content, None);
        assert_eq!(r.model, "gpt-4o-mini-2024-07-18");
        assert_eq!(
            r.usage,
            Usage {
                input_tokens: 120,
                output_tokens: 30
            }
        );
        assert_eq!(r.tool_calls[0].id, "call_1");
        assert_eq!(r.tool_calls[0].args, json!({"order_id": "7"}));
        assert_eq!(
            r.tool_calls[1].args,
            json!("{\"query\": "),
            "malformed arguments are kept for the repair loop"
        );
    }

    #[test]
    fn response_without_choices_is_a_fatal_error_with_an_excerpt() {
        let e = parse_response(&json!({"oops": true}), "m").unwrap_err();
        assert!(!e.retryable);
        assert!(e.message.contains("oops"), "{}", e.message);
    }
}
