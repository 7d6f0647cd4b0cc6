//! Text checks — `equals`, `contains`, `not_contains`, `regex` — on the agent's final output
//! (or, with `scope: any_message`, on every agent message, normalised as `normalize` says):
//! their shapes, validation and evaluation.

use std::sync::Arc;

use serde_json::Value;

use crate::check::case::CaseFacts;
use crate::check::eval::{boolean, fail, pass, resolve, skipped, Judged, EXCERPT};
use crate::check::json_subset::{exact_mismatch, render};
use crate::check::parse::{
    describe, get_bool, get_string, string_list, unknown_keys, CheckEnv, CheckError,
};
use crate::check::registry::{Kind, Shape};
use crate::check::spec::ValueRef;
use crate::check::text_scope::{parse_scope, TextScope};
use crate::check::trajectory_match::kind_of;
use crate::text::{one_line, quote, truncate};
use crate::trajectory::Trajectory;

pub(crate) const KINDS: &[Kind] = &[
    Kind {
        name: "equals",
        shape: Shape::Any,
    },
    Kind {
        name: "contains",
        shape: Shape::Any,
    },
    Kind {
        name: "not_contains",
        shape: Shape::Any,
    },
    Kind {
        name: "regex",
        shape: Shape::Any,
    },
];

#[derive(Debug, Clone)]
pub enum TextCheck {
    /// The output (trimmed) equals the value; JSON values compare as JSON.
    Equals { expected: ValueRef },
    /// The output contains all (or any) of the values.
    Contains {
        values: Vec<String>,
        all: bool,
        ignore_case: bool,
        scope: TextScope,
    },
    /// The output contains none of the values.
    NotContains {
        values: Vec<String>,
        ignore_case: bool,
        scope: TextScope,
    },
    Regex {
        /// One instance for every case that writes the pattern: a clone would start its
        /// matching caches cold, and warming them costs more than the match.
        regex: Arc<regex::Regex>,
        scope: TextScope,
    },
}

/// Validates `kind: value`; the check and its display name.
pub(crate) fn parse(
    kind: &str,
    v: &Value,
    env: &CheckEnv,
    errs: &mut Vec<CheckError>,
) -> Option<(TextCheck, String)> {
    match kind {
        "equals" => parse_equals(v, errs),
        "regex" => parse_regex(v, env, errs),
        _ => parse_contains(kind, v, errs),
    }
}

fn parse_equals(v: &Value, errs: &mut Vec<CheckError>) -> Option<(TextCheck, String)> {
    const REFS: [&str; 2] = ["expected.output", "expected.reference"];
    let expected = match v {
        Value::Null => {
            errs.push(
                CheckError::new("`equals` needs a value")
                    .hint("`equals: \"text\"`, `equals: {value: ...}` or `equals: expected.output`")
                    .needle("equals"),
            );
            return None;
        }
        Value::String(s) if REFS.contains(&s.as_str()) => ValueRef::Case(s.clone()),
        // `{value: ...}` wraps any value, including one that looks like a reference.
        Value::Object(map) if map.contains_key("value") => {
            unknown_keys("equals", map, &["value"], errs);
            ValueRef::Inline(map.get("value").cloned().unwrap_or(Value::Null))
        }
        other => ValueRef::Inline(other.clone()),
    };
    let name = match &expected {
        ValueRef::Case(path) => format!("equals {path}"),
        ValueRef::Inline(Value::String(s)) => format!("equals {}", quote(s, 40)),
        ValueRef::Inline(other) => format!("equals {}", truncate(&other.to_string(), 40)),
    };
    Some((TextCheck::Equals { expected }, name))
}

fn parse_contains(
    kind: &str,
    v: &Value,
    errs: &mut Vec<CheckError>,
) -> Option<(TextCheck, String)> {
    let mut scope = TextScope::default();
    let (values, all, ignore_case) = match v {
        Value::String(s) if !s.is_empty() => (vec![s.clone()], true, false),
        Value::Object(map) => {
            unknown_keys(
                kind,
                map,
                &["value", "any", "all", "ignore_case", "scope", "normalize"],
                errs,
            );
            let ignore_case = get_bool(kind, map, "ignore_case", errs);
            scope = parse_scope(kind, map, errs);
            let given: Vec<&str> = ["value", "any", "all"]
                .into_iter()
                .filter(|k| map.contains_key(*k))
                .collect();
            match given.as_slice() {
                ["value"] => (
                    vec![get_string(kind, map, "value", errs)?],
                    true,
                    ignore_case,
                ),
                [key] => {
                    let list = string_list(kind, key, &map[*key], errs)?;
                    (list, *key == "all", ignore_case)
                }
                [] => {
                    errs.push(
                        CheckError::new(format!("`{kind}` needs one of `value`, `any`, `all`"))
                            .needle(kind),
                    );
                    return None;
                }
                _ => {
                    errs.push(
                        CheckError::new(format!(
                            "`{kind}` takes only one of `value`, `any`, `all`, found {}",
                            given.join(", ")
                        ))
                        .needle(kind),
                    );
                    return None;
                }
            }
        }
        other => {
            errs.push(
                CheckError::new(format!(
                    "`{kind}` expects a string or a map `{{value|any|all, ignore_case}}`, found {}",
                    describe(other)
                ))
                .needle(kind),
            );
            return None;
        }
    };
    let shown: Vec<String> = values.iter().map(|s| quote(s, 30)).collect();
    let name = match (shown.len(), kind, all) {
        (1, _, _) => format!("{kind} {}", shown[0]),
        (_, "contains", true) => format!("contains all of {}", truncate(&shown.join(", "), 60)),
        (_, "contains", false) => format!("contains any of {}", truncate(&shown.join(", "), 60)),
        _ => format!("{kind} {}", truncate(&shown.join(", "), 60)),
    } + scope.label();
    // The values are normalised once, here, as the texts are when matched.
    let values: Vec<String> = match scope.normalize.is_identity() {
        true => values,
        false => values.iter().map(|v| scope.normalize.apply(v)).collect(),
    };
    let check = if kind == "contains" {
        TextCheck::Contains {
            values,
            all,
            ignore_case,
            scope,
        }
    } else {
        TextCheck::NotContains {
            values,
            ignore_case,
            scope,
        }
    };
    Some((check, name))
}

fn parse_regex(
    v: &Value,
    env: &CheckEnv,
    errs: &mut Vec<CheckError>,
) -> Option<(TextCheck, String)> {
    let mut scope = TextScope::default();
    let (pattern, ignore_case) = match v {
        Value::String(s) => (s.clone(), false),
        Value::Object(map) => {
            unknown_keys(
                "regex",
                map,
                &["pattern", "ignore_case", "scope", "normalize"],
                errs,
            );
            let ic = get_bool("regex", map, "ignore_case", errs);
            scope = parse_scope("regex", map, errs);
            (get_string("regex", map, "pattern", errs)?, ic)
        }
        other => {
            errs.push(
                CheckError::new(format!(
                    "`regex` expects a pattern or a map `{{pattern, ignore_case}}`, found {}",
                    kind_of(other)
                ))
                .needle("regex"),
            );
            return None;
        }
    };
    match env.cache.regex(&pattern, ignore_case) {
        Ok(regex) => Some((
            TextCheck::Regex { regex, scope },
            format!("regex {}{}", quote(&pattern, 40), scope.label()),
        )),
        Err(e) => {
            errs.push(
                CheckError::new(format!(
                    "invalid regex `{pattern}`: {}",
                    one_line(&e.to_string(), 200)
                ))
                .needle(pattern.clone()),
            );
            None
        }
    }
}

pub(crate) fn evaluate(check: &TextCheck, case: &dyn CaseFacts, t: &Trajectory) -> Judged {
    let output = t.output.as_str();
    match check {
        TextCheck::Equals { expected } => match resolve(expected, case) {
            Ok(v) => equals(&v, output),
            Err(why) => skipped(why.to_string()),
        },
        TextCheck::Contains {
            values,
            all,
            ignore_case,
            scope,
        } => {
            let texts = scope.texts(t);
            let found = present_in_any(values, &texts, *ignore_case);
            let output = texts.last().map(String::as_str).unwrap_or_default();
            let missing: Vec<String> = values
                .iter()
                .zip(&found)
                .filter(|(_, f)| !**f)
                .map(|(v, _)| quote(v, 30))
                .collect();
            let ok = if *all {
                missing.is_empty()
            } else {
                found.contains(&true)
            };
            if ok {
                let hits: Vec<String> = values
                    .iter()
                    .zip(&found)
                    .filter(|(_, f)| **f)
                    .map(|(v, _)| quote(v, 30))
                    .collect();
                pass(format!("found {}", one_line(&hits.join(", "), 80)))
            } else if *all {
                fail(format!(
                    "missing {} in output {}",
                    missing.join(", "),
                    quote(output, EXCERPT)
                ))
            } else {
                fail(format!(
                    "none of {} in output {}",
                    missing.join(", "),
                    quote(output, EXCERPT)
                ))
            }
        }
        TextCheck::NotContains {
            values,
            ignore_case,
            scope,
        } => {
            let texts = scope.texts(t);
            let output = texts.last().map(String::as_str).unwrap_or_default();
            let found: Vec<String> = values
                .iter()
                .zip(present_in_any(values, &texts, *ignore_case))
                .filter(|(_, f)| *f)
                .map(|(v, _)| quote(v, 30))
                .collect();
            if found.is_empty() {
                let all: Vec<String> = values.iter().map(|v| quote(v, 30)).collect();
                pass(format!("none of {} found", one_line(&all.join(", "), 80)))
            } else {
                fail(format!(
                    "found {} in output {}",
                    found.join(", "),
                    quote(output, EXCERPT)
                ))
            }
        }
        TextCheck::Regex { regex, scope } => {
            let shown = one_line(regex.as_str(), 40);
            let texts = scope.texts(t);
            let output = texts.last().map(String::as_str).unwrap_or_default();
            match texts.iter().find_map(|text| regex.find(text)) {
                Some(m) => pass(format!("/{shown}/ matched {}", quote(m.as_str(), 40))),
                None => fail(format!(
                    "no match for /{shown}/ in output {}",
                    quote(output, EXCERPT)
                )),
            }
        }
    }
}

fn equals(expected: &Value, output: &str) -> Judged {
    match expected {
        Value::String(s) => boolean(
            output.trim() == s.trim(),
            format!(
                "expected {}, found {}",
                quote(s.trim(), EXCERPT),
                quote(output.trim(), EXCERPT)
            ),
        ),
        _ => match serde_json::from_str::<Value>(output.trim()) {
            Err(_) => fail(format!(
                "expected JSON {}, found non-JSON output {}",
                render(expected),
                quote(output, EXCERPT)
            )),
            Ok(actual) => match exact_mismatch(expected, &actual) {
                None => pass(format!("output equals {}", render(expected))),
                Some(m) => fail(m.to_string()),
            },
        },
    }
}

/// For each value, whether it occurs in any of the texts.
fn present_in_any(values: &[String], texts: &[String], ignore_case: bool) -> Vec<bool> {
    let mut found = vec![false; values.len()];
    for text in texts {
        for (f, hit) in found.iter_mut().zip(present(values, text, ignore_case)) {
            *f |= hit;
        }
    }
    found
}

/// For each value, whether it occurs in the output.
fn present(values: &[String], output: &str, ignore_case: bool) -> Vec<bool> {
    if ignore_case {
        let hay = output.to_lowercase();
        values
            .iter()
            .map(|v| hay.contains(&v.to_lowercase()))
            .collect()
    } else {
        values.iter().map(|v| output.contains(v.as_str())).collect()
    }
}
