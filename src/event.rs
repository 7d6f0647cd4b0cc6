//! `RunEvent`: what the runner tells reporters while a run goes on. The runner never formats.

use crate::results::run_result::RunResult;

/// Borrowed from the runner for the length of one callback, so reporting a finished case
/// never copies its trajectory.
#[derive(Debug, Clone)]
pub enum RunEvent<'a> {
    /// A suite's run begins with `total` cases to run.
    SuiteStarted {
        suite: String,
        total: usize,
    },
    CaseStarted {
        id: String,
    },
    CaseFinished {
        result: &'a RunResult,
    },
    /// First Ctrl-C: no new cases are started; running ones finish.
    Cancelling,
    SuiteFinished {
        suite: String,
    },
}
