//! Tests of the bundled offline demo (`suites/support.yaml`): every case of
//! `datasets/support/cases.jsonl` runs through the harness on `mock:support`, and a small
//! stand-in for the checks and judges confirms the intended mix of verdicts.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde_json::{json, Value};

use crate::agent::harness::agent_loop::run_harness;
use crate::provider::mock::MockRules;
use crate::provider::registry::Providers;
use crate::provider::{Message, ModelId, ModelRequest, Purpose};
use crate::suite::raw::{RawCase, RawCheck, RawJudge, RawSuite};
use crate::suite::{Case, Expected, HarnessConfig};
use crate::trajectory::{EndReason, Step, Trajectory};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

struct Demo {
    config: HarnessConfig,
    providers: Providers,
    suite: RawSuite,
    cases: Vec<(Case, Vec<RawCheck>)>,
}

fn demo() -> Demo {
    let suite: RawSuite = serde_yaml::from_str(&read("suites/support.yaml")).unwrap();
    let h = suite.target.harness.clone().unwrap();
    let rules = MockRules::load(&root().join("suites/mocks/support.yaml"))
        .unwrap_or_else(|d| panic!("{d:?}"));
    let config = HarnessConfig {
        model: ModelId::parse(&h.model).unwrap(),
        system: Some(read("datasets/support/system.md.j2")),
        tools: h.tools.clone(),
        world: Some(serde_json::from_str(&read("datasets/support/world.json")).unwrap()),
        max_steps: h.max_steps.unwrap(),
        temperature: None,
        max_tokens: None,
        max_repairs: 2,
        context_tokens: None,
        custom_tools: vec![],
        faults: Default::default(),
        pricing: Default::default(),
        budget: Default::default(),
        user_model: None,
    };
    let cases = read("datasets/support/cases.jsonl")
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, line)| {
            let raw: RawCase =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}", i + 1));
            let turns = match &raw.input {
                Value::String(s) => vec![s.clone()],
                Value::Array(a) => a.iter().map(|t| t.as_str().unwrap().to_string()).collect(),
                other => panic!("input {other}"),
            };
            let case = Case {
                id: raw.id.clone(),
                description: raw.description.clone(),
                turns,
                vars: raw.vars.clone(),
                expected: Expected {
                    reference: raw.expected.reference.clone(),
                    output: raw.expected.output.clone(),
                    tools: raw.expected.tools.clone(),
                    state: raw.expected.state.clone(),
                },
                tags: raw.tags.clone(),
                checks: vec![],
                world_fixture: raw.fixtures.as_ref().and_then(|f| f.get("world")).cloned(),
                mock: raw.mock.clone(),
                user: None,
                source: format!("cases.jsonl:{}", i + 1),
            };
            (case, raw.checks)
        })
        .collect();
    Demo {
        config,
        providers: Providers::new(BTreeMap::from([("support".to_string(), Arc::new(rules))])),
        suite,
        cases,
    }
}

fn tool_names(t: &Trajectory) -> Vec<&str> {
    t.tool_calls().map(|(n, _)| n).collect()
}

/// `expected` is a recursive subset of `actual` (numbers compare as numbers).
fn subset(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|av| subset(v, av))),
        (Value::Number(e), Value::Number(a)) => e.as_f64() == a.as_f64(),
        (e, a) => e == a,
    }
}

fn resolve(v: &Value, case: &Case) -> Value {
    match v.as_str() {
        Some(path) if path.starts_with("expected.") => case.lookup(path).unwrap(),
        _ => v.clone(),
    }
}

/// A stand-in for the real checks, for the kinds the demo uses: `Some(hard)` on a failure.
fn failed(check: &RawCheck, case: &Case, t: &Trajectory) -> Option<String> {
    let calls: Vec<(&str, &Value)> = t.tool_calls().collect();
    let matching = |spec: &Value| -> (String, usize, Option<u64>) {
        let (name, args, times) = match spec {
            Value::String(n) => (n.clone(), json!({}), None),
            o => (
                o["name"].as_str().unwrap().to_string(),
                o.get("args").cloned().unwrap_or(json!({})),
                o.get("times").and_then(Value::as_u64),
            ),
        };
        let n = calls
            .iter()
            .filter(|(cn, ca)| *cn == name && subset(&args, ca))
            .count();
        (name, n, times)
    };
    if let Some(spec) = &check.contains {
        let vals: Vec<String> = spec["any"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_lowercase())
            .collect();
        let out = t.output.to_lowercase();
        return (!vals.iter().any(|v| out.contains(v))).then(|| format!("contains {vals:?}"));
    }
    if let Some(spec) = &check.not_contains {
        let v = spec["value"].as_str().unwrap();
        return t.output.contains(v).then(|| format!("not_contains {v}"));
    }
    if let Some(re) = &check.regex {
        let re = regex::Regex::new(re.as_str().unwrap()).unwrap();
        return (!re.is_match(&t.output)).then(|| format!("regex {re}"));
    }
    if let Some(spec) = &check.tool_called {
        let (name, n, times) = matching(spec);
        let ok = match times {
            Some(k) => n as u64 == k,
            None => n > 0,
        };
        return (!ok).then(|| format!("tool_called {name}: {n}"));
    }
    if let Some(spec) = &check.tool_not_called {
        let (name, n, _) = matching(spec);
        return (n > 0).then(|| format!("tool_not_called {name}"));
    }
    if let Some(want) = check.escalated {
        return (t.escalated() != want).then(|| "escalated".to_string());
    }
    if let Some(max) = check.max_steps {
        return (t.model_calls() as u64 > max).then(|| format!("max_steps {max}"));
    }
    if let Some(spec) = &check.end_state {
        let want = resolve(spec, case);
        return (!subset(&want, t.state.as_ref().unwrap())).then(|| "end_state".to_string());
    }
    if let Some(spec) = &check.trajectory {
        let expected = resolve(&spec["expected"], case);
        let ignore_args = spec.get("args").and_then(Value::as_str) == Some("ignore");
        let matches = |e: &Value, (n, a): (&str, &Value)| {
            e["name"] == n && (ignore_args || subset(e.get("args").unwrap_or(&json!({})), a))
        };
        let exp = expected.as_array().unwrap();
        let ok = match spec["mode"].as_str().unwrap() {
            "strict" => {
                exp.len() == calls.len() && exp.iter().zip(&calls).all(|(e, c)| matches(e, *c))
            }
            "in_order" => {
                let mut it = calls.iter();
                exp.iter().all(|e| it.any(|c| matches(e, *c)))
            }
            m => panic!("mode {m}"),
        };
        return (!ok).then(|| "trajectory".to_string());
    }
    if check.judge.is_some() {
        return None; // judged apart, below
    }
    panic!("unhandled check {check:?}");
}

/// Renders a judge rubric for a trajectory and asks the mock judge: the normalised score.
async fn judge(name: &str, case: &Case, t: &Trajectory, providers: &Providers) -> f64 {
    let raw: RawJudge = serde_yaml::from_str(&read(&format!("judges/{name}.yaml"))).unwrap();
    let ctx = json!({
        "input": case.turns.join("\n"),
        "output": t.output,
        "reference": case.expected.reference,
        "vars": case.vars,
        "case": case.to_value(),
        "trajectory": t,
    });
    let prompt = crate::template::render(&raw.prompt, &ctx).unwrap();
    assert!(
        prompt.contains("<output>\n") && prompt.contains("\n</output>"),
        "{prompt}"
    );
    let model = ModelId::parse(&raw.model).unwrap();
    let provider = providers.get(&model, &[]).unwrap();
    let request = ModelRequest {
        model: model.model.clone(),
        messages: vec![
            Message::system(raw.system.clone().unwrap()),
            Message::user(prompt),
        ],
        tools: vec![],
        temperature: Some(0.0),
        max_tokens: None,
        purpose: Purpose::Judge,
        seed: None,
        response_format: None,
    };
    let reply = provider.complete(&request).await.unwrap();
    let v: Value = serde_json::from_str(reply.content.as_deref().unwrap()).unwrap();
    let [lo, hi] = raw.scale.unwrap();
    (v["score"].as_f64().unwrap() - lo) / (hi - lo)
}

#[tokio::test]
async fn demo_cases_run_and_give_the_intended_verdicts() {
    let d = demo();
    assert!(d.cases.len() >= 25);
    let mut hard_fails = Vec::new();
    let mut soft_fails = Vec::new();
    let mut runs = BTreeMap::new();
    for (case, checks) in &d.cases {
        let t = run_harness(&d.config, case, &d.providers).await;
        assert_ne!(t.end, EndReason::Error, "{}: {:?}", case.id, t.error);
        assert_ne!(t.end, EndReason::MaxSteps, "{}", case.id);
        assert!(!t.output.is_empty(), "{}", case.id);
        let mut fails = Vec::new();
        let mut softs = Vec::new();
        for check in d.suite.checks.iter().chain(checks) {
            if let Some(why) = failed(check, case, &t) {
                fails.push(why);
            }
            if let Some(name) = &check.judge {
                let score = judge(name, case, &t, &d.providers).await;
                let (pass, soft) = (check.threshold.unwrap(), check.soft_threshold.unwrap());
                if score < soft {
                    fails.push(format!("judge {name}: {score}"));
                } else if score < pass {
                    softs.push(format!("judge {name}: {score}"));
                }
            }
        }
        if !fails.is_empty() {
            hard_fails.push((case.id.clone(), fails));
        } else if !softs.is_empty() {
            soft_fails.push(case.id.clone());
        }
        // Shown with `--nocapture`: what the demo agent did on each case.
        eprintln!(
            "{:<32} {:?} {:?} {}",
            case.id,
            t.end,
            tool_names(&t),
            t.output
        );
        runs.insert(case.id.clone(), t);
    }
    let failed_ids: Vec<&str> = hard_fails.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(failed_ids, ["kb-international-shipping"], "{hard_fails:#?}");
    assert_eq!(soft_fails, ["order-not-found", "small-talk"]);
    // No failure in a critical tag: the gate passes.
    for (id, _) in &hard_fails {
        let case = &d.cases.iter().find(|(c, _)| &c.id == id).unwrap().0;
        assert!(
            !case.tags.iter().any(|t| d
                .suite
                .gate
                .as_ref()
                .is_some_and(|g| g.critical.contains(t))),
            "{id}"
        );
    }

    let tools = |id: &str| tool_names(&runs[id]);
    assert_eq!(
        tools("refund-eligible"),
        ["lookup_order", "issue_refund", "send_email"]
    );
    assert_eq!(tools("refund-late"), ["lookup_order"]);
    assert_eq!(tools("refund-over-limit-scripted"), ["issue_refund"]);
    assert_eq!(
        tools("refund-partial-scripted"),
        ["lookup_order", "issue_refund", "send_email"]
    );
    assert_eq!(
        tools("multi-turn-refusal-then-human"),
        ["lookup_order", "escalate_to_human"]
    );
    assert_eq!(runs["escalate-legal"].end, EndReason::Escalated);
    assert_eq!(tools("kb-gift-return"), ["search_kb"]);
    let refused = runs["refund-over-limit-scripted"].steps.iter().any(|s| {
        matches!(s, Step::Tool { error: Some(e), .. } if e.contains("exceeds what is refundable"))
    });
    assert!(refused);
    // The fixture applies to its case only.
    assert_eq!(
        runs["order-status-shipped"].state.as_ref().unwrap()["orders"]["1003"]["status"],
        "shipped"
    );
}

#[test]
fn demo_files_load() {
    let d = demo();
    for name in ["helpfulness", "policy"] {
        let raw: RawJudge = serde_yaml::from_str(&read(&format!("judges/{name}.yaml"))).unwrap();
        crate::template::check_syntax(&raw.prompt).unwrap();
        assert!(raw.prompt.contains("<reference>\n") && raw.prompt.contains("\n</reference>"));
    }
    for t in &d.config.tools {
        assert!(crate::agent::harness::tools::BUILTIN_TOOLS.contains(&t.as_str()));
    }
    let tags: std::collections::BTreeSet<&str> = d
        .cases
        .iter()
        .flat_map(|(c, _)| c.tags.iter().map(String::as_str))
        .collect();
    for tag in ["refund-policy", "orders", "kb", "escalation", "multi-turn"] {
        assert!(tags.contains(tag), "{tag}");
    }
}

#[tokio::test]
async fn demo_policy_judge_catches_a_wrong_refund() {
    let d = demo();
    let case = &d
        .cases
        .iter()
        .find(|(c, _)| c.id == "refund-late")
        .unwrap()
        .0;
    let wrong = Trajectory {
        output: "Done: I've refunded 74.00 USD for order 1042.".into(),
        ..Default::default()
    };
    assert_eq!(judge("policy", case, &wrong, &d.providers).await, 0.0);
    let empty = Trajectory::default();
    assert_eq!(judge("helpfulness", case, &empty, &d.providers).await, 0.0);
}
