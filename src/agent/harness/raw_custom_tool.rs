//! `RawCustomTool`: a `custom_tools:` entry of a suite as written (serde mirror);
//! `CustomTool::compile` validates it.

use serde::Deserialize;
use serde_json::Value;

/// A tool defined in the suite. Exactly one of `mock`, `http`, `command`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCustomTool {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// JSON Schema of the arguments (default: any object).
    #[serde(default)]
    pub parameters: Option<Value>,
    #[serde(default)]
    pub mock: Option<RawMockTool>,
    #[serde(default)]
    pub http: Option<RawHttpTool>,
    #[serde(default)]
    pub command: Option<RawCommandTool>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMockTool {
    /// Tried in order; the first whose `when` holds answers.
    pub replies: Vec<RawMockToolReply>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMockToolReply {
    #[serde(default)]
    pub when: RawMockToolWhen,
    /// The tool's result (any JSON)...
    #[serde(default)]
    pub result: Option<Value>,
    /// ...or its error message.
    #[serde(default)]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMockToolWhen {
    /// Case id glob.
    #[serde(default)]
    pub case: Option<String>,
    /// Regex over the arguments as compact JSON (keys sorted).
    #[serde(default)]
    pub args: Option<String>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHttpTool {
    pub url: String,
    /// Default `30s`.
    #[serde(default)]
    pub timeout: Option<String>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCommandTool {
    /// Program and arguments; no shell. A relative program path with a `/` is resolved
    /// against the suite's folder.
    pub argv: Vec<String>,
    /// Default `30s`; the process is killed when it runs out.
    #[serde(default)]
    pub timeout: Option<String>,
    /// Provider keys (`*_API_KEY`) the tool may see; all others are withheld.
    #[serde(default)]
    pub pass_env: Vec<String>,
}
