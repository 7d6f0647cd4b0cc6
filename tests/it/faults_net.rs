//! Hostile servers (issue 12): a provider that quotes the key in its 401 must not get the key
//! written anywhere — one test per sink — and endless or absurd replies stay bounded.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use crate::fault_server::{Fault, FaultServer};
use crate::support::{read, root, stderr, stdout};

/// An OpenAI-style key (caught by the `sk-` pattern as well as by name).
const OPENAI_KEY: &str = "sk-fault-0123456789abcdefSECRET";
/// A key no pattern recognizes: only the configured-key list can mask it.
const ANTHROPIC_KEY: &str = "plain-credential-9876543210-SECRET";

/// The one run every sink test reads: both suites, with the GitHub sinks and debug log on.
struct KeyRun {
    output: Output,
    out: tempfile::TempDir,
    step_summary: PathBuf,
}

fn key_run() -> &'static KeyRun {
    static RUN: OnceLock<KeyRun> = OnceLock::new();
    RUN.get_or_init(|| {
        let server = FaultServer::start(Fault::EchoKey);
        let out = tempfile::tempdir().unwrap();
        let step_summary = out.path().join("step_summary.md");
        let output = gauntlet_env(
            &[
                "eval",
                "tests/fixtures/valid/faults/agent_key.yaml",
                "tests/fixtures/valid/faults/judge_key.yaml",
                "--out",
                out.path().to_str().unwrap(),
            ],
            &[
                ("OPENAI_BASE_URL", format!("{}/v1", server.url())),
                ("OPENAI_API_KEY", OPENAI_KEY.into()),
                ("ANTHROPIC_BASE_URL", server.url()),
                ("FAULT_ANTHROPIC_KEY", ANTHROPIC_KEY.into()),
                ("GITHUB_ACTIONS", "true".into()),
                ("GITHUB_STEP_SUMMARY", step_summary.display().to_string()),
                ("GAUNTLET_LOG", "debug".into()),
            ],
        );
        KeyRun {
            output,
            out,
            step_summary,
        }
    })
}

/// The binary with provider variables cleared, then `env` set.
fn gauntlet_env(args: &[&str], env: &[(&str, String)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gauntlet"));
    cmd.args(args).current_dir(root()).env("NO_COLOR", "1");
    for var in [
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_BASE_URL",
        "GAUNTLET_LOG",
        "GITHUB_ACTIONS",
        "GITHUB_STEP_SUMMARY",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the gauntlet binary runs")
}

/// The sink holds the provider's message (so the test saw the error at all), masked.
fn assert_redacted(sink: &str, text: &str) {
    assert!(!text.contains(OPENAI_KEY), "openai key leaked into {sink}");
    assert!(
        !text.contains(ANTHROPIC_KEY),
        "anthropic key leaked into {sink}"
    );
    assert!(!text.contains("SECRET"), "part of a key leaked into {sink}");
    assert!(
        text.contains("[REDACTED]"),
        "{sink} does not show the masked error:\n{}",
        &text[..text.len().min(3000)]
    );
}

fn report_file(suite: &str, name: &str) -> String {
    read(key_run().out.path().join(suite).join(name))
}

fn both(name: &str) -> [String; 2] {
    ["faults-agent-key", "faults-judge-key"].map(|s| report_file(s, name))
}

#[test]
fn the_run_itself_ends_with_errored_cases_not_a_crash() {
    let o = &key_run().output;
    assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(o), stderr(o));
}

#[test]
fn report_json_is_redacted() {
    for (i, text) in both("report.json").iter().enumerate() {
        assert_redacted(&format!("report.json #{i}"), text);
    }
}

#[test]
fn journal_is_redacted() {
    for text in both("journal.jsonl") {
        assert_redacted("journal.jsonl", &text);
    }
}

#[test]
fn trajectories_are_redacted() {
    // Only the agent's trajectory holds the agent error; the judge error is a check's reason.
    assert_redacted(
        "trajectories.jsonl",
        &report_file("faults-agent-key", "trajectories.jsonl"),
    );
    let judge = report_file("faults-judge-key", "trajectories.jsonl");
    assert!(!judge.contains(ANTHROPIC_KEY), "{judge}");
}

#[test]
fn junit_is_redacted() {
    for text in both("junit.xml") {
        assert_redacted("junit.xml", &text);
    }
}

#[test]
fn summary_md_is_redacted() {
    for text in both("summary.md") {
        assert_redacted("summary.md", &text);
    }
}

#[test]
fn index_html_is_redacted() {
    for text in both("index.html") {
        assert_redacted("index.html", &text);
    }
}

#[test]
fn results_csv_is_redacted() {
    // The CSV names the errored checks but quotes no message: the key must simply be absent.
    for text in both("results.csv") {
        assert!(text.contains("errored"), "{text}");
        assert!(!text.contains("SECRET"), "{text}");
    }
}

#[test]
fn github_error_annotations_are_redacted() {
    let out = stdout(&key_run().output);
    let annotations: String = out
        .lines()
        .filter(|l| l.starts_with("::error"))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(annotations.lines().count(), 4, "{out}");
    assert_redacted("::error annotations", &annotations);
    assert!(!out.contains("SECRET"), "{out}");
}

#[test]
fn github_step_summary_is_redacted() {
    assert_redacted("GITHUB_STEP_SUMMARY", &read(&key_run().step_summary));
}

#[test]
fn debug_log_is_redacted() {
    let err = stderr(&key_run().output);
    assert!(err.contains("model call failed"), "{err}");
    assert_redacted("the debug log", &err);
}

#[test]
fn no_file_anywhere_holds_a_key() {
    for f in all_files(key_run().out.path()) {
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
        assert!(
            !text.contains("SECRET"),
            "a key leaked into {}",
            f.display()
        );
    }
}

fn all_files(dir: &Path) -> Vec<PathBuf> {
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

// --- bounded reads

/// Peak resident memory of the largest child this test process has waited for, in MiB. Every
/// child counts (other tests' too), so it is an upper bound for the run under test.
fn peak_child_rss_mib() -> u64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    assert_eq!(rc, 0);
    (usage.ru_maxrss as u64) / 1024 // Linux reports KiB.
}

/// A suite folder with the faults' cases and `target` as its target.
fn suite_with_target(target: &str, limits: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("tests/fixtures/valid/faults/cases.yaml"),
        dir.path().join("cases.yaml"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("suite.yaml"),
        format!(
            "name: bounded\ndataset: cases.yaml\ntarget:\n{target}\nchecks:\n  - contains: {{value: x}}\n\
             run: {{concurrency: 2, timeout: 60s, limits: {{{limits}}}}}\n"
        ),
    )
    .unwrap();
    dir
}

fn errors_of(out: &Path, suite: &str) -> Vec<String> {
    let report: serde_json::Value =
        serde_json::from_str(&read(out.join(suite).join("report.json"))).unwrap();
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["error"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn an_endless_provider_body_fails_at_the_response_limit_without_retry_in_bounded_memory() {
    let server = FaultServer::start(Fault::EndlessChunked { max: 8 << 30 });
    let out = tempfile::tempdir().unwrap();
    let o = gauntlet_env(
        &[
            "eval",
            "tests/fixtures/valid/faults/endless.yaml",
            "--out",
            out.path().to_str().unwrap(),
        ],
        &[
            ("OPENAI_BASE_URL", format!("{}/v1", server.url())),
            ("OPENAI_API_KEY", OPENAI_KEY.into()),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    for e in errors_of(out.path(), "faults-endless") {
        assert!(
            e.contains("larger than run.limits.max_response_bytes (16 MiB)"),
            "{e}"
        );
    }
    // Two cases, one attempt each: a body over the limit is not retried.
    assert_eq!(
        server.requests.load(std::sync::atomic::Ordering::Relaxed),
        2
    );
    let sent = server.sent.load(std::sync::atomic::Ordering::Relaxed) >> 20;
    let peak = peak_child_rss_mib();
    eprintln!("endless provider body: peak child RSS {peak} MiB, server sent {sent} MiB");
    assert!(peak < 512, "peak RSS {peak} MiB");
}

#[test]
fn an_endless_http_agent_reply_fails_at_the_output_limit_in_bounded_memory() {
    let server = FaultServer::start(Fault::EndlessChunked { max: 8 << 30 });
    // The limit is lowered to show it is the suite's that applies.
    let dir = suite_with_target(
        &format!("  http: {{url: \"{}/agent\"}}", server.url()),
        "max_output_bytes: 4MiB",
    );
    let out = tempfile::tempdir().unwrap();
    let o = gauntlet_env(
        &[
            "eval",
            dir.path().join("suite.yaml").to_str().unwrap(),
            "--out",
            out.path().to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    for e in errors_of(out.path(), "bounded") {
        assert!(
            e.contains("larger than run.limits.max_output_bytes (4 MiB)"),
            "{e}"
        );
    }
    let peak = peak_child_rss_mib();
    eprintln!("endless http agent body: peak child RSS {peak} MiB");
    assert!(peak < 512, "peak RSS {peak} MiB");
}

// --- numbers from the network

fn eval_against(server: &FaultServer, suite: &str, out: &Path) -> Output {
    gauntlet_env(
        &["eval", suite, "--out", out.to_str().unwrap()],
        &[
            ("OPENAI_BASE_URL", format!("{}/v1", server.url())),
            ("OPENAI_API_KEY", OPENAI_KEY.into()),
        ],
    )
}

#[test]
fn an_absurd_retry_after_gives_up_instead_of_panicking() {
    for value in [
        "99999999999999999999999",
        "Wed, 21 Oct 300000000000 07:28:00 GMT",
    ] {
        let server = FaultServer::start(Fault::Fixed {
            status: 429,
            header: Some(("retry-after".into(), value.into())),
            body: r#"{"error": {"message": "slow down"}}"#.into(),
        });
        let out = tempfile::tempdir().unwrap();
        let o = eval_against(
            &server,
            "tests/fixtures/valid/faults/endless.yaml",
            out.path(),
        );
        assert_eq!(o.status.code(), Some(1), "{value}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
        for e in errors_of(out.path(), "faults-endless") {
            assert!(e.contains("more than retries.max_delay"), "{value}: {e}");
        }
    }
}

// --- connection errors

#[test]
fn an_unreachable_provider_names_the_url_and_the_cause_even_once_the_breaker_opens() {
    // A port that was free a moment ago: nothing listens on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = tempfile::tempdir().unwrap();
    let o = gauntlet_env(
        &[
            "eval",
            "tests/fixtures/valid/faults/unreachable.yaml",
            "--out",
            out.path().to_str().unwrap(),
        ],
        &[
            ("OPENAI_BASE_URL", format!("http://127.0.0.1:{port}/v1")),
            ("OPENAI_API_KEY", OPENAI_KEY.into()),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let errors = errors_of(out.path(), "faults-unreachable");
    assert!(
        errors.iter().any(|e| e.contains("circuit breaker open")),
        "{errors:?}"
    );
    for e in &errors {
        assert!(e.to_lowercase().contains("connection refused"), "{e}");
        assert!(e.contains(&format!("127.0.0.1:{port}")), "{e}");
    }
    let breaker = errors
        .iter()
        .find(|e| e.contains("circuit breaker"))
        .unwrap();
    assert!(breaker.contains("`openai:gpt-fault`"), "{breaker}");
}

/// An OpenAI-style answer "hello" with `usage` as given.
fn answer_with_usage(usage: &str) -> Fault {
    Fault::Fixed {
        status: 200,
        header: None,
        body: format!(
            r#"{{"model": "gpt-fault", "choices": [{{"index": 0, "finish_reason": "stop",
               "message": {{"role": "assistant", "content": "hello"}}}}], "usage": {usage}}}"#
        ),
    }
}

#[test]
fn huge_token_counts_saturate_and_invalid_ones_error_the_run() {
    let max = u64::MAX;
    let server = FaultServer::start(answer_with_usage(&format!(
        r#"{{"prompt_tokens": {max}, "completion_tokens": {max}}}"#
    )));
    let out = tempfile::tempdir().unwrap();
    let o = eval_against(
        &server,
        "tests/fixtures/valid/faults/endless.yaml",
        out.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report: serde_json::Value =
        serde_json::from_str(&read(out.path().join("faults-endless").join("report.json"))).unwrap();
    assert_eq!(
        report["summary"]["usage"],
        serde_json::json!({"input_tokens": max, "output_tokens": max}),
        "two cases of u64::MAX each saturate, never wrap"
    );

    for usage in [
        r#"{"prompt_tokens": -5, "completion_tokens": 1}"#,
        r#"{"prompt_tokens": 1.5, "completion_tokens": 1}"#,
        r#"{"prompt_tokens": "many", "completion_tokens": 1}"#,
    ] {
        let server = FaultServer::start(answer_with_usage(usage));
        let out = tempfile::tempdir().unwrap();
        let o = eval_against(
            &server,
            "tests/fixtures/valid/faults/endless.yaml",
            out.path(),
        );
        assert_eq!(o.status.code(), Some(1), "{usage}: {}", stderr(&o));
        for e in errors_of(out.path(), "faults-endless") {
            assert!(e.contains("invalid token count"), "{usage}: {e}");
        }
    }
}

// --- smaller

#[test]
fn a_suite_name_over_255_bytes_is_refused_by_validate() {
    let dir = suite_with_target("  harness: {model: 'mock:echo'}", "");
    let suite = dir.path().join("suite.yaml");
    let text = read(&suite).replace("name: bounded", &format!("name: {}", "n".repeat(256)));
    std::fs::write(&suite, text).unwrap();
    let o = gauntlet_env(&["validate", suite.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("suite name is 256 bytes long, more than 255"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn an_unwritable_cache_dir_warns_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, "x").unwrap();
    let out = tempfile::tempdir().unwrap();
    let o = gauntlet_env(
        &[
            "eval",
            "tests/fixtures/valid/faults/judge_key.yaml",
            "--out",
            out.path().to_str().unwrap(),
            "--cache",
            "--cache-dir",
            file.to_str().unwrap(),
            "--model",
            "mock:echo",
            "--judge-model",
            "mock:echo",
        ],
        &[],
    );
    let err = stderr(&o);
    assert_eq!(
        err.matches("cannot be written").count(),
        1,
        "{err}\n{}",
        stdout(&o)
    );
    assert!(err.contains("warning: --cache-dir"), "{err}");
}
