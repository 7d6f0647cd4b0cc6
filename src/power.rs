//! `Power`: what a regression design can see, said aloud — for a baseline of `R` runs per case
//! and a run of `r` runs (plus `K` confirmation reruns), the smallest drop of one case that can
//! count as a regression, and how often a regression-free but noisy case raises a false alarm.
//! Pure arithmetic over the same Fisher test `compare` and `confirm` use, so it cannot drift.

use serde::{Deserialize, Serialize};

use crate::stats::{fisher_drop_p, significant};

/// The failure rate of the "noisy but regression-free" case the false-alarm rate is quoted for.
pub(crate) const NOISY_PASS_RATE: f64 = 0.8;

/// One design and what it can detect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Power {
    /// Runs per case in the baseline.
    pub baseline_runs: u32,
    /// Runs per case in this run (`--repeat`).
    pub runs: u32,
    /// Confirmation reruns per case (`--confirm`), 0 without.
    pub confirm: u32,
    /// The weakest drop that counts: from at least `from[0]/from[1]` in the baseline to at most
    /// `to[0]/to[1]` in the deciding runs; `None` when no single case can ever count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<[u32; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<[u32; 2]>,
    /// Chance that a case passing 80% of the time in both runs (no regression) is reported as
    /// a regression, per case, at this alpha (before any correction over cases).
    pub false_alarm: f64,
}

impl Power {
    /// `power: …` as the terminal and summary.md print it.
    pub fn line(&self) -> String {
        let design = if self.confirm > 0 {
            format!(
                "{}-run baseline, --repeat {} --confirm {}",
                self.baseline_runs, self.runs, self.confirm
            )
        } else {
            format!(
                "{}-run baseline, --repeat {}",
                self.baseline_runs, self.runs
            )
        };
        let what = match self.drop() {
            Some(d) => format!("a case must fall {d} to count"),
            None => "no single case can reach significance".to_string(),
        };
        format!(
            "power: {design}: {what}; false alarms {:.2}% per case at 20% noise",
            self.false_alarm * 100.0
        )
    }

    /// The weakest drops that count, in words: `from 5/5 to 0/3`, or
    /// `from ≥ 4/5 to 0/5, or from 5/5 to ≤ 1/5` when either end may give.
    pub fn drop(&self) -> Option<String> {
        let ([b, bn], [a, an]) = (self.from?, self.to?);
        Some(if b == bn && a == 0 {
            format!("from {bn}/{bn} to 0/{an}")
        } else if a == 0 {
            format!("from ≥ {b}/{bn} to 0/{an}")
        } else {
            format!("from ≥ {b}/{bn} to 0/{an}, or from {bn}/{bn} to ≤ {a}/{an}")
        })
    }

    /// Whether any single case could ever be reported as a regression.
    pub fn can_detect(&self) -> bool {
        self.from.is_some()
    }
}

fn binom_pmf(k: u32, n: u32, p: f64) -> f64 {
    let mut c = 1.0f64;
    for i in 0..k {
        c = c * f64::from(n - i) / f64::from(i + 1);
    }
    c * p.powi(k as i32) * (1.0 - p).powi((n - k) as i32)
}

/// Whether `b` of `bn` baseline passes against `a` of `an` deciding passes is a regression.
fn drop_counts(b: u32, bn: u32, a: u32, an: u32, alpha: f64) -> bool {
    fisher_drop_p(b.into(), bn.into(), a.into(), an.into()).is_some_and(|p| significant(p, alpha))
}

/// The power of a design at `alpha`.
///
/// - `confirm > 0`: the fresh `confirm` runs decide (Fisher against the baseline's runs).
/// - `confirm == 0`, `runs == 1`: a single run compares by status, so a case whose baseline
///   passed every run regresses on any failure.
/// - `confirm == 0`, `runs > 1`: Fisher on the repeated runs.
pub(crate) fn power(baseline_runs: u32, runs: u32, confirm: u32, alpha: f64) -> Power {
    let (r, n) = (baseline_runs.max(1), runs.max(1));
    let pi = NOISY_PASS_RATE;
    let deciding = if confirm > 0 { confirm } else { n };
    let (from, to, false_alarm) = if confirm == 0 && n == 1 {
        // Status rule: the baseline must have passed all of its runs; any failure now counts.
        (Some([r, r]), Some([0, 1]), pi.powi(r as i32) * (1.0 - pi))
    } else {
        let from = (0..=r)
            .find(|&b| drop_counts(b, r, 0, deciding, alpha))
            .map(|b| [b, r]);
        let to = (0..=deciding)
            .rev()
            .find(|&a| drop_counts(r, r, a, deciding, alpha))
            .map(|a| [a, deciding]);
        let mut fa = 0.0;
        for b in 0..=r {
            let pb = binom_pmf(b, r, pi);
            // With confirmation, the screening must first have done worse than the baseline.
            let screened = if confirm > 0 {
                (0..=n)
                    .filter(|&s| u64::from(s) * u64::from(r) < u64::from(b) * u64::from(n))
                    .map(|s| binom_pmf(s, n, pi))
                    .sum::<f64>()
            } else {
                1.0
            };
            let decided: f64 = (0..=deciding)
                .filter(|&a| drop_counts(b, r, a, deciding, alpha))
                .map(|a| binom_pmf(a, deciding, pi))
                .sum();
            fa += pb * screened * decided;
        }
        (from, to, fa)
    };
    Power {
        baseline_runs: r,
        runs: n,
        confirm,
        from,
        to,
        false_alarm: crate::verdict::round(false_alarm),
    }
}

/// The README's table: baseline runs × designs of the run under test, at alpha 0.05.
#[cfg(test)]
fn power_table() -> Vec<Power> {
    let designs = [(1, 0), (2, 0), (3, 0), (5, 0), (1, 3), (1, 5)];
    [3, 5, 10]
        .into_iter()
        .flat_map(|r| designs.map(|(n, k)| power(r, n, k, 0.05)))
        .collect()
}

/// The table as Markdown, exactly as the README shows it.
#[cfg(test)]
fn power_table_markdown() -> String {
    let mut out = String::from(
        "| baseline runs | run | smallest drop that counts | false alarms per case (20% noise) |\n|---|---|---|---|\n",
    );
    for p in power_table() {
        let run = if p.confirm > 0 {
            format!("`--repeat {} --confirm {}`", p.runs, p.confirm)
        } else {
            format!("`--repeat {}`", p.runs)
        };
        let drop = p.drop().unwrap_or_else(|| "none can count".to_string());
        out.push_str(&format!(
            "| {} | {run} | {drop} | {:.2}% |\n",
            p.baseline_runs,
            p.false_alarm * 100.0
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_run_baseline_with_three_confirmations() {
        let p = power(5, 1, 3, 0.05);
        // Only 5/5 → 0/3 (p = 1/56) is significant; 4/5 → 0/3 is 4/56.
        assert_eq!((p.from, p.to), (Some([5, 5]), Some([0, 3])));
        // 0.8^5 · 0.2 · 0.2^3 = 0.000524…
        assert_eq!(p.false_alarm, 0.0005);
        assert!(
            p.line().contains("must fall from 5/5 to 0/3"),
            "{}",
            p.line()
        );
    }

    #[test]
    fn single_runs_cry_wolf_and_small_repeats_cannot_detect() {
        let p = power(5, 1, 0, 0.05);
        assert_eq!(p.false_alarm, 0.0655, "0.8^5 · 0.2");
        // 3/3 → 0/3 is exactly 1/20: detectable at 0.05, as the tie rule says.
        assert!(power(3, 3, 0, 0.05).can_detect());
        assert!(!power(2, 2, 0, 0.05).can_detect());
        assert!(!power(5, 1, 1, 0.05).can_detect(), "5/5 → 0/1 is 1/6");
    }
}

#[cfg(test)]
mod readme_tests {
    #[test]
    fn the_readme_states_the_computed_power_table() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
            .expect("README.md");
        let table = super::power_table_markdown();
        assert!(
            readme.contains(&table),
            "README.md must hold the power table as computed:\n{table}"
        );
    }
}
