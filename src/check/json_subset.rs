//! `Mismatch`: recursive subset and equality matching of JSON values, reporting the first
//! differing path. Used by `end_state`, `tool_called` args and trajectory argument matching.

use serde_json::Value;

use crate::text::truncate;

/// Where an actual value first differs from the expected one.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    /// Dot path (`orders.1042.status`, `items[0].sku`); empty at the root.
    pub path: String,
    /// What was expected there, rendered as compact JSON.
    pub expected: String,
    /// What was found there, or `None` when the key is missing.
    pub found: Option<String>,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = if self.path.is_empty() {
            String::new()
        } else {
            format!("{}: ", self.path)
        };
        match &self.found {
            Some(found) => write!(f, "{at}expected {}, found {found}", self.expected),
            None => write!(f, "{at}expected {}, found nothing", self.expected),
        }
    }
}

/// `expected` is a recursive subset of `actual`: objects need every expected key (extra keys
/// in `actual` are fine), arrays need equal length and element-wise subset, scalars must be
/// equal (numbers as f64, so `1` matches `1.0`). `None` when it matches.
pub(crate) fn subset_mismatch(expected: &Value, actual: &Value) -> Option<Mismatch> {
    compare(expected, actual, String::new(), true)
}

/// Full equality, with numbers compared as f64. `None` when equal.
pub(crate) fn exact_mismatch(expected: &Value, actual: &Value) -> Option<Mismatch> {
    compare(expected, actual, String::new(), false)
}

fn compare(expected: &Value, actual: &Value, path: String, subset: bool) -> Option<Mismatch> {
    let differ = |path: String| {
        Some(Mismatch {
            path,
            expected: render(expected),
            found: Some(render(actual)),
        })
    };
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (key, ev) in e {
                let child = join_key(&path, key);
                match a.get(key) {
                    Some(av) => {
                        if let Some(m) = compare(ev, av, child, subset) {
                            return Some(m);
                        }
                    }
                    None => {
                        return Some(Mismatch {
                            path: child,
                            expected: render(ev),
                            found: None,
                        })
                    }
                }
            }
            if !subset {
                if let Some(extra) = a.keys().find(|k| !e.contains_key(*k)) {
                    return Some(Mismatch {
                        path: join_key(&path, extra),
                        expected: "nothing".into(),
                        found: a.get(extra).map(render),
                    });
                }
            }
            None
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                return Some(Mismatch {
                    path,
                    expected: format!("{} items", e.len()),
                    found: Some(format!("{} items", a.len())),
                });
            }
            e.iter()
                .zip(a)
                .enumerate()
                .find_map(|(i, (ev, av))| compare(ev, av, format!("{path}[{i}]"), subset))
        }
        (Value::Number(e), Value::Number(a)) => {
            if e.as_f64() == a.as_f64() {
                None
            } else {
                differ(path)
            }
        }
        _ if expected == actual => None,
        _ => differ(path),
    }
}

fn join_key(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Compact JSON, truncated so that a reason stays one readable line.
pub(crate) fn render(v: &Value) -> String {
    truncate(&v.to_string(), 80)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subset_table() {
        let table = [
            // (expected, actual, first mismatch as displayed or None)
            (json!({}), json!({"a": 1}), None),
            (json!({"a": 1}), json!({"a": 1.0, "b": 2}), None),
            (
                json!({"a": 1}),
                json!({"b": 1}),
                Some("a: expected 1, found nothing"),
            ),
            (
                json!({"orders": {"1042": {"status": "refunded"}}}),
                json!({"orders": {"1042": {"status": "delivered", "total": 30}}}),
                Some("orders.1042.status: expected \"refunded\", found \"delivered\""),
            ),
            (json!([1, {"x": 1}]), json!([1, {"x": 1, "y": 2}]), None),
            (
                json!([1, 2]),
                json!([1, 2, 3]),
                Some("expected 2 items, found 3 items"),
            ),
            (
                json!({"items": [{"sku": "a"}]}),
                json!({"items": [{"sku": "b"}]}),
                Some("items[0].sku: expected \"a\", found \"b\""),
            ),
            (json!("1"), json!(1), Some("expected \"1\", found 1")),
            (json!(null), json!(null), None),
            (
                json!({"a": null}),
                json!({}),
                Some("a: expected null, found nothing"),
            ),
        ];
        for (e, a, want) in table {
            let got = subset_mismatch(&e, &a).map(|m| m.to_string());
            assert_eq!(got.as_deref(), want, "{e} ⊆ {a}");
        }
    }

    #[test]
    fn exact_rejects_extra_keys_but_not_number_forms() {
        assert_eq!(
            exact_mismatch(&json!({"a": [1, 2]}), &json!({"a": [1.0, 2]})),
            None
        );
        let m = exact_mismatch(&json!({"a": 1}), &json!({"a": 1, "b": {"c": 2}})).unwrap();
        assert_eq!(m.to_string(), "b: expected nothing, found {\"c\":2}");
        assert!(exact_mismatch(&json!({"a": {}}), &json!({"a": {"x": 1}})).is_some());
    }
}
