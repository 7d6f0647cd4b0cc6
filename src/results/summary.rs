//! `Summary`: the counts, rates, mean score, usage and per-tag figures of a run's cases.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::results::case_result::CaseResult;
use crate::stats::wilson_interval;
use crate::trajectory::Usage;
use crate::verdict::{rate, round, CaseStatus};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Summary {
    pub total: usize,
    pub passed: usize,
    pub soft_failed: usize,
    pub failed: usize,
    pub errored: usize,
    pub flaky: usize,
    /// (passed + soft_failed) / total; 0 when there are no cases.
    pub pass_rate: f64,
    pub soft_fail_rate: f64,
    pub error_rate: f64,
    /// 95% Wilson interval of the pass rate, over the cases of this run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass_rate_ci: Option<[f64; 2]>,
    /// Mean of the case scores that exist.
    pub mean_score: Option<f64>,
    pub usage: Usage,
    pub by_tag: BTreeMap<String, TagSummary>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TagSummary {
    pub total: usize,
    pub passed: usize,
    pub pass_rate: f64,
}

/// Counts, rates, mean score, usage and per-tag figures over the cases.
pub(crate) fn summarize(cases: &[CaseResult]) -> Summary {
    let count = |s: CaseStatus| cases.iter().filter(|c| c.status == s).count();
    let total = cases.len();
    let passed = count(CaseStatus::Passed);
    let soft_failed = count(CaseStatus::SoftFailed);
    let errored = count(CaseStatus::Errored);

    let scores: Vec<f64> = cases.iter().filter_map(|c| c.score).collect();
    let mean_score =
        (!scores.is_empty()).then(|| round(scores.iter().sum::<f64>() / scores.len() as f64));

    let mut usage = Usage::default();
    let mut by_tag: BTreeMap<String, TagSummary> = BTreeMap::new();
    for case in cases {
        usage.add(case.usage);
        for tag in &case.tags {
            let t = by_tag.entry(tag.clone()).or_default();
            t.total += 1;
            t.passed += usize::from(case.status.is_pass());
        }
    }
    for t in by_tag.values_mut() {
        t.pass_rate = rate(t.passed, t.total);
    }

    Summary {
        total,
        passed,
        soft_failed,
        failed: count(CaseStatus::Failed),
        errored,
        flaky: count(CaseStatus::Flaky),
        pass_rate: rate(passed + soft_failed, total),
        soft_fail_rate: rate(soft_failed, total),
        error_rate: rate(errored, total),
        pass_rate_ci: wilson_interval((passed + soft_failed) as u64, total as u64, 1.96)
            .map(|(lo, hi)| [round(lo), round(hi)]),
        mean_score,
        usage,
        by_tag,
    }
}
