//! `Provider`: the one trait every model backend implements (mock, openai, anthropic) and every
//! reliability wrapper (retry, breaker, rate limit, fallback) implements again,
//! with the request and response types it speaks.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::provider::kind::ProviderKind;
use crate::trajectory::{ToolCall, Usage};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    System,
    User,
    Assistant,
    Tool,
}

/// One chat message in a provider-neutral shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    #[serde(default)]
    pub content: String,
    /// Assistant messages: the tool calls the model made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// Tool messages: which call this answers, and the tool's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Message {
    pub fn system(content: impl Into<String>) -> Self {
        Self::plain(Role::System, content)
    }
    pub fn user(content: impl Into<String>) -> Self {
        Self::plain(Role::User, content)
    }
    pub fn assistant(content: impl Into<String>, tool_calls: Vec<ToolCall>) -> Self {
        Message {
            tool_calls,
            ..Self::plain(Role::Assistant, content)
        }
    }
    pub fn tool(
        call_id: impl Into<String>,
        name: impl Into<String>,
        content: impl Into<String>,
    ) -> Self {
        Message {
            tool_call_id: Some(call_id.into()),
            name: Some(name.into()),
            ..Self::plain(Role::Tool, content)
        }
    }
    fn plain(role: Role, content: impl Into<String>) -> Self {
        Message {
            role,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
            name: None,
        }
    }
}

/// A tool as offered to the model: name, description, JSON Schema of its arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    pub parameters: Value,
}

/// Who is asking. Providers behave the same for all; the mock matches rules on it and the
/// cache keeps judge calls apart from agent calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    Agent,
    Judge,
    SimulatedUser,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelRequest {
    /// The model name without the `provider:` prefix.
    pub model: String,
    pub messages: Vec<Message>,
    /// Shared with the suite's tool set: requests are built per model call.
    pub tools: Arc<[ToolSpec]>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    pub purpose: Purpose,
    /// Sampling seed, for providers that support one (OpenAI `seed`); others ignore it.
    /// Judge calls set it (the sample index) so that re-grading is reproducible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Ask for structured output where the provider supports it (JSON mode); the answer is
    /// still parsed defensively, since providers may ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
}

/// Structured output a request may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseFormat {
    /// A JSON object (OpenAI `response_format: {type: json_object}`).
    Json,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ModelResponse {
    pub content: Option<String>,
    pub tool_calls: Vec<ToolCall>,
    pub usage: Usage,
    /// The model that answered, as the provider names it.
    pub model: String,
}

/// Why a model call failed. `retryable` tells the retry layer whether to try again.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    pub message: String,
    pub retryable: bool,
    /// The server's `Retry-After`, when it sent one: the least time to wait before trying again.
    pub retry_after: Option<Duration>,
    /// The circuit breaker is open: the call was not even attempted. Not retried, but a
    /// fallback model is tried.
    pub unavailable: bool,
}

impl ProviderError {
    /// An error that trying again will not fix (bad request, bad key, bad response).
    pub(crate) fn fatal(message: impl Into<String>) -> Self {
        ProviderError {
            message: message.into(),
            retryable: false,
            retry_after: None,
            unavailable: false,
        }
    }

    /// A transient error (429, 5xx, timeout, connection): worth another attempt.
    pub(crate) fn transient(message: impl Into<String>, retry_after: Option<Duration>) -> Self {
        ProviderError {
            retryable: true,
            retry_after,
            ..Self::fatal(message)
        }
    }

    /// Whether a fallback model should be tried: the primary is down, not the request wrong.
    pub(crate) fn wants_fallback(&self) -> bool {
        self.retryable || self.unavailable
    }
}

#[async_trait]
pub trait Provider: Send + Sync + fmt::Debug {
    /// `mock`, `openai`, `anthropic`: the prefix of model ids this provider serves.
    fn name(&self) -> &str;
    async fn complete(&self, request: &ModelRequest) -> Result<ModelResponse, ProviderError>;
}

/// Why a model id does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelIdError {
    #[error("invalid model id `{0}` (expected `provider:model`, e.g. `mock:support`)")]
    Malformed(String),
    #[error(
        "unknown provider `{provider}` in model `{id}` (expected one of: {})",
        provider_names()
    )]
    UnknownProvider { provider: String, id: String },
}

fn provider_names() -> String {
    let names: Vec<&str> = ProviderKind::ALL.iter().map(|k| k.name()).collect();
    names.join(", ")
}

/// A model id as written in a suite: `provider:model`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ModelId {
    pub provider: ProviderKind,
    pub model: String,
}

impl ModelId {
    /// Parses `provider:model`; the error says what was expected.
    pub fn parse(s: &str) -> Result<Self, ModelIdError> {
        match s.split_once(':') {
            Some((p, m)) if !p.is_empty() && !m.is_empty() => match ProviderKind::parse(p) {
                Some(provider) => Ok(ModelId {
                    provider,
                    model: m.to_string(),
                }),
                None => Err(ModelIdError::UnknownProvider {
                    provider: p.to_string(),
                    id: s.to_string(),
                }),
            },
            _ => Err(ModelIdError::Malformed(s.to_string())),
        }
    }

    /// Whether this is a `mock:NAME` model (offline, rules loaded from the suite's folder).
    pub(crate) fn is_mock(&self) -> bool {
        self.provider == ProviderKind::Mock
    }
}

impl fmt::Display for ModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.provider, self.model)
    }
}
