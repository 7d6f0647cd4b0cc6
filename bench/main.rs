//! The whole-process benchmark of issue 7: runs the release `gauntlet` on generated workloads
//! against a local OpenAI-compatible server and prints wall time, CPU and peak RSS per workload
//! with the targets beside them.
//!
//! ```sh
//! cargo build --release && cargo run --release --example bench            # every workload
//! cargo run --release --example bench -- W1 startup                       # some of them
//! ```
//!
//! Names: W1, W1-latency, W2, W3, startup, 100k, replay-100k, load-100k. The table is also
//! written to `target/bench/results.json`. `BENCH_KEEP=1` keeps the generated folders (suites,
//! datasets, reports, gauntlet's stdout/stderr) for profiling by hand; `bench serve [MS]` runs
//! only the model server. See docs/performance.md.

mod measure;
mod reply;
mod server;
mod table;
mod workloads;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::{json, Value};

use measure::{locate_gauntlet, Measured};
use server::Server;
use table::Row;
use workloads::{Plan, Workload, ALL};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // First, before this process has grown: see `measure::run`.
    if args.first().map(String::as_str) == Some(measure::HELPER) {
        return measure::helper_main(&args[1..]);
    }
    if args.first().map(String::as_str) == Some("serve") {
        return serve(args.get(1).map(String::as_str));
    }
    let mut chosen = Vec::new();
    for arg in args.into_iter().filter(|a| a != "--bench") {
        match Workload::parse(&arg) {
            Some(w) => chosen.push(w),
            None => {
                let names: Vec<&str> = ALL.iter().map(|w| w.name()).collect();
                eprintln!(
                    "error: unknown workload `{arg}` (hint: one of {})",
                    names.join(", ")
                );
                return ExitCode::from(2);
            }
        }
    }
    if chosen.is_empty() {
        chosen = ALL.to_vec();
    }
    let bin = match locate_gauntlet() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let load: Option<f64> = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next()?.parse().ok());
    if let Some(l) = load.filter(|l| *l > 1.0) {
        eprintln!("warning: load average {l:.1}: other processes share the CPUs, so wall times will be inflated");
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut rows = Vec::new();
    for w in chosen {
        match run_workload(w, &bin, repo) {
            Ok(mut r) => rows.append(&mut r),
            Err(e) => {
                eprintln!("error: workload {}: {e}", w.name());
                return ExitCode::from(3);
            }
        }
    }
    println!("{}", table::render(&rows));
    let results = results_path(&bin);
    let written =
        std::fs::create_dir_all(results.parent().unwrap_or(Path::new("."))).and_then(|()| {
            let text = serde_json::to_string_pretty(&table::to_json(&rows, machine(&bin)))?;
            std::fs::write(&results, text + "\n")
        });
    match written {
        Ok(()) => println!("written: {}", results.display()),
        Err(e) => eprintln!("warning: cannot write {}: {e}", results.display()),
    }
    let missed: Vec<&str> = rows
        .iter()
        .filter(|r| !r.met())
        .map(|r| r.label.as_str())
        .collect();
    if missed.is_empty() {
        println!("every target met");
    } else {
        println!("targets missed: {}", missed.join(", "));
    }
    if rows.iter().any(|r| r.invalid.is_some()) {
        eprintln!(
            "error: some runs are not valid (see the `valid` column): their figures mean nothing"
        );
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

/// `bench serve [LATENCY_MS]`: only the model server, until Ctrl-C, for profiling gauntlet by
/// hand on the folders `BENCH_KEEP=1` leaves (point their `base_url` at the printed URL).
fn serve(latency_ms: Option<&str>) -> ExitCode {
    let Ok(ms) = latency_ms.unwrap_or("0").parse::<u64>() else {
        eprintln!("error: `serve` takes a latency in milliseconds (hint: `serve 200`)");
        return ExitCode::from(2);
    };
    match Server::start(std::time::Duration::from_millis(ms)) {
        Ok(server) => {
            println!("{}", server.base_url());
            loop {
                std::thread::sleep(std::time::Duration::from_secs(60));
                eprintln!("{} model calls served", server.calls());
            }
        }
        Err(e) => {
            eprintln!("error: cannot start the server: {e}");
            ExitCode::from(3)
        }
    }
}

/// Generates the workload's files in a fresh temporary folder, starts the server it needs, and
/// measures each of its plans.
fn run_workload(w: Workload, bin: &Path, repo: &Path) -> std::io::Result<Vec<Row>> {
    let dir = tempfile::Builder::new()
        .prefix("gauntlet-bench-")
        .tempdir()?;
    let server = w.latency().map(Server::start).transpose()?;
    let base_url = server.as_ref().map(Server::base_url).unwrap_or_default();
    eprintln!("{}: generating…", w.name());
    let plans = w.prepare(dir.path(), &base_url, repo)?;
    let mut rows = Vec::new();
    for plan in plans {
        eprintln!("{}: running gauntlet {}", plan.label, plan.args.join(" "));
        let calls_before = server.as_ref().map_or(0, Server::calls);
        let connections_before = server.as_ref().map_or(0, Server::connections);
        let args: Vec<&str> = plan.args.iter().map(String::as_str).collect();
        let mut runs = Vec::new();
        for _ in 0..plan.runs {
            runs.push(measure::run(
                bin,
                &args,
                &plan.cwd,
                &[("OPENAI_API_KEY", "bench")],
                &dir.path().join("gauntlet"),
            )?);
        }
        let calls = server.as_ref().map_or(0, Server::calls) - calls_before;
        let connections = server.as_ref().map_or(0, Server::connections) - connections_before;
        let m = median(&mut runs);
        let invalid = check(&plan, &runs, calls, &dir.path().join("gauntlet.err"));
        if std::env::var_os("BENCH_KEEP").is_some() {
            eprintln!("{}: files kept in {}", plan.label, dir.path().display());
        }
        rows.push(Row {
            label: plan.label.clone(),
            cases: plan.cases,
            model_calls: calls / plan.runs as u64,
            connections: connections / plan.runs as u64,
            wall_s: m.wall.as_secs_f64(),
            cpu_s: m.cpu.as_secs_f64(),
            rss_mib: m.peak_rss_mib(),
            runs: plan.runs,
            targets: plan.targets,
            invalid,
        });
    }
    if std::env::var_os("BENCH_KEEP").is_some() {
        // For profiling by hand: the folder outlives the bench.
        let _ = dir.keep();
    }
    Ok(rows)
}

/// The run with the median wall time.
fn median(runs: &mut [Measured]) -> Measured {
    runs.sort_by_key(|m| m.wall);
    runs[runs.len() / 2]
}

/// Why the runs of `plan` cannot be trusted, if they cannot: a wrong exit code, a wrong number
/// of model calls, or a report without every case passing.
fn check(plan: &Plan, runs: &[Measured], calls: u64, stderr: &Path) -> Option<String> {
    if let Some(m) = runs.iter().find(|m| m.exit != Some(0)) {
        let err = std::fs::read_to_string(stderr).unwrap_or_default();
        let tail: String = err.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
        return Some(format!("exit {:?}: {tail}", m.exit));
    }
    let want_calls = plan.model_calls * runs.len() as u64;
    if calls != want_calls {
        return Some(format!("{calls} model calls, expected {want_calls}"));
    }
    let report = plan.report.as_ref()?;
    // Only the summary is kept: the rest of a 100k-case report is skipped, not built.
    let head = std::fs::read(report)
        .ok()
        .and_then(|t| serde_json::from_slice::<ReportHead>(&t).ok());
    let Some(ReportHead { summary: s }) = head else {
        return Some(format!("no readable {}", report.display()));
    };
    let want = plan.cases as u64;
    if s.total != want || s.passed != want {
        return Some(format!(
            "report: {} passed of {}, expected {want} of {want}",
            s.passed, s.total
        ));
    }
    None
}

/// What the bench reads of a `report.json`.
#[derive(serde::Deserialize)]
struct ReportHead {
    summary: SummaryCounts,
}

#[derive(serde::Deserialize)]
struct SummaryCounts {
    total: u64,
    passed: u64,
}

/// `target/bench/results.json`, beside the profile folder the binaries are in.
fn results_path(bin: &Path) -> PathBuf {
    bin.parent()
        .and_then(Path::parent)
        .unwrap_or(Path::new("target"))
        .join("bench/results.json")
}

/// What the figures were measured on.
fn machine(bin: &Path) -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_string());
    let version = std::process::Command::new(bin)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .ok();
    // Other processes' load inflates wall times (CPU and RSS are the child's own).
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "));
    json!({
        "cpus": std::thread::available_parallelism().map(|n| n.get()).ok(),
        "load_average_1_5_15": load,
        "cpu_model": model,
        "gauntlet": version,
        "os": std::env::consts::OS,
    })
}
