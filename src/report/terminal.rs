//! `render_summary`: the final table a run prints to the terminal.
//!
//! A pure function of the report, so it can be snapshotted and printed to stdout (the live
//! progress bar is a reporter: `reporter::progress`). `color: false` means no ANSI escape at
//! all, whatever the environment.

use comfy_table::{presets, Attribute, Cell, CellAlignment, Color, Table};

use crate::report::format::{pct, rule_value, score};
use crate::results::case_result::CaseResult;
use crate::results::run_report::RunReport;
use crate::verdict::{CaseStatus, Outcome};

/// Longest reason shown in a summary cell; the full text is in the report files.
const REASON_WIDTH: usize = 60;

/// Up to this many cases the table lists every case; beyond, only those that did not pass.
const MAX_ROWS_ALL_CASES: usize = 50;
/// At most this many cases that did not pass are listed: a table of thousands of rows is read
/// by no one, and building it costs memory in proportion to the run.
const MAX_ROWS_NOT_PASSED: usize = 200;

/// The final summary: a table of cases, the counts, the gate rules and a last line
/// `gate: PASSED` or `gate: FAILED (reasons)`. Ends with a newline.
pub(crate) fn render_summary(report: &RunReport, color: bool) -> String {
    let mut table = Table::new();
    table.load_preset(presets::UTF8_FULL_CONDENSED);
    if color {
        // The caller has decided; do not let comfy-table second-guess it from the environment.
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    let header = ["case", "status", "score", "checks"].map(|h| {
        let cell = Cell::new(h);
        if color {
            cell.add_attribute(Attribute::Bold)
        } else {
            cell
        }
    });
    table.set_header(header);
    // A big run lists what needs a look; a thousand "passed" rows would bury it.
    let all = report.cases.len() <= MAX_ROWS_ALL_CASES;
    let shown = report
        .cases
        .iter()
        .filter(|c| all || c.status != CaseStatus::Passed)
        .take(if all { usize::MAX } else { MAX_ROWS_NOT_PASSED });
    let mut listed = 0;
    for case in shown {
        listed += 1;
        let mut status = Cell::new(case.status.as_str());
        if color {
            status = status.fg(status_color(case.status));
        }
        table.add_row(vec![
            Cell::new(clean(&case.id)),
            status,
            Cell::new(case.score.map(score).unwrap_or_default())
                .set_alignment(CellAlignment::Right),
            Cell::new(check_summary(case)),
        ]);
    }

    let mut out = table.to_string();
    out.push('\n');
    if !all {
        let others = report.cases.len() - report.summary.passed - listed;
        let more = if others > 0 {
            format!(" and {others} more that did not pass")
        } else {
            String::new()
        };
        out.push_str(&format!(
            "({} passed cases{more} not listed; every case is in report.json and index.html)\n",
            report.summary.passed
        ));
    }
    let s = &report.summary;
    out.push_str(&format!(
        "{} cases: {} passed, {} soft failed, {} failed, {} errored, {} flaky · pass rate {}",
        s.total,
        s.passed,
        s.soft_failed,
        s.failed,
        s.errored,
        s.flaky,
        pct(s.pass_rate)
    ));
    if let Some([lo, hi]) = s.pass_rate_ci {
        out.push_str(&format!(" (95% CI {}–{})", pct(lo), pct(hi)));
    }
    if let Some(m) = s.mean_score {
        out.push_str(&format!(" · mean score {}", score(m)));
    }
    out.push_str(&format!(
        " · tokens {} in / {} out\n",
        s.usage.input_tokens, s.usage.output_tokens
    ));

    let g = &report.gate;
    for rule in &g.rules {
        let mark = if rule.passed {
            paint("✓", GREEN, color)
        } else {
            paint("✗", RED, color)
        };
        out.push_str(&format!(
            "  {mark} {} {} (limit {} {})\n",
            rule.rule.name(),
            rule_value(rule, rule.actual),
            rule.rule.direction().symbol(),
            rule_value(rule, rule.limit)
        ));
    }
    if !g.critical_failures.is_empty() {
        out.push_str(&format!(
            "  {} critical cases failed: {}\n",
            paint("✗", RED, color),
            clean(&g.critical_failures.join(", "))
        ));
    }
    if !g.quarantined.is_empty() {
        out.push_str(&format!(
            "  {} flaky cases quarantined (not gated): {}\n",
            paint("~", YELLOW, color),
            clean(&g.quarantined.join(", "))
        ));
    }
    if !g.uncalibrated.is_empty() {
        out.push_str(&format!(
            "  {} judges below their calibration requirement (verdicts only warned): {}\n",
            paint("~", YELLOW, color),
            clean(&g.uncalibrated.join(", "))
        ));
    }
    if let Some(why) = &report.incomplete {
        out.push_str(&format!(
            "{}\n",
            paint(&format!("run incomplete: {why}"), YELLOW, color)
        ));
    }

    let verdict = if g.passed {
        paint("gate: PASSED", GREEN, color)
    } else {
        let mut reasons: Vec<String> = g
            .rules
            .iter()
            .filter(|r| !r.passed)
            .map(|r| {
                let broken = r.rule.direction().broken_symbol();
                format!(
                    "{} {} {broken} {}",
                    r.rule.name(),
                    rule_value(r, r.actual),
                    rule_value(r, r.limit)
                )
            })
            .collect();
        if !g.critical_failures.is_empty() {
            reasons.push(format!(
                "critical: {}",
                clean(&g.critical_failures.join(", "))
            ));
        }
        let text = if reasons.is_empty() {
            "gate: FAILED".to_string()
        } else {
            format!("gate: FAILED ({})", reasons.join("; "))
        };
        paint(&text, RED, color)
    };
    out.push_str(&verdict);
    out.push('\n');
    out
}

/// One line per check that did not pass (and the agent's error), reasons shortened.
fn check_summary(case: &CaseResult) -> String {
    let mut lines: Vec<String> = Vec::new();
    if let Some(e) = &case.error {
        if case.status == CaseStatus::Errored {
            lines.push(format!("agent: {}", shorten(e)));
        }
    }
    for v in &case.checks {
        if matches!(
            v.outcome,
            Outcome::Fail | Outcome::Error | Outcome::SoftFail
        ) {
            lines.push(format!(
                "{} {}: {}",
                v.outcome.as_str(),
                v.check,
                shorten(&v.reason)
            ));
        }
    }
    lines.join("\n")
}

/// One line, no control characters (an escape sequence in model output must not reach the
/// terminal), at most `REASON_WIDTH` characters.
fn shorten(s: &str) -> String {
    crate::text::one_line(&clean(s), REASON_WIDTH)
}

/// Drops control characters other than whitespace, which `shorten` folds into spaces.
pub(crate) fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || c.is_whitespace())
        .collect()
}

fn status_color(status: CaseStatus) -> Color {
    match status {
        CaseStatus::Passed => Color::Green,
        CaseStatus::SoftFailed | CaseStatus::Flaky => Color::Yellow,
        CaseStatus::Failed | CaseStatus::Errored => Color::Red,
    }
}

const GREEN: &str = "32";
const YELLOW: &str = "33";
pub(crate) const RED: &str = "31";

/// Wraps text in an SGR colour, or leaves it alone when colour is off.
pub(crate) fn paint(text: &str, sgr: &str, color: bool) -> String {
    if color {
        format!("\x1b[{sgr}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::GateResult;
    use crate::results::fixture::sample_report;

    #[test]
    fn a_big_run_lists_only_the_cases_that_did_not_pass() {
        let mut report = sample_report();
        let passed = report
            .cases
            .iter()
            .find(|c| c.status == CaseStatus::Passed)
            .cloned()
            .unwrap();
        for i in 0..60 {
            let mut c = passed.clone();
            c.id = format!("bulk-{i:02}");
            report.cases.push(c);
        }
        report.summary.passed += 60;
        let text = render_summary(&report, false);
        assert!(!text.contains("bulk-07"), "{text}");
        assert!(text.contains("refund-late"), "failures are listed");
        assert!(text.contains("(61 passed cases not listed;"), "{text}");

        // Thousands of failures: the first ones, and a count of the rest.
        let failed = report
            .cases
            .iter()
            .find(|c| c.id == "refund-late")
            .cloned()
            .unwrap();
        for i in 0..MAX_ROWS_NOT_PASSED + 10 {
            let mut c = failed.clone();
            c.id = format!("zz-{i:04}");
            report.cases.push(c);
        }
        let text = render_summary(&report, false);
        assert!(
            text.contains("refund-late") && text.contains("zz-0100"),
            "{text}"
        );
        assert!(!text.contains("zz-0199"), "{text}");
        // 4 cases of the sample did not pass: 4 + 210 − 200 are not listed.
        assert!(
            text.contains("(61 passed cases and 14 more that did not pass not listed;"),
            "{text}"
        );
        assert!(
            render_summary(&sample_report(), false).contains("order-status"),
            "small runs list all"
        );
    }

    #[test]
    fn snapshot_plain() {
        insta::assert_snapshot!(render_summary(&sample_report(), false));
    }

    #[test]
    fn plain_has_no_escape_codes_and_color_does() {
        let report = sample_report();
        assert!(!render_summary(&report, false).contains('\x1b'));
        let colored = render_summary(&report, true);
        assert!(colored.contains('\x1b'));
        assert_eq!(colored, render_summary(&report, true), "deterministic");
    }

    #[test]
    fn last_line_is_the_gate_verdict() {
        let mut report = sample_report();
        let text = render_summary(&report, false);
        assert_eq!(
            text.lines().last(),
            Some("gate: FAILED (min_pass_rate 40.0% < 80.0%; critical: refund-late)")
        );
        report.gate = GateResult {
            passed: true,
            ..GateResult::default()
        };
        assert_eq!(
            render_summary(&report, false).lines().last(),
            Some("gate: PASSED")
        );
    }

    #[test]
    fn shorten_keeps_one_line_and_a_bounded_width() {
        let table = [
            ("short", "short".to_string()),
            ("a\nb  c", "a b c".to_string()),
            ("red \x1b[31mtext\x07", "red [31mtext".to_string()),
            (
                &*"x".repeat(80),
                format!("{}…", "x".repeat(REASON_WIDTH - 1)),
            ),
        ];
        for (input, want) in table {
            assert_eq!(shorten(input), want);
        }
    }
}
