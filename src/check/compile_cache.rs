//! `CompileCache`: regexes and JSON Schemas compiled once per suite load, shared by every
//! check that writes the same one (a dataset of 100,000 cases often repeats a pattern).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use regex::{Regex, RegexBuilder};
use serde_json::Value;

#[derive(Debug, Default)]
pub struct CompileCache {
    regexes: Mutex<HashMap<(String, bool), Arc<Regex>>>,
    schemas: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

/// A poisoned lock only means another thread panicked mid-insert of a finished value: the map
/// is still sound, so it is used as it is.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Why a regex or a JSON Schema written in a check does not compile.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("{0}")]
    Regex(#[from] regex::Error),
    /// The schema validator's message (its error borrows the schema, so it is kept as text).
    #[error("{0}")]
    Schema(String),
}

impl CompileCache {
    /// `pattern` compiled (case-insensitively when asked).
    pub fn regex(&self, pattern: &str, ignore_case: bool) -> Result<Arc<Regex>, CompileError> {
        let key = (pattern.to_string(), ignore_case);
        if let Some(r) = lock(&self.regexes).get(&key) {
            return Ok(Arc::clone(r));
        }
        // Compiled outside the lock: other threads go on with other patterns meanwhile.
        let regex = Arc::new(
            RegexBuilder::new(pattern)
                .case_insensitive(ignore_case)
                .build()?,
        );
        lock(&self.regexes).insert(key, Arc::clone(&regex));
        Ok(regex)
    }

    /// The validator of `schema`.
    pub fn schema(&self, schema: &Value) -> Result<Arc<jsonschema::Validator>, CompileError> {
        let key = schema.to_string();
        if let Some(v) = lock(&self.schemas).get(&key) {
            return Ok(Arc::clone(v));
        }
        let validator = Arc::new(
            jsonschema::validator_for(schema).map_err(|e| CompileError::Schema(e.to_string()))?,
        );
        lock(&self.schemas).insert(key, Arc::clone(&validator));
        Ok(validator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_patterns_share_one_compiled_regex_and_flags_are_part_of_the_key() {
        let cache = CompileCache::default();
        let a = cache.regex("ab+c", false).unwrap();
        let b = cache.regex("ab+c", false).unwrap();
        let i = cache.regex("ab+c", true).unwrap();
        assert!(Arc::ptr_eq(&a, &b) && !Arc::ptr_eq(&a, &i));
        assert!(a.is_match("abbc") && b.is_match("abbc"));
        assert!(!a.is_match("ABC") && i.is_match("ABC"));
        assert_eq!(lock(&cache.regexes).len(), 2);
        assert!(cache
            .regex("(", false)
            .unwrap_err()
            .to_string()
            .contains("unclosed group"));
    }

    #[test]
    fn equal_schemas_share_one_validator() {
        let cache = CompileCache::default();
        let s = serde_json::json!({"type": "object", "required": ["a"]});
        let a = cache.schema(&s).unwrap();
        let b = cache.schema(&s.clone()).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!a.is_valid(&serde_json::json!({})));
        assert!(cache.schema(&serde_json::json!({"type": 7})).is_err());
    }
}
