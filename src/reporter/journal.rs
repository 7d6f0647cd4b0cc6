//! `JournalReporter`: appends each finished run to the run's journal as it finishes, so a
//! killed run loses nothing that had finished, and keeps where each trajectory went for the
//! report writers.

use std::collections::HashMap;
use std::io;

use crate::event::RunEvent;
use crate::journal::{Journal, JournalTrajectories};
use crate::report::trajectory_source::InMemory;
use crate::reporter::fan_out::Reporter;
use crate::results::case_result::CaseResult;
use crate::trajectory::Trajectory;

pub(crate) struct JournalReporter {
    journal: Journal,
    /// An append failed: warned about once, the journal is not written again.
    failed: bool,
    /// Trajectories of the runs the journal could not take, by (case id, repeat).
    unjournalled: HashMap<(String, u32), Trajectory>,
}

impl JournalReporter {
    pub(crate) fn new(journal: Journal) -> Self {
        JournalReporter {
            journal,
            failed: false,
            unjournalled: HashMap::new(),
        }
    }

    /// The trajectories of the report's `cases` (their representative runs): read back from
    /// the journal, or kept in memory for a run the journal could not take.
    pub(crate) fn trajectories(
        &mut self,
        cases: &[CaseResult],
    ) -> io::Result<JournalTrajectories<'_>> {
        let mut kept = InMemory::default();
        for case in cases {
            if let Some(t) = self.unjournalled.remove(&(case.id.clone(), case.repeat)) {
                kept.insert(case.id.clone(), t);
            }
        }
        self.journal.trajectories(kept)
    }

    /// Gives the journal back (its lock goes with it).
    pub(crate) fn into_journal(self) -> Journal {
        self.journal
    }
}

impl Reporter for JournalReporter {
    fn on_event(&mut self, event: &RunEvent<'_>) {
        let RunEvent::RunFinished { result } = event else {
            return;
        };
        if let Err(e) = self.journal.append(result) {
            if !self.failed {
                eprintln!(
                    "warning: cannot append to {}: {e}",
                    self.journal.path().display()
                );
            }
            self.failed = true;
            // Rare (a full disk): only then is a trajectory copied.
            self.unjournalled.insert(
                (result.id.clone(), result.repeat),
                result.trajectory.clone(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::trajectory_source::TrajectorySource;
    use crate::results::fixture::sample_runs;

    #[test]
    fn finished_runs_are_journalled_and_read_back_for_the_reports() {
        let dir = tempfile::tempdir().unwrap();
        let runs = sample_runs();
        let fingerprints = runs.iter().map(|r| (r.id.clone(), "f".into())).collect();
        let (journal, _) = Journal::open(dir.path(), "support", false, fingerprints).unwrap();
        let mut reporter = JournalReporter::new(journal);
        for r in &runs {
            reporter.on_event(&RunEvent::RunStarted {
                id: r.id.clone(),
                repeat: r.repeat,
            });
            reporter.on_event(&RunEvent::RunFinished { result: r });
        }
        let cases: Vec<CaseResult> = runs.iter().map(|r| r.clone().into_case()).collect();
        let mut back = reporter.trajectories(&cases).unwrap();
        for (run, case) in runs.iter().zip(&cases) {
            assert_eq!(
                *back.trajectory(case).unwrap(),
                run.trajectory,
                "{}",
                run.id
            );
        }
        drop(back);
        let path = dir.path().join(crate::journal::JOURNAL_FILE);
        let read = crate::journal::read(&path, "support").unwrap();
        assert_eq!(read.len(), runs.len());
    }
}
