//! `state_diff`: every path where two JSON states differ, for `end_state` in `mode: exact`.
//!
//! τ-bench scores a run by the whole database; a subset match would not see a record the agent
//! wrongly added. The diff lists each differing path (not only the first), so a failed check
//! says everything that went wrong at once. Numbers compare as f64 (`1` equals `1.0`).

use serde_json::Value;

use crate::text::truncate;

/// One path where the states differ.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Difference {
    /// Present in both, different.
    Changed {
        path: String,
        expected: Value,
        found: Value,
    },
    /// Expected, not found.
    Missing { path: String, expected: Value },
    /// Found, not expected.
    Unexpected { path: String, found: Value },
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |v: &Value| truncate(&v.to_string(), 60);
        match self {
            Difference::Changed {
                path,
                expected,
                found,
            } => write!(
                f,
                "{path}: expected {}, found {}",
                show(expected),
                show(found)
            ),
            Difference::Missing { path, expected } => {
                write!(f, "{path}: missing (expected {})", show(expected))
            }
            Difference::Unexpected { path, found } => {
                write!(f, "{path}: unexpected {}", show(found))
            }
        }
    }
}

/// Every difference between `expected` and `actual`, in path order, skipping the `ignore`
/// paths (dot paths; a `*` segment matches any key or index, and a path ignores all below it).
pub(crate) fn state_diff(expected: &Value, actual: &Value, ignore: &[String]) -> Vec<Difference> {
    let ignore: Vec<Vec<&str>> = ignore.iter().map(|p| p.split('.').collect()).collect();
    let mut out = Vec::new();
    walk(expected, actual, &mut Vec::new(), &ignore, &mut out);
    out
}

fn ignored(path: &[String], ignore: &[Vec<&str>]) -> bool {
    ignore.iter().any(|pattern| {
        pattern.len() <= path.len()
            && pattern
                .iter()
                .zip(path)
                .all(|(want, seg)| *want == "*" || want == seg)
    })
}

/// How a path reads in the diff.
fn here(path: &[String]) -> String {
    if path.is_empty() {
        "(root)".to_string()
    } else {
        path.join(".")
    }
}

/// One key or index of both sides at `path`: compared when both have it, else missing or
/// unexpected unless ignored.
fn child(
    e: Option<&Value>,
    a: Option<&Value>,
    path: &mut Vec<String>,
    ignore: &[Vec<&str>],
    out: &mut Vec<Difference>,
) {
    match (e, a) {
        (Some(ev), Some(av)) => walk(ev, av, path, ignore, out),
        (Some(ev), None) if !ignored(path, ignore) => out.push(Difference::Missing {
            path: here(path),
            expected: ev.clone(),
        }),
        (None, Some(av)) if !ignored(path, ignore) => out.push(Difference::Unexpected {
            path: here(path),
            found: av.clone(),
        }),
        _ => {}
    }
}

fn walk(
    expected: &Value,
    actual: &Value,
    path: &mut Vec<String>,
    ignore: &[Vec<&str>],
    out: &mut Vec<Difference>,
) {
    if ignored(path, ignore) {
        return;
    }
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            let mut keys: Vec<&String> = e.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                path.push(key.clone());
                child(e.get(key), a.get(key), path, ignore, out);
                path.pop();
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            for i in 0..e.len().max(a.len()) {
                path.push(i.to_string());
                child(e.get(i), a.get(i), path, ignore, out);
                path.pop();
            }
        }
        (Value::Number(e), Value::Number(a)) if e.as_f64() == a.as_f64() => {}
        (e, a) if e == a => {}
        (e, a) => out.push(Difference::Changed {
            path: here(path),
            expected: e.clone(),
            found: a.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shown(e: Value, a: Value, ignore: &[&str]) -> Vec<String> {
        let ignore: Vec<String> = ignore.iter().map(|s| s.to_string()).collect();
        state_diff(&e, &a, &ignore)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn every_differing_path_is_listed() {
        let e = json!({"orders": {"1": {"status": "cancelled", "total": 10}, "2": {"status": "pending"}}, "log": [1, 2]});
        let a = json!({"orders": {"1": {"status": "pending", "total": 10.0}, "3": {"status": "new"}}, "log": [1, 2, 3]});
        assert_eq!(
            shown(e, a, &[]),
            [
                "log.2: unexpected 3",
                "orders.1.status: expected \"cancelled\", found \"pending\"",
                "orders.2: missing (expected {\"status\":\"pending\"})",
                "orders.3: unexpected {\"status\":\"new\"}",
            ]
        );
    }

    #[test]
    fn equal_states_and_ignored_paths_give_nothing() {
        let s = json!({"a": {"b": [1, {"c": 2}]}, "n": 1});
        assert!(shown(s.clone(), s.clone(), &[]).is_empty());
        assert!(shown(json!({"n": 1}), json!({"n": 1.0}), &[]).is_empty());
        let e = json!({"orders": {"1": {"status": "x", "at": "10:00"}, "2": {"at": "11:00"}}, "seq": 1});
        let a = json!({"orders": {"1": {"status": "x", "at": "10:05"}, "2": {"at": "12:00"}}, "seq": 7});
        assert!(shown(e.clone(), a.clone(), &["orders.*.at", "seq"]).is_empty());
        assert_eq!(
            shown(e, a, &["orders.1.at"]),
            [
                "orders.2.at: expected \"11:00\", found \"12:00\"",
                "seq: expected 1, found 7"
            ]
        );
    }

    #[test]
    fn a_different_kind_at_the_root_is_one_difference() {
        assert_eq!(
            shown(json!({}), json!([]), &[]),
            ["(root): expected {}, found []"]
        );
    }
}
