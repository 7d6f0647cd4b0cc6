//! Renders a `Comparison` as plain text (terminal, `gauntlet diff`) and as a Markdown section
//! (summary.md). Regressions come first: they are what a reviewer must see.

use std::fmt::Write;

use crate::report::format::{p_value, pct};
use crate::results::compare::{ChangeTest, Comparison, StatusChange};

/// Plain text, no colour: the same lines for the terminal and for `gauntlet diff`.
pub(crate) fn render_text(c: &Comparison) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "vs baseline: {}", headline(c, ""));
    let _ = writeln!(out, "  {}", noise_line(c));
    if let Some(line) = confirmation_line(c) {
        let _ = writeln!(out, "  {line}");
    }
    if let Some(p) = &c.power {
        let _ = writeln!(out, "  {}", p.line());
    }
    for (title, list) in [
        ("regressed", &c.regressions),
        ("lost", &c.lost),
        ("fixed", &c.fixes),
        ("errored", &c.errored),
    ] {
        for change in list {
            let _ = writeln!(out, "  {title:<9} {}", change_line(change));
        }
    }
    for id in &c.new_cases {
        let _ = writeln!(out, "  new       {id}");
    }
    for id in &c.removed_cases {
        let _ = writeln!(out, "  removed   {id}");
    }
    for t in &c.trajectory_changes {
        let _ = writeln!(
            out,
            "  tools     {}: {} → {}",
            t.id,
            seq(&t.before),
            seq(&t.after)
        );
    }
    out
}

/// Change rows in the summary.md section; the rest are counted ("and N more").
const MAX_CHANGE_ROWS: usize = 30;
/// Tool-sequence changes in the summary.md section.
const MAX_TOOL_ROWS: usize = 10;
/// Longest cell in the summary.md section.
const CELL_CHARS: usize = 200;

/// A `### Baseline` section for summary.md, its lists capped so it fits a PR comment.
pub(crate) fn render_markdown(c: &Comparison) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### Baseline\n");
    let _ = writeln!(out, "{}\n", headline(c, "**"));
    let _ = writeln!(out, "{}\n", noise_line(c));
    if let Some(line) = confirmation_line(c) {
        let _ = writeln!(out, "{line}\n");
    }
    if let Some(p) = &c.power {
        let _ = writeln!(out, "{}\n", p.line());
    }
    let rows: Vec<(&str, &StatusChange)> = c
        .regressions
        .iter()
        .map(|x| ("🔻 regressed", x))
        .chain(c.lost.iter().map(|x| ("💥 lost", x)))
        .chain(c.fixes.iter().map(|x| ("✅ fixed", x)))
        .chain(c.errored.iter().map(|x| ("⛔ errored", x)))
        .collect();
    if !rows.is_empty() {
        out.push_str(
            "| change | case | before | after | failing checks |\n|---|---|---|---|---|\n",
        );
        for (what, x) in rows.iter().take(MAX_CHANGE_ROWS) {
            let _ = writeln!(
                out,
                "| {what} | {} | {} | {} | {} |",
                cell(&x.id),
                x.before.as_str(),
                x.after.as_str(),
                cell(&x.checks.join("; "))
            );
        }
        more(&mut out, rows.len(), MAX_CHANGE_ROWS, "changes");
        out.push('\n');
    }
    if !c.new_cases.is_empty() || !c.removed_cases.is_empty() {
        let _ = writeln!(
            out,
            "New: {} · removed: {}\n",
            capped_list(&c.new_cases),
            capped_list(&c.removed_cases)
        );
    }
    if !c.trajectory_changes.is_empty() {
        out.push_str("| case | tools before | tools after | diff |\n|---|---|---|---|\n");
        for t in c.trajectory_changes.iter().take(MAX_TOOL_ROWS) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                cell(&t.id),
                cell(&seq(&t.before)),
                cell(&seq(&t.after)),
                t.diff
                    .iter()
                    .take(MAX_TOOL_ROWS)
                    .map(|l| format!("`{}`", cell(l)))
                    .collect::<Vec<_>>()
                    .join("<br>")
            );
        }
        more(
            &mut out,
            c.trajectory_changes.len(),
            MAX_TOOL_ROWS,
            "tool-sequence changes",
        );
        out.push('\n');
    }
    out
}

/// `…and N more WHAT` under a table that showed `shown` of `total` rows.
fn more(out: &mut String, total: usize, shown: usize, what: &str) {
    if total > shown {
        let _ = writeln!(
            out,
            "\n…and {} more {what}: see `report.json`.",
            total - shown
        );
    }
}

/// Ids for one line of summary.md: the first `MAX_CHANGE_ROWS`, then a count.
fn capped_list(ids: &[String]) -> String {
    if ids.is_empty() {
        return "none".into();
    }
    let shown: Vec<String> = ids
        .iter()
        .take(MAX_CHANGE_ROWS)
        .map(|id| cell(id))
        .collect();
    let mut line = shown.join(", ");
    if ids.len() > MAX_CHANGE_ROWS {
        let _ = write!(line, " and {} more", ids.len() - MAX_CHANGE_ROWS);
    }
    line
}

/// `pass rate A → B · N regressions, M fixes · McNemar p = P` (or `p < 0.0001`), the regression count wrapped in
/// `strong` (Markdown bold, or nothing for plain text).
fn headline(c: &Comparison, strong: &str) -> String {
    let lost = if c.lost.is_empty() {
        String::new()
    } else {
        format!(", {strong}{} lost{strong}", c.lost.len())
    };
    format!(
        "pass rate {} → {} · {strong}{} regression{}{strong}{lost}, {} fix{} · {} {}",
        pct(c.pass_rate_before),
        pct(c.pass_rate_after),
        c.regressions.len(),
        plural(c.regressions.len(), "", "s"),
        c.fixes.len(),
        plural(c.fixes.len(), "", "es"),
        c.change.test.as_str(),
        p_value(c.change.p)
    )
}

/// The paired change with its interval, and the smallest change that could be real.
fn noise_line(c: &Comparison) -> String {
    let ch = &c.change;
    let mut line = match ch.ci {
        Some([lo, hi]) => format!(
            "change {} over {} paired cases: 95% CI {} to {}",
            signed_pct(ch.delta),
            ch.n,
            signed_pct(lo),
            signed_pct(hi)
        ),
        None if ch.n > 0 => format!(
            "change {} over {} paired case{}: too few for an interval",
            signed_pct(ch.delta),
            ch.n,
            plural(ch.n, "", "s")
        ),
        None => "no paired cases".to_string(),
    };
    match c.noise_floor {
        Some(f) => {
            let _ = write!(
                line,
                "; noise floor {} (smaller changes are not significant)",
                pct(f)
            );
        }
        None if ch.n > 0 && ch.test == ChangeTest::Mcnemar => {
            line.push_str("; too few cases for any change to be significant")
        }
        None => {}
    }
    line
}

/// `--confirm K`: how many cases were rerun, how many runs, which were confirmed.
fn confirmation_line(c: &Comparison) -> Option<String> {
    let conf = c.confirmation.as_ref()?;
    let mut line = format!(
        "confirmation: {} case{} rerun ×{} ({} runs): {} confirmed",
        conf.cases.len(),
        plural(conf.cases.len(), "", "s"),
        conf.runs_per_case,
        conf.runs,
        conf.confirmed.len()
    );
    if !conf.confirmed.is_empty() {
        let _ = write!(line, " ({})", conf.confirmed.join(", "));
    }
    if !conf.unreachable.is_empty() {
        let _ = write!(
            line,
            "; {} could not reach significance against their baseline",
            conf.unreachable.len()
        );
    }
    Some(line)
}

fn signed_pct(x: f64) -> String {
    if x > 0.0 {
        format!("+{}", pct(x))
    } else {
        pct(x)
    }
}

fn change_line(x: &StatusChange) -> String {
    let mut line = format!("{}: {} → {}", x.id, x.before.as_str(), x.after.as_str());
    if !x.checks.is_empty() {
        let _ = write!(line, " ({})", x.checks.join("; "));
    }
    line
}

fn seq(tools: &[String]) -> String {
    if tools.is_empty() {
        "(none)".into()
    } else {
        tools.join(" > ")
    }
}

fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// Case ids and check names come from user files: keep them from breaking the table, or the
/// size of the summary.
fn cell(s: &str) -> String {
    crate::text::truncate(s, CELL_CHARS)
        .replace('|', "\\|")
        .replace(['\r', '\n'], " ")
        .replace('<', "&lt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::compare::ToolSequenceChange;
    use crate::verdict::CaseStatus;

    fn sample() -> Comparison {
        Comparison {
            regressions: vec![StatusChange {
                id: "refund-late".into(),
                before: CaseStatus::Passed,
                after: CaseStatus::Failed,
                checks: vec!["tool_not_called issue_refund".into()],
            }],
            new_cases: vec!["kb-new".into()],
            trajectory_changes: vec![ToolSequenceChange {
                id: "refund-late".into(),
                before: vec!["lookup_order".into()],
                after: vec!["lookup_order".into(), "issue_refund".into()],
                diff: vec!["  lookup_order".into(), "+ issue_refund".into()],
            }],
            pass_rate_before: 1.0,
            pass_rate_after: 0.9,
            paired: 10,
            change: crate::results::compare::Change::from_sums(ChangeTest::Mcnemar, 10, -1.0, 1.0),
            noise_floor: Some(0.6),
            lost: vec![StatusChange {
                id: "kb-crash".into(),
                before: CaseStatus::Passed,
                after: CaseStatus::Errored,
                checks: vec![],
            }],
            ..Default::default()
        }
    }

    #[test]
    fn text_lists_regressions_first_with_their_checks() {
        insta::assert_snapshot!(render_text(&sample()));
    }

    #[test]
    fn a_tiny_p_value_reads_below_the_floor_not_zero() {
        let mut c = sample();
        c.change.p = 0.0;
        for text in [render_text(&c), render_markdown(&c)] {
            assert!(text.contains("McNemar p < 0.0001"), "{text}");
            assert!(!text.contains("p = 0"), "{text}");
        }
    }

    #[test]
    fn the_markdown_section_caps_its_lists() {
        let mut c = sample();
        let change = c.regressions[0].clone();
        c.regressions = (0..100)
            .map(|i| StatusChange {
                id: format!("r-{i:03}"),
                ..change.clone()
            })
            .collect();
        c.new_cases = (0..100).map(|i| format!("n-{i:03}")).collect();
        let md = render_markdown(&c);
        assert!(md.contains("r-029") && !md.contains("r-030"), "{md}");
        // 100 regressions and the one lost case: 30 rows shown.
        assert!(md.contains("…and 71 more changes"), "{md}");
        assert!(md.contains("n-029 and 70 more"), "{md}");
        assert!(md.len() < 6_000, "{}", md.len());
    }

    #[test]
    fn markdown_section() {
        insta::assert_snapshot!(render_markdown(&sample()));
    }
}
