//! `judge_drift`: does a judge score the *same* output differently as the runs go by? A judge
//! model that is updated behind its name, or a rubric that is edited, moves every score a
//! little; the agent's pass rate then drifts with no change in the agent.
//!
//! Only outputs that did not change count: for each case, the runs in which its output is
//! byte-identical to its output in the latest run (compared by hash). Each such score is taken
//! relative to the mean of that case's scores over those runs, so the mix of cases in a run
//! (a case whose output changed drops out of some runs) does not move the series; a run's
//! point is the mean of its cases' relative scores. The series goes through the same
//! Mann–Kendall test as the pass rate (`crate::drift`), two-sided — a judge grown lenient hides
//! regressions as surely as one grown strict invents them — and an alert needs both
//! significance and a shift over the window of at least `MIN_SCORE_SHIFT`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::drift::{mann_kendall, JudgeDriftAlert, MIN_RUNS};
use crate::verdict::round;

/// The smallest shift of a judge's score (0..1) on unchanged outputs over the window worth an
/// alert.
pub const MIN_SCORE_SHIFT: f64 = 0.05;

/// One judge's score of one case's output in one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeScore {
    pub case_id: String,
    pub judge: String,
    /// `fingerprint::stable_hash` of the case's output: equal hashes, unchanged output.
    pub output_hash: String,
    pub score: f64,
}

/// The judges that drift over `runs` (oldest first, each run's judge scores) at `alpha`,
/// sorted by judge name.
pub fn judge_drift(runs: &[Vec<JudgeScore>], alpha: f64) -> Vec<JudgeDriftAlert> {
    let mut judges: Vec<&str> = runs.iter().flatten().map(|s| s.judge.as_str()).collect();
    judges.sort_unstable();
    judges.dedup();
    judges
        .into_iter()
        .filter_map(|judge| test_judge(judge, runs, alpha))
        .collect()
}

/// The series of one judge: per run, the mean relative score over its unchanged outputs.
fn series(judge: &str, runs: &[Vec<JudgeScore>]) -> (Vec<f64>, usize) {
    // Each case's output in the latest run that scored it: the reference of "unchanged".
    let mut latest: BTreeMap<&str, &str> = BTreeMap::new();
    for run in runs {
        for s in run.iter().filter(|s| s.judge == judge) {
            latest.insert(&s.case_id, &s.output_hash);
        }
    }
    let unchanged = |s: &&JudgeScore| {
        s.judge == judge && latest.get(s.case_id.as_str()) == Some(&s.output_hash.as_str())
    };
    // A case counts once it was scored on its unchanged output in two runs or more: alone it
    // says nothing of a change.
    let mut per_case: BTreeMap<&str, (f64, usize)> = BTreeMap::new();
    for s in runs.iter().flatten().filter(unchanged) {
        let e = per_case.entry(&s.case_id).or_default();
        e.0 += s.score;
        e.1 += 1;
    }
    per_case.retain(|_, (_, n)| *n >= 2);
    let xs = runs
        .iter()
        .filter_map(|run| {
            let rel: Vec<f64> = run
                .iter()
                .filter(unchanged)
                .filter_map(|s| {
                    per_case
                        .get(s.case_id.as_str())
                        .map(|(sum, n)| s.score - sum / *n as f64)
                })
                .collect();
            (!rel.is_empty()).then(|| rel.iter().sum::<f64>() / rel.len() as f64)
        })
        .collect();
    (xs, per_case.len())
}

fn test_judge(judge: &str, runs: &[Vec<JudgeScore>], alpha: f64) -> Option<JudgeDriftAlert> {
    let (xs, cases) = series(judge, runs);
    if xs.len() < MIN_RUNS {
        return None;
    }
    let mk = mann_kendall(&xs)?;
    let p = (2.0 * mk.p_decreasing().min(mk.p_increasing())).min(1.0);
    let shift = mk.slope * (xs.len() - 1) as f64;
    (crate::stats::significant(p, alpha) && shift.abs() >= MIN_SCORE_SHIFT).then(|| {
        JudgeDriftAlert {
            judge: judge.to_string(),
            runs: xs.len(),
            cases,
            shift: round(shift),
            slope: round(mk.slope),
            s: mk.s,
            z: round(mk.z),
            p: round(p),
        }
    })
}

/// One line for the terminal and summary.md.
pub fn describe(a: &JudgeDriftAlert) -> String {
    format!(
        "judge drift: `{}` scores unchanged outputs {} over the last {} runs ({} cases, shift {:+}, Mann–Kendall z = {}, two-sided p = {})",
        a.judge,
        if a.shift < 0.0 { "lower" } else { "higher" },
        a.runs,
        a.cases,
        a.shift,
        a.z,
        a.p
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(case: &str, judge: &str, output: &str, score: f64) -> JudgeScore {
        JudgeScore {
            case_id: case.into(),
            judge: judge.into(),
            output_hash: output.into(),
            score,
        }
    }

    /// 8 runs of 10 cases whose outputs never change; `judge` gives `base(case) + drift(run)`
    /// plus a deterministic jitter.
    fn week(drift: impl Fn(usize) -> f64) -> Vec<Vec<JudgeScore>> {
        (0..8)
            .map(|r| {
                (0..10)
                    .map(|c| {
                        let jitter = ((r * 7 + c * 13) % 5) as f64 * 0.01;
                        let base = 0.4 + c as f64 * 0.05;
                        score(&format!("c{c}"), "tone", "same", base + drift(r) + jitter)
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_judge_growing_strict_on_the_same_outputs_alerts_and_a_steady_one_does_not() {
        let alerts = judge_drift(&week(|r| -0.02 * r as f64), 0.05);
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        let a = &alerts[0];
        assert_eq!((a.judge.as_str(), a.runs, a.cases), ("tone", 8, 10));
        assert!(a.shift < -0.1 && a.p < 0.05, "{a:?}");
        assert!(describe(a).contains("`tone` scores unchanged outputs lower"));
        // Lenient is drift too (two-sided).
        assert_eq!(judge_drift(&week(|r| 0.02 * r as f64), 0.05).len(), 1);
        assert!(judge_drift(&week(|_| 0.0), 0.05).is_empty());
    }

    #[test]
    fn changed_outputs_do_not_count() {
        // The agent improves: its outputs change each run and the scores rise with them. The
        // judge is not to blame: no output was scored twice, so there is no series.
        let runs: Vec<Vec<JudgeScore>> = (0..8)
            .map(|r| {
                (0..10)
                    .map(|c| {
                        score(
                            &format!("c{c}"),
                            "tone",
                            &format!("v{r}"),
                            0.3 + 0.05 * r as f64,
                        )
                    })
                    .collect()
            })
            .collect();
        assert!(judge_drift(&runs, 0.05).is_empty());
        // The mix of cases changes, not the judge: a high-scoring case whose output is
        // unchanged only in the later runs must not read as the judge growing lenient.
        let mut runs = week(|_| 0.0);
        for (r, run) in runs.iter_mut().enumerate() {
            run.push(score(
                "high",
                "tone",
                if r < 4 { "old" } else { "new" },
                0.99,
            ));
        }
        assert!(judge_drift(&runs, 0.05).is_empty());
    }

    #[test]
    fn too_few_runs_say_nothing() {
        let runs = week(|r| -0.05 * r as f64);
        assert!(judge_drift(&runs[..MIN_RUNS - 1], 0.05).is_empty());
        assert!(!judge_drift(&runs[..MIN_RUNS], 0.05).is_empty());
    }

    /// Simulated weeks: 8 runs of 20 unchanged outputs, each score its case's level plus
    /// uniform noise of ±0.15 (a noisy judge), with and without a drift of −0.1 over the week.
    #[test]
    fn false_alarms_stay_near_alpha_and_a_real_drift_is_mostly_caught() {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut uniform = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut simulate = |total_drift: f64| {
            let runs: Vec<Vec<JudgeScore>> = (0..8)
                .map(|r| {
                    (0..20)
                        .map(|c| {
                            let level = 0.3 + 0.03 * c as f64;
                            let noise = (uniform() - 0.5) * 0.3;
                            let s = level + total_drift * r as f64 / 7.0 + noise;
                            score(&format!("c{c}"), "j", "same", s)
                        })
                        .collect()
                })
                .collect();
            !judge_drift(&runs, 0.05).is_empty()
        };
        let weeks = 300;
        let false_alarms = (0..weeks).filter(|_| simulate(0.0)).count();
        let caught = (0..weeks).filter(|_| simulate(-0.1)).count();
        assert!(
            false_alarms * 100 <= weeks * 8,
            "{false_alarms}/{weeks} false alarms"
        );
        assert!(caught * 100 >= weeks * 80, "{caught}/{weeks} caught");
        eprintln!("judge drift: {false_alarms}/{weeks} false alarms, {caught}/{weeks} caught");
    }
}
