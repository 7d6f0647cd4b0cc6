//! Statistics for repeated and regression runs: pass@k, pass^k, Wilson intervals, Fisher's exact
//! test and McNemar's test. Pure functions over counts, so they are easy to check by hand.

/// ln C(n, k), summed term by term: exact enough for the counts of eval runs and never
/// overflows the way factorials do.
fn ln_choose(n: u64, k: u64) -> f64 {
    if k > n {
        return f64::NEG_INFINITY;
    }
    let k = k.min(n - k);
    (1..=k)
        .map(|i| ((n - k + i) as f64).ln() - (i as f64).ln())
        .sum()
}

/// C(n, k) / C(m, k) as a probability, computed in log space.
fn choose_ratio(n: u64, m: u64, k: u64) -> f64 {
    if k > n {
        return 0.0;
    }
    (ln_choose(n, k) - ln_choose(m, k)).exp()
}

/// Unbiased pass@k from `n` runs with `c` passes: the chance that at least one of `k` runs drawn
/// without replacement passes, 1 − C(n−c, k) / C(n, k). `None` when n < k.
pub fn pass_at_k(n: u64, c: u64, k: u64) -> Option<f64> {
    if k == 0 || n < k || c > n {
        return None;
    }
    Some(1.0 - choose_ratio(n - c, n, k))
}

/// pass^k from `n` runs with `c` passes: the chance that all `k` runs drawn without replacement
/// pass, C(c, k) / C(n, k). `None` when n < k.
pub fn pass_pow_k(n: u64, c: u64, k: u64) -> Option<f64> {
    if k == 0 || n < k || c > n {
        return None;
    }
    Some(choose_ratio(c, n, k))
}

/// The Wilson score interval of a proportion `successes / n` at confidence `z` (1.96 ≈ 95%).
/// Unlike the normal approximation it stays inside 0..1 and behaves at 0 and n.
pub fn wilson_interval(successes: u64, n: u64, z: f64) -> Option<(f64, f64)> {
    if n == 0 || successes > n {
        return None;
    }
    let n_f = n as f64;
    let p = successes as f64 / n_f;
    let z2 = z * z;
    let denom = 1.0 + z2 / n_f;
    let center = (p + z2 / (2.0 * n_f)) / denom;
    let half = z / denom * (p * (1.0 - p) / n_f + z2 / (4.0 * n_f * n_f)).sqrt();
    Some(((center - half).max(0.0), (center + half).min(1.0)))
}

/// The one decision rule for every significance test in gauntlet: a p-value at or below `alpha`
/// is significant. Inclusive, so an exact tie (3/3 → 0/3 has p = 1/20 exactly) counts at 0.05.
pub fn significant(p: f64, alpha: f64) -> bool {
    p <= alpha
}

/// C(n, k) as an exact integer, or `None` when it does not fit in a u128.
fn choose_exact(n: u64, k: u64) -> Option<u128> {
    if k > n {
        return Some(0);
    }
    let k = k.min(n - k);
    let mut acc: u128 = 1;
    for i in 1..=u128::from(k) {
        // acc · (n − k + i) / i stays an integer at every step (it is C(n − k + i, i)).
        acc = acc.checked_mul(u128::from(n - k) + i)? / i;
    }
    Some(acc)
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// `num / den` as the nearest f64 after reducing the fraction, so that a ratio such as 1/20
/// converts to exactly the double a user writes as `0.05`.
fn ratio(num: u128, den: u128) -> f64 {
    let g = gcd(num, den).max(1);
    ((num / g) as f64 / (den / g) as f64).min(1.0)
}

/// Σ over `xs` of C(a, x)·C(b, n − x), divided by C(a + b, n): a hypergeometric tail. Exact in
/// integers when the counts fit (they do for any realistic number of runs); in log space
/// otherwise.
fn hypergeometric_tail(a: u64, b: u64, n: u64, xs: std::ops::RangeInclusive<u64>) -> f64 {
    let exact = || -> Option<f64> {
        let den = choose_exact(a + b, n)?;
        let mut num: u128 = 0;
        for x in xs.clone() {
            let term = choose_exact(a, x)?.checked_mul(choose_exact(b, n.checked_sub(x)?)?)?;
            num = num.checked_add(term)?;
        }
        Some(ratio(num, den))
    };
    exact().unwrap_or_else(|| {
        let ln_all = ln_choose(a + b, n);
        let p: f64 = xs
            .filter(|x| *x <= n)
            .map(|x| (ln_choose(a, x) + ln_choose(b, n - x) - ln_all).exp())
            .sum();
        p.min(1.0)
    })
}

/// One-sided Fisher's exact test that the current pass rate is *lower* than the baseline's:
/// with the margins fixed, the probability of seeing `current_pass` or fewer passes in the
/// current run. Small p = a significant drop; flaky noise gives a large p. Computed as an exact
/// rational, so ties with `alpha` are decided exactly (see [`significant`]).
pub fn fisher_drop_p(
    base_pass: u64,
    base_n: u64,
    current_pass: u64,
    current_n: u64,
) -> Option<f64> {
    if base_pass > base_n || current_pass > current_n || base_n + current_n == 0 {
        return None;
    }
    let total = base_n + current_n;
    let passes = base_pass + current_pass;
    let lo = passes.saturating_sub(base_n);
    Some(hypergeometric_tail(
        passes,
        total - passes,
        current_n,
        lo..=current_pass.min(passes),
    ))
}

/// Exact (binomial) two-sided McNemar test on paired outcomes: `regressed` cases went pass →
/// fail, `fixed` went fail → pass. Cases with the same outcome in both runs carry no
/// information about a change and are not counted. Exact in integers up to 127 flips.
pub fn mcnemar_p(regressed: u64, fixed: u64) -> f64 {
    let n = regressed + fixed;
    if n == 0 {
        return 1.0;
    }
    let k = regressed.min(fixed);
    let exact = || -> Option<f64> {
        let mut num: u128 = 0;
        for i in 0..=k {
            num = num.checked_add(choose_exact(n, i)?)?;
        }
        // Two-sided: 2 · tail / 2^n = tail / 2^(n − 1).
        let den = 1u128.checked_shl(u32::try_from(n - 1).ok()?)?;
        if n > 127 {
            return None;
        }
        Some(ratio(num, den))
    };
    exact().unwrap_or_else(|| {
        let tail: f64 = (0..=k)
            .map(|i| (ln_choose(n, i) - n as f64 * std::f64::consts::LN_2).exp())
            .sum();
        (2.0 * tail).min(1.0)
    })
}

/// The 95% (`z` = 1.96) Wald interval of the change in pass rate over `n` paired cases, of which
/// `regressed` went pass → fail and `fixed` fail → pass.
pub fn paired_change_interval(regressed: u64, fixed: u64, n: u64, z: f64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let (b, c, n) = (regressed as f64, fixed as f64, n as f64);
    let d = (c - b) / n;
    let se = ((b + c) - (c - b).powi(2) / n).max(0.0).sqrt() / n;
    Some(((d - z * se).max(-1.0), (d + z * se).min(1.0)))
}

/// Two-sided paired t-test on per-case differences given by their count `n`, sum and sum of
/// squares, with the `confidence` (0.95) interval of the mean difference. Used for repeated
/// runs, where each case contributes the change in its pass proportion: the proportions are not
/// binary, so McNemar does not apply, and the t-test on their differences is the standard
/// paired test (its interval always contains the mean it is centred on). Returns
/// `(p, interval)`; the interval is `None` below two cases. Zero spread gives p = 1 for no
/// change and p = 0 for a constant non-zero change (every case moved the same way).
pub fn paired_t(n: u64, sum: f64, sum_sq: f64, confidence: f64) -> (f64, Option<(f64, f64)>) {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    if n < 2 {
        return (1.0, None);
    }
    let nf = n as f64;
    let mean = sum / nf;
    let var = ((sum_sq - nf * mean * mean) / (nf - 1.0)).max(0.0);
    let se = (var / nf).sqrt();
    // Differences of proportions carry rounding error; below this spread there is none.
    if se < 1e-12 {
        let p = if mean.abs() < 1e-12 { 1.0 } else { 0.0 };
        return (p, Some((mean, mean)));
    }
    let Ok(t) = StudentsT::new(0.0, 1.0, nf - 1.0) else {
        return (1.0, None);
    };
    let p = (2.0 * t.sf((mean / se).abs())).min(1.0);
    let q = t.inverse_cdf(0.5 + confidence / 2.0);
    (
        p,
        Some(((mean - q * se).max(-1.0), (mean + q * se).min(1.0))),
    )
}

/// The noise floor of a paired comparison: the smallest pass-rate change over `n` cases that the
/// exact McNemar test would call significant at `alpha` (all flips one way). Smaller changes
/// cannot be told from noise, whatever they look like.
pub fn noise_floor(n: u64, alpha: f64) -> Option<f64> {
    (1..=n)
        .find(|k| significant(mcnemar_p(*k, 0), alpha))
        .map(|k| k as f64 / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn pass_at_k_and_pass_pow_k_match_hand_computed_values() {
        // n, c, k, pass@k, pass^k — computed by hand from the binomial coefficients.
        let table = [
            (5, 3, 1, 0.6, 0.6),
            (5, 3, 2, 1.0 - 1.0 / 10.0, 3.0 / 10.0),
            (5, 3, 3, 1.0, 1.0 / 10.0),
            (5, 0, 2, 0.0, 0.0),
            (5, 5, 5, 1.0, 1.0),
            (10, 4, 3, 1.0 - 20.0 / 120.0, 4.0 / 120.0),
        ];
        for (n, c, k, at, pow) in table {
            assert!(
                close(pass_at_k(n, c, k).unwrap(), at),
                "pass@{k} n={n} c={c}"
            );
            assert!(
                close(pass_pow_k(n, c, k).unwrap(), pow),
                "pass^{k} n={n} c={c}"
            );
        }
        assert_eq!(pass_at_k(2, 1, 3), None, "null when n < k");
        assert_eq!(pass_pow_k(2, 1, 3), None);
    }

    #[test]
    fn wilson_interval_matches_reference_values() {
        // 8 of 10 at 95%: the textbook interval is [0.4902, 0.9433].
        let (lo, hi) = wilson_interval(8, 10, 1.96).unwrap();
        assert!(
            (lo - 0.4902).abs() < 1e-4 && (hi - 0.9433).abs() < 1e-4,
            "{lo} {hi}"
        );
        let (lo, hi) = wilson_interval(0, 10, 1.96).unwrap();
        assert_eq!(lo, 0.0);
        assert!(hi > 0.0 && hi < 0.35);
        assert_eq!(wilson_interval(0, 0, 1.96), None);
    }

    #[test]
    fn fisher_tells_a_real_drop_from_noise() {
        // 5/5 → 0/5: p = C(5,0)C(5,5)/C(10,5) = 1/252.
        assert!(close(fisher_drop_p(5, 5, 0, 5).unwrap(), 1.0 / 252.0));
        // 4/5 → 3/5 is noise: (C(7,2)C(3,3) + C(7,3)C(3,2)) / C(10,5) = 126/252.
        assert!(close(fisher_drop_p(4, 5, 3, 5).unwrap(), 0.5));
        // No drop: (6 + 60 + 120) / 252.
        assert!(close(fisher_drop_p(3, 5, 3, 5).unwrap(), 186.0 / 252.0));
        // Single runs can never be significant at 0.05: 1/1 → 0/1 gives p = 0.5.
        assert!(close(fisher_drop_p(1, 1, 0, 1).unwrap(), 0.5));
    }

    #[test]
    fn paired_change_and_noise_floor() {
        // 2 regressions, 6 fixes over 40 cases: d = 0.1, se = sqrt(8 − 16/40)/40.
        let (lo, hi) = paired_change_interval(2, 6, 40, 1.96).unwrap();
        let se = (8.0f64 - 0.4).sqrt() / 40.0;
        assert!(
            close(lo, 0.1 - 1.96 * se) && close(hi, 0.1 + 1.96 * se),
            "{lo} {hi}"
        );
        assert_eq!(paired_change_interval(0, 0, 0, 1.96), None);
        // Six one-way flips are the fewest McNemar calls significant at 0.05 (p = 1/32).
        assert!(close(noise_floor(32, 0.05).unwrap(), 6.0 / 32.0));
        assert_eq!(
            noise_floor(5, 0.05),
            None,
            "five cases can never show a significant change"
        );
    }

    #[test]
    fn mcnemar_exact_two_sided() {
        assert!(close(mcnemar_p(0, 0), 1.0));
        // 6 regressions, 0 fixes: 2 × 0.5^6 = 1/32.
        assert!(close(mcnemar_p(6, 0), 2.0 / 64.0));
        // 3 vs 3 is no evidence of change.
        assert!(close(mcnemar_p(3, 3), 1.0));
        // 5 vs 1: 2 × (1 + 6) / 64.
        assert!(close(mcnemar_p(5, 1), 14.0 / 64.0));
    }

    #[test]
    fn exact_ties_land_on_the_significant_side() {
        // 3/3 → 0/3: C(3,3)·C(3,0) / C(6,3) = 1/20, exactly the double written as 0.05.
        let p = fisher_drop_p(3, 3, 0, 3).unwrap();
        assert_eq!(p, 0.05);
        assert!(significant(p, 0.05), "a tie with alpha is significant");
        // Neighbours: 3/3 → 1/3 and 2/3 → 0/3 are both 4/20; neither is a regression.
        assert_eq!(fisher_drop_p(3, 3, 1, 3).unwrap(), 0.2);
        assert_eq!(fisher_drop_p(2, 3, 0, 3).unwrap(), 0.2);
        assert!(!significant(fisher_drop_p(2, 3, 0, 3).unwrap(), 0.05));
        assert!(!significant(p, 0.049));
        // 5/5 → 0/3: 1/56; 4/5 → 0/3: C(4,0)·C(4,3)/C(8,3) = 4/56.
        assert_eq!(fisher_drop_p(5, 5, 0, 3).unwrap(), 1.0 / 56.0);
        assert_eq!(fisher_drop_p(4, 5, 0, 3).unwrap(), 4.0 / 56.0);
        // McNemar: 5 one-way flips is 2/32 = 1/16, 6 is 1/32; a 2-sided tie is exact too.
        assert_eq!(mcnemar_p(5, 0), 0.0625);
        assert_eq!(mcnemar_p(6, 0), 1.0 / 32.0);
        // Large counts fall back to log space and stay in 0..=1.
        let big = mcnemar_p(300, 280);
        assert!(big > 0.3 && big <= 1.0, "{big}");
        let big = fisher_drop_p(500, 600, 100, 600).unwrap();
        assert!((0.0..1e-10).contains(&big), "{big}");
    }

    #[test]
    fn paired_t_matches_reference_values() {
        // Differences 0.2, 0.4, 0.6, -0.2, 0.0: mean 0.2, sd 0.3162, t = 1.4142 on 4 df.
        // scipy.stats.ttest_1samp → p = 0.23019964; t(0.975, 4) = 2.7764451.
        let d = [0.2, 0.4, 0.6, -0.2, 0.0];
        let (sum, sq) = (d.iter().sum::<f64>(), d.iter().map(|x| x * x).sum::<f64>());
        let (p, ci) = paired_t(5, sum, sq, 0.95);
        assert!((p - 0.230_199_64).abs() < 1e-6, "{p}");
        let (lo, hi) = ci.unwrap();
        let half = 2.776_445_1 * (0.1f64 / 5.0).sqrt();
        assert!((lo - (0.2 - half)).abs() < 1e-6 && (hi - (0.2 + half)).abs() < 1e-6);
        assert_eq!(paired_t(1, 0.5, 0.25, 0.95), (1.0, None));
        assert_eq!(paired_t(4, 0.0, 0.0, 0.95), (1.0, Some((0.0, 0.0))));
        let (p, ci) = paired_t(4, -4.0, 4.0, 0.95);
        assert_eq!((p, ci), (0.0, Some((-1.0, -1.0))));
    }
}
