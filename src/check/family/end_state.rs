//! `end_state` checks: the tool world after the run against an expected state (recursive
//! subset) or a list of path assertions: their shape, validation and evaluation.

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
