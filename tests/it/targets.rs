//! The user's own agent: `command` (per case and persistent), `http` and `replay` targets,
//! driven through the real binary with the example Python agent and a misbehaving one.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::support::{case, eval_into, read, root, stderr, stdout};

const EXAMPLE_SUITE: &str = "suites/python-agent.yaml";

/// A Python agent serving HTTP on a free localhost port; killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    /// Starts `script --http 0` and waits for the line that says where it listens.
    fn start(script: &str) -> Server {
        let mut child = Command::new("python3")
            .arg(root().join(script))
            .args(["--http", "0"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the server announces its port");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .to_string();
        Server { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes `suite.yaml` into a fresh folder, with the mock judge rules beside it.
fn suite_dir(name: &str, dataset: &str, target: &str, extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("mocks")).unwrap();
    std::fs::copy(
        root().join("suites/mocks/support.yaml"),
        dir.path().join("mocks/support.yaml"),
    )
    .unwrap();
    let yaml = format!(
        "name: {name}\ndataset: {}\njudges_dir: {}\ntarget:\n{target}\n{extra}\n",
        root().join(dataset).display(),
        root().join("judges").display(),
    );
    std::fs::write(dir.path().join("suite.yaml"), yaml).unwrap();
    dir
}

/// The example agent's suite, with another target.
fn example_suite(target: &str) -> tempfile::TempDir {
    suite_dir(
        "python-agent",
        "datasets/python-agent/cases.jsonl",
        target,
        "checks:\n  - not_contains: \"as an AI\"\n  - max_steps: 6\n  - judge: helpfulness\n\
         gate: {min_pass_rate: 0.8, max_error_rate: 0, critical: [refunds]}\nrun: {concurrency: 4}",
    )
}

fn report(out: &Path, suite: &str) -> Value {
    serde_json::from_str(&read(out.join(suite).join("report.json"))).expect("report.json")
}

/// What every run of the example agent must show, whatever the target.
fn assert_example_report(report: &Value) {
    assert_eq!(report["summary"]["total"], 9, "{report}");
    assert_eq!(report["summary"]["errored"], 0, "{report}");
    for id in [
        "order-shipped",
        "order-processing",
        "order-unknown",
        "refund-delivered",
        "refund-not-delivered",
        "refund-fixture-order",
        "password-reset",
        "human-please",
    ] {
        assert_eq!(case(report, id)["status"], "passed", "{id}: {report}");
    }
    // The judge reads the agent's output: a clarifying question scores 3 of 5 (soft fail).
    let vague = case(report, "vague");
    assert_eq!(vague["status"], "soft_failed", "{vague}");
    let judge = vague["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"].as_str().unwrap_or("").contains("helpfulness"))
        .expect("judge verdict");
    assert_eq!(judge["outcome"], "soft_fail", "{judge}");
    // Trajectory checks ran on the reported steps.
    let refund = case(report, "refund-delivered");
    assert_eq!(
        refund["tools"],
        serde_json::json!(["lookup_order", "issue_refund"])
    );
    assert_eq!(case(report, "human-please")["end"], "escalated");
    assert_eq!(report["gate"]["passed"], true, "{report}");
}

#[test]
fn example_agent_through_a_per_case_command() {
    let (o, out) = eval_into(EXAMPLE_SUITE, &[]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let report = report(out.path(), "python-agent");
    assert_example_report(&report);
    assert_eq!(
        report["target"],
        "command python3 ../examples/support_agent.py"
    );
}

#[test]
fn example_agent_through_a_persistent_command_gives_the_same_report() {
    let script = root().join("examples/support_agent.py");
    let dir = example_suite(&format!(
        "  command:\n    argv: [python3, {}, --lines]\n    persistent: true",
        script.display()
    ));
    let suite = dir.path().join("suite.yaml");
    let (o, out) = eval_into(suite.to_str().unwrap(), &["-j", "3"]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    assert_example_report(&report(out.path(), "python-agent"));
}

#[test]
fn example_agent_through_http() {
    let server = Server::start("examples/support_agent.py");
    let dir = example_suite(&format!(
        "  http:\n    url: {}\n    headers: {{X-Test: yes}}",
        server.url
    ));
    let suite = dir.path().join("suite.yaml");
    let (o, out) = eval_into(suite.to_str().unwrap(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let report = report(out.path(), "python-agent");
    assert_example_report(&report);
    assert_eq!(report["target"], format!("http {}", server.url));
}

/// Runs the misbehaving agent's dataset through `target`; returns the report.
fn misbehaving(target: &str) -> Value {
    let dir = suite_dir(
        "misbehaving",
        "tests/fixtures/agents/data/misbehaving.jsonl",
        target,
        "gate: {max_error_rate: 0}\nrun: {concurrency: 6, timeout: 5s}",
    );
    let suite = dir.path().join("suite.yaml");
    let (o, out) = eval_into(suite.to_str().unwrap(), &[]);
    assert!(
        matches!(o.status.code(), Some(1)),
        "the gate fails on errors, the run completes: {}\n{}",
        stdout(&o),
        stderr(&o)
    );
    report(out.path(), "misbehaving")
}

fn error_of(report: &Value, id: &str) -> String {
    let c = case(report, id);
    assert_eq!(c["status"], "errored", "{c}");
    c["error"].as_str().unwrap_or_default().to_string()
}

fn assert_the_good_cases_pass(report: &Value) {
    for id in ["ok", "ok-after"] {
        assert_eq!(case(report, id)["status"], "passed", "{id}: {report}");
    }
}

#[test]
fn a_misbehaving_per_case_command_errors_only_its_cases() {
    let script = root().join("tests/fixtures/agents/misbehaving_agent.py");
    let report = misbehaving(&format!(
        "  command:\n    argv: [python3, {}]",
        script.display()
    ));
    assert_the_good_cases_pass(&report);
    let crash = error_of(&report, "crash");
    assert!(crash.contains("exited with status 3"), "{crash}");
    assert!(
        crash.contains("RuntimeError: boom in the agent"),
        "stderr tail: {crash}"
    );
    assert_eq!(error_of(&report, "hang"), "timed out after 5s");
    let garbage = error_of(&report, "garbage");
    assert!(garbage.starts_with("invalid reply: "), "{garbage}");
    assert!(garbage.contains("hello, I am not JSON"), "{garbage}");
    let bad = error_of(&report, "bad-step");
    assert!(bad.contains("unknown variant `thought`"), "{bad}");
}

#[test]
fn a_persistent_command_that_dies_is_restarted_for_the_next_case() {
    let script = root().join("tests/fixtures/agents/misbehaving_agent.py");
    let report = misbehaving(&format!(
        "  command:\n    argv: [python3, {}, --lines]\n    persistent: true",
        script.display()
    ));
    assert_the_good_cases_pass(&report);
    let crash = error_of(&report, "crash");
    assert!(
        crash.contains("closed its output before replying"),
        "{crash}"
    );
    assert!(crash.contains("RuntimeError: boom in the agent"), "{crash}");
    assert_eq!(error_of(&report, "hang"), "timed out after 5s");
    assert!(error_of(&report, "garbage").contains("hello, I am not JSON"));
    assert!(error_of(&report, "bad-step").contains("unknown variant `thought`"));
}

#[test]
fn a_misbehaving_http_agent_errors_only_its_cases() {
    let server = Server::start("tests/fixtures/agents/misbehaving_agent.py");
    let report = misbehaving(&format!("  http: {{url: \"{}\"}}", server.url));
    assert_the_good_cases_pass(&report);
    // Over HTTP the "crash" case answers 500.
    let status = error_of(&report, "crash");
    assert!(
        status.contains("HTTP 500") && status.contains("database is down"),
        "{status}"
    );
    assert_eq!(error_of(&report, "hang"), "timed out after 5s");
    assert!(error_of(&report, "garbage").contains("hello, I am not JSON"));
    assert!(error_of(&report, "bad-step").contains("unknown variant `thought`"));
}

#[test]
fn an_unreachable_http_agent_errors_every_case_with_the_reason() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let report = misbehaving(&format!("  http: {{url: \"http://127.0.0.1:{port}/\"}}"));
    let err = error_of(&report, "ok");
    assert!(err.contains("cannot reach the agent"), "{err}");
}

#[test]
fn replay_reproduces_report_json_byte_for_byte() {
    // A finished run: the demo suite on the bundled harness (judges on the mock model).
    let (o, first) = eval_into("suites/support.yaml", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let recorded = first.path().join("support");

    // The same suite with a replay target reading that run's trajectories: the target block
    // swapped, paths made absolute. The replay calls no agent model (the judge still runs).
    let original = read(root().join("suites/support.yaml"));
    let (head, rest) = original.split_once("target:\n").expect("a target block");
    let (_, tail) = rest.split_once("checks:").expect("checks after the target");
    let yaml = format!(
        "{head}judges_dir: {}\ntarget:\n  replay: {{trajectories: {}}}\nchecks:{tail}",
        root().join("judges").display(),
        recorded.join("trajectories.jsonl").display()
    )
    .replace(
        "../datasets",
        &root().join("datasets").display().to_string(),
    );
    let dir = suite_dir("unused", "datasets/support/cases.jsonl", "", "");
    std::fs::write(dir.path().join("suite.yaml"), yaml).unwrap();
    let suite = dir.path().join("suite.yaml");
    let (o, second) = eval_into(suite.to_str().unwrap(), &["-j", "3"]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let replayed = second.path().join("support");
    assert_eq!(
        read(replayed.join("report.json")),
        read(recorded.join("report.json")),
        "the replay reproduces the report"
    );
    assert_eq!(
        read(replayed.join("trajectories.jsonl")),
        read(recorded.join("trajectories.jsonl")),
        "and re-records the same trajectories"
    );
}

#[test]
fn replay_errors_cases_it_has_no_trajectory_for() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("trajectories.jsonl");
    std::fs::write(
        &file,
        "{\"id\":\"ok\",\"status\":\"passed\",\"target\":\"command agent\",\"trajectory\":{\"output\":\"Order 7 has shipped.\",\"steps\":[{\"type\":\"tool\",\"name\":\"lookup_order\",\"args\":{}}]}}\n",
    )
    .unwrap();
    let report = misbehaving(&format!("  replay: {{trajectories: {}}}", file.display()));
    assert_eq!(case(&report, "ok")["status"], "passed", "{report}");
    assert_eq!(report["target"], "command agent");
    let err = error_of(&report, "crash");
    assert!(
        err.starts_with("no recorded trajectory for case `crash`"),
        "{err}"
    );
}

#[test]
fn replay_with_deterministic_checks_scores_in_batches_and_matches_the_recorded_run() {
    // Cases with deterministic checks only, so the replay takes the rayon batch path while the
    // recorded run went through the async runner: the two must agree byte for byte, repeats
    // included. Orders 1001–1012 exist in the world; 1013–1015 do not, so some cases fail.
    let dir = tempfile::tempdir().unwrap();
    let mut cases = String::new();
    for n in 1001..=1015 {
        cases.push_str(&format!(
            "{{\"id\": \"order-{n}\", \"input\": \"Where is my order {n}?\", \"tags\": [\"t{}\"], \
             \"checks\": [{{\"tool_called\": {{\"name\": \"lookup_order\", \"args\": {{\"order_id\": \"{n}\"}}}}}}, \
             {{\"regex\": \"(?i)order {n}\"}}]}}\n",
            n % 3
        ));
    }
    std::fs::write(dir.path().join("cases.jsonl"), cases).unwrap();
    std::fs::create_dir(dir.path().join("mocks")).unwrap();
    std::fs::copy(
        root().join("suites/mocks/support.yaml"),
        dir.path().join("mocks/support.yaml"),
    )
    .unwrap();
    let checks =
        "checks:\n  - not_contains: \"as an AI\"\n  - max_steps: 4\nrun: {concurrency: 4}\n";
    let recorded_yaml = format!(
        "name: orders\ndataset: cases.jsonl\ntarget:\n  harness:\n    model: mock:support\n    \
         tools: [lookup_order]\n    world: {}\n{checks}",
        root().join("datasets/support/world.json").display()
    );
    std::fs::write(dir.path().join("recorded.yaml"), recorded_yaml).unwrap();
    let (o, first) = eval_into(
        dir.path().join("recorded.yaml").to_str().unwrap(),
        &["--repeat", "2"],
    );
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let recorded = first.path().join("orders");
    let statuses: std::collections::BTreeSet<String> = report(first.path(), "orders")["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap().to_string())
        .collect();
    assert!(statuses.len() > 1, "passes and failures: {statuses:?}");

    let replay_yaml = format!(
        "name: orders\ndataset: cases.jsonl\ntarget:\n  replay: {{trajectories: {}}}\n{checks}",
        recorded.join("trajectories.jsonl").display()
    );
    std::fs::write(dir.path().join("replay.yaml"), replay_yaml).unwrap();
    let (o, second) = eval_into(
        dir.path().join("replay.yaml").to_str().unwrap(),
        &["--repeat", "2", "-j", "1"],
    );
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let replayed = second.path().join("orders");
    assert_eq!(
        read(replayed.join("report.json")),
        read(recorded.join("report.json")),
        "the batch-scored replay reproduces the report"
    );
    let journal = read(replayed.join("journal.jsonl"));
    assert_eq!(journal.lines().count(), 1 + 15 * 2, "every run journalled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_agents_requests_carry_the_case_id_and_repeat() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"output": "ok"})))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("cases.jsonl"),
        "{\"id\": \"a\", \"input\": \"hi\", \"checks\": [{\"contains\": \"ok\"}]}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("suite.yaml"),
        format!(
            "name: http-repeat\ndataset: cases.jsonl\ntarget:\n  http: {{url: {}}}\nrun: {{repeat: 2}}\n",
            server.uri()
        ),
    )
    .unwrap();
    let suite = dir.path().join("suite.yaml");
    let suite = suite.to_str().unwrap().to_string();
    let (o, _out) = tokio::task::spawn_blocking(move || eval_into(&suite, &[]))
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let mut seen: Vec<(String, u64)> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            (
                body["id"].as_str().unwrap_or("").to_string(),
                body["repeat"].as_u64().unwrap_or(99),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(seen, vec![("a".to_string(), 0), ("a".to_string(), 1)]);
}
