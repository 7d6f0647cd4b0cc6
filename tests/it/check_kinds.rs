//! The check kinds added as families (`json_path`, `max_cost_usd`, `max_latency_ms`,
//! `not_escalated`) through the binary, on the mock model (`tests/fixtures/checks/`).

use serde_json::Value;

use crate::support::{eval_into, read, stderr, stdout};

/// (outcome, reason) of the check named `check` in case `id`.
fn verdict(report: &Value, id: &str, check: &str) -> (String, String) {
    let case = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("case {id} in the report"));
    let v = case["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["check"] == check)
        .unwrap_or_else(|| panic!("check {check} in case {id}: {case}"));
    (
        v["outcome"].as_str().unwrap().to_string(),
        v["reason"].as_str().unwrap().to_string(),
    )
}

#[test]
fn new_check_kinds_pass_and_fail_on_the_mock_model() {
    let (o, out) = eval_into("tests/fixtures/checks/new_kinds.yaml", &[]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "failing cases fail the gate\nstdout:\n{}\nstderr:\n{}",
        stdout(&o),
        stderr(&o)
    );
    let r: Value = serde_json::from_str(&read(out.path().join("new_kinds/report.json"))).unwrap();
    let table = [
        (
            "a-json-passes",
            "json_path $.order.status = \"refunded\"",
            "pass",
            "equals \"refunded\"",
        ),
        (
            "a-json-passes",
            "json_path $.order.items[0].qty = 2",
            "pass",
            "equals 2",
        ),
        (
            "a-json-passes",
            "json_path $.order.refund absent",
            "pass",
            "is absent",
        ),
        (
            "a-json-passes",
            "max_cost_usd 10",
            "pass",
            "cost within $10",
        ),
        (
            "a-json-passes",
            "max_latency_ms 60000",
            "pass",
            "latency within 60000 ms",
        ),
        ("a-json-passes", "not escalated", "pass", "did not escalate"),
        (
            "b-json-differs",
            "json_path $.order.status = \"open\"",
            "fail",
            "expected \"open\", found \"refunded\"",
        ),
        (
            "c-escalates",
            "not escalated",
            "fail",
            "expected no escalation",
        ),
        ("c-escalates", "json_path $.handed_over", "pass", "is true"),
        ("d-slow", "max_latency_ms 100", "fail", "(max 100)"),
        (
            "e-expensive",
            "max_cost_usd 0.000000001",
            "fail",
            "(max $0.000000001)",
        ),
    ];
    for (id, check, outcome, reason) in table {
        let (got, why) = verdict(&r, id, check);
        assert_eq!(got, outcome, "{id} / {check}: {why}");
        assert!(why.contains(reason), "{id} / {check}: {why}");
    }
    let status = |id: &str| {
        r["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status("a-json-passes"), "passed");
    for id in ["b-json-differs", "c-escalates", "d-slow", "e-expensive"] {
        assert_eq!(status(id), "failed", "{id}");
    }
}

#[test]
fn a_misspelt_new_kind_gets_a_did_you_mean() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cases.yaml"),
        "- id: a\n  input: hi\n  checks:\n    - max_latency: 5\n",
    )
    .unwrap();
    let suite = dir.path().join("s.yaml");
    std::fs::write(
        &suite,
        "name: s\ndataset: cases.yaml\ntarget:\n  harness:\n    model: mock:x\n",
    )
    .unwrap();
    let o = crate::support::gauntlet(&["validate", suite.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("unknown field `max_latency`")
            && stderr(&o).contains("did you mean `max_latency_ms`?"),
        "{}",
        stderr(&o)
    );
}

/// An external agent's nested `agent` steps (replayed): the agent-scoped tool, trajectory and
/// limit checks, `agent_called`, `handoff` and `expr`'s `agents`, each passing on the run where
/// billing refunds after triage's handoff and failing where triage refunds itself.
#[test]
fn agent_aware_checks_score_an_external_agents_nested_steps() {
    let (o, out) = eval_into("tests/fixtures/checks/multi/multi_agent.yaml", &[]);
    assert_eq!(o.status.code(), Some(1), "stderr:\n{}", stderr(&o));
    let r: Value = serde_json::from_str(&read(out.path().join("multi_agent/report.json"))).unwrap();
    let right = r["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "right")
        .unwrap();
    assert_eq!(right["status"], "passed", "{right}");
    let table = [
        (
            "tool_called issue_refund by billing",
            "fail",
            "found 0 times (called by `triage` instead)",
        ),
        (
            "tool_not_called issue_refund by triage",
            "fail",
            "was called by `triage` once",
        ),
        ("tool_called lookup_order", "pass", "called once"),
        (
            "agent_called kb by triage",
            "fail",
            "found 0 times; agents: triage",
        ),
        ("handoff triage → billing", "fail", "no handoff happened"),
        (
            "trajectory strict by triage",
            "fail",
            "found by `triage` [lookup_order, issue_refund]",
        ),
        (
            "max_tokens 20 by triage",
            "fail",
            "`triage`: 39 tokens (max 20)",
        ),
        ("max_steps 4", "pass", "2 model calls"),
    ];
    for (check, outcome, reason) in table {
        let (o, why) = verdict(&r, "wrong", check);
        assert_eq!(o, outcome, "{check}: {why}");
        assert!(why.contains(reason), "{check}: {why}");
    }
    let (o, why) = verdict(&r, "right", "handoff triage → billing");
    assert_eq!(
        (o.as_str(), why.as_str()),
        ("pass", "`triage` handed off to `billing`")
    );
    let (o, _) = verdict(&r, "right", "max_tokens 20 by triage");
    assert_eq!(o, "pass", "kb's tokens are not triage's own");
}
