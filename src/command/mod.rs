//! The subcommands, one file per family; `cli` parses and dispatches.
pub mod calibrate;
pub mod confirm_runs;
pub mod eval;
pub mod import;
pub mod inspect;
pub mod reports;
