//! `TrajectoryMatch`: how an agent's tool calls compare with the expected ones (`trajectory`
//! check), as a boolean per mode plus partial credit (precision, recall, F1 of matched calls).

use serde_json::Value;

use crate::check::json_subset::{is_subset, json_equal};
use crate::check::spec::{ArgMatch, TrajectoryMode};

/// One expected call: a name, and arguments to compare unless `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedCall {
    pub name: String,
    /// `None`: any arguments match.
    pub args: Option<Value>,
}

/// Reads `[{name, args}]` (or bare names: `[lookup_order, ...]`). The error says what is wrong.
pub fn expected_calls(v: &Value) -> Result<Vec<ExpectedCall>, String> {
    let items = v
        .as_array()
        .ok_or_else(|| format!("expected a list of tool calls, found {}", kind_of(v)))?;
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
                    return Err(format!(
                        "tool call {i}: unknown key `{key}` (expected `name`, `args`)"
                    ));
                }
                let name = map
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("tool call {i}: needs a string `name`"))?;
                let args = map.get("args").filter(|a| !a.is_null()).cloned();
                Ok(ExpectedCall {
                    name: name.to_string(),
                    args,
                })
            }
            other => Err(format!(
                "tool call {i}: expected `{{name, args}}` or a name, found {}",
                kind_of(other)
            )),
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

/// Whether one actual call satisfies one expected call under `args`.
pub fn call_matches(expected: &ExpectedCall, name: &str, args: &Value, how: ArgMatch) -> bool {
    if expected.name != name {
        return false;
    }
    match (how, &expected.args) {
        (ArgMatch::Ignore, _) | (_, None) => true,
        (ArgMatch::Subset, Some(want)) => is_subset(want, args),
        (ArgMatch::Exact, Some(want)) => json_equal(want, args),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrajectoryMatch {
    pub passed: bool,
    pub matched: usize,
    pub expected: usize,
    pub actual: usize,
    /// Index of the first expected call left unmatched.
    pub first_missing: Option<usize>,
}

impl TrajectoryMatch {
    /// Matched / actual; 1 when the agent made no calls and none were expected.
    pub fn precision(&self) -> f64 {
        ratio(self.matched, self.actual, self.expected == 0)
    }

    /// Matched / expected; 1 when nothing was expected.
    pub fn recall(&self) -> f64 {
        ratio(self.matched, self.expected, true)
    }

    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn ratio(n: usize, d: usize, empty_is_one: bool) -> f64 {
    if d == 0 {
        if empty_is_one {
            1.0
        } else {
            0.0
        }
    } else {
        n as f64 / d as f64
    }
}

/// Greedy in-order matching: each expected call takes the first matching actual call after the
/// previous match; an expected call with no such match is skipped (counted as missing). This is
/// deterministic and, for `strict`, full agreement means the sequences are identical.
pub fn match_calls(
    mode: TrajectoryMode,
    how: ArgMatch,
    expected: &[ExpectedCall],
    actual: &[(&str, &Value)],
) -> TrajectoryMatch {
    let mut next = 0;
    let mut matched = 0;
    let mut first_missing = None;
    for (i, exp) in expected.iter().enumerate() {
        let found = actual[next..]
            .iter()
            .position(|(name, args)| call_matches(exp, name, args, how));
        match found {
            Some(offset) => {
                matched += 1;
                next += offset + 1;
            }
            None => {
                first_missing.get_or_insert(i);
            }
        }
    }
    let all_expected = matched == expected.len();
    let passed = match mode {
        TrajectoryMode::InOrder => all_expected,
        TrajectoryMode::Strict => all_expected && actual.len() == expected.len(),
    };
    TrajectoryMatch {
        passed,
        matched,
        expected: expected.len(),
        actual: actual.len(),
        first_missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn exp(spec: &[(&str, Option<Value>)]) -> Vec<ExpectedCall> {
        spec.iter()
            .map(|(n, a)| ExpectedCall {
                name: n.to_string(),
                args: a.clone(),
            })
            .collect()
    }

    /// (label, mode, args, expected, actual, passed, matched)
    type Row<'a> = (
        &'a str,
        TrajectoryMode,
        ArgMatch,
        Vec<ExpectedCall>,
        Vec<(&'a str, &'a Value)>,
        bool,
        usize,
    );

    #[test]
    fn modes_table() {
        use ArgMatch::*;
        use TrajectoryMode::*;
        let lookup = |id: &str| ("lookup_order", Some(json!({"order_id": id})));
        let refund = ("issue_refund", None);
        let email = ("send_email", None);
        let a_lookup_1042 = json!({"order_id": "1042", "verbose": true});
        let a_lookup_7 = json!({"order_id": "7"});
        let none = json!({});
        // (name, mode, args, expected, actual, passed, matched)
        let table: Vec<Row> = vec![
            ("both empty", Strict, Subset, exp(&[]), vec![], true, 0),
            (
                "identical",
                Strict,
                Subset,
                exp(&[lookup("1042"), refund.clone()]),
                vec![("lookup_order", &a_lookup_1042), ("issue_refund", &none)],
                true,
                2,
            ),
            (
                "extra call fails strict",
                Strict,
                Subset,
                exp(&[lookup("1042"), refund.clone()]),
                vec![
                    ("lookup_order", &a_lookup_1042),
                    ("send_email", &none),
                    ("issue_refund", &none),
                ],
                false,
                2,
            ),
            (
                "extra call passes in_order",
                InOrder,
                Subset,
                exp(&[lookup("1042"), refund.clone()]),
                vec![
                    ("lookup_order", &a_lookup_1042),
                    ("send_email", &none),
                    ("issue_refund", &none),
                ],
                true,
                2,
            ),
            (
                "reordered fails in_order",
                InOrder,
                Subset,
                exp(&[lookup("1042"), refund.clone()]),
                vec![("issue_refund", &none), ("lookup_order", &a_lookup_1042)],
                false,
                1,
            ),
            (
                "reordered fails strict",
                Strict,
                Ignore,
                exp(&[refund.clone(), email.clone()]),
                vec![("send_email", &none), ("issue_refund", &none)],
                false,
                1,
            ),
            (
                "repeated expected needs repeated actual",
                InOrder,
                Ignore,
                exp(&[refund.clone(), refund.clone()]),
                vec![("issue_refund", &none)],
                false,
                1,
            ),
            (
                "repeated actual satisfies once",
                InOrder,
                Ignore,
                exp(std::slice::from_ref(&refund)),
                vec![("issue_refund", &none), ("issue_refund", &none)],
                true,
                1,
            ),
            (
                "repeated actual fails strict",
                Strict,
                Ignore,
                exp(std::slice::from_ref(&refund)),
                vec![("issue_refund", &none), ("issue_refund", &none)],
                false,
                1,
            ),
            (
                "wrong args skipped to the matching call",
                InOrder,
                Subset,
                exp(&[lookup("1042")]),
                vec![
                    ("lookup_order", &a_lookup_7),
                    ("lookup_order", &a_lookup_1042),
                ],
                true,
                1,
            ),
            (
                "exact args reject extra keys",
                InOrder,
                Exact,
                exp(&[lookup("1042")]),
                vec![("lookup_order", &a_lookup_1042)],
                false,
                0,
            ),
            (
                "ignore args",
                Strict,
                Ignore,
                exp(&[lookup("1")]),
                vec![("lookup_order", &a_lookup_7)],
                true,
                1,
            ),
            (
                "nothing called",
                InOrder,
                Subset,
                exp(std::slice::from_ref(&refund)),
                vec![],
                false,
                0,
            ),
        ];
        for (label, mode, how, expected, actual, passed, matched) in table {
            let m = match_calls(mode, how, &expected, &actual);
            assert_eq!((m.passed, m.matched), (passed, matched), "{label}: {m:?}");
        }
    }

    #[test]
    fn nested_args_match_as_subset() {
        let e = exp(&[(
            "create_ticket",
            Some(json!({"ticket": {"tags": ["refund"], "priority": "high"}})),
        )]);
        let good = json!({"ticket": {"tags": ["refund"], "priority": "high", "body": "x"}});
        let bad = json!({"ticket": {"tags": ["refund", "vip"], "priority": "high"}});
        let m = match_calls(
            TrajectoryMode::Strict,
            ArgMatch::Subset,
            &e,
            &[("create_ticket", &good)],
        );
        assert!(m.passed);
        let m = match_calls(
            TrajectoryMode::Strict,
            ArgMatch::Subset,
            &e,
            &[("create_ticket", &bad)],
        );
        assert!(!m.passed);
    }

    #[test]
    fn precision_recall_f1() {
        let m = TrajectoryMatch {
            passed: false,
            matched: 2,
            expected: 4,
            actual: 2,
            first_missing: Some(1),
        };
        assert_eq!(m.precision(), 1.0);
        assert_eq!(m.recall(), 0.5);
        assert!((m.f1() - 2.0 / 3.0).abs() < 1e-9);
        let none = TrajectoryMatch {
            passed: false,
            matched: 0,
            expected: 0,
            actual: 3,
            first_missing: None,
        };
        assert_eq!(
            (none.precision(), none.recall(), none.f1()),
            (0.0, 1.0, 0.0)
        );
    }

    #[test]
    fn expected_calls_accepts_maps_and_names_and_rejects_junk() {
        let v = json!([{"name": "a", "args": {"x": 1}}, "b", {"name": "c", "args": null}]);
        let calls = expected_calls(&v).unwrap();
        assert_eq!(calls[0].args, Some(json!({"x": 1})));
        assert_eq!(calls[1].name, "b");
        assert_eq!(calls[2].args, None);
        assert!(expected_calls(&json!({"name": "a"}))
            .unwrap_err()
            .contains("a list"));
        assert!(expected_calls(&json!([{"name": "a", "arg": {}}]))
            .unwrap_err()
            .contains("unknown key `arg`"));
    }
}
