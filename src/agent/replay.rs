//! `ReplayTarget`: the trajectories of an earlier run, looked up by case id; calls nothing.
//!
//! Re-scoring recorded trajectories makes a change to a check or a judge free to try. The run
//! reports the target that *recorded* the trajectories (each `trajectories.jsonl` line names
//! it), so a replay of an unchanged suite reproduces the original `report.json` byte for byte.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::report::trajectories::TrajectoryLine;
use crate::suite::model::Case;
use crate::trajectory::Trajectory;

#[derive(Debug)]
pub struct ReplayTarget {
    /// The `trajectories.jsonl` read, as resolved from the suite.
    pub file: PathBuf,
    /// The label of the target that recorded the trajectories; `replay FILE` when the file does
    /// not say.
    pub label: String,
    pub trajectories: BTreeMap<String, Trajectory>,
}

impl ReplayTarget {
    /// Builds the target from the parsed lines; the later of two lines with one id wins (a
    /// file appended to by a re-run), and the label is the first line's target.
    pub fn new(file: PathBuf, written: &str, lines: Vec<TrajectoryLine>) -> Self {
        let label = lines
            .iter()
            .find_map(|l| l.target.clone())
            .unwrap_or_else(|| format!("replay {written}"));
        let trajectories = lines.into_iter().map(|l| (l.id, l.trajectory)).collect();
        ReplayTarget {
            file,
            label,
            trajectories,
        }
    }

    pub fn run(&self, case: &Case) -> Trajectory {
        match self.trajectories.get(&case.id) {
            Some(t) => t.clone(),
            None => Trajectory::errored(format!(
                "no recorded trajectory for case `{}` in {}",
                case.id,
                self.file.display()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::CaseStatus;

    fn line(id: &str, target: Option<&str>, output: &str) -> TrajectoryLine {
        TrajectoryLine {
            id: id.into(),
            status: CaseStatus::Passed,
            target: target.map(String::from),
            trajectory: Trajectory {
                output: output.into(),
                ..Default::default()
            },
        }
    }

    fn case(id: &str) -> Case {
        Case::new(id, "hi")
    }

    #[test]
    fn replays_by_id_and_errors_on_unknown_cases() {
        let t = ReplayTarget::new(
            "r/trajectories.jsonl".into(),
            "r/trajectories.jsonl",
            vec![
                line("a", Some("harness mock:support"), "one"),
                line("a", Some("harness mock:support"), "two"),
            ],
        );
        assert_eq!(t.label, "harness mock:support");
        assert_eq!(t.run(&case("a")).output, "two");
        let missing = t.run(&case("b"));
        assert_eq!(
            missing.error.as_deref(),
            Some("no recorded trajectory for case `b` in r/trajectories.jsonl")
        );
    }

    #[test]
    fn the_label_falls_back_to_the_file() {
        let t = ReplayTarget::new("x".into(), "old.jsonl", vec![line("a", None, "")]);
        assert_eq!(t.label, "replay old.jsonl");
    }
}
