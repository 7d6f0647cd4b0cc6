//! `SpanPlan`: one finished run laid out as OpenTelemetry spans under the GenAI semantic
//! conventions — what `--otlp` exports (`reporter::otlp`), as plain data so the mapping is
//! tested without an SDK or a collector. The README's "Traces out" table is this file.
//!
//! The tree of one run (one trace per run):
//! - `invoke_agent {suite}`: the run, with the case id, repeat, status, score and usage;
//!   every check that is not a judge is a `gen_ai.evaluation.result` event on it;
//!   - `chat {model}`: one per model call, in trajectory order;
//!   - `execute_tool {name}`: one per tool call, in trajectory order;
//!   - `invoke_agent {name}`: one per nested sub-agent step, with that agent's own spans under it;
//!   - `evaluate {judge}`: one per judge verdict. A judge is its own span rather than a `chat`
//!     span because what the run keeps of it is a verdict (score, outcome, reason), not its
//!     model call; the attributes are those of the `gen_ai.evaluation.result` event.
//!
//! A trajectory holds no clock times, only each step's latency, so the steps are laid back to
//! back, then the judges, ending when the run was reported. A step takes at least `TICK`, a
//! judge exactly that: spans that start at the same instant (the mock model's, a cached call's)
//! would show in any order in a trace viewer, which sorts by start time.

use std::time::{Duration, SystemTime};

use opentelemetry::{Array, KeyValue, StringValue, Value};
use serde_json::json;

use crate::results::run_result::RunResult;
use crate::trajectory::{EndReason, Step, ToolCall};
use crate::verdict::{Outcome, Verdict};

/// The prefix of a judge verdict's name (`check::judge::grade`): `judge NAME`.
const JUDGE_PREFIX: &str = "judge ";

/// The least time a span takes in the layout, so that every span starts after the one before.
const TICK: Duration = Duration::from_micros(1);

/// What a span is, which decides its name and `gen_ai.operation.name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpanRole {
    Agent,
    Chat,
    Tool,
    Judge,
}

impl SpanRole {
    /// `gen_ai.operation.name`.
    pub(crate) fn operation(self) -> &'static str {
        match self {
            SpanRole::Agent => "invoke_agent",
            SpanRole::Chat => "chat",
            SpanRole::Tool => "execute_tool",
            SpanRole::Judge => "evaluate",
        }
    }
}

/// A point-in-time note on a span (a non-judge check's verdict, an escalation).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EventPlan {
    pub(crate) name: &'static str,
    pub(crate) at: SystemTime,
    pub(crate) attributes: Vec<KeyValue>,
}

/// One span to emit. The first plan of a run is its `invoke_agent` span; every other plan is
/// a child of the plan at index `parent` (the run's span, or a sub-agent's `invoke_agent`),
/// which always comes before it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SpanPlan {
    pub(crate) parent: usize,
    pub(crate) role: SpanRole,
    pub(crate) name: String,
    pub(crate) start: SystemTime,
    pub(crate) end: SystemTime,
    pub(crate) attributes: Vec<KeyValue>,
    pub(crate) events: Vec<EventPlan>,
    /// The span's status is `Error` with this description.
    pub(crate) error: Option<String>,
}

/// Who ran: the suite (the agent's name) and its target's label.
#[derive(Debug, Clone)]
pub(crate) struct RunOrigin {
    pub(crate) suite: String,
    pub(crate) target: String,
}

/// The spans of `result`, which was reported at `reported`: the `invoke_agent` span first.
pub(crate) fn plan_run(
    origin: &RunOrigin,
    result: &RunResult,
    reported: SystemTime,
) -> Vec<SpanPlan> {
    let steps = &result.trajectory.steps;
    let judges = result
        .checks
        .iter()
        .filter(|v| v.check.starts_with(JUDGE_PREFIX))
        .count();
    let took = steps
        .iter()
        .map(step_span)
        .chain(std::iter::repeat_n(TICK, judges))
        .fold(Duration::ZERO, Duration::saturating_add);
    let start = reported.checked_sub(took).unwrap_or(reported);
    let agent = SpanPlan {
        parent: 0,
        role: SpanRole::Agent,
        name: format!("invoke_agent {}", origin.suite),
        start,
        end: reported,
        attributes: agent_attributes(origin, result),
        events: Vec::new(),
        // The agent could not run (not: a check could not judge it).
        error: result
            .error
            .clone()
            .filter(|_| result.end == EndReason::Error),
    };
    let mut plans = vec![agent];
    let mut at = plan_steps(steps, start, 0, &mut plans);
    for verdict in &result.checks {
        match verdict.check.strip_prefix(JUDGE_PREFIX) {
            Some(judge) => plans.push(SpanPlan {
                parent: 0,
                role: SpanRole::Judge,
                name: format!("evaluate {judge}"),
                start: at,
                end: {
                    at += TICK;
                    at
                },
                attributes: {
                    let mut a = vec![
                        KeyValue::new("gen_ai.operation.name", SpanRole::Judge.operation()),
                        KeyValue::new("gauntlet.judge", judge.to_string()),
                    ];
                    a.extend(evaluation_attributes(verdict));
                    a
                },
                events: Vec::new(),
                error: (verdict.outcome == Outcome::Error).then(|| verdict.reason.clone()),
            }),
            None => plans[0].events.push(EventPlan {
                name: "gen_ai.evaluation.result",
                at: reported,
                attributes: evaluation_attributes(verdict),
            }),
        }
    }
    plans
}

/// Lays `steps` out back to back from `at` as children of `plans[parent]`, a sub-agent's steps
/// under its own `invoke_agent` span; returns where the last one ends.
fn plan_steps(
    steps: &[Step],
    mut at: SystemTime,
    parent: usize,
    plans: &mut Vec<SpanPlan>,
) -> SystemTime {
    for step in steps {
        let mut end = at + step_span(step);
        match step {
            Step::Model {
                content,
                tool_calls,
                usage,
                model,
                cost_usd,
                ..
            } => {
                let mut attributes = vec![
                    KeyValue::new("gen_ai.operation.name", SpanRole::Chat.operation()),
                    KeyValue::new("gen_ai.usage.input_tokens", clamp(usage.input_tokens)),
                    KeyValue::new("gen_ai.usage.output_tokens", clamp(usage.output_tokens)),
                    KeyValue::new(
                        "gen_ai.output.messages",
                        output_messages(content.as_deref(), tool_calls),
                    ),
                ];
                if !model.is_empty() {
                    attributes.push(KeyValue::new("gen_ai.request.model", model.clone()));
                    attributes.push(KeyValue::new("gen_ai.response.model", model.clone()));
                }
                if let Some(cost) = cost_usd {
                    attributes.push(KeyValue::new("gauntlet.cost_usd", *cost));
                }
                plans.push(SpanPlan {
                    parent,
                    role: SpanRole::Chat,
                    name: if model.is_empty() {
                        "chat".to_string()
                    } else {
                        format!("chat {model}")
                    },
                    start: at,
                    end,
                    attributes,
                    events: Vec::new(),
                    error: None,
                });
            }
            Step::Tool {
                id,
                name,
                args,
                result,
                error,
                ..
            } => {
                let mut attributes = vec![
                    KeyValue::new("gen_ai.operation.name", SpanRole::Tool.operation()),
                    KeyValue::new("gen_ai.tool.name", name.clone()),
                    KeyValue::new("gen_ai.tool.type", "function"),
                    KeyValue::new("gen_ai.tool.call.arguments", args.to_string()),
                ];
                if !id.is_empty() {
                    attributes.push(KeyValue::new("gen_ai.tool.call.id", id.clone()));
                }
                if let Some(result) = result {
                    attributes.push(KeyValue::new("gen_ai.tool.call.result", result.to_string()));
                }
                if error.is_some() {
                    // Low-cardinality by the conventions: the message is the status description.
                    attributes.push(KeyValue::new("error.type", "tool_error"));
                }
                plans.push(SpanPlan {
                    parent,
                    role: SpanRole::Tool,
                    name: format!("execute_tool {name}"),
                    start: at,
                    end,
                    attributes,
                    events: Vec::new(),
                    error: error.clone(),
                });
            }
            Step::Agent { name, steps, .. } => {
                let index = plans.len();
                plans.push(SpanPlan {
                    parent,
                    role: SpanRole::Agent,
                    name: format!("invoke_agent {name}"),
                    start: at,
                    end,
                    attributes: vec![
                        KeyValue::new("gen_ai.operation.name", SpanRole::Agent.operation()),
                        KeyValue::new("gen_ai.agent.name", name.clone()),
                    ],
                    events: Vec::new(),
                    error: None,
                });
                // A reported latency shorter than its steps' own does not cut them off.
                end = end.max(plan_steps(steps, at, index, plans));
                plans[index].end = end;
            }
            Step::Escalation { reason } => plans[parent].events.push(EventPlan {
                name: "gauntlet.escalation",
                at,
                attributes: vec![KeyValue::new("gauntlet.escalation.reason", reason.clone())],
            }),
            // The user's turns are the agent span's `gen_ai.input.messages`.
            Step::User { .. } => {}
        }
        at = end;
    }
    at
}

/// The step's place in the layout: its wall time when known, at least `TICK`; a sub-agent
/// without one takes what its own steps take; a user turn and an escalation are no span and
/// take none.
fn step_span(step: &Step) -> Duration {
    match step {
        Step::Model { latency_ms, .. } | Step::Tool { latency_ms, .. } => {
            Duration::from_millis(latency_ms.unwrap_or(0)).max(TICK)
        }
        Step::Agent {
            latency_ms, steps, ..
        } => match latency_ms {
            Some(ms) => Duration::from_millis(*ms),
            None => steps
                .iter()
                .map(step_span)
                .fold(Duration::ZERO, Duration::saturating_add),
        }
        .max(TICK),
        Step::User { .. } | Step::Escalation { .. } => Duration::ZERO,
    }
}

/// OpenTelemetry integers are `i64`: a count past it is shown as the largest one.
fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn agent_attributes(origin: &RunOrigin, result: &RunResult) -> Vec<KeyValue> {
    let mut a = vec![
        KeyValue::new("gen_ai.operation.name", SpanRole::Agent.operation()),
        KeyValue::new("gen_ai.agent.name", origin.suite.clone()),
        KeyValue::new("gauntlet.suite", origin.suite.clone()),
        KeyValue::new("gauntlet.target", origin.target.clone()),
        KeyValue::new("gauntlet.case.id", result.id.clone()),
        KeyValue::new("gauntlet.repeat", i64::from(result.repeat)),
        KeyValue::new("gauntlet.status", result.status.as_str()),
        KeyValue::new("gauntlet.end", end_reason(result)),
        KeyValue::new(
            "gen_ai.usage.input_tokens",
            clamp(result.usage.input_tokens),
        ),
        KeyValue::new(
            "gen_ai.usage.output_tokens",
            clamp(result.usage.output_tokens),
        ),
        KeyValue::new("gen_ai.input.messages", input_messages(result)),
        KeyValue::new(
            "gen_ai.output.messages",
            output_messages(Some(&result.output), &[]),
        ),
    ];
    if let Some(score) = result.score {
        a.push(KeyValue::new("gauntlet.score", score));
    }
    if let Some(cost) = result.cost_usd {
        a.push(KeyValue::new("gauntlet.cost_usd", cost));
    }
    if !result.tags.is_empty() {
        let tags = result.tags.iter().cloned().map(StringValue::from).collect();
        a.push(KeyValue::new(
            "gauntlet.tags",
            Value::Array(Array::String(tags)),
        ));
    }
    if let Some(error) = &result.error {
        a.push(KeyValue::new("gauntlet.error", error.clone()));
    }
    a
}

/// `completed`, `escalated`, ... as in `report.json`.
fn end_reason(result: &RunResult) -> String {
    serde_json::to_value(result.end)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The user's turns, as the conventions' JSON message list.
fn input_messages(result: &RunResult) -> String {
    let turns: Vec<_> = result
        .trajectory
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::User { content } => Some(json!({
                "role": "user",
                "parts": [{"type": "text", "content": content}],
            })),
            _ => None,
        })
        .collect();
    serde_json::Value::Array(turns).to_string()
}

/// What the model answered — its text and tool calls — as the conventions' JSON message list.
fn output_messages(content: Option<&str>, tool_calls: &[ToolCall]) -> String {
    let mut parts: Vec<_> = content
        .filter(|c| !c.is_empty())
        .map(|c| json!({"type": "text", "content": c}))
        .into_iter()
        .collect();
    parts.extend(
        tool_calls
            .iter()
            .map(|c| json!({"type": "tool_call", "id": c.id, "name": c.name, "arguments": c.args})),
    );
    json!([{"role": "assistant", "parts": parts}]).to_string()
}

/// A verdict as the attributes of the conventions' `gen_ai.evaluation.result` event.
fn evaluation_attributes(verdict: &Verdict) -> Vec<KeyValue> {
    let mut a = vec![
        KeyValue::new("gen_ai.evaluation.name", verdict.check.clone()),
        KeyValue::new("gen_ai.evaluation.score.label", verdict.outcome.as_str()),
        KeyValue::new("gen_ai.evaluation.explanation", verdict.reason.clone()),
    ];
    if let Some(score) = verdict.score {
        a.push(KeyValue::new("gen_ai.evaluation.score.value", score));
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::run_result::run_result;
    use crate::trajectory::{Trajectory, Usage};

    fn attr<'p>(plan: &'p SpanPlan, key: &str) -> Option<&'p Value> {
        plan.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| &kv.value)
    }

    fn verdict(check: &str, outcome: Outcome, score: Option<f64>) -> Verdict {
        Verdict {
            check: check.into(),
            outcome,
            score,
            weight: 1.0,
            reason: format!("why {check}"),
        }
    }

    fn sample() -> RunResult {
        let trajectory = Trajectory {
            steps: vec![
                Step::User {
                    content: "where is order 7?".into(),
                },
                Step::Model {
                    content: None,
                    tool_calls: vec![ToolCall {
                        id: "c1".into(),
                        name: "lookup_order".into(),
                        args: json!({"order_id": "7"}),
                    }],
                    usage: Usage {
                        input_tokens: 50,
                        output_tokens: 10,
                    },
                    model: "gpt-4o-mini".into(),
                    latency_ms: Some(300),
                    cost_usd: Some(0.5),
                    agent: None,
                    started_at: None,
                    metadata: Default::default(),
                },
                Step::Tool {
                    id: "c1".into(),
                    name: "lookup_order".into(),
                    args: json!({"order_id": "7"}),
                    result: None,
                    error: Some("no such order".into()),
                    latency_ms: Some(20),
                    agent: None,
                    started_at: None,
                    metadata: Default::default(),
                },
                Step::Escalation {
                    reason: "gave up".into(),
                },
                Step::Model {
                    content: Some("Sorry.".into()),
                    tool_calls: vec![],
                    usage: Usage::default(),
                    model: String::new(),
                    latency_ms: Some(80),
                    cost_usd: None,
                    agent: None,
                    started_at: None,
                    metadata: Default::default(),
                },
            ],
            output: "Sorry.".into(),
            usage: Usage {
                input_tokens: 50,
                output_tokens: 10,
            },
            ..Default::default()
        };
        let checks = vec![
            verdict("contains", Outcome::Pass, Some(1.0)),
            verdict("judge helpfulness", Outcome::SoftFail, Some(0.6)),
            verdict("judge tone", Outcome::Error, None),
        ];
        run_result("late-order", &["refunds".into()], 2, trajectory, checks)
    }

    fn origin() -> RunOrigin {
        RunOrigin {
            suite: "support".into(),
            target: "harness mock:support".into(),
        }
    }

    #[test]
    fn a_run_is_an_agent_span_with_a_child_per_model_call_tool_call_and_judge() {
        let reported = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let plans = plan_run(&origin(), &sample(), reported);
        let shape: Vec<_> = plans.iter().map(|p| (p.role, p.name.as_str())).collect();
        assert_eq!(
            shape,
            [
                (SpanRole::Agent, "invoke_agent support"),
                (SpanRole::Chat, "chat gpt-4o-mini"),
                (SpanRole::Tool, "execute_tool lookup_order"),
                (SpanRole::Chat, "chat"),
                (SpanRole::Judge, "evaluate helpfulness"),
                (SpanRole::Judge, "evaluate tone"),
            ]
        );
        for p in &plans {
            assert_eq!(
                attr(p, "gen_ai.operation.name").map(|v| v.as_str().into_owned()),
                Some(p.role.operation().to_string())
            );
        }
        // Laid back to back from the latencies, then the judges a tick each, ending when the
        // run was reported (µs after 999 s).
        let us = |t: SystemTime| {
            t.duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_micros()
                - 999_000_000
        };
        let times: Vec<_> = plans.iter().map(|p| (us(p.start), us(p.end))).collect();
        assert_eq!(
            times,
            [
                (599_998, 1_000_000),
                (599_998, 899_998),
                (899_998, 919_998),
                (919_998, 999_998),
                (999_998, 999_999),
                (999_999, 1_000_000),
            ]
        );
    }

    #[test]
    fn attributes_carry_the_case_the_usage_the_tool_and_the_verdicts() {
        let plans = plan_run(&origin(), &sample(), SystemTime::now());
        let agent = &plans[0];
        assert_eq!(
            attr(agent, "gauntlet.case.id"),
            Some(&Value::from("late-order"))
        );
        assert_eq!(attr(agent, "gauntlet.repeat"), Some(&Value::I64(2)));
        // A judge that could not judge errors the case, not the agent's span.
        assert_eq!(
            attr(agent, "gauntlet.status"),
            Some(&Value::from("errored"))
        );
        assert_eq!(
            attr(agent, "gen_ai.agent.name"),
            Some(&Value::from("support"))
        );
        assert_eq!(
            attr(agent, "gen_ai.usage.input_tokens"),
            Some(&Value::I64(50))
        );
        assert!(attr(agent, "gauntlet.score").is_some());
        assert_eq!(agent.error, None, "the agent ran fine");
        let events: Vec<_> = agent.events.iter().map(|e| e.name).collect();
        assert_eq!(events, ["gauntlet.escalation", "gen_ai.evaluation.result"]);
        let input = attr(agent, "gen_ai.input.messages").unwrap().as_str();
        assert!(input.contains("where is order 7?"), "{input}");

        let chat = &plans[1];
        assert_eq!(
            attr(chat, "gen_ai.request.model"),
            Some(&Value::from("gpt-4o-mini"))
        );
        assert_eq!(
            attr(chat, "gen_ai.usage.output_tokens"),
            Some(&Value::I64(10))
        );
        assert_eq!(attr(chat, "gauntlet.cost_usd"), Some(&Value::F64(0.5)));
        let out = attr(chat, "gen_ai.output.messages").unwrap().as_str();
        assert!(out.contains(r#""name":"lookup_order""#), "{out}");
        assert_eq!(
            attr(&plans[3], "gen_ai.request.model"),
            None,
            "unknown model"
        );

        let tool = &plans[2];
        assert_eq!(
            attr(tool, "gen_ai.tool.name"),
            Some(&Value::from("lookup_order"))
        );
        assert_eq!(attr(tool, "gen_ai.tool.call.id"), Some(&Value::from("c1")));
        assert_eq!(
            attr(tool, "gen_ai.tool.call.arguments"),
            Some(&Value::from(r#"{"order_id":"7"}"#))
        );
        assert_eq!(tool.error.as_deref(), Some("no such order"));
        assert_eq!(attr(tool, "error.type"), Some(&Value::from("tool_error")));

        let judge = &plans[4];
        assert_eq!(
            attr(judge, "gauntlet.judge"),
            Some(&Value::from("helpfulness"))
        );
        assert_eq!(
            attr(judge, "gen_ai.evaluation.score.value"),
            Some(&Value::F64(0.6))
        );
        assert_eq!(
            attr(judge, "gen_ai.evaluation.score.label"),
            Some(&Value::from("soft_fail"))
        );
        assert_eq!(judge.error, None);
        assert_eq!(
            plans[5].error.as_deref(),
            Some("why judge tone"),
            "could not judge"
        );
    }

    #[test]
    fn an_errored_run_is_an_error_span() {
        let r = run_result("c", &[], 0, Trajectory::errored("timed out"), vec![]);
        let plans = plan_run(&origin(), &r, SystemTime::now());
        assert_eq!(plans.len(), 1);
        assert_eq!(plans[0].error.as_deref(), Some("timed out"));
        assert_eq!(plans[0].start, plans[0].end, "nothing ran");
    }

    #[test]
    fn a_sub_agent_is_an_invoke_agent_span_holding_its_own_steps() {
        let tool = |name: &str| Step::Tool {
            id: String::new(),
            name: name.into(),
            args: json!({}),
            result: Some(json!("ok")),
            error: None,
            latency_ms: Some(5),
            agent: None,
            started_at: None,
            metadata: Default::default(),
        };
        let t = Trajectory {
            steps: vec![
                tool("triage"),
                Step::Agent {
                    name: "billing".into(),
                    steps: vec![tool("refund"), tool("notify")],
                    started_at: None,
                    // Shorter than its steps: they are not cut off.
                    latency_ms: Some(1),
                    metadata: Default::default(),
                },
                tool("close"),
            ],
            ..Default::default()
        };
        let r = run_result("c", &[], 0, t, vec![]);
        let plans = plan_run(&origin(), &r, SystemTime::now());
        let shape: Vec<(&str, usize)> = plans.iter().map(|p| (p.name.as_str(), p.parent)).collect();
        assert_eq!(
            shape,
            [
                ("invoke_agent support", 0),
                ("execute_tool triage", 0),
                ("invoke_agent billing", 0),
                ("execute_tool refund", 2),
                ("execute_tool notify", 2),
                ("execute_tool close", 0),
            ]
        );
        assert!(
            plans[2].end >= plans[4].end,
            "the sub-agent spans its steps"
        );
        assert!(
            plans[5].start >= plans[2].end,
            "the next step starts after it"
        );
    }

    #[test]
    fn steps_of_no_latency_still_start_one_after_the_other() {
        let step = Step::Tool {
            id: String::new(),
            name: "t".into(),
            args: json!({}),
            result: None,
            error: None,
            latency_ms: Some(0),
            agent: None,
            started_at: None,
            metadata: Default::default(),
        };
        let t = Trajectory {
            steps: vec![step.clone(), step],
            ..Default::default()
        };
        let r = run_result("c", &[], 0, t, vec![]);
        let plans = plan_run(&origin(), &r, SystemTime::now());
        assert!(plans[1].start < plans[1].end);
        assert_eq!(plans[1].end, plans[2].start);
        assert_eq!(plans[2].end, plans[0].end);
        assert_eq!(plans[0].start, plans[1].start);
    }
}
