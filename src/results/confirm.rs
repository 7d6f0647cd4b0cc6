//! `Confirmation`: which cases that did worse than their baseline are rerun (`--confirm K`), and
//! which of them regressed, judged on the fresh runs alone with a Benjamini–Hochberg correction.
//!
//! Why fresh runs only: the screening run that selected a case is biased towards failure (it
//! was picked *because* it failed), so counting it again would turn noise into "evidence".
//!
//! Why Benjamini–Hochberg and not Holm: with a 5-run baseline and 3 confirmations the best a
//! case can show is 5/5 → 0/3, p = 1/56 ≈ 0.018. Holm asks the smallest p of m cases to be at
//! most 0.05/m, which 1/56 misses as soon as three cases are rerun: a mutant that breaks three
//! cases could never be confirmed. BH confirms the k smallest p when p(k) ≤ k·0.05/m, so three
//! cases at 1/56 are all confirmed (1/56 ≤ 0.05), while the false-discovery rate among the
//! confirmed stays at 5%. Family-wise control is not lost in practice: a regression-free agent
//! has to fail 3 fresh runs in a row on a case that passed 5/5, which is already rare.
//!
//! Pure: the async reruns live in `command::confirm_runs`; the decision is recorded as a
//! `results::confirmation::Confirmation`.

use std::collections::BTreeMap;

use crate::results::case_result::CaseResult;
use crate::results::compare::{failing_checks, Comparison, StatusChange};
use crate::results::confirmation::{Confirmation, ConfirmedCase};
use crate::stats::fisher_drop_p;
use crate::verdict::{round, CaseStatus};

/// Passes and judged runs of one case.
pub(crate) type Tally = (u64, u64);

/// A case chosen for confirmation, with its baseline tally.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub id: String,
    pub baseline: Tally,
}

/// A case's passes over its judged runs; `None` when no run was judged.
pub(crate) fn tally(case: &CaseResult) -> Option<Tally> {
    let t = match &case.repeats {
        Some(r) => (
            u64::from(r.passes),
            u64::from(r.runs.saturating_sub(r.errored)),
        ),
        None if case.status == CaseStatus::Errored => (0, 0),
        None => (u64::from(case.status.is_pass()), 1),
    };
    (t.1 > 0).then_some(t)
}

/// The cases that did worse than their baseline (a lower pass proportion over judged runs), in
/// id order, split into those `confirm` fresh runs could confirm at `alpha` and those they
/// could not (even 0 passes would not be significant), which are not worth a rerun.
pub(crate) fn candidates(
    baseline: &[CaseResult],
    current: &[CaseResult],
    confirm: u32,
    alpha: f64,
) -> (Vec<Candidate>, Vec<String>) {
    let before: BTreeMap<&str, &CaseResult> = baseline.iter().map(|c| (c.id.as_str(), c)).collect();
    let mut now: Vec<&CaseResult> = current.iter().collect();
    now.sort_by(|a, b| a.id.cmp(&b.id));
    let (mut rerun, mut unreachable) = (Vec::new(), Vec::new());
    for case in now {
        let Some(was) = before.get(case.id.as_str()) else {
            continue;
        };
        let (Some((bp, bn)), Some((ap, an))) = (tally(was), tally(case)) else {
            continue;
        };
        // ap/an < bp/bn, in integers.
        if ap * bn >= bp * an {
            continue;
        }
        let best = fisher_drop_p(bp, bn, 0, u64::from(confirm)).unwrap_or(1.0);
        if crate::stats::significant(best, alpha) {
            rerun.push(Candidate {
                id: case.id.clone(),
                baseline: (bp, bn),
            });
        } else {
            unreachable.push(case.id.clone());
        }
    }
    (rerun, unreachable)
}

/// Benjamini–Hochberg adjusted p-values (q-values), in the order given: q(i) is the smallest
/// m/j · p(j) over the j-th smallest p with j ≥ rank(i), capped at 1.
pub fn bh_adjust(ps: &[f64]) -> Vec<f64> {
    let m = ps.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| ps[a].total_cmp(&ps[b]).then(a.cmp(&b)));
    let mut q = vec![1.0; m];
    let mut running = 1.0f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        running = running.min(ps[i] * m as f64 / (rank + 1) as f64);
        q[i] = running.min(1.0);
    }
    q
}

/// Decides every rerun case from its fresh tally (missing = no judged fresh run, never
/// confirmed). A q-value within 1e-12 of alpha counts as a tie, and ties are significant, as
/// everywhere in gauntlet (the rescaling m/j · p may leave an exact tie a few ulps above).
pub(crate) fn decide(
    candidates: &[Candidate],
    fresh: &BTreeMap<String, Tally>,
    runs_per_case: u32,
    alpha: f64,
) -> Confirmation {
    let rows: Vec<(&Candidate, Tally, f64)> = candidates
        .iter()
        .map(|c| {
            let f = fresh.get(&c.id).copied().unwrap_or((0, 0));
            let p = if f.1 == 0 {
                1.0
            } else {
                fisher_drop_p(c.baseline.0, c.baseline.1, f.0, f.1).unwrap_or(1.0)
            };
            (c, f, p)
        })
        .collect();
    let qs = bh_adjust(&rows.iter().map(|r| r.2).collect::<Vec<_>>());
    let mut out = Confirmation {
        runs_per_case,
        correction: "benjamini_hochberg".into(),
        alpha,
        ..Default::default()
    };
    for ((c, f, p), q) in rows.into_iter().zip(qs) {
        let confirmed = f.1 > 0 && q <= alpha + 1e-12;
        if confirmed {
            out.confirmed.push(c.id.clone());
        }
        out.runs += f.1;
        out.cases.push(ConfirmedCase {
            id: c.id.clone(),
            baseline: [c.baseline.0, c.baseline.1],
            fresh: [f.0, f.1],
            p: round(p),
            q: round(q),
            confirmed,
        });
    }
    out
}

/// Makes the confirmation the judge of regressions: a case regresses only when confirmed.
/// Screening regressions that were not confirmed (or could not be) are dropped; confirmed cases
/// the screening did not call regressions (a repeated screening that was not significant by
/// itself) are added. Lost cases are left alone: an error is not a matter of noise.
pub(crate) fn apply(
    cmp: &mut Comparison,
    confirmation: Confirmation,
    baseline: &[CaseResult],
    current: &[CaseResult],
) {
    cmp.regressions
        .retain(|r| confirmation.confirmed.contains(&r.id));
    for id in &confirmation.confirmed {
        if cmp.regressions.iter().any(|r| &r.id == id) {
            continue;
        }
        let was = baseline.iter().find(|c| &c.id == id);
        let now = current.iter().find(|c| &c.id == id);
        if let (Some(was), Some(now)) = (was, now) {
            cmp.regressions.push(StatusChange {
                id: id.clone(),
                before: was.status,
                after: now.status,
                checks: failing_checks(now),
            });
        }
    }
    cmp.regressions.sort_by(|a, b| a.id.cmp(&b.id));
    cmp.confirmation = Some(confirmation);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bh_matches_hand_computed_q_values() {
        // p = 0.01, 0.04, 0.03, 0.5 (m = 4): sorted 0.01, 0.03, 0.04, 0.5 → 0.04, 0.0533, 0.0533, 0.5.
        let q = bh_adjust(&[0.01, 0.04, 0.03, 0.5]);
        let want = [0.04, 0.16 / 3.0, 0.16 / 3.0, 0.5];
        for (a, b) in q.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{q:?}");
        }
        assert!(bh_adjust(&[]).is_empty());
    }

    #[test]
    fn three_broken_cases_are_all_confirmed_where_holm_would_confirm_none() {
        let cands: Vec<Candidate> = ["a", "b", "c"]
            .iter()
            .map(|id| Candidate {
                id: id.to_string(),
                baseline: (5, 5),
            })
            .collect();
        let fresh: BTreeMap<String, Tally> = [
            ("a".to_string(), (0, 3)),
            ("b".to_string(), (0, 3)),
            ("c".to_string(), (0, 3)),
        ]
        .into();
        let c = decide(&cands, &fresh, 3, 0.05);
        assert_eq!(c.confirmed, vec!["a", "b", "c"]);
        assert_eq!(c.runs, 9);
        // (Holm's first step would need 1/56 ≤ 0.05/3 ≈ 0.0167, which fails.)
        // One fresh pass is enough doubt: 5/5 → 1/3 has p = (1 + 15)/56, not significant.
        let fresh: BTreeMap<String, Tally> = [("a".to_string(), (1, 3))].into();
        let c = decide(&cands[..1], &fresh, 3, 0.05);
        assert!(c.confirmed.is_empty(), "{c:?}");
    }

    #[test]
    fn only_cases_that_can_reach_significance_are_rerun() {
        use crate::results::case_result::Repeats;
        use crate::results::fixture::sample_report;
        let single = |id: &str, status| CaseResult {
            id: id.into(),
            status,
            repeats: None,
            ..sample_report().cases[0].clone()
        };
        let case = |id: &str, passes, runs| CaseResult {
            repeats: Some(Repeats {
                runs,
                passes,
                ..Default::default()
            }),
            ..single(id, CaseStatus::Passed)
        };
        let base = vec![case("a", 5, 5), case("b", 4, 5), case("c", 5, 5)];
        let now = vec![
            single("a", CaseStatus::Failed),
            single("b", CaseStatus::Failed),
            single("c", CaseStatus::Passed),
        ];
        let (rerun, unreachable) = candidates(&base, &now, 3, 0.05);
        // 5/5 → 0/3 is 1/56 (reachable); 4/5 → 0/3 is 4/56 > 0.05 (not); c did not get worse.
        assert_eq!(
            rerun,
            vec![Candidate {
                id: "a".into(),
                baseline: (5, 5)
            }]
        );
        assert_eq!(unreachable, vec!["b"]);
    }
}
