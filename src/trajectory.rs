//! `Trajectory`: everything that happened while an agent worked on one case, in order.
//!
//! A trajectory is plain data. It is what the harness records, what an external agent reports,
//! what `trajectories.jsonl` stores and what a `replay` target reads back, so its serialized
//! shape is part of the public protocol (see README, "Trajectory").

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Token usage of one model call, or summed over a trajectory.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct Usage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
}

impl Usage {
    /// Saturating, as are the sums: a server reporting `u64::MAX` tokens makes a huge total,
    /// never a wrapped small one.
    pub fn total(&self) -> u64 {
        self.input_tokens.saturating_add(self.output_tokens)
    }

    pub fn add(&mut self, other: Usage) {
        self.input_tokens = self.input_tokens.saturating_add(other.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(other.output_tokens);
    }
}

/// A tool call as the model asked for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolCall {
    /// Provider-assigned id linking the call to its result; synthesised when absent.
    #[serde(default)]
    pub id: String,
    pub name: String,
    #[serde(default = "empty_object")]
    pub args: Value,
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

/// Free-form facts about a step that gauntlet does not interpret (an OpenTelemetry span's
/// unmapped attributes, an agent's own annotations): kept, shown in the HTML report, never
/// scored. Absent when empty, so a trajectory without any serializes as it always did.
pub type Metadata = BTreeMap<String, Value>;

/// A failed tool call's message: what the model reads as the tool's answer, and what the tool
/// step records as its `error`. It is data of the trajectory, not an error of gauntlet's own.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ToolFailure(pub String);

impl From<String> for ToolFailure {
    fn from(message: String) -> Self {
        ToolFailure(message)
    }
}

/// What one tool call gives the model: its result, or its failure.
pub type ToolOutcome = Result<Value, ToolFailure>;

/// One event of a trajectory.
///
/// `agent`, `started_at`, `latency_ms` and `metadata` are optional on model, tool and agent
/// steps, and omitted when absent: `latency_ms` absent means *unknown*, never 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// A user turn (the case input, a scripted turn, or a simulated user).
    User { content: String },
    /// One model call and what it answered.
    Model {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ToolCall>,
        #[serde(default)]
        usage: Usage,
        #[serde(default)]
        model: String,
        /// Wall time of the call, when known. Never part of the scored report.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        latency_ms: Option<u64>,
        /// USD of this call, when the model has a price (absent for the mock).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cost_usd: Option<f64>,
        /// The agent that made the call, in a multi-agent system.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<String>,
        /// When the call started (RFC 3339, UTC), when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        started_at: Option<String>,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        metadata: Metadata,
    },
    /// One tool execution.
    Tool {
        #[serde(default, skip_serializing_if = "String::is_empty")]
        id: String,
        name: String,
        #[serde(default = "empty_object")]
        args: Value,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        result: Option<Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        /// Wall time of the call, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        latency_ms: Option<u64>,
        /// The agent that called the tool, in a multi-agent system.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        started_at: Option<String>,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        metadata: Metadata,
    },
    /// The agent handed the conversation to a human (or the harness did, on a budget).
    Escalation { reason: String },
    /// A sub-agent's own trajectory, nested where it ran (an `invoke_agent` span, a handoff).
    /// Checks over tool calls and model calls look through it.
    Agent {
        name: String,
        #[serde(default)]
        steps: Vec<Step>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        started_at: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        latency_ms: Option<u64>,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        metadata: Metadata,
    },
}

/// How the agent's work on a case ended.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The agent produced a final answer.
    #[default]
    Completed,
    /// The agent (or the harness, gracefully degrading) escalated to a human.
    Escalated,
    /// The harness stopped the loop at `max_steps`.
    MaxSteps,
    /// The model kept making malformed tool calls past `max_repairs`.
    MaxRepairs,
    /// The agent could not run: provider down, crash, timeout. The case is `errored`.
    Error,
}

/// The tool whose successful call is an escalation to a human, for every target.
pub const ESCALATION_TOOL: &str = "escalate_to_human";

/// Everything that happened on one case.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trajectory {
    #[serde(default)]
    pub steps: Vec<Step>,
    /// The final answer shown to the user (the last model text).
    #[serde(default)]
    pub output: String,
    #[serde(default)]
    pub end: EndReason,
    /// Why the run ended in `error` (or `escalated`), for the report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Summed usage over all model calls.
    #[serde(default)]
    pub usage: Usage,
    /// Summed USD over the priced model calls (absent when none was priced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// End state of the tool world, when the target has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Shared with the suite's world when the case did not change it.
    pub state: Option<Arc<Value>>,
}

/// A trajectory read without its end state, for the pages that never show it (`index.html`,
/// `diff.html`): a tool world is several KB of JSON per case, and building it only to drop it
/// was a fifth of a run's work on W2. `state` is skimmed by the parser, not built. The fields
/// are `Trajectory`'s but `state` (a unit test keeps the two in step).
#[derive(Deserialize)]
pub(crate) struct TrajectoryWithoutState {
    #[serde(default)]
    steps: Vec<Step>,
    #[serde(default)]
    output: String,
    #[serde(default)]
    end: EndReason,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    usage: Usage,
    #[serde(default)]
    cost_usd: Option<f64>,
}

impl From<TrajectoryWithoutState> for Trajectory {
    fn from(t: TrajectoryWithoutState) -> Trajectory {
        Trajectory {
            steps: t.steps,
            output: t.output,
            end: t.end,
            error: t.error,
            usage: t.usage,
            cost_usd: t.cost_usd,
            state: None,
        }
    }
}

fn flatten_into<'a>(steps: &'a [Step], out: &mut Vec<&'a Step>) {
    for step in steps {
        out.push(step);
        if let Step::Agent { steps, .. } = step {
            flatten_into(steps, out);
        }
    }
}

impl Trajectory {
    /// Every step in order, nested agents' steps in place after their `agent` step (depth
    /// first): what the checks look through.
    pub fn flat_steps(&self) -> Vec<&Step> {
        let mut out = Vec::with_capacity(self.steps.len());
        flatten_into(&self.steps, &mut out);
        out
    }

    /// The tool steps in order, flattened through nested agents: what trajectory checks
    /// compare.
    pub fn tool_calls(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.flat_steps().into_iter().filter_map(|s| match s {
            Step::Tool { name, args, .. } => Some((name.as_str(), args)),
            _ => None,
        })
    }

    /// Number of model calls, nested agents' included: what `max_steps` bounds.
    pub fn model_calls(&self) -> usize {
        self.flat_steps()
            .into_iter()
            .filter(|s| matches!(s, Step::Model { .. }))
            .count()
    }

    /// Whether the run handed over to a human: an `escalated` end, an `escalation` step, or a
    /// successful call of the escalation tool (by the agent or a sub-agent). The last makes an
    /// external agent that calls `escalate_to_human` count exactly as the harness does,
    /// whatever steps it reports.
    pub fn escalated(&self) -> bool {
        self.end == EndReason::Escalated
            || self.flat_steps().into_iter().any(|s| match s {
                Step::Escalation { .. } => true,
                Step::Tool { name, error, .. } => name == ESCALATION_TOOL && error.is_none(),
                _ => false,
            })
    }

    /// A trajectory for an agent that could not run at all.
    pub fn errored(reason: impl Into<String>) -> Self {
        Trajectory {
            end: EndReason::Error,
            error: Some(reason.into()),
            ..Default::default()
        }
    }
}
