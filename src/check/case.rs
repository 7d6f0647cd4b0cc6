//! `CaseFacts`: what a check reads of the case it grades.
//!
//! Checks live below the suite: `suite::Case` holds validated checks, so `check` cannot name it
//! without a cycle. The suite implements this trait for its `Case` instead, and every check takes
//! `&dyn CaseFacts`.

use std::collections::BTreeMap;

use serde_json::Value;

pub trait CaseFacts: Sync {
    /// The case id, for messages.
    fn id(&self) -> &str;
    /// The first user turn (empty when there is none).
    fn input(&self) -> &str;
    /// `expected.reference`, when the case has one.
    fn reference(&self) -> Option<&str>;
    fn vars(&self) -> &BTreeMap<String, Value>;
    /// The case as a JSON value: what templates (`case`) and `expected.*` references see.
    fn to_value(&self) -> Value;
    /// Resolves a reference such as `expected.tools`; `None` when it does not exist or is null.
    fn lookup(&self, path: &str) -> Option<Value>;
}

/// Cases are shared as `Arc<Case>` across tasks: such a handle is the case it points to.
impl<T: CaseFacts + Send + ?Sized> CaseFacts for std::sync::Arc<T> {
    fn id(&self) -> &str {
        (**self).id()
    }

    fn input(&self) -> &str {
        (**self).input()
    }

    fn reference(&self) -> Option<&str> {
        (**self).reference()
    }

    fn vars(&self) -> &BTreeMap<String, Value> {
        (**self).vars()
    }

    fn to_value(&self) -> Value {
        (**self).to_value()
    }

    fn lookup(&self, path: &str) -> Option<Value> {
        (**self).lookup(path)
    }
}
