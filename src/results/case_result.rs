//! `CaseResult`: one case of a report, its runs reduced over repeats (`results::repeats`).
//!
//! It holds no trajectory: the renderers that need one read it through a
//! `report::trajectory_source::TrajectorySource`, keyed by the case and its representative run.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::gate::GatedCase;
use crate::trajectory::{EndReason, Usage};
use crate::verdict::{CaseStatus, Verdict};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CaseResult {
    pub id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    pub status: CaseStatus,
    pub score: Option<f64>,
    pub checks: Vec<Verdict>,
    pub output: String,
    pub end: EndReason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub usage: Usage,
    /// USD of the priced model calls; absent when none was priced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// Model calls made.
    pub steps: usize,
    /// Tool-call sequence by name (`AGENT/NAME` for a named agent's call), for review diffs.
    pub tools: Vec<String>,
    /// The representative run's agent latency (ms, `run_result::agent_latency_ms`), and the
    /// wall time gauntlet spent on it, agent and checks. They vary between identical runs, so
    /// report.json never holds them (it is byte-identical at any concurrency); junit.xml and
    /// results.csv show them.
    #[serde(skip)]
    pub latency_ms: Option<u64>,
    #[serde(skip)]
    pub duration_ms: Option<u64>,
    /// With `--repeat N`: how the N runs went. The fields above describe one representative
    /// run (the first that did not pass, else the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeats: Option<Repeats>,
    /// The representative run's index (0-based): its trajectory is found by it.
    #[serde(skip)]
    pub repeat: u32,
}

/// Pass statistics of a repeated case.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Repeats {
    pub runs: u32,
    pub passes: u32,
    pub errored: u32,
    /// Unbiased pass@k for k = 1..=runs (at most 10 values): at least one of k runs passes.
    pub pass_at_k: BTreeMap<u32, f64>,
    /// pass^k for the same k: all k runs pass.
    pub pass_pow_k: BTreeMap<u32, f64>,
}

impl GatedCase for CaseResult {
    fn id(&self) -> &str {
        &self.id
    }

    fn tags(&self) -> &[String] {
        &self.tags
    }

    fn status(&self) -> CaseStatus {
        self.status
    }
}
