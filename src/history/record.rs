//! `RunRecord`: what the history keeps of one run — its identity (suite, time, commit, branch,
//! target, models), its summary and, per case, status, score, repeats, usage, cost and latency.
//! Not the trajectories: those stay in the run's reports.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::drift::Point;
use crate::history::git::GitInfo;
use crate::judge_drift::JudgeScore;
use crate::results::case_result::CaseResult;
use crate::results::run_report::RunReport;
use crate::results::summary::Summary;
use crate::verdict::CaseStatus;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Set by the store (its row id); 0 before the run is recorded.
    pub id: i64,
    pub suite: String,
    /// Unix seconds at the start of the run.
    pub started_at: i64,
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub target: String,
    /// Every model the suite may call (`provider:model`), sorted.
    pub models: Vec<String>,
    /// Why the run stopped early, when it did.
    pub incomplete: Option<String>,
    pub gate_passed: bool,
    pub summary: Summary,
    /// USD over the priced cases; absent when none was priced.
    pub cost_usd: Option<f64>,
    pub cases: Vec<CaseRecord>,
    /// Each judge's score of each case's output, for the judge drift test.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub judge_scores: Vec<JudgeScore>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseRecord {
    pub id: String,
    pub tags: Vec<String>,
    pub status: CaseStatus,
    pub score: Option<f64>,
    /// Runs of the case (1 without `--repeat`) and how many passed.
    pub runs: u32,
    pub passes: u32,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_usd: Option<f64>,
    /// Mean over the case's runs of the summed model and tool call latencies; absent when no
    /// run measured any.
    pub latency_ms: Option<u64>,
    /// The representative run's tool-call sequence: what a baseline from history compares.
    pub tools: Vec<String>,
}

/// Facts of a run that are not in its report: when, where in git, on which models, and how
/// long each case took (the report holds no wall-clock value, so it stays diffable).
#[derive(Debug, Clone, Default)]
pub struct RunContext {
    pub started_at: i64,
    pub git: GitInfo,
    pub models: Vec<String>,
    /// Mean latency per case id.
    pub latencies: BTreeMap<String, u64>,
    /// The display names of the suite's judge checks: whose verdicts are judge scores.
    pub judges: BTreeSet<String>,
    /// `--filter`/`--tag` kept part of the suite (`CompiledSelection::slice`): the run is
    /// recorded as incomplete, so no drift test or baseline takes it for a whole run.
    pub slice: Option<String>,
}

impl RunRecord {
    /// This run's values of the drift metrics.
    pub fn point(&self) -> Point {
        Point::of_cases(
            self.cases
                .iter()
                .map(|c| (c.status.is_pass(), c.cost_usd, c.latency_ms)),
        )
    }
}

/// The record of a finished run.
pub fn run_record(report: &RunReport, ctx: RunContext) -> RunRecord {
    let cases: Vec<CaseRecord> = report
        .cases
        .iter()
        .map(|c| {
            let (runs, passes) = match &c.repeats {
                Some(r) => (r.runs, r.passes),
                None => (1, u32::from(c.status.is_pass())),
            };
            CaseRecord {
                id: c.id.clone(),
                tags: c.tags.clone(),
                status: c.status,
                score: c.score,
                runs,
                passes,
                input_tokens: c.usage.input_tokens,
                output_tokens: c.usage.output_tokens,
                cost_usd: c.cost_usd,
                latency_ms: ctx.latencies.get(&c.id).copied(),
                tools: c.tools.clone(),
            }
        })
        .collect();
    let judge_scores = judge_scores(&report.cases, &ctx.judges);
    let priced: Vec<f64> = cases.iter().filter_map(|c| c.cost_usd).collect();
    let mut models = ctx.models;
    models.sort();
    models.dedup();
    RunRecord {
        id: 0,
        suite: report.suite.clone(),
        started_at: ctx.started_at,
        commit: ctx.git.commit,
        branch: ctx.git.branch,
        target: report.target.clone(),
        models,
        incomplete: report.incomplete.clone().or(ctx.slice),
        gate_passed: report.gate.passed,
        summary: report.summary.clone(),
        cost_usd: (!priced.is_empty()).then(|| priced.iter().sum()),
        cases,
        judge_scores,
    }
}

/// The scores the checks named in `judges` gave each case's (representative) output.
pub fn judge_scores(cases: &[CaseResult], judges: &BTreeSet<String>) -> Vec<JudgeScore> {
    cases
        .iter()
        .flat_map(|c| {
            let hash = crate::fingerprint::stable_hash(&[&c.output]);
            c.checks
                .iter()
                .filter(|v| judges.contains(&v.check))
                .filter_map(move |v| {
                    Some(JudgeScore {
                        case_id: c.id.clone(),
                        judge: v.check.clone(),
                        output_hash: hash.clone(),
                        score: v.score?,
                    })
                })
        })
        .collect()
}

/// Collects each case's latency over its runs while they finish, for `RunContext::latencies`.
#[derive(Debug, Default)]
pub struct LatencyLog {
    sums: BTreeMap<String, (u64, u64)>,
}

impl LatencyLog {
    /// One run of case `id` took `ms` (summed model and tool latencies; `None`: unmeasured).
    pub fn add(&mut self, id: &str, ms: Option<u64>) {
        if let Some(ms) = ms {
            let e = self.sums.entry(id.to_string()).or_default();
            e.0 = e.0.saturating_add(ms);
            e.1 += 1;
        }
    }

    /// The mean latency of case `id` so far.
    pub fn mean(&self, id: &str) -> Option<u64> {
        self.sums.get(id).map(|(sum, n)| sum / (*n).max(1))
    }

    pub fn means(self) -> BTreeMap<String, u64> {
        self.sums
            .into_iter()
            .map(|(id, (sum, n))| (id, sum / n.max(1)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::fixture;

    #[test]
    fn a_report_becomes_a_record_with_its_context() {
        let report = fixture::sample_report();
        let mut log = LatencyLog::default();
        let first = report.cases[0].id.clone();
        log.add(&first, Some(10));
        log.add(&first, Some(30));
        log.add(&first, None);
        let ctx = RunContext {
            started_at: 42,
            git: GitInfo {
                commit: Some("abc".into()),
                branch: Some("main".into()),
            },
            models: vec!["mock:b".into(), "mock:a".into(), "mock:b".into()],
            latencies: log.means(),
            judges: [report.cases[0].checks[0].check.clone()].into(),
            slice: None,
        };
        let r = run_record(&report, ctx);
        assert_eq!(r.models, vec!["mock:a".to_string(), "mock:b".into()]);
        assert_eq!(r.cases.len(), report.cases.len());
        assert_eq!(r.cases[0].latency_ms, Some(20));
        assert_eq!(r.summary, report.summary);
        assert_eq!((r.started_at, r.commit.as_deref()), (42, Some("abc")));
        // The judge's verdicts, by name, each with its case's output hash.
        let judge = &report.cases[0].checks[0].check;
        let want = report
            .cases
            .iter()
            .filter(|c| {
                c.checks
                    .iter()
                    .any(|v| &v.check == judge && v.score.is_some())
            })
            .count();
        assert!(want > 0);
        assert_eq!(r.judge_scores.len(), want);
        assert_eq!(
            r.judge_scores[0].output_hash,
            crate::fingerprint::stable_hash(&[&report.cases[0].output])
        );
    }
}
