//! `Breaker`: a circuit breaker around one model. After `failures` consecutive transient
//! failures it opens and fails every call at once for `cooldown`; then one trial call
//! (half-open) decides whether it closes again or stays open another cool-down.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_trait::async_trait;

use crate::provider::settings::BreakerPolicy;
use crate::provider::types::{ModelRequest, ModelResponse, Provider, ProviderError};

#[derive(Debug)]
pub(crate) struct Breaker {
    inner: Arc<dyn Provider>,
    /// `provider:model`, for messages.
    label: String,
    policy: BreakerPolicy,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    consecutive_failures: u32,
    /// Open until then.
    open_until: Option<Instant>,
    /// Half-open: the one trial call is in flight; others still fail fast.
    trial_in_flight: bool,
    /// The message of the last failure that counted, so a fast failure keeps its cause
    /// ("connection refused", the URL) instead of hiding it.
    last_error: Option<String>,
}

/// What the breaker lets a call do.
#[derive(Debug, PartialEq)]
enum Admit {
    Go { trial: bool },
    FailFast,
}

impl State {
    fn admit(&mut self, now: Instant) -> Admit {
        match self.open_until {
            None => Admit::Go { trial: false },
            Some(until) if now < until || self.trial_in_flight => Admit::FailFast,
            Some(_) => {
                self.trial_in_flight = true;
                Admit::Go { trial: true }
            }
        }
    }

    /// Records an outcome; `counts` is false for errors that say nothing about the provider's
    /// health (a 400 is the request's fault).
    fn record(
        &mut self,
        error: Option<&ProviderError>,
        trial: bool,
        policy: &BreakerPolicy,
        now: Instant,
    ) {
        if trial {
            self.trial_in_flight = false;
        }
        let Some(e) = error.filter(|e| e.retryable) else {
            if error.is_none() || trial {
                *self = State::default();
            }
            return;
        };
        self.last_error = Some(e.message.clone());
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        if trial || self.consecutive_failures >= policy.failures {
            self.open_until = Some(crate::duration::saturating_add(now, policy.cooldown));
        }
    }
}

impl Breaker {
    pub(crate) fn new(inner: Arc<dyn Provider>, label: String, policy: BreakerPolicy) -> Self {
        Breaker {
            inner,
            label,
            policy,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the counters inconsistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Why a call failed fast: the model, the count and the last underlying error.
fn fail_fast_message(label: &str, policy: &BreakerPolicy, last: Option<String>) -> String {
    let cause = last
        .map(|e| format!("; last error: {e}"))
        .unwrap_or_default();
    format!(
        "circuit breaker open for `{label}` after {} consecutive failures{cause}; failing fast \
         (hint: the provider looks down; see `breaker` in the suite's `providers`)",
        policy.failures
    )
}

#[async_trait]
impl Provider for Breaker {
    fn name(&self) -> &str {
        self.inner.name()
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelResponse, ProviderError> {
        let admit = self.lock().admit(Instant::now());
        let trial = match admit {
            Admit::Go { trial } => trial,
            Admit::FailFast => {
                let last = self.lock().last_error.clone();
                return Err(ProviderError {
                    unavailable: true,
                    ..ProviderError::fatal(fail_fast_message(&self.label, &self.policy, last))
                });
            }
        };
        let result = self.inner.complete(request).await;
        self.lock()
            .record(result.as_ref().err(), trial, &self.policy, Instant::now());
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn opens_after_n_failures_then_half_opens_after_the_cooldown() {
        let p = BreakerPolicy {
            failures: 3,
            cooldown: Duration::from_secs(10),
        };
        let t0 = Instant::now();
        let mut s = State::default();
        for _ in 0..2 {
            assert_eq!(s.admit(t0), Admit::Go { trial: false });
            s.record(Some(&down()), false, &p, t0);
        }
        s.record(Some(&bad()), false, &p, t0); // a 400 neither counts nor resets
        assert_eq!(s.admit(t0), Admit::Go { trial: false });
        s.record(Some(&down()), false, &p, t0);
        assert_eq!(s.admit(t0 + Duration::from_secs(9)), Admit::FailFast);

        let later = t0 + Duration::from_secs(10);
        assert_eq!(s.admit(later), Admit::Go { trial: true });
        assert_eq!(s.admit(later), Admit::FailFast, "one trial at a time");
        s.record(Some(&down()), true, &p, later);
        assert_eq!(s.admit(later), Admit::FailFast, "a failed trial reopens");

        let again = later + Duration::from_secs(10);
        assert_eq!(s.admit(again), Admit::Go { trial: true });
        s.record(None, true, &p, again);
        assert_eq!(
            s.admit(again),
            Admit::Go { trial: false },
            "a good trial closes"
        );
        assert_eq!(s.consecutive_failures, 0);
    }

    fn down() -> ProviderError {
        ProviderError::transient(
            "openai connection failed: error sending request for url (http://127.0.0.1:9/v1): \
             connection refused",
            None,
        )
    }

    fn bad() -> ProviderError {
        ProviderError::fatal("openai answered HTTP 400: bad request")
    }

    #[test]
    fn the_fail_fast_message_names_the_model_and_the_last_cause() {
        let p = BreakerPolicy {
            failures: 1,
            cooldown: Duration::from_secs(10),
        };
        let t = Instant::now();
        let mut s = State::default();
        s.record(Some(&down()), false, &p, t);
        let m = fail_fast_message("openai:gpt-x", &p, s.last_error.clone());
        assert!(m.contains("`openai:gpt-x`"), "{m}");
        assert!(m.contains("last error: openai connection failed"), "{m}");
        assert!(m.contains("connection refused"), "{m}");
        assert!(m.contains("http://127.0.0.1:9/v1"), "{m}");
    }

    #[test]
    fn a_success_resets_the_count() {
        let p = BreakerPolicy {
            failures: 2,
            cooldown: Duration::from_secs(10),
        };
        let t = Instant::now();
        let mut s = State::default();
        s.record(Some(&down()), false, &p, t);
        s.record(None, false, &p, t);
        s.record(Some(&down()), false, &p, t);
        assert_eq!(s.admit(t), Admit::Go { trial: false });
    }
}
