//! HTTP providers against a local mock server (wiremock): the exact request bodies of each
//! API, realistic responses, retries with `Retry-After`, the circuit breaker, the fallback
//! chain, and whole suites run end to end through the binary.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gauntlet::provider::anthropic::AnthropicProvider;
use gauntlet::provider::http::HttpClient;
use gauntlet::provider::openai::OpenAiProvider;
use gauntlet::provider::retry::Retry;
use gauntlet::provider::settings::RetryPolicy;
use gauntlet::provider::types::{Message, ModelRequest, Provider, Purpose, ToolSpec};
use gauntlet::trajectory::ToolCall;
use serde_json::{json, Value};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::{read, root, stderr, stdout, OpenAiAgent};

const KEY: &str = "sk-test-SECRET-4242";

fn request(model: &str) -> ModelRequest {
    ModelRequest {
        model: model.into(),
        messages: vec![
            Message::system("You are support."),
            Message::user("Where is order 7?"),
            Message::assistant(
                "",
                vec![ToolCall {
                    id: "call_1".into(),
                    name: "lookup_order".into(),
                    args: json!({"order_id": "7"}),
                }],
            ),
            Message::tool("call_1", "lookup_order", r#"{"status":"shipped"}"#),
        ],
        tools: vec![ToolSpec {
            name: "lookup_order".into(),
            description: "Look up an order by id.".into(),
            parameters: json!({"type": "object", "properties": {"order_id": {"type": "string"}},
                               "required": ["order_id"]}),
        }]
        .into(),
        temperature: Some(0.0),
        max_tokens: Some(300),
        purpose: Purpose::Agent,
        seed: None,
        response_format: None,
    }
}

fn client(name: &str) -> HttpClient {
    HttpClient::new(name, Duration::from_secs(10)).unwrap()
}

fn received_body(server_requests: &[Request]) -> Value {
    assert_eq!(server_requests.len(), 1, "one request");
    serde_json::from_slice(&server_requests[0].body).unwrap()
}

#[tokio::test]
async fn openai_request_body_and_headers_match_the_documented_shape() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "chatcmpl-9", "object": "chat.completion", "created": 1731000000,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": null,
                         "message": {"role": "assistant", "content": "Order 7 has shipped.", "refusal": null}}],
            "usage": {"prompt_tokens": 91, "completion_tokens": 7, "total_tokens": 98},
            "system_fingerprint": "fp_1"
        })))
        .mount(&server)
        .await;
    let p = OpenAiProvider::new(
        client("openai"),
        format!("{}/v1", server.uri()),
        Some(KEY.into()),
    );
    let r = p.complete(&request("gpt-4o-mini")).await.unwrap();
    assert_eq!(r.content.as_deref(), Some("Order 7 has shipped."));
    assert_eq!((r.usage.input_tokens, r.usage.output_tokens), (91, 7));
    assert_eq!(r.model, "gpt-4o-mini-2024-07-18");

    let body = received_body(&server.received_requests().await.unwrap());
    assert_eq!(
        body,
        json!({
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "system", "content": "You are support."},
                {"role": "user", "content": "Where is order 7?"},
                {"role": "assistant", "content": null, "tool_calls": [{
                    "id": "call_1", "type": "function",
                    "function": {"name": "lookup_order", "arguments": "{\"order_id\":\"7\"}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "{\"status\":\"shipped\"}"}
            ],
            "tools": [{"type": "function", "function": {
                "name": "lookup_order", "description": "Look up an order by id.",
                "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}},
                               "required": ["order_id"]}}}],
            "temperature": 0.0,
            "max_tokens": 300
        })
    );
}

#[tokio::test]
async fn anthropic_request_body_and_headers_match_the_documented_shape() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(header("x-api-key", KEY))
        .and(header("anthropic-version", "2023-06-01"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "msg_01XF", "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-5-20250929",
            "content": [
                {"type": "text", "text": "Let me check the order."},
                {"type": "tool_use", "id": "toolu_01A", "name": "lookup_order", "input": {"order_id": "7"}}
            ],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 380, "output_tokens": 54,
                      "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
        })))
        .mount(&server)
        .await;
    let p = AnthropicProvider::new(client("anthropic"), server.uri(), Some(KEY.into()));
    let mut req = request("claude-sonnet-4-5");
    req.max_tokens = None;
    let r = p.complete(&req).await.unwrap();
    assert_eq!(r.content.as_deref(), Some("Let me check the order."));
    assert_eq!(r.tool_calls.len(), 1);
    assert_eq!(r.tool_calls[0].id, "toolu_01A");
    assert_eq!(r.tool_calls[0].args, json!({"order_id": "7"}));
    assert_eq!((r.usage.input_tokens, r.usage.output_tokens), (380, 54));

    let body = received_body(&server.received_requests().await.unwrap());
    assert_eq!(
        body,
        json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 1024,
            "system": "You are support.",
            "messages": [
                {"role": "user", "content": "Where is order 7?"},
                {"role": "assistant", "content": [
                    {"type": "tool_use", "id": "call_1", "name": "lookup_order", "input": {"order_id": "7"}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "call_1", "content": "{\"status\":\"shipped\"}"}]}
            ],
            "tools": [{"name": "lookup_order", "description": "Look up an order by id.",
                       "input_schema": {"type": "object", "properties": {"order_id": {"type": "string"}},
                                        "required": ["order_id"]}}],
            "temperature": 0.0
        })
    );
}

/// Answers 429 with `Retry-After: 1` first, then 200.
struct RateLimitedOnce(std::sync::atomic::AtomicUsize);

impl Respond for RateLimitedOnce {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        if self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(
                    json!({"error": {"message": "Rate limit reached", "type": "requests"}}),
                )
        } else {
            ResponseTemplate::new(200).set_body_json(json!({
                "model": "gpt-4o-mini",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1}
            }))
        }
    }
}

#[tokio::test]
async fn a_429_is_retried_after_its_retry_after_delay() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(RateLimitedOnce(Default::default()))
        .mount(&server)
        .await;
    let inner = Arc::new(OpenAiProvider::new(
        client("openai"),
        format!("{}/v1", server.uri()),
        None,
    ));
    // A zero base delay: any wait observed comes from the Retry-After header.
    let retry = Retry::new(
        inner,
        RetryPolicy {
            attempts: 3,
            base_delay: Duration::ZERO,
            max_delay: Duration::from_secs(5),
        },
    );
    let started = Instant::now();
    let r = retry.complete(&request("gpt-4o-mini")).await.unwrap();
    assert_eq!(r.content.as_deref(), Some("ok"));
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited at least Retry-After"
    );
}

#[tokio::test]
async fn a_401_fails_at_once_with_the_providers_message_and_no_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": {"message": "Incorrect API key provided.", "type": "invalid_request_error",
                      "code": "invalid_api_key"}})))
        .mount(&server)
        .await;
    let inner = Arc::new(OpenAiProvider::new(
        client("openai"),
        format!("{}/v1", server.uri()),
        Some(KEY.into()),
    ));
    let retry = Retry::new(
        inner,
        RetryPolicy {
            attempts: 4,
            base_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
        },
    );
    let e = retry.complete(&request("gpt-4o-mini")).await.unwrap_err();
    assert_eq!(
        e.message,
        "openai answered HTTP 401: Incorrect API key provided."
    );
    assert!(!e.message.contains(KEY) && !format!("{e:?}").contains(KEY));
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "not retried"
    );
}

#[tokio::test]
async fn a_200_with_garbage_is_an_error_quoting_the_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>proxy error</html>"))
        .mount(&server)
        .await;
    let p = OpenAiProvider::new(client("openai"), server.uri(), None);
    let e = p.complete(&request("m")).await.unwrap_err();
    assert!(!e.retryable);
    assert!(
        e.message.contains("<html>proxy error</html>"),
        "{}",
        e.message
    );
}

// --- whole suites through the binary

/// Runs `gauntlet eval SUITE` with the given environment (provider variables cleared first).
fn eval_with_env(suite: &str, env: &[(&str, &str)], out: &Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gauntlet"));
    cmd.args(["eval", suite, "--out", out.to_str().unwrap()])
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("GAUNTLET_LOG");
    for var in [
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_BASE_URL",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the gauntlet binary runs")
}

/// Runs the binary off the async runtime, so the mock server keeps answering.
async fn eval_async(
    suite: &'static str,
    env: Vec<(String, String)>,
) -> (Output, tempfile::TempDir) {
    tokio::task::spawn_blocking(move || {
        let out = tempfile::tempdir().unwrap();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        (eval_with_env(suite, &env, out.path()), out)
    })
    .await
    .unwrap()
}

fn report(out: &Path, suite: &str) -> Value {
    serde_json::from_str(&read(out.join(suite).join("report.json"))).unwrap()
}

fn all_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            files.extend(all_files(&p));
        } else {
            files.push(p);
        }
    }
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suite_runs_end_to_end_on_an_openai_compatible_server_and_never_writes_the_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(OpenAiAgent("gpt-4o-mini-2024-07-18"))
        .mount(&server)
        .await;
    let (o, out) = eval_async(
        "tests/fixtures/valid/providers/openai.yaml",
        vec![
            ("OPENAI_BASE_URL".into(), format!("{}/v1", server.uri())),
            ("OPENAI_API_KEY".into(), KEY.into()),
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let r = report(out.path(), "openai-e2e");
    let cases = r["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 8);
    for c in cases {
        assert_eq!(c["status"], "passed", "{c}");
        assert_eq!(
            c["usage"],
            json!({"input_tokens": 100, "output_tokens": 20})
        );
    }
    // Two calls per case: the tool call, then the answer.
    assert_eq!(server.received_requests().await.unwrap().len(), 16);

    let files = all_files(out.path());
    assert!(files.len() >= 3, "{files:?}");
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        assert!(!text.contains(KEY), "the key leaked into {}", f.display());
    }
    assert!(!stdout(&o).contains(KEY) && !stderr(&o).contains(KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_500s_open_the_breaker_and_later_cases_fail_fast_as_errored() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(json!({"error": {"message": "The server had an error"}})),
        )
        .mount(&server)
        .await;
    let (o, out) = eval_async(
        "tests/fixtures/valid/providers/breaker.yaml",
        vec![
            ("OPENAI_BASE_URL".into(), format!("{}/v1", server.uri())),
            ("OPENAI_API_KEY".into(), KEY.into()),
        ],
    )
    .await;
    // Errored cases are not failures of the agent: the gate's max_error_rate decides.
    assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(&o), stderr(&o));
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        5,
        "after five failures no request reaches the server"
    );
    let r = report(out.path(), "breaker-e2e");
    let cases = r["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 8);
    for (i, c) in cases.iter().enumerate() {
        assert_eq!(c["status"], "errored", "{c}");
        let error = c["error"].as_str().unwrap();
        if i < 5 {
            assert!(
                error.contains("HTTP 500: The server had an error"),
                "{error}"
            );
        } else {
            assert!(error.contains("circuit breaker open"), "{error}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fallback_model_answers_when_the_primary_is_down() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(503).set_body_string("upstream unavailable"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(header("x-api-key", "ant-key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-up",
            "content": [{"type": "text", "text": "Order 7 has shipped."}],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 20, "output_tokens": 6}
        })))
        .mount(&server)
        .await;
    let (o, out) = eval_async(
        "tests/fixtures/valid/providers/fallback.yaml",
        vec![
            ("OPENAI_BASE_URL".into(), format!("{}/v1", server.uri())),
            ("OPENAI_API_KEY".into(), KEY.into()),
            ("ANTHROPIC_BASE_URL".into(), server.uri()),
            ("TEST_ANTHROPIC_KEY".into(), "ant-key".into()),
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let r = report(out.path(), "fallback-e2e");
    for c in r["cases"].as_array().unwrap() {
        assert_eq!(c["status"], "passed", "{c}");
    }
    let lines = read(out.path().join("fallback-e2e").join("trajectories.jsonl"));
    for line in lines.lines() {
        let t: Value = serde_json::from_str(line).unwrap();
        let model_step = t["trajectory"]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["type"] == "model")
            .unwrap();
        assert_eq!(model_step["model"], "claude-up", "the fallback answered");
    }
    let requests = server.received_requests().await.unwrap();
    let to_openai = requests
        .iter()
        .filter(|r| r.url.path() == "/v1/chat/completions")
        .count();
    assert!(
        (3..=4).contains(&to_openai),
        "the primary's breaker opened after 3 failures (one more may race in at -j 2): {to_openai}"
    );
}

#[test]
fn a_missing_key_stops_eval_with_exit_2_but_validate_only_warns() {
    let out = tempfile::tempdir().unwrap();
    let o = eval_with_env(
        "tests/fixtures/valid/providers/openai.yaml",
        &[],
        out.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("OPENAI_API_KEY"), "{err}");
    assert!(err.contains("nothing was run"), "{err}");
    assert!(!out.path().join("openai-e2e").exists(), "no report written");

    let o = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(["validate", "tests/fixtures/valid/providers/openai.yaml"])
        .current_dir(root())
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("warning:"), "{}", stderr(&o));
}

#[test]
fn model_flags_override_the_agent_and_judge_models() {
    // The suite's mock models are replaced by real ones, which then need a key.
    let out = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args([
            "eval",
            "tests/fixtures/valid/gate_fail.yaml",
            "--out",
            out.path().to_str().unwrap(),
            "--model",
            "openai:gpt-4o-mini",
        ])
        .current_dir(root())
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("model `openai:gpt-4o-mini` needs an API key"),
        "{}",
        stderr(&o)
    );
    let o = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args([
            "eval",
            "tests/fixtures/valid/gate_fail.yaml",
            "--judge-model",
            "anthropic:claude-judge",
        ])
        .current_dir(root())
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("ANTHROPIC_BASE_URL")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("model `anthropic:claude-judge` needs an API key in the environment variable ANTHROPIC_API_KEY"),
        "{}",
        stderr(&o)
    );
    let o = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args([
            "eval",
            "tests/fixtures/valid/gate_fail.yaml",
            "--model",
            "nope",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--model: invalid model id `nope`"),
        "{}",
        stderr(&o)
    );
}
