//! `render_markdown`: `summary.md`, for a PR comment or `$GITHUB_STEP_SUMMARY`.
//!
//! Reading order: the gate verdict, the numbers, the gate rules, what failed and why, the
//! warnings (soft fails), then per-tag figures. Text from checks and agents is escaped so a
//! model's output cannot break a table or inject HTML into the comment.

use std::fmt::Write;
use std::io;

use crate::report::format::{pct, rule_value, score};
use crate::results::case_result::CaseResult;
use crate::results::run_report::RunReport;
use crate::verdict::{CaseStatus, Outcome, Verdict};

#[cfg(test)]
pub(crate) fn render_markdown(report: &RunReport) -> String {
    let mut out = Vec::new();
    // A Vec does no I/O: nothing here can fail.
    write_markdown(&mut out, report).expect("markdown renders to memory");
    String::from_utf8(out).expect("markdown of utf-8 strings is utf-8")
}

/// Text kept before it is written out: the lists of failures and warnings grow with the run.
const SPILL_AT: usize = 1 << 16;

/// `render_markdown`, streamed into `w`.
pub(crate) fn write_markdown(w: &mut dyn io::Write, report: &RunReport) -> io::Result<()> {
    let mut out = String::new();
    headline(&mut out, report);
    counts(&mut out, report);
    gate(&mut out, report);
    if let Some(cmp) = &report.baseline {
        out.push_str(&crate::report::comparison_render::render_markdown(cmp));
    }
    if let Some(drift) = &report.drift {
        out.push_str(&crate::report::drift_render::render_markdown(drift));
    }
    failures(&mut out, report, w)?;
    warnings(&mut out, report, w)?;
    by_tag(&mut out, report);
    w.write_all(out.as_bytes())
}

/// Writes out what `out` holds once it is big.
fn spill(out: &mut String, w: &mut dyn io::Write) -> io::Result<()> {
    if out.len() >= SPILL_AT {
        w.write_all(out.as_bytes())?;
        out.clear();
    }
    Ok(())
}

fn headline(out: &mut String, r: &RunReport) {
    let (icon, verdict) = if r.gate.passed {
        ("✅", "gate passed")
    } else {
        ("❌", "gate failed")
    };
    match &r.incomplete {
        Some(_) => {
            let _ = writeln!(out, "## ⚠️ {}: run incomplete, {verdict}", md(&r.suite));
        }
        None => {
            let _ = writeln!(out, "## {icon} {}: {verdict}", md(&r.suite));
        }
    }
    out.push('\n');
    if let Some(d) = &r.description {
        let _ = writeln!(out, "{}\n", md(d));
    }
    if let Some(why) = &r.incomplete {
        let _ = writeln!(
            out,
            "> **Run incomplete:** {}. Only the cases that finished are counted.\n",
            md(why)
        );
    }
    let u = &r.summary.usage;
    let _ = writeln!(
        out,
        "Target: {} · tokens: {} in / {} out\n",
        code(&r.target),
        u.input_tokens,
        u.output_tokens
    );
}

fn counts(out: &mut String, r: &RunReport) {
    let s = &r.summary;
    out.push_str(
        "| cases | passed | soft failed | failed | errored | flaky | pass rate | soft-fail rate | error rate | mean score |\n",
    );
    out.push_str("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
        s.total,
        s.passed,
        s.soft_failed,
        s.failed,
        s.errored,
        s.flaky,
        pct(s.pass_rate),
        pct(s.soft_fail_rate),
        pct(s.error_rate),
        opt_score(s.mean_score),
    );
}

fn gate(out: &mut String, r: &RunReport) {
    let g = &r.gate;
    out.push_str("### Gate\n\n");
    if g.rules.is_empty() && g.critical_failures.is_empty() {
        out.push_str("No gate rules configured.\n\n");
        return;
    }
    if !g.rules.is_empty() {
        out.push_str("| rule | limit | actual | |\n|---|---:|---:|:---:|\n");
        for rule in &g.rules {
            let cmp = rule.rule.direction().symbol();
            let _ = writeln!(
                out,
                "| {} | {cmp} {} | {} | {} |",
                md(rule.rule.name()),
                rule_value(rule, rule.limit),
                rule_value(rule, rule.actual),
                tick(rule.passed)
            );
        }
        out.push('\n');
    }
    if !g.critical_failures.is_empty() {
        let ids: Vec<String> = g.critical_failures.iter().map(|id| md(id)).collect();
        let _ = writeln!(out, "❌ Critical cases failed: {}\n", ids.join(", "));
    }
    if !g.quarantined.is_empty() {
        let ids: Vec<String> = g.quarantined.iter().map(|id| md(id)).collect();
        let _ = writeln!(
            out,
            "⚠️ Flaky cases quarantined (not gated): {}\n",
            ids.join(", ")
        );
    }
    if !g.uncalibrated.is_empty() {
        let ids: Vec<String> = g.uncalibrated.iter().map(|id| md(id)).collect();
        let _ = writeln!(
            out,
            "⚠️ Judges below their calibration requirement (verdicts only warned): {}\n",
            ids.join(", ")
        );
    }
}

fn failures(out: &mut String, r: &RunReport, w: &mut dyn io::Write) -> io::Result<()> {
    let failing: Vec<&CaseResult> = r.cases.iter().filter(|c| !c.status.is_pass()).collect();
    if failing.is_empty() {
        return Ok(());
    }
    let _ = writeln!(out, "### Failures ({})\n", failing.len());
    for case in failing {
        let icon = match case.status {
            CaseStatus::Errored => "⛔",
            CaseStatus::Flaky => "🔀",
            _ => "❌",
        };
        let shown = case
            .score
            .map(|s| format!(", score {}", score(s)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "#### {icon} {}: {}{shown}\n",
            md(&case.id),
            case.status.as_str()
        );
        let mut facts = Vec::new();
        if !case.tags.is_empty() {
            facts.push(format!("tags: {}", md(&case.tags.join(", "))));
        }
        if !case.tools.is_empty() {
            facts.push(format!("tools: {}", md(&case.tools.join(" → "))));
        }
        if !facts.is_empty() {
            let _ = writeln!(out, "{}\n", facts.join(" · "));
        }
        if let Some(e) = &case.error {
            let _ = writeln!(out, "Agent error: {}\n", md(e));
        }
        let bad: Vec<&Verdict> = case.checks.iter().filter(|v| not_pass(v)).collect();
        if !bad.is_empty() {
            out.push_str("| check | outcome | score | reason |\n|---|---|---:|---|\n");
            for v in bad {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    md(&v.check),
                    v.outcome.as_str(),
                    opt_score(v.score),
                    md(&v.reason)
                );
            }
            out.push('\n');
        }
        spill(out, w)?;
    }
    Ok(())
}

fn warnings(out: &mut String, r: &RunReport, w: &mut dyn io::Write) -> io::Result<()> {
    let soft: Vec<&CaseResult> = r
        .cases
        .iter()
        .filter(|c| c.status == CaseStatus::SoftFailed)
        .collect();
    if soft.is_empty() {
        return Ok(());
    }
    let _ = writeln!(out, "### Warnings: soft fails ({})\n", soft.len());
    for case in soft {
        for v in case
            .checks
            .iter()
            .filter(|v| v.outcome == Outcome::SoftFail)
        {
            let shown = v
                .score
                .map(|s| format!(" (score {})", score(s)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "- ⚠️ {}: {}{shown}: {}",
                md(&case.id),
                md(&v.check),
                md(&v.reason)
            );
        }
        spill(out, w)?;
    }
    out.push('\n');
    Ok(())
}

fn by_tag(out: &mut String, r: &RunReport) {
    if r.summary.by_tag.is_empty() {
        return;
    }
    out.push_str("### By tag\n\n| tag | cases | passed | pass rate |\n|---|---:|---:|---:|\n");
    for (tag, t) in &r.summary.by_tag {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            md(tag),
            t.total,
            t.passed,
            pct(t.pass_rate)
        );
    }
    out.push('\n');
}

fn not_pass(v: &Verdict) -> bool {
    matches!(
        v.outcome,
        Outcome::Fail | Outcome::Error | Outcome::SoftFail
    )
}

fn tick(passed: bool) -> &'static str {
    if passed {
        "✅"
    } else {
        "❌"
    }
}

fn opt_score(s: Option<f64>) -> String {
    s.map(score).unwrap_or_else(|| "–".into())
}

/// Escapes text for a table cell or a line: HTML-significant characters become entities (the
/// text may be model output), `|` is escaped so it cannot end a cell, and line breaks become
/// `<br>` so a multi-line reason stays in its row.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("\\|"),
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push_str("<br>");
                }
            }
            '\n' => out.push_str("<br>"),
            c => out.push(c),
        }
    }
    out
}

/// An inline code span that survives backticks and line breaks in the text.
fn code(s: &str) -> String {
    let s = s.replace(['\r', '\n'], " ");
    if s.contains('`') {
        format!("`` {s} ``")
    } else {
        format!("`{s}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::GateResult;
    use crate::results::fixture::sample_report;

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render_markdown(&sample_report()));
    }

    #[test]
    fn escapes_cells() {
        let table = [
            ("a | b", "a \\| b"),
            ("one\ntwo\r\nthree\rfour", "one<br>two<br>three<br>four"),
            ("<img src=x>&", "&lt;img src=x&gt;&amp;"),
            ("plain", "plain"),
        ];
        for (input, want) in table {
            assert_eq!(md(input), want, "{input:?}");
        }
        assert_eq!(code("a`b\nc"), "`` a`b c ``");
    }

    #[test]
    fn every_table_row_has_its_header_width() {
        let text = render_markdown(&sample_report());
        let mut width = None;
        for line in text.lines() {
            if !line.starts_with('|') {
                width = None;
                continue;
            }
            // Escaped pipes are cell content, not separators.
            let cells = line.replace("\\|", "").matches('|').count();
            match width {
                None => width = Some(cells),
                Some(w) => assert_eq!(cells, w, "{line}"),
            }
        }
    }

    #[test]
    fn headline_states_the_verdict() {
        let mut report = sample_report();
        assert!(render_markdown(&report).starts_with("## ❌ support: gate failed\n"));
        report.gate = GateResult {
            passed: true,
            ..GateResult::default()
        };
        let text = render_markdown(&report);
        assert!(text.starts_with("## ✅ support: gate passed\n"), "{text}");
        assert!(text.contains("No gate rules configured."));
        report.incomplete = Some("cancelled by Ctrl-C".into());
        let text = render_markdown(&report);
        assert!(text.starts_with("## ⚠️ support: run incomplete, gate passed\n"));
        assert!(text.contains("**Run incomplete:** cancelled by Ctrl-C."));
    }
}
