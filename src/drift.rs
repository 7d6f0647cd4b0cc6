//! `Drift`: a one-sided Mann–Kendall trend test over the last runs of a suite, on the pass rate
//! (a decline is drift), the cost per case and the median latency (a rise is drift).
//!
//! Why Mann–Kendall and not a CUSUM: a CUSUM needs the in-control mean and spread of each
//! series and a tuned allowance and threshold, which a suite's first weeks of history do not
//! give; Mann–Kendall is rank-based — no distribution, no reference level, robust to the heavy
//! tails of cost and latency — and yields a p-value, so its false-alarm rate is the `alpha` it
//! is run at. Its statistic is checked against `pymannkendall` (tests/it/stats_reference.rs).
//! A significant trend alerts only when its size over the window (Sen's slope × span) is also
//! large enough to matter: with many runs, a trend too small to care about is still
//! "significant".

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use crate::verdict::round;

/// The runs a drift test reads by default (a week of nightly runs plus today).
pub const DEFAULT_WINDOW: usize = 8;
/// Fewer runs than this say nothing: with 4 points the strongest trend has p ≈ 0.04.
pub const MIN_RUNS: usize = 5;
/// One-sided significance level of each series' test. Over 8 runs of 40 cases (simulated in
/// tests/it/drift_reference.rs) 0.05 catches a 5% → 30% failure-rate rise in 93% of weeks with
/// 3.3% false alarms on a constant 20%; 0.01 falls to 57% power for 0.5%.
pub const DEFAULT_ALPHA: f64 = 0.05;
/// The smallest decline of the pass rate over the window worth an alert (5 points).
pub const MIN_PASS_RATE_DROP: f64 = 0.05;
/// The smallest relative rise of cost or latency over the window worth an alert (10%).
pub const MIN_RELATIVE_RISE: f64 = 0.10;

/// What one test says of a series.
#[derive(Debug, Clone, PartialEq)]
pub struct MannKendall {
    pub n: usize,
    pub s: i64,
    pub var_s: f64,
    pub z: f64,
    /// Kendall's tau-a, S / (n(n−1)/2).
    pub tau: f64,
    /// Sen's slope: the median of the pairwise slopes, per run.
    pub slope: f64,
}

impl MannKendall {
    /// One-sided p-value of a decreasing trend.
    pub fn p_decreasing(&self) -> f64 {
        std_normal_cdf(self.z)
    }

    /// One-sided p-value of an increasing trend.
    pub fn p_increasing(&self) -> f64 {
        1.0 - std_normal_cdf(self.z)
    }
}

fn std_normal_cdf(z: f64) -> f64 {
    Normal::standard().cdf(z)
}

/// The Mann–Kendall statistic of `xs` in order, with the tie-corrected variance and the
/// continuity-corrected z of Hipel & McLeod (the `original_test` of pymannkendall).
/// `None` for fewer than 3 values or any non-finite one.
pub fn mann_kendall(xs: &[f64]) -> Option<MannKendall> {
    let n = xs.len();
    if n < 3 || xs.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let mut s: i64 = 0;
    let mut slopes = Vec::with_capacity(n * (n - 1) / 2);
    for i in 0..n {
        for j in i + 1..n {
            let d = xs[j] - xs[i];
            s += if d > 0.0 {
                1
            } else if d < 0.0 {
                -1
            } else {
                0
            };
            slopes.push(d / (j - i) as f64);
        }
    }
    let nf = n as f64;
    let mut sorted = xs.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut ties = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && sorted[j + 1] == sorted[i] {
            j += 1;
        }
        let t = (j - i + 1) as f64;
        ties += t * (t - 1.0) * (2.0 * t + 5.0);
        i = j + 1;
    }
    let var_s = (nf * (nf - 1.0) * (2.0 * nf + 5.0) - ties) / 18.0;
    let z = if var_s <= 0.0 || s == 0 {
        0.0
    } else if s > 0 {
        (s as f64 - 1.0) / var_s.sqrt()
    } else {
        (s as f64 + 1.0) / var_s.sqrt()
    };
    slopes.sort_by(f64::total_cmp);
    let m = slopes.len();
    let slope = if m % 2 == 1 {
        slopes[m / 2]
    } else {
        (slopes[m / 2 - 1] + slopes[m / 2]) / 2.0
    };
    Some(MannKendall {
        n,
        s,
        var_s,
        z,
        tau: s as f64 / (nf * (nf - 1.0) / 2.0),
        slope,
    })
}

/// The series a drift test watches.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// The run's pass rate: drift is a decline.
    PassRate,
    /// Mean USD per priced case: drift is a rise.
    CostPerCase,
    /// Median case latency (ms): drift is a rise.
    LatencyP50,
}

impl Metric {
    pub const ALL: [Metric; 3] = [Metric::PassRate, Metric::CostPerCase, Metric::LatencyP50];

    pub fn name(self) -> &'static str {
        match self {
            Metric::PassRate => "pass rate",
            Metric::CostPerCase => "cost per case",
            Metric::LatencyP50 => "p50 latency",
        }
    }

    fn worse_when_rising(self) -> bool {
        !matches!(self, Metric::PassRate)
    }
}

/// One run's values of each metric.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Point {
    pub pass_rate: f64,
    pub cost_per_case: Option<f64>,
    pub latency_p50: Option<f64>,
}

impl Point {
    fn get(&self, m: Metric) -> Option<f64> {
        match m {
            Metric::PassRate => Some(self.pass_rate),
            Metric::CostPerCase => self.cost_per_case,
            Metric::LatencyP50 => self.latency_p50,
        }
    }

    /// The metrics of a run from each case's (passed, cost, latency).
    pub fn of_cases(cases: impl Iterator<Item = (bool, Option<f64>, Option<u64>)>) -> Point {
        let (mut total, mut passed) = (0usize, 0usize);
        let mut costs = Vec::new();
        let mut latencies = Vec::new();
        for (pass, cost, latency) in cases {
            total += 1;
            passed += usize::from(pass);
            costs.extend(cost);
            latencies.extend(latency.map(|l| l as f64));
        }
        Point {
            pass_rate: if total == 0 {
                0.0
            } else {
                passed as f64 / total as f64
            },
            cost_per_case: (!costs.is_empty())
                .then(|| costs.iter().sum::<f64>() / costs.len() as f64),
            latency_p50: percentile(&mut latencies, 0.5),
        }
    }
}

/// The `q` quantile (0..1) by linear interpolation between closest ranks (numpy's default).
pub fn percentile(values: &mut [f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (values.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    Some(values[lo] + (values[hi] - values[lo]) * (pos - lo as f64))
}

/// A series that drifted: what `report.json`, `summary.md` and the terminal show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DriftAlert {
    pub metric: Metric,
    /// Runs tested (this one included).
    pub runs: usize,
    /// First and last values of the window.
    pub from: f64,
    pub to: f64,
    /// Sen's slope per run.
    pub slope: f64,
    pub s: i64,
    pub z: f64,
    /// One-sided p-value in the worse direction.
    pub p: f64,
}

/// A judge (`crate::judge_drift`) whose scores of unchanged outputs trend over the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct JudgeDriftAlert {
    pub judge: String,
    /// Runs in the series and distinct unchanged outputs behind it.
    pub runs: usize,
    pub cases: usize,
    /// The shift of the score over the window (Sen's slope × (runs − 1)); negative: stricter.
    pub shift: f64,
    pub slope: f64,
    pub s: i64,
    pub z: f64,
    /// Two-sided p-value.
    pub p: f64,
}

/// The drift verdict on a run: how many runs were tested, and the alerts.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Drift {
    pub runs: usize,
    pub alpha: f64,
    pub alerts: Vec<DriftAlert>,
    /// Judges whose scores of unchanged outputs trend (`crate::judge_drift`); each counts
    /// against `max_drift` like an alert.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub judges: Vec<JudgeDriftAlert>,
}

/// Tests each metric over `points` (oldest first; the window already cut).
pub fn detect(points: &[Point], alpha: f64) -> Drift {
    let mut alerts = Vec::new();
    if points.len() >= MIN_RUNS {
        for metric in Metric::ALL {
            // A metric some runs lack (unpriced runs) is tested over the runs that have it.
            let xs: Vec<f64> = points.iter().filter_map(|p| p.get(metric)).collect();
            if xs.len() < MIN_RUNS {
                continue;
            }
            if let Some(alert) = judge(metric, &xs, alpha) {
                alerts.push(alert);
            }
        }
    }
    Drift {
        runs: points.len(),
        alpha,
        alerts,
        judges: Vec::new(),
    }
}

fn judge(metric: Metric, xs: &[f64], alpha: f64) -> Option<DriftAlert> {
    let mk = mann_kendall(xs)?;
    let span = (xs.len() - 1) as f64;
    let change = mk.slope * span;
    let (p, big_enough) = if metric.worse_when_rising() {
        let mut sorted = xs.to_vec();
        let level = percentile(&mut sorted, 0.5).unwrap_or(0.0).abs();
        (
            mk.p_increasing(),
            change > 0.0 && change >= MIN_RELATIVE_RISE * level,
        )
    } else {
        (mk.p_decreasing(), -change >= MIN_PASS_RATE_DROP)
    };
    (crate::stats::significant(p, alpha) && big_enough).then(|| DriftAlert {
        metric,
        runs: xs.len(),
        from: round(xs[0]),
        to: round(xs[xs.len() - 1]),
        slope: round(mk.slope),
        s: mk.s,
        z: round(mk.z),
        p: round(p),
    })
}

/// One line per alert, for the terminal and summary.md.
pub fn describe(alert: &DriftAlert) -> String {
    format!(
        "drift: {} {} over the last {} runs ({} → {}, Sen's slope {:+}/run, Mann–Kendall z = {}, p = {})",
        alert.metric.name(),
        if alert.metric.worse_when_rising() {
            "rising"
        } else {
            "declining"
        },
        alert.runs,
        alert.from,
        alert.to,
        alert.slope,
        alert.z,
        alert.p
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistic_by_hand() {
        // 1 2 3 4 5: every pair rises, S = 10, Var = 5·4·15/18, z = 9/√(50/3).
        let mk = mann_kendall(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!(mk.s, 10);
        assert!((mk.var_s - 50.0 / 3.0).abs() < 1e-12);
        assert!((mk.z - 9.0 / (50.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(mk.slope, 1.0);
        // Ties shrink the variance: 1 1 2 → S = 2, Var = (3·2·11 − 2·1·9)/18.
        let mk = mann_kendall(&[1.0, 1.0, 2.0]).unwrap();
        assert_eq!(mk.s, 2);
        assert!((mk.var_s - (66.0 - 18.0) / 18.0).abs() < 1e-12);
        // Constant: no trend at all.
        let mk = mann_kendall(&[3.0; 6]).unwrap();
        assert_eq!((mk.s, mk.z), (0, 0.0));
        assert!(mann_kendall(&[1.0, 2.0]).is_none());
        assert!(mann_kendall(&[1.0, f64::NAN, 2.0]).is_none());
    }

    fn points(rates: &[f64]) -> Vec<Point> {
        rates
            .iter()
            .map(|&r| Point {
                pass_rate: r,
                ..Point::default()
            })
            .collect()
    }

    #[test]
    fn a_steady_decline_alerts_and_a_flat_noisy_series_does_not() {
        let decline = points(&[0.95, 0.93, 0.9, 0.86, 0.82, 0.78, 0.74, 0.7]);
        let d = detect(&decline, DEFAULT_ALPHA);
        assert_eq!(d.alerts.len(), 1, "{d:?}");
        assert_eq!(d.alerts[0].metric, Metric::PassRate);
        assert!(describe(&d.alerts[0]).contains("pass rate declining over the last 8 runs"));
        let flat = points(&[0.8, 0.78, 0.83, 0.79, 0.81, 0.8, 0.77, 0.82]);
        assert!(detect(&flat, DEFAULT_ALPHA).alerts.is_empty());
        // A rising pass rate is no drift, and too few runs say nothing.
        let rise: Vec<f64> = decline.iter().rev().map(|p| p.pass_rate).collect();
        assert!(detect(&points(&rise), DEFAULT_ALPHA).alerts.is_empty());
        assert!(detect(&decline[..4], DEFAULT_ALPHA).alerts.is_empty());
    }

    #[test]
    fn a_significant_but_tiny_decline_does_not_alert() {
        let tiny = points(&[0.95, 0.949, 0.948, 0.947, 0.946, 0.945, 0.944, 0.943]);
        assert!(detect(&tiny, DEFAULT_ALPHA).alerts.is_empty());
    }

    #[test]
    fn cost_and_latency_alert_when_rising() {
        let mut ps = points(&[0.9; 8]);
        for (i, p) in ps.iter_mut().enumerate() {
            p.cost_per_case = Some(0.01 + 0.002 * i as f64);
            p.latency_p50 = Some(100.0);
        }
        let d = detect(&ps, DEFAULT_ALPHA);
        let metrics: Vec<Metric> = d.alerts.iter().map(|a| a.metric).collect();
        assert_eq!(metrics, vec![Metric::CostPerCase]);
    }

    #[test]
    fn percentiles_interpolate() {
        assert_eq!(percentile(&mut [], 0.5), None);
        assert_eq!(percentile(&mut [3.0, 1.0, 2.0, 4.0], 0.5), Some(2.5));
        assert_eq!(percentile(&mut [1.0, 2.0, 3.0, 4.0, 5.0], 0.95), Some(4.8));
    }
}
