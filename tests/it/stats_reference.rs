//! The statistics behind regression verdicts, checked against scipy and statsmodels on a grid:
//! one-sided Fisher, exact McNemar, the paired t-test and its interval, Benjamini–Hochberg.
//! Runs `.venv/bin/python` (created by .ci/run from .ci/requirements.txt).

use std::process::Command;

use gauntlet::results::confirm::bh_adjust;
use gauntlet::stats::{fisher_drop_p, mcnemar_p, paired_t};
use serde_json::{json, Value};

use crate::support::{missing_external, root};

const REFERENCE: &str = r#"
import json, sys
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests
grid = json.load(sys.stdin)
out = {"fisher": [], "mcnemar": [], "t": [], "bh": []}
for bp, bn, ap, an in grid["fisher"]:
    # Current run in the first row: "less" is the chance of this few current passes or fewer.
    out["fisher"].append(stats.fisher_exact([[ap, an - ap], [bp, bn - bp]], alternative="less").pvalue)
for b, c in grid["mcnemar"]:
    out["mcnemar"].append(mcnemar([[0, b], [c, 0]], exact=True).pvalue)
for d in grid["t"]:
    r = stats.ttest_1samp(d, 0.0)
    lo, hi = stats.t.interval(0.95, len(d) - 1, loc=sum(d) / len(d), scale=stats.sem(d))
    out["t"].append([r.pvalue, lo, hi])
for ps in grid["bh"]:
    out["bh"].append(list(multipletests(ps, method="fdr_bh")[1]))
print(json.dumps(out))
"#;

#[test]
fn fisher_mcnemar_paired_t_and_bh_match_scipy_and_statsmodels() {
    let python = root().join(".venv/bin/python");
    let probe = Command::new(&python)
        .args(["-c", "import scipy, statsmodels"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        missing_external(
            "scipy and statsmodels in .venv",
            "python3 -m venv .venv && .venv/bin/pip install -r .ci/requirements.txt",
        );
        return;
    }
    let mut fisher = Vec::new();
    for bn in 1..=6u64 {
        for an in 1..=6u64 {
            for bp in 0..=bn {
                for ap in 0..=an {
                    fisher.push([bp, bn, ap, an]);
                }
            }
        }
    }
    let mcnemar: Vec<[u64; 2]> = (0..=12)
        .flat_map(|b| (0..=12).map(move |c| [b, c]))
        .chain([[40, 25], [100, 70]])
        .collect();
    let t: Vec<Vec<f64>> = vec![
        vec![0.2, 0.4, 0.6, -0.2, 0.0],
        vec![-1.0, -0.6667, 0.0, -0.3333],
        vec![-1.0, -1.0, -0.5, 0.0, 0.0, 0.0, 0.2, -0.8],
        vec![0.5, -0.5, 0.25],
        (0..40)
            .map(|i| ((i * 7 % 11) as f64 - 5.0) / 10.0)
            .collect(),
    ];
    let bh: Vec<Vec<f64>> = vec![
        vec![0.01, 0.04, 0.03, 0.5],
        vec![1.0 / 56.0; 3],
        vec![1.0 / 56.0, 0.5, 1.0, 0.2, 0.07],
        vec![0.001, 0.002, 0.003, 0.9, 0.04, 0.05],
    ];
    let grid = json!({"fisher": fisher, "mcnemar": mcnemar, "t": t, "bh": bh});
    let mut child = Command::new(&python)
        .args(["-c", REFERENCE])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), grid.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want: Value = serde_json::from_slice(&out.stdout).unwrap();
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);

    for (cell, w) in fisher.iter().zip(want["fisher"].as_array().unwrap()) {
        let [bp, bn, ap, an] = *cell;
        let got = fisher_drop_p(bp, bn, ap, an).unwrap();
        assert!(
            close(got, w.as_f64().unwrap()),
            "fisher {cell:?}: {got} vs {w}"
        );
    }
    for (cell, w) in mcnemar.iter().zip(want["mcnemar"].as_array().unwrap()) {
        let got = mcnemar_p(cell[0], cell[1]);
        assert!(
            close(got, w.as_f64().unwrap()),
            "mcnemar {cell:?}: {got} vs {w}"
        );
    }
    for (d, w) in t.iter().zip(want["t"].as_array().unwrap()) {
        let (sum, sq) = (d.iter().sum::<f64>(), d.iter().map(|x| x * x).sum::<f64>());
        let (p, ci) = paired_t(d.len() as u64, sum, sq, 0.95);
        let (lo, hi) = ci.unwrap();
        let w: Vec<f64> = w
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let tight = |a: f64, b: f64| (a - b).abs() < 1e-7;
        assert!(tight(p, w[0]), "t p {d:?}: {p} vs {}", w[0]);
        // gauntlet clips the interval to −1..1 (a change in pass rate cannot leave it).
        assert!(
            tight(lo, w[1].max(-1.0)) && tight(hi, w[2].min(1.0)),
            "t ci {d:?}: {lo} {hi} vs {w:?}"
        );
    }
    for (ps, w) in bh.iter().zip(want["bh"].as_array().unwrap()) {
        let got = bh_adjust(ps);
        for (g, w) in got.iter().zip(w.as_array().unwrap()) {
            assert!(close(*g, w.as_f64().unwrap()), "bh {ps:?}: {got:?} vs {w}");
        }
    }
}
