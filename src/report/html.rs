//! `render_html`: `index.html`, one self-contained page to read a run in a browser.
//!
//! No script, no external asset, no network: a Content-Security-Policy forbids all of them, so
//! even text that escaped escaping could not run. Every piece of model, tool and user text goes
//! through `esc`. Cases open with `<details>`; regressions and failures come first.

use std::fmt::Write;
use std::io;

use crate::report::format::{p_value, pct, rule_value, score};
use crate::report::trajectory_source::TrajectorySource;
use crate::results::case_result::CaseResult;
use crate::results::run_report::RunReport;
use crate::trajectory::{Metadata, Step};
use crate::verdict::{CaseStatus, Outcome};

const STYLE: &str = "
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1d1d1f}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
.pill{display:inline-block;padding:.05rem .5rem;border-radius:1rem;font-size:.8rem;font-weight:600}
.passed,.pass{background:#dcf5e3;color:#14632d}.soft_failed,.soft_fail,.flaky{background:#fff1c9;color:#7a5300}
.failed,.fail{background:#fde0e0;color:#8f1d1d}.errored,.error{background:#e8e0fd;color:#46238f}.skipped{background:#eee;color:#555}
table{border-collapse:collapse;margin:.5rem 0}td,th{border-bottom:1px solid #e3e3e3;padding:.25rem .6rem;text-align:left;vertical-align:top}
.bar{background:#eee;width:12rem;height:.7rem;border-radius:.35rem;overflow:hidden}.bar>div{background:#2e9b50;height:100%}
details{border:1px solid #e3e3e3;border-radius:.4rem;margin:.4rem 0;padding:.3rem .7rem}summary{cursor:pointer}
.step{border-left:3px solid #ccc;margin:.3rem 0;padding:.1rem .6rem}.step.user{border-color:#3a7bd5}.step.model{border-color:#8e44ad}
.step.tool{border-color:#2e9b50}.step.tool.err{border-color:#c0392b}.step.escalation{border-color:#e67e22}
pre{white-space:pre-wrap;word-break:break-word;background:#f7f7f8;padding:.4rem .6rem;border-radius:.3rem;margin:.2rem 0}
.muted{color:#777}
";

/// Up to this many cases every case's steps are shown; beyond, only those of the cases that
/// did not pass.
pub(crate) const MAX_CASES_WITH_ALL_STEPS: usize = 1000;

/// The page, with the trajectories held in memory.
#[cfg(test)]
pub(crate) fn render_html(
    report: &RunReport,
    trajectories: &mut crate::report::trajectory_source::InMemory,
) -> String {
    let mut out = Vec::new();
    // A Vec and `InMemory` do no I/O: nothing here can fail.
    write_html(&mut out, report, trajectories).expect("html renders to memory");
    String::from_utf8(out).expect("html of utf-8 strings is utf-8")
}

/// `render_html`, streamed into `w` a case at a time, each case's steps taken from `source`,
/// so neither the page nor the trajectories are ever all in memory.
pub(crate) fn write_html(
    w: &mut dyn io::Write,
    report: &RunReport,
    source: &mut dyn TrajectorySource,
) -> io::Result<()> {
    let mut out = String::new();
    let s = &report.summary;
    let verdict = if report.gate.passed {
        "passed"
    } else {
        "failed"
    };
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>gauntlet: {suite}</title><style>{STYLE}</style></head><body>\n\
         <h1>{suite} <span class=\"pill {cls}\">gate {verdict}</span></h1>\n",
        suite = esc(&report.suite),
        cls = if report.gate.passed { "passed" } else { "failed" },
    );
    if let Some(d) = &report.description {
        let _ = writeln!(out, "<p>{}</p>", esc(d));
    }
    if let Some(why) = &report.incomplete {
        let _ = writeln!(
            out,
            "<p class=\"pill errored\">run incomplete: {}</p>",
            esc(why)
        );
    }
    let _ = writeln!(
        out,
        "<p class=\"muted\">target {} · {} cases · tokens {} in / {} out</p>",
        esc(&report.target),
        s.total,
        s.usage.input_tokens,
        s.usage.output_tokens
    );
    let _ = writeln!(
        out,
        "<table><tr><th>passed</th><th>soft failed</th><th>failed</th><th>errored</th><th>flaky</th><th>pass rate</th><th>mean score</th></tr>\
         <tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr></table>",
        s.passed,
        s.soft_failed,
        s.failed,
        s.errored,
        s.flaky,
        pct(s.pass_rate),
        s.mean_score.map(score).unwrap_or_else(|| "–".into())
    );

    out.push_str(
        "<h2>Gate</h2><table><tr><th>rule</th><th>limit</th><th>actual</th><th></th></tr>",
    );
    for r in &report.gate.rules {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(r.rule.name()),
            rule_value(r, r.limit),
            rule_value(r, r.actual),
            if r.passed {
                "<span class=\"pill pass\">ok</span>"
            } else {
                "<span class=\"pill fail\">broken</span>"
            }
        );
    }
    out.push_str("</table>\n");
    if !report.gate.critical_failures.is_empty() {
        let _ = writeln!(
            out,
            "<p>❌ critical cases failed: {}</p>",
            esc(&report.gate.critical_failures.join(", "))
        );
    }

    if !s.by_tag.is_empty() {
        out.push_str("<h2>Pass rate by tag</h2><table>");
        for (tag, t) in &s.by_tag {
            let _ = write!(
                out,
                "<tr><td>{}</td><td><div class=\"bar\" title=\"{}\"><div style=\"width:{:.1}%\"></div></div></td><td>{} ({}/{})</td></tr>",
                esc(tag),
                pct(t.pass_rate),
                t.pass_rate * 100.0,
                pct(t.pass_rate),
                t.passed,
                t.total
            );
        }
        out.push_str("</table>\n");
    }

    // A set: looked up once per case, and a big run can have thousands of regressions.
    let regressed: std::collections::BTreeSet<&str> = report
        .baseline
        .iter()
        .flat_map(|b| b.regressions.iter().map(|r| r.id.as_str()))
        .collect();
    if let Some(b) = &report.baseline {
        let _ = writeln!(
            out,
            "<h2>Against the baseline</h2><p>pass rate {} → {} · {} regressions · {} lost · {} fixes · {} {}</p>",
            pct(b.pass_rate_before),
            pct(b.pass_rate_after),
            b.regressions.len(),
            b.lost.len(),
            b.fixes.len(),
            b.change.test.as_str(),
            esc(&p_value(b.change.p))
        );
    }

    // Regressions first, then what failed, then the rest; by id within each group.
    let rank = |c: &CaseResult| {
        if regressed.contains(c.id.as_str()) {
            0
        } else {
            match c.status {
                CaseStatus::Failed | CaseStatus::Errored => 1,
                CaseStatus::Flaky | CaseStatus::SoftFailed => 2,
                CaseStatus::Passed => 3,
            }
        }
    };
    let mut cases: Vec<&CaseResult> = report.cases.iter().collect();
    cases.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.id.cmp(&b.id)));
    out.push_str("<h2>Cases</h2>\n");
    // A page of many thousand timelines is more than a browser wants to open: a big run shows
    // the steps of what needs a look (every case that did not pass) and leaves the rest to
    // trajectories.jsonl.
    let all_steps = report.cases.len() <= MAX_CASES_WITH_ALL_STEPS;
    let bare = report
        .cases
        .iter()
        .filter(|c| !all_steps && c.status == CaseStatus::Passed)
        .count();
    if bare > 0 {
        let _ = writeln!(
            out,
            "<p class=\"muted\">{bare} passed cases are shown without their steps (a run of more than {MAX_CASES_WITH_ALL_STEPS} cases); every trajectory is in trajectories.jsonl.</p>",
        );
    }
    w.write_all(out.as_bytes())?;
    for case in cases {
        out.clear();
        let regressed = regressed.contains(case.id.as_str());
        if all_steps || case.status != CaseStatus::Passed {
            let trajectory = source.trajectory_without_state(case)?;
            render_case(&mut out, case, &trajectory.steps, regressed);
        } else {
            render_case(&mut out, case, &[], regressed);
        }
        w.write_all(out.as_bytes())?;
    }
    w.write_all(b"</body></html>\n")
}

fn render_case(out: &mut String, case: &CaseResult, steps: &[Step], regressed: bool) {
    let open = if matches!(case.status, CaseStatus::Failed | CaseStatus::Errored) || regressed {
        " open"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "<details{open} id=\"case-{id}\"><summary><span class=\"pill {st}\">{st}</span> <b>{id}</b>{reg} <span class=\"muted\">score {score} · {tags}</span></summary>",
        id = esc(&case.id),
        st = case.status.as_str(),
        reg = if regressed { " <span class=\"pill failed\">regressed</span>" } else { "" },
        score = case.score.map(score).unwrap_or_else(|| "–".into()),
        tags = esc(&case.tags.join(", ")),
    );
    if let Some(r) = &case.repeats {
        let _ = writeln!(
            out,
            "<p class=\"muted\">{} of {} runs passed ({} errored)</p>",
            r.passes, r.runs, r.errored
        );
    }
    if let Some(e) = &case.error {
        let _ = writeln!(out, "<p class=\"pill errored\">{}</p>", esc(e));
    }
    out.push_str("<table><tr><th>check</th><th>outcome</th><th>score</th><th>reason</th></tr>");
    for v in &case.checks {
        let cls = match v.outcome {
            Outcome::Pass => "pass",
            Outcome::SoftFail => "soft_fail",
            Outcome::Fail => "fail",
            Outcome::Error => "error",
            Outcome::Skipped => "skipped",
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td><span class=\"pill {cls}\">{}</span></td><td>{}</td><td>{}</td></tr>",
            esc(&v.check),
            v.outcome.as_str(),
            v.score.map(score).unwrap_or_else(|| "–".into()),
            esc(&v.reason)
        );
    }
    out.push_str("</table>\n<div class=\"timeline\">\n");
    for step in steps {
        render_step(out, step);
    }
    let _ = writeln!(
        out,
        "</div><p><b>output</b></p><pre>{}</pre></details>",
        esc(&case.output)
    );
}

pub(crate) fn render_step(out: &mut String, step: &Step) {
    match step {
        Step::User { content } => {
            let _ = writeln!(
                out,
                "<div class=\"step user\"><b>user</b><pre>{}</pre></div>",
                esc(content)
            );
        }
        Step::Model {
            content,
            tool_calls,
            usage,
            model,
            agent,
            metadata,
            ..
        } => {
            let _ = write!(
                out,
                "<div class=\"step model\"><b>model</b> <span class=\"muted\">{} · {} in / {} out</span>",
                esc(model),
                usage.input_tokens,
                usage.output_tokens
            );
            if let Some(c) = content.as_deref().filter(|c| !c.is_empty()) {
                let _ = write!(out, "<pre>{}</pre>", esc(c));
            }
            for call in tool_calls {
                let _ = write!(
                    out,
                    "<pre>→ {}({})</pre>",
                    esc(&call.name),
                    esc(&call.args.to_string())
                );
            }
            render_extras(out, agent.as_deref(), metadata);
            out.push_str("</div>\n");
        }
        Step::Tool {
            name,
            args,
            result,
            error,
            agent,
            metadata,
            ..
        } => {
            let err = if error.is_some() { " err" } else { "" };
            let _ = write!(
                out,
                "<div class=\"step tool{err}\"><b>tool</b> {}<pre>{}</pre>",
                esc(name),
                esc(&args.to_string())
            );
            if let Some(r) = result {
                let _ = write!(out, "<pre>{}</pre>", esc(&r.to_string()));
            }
            if let Some(e) = error {
                let _ = write!(out, "<pre>error: {}</pre>", esc(e));
            }
            render_extras(out, agent.as_deref(), metadata);
            out.push_str("</div>\n");
        }
        Step::Escalation { reason } => {
            let _ = writeln!(
                out,
                "<div class=\"step escalation\"><b>escalated</b> {}</div>",
                esc(reason)
            );
        }
        Step::Agent {
            name,
            steps,
            metadata,
            ..
        } => {
            // A collapsible subtree, open, summarised by the work under it.
            let (calls, tools, tokens) = subtree_work(steps);
            let _ = writeln!(
                out,
                "<details open class=\"step agent\"><summary><b>agent</b> {} <span class=\"muted\">{calls} model calls · {tools} tool calls · {tokens} tokens</span></summary>",
                esc(name)
            );
            render_extras(out, None, metadata);
            out.push_str("<div class=\"timeline\">\n");
            for step in steps {
                render_step(out, step);
            }
            out.push_str("</div></details>\n");
        }
    }
}

/// Model calls, tool calls and tokens of a subtree, nested agents included.
fn subtree_work(steps: &[Step]) -> (usize, usize, u64) {
    steps.iter().fold((0, 0, 0), |(c, t, k), s| match s {
        Step::Model { usage, .. } => (c + 1, t, k.saturating_add(usage.total())),
        Step::Tool { .. } => (c, t + 1, k),
        Step::Agent { steps, .. } => {
            let (c2, t2, k2) = subtree_work(steps);
            (c + c2, t + t2, k.saturating_add(k2))
        }
        _ => (c, t, k),
    })
}

/// A step's agent and metadata, when it has any (nothing otherwise, so a trajectory without
/// them renders as it always did).
fn render_extras(out: &mut String, agent: Option<&str>, metadata: &Metadata) {
    if let Some(a) = agent {
        let _ = write!(out, "<span class=\"muted\">agent {}</span>", esc(a));
    }
    if !metadata.is_empty() {
        let mut text = String::new();
        for (k, v) in metadata {
            let v = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let _ = writeln!(text, "{k}: {v}");
        }
        let _ = write!(
            out,
            "<details class=\"meta\"><summary class=\"muted\">metadata</summary><pre>{}</pre></details>",
            esc(&text)
        );
    }
}

/// HTML text and attribute escaping. Bidirectional controls (embeddings, overrides and
/// isolates) are shown as `[U+202E]`: left in, they would reorder what the reviewer reads
/// (a right-to-left override makes `exe.txt` look like `txt.exe`).
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {
                let _ = write!(out, "[U+{:04X}]", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::trajectory_source::InMemory;
    use crate::results::fixture::{sample_report, sample_trajectories};

    #[test]
    fn nested_agents_their_calls_and_metadata_render_escaped() {
        let tool = Step::Tool {
            id: String::new(),
            name: "lookup_order".into(),
            args: serde_json::json!({}),
            result: None,
            error: None,
            latency_ms: None,
            agent: Some("orders".into()),
            started_at: None,
            metadata: [("gen_ai.system".to_string(), serde_json::json!("<rules>"))].into(),
        };
        let mut out = String::new();
        render_step(
            &mut out,
            &Step::Agent {
                name: "orders<1>".into(),
                steps: vec![tool],
                started_at: None,
                latency_ms: None,
                metadata: Default::default(),
            },
        );
        assert!(out.contains("<details open class=\"step agent\"><summary><b>agent</b> orders&lt;1&gt; <span class=\"muted\">0 model calls · 1 tool calls · 0 tokens</span></summary>"), "{out}");
        assert!(out.ends_with("</div></details>\n"), "{out}");
        assert!(out.contains("<b>tool</b> lookup_order"), "{out}");
        assert!(
            out.contains("<span class=\"muted\">agent orders</span>"),
            "{out}"
        );
        assert!(out.contains("gen_ai.system: &lt;rules&gt;"), "{out}");
        assert!(!out.contains("<rules>"), "{out}");
        // Without agent or metadata a step renders as it always did: no extra markup.
        let mut plain = String::new();
        render_step(&mut plain, &Step::Escalation { reason: "x".into() });
        assert!(!plain.contains("metadata"));
    }

    #[test]
    fn a_tiny_p_value_reads_below_the_floor_escaped() {
        let mut r = sample_report();
        r.baseline = Some(crate::results::compare::Comparison {
            change: crate::results::compare::Change {
                p: 0.0,
                ..Default::default()
            },
            ..Default::default()
        });
        let html = render_html(&r, &mut InMemory::new(sample_trajectories()));
        assert!(html.contains("p &lt; 0.0001</p>"), "{html}");
        assert!(!html.contains("p = 0<"), "{html}");
    }

    #[test]
    fn escapes_every_piece_of_text() {
        let mut r = sample_report();
        r.cases[0].output = "<script>alert('x')</script>".into();
        r.cases[0].id = "a\"><img src=x onerror=alert(1)>".into();
        let html = render_html(&r, &mut InMemory::new(sample_trajectories()));
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assert!(
            html.contains("default-src 'none'"),
            "scripts and network are forbidden"
        );
    }

    #[test]
    fn bidi_controls_are_shown_marked() {
        let mut r = sample_report();
        r.cases[0].output = "name\u{202E}txt.exe \u{2066}x\u{2069}".into();
        let html = render_html(&r, &mut InMemory::new(sample_trajectories()));
        assert!(
            html.contains("name[U+202E]txt.exe [U+2066]x[U+2069]"),
            "{html}"
        );
        for c in ['\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}'] {
            assert!(!html.contains(c), "{c:?} left in");
        }
    }

    #[test]
    fn a_big_run_shows_the_steps_of_the_cases_that_did_not_pass_only() {
        let mut report = sample_report();
        let with_steps = |html: &str, id: &str| {
            let case = &html[html.find(&format!("id=\"case-{id}\"")).unwrap()..];
            case[..case.find("</details>").unwrap()].contains("class=\"step ")
        };
        let html = render_html(&report, &mut InMemory::new(sample_trajectories()));
        assert!(with_steps(&html, "order-status") && with_steps(&html, "refund-late"));
        assert!(!html.contains("shown without their steps"));
        let passed = report
            .cases
            .iter()
            .find(|c| c.id == "order-status")
            .cloned()
            .unwrap();
        for i in 0..MAX_CASES_WITH_ALL_STEPS {
            let mut c = passed.clone();
            c.id = format!("bulk-{i:04}");
            report.cases.push(c);
        }
        let html = render_html(&report, &mut InMemory::new(sample_trajectories()));
        assert!(!with_steps(&html, "order-status") && !with_steps(&html, "bulk-0007"));
        assert!(with_steps(&html, "refund-late") && with_steps(&html, "angry-customer"));
        assert!(html.contains(&format!(
            "{} passed cases are shown without their steps",
            MAX_CASES_WITH_ALL_STEPS + 1
        )));
        // Nothing passed: nothing is left out, and no note says otherwise.
        report.cases.retain(|c| c.status != CaseStatus::Passed);
        let failed = report
            .cases
            .iter()
            .find(|c| c.id == "refund-late")
            .cloned()
            .unwrap();
        let mut source = InMemory::new(sample_trajectories());
        let steps = sample_trajectories()["refund-late"].clone();
        for i in 0..MAX_CASES_WITH_ALL_STEPS {
            let mut c = failed.clone();
            c.id = format!("zz-{i:04}");
            source.insert(c.id.clone(), steps.clone());
            report.cases.push(c);
        }
        let html = render_html(&report, &mut source);
        assert!(with_steps(&html, "zz-0999"));
        assert!(!html.contains("shown without their steps"));
    }

    #[test]
    fn failures_come_first_and_are_open() {
        let html = render_html(&sample_report(), &mut InMemory::new(sample_trajectories()));
        let pos = |id: &str| html.find(&format!("id=\"case-{id}\"")).unwrap();
        assert!(pos("refund-late") < pos("order-status"));
        assert!(html.contains("<details open id=\"case-refund-late\">"));
        insta::assert_snapshot!(html);
    }
}
