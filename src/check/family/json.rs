//! JSON checks — `json_valid`, `json_schema`, `json_path` — on the agent's final output parsed
//! as JSON: their shapes, validation and evaluation.
//!
//! `json_path` takes a JSONPath-like path: an optional `$`, then `.key`, `[n]` or `['key']`
//! segments (`$.order.items[0].sku`); a bare dot path (`order.items.0.sku`) works too, a number
//! indexing a list. With `equals: V` the value there must equal V (JSON equality, numbers as
//! numbers); with `exists: false` nothing may be there; alone (or `json_path: "$.x"`) the path
//! must exist.

use std::sync::Arc;

use serde_json::Value;

use crate::check::case::CaseFacts;
use crate::check::eval::{fail, pass, Judged, EXCERPT};
use crate::check::json_subset::{exact_mismatch, render, Mismatch};
use crate::check::parse::{unknown_keys, CheckEnv, CheckError};
use crate::check::registry::{Kind, Shape};
use crate::check::trajectory_match::kind_of;
use crate::text::{one_line, quote, truncate};
use crate::trajectory::Trajectory;

pub(crate) const KINDS: &[Kind] = &[
    Kind {
        name: "json_valid",
        shape: Shape::Bool,
    },
    Kind {
        name: "json_schema",
        shape: Shape::Any,
    },
    Kind {
        name: "json_path",
        shape: Shape::Any,
    },
];

#[derive(Debug, Clone)]
pub enum JsonCheck {
    Valid,
    Schema { schema: Arc<jsonschema::Validator> },
    Path(PathCheck),
}

/// A `json_path` check, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct PathCheck {
    /// As written, for messages.
    pub path: String,
    pub segments: Vec<Segment>,
    pub expect: PathExpect,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    /// An object key; a number also indexes a list (`items.0`).
    Key(String),
    /// `[n]`.
    Index(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub enum PathExpect {
    Exists,
    Absent,
    Equals(Value),
}

/// Validates `kind: value`; the check and its display name.
pub(crate) fn parse(
    kind: &str,
    v: &Value,
    env: &CheckEnv,
    errs: &mut Vec<CheckError>,
) -> Option<(JsonCheck, String)> {
    match kind {
        "json_valid" => {
            if v == &Value::Bool(true) {
                Some((JsonCheck::Valid, "json_valid".into()))
            } else {
                errs.push(
                    CheckError::new("`json_valid: false` checks nothing")
                        .hint("remove the check, or write `json_valid: true`")
                        .needle("json_valid"),
                );
                None
            }
        }
        "json_schema" => parse_json_schema(v, env, errs),
        _ => parse_json_path(v, errs),
    }
}

fn parse_json_schema(
    v: &Value,
    env: &CheckEnv,
    errs: &mut Vec<CheckError>,
) -> Option<(JsonCheck, String)> {
    let (schema, name) = match v {
        Value::Object(_) | Value::Bool(_) => (v.clone(), "json_schema".to_string()),
        Value::String(rel) => {
            let path = env.suite_dir.join(rel);
            let text = match crate::input_file::read_to_string(&path, env.limits.max_file_bytes) {
                Ok(t) => t,
                Err(e) => {
                    errs.push(
                        CheckError::new(format!(
                            "cannot read JSON Schema `{}`: {e}",
                            path.display()
                        ))
                        .hint("paths are relative to the suite file")
                        .needle(rel.clone()),
                    );
                    return None;
                }
            };
            let is_json = path.extension().is_some_and(|e| e == "json");
            let parsed = if is_json {
                serde_json::from_str::<Value>(&text).map_err(|e| e.to_string())
            } else {
                serde_yaml::from_str::<Value>(&text).map_err(|e| e.to_string())
            };
            match parsed {
                Ok(schema) => (schema, format!("json_schema {rel}")),
                Err(e) => {
                    errs.push(
                        CheckError::new(format!(
                            "cannot parse JSON Schema `{}`: {e}",
                            path.display()
                        ))
                        .needle(rel.clone()),
                    );
                    return None;
                }
            }
        }
        other => {
            errs.push(
                CheckError::new(format!(
                    "`json_schema` expects an inline schema or a path to one, found {}",
                    kind_of(other)
                ))
                .needle("json_schema"),
            );
            return None;
        }
    };
    match env.cache.schema(&schema) {
        Ok(schema) => Some((JsonCheck::Schema { schema }, name)),
        Err(e) => {
            errs.push(
                CheckError::new(format!(
                    "invalid JSON Schema: {}",
                    one_line(&e.to_string(), 200)
                ))
                .needle("json_schema"),
            );
            None
        }
    }
}

/// `"$.a.b"` or `{path, equals}` / `{path, exists}`.
fn parse_json_path(v: &Value, errs: &mut Vec<CheckError>) -> Option<(JsonCheck, String)> {
    let (path, expect) = match v {
        Value::String(s) => (s.clone(), PathExpect::Exists),
        Value::Object(map) => {
            unknown_keys("json_path", map, &["path", "equals", "exists"], errs);
            let Some(Value::String(path)) = map.get("path") else {
                errs.push(
                    CheckError::new("`json_path` needs `path`, a string such as `$.order.status`")
                        .needle("json_path"),
                );
                return None;
            };
            let expect = match (map.get("equals"), map.get("exists")) {
                (Some(_), Some(Value::Bool(false))) => {
                    errs.push(
                        CheckError::new(format!(
                            "`json_path` `{path}` has `equals` and `exists: false`"
                        ))
                        .needle("exists"),
                    );
                    return None;
                }
                (_, Some(other)) if !other.is_boolean() => {
                    errs.push(
                        CheckError::new(format!(
                            "`json_path.exists` must be true or false, found {}",
                            kind_of(other)
                        ))
                        .needle("exists"),
                    );
                    return None;
                }
                (Some(want), _) => PathExpect::Equals(want.clone()),
                (None, Some(Value::Bool(false))) => PathExpect::Absent,
                (None, _) => PathExpect::Exists,
            };
            (path.clone(), expect)
        }
        other => {
            errs.push(
                CheckError::new(format!(
                    "`json_path` expects a path or a map `{{path, equals|exists}}`, found {}",
                    kind_of(other)
                ))
                .needle("json_path"),
            );
            return None;
        }
    };
    let segments = match segments(&path) {
        Ok(s) => s,
        Err(why) => {
            errs.push(
                CheckError::new(format!("invalid `json_path` `{path}`: {why}"))
                    .hint("e.g. `$.order.items[0].sku`")
                    .needle(path.clone()),
            );
            return None;
        }
    };
    let name = match &expect {
        PathExpect::Exists => format!("json_path {path}"),
        PathExpect::Absent => format!("json_path {path} absent"),
        PathExpect::Equals(want) => {
            format!("json_path {path} = {}", truncate(&render(want), 40))
        }
    };
    Some((
        JsonCheck::Path(PathCheck {
            path,
            segments,
            expect,
        }),
        name,
    ))
}

/// Why a `json_path` path cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PathError {
    #[error("a `.` must be followed by a key")]
    DotWithoutKey,
    #[error("`[{0}]` is neither an index nor a quoted key")]
    BadBracket(String),
    #[error("`]` without `[`")]
    UnopenedBracket,
    #[error("no key in the path")]
    NoKey,
}

/// Splits a path into segments.
fn segments(path: &str) -> Result<Vec<Segment>, PathError> {
    let rest = path.trim();
    let rest = rest.strip_prefix('$').unwrap_or(rest);
    let mut out = Vec::new();
    let mut chars = rest.chars().peekable();
    let mut key = String::new();
    let flush = |key: &mut String, out: &mut Vec<Segment>| {
        if !key.is_empty() {
            out.push(Segment::Key(std::mem::take(key)));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                flush(&mut key, &mut out);
                if matches!(chars.peek(), None | Some('.')) {
                    return Err(PathError::DotWithoutKey);
                }
            }
            '[' => {
                flush(&mut key, &mut out);
                let inner: String = chars.by_ref().take_while(|c| *c != ']').collect();
                let inner = inner.trim();
                let quoted = inner
                    .strip_prefix('\'')
                    .and_then(|s| s.strip_suffix('\''))
                    .or_else(|| inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')));
                match (quoted, inner.parse::<usize>()) {
                    (Some(k), _) => out.push(Segment::Key(k.to_string())),
                    (None, Ok(i)) => out.push(Segment::Index(i)),
                    (None, Err(_)) => return Err(PathError::BadBracket(inner.to_string())),
                }
            }
            ']' => return Err(PathError::UnopenedBracket),
            c => key.push(c),
        }
    }
    flush(&mut key, &mut out);
    if out.is_empty() && !rest.is_empty() {
        return Err(PathError::NoKey);
    }
    Ok(out)
}

/// The value at `segments` in `v`.
fn at<'a>(v: &'a Value, segments: &[Segment]) -> Option<&'a Value> {
    segments.iter().try_fold(v, |cur, seg| match (seg, cur) {
        (Segment::Key(k), Value::Object(map)) => map.get(k),
        (Segment::Key(k), Value::Array(items)) => {
            k.parse::<usize>().ok().and_then(|i| items.get(i))
        }
        (Segment::Index(i), Value::Array(items)) => items.get(*i),
        _ => None,
    })
}

pub(crate) fn evaluate(check: &JsonCheck, _case: &dyn CaseFacts, t: &Trajectory) -> Judged {
    let output = t.output.as_str();
    let parsed = serde_json::from_str::<Value>(output.trim());
    let not_json = |e: serde_json::Error| {
        fail(format!(
            "output is not JSON ({e}): {}",
            quote(output, EXCERPT)
        ))
    };
    match check {
        JsonCheck::Valid => match parsed {
            Ok(_) => pass("output is valid JSON"),
            Err(e) => not_json(e),
        },
        JsonCheck::Schema { schema } => match parsed {
            Err(e) => not_json(e),
            Ok(v) => match schema.iter_errors(&v).next() {
                None => pass("output matches the schema"),
                Some(err) => {
                    let at = err.instance_path().to_string();
                    let at = if at.is_empty() { "/".to_string() } else { at };
                    fail(format!(
                        "output does not match the schema at {at}: {}",
                        one_line(&err.to_string(), 120)
                    ))
                }
            },
        },
        JsonCheck::Path(p) => match parsed {
            Err(e) => not_json(e),
            Ok(v) => path_verdict(p, &v),
        },
    }
}

fn path_verdict(p: &PathCheck, doc: &Value) -> Judged {
    let path = &p.path;
    match (at(doc, &p.segments), &p.expect) {
        (Some(v), PathExpect::Exists) => pass(format!("{path} is {}", render(v))),
        (None, PathExpect::Exists) => fail(format!("{path}: expected a value, found nothing")),
        (None, PathExpect::Absent) => pass(format!("{path} is absent")),
        (Some(v), PathExpect::Absent) => {
            fail(format!("{path}: expected nothing, found {}", render(v)))
        }
        (None, PathExpect::Equals(want)) => {
            fail(format!("{path}: expected {}, found nothing", render(want)))
        }
        (Some(v), PathExpect::Equals(want)) => match exact_mismatch(want, v) {
            None => pass(format!("{path} equals {}", render(want))),
            Some(m) => {
                let at = if m.path.is_empty() {
                    path.clone()
                } else if m.path.starts_with('[') {
                    format!("{path}{}", m.path)
                } else {
                    format!("{path}.{}", m.path)
                };
                fail(Mismatch { path: at, ..m }.to_string())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::eval::evaluate;
    use crate::suite::model::Case;
    use crate::verdict::Outcome;

    use crate::check::parse::parse_alone as parse;

    fn run(yaml: &str, output: &str) -> (Outcome, String) {
        let spec = parse(yaml).unwrap_or_else(|e| panic!("{yaml}: {e:?}"));
        let t = Trajectory {
            output: output.into(),
            ..Default::default()
        };
        let v = evaluate(&spec, &Case::new("c", "hi"), &t);
        (v.outcome, v.reason)
    }

    #[test]
    fn paths_are_read_jsonpath_style_or_as_dot_paths() {
        use Segment::*;
        let table = [
            ("$.a.b", vec![Key("a".into()), Key("b".into())]),
            ("a.b", vec![Key("a".into()), Key("b".into())]),
            (
                "$.items[2].sku",
                vec![Key("items".into()), Index(2), Key("sku".into())],
            ),
            ("$['odd key'][0]", vec![Key("odd key".into()), Index(0)]),
            ("items.0", vec![Key("items".into()), Key("0".into())]),
            ("$", vec![]),
        ];
        for (path, want) in table {
            assert_eq!(segments(path), Ok(want), "{path}");
        }
        for bad in ["$.a..b", "$.a[x]", "$.a]", "$.", "$[ ]"] {
            assert!(segments(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn json_path_verdicts_table() {
        use Outcome::*;
        let doc = r#"{"order": {"status": "refunded", "items": [{"sku": "A1", "qty": 2}]}}"#;
        let table: [(&str, &str, Outcome, &str); 10] = [
            (
                "json_path: $.order.status",
                doc,
                Pass,
                "$.order.status is \"refunded\"",
            ),
            (
                "json_path: $.order.missing",
                doc,
                Fail,
                "expected a value, found nothing",
            ),
            (
                "json_path: {path: $.order.status, equals: refunded}",
                doc,
                Pass,
                "equals",
            ),
            (
                "json_path: {path: $.order.status, equals: open}",
                doc,
                Fail,
                "$.order.status: expected \"open\", found \"refunded\"",
            ),
            (
                "json_path: {path: '$.order.items[0].qty', equals: 2.0}",
                doc,
                Pass,
                "equals 2",
            ),
            (
                "json_path: {path: order.items.0, equals: {sku: A1}}",
                doc,
                Fail,
                "order.items.0.qty: expected nothing, found 2",
            ),
            (
                "json_path: {path: $.order.refund, exists: false}",
                doc,
                Pass,
                "is absent",
            ),
            (
                "json_path: {path: $.order, exists: false}",
                doc,
                Fail,
                "expected nothing",
            ),
            ("json_path: $.order", "not json", Fail, "output is not JSON"),
            (
                "json_path: {path: '$.order.items[0]', equals: {sku: A1, qty: 2}}",
                doc,
                Pass,
                "equals",
            ),
        ];
        for (yaml, output, want, reason) in table {
            let (got, why) = run(yaml, output);
            assert_eq!(got, want, "{yaml}: {why}");
            assert!(why.contains(reason), "{yaml}: {why}");
        }
    }

    #[test]
    fn json_path_load_errors_and_names() {
        let name = |yaml: &str| parse(yaml).unwrap().name;
        assert_eq!(name("json_path: $.a"), "json_path $.a");
        assert_eq!(
            name("json_path: {path: $.a, equals: 1}"),
            "json_path $.a = 1"
        );
        assert_eq!(
            name("json_path: {path: $.a, exists: false}"),
            "json_path $.a absent"
        );
        let msg = |yaml: &str| {
            parse(yaml)
                .unwrap_err()
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        };
        assert!(msg("json_path: {equals: 1}").contains("needs `path`"));
        assert!(msg("json_path: {path: $.a, equals: 1, exists: false}")
            .contains("`equals` and `exists: false`"));
        assert!(msg("json_path: {path: '$.a[x]'}").contains("invalid `json_path` `$.a[x]`"));
        assert!(msg("json_path: {path: $.a, equal: 1}").contains("did you mean `equals`?"));
        assert!(msg("json_path: 3").contains("expects a path or a map"));
    }
}
