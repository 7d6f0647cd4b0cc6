//! `render_json`: `report.json`, the record of a run, and `meta.json` beside it.

use std::io::{self, Write};

use serde::Serialize;

use crate::results::run_report::{Meta, RunReport};

/// Pretty JSON with a trailing newline. Equal reports give byte-identical output: every map in
/// the model is a `BTreeMap` and field order is fixed by the struct. Trajectories are left out
/// (they go to `trajectories.jsonl`).
pub fn render_json(report: &RunReport) -> String {
    pretty(report)
}

/// `render_json`, streamed into `w` (a big run's report is never held as one string).
pub(crate) fn write_json(w: &mut dyn Write, report: &RunReport) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, report).map_err(io::Error::from)?;
    w.write_all(b"\n")
}

/// `meta.json`: what varies between identical runs (version, concurrency, duration).
pub(crate) fn render_meta(meta: &Meta) -> String {
    pretty(meta)
}

fn pretty<T: Serialize>(value: &T) -> String {
    // serde_json only fails on non-string map keys or a failing `Serialize` impl; the report
    // types have neither, so this is an invariant, not a runtime condition.
    let mut out = serde_json::to_string_pretty(value).expect("report types serialize to JSON");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::fixture::sample_report;

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render_json(&sample_report()));
    }

    #[test]
    fn round_trips() {
        let report = sample_report();
        let text = render_json(&report);
        let back: RunReport = serde_json::from_str(&text).expect("report.json parses");
        // Everything but the wall-clock times, which report.json leaves out on purpose.
        let mut timeless = report.clone();
        for c in &mut timeless.cases {
            assert!(c.latency_ms.is_some() || c.steps == 0, "{}", c.id);
            (c.latency_ms, c.duration_ms) = (None, None);
        }
        assert_eq!(back, timeless);
        // And re-rendering what was read gives the same bytes.
        assert_eq!(render_json(&back), text);
    }

    #[test]
    fn byte_identical_whatever_order_runs_finish_in() {
        use crate::results::fixture::{report_of, sample_runs};
        let want = render_json(&sample_report());
        let mut runs = sample_runs();
        for rotation in 0..runs.len() {
            runs.rotate_left(1);
            let mut reversed = runs.clone();
            reversed.reverse();
            for order in [runs.clone(), reversed] {
                assert_eq!(render_json(&report_of(order)), want, "rotation {rotation}");
            }
        }
    }

    #[test]
    fn trajectories_and_latencies_stay_out_of_report_json() {
        let text = render_json(&sample_report());
        assert!(text.ends_with("}\n"));
        assert!(!text.contains("\"trajectory\""));
        assert!(!text.contains("\"steps\": ["));
        assert!(!text.contains("latency"));
    }

    #[test]
    fn streamed_and_rendered_are_the_same_bytes() {
        let report = sample_report();
        let mut streamed = Vec::new();
        write_json(&mut streamed, &report).expect("writes to memory");
        assert_eq!(
            String::from_utf8(streamed).expect("utf-8"),
            render_json(&report)
        );
    }

    #[test]
    fn meta_is_pretty_json() {
        let meta = Meta {
            gauntlet_version: "0.1.0".into(),
            concurrency: 8,
            duration_ms: 1234,
            ..Meta::default()
        };
        let text = render_meta(&meta);
        let back: Meta = serde_json::from_str(&text).expect("meta.json parses");
        assert_eq!(back, meta);
        assert!(text.ends_with("}\n"));
    }
}
