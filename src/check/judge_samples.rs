//! `Aggregate`: how the scores of a judge's `samples` reduce to one verdict, and how much the
//! samples agree.

use serde::Deserialize;

use crate::verdict::Outcome;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    /// The mean score decides.
    #[default]
    Mean,
    /// Each sample votes pass / soft fail / fail; the most votes win, a tie goes to the worse
    /// outcome. The score is the mean of the winning samples.
    Majority,
    /// The lowest score decides: every sample must clear the bar.
    Min,
}

impl Aggregate {
    pub fn as_str(&self) -> &'static str {
        match self {
            Aggregate::Mean => "mean",
            Aggregate::Majority => "majority",
            Aggregate::Min => "min",
        }
    }
}

/// A normalised score's outcome under the thresholds.
pub(crate) fn outcome_of(score: f64, threshold: f64, soft_threshold: Option<f64>) -> Outcome {
    if score >= threshold {
        Outcome::Pass
    } else if soft_threshold.is_some_and(|s| score >= s) {
        Outcome::SoftFail
    } else {
        Outcome::Fail
    }
}

/// The aggregate outcome and score of `scores` (normalised, at least one), and the fraction of
/// samples whose own outcome equals the aggregate outcome.
pub(crate) fn aggregate(
    how: Aggregate,
    scores: &[f64],
    threshold: f64,
    soft_threshold: Option<f64>,
) -> (Outcome, f64, f64) {
    let n = scores.len().max(1) as f64;
    let outcomes: Vec<Outcome> = scores
        .iter()
        .map(|s| outcome_of(*s, threshold, soft_threshold))
        .collect();
    let (outcome, score) = match how {
        Aggregate::Mean => {
            let mean = scores.iter().sum::<f64>() / n;
            (outcome_of(mean, threshold, soft_threshold), mean)
        }
        Aggregate::Min => {
            let min = scores.iter().copied().fold(f64::INFINITY, f64::min);
            let min = if min.is_finite() { min } else { 0.0 };
            (outcome_of(min, threshold, soft_threshold), min)
        }
        Aggregate::Majority => {
            // Worse outcomes first, so that a tie picks the worse one.
            let winner = [Outcome::Fail, Outcome::SoftFail, Outcome::Pass]
                .into_iter()
                .max_by_key(|o| {
                    let votes = outcomes.iter().filter(|x| *x == o).count();
                    // max_by_key keeps the last maximum; rank worse outcomes later on ties.
                    (votes, std::cmp::Reverse(rank(*o)))
                })
                .unwrap_or(Outcome::Fail);
            let won: Vec<f64> = scores
                .iter()
                .zip(&outcomes)
                .filter(|(_, o)| **o == winner)
                .map(|(s, _)| *s)
                .collect();
            (winner, won.iter().sum::<f64>() / won.len().max(1) as f64)
        }
    };
    let agree = outcomes.iter().filter(|o| **o == outcome).count() as f64 / n;
    (outcome, score, agree)
}

fn rank(o: Outcome) -> u8 {
    match o {
        Outcome::Fail => 0,
        Outcome::SoftFail => 1,
        _ => 2,
    }
}

/// Population standard deviation, for the report line.
pub(crate) fn std_dev(scores: &[f64]) -> f64 {
    let n = scores.len().max(1) as f64;
    let mean = scores.iter().sum::<f64>() / n;
    (scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / n).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Outcome::*;

    #[test]
    fn aggregate_table() {
        // (how, scores, outcome, score, agreement) with threshold 0.7, soft 0.5
        let table = [
            (Aggregate::Mean, vec![1.0], Pass, 1.0, 1.0),
            (Aggregate::Mean, vec![1.0, 0.5, 0.75], Pass, 0.75, 2.0 / 3.0),
            (Aggregate::Mean, vec![1.0, 0.0], SoftFail, 0.5, 0.0),
            (
                Aggregate::Min,
                vec![1.0, 0.75, 0.5],
                SoftFail,
                0.5,
                1.0 / 3.0,
            ),
            (
                Aggregate::Majority,
                vec![1.0, 0.75, 0.0],
                Pass,
                0.875,
                2.0 / 3.0,
            ),
            (Aggregate::Majority, vec![1.0, 0.0], Fail, 0.0, 0.5),
            (
                Aggregate::Majority,
                vec![0.6, 0.0, 1.0],
                Fail,
                0.0,
                1.0 / 3.0,
            ),
        ];
        for (how, scores, outcome, score, agree) in table {
            let (o, s, a) = aggregate(how, &scores, 0.7, Some(0.5));
            assert_eq!(o, outcome, "{how:?} {scores:?}");
            assert!((s - score).abs() < 1e-9, "{how:?} {scores:?}: {s}");
            assert!((a - agree).abs() < 1e-9, "{how:?} {scores:?}: {a}");
        }
        assert_eq!(std_dev(&[1.0, 1.0]), 0.0);
        assert!((std_dev(&[0.0, 1.0]) - 0.5).abs() < 1e-9);
    }
}
