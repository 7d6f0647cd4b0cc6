//! `RateLimit`: a provider wrapper that waits for room under a per-provider limit of requests
//! and tokens per minute (`RateLimiter`, shared by every model and case of that provider).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::Mutex;

use crate::provider::settings::RateLimitPolicy;
use crate::provider::types::{ModelRequest, ModelResponse, Provider, ProviderError};

const WINDOW: Duration = Duration::from_secs(60);

/// Sliding one-minute windows of request start times and of tokens used.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    policy: RateLimitPolicy,
    window: Mutex<Window>,
}

#[derive(Debug, Default)]
struct Window {
    requests: VecDeque<Instant>,
    tokens: VecDeque<(Instant, u64)>,
}

impl Window {
    fn prune(&mut self, now: Instant) {
        while self
            .requests
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            self.requests.pop_front();
        }
        while self
            .tokens
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) >= WINDOW)
        {
            self.tokens.pop_front();
        }
    }

    /// How long until a request may start; `None`: now. Tokens are counted once a response
    /// tells how many were used, so the token limit holds over the minute, not per request.
    fn wait(&mut self, policy: &RateLimitPolicy, now: Instant) -> Option<Duration> {
        self.prune(now);
        let mut wait = None::<Duration>;
        let expiry = |t: Instant| (t + WINDOW).saturating_duration_since(now);
        if let Some(rpm) = policy.rpm {
            if self.requests.len() >= rpm as usize {
                wait = self.requests.front().map(|t| expiry(*t));
            }
        }
        if let Some(tpm) = policy.tpm {
            let mut used: u64 = self.tokens.iter().fold(0, |a, (_, n)| a.saturating_add(*n));
            // Wait until enough of the oldest usage expires to get under the limit.
            for (t, n) in &self.tokens {
                if used < tpm {
                    break;
                }
                used = used.saturating_sub(*n);
                wait = Some(wait.unwrap_or_default().max(expiry(*t)));
            }
        }
        wait
    }
}

impl RateLimiter {
    pub(crate) fn new(policy: RateLimitPolicy) -> Self {
        RateLimiter {
            policy,
            window: Mutex::new(Window::default()),
        }
    }

    pub(crate) fn is_unlimited(&self) -> bool {
        self.policy.rpm.is_none() && self.policy.tpm.is_none()
    }

    async fn acquire(&self) {
        loop {
            let wait = {
                let mut w = self.window.lock().await;
                let now = Instant::now();
                match w.wait(&self.policy, now) {
                    None => {
                        w.requests.push_back(now);
                        return;
                    }
                    Some(d) => d,
                }
            };
            tracing::debug!(?wait, "rate limit: waiting");
            tokio::time::sleep(wait.max(Duration::from_millis(1))).await;
        }
    }

    async fn record_tokens(&self, tokens: u64) {
        if self.policy.tpm.is_some() && tokens > 0 {
            self.window
                .lock()
                .await
                .tokens
                .push_back((Instant::now(), tokens));
        }
    }
}

#[derive(Debug)]
pub(crate) struct RateLimit {
    inner: Arc<dyn Provider>,
    limiter: Arc<RateLimiter>,
}

impl RateLimit {
    pub(crate) fn new(inner: Arc<dyn Provider>, limiter: Arc<RateLimiter>) -> Self {
        RateLimit { inner, limiter }
    }
}

#[async_trait]
impl Provider for RateLimit {
    fn name(&self) -> &str {
        self.inner.name()
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelResponse, ProviderError> {
        self.limiter.acquire().await;
        let result = self.inner.complete(request).await;
        if let Ok(r) = &result {
            self.limiter.record_tokens(r.usage.total()).await;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_per_minute_wait_for_the_oldest_to_leave_the_window() {
        let p = RateLimitPolicy {
            rpm: Some(2),
            tpm: None,
        };
        let t0 = Instant::now();
        let mut w = Window::default();
        assert_eq!(w.wait(&p, t0), None);
        w.requests.push_back(t0);
        w.requests.push_back(t0 + Duration::from_secs(20));
        assert_eq!(
            w.wait(&p, t0 + Duration::from_secs(30)),
            Some(Duration::from_secs(30))
        );
        assert_eq!(w.wait(&p, t0 + Duration::from_secs(60)), None);
        assert_eq!(w.requests.len(), 1, "the expired request was pruned");
    }

    #[test]
    fn tokens_per_minute_wait_until_usage_falls_under_the_limit() {
        let p = RateLimitPolicy {
            rpm: None,
            tpm: Some(1000),
        };
        let t0 = Instant::now();
        let mut w = Window::default();
        w.tokens.push_back((t0, 600));
        assert_eq!(w.wait(&p, t0), None);
        w.tokens.push_back((t0 + Duration::from_secs(10), 300));
        w.tokens.push_back((t0 + Duration::from_secs(20), 300));
        // 1200 used: the first entry (600) must expire, at t0 + 60s.
        assert_eq!(
            w.wait(&p, t0 + Duration::from_secs(40)),
            Some(Duration::from_secs(20))
        );
    }
}
