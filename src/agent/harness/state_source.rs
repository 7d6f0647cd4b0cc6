//! `StateSource`: the `state:` of the harness — a `command` or `http` endpoint of the user's
//! tool server that gives the run's world at its end, so `end_state` scores the world that
//! custom tools keep (per run, by `session`) exactly as it scores the built-in one.
//!
//! It is asked like a custom tool is called (same shapes, same limits, the same `GAUNTLET_…`
//! variables or `x-gauntlet-…` headers), with `{"session", "case_id", "repeat"}` as the
//! arguments; its reply must be JSON, and is the end state.

use std::path::Path;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::agent::harness::custom_tool::{CustomTool, CustomToolError};
use crate::agent::harness::raw_custom_tool::{RawCommandTool, RawCustomTool, RawHttpTool};
use crate::agent::harness::tool_context::ToolContext;
use crate::process::OutputLimits;

/// `state:` as written: exactly one of `command`, `http`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStateSource {
    #[serde(default)]
    pub command: Option<RawCommandTool>,
    #[serde(default)]
    pub http: Option<RawHttpTool>,
}

#[derive(Debug)]
pub struct StateSource(CustomTool);

/// Why the state could not be read: the run ends in `error` with it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum StateError {
    #[error("state source: {0}")]
    Failed(String),
    #[error("state source: the reply is not JSON: {0}")]
    NotJson(String),
}

impl StateSource {
    pub(crate) fn compile(
        raw: &RawStateSource,
        suite_dir: &Path,
        limits: OutputLimits,
    ) -> Result<StateSource, CustomToolError> {
        let as_tool = RawCustomTool {
            name: "state".into(),
            description: None,
            parameters: None,
            mock: None,
            http: raw.http.clone(),
            command: raw.command.clone(),
        };
        CustomTool::compile(&as_tool, suite_dir, limits).map(StateSource)
    }

    /// The world of the run `ctx` names.
    pub(crate) async fn read(&self, ctx: &ToolContext) -> Result<Value, StateError> {
        let ask = json!({"session": ctx.session, "case_id": ctx.case_id, "repeat": ctx.repeat});
        match self.0.run_in(ctx, &ask).await {
            Ok(Value::String(text)) => Err(StateError::NotJson(text)),
            Ok(v) => Ok(v),
            Err(e) => Err(StateError::Failed(e.0)),
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn source(argv: &str) -> StateSource {
        let raw: RawStateSource =
            serde_yaml::from_str(&format!("command: {{argv: {argv}}}")).unwrap();
        StateSource::compile(&raw, Path::new("."), Default::default()).unwrap()
    }

    #[tokio::test]
    async fn the_source_is_asked_about_the_session_and_its_json_is_the_state() {
        let echo = source(
            r#"[sh, -c, 'printf "{\"env\": \"%s\", \"asked\": %s}" "$GAUNTLET_SESSION" "$(cat)"']"#,
        );
        let ctx = ToolContext {
            case_id: "c1".into(),
            repeat: 2,
            call_index: 0,
            session: "s-1".into(),
        };
        let state = echo.read(&ctx).await.unwrap();
        assert_eq!(state["env"], "s-1");
        assert_eq!(
            state["asked"],
            json!({"session": "s-1", "case_id": "c1", "repeat": 2})
        );
        let text = source("[echo, not json]").read(&ctx).await.unwrap_err();
        assert_eq!(text, StateError::NotJson("not json".into()));
        let failed = source("[sh, -c, 'echo gone >&2; exit 1']").read(&ctx).await;
        assert!(matches!(failed, Err(StateError::Failed(m)) if m.contains("gone")));
    }
}
