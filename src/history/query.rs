//! `History`: the recorded runs of a suite, read as a table (one row per run) and as per-case
//! flip histories. Pure: the store reads the records, this shapes them.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::drift::percentile;
use crate::history::record::RunRecord;
use crate::history::time::iso;
use crate::stats::wilson_interval;
use crate::verdict::{round, CaseStatus};

/// One run as the table shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRow {
    pub id: i64,
    pub started_at: String,
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub total: usize,
    pub passed: usize,
    pub pass_rate: f64,
    /// 95% Wilson interval of the pass rate.
    pub pass_rate_ci: Option<[f64; 2]>,
    pub cost_usd: Option<f64>,
    pub tokens: u64,
    pub latency_p50_ms: Option<f64>,
    pub latency_p95_ms: Option<f64>,
    pub gate_passed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
}

/// One case across the runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseHistory {
    pub id: String,
    /// Its status in each run, oldest first (`None`: not in that run).
    pub statuses: Vec<Option<CaseStatus>>,
    /// Times it went from passing to not passing or back, between consecutive runs it was in.
    pub flips: usize,
    /// flips / (runs it was in − 1): 0 for a case that never changes, 1 for one that changes
    /// every run.
    pub flake_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct History {
    pub suite: String,
    pub runs: Vec<RunRow>,
    /// Every case ever seen, by id.
    pub cases: Vec<CaseHistory>,
    /// Cases that flipped at least once, most flips first (at most 10).
    pub most_flipping: Vec<String>,
}

/// The table row of a run.
pub fn run_row(run: &RunRecord) -> RunRow {
    let passed = run.cases.iter().filter(|c| c.status.is_pass()).count();
    let total = run.cases.len();
    let mut latencies: Vec<f64> = run
        .cases
        .iter()
        .filter_map(|c| c.latency_ms.map(|l| l as f64))
        .collect();
    let point = run.point();
    RunRow {
        id: run.id,
        started_at: iso(run.started_at),
        commit: run.commit.as_ref().map(|c| c.chars().take(10).collect()),
        branch: run.branch.clone(),
        total,
        passed,
        pass_rate: round(point.pass_rate),
        pass_rate_ci: wilson_interval(passed as u64, total as u64, 1.96)
            .map(|(lo, hi)| [round(lo), round(hi)]),
        cost_usd: run.cost_usd.map(round),
        tokens: run
            .cases
            .iter()
            .map(|c| c.input_tokens.saturating_add(c.output_tokens))
            .fold(0u64, u64::saturating_add),
        latency_p50_ms: percentile(&mut latencies, 0.5).map(round),
        latency_p95_ms: percentile(&mut latencies, 0.95).map(round),
        gate_passed: run.gate_passed,
        incomplete: run.incomplete.clone(),
    }
}

/// The table and the flip histories of `runs` (oldest first).
pub fn history(suite: &str, runs: &[RunRecord]) -> History {
    let ids: BTreeSet<&str> = runs
        .iter()
        .flat_map(|r| r.cases.iter().map(|c| c.id.as_str()))
        .collect();
    let by_run: Vec<BTreeMap<&str, CaseStatus>> = runs
        .iter()
        .map(|r| r.cases.iter().map(|c| (c.id.as_str(), c.status)).collect())
        .collect();
    let cases: Vec<CaseHistory> = ids
        .into_iter()
        .map(|id| {
            let statuses: Vec<Option<CaseStatus>> =
                by_run.iter().map(|m| m.get(id).copied()).collect();
            let present: Vec<bool> = statuses.iter().flatten().map(|s| s.is_pass()).collect();
            let flips = present.windows(2).filter(|w| w[0] != w[1]).count();
            let flake_rate = if present.len() > 1 {
                round(flips as f64 / (present.len() - 1) as f64)
            } else {
                0.0
            };
            CaseHistory {
                id: id.to_string(),
                statuses,
                flips,
                flake_rate,
            }
        })
        .collect();
    let mut flipping: Vec<&CaseHistory> = cases.iter().filter(|c| c.flips > 0).collect();
    flipping.sort_by(|a, b| b.flips.cmp(&a.flips).then_with(|| a.id.cmp(&b.id)));
    History {
        suite: suite.to_string(),
        runs: runs.iter().map(run_row).collect(),
        most_flipping: flipping.iter().take(10).map(|c| c.id.clone()).collect(),
        cases,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::record::CaseRecord;

    fn case(id: &str, status: CaseStatus, latency: u64) -> CaseRecord {
        CaseRecord {
            id: id.into(),
            tags: vec![],
            status,
            score: None,
            runs: 1,
            passes: u32::from(status.is_pass()),
            input_tokens: 10,
            output_tokens: 5,
            cost_usd: Some(0.5),
            latency_ms: Some(latency),
            tools: vec![],
        }
    }

    fn run(id: i64, cases: Vec<CaseRecord>) -> RunRecord {
        RunRecord {
            id,
            suite: "s".into(),
            started_at: 86_400 * id,
            commit: Some("0123456789abcdef".into()),
            branch: Some("main".into()),
            target: "t".into(),
            models: vec![],
            incomplete: None,
            gate_passed: true,
            summary: Default::default(),
            cost_usd: Some(1.0),
            cases,
            judge_scores: vec![],
        }
    }

    #[test]
    fn rows_and_flips() {
        use CaseStatus::*;
        let runs = vec![
            run(1, vec![case("a", Passed, 10), case("b", Passed, 30)]),
            run(2, vec![case("a", Failed, 20), case("b", Passed, 40)]),
            run(3, vec![case("a", Passed, 30), case("c", Failed, 50)]),
        ];
        let h = history("s", &runs);
        let r = &h.runs[0];
        assert_eq!((r.total, r.passed, r.pass_rate, r.tokens), (2, 2, 1.0, 30));
        assert_eq!(r.latency_p50_ms, Some(20.0));
        assert_eq!(r.latency_p95_ms, Some(29.0));
        assert_eq!(r.commit.as_deref(), Some("0123456789"));
        assert_eq!(r.started_at, "1970-01-02T00:00:00Z");
        assert_eq!(h.runs[1].pass_rate, 0.5);
        let a = &h.cases[0];
        assert_eq!((a.flips, a.flake_rate), (2, 1.0));
        assert_eq!(h.cases[1].statuses, vec![Some(Passed), Some(Passed), None]);
        assert_eq!(h.cases[2].flake_rate, 0.0);
        assert_eq!(h.most_flipping, vec!["a".to_string()]);
    }
}
