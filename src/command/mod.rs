//! The subcommands, one file per family; `cli` parses and dispatches.
pub mod calibrate;
pub(crate) mod calibration_gate;
pub mod completions;
pub mod confirm_runs;
pub mod eval;
pub mod history;
pub(crate) mod history_record;
pub mod import;
pub mod init;
pub mod inspect;
pub(crate) mod merge_history;
pub mod reports;
pub mod schema;
