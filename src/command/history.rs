//! `history`: the recorded runs of a suite as a table (or JSON, or an HTML page of trends),
//! with each case's flips and the drift over the last runs.

use std::path::Path;

use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
use serde::Serialize;

use crate::cli::{usage_error, HistoryCliArgs};
use crate::drift::{detect, Drift, Point, DEFAULT_ALPHA, DEFAULT_WINDOW};
use crate::exit;
use crate::history::location::{Location, ENV};
use crate::history::query::{history, History};
use crate::history::record::RunRecord;
use crate::history::store::{RunFilter, Store};
use crate::history::time::{now_unix, parse_since};

/// `--json`: the table, the flips and the drift verdict over the last runs.
#[derive(Debug, Serialize)]
struct HistoryJson<'a> {
    #[serde(flatten)]
    history: &'a History,
    drift: &'a Drift,
}

pub fn run(args: &HistoryCliArgs) -> u8 {
    let env = std::env::var(ENV).ok();
    let location = match Location::resolve(args.history.as_deref(), env.as_deref()) {
        Ok(l) => l,
        Err(e) => return usage_error(format!("--history: {e}")),
    };
    let since = match args.since.as_deref().map(|s| parse_since(s, now_unix())) {
        None => None,
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => return usage_error(e),
    };
    let Some(suite) = suite_name(&args.suite) else {
        return exit::INVALID_INPUT;
    };
    let filter = RunFilter {
        branch: args.branch.clone(),
        since,
        last: args.last,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit::RUN_INCOMPLETE;
        }
    };
    let read = runtime.block_on(async {
        let store = Store::open(&location).await?;
        let runs = store.runs(&suite, &filter).await;
        store.close().await;
        runs
    });
    let runs = match read {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::RUN_INCOMPLETE;
        }
    };
    if runs.is_empty() {
        eprintln!(
            "note: no recorded run of suite `{suite}` in {} (hint: gauntlet eval SUITE --history)",
            location.display()
        );
    }
    let h = history(&suite, &runs);
    let drift = drift_of(&runs);
    if let Some(file) = &args.html {
        let page = crate::report::trend_html::render(&h, &runs, &drift);
        if let Err(e) = std::fs::write(file, page) {
            eprintln!("error: cannot write {}: {e}", file.display());
            return exit::RUN_INCOMPLETE;
        }
        eprintln!("trends: {}", file.display());
    }
    if args.json {
        let out = HistoryJson {
            history: &h,
            drift: &drift,
        };
        match serde_json::to_string_pretty(&out) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("error: cannot serialize the history: {e}");
                return exit::RUN_INCOMPLETE;
            }
        }
    } else if args.html.is_none() {
        print!("{}", render_text(&h, &drift));
    }
    exit::GATE_PASSED
}

/// Drift over the last complete runs shown.
fn drift_of(runs: &[RunRecord]) -> Drift {
    let points: Vec<Point> = runs
        .iter()
        .filter(|r| r.incomplete.is_none())
        .map(RunRecord::point)
        .collect();
    let from = points.len().saturating_sub(DEFAULT_WINDOW);
    let mut drift = detect(&points[from..], DEFAULT_ALPHA);
    let scores: Vec<_> = runs
        .iter()
        .filter(|r| r.incomplete.is_none())
        .map(|r| r.judge_scores.clone())
        .collect();
    drift.judges = crate::judge_drift::judge_drift(&scores[from..], DEFAULT_ALPHA);
    drift
}

/// A suite file's `name:`, or the argument as a name.
fn suite_name(arg: &str) -> Option<String> {
    let path = Path::new(arg);
    let is_file = path.is_file() && path.extension().is_some_and(|e| e == "yaml" || e == "yml");
    if !is_file {
        return Some(arg.to_string());
    }
    crate::cli::load_all(&[path.to_path_buf()]).map(|mut s| s.remove(0).name)
}

/// The table, the cases that flip most and the drift alerts.
pub(crate) fn render_text(h: &History, drift: &Drift) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        "run",
        "started",
        "branch",
        "commit",
        "pass rate",
        "95% CI",
        "cost $",
        "tokens",
        "p50 ms",
        "p95 ms",
        "gate",
    ]);
    let opt = |v: Option<f64>| v.map_or("-".to_string(), |v| v.to_string());
    for r in &h.runs {
        table.add_row(vec![
            r.id.to_string(),
            r.started_at.clone(),
            r.branch.clone().unwrap_or_else(|| "-".into()),
            r.commit.clone().unwrap_or_else(|| "-".into()),
            format!("{:.1}% ({}/{})", r.pass_rate * 100.0, r.passed, r.total),
            r.pass_rate_ci.map_or("-".into(), |[lo, hi]| {
                format!("{:.1}–{:.1}%", lo * 100.0, hi * 100.0)
            }),
            opt(r.cost_usd),
            r.tokens.to_string(),
            opt(r.latency_p50_ms),
            opt(r.latency_p95_ms),
            if r.incomplete.is_some() {
                "incomplete".into()
            } else if r.gate_passed {
                "passed".into()
            } else {
                "failed".into()
            },
        ]);
    }
    let mut out = format!("suite `{}`: {} runs\n{table}\n", h.suite, h.runs.len());
    if !h.most_flipping.is_empty() {
        out.push_str("cases that flip most (flips, flake rate):\n");
        for id in &h.most_flipping {
            if let Some(c) = h.cases.iter().find(|c| &c.id == id) {
                let line: String = c
                    .statuses
                    .iter()
                    .map(|s| match s {
                        None => '·',
                        Some(s) if s.is_pass() => '✓',
                        Some(_) => '✗',
                    })
                    .collect();
                out.push_str(&format!(
                    "  {id}: {} flips, {:.0}%  {line}\n",
                    c.flips,
                    c.flake_rate * 100.0
                ));
            }
        }
    }
    if drift.alerts.is_empty() && drift.judges.is_empty() {
        out.push_str(&format!(
            "drift: none over the last {} runs (Mann–Kendall, one-sided, alpha {})\n",
            drift.runs, drift.alpha
        ));
    }
    for a in &drift.alerts {
        out.push_str(&crate::drift::describe(a));
        out.push('\n');
    }
    for a in &drift.judges {
        out.push_str(&crate::judge_drift::describe(a));
        out.push('\n');
    }
    out
}
