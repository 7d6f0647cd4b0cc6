//! `RawProviderSettings`: the `providers.NAME` block of a suite as written (serde mirror);
//! `ProviderSettings::from_raw` validates it.

use serde::Deserialize;

/// `providers.NAME`: where a provider lives and how hard to try. Every field is optional.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawProviderSettings {
    /// Base URL of the API; default `$OPENAI_BASE_URL` / `$ANTHROPIC_BASE_URL`, else public.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Name of the environment variable holding the key (never the key itself).
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// Per-request timeout, e.g. `60s`.
    #[serde(default)]
    pub timeout: Option<String>,
    #[serde(default)]
    pub retries: Option<RawRetries>,
    #[serde(default)]
    pub breaker: Option<RawBreaker>,
    #[serde(default)]
    pub rate_limit: Option<RawRateLimit>,
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRetries {
    /// Attempts in all, the first included (1 = no retry).
    #[serde(default)]
    pub attempts: Option<u32>,
    #[serde(default)]
    pub base_delay: Option<String>,
    #[serde(default)]
    pub max_delay: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBreaker {
    /// Consecutive failed requests that open the breaker.
    #[serde(default)]
    pub failures: Option<u32>,
    /// How long it stays open before one trial request.
    #[serde(default)]
    pub cooldown: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRateLimit {
    /// Requests per minute.
    #[serde(default)]
    pub rpm: Option<u32>,
    /// Tokens (input + output) per minute.
    #[serde(default)]
    pub tpm: Option<u64>,
}
