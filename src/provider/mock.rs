//! `MockProvider`: deterministic, offline model scripted by rules in `suites/mocks/NAME.yaml`
//! (see `mock_rules` for the file format) and by a case's own `mock:` script.
//!
//! - The n-th agent call of a case (n = assistant messages already in the request) gets the
//!   case's `mock[n]` verbatim; once the script has run out, the rules answer.
//! - Usage is counted like a real provider would, but deterministically: a token is 4 chars.
//! - Tool call ids are `call_1`, `call_2`, ... by position in the conversation.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use crate::provider::mock_rules::MockRules;
use crate::provider::mock_rules::RenderedReply;
use crate::provider::mock_script::RawMockReply;
use crate::provider::types::{ModelRequest, ModelResponse, Provider, ProviderError, Purpose, Role};
use crate::trajectory::{ToolCall, Usage};

#[derive(Debug, Clone)]
pub struct MockProvider {
    rules: Arc<MockRules>,
    script: Vec<RawMockReply>,
}

impl MockProvider {
    pub fn new(rules: Arc<MockRules>, script: Vec<RawMockReply>) -> Self {
        MockProvider { rules, script }
    }

    fn reply(&self, request: &ModelRequest) -> Result<RenderedReply, ProviderError> {
        if request.purpose == Purpose::Agent {
            let n = request
                .messages
                .iter()
                .filter(|m| m.role == Role::Assistant)
                .count();
            if let Some(scripted) = self.script.get(n) {
                return Ok(RenderedReply {
                    text: scripted.text.clone(),
                    tool_calls: scripted
                        .tool_calls
                        .iter()
                        .map(|c| {
                            let args = c
                                .args
                                .clone()
                                .unwrap_or_else(|| Value::Object(Default::default()));
                            (c.name.clone(), args)
                        })
                        .collect(),
                });
            }
        }
        self.rules.answer(request)
    }
}

/// ceil(chars / 4): the usual rule of thumb for English text.
fn tokens(chars: usize) -> u64 {
    chars.div_ceil(4) as u64
}

fn json_chars<T: serde::Serialize>(v: &T) -> usize {
    serde_json::to_string(v).map_or(0, |s| s.chars().count())
}

fn input_tokens(request: &ModelRequest) -> u64 {
    let messages: usize = request
        .messages
        .iter()
        .map(|m| {
            m.content.chars().count()
                + if m.tool_calls.is_empty() {
                    0
                } else {
                    json_chars(&m.tool_calls)
                }
        })
        .sum();
    let tools = if request.tools.is_empty() {
        0
    } else {
        json_chars(&request.tools)
    };
    tokens(messages + tools)
}

#[async_trait]
impl Provider for MockProvider {
    fn name(&self) -> &str {
        "mock"
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelResponse, ProviderError> {
        let reply = self.reply(request)?;
        let earlier_calls: usize = request.messages.iter().map(|m| m.tool_calls.len()).sum();
        let tool_calls: Vec<ToolCall> = reply
            .tool_calls
            .into_iter()
            .enumerate()
            .map(|(i, (name, args))| ToolCall {
                id: format!("call_{}", earlier_calls + i + 1),
                name,
                args,
            })
            .collect();
        let out_chars = reply.text.as_deref().map_or(0, |t| t.chars().count())
            + if tool_calls.is_empty() {
                0
            } else {
                json_chars(&tool_calls)
            };
        Ok(ModelResponse {
            content: reply.text,
            tool_calls,
            usage: Usage {
                input_tokens: input_tokens(request),
                output_tokens: tokens(out_chars),
            },
            model: request.model.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::mock_script::RawToolCall;
    use crate::provider::types::Message;
    use serde_json::json;
    use std::path::Path;

    fn request(messages: Vec<Message>) -> ModelRequest {
        ModelRequest {
            model: "support".into(),
            messages,
            tools: Default::default(),
            temperature: None,
            max_tokens: None,
            purpose: Purpose::Agent,
            seed: None,
            response_format: None,
        }
    }

    fn provider(script: Vec<RawMockReply>) -> MockProvider {
        let rules = MockRules::parse(Path::new("m.yaml"), "default: {text: ruled}\n").unwrap();
        MockProvider::new(Arc::new(rules), script)
    }

    #[tokio::test]
    async fn script_answers_first_then_rules() {
        let p = provider(vec![RawMockReply {
            text: None,
            tool_calls: vec![RawToolCall {
                name: "lookup_order".into(),
                args: Some(json!({"order_id": "1"})),
            }],
        }]);
        let first = p
            .complete(&request(vec![Message::user("hi")]))
            .await
            .unwrap();
        assert_eq!(first.tool_calls[0].id, "call_1");
        assert_eq!(first.tool_calls[0].name, "lookup_order");
        assert_eq!(first.model, "support");
        let second = p
            .complete(&request(vec![
                Message::user("hi"),
                Message::assistant("", first.tool_calls.clone()),
                Message::tool("call_1", "lookup_order", "{}"),
            ]))
            .await
            .unwrap();
        assert_eq!(second.content.as_deref(), Some("ruled"));
    }

    #[tokio::test]
    async fn usage_is_chars_over_four_rounded_up() {
        let p = provider(vec![]);
        // 5 chars in, "ruled" = 5 chars out.
        let r = p
            .complete(&request(vec![Message::user("hello")]))
            .await
            .unwrap();
        assert_eq!(
            r.usage,
            Usage {
                input_tokens: 2,
                output_tokens: 2
            }
        );
    }

    #[tokio::test]
    async fn tool_call_ids_continue_the_conversation() {
        let p = provider(vec![
            RawMockReply {
                text: None,
                tool_calls: vec![],
            },
            RawMockReply {
                text: None,
                tool_calls: vec![
                    RawToolCall {
                        name: "a".into(),
                        args: None,
                    },
                    RawToolCall {
                        name: "b".into(),
                        args: None,
                    },
                ],
            },
        ]);
        let earlier = ToolCall {
            id: "call_1".into(),
            name: "a".into(),
            args: json!({}),
        };
        let r = p
            .complete(&request(vec![
                Message::user("hi"),
                Message::assistant("", vec![earlier]),
                Message::tool("call_1", "a", "{}"),
            ]))
            .await
            .unwrap();
        let ids: Vec<_> = r.tool_calls.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["call_2", "call_3"]);
        assert_eq!(r.tool_calls[0].args, json!({}));
    }
}
