//! `RawMockReply`: one scripted reply of the mock model (text, tool calls or both), as a
//! case's `mock:` script or a `mocks/NAME.yaml` rule writes it; `RawToolCall` is its tool call
//! (also the shape of a case's `expected.tools`).

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawToolCall {
    pub name: String,
    #[serde(default)]
    pub args: Option<Value>,
}

/// One scripted mock reply: text, tool calls, or both.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMockReply {
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub tool_calls: Vec<RawToolCall>,
}
