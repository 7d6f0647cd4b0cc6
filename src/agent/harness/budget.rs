//! `Budget`: token and USD limits of the harness, per case (the loop escalates past them) and
//! per run (the runner stops scheduling past them).

/// Token and USD limits, per case and per run. `None`: no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Budget {
    pub case_tokens: Option<u64>,
    pub case_usd: Option<f64>,
    pub run_tokens: Option<u64>,
    pub run_usd: Option<f64>,
}
