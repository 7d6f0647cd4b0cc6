//! `TrajectorySource`: where the report writers find each case's trajectory.
//!
//! A finished run's trajectory is the bulk of its memory, so `eval` keeps it only in the journal
//! and the writers of `trajectories.jsonl` and `index.html` read it back one case at a time
//! (`journal::JournalTrajectories`). Reports built in memory (`merge`, tests) use `InMemory`.

use std::borrow::Cow;
use std::io::{self, Write};

use crate::report::model::CaseResult;
use crate::trajectory::Trajectory;

/// The trajectory of a report case (its representative run, for a repeated case).
pub trait TrajectorySource {
    fn trajectory<'c>(&mut self, case: &'c CaseResult) -> io::Result<Cow<'c, Trajectory>>;

    /// Writes the trajectory as compact JSON.
    fn write_trajectory_json(&mut self, case: &CaseResult, out: &mut dyn Write) -> io::Result<()> {
        let trajectory = self.trajectory(case)?;
        serde_json::to_writer(out, trajectory.as_ref())?;
        Ok(())
    }
}

/// The trajectories the cases hold themselves.
#[derive(Debug, Clone, Copy, Default)]
pub struct InMemory;

impl TrajectorySource for InMemory {
    fn trajectory<'c>(&mut self, case: &'c CaseResult) -> io::Result<Cow<'c, Trajectory>> {
        Ok(Cow::Borrowed(&case.trajectory))
    }
}
