//! Tests of `evaluate`: one table per check kind, checks written as users write them.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};

use super::*;
use crate::check::parse::{from_raw, CheckEnv};
use crate::check::raw::RawCheck;
use crate::provider::mock_script::RawToolCall;
use crate::suite::model::{Case, Expected};
use crate::trajectory::{Step, ToolCall, Usage};
use crate::verdict::Outcome::*;

fn case() -> Case {
    Case {
        vars: BTreeMap::from([("order".into(), json!("1042"))]),
        expected: Expected {
            reference: Some("We cannot refund after 30 days.".into()),
            output: Some(json!({"ok": true, "n": 2})),
            tools: Some(vec![
                RawToolCall {
                    name: "lookup_order".into(),
                    args: Some(json!({"order_id": "1042"})),
                },
                RawToolCall {
                    name: "create_ticket".into(),
                    args: None,
                },
            ]),
            state: Some(json!({"orders": {"1042": {"status": "refunded"}}})),
        },
        source: "cases.jsonl:1".into(),
        ..Case::new("refund-late", "Refund order 1042")
    }
}

fn bare_case() -> Case {
    Case {
        expected: Expected::default(),
        ..case()
    }
}

fn tool(name: &str, args: Value) -> Step {
    Step::Tool {
        id: String::new(),
        name: name.into(),
        args,
        result: None,
        error: None,
        latency_ms: Some(0),
        agent: None,
        started_at: None,
        metadata: Default::default(),
    }
}

fn model(tokens: u64) -> Step {
    Step::Model {
        content: None,
        tool_calls: Vec::<ToolCall>::new(),
        usage: Usage {
            input_tokens: tokens,
            output_tokens: 0,
        },
        model: "m".into(),
        latency_ms: Some(0),
        agent: None,
        started_at: None,
        metadata: Default::default(),
        cost_usd: None,
    }
}

fn traj(output: &str, steps: Vec<Step>) -> Trajectory {
    let mut usage = Usage::default();
    for s in &steps {
        if let Step::Model { usage: u, .. } = s {
            usage.add(*u);
        }
    }
    Trajectory {
        steps,
        output: output.into(),
        usage,
        ..Default::default()
    }
}

fn spec(yaml: &str) -> CheckSpec {
    let raw: RawCheck = serde_yaml::from_str(yaml).unwrap();
    let judges = BTreeMap::new();
    let env = CheckEnv {
        suite_dir: Path::new("."),
        judges: &judges,
        available_judges: &[],
        tools: None,
        agents: None,
        mcp_named: None,
        cache: &Default::default(),
        limits: Default::default(),
    };
    from_raw(&raw, &env).unwrap_or_else(|e| panic!("{yaml}: {e:?}"))
}

/// Runs a table of (check yaml, trajectory, outcome, text the reason must contain).
fn run_table(c: &Case, table: Vec<(&str, Trajectory, Outcome, &str)>) {
    for (yaml, t, want, reason) in table {
        let v = evaluate(&spec(yaml), c, &t);
        assert_eq!(v.outcome, want, "{yaml} → {v:?}");
        assert!(v.reason.contains(reason), "{yaml}: reason {:?}", v.reason);
        let expect_score = match want {
            Pass => Some(true),
            Fail | SoftFail => Some(false),
            _ => None,
        };
        match expect_score {
            // Trajectory checks pass with partial credit (F1 < 1 when extra calls are allowed).
            Some(true) => assert!(v.score.is_some_and(|s| s > 0.0), "{yaml}"),
            Some(false) => assert!(v.score.is_some_and(|s| s < 1.0), "{yaml}"),
            None => assert_eq!(v.score, None, "{yaml}"),
        }
    }
}

#[test]
fn text_checks() {
    let out = |s: &str| traj(s, vec![]);
    run_table(
        &case(),
        vec![
            ("equals: hello", out("  hello\n"), Pass, ""),
            (
                "equals: hello",
                out("hello there"),
                Fail,
                "found \"hello there\"",
            ),
            (
                "equals: {value: expected.output}",
                out("expected.output"),
                Pass,
                "",
            ),
            (
                "equals: expected.reference",
                out("We cannot refund after 30 days."),
                Pass,
                "",
            ),
            (
                "equals: expected.output",
                out(r#"{"n": 2.0, "ok": true}"#),
                Pass,
                "",
            ),
            (
                "equals: expected.output",
                out(r#"{"n": 3, "ok": true}"#),
                Fail,
                "n: expected 2, found 3",
            ),
            ("equals: expected.output", out("not json"), Fail, "non-JSON"),
            ("equals: [1, 2]", out("[1,2]"), Pass, ""),
            ("contains: refund", out("No refund."), Pass, ""),
            (
                "contains: Refund",
                out("No refund."),
                Fail,
                "missing \"Refund\"",
            ),
            (
                "contains: {value: Refund, ignore_case: true}",
                out("No refund."),
                Pass,
                "",
            ),
            (
                "contains: {all: [a, b]}",
                out("a only"),
                Fail,
                "missing \"b\"",
            ),
            (
                "contains: {any: [x, only]}",
                out("a only"),
                Pass,
                "found \"only\"",
            ),
            (
                "contains: {any: [x, z]}",
                out("a only"),
                Fail,
                "none of \"x\", \"z\"",
            ),
            (
                "not_contains: as an AI",
                out("I am here"),
                Pass,
                "none of \"as an AI\" found",
            ),
            (
                "not_contains: {any: [AI, bot], ignore_case: true}",
                out("As an ai"),
                Fail,
                "found \"AI\"",
            ),
            ("regex: '\\b\\d{4}\\b'", out("order 1042"), Pass, "\"1042\""),
            (
                "regex: {pattern: '^ORDER', ignore_case: true}",
                out("order 1"),
                Pass,
                "",
            ),
            (
                "regex: '^\\d+$'",
                out("order 1042"),
                Fail,
                "no match for /^\\d+$/",
            ),
            ("json_valid: true", out(" {\"a\": 1} "), Pass, ""),
            ("json_valid: true", out("{a: 1}"), Fail, "not JSON"),
            (
                "json_schema: {type: object, required: [id], properties: {id: {type: string}}}",
                out(r#"{"id": "x"}"#),
                Pass,
                "",
            ),
            (
                "json_schema: {type: object, properties: {id: {type: string}}}",
                out(r#"{"id": 7}"#),
                Fail,
                "at /id",
            ),
            ("json_schema: {type: object}", out("nope"), Fail, "not JSON"),
        ],
    );
}

#[test]
fn missing_case_reference_is_skipped() {
    let t = traj("x", vec![tool("a", json!({}))]);
    run_table(
        &bare_case(),
        vec![
            (
                "equals: expected.output",
                t.clone(),
                Skipped,
                "has no `expected.output`",
            ),
            (
                "trajectory: {expected: expected.tools}",
                t.clone(),
                Skipped,
                "expected.tools",
            ),
            ("end_state: expected.state", t, Skipped, "expected.state"),
        ],
    );
}

#[test]
fn tool_checks() {
    let t = traj(
        "",
        vec![
            tool(
                "lookup_order",
                json!({"order_id": "1042", "fields": {"a": 1, "b": 2}}),
            ),
            tool("lookup_order", json!({"order_id": "7"})),
            tool("send_email", json!({"to": "x"})),
        ],
    );
    run_table(
        &case(),
        vec![
            ("tool_called: lookup_order", t.clone(), Pass, "2 times"),
            (
                "tool_called: {name: lookup_order, times: 2}",
                t.clone(),
                Pass,
                "",
            ),
            (
                "tool_called: {name: lookup_order, times: 1}",
                t.clone(),
                Fail,
                "called once, found 2 times",
            ),
            (
                "tool_called: {name: lookup_order, args: {order_id: '7'}, times: 1}",
                t.clone(),
                Pass,
                "",
            ),
            (
                "tool_called: {name: lookup_order, args: {fields: {a: 1}}}",
                t.clone(),
                Pass,
                "",
            ),
            (
                "tool_called: {name: lookup_order, args: {order_id: '9'}}",
                t.clone(),
                Fail,
                "first differs: order_id: expected \"9\", found \"1042\"",
            ),
            (
                "tool_called: issue_refund",
                t.clone(),
                Fail,
                "found 0 times",
            ),
            (
                "tool_called: {name: issue_refund, times: 0}",
                t.clone(),
                Pass,
                "",
            ),
            ("tool_not_called: issue_refund", t.clone(), Pass, ""),
            (
                "tool_not_called: send_email",
                t.clone(),
                Fail,
                "called once (args {\"to\":\"x\"})",
            ),
            (
                "tool_not_called: {name: send_email, args: {to: y}}",
                t,
                Pass,
                "",
            ),
        ],
    );
}

#[test]
fn trajectory_checks() {
    let lookup = tool("lookup_order", json!({"order_id": "1042", "v": 1}));
    let ticket = tool("create_ticket", json!({"p": 1}));
    let email = tool("send_email", json!({}));
    let exact = traj("", vec![lookup.clone(), ticket.clone()]);
    let extra = traj("", vec![lookup.clone(), email.clone(), ticket.clone()]);
    let reordered = traj("", vec![ticket.clone(), lookup.clone()]);
    let twice = traj("", vec![lookup.clone(), lookup.clone(), ticket.clone()]);
    let in_order = "trajectory: {mode: in_order, expected: expected.tools}";
    let strict = "trajectory: {mode: strict, expected: expected.tools}";
    run_table(
        &case(),
        vec![
            (strict, exact.clone(), Pass, "precision 1.00, recall 1.00"),
            (in_order, exact.clone(), Pass, ""),
            (strict, extra.clone(), Fail, "unexpected call 2 send_email"),
            (in_order, extra.clone(), Pass, "precision 0.67, recall 1.00"),
            (in_order, reordered.clone(), Fail, "missing create_ticket"),
            (strict, reordered, Fail, "recall 0.50"),
            (in_order, twice.clone(), Pass, ""),
            (strict, twice, Fail, ""),
            (
                "trajectory: {mode: strict, expected: expected.tools, args: exact}",
                exact.clone(),
                Fail,
                "missing lookup_order",
            ),
            (
                "trajectory: {mode: strict, expected: [lookup_order, create_ticket], args: ignore}",
                exact.clone(),
                Pass,
                "",
            ),
            (
                "trajectory: {expected: [{name: lookup_order, args: {order_id: '1'}}]}",
                exact.clone(),
                Fail,
                "missing lookup_order with args",
            ),
        ],
    );
    // A pass scores 1 and a fail 0, unless the check asks for partial credit (`score: f1`).
    let v = evaluate(&spec(strict), &case(), &extra);
    assert_eq!((v.outcome, v.score), (Fail, Some(0.0)), "{v:?}");
    let v = evaluate(&spec(in_order), &case(), &extra);
    assert_eq!((v.outcome, v.score), (Pass, Some(1.0)), "{v:?}");
    let partial = |yaml: &str| yaml.replacen('{', "{score: f1, ", 1);
    let v = evaluate(&spec(&partial(strict)), &case(), &extra);
    assert!((v.score.unwrap() - 0.8).abs() < 1e-9, "{v:?}");
    let v = evaluate(&spec(&partial(in_order)), &case(), &extra);
    assert_eq!(v.outcome, Pass);
    assert!((v.score.unwrap() - 0.8).abs() < 1e-9, "{v:?}");
    let v = evaluate(&spec(in_order), &case(), &exact);
    assert_eq!(v.score, Some(1.0));
}

#[test]
fn tool_and_trajectory_checks_look_through_nested_agents() {
    let agent = |name: &str, steps: Vec<Step>| Step::Agent {
        name: name.into(),
        steps,
        started_at: None,
        latency_ms: None,
        metadata: Default::default(),
    };
    let lookup = tool("lookup_order", json!({"order_id": "1042", "v": 1}));
    let ticket = tool("create_ticket", json!({"p": 1}));
    // lookup_order inside a sub-agent inside the main agent, create_ticket after it.
    let nested = traj(
        "",
        vec![agent(
            "support",
            vec![agent("orders", vec![model(5), lookup]), ticket, model(5)],
        )],
    );
    run_table(
        &case(),
        vec![
            (
                "trajectory: {mode: strict, expected: expected.tools}",
                nested.clone(),
                Pass,
                "",
            ),
            ("tool_called: lookup_order", nested.clone(), Pass, ""),
            ("tool_not_called: create_ticket", nested.clone(), Fail, ""),
            ("max_steps: 1", nested.clone(), Fail, ""),
            ("max_steps: 2", nested, Pass, ""),
        ],
    );
}

#[test]
fn state_and_budget_checks() {
    let mut refunded = traj("", vec![model(100), model(50)]);
    refunded.state = Some(json!({"orders": {"1042": {"status": "refunded", "total": 3}}}).into());
    let mut delivered = refunded.clone();
    delivered.state = Some(json!({"orders": {"1042": {"status": "delivered"}}}).into());
    let mut escalated = traj(
        "",
        vec![Step::Escalation {
            reason: "customer asked".into(),
        }],
    );
    escalated.end = EndReason::Escalated;
    run_table(
        &case(),
        vec![
            ("end_state: expected.state", refunded.clone(), Pass, ""),
            (
                "end_state: expected.state",
                delivered,
                Fail,
                "orders.1042.status: expected \"refunded\", found \"delivered\"",
            ),
            (
                "end_state: {orders: {'1042': {total: 3.0}}}",
                refunded.clone(),
                Pass,
                "",
            ),
            (
                "end_state: expected.state",
                traj("", vec![]),
                Fail,
                "no end state",
            ),
            (
                "max_steps: 2",
                refunded.clone(),
                Pass,
                "2 model calls (max 2)",
            ),
            (
                "max_steps: 1",
                refunded.clone(),
                Fail,
                "2 model calls (max 1)",
            ),
            ("max_tokens: 150", refunded.clone(), Pass, ""),
            (
                "max_tokens: 149",
                refunded.clone(),
                Fail,
                "150 tokens (max 149)",
            ),
            ("escalated: true", escalated.clone(), Pass, "customer asked"),
            (
                "escalated: false",
                escalated,
                Fail,
                "the agent escalated: customer asked",
            ),
            (
                "escalated: true",
                refunded.clone(),
                Fail,
                "did not escalate",
            ),
            ("escalated: false", refunded, Pass, ""),
        ],
    );
}

#[test]
fn errored_run_makes_every_check_an_error() {
    let t = Trajectory::errored("provider down: 503");
    for yaml in [
        "contains: x",
        "max_steps: 3",
        "tool_not_called: a",
        "equals: expected.output",
    ] {
        let v = evaluate(&spec(yaml), &case(), &t);
        assert_eq!((v.outcome, v.score), (Error, None), "{yaml}");
        assert_eq!(v.reason, "provider down: 503");
    }
}

#[test]
fn verdict_carries_name_weight_and_severity() {
    let v = evaluate(
        &spec("{contains: zzz, severity: soft, weight: 2, name: mentions zzz}"),
        &case(),
        &traj("abc", vec![]),
    );
    assert_eq!(v.outcome, SoftFail);
    assert_eq!(v.weight, 2.0);
    assert_eq!(v.check, "mentions zzz");
    assert_eq!(v.score, Some(0.0));
}

#[test]
fn tool_called_times_order_and_matchers() {
    // calls: 1 lookup_order 1042, 2 search_kb, 3 issue_refund, 4 send_email
    let t = traj(
        "",
        vec![
            tool("lookup_order", json!({"order_id": "1042", "trace": "a"})),
            tool("search_kb", json!({"query": "refund", "limit": 3})),
            tool("issue_refund", json!({"order_id": "1042", "amount": 30})),
            tool("send_email", json!({"to": "ada@example.com"})),
        ],
    );
    run_table(
        &case(),
        vec![
            ("tool_called: {name: lookup_order, times: {min: 1, max: 2}}", t.clone(), Pass, "once"),
            ("tool_called: {name: lookup_order, times: {min: 2}}", t.clone(), Fail, "at least 2 times"),
            ("tool_called: {name: lookup_order, times: {max: 0}}", t.clone(), Fail, "called 0 times, found once"),
            ("tool_called: {name: lookup_order, times: 1}", t.clone(), Pass, ""),
            ("tool_called: {name: lookup_order, before: issue_refund}", t.clone(), Pass, "before `issue_refund`"),
            ("tool_called: {name: send_email, before: issue_refund}", t.clone(), Fail, "not called before `issue_refund`"),
            ("tool_called: {name: send_email, after: issue_refund}", t.clone(), Pass, "after"),
            ("tool_called: {name: lookup_order, after: issue_refund}", t.clone(), Fail, "last `issue_refund` is call 3"),
            // ordering against a tool never called holds vacuously
            ("tool_called: {name: lookup_order, before: escalate_to_human}", t.clone(), Pass, ""),
            ("tool_called: {name: lookup_order, args: {order_id: '1042'}, args_match: exact}", t.clone(), Fail, "trace: expected nothing"),
            ("tool_called: {name: lookup_order, args: {order_id: '1042'}, args_match: exact, ignore: [trace]}", t.clone(), Pass, ""),
            ("tool_called: {name: search_kb, args: {query: refund}, args_match: exact, defaults: {limit: 3}}", t.clone(), Pass, ""),
            ("tool_called: {name: issue_refund, args: {order_id: '1042', amount: 30, reason: x}, args_match: superset}", t.clone(), Pass, ""),
            ("tool_not_called: {name: issue_refund, args: {amount: 30}, args_match: exact}", t.clone(), Pass, ""),
            ("tool_not_called: {name: issue_refund, args: {amount: 30}}", t.clone(), Fail, "called once"),
        ],
    );
}

#[test]
fn trajectory_modes_from_yaml() {
    let t = traj(
        "",
        vec![
            tool("search_kb", json!({"query": "refund", "limit": 3, "ts": 1})),
            tool("lookup_order", json!({"order_id": "1042"})),
        ],
    );
    let check = |mode: &str, rest: &str| {
        format!("trajectory: {{mode: {mode}, expected: [{{name: lookup_order, args: {{order_id: '1042'}}}}, {{name: search_kb, args: {{query: refund}}}}]{rest}}}")
    };
    let table = vec![
        (check("strict", ""), Fail, "strict:"),
        (check("in_order", ""), Fail, "missing search_kb"),
        (check("unordered", ""), Pass, "F1 1.00"),
        (check("subset", ""), Pass, ""),
        (check("superset", ""), Pass, ""),
        (
            check("unordered", ", args: exact"),
            Fail,
            "missing search_kb",
        ),
        (
            check(
                "unordered",
                ", args: exact, ignore: [ts], defaults: {search_kb: {limit: 3}}",
            ),
            Pass,
            "",
        ),
        (
            check(
                "unordered",
                ", args: {default: exact, tools: {search_kb: ignore}}",
            ),
            Pass,
            "",
        ),
        (
            check(
                "unordered",
                ", args: {default: exact, tools: {search_kb: superset}}",
            ),
            Fail,
            "",
        ),
    ];
    for (yaml, want, reason) in table {
        let v = evaluate(&spec(&yaml), &case(), &t);
        assert_eq!(v.outcome, want, "{yaml} → {v:?}");
        assert!(v.reason.contains(reason), "{yaml}: {}", v.reason);
    }
}

#[test]
fn end_state_paths() {
    let mut t = traj("", vec![]);
    t.state = Some(
        json!({"orders": {"1042": {"status": "refunded", "items": [{"sku": "a"}]}}, "refunds": [{"amount": 30}]})
            .into(),
    );
    run_table(
        &case(),
        vec![
            ("end_state: [{path: orders.1042.status, equals: refunded}]", t.clone(), Pass, "orders.1042.status"),
            ("end_state: [{path: orders.1042.status, equals: delivered}]", t.clone(), Fail, "orders.1042.status: expected \"delivered\", found \"refunded\""),
            ("end_state: [{path: refunds.0.amount, equals: 30}, {path: orders.1042, equals: {items: [{sku: b}]}}]", t.clone(), Fail, "orders.1042.items[0].sku: expected \"b\", found \"a\""),
            ("end_state: [{path: orders.9, exists: false}]", t.clone(), Pass, ""),
            ("end_state: [{path: orders.1042, exists: false}]", t.clone(), Fail, "orders.1042: expected nothing"),
            ("end_state: [{path: orders.7.status, equals: x}]", t.clone(), Fail, "orders.7.status: expected \"x\", found nothing"),
        ],
    );
}

#[test]
fn end_state_exact_lists_every_difference_and_honours_ignore() {
    let mut t = traj("", vec![]);
    t.state = Some(json!({"orders": {"1042": {"status": "refunded", "at": "10:00"}}}).into());
    let mut extra = t.clone();
    extra.state = Some(
        json!({"orders": {"1042": {"status": "delivered", "at": "11:00"}, "9": {"status": "new"}}})
            .into(),
    );
    run_table(
        &case(),
        vec![
            // The subset form passes a state with extra fields; the exact form does not.
            ("end_state: expected.state", t.clone(), Pass, ""),
            (
                "end_state: {mode: exact, expected: expected.state}",
                t.clone(),
                Fail,
                "end state differs at 1 path: orders.1042.at: unexpected \"10:00\"",
            ),
            (
                "end_state: {mode: exact, expected: expected.state, ignore: [orders.*.at]}",
                t.clone(),
                Pass,
                "equals",
            ),
            (
                "end_state: {mode: exact, expected: expected.state, ignore: [orders.*.at]}",
                extra,
                Fail,
                "2 paths: orders.1042.status: expected \"refunded\", found \"delivered\"; orders.9: unexpected",
            ),
            (
                "end_state: {mode: exact, expected: {orders: {}}}",
                traj("", vec![]),
                Fail,
                "no end state",
            ),
        ],
    );
    run_table(
        &bare_case(),
        vec![(
            "end_state: {mode: exact, expected: expected.state}",
            t,
            Skipped,
            "expected.state",
        )],
    );
    for (bad, want) in [
        (
            "end_state: {mode: fuzzy, expected: {}}",
            "`exact` or `subset`",
        ),
        (
            "end_state: {mode: exact, expected: 3}",
            "must be `expected.state` or a map",
        ),
        (
            "end_state: {mode: subset, expected: {}, ignore: [a]}",
            "`mode: exact` only",
        ),
        (
            "end_state: {mode: exact, expected: {}, ignor: [a]}",
            "ignor",
        ),
    ] {
        let raw: RawCheck = serde_yaml::from_str(bad).unwrap();
        let judges = BTreeMap::new();
        let env = CheckEnv {
            suite_dir: Path::new("."),
            judges: &judges,
            available_judges: &[],
            tools: None,
            agents: None,
            mcp_named: None,
            cache: &Default::default(),
            limits: Default::default(),
        };
        let errs = from_raw(&raw, &env).unwrap_err();
        let text = format!("{errs:?}");
        assert!(text.contains(want), "{bad}: {text}");
    }
}

#[test]
fn text_checks_with_scope_and_normalisers() {
    let said = |text: &str| {
        let mut step = model(1);
        if let Step::Model { content, .. } = &mut step {
            *content = Some(text.into());
        }
        step
    };
    // τ-bench's output check: the total is said in an earlier message, with a comma.
    let t = traj(
        "Anything else?",
        vec![
            said("Your refund of $1,299.00 is on its way."),
            said("Anything else?"),
        ],
    );
    run_table(
        &case(),
        vec![
            ("contains: '1299'", t.clone(), Fail, "missing"),
            (
                "contains: {value: '1299', scope: any_message}",
                t.clone(),
                Fail,
                "missing",
            ),
            (
                "contains: {value: '1299', scope: any_message, normalize: [punctuation]}",
                t.clone(),
                Pass,
                "found",
            ),
            (
                "contains: {all: ['YOUR REFUND', 'else'], scope: any_message, normalize: [case]}",
                t.clone(),
                Pass,
                "",
            ),
            (
                "contains: {value: 'refund   of', scope: any_message, normalize: [whitespace]}",
                t.clone(),
                Pass,
                "",
            ),
            (
                "not_contains: {value: 'refund', scope: any_message}",
                t.clone(),
                Fail,
                "found",
            ),
            ("not_contains: refund", t.clone(), Pass, ""),
            (
                "regex: {pattern: '\\$1299', scope: any_message, normalize: [punctuation]}",
                t.clone(),
                Fail,
                "no match",
            ),
            (
                "regex: {pattern: 'refund of 129900', scope: any_message, normalize: [punctuation, case]}",
                t.clone(),
                Pass,
                "matched",
            ),
            ("regex: 'refund'", t, Fail, "no match"),
        ],
    );
}
