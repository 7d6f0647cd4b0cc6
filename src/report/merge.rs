//! Merges the reports of the shards of one run (`--shard K/N`) into the report the unsharded
//! run would have written: cases joined and sorted, every statistic recomputed from them, the
//! gate re-evaluated with the limits the shards carried.

use std::collections::{BTreeMap, BTreeSet};

use crate::confirm::{decide, Candidate};
use crate::gate;
use crate::report::build::{build_report, ReportHeader};
use crate::report::compare::{finish_stats, Change, ChangeTest, Comparison};
use crate::report::confirmation::Confirmation;
use crate::report::model::RunReport;
use crate::suite::model::Gate;
use crate::verdict::rate;

/// Joins shard reports of the same suite. Fails on reports of different suites or targets, and
/// on a case id present in two shards (the shards did not partition the cases).
pub fn merge(reports: Vec<RunReport>) -> Result<RunReport, String> {
    let Some(first) = reports.first() else {
        return Err("nothing to merge".into());
    };
    let header = ReportHeader {
        suite: first.suite.clone(),
        description: first.description.clone(),
        target: first.target.clone(),
    };
    for r in &reports {
        if r.suite != header.suite || r.target != header.target || r.version != first.version {
            return Err(format!(
                "cannot merge reports of different runs: suite `{}` ({}) and suite `{}` ({})",
                header.suite, header.target, r.suite, r.target
            ));
        }
    }
    // The limits are the suite's, the same in every shard; critical tags are not in a report,
    // but whether a case is a critical failure is, so those are joined as they are.
    let limit = |name: &str| {
        reports
            .iter()
            .flat_map(|r| r.gate.rules.iter())
            .find(|rule| rule.rule == name)
            .map(|rule| rule.limit)
    };
    // Quarantine shows only where it mattered: in a shard that had flaky cases.
    let quarantine_flaky = reports.iter().any(|r| !r.gate.quarantined.is_empty());
    let gate_config = Gate {
        quarantine_flaky,
        min_pass_rate: limit("min_pass_rate"),
        max_soft_fail_rate: limit("max_soft_fail_rate"),
        max_error_rate: limit("max_error_rate"),
        max_regressions: limit("max_regressions").map(|l| l as u64),
        ..Gate::default()
    };
    let critical: BTreeSet<String> = reports
        .iter()
        .flat_map(|r| r.gate.critical_failures.iter().cloned())
        .collect();
    let incomplete = reports.iter().find_map(|r| r.incomplete.clone());
    let uncalibrated: BTreeSet<String> = reports
        .iter()
        .flat_map(|r| r.gate.uncalibrated.iter().cloned())
        .collect();
    let baselines: Vec<&Comparison> = reports.iter().filter_map(|r| r.baseline.as_ref()).collect();
    let baseline = (!baselines.is_empty()).then(|| merge_comparisons(&baselines));

    let mut seen = BTreeMap::new();
    let mut cases = Vec::new();
    for (i, r) in reports.into_iter().enumerate() {
        for case in r.cases {
            if let Some(other) = seen.insert(case.id.clone(), i) {
                return Err(format!(
                    "case `{}` is in reports {} and {} (hint: merge the reports of the shards of one run)",
                    case.id,
                    other + 1,
                    i + 1
                ));
            }
            cases.push(case);
        }
    }

    let mut report = build_report(header, &gate_config, cases, incomplete);
    report.gate.critical_failures = critical.into_iter().collect();
    report.gate.uncalibrated = uncalibrated.into_iter().collect();
    report.gate.passed =
        report.gate.rules.iter().all(|r| r.passed) && report.gate.critical_failures.is_empty();
    if let Some(mut cmp) = baseline {
        cmp.pass_rate_after = report.summary.pass_rate;
        if gate_config.max_regressions.is_some() {
            gate::apply_baseline(&gate_config, &mut report.gate, &cmp);
        }
        report.baseline = Some(cmp);
    }
    Ok(report)
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
