//! Helpers to run the binary and read what it wrote.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root: tests run the binary from here so paths in messages are relative.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `gauntlet ARGS` from the repository root, without colour or progress bar.
pub fn gauntlet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .env_remove("GAUNTLET_LOG")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .expect("the gauntlet binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn read(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Runs `eval` of `suite` into a fresh temporary reports folder and returns (output, folder).
pub fn eval_into(suite: &str, extra: &[&str]) -> (Output, tempfile::TempDir) {
    let out = tempfile::tempdir().expect("temp dir");
    let out_str = out.path().to_str().expect("utf-8 temp path").to_string();
    let mut args = vec!["eval", suite, "--out", &out_str];
    args.extend_from_slice(extra);
    (gauntlet(&args), out)
}

/// An OpenAI-compatible agent for wiremock: a `lookup_order` tool call first, then an answer
/// using its result. The field is the model name the server reports.
pub struct OpenAiAgent(pub &'static str);

impl wiremock::Respond for OpenAiAgent {
    fn respond(&self, req: &wiremock::Request) -> wiremock::ResponseTemplate {
        let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
        let after_tool = body["messages"]
            .as_array()
            .and_then(|m| m.last())
            .is_some_and(|m| m["role"] == "tool");
        let message = if after_tool {
            serde_json::json!({"role": "assistant", "content": "Order 7 has shipped."})
        } else {
            serde_json::json!({"role": "assistant", "content": null, "tool_calls": [{
                "id": "call_x", "type": "function",
                "function": {"name": "lookup_order", "arguments": "{\"order_id\": \"7\"}"}}]})
        };
        wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "id": "chatcmpl-1", "object": "chat.completion", "model": self.0,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 50, "completion_tokens": 10, "total_tokens": 60}
        }))
    }
}

/// What a test does when an external program or package it needs is missing: outside CI it is
/// skipped with a message; in CI (`CI=true`, which `.ci/run` is run with) it fails, so a missing
/// install step can never pass as green.
pub fn missing_external(what: &str, hint: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{what} is missing in CI ({hint}): .ci/run should have installed it");
    }
    eprintln!("SKIPPED: {what} is missing ({hint})");
}

/// A report file with its wall-clock values blanked, for comparing two runs: junit.xml's
/// `time` attributes and results.csv's `latency_ms` and `duration_ms` (its last two columns).
pub fn without_timings(name: &str, text: &str) -> String {
    if name.ends_with(".csv") {
        return text
            .lines()
            .map(|line| {
                let cells: Vec<&str> = line.rsplitn(3, ',').collect();
                cells.last().copied().unwrap_or(line).to_string()
            })
            .collect::<Vec<_>>()
            .join("\n");
    }
    let time = regex::Regex::new(r#" time="[0-9.]+""#).expect("regex");
    time.replace_all(text, r#" time="<t>""#).into_owned()
}

/// The case `id` of a parsed report.json; a missing one fails the test naming it.
pub fn case<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["cases"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no case {id} in {report}"))
}
