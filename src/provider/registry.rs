//! `Providers`: hands the runner a `Provider` for a model id — a mock built per case, or the
//! shared stack of an HTTP model: `Retry(Breaker(RateLimit(OpenAi|Anthropic)))`, wrapped in a
//! `Fallback` chain when the suite names fallback models.
//!
//! HTTP stacks are built once per suite run and shared by every case, so the breaker sees
//! every failure of its model, the rate limiter every request of its provider, and one
//! connection pool per provider is kept alive.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::provider::anthropic::AnthropicProvider;
use crate::provider::breaker::Breaker;
use crate::provider::cache::{CachedProvider, CallContext, ModelCache, ToolRecorder};
use crate::provider::fallback::Fallback;
use crate::provider::http::HttpClient;
use crate::provider::mock::{MockProvider, MockRules};
use crate::provider::openai::OpenAiProvider;
use crate::provider::rate_limit::{RateLimit, RateLimiter};
use crate::provider::retry::Retry;
use crate::provider::settings::ProviderSettings;
use crate::provider::types::{ModelId, Provider, ProviderError};
use crate::suite::model::{Suite, Target};
use crate::suite::raw::RawMockReply;

#[derive(Debug, Clone, Default)]
pub struct Providers {
    mocks: BTreeMap<String, Arc<MockRules>>,
    /// The shared stack of every HTTP model the suite uses.
    http: BTreeMap<ModelId, Arc<dyn Provider>>,
    /// Models tried, in order, when the key model is down.
    fallbacks: BTreeMap<ModelId, Vec<ModelId>>,
    /// `--cache`/`--record`/`--replay`, with the case and repeat the calls belong to: set by
    /// `for_case`, so every provider handed out for that run goes through the cache.
    cached: Option<(Arc<ModelCache>, CallContext)>,
}

/// Every model a suite may call: the agent's, its fallbacks, the judges'.
pub fn models_used(suite: &Suite) -> Vec<ModelId> {
    let mut ids: Vec<ModelId> = Vec::new();
    // External agents call their own models; only the harness's is ours to reach.
    if let Target::Harness(h) = &suite.target {
        ids.push(h.model.clone());
    }
    ids.extend(suite.fallback.iter().cloned());
    ids.extend(suite.judges.values().map(|j| j.model.clone()));
    ids.sort();
    ids.dedup();
    ids
}

/// Problems with the environment a run of `suite` would have: a missing API key. A key is
/// required only for a public endpoint; a custom base URL (a local server) may need none.
pub fn missing_keys(suite: &Suite) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen = Vec::new();
    for id in models_used(suite) {
        if id.provider == "mock" || seen.contains(&id.provider) {
            continue;
        }
        seen.push(id.provider.clone());
        let settings = settings_for(suite, &id.provider);
        if api_key(&settings).is_none() && is_public(&settings, &id.provider) {
            problems.push(format!(
                "model `{id}` needs an API key in the environment variable {} (hint: export {}=..., \
                 or point `providers.{}.base_url` / {}_BASE_URL at a server that needs none)",
                settings.api_key_env,
                settings.api_key_env,
                id.provider,
                id.provider.to_ascii_uppercase()
            ));
        }
    }
    problems
}

fn settings_for(suite: &Suite, provider: &str) -> ProviderSettings {
    suite
        .providers
        .get(provider)
        .cloned()
        .unwrap_or_else(|| ProviderSettings::defaults(provider))
}

fn api_key(settings: &ProviderSettings) -> Option<String> {
    let key = std::env::var(&settings.api_key_env)
        .ok()
        .filter(|k| !k.trim().is_empty())?;
    // From here on the key is masked wherever it would be written.
    crate::redact::remember(&key);
    Some(key)
}

fn is_public(settings: &ProviderSettings, provider: &str) -> bool {
    let url = settings.resolved_base_url(provider);
    url == "https://api.openai.com/v1" || url == "https://api.anthropic.com"
}

impl Providers {
    /// `mocks`: the compiled rules of every `mock:NAME` the suite uses, by NAME.
    pub fn new(mocks: BTreeMap<String, Arc<MockRules>>) -> Self {
        Providers {
            mocks,
            ..Default::default()
        }
    }

    /// Everything `suite` may call, HTTP stacks built and keys read from the environment.
    /// Errors: a missing key (see `missing_keys`) or a client that cannot be built.
    pub fn for_suite(suite: &Suite) -> Result<Self, Vec<String>> {
        Self::for_suite_with(suite, true)
    }

    /// [`Providers::for_suite`]; `require_keys: false` (under `--replay`, which calls no model)
    /// builds the stacks without keys instead of refusing.
    pub fn for_suite_with(suite: &Suite, require_keys: bool) -> Result<Self, Vec<String>> {
        let problems = missing_keys(suite);
        if require_keys && !problems.is_empty() {
            return Err(problems);
        }
        let mut providers = Providers::new(suite.mocks.clone());
        let mut shared: BTreeMap<String, (HttpClient, Arc<RateLimiter>)> = BTreeMap::new();
        let mut errors = Vec::new();
        for id in models_used(suite) {
            if id.provider == "mock" {
                continue;
            }
            let settings = settings_for(suite, &id.provider);
            if !shared.contains_key(&id.provider) {
                match HttpClient::new(&id.provider, settings.timeout) {
                    Ok(c) => {
                        let c = c.with_max_body(suite.run.limits.max_response_bytes);
                        let limiter = Arc::new(RateLimiter::new(settings.rate_limit));
                        shared.insert(id.provider.clone(), (c, limiter));
                    }
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                }
            }
            let Some((client, limiter)) = shared.get(&id.provider) else {
                continue;
            };
            let base_url = settings.resolved_base_url(&id.provider);
            let key = api_key(&settings);
            let mut stack: Arc<dyn Provider> = match id.provider.as_str() {
                "openai" => Arc::new(OpenAiProvider::new(client.clone(), base_url, key)),
                "anthropic" => Arc::new(AnthropicProvider::new(client.clone(), base_url, key)),
                other => {
                    errors.push(format!("provider `{other}` is not available in this build"));
                    continue;
                }
            };
            if !limiter.is_unlimited() {
                stack = Arc::new(RateLimit::new(stack, limiter.clone()));
            }
            // The breaker sits inside the retries: every failed attempt counts, and once it is
            // open the retry layer stops at once instead of sleeping on a dead provider.
            stack = Arc::new(Breaker::new(stack, id.to_string(), settings.breaker));
            stack = Arc::new(Retry::new(stack, settings.retries));
            providers.http.insert(id, stack);
        }
        if let (Target::Harness(h), false) = (&suite.target, suite.fallback.is_empty()) {
            providers
                .fallbacks
                .insert(h.model.clone(), suite.fallback.clone());
        }
        if errors.is_empty() {
            Ok(providers)
        } else {
            Err(errors)
        }
    }

    /// These providers for one run of a case: with a cache, every provider handed out
    /// (agent, simulated user, judges) reads and writes it under `ctx`.
    pub fn for_case(&self, ctx: CallContext, cache: Option<Arc<ModelCache>>) -> Providers {
        Providers {
            cached: cache.map(|c| (c, ctx)),
            ..self.clone()
        }
    }

    /// The recorder of `http`/`command` tool calls for this run, when a cache is in use.
    pub fn tool_recorder(&self) -> Option<ToolRecorder> {
        let (cache, ctx) = self.cached.as_ref()?;
        Some(ToolRecorder::new(cache.clone(), ctx.clone()))
    }

    /// A provider for `id`. `script` is the case's per-case mock script (ignored by real
    /// providers); pass `&[]` for judges.
    pub fn get(
        &self,
        id: &ModelId,
        script: &[RawMockReply],
    ) -> Result<Arc<dyn Provider>, ProviderError> {
        let provider = self.uncached(id, script)?;
        Ok(match &self.cached {
            Some((cache, ctx)) => {
                Arc::new(CachedProvider::new(provider, cache.clone(), ctx.clone()))
            }
            None => provider,
        })
    }

    fn uncached(
        &self,
        id: &ModelId,
        script: &[RawMockReply],
    ) -> Result<Arc<dyn Provider>, ProviderError> {
        let primary = self.single(id, script)?;
        let Some(fallbacks) = self.fallbacks.get(id) else {
            return Ok(primary);
        };
        let mut chain = vec![(id.clone(), primary)];
        for f in fallbacks {
            chain.push((f.clone(), self.single(f, script)?));
        }
        Ok(Arc::new(Fallback::new(chain)))
    }

    fn single(
        &self,
        id: &ModelId,
        script: &[RawMockReply],
    ) -> Result<Arc<dyn Provider>, ProviderError> {
        match id.provider.as_str() {
            "mock" => {
                let rules = self.mocks.get(&id.model).ok_or_else(|| {
                    let known: Vec<&str> = self.mocks.keys().map(String::as_str).collect();
                    ProviderError::fatal(format!(
                        "no mock rules loaded for `{id}` (known: {})",
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    ))
                })?;
                Ok(Arc::new(MockProvider::new(rules.clone(), script.to_vec())))
            }
            _ => self.http.get(id).cloned().ok_or_else(|| {
                ProviderError::fatal(format!("model `{id}` was not set up for this run"))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_mock_name_is_an_error() {
        let mut mocks = BTreeMap::new();
        mocks.insert("support".to_string(), Arc::new(MockRules::default()));
        let p = Providers::new(mocks);
        let ok = ModelId::parse("mock:support").unwrap();
        assert_eq!(p.get(&ok, &[]).unwrap().name(), "mock");
        let bad = ModelId::parse("mock:nope").unwrap();
        let err = p.get(&bad, &[]).unwrap_err();
        assert!(err.message.contains("mock:nope"), "{err}");
        assert!(err.message.contains("support"), "{err}");
    }
}
