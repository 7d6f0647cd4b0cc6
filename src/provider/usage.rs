//! `token_count`: a provider's token usage, read strictly. A count that is negative,
//! fractional or not a number is an error of that call, never a silent 0 that would make a
//! run look cheaper than it was.

use serde_json::Value;

use crate::provider::types::ProviderError;

/// The count at `pointer` in a response: absent or `null` is 0 (local servers often send no
/// usage); a non-negative integer is itself; anything else is a fatal error.
pub(crate) fn token_count(v: &Value, pointer: &str, provider: &str) -> Result<u64, ProviderError> {
    match v.pointer(pointer) {
        None | Some(Value::Null) => Ok(0),
        Some(n) => n.as_u64().ok_or_else(|| {
            let shown = crate::text::excerpt(&n.to_string(), 60, "(empty)");
            ProviderError::fatal(format!(
                "{provider} response has an invalid token count at `{pointer}`: {shown} \
                 (expected a whole number of at least 0)"
            ))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_are_whole_non_negative_numbers_or_absent() {
        let v = json!({"u": {"a": 12, "big": u64::MAX, "null": null,
            "neg": -3, "frac": 1.5, "text": "12", "huge": 1e30}});
        assert_eq!(token_count(&v, "/u/a", "p").unwrap(), 12);
        assert_eq!(token_count(&v, "/u/big", "p").unwrap(), u64::MAX);
        assert_eq!(token_count(&v, "/u/missing", "p").unwrap(), 0);
        assert_eq!(token_count(&v, "/u/null", "p").unwrap(), 0);
        for bad in ["neg", "frac", "text", "huge"] {
            let e = token_count(&v, &format!("/u/{bad}"), "openai").unwrap_err();
            assert!(!e.retryable, "{bad}");
            assert!(e.message.contains("invalid token count"), "{}", e.message);
        }
    }
}
