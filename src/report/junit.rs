//! `render_junit`: `junit.xml`, so CI systems show each case as a test.
//!
//! One `<testsuite>` named after the suite, one `<testcase>` per case (classname = suite name).
//! `failed` and `flaky` → `<failure>`, `errored` → `<error>`, with the failing checks and their
//! reasons; `soft_failed` passes, its soft fails shown in `<system-out>` and a property. No
//! timestamps or durations, so the file is deterministic.

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use crate::report::format;
use crate::report::model::{CaseResult, RunReport};
use crate::verdict::{CaseStatus, Outcome, Verdict};

pub fn render_junit(report: &RunReport) -> String {
    let mut suite = TestSuite::new(report.suite.as_str());
    suite.add_property(Property::new("target", report.target.as_str()));
    suite.add_property(Property::new(
        "pass_rate",
        report.summary.pass_rate.to_string(),
    ));
    suite.add_property(Property::new(
        "gate",
        if report.gate.passed {
            "passed"
        } else {
            "failed"
        },
    ));
    if let Some(why) = &report.incomplete {
        suite.add_property(Property::new("incomplete", why.as_str()));
    }
    for case in &report.cases {
        suite.add_test_case(test_case(&report.suite, case));
    }
    let mut junit = Report::new("gauntlet");
    junit.add_test_suite(suite);
    // quick-junit writes into memory; its only error source is the writer's I/O.
    junit.to_string().expect("junit serializes to memory")
}

fn test_case(suite: &str, case: &CaseResult) -> TestCase {
    let status = match case.status {
        CaseStatus::Passed | CaseStatus::SoftFailed => TestCaseStatus::success(),
        CaseStatus::Failed => non_success(
            NonSuccessKind::Failure,
            "failed",
            format!("failed checks: {}", names(case, Outcome::Fail)),
            case,
        ),
        CaseStatus::Flaky => non_success(
            NonSuccessKind::Failure,
            "flaky",
            "flaky: mixed outcomes across repeats".to_string(),
            case,
        ),
        CaseStatus::Errored => {
            let message = match &case.error {
                Some(e) => e.clone(),
                None => format!("errored checks: {}", names(case, Outcome::Error)),
            };
            non_success(NonSuccessKind::Error, "errored", message, case)
        }
    };
    let mut tc = TestCase::new(case.id.as_str(), status);
    tc.set_classname(suite);
    tc.add_property(Property::new("status", case.status.as_str()));
    if let Some(score) = case.score {
        tc.add_property(Property::new("score", format::score(score)));
    }
    let soft: Vec<&Verdict> = of(case, Outcome::SoftFail).collect();
    if !soft.is_empty() {
        tc.add_property(Property::new(
            "soft_failed_checks",
            names(case, Outcome::SoftFail),
        ));
        let lines: Vec<String> = soft.iter().map(|v| line(v)).collect();
        tc.set_system_out(format!("soft fails:\n{}\n", lines.join("\n")));
    }
    tc
}

fn non_success(
    kind: NonSuccessKind,
    ty: &str,
    message: String,
    case: &CaseResult,
) -> TestCaseStatus {
    let mut status = TestCaseStatus::non_success(kind);
    status.set_type(ty);
    status.set_message(message);
    status.set_description(description(case));
    status
}

/// Every check that did not pass, one a line, then the agent's error and output.
fn description(case: &CaseResult) -> String {
    let mut out: Vec<String> = case
        .checks
        .iter()
        .filter(|v| {
            matches!(
                v.outcome,
                Outcome::Fail | Outcome::Error | Outcome::SoftFail
            )
        })
        .map(line)
        .collect();
    if let Some(e) = &case.error {
        out.push(format!("agent error: {e}"));
    }
    if !case.output.is_empty() {
        out.push(format!("output: {}", case.output));
    }
    out.join("\n")
}

fn line(v: &Verdict) -> String {
    match v.score {
        Some(s) => format!(
            "{}: {} (score {}): {}",
            v.outcome.as_str(),
            v.check,
            format::score(s),
            v.reason
        ),
        None => format!("{}: {}: {}", v.outcome.as_str(), v.check, v.reason),
    }
}

fn of(case: &CaseResult, outcome: Outcome) -> impl Iterator<Item = &Verdict> {
    case.checks.iter().filter(move |v| v.outcome == outcome)
}

fn names(case: &CaseResult, outcome: Outcome) -> String {
    of(case, outcome)
        .map(|v| v.check.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::sample_report;

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render_junit(&sample_report()));
    }

    #[test]
    fn parses_as_junit_with_the_right_counts() {
        let report = sample_report();
        let xml = render_junit(&report);
        let back = Report::deserialize_from_str(&xml).expect("junit.xml parses as XML");
        assert_eq!(back.test_suites.len(), 1);
        let suite = &back.test_suites[0];
        assert_eq!(suite.name.as_str(), "support");
        assert_eq!(suite.tests, 5);
        assert_eq!(suite.failures, 1);
        assert_eq!(suite.errors, 2);
        let kinds: Vec<(&str, Option<NonSuccessKind>)> = suite
            .test_cases
            .iter()
            .map(|tc| {
                let kind = match &tc.status {
                    TestCaseStatus::NonSuccess { kind, .. } => Some(*kind),
                    _ => None,
                };
                (tc.name.as_str(), kind)
            })
            .collect();
        use NonSuccessKind::*;
        assert_eq!(
            kinds,
            [
                ("angry-customer", None),
                ("kb-shipping", Some(Error)),
                ("order-status", None),
                ("provider-down", Some(Error)),
                ("refund-late", Some(Failure)),
            ]
        );
        for tc in &suite.test_cases {
            assert_eq!(tc.classname.as_ref().map(|c| c.as_str()), Some("support"));
            assert!(tc.time.is_none() && tc.timestamp.is_none());
        }
    }

    #[test]
    fn soft_fails_are_visible_on_a_passing_case() {
        let xml = render_junit(&sample_report());
        let back = Report::deserialize_from_str(&xml).expect("parses");
        let angry = back.test_suites[0]
            .test_cases
            .iter()
            .find(|tc| tc.name.as_str() == "angry-customer")
            .expect("case present");
        let out = angry.system_out.as_ref().expect("system-out").as_str();
        assert!(out.contains("judge empathy"), "{out}");
        assert!(angry.properties.iter().any(
            |p| p.name.as_str() == "soft_failed_checks" && p.value.as_str() == "judge empathy"
        ));
    }

    #[test]
    fn failure_message_names_the_failing_check_and_reason() {
        let xml = render_junit(&sample_report());
        assert!(xml.contains("failed checks: tool_not_called issue_refund"));
        assert!(xml.contains("issue_refund was called 1 time"));
    }
}
