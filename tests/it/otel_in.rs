//! Traces in: the plain OpenTelemetry agent in examples/otel/ is evaluated from its spans
//! alone (`traces: otlp`), through `command` (per case and persistent) and `http`. Its replies
//! carry no trajectory, so every tool and trajectory verdict here comes from the spans.
//!
//! Needs `.venv` with opentelemetry-sdk and opentelemetry-exporter-otlp-proto-http
//! (`.ci/requirements.txt`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::support::{eval_into, missing_external, read, root, stderr, stdout};

/// The venv's python with the OpenTelemetry packages, or `None` (skipped outside CI).
fn python() -> Option<PathBuf> {
    let python = root().join(".venv/bin/python");
    let probe = Command::new(&python)
        .args([
            "-c",
            "import opentelemetry.sdk, opentelemetry.exporter.otlp.proto.http",
        ])
        .output();
    if probe.is_ok_and(|o| o.status.success()) {
        return Some(python);
    }
    missing_external(
        "opentelemetry-sdk and opentelemetry-exporter-otlp-proto-http in .venv",
        "python3 -m venv .venv && .venv/bin/pip install -r .ci/requirements.txt",
    );
    None
}

fn agent() -> String {
    root().join("examples/otel/agent.py").display().to_string()
}

/// A suite over examples/otel/cases.jsonl with `target` (YAML under `target:`).
fn suite(target: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let yaml = format!(
        "name: otel\ndataset: {}\ntarget:\n{target}\nchecks:\n  - max_steps: 6\n\
         gate: {{min_pass_rate: 1.0, max_error_rate: 0}}\nrun: {{concurrency: 3, timeout: 30s}}\n",
        root().join("examples/otel/cases.jsonl").display()
    );
    std::fs::write(dir.path().join("suite.yaml"), yaml).unwrap();
    dir
}

fn command_target(python: &Path, flags: &[&str], persistent: bool) -> String {
    let mut argv = vec![python.display().to_string(), agent()];
    argv.extend(flags.iter().map(|f| f.to_string()));
    format!(
        "  command:\n    argv: {}\n    persistent: {persistent}\n    traces: otlp",
        serde_json::to_string(&argv).unwrap()
    )
}

struct Run {
    code: Option<i32>,
    report: Value,
    trajectories: Vec<Value>,
    stderr: String,
}

fn run(target: &str) -> Run {
    let dir = suite(target);
    run_suite_file(dir.path().join("suite.yaml").to_str().unwrap())
}

/// Evaluates the suite file `suite` (named `otel`) and reads what it wrote.
fn run_suite_file(suite: &str) -> Run {
    let (o, out) = eval_into(suite, &[]);
    let report_path = out.path().join("otel/report.json");
    assert!(
        report_path.exists(),
        "no report: {}\n{}",
        stdout(&o),
        stderr(&o)
    );
    let report = serde_json::from_str(&read(&report_path)).expect("report.json");
    let trajectories = read(out.path().join("otel/trajectories.jsonl"))
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    Run {
        code: o.status.code(),
        report,
        trajectories,
        stderr: stderr(&o),
    }
}

fn status<'a>(report: &'a Value, id: &str) -> &'a str {
    report["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("case {id} in {report}"))["status"]
        .as_str()
        .unwrap_or_default()
}

fn steps_of<'a>(run: &'a Run, id: &str) -> &'a Value {
    &run.trajectories
        .iter()
        .find(|t| t["id"] == id)
        .unwrap_or_else(|| panic!("trajectory of {id}"))["trajectory"]["steps"]
}

/// The tool names in a trajectory's steps, depth first, with the agent each ran under.
fn tool_calls(steps: &Value, agent: &str, out: &mut Vec<(String, String)>) {
    for s in steps.as_array().into_iter().flatten() {
        match s["type"].as_str() {
            Some("tool") => out.push((s["name"].as_str().unwrap().into(), agent.into())),
            Some("agent") => tool_calls(&s["steps"], s["name"].as_str().unwrap(), out),
            _ => {}
        }
    }
}

/// The first tool step named `name`, looking through nested agents.
fn find_tool<'a>(steps: &'a Value, name: &str) -> Option<&'a Value> {
    steps
        .as_array()?
        .iter()
        .find_map(|s| match s["type"].as_str() {
            Some("tool") if s["name"] == name => Some(s),
            Some("agent") => find_tool(&s["steps"], name),
            _ => None,
        })
}

const ALL: [&str; 4] = [
    "order-processing",
    "order-shipped",
    "order-unknown",
    "refund-delivered",
];

fn assert_all_pass(run: &Run) {
    assert_eq!(run.code, Some(0), "{}", run.report);
    assert!(
        !run.stderr.contains("belonged to no run"),
        "every span was placed: {}",
        run.stderr
    );
    for id in ALL {
        assert_eq!(status(&run.report, id), "passed", "{id}: {}", run.report);
    }
    let steps = steps_of(run, "refund-delivered");
    assert_eq!(steps[0]["type"], "agent", "{steps}");
    assert_eq!(steps[0]["name"], "support");
    let mut calls = Vec::new();
    tool_calls(steps, "", &mut calls);
    let names: Vec<&str> = calls.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["lookup_order", "issue_refund"], "{steps}");
    let lookup = find_tool(steps, "lookup_order").expect("a lookup_order step");
    assert_eq!(lookup["args"], serde_json::json!({"order_id": "1001"}));
    assert_eq!(lookup["result"]["status"], "delivered", "{lookup}");
    assert!(lookup["started_at"].is_string() && lookup["latency_ms"].is_u64());
    let unknown = steps_of(run, "order-unknown");
    let failed = find_tool(unknown, "lookup_order").expect("a lookup_order step");
    assert_eq!(failed["error"], "order 9999 not found", "{failed}");
}

#[test]
fn the_otel_agent_through_a_per_case_command_is_scored_from_its_spans() {
    let Some(python) = python() else { return };
    assert_all_pass(&run(&command_target(&python, &[], false)));
}

#[test]
fn the_otel_agent_through_a_persistent_command_is_scored_from_its_spans() {
    let Some(python) = python() else { return };
    assert_all_pass(&run(&command_target(&python, &["--lines"], true)));
}

/// The agent as an http server; killed on drop.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The agent as an http server on a port of the OS's choice.
fn serve(python: &Path) -> Server {
    let mut child = Command::new(python)
        .args([agent().as_str(), "--http", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("the agent starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("the agent announces its port");
    Server {
        child,
        url: line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .to_string(),
    }
}

#[test]
fn the_otel_agent_through_http_is_scored_from_its_spans() {
    let Some(python) = python() else { return };
    let server = serve(&python);
    assert_all_pass(&run(&format!(
        "  http:\n    url: {}\n    traces: otlp",
        server.url
    )));
}

/// The turn protocol with `traces: otlp`: each turn is a trace of its own, so each reply
/// (which carries no steps) gets its own turn's spans, after that turn's `user` step.
#[test]
fn each_turn_of_a_conversation_is_scored_from_its_own_spans() {
    let Some(python) = python() else { return };
    let server = serve(&python);
    let command = |flags: &[&str], persistent: bool| {
        format!(
            "{}\n    turn_by_turn: true",
            command_target(&python, flags, persistent)
        )
    };
    let targets = [
        command(&[], false),
        command(&["--lines"], true),
        format!(
            "  http:\n    url: {}\n    traces: otlp\n    turn_by_turn: true",
            server.url
        ),
    ];
    let case = serde_json::json!({
        "id": "two-orders",
        "input": ["Where is my order 1003?", "And what about order 1004?"],
        "expected": {"tools": [
            {"name": "lookup_order", "args": {"order_id": "1003"}},
            {"name": "lookup_order", "args": {"order_id": "1004"}}]},
        "checks": [
            {"trajectory": {"mode": "strict", "expected": "expected.tools"}},
            {"contains": "processing"}]});
    for target in targets {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cases.jsonl"), format!("{case}\n")).unwrap();
        let yaml = format!(
            "name: otel\ndataset: cases.jsonl\ntarget:\n{target}\nchecks:\n  - max_steps: 20\n\
             gate: {{min_pass_rate: 1.0, max_error_rate: 0}}\nrun: {{timeout: 30s}}\n"
        );
        let suite = dir.path().join("suite.yaml");
        std::fs::write(&suite, yaml).unwrap();
        let run = run_suite_file(suite.to_str().unwrap());
        assert_eq!(
            run.code,
            Some(0),
            "{target}: {}\n{}",
            run.report,
            run.stderr
        );
        assert!(!run.stderr.contains("belonged to no run"), "{}", run.stderr);
        let steps = steps_of(&run, "two-orders").as_array().unwrap();
        let kinds: Vec<&str> = steps.iter().map(|s| s["type"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            ["user", "agent", "user", "agent"],
            "{target}: {steps:?}"
        );
        for (turn, order) in [(1, "1003"), (3, "1004")] {
            let mut calls = Vec::new();
            tool_calls(&steps[turn]["steps"], "support", &mut calls);
            assert_eq!(calls.len(), 1, "{target}: {steps:?}");
            let lookup = find_tool(&steps[turn]["steps"], "lookup_order").unwrap();
            assert_eq!(lookup["args"]["order_id"], order, "{target}: {lookup}");
        }
    }
}

#[test]
fn an_agent_that_drops_its_tool_call_is_caught() {
    let Some(python) = python() else { return };
    let run = run(&command_target(&python, &["--drop-tool"], false));
    assert_eq!(run.code, Some(1), "the gate fails: {}", run.report);
    for id in ALL {
        assert_eq!(status(&run.report, id), "failed", "{id}: {}", run.report);
    }
    let mut calls = Vec::new();
    tool_calls(steps_of(&run, "order-shipped"), "", &mut calls);
    assert!(calls.is_empty(), "{calls:?}");
}

#[test]
fn nested_invoke_agent_spans_are_nested_steps_and_checks_look_through_them() {
    let Some(python) = python() else { return };
    let run = run(&command_target(&python, &["--nested"], false));
    assert_all_pass(&run);
    let mut calls = Vec::new();
    tool_calls(steps_of(&run, "refund-delivered"), "", &mut calls);
    assert_eq!(
        calls,
        [
            ("lookup_order".to_string(), "orders".to_string()),
            ("issue_refund".to_string(), "support".to_string())
        ],
        "the lookup ran in the `orders` sub-agent, inside `support`"
    );
}

#[test]
fn spans_of_no_run_are_counted_in_a_warning_and_do_not_disturb_the_runs() {
    let Some(python) = python() else { return };
    let run = run(&command_target(&python, &["--stray-span"], false));
    assert_eq!(run.code, Some(0), "{}", run.report);
    assert!(
        run.stderr.contains(
            "warning: suite `otel`: 4 spans received over OTLP belonged to no run of a case and were dropped"
        ),
        "{}",
        run.stderr
    );
    let trajectories = serde_json::to_string(&run.trajectories).unwrap();
    assert!(!trajectories.contains("housekeeping"), "{trajectories}");
}

/// One production trace as the Collector's file exporter writes it: a user asks about an
/// order, the agent looks it up (unless `with_tool` is false) and answers.
fn exported_trace(trace_id: &str, with_tool: bool) -> String {
    let attr = |k: &str, v: &str| serde_json::json!({"key": k, "value": {"stringValue": v}});
    let mut spans = vec![serde_json::json!({
        "traceId": trace_id, "spanId": "0000000000000001", "name": "invoke_agent support",
        "startTimeUnixNano": "1000000", "endTimeUnixNano": "9000000",
        "attributes": [attr("gen_ai.operation.name", "invoke_agent"),
                       attr("gen_ai.input.messages", r#"[{"role": "user", "content": "Where is order 1003?"}]"#)]
    })];
    if with_tool {
        spans.push(serde_json::json!({
            "traceId": trace_id, "spanId": "0000000000000002", "parentSpanId": "0000000000000001",
            "name": "execute_tool lookup_order", "startTimeUnixNano": "2000000", "endTimeUnixNano": "3000000",
            "attributes": [attr("gen_ai.operation.name", "execute_tool"),
                           attr("gen_ai.tool.call.arguments", r#"{"order_id": "1003"}"#)]
        }));
    }
    spans.push(serde_json::json!({
        "traceId": trace_id, "spanId": "0000000000000003", "parentSpanId": "0000000000000001",
        "name": "chat", "startTimeUnixNano": "4000000", "endTimeUnixNano": "5000000",
        "attributes": [attr("gen_ai.operation.name", "chat"),
                       attr("gen_ai.completion", "Order 1003 shipped with UPS.")]
    }));
    serde_json::json!({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}).to_string()
}

#[test]
fn imported_production_traces_become_cases_that_replay_and_catch_a_dropped_tool_call() {
    let dir = tempfile::tempdir().unwrap();
    let id = "0102030405060708090a0b0c0d0e0f10";
    let traces = dir.path().join("traces.jsonl");
    std::fs::write(&traces, exported_trace(id, true) + "\n").unwrap();
    let cases = dir.path().join("cases.jsonl");
    let o = crate::support::gauntlet(&[
        "import",
        traces.to_str().unwrap(),
        "--out",
        cases.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("imported 1 cases"), "{}", stderr(&o));
    let case: Value = serde_json::from_str(read(&cases).trim()).unwrap();
    assert_eq!(
        case,
        serde_json::json!({"id": id, "input": "Where is order 1003?", "expected": {
            "tools": [{"name": "lookup_order", "args": {"order_id": "1003"}}],
            "reference": "Order 1003 shipped with UPS."}})
    );
    // The imported case, scored against the traces it came from (replay), then against a
    // later trace of the same request in which the agent no longer looked the order up.
    let replayed = dir.path().join("replayed.jsonl");
    let suite = dir.path().join("suite.yaml");
    std::fs::write(
        &suite,
        "name: imported\ndataset: cases.jsonl\ntarget:\n  replay: {trajectories: replayed.jsonl}\n\
         checks:\n  - trajectory: {mode: strict, expected: expected.tools}\n",
    )
    .unwrap();
    for (with_tool, code, status) in [(true, 0, "passed"), (false, 1, "failed")] {
        std::fs::write(&replayed, exported_trace(id, with_tool) + "\n").unwrap();
        let (o, out) = eval_into(suite.to_str().unwrap(), &[]);
        assert_eq!(
            o.status.code(),
            Some(code),
            "{}\n{}",
            stdout(&o),
            stderr(&o)
        );
        let report: Value =
            serde_json::from_str(&read(out.path().join("imported/report.json"))).unwrap();
        assert_eq!(report["cases"][0]["status"], status, "{report}");
    }
    let o = crate::support::gauntlet(&["import", suite.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not OTLP JSON"), "{}", stderr(&o));
}

/// The venv's python with the OpenAI Agents SDK and its OpenInference instrumentation, or `None`
/// (skipped outside CI).
fn agents_sdk_python() -> Option<PathBuf> {
    let python = python()?;
    let probe = Command::new(&python)
        .args([
            "-c",
            "import agents, openinference.instrumentation.openai_agents",
        ])
        .output();
    if probe.is_ok_and(|o| o.status.success()) {
        return Some(python);
    }
    missing_external(
        "openai-agents and openinference-instrumentation-openai-agents in .venv",
        "python3 -m venv .venv && .venv/bin/pip install -r .ci/requirements.txt",
    );
    None
}

/// An agent on the OpenAI Agents SDK, instrumented the standard way (OpenInference), against a
/// local OpenAI-compatible model: scored from its spans with no trajectory code in it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_openai_agents_sdk_agent_is_scored_from_its_openinference_spans() {
    use wiremock::matchers::{method, path};
    let Some(python) = agents_sdk_python() else {
        return;
    };
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(crate::support::OpenAiAgent("gpt-4o-mini"))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("cases.jsonl"),
        r#"{"id": "order-7", "input": "Where is order 7?", "expected": {"tools": [{"name": "lookup_order", "args": {"order_id": "7"}}]}, "checks": [{"trajectory": {"mode": "strict", "expected": "expected.tools"}}, {"contains": "shipped"}]}"#,
    )
    .unwrap();
    let argv = serde_json::to_string(&[
        python.display().to_string(),
        root()
            .join("examples/otel/agents_sdk_agent.py")
            .display()
            .to_string(),
    ])
    .unwrap();
    std::fs::write(
        dir.path().join("suite.yaml"),
        format!(
            "name: otel\ndataset: cases.jsonl\ntarget:\n  command:\n    argv: {argv}\n    \
             env: {{OPENAI_BASE_URL: \"{}/v1\"}}\n    traces: otlp\n\
             gate: {{min_pass_rate: 1.0, max_error_rate: 0}}\nrun: {{timeout: 60s}}\n",
            server.uri()
        ),
    )
    .unwrap();
    let suite = dir.path().join("suite.yaml").display().to_string();
    let run = tokio::task::spawn_blocking(move || run_suite_file(&suite))
        .await
        .expect("the run");
    assert_eq!(run.code, Some(0), "{}\n{}", run.report, run.stderr);
    assert_eq!(status(&run.report, "order-7"), "passed", "{}", run.report);
    let mut calls = Vec::new();
    tool_calls(steps_of(&run, "order-7"), "", &mut calls);
    assert!(
        calls.iter().any(|(name, _)| name == "lookup_order"),
        "{calls:?}"
    );
}
