//! `Request` and `Reply`: the JSON protocol between gauntlet and an external agent.
//!
//! The `command` and `http` targets send one `Request` per case and read one `Reply`. The reply
//! is parsed strictly (unknown fields are errors, steps have the exact shape of
//! `trajectory::Step`), so a malformed reply makes the case `errored` with the first problem,
//! and a well-formed one becomes a `Trajectory` that every check and judge reads as it reads the
//! harness's own.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::agent::case_input::CaseInput;
use crate::agent::harness::pricing::PriceTable;
use crate::otlp::file::TracedRun;
use crate::trajectory::{EndReason, Step, Trajectory, Usage};

/// What the agent receives: the case, without its `expected` part (the agent must not see the
/// answer key).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Request<'a> {
    pub id: &'a str,
    /// Which repeat of the case (0-based), sent to command agents: a persistent agent echoes
    /// `id` and `repeat` in its reply, so a reply can never be taken for another case's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeat: Option<u32>,
    /// The first user turn.
    pub input: &'a str,
    /// Every user turn, the first included (scripted multi-turn).
    pub turns: &'a [String],
    pub vars: &'a BTreeMap<String, Value>,
    /// `{"world": {...}}` when the case has a world fixture; `{}` otherwise.
    pub fixtures: BTreeMap<&'static str, &'a Value>,
    /// The W3C trace context of this run, for a target with `traces: otlp` (a persistent
    /// agent cannot get it from its environment, which is set once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    /// The turn protocol (a case with a simulated user): which user turn this is (0-based).
    /// Absent otherwise, so a one-shot request is exactly what it always was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub turn: Option<u32>,
    /// The turn protocol: the conversation before this turn, oldest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<&'a [HistoryEntry]>,
}

/// One message of the conversation so far, as the turn protocol sends it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct HistoryEntry {
    pub role: HistoryRole,
    pub content: String,
}

/// Who said a message of the history: the user (scripted or simulated) or the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum HistoryRole {
    User,
    Agent,
}

impl<'a> Request<'a> {
    pub(crate) fn new(case: &'a dyn CaseInput) -> Self {
        let mut fixtures = BTreeMap::new();
        if let Some(world) = case.world_fixture() {
            fixtures.insert("world", world);
        }
        Request {
            id: case.id(),
            repeat: None,
            input: case.turns().first().map(String::as_str).unwrap_or_default(),
            turns: case.turns(),
            vars: case.vars(),
            fixtures,
            traceparent: None,
            turn: None,
            history: None,
        }
    }

    /// The request of user turn `turn` of the turn protocol: `input` is this turn's message,
    /// `turns` every user message so far (this one last), `history` the conversation before it.
    pub(crate) fn with_turn(
        self,
        turn: u32,
        turns: &'a [String],
        history: &'a [HistoryEntry],
    ) -> Self {
        Request {
            input: turns.last().map(String::as_str).unwrap_or_default(),
            turns,
            turn: Some(turn),
            history: Some(history),
            ..self
        }
    }

    /// The request of a traced run.
    pub(crate) fn with_traceparent(self, traceparent: Option<String>) -> Self {
        Request {
            traceparent,
            ..self
        }
    }

    /// The request of repeat `repeat` of the case.
    pub(crate) fn with_repeat(self, repeat: u32) -> Self {
        Request {
            repeat: Some(repeat),
            ..self
        }
    }

    /// Compact JSON, one line (what a persistent command reads).
    pub(crate) fn to_line(&self) -> String {
        // Only strings and JSON values: serializing cannot fail.
        serde_json::to_string(self).expect("request serializes to JSON")
    }
}

/// What the agent answers. Everything but `output` is optional.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Reply {
    /// The request's `id`, echoed (required of a persistent command agent).
    #[serde(default)]
    pub id: Option<String>,
    /// The request's `repeat`, echoed (required of a persistent command agent).
    #[serde(default)]
    pub repeat: Option<u32>,
    /// The final answer: a string, or any JSON value (kept as compact JSON text).
    pub output: Value,
    /// Absent (not merely empty) lets a traced target take the run's spans instead.
    #[serde(default)]
    pub trajectory: Option<ReplyTrajectory>,
    /// Summed usage; when absent, the sum of the model steps' usage.
    #[serde(default)]
    pub usage: Option<Usage>,
    /// The end state of the agent's world, for `end_state` checks.
    #[serde(default)]
    pub state: Option<Value>,
    /// The agent could not do its job: the case is `errored` with this reason.
    #[serde(default)]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReplyTrajectory {
    #[serde(default)]
    pub steps: Vec<Step>,
}

/// Parses an agent's reply into a trajectory; a malformed reply gives an `errored` one with
/// the first problem and an excerpt of what was received.
pub(crate) fn parse_reply(text: &str) -> Trajectory {
    match read_reply(text) {
        Ok(reply) => reply.into_trajectory(),
        Err(t) => t,
    }
}

/// The reply, or the `errored` trajectory that a malformed one gives.
pub(crate) fn read_reply(text: &str) -> Result<Reply, Trajectory> {
    serde_json::from_str::<Reply>(text).map_err(|e| {
        Trajectory::errored(format!(
            "invalid reply: {e} (received: {})",
            crate::text::excerpt(text, 200, "(nothing)")
        ))
    })
}

impl Reply {
    /// Whether the agent reported a trajectory (even an empty one).
    pub(crate) fn has_trajectory(&self) -> bool {
        self.trajectory.is_some()
    }

    /// The reply's trajectory, or `steps` (a traced run's spans) when it reported none.
    pub(crate) fn with_steps_if_none(mut self, steps: Vec<Step>) -> Self {
        if self.trajectory.is_none() {
            self.trajectory = Some(ReplyTrajectory { steps });
        }
        self
    }

    pub(crate) fn into_trajectory(self) -> Trajectory {
        let output = match self.output {
            Value::String(s) => s,
            other => other.to_string(),
        };
        let mut steps = self.trajectory.map(|t| t.steps).unwrap_or_default();
        // The price table costs the model calls the agent did not price itself.
        price_model_steps(&mut steps, &PriceTable::default());
        let flat = Trajectory {
            steps,
            ..Default::default()
        };
        let usage = self.usage.unwrap_or_else(|| {
            let mut sum = Usage::default();
            for step in flat.flat_steps() {
                if let Step::Model { usage, .. } = step {
                    sum.add(*usage);
                }
            }
            sum
        });
        let costs: Vec<f64> = flat
            .flat_steps()
            .into_iter()
            .filter_map(|s| match s {
                Step::Model { cost_usd, .. } => *cost_usd,
                _ => None,
            })
            .collect();
        let cost_usd = (!costs.is_empty()).then(|| costs.iter().sum());
        let mut trajectory = Trajectory {
            steps: flat.steps,
            output,
            end: EndReason::Completed,
            error: None,
            usage,
            cost_usd,
            state: self.state.map(Arc::new),
        };
        if let Some(reason) = self.error {
            trajectory.end = EndReason::Error;
            trajectory.error = Some(format!("the agent reported an error: {reason}"));
        } else if trajectory.escalated() {
            trajectory.end = EndReason::Escalated;
        }
        trajectory
    }
}

/// The trajectory of a run known only from its trace (a replayed OTLP file): made as a reply's
/// is, so usage is summed and models priced the same way.
pub(crate) fn traced_trajectory(run: TracedRun) -> Trajectory {
    Reply {
        id: None,
        repeat: None,
        output: Value::String(run.output),
        trajectory: Some(ReplyTrajectory { steps: run.steps }),
        usage: None,
        state: None,
        error: None,
    }
    .into_trajectory()
}

/// Fills in `cost_usd` of the model steps (nested agents' too) that report usage and a
/// priced model but no cost. A model with no price stays unpriced: `None`, never 0.
fn price_model_steps(steps: &mut [Step], prices: &PriceTable) {
    for step in steps {
        match step {
            Step::Model {
                usage,
                model,
                cost_usd: cost @ None,
                ..
            } if usage.total() > 0 => *cost = prices.cost_any_provider(model, *usage),
            Step::Agent { steps, .. } => price_model_steps(steps, prices),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::model::Case;
    use serde_json::json;

    fn case() -> Case {
        Case {
            turns: vec!["hi".into(), "order 7".into()],
            vars: [("name".to_string(), json!("Ada"))].into(),
            expected: crate::suite::model::Expected {
                reference: Some("secret answer".into()),
                ..Default::default()
            },
            world_fixture: Some(json!({"orders": {}})),
            ..Case::new("c1", "")
        }
    }

    #[test]
    fn request_carries_the_case_but_not_its_expected_answer() {
        let c = case();
        let line = Request::new(&c).to_line();
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            v,
            json!({"id": "c1", "input": "hi", "turns": ["hi", "order 7"],
                   "vars": {"name": "Ada"}, "fixtures": {"world": {"orders": {}}}})
        );
        assert!(!line.contains("secret"));
        assert!(!line.contains('\n'));
    }

    #[test]
    fn a_turn_request_carries_the_turn_and_the_history_and_this_turns_message() {
        let c = case();
        let said = vec!["hi".to_string(), "order 7".to_string()];
        let history = [
            HistoryEntry {
                role: HistoryRole::User,
                content: "hi".into(),
            },
            HistoryEntry {
                role: HistoryRole::Agent,
                content: "Which order?".into(),
            },
        ];
        let line = Request::new(&c)
            .with_repeat(1)
            .with_turn(1, &said, &history)
            .to_line();
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["turn"], 1);
        assert_eq!(v["repeat"], 1);
        assert_eq!(v["input"], "order 7");
        assert_eq!(v["turns"], json!(["hi", "order 7"]));
        assert_eq!(
            v["history"],
            json!([{"role": "user", "content": "hi"}, {"role": "agent", "content": "Which order?"}])
        );
        assert!(!line.contains("secret"));
    }

    #[test]
    fn a_full_reply_becomes_a_trajectory() {
        let t = parse_reply(
            r#"{"output": "done", "trajectory": {"steps": [
                {"type": "model", "content": null, "tool_calls": [{"id": "1", "name": "lookup_order", "args": {"order_id": "7"}}],
                 "usage": {"input_tokens": 10, "output_tokens": 2}, "model": "m"},
                {"type": "tool", "name": "lookup_order", "args": {"order_id": "7"}, "result": {"status": "shipped"}},
                {"type": "model", "content": "done", "usage": {"input_tokens": 5, "output_tokens": 1}}]},
               "state": {"orders": {"7": {"status": "shipped"}}}}"#,
        );
        assert_eq!(t.end, EndReason::Completed, "{t:?}");
        assert_eq!(t.output, "done");
        assert_eq!(t.usage.total(), 18, "usage summed from the model steps");
        assert_eq!(t.model_calls(), 2);
        assert_eq!(t.tool_calls().count(), 1);
        assert!(t.state.is_some());
    }

    #[test]
    fn output_alone_is_enough_and_json_output_is_kept_as_text() {
        let t = parse_reply(r#"{"output": "hello"}"#);
        assert_eq!((t.end, t.output.as_str()), (EndReason::Completed, "hello"));
        let t = parse_reply(r#"{"output": {"b": 1, "a": [2]}}"#);
        assert_eq!(t.output, r#"{"a":[2],"b":1}"#, "compact, keys sorted");
    }

    #[test]
    fn explicit_usage_wins_and_escalation_steps_end_escalated() {
        let t = parse_reply(
            r#"{"output": "handing over", "usage": {"input_tokens": 3, "output_tokens": 4},
                "trajectory": {"steps": [{"type": "escalation", "reason": "angry"}]}}"#,
        );
        assert_eq!(t.usage.total(), 7);
        assert_eq!(t.end, EndReason::Escalated);
    }

    #[test]
    fn an_external_agents_escalation_tool_call_ends_escalated_unless_it_failed() {
        let t = parse_reply(
            r#"{"output": "a human will call you", "trajectory": {"steps": [
                {"type": "tool", "name": "escalate_to_human", "args": {"reason": "legal"}, "result": {"ok": true}}]}}"#,
        );
        assert!(t.escalated());
        assert_eq!(t.end, EndReason::Escalated);
        let t = parse_reply(
            r#"{"output": "x", "trajectory": {"steps": [
                {"type": "tool", "name": "escalate_to_human", "args": {}, "error": "down"}]}}"#,
        );
        assert!(
            !t.escalated(),
            "a failed escalation call is not an escalation"
        );
        assert_eq!(t.end, EndReason::Completed);
    }

    #[test]
    fn malformed_replies_are_errored_with_the_first_problem() {
        for (reply, want) in [
            ("not json", "invalid reply: expected ident"),
            (r#"{"trajectory": {"steps": []}}"#, "missing field `output`"),
            (r#"{"output": "x", "extra": 1}"#, "unknown field `extra`"),
            (
                r#"{"output": "x", "trajectory": {"steps": [{"type": "tool"}]}}"#,
                "missing field `name`",
            ),
            (
                r#"{"output": "x", "trajectory": {"steps": [{"type": "thought", "text": "hm"}]}}"#,
                "unknown variant `thought`",
            ),
            (
                r#"{"output": "x", "usage": {"input_tokens": -1}}"#,
                "invalid value: integer `-1`",
            ),
            ("", "invalid reply: EOF"),
        ] {
            let t = parse_reply(reply);
            assert_eq!(t.end, EndReason::Error, "{reply}");
            let err = t.error.unwrap_or_default();
            assert!(err.contains(want), "{reply}: {err}");
            assert!(err.contains("received: "), "{err}");
        }
    }

    #[test]
    fn steps_may_carry_agent_timing_and_metadata_and_nest_sub_agents() {
        let t = parse_reply(
            r#"{"output": "ok", "trajectory": {"steps": [
                {"type": "agent", "name": "triage", "started_at": "2026-01-02T03:04:05.006Z",
                 "latency_ms": 40, "metadata": {"handoff": true}, "steps": [
                    {"type": "model", "model": "gpt-4o-mini", "agent": "triage",
                     "usage": {"input_tokens": 1000000, "output_tokens": 0},
                     "metadata": {"gen_ai.system": "openai"}},
                    {"type": "agent", "name": "orders", "steps": [
                        {"type": "tool", "name": "lookup_order", "args": {"order_id": "7"},
                         "agent": "orders"}]}]},
                {"type": "tool", "name": "send_email", "args": {}, "latency_ms": 5}]}}"#,
        );
        assert_eq!(t.end, EndReason::Completed, "{:?}", t.error);
        let tools: Vec<&str> = t.tool_calls().map(|(n, _)| n).collect();
        assert_eq!(
            tools,
            ["lookup_order", "send_email"],
            "nested calls in order"
        );
        assert_eq!(t.model_calls(), 1);
        assert_eq!(t.usage.input_tokens, 1_000_000, "nested usage is summed");
        assert_eq!(
            t.cost_usd,
            Some(0.15),
            "the price table costs a bare model name"
        );
        let line = serde_json::to_string(&t.steps[1]).unwrap();
        assert_eq!(
            line, r#"{"type":"tool","name":"send_email","args":{},"latency_ms":5}"#,
            "absent fields stay absent"
        );
    }

    #[test]
    fn an_unknown_latency_is_not_written_as_zero_and_agent_costs_are_kept() {
        let t = parse_reply(
            r#"{"output": "x", "trajectory": {"steps": [
                {"type": "tool", "name": "a", "args": {}},
                {"type": "model", "model": "gpt-4o", "usage": {"input_tokens": 5}, "cost_usd": 0.5},
                {"type": "model", "model": "my-llama", "usage": {"input_tokens": 5}}]}}"#,
        );
        let line = serde_json::to_string(&t.steps[0]).unwrap();
        assert!(!line.contains("latency_ms"), "{line}");
        assert_eq!(
            t.cost_usd,
            Some(0.5),
            "a reported cost wins; unknown models are unpriced"
        );
    }

    #[test]
    fn an_absent_trajectory_takes_the_traced_steps_but_a_reported_one_wins() {
        let traced = vec![Step::User {
            content: "from spans".into(),
        }];
        let reply = read_reply(r#"{"output": "x"}"#).unwrap();
        assert!(!reply.has_trajectory());
        let t = reply.with_steps_if_none(traced.clone()).into_trajectory();
        assert_eq!(t.steps, traced);
        let reply = read_reply(r#"{"output": "x", "trajectory": {"steps": []}}"#).unwrap();
        let t = reply.with_steps_if_none(traced).into_trajectory();
        assert!(
            t.steps.is_empty(),
            "the agent's own (empty) trajectory is kept"
        );
    }

    #[test]
    fn an_agent_reported_error_is_errored() {
        let t = parse_reply(r#"{"output": "", "error": "database down"}"#);
        assert_eq!(t.end, EndReason::Error);
        assert_eq!(
            t.error.as_deref(),
            Some("the agent reported an error: database down")
        );
    }
}
