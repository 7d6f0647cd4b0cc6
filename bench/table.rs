//! `Row`: one measured workload, with its targets; rendered as the terminal table and as
//! `target/bench/results.json`.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
use serde_json::{json, Value};

use crate::workloads::Targets;

#[derive(Debug, Clone)]
pub struct Row {
    pub label: String,
    pub cases: usize,
    pub model_calls: u64,
    /// TCP connections gauntlet opened to the model server (keep-alive keeps this low).
    pub connections: u64,
    pub wall_s: f64,
    pub cpu_s: f64,
    pub rss_mib: f64,
    pub runs: usize,
    pub targets: Targets,
    /// Why the run cannot be trusted (wrong exit code, missing passes, wrong call count).
    pub invalid: Option<String>,
}

impl Row {
    pub fn cases_per_s(&self) -> Option<f64> {
        (self.cases > 0 && self.wall_s > 0.0).then(|| self.cases as f64 / self.wall_s)
    }

    pub fn cpu_ms_per_call(&self) -> Option<f64> {
        (self.model_calls > 0).then(|| self.cpu_s * 1000.0 / self.model_calls as f64)
    }

    /// Every target met (and the run valid).
    pub fn met(&self) -> bool {
        self.invalid.is_none()
            && [
                at_most(Some(self.wall_s), self.targets.max_wall_s),
                at_least(self.cases_per_s(), self.targets.min_cases_per_s),
                at_most(self.cpu_ms_per_call(), self.targets.max_cpu_ms_per_call),
                at_most(Some(self.rss_mib), self.targets.max_rss_mib),
            ]
            .into_iter()
            .all(|m| m != Some(false))
    }

    fn to_json(&self) -> Value {
        json!({
            "workload": self.label,
            "cases": self.cases,
            "model_calls": self.model_calls,
            "connections": self.connections,
            "runs": self.runs,
            "wall_s": round(self.wall_s, 4),
            "cases_per_s": self.cases_per_s().map(|x| round(x, 1)),
            "cpu_s": round(self.cpu_s, 4),
            "cpu_ms_per_call": self.cpu_ms_per_call().map(|x| round(x, 4)),
            "peak_rss_mib": round(self.rss_mib, 1),
            "targets": {
                "max_wall_s": self.targets.max_wall_s,
                "min_cases_per_s": self.targets.min_cases_per_s,
                "max_cpu_ms_per_call": self.targets.max_cpu_ms_per_call,
                "max_peak_rss_mib": self.targets.max_rss_mib,
            },
            "valid": self.invalid.is_none(),
            "invalid_because": self.invalid,
            "all_targets_met": self.met(),
        })
    }
}

fn round(x: f64, digits: i32) -> f64 {
    let p = 10f64.powi(digits);
    (x * p).round() / p
}

fn at_most(value: Option<f64>, target: Option<f64>) -> Option<bool> {
    Some(value? <= target?)
}

fn at_least(value: Option<f64>, target: Option<f64>) -> Option<bool> {
    Some(value? >= target?)
}

/// `value`, and beside it ✓/✗ and the target when there is one.
fn cell(value: Option<f64>, digits: usize, met: Option<bool>, target: Option<String>) -> String {
    let Some(v) = value else {
        return "–".into();
    };
    match (met, target) {
        (Some(ok), Some(t)) => format!("{v:.digits$} {} {t}", if ok { "✓" } else { "✗" }),
        _ => format!("{v:.digits$}"),
    }
}

pub fn render(rows: &[Row]) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        "workload",
        "cases",
        "model calls",
        "conns",
        "wall s",
        "cases/s",
        "CPU s",
        "CPU ms / call",
        "peak RSS MiB",
        "valid",
    ]);
    for r in rows {
        let t = &r.targets;
        let wall_digits = if r.wall_s < 1.0 { 4 } else { 2 };
        table.add_row(vec![
            r.label.clone(),
            r.cases.to_string(),
            r.model_calls.to_string(),
            r.connections.to_string(),
            cell(
                Some(r.wall_s),
                wall_digits,
                at_most(Some(r.wall_s), t.max_wall_s),
                t.max_wall_s.map(|x| format!("≤ {x}")),
            ),
            cell(
                r.cases_per_s(),
                0,
                at_least(r.cases_per_s(), t.min_cases_per_s),
                t.min_cases_per_s.map(|x| format!("≥ {x}")),
            ),
            format!("{:.3}", r.cpu_s),
            cell(
                r.cpu_ms_per_call(),
                3,
                at_most(r.cpu_ms_per_call(), t.max_cpu_ms_per_call),
                t.max_cpu_ms_per_call.map(|x| format!("≤ {x}")),
            ),
            cell(
                Some(r.rss_mib),
                1,
                at_most(Some(r.rss_mib), t.max_rss_mib),
                t.max_rss_mib.map(|x| format!("≤ {x}")),
            ),
            match &r.invalid {
                None => "ok".into(),
                Some(why) => format!("NO: {why}"),
            },
        ]);
    }
    table.to_string()
}

/// The whole result file: the machine, then one object per row.
pub fn to_json(rows: &[Row], machine: Value) -> Value {
    json!({
        "machine": machine,
        "rows": rows.iter().map(Row::to_json).collect::<Vec<_>>(),
    })
}
