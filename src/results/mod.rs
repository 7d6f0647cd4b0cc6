//! The results stage: one run's result, the case reduced over repeats, the summary, the
//! baseline comparison and merge. Everything `report/` renders is built here; nothing here
//! renders.
pub mod build;
pub(crate) mod case_result;
pub(crate) mod compare;
pub mod confirm;
pub(crate) mod confirmation;
#[cfg(test)]
pub(crate) mod fixture;
pub(crate) mod merge;
pub mod repeats;
pub(crate) mod run_report;
pub mod run_result;
pub(crate) mod summary;
