//! The turn protocol: a simulated user (a mock model with rules) talks with a `command` agent
//! turn by turn; every turn is in the trajectory.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::{eval_into, read, stderr, stdout};

/// Answers each turn with what it got: the turn index, the message and how much history came
/// with it; a `note` tool step per turn; the world's state counts the turns. With `--lines` it
/// is persistent (one JSON line per turn, echoing `id` and `repeat`).
const AGENT: &str = r#"
import json, sys

def answer(req):
    if "turn" not in req:  # a case with no simulated user: one request, as always
        assert "history" not in req, req
        req = dict(req, turn=0, history=[])
    turn, history = req["turn"], req["history"]
    assert req["input"] == req["turns"][-1] and len(req["turns"]) == turn + 1, req
    assert len(history) == 2 * turn, req
    assert all(h["role"] == ("user" if i % 2 == 0 else "agent") for i, h in enumerate(history)), req
    text = req["input"]
    out = "refund issued for order 7" if "refund" in text else f"turn {turn}: which order?"
    reply = {"output": out,
             "trajectory": {"steps": [
                 {"type": "tool", "name": "note", "args": {"turn": turn}, "result": {"ok": True}},
                 {"type": "model", "content": out, "usage": {"input_tokens": 10, "output_tokens": 1}}]},
             "state": {"turns": turn + 1}}
    if "--lines" in sys.argv:
        reply["id"], reply["repeat"] = req["id"], req["repeat"]
    return reply

if "--http" in sys.argv:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            body = json.dumps(answer(req)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"listening on http://127.0.0.1:{server.server_port}/", flush=True)
    server.serve_forever()
elif "--lines" in sys.argv:
    for line in sys.stdin:
        print(json.dumps(answer(json.loads(line))), flush=True)
else:
    print(json.dumps(answer(json.load(sys.stdin))))
"#;

/// The simulated user: asks for a refund once the agent asked which order, stops when it is done.
const USER: &str = r#"
rules:
  - when: {purpose: simulated_user, user: 'refund issued'}
    reply: {text: "Thanks! ###STOP###"}
  - when: {purpose: simulated_user, user: 'which order'}
    reply: {text: "I want a refund for order 7"}
"#;

/// A user that never stops: the conversation ends at `max_turns`.
const STUBBORN: &str = r#"
rules:
  - when: {purpose: simulated_user}
    reply: {text: "and another thing"}
"#;

/// Writes the agent and the user's rules (the suite comes later: an http target needs the
/// agent running first).
fn agent_files(dir: &Path) {
    std::fs::create_dir_all(dir.join("mocks")).unwrap();
    std::fs::write(dir.join("agent.py"), AGENT).unwrap();
    std::fs::write(dir.join("mocks/user.yaml"), USER).unwrap();
    std::fs::write(dir.join("mocks/stubborn.yaml"), STUBBORN).unwrap();
}

/// Writes the cases and a suite whose target is `kind: {fields, user_model}`.
fn suite(dir: &Path, kind: &str, fields: &str, user_model: &str) {
    std::fs::write(
        dir.join("cases.jsonl"),
        concat!(
            r#"{"id": "refund", "input": ["hello", "my parcel"], "user": {"persona": "brief", "goal": "refund order 7", "max_turns": 6}, "checks": [{"contains": "refund issued"}, {"end_state": {"turns": 3}}]}"#,
            "\n",
            r#"{"id": "one-shot", "input": "hi", "checks": [{"contains": "which order"}]}"#,
            "\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("suite.yaml"),
        format!("name: turns\ndataset: cases.jsonl\ntarget:\n  {kind}: {{{fields}, user_model: {user_model}}}\nrun: {{repeat: 2}}\n"),
    )
    .unwrap();
}

fn trajectories(out: &Path) -> Vec<Value> {
    read(out.join("turns/trajectories.jsonl"))
        .lines()
        .map(|l| serde_json::from_str(l).expect("a trajectory line"))
        .collect()
}

fn user_turns(t: &Value) -> Vec<String> {
    t["trajectory"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["type"] == "user")
        .map(|s| s["content"].as_str().unwrap().to_string())
        .collect()
}

fn run(kind: &str, fields: &str, user_model: &str) -> (Value, Vec<Value>) {
    let dir = tempfile::tempdir().unwrap();
    agent_files(dir.path());
    run_in(dir.path(), kind, fields, user_model)
}

fn run_in(dir: &Path, kind: &str, fields: &str, user_model: &str) -> (Value, Vec<Value>) {
    suite(dir, kind, fields, user_model);
    let (o, out) = eval_into(dir.join("suite.yaml").to_str().unwrap(), &[]);
    if user_model == "mock:user" {
        assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    }
    let report = serde_json::from_str(&read(out.path().join("turns/report.json"))).unwrap();
    (report, trajectories(out.path()))
}

fn assert_conversation(traj: &[Value]) {
    let refunds: Vec<&Value> = traj.iter().filter(|t| t["id"] == "refund").collect();
    assert_eq!(refunds.len(), 1, "{traj:?}");
    for t in refunds {
        // Two scripted turns, one simulated; the user's "Thanks! ###STOP###" ends it.
        assert_eq!(
            user_turns(t),
            ["hello", "my parcel", "I want a refund for order 7"],
            "{t}"
        );
        let steps = t["trajectory"]["steps"].as_array().unwrap();
        assert_eq!(steps.len(), 9, "user, tool, model per turn: {t}");
        let notes: Vec<&Value> = steps
            .iter()
            .filter(|s| s["type"] == "tool")
            .map(|s| &s["args"]["turn"])
            .collect();
        assert_eq!(notes, [0, 1, 2], "{t}");
        assert_eq!(t["trajectory"]["output"], "refund issued for order 7");
        assert_eq!(t["trajectory"]["usage"]["input_tokens"], 30, "summed: {t}");
        assert_eq!(t["trajectory"]["state"], serde_json::json!({"turns": 3}));
    }
    let one_shot = traj.iter().find(|t| t["id"] == "one-shot").unwrap();
    assert!(user_turns(one_shot).is_empty(), "as today: {one_shot}");
}

#[test]
fn a_simulated_user_drives_a_per_case_command_agent_turn_by_turn() {
    let (report, traj) = run("command", "argv: [python3, agent.py]", "mock:user");
    assert_eq!(report["summary"]["passed"], 2, "{report}");
    assert_conversation(&traj);
}

#[test]
fn a_simulated_user_drives_a_persistent_command_agent_turn_by_turn() {
    let (report, traj) = run(
        "command",
        "argv: [python3, agent.py, --lines], persistent: true",
        "mock:user",
    );
    assert_eq!(report["summary"]["passed"], 2, "{report}");
    assert_conversation(&traj);
}

#[test]
fn a_user_that_never_stops_is_cut_at_max_turns() {
    let (_, traj) = run("command", "argv: [python3, agent.py]", "mock:stubborn");
    let t = traj.iter().find(|t| t["id"] == "refund").unwrap();
    let turns = user_turns(t);
    assert_eq!(turns.len(), 6, "max_turns counts the scripted turns: {t}");
    assert_eq!(turns[2..], ["and another thing"; 4]);
}

#[test]
fn a_simulated_user_drives_an_http_agent_turn_by_turn() {
    let dir = tempfile::tempdir().unwrap();
    agent_files(dir.path());
    let mut child = Command::new("python3")
        .arg(dir.path().join("agent.py"))
        .arg("--http")
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("the server announces its port");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    let result = std::panic::catch_unwind(|| {
        run_in(dir.path(), "http", &format!("url: \"{url}\""), "mock:user")
    });
    let _ = child.kill();
    let _ = child.wait();
    let (report, traj) = result.unwrap();
    assert_eq!(report["summary"]["passed"], 2, "{report}");
    assert_conversation(&traj);
}

#[test]
fn without_a_user_model_a_simulated_user_is_still_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    agent_files(dir.path());
    suite(
        dir.path(),
        "http",
        "url: \"http://127.0.0.1:9/\"",
        "mock:user",
    );
    let text = read(dir.path().join("suite.yaml")).replace(", user_model: mock:user", "");
    std::fs::write(dir.path().join("suite.yaml"), text).unwrap();
    let o =
        crate::support::gauntlet(&["validate", dir.path().join("suite.yaml").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o)
            .contains("case `refund`: a simulated `user` on an `http` target needs `user_model`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn turn_by_turn_sends_a_case_without_a_simulated_user_through_the_turn_protocol() {
    let (report, traj) = run(
        "command",
        "argv: [python3, agent.py], turn_by_turn: true",
        "mock:user",
    );
    assert_eq!(report["summary"]["passed"], 2, "{report}");
    let one_shot = traj.iter().find(|t| t["id"] == "one-shot").unwrap();
    assert_eq!(user_turns(one_shot), ["hi"], "{one_shot}");
}
