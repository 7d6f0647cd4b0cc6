//! Generated inputs the benches share: a support-like dataset of N cases, a suite exercising
//! every deterministic check kind, and trajectories to score. Included with `#[path]`.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{json, Value};

use gauntlet::trajectory::{EndReason, Step, ToolCall, Trajectory, Usage};

/// `full` under `cargo bench`; a hundredth of it when `cargo test --all-targets` runs each bench
/// once to see that it works (a debug build loading 100,000 cases would only slow the tests).
pub fn size(full: usize) -> usize {
    if std::env::args().any(|a| a == "--bench") {
        full
    } else {
        (full / 100).max(1)
    }
}

/// `n` cases like datasets/support/cases.jsonl: input, tags, a reference, two or three checks.
pub fn support_jsonl(n: usize) -> String {
    let mut out = String::with_capacity(n * 400);
    for i in 0..n {
        let order = 1000 + i % 10;
        let case = json!({
            "id": format!("order-status-{i:06}"),
            "input": format!("Where is my order {order}? It has been a week."),
            "tags": ["orders", if i % 3 == 0 { "vip" } else { "standard" }],
            "vars": {"customer_name": "Ada"},
            "expected": {"reference": "Say it shipped with UPS and give the tracking number."},
            "checks": [
                {"tool_called": {"name": "lookup_order", "args": {"order_id": order.to_string()}}},
                {"contains": {"any": ["1Z999AA10123456784", "UPS"], "ignore_case": true}},
                {"regex": "2026-03-2\\d"},
            ],
        });
        writeln!(out, "{case}").expect("writing to a String");
    }
    out
}

/// The checks of the scoring bench: every deterministic kind, with a schema, a regex, a
/// trajectory against `expected.tools`, end states and an expression.
const CHECKED_CASE_CHECKS: &str = r#"[
  {"contains": {"any": ["refunded"], "ignore_case": true}},
  {"not_contains": {"value": "as an AI"}},
  {"regex": "\\b\\d+\\.\\d{2}\\b"},
  {"json_valid": true},
  {"json_schema": {"type": "object", "required": ["answer", "status"],
    "properties": {"answer": {"type": "string"}, "status": {"enum": ["refunded", "open"]}}}},
  {"tool_called": {"name": "issue_refund", "args": {"order_id": "1042"}, "after": "lookup_order"}},
  {"tool_not_called": "escalate_to_human"},
  {"trajectory": {"mode": "in_order", "expected": "expected.tools"}},
  {"end_state": "expected.state"},
  {"end_state": [{"path": "orders.1042.status", "equals": "refunded"}, {"path": "tickets.9", "exists": false}]},
  {"expr": "state.orders['1042'].status == 'refunded' and output | length < 400"},
  {"max_steps": 8}
]"#;

/// Writes `suite.yaml` and `cases.jsonl` (n cases with every deterministic check) into `dir`.
/// The target is a command (`true`, never started): scoring does not run the agent.
pub fn write_checked_suite(dir: &Path, n: usize) -> std::path::PathBuf {
    let checks: Value = serde_json::from_str(CHECKED_CASE_CHECKS).expect("static JSON");
    let mut jsonl = String::new();
    for i in 0..n {
        let case = json!({
            "id": format!("refund-{i:06}"),
            "input": "Please refund order 1042, it arrived broken.",
            "tags": ["refunds"],
            "expected": {
                "tools": [
                    {"name": "lookup_order", "args": {"order_id": "1042"}},
                    {"name": "issue_refund", "args": {"order_id": "1042"}}
                ],
                "state": {"orders": {"1042": {"status": "refunded"}}}
            },
            "checks": checks,
        });
        writeln!(jsonl, "{case}").expect("writing to a String");
    }
    std::fs::write(dir.join("cases.jsonl"), jsonl).expect("write dataset");
    let suite = "name: bench\ndataset: cases.jsonl\ntarget:\n  command: {argv: [\"true\"]}\n\
                 checks:\n  - not_contains: {value: \"as an AI\"}\n  - max_steps: 8\n\
                 gate: {min_pass_rate: 0.9}\n";
    let path = dir.join("suite.yaml");
    std::fs::write(&path, suite).expect("write suite");
    path
}

/// A refund conversation: lookup, refund, JSON answer; the world holds 20 orders.
pub fn refund_trajectory(i: usize) -> Trajectory {
    let mut orders = serde_json::Map::new();
    for k in 0..20 {
        let id = (1030 + k).to_string();
        let status = if id == "1042" {
            "refunded"
        } else {
            "delivered"
        };
        orders.insert(
            id.clone(),
            json!({"status": status, "total": 30.0 + k as f64, "items": ["cable", "charger"],
                   "customer": {"name": "Ada", "email": "ada@example.com"}}),
        );
    }
    let usage = Usage {
        input_tokens: 400,
        output_tokens: 20,
    };
    let call = |id: &str, name: &str| ToolCall {
        id: id.into(),
        name: name.into(),
        args: json!({"order_id": "1042"}),
    };
    let model = |content: Option<&str>, calls: Vec<ToolCall>| Step::Model {
        content: content.map(String::from),
        tool_calls: calls,
        usage,
        model: "mock:support".into(),
        latency_ms: 1,
        cost_usd: None,
    };
    let tool = |id: &str, name: &str, result: Value| Step::Tool {
        id: id.into(),
        name: name.into(),
        args: json!({"order_id": "1042"}),
        result: Some(result),
        error: None,
        latency_ms: 0,
    };
    let output = json!({"answer": format!("Refunded 30.00 for order 1042 (ticket {i})."), "status": "refunded"})
        .to_string();
    Trajectory {
        steps: vec![
            Step::User {
                content: "Please refund order 1042, it arrived broken.".into(),
            },
            model(None, vec![call("call_1", "lookup_order")]),
            tool(
                "call_1",
                "lookup_order",
                json!({"status": "delivered", "total": 30.0}),
            ),
            model(None, vec![call("call_2", "issue_refund")]),
            tool(
                "call_2",
                "issue_refund",
                json!({"refund_id": "R-1", "amount": 30.0}),
            ),
            model(Some(&output), Vec::new()),
        ],
        output,
        end: EndReason::Completed,
        error: None,
        usage: Usage {
            input_tokens: 1200,
            output_tokens: 60,
        },
        cost_usd: None,
        state: Some(
            json!({"orders": orders, "tickets": [], "refunds": [{"order_id": "1042", "amount": 30.0}]}),
        ),
    }
}
