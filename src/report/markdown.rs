//! `render_markdown`: `summary.md`, for a PR comment or `$GITHUB_STEP_SUMMARY`.
//!
//! Reading order: the gate verdict, the numbers, the gate rules, the baseline, what failed and
//! why (worst first), the warnings (soft fails), then per-tag figures. The file fits a PR
//! comment whatever the size of the run: every list is capped ("and N more"), each failure's
//! details are folded in `<details>`, and the failures and warnings share what the other
//! sections leave of `MAX_BYTES` (see `report::budget`). Text from checks and agents is
//! escaped so a model's output cannot break a table or inject HTML into the comment.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::fmt::Write;
use std::io;

use crate::report::budget::Budget;
use crate::report::format::{error_line, pct, rule_value, score};
use crate::results::case_result::CaseResult;
use crate::results::run_report::RunReport;
use crate::verdict::{CaseStatus, Outcome, Verdict};

/// The most summary.md holds, in bytes (so also in characters): under GitHub's 65,536
/// characters for a PR comment, with room for a bot's own header around it.
pub(crate) const MAX_BYTES: usize = 60_000;
/// Longest reason or error shown in a failure's details; the whole text is in report.json.
const REASON_CHARS: usize = 300;
/// Case ids listed on one line (critical, quarantined, uncalibrated) before "and N more".
const MAX_IDS: usize = 30;
/// Tags listed in the per-tag table.
const MAX_TAGS: usize = 50;
/// What the failures leave the warnings when both are long: a fifth of the shared budget.
const WARNINGS_SHARE: usize = 5;
/// Room kept for an "and N more" line.
const MORE_LINE: usize = 400;

#[cfg(test)]
pub(crate) fn render_markdown(report: &RunReport) -> String {
    let mut out = Vec::new();
    // A Vec does no I/O: nothing here can fail.
    write_markdown(&mut out, report).expect("markdown renders to memory");
    String::from_utf8(out).expect("markdown of utf-8 strings is utf-8")
}

/// `render_markdown`, written into `w`. At most `MAX_BYTES`, so it is built in memory.
pub(crate) fn write_markdown(w: &mut dyn io::Write, report: &RunReport) -> io::Result<()> {
    // Sections in reading order, each bounded by its own caps. The failures and warnings go
    // where the `None` is, sized by what the others leave. A new section is one more entry.
    let before: Vec<String> = vec![
        headline(report),
        counts(report),
        gate(report),
        report
            .baseline
            .as_ref()
            .map(crate::report::comparison_render::render_markdown)
            .unwrap_or_default(),
        report
            .drift
            .as_ref()
            .map(crate::report::drift_render::render_markdown)
            .unwrap_or_default(),
    ];
    let after: Vec<String> = vec![by_tag(report)];
    let fixed: usize = before.iter().chain(&after).map(String::len).sum();
    let mut budget = Budget::new(MAX_BYTES.saturating_sub(fixed));
    let soft = soft_failed(report);
    // The failures come first, but leave the warnings a share when there are any.
    let kept = if soft.is_empty() {
        0
    } else {
        budget.left() / WARNINGS_SHARE
    };
    let mut for_failures = budget.split(budget.left() - kept);
    let failures = failures(report, &mut for_failures);
    budget.join(for_failures);
    let warnings = warnings(&soft, &mut budget);
    for part in before.iter().chain([&failures, &warnings]).chain(&after) {
        w.write_all(part.as_bytes())?;
    }
    Ok(())
}

fn headline(r: &RunReport) -> String {
    let mut out = String::new();
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
        let _ = writeln!(out, "{}\n", md(&crate::text::truncate(d, 1000)));
    }
    if let Some(why) = &r.incomplete {
        let _ = writeln!(
            out,
            "> **Run incomplete:** {}. Only the cases that finished are counted.\n",
            md(&crate::text::truncate(why, REASON_CHARS))
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
    out
}

fn counts(r: &RunReport) -> String {
    let s = &r.summary;
    let mut out = String::from(
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
    out
}

fn gate(r: &RunReport) -> String {
    let g = &r.gate;
    let mut out = String::from("### Gate\n\n");
    if g.rules.is_empty() && g.critical_failures.is_empty() {
        out.push_str("No gate rules configured.\n\n");
        return out;
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
        let _ = writeln!(
            out,
            "❌ Critical cases failed: {}\n",
            id_list(&g.critical_failures)
        );
    }
    if !g.quarantined.is_empty() {
        let _ = writeln!(
            out,
            "⚠️ Flaky cases quarantined (not gated): {}\n",
            id_list(&g.quarantined)
        );
    }
    if !g.uncalibrated.is_empty() {
        let _ = writeln!(
            out,
            "⚠️ Judges below their calibration requirement (verdicts only warned): {}\n",
            id_list(&g.uncalibrated)
        );
    }
    out
}

/// Ids joined by commas, the first `MAX_IDS` of them, then "and N more".
fn id_list(ids: &[String]) -> String {
    let shown: Vec<String> = ids
        .iter()
        .take(MAX_IDS)
        .map(|id| md(&crate::text::truncate(id, 200)))
        .collect();
    let mut line = shown.join(", ");
    if ids.len() > MAX_IDS {
        let _ = write!(line, " and {} more", ids.len() - MAX_IDS);
    }
    line
}

/// How bad a failure is, worst first: a critical case, then a regression against the
/// baseline (or a case the baseline passed that now errors), then failed cases, errored,
/// flaky. Within a rank the lowest score comes first (no score before any), then by id.
fn rank(case: &CaseResult, critical: &BTreeSet<&str>, regressed: &BTreeSet<&str>) -> u8 {
    if critical.contains(case.id.as_str()) {
        0
    } else if regressed.contains(case.id.as_str()) {
        1
    } else {
        match case.status {
            CaseStatus::Failed => 2,
            CaseStatus::Errored => 3,
            _ => 4,
        }
    }
}

/// The cases that did not pass, worst first (see `rank`).
fn worst_first(r: &RunReport) -> Vec<&CaseResult> {
    let critical: BTreeSet<&str> = r
        .gate
        .critical_failures
        .iter()
        .map(String::as_str)
        .collect();
    let regressed: BTreeSet<&str> = r
        .baseline
        .iter()
        .flat_map(|b| b.regressions.iter().chain(&b.lost))
        .map(|x| x.id.as_str())
        .collect();
    let mut failing: Vec<(u8, &CaseResult)> = r
        .cases
        .iter()
        .filter(|c| !c.status.is_pass())
        .map(|c| (rank(c, &critical, &regressed), c))
        .collect();
    let by_score = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => x.total_cmp(&y),
    };
    failing.sort_by(|(ra, a), (rb, b)| {
        ra.cmp(rb)
            .then_with(|| by_score(a.score, b.score))
            .then_with(|| a.id.cmp(&b.id))
    });
    failing.into_iter().map(|(_, c)| c).collect()
}

fn failures(r: &RunReport, budget: &mut Budget) -> String {
    let failing = worst_first(r);
    let mut out = String::new();
    if failing.is_empty() {
        return out;
    }
    let mut shown = 0;
    let title = format!(
        "### Failures ({})\n\nWorst first: critical cases, regressions, failures by score, errors, flaky cases.\n\n",
        failing.len()
    );
    if budget.push(&mut out, &title, MORE_LINE) {
        for case in &failing {
            if !budget.push(&mut out, &failure(case), MORE_LINE) {
                break;
            }
            shown += 1;
        }
    }
    if shown < failing.len() {
        let _ = writeln!(
            out,
            "…and {} more failure{} not shown, to keep this summary within a PR comment: every case is in `report.json`, `results.csv` and `index.html`.\n",
            failing.len() - shown,
            if failing.len() - shown == 1 { "" } else { "s" }
        );
    }
    out
}

/// One failing case: a line naming it (always visible), its details folded.
fn failure(case: &CaseResult) -> String {
    let mut out = String::new();
    let icon = match case.status {
        CaseStatus::Errored => "⛔",
        CaseStatus::Flaky => "🔀",
        _ => "❌",
    };
    let shown = case
        .score
        .map(|s| format!(", score {}", score(s)))
        .unwrap_or_default();
    let bad: Vec<&Verdict> = case.checks.iter().filter(|v| not_pass(v)).collect();
    // What failed, in a few words, beside the name: the agent's error, or the failing checks.
    let why = match (&case.error, case.status) {
        (Some(e), CaseStatus::Errored) => error_line(e, 100),
        _ => crate::text::truncate(
            &bad.iter()
                .filter(|v| v.outcome != Outcome::SoftFail)
                .map(|v| v.check.as_str())
                .collect::<Vec<_>>()
                .join("; "),
            100,
        ),
    };
    let why = if why.is_empty() {
        String::new()
    } else {
        format!(" · {}", inline_html(&why))
    };
    let _ = writeln!(
        out,
        "<details><summary>{icon} {}: {}{shown}{why}</summary>\n",
        inline_html(&crate::text::truncate(&case.id, 200)),
        case.status.as_str()
    );
    let mut facts = Vec::new();
    if !case.tags.is_empty() {
        facts.push(format!(
            "tags: {}",
            md(&crate::text::truncate(&case.tags.join(", "), REASON_CHARS))
        ));
    }
    if !case.tools.is_empty() {
        facts.push(format!(
            "tools: {}",
            md(&crate::text::truncate(
                &case.tools.join(" → "),
                REASON_CHARS
            ))
        ));
    }
    if !facts.is_empty() {
        let _ = writeln!(out, "{}\n", facts.join(" · "));
    }
    if let Some(e) = &case.error {
        let _ = writeln!(out, "Agent error: {}\n", md(&error_line(e, REASON_CHARS)));
    }
    // An agent that could not run leaves every check errored with its own error: one line
    // above says it, so the checks are not repeated.
    let agent_failed = case.status == CaseStatus::Errored && case.error.is_some();
    if !bad.is_empty() && !agent_failed {
        out.push_str("| check | outcome | score | reason |\n|---|---|---:|---|\n");
        for v in bad {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                md(&crate::text::truncate(&v.check, 200)),
                v.outcome.as_str(),
                opt_score(v.score),
                md(&crate::text::truncate(&v.reason, REASON_CHARS))
            );
        }
        out.push('\n');
    }
    out.push_str("</details>\n\n");
    out
}

fn soft_failed(r: &RunReport) -> Vec<&CaseResult> {
    r.cases
        .iter()
        .filter(|c| c.status == CaseStatus::SoftFailed)
        .collect()
}

fn warnings(soft: &[&CaseResult], budget: &mut Budget) -> String {
    let mut out = String::new();
    if soft.is_empty() {
        return out;
    }
    let lines: usize = soft
        .iter()
        .map(|c| {
            c.checks
                .iter()
                .filter(|v| v.outcome == Outcome::SoftFail)
                .count()
        })
        .sum();
    let mut shown = 0;
    let title = format!("### Warnings: soft fails ({})\n\n", soft.len());
    if budget.push(&mut out, &title, MORE_LINE) {
        'cases: for case in soft {
            for v in case
                .checks
                .iter()
                .filter(|v| v.outcome == Outcome::SoftFail)
            {
                let shown_score = v
                    .score
                    .map(|s| format!(" (score {})", score(s)))
                    .unwrap_or_default();
                let line = format!(
                    "- ⚠️ {}: {}{shown_score}: {}\n",
                    md(&crate::text::truncate(&case.id, 200)),
                    md(&crate::text::truncate(&v.check, 200)),
                    md(&crate::text::truncate(&v.reason, REASON_CHARS))
                );
                if !budget.push(&mut out, &line, MORE_LINE) {
                    break 'cases;
                }
                shown += 1;
            }
        }
    }
    if shown < lines {
        let _ = writeln!(
            out,
            "- …and {} more soft fail{} not shown: see `report.json`.",
            lines - shown,
            if lines - shown == 1 { "" } else { "s" }
        );
    }
    out.push('\n');
    out
}

fn by_tag(r: &RunReport) -> String {
    let mut out = String::new();
    if r.summary.by_tag.is_empty() {
        return out;
    }
    out.push_str("### By tag\n\n| tag | cases | passed | pass rate |\n|---|---:|---:|---:|\n");
    for (tag, t) in r.summary.by_tag.iter().take(MAX_TAGS) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            md(&crate::text::truncate(tag, 200)),
            t.total,
            t.passed,
            pct(t.pass_rate)
        );
    }
    if r.summary.by_tag.len() > MAX_TAGS {
        let _ = writeln!(
            out,
            "\n…and {} more tags: see `report.json`.",
            r.summary.by_tag.len() - MAX_TAGS
        );
    }
    out.push('\n');
    out
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

/// Text for inline HTML (a `<summary>`, where Markdown escapes are not read): entities for
/// what HTML reads, line breaks as spaces.
fn inline_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' | '\n' => out.push(' '),
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

    /// 3,000 failures (the size that once wrote 730 KB) fit a PR comment, worst first.
    #[test]
    fn three_thousand_failures_fit_a_pr_comment_worst_first() {
        let sample = sample_report();
        let failed = sample
            .cases
            .iter()
            .find(|c| c.id == "refund-late")
            .expect("the sample's failed case")
            .clone();
        let mut report = sample.clone();
        for i in 0..3000 {
            let mut c = failed.clone();
            c.id = format!("bulk-{i:04}");
            // A long judge reason, as real runs have.
            c.checks[0].reason =
                format!("{i}: {}", "the agent refunded without asking. ".repeat(40));
            c.score = Some(0.5 + (i % 7) as f64 / 100.0);
            report.cases.push(c);
        }
        let mut worst = failed.clone();
        worst.id = "zz-worst".into();
        worst.score = Some(0.01);
        report.cases.push(worst);
        let text = render_markdown(&report);
        assert!(
            text.chars().count() < 60_000,
            "{} chars",
            text.chars().count()
        );
        assert!(text.len() <= MAX_BYTES, "{} bytes", text.len());
        // The critical case first, then the lowest score, though its id sorts last.
        let at = |id: &str| {
            text.find(&format!("<summary>❌ {id}:"))
                .unwrap_or(usize::MAX)
        };
        assert!(at("refund-late") < at("zz-worst"), "critical first");
        assert!(at("zz-worst") < at("bulk-0000"), "lowest score next");
        assert!(at("bulk-0000") < usize::MAX, "failures are named");
        let shown = text.matches("<details>").count();
        assert_eq!(
            text.matches("</details>").count(),
            shown,
            "every fold is closed"
        );
        let failing = report.cases.iter().filter(|c| !c.status.is_pass()).count();
        assert!(
            text.contains(&format!("…and {} more failures not shown", failing - shown)),
            "{}",
            &text[text.len() - 2000..]
        );
        // The sections after the failures are still there.
        assert!(text.contains("### Warnings: soft fails (1)"));
        assert!(text.contains("### By tag"));
        // Reasons are cut, not dropped.
        assert!(text.contains("the agent refunded without asking.") && text.contains('…'));
    }

    #[test]
    fn a_regression_comes_right_after_the_critical_cases() {
        let mut report = sample_report();
        let order = |r: &RunReport| -> Vec<String> {
            worst_first(r).iter().map(|c| c.id.clone()).collect()
        };
        assert_eq!(
            order(&report),
            ["refund-late", "provider-down", "kb-shipping"],
            "critical, then errored cases: no score before a score"
        );
        report.baseline = Some(crate::results::compare::Comparison {
            regressions: vec![crate::results::compare::StatusChange {
                id: "kb-shipping".into(),
                before: CaseStatus::Passed,
                after: CaseStatus::Errored,
                checks: vec![],
            }],
            ..Default::default()
        });
        assert_eq!(
            order(&report),
            ["refund-late", "kb-shipping", "provider-down"]
        );
    }

    #[test]
    fn an_agent_error_is_one_line_not_one_per_check() {
        let mut report = sample_report();
        let down = report
            .cases
            .iter_mut()
            .find(|c| c.id == "provider-down")
            .expect("the sample's errored case");
        let e = down.error.clone().expect("an agent error");
        down.checks = (0..3)
            .map(|i| Verdict {
                check: format!("check {i}"),
                outcome: Outcome::Error,
                score: None,
                weight: 1.0,
                reason: e.clone(),
            })
            .collect();
        let text = render_markdown(&report);
        let e = md(&e);
        assert_eq!(
            text.matches(e.as_str()).count(),
            2,
            "summary line and one error line: {text}"
        );
        assert!(!text.contains("check 1"), "{text}");
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
