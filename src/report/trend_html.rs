//! The trend page of `gauntlet history --html`: one self-contained file (inline CSS and SVG,
//! no script, no network) with the pass rate and its 95% interval band, cost and latency over
//! the runs, the pass rate per tag, the drift verdict and a case × run grid of statuses.
//! Every piece of text from the store (ids, tags, branches) is escaped.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::drift::{describe, Drift};
use crate::history::query::History;
use crate::history::record::RunRecord;
use crate::verdict::CaseStatus;

const W: f64 = 720.0;
const H: f64 = 200.0;
const PAD: f64 = 40.0;

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A series to draw: its name, colour and one value per run (`None`: a gap).
struct Series<'a> {
    name: &'a str,
    color: &'a str,
    values: Vec<Option<f64>>,
}

/// An SVG line chart over the runs; `band` (low, high per run) is shaded behind the first
/// series; `max` fixes the top of the y axis (else the data's).
fn chart(
    title: &str,
    series: &[Series<'_>],
    band: Option<&[Option<[f64; 2]>]>,
    max: Option<f64>,
) -> String {
    let n = series.first().map_or(0, |s| s.values.len());
    let top = max.unwrap_or_else(|| {
        series
            .iter()
            .flat_map(|s| s.values.iter().flatten())
            .fold(0.0f64, |a, b| a.max(*b))
            * 1.1
    });
    let top = if top > 0.0 { top } else { 1.0 };
    let x = |i: usize| {
        if n <= 1 {
            W / 2.0
        } else {
            PAD + (W - 2.0 * PAD) * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: f64| H - PAD / 2.0 - (H - PAD) * (v / top).clamp(0.0, 1.0);
    let mut svg = format!(
        "<figure><figcaption>{}</figcaption><svg role=\"img\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" xmlns=\"http://www.w3.org/2000/svg\">",
        esc(title)
    );
    let _ = write!(
        svg,
        "<line x1=\"{PAD}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" class=\"axis\"/><text x=\"2\" y=\"{2}\" class=\"tick\">{3}</text><text x=\"2\" y=\"{0}\" class=\"tick\">0</text>",
        H - PAD / 2.0,
        W - PAD,
        PAD / 2.0 + 4.0,
        fmt(top)
    );
    if let Some(band) = band {
        let upper: Vec<String> = band
            .iter()
            .enumerate()
            .filter_map(|(i, b)| b.map(|[_, hi]| format!("{:.1},{:.1}", x(i), y(hi))))
            .collect();
        let lower: Vec<String> = band
            .iter()
            .enumerate()
            .rev()
            .filter_map(|(i, b)| b.map(|[lo, _]| format!("{:.1},{:.1}", x(i), y(lo))))
            .collect();
        if !upper.is_empty() {
            let _ = write!(
                svg,
                "<polygon class=\"band\" points=\"{} {}\"><title>95% Wilson interval</title></polygon>",
                upper.join(" "),
                lower.join(" ")
            );
        }
    }
    for s in series {
        let points: Vec<String> = s
            .values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| format!("{:.1},{:.1}", x(i), y(v))))
            .collect();
        let _ = write!(
            svg,
            "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"{}\"/>",
            s.color,
            points.join(" ")
        );
        for (i, v) in s.values.iter().enumerate() {
            if let Some(v) = v {
                let _ = write!(
                    svg,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{}\"><title>{} run {}: {}</title></circle>",
                    x(i),
                    y(*v),
                    s.color,
                    esc(s.name),
                    i + 1,
                    fmt(*v)
                );
            }
        }
    }
    svg.push_str("</svg><p class=\"legend\">");
    for s in series {
        let _ = write!(
            svg,
            "<span style=\"color:{}\">■</span> {} ",
            s.color,
            esc(s.name)
        );
    }
    svg.push_str("</p></figure>\n");
    svg
}

fn fmt(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.4}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

fn status_class(s: Option<CaseStatus>) -> &'static str {
    match s {
        None => "none",
        Some(CaseStatus::Passed) => "passed",
        Some(CaseStatus::SoftFailed) => "soft_failed",
        Some(CaseStatus::Failed) => "failed",
        Some(CaseStatus::Errored) => "errored",
        Some(CaseStatus::Flaky) => "flaky",
    }
}

/// Pass rate per tag per run, over the cases that carry the tag.
fn by_tag(runs: &[RunRecord]) -> BTreeMap<String, Vec<Option<f64>>> {
    let mut out: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::new();
    for (i, run) in runs.iter().enumerate() {
        let mut counts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for c in &run.cases {
            for t in &c.tags {
                let e = counts.entry(t).or_default();
                e.0 += usize::from(c.status.is_pass());
                e.1 += 1;
            }
        }
        for (tag, (passed, total)) in counts {
            out.entry(tag.to_string())
                .or_insert_with(|| vec![None; runs.len()])[i] = Some(passed as f64 / total as f64);
        }
    }
    out
}

pub(crate) fn render(h: &History, runs: &[RunRecord], drift: &Drift) -> String {
    let mut page = String::from(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">",
    );
    let _ = write!(
        page,
        "<title>gauntlet history: {}</title><style>{CSS}</style></head><body>\n<h1>Run history of <code>{}</code></h1>\n<p>{} runs</p>\n",
        esc(&h.suite),
        esc(&h.suite),
        h.runs.len()
    );
    page.push_str("<section id=\"drift\"><h2>Drift</h2>");
    if drift.alerts.is_empty() && drift.judges.is_empty() {
        let _ = write!(
            page,
            "<p class=\"ok\">No drift over the last {} runs (Mann–Kendall, one-sided, alpha {}).</p>",
            drift.runs, drift.alpha
        );
    }
    for a in &drift.alerts {
        let _ = write!(page, "<p class=\"alert\">⚠ {}</p>", esc(&describe(a)));
    }
    for a in &drift.judges {
        let _ = write!(
            page,
            "<p class=\"alert\">⚠ {}</p>",
            esc(&crate::judge_drift::describe(a))
        );
    }
    page.push_str("</section>\n");

    let pass: Vec<Option<f64>> = h.runs.iter().map(|r| Some(r.pass_rate)).collect();
    let band: Vec<Option<[f64; 2]>> = h.runs.iter().map(|r| r.pass_rate_ci).collect();
    page.push_str(&chart(
        "Pass rate, with its 95% interval",
        &[Series {
            name: "pass rate",
            color: "#2b6cb0",
            values: pass,
        }],
        Some(&band),
        Some(1.0),
    ));
    page.push_str(&chart(
        "Cost (USD per run)",
        &[Series {
            name: "cost",
            color: "#b7791f",
            values: h.runs.iter().map(|r| r.cost_usd).collect(),
        }],
        None,
        None,
    ));
    page.push_str(&chart(
        "Case latency (ms)",
        &[
            Series {
                name: "p50",
                color: "#2f855a",
                values: h.runs.iter().map(|r| r.latency_p50_ms).collect(),
            },
            Series {
                name: "p95",
                color: "#c53030",
                values: h.runs.iter().map(|r| r.latency_p95_ms).collect(),
            },
        ],
        None,
        None,
    ));

    let tags = by_tag(runs);
    if !tags.is_empty() {
        page.push_str("<h2>Pass rate per tag</h2><table class=\"tags\"><tr><th>tag</th>");
        for i in 1..=runs.len() {
            let _ = write!(page, "<th>{i}</th>");
        }
        page.push_str("</tr>");
        for (tag, rates) in &tags {
            let _ = write!(page, "<tr><th>{}</th>", esc(tag));
            for r in rates {
                match r {
                    Some(r) => {
                        let _ = write!(page, "<td>{:.0}%</td>", r * 100.0);
                    }
                    None => page.push_str("<td>·</td>"),
                }
            }
            page.push_str("</tr>");
        }
        page.push_str("</table>\n");
    }

    page.push_str("<h2>Runs</h2><table class=\"runs\"><tr><th>#</th><th>started</th><th>branch</th><th>commit</th><th>pass rate</th><th>cost $</th><th>tokens</th><th>p50 ms</th><th>p95 ms</th><th>gate</th></tr>");
    for (i, r) in h.runs.iter().enumerate() {
        let opt = |v: Option<f64>| v.map_or("-".to_string(), fmt);
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{:.1}% ({}/{})</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            i + 1,
            esc(&r.started_at),
            esc(r.branch.as_deref().unwrap_or("-")),
            esc(r.commit.as_deref().unwrap_or("-")),
            r.pass_rate * 100.0,
            r.passed,
            r.total,
            opt(r.cost_usd),
            r.tokens,
            opt(r.latency_p50_ms),
            opt(r.latency_p95_ms),
            if r.gate_passed { "passed" } else { "failed" }
        );
    }
    page.push_str("</table>\n");

    page.push_str("<h2>Cases × runs</h2><table class=\"grid\"><tr><th>case</th><th>flips</th>");
    for i in 1..=h.runs.len() {
        let _ = write!(page, "<th>{i}</th>");
    }
    page.push_str("</tr>");
    for c in &h.cases {
        let _ = write!(
            page,
            "<tr><th>{}</th><td>{} ({:.0}%)</td>",
            esc(&c.id),
            c.flips,
            c.flake_rate * 100.0
        );
        for (i, s) in c.statuses.iter().enumerate() {
            let class = status_class(*s);
            let _ = write!(
                page,
                "<td class=\"s {class}\" title=\"{} run {}: {}\"></td>",
                esc(&c.id),
                i + 1,
                class
            );
        }
        page.push_str("</tr>");
    }
    page.push_str("</table>\n</body></html>\n");
    page
}

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#1a202c}\
figure{margin:1em 0}figcaption{font-weight:600}svg{background:#f7fafc;border:1px solid #e2e8f0}\
.axis{stroke:#a0aec0}.tick{font-size:10px;fill:#4a5568}.band{fill:#bee3f8;stroke:none}\
.legend{font-size:12px;margin:0}.alert{color:#9b2c2c;font-weight:600}.ok{color:#276749}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #e2e8f0;padding:2px 6px;font-size:12px}\
.grid td.s{width:14px;height:14px;padding:0}.passed{background:#48bb78}.soft_failed{background:#ecc94b}\
.failed{background:#e53e3e}.errored{background:#718096}.flaky{background:#ed8936}.none{background:#fff}";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::query::history;
    use crate::history::record::CaseRecord;

    fn run(id: i64, case: &str, status: CaseStatus) -> RunRecord {
        RunRecord {
            id,
            suite: "s<x>".into(),
            started_at: id * 86_400,
            commit: None,
            branch: Some("<b>".into()),
            target: "t".into(),
            models: vec![],
            incomplete: None,
            gate_passed: true,
            summary: Default::default(),
            cost_usd: Some(0.25 * id as f64),
            cases: vec![CaseRecord {
                id: case.into(),
                tags: vec!["<tag>".into()],
                status,
                score: None,
                runs: 1,
                passes: 1,
                input_tokens: 1,
                output_tokens: 1,
                cost_usd: Some(0.25),
                latency_ms: Some(100 * id as u64),
                tools: vec![],
            }],
            judge_scores: vec![],
        }
    }

    #[test]
    fn text_is_escaped_and_every_part_is_there() {
        let runs = vec![
            run(1, "<script>alert(1)</script>", CaseStatus::Passed),
            run(2, "<script>alert(1)</script>", CaseStatus::Failed),
        ];
        let page = render(&history("s<x>", &runs), &runs, &Drift::default());
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!page.contains("<b>") && !page.contains("<tag>"));
        for part in [
            "Pass rate, with its 95% interval",
            "class=\"band\"",
            "Cost (USD per run)",
            "p95",
            "Cases × runs",
            "class=\"s failed\"",
            "Pass rate per tag",
        ] {
            assert!(page.contains(part), "{part}");
        }
        assert!(
            !page.contains("src=\"http"),
            "nothing loads from the network"
        );
    }

    #[test]
    fn a_judge_alert_is_shown_and_escaped_instead_of_no_drift() {
        let runs = vec![run(1, "a", CaseStatus::Passed)];
        let drift = Drift {
            runs: 8,
            alpha: 0.05,
            alerts: vec![],
            judges: vec![crate::drift::JudgeDriftAlert {
                judge: "<tone>".into(),
                runs: 8,
                cases: 3,
                shift: -0.5,
                slope: -0.07,
                s: -20,
                z: -2.5,
                p: 0.01,
            }],
        };
        let page = render(&history("s", &runs), &runs, &drift);
        assert!(page.contains("judge drift: `&lt;tone&gt;`"), "{page}");
        assert!(!page.contains("No drift"), "{page}");
        let page = render(&history("s", &runs), &runs, &Drift::default());
        assert!(page.contains("No drift"), "{page}");
    }
}
