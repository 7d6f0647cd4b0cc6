//! MCP tool servers in the harness: suites/retail.yaml through examples/retail/server.py (the
//! official `mcp` Python package, in the repository's `.venv`), a fresh server per run, and a
//! server that crashes or hangs.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::support::{case, eval_into, gauntlet, read, root, stderr, stdout};

/// The venv's python with the `mcp` package, or `None` (skipped outside CI).
fn python() -> Option<PathBuf> {
    let python = root().join(".venv/bin/python");
    let probe = Command::new(&python)
        .args(["-c", "import mcp.server.mcpserver"])
        .output();
    if probe.is_ok_and(|o| o.status.success()) {
        return Some(python);
    }
    crate::support::missing_external(
        "the `mcp` Python package in .venv",
        "python3 -m venv .venv && .venv/bin/pip install -r .ci/requirements.txt",
    );
    None
}

fn report(out: &tempfile::TempDir, suite: &str) -> Value {
    serde_json::from_str(&read(out.path().join(suite).join("report.json"))).unwrap()
}

#[test]
fn the_retail_suite_passes_its_gate_through_the_mcp_server() {
    if python().is_none() {
        return;
    }
    let (o, out) = eval_into("suites/retail.yaml", &[]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let r = report(&out, "retail");
    for id in [
        "cancel-pending",
        "cancel-delivered-refused",
        "order-status",
        "modify-address",
        "return-lamp",
    ] {
        assert_eq!(case(&r, id)["status"], "passed", "{id}: {}", case(&r, id));
    }
    // The mock agent takes the exchange for a return: the exact check names every path.
    let exchange = case(&r, "exchange-lamp");
    assert_eq!(exchange["status"], "failed");
    let reason = exchange["checks"][0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("end state differs at 3 paths"),
        "{reason}"
    );
    assert!(
        reason.contains(
            "orders.W-1001.status: expected \"exchange requested\", found \"return requested\""
        ),
        "{reason}"
    );
}

#[test]
fn each_run_gets_a_fresh_server_so_state_never_leaks() {
    if python().is_none() {
        return;
    }
    // One at a time, three times over: cancel-pending and modify-address both need order
    // W-1002 pending, so any world kept from an earlier run or repeat would fail one of them.
    let (o, out) = eval_into(
        "suites/retail.yaml",
        &["--repeat", "3", "--concurrency", "1"],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let r = report(&out, "retail");
    for id in [
        "cancel-pending",
        "modify-address",
        "cancel-delivered-refused",
    ] {
        // `passed`, not `flaky`: all three runs of each passed.
        assert_eq!(case(&r, id)["status"], "passed", "{id}: {}", case(&r, id));
    }
    // exchange-lamp's wrong return would likewise have made return-lamp's return refused.
    assert_eq!(case(&r, "return-lamp")["status"], "passed");
}

/// `suites/retail.yaml` with the server's `env` set, written beside the repository's files.
fn retail_with_env(env: &str, timeout: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("mocks")).unwrap();
    std::fs::copy(
        root().join("suites/mocks/retail.yaml"),
        dir.path().join("mocks/retail.yaml"),
    )
    .unwrap();
    let yaml = format!(
        "name: retail-broken\ndataset: {dataset}\ntarget:\n  harness:\n    model: mock:retail\n    tools: [retail.*]\n    mcp:\n      retail:\n        command: [{python}, {server}]\n        env: {env}\n        state: {{resource: 'state://db'}}\n        timeout: {timeout}\nchecks:\n  - end_state: {{mode: exact, expected: expected.state}}\ngate: {{min_pass_rate: 0, max_error_rate: 1}}\nrun: {{concurrency: 2, timeout: 60s}}\n",
        dataset = root().join("datasets/retail/cases.jsonl").display(),
        python = root().join(".venv/bin/python").display(),
        server = root().join("examples/retail/server.py").display(),
    );
    std::fs::write(dir.path().join("suite.yaml"), yaml).unwrap();
    dir
}

#[test]
fn a_crashing_server_errors_its_run_with_its_stderr_and_the_rest_completes() {
    if python().is_none() {
        return;
    }
    let dir = retail_with_env("{RETAIL_CRASH_ON: cancel_order}", "20s");
    let (o, out) = eval_into(dir.path().join("suite.yaml").to_str().unwrap(), &[]);
    let r = report(&out, "retail-broken");
    for id in ["cancel-pending", "cancel-delivered-refused"] {
        let c = case(&r, id);
        assert_eq!(c["status"], "errored", "{id}: {c}\n{}", stderr(&o));
        let why = c["error"].as_str().unwrap_or_default();
        assert!(why.contains("MCP server `retail`"), "{why}");
        assert!(why.contains("crashing on cancel_order as asked"), "{why}");
    }
    for id in ["order-status", "modify-address", "return-lamp"] {
        assert_eq!(case(&r, id)["status"], "passed", "{id}: {}", case(&r, id));
    }
}

#[test]
fn a_hanging_server_errors_its_run_at_its_timeout_and_the_rest_completes() {
    if python().is_none() {
        return;
    }
    let dir = retail_with_env("{RETAIL_HANG_ON: get_order}", "2s");
    let started = std::time::Instant::now();
    let (o, out) = eval_into(dir.path().join("suite.yaml").to_str().unwrap(), &[]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(40),
        "took {:?}",
        started.elapsed()
    );
    let r = report(&out, "retail-broken");
    let c = case(&r, "order-status");
    assert_eq!(c["status"], "errored", "{c}\n{}", stderr(&o));
    let why = c["error"].as_str().unwrap_or_default();
    assert!(why.contains("within 2s (hung)"), "{why}");
    assert!(why.contains("hanging on get_order as asked"), "{why}");
    for id in ["cancel-pending", "modify-address", "return-lamp"] {
        assert_eq!(case(&r, id)["status"], "passed", "{id}: {}", case(&r, id));
    }
}

#[test]
fn a_server_that_cannot_start_errors_every_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("mocks")).unwrap();
    std::fs::copy(
        root().join("suites/mocks/retail.yaml"),
        dir.path().join("mocks/retail.yaml"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("cases.jsonl"),
        "{\"id\": \"a\", \"input\": \"Where is my order W-1003?\"}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("suite.yaml"),
        "name: nostart\ndataset: cases.jsonl\ntarget:\n  harness:\n    model: mock:retail\n    tools: [retail.*]\n    mcp:\n      retail: {command: [./no-such-server]}\ngate: {min_pass_rate: 0, max_error_rate: 1}\n",
    )
    .unwrap();
    let (_, out) = eval_into(dir.path().join("suite.yaml").to_str().unwrap(), &[]);
    let r = report(&out, "nostart");
    let c = case(&r, "a");
    assert_eq!(c["status"], "errored", "{c}");
    assert!(c["error"].as_str().unwrap().contains("cannot start"), "{c}");
}

#[test]
fn mcp_mistakes_in_a_suite_are_load_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cases.jsonl"),
        "{\"id\": \"a\", \"input\": \"hi\"}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("suite.yaml"),
        "name: bad\ndataset: cases.jsonl\ntarget:\n  harness:\n    model: openai:gpt-4o-mini\n    tools: [retial.*]\n    mcp:\n      retail: {command: [python3, server.py], timeout: soon}\n",
    )
    .unwrap();
    let o = gauntlet(&["validate", dir.path().join("suite.yaml").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("`retial.*` names no MCP server `retial`"),
        "{err}"
    );
    assert!(err.contains("did you mean `retail.*`?"), "{err}");
    assert!(err.contains("MCP server `retail` offers no tool"), "{err}");
}

#[test]
fn a_team_agent_picking_mcp_tools_the_harness_does_not_take_is_a_load_error() {
    // Agents pick from what the harness takes: a server it does not have, or a tool it left out.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cases.jsonl"),
        "{\"id\": \"a\", \"input\": \"hi\"}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("suite.yaml"),
        "name: t\ndataset: cases.jsonl\ntarget:\n  harness:\n    model: openai:gpt-4o-mini\n    tools: [retail.get_order]\n    mcp:\n      retail: {command: [python3, server.py]}\n    team:\n      entry: a\n      agents:\n        a: {tools: [retail.cancel_order, shop.*]}\n",
    )
    .unwrap();
    let o = gauntlet(&["validate", dir.path().join("suite.yaml").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("agent `a`: tool `retail.cancel_order` is not one the harness takes from `retail` (get_order)"),
        "{err}"
    );
    assert!(
        err.contains("agent `a`: tool `shop.*` names no MCP server of the harness"),
        "{err}"
    );
}

#[test]
fn a_simulated_user_on_a_command_target_is_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cases.jsonl"),
        "{\"id\": \"a\", \"input\": \"hi\"}\n{\"id\": \"b\", \"input\": \"hi\", \"user\": {\"persona\": \"p\", \"goal\": \"g\"}}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("suite.yaml"),
        "name: u\ndataset: cases.jsonl\ntarget:\n  command: {argv: [python3, agent.py]}\n",
    )
    .unwrap();
    let o = gauntlet(&["validate", dir.path().join("suite.yaml").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("cases.jsonl:2")
            && err
                .contains("case `b`: a simulated `user` on a `command` target needs `user_model`"),
        "{err}"
    );
    assert!(!err.contains("case `a`"), "{err}");
}

/// `suites/retail.yaml` as `edit` changes it, in a folder of its own beside links to the
/// repository's datasets, mock rules and example server, so its relative paths still hold
/// (`suites/mocks/` is a folder of its own, for a test's own rules).
fn retail_copy(edit: impl Fn(&str) -> String) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("suites/mocks")).unwrap();
    for link in ["datasets", "examples"] {
        std::os::unix::fs::symlink(root().join(link), dir.path().join(link)).unwrap();
    }
    // Mock rules one by one: a test may add its own beside them.
    for mock in std::fs::read_dir(root().join("suites/mocks")).unwrap() {
        let mock = mock.unwrap();
        let to = dir.path().join("suites/mocks").join(mock.file_name());
        std::os::unix::fs::symlink(mock.path(), to).unwrap();
    }
    let suite = dir.path().join("suites/retail.yaml");
    std::fs::write(&suite, edit(&read(root().join("suites/retail.yaml")))).unwrap();
    (dir, suite)
}

/// The retail suite's server line with another program in place of the venv's python.
fn with_program(suite: &str, program: &str) -> String {
    let line = "command: [../.venv/bin/python, ../examples/retail/server.py]";
    assert!(
        suite.contains(line),
        "the retail suite changed its server line"
    );
    suite.replace(
        line,
        &format!("command: [{program}, ../examples/retail/server.py]"),
    )
}

#[test]
fn a_recorded_retail_run_replays_with_its_end_states_and_starts_no_server() {
    let Some(python) = python() else { return };
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().to_str().unwrap();
    let (o, recorded) = eval_into(
        "suites/retail.yaml",
        &["--record", "--cache-dir", cache_dir],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    // Every model call was offered the server's tools (the record keeps each request).
    let mut calls = 0;
    for entry in std::fs::read_dir(cache.path().join("models")).unwrap() {
        let entry: Value = serde_json::from_str(&read(entry.unwrap().path())).unwrap();
        let tools: Vec<&str> = entry["request"]["tools"]
            .as_array()
            .map(|t| t.iter().filter_map(|t| t["name"].as_str()).collect())
            .unwrap_or_default();
        for name in ["get_order", "cancel_order", "exchange_items"] {
            assert!(tools.contains(&name), "{name} not offered: {entry}");
        }
        calls += 1;
    }
    assert!(calls >= 6, "{calls} model calls recorded");
    // The replay calls no tool and starts no server (its program does not even exist here):
    // the tools listed, every call and the worlds the servers ended with come from the record,
    // so the exact end-state checks give the same verdicts.
    let (_dir, unstartable) = retail_copy(|s| with_program(s, "../no-such-python"));
    let (o, replayed) = eval_into(
        unstartable.to_str().unwrap(),
        &["--replay", "--cache-dir", cache_dir],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        read(recorded.path().join("retail/report.json")),
        read(replayed.path().join("retail/report.json"))
    );
    // A record without the server's tools/list is a replay miss that names it, not a start.
    let empty = tempfile::tempdir().unwrap();
    let (o, out) = eval_into(
        unstartable.to_str().unwrap(),
        &["--replay", "--cache-dir", empty.path().to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let r = report(&out, "retail");
    let reason = case(&r, "order-status")["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        reason.starts_with("MCP server `retail` (as recorded) has no recorded tools/list: replay miss in case `order-status` (repeat 0)"),
        "{reason}"
    );
    // A server without a state resource replays too (its end state is no record's to miss).
    let (_dir, stateless) = retail_copy(|s| {
        let s = with_program(s, python.to_str().unwrap());
        let s = s.replace("        state: {resource: \"state://db\"}", "");
        s.replace(
            "  - end_state: {mode: exact, expected: expected.state}\n",
            "",
        )
    });
    let stateless = stateless.to_str().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().to_str().unwrap();
    let (o, recorded) = eval_into(stateless, &["--record", "--cache-dir", cache_dir]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let (o, replayed) = eval_into(stateless, &["--replay", "--cache-dir", cache_dir]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(report(&recorded, "retail")["summary"]["errored"], 0);
    assert_eq!(
        read(recorded.path().join("retail/report.json")),
        read(replayed.path().join("retail/report.json"))
    );
}

#[test]
fn a_check_naming_a_tool_no_mcp_server_offers_errors_each_run_with_the_nearest_name() {
    let Some(python) = python() else { return };
    let (_dir, suite) = retail_copy(|s| {
        let s = with_program(s, python.to_str().unwrap());
        let line = "  - max_steps: 6\n";
        assert!(s.contains(line), "the retail suite changed its checks");
        s.replace(line, &format!("{line}  - tool_not_called: cancel_ordr\n"))
    });
    let (o, out) = eval_into(suite.to_str().unwrap(), &[]);
    // Not a vacuous pass (the typo is never called): every run errors, naming it.
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let r = report(&out, "retail");
    for c in r["cases"].as_array().unwrap() {
        assert_eq!(c["status"], "errored", "{c}");
        assert_eq!(
            c["error"],
            "a check, `faults` or an agent's `tools` names tool `cancel_ordr`, which neither the harness nor its \
             MCP servers offer (hint: did you mean `cancel_order`?)",
        );
    }
}

#[test]
fn a_state_source_beside_mcp_servers_without_state_is_the_end_state() {
    let Some(python) = python() else { return };
    let (_dir, suite) = retail_copy(|s| {
        let s = with_program(s, python.to_str().unwrap());
        let state = "        state: {resource: \"state://db\"}   # read after each run: the run's end state\n";
        assert!(s.contains(state), "the retail suite changed its state line");
        let s = s.replace(state, "");
        // The source answers the case it was asked about: read at the end of each run.
        let source = format!(
            "    state: {{command: {{argv: [{}, -c, \"import json, sys; print(json.dumps({{'case': json.load(sys.stdin)['case_id']}}))\"]}}}}\n    max_steps: 6\n",
            python.display()
        );
        let s = s.replace("    max_steps: 6\n", &source);
        s.replace(
            "  - end_state: {mode: exact, expected: expected.state}\n",
            "  - expr: \"state.case == case.id\"\n",
        )
    });
    let (o, out) = eval_into(suite.to_str().unwrap(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let r = report(&out, "retail");
    let cases = r["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 6);
    for c in cases {
        let expr = &c["checks"][0];
        assert_eq!(expr["check"], "expr \"state.case == case.id\"", "{c}");
        assert_eq!(expr["outcome"], "pass", "{c}");
    }
}

/// A team over the MCP servers: the front agent is offered only the tool it picked, hands the
/// conversation to the orders agent, which is offered all of them — on the same server
/// session, so the world it changes is the run's end state.
#[test]
fn a_team_shares_the_runs_mcp_session_and_each_agent_gets_its_pick() {
    let Some(python) = python() else { return };
    let (dir, suite) = retail_copy(|s| {
        let s = with_program(s, python.to_str().unwrap());
        let team = "    max_steps: 6\n    team:\n      entry: front\n      agents:\n        \
                    front:\n          model: mock:front\n          tools: [retail.get_order]\n          \
                    handoffs: [orders]\n        orders:\n          model: mock:orders\n          \
                    tools: [retail.*]\n";
        s.replace("    max_steps: 6\n", team)
    });
    let mocks = dir.path().join("suites/mocks");
    std::fs::write(
        mocks.join("front.yaml"),
        "rules:\n  - when: {user: '.'}\n    reply: {tool_calls: [{name: transfer_to_orders, args: {}}]}\n",
    )
    .unwrap();
    std::fs::write(
        mocks.join("orders.yaml"),
        r#"rules:
  - when: {tool_name: transfer_to_orders, prompt: '(?i)\bcancel\b.*?(?P<order>W-\d{4})'}
    reply: {tool_calls: [{name: cancel_order, args: {order_id: "{{ order }}", reason: "no longer needed"}}]}
  - when: {tool_name: transfer_to_orders, prompt: '(?i)\b(where|status)\b.*?(?P<order>W-\d{4})'}
    reply: {tool_calls: [{name: get_order, args: {order_id: "{{ order }}"}}]}
  - when: {tool_name: cancel_order, tool: '"order_id":"(?P<order>[^"]+)"'}
    reply: {text: "Order {{ order }} is cancelled; the payment will be refunded."}
  - when: {tool_name: get_order, tool: '"order_id":"(?P<order>[^"]+)".*"status":"(?P<status>[^"]+)","tracking":"(?P<tracking>[^"]+)"'}
    reply: {text: "Order {{ order }} is {{ status }} (tracking {{ tracking }})."}
"#,
    )
    .unwrap();
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().to_str().unwrap();
    let two = ["--filter", "cancel-pending", "--filter", "order-status"];
    let args = |mode: &'static str| [&two[..], &[mode, "--cache-dir", cache_dir]].concat();
    let (o, out) = eval_into(suite.to_str().unwrap(), &args("--record"));
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let r = report(&out, "retail");
    for id in ["cancel-pending", "order-status"] {
        // The exact end-state check passes: the orders agent's cancel reached the world that
        // the run's session keeps after the handoff.
        assert_eq!(case(&r, id)["status"], "passed", "{id}: {}", case(&r, id));
    }
    // Each agent was offered its pick, with its links.
    for entry in std::fs::read_dir(cache.path().join("models")).unwrap() {
        let entry: Value = serde_json::from_str(&read(entry.unwrap().path())).unwrap();
        let mut tools: Vec<&str> = entry["request"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["name"].as_str())
            .collect();
        tools.sort();
        match entry["request"]["model"].as_str().unwrap() {
            "front" => assert_eq!(tools, ["get_order", "transfer_to_orders"], "{entry}"),
            "orders" => assert!(
                tools.contains(&"cancel_order") && tools.len() == 8,
                "{tools:?}"
            ),
            other => panic!("a call of model {other}"),
        }
    }
    // The team replays from the record with no server at all, sub-agent calls included.
    let text = read(&suite).replace(python.to_str().unwrap(), "../no-such-python");
    std::fs::write(&suite, text).unwrap();
    let (o, replayed) = eval_into(suite.to_str().unwrap(), &args("--replay"));
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        read(out.path().join("retail/report.json")),
        read(replayed.path().join("retail/report.json"))
    );
}

/// Two sub-agents called in one model turn run at once on the run's one MCP session: both
/// calls reach the server and come back into their own agent steps, in call order.
#[test]
fn a_fan_out_of_sub_agents_calls_the_shared_mcp_session_concurrently() {
    let Some(python) = python() else { return };
    let (dir, suite) = retail_copy(|s| {
        let s = with_program(s, python.to_str().unwrap());
        let team = "    max_steps: 6\n    team:\n      entry: front\n      agents:\n        \
                    front:\n          model: mock:front\n          agents: [orders]\n        \
                    orders:\n          model: mock:orders\n          tools: [retail.get_order]\n";
        s.replace("    max_steps: 6\n", team)
    });
    let mocks = dir.path().join("suites/mocks");
    std::fs::write(
        mocks.join("front.yaml"),
        r#"rules:
  - when: {user: '(?P<order>W-\d{4})'}
    reply:
      tool_calls:
        - {name: orders, args: {task: "status of {{ order }}"}}
        - {name: orders, args: {task: "status of W-1002"}}
  - when: {tool_name: orders, context: '(?s)"answer":"(?P<first>[^"]*)".*"answer":"(?P<second>[^"]*)"'}
    reply: {text: "{{ first }} {{ second }}"}
"#,
    )
    .unwrap();
    std::fs::write(
        mocks.join("orders.yaml"),
        r#"rules:
  - when: {user: 'status of (?P<order>W-\d{4})'}
    reply: {tool_calls: [{name: get_order, args: {order_id: "{{ order }}"}}]}
  - when: {tool_name: get_order, tool: '"order_id":"(?P<order>[^"]+)".*"status":"(?P<status>[^"]+)","tracking":"(?P<tracking>[^"]+)"'}
    reply: {text: "Order {{ order }} is {{ status }} (tracking {{ tracking }})."}
  - when: {tool_name: get_order, tool: '"order_id":"(?P<order>[^"]+)".*"status":"(?P<status>[^"]+)"'}
    reply: {text: "Order {{ order }} is {{ status }}."}
"#,
    )
    .unwrap();
    let (o, out) = eval_into(suite.to_str().unwrap(), &["--filter", "order-status"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        case(&report(&out, "retail"), "order-status")["status"],
        "passed"
    );
    let line = read(out.path().join("retail/trajectories.jsonl"));
    let t: Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    let front = &t["trajectory"]["steps"][1];
    assert_eq!(front["name"], "front", "{front}");
    let answers: Vec<String> = front["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["type"] == "agent")
        .map(|s| {
            let tool = s["steps"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["type"] == "tool")
                .expect("a get_order step");
            assert!(tool.get("error").is_none(), "{tool}");
            tool["args"]["order_id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(answers, ["W-1003", "W-1002"], "{front}");
}
