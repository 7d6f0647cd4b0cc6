//! Run history end to end: `eval --history` records every run (SQLite and PostgreSQL), two
//! processes recording at once lose nothing, `gauntlet history` shows them (table and JSON),
//! and a simulated week of nightly runs raises a drift alert only when the agent declines.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::{gauntlet, missing_external, read, root, stderr, stdout};

const NIGHTLY: &str = "tests/fixtures/history/nightly.yaml";

/// `gauntlet ARGS` from the repository root with extra environment variables.
fn gauntlet_env(args: &[&str], env: &[(&str, String)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gauntlet"));
    cmd.args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("GAUNTLET_LOG")
        .env_remove("GAUNTLET_HISTORY")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the gauntlet binary runs")
}

/// One night of the nightly suite at failure rate `fail`, recorded in `history`.
fn night(history: &str, out: &Path, seed: u32, night: u32, fail: f64) -> Output {
    let out = out.join(format!("night{night}"));
    let out = out.to_str().unwrap();
    let flag = format!("--history={history}");
    gauntlet_env(
        &["eval", NIGHTLY, "--out", out, &flag],
        &[
            ("NIGHTLY_SEED", seed.to_string()),
            ("NIGHTLY_NIGHT", night.to_string()),
            ("NIGHTLY_FAIL", fail.to_string()),
        ],
    )
}

fn history_json(suite: &str, history: &str, extra: &[&str]) -> Value {
    let mut args = vec!["history", suite, "--history", history, "--json"];
    args.extend_from_slice(extra);
    let o = gauntlet(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("{e}: {}", stdout(&o)))
}

/// Ten demo runs recorded in `history` show in the table and the JSON, with their filters.
fn ten_demo_runs_show(history: &str) {
    let out = tempfile::tempdir().unwrap();
    let flag = format!("--history={history}");
    for i in 0..10 {
        let dir = out.path().join(i.to_string());
        let o = gauntlet(&[
            "eval",
            "suites/support.yaml",
            "--out",
            dir.to_str().unwrap(),
            &flag,
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(stdout(&o).contains("history: run "), "{}", stdout(&o));
    }
    let h = history_json("support", history, &[]);
    let runs = h["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 10, "{h}");
    let report: Value =
        serde_json::from_str(&read(out.path().join("9/support/report.json"))).unwrap();
    let last = &runs[9];
    assert_eq!(last["total"], report["summary"]["total"]);
    assert_eq!(last["pass_rate"], report["summary"]["pass_rate"]);
    assert_eq!(last["pass_rate_ci"], report["summary"]["pass_rate_ci"]);
    assert!(last["tokens"].as_u64().unwrap() > 0);
    // The demo is deterministic: no case flips, no drift.
    assert_eq!(h["most_flipping"], serde_json::json!([]));
    assert_eq!(h["drift"]["alerts"], serde_json::json!([]));
    assert_eq!(
        history_json("support", history, &["--last", "3"])["runs"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        history_json("support", history, &["--branch", "no-such-branch"])["runs"],
        serde_json::json!([])
    );
    // The suite file names the suite too; the table shows every run.
    let o = gauntlet(&["history", "suites/support.yaml", "--history", history]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let table = stdout(&o);
    assert!(table.contains("suite `support`: 10 runs"), "{table}");
    assert!(table.contains("95% CI"), "{table}");
    assert!(table.matches("passed").count() >= 10, "{table}");
}

#[test]
fn ten_demo_runs_show_in_history_from_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nested/history.db");
    ten_demo_runs_show(db.to_str().unwrap());
}

/// A fresh database on the test server (`GAUNTLET_TEST_POSTGRES`), so runs never mix.
fn fresh_postgres() -> Option<String> {
    let Ok(url) = std::env::var("GAUNTLET_TEST_POSTGRES") else {
        missing_external(
            "a PostgreSQL server (GAUNTLET_TEST_POSTGRES)",
            "export GAUNTLET_TEST_POSTGRES=\"$(bash .ci/postgres.sh)\"",
        );
        return None;
    };
    let name = format!(
        "gauntlet_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot reach {url}: {e}"));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap();
    });
    let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b);
    Some(format!("{base}/{name}"))
}

#[test]
fn ten_demo_runs_show_in_history_from_postgres() {
    if let Some(url) = fresh_postgres() {
        ten_demo_runs_show(&url);
    }
}

/// Several processes recording into one new store at once: every run and case is there.
fn concurrent_processes_lose_nothing(history: &str) {
    let out = tempfile::tempdir().unwrap();
    let flag = format!("--history={history}");
    let children: Vec<_> = (0..4)
        .map(|i| {
            let dir = out.path().join(i.to_string());
            Command::new(env!("CARGO_BIN_EXE_gauntlet"))
                .args(["eval", NIGHTLY, "--out", dir.to_str().unwrap(), &flag])
                .current_dir(root())
                .env("NO_COLOR", "1")
                .env("NIGHTLY_FAIL", "0")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
    }
    let h = history_json("nightly", history, &[]);
    let runs = h["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 4, "{h}");
    for r in runs {
        assert_eq!(r["total"], 40);
    }
}

#[test]
fn concurrent_recording_loses_nothing_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    concurrent_processes_lose_nothing(dir.path().join("h.db").to_str().unwrap());
}

#[test]
fn concurrent_recording_loses_nothing_on_postgres() {
    if let Some(url) = fresh_postgres() {
        concurrent_processes_lose_nothing(&url);
    }
}

/// A week of nightly runs plus tonight (8 runs): declining 5% → 30% failures alerts on the last
/// night (and the gate's `max_drift: 0` fails it); a constant noisy 20% never alerts.
#[test]
fn a_declining_week_raises_drift_and_a_noisy_stable_one_does_not() {
    for seed in [1, 2, 3] {
        let dir = tempfile::tempdir().unwrap();
        let rising = dir.path().join("rising.db");
        let stable = dir.path().join("stable.db");
        for n in 0..8u32 {
            let fail = 0.05 + 0.25 * f64::from(n) / 7.0;
            let o = night(
                rising.to_str().unwrap(),
                &dir.path().join("r"),
                seed,
                n,
                fail,
            );
            let report: Value = serde_json::from_str(&read(
                dir.path().join(format!("r/night{n}/nightly/report.json")),
            ))
            .unwrap();
            let alerts = report["drift"]["alerts"].as_array().unwrap().clone();
            if n == 7 {
                assert_eq!(alerts.len(), 1, "seed {seed}: {}", report["drift"]);
                assert_eq!(alerts[0]["metric"], "pass_rate");
                assert_eq!(o.status.code(), Some(1), "max_drift: 0 fails the gate");
                assert!(
                    stdout(&o).contains("drift: pass rate declining"),
                    "{}",
                    stdout(&o)
                );
                let md = read(dir.path().join("r/night7/nightly/summary.md"));
                assert!(md.contains("### Drift"), "{md}");
                let rule = report["gate"]["rules"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|r| r["rule"] == "max_drift")
                    .cloned();
                assert_eq!(rule.unwrap()["passed"], false);
            }
            let o = night(
                stable.to_str().unwrap(),
                &dir.path().join("s"),
                seed,
                n,
                0.2,
            );
            let report: Value = serde_json::from_str(&read(
                dir.path().join(format!("s/night{n}/nightly/report.json")),
            ))
            .unwrap();
            assert_eq!(
                report["drift"]["alerts"],
                serde_json::json!([]),
                "seed {seed} night {n}: {}",
                stdout(&o)
            );
        }
    }
}

/// A nightly run spread over shards is recorded once, whole, by `merge --history`: the merged
/// run is tested for drift with the nights before it, and the gate's `max_drift`, which the
/// shards kept, fails it. A shard itself is refused by `eval --history`.
#[test]
fn merged_shards_are_recorded_as_one_run_and_judged_for_drift() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("history.db");
    let db = db.to_str().unwrap();
    let fail = |n: u32| 0.05 + 0.25 * f64::from(n) / 7.0;
    for n in 0..7u32 {
        let o = night(db, &dir.path().join("whole"), 1, n, fail(n));
        assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    }
    let env = [
        ("NIGHTLY_SEED", "1".to_string()),
        ("NIGHTLY_NIGHT", "7".to_string()),
        ("NIGHTLY_FAIL", fail(7).to_string()),
    ];
    let flag = format!("--history={db}");
    let o = gauntlet_env(&["eval", NIGHTLY, "--shard", "1/2", &flag], &env);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--history records whole runs, and a shard is part of one"),
        "{}",
        stderr(&o)
    );
    let mut reports = Vec::new();
    for k in 1..=2 {
        let out = dir.path().join(format!("shard{k}"));
        let shard = format!("{k}/2");
        let out_str = out.to_str().unwrap();
        let o = gauntlet_env(
            &["eval", NIGHTLY, "--shard", &shard, "--out", out_str],
            &env,
        );
        assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
        let report: Value = serde_json::from_str(&read(out.join("nightly/report.json"))).unwrap();
        // No history judged the shard: its gate keeps the suite's `max_drift` for the merge.
        assert_eq!(report["gate"]["max_drift"], 0, "{}", report["gate"]);
        reports.push(out.join("nightly/report.json").display().to_string());
    }
    // A bare `--history` before the reports would take the first one for its store.
    let o = gauntlet_env(&["merge", "--history", &reports[0], &reports[1]], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("is not a SQLite database"),
        "{}",
        stderr(&o)
    );
    let merged = dir.path().join("merged");
    let mut args = vec!["merge", &reports[0], &reports[1], "--out"];
    args.push(merged.to_str().unwrap());
    args.push(&flag);
    let o = gauntlet_env(&args, &[]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "max_drift: 0 fails the merged run: {}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("drift: pass rate declining"),
        "{}",
        stdout(&o)
    );
    let report: Value = serde_json::from_str(&read(merged.join("nightly/report.json"))).unwrap();
    assert_eq!(report["drift"]["runs"], 8, "{}", report["drift"]);
    assert_eq!(report["drift"]["alerts"][0]["metric"], "pass_rate");
    let rule = report["gate"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "max_drift")
        .cloned()
        .expect("the merged gate judges max_drift");
    assert_eq!(rule["passed"], false);
    assert!(
        report["gate"].get("max_drift").is_none(),
        "{}",
        report["gate"]
    );
    // The history holds eight runs, the merged one whole: all 40 cases.
    let h = history_json("nightly", db, &[]);
    let runs = h["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 8, "{h}");
    let last = runs.iter().max_by_key(|r| r["id"].as_i64()).unwrap();
    assert_eq!(last["total"], 40, "{last}");
    assert_eq!(last["gate_passed"], false, "{last}");
}

/// A run of part of the suite (`--filter`, `--tag`) is recorded as incomplete, so it is no
/// point of a drift test and no baseline; it gets no drift test of its own.
#[test]
fn a_slice_of_the_suite_is_recorded_apart_from_whole_runs() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("history.db");
    let flag = format!("--history={}", db.display());
    let out = |name: &str| dir.path().join(name).display().to_string();
    let o = gauntlet(&["eval", "suites/support.yaml", "--out", &out("whole"), &flag]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let (a, b) = (out("slice"), "refund-*");
    let o = gauntlet(&[
        "eval",
        "suites/support.yaml",
        "--out",
        &a,
        "--filter",
        b,
        &flag,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("ran a slice of the suite (--filter refund-*): no drift test"),
        "{}",
        stderr(&o)
    );
    let report: Value =
        serde_json::from_str(&read(dir.path().join("slice/support/report.json"))).unwrap();
    assert!(report["drift"].is_null(), "{}", report["drift"]);
    let h = history_json("support", db.to_str().unwrap(), &[]);
    let runs = h["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{h}");
    assert!(runs[0]["incomplete"].is_null(), "{h}");
    assert_eq!(
        runs[1]["incomplete"],
        "a slice of the suite (--filter refund-*)"
    );
    assert!(runs[1]["total"].as_u64() < runs[0]["total"].as_u64(), "{h}");
    // The newest passing whole run, not the slice, is the history's baseline.
    let o = gauntlet(&[
        "eval",
        "suites/support.yaml",
        "--out",
        &out("third"),
        &flag,
        "--baseline",
        "history:last-passed",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report: Value =
        serde_json::from_str(&read(dir.path().join("third/support/report.json"))).unwrap();
    assert_eq!(
        report["baseline"]["cases_before"], runs[0]["total"],
        "{}",
        report["baseline"]
    );
    assert_eq!(report["baseline"]["new_cases"], serde_json::json!([]));
}

/// `--baseline history:last-passed` compares with the newest passing run of the history.
#[test]
fn baseline_from_history() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let db = db.to_str().unwrap();
    let o = night(db, &dir.path().join("a"), 1, 0, 0.0);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Without --history the baseline has nowhere to come from.
    let o = gauntlet(&["eval", NIGHTLY, "--baseline", "history:last-passed"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("hint: add --history"), "{}", stderr(&o));
    let out = dir.path().join("b");
    let o = gauntlet_env(
        &[
            "eval",
            NIGHTLY,
            "--out",
            out.to_str().unwrap(),
            &format!("--history={db}"),
            "--baseline",
            "history:last-passed",
        ],
        &[("NIGHTLY_FAIL", "0.3".into())],
    );
    let report: Value = serde_json::from_str(&read(out.join("nightly/report.json"))).unwrap();
    let regressions = report["baseline"]["regressions"].as_array().unwrap();
    assert!(!regressions.is_empty(), "{}", stdout(&o));
    assert_eq!(report["baseline"]["cases_before"], 40);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn a_store_that_cannot_open_warns_and_the_run_stands() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the store's folder should be.
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "x").unwrap();
    let db = blocker.join("h.db");
    let out = dir.path().join("out");
    let o = gauntlet_env(
        &[
            "eval",
            NIGHTLY,
            "--out",
            out.to_str().unwrap(),
            &format!("--history={}", db.display()),
        ],
        &[("NIGHTLY_FAIL", "0".into())],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("warning: history"), "{}", stderr(&o));
    assert!(out.join("nightly/report.json").is_file());
    let o = gauntlet(&["history", "nightly", "--history", "mysql://x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown scheme"), "{}", stderr(&o));
}

/// The trend page renders in headless Chromium: charts, the interval band, the case × run grid,
/// and a case id with markup shown as text.
#[test]
fn the_trend_page_renders_in_chromium() {
    let Some(chrome) = crate::html::chromium() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let db = db.to_str().unwrap();
    for n in 0..3 {
        let o = night(db, &dir.path().join("r"), 5, n, 0.3);
        assert!(o.status.code().is_some_and(|c| c <= 1), "{}", stderr(&o));
    }
    let page = dir.path().join("trends.html");
    let o = gauntlet(&[
        "history",
        "nightly",
        "--history",
        db,
        "--html",
        page.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = read(&page);
    assert!(!html.contains("<script"), "no script on the page");
    let png = crate::html::screenshot(&chrome, &page, "1000,1400");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );
    let dom =
        String::from_utf8_lossy(&crate::html::headless(&chrome, &page, &["--dump-dom"]).stdout)
            .into_owned();
    assert!(dom.contains("Run history of"), "{dom}");
    assert!(dom.contains("class=\"band\""), "the interval band is drawn");
    assert_eq!(
        dom.matches("<polyline").count(),
        4,
        "pass rate, cost, p50, p95"
    );
    assert_eq!(
        dom.matches("class=\"s ").count(),
        40 * 3,
        "one cell per case and run"
    );
}

/// Judge drift end to end on SQLite: each run keeps its judge scores with their output hash;
/// the demo's unchanged outputs scored the same each night raise nothing, and the same outputs
/// scored higher night after night (the stored scores of earlier nights lowered by hand, as a
/// judge grown lenient would leave them) raise a judge drift alert.
#[test]
fn a_judge_scoring_unchanged_outputs_higher_each_night_raises_judge_drift() {
    const DEMO: &str = "suites/support.yaml";
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let flag = format!("--history={}", db.display());
    let run = |i: usize| {
        let out = dir.path().join(format!("run{i}"));
        let o = gauntlet(&["eval", DEMO, "--out", out.to_str().unwrap(), &flag]);
        assert!(o.status.code().is_some(), "{}", stderr(&o));
        (o, out)
    };
    for i in 0..5 {
        let (o, _) = run(i);
        assert!(!stdout(&o).contains("judge drift"), "{}", stdout(&o));
    }
    let url = format!("sqlite://{}", db.display());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (rows, runs): (i64, i64) = rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let rows: (i64, i64) =
            sqlx::query_as("SELECT COUNT(*), COUNT(DISTINCT run_id) FROM judge_scores")
                .fetch_one(&pool)
                .await
                .unwrap();
        // Night n of 5 scored 0.08 × (6 − n) lower by one judge than tonight will; the
        // suite's other judge is left as it was.
        sqlx::query(
            "UPDATE judge_scores SET score = score - 0.08 * (6 - run_id) \
             WHERE judge = 'judge helpfulness'",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
        rows
    });
    assert_eq!(runs, 5, "every run keeps its judge scores");
    assert!(rows >= 5 && rows % 5 == 0, "{rows} rows");
    let (o, out) = run(5);
    let text = stdout(&o);
    assert!(
        text.contains("judge drift:") && text.contains("scores unchanged outputs higher"),
        "{text}"
    );
    let report: Value = serde_json::from_str(&read(out.join("support/report.json"))).unwrap();
    let judges = report["drift"]["judges"].as_array().expect("judge alerts");
    assert_eq!(judges.len(), 1, "only the lenient judge: {judges:?}");
    assert_eq!(judges[0]["judge"], "judge helpfulness");
    assert!(judges[0]["shift"].as_f64().unwrap() > 0.3, "{judges:?}");
    assert!(read(out.join("support/summary.md")).contains("judge drift:"));
    let h = gauntlet(&["history", DEMO, "--history", db.to_str().unwrap()]);
    assert!(stdout(&h).contains("judge drift:"), "{}", stdout(&h));
}
