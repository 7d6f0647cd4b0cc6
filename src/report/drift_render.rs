//! The drift section of `summary.md`: the alerts the run history raised, or that it saw none.

use crate::drift::{describe, Drift};

pub(crate) fn render_markdown(drift: &Drift) -> String {
    let mut out = String::from("### Drift\n\n");
    if drift.alerts.is_empty() && drift.judges.is_empty() {
        out.push_str(&format!(
            "No drift over the last {} recorded runs (Mann–Kendall, one-sided, alpha {}).\n\n",
            drift.runs, drift.alpha
        ));
        return out;
    }
    for a in &drift.alerts {
        out.push_str(&format!("- ⚠️ {}\n", describe(a)));
    }
    for a in &drift.judges {
        out.push_str(&format!("- ⚠️ {}\n", crate::judge_drift::describe(a)));
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::{DriftAlert, Metric};

    #[test]
    fn lists_alerts_or_says_there_are_none() {
        let mut d = Drift {
            runs: 8,
            alpha: 0.01,
            alerts: vec![],
            judges: vec![],
        };
        assert!(render_markdown(&d).contains("No drift over the last 8 recorded runs"));
        // A judge alert alone is drift too.
        let mut j = d.clone();
        j.judges.push(crate::drift::JudgeDriftAlert {
            judge: "judge tone".into(),
            runs: 8,
            cases: 3,
            shift: -0.2,
            slope: -0.03,
            s: -20,
            z: -2.9,
            p: 0.004,
        });
        let md = render_markdown(&j);
        assert!(!md.contains("No drift"), "{md}");
        assert!(
            md.contains("- ⚠️ judge drift: `judge tone` scores unchanged outputs lower"),
            "{md}"
        );
        d.alerts.push(DriftAlert {
            metric: Metric::PassRate,
            runs: 8,
            from: 0.95,
            to: 0.7,
            slope: -0.035,
            s: -26,
            z: -3.4,
            p: 0.0003,
        });
        let md = render_markdown(&d);
        assert!(
            md.contains("- ⚠️ drift: pass rate declining over the last 8 runs (0.95 → 0.7"),
            "{md}"
        );
    }
}
