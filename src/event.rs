//! `RunEvent`: what the runner tells reporters while a run goes on. The runner never formats.

use crate::report::model::CaseResult;

#[derive(Debug, Clone)]
pub enum RunEvent {
    /// A suite's run begins with `total` cases to run.
    SuiteStarted {
        suite: String,
        total: usize,
    },
    CaseStarted {
        id: String,
    },
    CaseFinished {
        result: Box<CaseResult>,
    },
    /// First Ctrl-C: no new cases are started; running ones finish.
    Cancelling,
    SuiteFinished {
        suite: String,
    },
}
