//! `Verdict` (one check's outcome) and `CaseStatus` (a case's), with the reducers between them.

use serde::{Deserialize, Serialize};

/// The outcome of one check on one trajectory.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    /// A warning: the check did not meet its bar but the case still passes.
    SoftFail,
    Fail,
    /// Could not judge (provider down, unparsable judge). Never counted as pass or fail.
    Error,
    Skipped,
}

impl Outcome {
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::SoftFail => "soft_fail",
            Outcome::Fail => "fail",
            Outcome::Error => "error",
            Outcome::Skipped => "skipped",
        }
    }
}

/// How a failing check counts: `hard` fails the case, `soft` only warns.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    #[default]
    Hard,
    Soft,
}

/// One check's verdict on one trajectory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Verdict {
    /// Display name: the check's `name`, or its kind plus a short argument summary.
    pub check: String,
    pub outcome: Outcome,
    /// 0..1, `None` when the check could not score (error, skipped).
    pub score: Option<f64>,
    /// Weight in the case score; 0 = informational.
    pub weight: f64,
    /// One line saying why.
    pub reason: String,
}

impl Verdict {
    /// Applies a check's severity: a soft check's `fail` becomes `soft_fail`.
    pub(crate) fn with_severity(mut self, severity: Severity) -> Self {
        if severity == Severity::Soft && self.outcome == Outcome::Fail {
            self.outcome = Outcome::SoftFail;
        }
        self
    }
}

/// A case's status, reduced from its verdicts (and, with repeats, from its runs).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Passed,
    SoftFailed,
    Failed,
    Errored,
    /// With repeats: mixed outcomes.
    Flaky,
}

impl CaseStatus {
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            CaseStatus::Passed => "passed",
            CaseStatus::SoftFailed => "soft_failed",
            CaseStatus::Failed => "failed",
            CaseStatus::Errored => "errored",
            CaseStatus::Flaky => "flaky",
        }
    }

    /// Whether the case counts as passing for the pass rate (a soft fail is a warning).
    pub(crate) fn is_pass(&self) -> bool {
        matches!(self, CaseStatus::Passed | CaseStatus::SoftFailed)
    }
}

/// Any hard fail ⇒ `failed`; else any error ⇒ `errored`; else any soft fail ⇒ `soft_failed`;
/// else `passed`. A case with no checks passes; a case whose checks were *all* skipped is
/// `errored` ("no check applied"): nothing judged it, so calling it passed would hide a suite
/// whose checks do not fit its cases.
pub(crate) fn case_status(verdicts: &[Verdict]) -> CaseStatus {
    let has = |o: Outcome| verdicts.iter().any(|v| v.outcome == o);
    if no_check_applied(verdicts) {
        CaseStatus::Errored
    } else if has(Outcome::Fail) {
        CaseStatus::Failed
    } else if has(Outcome::Error) {
        CaseStatus::Errored
    } else if has(Outcome::SoftFail) {
        CaseStatus::SoftFailed
    } else {
        CaseStatus::Passed
    }
}

/// Why a case with checks, none of which applied, is errored.
pub(crate) const NO_CHECK_APPLIED: &str = "no check applied";

/// The case had checks and every one of them was skipped.
pub(crate) fn no_check_applied(verdicts: &[Verdict]) -> bool {
    !verdicts.is_empty() && verdicts.iter().all(|v| v.outcome == Outcome::Skipped)
}

/// Weighted mean of the scored verdicts; `None` when nothing carries weight.
/// Errors and skips have no score and are left out rather than counted as zero.
pub(crate) fn case_score(verdicts: &[Verdict]) -> Option<f64> {
    let (sum, weights) = verdicts
        .iter()
        .filter_map(|v| v.score.map(|s| (s * v.weight, v.weight)))
        .fold((0.0, 0.0), |(s, w), (vs, vw)| (s + vs, w + vw));
    (weights > 0.0).then(|| sum / weights)
}

/// Rounds to the fixed precision used everywhere in reports, so two runs diff cleanly.
pub(crate) fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// A rate as reports show it: rounded, 0 for no cases.
pub(crate) fn rate(n: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        round(n as f64 / total as f64)
    }
}

/// The significance level for regressions of repeated cases when the suite sets none.
pub(crate) const DEFAULT_ALPHA: f64 = 0.05;

/// `min_pass: a/b`: a repeated case passes when at least a/b of its judged runs pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinPass {
    pub passes: u32,
    pub runs: u32,
}

/// A `min_pass` that is not `a/b` with 0 < a ≤ b.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid min_pass `{text}` (expected a/b with 0 < a ≤ b, e.g. 4/5)")]
pub struct InvalidMinPass {
    pub text: String,
}

impl std::str::FromStr for MinPass {
    type Err = InvalidMinPass;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InvalidMinPass {
            text: s.to_string(),
        };
        let (a, b) = s.split_once('/').ok_or_else(bad)?;
        let passes: u32 = a.trim().parse().map_err(|_| bad())?;
        let runs: u32 = b.trim().parse().map_err(|_| bad())?;
        if passes == 0 || runs == 0 || passes > runs {
            return Err(bad());
        }
        Ok(MinPass { passes, runs })
    }
}

impl MinPass {
    /// `passes / judged ≥ a / b`, in integers so 4/5 of 5 runs is exact.
    pub(crate) fn met(&self, passes: u32, judged: u32) -> bool {
        u64::from(passes) * u64::from(self.runs) >= u64::from(self.passes) * u64::from(judged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(outcome: Outcome, score: Option<f64>, weight: f64) -> Verdict {
        Verdict {
            check: "c".into(),
            outcome,
            score,
            weight,
            reason: String::new(),
        }
    }

    #[test]
    fn status_precedence_is_fail_then_error_then_soft_fail() {
        use Outcome::*;
        let table = [
            (vec![], CaseStatus::Passed),
            (vec![Pass, Skipped], CaseStatus::Passed),
            (vec![Skipped], CaseStatus::Errored),
            (vec![Skipped, Skipped], CaseStatus::Errored),
            (vec![Pass, SoftFail], CaseStatus::SoftFailed),
            (vec![SoftFail, Error], CaseStatus::Errored),
            (vec![Error, Fail, SoftFail], CaseStatus::Failed),
        ];
        for (outcomes, want) in table {
            let vs: Vec<_> = outcomes.into_iter().map(|o| v(o, None, 1.0)).collect();
            assert_eq!(case_status(&vs), want, "{vs:?}");
        }
    }

    #[test]
    fn score_is_weighted_mean_ignoring_unscored_and_zero_weight() {
        let vs = [
            v(Outcome::Pass, Some(1.0), 3.0),
            v(Outcome::Fail, Some(0.0), 1.0),
            v(Outcome::Error, None, 5.0),
            v(Outcome::Fail, Some(0.0), 0.0),
        ];
        assert_eq!(case_score(&vs), Some(0.75));
        assert_eq!(case_score(&[v(Outcome::Error, None, 1.0)]), None);
    }

    #[test]
    fn soft_severity_turns_fail_into_soft_fail_only() {
        let soft = v(Outcome::Fail, Some(0.0), 1.0).with_severity(Severity::Soft);
        assert_eq!(soft.outcome, Outcome::SoftFail);
        let err = v(Outcome::Error, None, 1.0).with_severity(Severity::Soft);
        assert_eq!(err.outcome, Outcome::Error);
    }
}
