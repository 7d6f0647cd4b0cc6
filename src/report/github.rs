//! GitHub Actions integration: workflow-command annotations for failed cases, and the job
//! summary. Pure rendering; the CLI decides when to emit (`GITHUB_ACTIONS`,
//! `GITHUB_STEP_SUMMARY`).

use std::sync::LazyLock;

use regex::Regex;

use crate::results::run_report::RunReport;
use crate::verdict::{CaseStatus, Outcome};

/// One `::error` line per failed or errored case, and one `::warning` per flaky case, for the
/// Actions log and the PR's checks tab.
pub(crate) fn render_annotations(report: &RunReport) -> String {
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

/// Terminal escape sequences (CSI such as colours and cursor moves, OSC such as titles and
/// hyperlinks) an agent's output may carry: the Actions log would interpret them.
static ESCAPE_SEQUENCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?")
        .expect("static regex")
});

/// `s` without escape sequences or control characters other than newline and tab.
fn strip_controls(s: &str) -> String {
    ESCAPE_SEQUENCE
        .replace_all(s, "")
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
        .collect()
}

/// Workflow-command message escaping, as the Actions runner documents it, after dropping
/// terminal controls.
fn escape_data(s: &str) -> String {
    strip_controls(s)
        .replace('%', "%25")
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
    use crate::results::fixture::sample_report;

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

    #[test]
    fn terminal_escapes_and_control_characters_are_dropped() {
        let raw = "\x1b[31mred\x1b[0m \x1b]0;title\x07\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ bell\x07 nul\0 c1\u{9b}2J";
        assert_eq!(escape_data(raw), "red link bell nul c12J");
        assert_eq!(escape_data("tab\tok\nnext"), "tab\tok%0Anext");
    }
}
