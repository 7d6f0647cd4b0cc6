//! Merges the reports of the shards of one run (`--shard K/N`) into the report the unsharded
//! run would have written: cases joined and sorted, every statistic recomputed from them, the
//! gate's verdict given again by the gate (`gate::Policy::Shards`) from what the shards carried.

use std::collections::BTreeMap;

use crate::drift::Drift;
use crate::gate::Policy;
use crate::results::build::{build_report, ReportHeader, Scored};
use crate::results::case_result::CaseResult;
use crate::results::compare::{finish_stats, Change, ChangeTest, Comparison};
use crate::results::confirm::{decide, Candidate};
use crate::results::confirmation::Confirmation;
use crate::results::run_report::RunReport;
use crate::verdict::rate;

/// Why shard reports cannot be merged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum MergeError {
    #[error("nothing to merge")]
    Nothing,
    #[error(
        "cannot merge reports of different runs: suite `{suite}` ({target}) and suite `{other_suite}` ({other_target})"
    )]
    DifferentRuns {
        suite: String,
        target: String,
        other_suite: String,
        other_target: String,
    },
    /// 1-based positions of the two reports holding the case.
    #[error(
        "case `{id}` is in reports {first} and {second} (hint: merge the reports of the shards of one run)"
    )]
    DuplicateCase {
        id: String,
        first: usize,
        second: usize,
    },
}

/// Joins shard reports of the same suite. Fails on reports of different suites or targets, and
/// on a case id present in two shards (the shards did not partition the cases). `drift`: the
/// run history's drift test of the merged run (suite name, its cases), for the report and the
/// gate's `max_drift`; `None` without a history.
pub(crate) fn merge(
    reports: Vec<RunReport>,
    drift: impl FnOnce(&str, &[CaseResult]) -> Option<Drift>,
) -> Result<RunReport, MergeError> {
    let Some(first) = reports.first() else {
        return Err(MergeError::Nothing);
    };
    let header = ReportHeader {
        suite: first.suite.clone(),
        description: first.description.clone(),
        target: first.target.clone(),
    };
    for r in &reports {
        if r.suite != header.suite || r.target != header.target || r.version != first.version {
            return Err(MergeError::DifferentRuns {
                suite: header.suite,
                target: header.target,
                other_suite: r.suite.clone(),
                other_target: r.target.clone(),
            });
        }
    }
    let incomplete = reports.iter().find_map(|r| r.incomplete.clone());
    let shard_gates = reports.iter().map(|r| r.gate.clone()).collect();
    let baselines: Vec<&Comparison> = reports.iter().filter_map(|r| r.baseline.as_ref()).collect();
    let baseline = (!baselines.is_empty()).then(|| merge_comparisons(&baselines));

    let mut seen = BTreeMap::new();
    let mut cases = Vec::new();
    for (i, r) in reports.into_iter().enumerate() {
        for case in r.cases {
            if let Some(other) = seen.insert(case.id.clone(), i) {
                return Err(MergeError::DuplicateCase {
                    id: case.id,
                    first: other + 1,
                    second: i + 1,
                });
            }
            cases.push(case);
        }
    }

    let mut scored = Scored::new(cases);
    scored.drift = drift(&header.suite, &scored.cases);
    let baseline = baseline.map(|mut cmp| {
        cmp.pass_rate_after = scored.summary.pass_rate;
        cmp
    });
    let gate = Policy::Shards(shard_gates);
    Ok(build_report(header, gate, scored, baseline, incomplete))
}

/// Joins per-shard comparisons against the same baseline: the lists are unions (each case is in
/// one shard), sorted as `compare` sorts them; the test is recomputed over the joined flips.
fn merge_comparisons(parts: &[&Comparison]) -> Comparison {
    let mut m = Comparison::default();
    for p in parts {
        m.regressions.extend(p.regressions.iter().cloned());
        m.fixes.extend(p.fixes.iter().cloned());
        m.cases_before += p.cases_before;
        m.paired += p.paired;
        m.passed_before += p.passed_before;
        m.errored.extend(p.errored.iter().cloned());
        m.lost.extend(p.lost.iter().cloned());
        m.new_cases.extend(p.new_cases.iter().cloned());
        m.score_deltas.extend(p.score_deltas.iter().cloned());
        m.trajectory_changes
            .extend(p.trajectory_changes.iter().cloned());
    }
    // Each shard compares against its own slice of the baseline, so removals are disjoint too.
    m.removed_cases = parts
        .iter()
        .flat_map(|p| p.removed_cases.iter().cloned())
        .collect();
    m.removed_cases.sort();
    m.regressions.sort_by(|a, b| a.id.cmp(&b.id));
    m.fixes.sort_by(|a, b| a.id.cmp(&b.id));
    m.errored.sort_by(|a, b| a.id.cmp(&b.id));
    m.lost.sort_by(|a, b| a.id.cmp(&b.id));
    m.new_cases.sort();
    m.trajectory_changes.sort_by(|a, b| a.id.cmp(&b.id));
    m.score_deltas
        .sort_by(|a, b| a.delta.total_cmp(&b.delta).then_with(|| a.id.cmp(&b.id)));
    m.pass_rate_before = rate(m.passed_before, m.cases_before);
    // The per-case changes are additive: the joined test is the test over the summed sums.
    let test = if parts.iter().any(|p| p.change.test == ChangeTest::PairedT) {
        ChangeTest::PairedT
    } else {
        ChangeTest::Mcnemar
    };
    let (n, sum, sum_sq) = parts.iter().fold((0, 0.0, 0.0), |(n, s, q), p| {
        (n + p.change.n, s + p.change.sum, q + p.change.sum_sq)
    });
    m.change = Change::from_sums(test, n, sum, sum_sq);
    m.power = parts.iter().find_map(|p| p.power.clone());
    m.confirmation = merge_confirmations(parts);
    if let Some(conf) = &m.confirmation {
        // Re-decided over the joined family: a regression stands only if still confirmed.
        m.regressions.retain(|r| conf.confirmed.contains(&r.id));
    }
    finish_stats(&mut m);
    m
}

/// Joins the shards' confirmations and re-decides them as one family (the Benjamini–Hochberg
/// correction depends on how many cases were rerun in all).
fn merge_confirmations(parts: &[&Comparison]) -> Option<Confirmation> {
    let confs: Vec<&Confirmation> = parts
        .iter()
        .filter_map(|p| p.confirmation.as_ref())
        .collect();
    let first = confs.first()?;
    let mut candidates = Vec::new();
    let mut fresh = BTreeMap::new();
    let mut unreachable = Vec::new();
    for c in &confs {
        for row in &c.cases {
            candidates.push(Candidate {
                id: row.id.clone(),
                baseline: (row.baseline[0], row.baseline[1]),
            });
            fresh.insert(row.id.clone(), (row.fresh[0], row.fresh[1]));
        }
        unreachable.extend(c.unreachable.iter().cloned());
    }
    candidates.sort_by(|a, b| a.id.cmp(&b.id));
    unreachable.sort();
    let mut out = decide(&candidates, &fresh, first.runs_per_case, first.alpha);
    out.unreachable = unreachable;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::fixture::{report_of, sample_report, sample_runs};

    #[test]
    fn shards_merge_to_the_report_of_the_whole_run() {
        let whole = sample_report();
        // The critical failure (`refund-late`) and the gate's limits travel in the shards.
        let mut runs = sample_runs();
        let rest = runs.split_off(2);
        let merged = merge(vec![report_of(rest), report_of(runs)], |_, _| None).expect("merges");
        assert_eq!(merged, whole);
        assert_eq!(merged.gate.critical_failures, ["refund-late"]);
    }

    #[test]
    fn what_cannot_be_merged_says_why() {
        assert!(matches!(
            merge(vec![], |_, _| None),
            Err(MergeError::Nothing)
        ));
        let err = merge(vec![sample_report(), sample_report()], |_, _| None).unwrap_err();
        assert!(
            matches!(
                &err,
                MergeError::DuplicateCase {
                    first: 1,
                    second: 2,
                    ..
                }
            ),
            "{err}"
        );
        let other = RunReport {
            suite: "other".into(),
            ..sample_report()
        };
        let err = merge(vec![sample_report(), other], |_, _| None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot merge reports of different runs: suite `support` (harness mock:support) and suite `other` (harness mock:support)"
        );
    }
}
