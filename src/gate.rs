//! `evaluate`: the suite's gate policy applied to a run's summary, and the exit code it decides.

use crate::exit;
use crate::report::compare::Comparison;
use crate::report::model::{CaseResult, GateResult, GateRule, RunReport, Summary};
use crate::suite::model::Gate;
use crate::verdict::{rate, CaseStatus};

/// Applies every configured limit, in a fixed order, plus the critical tags and ids.
///
/// Rates are compared as the summary holds them (already rounded), so the verdict matches the
/// numbers a reader sees in the report. An empty run has a pass rate of 0 and fails any
/// `min_pass_rate` above 0: a gate should not pass on nothing.
pub fn evaluate(gate: &Gate, summary: &Summary, cases: &[CaseResult]) -> GateResult {
    let mut rules = Vec::new();
    // Quarantined flaky cases are reported but left out of the rates the gate judges.
    let quarantined: Vec<String> = if gate.quarantine_flaky {
        cases
            .iter()
            .filter(|c| c.status == CaseStatus::Flaky)
            .map(|c| c.id.clone())
            .collect()
    } else {
        Vec::new()
    };
    let (pass_rate, soft_fail_rate, error_rate) = if quarantined.is_empty() {
        (
            summary.pass_rate,
            summary.soft_fail_rate,
            summary.error_rate,
        )
    } else {
        let gated: Vec<&CaseResult> = cases
            .iter()
            .filter(|c| c.status != CaseStatus::Flaky)
            .collect();
        let count = |f: &dyn Fn(&CaseResult) -> bool| gated.iter().filter(|c| f(c)).count();
        (
            rate(count(&|c| c.status.is_pass()), gated.len()),
            rate(count(&|c| c.status == CaseStatus::SoftFailed), gated.len()),
            rate(count(&|c| c.status == CaseStatus::Errored), gated.len()),
        )
    };
    let limits = [
        ("min_pass_rate", gate.min_pass_rate, pass_rate, true),
        (
            "max_soft_fail_rate",
            gate.max_soft_fail_rate,
            soft_fail_rate,
            false,
        ),
        ("max_error_rate", gate.max_error_rate, error_rate, false),
    ];
    for (rule, limit, actual, is_min) in limits {
        if let Some(limit) = limit {
            let passed = if is_min {
                actual >= limit
            } else {
                actual <= limit
            };
            rules.push(GateRule {
                rule: rule.to_string(),
                limit,
                actual,
                passed,
            });
        }
    }

    let mut critical_failures: Vec<String> = cases
        .iter()
        .filter(|c| matches!(c.status, CaseStatus::Failed | CaseStatus::Errored))
        .filter(|c| {
            gate.critical
                .iter()
                .any(|k| *k == c.id || c.tags.iter().any(|t| t == k))
        })
        .map(|c| c.id.clone())
        .collect();
    critical_failures.sort();
    critical_failures.dedup();

    GateResult {
        passed: rules.iter().all(|r| r.passed) && critical_failures.is_empty(),
        rules,
        critical_failures,
        quarantined,
        uncalibrated: Vec::new(),
    }
}

/// Adds the baseline rule to an evaluated gate: with `max_regressions` set, more regressions
/// than allowed fail the gate; without it, any regression does (a quality gate that lets a
/// pass → fail flip through unnoticed is no gate). Lost cases (passed there, errored here)
/// count like regressions: an agent that crashes must not pass for having failed nothing.
/// Without a baseline nothing changes.
pub fn apply_baseline(gate: &Gate, result: &mut GateResult, comparison: &Comparison) {
    let limit = gate.max_regressions.unwrap_or(0);
    let actual = comparison.gated_losses() as u64;
    let passed = actual <= limit;
    result.rules.push(GateRule {
        rule: "max_regressions".to_string(),
        limit: limit as f64,
        actual: actual as f64,
        passed,
    });
    result.passed &= passed;
}

/// The process exit code for a finished run: an incomplete run is never a pass, whatever the
/// partial numbers say.
pub fn exit_code(report: &RunReport) -> u8 {
    if report.incomplete.is_some() {
        exit::RUN_INCOMPLETE
    } else if report.gate.passed {
        exit::GATE_PASSED
    } else {
        exit::GATE_FAILED
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trajectory::{EndReason, Trajectory, Usage};

    fn case(id: &str, status: CaseStatus, tags: &[&str]) -> CaseResult {
        CaseResult {
            id: id.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            status,
            score: None,
            checks: vec![],
            output: String::new(),
            end: EndReason::Completed,
            error: None,
            usage: Usage::default(),
            cost_usd: None,
            steps: 0,
            tools: vec![],
            repeats: None,
            repeat: 0,
            trajectory: Trajectory::default(),
        }
    }

    fn summary(pass: f64, soft: f64, error: f64) -> Summary {
        Summary {
            pass_rate: pass,
            soft_fail_rate: soft,
            error_rate: error,
            ..Summary::default()
        }
    }

    fn rule(name: &str, limit: f64, actual: f64, passed: bool) -> GateRule {
        GateRule {
            rule: name.into(),
            limit,
            actual,
            passed,
        }
    }

    #[test]
    fn rules_follow_configured_limits_in_fixed_order() {
        let all = Gate {
            min_pass_rate: Some(0.8),
            max_soft_fail_rate: Some(0.2),
            max_error_rate: Some(0.1),
            critical: vec![],
            ..Gate::default()
        };
        let table: Vec<(&str, Gate, Summary, Vec<GateRule>, bool)> = vec![
            (
                "no limits passes",
                Gate::default(),
                summary(0.0, 1.0, 1.0),
                vec![],
                true,
            ),
            (
                "limits are inclusive",
                all.clone(),
                summary(0.8, 0.2, 0.1),
                vec![
                    rule("min_pass_rate", 0.8, 0.8, true),
                    rule("max_soft_fail_rate", 0.2, 0.2, true),
                    rule("max_error_rate", 0.1, 0.1, true),
                ],
                true,
            ),
            (
                "each side can fail",
                all.clone(),
                summary(0.7999, 0.2001, 0.1001),
                vec![
                    rule("min_pass_rate", 0.8, 0.7999, false),
                    rule("max_soft_fail_rate", 0.2, 0.2001, false),
                    rule("max_error_rate", 0.1, 0.1001, false),
                ],
                false,
            ),
            (
                "only configured rules appear",
                Gate {
                    max_error_rate: Some(0.0),
                    ..Gate::default()
                },
                summary(0.1, 0.5, 0.25),
                vec![rule("max_error_rate", 0.0, 0.25, false)],
                false,
            ),
        ];
        for (name, gate, summary, want_rules, want_passed) in table {
            let got = evaluate(&gate, &summary, &[]);
            assert_eq!(got.rules, want_rules, "{name}");
            assert_eq!(got.passed, want_passed, "{name}");
            assert!(got.critical_failures.is_empty(), "{name}");
        }
    }

    #[test]
    fn critical_tags_and_ids_catch_failed_and_errored_cases_only() {
        use CaseStatus::*;
        let cases = vec![
            case("z-refund", Failed, &["refund-policy"]),
            case("a-refund", Errored, &["refund-policy", "orders"]),
            case("soft-refund", SoftFailed, &["refund-policy"]),
            case("flaky-refund", Flaky, &["refund-policy"]),
            case("named", Failed, &[]),
            case("other", Failed, &["orders"]),
            case("ok", Passed, &["refund-policy"]),
        ];
        let table: Vec<(Vec<&str>, Vec<&str>)> = vec![
            (vec![], vec![]),
            (vec!["refund-policy"], vec!["a-refund", "z-refund"]),
            (vec!["named"], vec!["named"]),
            // A case matching by both tag and id is listed once.
            (vec!["orders", "other"], vec!["a-refund", "other"]),
            (vec!["ok", "unknown"], vec![]),
        ];
        for (critical, want) in table {
            let gate = Gate {
                critical: critical.iter().map(|s| s.to_string()).collect(),
                ..Gate::default()
            };
            let got = evaluate(&gate, &summary(1.0, 0.0, 0.0), &cases);
            assert_eq!(got.critical_failures, want, "{critical:?}");
            assert_eq!(got.passed, want.is_empty(), "{critical:?}");
        }
    }

    #[test]
    fn quarantined_flaky_cases_are_reported_not_gated() {
        let cases = vec![
            case("a", CaseStatus::Passed, &[]),
            case("b", CaseStatus::Flaky, &[]),
            case("c", CaseStatus::Flaky, &[]),
        ];
        let summary = Summary {
            total: 3,
            passed: 1,
            flaky: 2,
            pass_rate: 0.3333,
            ..Summary::default()
        };
        let mut gate = Gate {
            min_pass_rate: Some(0.9),
            ..Gate::default()
        };
        assert!(
            !evaluate(&gate, &summary, &cases).passed,
            "flaky cases count as not passing"
        );
        gate.quarantine_flaky = true;
        let r = evaluate(&gate, &summary, &cases);
        assert!(r.passed, "{r:?}");
        assert_eq!(r.rules[0].actual, 1.0);
        assert_eq!(r.quarantined, vec!["b".to_string(), "c".to_string()]);
    }

    #[test]
    fn baseline_rule_defaults_to_zero_regressions() {
        use crate::report::compare::StatusChange;
        let one = Comparison {
            regressions: vec![StatusChange {
                id: "a".into(),
                before: CaseStatus::Passed,
                after: CaseStatus::Failed,
                checks: vec![],
            }],
            ..Default::default()
        };
        let table = [
            (None, Comparison::default(), true),
            (None, one.clone(), false),
            (Some(1), one.clone(), true),
        ];
        for (limit, cmp, want) in table {
            let gate = Gate {
                max_regressions: limit,
                ..Gate::default()
            };
            let mut result = GateResult {
                passed: true,
                ..GateResult::default()
            };
            apply_baseline(&gate, &mut result, &cmp);
            assert_eq!(result.passed, want, "{limit:?} {}", cmp.regressions.len());
            assert_eq!(result.rules[0].rule, "max_regressions");
        }
    }

    #[test]
    fn exit_code_prefers_incomplete_then_gate() {
        let report = |incomplete: Option<&str>, passed: bool| RunReport {
            version: 1,
            suite: "s".into(),
            description: None,
            target: "t".into(),
            incomplete: incomplete.map(String::from),
            summary: Summary::default(),
            gate: GateResult {
                passed,
                ..GateResult::default()
            },
            baseline: None,
            cases: vec![],
        };
        let table = [
            (None, true, exit::GATE_PASSED),
            (None, false, exit::GATE_FAILED),
            (Some("cancelled"), true, exit::RUN_INCOMPLETE),
            (Some("cancelled"), false, exit::RUN_INCOMPLETE),
        ];
        for (incomplete, passed, want) in table {
            assert_eq!(exit_code(&report(incomplete, passed)), want);
        }
    }
}
