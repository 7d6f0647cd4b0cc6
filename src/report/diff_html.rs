//! `write_diff_html`: `diff.html`, the side-by-side page of a comparison (`gauntlet diff
//! --html`, and `eval --baseline` beside its reports): for each case that changed, the two
//! runs' trajectories next to each other with the tool-sequence diff between them.
//!
//! Like `index.html` it is one self-contained file: a Content-Security-Policy forbids script
//! and network, and every piece of model, tool and user text goes through `html::esc`. A side
//! whose trajectories could not be read (a baseline from the history, or a report copied
//! without its `trajectories.jsonl`) says why instead of showing an empty timeline.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::io;

use crate::report::format::{pct, score};
use crate::report::html::{esc, render_step};
use crate::report::trajectory_source::TrajectorySource;
use crate::results::case_result::CaseResult;
use crate::results::compare::{sequence_diff, Comparison};
use crate::results::run_report::RunReport;

/// Beyond this many changed cases only the first ones show their timelines: a page of many
/// thousand pairs of timelines is more than a browser wants to open.
pub(crate) const MAX_CASES_SIDE_BY_SIDE: usize = 500;

const STYLE: &str = "
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:96rem;padding:0 1rem;color:#1d1d1f}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
.pill{display:inline-block;padding:.05rem .5rem;border-radius:1rem;font-size:.8rem;font-weight:600}
.passed{background:#dcf5e3;color:#14632d}.soft_failed,.flaky{background:#fff1c9;color:#7a5300}
.failed{background:#fde0e0;color:#8f1d1d}.errored{background:#e8e0fd;color:#46238f}
.case{border:1px solid #e3e3e3;border-radius:.4rem;margin:1rem 0;padding:.3rem .7rem}
.sides{display:grid;grid-template-columns:1fr 1fr;gap:1rem}.side{min-width:0}
.step{border-left:3px solid #ccc;margin:.3rem 0;padding:.1rem .6rem}.step.user{border-color:#3a7bd5}.step.model{border-color:#8e44ad}
.step.tool{border-color:#2e9b50}.step.tool.err{border-color:#c0392b}.step.escalation{border-color:#e67e22}
pre{white-space:pre-wrap;word-break:break-word;background:#f7f7f8;padding:.4rem .6rem;border-radius:.3rem;margin:.2rem 0}
.seq{font-family:monospace;background:#f7f7f8;padding:.4rem .6rem;border-radius:.3rem}
.seq div{white-space:pre}.add{background:#dcf5e3}.del{background:#fde0e0}
.missing{color:#8f1d1d;font-weight:600}.muted{color:#777}
";

/// Why a case is on the page, in the order the page lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Change {
    Regressed,
    Lost,
    Errored,
    Fixed,
    ToolsChanged,
    ScoreMoved,
}

impl Change {
    fn label(self) -> &'static str {
        match self {
            Change::Regressed => "regressed",
            Change::Lost => "lost",
            Change::Errored => "errored",
            Change::Fixed => "fixed",
            Change::ToolsChanged => "tool sequence changed",
            Change::ScoreMoved => "score moved",
        }
    }
}

/// The cases that changed, each with its first (most serious) reason, most serious first and
/// by id within: deterministic whatever order the comparison lists them in.
fn changed(cmp: &Comparison) -> Vec<(Change, &str)> {
    let mut by_id: BTreeMap<&str, Change> = BTreeMap::new();
    let lists = [
        (
            Change::Regressed,
            cmp.regressions
                .iter()
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>(),
        ),
        (
            Change::Lost,
            cmp.lost.iter().map(|c| c.id.as_str()).collect(),
        ),
        (
            Change::Errored,
            cmp.errored.iter().map(|c| c.id.as_str()).collect(),
        ),
        (
            Change::Fixed,
            cmp.fixes.iter().map(|c| c.id.as_str()).collect(),
        ),
        (
            Change::ToolsChanged,
            cmp.trajectory_changes
                .iter()
                .map(|c| c.id.as_str())
                .collect(),
        ),
        (
            Change::ScoreMoved,
            cmp.score_deltas.iter().map(|c| c.id.as_str()).collect(),
        ),
    ];
    for (change, ids) in lists {
        for id in ids {
            let e = by_id.entry(id).or_insert(change);
            *e = (*e).min(change);
        }
    }
    let mut out: Vec<(Change, &str)> = by_id.into_iter().map(|(id, c)| (c, id)).collect();
    out.sort();
    out
}

/// The ids of the cases the page shows side by side: what a trajectory reader needs to keep.
pub(crate) fn changed_ids(cmp: &Comparison) -> BTreeSet<String> {
    changed(cmp)
        .into_iter()
        .take(MAX_CASES_SIDE_BY_SIDE)
        .map(|(_, id)| id.to_string())
        .collect()
}

/// One run on the page: its report, a label (a file name, "baseline", "this run") and its
/// trajectories, or why there are none.
pub(crate) struct Side<'a> {
    pub label: &'a str,
    pub report: &'a RunReport,
    pub trajectories: Result<&'a mut dyn TrajectorySource, String>,
}

/// The page, streamed into `w` a case at a time. `before` is the baseline, `after` the run
/// compared with it, `cmp` their comparison.
pub(crate) fn write_diff_html(
    w: &mut dyn io::Write,
    cmp: &Comparison,
    mut before: Side<'_>,
    mut after: Side<'_>,
) -> io::Result<()> {
    let mut out = String::new();
    let suite = esc(&after.report.suite);
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>gauntlet diff: {suite}</title><style>{STYLE}</style></head><body>\n\
         <h1>{suite}: {} → {}</h1>\n",
        esc(before.label),
        esc(after.label),
    );
    let changes = changed(cmp);
    let _ = writeln!(
        out,
        "<p>pass rate {} → {} · {} regressions · {} lost · {} fixes · {} tool-sequence changes · {} cases changed</p>",
        pct(cmp.pass_rate_before),
        pct(cmp.pass_rate_after),
        cmp.regressions.len(),
        cmp.lost.len(),
        cmp.fixes.len(),
        cmp.trajectory_changes.len(),
        changes.len()
    );
    let missing = [
        ("before", before.label, before.trajectories.as_ref().err()),
        ("after", after.label, after.trajectories.as_ref().err()),
    ];
    for (name, label, why) in missing {
        if let Some(why) = why {
            let _ = writeln!(
                out,
                "<p class=\"missing\" id=\"missing-{name}\">The trajectories of {} are not available: {}</p>",
                esc(label),
                esc(why)
            );
        }
    }
    for (title, ids) in [
        ("New cases", &cmp.new_cases),
        ("Removed cases", &cmp.removed_cases),
    ] {
        if !ids.is_empty() {
            let list: Vec<String> = ids.iter().map(|id| esc(id)).collect();
            let _ = writeln!(out, "<p><b>{title}:</b> {}</p>", list.join(", "));
        }
    }
    if changes.is_empty() {
        out.push_str("<p>No case changed.</p>\n");
    }
    if changes.len() > MAX_CASES_SIDE_BY_SIDE {
        let _ = writeln!(
            out,
            "<p class=\"muted\">{} changed cases: the first {MAX_CASES_SIDE_BY_SIDE} are shown side by side, the rest by name.</p>",
            changes.len()
        );
    }
    w.write_all(out.as_bytes())?;
    let index = |r: &'_ RunReport| -> BTreeMap<String, usize> {
        r.cases
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.clone(), i))
            .collect()
    };
    let (before_at, after_at) = (index(before.report), index(after.report));
    let sequences: BTreeMap<&str, &[String]> = cmp
        .trajectory_changes
        .iter()
        .map(|c| (c.id.as_str(), c.diff.as_slice()))
        .collect();
    for (i, (change, id)) in changes.iter().enumerate() {
        out.clear();
        let (Some(&b), Some(&a)) = (before_at.get(*id), after_at.get(*id)) else {
            continue;
        };
        let (was, now) = (&before.report.cases[b], &after.report.cases[a]);
        if i >= MAX_CASES_SIDE_BY_SIDE {
            let _ = writeln!(
                out,
                "<p id=\"case-{}\"><b>{}</b> {}: {} → {}</p>",
                esc(id),
                esc(id),
                change.label(),
                was.status.as_str(),
                now.status.as_str()
            );
            w.write_all(out.as_bytes())?;
            continue;
        }
        render_header(&mut out, *change, was, now);
        let diff = match sequences.get(id) {
            Some(d) if !d.is_empty() => d.to_vec(),
            _ => sequence_diff(&was.tools, &now.tools),
        };
        render_sequence(&mut out, &diff);
        out.push_str("<div class=\"sides\">");
        render_side(&mut out, &mut before, was)?;
        render_side(&mut out, &mut after, now)?;
        out.push_str("</div></section>\n");
        w.write_all(out.as_bytes())?;
    }
    w.write_all(b"</body></html>\n")
}

fn render_header(out: &mut String, change: Change, was: &CaseResult, now: &CaseResult) {
    let opt_score = |s: Option<f64>| s.map(score).unwrap_or_else(|| "–".into());
    let _ = writeln!(
        out,
        "<section class=\"case\" id=\"case-{id}\"><h2>{id} <span class=\"muted\">{change}</span></h2>\
         <p><span class=\"pill {b}\">{b}</span> → <span class=\"pill {a}\">{a}</span> \
         <span class=\"muted\">score {} → {}</span></p>",
        opt_score(was.score),
        opt_score(now.score),
        id = esc(&was.id),
        change = change.label(),
        b = was.status.as_str(),
        a = now.status.as_str(),
    );
}

/// The tool-sequence diff, one call a line: `  kept`, `- removed`, `+ added`.
fn render_sequence(out: &mut String, diff: &[String]) {
    if diff.iter().all(|l| l.starts_with("  ")) {
        out.push_str("<p class=\"muted\">tool sequence unchanged</p>");
        return;
    }
    out.push_str("<div class=\"seq\" title=\"tool-sequence diff\">");
    for line in diff {
        let class = match line.as_bytes().first() {
            Some(b'+') => " class=\"add\"",
            Some(b'-') => " class=\"del\"",
            _ => "",
        };
        let _ = write!(out, "<div{class}>{}</div>", esc(line));
    }
    out.push_str("</div>");
}

fn render_side(out: &mut String, side: &mut Side<'_>, case: &CaseResult) -> io::Result<()> {
    let _ = write!(
        out,
        "<div class=\"side\"><h3>{}</h3><div class=\"timeline\">",
        esc(side.label)
    );
    match &mut side.trajectories {
        Ok(source) => {
            let trajectory = source.trajectory_without_state(case)?;
            if trajectory.steps.is_empty() {
                out.push_str("<p class=\"muted\">no steps recorded</p>");
            }
            for step in &trajectory.steps {
                render_step(out, step);
            }
        }
        Err(_) => out.push_str("<p class=\"missing\">trajectory not available</p>"),
    }
    if let Some(e) = &case.error {
        let _ = write!(out, "<p class=\"pill errored\">{}</p>", esc(e));
    }
    let _ = write!(
        out,
        "</div><p><b>output</b></p><pre>{}</pre></div>",
        esc(&case.output)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::trajectory_source::InMemory;
    use crate::results::compare::compare;
    use crate::results::fixture::{sample_report, sample_trajectories};
    use crate::verdict::{CaseStatus, DEFAULT_ALPHA};

    fn render<'a>(
        base: &'a RunReport,
        current: &'a RunReport,
        old: Result<&'a mut dyn TrajectorySource, String>,
        new: &'a mut InMemory,
    ) -> String {
        let cmp = compare(base, &current.cases, DEFAULT_ALPHA);
        let mut out = Vec::new();
        write_diff_html(
            &mut out,
            &cmp,
            Side {
                label: "old.json",
                report: base,
                trajectories: old,
            },
            Side {
                label: "new.json",
                report: current,
                trajectories: Ok(new),
            },
        )
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    /// A baseline in which `refund-late` passed with another tool sequence and output.
    fn baseline() -> RunReport {
        let mut base = sample_report();
        let c = base
            .cases
            .iter_mut()
            .find(|c| c.id == "refund-late")
            .unwrap();
        c.status = CaseStatus::Passed;
        c.tools = vec!["lookup_order".into(), "escalate".into()];
        c.output = "old <b>answer</b>".into();
        base
    }

    #[test]
    fn a_regressed_case_shows_both_sides_and_the_tool_diff_escaped() {
        let base = baseline();
        let mut current = sample_report();
        current.cases[0].output = "<script>alert(1)</script>".into();
        let mut old = InMemory::new(sample_trajectories());
        let html = render(
            &base,
            &current,
            Ok(&mut old),
            &mut InMemory::new(sample_trajectories()),
        );
        let case = &html[html
            .find("id=\"case-refund-late\"")
            .expect("the regression")..];
        let case = &case[..case.find("</section>").unwrap()];
        assert!(case.contains("regressed"), "{case}");
        assert!(case.contains("<span class=\"pill passed\">passed</span> → <span class=\"pill failed\">failed</span>"), "{case}");
        assert_eq!(case.matches("<div class=\"side\">").count(), 2, "{case}");
        assert!(case.contains("class=\"step "), "trajectories shown: {case}");
        assert!(
            case.contains("<div class=\"del\">- escalate</div>"),
            "{case}"
        );
        assert!(case.contains("<div>  lookup_order</div>"), "{case}");
        assert!(case.contains("old &lt;b&gt;answer&lt;/b&gt;"), "{case}");
        assert!(!html.contains("<script>") && !html.contains("<b>answer"));
        assert!(html.contains("default-src 'none'"));
        assert!(!html.contains("not available"));
        // Unchanged cases are not on the page.
        assert!(!html.contains("id=\"case-order-status\""), "{html}");
    }

    #[test]
    fn a_missing_baseline_trajectory_file_is_said_on_the_page() {
        let html = render(
            &baseline(),
            &sample_report(),
            Err("old/trajectories.jsonl: not found".into()),
            &mut InMemory::new(sample_trajectories()),
        );
        assert!(
            html.contains(
                "The trajectories of old.json are not available: old/trajectories.jsonl: not found"
            ),
            "{html}"
        );
        assert!(html.contains("trajectory not available"));
    }

    #[test]
    fn no_change_says_so_and_the_order_is_most_serious_first() {
        let same = render(
            &sample_report(),
            &sample_report(),
            Ok(&mut InMemory::new(sample_trajectories())),
            &mut InMemory::new(sample_trajectories()),
        );
        assert!(same.contains("No case changed."), "{same}");
        let mut cmp = Comparison::default();
        cmp.fixes.push(crate::results::compare::StatusChange {
            id: "a".into(),
            before: CaseStatus::Failed,
            after: CaseStatus::Passed,
            checks: vec![],
        });
        cmp.regressions.push(crate::results::compare::StatusChange {
            id: "z".into(),
            before: CaseStatus::Passed,
            after: CaseStatus::Failed,
            checks: vec![],
        });
        assert_eq!(
            changed(&cmp),
            vec![(Change::Regressed, "z"), (Change::Fixed, "a")]
        );
    }
}
