//! `eval --otlp`: the runs arrive at an OTLP/HTTP receiver (wiremock taking `POST /v1/traces`,
//! decoded with `opentelemetry-proto`) as GenAI-convention span trees; a collector that is down
//! only warns, and the reports do not change.

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::{status::StatusCode, Span};
use prost::Message;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{eval_into, read, stderr};

const SUITE: &str = "tests/fixtures/otel_out/otel_out.yaml";

/// A span's attributes, as text (ints and doubles printed).
fn attrs(span: &Span) -> BTreeMap<String, String> {
    span.attributes
        .iter()
        .map(|kv| {
            let v = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(AnyValue::StringValue(s)) => s.clone(),
                Some(AnyValue::IntValue(i)) => i.to_string(),
                Some(AnyValue::DoubleValue(d)) => d.to_string(),
                Some(AnyValue::BoolValue(b)) => b.to_string(),
                Some(AnyValue::ArrayValue(a)) => format!("{:?}", a.values),
                other => format!("{other:?}"),
            };
            (kv.key.clone(), v)
        })
        .collect()
}

/// Every span every request carried, with the `service.name` of its resource.
fn spans(server_requests: &[wiremock::Request]) -> Vec<(String, Span)> {
    let mut all = Vec::new();
    for r in server_requests {
        let body = ExportTraceServiceRequest::decode(&r.body[..]).expect("an OTLP protobuf body");
        for rs in body.resource_spans {
            let service = rs
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|kv| kv.key == "service.name")
                .and_then(|kv| kv.value.as_ref()?.value.as_ref())
                .map(|v| format!("{v:?}"))
                .unwrap_or_default();
            for ss in rs.scope_spans {
                all.extend(ss.spans.into_iter().map(|s| (service.clone(), s)));
            }
        }
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_run_arrives_as_an_invoke_agent_tree_with_genai_attributes() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/traces"))
        .and(header("content-type", "application/x-protobuf"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let url = server.uri();
    let (o, out) =
        tokio::task::spawn_blocking(move || eval_into(SUITE, &["--repeat", "2", "--otlp", &url]))
            .await
            .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
    // Flushed before exit: everything is there once the process is gone.
    let spans = spans(&server.received_requests().await.unwrap());
    assert!(spans
        .iter()
        .all(|(service, _)| service.contains("gauntlet")));
    let spans: Vec<Span> = spans.into_iter().map(|(_, s)| s).collect();

    let roots: Vec<&Span> = spans
        .iter()
        .filter(|s| s.name.starts_with("invoke_agent"))
        .collect();
    let mut runs: Vec<(String, String)> = roots
        .iter()
        .map(|s| {
            let a = attrs(s);
            (a["gauntlet.case.id"].clone(), a["gauntlet.repeat"].clone())
        })
        .collect();
    runs.sort();
    assert_eq!(
        runs,
        [
            ("order", "0"),
            ("order", "1"),
            ("refund", "0"),
            ("refund", "1")
        ]
        .map(|(c, r)| (c.to_string(), r.to_string())),
        "one invoke_agent span per run"
    );

    for root in &roots {
        let a = attrs(root);
        assert!(
            root.parent_span_id.is_empty(),
            "a run is the root of its trace"
        );
        assert_eq!(a["gen_ai.operation.name"], "invoke_agent");
        assert_eq!(a["gen_ai.agent.name"], "otel_out");
        assert_eq!(a["gauntlet.status"], "passed");
        assert_eq!(a["gauntlet.score"], "1");
        assert_eq!(root.name, "invoke_agent otel_out");
        let children: Vec<&Span> = spans
            .iter()
            .filter(|s| s.trace_id == root.trace_id && s.span_id != root.span_id)
            .collect();
        for c in &children {
            assert_eq!(
                c.parent_span_id, root.span_id,
                "{} hangs off its run",
                c.name
            );
            assert!(c.start_time_unix_nano >= root.start_time_unix_nano);
            assert!(c.end_time_unix_nano <= root.end_time_unix_nano);
        }
        let (tool, fails) = match a["gauntlet.case.id"].as_str() {
            "order" => ("lookup_order", false),
            _ => ("issue_refund", true),
        };
        let names: Vec<&str> = children.iter().map(|c| c.name.as_str()).collect();
        let tool_span = format!("execute_tool {tool}");
        assert_eq!(
            names,
            [
                "chat otel",
                tool_span.as_str(),
                "chat otel",
                "evaluate tone"
            ],
            "in trajectory order, the judge last"
        );

        let chat = attrs(children[0]);
        assert_eq!(chat["gen_ai.operation.name"], "chat");
        assert_eq!(chat["gen_ai.request.model"], "otel");
        assert_eq!(chat["gen_ai.usage.input_tokens"], "81");
        assert_eq!(chat["gen_ai.usage.output_tokens"], "16");
        assert!(chat["gen_ai.output.messages"].contains(tool));

        let t = attrs(children[1]);
        assert_eq!(t["gen_ai.operation.name"], "execute_tool");
        assert_eq!(t["gen_ai.tool.name"], tool);
        assert_eq!(t["gen_ai.tool.call.arguments"], r#"{"order_id":"7"}"#);
        let status = children[1].status.as_ref().map(|s| s.code);
        if fails {
            assert_eq!(status, Some(StatusCode::Error as i32));
            assert_eq!(t["error.type"], "tool_error");
            assert!(!t.contains_key("gen_ai.tool.call.result"));
        } else {
            assert_ne!(status, Some(StatusCode::Error as i32));
            assert_eq!(t["gen_ai.tool.call.result"], r#"{"status":"shipped"}"#);
        }

        let judge = attrs(children[3]);
        assert_eq!(judge["gen_ai.operation.name"], "evaluate");
        assert_eq!(judge["gauntlet.judge"], "tone");
        assert_eq!(judge["gen_ai.evaluation.score.value"], "1");
        assert_eq!(judge["gen_ai.evaluation.score.label"], "pass");

        // The deterministic check is an evaluation event on the run's span.
        let event = root
            .events
            .iter()
            .find(|e| e.name == "gen_ai.evaluation.result")
            .expect("the case's check");
        assert!(event
            .attributes
            .iter()
            .any(|kv| kv.key == "gen_ai.evaluation.score.label"));
    }
    assert_eq!(spans.len(), 4 * 5, "nothing else was sent");
    assert!(out.path().join("otel_out/report.json").is_file());
}

#[test]
fn a_collector_that_is_down_warns_and_changes_no_report() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (plain, plain_out) = eval_into(SUITE, &[]);
    let url = format!("http://127.0.0.1:{port}");
    let (down, down_out) = eval_into(SUITE, &["--otlp", &url]);
    assert_eq!(plain.status.code(), Some(0), "{}", stderr(&plain));
    assert_eq!(down.status.code(), Some(0), "{}", stderr(&down));
    assert!(
        stderr(&down).contains(&format!(
            "warning: --otlp: 10 spans could not be exported to {url}/v1/traces"
        )),
        "{}",
        stderr(&down)
    );
    // The cause, not only the exporter's "network error".
    assert!(
        stderr(&down).to_lowercase().contains("connect"),
        "{}",
        stderr(&down)
    );
    assert!(!stderr(&plain).contains("otlp"), "{}", stderr(&plain));
    assert_eq!(
        read(plain_out.path().join("otel_out/report.json")),
        read(down_out.path().join("otel_out/report.json"))
    );
}

#[test]
fn a_url_that_is_not_http_is_a_usage_error() {
    let (o, _out) = eval_into(SUITE, &["--otlp", "grpc://localhost:4317"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--otlp `grpc://localhost:4317` is not an http(s) URL"),
        "{}",
        stderr(&o)
    );
}

/// `gauntlet eval SUITE --out DIR` with `OTEL_EXPORTER_OTLP_ENDPOINT` set.
fn eval_with_endpoint_env(endpoint: &str) -> (std::process::Output, tempfile::TempDir) {
    let out = tempfile::tempdir().unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(["eval", SUITE, "--no-progress", "--out"])
        .arg(out.path())
        .current_dir(crate::support::root())
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        .output()
        .unwrap();
    (o, out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standard_environment_variable_turns_the_export_on() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/traces"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let url = server.uri();
    let (o, _out) = tokio::task::spawn_blocking(move || eval_with_endpoint_env(&url))
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let spans = spans(&server.received_requests().await.unwrap());
    assert_eq!(spans.len(), 2 * 5, "both runs, all their spans");

    // Set for some other program, a URL gauntlet cannot use does not stop the run.
    let (o, _out) = tokio::task::spawn_blocking(|| eval_with_endpoint_env("localhost:4317"))
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "warning: OTEL_EXPORTER_OTLP_ENDPOINT `localhost:4317` is not an http(s) URL"
        ),
        "{}",
        stderr(&o)
    );
}
