//! `reduce`: the runs of each case (`RunResult`, several with `--repeat N`) to one `CaseResult`
//! per case, with
//! pass@k, pass^k and a `flaky` status for mixed outcomes.
//!
//! Runs are ordered by their repeat index, never by completion order, so the reduction is the
//! same at any concurrency.

use std::collections::BTreeMap;

use crate::results::case_result::{CaseResult, Repeats};
use crate::results::run_result::RunResult;
use crate::stats::{pass_at_k, pass_pow_k};
use crate::verdict::{round, CaseStatus, MinPass};

/// How many k values pass@k and pass^k are reported for.
const MAX_K: u32 = 10;

/// One result per case id. A case run once is its run. `min_pass` gives a case's policy, if
/// it has one. The runs' trajectories are not read (in `eval` they are in the journal).
pub fn reduce(
    mut results: Vec<RunResult>,
    min_pass: &dyn Fn(&str) -> Option<MinPass>,
) -> Vec<CaseResult> {
    // Sorted, runs of a case sit side by side; no per-case collection is built, so a run of
    // 100,000 single cases costs no more than its results.
    results.sort_unstable_by(|a, b| a.id.cmp(&b.id).then(a.repeat.cmp(&b.repeat)));
    if results.windows(2).all(|w| w[0].id != w[1].id) {
        return results.into_iter().map(RunResult::into_case).collect();
    }
    let mut out = Vec::new();
    let mut runs = results.into_iter().peekable();
    while let Some(first) = runs.next() {
        let mut group = vec![first];
        while let Some(next) = runs.next_if(|r| r.id == group[0].id) {
            group.push(next);
        }
        let policy = min_pass(&group[0].id);
        out.extend(reduce_case(group, policy));
    }
    out
}

fn reduce_case(mut runs: Vec<RunResult>, min_pass: Option<MinPass>) -> Option<CaseResult> {
    runs.sort_by_key(|r| r.repeat);
    if runs.len() == 1 {
        return runs.pop().map(RunResult::into_case);
    }
    let n = runs.len() as u32;
    let errored = runs
        .iter()
        .filter(|r| r.status == CaseStatus::Errored)
        .count() as u32;
    let passes = runs.iter().filter(|r| r.status.is_pass()).count() as u32;
    let judged = n - errored;
    let enough = min_pass.map_or(passes == judged, |m| m.met(passes, judged));
    let status = if judged == 0 {
        CaseStatus::Errored
    } else if enough {
        if runs.iter().any(|r| r.status == CaseStatus::SoftFailed) {
            CaseStatus::SoftFailed
        } else {
            CaseStatus::Passed
        }
    } else if passes == 0 {
        CaseStatus::Failed
    } else {
        CaseStatus::Flaky
    };
    let scores: Vec<f64> = runs.iter().filter_map(|r| r.score).collect();
    let score =
        (!scores.is_empty()).then(|| round(scores.iter().sum::<f64>() / scores.len() as f64));
    // pass@k and pass^k over the judged runs: an errored run says nothing about quality.
    let ks = 1..=judged.min(MAX_K);
    let stat = |f: fn(u64, u64, u64) -> Option<f64>| -> BTreeMap<u32, f64> {
        ks.clone()
            .filter_map(|k| f(judged.into(), passes.into(), k.into()).map(|v| (k, round(v))))
            .collect()
    };
    let repeats = Repeats {
        runs: n,
        passes,
        errored,
        pass_at_k: stat(pass_at_k),
        pass_pow_k: stat(pass_pow_k),
    };
    // The representative run: the first that did not pass shows what went wrong.
    let pick = runs.iter().position(|r| !r.status.is_pass()).unwrap_or(0);
    let mut usage = crate::trajectory::Usage::default();
    for r in &runs {
        usage.add(r.usage);
    }
    let costs: Vec<f64> = runs.iter().filter_map(|r| r.cost_usd).collect();
    let cost_usd = (!costs.is_empty()).then(|| costs.iter().sum::<f64>());
    let mut rep = runs.swap_remove(pick).into_case();
    // Tokens and cost are what all the runs used, not one.
    rep.usage = usage;
    rep.cost_usd = cost_usd.map(|c| (c * 1e6).round() / 1e6);
    rep.status = status;
    rep.score = score;
    rep.repeats = Some(repeats);
    // `rep.repeat` stays the representative run's index: its trajectory is found by it.
    Some(rep)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::run_result::run_result;
    use crate::trajectory::{EndReason, Trajectory};
    use crate::verdict::{Outcome, Verdict};

    /// A run with one check whose outcome gives `status`, as the runner builds it.
    fn run(id: &str, repeat: u32, status: CaseStatus) -> RunResult {
        let (outcome, score) = match status {
            CaseStatus::Passed => (Outcome::Pass, Some(1.0)),
            CaseStatus::SoftFailed => (Outcome::SoftFail, Some(0.5)),
            CaseStatus::Failed => (Outcome::Fail, Some(0.0)),
            CaseStatus::Errored => (Outcome::Error, None),
            CaseStatus::Flaky => unreachable!("a single run is never flaky"),
        };
        let verdict = Verdict {
            check: "c".into(),
            outcome,
            score,
            weight: 1.0,
            reason: String::new(),
        };
        let trajectory = Trajectory {
            output: format!("run {repeat}"),
            end: EndReason::Completed,
            ..Trajectory::default()
        };
        let r = run_result(id, &[], repeat, trajectory, vec![verdict]);
        assert_eq!(r.status, status);
        r
    }

    #[test]
    fn classifies_repeated_runs() {
        use CaseStatus::*;
        let table = [
            (vec![Passed, Passed, Passed], Passed, 3),
            (vec![Passed, SoftFailed], SoftFailed, 2),
            (vec![Failed, Failed], Failed, 0),
            (vec![Passed, Failed, Passed], Flaky, 2),
            (vec![Errored, Errored], Errored, 0),
            (vec![Passed, Errored], Passed, 1),
        ];
        for (statuses, want, passes) in table {
            let runs: Vec<_> = statuses
                .iter()
                .enumerate()
                .map(|(i, s)| run("a", i as u32, *s))
                .collect();
            let r = reduce(runs, &|_| None);
            assert_eq!(r.len(), 1);
            assert_eq!(r[0].status, want, "{statuses:?}");
            assert_eq!(
                r[0].repeats.as_ref().unwrap().passes,
                passes,
                "{statuses:?}"
            );
        }
    }

    #[test]
    fn min_pass_sets_when_a_repeated_case_passes() {
        use CaseStatus::*;
        let runs = |statuses: &[CaseStatus]| -> Vec<RunResult> {
            statuses
                .iter()
                .enumerate()
                .map(|(i, s)| run("a", i as u32, *s))
                .collect()
        };
        let four_of_five = "4/5".parse::<MinPass>().unwrap();
        let policy = |_: &str| Some(four_of_five);
        let table = [
            (vec![Passed, Passed, Passed, Passed, Failed], Passed),
            (vec![Passed, Passed, Passed, Failed, Failed], Flaky),
            (vec![Failed, Failed, Failed, Failed, Failed], Failed),
            (vec![Passed, Passed, Passed, Passed, Errored], Passed),
        ];
        for (statuses, want) in table {
            assert_eq!(
                reduce(runs(&statuses), &policy)[0].status,
                want,
                "{statuses:?}"
            );
        }
        for bad in ["0/5", "6/5", "4", "a/b"] {
            assert!(bad.parse::<MinPass>().is_err(), "{bad}");
        }
    }

    #[test]
    fn order_of_completion_does_not_matter_and_the_first_failing_run_represents() {
        use CaseStatus::*;
        let a = reduce(
            vec![
                run("a", 2, Failed),
                run("a", 0, Passed),
                run("a", 1, Failed),
                run("b", 0, Passed),
            ],
            &|_| None,
        );
        let b = reduce(
            vec![
                run("b", 0, Passed),
                run("a", 1, Failed),
                run("a", 0, Passed),
                run("a", 2, Failed),
            ],
            &|_| None,
        );
        assert_eq!(a, b);
        assert_eq!(a[0].output, "run 1", "first failing run");
        assert_eq!(
            a[0].repeat, 1,
            "its trajectory is found by its repeat index"
        );
        assert_eq!(a[1].repeats, None, "a single run is left alone");
        let reps = a[0].repeats.as_ref().unwrap();
        // n = 3, c = 1: pass@1 = 1/3, pass@2 = 1 − C(2,2)/C(3,2) = 2/3, pass@3 = 1; pass^1 = 1/3, pass^2 = 0.
        assert_eq!(
            reps.pass_at_k,
            BTreeMap::from([(1, 0.3333), (2, 0.6667), (3, 1.0)])
        );
        assert_eq!(
            reps.pass_pow_k,
            BTreeMap::from([(1, 0.3333), (2, 0.0), (3, 0.0)])
        );
        assert_eq!(a[0].score, Some(0.3333));
    }
}
