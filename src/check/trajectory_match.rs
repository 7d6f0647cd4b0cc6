//! `TrajectoryMatch`: how an agent's tool calls compare with the expected ones (`trajectory`
//! check), as a boolean per mode plus partial credit (precision, recall, F1 of matched calls).

use serde_json::Value;

use crate::check::arg_match::ArgRules;
use crate::check::family::trajectory::TrajectoryMode;

/// One expected call: a name, and arguments to compare unless `None`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExpectedCall {
    pub name: String,
    /// `None`: any arguments match.
    pub args: Option<Value>,
}

/// Why a list of expected tool calls cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ExpectedCallsError {
    #[error("expected a list of tool calls, found {found}")]
    NotAList { found: &'static str },
    #[error("tool call {index}: unknown key `{key}` (expected `name`, `args`)")]
    UnknownKey { index: usize, key: String },
    #[error("tool call {index}: needs a string `name`")]
    NoName { index: usize },
    #[error("tool call {index}: expected `{{name, args}}` or a name, found {found}")]
    NotACall { index: usize, found: &'static str },
}

/// Reads `[{name, args}]` (or bare names: `[lookup_order, ...]`).
pub(crate) fn expected_calls(v: &Value) -> Result<Vec<ExpectedCall>, ExpectedCallsError> {
    let items = v
        .as_array()
        .ok_or(ExpectedCallsError::NotAList { found: kind_of(v) })?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::String(name) => Ok(ExpectedCall {
                name: name.clone(),
                args: None,
            }),
            Value::Object(map) => {
                if let Some(key) = map.keys().find(|k| *k != "name" && *k != "args") {
                    return Err(ExpectedCallsError::UnknownKey {
                        index: i,
                        key: key.clone(),
                    });
                }
                let name = map
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or(ExpectedCallsError::NoName { index: i })?;
                let args = map.get("args").filter(|a| !a.is_null()).cloned();
                Ok(ExpectedCall {
                    name: name.to_string(),
                    args,
                })
            }
            other => Err(ExpectedCallsError::NotACall {
                index: i,
                found: kind_of(other),
            }),
        })
        .collect()
}

pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

/// Whether one actual call satisfies one expected call under `rules`.
pub(crate) fn call_matches(
    expected: &ExpectedCall,
    name: &str,
    args: &Value,
    rules: &ArgRules,
) -> bool {
    expected.name == name && rules.matches(name, expected.args.as_ref(), args)
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TrajectoryMatch {
    pub passed: bool,
    /// Pairs (expected index, actual index) of the matching, sorted by expected index.
    pub pairs: Vec<(usize, usize)>,
    pub matched: usize,
    pub expected: usize,
    pub actual: usize,
    /// Index of the first expected call left unmatched.
    pub first_missing: Option<usize>,
    /// Index of the first actual call left unmatched.
    pub first_unexpected: Option<usize>,
}

impl TrajectoryMatch {
    /// Matched / actual; 1 when the agent made no calls (nothing it did was wrong).
    pub(crate) fn precision(&self) -> f64 {
        ratio(self.matched, self.actual)
    }

    /// Matched / expected; 1 when nothing was expected.
    pub(crate) fn recall(&self) -> f64 {
        ratio(self.matched, self.expected)
    }

    pub(crate) fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn ratio(n: usize, d: usize) -> f64 {
    if d == 0 {
        1.0
    } else {
        n as f64 / d as f64
    }
}

/// Matches `actual` calls against `expected` one-to-one and decides the mode's verdict.
///
/// - `strict` and `in_order` pair calls in order: the longest common subsequence of the two
///   lists (ties broken toward the earliest calls), so the result never depends on luck.
/// - `unordered`, `subset` and `superset` pair calls regardless of order: a maximum one-to-one
///   matching, built by taking expected calls in order, each the earliest actual call it can,
///   and re-assigning earlier pairs when that frees a call (augmenting paths).
///
/// Counts matter in every mode: an expected call listed twice needs two actual calls.
pub(crate) fn match_calls(
    mode: TrajectoryMode,
    rules: &ArgRules,
    expected: &[ExpectedCall],
    actual: &[(&str, &Value)],
) -> TrajectoryMatch {
    let ok: Vec<Vec<bool>> = expected
        .iter()
        .map(|e| {
            actual
                .iter()
                .map(|(n, a)| call_matches(e, n, a, rules))
                .collect()
        })
        .collect();
    let pairs = match mode {
        TrajectoryMode::Strict | TrajectoryMode::InOrder => ordered_pairs(&ok, actual.len()),
        _ => unordered_pairs(&ok, actual.len()),
    };
    let (e, a, m) = (expected.len(), actual.len(), pairs.len());
    let passed = match mode {
        TrajectoryMode::Strict => m == e && a == e,
        TrajectoryMode::InOrder | TrajectoryMode::Superset => m == e,
        TrajectoryMode::Unordered => m == e && m == a,
        TrajectoryMode::Subset => m == a,
    };
    let first_missing = (0..e).find(|i| !pairs.iter().any(|(pi, _)| pi == i));
    let first_unexpected = (0..a).find(|j| !pairs.iter().any(|(_, pj)| pj == j));
    TrajectoryMatch {
        passed,
        matched: m,
        expected: e,
        actual: a,
        pairs,
        first_missing,
        first_unexpected,
    }
}

/// Longest common subsequence under `ok`, reconstructed toward the earliest pairs.
fn ordered_pairs(ok: &[Vec<bool>], n_actual: usize) -> Vec<(usize, usize)> {
    let n = ok.len();
    // lcs[i][j]: length of the best matching of expected[i..] and actual[j..].
    let mut lcs = vec![vec![0usize; n_actual + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..n_actual).rev() {
            lcs[i][j] = if ok[i][j] {
                1 + lcs[i + 1][j + 1]
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut pairs) = (0, 0, Vec::new());
    while i < n && j < n_actual {
        if ok[i][j] && lcs[i][j] == 1 + lcs[i + 1][j + 1] {
            pairs.push((i, j));
            i += 1;
            j += 1;
        } else if lcs[i][j + 1] >= lcs[i + 1][j] {
            j += 1;
        } else {
            i += 1;
        }
    }
    pairs
}

/// Maximum bipartite matching (Kuhn's algorithm), deterministic by index order.
fn unordered_pairs(ok: &[Vec<bool>], n_actual: usize) -> Vec<(usize, usize)> {
    fn augment(i: usize, ok: &[Vec<bool>], seen: &mut [bool], owner: &mut [Option<usize>]) -> bool {
        for j in 0..owner.len() {
            if ok[i][j] && !seen[j] {
                seen[j] = true;
                if owner[j].is_none_or(|k| augment(k, ok, seen, owner)) {
                    owner[j] = Some(i);
                    return true;
                }
            }
        }
        false
    }
    let mut owner: Vec<Option<usize>> = vec![None; n_actual];
    for i in 0..ok.len() {
        let mut seen = vec![false; n_actual];
        augment(i, ok, &mut seen, &mut owner);
    }
    let mut pairs: Vec<(usize, usize)> = owner
        .iter()
        .enumerate()
        .filter_map(|(j, o)| o.map(|i| (i, j)))
        .collect();
    pairs.sort();
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::arg_match::ArgMatch;
    use serde_json::json;

    /// Expected calls from a compact form: `"lookup_order"` or `"lookup_order {json args}"`.
    fn exp(spec: &[&str]) -> Vec<ExpectedCall> {
        spec.iter()
            .map(|s| match s.split_once(' ') {
                Some((n, a)) => ExpectedCall {
                    name: n.to_string(),
                    args: Some(serde_json::from_str(a).unwrap()),
                },
                None => ExpectedCall {
                    name: s.to_string(),
                    args: None,
                },
            })
            .collect()
    }

    fn act(spec: &[&str]) -> Vec<(String, Value)> {
        spec.iter()
            .map(|s| match s.split_once(' ') {
                Some((n, a)) => (n.to_string(), serde_json::from_str(a).unwrap()),
                None => (s.to_string(), json!({})),
            })
            .collect()
    }

    /// One row: label, expected, actual, then per mode whether it passes, in the order
    /// strict, in_order, unordered, subset, superset; and the matched count for ordered
    /// and unordered matching.
    struct Row {
        label: &'static str,
        expected: &'static [&'static str],
        actual: &'static [&'static str],
        pass: [bool; 5],
        matched: (usize, usize),
    }

    const MODES: [TrajectoryMode; 5] = [
        TrajectoryMode::Strict,
        TrajectoryMode::InOrder,
        TrajectoryMode::Unordered,
        TrajectoryMode::Subset,
        TrajectoryMode::Superset,
    ];

    const T: bool = true;
    const F: bool = false;

    fn table() -> Vec<Row> {
        vec![
            Row {
                label: "both empty",
                expected: &[],
                actual: &[],
                pass: [T, T, T, T, T],
                matched: (0, 0),
            },
            Row {
                label: "nothing called",
                expected: &["a"],
                actual: &[],
                pass: [F, F, F, T, F],
                matched: (0, 0),
            },
            Row {
                label: "nothing expected",
                expected: &[],
                actual: &["a"],
                pass: [F, T, F, F, T],
                matched: (0, 0),
            },
            Row {
                label: "identical",
                expected: &["a", "b"],
                actual: &["a", "b"],
                pass: [T, T, T, T, T],
                matched: (2, 2),
            },
            Row {
                label: "extra call in the middle",
                expected: &["a", "b"],
                actual: &["a", "x", "b"],
                pass: [F, T, F, F, T],
                matched: (2, 2),
            },
            Row {
                label: "extra call at the end",
                expected: &["a", "b"],
                actual: &["a", "b", "x"],
                pass: [F, T, F, F, T],
                matched: (2, 2),
            },
            Row {
                label: "reordered",
                expected: &["a", "b"],
                actual: &["b", "a"],
                pass: [F, F, T, T, T],
                matched: (1, 2),
            },
            Row {
                label: "reordered with extra",
                expected: &["a", "b"],
                actual: &["b", "x", "a"],
                pass: [F, F, F, F, T],
                matched: (1, 2),
            },
            Row {
                label: "missing call",
                expected: &["a", "b"],
                actual: &["a"],
                pass: [F, F, F, T, F],
                matched: (1, 1),
            },
            Row {
                label: "repeated expected, one actual",
                expected: &["a", "a"],
                actual: &["a"],
                pass: [F, F, F, T, F],
                matched: (1, 1),
            },
            Row {
                label: "repeated actual, one expected",
                expected: &["a"],
                actual: &["a", "a"],
                pass: [F, T, F, F, T],
                matched: (1, 1),
            },
            Row {
                label: "repeated on both sides",
                expected: &["a", "b", "a"],
                actual: &["a", "a", "b"],
                pass: [F, F, T, T, T],
                matched: (2, 3),
            },
            Row {
                label: "wrong args skipped to the matching call",
                expected: &[r#"lookup {"id": "1042"}"#],
                actual: &[
                    r#"lookup {"id": "7"}"#,
                    r#"lookup {"id": "1042", "verbose": true}"#,
                ],
                pass: [F, T, F, F, T],
                matched: (1, 1),
            },
            Row {
                label: "nested args as a recursive subset",
                expected: &[r#"ticket {"t": {"tags": ["refund"], "p": "high"}}"#],
                actual: &[r#"ticket {"t": {"tags": ["refund"], "p": "high", "body": "x"}}"#],
                pass: [T, T, T, T, T],
                matched: (1, 1),
            },
            Row {
                label: "nested args differ in a list",
                expected: &[r#"ticket {"t": {"tags": ["refund"]}}"#],
                actual: &[r#"ticket {"t": {"tags": ["refund", "vip"]}}"#],
                pass: [F, F, F, F, F],
                matched: (0, 0),
            },
            Row {
                // A generic expected call must not steal the one call a specific one needs.
                label: "matching is maximum, not first come",
                expected: &["lookup", r#"lookup {"id": "1"}"#],
                actual: &[r#"lookup {"id": "1"}"#, r#"lookup {"id": "2"}"#],
                pass: [F, F, T, T, T],
                matched: (1, 2),
            },
        ]
    }

    #[test]
    fn modes_table() {
        let rules = ArgRules::with(ArgMatch::Subset);
        for row in table() {
            let expected = exp(row.expected);
            let owned = act(row.actual);
            let actual: Vec<(&str, &Value)> = owned.iter().map(|(n, a)| (n.as_str(), a)).collect();
            for (mode, want) in MODES.iter().zip(row.pass) {
                let m = match_calls(*mode, &rules, &expected, &actual);
                assert_eq!(m.passed, want, "{}: {mode:?} {m:?}", row.label);
                let want_matched = match mode {
                    TrajectoryMode::Strict | TrajectoryMode::InOrder => row.matched.0,
                    _ => row.matched.1,
                };
                assert_eq!(m.matched, want_matched, "{}: {mode:?} matched", row.label);
                // Each mode's verdict agrees with the partial-credit counts it is defined by.
                match mode {
                    TrajectoryMode::Subset => assert_eq!(m.passed, m.precision() == 1.0),
                    TrajectoryMode::Superset => assert_eq!(m.passed, m.recall() == 1.0),
                    TrajectoryMode::Unordered => assert_eq!(m.passed, m.f1() == 1.0),
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn arg_matchers_per_mode() {
        let expected = exp(&[
            r#"refund {"order_id": "1", "amount": 10}"#,
            r#"search {"q": "x"}"#,
        ]);
        let owned = act(&[
            r#"refund {"order_id": "1", "amount": 10, "note": "n"}"#,
            r#"search {"q": "x", "limit": 3}"#,
        ]);
        let actual: Vec<(&str, &Value)> = owned.iter().map(|(n, a)| (n.as_str(), a)).collect();
        let mut rules = ArgRules::with(ArgMatch::Exact);
        assert_eq!(
            match_calls(TrajectoryMode::Strict, &rules, &expected, &actual).matched,
            0
        );
        rules.defaults.insert(
            "search".into(),
            json!({"limit": 3}).as_object().unwrap().clone(),
        );
        rules.tools.insert("refund".into(), ArgMatch::Subset);
        let m = match_calls(TrajectoryMode::Strict, &rules, &expected, &actual);
        assert!(m.passed, "{m:?}");
        rules.tools.insert("refund".into(), ArgMatch::Superset);
        let m = match_calls(TrajectoryMode::Unordered, &rules, &expected, &actual);
        assert_eq!(
            (m.passed, m.first_missing, m.first_unexpected),
            (false, Some(0), Some(0))
        );
        rules.tools.insert("refund".into(), ArgMatch::Ignore);
        assert!(match_calls(TrajectoryMode::Strict, &rules, &expected, &actual).passed);
    }

    #[test]
    fn deterministic_pairs_prefer_the_earliest_calls() {
        let expected = exp(&["a"]);
        let owned = act(&["a", "a", "a"]);
        let actual: Vec<(&str, &Value)> = owned.iter().map(|(n, a)| (n.as_str(), a)).collect();
        let rules = ArgRules::default();
        for mode in MODES {
            let m = match_calls(mode, &rules, &expected, &actual);
            assert_eq!(m.pairs, vec![(0, 0)], "{mode:?}");
            assert_eq!(m.first_unexpected, Some(1));
        }
    }

    #[test]
    fn precision_recall_f1() {
        let rules = ArgRules::default();
        let expected = exp(&["a", "b", "c", "d"]);
        let owned = act(&["a", "b"]);
        let actual: Vec<(&str, &Value)> = owned.iter().map(|(n, a)| (n.as_str(), a)).collect();
        let m = match_calls(TrajectoryMode::InOrder, &rules, &expected, &actual);
        assert_eq!((m.precision(), m.recall()), (1.0, 0.5));
        assert!((m.f1() - 2.0 / 3.0).abs() < 1e-9);
        let owned = act(&["x", "y", "z"]);
        let actual: Vec<(&str, &Value)> = owned.iter().map(|(n, a)| (n.as_str(), a)).collect();
        let m = match_calls(TrajectoryMode::InOrder, &rules, &[], &actual);
        assert_eq!((m.precision(), m.recall(), m.f1()), (0.0, 1.0, 0.0));
    }

    #[test]
    fn expected_calls_accepts_maps_and_names_and_rejects_junk() {
        let v = json!([{"name": "a", "args": {"x": 1}}, "b", {"name": "c", "args": null}]);
        let calls = expected_calls(&v).unwrap();
        assert_eq!(calls[0].args, Some(json!({"x": 1})));
        assert_eq!(calls[1].name, "b");
        assert_eq!(calls[2].args, None);
        assert_eq!(
            expected_calls(&json!({"name": "a"})).unwrap_err(),
            ExpectedCallsError::NotAList { found: "a map" }
        );
        assert_eq!(
            expected_calls(&json!([{"name": "a", "arg": {}}]))
                .unwrap_err()
                .to_string(),
            "tool call 0: unknown key `arg` (expected `name`, `args`)"
        );
    }
}
