//! Exit codes: the contract with CI. One place, named, as documented in the README.

/// The gate passed.
pub const GATE_PASSED: u8 = 0;
/// The gate failed: quality below the bar, or regressions against the baseline.
pub const GATE_FAILED: u8 = 1;
/// Bad usage or invalid suite/dataset/judge: nothing was run.
pub const INVALID_INPUT: u8 = 2;
/// The run could not complete: too many errors, budget exhausted, aborted.
pub const RUN_INCOMPLETE: u8 = 3;
