//! `converse`: the turn protocol that lets a simulated user talk to an external agent.
//!
//! A case with a simulated user on a `command` or `http` target is a conversation, not one
//! request: gauntlet sends each user message as its own request (the scripted turns first,
//! then what the simulated user says), with the turn index and the history so far; the agent
//! answers each with an ordinary reply. It ends when the user says it is done, after
//! `max_turns` user turns (scripted ones count, as in the harness), or when a reply errors or
//! escalates. The run's trajectory is every turn's user step followed by that turn's steps.
//! A target with `turn_by_turn: true` sends even a case without a simulated user this way.
//! With `traces: otlp` every turn is a trace of its own, and a reply without steps gets the
//! spans of its turn.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::agent::case_input::CaseInput;
use crate::agent::harness::simulated_user::{parse_reply, SimulatedUserChat, UserReply};
use crate::agent::protocol::{HistoryEntry, HistoryRole, Reply, Request};
use crate::agent::traced::{with_spans, Traced};
use crate::otlp::receiver::TraceRun;
use crate::provider::registry::Providers;
use crate::provider::types::{ModelId, Provider};
use crate::trajectory::{EndReason, Step, Trajectory};

/// An external agent answering one turn: the request line in, its reply (or the `errored`
/// trajectory of a failed exchange) out. `trace`: the turn's own trace when the target has
/// `traces: otlp` (the line already carries its `traceparent`; a process or request may
/// need it too, as the environment or a header).
pub(crate) trait TurnAgent {
    fn answer(
        &mut self,
        request: String,
        trace: Option<&TraceRun>,
    ) -> impl std::future::Future<Output = Result<Reply, Trajectory>> + Send;

    /// The target's `traces:` side.
    fn traced(&self) -> &Traced;

    /// The most an OTLP export body may hold (the receiver starts with the first trace).
    fn max_trace_bytes(&self) -> u64;
}

/// Runs repeat `repeat` of `case` as a conversation with `agent`: its scripted turns, then
/// its simulated user (if any), played by `user_model`. Never fails: problems give an `errored` trajectory that keeps
/// the turns so far.
pub(crate) async fn converse(
    case: &dyn CaseInput,
    repeat: u32,
    user_model: Option<&ModelId>,
    providers: &Providers,
    agent: &mut impl TurnAgent,
) -> Trajectory {
    // Without a simulated user (a `turn_by_turn` target), only the scripted turns are spoken.
    let mut user = None;
    if let Some(sim) = case.simulated_user() {
        let Some(model) = user_model else {
            return Trajectory::errored("a simulated `user` on this target needs `user_model`");
        };
        // The per-case mock script is the agent's; the simulated user follows rules.
        let provider: Arc<dyn Provider> = match providers.get(model, &[]) {
            Ok(p) => p,
            Err(e) => return Trajectory::errored(format!("simulated user: {}", e.message)),
        };
        user = Some((sim, model, provider, SimulatedUserChat::new(sim)));
    }
    let mut scripted: VecDeque<String> = case.turns().iter().cloned().collect();
    let mut said: Vec<String> = Vec::new();
    let mut history: Vec<HistoryEntry> = Vec::new();
    let mut traj = Trajectory::default();
    let mut costs: Vec<f64> = Vec::new();
    loop {
        let text = match scripted.pop_front() {
            Some(t) => t,
            None => {
                let Some((sim, model, provider, chat)) = &user else {
                    break;
                };
                if said.len() as u64 >= u64::from(sim.max_turns) {
                    break;
                }
                let request = chat.request(&model.model);
                match provider.complete(&request).await {
                    Ok(r) => match parse_reply(r.content.as_deref()) {
                        UserReply::Done => break,
                        UserReply::Says(t) => t,
                    },
                    Err(e) => {
                        return stopped(
                            traj,
                            EndReason::Error,
                            format!("simulated user failed: {}", e.message),
                        )
                    }
                }
            }
        };
        if let Some((_, _, _, chat)) = &mut user {
            chat.user_said(&text);
        }
        traj.steps.push(Step::User {
            content: text.clone(),
        });
        said.push(text.clone());
        let turn = (said.len() - 1) as u32;
        // Each turn is a trace of its own: a reply without steps gets that turn's spans.
        let trace = match agent
            .traced()
            .begin(case.id(), repeat, agent.max_trace_bytes())
            .await
        {
            Ok(t) => t,
            Err(e) => return stopped(traj, EndReason::Error, format!("turn {turn}: {e}")),
        };
        let line = Request::new(case)
            .with_repeat(repeat)
            .with_turn(turn, &said, &history)
            .with_traceparent(trace.as_ref().map(|t| t.context().traceparent()))
            .to_line();
        let answer = match agent.answer(line, trace.as_ref()).await {
            Ok(reply) => with_spans(reply, trace).await.into_trajectory(),
            Err(failed) => {
                let reason = failed.error.unwrap_or_default();
                return stopped(traj, failed.end, format!("turn {turn}: {reason}"));
            }
        };
        traj.steps.extend(answer.steps);
        traj.usage.add(answer.usage);
        costs.extend(answer.cost_usd);
        if answer.state.is_some() {
            // Each reply reports the world as it is now: the last one is the end state.
            traj.state = answer.state;
        }
        traj.cost_usd = (!costs.is_empty()).then(|| costs.iter().sum());
        traj.output = answer.output.clone();
        if answer.end != EndReason::Completed {
            // An error or an escalation ends the conversation: a human takes over.
            traj.end = answer.end;
            traj.error = answer.error;
            return traj;
        }
        if let Some((_, _, _, chat)) = &mut user {
            chat.agent_said(&answer.output);
        }
        history.push(HistoryEntry {
            role: HistoryRole::User,
            content: text,
        });
        history.push(HistoryEntry {
            role: HistoryRole::Agent,
            content: answer.output,
        });
    }
    traj.end = EndReason::Completed;
    traj
}

/// The conversation so far, ended early with `end` and `reason`.
fn stopped(mut traj: Trajectory, end: EndReason, reason: String) -> Trajectory {
    traj.end = end;
    traj.error = Some(reason);
    traj
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::harness::simulated_user::SimulatedUser;
    use crate::agent::protocol::read_reply;
    use crate::provider::mock_rules::MockRules;
    use crate::suite::model::Case;
    use std::collections::BTreeMap;
    use std::path::Path;

    /// Answers from a list, one reply per turn, and keeps the requests it got.
    struct Scripted {
        replies: Vec<&'static str>,
        got: Vec<serde_json::Value>,
        untraced: Traced,
    }

    impl TurnAgent for Scripted {
        async fn answer(
            &mut self,
            request: String,
            trace: Option<&TraceRun>,
        ) -> Result<Reply, Trajectory> {
            assert!(trace.is_none());
            self.got.push(serde_json::from_str(&request).unwrap());
            read_reply(self.replies.remove(0))
        }

        fn traced(&self) -> &Traced {
            &self.untraced
        }

        fn max_trace_bytes(&self) -> u64 {
            0
        }
    }

    fn providers() -> Providers {
        let rules = "rules:\n  - when: {purpose: simulated_user}\n    reply: {text: \"more\"}\n";
        let rules = MockRules::parse(Path::new("u.yaml"), rules).unwrap();
        Providers::new(BTreeMap::from([("u".to_string(), Arc::new(rules))]))
    }

    fn case() -> Case {
        Case {
            user: Some(SimulatedUser {
                persona: "p".into(),
                goal: "g".into(),
                max_turns: 5,
            }),
            ..Case::new("c", "hi")
        }
    }

    async fn talk(replies: Vec<&'static str>) -> (Trajectory, Vec<serde_json::Value>) {
        let mut agent = Scripted {
            replies,
            got: Vec::new(),
            untraced: Traced::default(),
        };
        let model = ModelId::parse("mock:u").unwrap();
        let t = converse(&case(), 0, Some(&model), &providers(), &mut agent).await;
        (t, agent.got)
    }

    #[tokio::test]
    async fn a_failing_turn_errors_the_run_and_keeps_the_turns_so_far() {
        let (t, got) = talk(vec![
            r#"{"output": "which order?"}"#,
            r#"{"output": "", "error": "db down"}"#,
        ])
        .await;
        assert_eq!(t.end, EndReason::Error, "{t:?}");
        assert_eq!(
            t.error.as_deref(),
            Some("the agent reported an error: db down")
        );
        assert_eq!(t.steps.len(), 2, "both user turns: {t:?}");
        assert_eq!(got[1]["history"][1]["content"], "which order?");

        let (t, _) = talk(vec![r#"{"output": "x"}"#, "not json"]).await;
        assert_eq!(t.end, EndReason::Error);
        assert!(t.error.unwrap().starts_with("turn 1: invalid reply"));
    }

    #[tokio::test]
    async fn an_escalation_ends_the_conversation() {
        let (t, got) = talk(vec![
            r#"{"output": "a human will call", "trajectory": {"steps": [{"type": "escalation", "reason": "angry"}]}}"#,
        ])
        .await;
        assert_eq!(t.end, EndReason::Escalated);
        assert_eq!(got.len(), 1, "no more user turns after an escalation");
    }

    #[tokio::test]
    async fn without_a_user_model_the_run_errors() {
        let mut agent = Scripted {
            replies: vec![],
            got: Vec::new(),
            untraced: Traced::default(),
        };
        let t = converse(&case(), 0, None, &providers(), &mut agent).await;
        assert_eq!(t.end, EndReason::Error);
        assert!(agent.got.is_empty());
    }

    #[tokio::test]
    async fn without_a_simulated_user_only_the_scripted_turns_are_sent() {
        let mut agent = Scripted {
            replies: vec![r#"{"output": "one"}"#, r#"{"output": "two"}"#],
            got: Vec::new(),
            untraced: Traced::default(),
        };
        let c = Case {
            turns: vec!["a".into(), "b".into()],
            ..Case::new("c", "")
        };
        let t = converse(&c, 0, None, &providers(), &mut agent).await;
        assert_eq!((t.end, t.output.as_str()), (EndReason::Completed, "two"));
        assert_eq!(agent.got.len(), 2);
        assert_eq!(agent.got[1]["turn"], 1);
        assert_eq!(agent.got[1]["input"], "b");
    }
}
