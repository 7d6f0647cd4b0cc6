//! `Fallback`: a chain of models tried in order. The next one is asked only when the one
//! before is down (breaker open, or retries exhausted on transient errors); a request the
//! model rejects (400, 401) fails at once, since another model would not fix the suite.

use std::sync::Arc;

use async_trait::async_trait;

use crate::provider::types::{ModelId, ModelRequest, ModelResponse, Provider, ProviderError};

#[derive(Debug)]
pub(crate) struct Fallback {
    /// The primary first. Each entry is that model's own stack (retry, breaker, ...).
    chain: Vec<(ModelId, Arc<dyn Provider>)>,
}

impl Fallback {
    pub(crate) fn new(chain: Vec<(ModelId, Arc<dyn Provider>)>) -> Self {
        Fallback { chain }
    }
}

#[async_trait]
impl Provider for Fallback {
    fn name(&self) -> &str {
        self.chain
            .first()
            .map(|(_, p)| p.name())
            .unwrap_or("fallback")
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelResponse, ProviderError> {
        let mut failures = Vec::new();
        let mut last = None;
        for (i, (id, provider)) in self.chain.iter().enumerate() {
            let mut req = request.clone();
            // Each model is asked under its own name; the caller knows only the primary's.
            if i > 0 {
                req.model = id.model.clone();
                tracing::info!(model = %id, "trying fallback model");
            }
            match provider.complete(&req).await {
                Ok(r) => return Ok(r),
                Err(e) if e.wants_fallback() => {
                    failures.push(format!("{id}: {}", e.message));
                    last = Some(e);
                }
                Err(e) if i == 0 => return Err(e),
                Err(e) => {
                    failures.push(format!("{id}: {}", e.message));
                    return Err(ProviderError {
                        message: failures.join("; then "),
                        ..e
                    });
                }
            }
        }
        let e = last.unwrap_or_else(|| ProviderError::fatal("no model to ask"));
        Err(ProviderError {
            message: if failures.len() > 1 {
                format!("every model failed: {}", failures.join("; then "))
            } else {
                e.message.clone()
            },
            ..e
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::types::Purpose;

    #[derive(Debug)]
    struct Fixed(Result<&'static str, ProviderError>);

    #[async_trait]
    impl Provider for Fixed {
        fn name(&self) -> &str {
            "fixed"
        }
        async fn complete(&self, req: &ModelRequest) -> Result<ModelResponse, ProviderError> {
            self.0.clone().map(|t| ModelResponse {
                content: Some(t.into()),
                tool_calls: vec![],
                usage: Default::default(),
                model: req.model.clone(),
            })
        }
    }

    fn id(s: &str) -> ModelId {
        ModelId::parse(s).unwrap()
    }

    fn request() -> ModelRequest {
        ModelRequest {
            model: "a".into(),
            messages: vec![],
            tools: Default::default(),
            temperature: None,
            max_tokens: None,
            purpose: Purpose::Agent,
            seed: None,
            response_format: None,
        }
    }

    fn down() -> Arc<dyn Provider> {
        Arc::new(Fixed(Err(ProviderError::transient("503", None))))
    }

    #[tokio::test]
    async fn the_next_model_answers_when_the_primary_is_down() {
        let chain = Fallback::new(vec![
            (id("openai:a"), down()),
            (id("anthropic:b"), Arc::new(Fixed(Ok("hi")))),
        ]);
        let r = chain.complete(&request()).await.unwrap();
        assert_eq!(r.model, "b", "the fallback is asked under its own name");
    }

    #[tokio::test]
    async fn a_rejected_request_does_not_fall_back_and_all_down_names_every_model() {
        let chain = Fallback::new(vec![
            (
                id("openai:a"),
                Arc::new(Fixed(Err(ProviderError::fatal("400 bad")))),
            ),
            (id("openai:b"), Arc::new(Fixed(Ok("hi")))),
        ]);
        assert_eq!(
            chain.complete(&request()).await.unwrap_err().message,
            "400 bad"
        );

        let chain = Fallback::new(vec![(id("openai:a"), down()), (id("openai:b"), down())]);
        let e = chain.complete(&request()).await.unwrap_err();
        assert_eq!(
            e.message,
            "every model failed: openai:a: 503; then openai:b: 503"
        );
    }
}
