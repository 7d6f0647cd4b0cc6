//! `ArgRules`: how a tool call's actual arguments are compared with the expected ones —
//! the matcher (`exact`, `subset`, `superset`, `ignore`), per-tool overrides, keys to ignore
//! (dot paths with globs) and declared defaults (an argument equal to its default is absent).

use std::collections::BTreeMap;

use globset::{GlobBuilder, GlobMatcher};
use serde_json::{Map, Value};

use crate::check::json_subset::{exact_mismatch, subset_mismatch, Mismatch};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ArgMatch {
    /// Arguments equal (after ignored keys and defaults are removed).
    Exact,
    /// Expected arguments are a recursive subset of the actual ones (extra actual keys allowed).
    #[default]
    Subset,
    /// Actual arguments are a recursive subset of the expected ones (the agent passed nothing
    /// the expectation does not list; expected keys may be missing).
    Superset,
    /// Arguments are not compared.
    Ignore,
}

impl ArgMatch {
    pub const NAMES: [&'static str; 4] = ["exact", "subset", "superset", "ignore"];

    pub fn parse(s: &str) -> Option<ArgMatch> {
        match s {
            "exact" => Some(ArgMatch::Exact),
            "subset" => Some(ArgMatch::Subset),
            "superset" => Some(ArgMatch::Superset),
            "ignore" => Some(ArgMatch::Ignore),
            _ => None,
        }
    }
}

/// A key to ignore: a dot path (`metadata.trace_id`) whose segments may hold globs
/// (`*.timestamp`: `timestamp` one level down; `**.timestamp`: at any depth).
#[derive(Debug, Clone)]
pub struct KeyPattern {
    pub source: String,
    matcher: GlobMatcher,
}

/// A key pattern that is not a valid glob.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid key pattern `{pattern}`: {kind}")]
pub struct KeyPatternError {
    pub pattern: String,
    pub kind: globset::ErrorKind,
}

impl KeyPattern {
    pub fn new(source: &str) -> Result<KeyPattern, KeyPatternError> {
        // Dots become globset's separator so that `*` stays within one key.
        let glob = source.replace('.', "/");
        let matcher = GlobBuilder::new(&glob)
            .literal_separator(true)
            .build()
            .map_err(|e| KeyPatternError {
                pattern: source.to_string(),
                kind: e.kind().clone(),
            })?
            .compile_matcher();
        Ok(KeyPattern {
            source: source.to_string(),
            matcher,
        })
    }

    fn matches(&self, path: &str) -> bool {
        self.matcher.is_match(path)
    }
}

/// Everything that decides whether two argument values match.
#[derive(Debug, Clone, Default)]
pub struct ArgRules {
    pub default: ArgMatch,
    /// Per-tool matcher overrides.
    pub tools: BTreeMap<String, ArgMatch>,
    /// Keys removed from both sides before comparing.
    pub ignore: Vec<KeyPattern>,
    /// Per tool: top-level arguments and their declared defaults.
    pub defaults: BTreeMap<String, Map<String, Value>>,
}

impl ArgRules {
    pub fn with(default: ArgMatch) -> ArgRules {
        ArgRules {
            default,
            ..ArgRules::default()
        }
    }

    pub fn matcher_for(&self, tool: &str) -> ArgMatch {
        self.tools.get(tool).copied().unwrap_or(self.default)
    }

    /// `args` with ignored keys and default-valued arguments of `tool` removed.
    pub fn normalise(&self, tool: &str, args: &Value) -> Value {
        let mut v = args.clone();
        if !self.ignore.is_empty() {
            strip(&mut v, "", &self.ignore);
        }
        if let (Some(defaults), Value::Object(map)) = (self.defaults.get(tool), &mut v) {
            map.retain(|k, val| {
                defaults
                    .get(k)
                    .is_none_or(|d| exact_mismatch(d, val).is_some())
            });
        }
        v
    }

    /// Why `actual` does not match `expected` for `tool`; `None` when it matches.
    /// `expected: None` matches any arguments.
    pub fn mismatch(
        &self,
        tool: &str,
        expected: Option<&Value>,
        actual: &Value,
    ) -> Option<Mismatch> {
        let want = expected?;
        let how = self.matcher_for(tool);
        if how == ArgMatch::Ignore {
            return None;
        }
        let (want, got) = (self.normalise(tool, want), self.normalise(tool, actual));
        match how {
            ArgMatch::Exact => exact_mismatch(&want, &got),
            ArgMatch::Subset => subset_mismatch(&want, &got),
            // The roles swap: what the agent passed must be found in the expectation.
            ArgMatch::Superset => subset_mismatch(&got, &want).map(|m| Mismatch {
                path: m.path,
                expected: m.found.unwrap_or_else(|| "nothing".into()),
                found: Some(m.expected),
            }),
            ArgMatch::Ignore => None,
        }
    }

    pub fn matches(&self, tool: &str, expected: Option<&Value>, actual: &Value) -> bool {
        self.mismatch(tool, expected, actual).is_none()
    }
}

/// Removes every object key whose dot path matches a pattern. Arrays are transparent: keys of
/// objects inside a list have the list's path (`items.sku`).
fn strip(v: &mut Value, path: &str, ignore: &[KeyPattern]) {
    match v {
        Value::Object(map) => {
            map.retain(|k, _| {
                let p = join(path, k);
                !ignore.iter().any(|pat| pat.matches(&p))
            });
            for (k, child) in map.iter_mut() {
                strip(child, &join(path, k), ignore);
            }
        }
        Value::Array(items) => {
            for item in items {
                strip(item, path, ignore);
            }
        }
        _ => {}
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}/{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rules(default: ArgMatch, ignore: &[&str]) -> ArgRules {
        ArgRules {
            default,
            ignore: ignore.iter().map(|p| KeyPattern::new(p).unwrap()).collect(),
            ..ArgRules::default()
        }
    }

    #[test]
    fn matcher_table() {
        use ArgMatch::*;
        let e = json!({"order_id": "1", "opts": {"fast": true}});
        let table = [
            // (matcher, expected, actual, matches)
            (
                Exact,
                e.clone(),
                json!({"order_id": "1", "opts": {"fast": true}}),
                true,
            ),
            (
                Exact,
                e.clone(),
                json!({"order_id": "1", "opts": {"fast": true, "x": 1}}),
                false,
            ),
            (Exact, e.clone(), json!({"order_id": "1"}), false),
            (
                Subset,
                e.clone(),
                json!({"order_id": "1", "opts": {"fast": true, "x": 1}}),
                true,
            ),
            (Subset, e.clone(), json!({"order_id": "1"}), false),
            (
                Subset,
                e.clone(),
                json!({"order_id": "2", "opts": {"fast": true}}),
                false,
            ),
            (Superset, e.clone(), json!({"order_id": "1"}), true),
            (Superset, e.clone(), json!({"opts": {}}), true),
            (
                Superset,
                e.clone(),
                json!({"order_id": "1", "opts": {"slow": true}}),
                false,
            ),
            (Superset, e.clone(), json!({"order_id": "2"}), false),
            (Ignore, e.clone(), json!({"anything": [1]}), true),
            // numbers compare as numbers at any depth
            (
                Exact,
                json!({"a": [1, {"b": 2}]}),
                json!({"a": [1.0, {"b": 2.0}]}),
                true,
            ),
        ];
        for (how, want, got, ok) in table {
            let r = rules(how, &[]);
            assert_eq!(
                r.matches("t", Some(&want), &got),
                ok,
                "{how:?} {want} vs {got}"
            );
        }
        assert!(rules(Exact, &[]).matches("t", None, &json!({"x": 1})));
    }

    #[test]
    fn ignored_keys_by_path_and_glob() {
        let want = json!({"q": "refund", "meta": {"trace_id": "a", "ts": 1}, "items": [{"sku": "x", "ts": 5}]});
        let got = json!({"q": "refund", "meta": {"trace_id": "b", "ts": 2}, "items": [{"sku": "x", "ts": 9}]});
        assert!(!rules(ArgMatch::Exact, &[]).matches("t", Some(&want), &got));
        assert!(!rules(ArgMatch::Exact, &["meta.trace_id"]).matches("t", Some(&want), &got));
        assert!(rules(ArgMatch::Exact, &["meta.trace_id", "*.ts"]).matches("t", Some(&want), &got));
        assert!(rules(ArgMatch::Exact, &["meta.*", "**.ts"]).matches("t", Some(&want), &got));
        // `*` stays within one key: `*.ts` does not reach `a.b.ts`.
        let deep_w = json!({"a": {"b": {"ts": 1}}});
        let deep_g = json!({"a": {"b": {"ts": 2}}});
        assert!(!rules(ArgMatch::Exact, &["*.ts"]).matches("t", Some(&deep_w), &deep_g));
        assert!(rules(ArgMatch::Exact, &["**.ts"]).matches("t", Some(&deep_w), &deep_g));
    }

    #[test]
    fn defaults_count_as_absent_and_overrides_apply_per_tool() {
        let mut r = rules(ArgMatch::Exact, &[]);
        r.defaults.insert(
            "search_kb".into(),
            json!({"limit": 3}).as_object().unwrap().clone(),
        );
        let want = json!({"query": "refund"});
        assert!(r.matches(
            "search_kb",
            Some(&want),
            &json!({"query": "refund", "limit": 3})
        ));
        assert!(r.matches(
            "search_kb",
            Some(&json!({"query": "refund", "limit": 3.0})),
            &want
        ));
        assert!(!r.matches(
            "search_kb",
            Some(&want),
            &json!({"query": "refund", "limit": 5})
        ));
        // defaults are per tool
        assert!(!r.matches(
            "other",
            Some(&want),
            &json!({"query": "refund", "limit": 3})
        ));
        r.tools.insert("other".into(), ArgMatch::Subset);
        assert!(r.matches(
            "other",
            Some(&want),
            &json!({"query": "refund", "limit": 3})
        ));
        assert_eq!(r.matcher_for("search_kb"), ArgMatch::Exact);
    }

    #[test]
    fn superset_mismatch_names_the_extra_argument() {
        let r = rules(ArgMatch::Superset, &[]);
        let m = r
            .mismatch("t", Some(&json!({"a": 1})), &json!({"a": 1, "b": 2}))
            .unwrap();
        assert_eq!(m.to_string(), "b: expected nothing, found 2");
    }

    #[test]
    fn bad_pattern_is_an_error() {
        assert!(KeyPattern::new("a.[b").is_err());
    }
}
