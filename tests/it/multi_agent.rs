//! The multi-agent demo, end to end: `gauntlet eval suites/support_multi.yaml` on the mock
//! models of its triage, billing and kb agents.

use serde_json::Value;

use crate::support::{case, eval_into, read, stderr, stdout};

const SUITE: &str = "suites/support_multi.yaml";

#[test]
fn the_multi_agent_demo_passes_its_gate_with_the_wrong_agent_caught() {
    let (o, out) = eval_into(SUITE, &["-j", "4"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        stdout(&o),
        stderr(&o)
    );
    let dir = out.path().join("support_multi");
    let report = read(dir.join("report.json"));
    let r: Value = serde_json::from_str(&report).unwrap();
    for id in [
        "refund-via-billing",
        "policy-questions-fan-out",
        "runaway-delegation",
    ] {
        assert_eq!(case(&r, id)["status"], "passed", "{}", case(&r, id));
    }
    assert_eq!(
        case(&r, "refund-via-billing")["tools"],
        serde_json::json!([
            "triage/transfer_to_billing",
            "billing/lookup_order",
            "billing/issue_refund"
        ]),
        "the tool sequence names each call's agent, for the baseline diff"
    );
    let wrong = case(&r, "wrong-agent-refund");
    assert_eq!(wrong["status"], "failed");
    assert!(
        wrong
            .to_string()
            .contains("`issue_refund` was called by `triage` once"),
        "{wrong}"
    );

    // The tree: handoff siblings, the fan-out's two kb runs in call order, the runaway's
    // partial tree ending escalated.
    let lines: Vec<Value> = read(dir.join("trajectories.jsonl"))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let traj = |id: &str| {
        lines
            .iter()
            .find(|l| l["id"] == id)
            .map(|l| l["trajectory"].clone())
            .unwrap()
    };
    let refund = traj("refund-via-billing");
    let agents: Vec<&str> = refund["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["type"] == "agent")
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(agents, ["triage", "billing"]);
    let fan = traj("policy-questions-fan-out");
    let tasks: Vec<&str> = fan["steps"][1]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["type"] == "agent")
        .map(|s| s["steps"][0]["content"].as_str().unwrap())
        .collect();
    assert_eq!(tasks, ["return policy", "shipping times"], "call order");
    assert!(
        fan["usage"]["input_tokens"].as_u64().unwrap()
            > fan["steps"][1]["steps"][0]["usage"]["input_tokens"]
                .as_u64()
                .unwrap(),
        "sub-agents' usage rolls into the case"
    );
    let runaway = traj("runaway-delegation");
    assert_eq!(runaway["end"], "escalated");
    assert!(runaway["error"].as_str().unwrap().contains("max_calls = 4"));

    // The same report at any concurrency.
    let (o1, out1) = eval_into(SUITE, &["-j", "1"]);
    assert_eq!(o1.status.code(), Some(0), "{}", stderr(&o1));
    assert_eq!(
        read(out1.path().join("support_multi/report.json")),
        report,
        "report.json differs between -j 1 and -j 4"
    );
}

/// A team's problems are load errors (exit 2) placed at the node they are about.
#[test]
fn team_problems_are_located_load_errors() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("team.yaml");
    std::fs::write(
        &suite,
        "name: team\ndataset: cases.jsonl\ntarget:\n  harness:\n    model: mock:triage\n    tools: [lookup_order]\n    team:\n      entry: triage\n      agents:\n        triage: {handoffs: [biling], tools: [issue_refund]}\n        billing: {}\nchecks:\n  - tool_called: transfer_to_billing\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("cases.jsonl"),
        "{\"id\": \"a\", \"input\": \"hi\"}\n",
    )
    .unwrap();
    let o = crate::support::gauntlet(&["eval", suite.to_str().unwrap(), "--dry-run"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("team.yaml:10:")
            && err.contains("agent `triage`: no agent `biling` in `team.agents`"),
        "{err}"
    );
    assert!(
        err.contains(
            "agent `triage`: tool `issue_refund` is not one of the harness's tools (lookup_order)"
        ),
        "{err}"
    );
}

/// Agent names in checks are checked against the team at load: a typo is an exit 2 with a
/// suggestion, placed at its check, in every check kind that names an agent.
#[test]
fn checks_naming_an_agent_not_in_the_team_are_load_errors() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("team.yaml");
    std::fs::write(
        &suite,
        "name: team\ndataset: cases.jsonl\ntarget:\n  harness:\n    model: mock:triage\n    tools: [issue_refund]\n    team:\n      entry: triage\n      agents:\n        triage: {handoffs: [billing]}\n        billing: {tools: [issue_refund]}\nchecks:\n  - tool_called: {name: issue_refund, agent: biling}\n  - max_tokens: {max: 100, agent: trige}\n  - agent_called: {name: billing, by: nobody}\n  - handoff: {from: triage, to: billing}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("cases.jsonl"),
        "{\"id\": \"a\", \"input\": \"hi\"}\n",
    )
    .unwrap();
    let o = crate::support::gauntlet(&["validate", suite.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("team.yaml:13:")
            && err.contains("unknown agent `biling` (hint: did you mean `billing`?)"),
        "{err}"
    );
    assert!(
        err.contains("unknown agent `trige` (hint: did you mean `triage`?)"),
        "{err}"
    );
    assert!(err.contains("unknown agent `nobody`"), "{err}");
    // The handoff names real agents: no complaint about it.
    assert_eq!(err.matches("unknown agent").count(), 3, "{err}");
}
