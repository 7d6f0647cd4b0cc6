//! The serde mirror of what users write: suite YAML, cases (JSONL/YAML/CSV rows) and checks.
//!
//! These types only describe the shape. `suite::load` resolves paths, compiles regexes, schemas
//! and templates, and turns them into the validated `Suite`. Every struct denies unknown fields
//! so that a typo is an error with a "did you mean", not a silently ignored key.
//! Checks (`check::raw::RawCheck`) and judge files (`check::judge::RawJudge`) are the check
//! module's own.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::agent::target::RawTarget;
use crate::check::raw::RawCheck;
use crate::provider::mock_script::{RawMockReply, RawToolCall};
use crate::provider::raw_settings::RawProviderSettings;

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSuite {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// One dataset file...
    #[serde(default)]
    pub dataset: Option<String>,
    /// ...or several.
    #[serde(default)]
    pub datasets: Vec<String>,
    pub target: RawTarget,
    /// Applied to every case; a case adds its own.
    #[serde(default)]
    pub checks: Vec<RawCheck>,
    /// Where `judge: NAME` looks for `NAME.yaml`. Default: the nearest `judges/` folder at or
    /// above the suite's folder.
    #[serde(default)]
    pub judges_dir: Option<String>,
    /// Judges whose verdicts gate only when they agree with human labels well enough:
    /// `{helpfulness: {labels: ../judges/labels/helpfulness.jsonl, min_kappa: 0.6}}`.
    #[serde(default)]
    pub calibration: BTreeMap<String, RawCalibration>,
    /// The CI policy. Without one, every case must pass (`min_pass_rate: 1.0`).
    #[serde(default)]
    pub gate: Option<RawGate>,
    #[serde(default)]
    pub run: RawRun,
    /// Connection and reliability settings per provider (`openai`, `anthropic`).
    #[serde(default)]
    pub providers: BTreeMap<String, RawProviderSettings>,
}

/// Token and USD limits. Case limits escalate the case; run limits stop scheduling.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBudget {
    #[serde(default)]
    pub case_tokens: Option<u64>,
    #[serde(default)]
    pub case_usd: Option<f64>,
    #[serde(default)]
    pub run_tokens: Option<u64>,
    #[serde(default)]
    pub run_usd: Option<f64>,
}

/// A simulated user of one case.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSimulatedUser {
    pub persona: String,
    pub goal: String,
    /// User turns including the first (default 5).
    #[serde(default)]
    pub max_turns: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawGate {
    #[serde(default)]
    pub min_pass_rate: Option<f64>,
    #[serde(default)]
    pub max_soft_fail_rate: Option<f64>,
    /// Absent: the default limit (10%); `null`: no error-rate rule at all.
    #[serde(default, deserialize_with = "present")]
    pub max_error_rate: Option<Option<f64>>,
    /// Tags or case ids: any failure there fails the gate.
    #[serde(default)]
    pub critical: Vec<String>,
    /// With `--baseline`: at most this many regressions (pass → fail).
    #[serde(default)]
    pub max_regressions: Option<u64>,
    /// With `--history`: at most this many drift alerts over the recorded runs.
    #[serde(default)]
    pub max_drift: Option<u64>,
    /// Significance level for regressions of repeated cases (Fisher's exact test). Default 0.05.
    #[serde(default)]
    pub alpha: Option<f64>,
    /// Flaky cases are reported but left out of the gated rates.
    #[serde(default)]
    pub quarantine_flaky: bool,
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRun {
    #[serde(default)]
    pub concurrency: Option<usize>,
    /// Per-case timeout, e.g. `60s`, `500ms`, `2m`.
    #[serde(default)]
    pub timeout: Option<String>,
    /// Runs per case (pass@k, pass^k, flaky detection). Default 1.
    #[serde(default)]
    pub repeat: Option<u32>,
    /// With repeats: a case passes when at least this share of its runs pass, e.g. `4/5`.
    /// Default: all of them.
    #[serde(default)]
    pub min_pass: Option<String>,
    /// Token and USD budgets per case and per run.
    #[serde(default)]
    pub budget: Option<RawBudget>,
    /// The most gauntlet reads or renders from what it does not control (`crate::limits`).
    #[serde(default)]
    pub limits: Option<crate::limits::RawLimits>,
}

/// One golden case as written in a JSONL line, a YAML list item, or assembled from a CSV row.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCase {
    pub id: String,
    #[serde(default)]
    pub description: Option<String>,
    /// A message, or a list of user turns (scripted multi-turn).
    pub input: Value,
    #[serde(default)]
    pub vars: BTreeMap<String, Value>,
    #[serde(default)]
    pub expected: RawExpected,
    #[serde(default)]
    pub tags: Vec<String>,
    /// With repeats: this case's `min_pass` (e.g. `4/5`), over the suite's `run.min_pass`.
    #[serde(default)]
    pub min_pass: Option<String>,
    #[serde(default)]
    pub checks: Vec<RawCheck>,
    /// `{world: {...}}`: deep-merged over the suite's world for this case.
    #[serde(default)]
    pub fixtures: Option<Value>,
    /// Per-case script for the mock provider: the n-th agent model call gets the n-th reply,
    /// then the mock's rules take over.
    #[serde(default)]
    pub mock: Vec<RawMockReply>,
    /// A simulated user that continues the conversation after `input`.
    #[serde(default)]
    pub user: Option<RawSimulatedUser>,
}

impl crate::dataset::Record for RawCase {
    fn id(&self) -> &str {
        &self.id
    }

    /// serde grows a list from capacity 4 when the input gives no length, and a raw check is
    /// ~500 bytes: a case with one check would carry ~1.5 KB of empty slots, 150 MB over a
    /// 100,000-case dataset while every case is held at load.
    fn shrink(&mut self) {
        self.checks.shrink_to_fit();
    }
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawExpected {
    /// Reference answer, for judges and `equals: expected.reference`.
    #[serde(default)]
    pub reference: Option<String>,
    /// Expected output (string or JSON), for `equals`.
    #[serde(default)]
    pub output: Option<Value>,
    /// Expected tool calls `[{name, args}]`, for `trajectory` checks.
    #[serde(default)]
    pub tools: Option<Vec<RawToolCall>>,
    /// Expected end state of the tool world (recursive subset), for `end_state`.
    #[serde(default)]
    pub state: Option<Value>,
}

/// A suite's requirement on one judge's calibration.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCalibration {
    /// Human-labelled examples (JSONL), relative to the suite file.
    pub labels: String,
    /// Cohen's kappa the judge must reach on them.
    pub min_kappa: f64,
}

/// Tells a key written as `null` (`Some(None)`) from a key left out (`None`, via `default`).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}
