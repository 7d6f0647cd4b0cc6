//! `Providers`: hands the runner a `Provider` for a model id — a mock built per case, or the
//! shared stack of an HTTP model: `Retry(Breaker(RateLimit(OpenAi|Anthropic)))`, wrapped in a
//! `Fallback` chain when the suite names fallback models.
//!
//! HTTP stacks are built once per suite run and shared by every case, so the breaker sees
//! every failure of its model, the rate limiter every request of its provider, and one
//! connection pool per provider is kept alive.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::provider::breaker::Breaker;
use crate::provider::cache::{CachedProvider, CallContext, ModelCache, ToolRecorder};
use crate::provider::fallback::Fallback;
use crate::provider::http::HttpClient;
use crate::provider::kind::ProviderKind;
use crate::provider::mock::MockProvider;
use crate::provider::mock_rules::MockRules;
use crate::provider::mock_script::RawMockReply;
use crate::provider::rate_limit::{RateLimit, RateLimiter};
use crate::provider::retry::Retry;
use crate::provider::settings::ProviderSettings;
use crate::provider::types::{ModelId, Provider, ProviderError};

#[derive(Debug, Clone, Default)]
pub(crate) struct Providers {
    mocks: BTreeMap<String, Arc<MockRules>>,
    /// The shared stack of every HTTP model the suite uses.
    http: BTreeMap<ModelId, Arc<dyn Provider>>,
    /// Models tried, in order, when the key model is down.
    fallbacks: BTreeMap<ModelId, Vec<ModelId>>,
    /// `--cache`/`--record`/`--replay`, with the case and repeat the calls belong to: set by
    /// `for_case`, so every provider handed out for that run goes through the cache.
    cached: Option<(Arc<ModelCache>, CallContext)>,
}

/// What a run needs reached, from validated data: a suite's models and `providers:` settings
/// (`Suite::provider_setup`), or one judge's model for `calibrate`.
#[derive(Debug, Clone, Default)]
pub struct ProviderSetup {
    /// Every model the run may call (the agent's, its fallbacks, the judges'), sorted, unique.
    pub models: Vec<ModelId>,
    /// The agent's model and the models tried, in order, when it is down.
    pub fallback: Option<(ModelId, Vec<ModelId>)>,
    /// `providers.NAME` settings the suite gave (others use `ProviderSettings::defaults`).
    pub settings: BTreeMap<ProviderKind, ProviderSettings>,
    /// The compiled rules of every `mock:NAME` the run uses, by NAME.
    pub mocks: BTreeMap<String, Arc<MockRules>>,
    /// The largest response body read (`run.limits.max_response_bytes`).
    pub max_response_bytes: u64,
}

impl ProviderSetup {
    fn settings_for(&self, kind: ProviderKind) -> ProviderSettings {
        self.settings
            .get(&kind)
            .cloned()
            .unwrap_or_else(|| ProviderSettings::defaults(kind))
    }

    /// The HTTP providers the run reaches, each once.
    fn http_kinds(&self) -> Vec<ProviderKind> {
        let mut kinds: Vec<ProviderKind> = self
            .models
            .iter()
            .map(|id| id.provider)
            .filter(|k| k.is_http())
            .collect();
        kinds.dedup();
        kinds
    }
}

/// Problems with the environment a run would have: a missing API key. A key is required only
/// for a public endpoint; a custom base URL (a local server) may need none.
pub(crate) fn missing_keys(setup: &ProviderSetup) -> Vec<SetupError> {
    let mut problems = Vec::new();
    for kind in setup.http_kinds() {
        let settings = setup.settings_for(kind);
        if api_key(&settings).is_none() && kind.is_public(&settings.resolved_base_url(kind)) {
            let model = setup
                .models
                .iter()
                .find(|id| id.provider == kind)
                .map(ToString::to_string)
                .unwrap_or_default();
            problems.push(SetupError::MissingKey {
                model,
                kind,
                variable: settings.api_key_env.clone(),
            });
        }
    }
    problems
}

/// Why the providers of a run cannot be set up: nothing is run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SetupError {
    #[error(
        "model `{model}` needs an API key in the environment variable {variable} (hint: export \
         {variable}=..., or point `providers.{kind}.base_url` / {} at a server that needs none)",
        kind.base_url_variable()
    )]
    MissingKey {
        model: String,
        kind: ProviderKind,
        variable: String,
    },
    #[error(transparent)]
    Client(#[from] crate::http_client::HttpClientError),
}

fn api_key(settings: &ProviderSettings) -> Option<String> {
    let key = std::env::var(&settings.api_key_env)
        .ok()
        .filter(|k| !k.trim().is_empty())?;
    // From here on the key is masked wherever it would be written.
    crate::redact::remember(&key);
    Some(key)
}

impl Providers {
    /// `mocks`: the compiled rules of every `mock:NAME` the suite uses, by NAME.
    pub(crate) fn new(mocks: BTreeMap<String, Arc<MockRules>>) -> Self {
        Providers {
            mocks,
            ..Default::default()
        }
    }

    /// Everything `setup` may call, HTTP stacks built and keys read from the environment.
    /// Errors: a missing key (see `missing_keys`) or a client that cannot be built.
    /// `require_keys: false` (under `--replay`, which calls no model) builds the stacks without
    /// keys instead of refusing.
    pub(crate) fn for_run(
        setup: &ProviderSetup,
        require_keys: bool,
    ) -> Result<Self, Vec<SetupError>> {
        let problems = missing_keys(setup);
        if require_keys && !problems.is_empty() {
            return Err(problems);
        }
        let mut providers = Providers::new(setup.mocks.clone());
        let mut shared: BTreeMap<ProviderKind, (HttpClient, Arc<RateLimiter>)> = BTreeMap::new();
        let mut errors = Vec::new();
        for kind in setup.http_kinds() {
            let settings = setup.settings_for(kind);
            match HttpClient::new(kind.name(), settings.timeout) {
                Ok(c) => {
                    let c = c.with_max_body(setup.max_response_bytes);
                    let limiter = Arc::new(RateLimiter::new(settings.rate_limit));
                    shared.insert(kind, (c, limiter));
                }
                Err(e) => errors.push(SetupError::Client(e)),
            }
        }
        for id in &setup.models {
            let Some((client, limiter)) = shared.get(&id.provider) else {
                continue;
            };
            let settings = setup.settings_for(id.provider);
            let base_url = settings.resolved_base_url(id.provider);
            let key = api_key(&settings);
            let Some(mut stack) = id.provider.http_provider(client.clone(), base_url, key) else {
                continue;
            };
            if !limiter.is_unlimited() {
                stack = Arc::new(RateLimit::new(stack, limiter.clone()));
            }
            // The breaker sits inside the retries: every failed attempt counts, and once it is
            // open the retry layer stops at once instead of sleeping on a dead provider.
            stack = Arc::new(Breaker::new(stack, id.to_string(), settings.breaker));
            stack = Arc::new(Retry::new(stack, settings.retries));
            providers.http.insert(id.clone(), stack);
        }
        if let Some((primary, chain)) = &setup.fallback {
            providers.fallbacks.insert(primary.clone(), chain.clone());
        }
        if errors.is_empty() {
            Ok(providers)
        } else {
            Err(errors)
        }
    }

    /// These providers for one run of a case: with a cache, every provider handed out
    /// (agent, simulated user, judges) reads and writes it under `ctx`.
    pub(crate) fn for_case(&self, ctx: CallContext, cache: Option<Arc<ModelCache>>) -> Providers {
        Providers {
            cached: cache.map(|c| (c, ctx)),
            ..self.clone()
        }
    }

    /// The recorder of `http`/`command` tool calls for this run, when a cache is in use.
    pub(crate) fn tool_recorder(&self) -> Option<ToolRecorder> {
        let (cache, ctx) = self.cached.as_ref()?;
        Some(ToolRecorder::new(cache.clone(), ctx.clone()))
    }

    /// A provider for `id`. `script` is the case's per-case mock script (ignored by real
    /// providers); pass `&[]` for judges.
    pub(crate) fn get(
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
        match id.provider {
            ProviderKind::Mock => {
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
    fn a_key_is_required_only_for_a_public_endpoint() {
        let setup = |base_url: &str| {
            let settings = ProviderSettings {
                base_url: Some(base_url.into()),
                api_key_env: "GAUNTLET_TEST_UNSET_KEY".into(),
                ..ProviderSettings::defaults(ProviderKind::OpenAi)
            };
            ProviderSetup {
                models: vec![
                    ModelId::parse("mock:m").unwrap(),
                    ModelId::parse("openai:gpt-x").unwrap(),
                ],
                settings: BTreeMap::from([(ProviderKind::OpenAi, settings)]),
                ..Default::default()
            }
        };
        let public = missing_keys(&setup("https://api.openai.com/v1"));
        let text: Vec<String> = public.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "model `openai:gpt-x` needs an API key in the environment variable \
              GAUNTLET_TEST_UNSET_KEY (hint: export GAUNTLET_TEST_UNSET_KEY=..., or point \
              `providers.openai.base_url` / OPENAI_BASE_URL at a server that needs none)"
            ]
        );
        assert!(missing_keys(&setup("http://127.0.0.1:8000/v1")).is_empty());
        let built = Providers::for_run(&setup("http://127.0.0.1:8000/v1"), true).unwrap();
        assert!(built
            .get(&ModelId::parse("openai:gpt-x").unwrap(), &[])
            .is_ok());
        assert!(Providers::for_run(&setup("https://api.openai.com/v1"), true).is_err());
    }

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
