//! `Agreement` and `Correlation`: how well a judge agrees with human labels — accuracy,
//! Cohen's kappa and the confusion matrix for pass/fail, Pearson and Spearman for scores.

/// Pass/fail agreement between human labels and judge verdicts.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Agreement {
    /// Human pass, judge pass.
    pub both_pass: usize,
    /// Human fail, judge pass: the judge is too lenient.
    pub judge_only_pass: usize,
    /// Human pass, judge fail: the judge is too strict.
    pub human_only_pass: usize,
    pub both_fail: usize,
}

impl Agreement {
    /// From (human pass, judge pass) pairs.
    pub fn from_pairs(pairs: &[(bool, bool)]) -> Agreement {
        let mut a = Agreement::default();
        for (human, judge) in pairs {
            match (human, judge) {
                (true, true) => a.both_pass += 1,
                (false, true) => a.judge_only_pass += 1,
                (true, false) => a.human_only_pass += 1,
                (false, false) => a.both_fail += 1,
            }
        }
        a
    }

    pub fn total(&self) -> usize {
        self.both_pass + self.judge_only_pass + self.human_only_pass + self.both_fail
    }

    pub fn accuracy(&self) -> Option<f64> {
        let n = self.total();
        (n > 0).then(|| (self.both_pass + self.both_fail) as f64 / n as f64)
    }

    /// Cohen's kappa: agreement beyond chance, (p_o − p_e) / (1 − p_e). When chance agreement
    /// is already total (both raters always say the same single label) kappa is undefined:
    /// 1 if they agree on everything, else 0.
    pub fn kappa(&self) -> Option<f64> {
        let n = self.total() as f64;
        if n == 0.0 {
            return None;
        }
        let po = (self.both_pass + self.both_fail) as f64 / n;
        let human_pass = (self.both_pass + self.human_only_pass) as f64 / n;
        let judge_pass = (self.both_pass + self.judge_only_pass) as f64 / n;
        let pe = human_pass * judge_pass + (1.0 - human_pass) * (1.0 - judge_pass);
        if (1.0 - pe).abs() < 1e-12 {
            return Some(if po == 1.0 { 1.0 } else { 0.0 });
        }
        Some((po - pe) / (1.0 - pe))
    }
}

/// Pearson correlation; `None` with fewer than two points or no variance.
pub fn pearson(xs: &[f64], ys: &[f64]) -> Option<f64> {
    let n = xs.len().min(ys.len());
    if n < 2 {
        return None;
    }
    let mx = xs[..n].iter().sum::<f64>() / n as f64;
    let my = ys[..n].iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (dx, dy) = (xs[i] - mx, ys[i] - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// Spearman rank correlation: Pearson over ranks, ties sharing their mean rank.
pub fn spearman(xs: &[f64], ys: &[f64]) -> Option<f64> {
    pearson(&ranks(xs), &ranks(ys))
}

fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|a, b| v[*a].total_cmp(&v[*b]));
    let mut out = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let mean_rank = (i + j) as f64 / 2.0 + 1.0;
        for k in &idx[i..=j] {
            out[*k] = mean_rank;
        }
        i = j + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kappa_table() {
        // (pairs as (human, judge), accuracy, kappa)
        let t = (true, true);
        let lenient = (false, true);
        let strict = (true, false);
        let f = (false, false);
        type Row = (Vec<(bool, bool)>, f64, f64);
        let table: Vec<Row> = vec![
            (vec![t, t, f, f], 1.0, 1.0),
            (vec![t, lenient, strict, f], 0.5, 0.0),
            (vec![lenient, lenient, strict, strict], 0.0, -1.0),
            (vec![t, t, t, t], 1.0, 1.0),
            // 20 pairs: po = 0.7, pe = 0.5 → kappa 0.4
            (
                [vec![t; 7], vec![f; 7], vec![lenient; 3], vec![strict; 3]].concat(),
                0.7,
                0.4,
            ),
        ];
        for (pairs, acc, kappa) in table {
            let a = Agreement::from_pairs(&pairs);
            assert!((a.accuracy().unwrap() - acc).abs() < 1e-9, "{pairs:?}");
            assert!(
                (a.kappa().unwrap() - kappa).abs() < 1e-9,
                "{pairs:?}: {:?}",
                a.kappa()
            );
        }
        assert_eq!(Agreement::default().kappa(), None);
    }

    #[test]
    fn correlations() {
        let x = [1.0, 2.0, 3.0, 4.0];
        assert!((pearson(&x, &[2.0, 4.0, 6.0, 8.0]).unwrap() - 1.0).abs() < 1e-9);
        assert!((pearson(&x, &[4.0, 3.0, 2.0, 1.0]).unwrap() + 1.0).abs() < 1e-9);
        // monotone but not linear: Spearman 1, Pearson below 1
        let y = [1.0, 10.0, 100.0, 1000.0];
        assert!((spearman(&x, &y).unwrap() - 1.0).abs() < 1e-9);
        assert!(pearson(&x, &y).unwrap() < 0.99);
        assert_eq!(pearson(&x, &[1.0, 1.0, 1.0, 1.0]), None);
        assert_eq!(ranks(&[3.0, 1.0, 3.0]), vec![2.5, 1.0, 2.5]);
    }
}
