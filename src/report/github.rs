//! GitHub Actions integration: workflow-command annotations for failed cases, and the job
//! summary. Pure rendering; the CLI decides when to emit (`GITHUB_ACTIONS`,
//! `GITHUB_STEP_SUMMARY`).

use crate::report::model::RunReport;
use crate::verdict::{CaseStatus, Outcome};

/// One `::error` line per failed or errored case, and one `::warning` per flaky case, for the
/// Actions log and the PR's checks tab.
pub fn render_annotations(report: &RunReport) -> String {
    let mut out = String::new();
    for case in &report.cases {
        let level = match case.status {
            CaseStatus::Failed | CaseStatus::Errored => "error",
            CaseStatus::Flaky => "warning",
            CaseStatus::Passed | CaseStatus::SoftFailed => continue,
        };
        let reasons: Vec<String> = case
            .checks
            .iter()
            .filter(|v| matches!(v.outcome, Outcome::Fail | Outcome::Error))
            .map(|v| format!("{}: {}", v.check, v.reason))
            .chain(case.error.iter().map(|e| format!("agent: {e}")))
            .collect();
        let title = format!(
            "gauntlet {}/{} {}",
            report.suite,
            case.id,
            case.status.as_str()
        );
        out.push_str(&format!(
            "::{level} title={}::{}\n",
            escape_property(&title),
            escape_data(&reasons.join("\n"))
        ));
    }
    out
}

/// Workflow-command message escaping, as the Actions runner documents it.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Property values escape `:` and `,` as well.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::sample_report;

    #[test]
    fn annotations_for_failed_and_errored_cases_only() {
        let text = render_annotations(&sample_report());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(
            lines
                .iter()
                .all(|l| l.starts_with("::error title=gauntlet support/")),
            "{text}"
        );
        assert!(
            text.contains("refund-late failed::tool_not_called issue_refund"),
            "{text}"
        );
        assert!(
            !text.contains("angry-customer"),
            "soft fails are not annotated"
        );
    }

    #[test]
    fn escaping_keeps_one_command_per_line() {
        assert_eq!(escape_data("50% a\nb"), "50%25 a%0Ab");
        assert_eq!(escape_property("a: b, c"), "a%3A b%2C c");
    }
}
