//! `Toolbox`: the tools offered to the model in one run (builtin, then the suite's custom
//! tools), with their compiled argument schemas. A call is validated before it runs; an invalid
//! call is not run and its error goes back to the model so it can repair the call.
//!
//! The specs and compiled schemas (`ToolSet`) are built once per suite and shared by every
//! case: compiling the schemas cost more than a whole mock model call.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

use crate::agent::harness::custom_tool::{CustomKind, CustomTool};
use crate::agent::harness::mcp::{
    McpError, McpErrorKind, McpOrigin, McpSelect, McpServer, McpTools,
};
use crate::agent::harness::support;
use crate::agent::harness::tool_context::ToolContext;
use crate::agent::harness::world::World;
use crate::provider::cache::{ToolLookup, ToolRecorder};
use crate::provider::types::ToolSpec;
use crate::trajectory::ToolOutcome;

/// Every builtin tool name; the suite loader validates `tools:` against this list.
pub(crate) const BUILTIN_TOOLS: &[&str] = &[
    "lookup_order",
    "search_kb",
    "create_ticket",
    "issue_refund",
    "send_email",
    "escalate_to_human",
];

/// The spec of one builtin tool, as offered to the model.
pub(crate) fn tool_spec(name: &str) -> Option<ToolSpec> {
    support::spec(name).map(|(description, parameters)| ToolSpec {
        name: name.to_string(),
        description: description.to_string(),
        parameters,
    })
}

/// Why a suite's tools cannot be offered to the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ToolSetError {
    #[error("unknown builtin tool `{name}`{}", .near.as_ref().map(|b| format!(" (hint: did you mean `{b}`?)")).unwrap_or_default())]
    UnknownBuiltin { name: String, near: Option<String> },
    #[error("tool `{0}` is defined twice")]
    DefinedTwice(String),
    #[error("schema of tool `{tool}`: {reason}")]
    BadSchema { tool: String, reason: String },
}

/// The specs of the named builtin tools, in the order given; an unknown name is an error.
pub(crate) fn tool_specs(names: &[String]) -> Result<Vec<ToolSpec>, ToolSetError> {
    names
        .iter()
        .map(|n| {
            tool_spec(n).ok_or_else(|| ToolSetError::UnknownBuiltin {
                name: n.clone(),
                near: crate::diagnostic::did_you_mean(n, BUILTIN_TOOLS.iter().copied())
                    .map(str::to_string),
            })
        })
        .collect()
}

/// Why a tool call gave no result. The difference matters to the verification loop: a
/// malformed call is the model's mistake to repair (and counts against `max_repairs`); a failed
/// call is the tool's answer (a policy refusal, an outage) and the model must cope with it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ToolError {
    /// Unknown tool, or arguments that are not JSON or fail the tool's schema. Not run.
    Malformed(String),
    /// The tool ran (or was made to fail by fault injection) and reported an error.
    Failed(String),
    /// The tool's server broke (died, hung): the run cannot go on and ends in `error`.
    Broken(String),
}

impl ToolError {
    pub(crate) fn message(&self) -> &str {
        match self {
            ToolError::Malformed(m) | ToolError::Failed(m) | ToolError::Broken(m) => m,
        }
    }
}

/// The suite's tools: specs as offered to the model, compiled argument schemas, custom tools.
pub(crate) struct ToolSet {
    specs: Arc<[ToolSpec]>,
    validators: BTreeMap<String, jsonschema::Validator>,
    custom: BTreeMap<String, Arc<CustomTool>>,
}

impl std::fmt::Debug for ToolSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolSet")
            .field(
                "tools",
                &self.specs.iter().map(|s| &s.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl ToolSet {
    pub(crate) fn new(
        names: &[String],
        custom_tools: &[Arc<CustomTool>],
    ) -> Result<ToolSet, ToolSetError> {
        let mut specs = tool_specs(names)?;
        let mut custom = BTreeMap::new();
        for tool in custom_tools {
            if specs.iter().any(|s| s.name == tool.spec.name) {
                return Err(ToolSetError::DefinedTwice(tool.spec.name.clone()));
            }
            specs.push(tool.spec.clone());
            custom.insert(tool.spec.name.clone(), tool.clone());
        }
        let mut validators = BTreeMap::new();
        for spec in &specs {
            let v = jsonschema::validator_for(&spec.parameters).map_err(|e| {
                ToolSetError::BadSchema {
                    tool: spec.name.clone(),
                    reason: e.to_string(),
                }
            })?;
            validators.insert(spec.name.clone(), v);
        }
        Ok(ToolSet {
            specs: specs.into(),
            validators,
            custom,
        })
    }
}

/// A suite's `ToolSet`, built on first use and then shared (a cheap clone of the harness
/// configuration shares it too). A build error is kept and returned to every case.
#[derive(Debug, Clone, Default)]
pub struct SharedToolSet(Arc<OnceLock<Result<Arc<ToolSet>, ToolSetError>>>);

impl SharedToolSet {
    pub(crate) fn get(
        &self,
        names: &[String],
        custom_tools: &[Arc<CustomTool>],
    ) -> Result<Arc<ToolSet>, ToolSetError> {
        self.0
            .get_or_init(|| ToolSet::new(names, custom_tools).map(Arc::new))
            .clone()
    }
}

pub(crate) struct Toolbox {
    set: Arc<ToolSet>,
    /// `--cache`/`--record`/`--replay`: where `http`/`command` tool calls are recorded.
    recorder: Option<ToolRecorder>,
    /// Calls so far per tool: part of each recorded call's cache key, and the call index a
    /// `command`/`http` tool is told.
    recorded_calls: Mutex<BTreeMap<String, u64>>,
    /// The run (repeat, session) the `command`/`http` tools are told about.
    run: ToolContext,
    /// The run's MCP tools as this agent sees them.
    mcp: Option<McpView>,
}

/// The run's MCP servers (one set of sessions for the whole run, shared by a team's agents)
/// and what one agent is offered of them: its specs are the suite's, then those tools'.
struct McpView {
    tools: Arc<McpTools>,
    offered: BTreeSet<String>,
    specs: Arc<[ToolSpec]>,
}

impl std::fmt::Debug for Toolbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Toolbox").field("set", &self.set).finish()
    }
}

impl Toolbox {
    #[cfg(test)]
    pub(crate) fn new(
        names: &[String],
        custom_tools: &[Arc<CustomTool>],
    ) -> Result<Toolbox, ToolSetError> {
        Ok(Toolbox::from_set(Arc::new(ToolSet::new(
            names,
            custom_tools,
        )?)))
    }

    /// One run's toolbox over the suite's shared tools.
    pub(crate) fn from_set(set: Arc<ToolSet>) -> Toolbox {
        Toolbox {
            set,
            recorder: None,
            recorded_calls: Mutex::new(BTreeMap::new()),
            run: ToolContext::default(),
            mcp: None,
        }
    }

    /// The run the tools are told about: its repeat and session.
    pub(crate) fn with_run(mut self, repeat: u32, session: String) -> Toolbox {
        self.run.repeat = repeat;
        self.run.session = session;
        self
    }

    /// The run's repeat, which the tools are told about.
    pub(crate) fn repeat(&self) -> u32 {
        self.run.repeat
    }

    /// A sub-agent's tools act in its caller's run: the same repeat and session, so a tool
    /// server keeps one world for the whole team.
    pub(crate) fn share_run(&mut self, caller: &Toolbox) {
        self.run.repeat = caller.run.repeat;
        self.run.session = caller.run.session.clone();
    }

    /// This run's session: what a state source is asked about.
    pub(crate) fn session(&self) -> &str {
        &self.run.session
    }

    /// Starts the run's MCP servers, through the recorder: what each server lists is stored
    /// with the run's calls, and under `--replay` the stored lists are offered instead, so a
    /// replay starts no server process and opens no connection (its calls and end state are
    /// answered from the store too).
    pub(crate) async fn open_mcp(&self, servers: &[Arc<McpServer>]) -> Result<McpTools, McpError> {
        let listing = |server: &McpServer| format!("mcp:{}:tools/list", server.name);
        let Some(recorder) = &self.recorder else {
            return McpTools::start(servers).await;
        };
        if recorder.replays() {
            let mut listings = Vec::new();
            for server in servers {
                let not_recorded = |reason: String| McpError {
                    server: server.name.clone(),
                    kind: McpErrorKind::NotRecorded(reason),
                    origin: McpOrigin::Recorded,
                };
                let listed = match recorder.lookup(&listing(server), &Value::Null, 0) {
                    ToolLookup::Answer(Ok(v)) => serde_json::from_value(v)
                        .map_err(|e| not_recorded(format!("unreadable record: {e}")))?,
                    ToolLookup::Answer(Err(e)) => return Err(not_recorded(e.0)),
                    // A replaying recorder answers every lookup.
                    ToolLookup::Call(_) => return Err(not_recorded("not in the store".into())),
                };
                listings.push(listed);
            }
            return McpTools::replayed(servers, listings);
        }
        let mcp = McpTools::start(servers).await?;
        for ((_, listed), server) in mcp.listings.iter().zip(servers) {
            let name = listing(server);
            if let ToolLookup::Call(key) = recorder.lookup(&name, &Value::Null, 0) {
                let listed = serde_json::to_value(listed).unwrap_or(Value::Null);
                recorder.store(&key, &name, &Value::Null, 0, &Ok(listed));
            }
        }
        Ok(mcp)
    }

    /// Adds the run's MCP tools that `pick` chooses (`None`: all of them) after the suite's;
    /// a name offered twice is an error (the model could not tell them apart).
    pub(crate) fn add_mcp(
        &mut self,
        mcp: Arc<McpTools>,
        pick: Option<&[(String, McpSelect)]>,
    ) -> Result<(), ToolSetError> {
        let mut specs = self.set.specs.to_vec();
        let mut offered = BTreeSet::new();
        for spec in mcp.specs.iter().filter(|s| mcp.picked(&s.name, pick)) {
            if specs.iter().any(|s| s.name == spec.name) {
                return Err(ToolSetError::DefinedTwice(spec.name.clone()));
            }
            specs.push(spec.clone());
            offered.insert(spec.name.clone());
        }
        self.mcp = Some(McpView {
            tools: mcp,
            offered,
            specs: specs.into(),
        });
        Ok(())
    }

    /// Lets go of the run's MCP servers: the run is over, its sessions may end.
    pub(crate) fn detach_mcp(&mut self) {
        self.mcp = None;
    }

    /// The run's MCP servers, if this agent is offered a tool of theirs named `name`.
    fn mcp_for(&self, name: &str) -> Option<&McpTools> {
        let view = self.mcp.as_ref().filter(|v| v.offered.contains(name))?;
        Some(&view.tools)
    }

    /// Records (or replays) the calls of `http`/`command` tools through `recorder`.
    pub(crate) fn with_recorder(mut self, recorder: Option<ToolRecorder>) -> Toolbox {
        self.recorder = recorder;
        self
    }

    /// Runs a custom tool, through the recorder when it calls out of the process.
    async fn run_custom(
        &self,
        tool: &CustomTool,
        case_id: &str,
        name: &str,
        args: &Value,
    ) -> ToolOutcome {
        let index = self.next_index(name);
        let ctx = ToolContext {
            case_id: case_id.to_string(),
            call_index: index,
            ..self.run.clone()
        };
        let recorder = match (&self.recorder, &tool.kind) {
            (Some(r), CustomKind::Http { .. } | CustomKind::Command { .. }) => r,
            _ => return tool.run_in(&ctx, args).await,
        };
        match recorder.lookup(name, args, index) {
            ToolLookup::Answer(outcome) => outcome,
            ToolLookup::Call(key) => {
                let outcome = tool.run_in(&ctx, args).await;
                recorder.store(&key, name, args, index, &outcome);
                outcome
            }
        }
    }

    /// Runs an MCP tool, through the recorder like any tool that calls out of the process.
    /// `Err`: the server broke.
    async fn run_mcp(
        &self,
        mcp: &McpTools,
        name: &str,
        args: &Value,
    ) -> Result<ToolOutcome, ToolError> {
        let broken = |e: crate::agent::harness::mcp::McpError| ToolError::Broken(e.to_string());
        let Some(recorder) = &self.recorder else {
            return mcp.call(name, args).await.map_err(broken);
        };
        let index = self.next_index(name);
        match recorder.lookup(name, args, index) {
            ToolLookup::Answer(outcome) => Ok(outcome),
            ToolLookup::Call(key) => {
                let outcome = mcp.call(name, args).await.map_err(broken)?;
                recorder.store(&key, name, args, index, &outcome);
                Ok(outcome)
            }
        }
    }

    /// The run's end state from a state source (`source` names it in the store), through the
    /// recorder like a tool call: a replayed run's tool calls never reached the server, so the
    /// world it ends with must be replayed too.
    pub(crate) async fn recorded_state(
        &self,
        source: &str,
        read: impl std::future::Future<Output = Result<Option<Value>, String>>,
    ) -> Result<Option<Value>, String> {
        let Some(recorder) = &self.recorder else {
            return read.await;
        };
        match recorder.lookup(source, &Value::Null, 0) {
            ToolLookup::Answer(Ok(state)) => Ok(Some(state)),
            ToolLookup::Answer(Err(e)) => Err(e.0),
            ToolLookup::Call(key) => {
                let state = read.await?;
                if let Some(v) = &state {
                    recorder.store(&key, source, &Value::Null, 0, &Ok(v.clone()));
                }
                Ok(state)
            }
        }
    }

    /// The index of this call among the recorded calls of `name`: part of its cache key.
    fn next_index(&self, name: &str) -> u64 {
        {
            let mut calls = self
                .recorded_calls
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let n = calls.entry(name.to_string()).or_insert(0);
            *n += 1;
            *n - 1
        }
    }

    /// Shared, so each model request carries them without a copy.
    pub(crate) fn specs(&self) -> &Arc<[ToolSpec]> {
        match &self.mcp {
            Some(view) => &view.specs,
            None => &self.set.specs,
        }
    }

    /// Checks a call without running it: an unknown tool or invalid arguments.
    pub(crate) fn validate(&self, name: &str, args: &Value) -> Result<(), ToolError> {
        let from_mcp = self.mcp_for(name).and_then(|m| m.validators.get(name));
        let Some(validator) = self.set.validators.get(name).or(from_mcp) else {
            let offered: Vec<&str> = self.specs().iter().map(|s| s.name.as_str()).collect();
            return Err(ToolError::Malformed(format!(
                "unknown tool `{name}` (available: {})",
                offered.join(", ")
            )));
        };
        // Providers hand over arguments they could not parse as a JSON string.
        if let Value::String(raw) = args {
            return Err(ToolError::Malformed(format!(
                "invalid arguments for `{name}`: not a JSON object: {raw}"
            )));
        }
        let problems: Vec<String> = validator
            .iter_errors(args)
            .map(|e| {
                let at = e.instance_path().to_string();
                if at.is_empty() {
                    e.to_string()
                } else {
                    format!("{at}: {e}")
                }
            })
            .collect();
        if !problems.is_empty() {
            return Err(ToolError::Malformed(format!(
                "invalid arguments for `{name}`: {}",
                problems.join("; ")
            )));
        }
        Ok(())
    }

    /// Validates and runs a call. `Err` is what the model is told.
    pub(crate) async fn call(
        &self,
        world: &mut World,
        case_id: &str,
        name: &str,
        args: &Value,
    ) -> Result<Value, ToolError> {
        self.validate(name, args)?;
        if let Some(mcp) = self.mcp_for(name) {
            return self
                .run_mcp(mcp, name, args)
                .await?
                .map_err(|failure| ToolError::Failed(failure.0));
        }
        match self.set.custom.get(name) {
            Some(tool) => self.run_custom(tool, case_id, name, args).await,
            None => support::run(world, name, args),
        }
        .map_err(|failure| ToolError::Failed(failure.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn all() -> Vec<String> {
        BUILTIN_TOOLS.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_builtin_has_a_valid_schema() {
        let tb = Toolbox::new(&all(), &[]).unwrap();
        assert_eq!(tb.specs().len(), BUILTIN_TOOLS.len());
    }

    #[test]
    fn unknown_name_gets_a_hint() {
        let err = tool_specs(&["lookup_ordr".to_string()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("did you mean `lookup_order`"), "{err}");
    }

    #[tokio::test]
    async fn invalid_arguments_are_rejected_before_running() {
        let tb = Toolbox::new(&all(), &[]).unwrap();
        let mut w = World::from_value(json!({"today": "2026-03-20"})).unwrap();
        let table = [
            (
                "lookup_order",
                json!({"order_id": 1042}),
                "invalid arguments",
            ),
            ("lookup_order", json!({}), "order_id"),
            (
                "issue_refund",
                json!({"order_id": "1", "amount": -1, "reason": "x"}),
                "/amount",
            ),
            (
                "create_ticket",
                json!({"subject": "s", "body": "b"}),
                "invalid arguments",
            ),
            (
                "send_email",
                json!({"to": "nobody", "subject": "s", "body": "b"}),
                "/to",
            ),
            (
                "lookup_order",
                json!({"order_id": "1", "x": 1}),
                "invalid arguments",
            ),
            ("delete_everything", json!({}), "unknown tool"),
            ("lookup_order", json!("{order_id: 1"), "not a JSON object"),
        ];
        for (name, args, want) in table {
            let err = tb.call(&mut w, "c", name, &args).await.unwrap_err();
            let ToolError::Malformed(err) = err else {
                panic!("{name}: {err:?}")
            };
            assert!(err.contains(want), "{name} {args}: {err}");
        }
        // A policy refusal ran the tool: it is the tool's answer, not a malformed call.
        let refusal = tb
            .call(&mut w, "c", "lookup_order", &json!({"order_id": "9"}))
            .await
            .unwrap_err();
        assert!(matches!(refusal, ToolError::Failed(_)), "{refusal:?}");
        // Nothing ran, so nothing was written.
        assert_eq!(w.state(), &json!({"today": "2026-03-20"}));
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn command_tool_calls_are_recorded_and_replayed_by_call_index() {
        use crate::provider::cache::{CacheMode, CallContext, ModelCache};
        let dir = tempfile::tempdir().unwrap();
        let counter = dir.path().join("n");
        let tool = |argv: String| {
            let raw: crate::agent::harness::raw_custom_tool::RawCustomTool =
                serde_yaml::from_str(&format!("name: count\ncommand: {{argv: {argv}}}")).unwrap();
            Arc::new(CustomTool::compile(&raw, dir.path(), Default::default()).unwrap())
        };
        let counting = format!(
            "[sh, -c, 'echo x >> {}; printf \"{{\\\"n\\\": %s}}\" $(wc -l < {})']",
            counter.display(),
            counter.display()
        );
        let box_for = |t: Arc<CustomTool>, mode| {
            let cache = Arc::new(ModelCache::new(dir.path().join("cache"), mode));
            let ctx = CallContext {
                case_id: "c".into(),
                repeat: 0,
            };
            Toolbox::new(&[], &[t])
                .unwrap()
                .with_recorder(Some(ToolRecorder::new(cache, ctx)))
        };
        let mut w = World::from_value(json!({})).unwrap();
        let args = json!({"q": 1});
        let rec = box_for(tool(counting), CacheMode::Record);
        let a = rec.call(&mut w, "c", "count", &args).await.unwrap();
        let b = rec.call(&mut w, "c", "count", &args).await.unwrap();
        assert_eq!((a, b.clone()), (json!({"n": 1}), json!({"n": 2})));

        // The command now fails if run: the answers come from the recording, in call order.
        let rep = box_for(tool("[\"false\"]".into()), CacheMode::Replay);
        assert_eq!(
            rep.call(&mut w, "c", "count", &args).await.unwrap(),
            json!({"n": 1})
        );
        assert_eq!(rep.call(&mut w, "c", "count", &args).await.unwrap(), b);
        let err = rep
            .call(&mut w, "c", "count", &json!({"q": 2}))
            .await
            .unwrap_err();
        let msg = err.message();
        assert!(
            msg.contains("replay miss in case `c` (repeat 0): tool call not recorded"),
            "{msg}"
        );
        assert!(msg.contains("`args.q`"), "{msg}");
    }
}
