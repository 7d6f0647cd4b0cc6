//! Checks: validation (`parse`), deterministic evaluation (`eval`) and LLM-as-judge (`judge`).
pub mod arg_match;
pub mod calibrate;
pub mod calibration_gate;
pub mod calibration_stats;
pub mod command;
pub mod compile_cache;
pub mod eval;
pub mod expr;
pub mod json_subset;
pub mod judge;
pub mod judge_cache;
pub mod judge_output;
pub mod judge_samples;
pub mod parse;
pub mod spec;
pub mod trajectory_match;
