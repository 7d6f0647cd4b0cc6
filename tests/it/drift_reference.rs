//! The Mann–Kendall statistic of `drift`, checked against pymannkendall's
//! `original_test` on a grid of series (ties, trends, noise, lengths 3..30), and its false-alarm
//! rate and power measured over many seeded simulated weeks.
//! Runs `.venv/bin/python` (created by .ci/run from .ci/requirements.txt).

use std::process::{Command, Stdio};

use gauntlet::drift::{detect, mann_kendall, Point, DEFAULT_ALPHA};
use serde_json::{json, Value};

use crate::support::{missing_external, root};

const REFERENCE: &str = r#"
import json, sys
import pymannkendall as mk
out = []
for xs in json.load(sys.stdin):
    r = mk.original_test(xs)
    out.append({"s": r.s, "var_s": r.var_s, "z": r.z, "p": r.p, "tau": r.Tau, "slope": r.slope})
print(json.dumps(out))
"#;

/// splitmix64: a tiny seeded generator, so the simulations reproduce anywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn grid() -> Vec<Vec<f64>> {
    let mut rng = Rng(17);
    let mut out = vec![
        vec![1.0, 2.0, 3.0],
        vec![3.0, 2.0, 1.0, 0.0],
        vec![1.0, 1.0, 2.0, 2.0, 2.0, 3.0],
        vec![0.9, 0.9, 0.9, 0.9, 0.9],
        vec![0.95, 0.93, 0.9, 0.86, 0.82, 0.78, 0.74, 0.7],
        vec![0.8, 0.775, 0.825, 0.8, 0.75, 0.8, 0.825, 0.775],
    ];
    for n in [5usize, 8, 12, 20, 30] {
        for trend in [-0.02, 0.0, 0.01] {
            // Pass rates of 40 cases: multiples of 1/40, so ties are common.
            out.push(
                (0..n)
                    .map(|i| {
                        let p = (0.8 + trend * i as f64 + 0.1 * (rng.unit() - 0.5)).clamp(0.0, 1.0);
                        (p * 40.0).round() / 40.0
                    })
                    .collect(),
            );
        }
        out.push((0..n).map(|_| 100.0 + 50.0 * rng.unit()).collect());
    }
    out
}

#[test]
fn mann_kendall_matches_pymannkendall() {
    let python = root().join(".venv/bin/python");
    let probe = Command::new(&python)
        .args(["-c", "import pymannkendall"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        missing_external(
            "pymannkendall in .venv",
            "python3 -m venv .venv && .venv/bin/pip install -r .ci/requirements.txt",
        );
        return;
    }
    let series = grid();
    let mut child = Command::new(&python)
        .args(["-c", REFERENCE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        json!(series).to_string().as_bytes(),
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
    for (xs, w) in series.iter().zip(&want) {
        let got = mann_kendall(xs).unwrap();
        let f = |k: &str| w[k].as_f64().unwrap();
        assert_eq!(got.s as f64, f("s"), "S of {xs:?}");
        assert!(
            close(got.var_s, f("var_s")),
            "Var(S) of {xs:?}: {} vs {}",
            got.var_s,
            f("var_s")
        );
        assert!(close(got.z, f("z")), "z of {xs:?}: {} vs {}", got.z, f("z"));
        assert!(close(got.tau, f("tau")), "tau of {xs:?}");
        assert!(
            close(got.slope, f("slope")),
            "Sen's slope of {xs:?}: {} vs {}",
            got.slope,
            f("slope")
        );
        // pymannkendall's p is two-sided; ours are the one-sided halves.
        let two_sided = 2.0 * got.p_decreasing().min(got.p_increasing());
        assert!(
            close(two_sided, f("p")),
            "p of {xs:?}: {two_sided} vs {}",
            f("p")
        );
    }
}

/// Pass rates of `cases` cases over `nights` runs whose failure rate goes from `from` to `to`.
fn week(rng: &mut Rng, cases: usize, nights: usize, from: f64, to: f64) -> Vec<Point> {
    (0..nights)
        .map(|n| {
            let fail = from + (to - from) * n as f64 / (nights - 1) as f64;
            let passed = (0..cases).filter(|_| rng.unit() >= fail).count();
            Point {
                pass_rate: passed as f64 / cases as f64,
                ..Point::default()
            }
        })
        .collect()
}

/// Over 2,000 seeded weeks (8 runs of 40 cases): how often a decline from 5% to 30% failures
/// alerts (power) and a constant 20% does (false alarms). Printed for the README.
#[test]
fn drift_power_and_false_alarm_rate_over_many_seeds() {
    const WEEKS: usize = 2000;
    let mut rng = Rng(2026);
    let alerts = |rng: &mut Rng, from: f64, to: f64| {
        (0..WEEKS)
            .filter(|_| {
                !detect(&week(rng, 40, 8, from, to), DEFAULT_ALPHA)
                    .alerts
                    .is_empty()
            })
            .count() as f64
            / WEEKS as f64
    };
    let power = alerts(&mut rng, 0.05, 0.30);
    let false_alarms = alerts(&mut rng, 0.20, 0.20);
    let slow = alerts(&mut rng, 0.05, 0.15);
    eprintln!(
        "drift over 8 runs of 40 cases, alpha {DEFAULT_ALPHA}: power (5% → 30%) {power:.3}, \
         power (5% → 15%) {slow:.3}, false alarms (constant 20%) {false_alarms:.3}"
    );
    assert!(power >= 0.85, "power {power}");
    assert!(false_alarms <= 0.05, "false alarms {false_alarms}");
}
