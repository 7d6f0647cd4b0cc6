//! `ProviderKind`: the closed set of model providers and everything gauntlet knows about each —
//! its name in a model id, its public endpoint, its key and base-URL variables, and how its
//! client is built. Adding a provider is a variant here plus its client file.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::provider::anthropic::AnthropicProvider;
use crate::provider::http::HttpClient;
use crate::provider::openai::OpenAiProvider;
use crate::provider::types::Provider;

/// Variants in the alphabetical order of their names: `ModelId`s sort as their text does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ProviderKind {
    #[serde(rename = "anthropic")]
    Anthropic,
    /// Deterministic and offline: scripted replies from `mocks/NAME.yaml` or the case.
    #[serde(rename = "mock")]
    Mock,
    /// OpenAI Chat Completions, and every server that speaks it (vLLM, Ollama, LiteLLM, ...).
    #[serde(rename = "openai")]
    OpenAi,
}

impl ProviderKind {
    pub(crate) const ALL: [ProviderKind; 3] = [
        ProviderKind::Anthropic,
        ProviderKind::Mock,
        ProviderKind::OpenAi,
    ];

    /// The prefix of model ids this provider serves (`openai:gpt-4o-mini`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Mock => "mock",
            ProviderKind::OpenAi => "openai",
        }
    }

    pub fn parse(name: &str) -> Option<ProviderKind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The public endpoint; `None` for a provider that calls no server.
    pub(crate) fn default_base_url(self) -> Option<&'static str> {
        match self {
            ProviderKind::Anthropic => Some("https://api.anthropic.com"),
            ProviderKind::Mock => None,
            ProviderKind::OpenAi => Some("https://api.openai.com/v1"),
        }
    }

    /// Whether the provider is reached over HTTP (and so takes `providers.NAME` settings).
    pub(crate) fn is_http(self) -> bool {
        self.default_base_url().is_some()
    }

    /// The providers a suite's `providers:` block may configure.
    pub(crate) fn http_kinds() -> impl Iterator<Item = ProviderKind> {
        Self::ALL.into_iter().filter(|k| k.is_http())
    }

    /// The environment variable that holds the key, unless the suite names another.
    pub(crate) fn default_key_variable(self) -> String {
        format!("{}_API_KEY", self.name().to_ascii_uppercase())
    }

    /// The environment variable that moves the endpoint (`OPENAI_BASE_URL`).
    pub(crate) fn base_url_variable(self) -> String {
        format!("{}_BASE_URL", self.name().to_ascii_uppercase())
    }

    /// Whether `url` is the provider's public endpoint, where a key is always required (a
    /// local server may need none).
    pub(crate) fn is_public(self, url: &str) -> bool {
        self.default_base_url() == Some(url)
    }

    /// The client of an HTTP provider; `None` for the mock, which is built per case from
    /// its rules and script.
    pub(crate) fn http_provider(
        self,
        client: HttpClient,
        base_url: String,
        key: Option<String>,
    ) -> Option<Arc<dyn Provider>> {
        match self {
            ProviderKind::Anthropic => {
                Some(Arc::new(AnthropicProvider::new(client, base_url, key)))
            }
            ProviderKind::OpenAi => Some(Arc::new(OpenAiProvider::new(client, base_url, key))),
            ProviderKind::Mock => None,
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sort_as_text() {
        for kind in ProviderKind::ALL {
            assert_eq!(ProviderKind::parse(kind.name()), Some(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::json!(kind.name())
            );
        }
        let mut names: Vec<&str> = ProviderKind::ALL.iter().map(|k| k.name()).collect();
        names.sort();
        let ordered: Vec<&str> = ProviderKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(names, ordered, "variant order must follow name order");
        assert_eq!(ProviderKind::parse("gemini"), None);
    }

    #[test]
    fn only_http_providers_have_an_endpoint_and_a_key() {
        let http: Vec<ProviderKind> = ProviderKind::http_kinds().collect();
        assert_eq!(http, [ProviderKind::Anthropic, ProviderKind::OpenAi]);
        assert_eq!(
            ProviderKind::OpenAi.default_key_variable(),
            "OPENAI_API_KEY"
        );
        assert_eq!(
            ProviderKind::Anthropic.base_url_variable(),
            "ANTHROPIC_BASE_URL"
        );
        assert!(ProviderKind::OpenAi.is_public("https://api.openai.com/v1"));
        assert!(!ProviderKind::OpenAi.is_public("http://127.0.0.1:8000/v1"));
        assert!(!ProviderKind::Mock.is_http());
    }
}
