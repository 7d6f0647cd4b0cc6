//! `Providers`: hands the runner a `Provider` for a model id (today only `mock:NAME`).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::provider::mock::{MockProvider, MockRules};
use crate::provider::types::{ModelId, Provider, ProviderError};
use crate::suite::raw::RawMockReply;

#[derive(Debug, Clone, Default)]
pub struct Providers {
    mocks: BTreeMap<String, Arc<MockRules>>,
}

impl Providers {
    /// `mocks`: the compiled rules of every `mock:NAME` the suite uses, by NAME.
    pub fn new(mocks: BTreeMap<String, Arc<MockRules>>) -> Self {
        Providers { mocks }
    }

    /// A provider for `id`. `script` is the case's per-case mock script (ignored by real
    /// providers); pass `&[]` for judges.
    pub fn get(
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
            other => Err(ProviderError::fatal(format!(
                "provider `{other}` is not available in this build"
            ))),
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
