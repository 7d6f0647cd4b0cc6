//! `end_state` checks: the tool world after the run against an expected state (recursive
//! subset, or with `mode: exact` the whole state equal but for `ignore` paths) or a list of
//! path assertions: their shape, validation and evaluation.

use serde_json::Value;

use crate::check::case::CaseFacts;
use crate::check::eval::{fail, pass, resolve, skipped, Judged};
use crate::check::json_subset::{render, subset_mismatch, Mismatch};
use crate::check::parse::{case_ref, get_string, unknown_keys, CheckEnv, CheckError};
use crate::check::registry::{Kind, Shape};
use crate::check::spec::ValueRef;
use crate::check::trajectory_match::kind_of;
use crate::text::{one_line, truncate};
use crate::trajectory::Trajectory;

pub(crate) const KINDS: &[Kind] = &[Kind {
    name: "end_state",
    shape: Shape::Any,
}];

#[derive(Debug, Clone, PartialEq)]
pub enum EndStateCheck {
    /// The whole world contains this as a recursive subset.
    Subset(ValueRef),
    /// Each path assertion holds.
    Paths(Vec<PathAssert>),
    /// `{mode: exact, expected, ignore}`: the whole world equals this, but for the `ignore`
    /// paths (a record the agent wrongly added fails it too).
    Exact {
        expected: ValueRef,
        ignore: Vec<String>,
    },
}

/// One `end_state` assertion on a JSON path of the tool world.
#[derive(Debug, Clone, PartialEq)]
pub struct PathAssert {
    /// Dot path: `orders.1042.status`, `refunds.0.amount`.
    pub path: String,
    /// The value there must contain this as a recursive subset; `None` with `exists`.
    pub equals: Option<Value>,
    /// `Some(false)`: the path must not exist.
    pub exists: Option<bool>,
}

/// Validates `end_state: value`; the check and its display name.
pub(crate) fn parse(
    _kind: &str,
    v: &Value,
    _env: &CheckEnv,
    errs: &mut Vec<CheckError>,
) -> Option<(EndStateCheck, String)> {
    parse_end_state(v, errs)
}

fn parse_end_state(v: &Value, errs: &mut Vec<CheckError>) -> Option<(EndStateCheck, String)> {
    match v {
        // The options form: a map with `mode` and `expected` (a world has no such pair).
        Value::Object(map) if map.contains_key("mode") && map.contains_key("expected") => {
            parse_options(map, errs)
        }
        Value::String(s) if case_ref(s) => Some((
            EndStateCheck::Subset(ValueRef::Case(s.clone())),
            format!("end_state {s}"),
        )),
        Value::Object(_) => Some((
            EndStateCheck::Subset(ValueRef::Inline(v.clone())),
            "end_state".to_string(),
        )),
        Value::Array(items) if !items.is_empty() => {
            let asserts: Vec<PathAssert> = items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| parse_path_assert(i, item, errs))
                .collect();
            (asserts.len() == items.len()).then(|| {
                let paths: Vec<&str> = asserts.iter().map(|a| a.path.as_str()).collect();
                let name = format!("end_state {}", truncate(&paths.join(", "), 60));
                (EndStateCheck::Paths(asserts), name)
            })
        }
        other => {
            errs.push(
                CheckError::new(format!(
                    "`end_state` expects `expected.state`, an inline map or a list of `{{path, equals}}`, found {}",
                    match other {
                        Value::String(s) => format!("`{s}`"),
                        o => kind_of(o).to_string(),
                    }
                ))
                .needle("end_state"),
            );
            None
        }
    }
}

/// `{mode: exact|subset, expected: expected.state | {...}, ignore: [paths]}`.
fn parse_options(
    map: &serde_json::Map<String, Value>,
    errs: &mut Vec<CheckError>,
) -> Option<(EndStateCheck, String)> {
    unknown_keys("end_state", map, &["mode", "expected", "ignore"], errs);
    let expected = match &map["expected"] {
        Value::String(s) if case_ref(s) => ValueRef::Case(s.clone()),
        v @ Value::Object(_) => ValueRef::Inline(v.clone()),
        other => {
            errs.push(
                CheckError::new(format!(
                    "`end_state.expected` must be `expected.state` or a map, found {}",
                    kind_of(other)
                ))
                .needle("expected"),
            );
            return None;
        }
    };
    let ignore: Vec<String> = match map.get("ignore") {
        None => Vec::new(),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        Some(_) => {
            errs.push(
                CheckError::new("`end_state.ignore` must be a list of dot paths").needle("ignore"),
            );
            return None;
        }
    };
    let label = match &expected {
        ValueRef::Case(s) => format!(" {s}"),
        ValueRef::Inline(_) => String::new(),
    };
    match map["mode"].as_str() {
        Some("exact") => Some((
            EndStateCheck::Exact { expected, ignore },
            format!("end_state exact{label}"),
        )),
        Some("subset") if ignore.is_empty() => {
            Some((EndStateCheck::Subset(expected), format!("end_state{label}")))
        }
        Some("subset") => {
            errs.push(
                CheckError::new("`end_state.ignore` applies to `mode: exact` only")
                    .needle("ignore"),
            );
            None
        }
        _ => {
            errs.push(
                CheckError::new(format!(
                    "`end_state.mode` must be `exact` or `subset`, found {}",
                    map["mode"]
                ))
                .needle("mode"),
            );
            None
        }
    }
}

/// `{path: "orders.1042.status", equals: "refunded"}` or `{path: ..., exists: false}`.
fn parse_path_assert(i: usize, item: &Value, errs: &mut Vec<CheckError>) -> Option<PathAssert> {
    let Value::Object(map) = item else {
        errs.push(
            CheckError::new(format!(
                "`end_state` item {i} must be a map `{{path, equals}}`, found {}",
                kind_of(item)
            ))
            .needle("end_state"),
        );
        return None;
    };
    unknown_keys("end_state", map, &["path", "equals", "exists"], errs);
    let path = get_string("end_state", map, "path", errs)?;
    let equals = map.get("equals").cloned();
    let exists = match map.get("exists") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(other) => {
            errs.push(
                CheckError::new(format!(
                    "`end_state.exists` must be true or false, found {}",
                    kind_of(other)
                ))
                .needle("exists"),
            );
            return None;
        }
    };
    if equals.is_none() && exists.is_none() {
        errs.push(
            CheckError::new(format!(
                "`end_state` path `{path}` needs `equals` or `exists`"
            ))
            .needle(path.clone()),
        );
        return None;
    }
    if equals.is_some() && exists == Some(false) {
        errs.push(
            CheckError::new(format!(
                "`end_state` path `{path}` has `equals` and `exists: false`"
            ))
            .needle(path.clone()),
        );
        return None;
    }
    Some(PathAssert {
        path,
        equals,
        exists,
    })
}

/// `end_state`: the whole world as a recursive subset, or each path assertion.
pub(crate) fn evaluate(spec: &EndStateCheck, case: &dyn CaseFacts, t: &Trajectory) -> Judged {
    let no_state = || fail("the target reported no end state");
    match spec {
        EndStateCheck::Subset(expected) => {
            let want = match resolve(expected, case) {
                Ok(v) => v,
                Err(why) => return skipped(why.to_string()),
            };
            let Some(state) = &t.state else {
                return no_state();
            };
            match subset_mismatch(&want, state) {
                None => pass("end state matches"),
                Some(m) => fail(m.to_string()),
            }
        }
        EndStateCheck::Exact { expected, ignore } => {
            let want = match resolve(expected, case) {
                Ok(v) => v,
                Err(why) => return skipped(why.to_string()),
            };
            let Some(state) = &t.state else {
                return no_state();
            };
            let diff = crate::check::state_diff::state_diff(&want, state, ignore);
            if diff.is_empty() {
                return pass("end state equals the expected state");
            }
            let shown: Vec<String> = diff.iter().map(ToString::to_string).collect();
            fail(format!(
                "end state differs at {} path{}: {}",
                diff.len(),
                if diff.len() == 1 { "" } else { "s" },
                shown.join("; ")
            ))
        }
        EndStateCheck::Paths(asserts) => {
            let Some(state) = &t.state else {
                return no_state();
            };
            for a in asserts {
                let found = value_at(state, &a.path);
                match (found, &a.equals, a.exists) {
                    (Some(v), _, Some(false)) => {
                        return fail(format!("{}: expected nothing, found {}", a.path, render(v)))
                    }
                    (None, _, Some(false)) => {}
                    (None, Some(want), _) => {
                        return fail(format!(
                            "{}: expected {}, found nothing",
                            a.path,
                            render(want)
                        ))
                    }
                    (None, None, _) => {
                        return fail(format!("{}: expected a value, found nothing", a.path))
                    }
                    (Some(v), Some(want), _) => {
                        if let Some(m) = subset_mismatch(want, v) {
                            let path = if m.path.is_empty() {
                                a.path.clone()
                            } else if m.path.starts_with('[') {
                                format!("{}{}", a.path, m.path)
                            } else {
                                format!("{}.{}", a.path, m.path)
                            };
                            return fail(Mismatch { path, ..m }.to_string());
                        }
                    }
                    (Some(_), None, _) => {}
                }
            }
            pass(format!(
                "end state matches at {}",
                one_line(
                    &asserts
                        .iter()
                        .map(|a| a.path.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    80
                )
            ))
        }
    }
}

/// The value at a dot path; a numeric segment also indexes a list (`refunds.0.amount`).
pub(crate) fn value_at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |cur, key| match cur {
        Value::Object(map) => map.get(key),
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}
