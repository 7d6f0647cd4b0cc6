//! `RunEvent`: what the runner (and, once the report is built, the command) tells reporters
//! while a run goes on. Neither formats: reporters (`crate::reporter`) do.

use crate::cancellation::Cancellation;
use crate::results::run_report::RunReport;
use crate::results::run_result::RunResult;

/// Borrowed from the runner for the length of one callback, so reporting a finished run
/// never copies its trajectory.
#[derive(Debug, Clone)]
pub enum RunEvent<'a> {
    /// A suite's run begins with `total` runs to do (cases × repeats not done yet).
    SuiteStarted {
        suite: String,
        total: usize,
    },
    /// Run `repeat` (0-based) of case `id` starts.
    RunStarted {
        id: String,
        repeat: u32,
    },
    /// A run finished and was scored; its repeat index is `result.repeat`.
    RunFinished {
        result: &'a RunResult,
    },
    /// The run was asked to stop: draining (no new case starts) or aborting.
    Cancelled {
        level: Cancellation,
    },
    SuiteFinished {
        suite: String,
    },
    /// The report of the suite is built and its files written.
    Reported {
        report: &'a RunReport,
    },
}
