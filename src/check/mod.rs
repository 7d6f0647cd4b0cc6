//! Checks: the kind registry (`registry`), one file per family (`family::*`) with its shape,
//! validation and evaluation, the entry points `parse::from_raw`, `eval::evaluate` (pure) and
//! `grade::grade` (async, any check), and the judge rubrics (`judge`).
pub(crate) mod arg_match;
pub mod calibrate;
pub mod calibration_stats;
pub mod case;
pub mod command;
pub(crate) mod compile_cache;
pub mod eval;
pub(crate) mod expr;
pub mod family;
pub(crate) mod grade;
pub(crate) mod json_subset;
pub mod judge;
pub(crate) mod judge_cache;
pub(crate) mod judge_output;
pub(crate) mod judge_samples;
pub(crate) mod parse;
pub(crate) mod raw;
pub(crate) mod registry;
pub mod spec;
pub(crate) mod state_diff;
pub mod text_scope;
pub(crate) mod trajectory_match;
