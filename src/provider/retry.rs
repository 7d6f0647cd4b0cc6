//! `Retry`: a provider wrapper that retries transient failures with exponential backoff and
//! full jitter, honouring the server's `Retry-After`, for a bounded number of attempts.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::provider::settings::RetryPolicy;
use crate::provider::types::{ModelRequest, ModelResponse, Provider, ProviderError};

#[derive(Debug)]
pub struct Retry {
    inner: Arc<dyn Provider>,
    policy: RetryPolicy,
    /// Jitter source. Delays never reach a report, so they need not be reproducible.
    rng: AtomicU64,
}

impl Retry {
    pub fn new(inner: Arc<dyn Provider>, policy: RetryPolicy) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15);
        Retry {
            inner,
            policy,
            rng: AtomicU64::new(seed),
        }
    }

    /// A uniform number in 0..1 (splitmix64).
    fn random(&self) -> f64 {
        let mut z = self
            .rng
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The wait before attempt `attempt + 1` (1-based `attempt` just failed), given a random
/// `unit` in 0..1: the server's `Retry-After` when given, else full jitter over the capped
/// exponential. `None`: the server asks for longer than `max_delay`, so give up now.
pub(crate) fn backoff(
    policy: &RetryPolicy,
    attempt: u32,
    retry_after: Option<Duration>,
    unit: f64,
) -> Option<Duration> {
    if let Some(wait) = retry_after {
        return (wait <= policy.max_delay).then_some(wait);
    }
    let exp = policy
        .base_delay
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
    Some(exp.min(policy.max_delay).mul_f64(unit.clamp(0.0, 1.0)))
}

#[async_trait]
impl Provider for Retry {
    fn name(&self) -> &str {
        self.inner.name()
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelResponse, ProviderError> {
        let mut attempt = 1;
        loop {
            let err = match self.inner.complete(request).await {
                Ok(r) => return Ok(r),
                Err(e) => e,
            };
            if !err.retryable {
                return Err(err);
            }
            if attempt >= self.policy.attempts {
                return Err(ProviderError {
                    message: format!("{} (gave up after {attempt} attempts)", err.message),
                    ..err
                });
            }
            let Some(wait) = backoff(&self.policy, attempt, err.retry_after, self.random()) else {
                return Err(ProviderError {
                    message: format!(
                        "{} (the server asks to retry after {:?}, more than retries.max_delay)",
                        err.message,
                        err.retry_after.unwrap_or_default()
                    ),
                    ..err
                });
            };
            tracing::debug!(attempt, ?wait, error = %err, "retrying model call");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::types::Purpose;
    use std::sync::Mutex;

    fn policy(attempts: u32) -> RetryPolicy {
        RetryPolicy {
            attempts,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        }
    }

    #[test]
    fn backoff_grows_caps_and_honours_retry_after() {
        let p = policy(5);
        assert_eq!(backoff(&p, 1, None, 1.0), Some(Duration::from_millis(100)));
        assert_eq!(backoff(&p, 3, None, 1.0), Some(Duration::from_millis(400)));
        assert_eq!(backoff(&p, 3, None, 0.5), Some(Duration::from_millis(200)));
        assert_eq!(backoff(&p, 30, None, 1.0), Some(Duration::from_secs(1)));
        assert_eq!(backoff(&p, 1, None, 0.0), Some(Duration::ZERO));
        let ra = Some(Duration::from_millis(700));
        assert_eq!(backoff(&p, 1, ra, 0.0), ra, "Retry-After is not jittered");
        assert_eq!(backoff(&p, 1, Some(Duration::from_secs(60)), 0.5), None);
    }

    #[derive(Debug)]
    struct Script(Mutex<Vec<Result<&'static str, ProviderError>>>);

    #[async_trait]
    impl Provider for Script {
        fn name(&self) -> &str {
            "script"
        }
        async fn complete(&self, _: &ModelRequest) -> Result<ModelResponse, ProviderError> {
            let next = self.0.lock().unwrap().remove(0);
            next.map(|t| ModelResponse {
                content: Some(t.into()),
                tool_calls: vec![],
                usage: Default::default(),
                model: "m".into(),
            })
        }
    }

    fn request() -> ModelRequest {
        ModelRequest {
            model: "m".into(),
            messages: vec![],
            tools: Default::default(),
            temperature: None,
            max_tokens: None,
            purpose: Purpose::Agent,
            seed: None,
            response_format: None,
        }
    }

    #[tokio::test]
    async fn transient_errors_are_retried_fatal_ones_are_not() {
        let flaky = Arc::new(Script(Mutex::new(vec![
            Err(ProviderError::transient("503", None)),
            Err(ProviderError::transient("429", Some(Duration::ZERO))),
            Ok("fine"),
        ])));
        let r = Retry::new(flaky.clone(), policy(3));
        assert_eq!(
            r.complete(&request()).await.unwrap().content.unwrap(),
            "fine"
        );

        let fatal = Arc::new(Script(Mutex::new(vec![
            Err(ProviderError::fatal("401 bad key")),
            Ok("never"),
        ])));
        let r = Retry::new(fatal.clone(), policy(3));
        assert_eq!(
            r.complete(&request()).await.unwrap_err().message,
            "401 bad key"
        );
        assert_eq!(fatal.0.lock().unwrap().len(), 1, "not retried");

        let down = Arc::new(Script(Mutex::new(vec![
            Err(ProviderError::transient("500", Some(Duration::ZERO))),
            Err(ProviderError::transient("500", Some(Duration::ZERO))),
            Ok("too late"),
        ])));
        let e = Retry::new(down, policy(2))
            .complete(&request())
            .await
            .unwrap_err();
        assert_eq!(e.message, "500 (gave up after 2 attempts)");
        assert!(e.wants_fallback());
    }
}
