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
        let mut empty = InMemory::default();
        assert_eq!(
            *empty.trajectory(&report.cases[0]).unwrap(),
            Trajectory::default()
        );
    }
}
