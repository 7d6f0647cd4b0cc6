//! `render_junit`: `junit.xml`, so CI systems show each case as a test.
//!
//! One `<testsuite>` named after the suite, one `<testcase>` per case. A case's `classname` is
//! `SUITE.TAG` for its first tag as the suite lists it (`SUITE` when it has none), so CI
//! dashboards group cases by tag. `failed` and `flaky` → `<failure>`, `errored` → `<error>`,
//! with the failing checks and their reasons; `soft_failed` passes, its soft fails shown in
//! `<system-out>` and a property.
//!
//! `time` (seconds): on a test case, the wall time gauntlet spent on it (agent and checks), or
//! when that is unknown (a merged report) the agent's latency; on the suite and the report, the
//! run's wall time (`meta.json`'s `duration_ms`). These are the only values that differ between
//! two identical runs; there is no timestamp.

use std::io::{self, Write};
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use crate::report::format;
use crate::results::case_result::CaseResult;
use crate::results::run_report::RunReport;
use crate::verdict::{CaseStatus, Outcome, Verdict};

#[cfg(test)]
pub(crate) fn render_junit(report: &RunReport, time: Option<Duration>) -> String {
    let mut bytes = Vec::new();
    // Writing to a Vec has no I/O to fail, and the splicing below always finds its markers in
    // quick-junit's own output: an invariant, not a runtime condition.
    write_junit(&mut bytes, report, time).expect("junit serializes to memory");
    String::from_utf8(bytes).expect("junit of utf-8 strings is utf-8")
}

/// Test cases serialized per piece when streaming.
const CHUNK: usize = 512;
/// How quick-junit closes the (only) test suite: the point where test cases are spliced in.
const SUITE_CLOSE: &str = "\n    </testsuite>";

/// `render_junit`, streamed into `w`.
///
/// quick-junit serializes only a whole `Report` held in memory (for a big run, a second copy of
/// every case). So the suite is serialized once with its counts but no test case, and the test
/// cases a chunk at a time inside a throwaway suite at the same depth; each chunk's
/// `<testcase>` elements are spliced in where the suite closes. The bytes are exactly those of
/// one whole serialization (a test holds this against quick-junit).
pub(crate) fn write_junit(
    w: &mut dyn Write,
    report: &RunReport,
    time: Option<Duration>,
) -> io::Result<()> {
    let junit = shell(report, time);
    let shell = serialize(&junit)?;
    let close = shell.rfind(SUITE_CLOSE).ok_or_else(unexpected)?;
    w.write_all(&shell.as_bytes()[..close])?;
    for chunk in report.cases.chunks(CHUNK) {
        let mut part = TestSuite::new("chunk");
        for case in chunk {
            part.add_test_case(test_case(&report.suite, case));
        }
        let mut piece = Report::new("chunk");
        piece.add_test_suite(part);
        let text = serialize(&piece)?;
        // From the end of the throwaway suite's start tag (names and counts hold no `>`) to
        // where it closes.
        let start = text
            .find("<testsuite ")
            .and_then(|at| text[at..].find('>').map(|end| at + end + 1))
            .ok_or_else(unexpected)?;
        let end = text.rfind(SUITE_CLOSE).ok_or_else(unexpected)?;
        w.write_all(&text.as_bytes()[start..end])?;
    }
    w.write_all(&shell.as_bytes()[close..])
}

/// The report and its suite, with their counts, properties and `time` (the run's wall time)
/// but no test case.
fn shell(report: &RunReport, time: Option<Duration>) -> Report {
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
        suite.tests += 1;
        match kind(case.status) {
            Some(NonSuccessKind::Failure) => suite.failures += 1,
            Some(NonSuccessKind::Error) => suite.errors += 1,
            None => {}
        }
    }
    let mut junit = Report::new("gauntlet");
    if let Some(t) = time {
        suite.set_time(t);
        junit.set_time(t);
    }
    junit.add_test_suite(suite);
    junit
}

fn serialize(report: &Report) -> io::Result<String> {
    report.to_string().map_err(io::Error::other)
}

fn unexpected() -> io::Error {
    io::Error::other("quick-junit output without a test suite")
}

/// `SUITE.TAG` for the case's first tag, `SUITE` for an untagged case.
fn classname(suite: &str, case: &CaseResult) -> String {
    match case.tags.first() {
        Some(tag) => format!("{suite}.{tag}"),
        None => suite.to_string(),
    }
}

/// How a case status reads in JUnit: `None` is a success.
fn kind(status: CaseStatus) -> Option<NonSuccessKind> {
    match status {
        CaseStatus::Passed | CaseStatus::SoftFailed => None,
        CaseStatus::Failed | CaseStatus::Flaky => Some(NonSuccessKind::Failure),
        CaseStatus::Errored => Some(NonSuccessKind::Error),
    }
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
    tc.set_classname(classname(suite, case));
    if let Some(ms) = case.duration_ms.or(case.latency_ms) {
        tc.set_time(Duration::from_millis(ms));
    }
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
    use crate::results::fixture::sample_report;

    #[test]
    fn snapshot() {
        let run = Some(Duration::from_millis(1234));
        insta::assert_snapshot!(render_junit(&sample_report(), run));
    }

    /// What `write_junit` splices together must be one whole quick-junit serialization.
    fn whole(report: &RunReport, time: Option<Duration>) -> String {
        let mut junit = shell(report, time);
        let suite = &mut junit.test_suites[0];
        for case in &report.cases {
            suite.add_test_case(test_case(&report.suite, case));
        }
        // `add_test_case` counts the cases again.
        suite.tests = report.cases.len();
        suite.failures = report
            .cases
            .iter()
            .filter(|c| kind(c.status) == Some(NonSuccessKind::Failure))
            .count();
        suite.errors = report
            .cases
            .iter()
            .filter(|c| kind(c.status) == Some(NonSuccessKind::Error))
            .count();
        junit.to_string().expect("serializes")
    }

    #[test]
    fn streamed_in_chunks_equals_one_whole_serialization() {
        let sample = sample_report();
        let mut report = sample.clone();
        report.incomplete = Some("interrupted <early> & \"soon\"".into());
        // More than two chunks, with every status mixed in.
        report.cases = (0..CHUNK * 2 + 7)
            .map(|i| {
                let mut c = sample.cases[i % sample.cases.len()].clone();
                c.id = format!("{i:05}-{}", c.id);
                c
            })
            .collect();
        let mut empty = sample.clone();
        empty.cases.clear();
        report.cases[3].duration_ms = Some(1500);
        report.cases[4].latency_ms = Some(20);
        for r in [&sample, &report, &empty] {
            for time in [None, Some(Duration::from_millis(2345))] {
                assert_eq!(
                    render_junit(r, time),
                    whole(r, time),
                    "{} cases",
                    r.cases.len()
                );
            }
        }
    }

    #[test]
    fn parses_as_junit_with_the_right_counts() {
        let report = sample_report();
        let xml = render_junit(&report, Some(Duration::from_millis(4500)));
        let back = Report::deserialize_from_str(&xml).expect("junit.xml parses as XML");
        assert_eq!(back.time, Some(Duration::from_millis(4500)));
        assert_eq!(back.test_suites.len(), 1);
        let suite = &back.test_suites[0];
        assert_eq!(suite.name.as_str(), "support");
        assert_eq!(suite.tests, 5);
        assert_eq!(suite.failures, 1);
        assert_eq!(suite.errors, 2);
        assert_eq!(suite.time, Some(Duration::from_millis(4500)));
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
        let classes: Vec<&str> = suite
            .test_cases
            .iter()
            .map(|tc| tc.classname.as_ref().map_or("", |c| c.as_str()))
            .collect();
        assert_eq!(
            classes,
            [
                "support.tone",
                "support.kb",
                "support.orders",
                "support.orders",
                "support.refund-policy",
            ],
            "the first tag"
        );
        // The fixture's runs were not timed: each case's time is its agent's latency.
        let times: Vec<Option<Duration>> = suite.test_cases.iter().map(|tc| tc.time).collect();
        let ms = |m| Some(Duration::from_millis(m));
        assert_eq!(times, [ms(27), ms(27), ms(27), None, ms(42)]);
        assert!(suite.test_cases.iter().all(|tc| tc.timestamp.is_none()));
        let mut untagged = report.clone();
        untagged.cases[0].tags.clear();
        untagged.cases[0].duration_ms = Some(2500);
        let xml = render_junit(&untagged, None);
        let back = Report::deserialize_from_str(&xml).expect("parses");
        let tc = &back.test_suites[0].test_cases[0];
        assert_eq!(tc.classname.as_ref().map(|c| c.as_str()), Some("support"));
        assert_eq!(tc.time, ms(2500), "the duration before the latency");
        assert!(back.test_suites[0].time.is_none());
    }

    #[test]
    fn soft_fails_are_visible_on_a_passing_case() {
        let xml = render_junit(&sample_report(), None);
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
        let xml = render_junit(&sample_report(), None);
        assert!(xml.contains("failed checks: tool_not_called issue_refund"));
        assert!(xml.contains("issue_refund was called 1 time"));
    }
}
