//! `run_harness`: the bundled agent loop — model call, tool calls, repeat until the model
//! answers without tools; then the next scripted user turn, if any.
//!
//! Ends: `completed` with the last answer; `max_steps` when the model-call budget runs out
//! (the partial trajectory is kept); `escalated` after a successful `escalate_to_human` (the
//! model may still give a closing answer within the budget); `error` when the provider fails.

use std::time::Instant;

use serde_json::Value;
use tracing::Instrument;

use crate::agent::harness::tools::{Toolbox, ESCALATION_TOOL};
use crate::agent::harness::world::World;
use crate::provider::registry::Providers;
use crate::provider::{Message, ModelRequest, Provider, Purpose};
use crate::suite::load::system_prompt_context;
use crate::suite::{Case, HarnessConfig};
use crate::template;
use crate::trajectory::{EndReason, Step, ToolCall, Trajectory};

/// Runs one case through the harness. Never panics and never fails: problems end the
/// trajectory in `error` with the steps recorded so far.
pub async fn run_harness(config: &HarnessConfig, case: &Case, providers: &Providers) -> Trajectory {
    let span = tracing::info_span!("case", id = %case.id, model = %config.model);
    async {
        let mut run = match Run::prepare(config, case, providers) {
            Ok(run) => run,
            Err(e) => {
                tracing::warn!(error = %e, "case could not start");
                return Trajectory::errored(e);
            }
        };
        run.go(config, case).await;
        run.finish()
    }
    .instrument(span)
    .await
}

/// The state of one run of the loop.
struct Run {
    provider: std::sync::Arc<dyn Provider>,
    toolbox: Toolbox,
    world: World,
    /// Whether the trajectory reports the world's end state (the suite or case gave one).
    has_world: bool,
    messages: Vec<Message>,
    traj: Trajectory,
    /// Last non-empty model text: the output when the run stops early.
    last_text: String,
    escalation: Option<String>,
}

impl Run {
    fn prepare(config: &HarnessConfig, case: &Case, providers: &Providers) -> Result<Run, String> {
        if case.turns.is_empty() {
            return Err("case has no input".into());
        }
        let world = World::new(config.world.as_ref(), case.world_fixture.as_ref())
            .map_err(|e| format!("world of case `{}`: {e}", case.id))?;
        let toolbox = Toolbox::new(&config.tools)?;
        let provider = providers
            .get(&config.model, &case.mock)
            .map_err(|e| e.message)?;
        let mut messages = Vec::new();
        if let Some(source) = &config.system {
            let system = template::render(source, system_prompt_context(case))
                .map_err(|e| format!("system prompt: {}", e.message))?;
            messages.push(Message::system(system));
        }
        Ok(Run {
            provider,
            toolbox,
            world,
            has_world: config.world.is_some() || case.world_fixture.is_some(),
            messages,
            traj: Trajectory::default(),
            last_text: String::new(),
            escalation: None,
        })
    }

    async fn go(&mut self, config: &HarnessConfig, case: &Case) {
        for turn in &case.turns {
            self.traj.steps.push(Step::User {
                content: turn.clone(),
            });
            self.messages.push(Message::user(turn.clone()));
            match self.answer_turn(config).await {
                TurnEnd::Answered => {}
                TurnEnd::Stopped => return,
            }
            // After an escalation a human takes over: no more scripted user turns.
            if self.escalation.is_some() {
                break;
            }
        }
        self.traj.end = EndReason::Completed;
        self.traj.output = self.last_text.clone();
    }

    /// Calls the model until it answers without tool calls (or the run must stop).
    async fn answer_turn(&mut self, config: &HarnessConfig) -> TurnEnd {
        loop {
            if self.traj.model_calls() >= config.max_steps as usize {
                self.traj.end = EndReason::MaxSteps;
                self.traj.error = Some(format!(
                    "stopped after max_steps = {} model calls",
                    config.max_steps
                ));
                self.traj.output = self.last_text.clone();
                return TurnEnd::Stopped;
            }
            let request = ModelRequest {
                model: config.model.model.clone(),
                messages: self.messages.clone(),
                tools: self.toolbox.specs().to_vec(),
                temperature: config.temperature,
                max_tokens: config.max_tokens,
                purpose: Purpose::Agent,
                seed: None,
                response_format: None,
            };
            let started = Instant::now();
            let span = tracing::debug_span!("model_call", step = self.traj.model_calls() + 1);
            let result = self.provider.complete(&request).instrument(span).await;
            let latency_ms = started.elapsed().as_millis() as u64;
            let response = match result {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(error = %e, "model call failed");
                    self.traj.end = EndReason::Error;
                    self.traj.error = Some(format!("model call failed: {}", e.message));
                    self.traj.output = self.last_text.clone();
                    return TurnEnd::Stopped;
                }
            };
            // Real providers give ids; fill any gap so results can be linked to their calls.
            let earlier: usize = self.messages.iter().map(|m| m.tool_calls.len()).sum();
            let calls: Vec<ToolCall> = response
                .tool_calls
                .into_iter()
                .enumerate()
                .map(|(i, mut c)| {
                    if c.id.is_empty() {
                        c.id = format!("call_{}", earlier + i + 1);
                    }
                    c
                })
                .collect();
            let text = response.content.unwrap_or_default();
            self.traj.usage.add(response.usage);
            self.traj.steps.push(Step::Model {
                content: (!text.is_empty()).then(|| text.clone()),
                tool_calls: calls.clone(),
                usage: response.usage,
                model: response.model,
                latency_ms,
            });
            self.messages
                .push(Message::assistant(text.clone(), calls.clone()));
            if !text.trim().is_empty() {
                self.last_text = text;
            }
            if calls.is_empty() {
                return TurnEnd::Answered;
            }
            for call in calls {
                self.run_tool(call);
            }
        }
    }

    fn run_tool(&mut self, call: ToolCall) {
        let _span = tracing::debug_span!("tool_call", tool = %call.name, id = %call.id).entered();
        let started = Instant::now();
        let outcome = self.toolbox.call(&mut self.world, &call.name, &call.args);
        let latency_ms = started.elapsed().as_millis() as u64;
        let content = match &outcome {
            Ok(v) => v.to_string(),
            Err(e) => {
                tracing::debug!(error = %e, "tool call refused");
                format!("error: {e}")
            }
        };
        self.messages
            .push(Message::tool(call.id.clone(), call.name.clone(), content));
        let escalated = outcome.is_ok() && call.name == ESCALATION_TOOL;
        let (result, error) = match outcome {
            Ok(v) => (Some(v), None),
            Err(e) => (None, Some(e)),
        };
        let reason = call
            .args
            .get("reason")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        self.traj.steps.push(Step::Tool {
            id: call.id,
            name: call.name,
            args: call.args,
            result,
            error,
            latency_ms,
        });
        if escalated {
            self.traj.steps.push(Step::Escalation {
                reason: reason.clone(),
            });
            self.escalation.get_or_insert(reason);
        }
    }

    fn finish(mut self) -> Trajectory {
        // An escalation is a graceful end even if the closing answer ran out of steps.
        if let Some(reason) = &self.escalation {
            if self.traj.end != EndReason::Error {
                self.traj.end = EndReason::Escalated;
                self.traj.error = Some(format!("escalated to a human: {reason}"));
            }
        }
        if self.has_world {
            self.traj.state = Some(self.world.into_state());
        }
        self.traj
    }
}

enum TurnEnd {
    Answered,
    Stopped,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::harness::tools::BUILTIN_TOOLS;
    use crate::provider::mock::MockRules;
    use crate::provider::ModelId;
    use crate::suite::raw::{RawMockReply, RawToolCall};
    use crate::suite::Expected;
    use serde_json::json;
    use std::collections::BTreeMap;
    use std::path::Path;
    use std::sync::Arc;

    const RULES: &str = r#"
rules:
  - when: {user: '(?i)status of (?P<id>\d+)'}
    reply: {tool_calls: [{name: lookup_order, args: {order_id: "{{ id }}"}}]}
  - when: {tool_name: lookup_order, tool: '"status":"(?P<s>\w+)"'}
    reply: {text: "It is {{ s }}."}
  - when: {tool_name: issue_refund, tool: '^error: (?P<why>.*)'}
    reply: {text: "Sorry, I cannot: {{ why }}"}
  - when: {tool_name: escalate_to_human}
    reply: {text: "A human will take over."}
  - when: {user: '(?i)loop'}
    reply: {text: "thinking", tool_calls: [{name: search_kb, args: {query: x}}]}
  - when: {tool_name: search_kb}
    reply: {text: "still thinking", tool_calls: [{name: search_kb, args: {query: x}}]}
  - when: {user: '.'}
    reply: {text: "You said something."}
"#;

    fn providers() -> Providers {
        let rules = MockRules::parse(Path::new("t.yaml"), RULES).unwrap();
        Providers::new(BTreeMap::from([("t".to_string(), Arc::new(rules))]))
    }

    fn config(max_steps: u32) -> HarnessConfig {
        HarnessConfig {
            model: ModelId::parse("mock:t").unwrap(),
            system: Some("You help {{ vars.name }} with case {{ case.id }}.".into()),
            tools: BUILTIN_TOOLS.iter().map(|s| s.to_string()).collect(),
            world: Some(json!({
                "today": "2026-03-20",
                "orders": {
                    "1": {"status": "shipped", "total": 10.0},
                    "2": {"status": "delivered", "total": 10.0, "delivered_on": "2025-12-01"},
                }
            })),
            max_steps,
            temperature: None,
            max_tokens: None,
        }
    }

    fn case(turns: &[&str], mock: Vec<RawMockReply>) -> Case {
        Case {
            id: "c1".into(),
            description: None,
            turns: turns.iter().map(|s| s.to_string()).collect(),
            vars: BTreeMap::from([("name".to_string(), json!("Ada"))]),
            expected: Expected::default(),
            tags: vec![],
            checks: vec![],
            world_fixture: None,
            mock,
            source: "t.jsonl:1".into(),
        }
    }

    fn call(name: &str, args: Value) -> RawMockReply {
        RawMockReply {
            text: None,
            tool_calls: vec![RawToolCall {
                name: name.into(),
                args: Some(args),
            }],
        }
    }

    fn say(text: &str) -> RawMockReply {
        RawMockReply {
            text: Some(text.into()),
            tool_calls: vec![],
        }
    }

    fn tools(t: &Trajectory) -> Vec<(String, bool)> {
        t.steps
            .iter()
            .filter_map(|s| match s {
                Step::Tool { name, error, .. } => Some((name.clone(), error.is_none())),
                _ => None,
            })
            .collect()
    }

    async fn run(cfg: &HarnessConfig, c: &Case) -> Trajectory {
        run_harness(cfg, c, &providers()).await
    }

    #[tokio::test]
    async fn tool_then_answer_completes_with_usage_and_state() {
        let t = run(&config(8), &case(&["status of 1"], vec![])).await;
        assert_eq!(t.end, EndReason::Completed, "{t:?}");
        assert_eq!(t.output, "It is shipped.");
        assert_eq!(tools(&t), [("lookup_order".to_string(), true)]);
        assert_eq!(t.model_calls(), 2);
        let summed: u64 = t
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Model { usage, .. } => Some(usage.total()),
                _ => None,
            })
            .sum();
        assert!(summed > 0);
        assert_eq!(t.usage.total(), summed);
        assert_eq!(
            t.state.as_ref().unwrap()["orders"]["1"]["status"],
            "shipped"
        );
    }

    #[tokio::test]
    async fn invalid_arguments_are_fed_back_and_repaired() {
        let script = vec![
            call("lookup_order", json!({"order_id": 1})),
            call("lookup_order", json!({"order_id": "1"})),
        ];
        let t = run(&config(8), &case(&["hi"], script)).await;
        assert_eq!(
            tools(&t),
            [
                ("lookup_order".to_string(), false),
                ("lookup_order".to_string(), true)
            ]
        );
        match &t.steps[2] {
            Step::Tool {
                error: Some(e),
                result: None,
                id,
                ..
            } => {
                assert!(e.contains("invalid arguments"), "{e}");
                assert_eq!(id, "call_1");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(t.output, "It is shipped.");
        assert_eq!(t.end, EndReason::Completed);
    }

    #[tokio::test]
    async fn max_steps_stops_the_loop_and_keeps_the_partial_trajectory() {
        let t = run(&config(3), &case(&["loop"], vec![])).await;
        assert_eq!(t.end, EndReason::MaxSteps);
        assert_eq!(t.model_calls(), 3);
        assert_eq!(tools(&t).len(), 3);
        assert_eq!(t.output, "still thinking");
    }

    #[tokio::test]
    async fn escalation_ends_the_run_after_the_closing_answer() {
        let script = vec![call("escalate_to_human", json!({"reason": "legal threat"}))];
        let t = run(&config(8), &case(&["I will sue", "hello?"], script)).await;
        assert_eq!(t.end, EndReason::Escalated);
        assert!(t.escalated());
        assert_eq!(t.output, "A human will take over.");
        let kinds: Vec<&str> = t
            .steps
            .iter()
            .map(|s| match s {
                Step::User { .. } => "user",
                Step::Model { .. } => "model",
                Step::Tool { .. } => "tool",
                Step::Escalation { .. } => "escalation",
            })
            .collect();
        // The second scripted turn never happens: a human has the conversation now.
        assert_eq!(kinds, ["user", "model", "tool", "escalation", "model"]);
        assert_eq!(
            t.state.unwrap()["escalations"]["ESC-1"]["reason"],
            "legal threat"
        );
    }

    #[tokio::test]
    async fn scripted_turns_continue_the_conversation() {
        let t = run(&config(8), &case(&["hello", "status of 1"], vec![])).await;
        assert_eq!(t.end, EndReason::Completed);
        let users = t
            .steps
            .iter()
            .filter(|s| matches!(s, Step::User { .. }))
            .count();
        assert_eq!(users, 2);
        assert_eq!(t.output, "It is shipped.");
        assert_eq!(t.model_calls(), 3);
    }

    #[tokio::test]
    async fn policy_refusal_reaches_the_model_and_changes_nothing() {
        let script = vec![call(
            "issue_refund",
            json!({"order_id": "2", "amount": 10.0, "reason": "broken"}),
        )];
        let t = run(&config(8), &case(&["refund 2"], script)).await;
        assert_eq!(tools(&t), [("issue_refund".to_string(), false)]);
        assert!(
            t.output
                .starts_with("Sorry, I cannot: order 2 was delivered 109 days ago"),
            "{}",
            t.output
        );
        let state = t.state.unwrap();
        assert!(state.get("refunds").is_none());
        assert_eq!(state["orders"]["2"]["status"], "delivered");
    }

    #[tokio::test]
    async fn provider_error_ends_in_error_with_steps_kept() {
        // The script answers the first call; the second has no rule for an empty message.
        let t = run(&config(8), &case(&["hello", ""], vec![say("first")])).await;
        assert_eq!(t.end, EndReason::Error);
        assert!(
            t.error.as_deref().unwrap().contains("no mock rule"),
            "{t:?}"
        );
        assert_eq!(t.steps.len(), 3);
        assert_eq!(t.output, "first");
        assert!(t.usage.total() > 0);
    }

    #[tokio::test]
    async fn setup_problems_error_without_panicking() {
        let mut cfg = config(8);
        cfg.system = Some("{{ vars.missing }}".into());
        let t = run(&cfg, &case(&["hi"], vec![])).await;
        assert_eq!(t.end, EndReason::Error);
        assert!(t.error.unwrap().contains("system prompt"));
        let mut cfg = config(8);
        cfg.model = ModelId::parse("mock:other").unwrap();
        let t = run(&cfg, &case(&["hi"], vec![])).await;
        assert!(t.error.unwrap().contains("mock:other"));
        let t = run(&config(8), &case(&[], vec![])).await;
        assert_eq!(t.end, EndReason::Error);
    }

    #[test]
    fn the_run_future_is_send() {
        fn assert_send<T: Send>(_: T) {}
        let cfg = config(8);
        let c = case(&["hi"], vec![]);
        let p = providers();
        assert_send(run_harness(&cfg, &c, &p));
    }
}
