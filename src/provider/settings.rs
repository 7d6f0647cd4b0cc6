//! `ProviderSettings`: where an HTTP provider lives and how hard to try, resolved from the
//! suite's `providers.NAME` block (raw form in `provider::raw_settings`).

use std::time::Duration;

use crate::duration::parse_duration;
use crate::provider::kind::ProviderKind;
use crate::provider::raw_settings::RawProviderSettings;

#[derive(Debug, Clone, PartialEq)]
pub struct ProviderSettings {
    /// From the suite; `None` means `$NAME_BASE_URL`, else the public endpoint.
    pub base_url: Option<String>,
    /// The environment variable holding the key.
    pub api_key_env: String,
    pub timeout: Duration,
    pub retries: RetryPolicy,
    pub breaker: BreakerPolicy,
    pub rate_limit: RateLimitPolicy,
}

/// A bad value in `providers.NAME`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SettingError {
    #[error("`{field}`: {reason}")]
    Duration {
        field: &'static str,
        text: String,
        reason: String,
    },
    #[error("`retries.attempts` must be at least 1 (1 = no retry)")]
    NoAttempts,
    #[error("`breaker.failures` must be at least 1")]
    NoFailures,
    #[error("`rate_limit` values must be at least 1 (leave one out for no limit)")]
    ZeroRateLimit,
    #[error("`base_url` `{0}` must start with http:// or https://")]
    BaseUrlScheme(String),
    #[error("`api_key_env` `{0}` is not an environment variable name")]
    KeyVariableName(String),
    /// Never repeats the value: it is a key.
    #[error("`api_key_env` names the environment variable that holds the key, not the key")]
    KeyPasted,
}

impl SettingError {
    /// The text to locate the problem by in the suite file.
    pub(crate) fn needle(&self) -> &str {
        match self {
            SettingError::Duration { text, .. } => text,
            SettingError::NoAttempts => "attempts",
            SettingError::NoFailures => "failures",
            SettingError::ZeroRateLimit => "rate_limit",
            SettingError::BaseUrlScheme(url) => url,
            SettingError::KeyVariableName(env) => env,
            SettingError::KeyPasted => "api_key_env",
        }
    }
}

/// Exponential backoff with full jitter: attempt n waits a random time in
/// `0..min(max_delay, base_delay * 2^(n-1))`, or exactly the server's `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerPolicy {
    /// Consecutive failed requests that open the breaker.
    pub failures: u32,
    pub cooldown: Duration,
}

/// `None` = unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RateLimitPolicy {
    pub rpm: Option<u32>,
    pub tpm: Option<u64>,
}

impl ProviderSettings {
    /// The defaults for provider `kind` (`openai` → `OPENAI_API_KEY`).
    pub(crate) fn defaults(kind: ProviderKind) -> Self {
        ProviderSettings {
            base_url: None,
            api_key_env: kind.default_key_variable(),
            timeout: Duration::from_secs(120),
            retries: RetryPolicy {
                attempts: 4,
                base_delay: Duration::from_millis(500),
                max_delay: Duration::from_secs(30),
            },
            breaker: BreakerPolicy {
                failures: 5,
                cooldown: Duration::from_secs(30),
            },
            rate_limit: RateLimitPolicy::default(),
        }
    }

    /// Resolves `providers.NAME`; every bad value is reported.
    pub(crate) fn from_raw(
        kind: ProviderKind,
        raw: &RawProviderSettings,
    ) -> Result<Self, Vec<SettingError>> {
        let mut s = Self::defaults(kind);
        let mut errs = Vec::new();
        let mut duration = |field: &'static str, text: &Option<String>, into: &mut Duration| {
            if let Some(t) = text {
                match parse_duration(t) {
                    Ok(d) => *into = d,
                    Err(e) => errs.push(SettingError::Duration {
                        field,
                        text: t.clone(),
                        reason: e.to_string(),
                    }),
                }
            }
        };
        duration("timeout", &raw.timeout, &mut s.timeout);
        if let Some(r) = &raw.retries {
            duration(
                "retries.base_delay",
                &r.base_delay,
                &mut s.retries.base_delay,
            );
            duration("retries.max_delay", &r.max_delay, &mut s.retries.max_delay);
        }
        if let Some(b) = &raw.breaker {
            duration("breaker.cooldown", &b.cooldown, &mut s.breaker.cooldown);
        }
        if let Some(r) = &raw.retries {
            match r.attempts {
                Some(0) => errs.push(SettingError::NoAttempts),
                Some(n) => s.retries.attempts = n,
                None => {}
            }
        }
        if let Some(b) = &raw.breaker {
            match b.failures {
                Some(0) => errs.push(SettingError::NoFailures),
                Some(n) => s.breaker.failures = n,
                None => {}
            }
        }
        if let Some(r) = &raw.rate_limit {
            if r.rpm == Some(0) || r.tpm == Some(0) {
                errs.push(SettingError::ZeroRateLimit);
            }
            s.rate_limit = RateLimitPolicy {
                rpm: r.rpm,
                tpm: r.tpm,
            };
        }
        if let Some(url) = &raw.base_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                errs.push(SettingError::BaseUrlScheme(url.clone()));
            }
            s.base_url = Some(url.clone());
        }
        if let Some(env) = &raw.api_key_env {
            if env.is_empty() || env.contains(['=', ' ']) {
                errs.push(SettingError::KeyVariableName(env.clone()));
            } else if env.starts_with("sk-") {
                // Someone pasted the key itself: refuse it without repeating it.
                errs.push(SettingError::KeyPasted);
            } else {
                s.api_key_env = env.clone();
            }
        }
        if errs.is_empty() {
            Ok(s)
        } else {
            Err(errs)
        }
    }

    /// The base URL: the suite's, else `$NAME_BASE_URL`, else the public endpoint.
    pub(crate) fn resolved_base_url(&self, kind: ProviderKind) -> String {
        let url = self
            .base_url
            .clone()
            .or_else(|| {
                std::env::var(kind.base_url_variable())
                    .ok()
                    .filter(|v| !v.is_empty())
            })
            .unwrap_or_else(|| kind.default_base_url().unwrap_or_default().to_string());
        url.trim_end_matches('/').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::raw_settings::{RawBreaker, RawRetries};
    use ProviderKind::{Anthropic, OpenAi};

    #[test]
    fn defaults_name_the_conventional_key_variable() {
        assert_eq!(
            ProviderSettings::defaults(OpenAi).api_key_env,
            "OPENAI_API_KEY"
        );
        assert_eq!(
            ProviderSettings::defaults(Anthropic).api_key_env,
            "ANTHROPIC_API_KEY"
        );
    }

    #[test]
    fn raw_values_override_defaults_and_bad_ones_are_all_reported() {
        let raw = RawProviderSettings {
            base_url: Some("http://localhost:8000/v1/".into()),
            retries: Some(RawRetries {
                attempts: Some(2),
                base_delay: Some("10ms".into()),
                max_delay: None,
            }),
            ..Default::default()
        };
        let s = ProviderSettings::from_raw(OpenAi, &raw).unwrap();
        assert_eq!(s.retries.attempts, 2);
        assert_eq!(s.retries.base_delay, Duration::from_millis(10));
        assert_eq!(s.resolved_base_url(OpenAi), "http://localhost:8000/v1");

        let bad = RawProviderSettings {
            base_url: Some("localhost:8000".into()),
            api_key_env: Some("sk-secret123".into()),
            breaker: Some(RawBreaker {
                failures: Some(0),
                cooldown: Some("soon".into()),
            }),
            ..Default::default()
        };
        let errs = ProviderSettings::from_raw(OpenAi, &bad).unwrap_err();
        assert_eq!(errs.len(), 4, "{errs:?}");
        assert!(
            errs.iter()
                .all(|e| !e.to_string().contains("secret123") && !e.needle().contains("secret123")),
            "a pasted key is never repeated: {errs:?}"
        );
    }
}
