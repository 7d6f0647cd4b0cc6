//! `build_report`: a run's reduced cases in, the deterministic `RunReport` out.

use crate::drift::Drift;
use crate::gate::Policy;
use crate::results::case_result::CaseResult;
use crate::results::compare::Comparison;
use crate::results::run_report::{RunReport, REPORT_VERSION};
use crate::results::summary::{summarize, Summary};
use crate::verdict::round;

/// Who ran: the identity part of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportHeader {
    pub suite: String,
    pub description: Option<String>,
    /// E.g. `harness mock:support`.
    pub target: String,
}

/// A run's cases sorted by id and rounded, with their summary: what a baseline comparison
/// and the gate read, and what the report holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub summary: Summary,
    pub cases: Vec<CaseResult>,
    /// Drift over the run history, when `--history` tested it.
    pub drift: Option<Drift>,
}

impl Scored {
    /// Sorts, rounds and counts. The cases may arrive in any order (they finish
    /// concurrently); the result does not depend on it.
    pub fn new(mut cases: Vec<CaseResult>) -> Scored {
        // `eval` hands them over sorted already (repeats are reduced in id order); skipping the
        // sort then spares a scratch copy of every result.
        if !cases.is_sorted_by(|a, b| a.id <= b.id) {
            cases.sort_by(|a, b| a.id.cmp(&b.id));
        }
        for case in &mut cases {
            case.score = case.score.map(round);
            for verdict in &mut case.checks {
                verdict.score = verdict.score.map(round);
            }
        }
        Scored {
            summary: summarize(&cases),
            cases,
            drift: None,
        }
    }
}

/// The report: the gate's verdict is given here, once, on the cases and the baseline
/// comparison the report holds.
pub fn build_report(
    header: ReportHeader,
    gate: Policy<'_>,
    scored: Scored,
    baseline: Option<Comparison>,
    incomplete: Option<String>,
) -> RunReport {
    let gate = gate.verdict_with_drift(
        &scored.cases,
        baseline.as_ref().map(Comparison::gated_losses),
        scored
            .drift
            .as_ref()
            .map(|d| d.alerts.len() + d.judges.len()),
    );
    RunReport {
        version: REPORT_VERSION,
        suite: header.suite,
        description: header.description,
        target: header.target,
        incomplete,
        summary: scored.summary,
        gate,
        baseline,
        drift: scored.drift,
        cases: scored.cases,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::Gate;
    use crate::trajectory::{EndReason, Usage};
    use crate::verdict::{CaseStatus, Outcome, Verdict};

    fn case(id: &str, status: CaseStatus, score: Option<f64>, tags: &[&str]) -> CaseResult {
        CaseResult {
            id: id.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            status,
            score,
            checks: vec![Verdict {
                check: "c".into(),
                outcome: Outcome::Pass,
                score: score.map(|s| s / 3.0),
                weight: 1.0,
                reason: String::new(),
            }],
            output: String::new(),
            end: EndReason::Completed,
            error: None,
            usage: Usage {
                input_tokens: 10,
                output_tokens: 1,
            },
            cost_usd: None,
            steps: 1,
            tools: vec![],
            latency_ms: None,
            duration_ms: None,
            repeats: None,
            repeat: 0,
        }
    }

    fn report(gate: &Gate, cases: Vec<CaseResult>, incomplete: Option<String>) -> RunReport {
        let gate = Policy::Suite {
            gate,
            uncalibrated: vec![],
        };
        build_report(header(), gate, Scored::new(cases), None, incomplete)
    }

    fn header() -> ReportHeader {
        ReportHeader {
            suite: "s".into(),
            description: None,
            target: "harness mock:s".into(),
        }
    }

    #[test]
    fn sorts_rounds_and_counts() {
        use CaseStatus::*;
        struct Row {
            name: &'static str,
            cases: Vec<CaseResult>,
            ids: Vec<&'static str>,
            counts: [usize; 6],
            rates: [f64; 3],
            mean: Option<f64>,
        }
        let table = vec![
            Row {
                name: "empty run",
                cases: vec![],
                ids: vec![],
                counts: [0; 6],
                rates: [0.0; 3],
                mean: None,
            },
            Row {
                name: "one of each",
                cases: vec![
                    case("e", Flaky, None, &[]),
                    case("d", Errored, None, &[]),
                    case("c", Failed, Some(0.0), &[]),
                    case("b", SoftFailed, Some(2.0 / 3.0), &[]),
                    case("a", Passed, Some(1.0), &[]),
                ],
                ids: vec!["a", "b", "c", "d", "e"],
                counts: [5, 1, 1, 1, 1, 1],
                rates: [0.4, 0.2, 0.2],
                mean: Some(0.5556),
            },
            Row {
                name: "thirds round to four places",
                cases: vec![
                    case("y", Passed, Some(1.0 / 3.0), &[]),
                    case("x", Failed, None, &[]),
                    case("z", SoftFailed, Some(1.0 / 3.0), &[]),
                ],
                ids: vec!["x", "y", "z"],
                counts: [3, 1, 1, 1, 0, 0],
                rates: [0.6667, 0.3333, 0.0],
                mean: Some(0.3333),
            },
        ];
        for row in table {
            let n = row.cases.len() as u64;
            let r = report(&Gate::default(), row.cases, None);
            let s = &r.summary;
            let name = row.name;
            let ids: Vec<&str> = r.cases.iter().map(|c| c.id.as_str()).collect();
            assert_eq!(ids, row.ids, "{name}");
            let counts = [
                s.total,
                s.passed,
                s.soft_failed,
                s.failed,
                s.errored,
                s.flaky,
            ];
            assert_eq!(counts, row.counts, "{name}");
            assert_eq!(
                [s.pass_rate, s.soft_fail_rate, s.error_rate],
                row.rates,
                "{name}"
            );
            assert_eq!(s.mean_score, row.mean, "{name}");
            assert_eq!(s.usage.input_tokens, 10 * n, "{name}");
            assert_eq!(s.usage.output_tokens, n, "{name}");
            for c in &r.cases {
                for x in c
                    .score
                    .iter()
                    .chain(c.checks.iter().filter_map(|v| v.score.as_ref()))
                {
                    assert_eq!(*x, round(*x), "{name}: {} not rounded", c.id);
                }
            }
        }
    }

    #[test]
    fn by_tag_counts_passes_per_tag() {
        use CaseStatus::*;
        let cases = vec![
            case("a", Passed, None, &["orders", "refunds"]),
            case("b", SoftFailed, None, &["refunds"]),
            case("c", Failed, None, &["refunds"]),
        ];
        let r = report(&Gate::default(), cases, None);
        let tags: Vec<(&str, usize, usize, f64)> = r
            .summary
            .by_tag
            .iter()
            .map(|(k, t)| (k.as_str(), t.total, t.passed, t.pass_rate))
            .collect();
        assert_eq!(tags, [("orders", 1, 1, 1.0), ("refunds", 3, 2, 0.6667)]);
    }

    #[test]
    fn gate_and_header_are_carried_into_the_report() {
        let gate = Gate {
            min_pass_rate: Some(0.9),
            critical: vec!["c".into()],
            ..Gate::default()
        };
        let cases = vec![
            case("a", CaseStatus::Passed, None, &[]),
            case("c", CaseStatus::Failed, None, &[]),
        ];
        let r = report(&gate, cases, Some("cancelled".into()));
        assert_eq!(r.version, REPORT_VERSION);
        assert_eq!(r.suite, "s");
        assert_eq!(r.incomplete.as_deref(), Some("cancelled"));
        assert!(!r.gate.passed);
        assert_eq!(r.gate.rules.len(), 1);
        assert_eq!(r.gate.rules[0].actual, 0.5);
        assert_eq!(r.gate.critical_failures, ["c"]);
    }

    #[test]
    fn the_gate_judges_the_baseline_the_report_holds() {
        use crate::gate::RuleKind;
        use crate::results::compare::StatusChange;
        let gate = Gate {
            max_regressions: Some(0),
            ..Gate::default()
        };
        let cases = || vec![case("a", CaseStatus::Failed, None, &[])];
        let regressed = Comparison {
            regressions: vec![StatusChange {
                id: "a".into(),
                before: CaseStatus::Passed,
                after: CaseStatus::Failed,
                checks: vec![],
            }],
            ..Comparison::default()
        };
        let build = |baseline: Option<Comparison>| {
            let policy = Policy::Suite {
                gate: &gate,
                uncalibrated: vec!["j".into()],
            };
            build_report(header(), policy, Scored::new(cases()), baseline, None)
        };
        let without = build(None);
        assert!(without.gate.passed && without.gate.rules.is_empty());
        assert_eq!(without.gate.uncalibrated, ["j"]);
        let with = build(Some(regressed.clone()));
        assert!(!with.gate.passed);
        let rule = &with.gate.rules[0];
        assert_eq!((rule.rule, rule.actual), (RuleKind::MaxRegressions, 1.0));
        assert_eq!(with.baseline, Some(regressed));
    }
}
