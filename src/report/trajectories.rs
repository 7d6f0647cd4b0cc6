//! `render_trajectories`: `trajectories.jsonl`, one `TrajectoryLine` per case, sorted by id.
//!
//! This file is what a `replay` target reads back, so its shape is a protocol: one JSON object a
//! line, `{"id": ..., "status": ..., "target": ..., "trajectory": <Trajectory>}`. Latencies are
//! kept here. `target` is the report's target label, so that a replay reports the target that
//! recorded the trajectories (and reproduces the original `report.json`).

use std::io::{self, Write};

use crate::report::trajectory_source::TrajectorySource;
use crate::results::run_report::RunReport;

/// One compact JSON line per case, sorted by id, each ending in a newline, with the
/// trajectories held in memory.
#[cfg(test)]
pub(crate) fn render_trajectories(
    report: &RunReport,
    trajectories: &mut crate::report::trajectory_source::InMemory,
) -> String {
    let mut out = Vec::new();
    // Trajectories hold only strings and JSON values, and a Vec and `InMemory` do no I/O:
    // nothing here can fail.
    write_trajectories(&mut out, report, trajectories).expect("trajectories serialize to JSON");
    String::from_utf8(out).expect("JSON is utf-8")
}

/// `render_trajectories`, streamed into `w`, each case's trajectory taken from `source` in
/// turn, so only one is in memory at a time.
pub(crate) fn write_trajectories(
    w: &mut dyn Write,
    report: &RunReport,
    source: &mut dyn TrajectorySource,
) -> io::Result<()> {
    let mut cases: Vec<_> = report.cases.iter().collect();
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    for case in cases {
        // The fields of `TrajectoryLine`, in its order, written by hand: the trajectory comes
        // from the source as JSON text, so a journal-backed source can copy it unparsed.
        w.write_all(b"{\"id\":")?;
        serde_json::to_writer(&mut *w, &case.id)?;
        w.write_all(b",\"status\":")?;
        serde_json::to_writer(&mut *w, &case.status)?;
        w.write_all(b",\"target\":")?;
        serde_json::to_writer(&mut *w, &report.target)?;
        w.write_all(b",\"trajectory\":")?;
        source.write_trajectory_json(case, w)?;
        w.write_all(b"}\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::trajectory_source::InMemory;
    use crate::results::fixture::{sample_report, sample_trajectories};
    use crate::trajectory_line::{parse_trajectories, TrajectoryLine};

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render_trajectories(
            &sample_report(),
            &mut InMemory::new(sample_trajectories())
        ));
    }

    #[test]
    fn lines_read_back_into_the_cases_trajectories() {
        let report = sample_report();
        let lines = parse_trajectories(&render_trajectories(
            &report,
            &mut InMemory::new(sample_trajectories()),
        ))
        .expect("parses back");
        let want: Vec<TrajectoryLine> = report
            .cases
            .iter()
            .map(|c| TrajectoryLine {
                id: c.id.clone(),
                status: c.status,
                target: Some(report.target.clone()),
                trajectory: sample_trajectories()[&c.id].clone(),
            })
            .collect();
        assert_eq!(lines, want);
    }

    #[test]
    fn sorted_by_id_even_if_the_report_is_not() {
        let mut report = sample_report();
        report.cases.reverse();
        let ids: Vec<String> = parse_trajectories(&render_trajectories(
            &report,
            &mut InMemory::new(sample_trajectories()),
        ))
        .expect("parses back")
        .into_iter()
        .map(|l| l.id)
        .collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }

    #[test]
    fn parse_errors_name_the_line() {
        let err = parse_trajectories("\n{\"id\": 1}\n")
            .expect_err("bad line")
            .to_string();
        assert!(err.starts_with("line 2: "), "{err}");
    }
}
