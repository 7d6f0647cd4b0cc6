//! Checks: deterministic (`eval`) and LLM-as-judge (`judge`).
pub mod judge;
pub mod spec;
