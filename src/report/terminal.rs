//! `render_summary`: the final table a run prints to the terminal.
//!
//! `render_summary_in` is a pure function of the report, so it can be snapshotted and printed
//! to stdout (the live progress bar is a reporter: `reporter::progress`). `color: false` means
//! no ANSI escape at all, whatever the environment. The width (`output_width`: `COLUMNS`, else
//! the terminal's) bounds every line: the table arranges its columns to fit, the lines under
//! it wrap.

use comfy_table::{presets, Attribute, Cell, CellAlignment, Color, ContentArrangement, Table};

use crate::report::format::{error_line, pct, rule_value, score};
use crate::results::case_result::CaseResult;
use crate::results::run_report::RunReport;
use crate::verdict::{CaseStatus, Outcome};

/// Longest reason shown in a summary cell; the full text is in the report files.
const REASON_WIDTH: usize = 60;

/// Longest agent error shown (one line, wrapped in its cell): the message and the end of the
/// stderr it quotes.
const ERROR_WIDTH: usize = 160;

/// Case ids listed on a gate line before "and N more".
const MAX_IDS: usize = 20;

/// Narrowest layout: below it a table of four columns cannot be drawn legibly.
const MIN_WIDTH: u16 = 40;

/// Up to this many cases the table lists every case; beyond, only those that did not pass.
const MAX_ROWS_ALL_CASES: usize = 50;
/// At most this many cases that did not pass are listed: a table of thousands of rows is read
/// by no one, and building it costs memory in proportion to the run.
const MAX_ROWS_NOT_PASSED: usize = 200;

/// The width to lay the summary out to: `COLUMNS` when it is a number, else the terminal's
/// when stdout is one, else none (a pipe or a log file has no width: nothing is wrapped).
pub(crate) fn output_width() -> Option<u16> {
    let columns = std::env::var("COLUMNS").ok();
    columns
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|w| *w > 0)
        // comfy-table asks the terminal (crossterm) when stdout is one.
        .or_else(|| Table::new().width())
}

/// `render_summary_in` at the output's width (`output_width`).
pub(crate) fn render_summary(report: &RunReport, color: bool) -> String {
    render_summary_in(report, color, output_width())
}

/// The final summary: a table of cases, the counts, the gate rules and a last line
/// `gate: PASSED` or `gate: FAILED (reasons)`, no line wider than `width` columns when it is
/// given (at least `MIN_WIDTH`). Ends with a newline.
pub(crate) fn render_summary_in(report: &RunReport, color: bool, width: Option<u16>) -> String {
    let width = width.map(|w| w.max(MIN_WIDTH));
    let mut table = Table::new();
    table.load_preset(presets::UTF8_FULL_CONDENSED);
    if let Some(w) = width {
        table.set_content_arrangement(ContentArrangement::Dynamic);
        table.set_width(w);
    }
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
    // The lines under the table, each wrapped to the width, then painted.
    let mut lines: Vec<(String, Option<&str>)> = Vec::new();
    if !all {
        let others = report.cases.len() - report.summary.passed - listed;
        let more = if others > 0 {
            format!(" and {others} more that did not pass")
        } else {
            String::new()
        };
        lines.push((
            format!(
                "({} passed cases{more} not listed; every case is in report.json and index.html)",
                report.summary.passed
            ),
            None,
        ));
    }
    let s = &report.summary;
    let mut counts = format!(
        "{} cases: {} passed, {} soft failed, {} failed, {} errored, {} flaky · pass rate {}",
        s.total,
        s.passed,
        s.soft_failed,
        s.failed,
        s.errored,
        s.flaky,
        pct(s.pass_rate)
    );
    if let Some([lo, hi]) = s.pass_rate_ci {
        counts.push_str(&format!(" (95% CI {}–{})", pct(lo), pct(hi)));
    }
    if let Some(m) = s.mean_score {
        counts.push_str(&format!(" · mean score {}", score(m)));
    }
    counts.push_str(&format!(
        " · tokens {} in / {} out",
        s.usage.input_tokens, s.usage.output_tokens
    ));
    lines.push((counts, None));

    let g = &report.gate;
    let mut marked: Vec<(&str, &str, String)> = Vec::new();
    for rule in &g.rules {
        let (mark, sgr) = if rule.passed {
            ("✓", GREEN)
        } else {
            ("✗", RED)
        };
        marked.push((
            mark,
            sgr,
            format!(
                "{} {} (limit {} {})",
                rule.rule.name(),
                rule_value(rule, rule.actual),
                rule.rule.direction().symbol(),
                rule_value(rule, rule.limit)
            ),
        ));
    }
    if !g.critical_failures.is_empty() {
        marked.push((
            "✗",
            RED,
            format!("critical cases failed: {}", id_list(&g.critical_failures)),
        ));
    }
    if !g.quarantined.is_empty() {
        marked.push((
            "~",
            YELLOW,
            format!(
                "flaky cases quarantined (not gated): {}",
                id_list(&g.quarantined)
            ),
        ));
    }
    if !g.uncalibrated.is_empty() {
        marked.push((
            "~",
            YELLOW,
            format!(
                "judges below their calibration requirement (verdicts only warned): {}",
                id_list(&g.uncalibrated)
            ),
        ));
    }
    for line in &lines {
        push_wrapped(&mut out, &line.0, "", width, line.1, color);
    }
    // The mark alone is coloured; continuation lines line up under the text.
    for (mark, sgr, text) in marked {
        let mut wrapped = wrap(&format!("  {mark} {text}"), "    ", width).into_iter();
        if let Some(first) = wrapped.next() {
            let rest = &first[2 + mark.len()..];
            out.push_str(&format!("  {}{rest}\n", paint(mark, sgr, color)));
        }
        for line in wrapped {
            out.push_str(&line);
            out.push('\n');
        }
    }
    if let Some(why) = &report.incomplete {
        push_wrapped(
            &mut out,
            &format!("run incomplete: {}", clean(why)),
            "  ",
            width,
            Some(YELLOW),
            color,
        );
    }

    let verdict = if g.passed {
        ("gate: PASSED".to_string(), GREEN)
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
            reasons.push(format!("critical: {}", id_list(&g.critical_failures)));
        }
        let text = if reasons.is_empty() {
            "gate: FAILED".to_string()
        } else {
            format!("gate: FAILED ({})", reasons.join("; "))
        };
        (text, RED)
    };
    push_wrapped(&mut out, &verdict.0, "  ", width, Some(verdict.1), color);
    out
}

/// Ids joined by commas, the first `MAX_IDS`, then "and N more": a run with thousands of
/// critical failures names a few, and report.json has them all.
fn id_list(ids: &[String]) -> String {
    let mut line = clean(&ids[..ids.len().min(MAX_IDS)].join(", "));
    if ids.len() > MAX_IDS {
        line.push_str(&format!(" and {} more", ids.len() - MAX_IDS));
    }
    line
}

/// `text` wrapped to `width` (continuation lines start with `indent`), each line painted.
fn push_wrapped(
    out: &mut String,
    text: &str,
    indent: &str,
    width: Option<u16>,
    sgr: Option<&str>,
    color: bool,
) {
    for line in wrap(text, indent, width) {
        match sgr {
            Some(sgr) => out.push_str(&paint(&line, sgr, color)),
            None => out.push_str(&line),
        }
        out.push('\n');
    }
}

/// Greedy word wrap to `width` columns (characters: the text is what `clean` left), with
/// `indent` before each continuation line; a word longer than a line is cut. No width: one
/// line.
fn wrap(text: &str, indent: &str, width: Option<u16>) -> Vec<String> {
    let Some(width) = width.map(usize::from) else {
        return vec![text.to_string()];
    };
    let indent_len = indent.chars().count();
    let mut lines = Vec::new();
    let mut line = String::new();
    // Characters in `line`, and whether it holds a word yet (not only the indent).
    let mut len = 0;
    let mut has_words = false;
    for word in text.split(' ') {
        let mut rest = word;
        loop {
            let n = rest.chars().count();
            let sep = usize::from(has_words);
            if len + sep + n <= width {
                if has_words {
                    line.push(' ');
                }
                line.push_str(rest);
                len += sep + n;
                has_words = true;
                break;
            }
            if !has_words {
                // Longer than a whole line: cut it.
                let room = width.saturating_sub(len).max(1);
                let cut = rest.char_indices().nth(room).map_or(rest.len(), |(i, _)| i);
                line.push_str(&rest[..cut]);
                rest = &rest[cut..];
            }
            lines.push(std::mem::take(&mut line));
            line.push_str(indent);
            len = indent_len;
            has_words = false;
            if rest.is_empty() {
                break;
            }
        }
    }
    if has_words || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// One line per check that did not pass, reasons shortened; or, for an agent that could not
/// run, its error alone.
fn check_summary(case: &CaseResult) -> String {
    let mut lines: Vec<String> = Vec::new();
    if let Some(e) = &case.error {
        if case.status == CaseStatus::Errored {
            // The agent could not run: every check errored with this same error, so it is
            // said once, with the end of the stderr it quotes.
            return format!("agent: {}", error_line(&clean(e), ERROR_WIDTH));
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

    /// The widest line, in characters (the table's box drawing is one column each).
    fn widest(text: &str) -> usize {
        text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
    }

    /// A report with everything that makes a line long: ids, reasons, a crash's stderr, a
    /// long list of critical cases.
    fn wide_report() -> RunReport {
        let mut report = sample_report();
        let down = report
            .cases
            .iter_mut()
            .find(|c| c.id == "provider-down")
            .expect("the errored case");
        let e = format!(
            "the agent exited with code 3; stderr: Traceback (most recent call last):\n{}RuntimeError: boom in the agent",
            "  File \"agent.py\", line 12, in main\n".repeat(20)
        );
        down.error = Some(e.clone());
        down.checks = (0..4)
            .map(|i| crate::verdict::Verdict {
                check: format!("check {i}"),
                outcome: Outcome::Error,
                score: None,
                weight: 1.0,
                reason: format!("the agent did not finish: {e}"),
            })
            .collect();
        report.cases[0].id = format!("a-very-long-case-id-{}", "x".repeat(90));
        report.gate.critical_failures = (0..30).map(|i| format!("critical-case-{i:02}")).collect();
        report.incomplete = Some(format!("cancelled: {}", "because ".repeat(20)));
        report
    }

    #[test]
    fn every_line_fits_the_width() {
        let report = wide_report();
        let unbounded = render_summary_in(&report, false, None);
        assert!(widest(&unbounded) > 150, "the case is wide enough to test");
        for width in [80u16, 100, 132] {
            let text = render_summary_in(&report, false, Some(width));
            assert!(
                widest(&text) <= usize::from(width),
                "{width}: {}\n{text}",
                widest(&text)
            );
            // Nothing is lost by wrapping: the last critical case listed and the verdict are
            // there; the rest are counted.
            assert!(text.contains("critical-case-19 and 10 more"), "{text}");
            assert!(!text.contains("critical-case-20"), "{text}");
            assert!(text.contains("gate: FAILED"), "{text}");
        }
        // Colour codes are not columns: with them stripped, the coloured text fits too.
        let colored = render_summary_in(&report, true, Some(80));
        let sgr = regex::Regex::new("\x1b\\[[0-9;]*m").expect("regex");
        assert!(colored.contains('\x1b'));
        assert!(widest(&sgr.replace_all(&colored, "")) <= 80, "{colored}");
        assert_eq!(
            render_summary_in(&report, false, Some(10)),
            render_summary_in(&report, false, Some(MIN_WIDTH)),
            "no narrower than MIN_WIDTH"
        );
    }

    #[test]
    fn an_agent_that_could_not_run_shows_one_error_line_with_its_stderr_tail() {
        let report = wide_report();
        let text = render_summary_in(&report, false, None);
        let row = text
            .lines()
            .find(|l| l.contains("provider-down"))
            .expect("the errored case's row");
        assert!(
            row.contains("agent: the agent exited with code 3; stderr: …"),
            "{row}"
        );
        assert!(
            row.contains("RuntimeError: boom in the agent"),
            "the tail: {row}"
        );
        assert!(
            !text.contains("check 0") && !text.contains("check 3"),
            "{text}"
        );
        // A case errored by a check (not by the agent) still lists its checks.
        assert!(text.contains("error judge helpfulness"), "{text}");
    }

    #[test]
    fn wrap_breaks_between_words_and_cuts_what_cannot_fit() {
        let w = |text: &str, width: u16| wrap(text, "  ", Some(width));
        assert_eq!(w("one two three", 7), ["one two", "  three"]);
        assert_eq!(w("abcdefghij", 4), ["abcd", "  ef", "  gh", "  ij"]);
        assert_eq!(w("", 4), [""]);
        assert_eq!(wrap("one two three", "", None), ["one two three"]);
        assert_eq!(
            w("ééé ééé", 4),
            ["ééé", "  éé", "  é"],
            "characters, not bytes"
        );
    }

    #[test]
    fn snapshot_plain() {
        insta::assert_snapshot!(render_summary_in(&sample_report(), false, None));
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
