//! `Traces`: where a `command` or `http` target's trajectory may come from besides its reply
//! (`traces:` in the suite).

use serde::Deserialize;

/// The closed set of trace sources a target can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Traces {
    /// The agent exports OpenTelemetry spans over OTLP/HTTP to gauntlet's receiver; the spans
    /// of a run become its trajectory when the reply carries none.
    Otlp,
}
