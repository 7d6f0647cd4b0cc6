//! `Confirmation`: what `--confirm K` reran and decided, as report.json records it
//! (`baseline.confirmation`). Types only; the logic is in `results::confirm`.

use serde::{Deserialize, Serialize};

/// `baseline.confirmation` in report.json.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Confirmation {
    /// Fresh runs per rerun case (`--confirm K`).
    pub runs_per_case: u32,
    /// The multiple-comparison correction over the rerun cases.
    pub correction: String,
    /// The level the corrected p-values (q) were held to.
    pub alpha: f64,
    /// Every case rerun, by id, with its tallies and decision.
    pub cases: Vec<ConfirmedCase>,
    /// Cases that did worse but could not reach significance even if every fresh run failed
    /// (their baseline passed too rarely): not rerun, never a regression.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreachable: Vec<String>,
    /// Fresh runs done in all.
    pub runs: u64,
    /// The rerun cases that regressed.
    pub confirmed: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ConfirmedCase {
    pub id: String,
    /// `[passes, judged runs]` in the baseline.
    pub baseline: [u64; 2],
    /// `[passes, judged runs]` of the fresh runs.
    pub fresh: [u64; 2],
    /// One-sided Fisher p of the fresh runs against the baseline's.
    pub p: f64,
    /// The Benjamini–Hochberg adjusted p (q-value); confirmed when it is at most alpha.
    pub q: f64,
    pub confirmed: bool,
}
