//! `sample_report`: the `RunReport` every renderer's tests share, built from runs by the real
//! results stage (`run_result`, `reduce`, `Scored`, `build_report`), as `eval` builds it.
//!
//! Five cases cover each status a report must show (passed, soft_failed, failed, errored by a
//! check, errored by the agent), with tags, verdicts, usage, tools, unrounded scores, text that
//! needs escaping, and trajectories with model, tool, user and escalation steps.

use serde_json::json;

use std::collections::BTreeMap;

use crate::gate::{Gate, Policy};
use crate::results::build::{build_report, ReportHeader, Scored};
use crate::results::repeats::reduce;
use crate::results::run_report::RunReport;
use crate::results::run_result::{run_result, RunResult};
use crate::trajectory::{EndReason, Step, ToolCall, Trajectory, Usage};
use crate::verdict::{Outcome, Verdict};

fn verdict(check: &str, outcome: Outcome, score: Option<f64>, reason: &str) -> Verdict {
    Verdict {
        check: check.into(),
        outcome,
        score,
        weight: 1.0,
        reason: reason.into(),
    }
}

fn usage(input_tokens: u64, output_tokens: u64) -> Usage {
    Usage {
        input_tokens,
        output_tokens,
    }
}

fn model(content: Option<&str>, calls: &[(&str, &str, serde_json::Value)], u: Usage) -> Step {
    Step::Model {
        content: content.map(String::from),
        tool_calls: calls
            .iter()
            .map(|(id, name, args)| ToolCall {
                id: id.to_string(),
                name: name.to_string(),
                args: args.clone(),
            })
            .collect(),
        usage: u,
        model: "mock:support".into(),
        latency_ms: Some(12),
        agent: None,
        started_at: None,
        metadata: Default::default(),
        cost_usd: None,
    }
}

fn tool(id: &str, name: &str, args: serde_json::Value, result: serde_json::Value) -> Step {
    Step::Tool {
        id: id.into(),
        name: name.into(),
        args,
        result: Some(result),
        error: None,
        latency_ms: Some(3),
        agent: None,
        started_at: None,
        metadata: Default::default(),
    }
}

fn user(content: &str) -> Step {
    Step::User {
        content: content.into(),
    }
}

/// The run of a case with these tags, scored by the real code.
fn case(id: &str, tags: &[&str], checks: Vec<Verdict>, trajectory: Trajectory) -> RunResult {
    let tags: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
    run_result(id, &tags, 0, trajectory, checks)
}

fn order_status() -> RunResult {
    let answer = "Order 1042 shipped yesterday and arrives Friday.";
    let trajectory = Trajectory {
        steps: vec![
            user("Where is my order 1042?"),
            model(
                None,
                &[("call_1", "lookup_order", json!({"order_id": "1042"}))],
                usage(410, 22),
            ),
            tool(
                "call_1",
                "lookup_order",
                json!({"order_id": "1042"}),
                json!({"status": "shipped", "eta": "friday"}),
            ),
            model(Some(answer), &[], usage(480, 31)),
        ],
        output: answer.into(),
        end: EndReason::Completed,
        error: None,
        usage: usage(890, 53),
        cost_usd: None,
        state: None,
    };
    let checks = vec![
        verdict(
            "contains \"1042\"",
            Outcome::Pass,
            Some(1.0),
            "found \"1042\"",
        ),
        verdict(
            "tool_called lookup_order",
            Outcome::Pass,
            Some(1.0),
            "lookup_order called 1 time",
        ),
        verdict(
            "judge helpfulness",
            Outcome::Pass,
            Some(0.8333333),
            "answers the question with the delivery date",
        ),
    ];
    case("order-status", &["orders"], checks, trajectory)
}

fn refund_late() -> RunResult {
    let answer = "I have refunded order 1042.";
    let trajectory = Trajectory {
        steps: vec![
            user("Order 1042 arrived broken two months ago. Refund please."),
            model(
                None,
                &[("call_1", "lookup_order", json!({"order_id": "1042"}))],
                usage(400, 20),
            ),
            tool(
                "call_1",
                "lookup_order",
                json!({"order_id": "1042"}),
                json!({"status": "delivered", "delivered_days_ago": 61}),
            ),
            model(
                None,
                &[("call_2", "issue_refund", json!({"order_id": "1042"}))],
                usage(470, 18),
            ),
            tool(
                "call_2",
                "issue_refund",
                json!({"order_id": "1042"}),
                json!({"refund_id": "R-7"}),
            ),
            model(Some(answer), &[], usage(520, 12)),
        ],
        output: answer.into(),
        end: EndReason::Completed,
        error: None,
        usage: usage(1390, 50),
        cost_usd: None,
        state: Some(json!({"orders": {"1042": {"status": "refunded"}}}).into()),
    };
    let checks = vec![
        verdict(
            "tool_not_called issue_refund",
            Outcome::Fail,
            Some(0.0),
            "issue_refund was called 1 time",
        ),
        verdict(
            "trajectory in_order",
            Outcome::Pass,
            Some(1.0),
            "all 1 expected calls made in order (precision 0.5, recall 1)",
        ),
        verdict(
            "judge helpfulness",
            Outcome::SoftFail,
            Some(0.55),
            "polite, but ignores the 30-day policy",
        ),
    ];
    case(
        "refund-late",
        &["refund-policy", "refunds"],
        checks,
        trajectory,
    )
}

fn angry_customer() -> RunResult {
    let answer = "I'm sorry. I've passed this to a colleague who will call you.";
    let trajectory = Trajectory {
        steps: vec![
            user("This is the THIRD time I'm asking!!"),
            model(
                Some("I'm sorry to hear that. Which order is it?"),
                &[],
                usage(300, 15),
            ),
            user("1042. Get me a human | now."),
            model(
                None,
                &[(
                    "call_1",
                    "escalate_to_human",
                    json!({"reason": "customer asked for a human"}),
                )],
                usage(350, 25),
            ),
            tool(
                "call_1",
                "escalate_to_human",
                json!({"reason": "customer asked for a human"}),
                json!({"ticket": "T-9"}),
            ),
            Step::Escalation {
                reason: "customer asked for a human".into(),
            },
        ],
        output: answer.into(),
        end: EndReason::Escalated,
        error: Some("customer asked for a human".into()),
        usage: usage(650, 40),
        cost_usd: None,
        state: None,
    };
    let checks = vec![
        verdict(
            "escalated",
            Outcome::Pass,
            Some(1.0),
            "escalated to a human",
        ),
        verdict(
            "judge empathy",
            Outcome::SoftFail,
            Some(0.6),
            "apologises | but\nrepeats the question",
        ),
    ];
    case("angry-customer", &["tone"], checks, trajectory)
}

fn kb_shipping() -> RunResult {
    let answer = "Standard shipping takes 3-5 business days.";
    let trajectory = Trajectory {
        steps: vec![
            user("How long does shipping take?"),
            model(
                None,
                &[("call_1", "search_kb", json!({"query": "shipping time"}))],
                usage(380, 19),
            ),
            tool(
                "call_1",
                "search_kb",
                json!({"query": "shipping time"}),
                json!([{"title": "Shipping", "body": "3-5 business days"}]),
            ),
            model(Some(answer), &[], usage(420, 14)),
        ],
        output: answer.into(),
        end: EndReason::Completed,
        error: None,
        usage: usage(800, 33),
        cost_usd: None,
        state: None,
    };
    let checks = vec![
        verdict(
            "contains \"3-5\"",
            Outcome::Pass,
            Some(1.0),
            "found \"3-5\"",
        ),
        verdict(
            "judge helpfulness",
            Outcome::Error,
            None,
            "judge output unparsable after 2 retries",
        ),
    ];
    case("kb-shipping", &["kb"], checks, trajectory)
}

fn provider_down() -> RunResult {
    let trajectory = Trajectory {
        steps: vec![user("Cancel order 7.")],
        ..Trajectory::errored("provider mock: connection refused <after 3 retries>")
    };
    case("provider-down", &["orders"], vec![], trajectory)
}

/// The fixture's runs, out of id order, as a runner would hand them over.
pub(crate) fn sample_runs() -> Vec<RunResult> {
    vec![
        refund_late(),
        provider_down(),
        order_status(),
        kb_shipping(),
        angry_customer(),
    ]
}

/// Each case's trajectory, by id: what a trajectory source serves for the fixture.
pub(crate) fn sample_trajectories() -> BTreeMap<String, Trajectory> {
    sample_runs()
        .into_iter()
        .map(|r| (r.id, r.trajectory))
        .collect()
}

pub(crate) fn sample_gate() -> Gate {
    Gate {
        min_pass_rate: Some(0.8),
        max_soft_fail_rate: Some(0.25),
        max_error_rate: Some(0.5),
        critical: vec!["refund-policy".into()],
        ..Gate::default()
    }
}

pub(crate) fn sample_header() -> ReportHeader {
    ReportHeader {
        suite: "support".into(),
        description: Some("Customer-support agent — orders, refunds, escalation.".into()),
        target: "harness mock:support".into(),
    }
}

/// The report of `runs` under the fixture's suite: reduced, scored and gated as `eval` does.
pub(crate) fn report_of(runs: Vec<RunResult>) -> RunReport {
    let gate = sample_gate();
    let policy = Policy::Suite {
        gate: &gate,
        uncalibrated: vec![],
    };
    let cases = Scored::new(reduce(runs, &|_| None));
    build_report(sample_header(), policy, cases, None, None)
}

/// The shared fixture, built as the runner would build it.
pub(crate) fn sample_report() -> RunReport {
    report_of(sample_runs())
}
