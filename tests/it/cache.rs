//! `eval --cache`, `--record`, `--replay`: a recorded run replays byte for byte with the mock
//! rules gone, a replay miss names the case and the difference, a cached run calls nothing the
//! second time, and repeats are cached apart.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

use crate::support::{read, root, stderr, stdout, OpenAiAgent};

/// Copies the support suite (suite, mocks, dataset, judges) into a fresh folder.
fn support_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["suites", "datasets", "judges"] {
        copy_dir(&root().join(sub), &dir.path().join(sub));
    }
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&p, to.join(entry.file_name())).unwrap();
        }
    }
}

/// Runs `gauntlet ARGS` in `dir`, with no provider variables.
fn gauntlet_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gauntlet"));
    cmd.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("GAUNTLET_LOG")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY");
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
    cmd.output().unwrap()
}

fn files_in(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

#[test]
fn a_recorded_run_replays_byte_for_byte_without_the_mock_rules() {
    let dir = support_copy();
    let d = dir.path();
    let rec = gauntlet_in(
        d,
        &["eval", "suites/support.yaml", "--record", "--out", "rec"],
        &[],
    );
    assert!(
        rec.status.code().is_some_and(|c| c <= 1),
        "{}",
        stderr(&rec)
    );
    assert!(files_in(&d.join(".gauntlet/cache/models")) > 32);

    // The mock now answers nothing: only the recording can.
    std::fs::write(d.join("suites/mocks/support.yaml"), "rules: []\n").unwrap();
    let live = gauntlet_in(d, &["eval", "suites/support.yaml", "--out", "live"], &[]);
    assert!(read(d.join("live/support/report.json")).contains("errored"));
    let _ = live;

    let rep = gauntlet_in(
        d,
        &["eval", "suites/support.yaml", "--replay", "--out", "rep"],
        &[],
    );
    assert_eq!(rep.status.code(), rec.status.code(), "{}", stderr(&rep));
    assert_eq!(
        read(d.join("rec/support/report.json")),
        read(d.join("rep/support/report.json")),
        "the replayed report differs from the recorded one"
    );

    // A changed input is a miss: that case errors, naming itself and what differed.
    let cases = d.join("datasets/support/cases.jsonl");
    let text = read(&cases).replace("Where is my order 1003?", "Where is my order 1003 now?");
    std::fs::write(&cases, text).unwrap();
    gauntlet_in(
        d,
        &["eval", "suites/support.yaml", "--replay", "--out", "miss"],
        &[],
    );
    let r: Value = serde_json::from_str(&read(d.join("miss/support/report.json"))).unwrap();
    let cases = r["cases"].as_array().unwrap();
    let errored: Vec<&Value> = cases.iter().filter(|c| c["status"] == "errored").collect();
    assert_eq!(errored.len(), 1, "{errored:?}");
    assert_eq!(errored[0]["id"], "order-status-shipped");
    let error = errored[0]["error"].as_str().unwrap();
    for part in [
        "replay miss in case `order-status-shipped` (repeat 0)",
        "`messages[1].content`",
        "1003 now?",
        "--record",
    ] {
        assert!(error.contains(part), "missing {part:?} in {error}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_run_calls_nothing_the_second_time_and_repeats_are_cached_apart() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(OpenAiAgent("gpt-4o-mini"))
        .mount(&server)
        .await;
    let base = format!("{}/v1", server.uri());
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let suite = root().join("tests/fixtures/valid/providers/openai.yaml");
    let run = |out: &str, extra: &[&str]| {
        let out = work.path().join(out);
        let mut args = vec![
            "eval".to_string(),
            suite.to_string_lossy().into_owned(),
            "--out".into(),
            out.to_string_lossy().into_owned(),
            "--cache-dir".into(),
            cache.to_string_lossy().into_owned(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let base = base.clone();
        let dir = work.path().to_path_buf();
        async move {
            tokio::task::spawn_blocking(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let env = [
                    ("OPENAI_BASE_URL", base.as_str()),
                    ("OPENAI_API_KEY", "sk-x"),
                ];
                let o = gauntlet_in(&dir, &args, &env);
                assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
                read(out.join("openai-e2e/report.json"))
            })
            .await
            .unwrap()
        }
    };
    let calls = || async { server.received_requests().await.unwrap().len() };

    let first = run("a", &["--cache", "--repeat", "2"]).await;
    // 8 cases × 2 repeats × 2 calls: repeats are called, not copied.
    assert_eq!(calls().await, 32);
    assert_eq!(files_in(&cache.join("models")), 32);
    let second = run("b", &["--cache", "--repeat", "2"]).await;
    assert_eq!(calls().await, 32, "the second cached run called the server");
    assert_eq!(first, second);

    // A third repeat is new: only its calls reach the server.
    run("c", &["--cache", "--repeat", "3"]).await;
    assert_eq!(calls().await, 48);

    // Replay needs no key and no server: the base URL is the public default, never reached.
    let out = work.path().join("d");
    let o = gauntlet_in(
        work.path(),
        &[
            "eval",
            suite.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--cache-dir",
            cache.to_str().unwrap(),
            "--replay",
            "--repeat",
            "2",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    assert_eq!(read(out.join("openai-e2e/report.json")), first);
    assert_eq!(calls().await, 48);

    // The key is in no cache file.
    for entry in std::fs::read_dir(cache.join("models")).unwrap().flatten() {
        assert!(!read(entry.path()).contains("sk-x"));
    }
}
