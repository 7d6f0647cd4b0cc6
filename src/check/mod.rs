//! Checks: the kind registry (`registry`), one file per family (`family::*`) with its shape,
//! validation and evaluation, the entry points `parse::from_raw`, `eval::evaluate` (pure) and
//! `grade::grade` (async, any check), and the judge rubrics (`judge`).
pub mod arg_match;
pub mod calibrate;
pub mod calibration_gate;
pub mod calibration_stats;
pub mod case;
pub mod command;
pub mod compile_cache;
pub mod eval;
pub mod expr;
pub mod family;
pub mod grade;
pub mod json_subset;
pub mod judge;
pub mod judge_cache;
pub mod judge_output;
pub mod judge_samples;
pub mod parse;
pub mod raw;
pub mod registry;
pub mod spec;
pub mod trajectory_match;
