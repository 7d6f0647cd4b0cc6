//! A `command` tool server that keeps a world per run (by `GAUNTLET_SESSION`), read back by the
//! harness's `state:` source as the run's end state and scored by `end_state: {mode: exact}`.

use std::path::Path;

use serde_json::Value;

use crate::support::{eval_into, read, stderr, stdout};

const TOOL: &str = r#"
import json, os, sys
from pathlib import Path
store = Path(sys.argv[1])
session = os.environ["GAUNTLET_SESSION"]
world_file = store / f"{session}.json"
world = json.loads(world_file.read_text()) if world_file.exists() else {"notes": []}
asked = json.load(sys.stdin)
if sys.argv[2] == "add":
    world["notes"].append({"text": asked["text"], "case": os.environ["GAUNTLET_CASE_ID"],
                           "repeat": int(os.environ["GAUNTLET_REPEAT"]),
                           "call": int(os.environ["GAUNTLET_CALL_INDEX"])})
    world_file.write_text(json.dumps(world))
    print(json.dumps({"count": len(world["notes"])}))
else:
    assert asked["session"] == session, asked
    world["asked"] = {"case": asked["case_id"], "repeat": asked["repeat"]}
    print(json.dumps(world))
"#;

const RULES: &str = r#"
rules:
  - when: {user: 'note (?P<t>\w+)'}
    reply:
      tool_calls:
        - {name: add_note, args: {text: "{{ t }}"}}
        - {name: add_note, args: {text: again}}
  - when: {tool_name: add_note}
    reply: {text: Noted.}
"#;

/// The notes tool server in `dir` (its script and its store of one world per session) as the
/// harness's custom tool and state source: YAML lines under `harness:`. Arguments are passed as
/// written: a command tool runs where gauntlet runs.
fn notes_tools(dir: &Path) -> String {
    let store = dir.join("store");
    std::fs::create_dir(&store).unwrap();
    let tool = dir.join("tool.py");
    std::fs::write(&tool, TOOL).unwrap();
    let (tool, store) = (tool.display(), store.display());
    format!(
        "    custom_tools:\n      - name: add_note\n        parameters: {{type: object, properties: {{text: {{type: string}}}}, required: [text]}}\n        command: {{argv: [python3, {tool}, {store}, add]}}\n    state: {{command: {{argv: [python3, {tool}, {store}, state]}}}}\n"
    )
}

/// Runs `dir/suite.yaml` (suite `notes`) with two repeats; it must pass its gate. Its report,
/// and the folder of its reports.
fn run_twice(dir: &Path) -> (Value, tempfile::TempDir) {
    let (o, out) = eval_into(dir.join("suite.yaml").to_str().unwrap(), &["--repeat", "2"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let report = serde_json::from_str(&read(out.path().join("notes/report.json"))).unwrap();
    (report, out)
}

#[test]
fn a_command_tool_server_keeps_a_world_per_run_and_end_state_sees_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("mocks")).unwrap();
    std::fs::write(dir.path().join("mocks/notes.yaml"), RULES).unwrap();
    let expected = |case: &str, text: &str| {
        serde_json::json!({"notes": [
            {"text": text, "case": case, "call": 0},
            {"text": "again", "case": case, "call": 1}],
         "asked": {"case": case}})
    };
    let cases = [("a", "hello"), ("b", "world")]
        .iter()
        .map(|(id, text)| {
            serde_json::json!({"id": id, "input": format!("note {text}"),
                               "expected": {"state": expected(id, text)}})
            .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(dir.path().join("cases.jsonl"), cases).unwrap();
    let tools = notes_tools(dir.path());
    std::fs::write(
        dir.path().join("suite.yaml"),
        format!(
            "name: notes\ndataset: cases.jsonl\ntarget:\n  harness:\n    model: mock:notes\n{tools}checks:\n  - end_state: {{mode: exact, expected: expected.state, ignore: [notes.*.repeat, asked.repeat]}}\nrun: {{concurrency: 4}}\n"
        ),
    )
    .unwrap();
    let (report, out) = run_twice(dir.path());
    for c in report["cases"].as_array().unwrap() {
        assert_eq!(c["status"], "passed", "{c}");
    }
    // One world per run: 2 cases × 2 repeats.
    assert_eq!(
        std::fs::read_dir(dir.path().join("store")).unwrap().count(),
        4
    );
    // The state of each run names its own repeat.
    let trajectories = read(out.path().join("notes/trajectories.jsonl"));
    let first: Value = serde_json::from_str(trajectories.lines().next().unwrap()).unwrap();
    let state = &first["trajectory"]["state"];
    assert_eq!(
        state["asked"]["repeat"], state["notes"][0]["repeat"],
        "{state}"
    );
}

/// After a handoff, the next agent's tools act in the same run: the tool server is told the
/// run's session and repeat, so the world the state source reads holds what they did.
#[test]
fn a_handed_off_agents_tools_keep_the_runs_session() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("mocks")).unwrap();
    std::fs::write(
        dir.path().join("mocks/front.yaml"),
        "rules:\n  - when: {user: '.'}\n    reply: {tool_calls: [{name: transfer_to_notes, args: {}}]}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("mocks/notes.yaml"),
        RULES.replace(
            "{user: 'note (?P<t>\\w+)'}",
            "{tool_name: transfer_to_notes, prompt: 'note (?P<t>\\w+)'}",
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("cases.jsonl"),
        "{\"id\": \"a\", \"input\": \"note hello\"}\n",
    )
    .unwrap();
    let tools = notes_tools(dir.path());
    std::fs::write(
        dir.path().join("suite.yaml"),
        format!(
            "name: notes\ndataset: cases.jsonl\ntarget:\n  harness:\n    model: mock:front\n{tools}    team:\n      entry: front\n      agents:\n        front: {{handoffs: [notes]}}\n        notes: {{model: 'mock:notes', tools: [add_note]}}\nchecks:\n  - expr: \"state.notes | length == 2 and state.notes[0].repeat == state.asked.repeat\"\nrun: {{concurrency: 2}}\n"
        ),
    )
    .unwrap();
    let (report, _out) = run_twice(dir.path());
    assert_eq!(report["cases"][0]["status"], "passed", "{report}");
    // One world per run, none under an empty session.
    let worlds: Vec<String> = std::fs::read_dir(dir.path().join("store"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(worlds.len(), 2, "{worlds:?}");
    assert!(!worlds.contains(&".json".to_string()), "{worlds:?}");
}
