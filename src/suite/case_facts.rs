//! `CaseFacts` for `Case`: how checks see a validated case (see `check::case`).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::check::case::CaseFacts;
use crate::suite::model::Case;

impl CaseFacts for Case {
    fn id(&self) -> &str {
        &self.id
    }

    fn input(&self) -> &str {
        self.turns.first().map_or("", String::as_str)
    }

    fn reference(&self) -> Option<&str> {
        self.expected.reference.as_deref()
    }

    fn vars(&self) -> &BTreeMap<String, Value> {
        &self.vars
    }

    fn to_value(&self) -> Value {
        Case::to_value(self)
    }

    fn lookup(&self, path: &str) -> Option<Value> {
        Case::lookup(self, path)
    }
}
