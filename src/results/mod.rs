//! The results stage: one run's result, the case reduced over repeats, the summary, the
//! baseline comparison and merge. Everything `report/` renders is built here; nothing here
//! renders.
pub mod build;
pub mod case_result;
pub mod compare;
pub mod confirm;
pub mod confirmation;
#[cfg(test)]
pub(crate) mod fixture;
pub mod merge;
pub mod repeats;
pub mod run_report;
pub mod run_result;
pub mod summary;
