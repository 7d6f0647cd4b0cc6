//! `gauntlet calibrate`: the shipped judges measured against their shipped labels, offline.

use std::process::Output;

use crate::support::{gauntlet, stderr, stdout};

/// `gauntlet calibrate JUDGE --labels LABELS`.
fn calibrate(judge: &str, labels: &str) -> Output {
    gauntlet(&["calibrate", judge, "--labels", labels])
}

#[test]
fn shipped_judges_print_their_agreement_table() {
    for (judge, accuracy, kappa) in [
        ("helpfulness", "0.750", "0.471"),
        ("policy", "0.900", "0.783"),
    ] {
        let out = calibrate(
            &format!("judges/{judge}.yaml"),
            &format!("judges/labels/{judge}.jsonl"),
        );
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
        assert!(
            text.contains(&format!("accuracy       {accuracy}")),
            "{text}"
        );
        assert!(text.contains(&format!("cohen's kappa  {kappa}")), "{text}");
        assert!(text.contains("human pass"), "{text}");
    }
}

#[test]
fn a_kappa_below_the_minimum_exits_1_and_bad_labels_exit_2() {
    let out = gauntlet(&[
        "calibrate",
        "judges/helpfulness.yaml",
        "--labels",
        "judges/labels/helpfulness.jsonl",
        "--min-kappa",
        "0.6",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("below the minimum 0.6"));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"input\": \"x\", \"output\": \"y\"}\nnot json\n").unwrap();
    let out = calibrate("judges/policy.yaml", bad.to_str().unwrap());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains(":1") && err.contains("needs `pass`"), "{err}");
    assert!(err.contains(":2"), "{err}");

    // A file of a thousand bad lines prints fifty problems and a count, not a thousand.
    std::fs::write(&bad, "not json\n".repeat(1000)).unwrap();
    let out = calibrate("judges/policy.yaml", bad.to_str().unwrap());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 51, "{err}");
    assert!(err.ends_with("… and 950 more\n"), "{err}");
}

#[test]
fn min_kappa_outside_0_to_1_and_off_scale_labels_exit_2() {
    for k in ["NaN", "-0.1", "1.5", "inf", "high"] {
        let out = gauntlet(&[
            "calibrate",
            "judges/helpfulness.yaml",
            "--labels",
            "judges/labels/helpfulness.jsonl",
            &format!("--min-kappa={k}"),
        ]);
        assert_eq!(out.status.code(), Some(2), "{k}: {}", stdout(&out));
        assert!(stderr(&out).contains("--min-kappa"), "{}", stderr(&out));
    }

    let dir = tempfile::tempdir().unwrap();
    let labels = dir.path().join("labels.jsonl");
    std::fs::write(
        &labels,
        "{\"input\": \"x\", \"output\": \"y\", \"score\": 4}\n\
         {\"input\": \"x\", \"output\": \"y\", \"score\": 1e308}\n",
    )
    .unwrap();
    let out = calibrate("judges/helpfulness.yaml", labels.to_str().unwrap());
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains(":2") && err.contains("outside the judge's scale"),
        "{err}"
    );
}

#[test]
fn a_suite_gates_on_a_judge_only_when_it_meets_its_calibration_requirement() {
    let (o, out) = crate::support::eval_into("tests/fixtures/valid/uncalibrated.yaml", &[]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "the judge's fail only warns: {}",
        crate::support::stdout(&o)
    );
    assert!(crate::support::stderr(&o)
        .contains("judge `tone` is not calibrated (kappa 0.200 < 0.6 on 4 labels)"));
    let report: serde_json::Value = serde_json::from_str(&crate::support::read(
        out.path().join("uncalibrated/report.json"),
    ))
    .unwrap();
    assert_eq!(report["gate"]["uncalibrated"], serde_json::json!(["tone"]));
    assert_eq!(report["cases"][0]["status"], "soft_failed");

    let (o, out) = crate::support::eval_into("tests/fixtures/valid/calibrated.yaml", &[]);
    assert_eq!(o.status.code(), Some(1), "a calibrated judge's fail gates");
    let report: serde_json::Value = serde_json::from_str(&crate::support::read(
        out.path().join("calibrated/report.json"),
    ))
    .unwrap();
    assert_eq!(report["cases"][0]["status"], "failed");
    assert!(report["gate"].get("uncalibrated").is_none());
}

/// The judge model behind a local OpenAI-compatible server: grades 5 an answer that says
/// `GOOD-A`, 1 anything else, so the one human-passed `GOOD-B` is the judge's only miss.
struct GradingServer;

impl wiremock::Respond for GradingServer {
    fn respond(&self, req: &wiremock::Request) -> wiremock::ResponseTemplate {
        let body = String::from_utf8_lossy(&req.body);
        let score = if body.contains("GOOD-A") { 5 } else { 1 };
        let content = format!("{{\"score\": {score}, \"reason\": \"graded {score}\"}}");
        wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "id": "chatcmpl-1", "object": "chat.completion", "model": "grader-1",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 40, "completion_tokens": 9, "total_tokens": 49}
        }))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_openai_judge_is_calibrated_against_a_local_server() {
    use wiremock::matchers::{method, path};
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(GradingServer)
        .expect(4)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let judge = dir.path().join("grader.yaml");
    std::fs::write(
        &judge,
        "model: openai:grader\nscale: [1, 5]\nthreshold: 0.7\n\
         prompt: |\n  Grade this answer: {{ output }}\n",
    )
    .unwrap();
    let labels = dir.path().join("labels.jsonl");
    std::fs::write(
        &labels,
        "{\"id\": \"a\", \"input\": \"q\", \"output\": \"GOOD-A\", \"pass\": true}\n\
         {\"id\": \"b\", \"input\": \"q\", \"output\": \"GOOD-B\", \"pass\": true}\n\
         {\"id\": \"c\", \"input\": \"q\", \"output\": \"BAD-C\", \"pass\": false}\n\
         {\"id\": \"d\", \"input\": \"q\", \"output\": \"BAD-D\", \"pass\": false}\n",
    )
    .unwrap();
    let base_url = format!("{}/v1", server.uri());
    let args = [
        "calibrate".to_string(),
        judge.to_string_lossy().into_owned(),
        "--labels".into(),
        labels.to_string_lossy().into_owned(),
    ];
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_gauntlet"))
            .args(&args)
            .env("NO_COLOR", "1")
            .env("OPENAI_BASE_URL", &base_url)
            .env_remove("OPENAI_API_KEY")
            .env_remove("GAUNTLET_LOG")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    // 3 of 4 agree; chance agreement is 0.5 (humans pass half, the judge a quarter).
    assert!(
        text.contains("4 labelled examples, 4 graded, 0 errors"),
        "{text}"
    );
    assert!(text.contains("accuracy       0.750"), "{text}");
    assert!(text.contains("cohen's kappa  0.500"), "{text}");
    assert!(
        text.contains("  b            human pass  judge fail"),
        "{text}"
    );
}

#[test]
fn an_openai_judge_without_a_key_for_the_public_endpoint_exits_2_before_any_call() {
    let dir = tempfile::tempdir().unwrap();
    let judge = dir.path().join("grader.yaml");
    std::fs::write(
        &judge,
        "model: openai:grader\nscale: [1, 5]\nthreshold: 0.7\nprompt: 'Grade: {{ output }}'\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args([
            "calibrate",
            judge.to_str().unwrap(),
            "--labels",
            "judges/labels/policy.jsonl",
        ])
        .current_dir(crate::support::root())
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains(
            "model `openai:grader` needs an API key in the environment variable OPENAI_API_KEY"
        ),
        "{err}"
    );
    assert!(
        stdout(&out).is_empty(),
        "nothing was graded: {}",
        stdout(&out)
    );
}
