//! `Comparison`: what changed between a baseline report and the current one, case by case.
//!
//! Cases are paired by id. A regression is a case that passed (or soft-failed) in the baseline
//! and fails now; a fix is the reverse. A case that passed there and errored here is *lost*: not
//! a judged regression, but not silence either — it counts against the gate like one. Other
//! `errored` changes are listed apart. The suite-level change carries
//! an exact McNemar test over the paired flips, so a reader can tell a real change from noise.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::results::case_result::CaseResult;
use crate::results::run_report::RunReport;
use crate::stats::{
    fisher_drop_p, mcnemar_p, noise_floor, paired_change_interval, paired_t, significant,
};
use crate::verdict::{rate, round, CaseStatus, DEFAULT_ALPHA};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Comparison {
    pub regressions: Vec<StatusChange>,
    pub fixes: Vec<StatusChange>,
    /// Cases that could not be judged in one of the two runs (errored), with both statuses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errored: Vec<StatusChange>,
    /// Cases that passed in the baseline and errored here: counted against `max_regressions`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lost: Vec<StatusChange>,
    pub new_cases: Vec<String>,
    pub removed_cases: Vec<String>,
    /// Cases whose score moved, largest drop first.
    pub score_deltas: Vec<ScoreDelta>,
    /// Cases whose tool-call sequence changed.
    pub trajectory_changes: Vec<ToolSequenceChange>,
    /// Baseline cases compared (those in this run's selection) and how many of them passed.
    pub cases_before: usize,
    pub passed_before: usize,
    pub pass_rate_before: f64,
    pub pass_rate_after: f64,
    /// Cases present in both runs.
    #[serde(default)]
    pub paired: usize,
    /// The suite-level change, tested over the paired outcomes of every judged case.
    #[serde(default)]
    pub change: Change,
    /// With `--confirm K`: the reruns of the cases that did worse, and which regressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<crate::results::confirmation::Confirmation>,
    /// What this design (baseline runs × runs × confirmations) can detect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power: Option<crate::power::Power>,
    /// Without repeats: the smallest pass-rate change over the paired cases that could be
    /// significant at 0.05; `None` when there are too few cases for any change to be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise_floor: Option<f64>,
}

/// The test behind the suite-level change.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ChangeTest {
    /// Single runs: exact McNemar on the paired pass/fail outcomes.
    #[default]
    Mcnemar,
    /// Repeated runs: paired t-test on the per-case changes in pass proportion.
    PairedT,
}

impl ChangeTest {
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            ChangeTest::Mcnemar => "McNemar",
            ChangeTest::PairedT => "paired t",
        }
    }
}

/// The suite-level change in pass rate over the cases judged in both runs: each case's change
/// (−1, 0 or +1 without repeats; the change in its pass proportion with them), their mean
/// `delta`, a two-sided `p` and the 95% interval `ci` of the mean (which contains `delta`).
/// `sum` and `sum_sq` of the per-case changes are kept so shards merge to the same test.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Change {
    pub test: ChangeTest,
    /// Cases judged in both runs.
    pub n: usize,
    pub delta: f64,
    pub p: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci: Option<[f64; 2]>,
    pub sum: f64,
    pub sum_sq: f64,
}

impl Change {
    /// The test over `n` per-case changes with the given sums. Pure, so a merge recomputes it.
    pub(crate) fn from_sums(test: ChangeTest, n: usize, sum: f64, sum_sq: f64) -> Change {
        let (p, ci) = match test {
            ChangeTest::Mcnemar => {
                // Each change is −1, 0 or +1: sum = fixes − regressions, sum_sq = their total.
                let fixed = ((sum_sq + sum) / 2.0).round().max(0.0) as u64;
                let regressed = ((sum_sq - sum) / 2.0).round().max(0.0) as u64;
                (
                    mcnemar_p(regressed, fixed),
                    paired_change_interval(regressed, fixed, n as u64, 1.96),
                )
            }
            ChangeTest::PairedT => paired_t(n as u64, sum, sum_sq, 0.95),
        };
        Change {
            test,
            n,
            delta: if n == 0 { 0.0 } else { round(sum / n as f64) },
            p: round(p),
            ci: ci.map(|(lo, hi)| [round(lo), round(hi)]),
            sum: round9(sum),
            sum_sq: round9(sum_sq),
        }
    }
}

/// Sums of proportions carry float noise in their last bits; nine decimals keep them exact
/// enough for the test and identical however the cases were split into shards.
fn round9(x: f64) -> f64 {
    (x * 1e9).round() / 1e9
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StatusChange {
    pub id: String,
    pub before: CaseStatus,
    pub after: CaseStatus,
    /// The checks failing now (for regressions) or failing before (for fixes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScoreDelta {
    pub id: String,
    pub before: f64,
    pub after: f64,
    pub delta: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ToolSequenceChange {
    pub id: String,
    pub before: Vec<String>,
    pub after: Vec<String>,
    /// The change as a diff of the two sequences: `  kept`, `- removed`, `+ added`.
    #[serde(default)]
    pub diff: Vec<String>,
}

/// A line diff of two tool-call sequences over their longest common subsequence, so a reviewer
/// sees which calls appeared or vanished rather than two lists to compare by eye.
pub(crate) fn sequence_diff(before: &[String], after: &[String]) -> Vec<String> {
    let (n, m) = (before.len(), after.len());
    // lcs[i][j]: length of the LCS of before[i..] and after[j..].
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if before[i] == after[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < n || j < m {
        if i < n && j < m && before[i] == after[j] {
            out.push(format!("  {}", before[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push(format!("+ {}", after[j]));
            j += 1;
        } else {
            out.push(format!("- {}", before[i]));
            i += 1;
        }
    }
    out
}

impl Comparison {
    /// Regressions or lost cases: what makes `gauntlet diff` fail.
    pub(crate) fn has_regressions(&self) -> bool {
        self.gated_losses() > 0
    }

    /// What the gate's `max_regressions` counts: regressions plus lost cases.
    pub(crate) fn gated_losses(&self) -> usize {
        self.regressions.len() + self.lost.len()
    }
}

/// Compares `current` (a run's cases, rounded: `build::Scored`) against `baseline`.
/// Deterministic: every list is sorted.
/// When both runs of a case were repeated, it regresses (or is fixed) only when the change in
/// its pass count is significant by Fisher's exact test at `alpha`; a flip between two single
/// runs counts as it is.
pub(crate) fn compare(baseline: &RunReport, current: &[CaseResult], alpha: f64) -> Comparison {
    let before: BTreeMap<&str, &CaseResult> =
        baseline.cases.iter().map(|c| (c.id.as_str(), c)).collect();
    let after: BTreeMap<&str, &CaseResult> = current.iter().map(|c| (c.id.as_str(), c)).collect();
    let passed_before = baseline.cases.iter().filter(|c| c.status.is_pass()).count();
    let mut cmp = Comparison {
        cases_before: baseline.cases.len(),
        passed_before,
        pass_rate_before: rate(passed_before, baseline.cases.len()),
        // As the summary counts it: passed and soft-failed over all cases.
        pass_rate_after: rate(
            current.iter().filter(|c| c.status.is_pass()).count(),
            current.len(),
        ),
        ..Default::default()
    };
    let (mut n, mut sum, mut sum_sq, mut repeated) = (0usize, 0.0f64, 0.0f64, false);
    for (id, now) in &after {
        let Some(was) = before.get(id) else {
            cmp.new_cases.push(id.to_string());
            continue;
        };
        if let (Some(b), Some(a)) = (pass_proportion(was), pass_proportion(now)) {
            let d = a - b;
            n += 1;
            sum += d;
            sum_sq += d * d;
            repeated |= was.repeats.is_some() || now.repeats.is_some();
        }
        let change = |checks_of: &CaseResult| StatusChange {
            id: id.to_string(),
            before: was.status,
            after: now.status,
            checks: failing_checks(checks_of),
        };
        let judged = |s: CaseStatus| s != CaseStatus::Errored;
        if let (Some(b), Some(a)) = (&was.repeats, &now.repeats) {
            let (bn, an) = (u64::from(b.runs - b.errored), u64::from(a.runs - a.errored));
            let (bp, ap) = (u64::from(b.passes), u64::from(a.passes));
            if bn == 0 || an == 0 {
                if an == 0 && bp > 0 {
                    cmp.lost.push(change(now));
                } else if was.status != now.status {
                    cmp.errored.push(change(now));
                }
            } else if fisher_drop_p(bp, bn, ap, an).is_some_and(|p| significant(p, alpha)) {
                cmp.regressions.push(change(now));
            } else if fisher_drop_p(ap, an, bp, bn).is_some_and(|p| significant(p, alpha)) {
                cmp.fixes.push(change(was));
            }
        } else if !judged(was.status) || !judged(now.status) {
            if was.status.is_pass() && !judged(now.status) {
                cmp.lost.push(change(now));
            } else if was.status != now.status {
                cmp.errored.push(change(now));
            }
        } else if was.status.is_pass() && !now.status.is_pass() {
            cmp.regressions.push(change(now));
        } else if !was.status.is_pass() && now.status.is_pass() {
            cmp.fixes.push(change(was));
        }
        if let (Some(b), Some(a)) = (was.score, now.score) {
            let delta = round(a - b);
            if delta != 0.0 {
                cmp.score_deltas.push(ScoreDelta {
                    id: id.to_string(),
                    before: b,
                    after: a,
                    delta,
                });
            }
        }
        if was.tools != now.tools {
            cmp.trajectory_changes.push(ToolSequenceChange {
                id: id.to_string(),
                before: was.tools.clone(),
                after: now.tools.clone(),
                diff: sequence_diff(&was.tools, &now.tools),
            });
        }
    }
    cmp.removed_cases = before
        .keys()
        .filter(|id| !after.contains_key(*id))
        .map(|id| id.to_string())
        .collect();
    cmp.score_deltas
        .sort_by(|a, b| a.delta.total_cmp(&b.delta).then_with(|| a.id.cmp(&b.id)));
    cmp.paired = after.keys().filter(|id| before.contains_key(*id)).count();
    let test = if repeated {
        ChangeTest::PairedT
    } else {
        ChangeTest::Mcnemar
    };
    cmp.change = Change::from_sums(test, n, sum, sum_sq);
    finish_stats(&mut cmp);
    cmp
}

/// The most runs any baseline case had (1 without repeats): the baseline's design.
pub(crate) fn baseline_runs(baseline: &RunReport) -> u32 {
    baseline
        .cases
        .iter()
        .map(|c| c.repeats.as_ref().map_or(1, |r| r.runs))
        .max()
        .unwrap_or(1)
}

/// A case's pass proportion over its judged runs (1 or 0 for a single run); `None` when no run
/// was judged, so errored cases never move the suite-level change.
fn pass_proportion(case: &CaseResult) -> Option<f64> {
    match &case.repeats {
        Some(r) => {
            let judged = r.runs.saturating_sub(r.errored);
            (judged > 0).then(|| f64::from(r.passes) / f64::from(judged))
        }
        None => (case.status != CaseStatus::Errored).then_some(if case.status.is_pass() {
            1.0
        } else {
            0.0
        }),
    }
}

/// The suite-level statistics that follow from the change: the noise floor of single runs.
pub(crate) fn finish_stats(cmp: &mut Comparison) {
    cmp.noise_floor = match cmp.change.test {
        ChangeTest::Mcnemar => noise_floor(cmp.change.n as u64, DEFAULT_ALPHA).map(round),
        ChangeTest::PairedT => None,
    };
}

pub(crate) fn failing_checks(case: &CaseResult) -> Vec<String> {
    use crate::verdict::Outcome;
    case.checks
        .iter()
        .filter(|v| v.outcome == Outcome::Fail)
        .map(|v| v.check.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::GateResult;
    use crate::results::summary::Summary;
    use crate::trajectory::{EndReason, Usage};
    use crate::verdict::{Outcome, Verdict};

    fn case(id: &str, status: CaseStatus, score: Option<f64>, tools: &[&str]) -> CaseResult {
        let outcome = if status == CaseStatus::Failed {
            Outcome::Fail
        } else {
            Outcome::Pass
        };
        CaseResult {
            id: id.into(),
            tags: vec![],
            status,
            score,
            checks: vec![Verdict {
                check: "contains \"x\"".into(),
                outcome,
                score,
                weight: 1.0,
                reason: String::new(),
            }],
            output: String::new(),
            end: EndReason::Completed,
            error: None,
            usage: Usage::default(),
            steps: 1,
            tools: tools.iter().map(|t| t.to_string()).collect(),
            cost_usd: None,
            latency_ms: None,
            duration_ms: None,
            repeats: None,
            repeat: 0,
        }
    }

    fn report(cases: Vec<CaseResult>, pass_rate: f64) -> RunReport {
        RunReport {
            version: 1,
            suite: "s".into(),
            description: None,
            target: "t".into(),
            incomplete: None,
            summary: Summary {
                pass_rate,
                ..Default::default()
            },
            gate: GateResult::default(),
            baseline: None,
            drift: None,
            cases,
        }
    }

    #[test]
    fn pairs_cases_by_id_and_classifies_each_change() {
        use CaseStatus::*;
        let base = report(
            vec![
                case("a", Passed, Some(1.0), &["lookup_order"]),
                case("b", Failed, Some(0.0), &[]),
                case("c", SoftFailed, Some(0.8), &["lookup_order"]),
                case("d", Passed, Some(1.0), &[]),
                case("gone", Passed, Some(1.0), &[]),
                case("e", Passed, Some(1.0), &[]),
            ],
            0.8,
        );
        let now = report(
            vec![
                case("a", Failed, Some(0.5), &["lookup_order", "issue_refund"]),
                case("b", Passed, Some(1.0), &[]),
                case("c", Passed, Some(0.8), &["lookup_order"]),
                case("d", Errored, None, &[]),
                case("e", Passed, Some(1.0), &[]),
                case("new", Passed, Some(1.0), &[]),
            ],
            0.67,
        );
        let cmp = compare(&base, &now.cases, DEFAULT_ALPHA);
        assert_eq!(cmp.regressions.len(), 1);
        assert_eq!(cmp.regressions[0].id, "a");
        assert_eq!(
            cmp.regressions[0].checks,
            vec!["contains \"x\"".to_string()]
        );
        assert_eq!(
            cmp.fixes.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            vec!["b"]
        );
        assert_eq!(
            cmp.errored
                .iter()
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>(),
            Vec::<&str>::new(),
            "a pass that errored is not a plain errored change"
        );
        assert_eq!(
            cmp.lost.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            vec!["d"],
            "passed → errored is lost, not silence"
        );
        assert_eq!(cmp.gated_losses(), 2);
        assert_eq!(cmp.new_cases, vec!["new".to_string()]);
        assert_eq!(cmp.removed_cases, vec!["gone".to_string()]);
        let deltas: Vec<(&str, f64)> = cmp
            .score_deltas
            .iter()
            .map(|d| (d.id.as_str(), d.delta))
            .collect();
        assert_eq!(
            deltas,
            vec![("a", -0.5), ("b", 1.0)],
            "largest drop first; unchanged scores left out"
        );
        assert_eq!(cmp.trajectory_changes.len(), 1);
        assert_eq!(
            cmp.trajectory_changes[0].after,
            vec!["lookup_order".to_string(), "issue_refund".to_string()]
        );
        assert_eq!(
            cmp.change.p, 1.0,
            "one regression and one fix is no evidence of change"
        );
        assert_eq!(cmp.change.test, ChangeTest::Mcnemar);
        assert_eq!(cmp.change.n, 4, "a, b, c, e: d errored and new is unpaired");
    }

    #[test]
    fn with_repeats_only_a_significant_drop_regresses() {
        use crate::results::case_result::Repeats;
        let with = |id: &str, status, passes, runs| CaseResult {
            repeats: Some(Repeats {
                runs,
                passes,
                ..Default::default()
            }),
            ..case(id, status, None, &[])
        };
        let base = report(
            vec![
                with("noise", CaseStatus::Passed, 5, 5),
                with("real", CaseStatus::Passed, 5, 5),
                with("better", CaseStatus::Failed, 0, 5),
                with("tie", CaseStatus::Passed, 3, 3),
            ],
            1.0,
        );
        let now = report(
            vec![
                with("noise", CaseStatus::Flaky, 4, 5),
                with("real", CaseStatus::Failed, 0, 5),
                with("better", CaseStatus::Passed, 5, 5),
                with("tie", CaseStatus::Failed, 0, 3),
            ],
            0.5,
        );
        let cmp = compare(&base, &now.cases, DEFAULT_ALPHA);
        let ids = |v: &[StatusChange]| v.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
        assert_eq!(
            ids(&cmp.regressions),
            vec!["real", "tie"],
            "5/5 → 4/5 is noise; 5/5 → 0/5 is not, nor is 3/3 → 0/3 (p = 1/20 exactly)"
        );
        assert_eq!(ids(&cmp.fixes), vec!["better"]);
        // The suite-level change is over the paired proportions, not the filtered flips:
        // −0.2, −1, +1, −1 → mean −0.3, and its interval contains it.
        let c = &cmp.change;
        assert_eq!((c.test, c.n, c.delta), (ChangeTest::PairedT, 4, -0.3));
        let [lo, hi] = c.ci.unwrap();
        assert!(lo <= c.delta && c.delta <= hi, "{c:?}");
    }

    #[test]
    fn a_drop_without_regressions_still_shows_in_the_interval() {
        use crate::results::case_result::Repeats;
        let with = |id: &str, passes, runs| CaseResult {
            repeats: Some(Repeats {
                runs,
                passes,
                ..Default::default()
            }),
            ..case(id, CaseStatus::Passed, None, &[])
        };
        // Every case drops from 2/2 to 1/2 or 0/2: no single case is significant, but the
        // suite-level change (−0.75) is, and its interval excludes 0.
        let ids = ["a", "b", "c", "d"];
        let base = report(ids.iter().map(|i| with(i, 2, 2)).collect(), 1.0);
        let now = report(
            vec![
                with("a", 0, 2),
                with("b", 1, 2),
                with("c", 0, 2),
                with("d", 1, 2),
            ],
            0.25,
        );
        let cmp = compare(&base, &now.cases, DEFAULT_ALPHA);
        assert!(cmp.regressions.is_empty());
        let c = &cmp.change;
        assert_eq!(c.delta, -0.75);
        let [lo, hi] = c.ci.unwrap();
        assert!(lo <= -0.75 && (-0.75..0.0).contains(&hi), "{c:?}");
        assert!(c.p < 0.05, "{c:?}");
    }

    #[test]
    fn tool_sequences_diff_over_their_common_calls() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let table = [
            (
                vec!["a", "b"],
                vec!["a", "c", "b"],
                vec!["  a", "+ c", "  b"],
            ),
            (
                vec!["a", "b", "c"],
                vec!["a", "c"],
                vec!["  a", "- b", "  c"],
            ),
            (
                vec!["search_kb"],
                vec!["lookup_order"],
                vec!["+ lookup_order", "- search_kb"],
            ),
            (vec![], vec!["a"], vec!["+ a"]),
        ];
        for (before, after, want) in table {
            assert_eq!(
                sequence_diff(&v(&before), &v(&after)),
                v(&want),
                "{before:?} → {after:?}"
            );
        }
    }

    #[test]
    fn identical_reports_have_no_changes() {
        let r = report(vec![case("a", CaseStatus::Passed, Some(1.0), &["t"])], 1.0);
        let cmp = compare(&r, &r.cases, DEFAULT_ALPHA);
        assert_eq!(
            cmp,
            Comparison {
                cases_before: 1,
                passed_before: 1,
                pass_rate_before: 1.0,
                pass_rate_after: 1.0,
                paired: 1,
                change: Change {
                    test: ChangeTest::Mcnemar,
                    n: 1,
                    delta: 0.0,
                    p: 1.0,
                    ci: Some([0.0, 0.0]),
                    sum: 0.0,
                    sum_sq: 0.0,
                },
                ..Default::default()
            }
        );
        assert!(!cmp.has_regressions());
    }
}
