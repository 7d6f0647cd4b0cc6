//! `TrajectorySource`: where the report writers find each case's trajectory.
//!
//! A report's cases hold no trajectory (`results::case_result`). A finished run's trajectory is
//! the bulk of its memory, so `eval` keeps it only in the journal and the writers of
//! `trajectories.jsonl` and `index.html` read it back one case at a time
//! (`journal::JournalTrajectories`). Reports built in memory (`merge`, tests) use `InMemory`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::results::case_result::CaseResult;
use crate::trajectory::Trajectory;

/// The trajectory of a report case (its representative run, for a repeated case).
pub(crate) trait TrajectorySource {
    fn trajectory(&mut self, case: &CaseResult) -> io::Result<Cow<'_, Trajectory>>;

    /// The trajectory without its end state (`state` is `None`), for a page that does not
    /// show it: a source that reads JSON back skips building the world.
    fn trajectory_without_state(&mut self, case: &CaseResult) -> io::Result<Cow<'_, Trajectory>> {
        self.trajectory(case)
    }

    /// Writes the trajectory as compact JSON.
    fn write_trajectory_json(&mut self, case: &CaseResult, out: &mut dyn Write) -> io::Result<()> {
        let trajectory = self.trajectory(case)?;
        serde_json::to_writer(out, trajectory.as_ref())?;
        Ok(())
    }
}

/// Trajectories held in memory, by case id (a report has one case per id). A case without
/// one has an empty trajectory: e.g. a merged shard whose `trajectories.jsonl` was missing.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct InMemory {
    by_id: BTreeMap<String, Trajectory>,
}

impl InMemory {
    #[cfg(test)]
    pub(crate) fn new(by_id: BTreeMap<String, Trajectory>) -> Self {
        InMemory { by_id }
    }

    pub(crate) fn insert(&mut self, id: String, trajectory: Trajectory) {
        self.by_id.insert(id, trajectory);
    }

    /// The trajectories of the cases `wanted` from a run's `trajectories.jsonl` of at most
    /// `max_file_bytes` (only those: a big run's file is its bulk), or why it cannot be read.
    pub(crate) fn read_jsonl(
        path: &std::path::Path,
        wanted: &std::collections::BTreeSet<String>,
        max_file_bytes: u64,
    ) -> Result<InMemory, String> {
        let text = crate::input_file::read_to_string(path, max_file_bytes)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let lines = crate::trajectory_line::parse_trajectories(&text)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(InMemory {
            by_id: lines
                .into_iter()
                .filter(|l| wanted.contains(&l.id))
                .map(|l| (l.id, l.trajectory))
                .collect(),
        })
    }
}

impl TrajectorySource for InMemory {
    fn trajectory(&mut self, case: &CaseResult) -> io::Result<Cow<'_, Trajectory>> {
        Ok(match self.by_id.get(&case.id) {
            Some(t) => Cow::Borrowed(t),
            None => Cow::Owned(Trajectory::default()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::fixture::{sample_report, sample_trajectories};

    #[test]
    fn serves_each_case_its_own_trajectory_and_an_empty_one_when_missing() {
        let report = sample_report();
        let want = sample_trajectories();
        let mut source = InMemory::new(want.clone());
        for case in &report.cases {
            assert_eq!(
                *source.trajectory(case).unwrap(),
                want[&case.id],
                "{}",
                case.id
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("trajectories.jsonl");
        std::fs::write(
            &file,
            crate::report::trajectories::render_trajectories(
                &report,
                &mut InMemory::new(want.clone()),
            ),
        )
        .unwrap();
        let wanted = [report.cases[0].id.clone()].into();
        let read = InMemory::read_jsonl(&file, &wanted, 1 << 20).unwrap();
        assert_eq!(
            read.by_id.keys().collect::<Vec<_>>(),
            vec![&report.cases[0].id]
        );
        let missing = InMemory::read_jsonl(&dir.path().join("nope"), &wanted, 1 << 20);
        assert!(missing.unwrap_err().contains("nope"));
        let mut empty = InMemory::default();
        assert_eq!(
            *empty.trajectory(&report.cases[0]).unwrap(),
            Trajectory::default()
        );
    }
}
