//! `CheckError` and `from_raw`: turn a user-written `RawCheck` into a validated `CheckSpec`,
//! collecting every problem of the check rather than stopping at the first.
//!
//! Shorthands arrive as JSON values (see `suite::raw`); each kind has a small parser here that
//! says what it accepts when it is given something else.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::check::arg_match::KeyPattern;
use crate::check::compile_cache::CompileCache;
use crate::check::judge::Judge;
use crate::check::spec::{
    ArgMatch, ArgRules, Check, CheckSpec, EndStateSpec, PathAssert, Times, TrajectoryMode, ValueRef,
};
use crate::check::trajectory_match::{expected_calls, kind_of};
use crate::diagnostic::did_you_mean;
use crate::suite::raw::{RawCheck, CHECK_KINDS};
use crate::text::{one_line, quote, truncate};

/// What a check may refer to while it is validated.
#[derive(Debug, Clone, Copy)]
pub struct CheckEnv<'a> {
    /// Relative paths (`json_schema: schemas/order.json`) resolve against this folder.
    pub suite_dir: &'a Path,
    /// Judges that loaded, by name.
    pub judges: &'a BTreeMap<String, Arc<Judge>>,
    /// Every judge name that exists (loaded or not), for "did you mean".
    pub available_judges: &'a [String],
    /// The tools the target offers, when known: tool names in checks are checked against it.
    pub tools: Option<&'a [String]>,
    /// Regexes and schemas already compiled by this load.
    pub cache: &'a CompileCache,
    /// `run.limits`: what a command check may print.
    pub limits: crate::process::OutputLimits,
}

/// One problem in one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckError {
    /// A lowercase fragment: "unknown tool `lookup_ordr`".
    pub message: String,
    pub hint: Option<String>,
    /// Text to find the error in the source file (`Diagnostic::locate`).
    pub needle: Option<String>,
}

impl CheckError {
    fn new(message: impl Into<String>) -> Self {
        CheckError {
            message: message.into(),
            hint: None,
            needle: None,
        }
    }

    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    fn maybe_hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }

    fn needle(mut self, needle: impl Into<String>) -> Self {
        self.needle = Some(needle.into());
        self
    }
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

impl CheckSpec {
    /// See [`from_raw`].
    pub fn from_raw(raw: &RawCheck, env: &CheckEnv) -> Result<CheckSpec, Vec<CheckError>> {
        from_raw(raw, env)
    }
}

/// Validates one check. All errors of the check are returned together.
pub fn from_raw(raw: &RawCheck, env: &CheckEnv) -> Result<CheckSpec, Vec<CheckError>> {
    let mut errs = Vec::new();
    let kinds = present_kinds(raw);
    let parsed = match kinds.as_slice() {
        [] => {
            errs.push(
                CheckError::new(format!("a check needs one of: {}", CHECK_KINDS.join(", ")))
                    .maybe_hint(raw.name.as_ref().map(|n| format!("in check `{n}`"))),
            );
            None
        }
        [kind] => parse_kind(kind, raw, env, &mut errs),
        [a, b] => {
            errs.push(
                CheckError::new(format!("a check has both `{a}` and `{b}`"))
                    .hint("write one check per list item")
                    .needle(*b),
            );
            None
        }
        many => {
            errs.push(
                CheckError::new(format!(
                    "a check has several kinds: {}",
                    many.iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .hint("write one check per list item"),
            );
            None
        }
    };

    let weight = raw.weight.unwrap_or(1.0);
    if !weight.is_finite() || weight < 0.0 {
        errs.push(
            CheckError::new(format!("`weight` must be 0 or more, found {weight}"))
                .hint("0 makes the check informational")
                .needle("weight"),
        );
    }
    if raw.judge.is_none() {
        for (key, set) in [
            ("threshold", raw.threshold.is_some()),
            ("soft_threshold", raw.soft_threshold.is_some()),
        ] {
            if set {
                errs.push(
                    CheckError::new(format!("`{key}` only applies to `judge` checks")).needle(key),
                );
            }
        }
    }

    match parsed {
        Some((check, derived)) if errs.is_empty() => Ok(CheckSpec {
            check,
            name: raw.name.clone().unwrap_or(derived),
            severity: raw.severity.unwrap_or_default(),
            weight,
        }),
        _ => Err(errs),
    }
}

/// The kind keys set on `raw`, in `CHECK_KINDS` order.
fn present_kinds(raw: &RawCheck) -> Vec<&'static str> {
    let set = [
        raw.equals.is_some(),
        raw.contains.is_some(),
        raw.not_contains.is_some(),
        raw.regex.is_some(),
        raw.json_valid.is_some(),
        raw.json_schema.is_some(),
        raw.tool_called.is_some(),
        raw.tool_not_called.is_some(),
        raw.trajectory.is_some(),
        raw.end_state.is_some(),
        raw.max_steps.is_some(),
        raw.max_tokens.is_some(),
        raw.escalated.is_some(),
        raw.judge.is_some(),
        raw.expr.is_some(),
        raw.command.is_some(),
    ];
    CHECK_KINDS
        .iter()
        .zip(set)
        .filter_map(|(k, s)| s.then_some(*k))
        .collect()
}

type Parsed = Option<(Check, String)>;

fn parse_kind(kind: &str, raw: &RawCheck, env: &CheckEnv, errs: &mut Vec<CheckError>) -> Parsed {
    fn v(o: &Option<Value>) -> &Value {
        static NULL: Value = Value::Null;
        o.as_ref().unwrap_or(&NULL)
    }
    match kind {
        "equals" => parse_equals(v(&raw.equals), errs),
        "contains" => parse_contains("contains", v(&raw.contains), errs),
        "not_contains" => parse_contains("not_contains", v(&raw.not_contains), errs),
        "regex" => parse_regex(v(&raw.regex), env, errs),
        "json_valid" => {
            if raw.json_valid == Some(true) {
                Some((Check::JsonValid, "json_valid".into()))
            } else {
                errs.push(
                    CheckError::new("`json_valid: false` checks nothing")
                        .hint("remove the check, or write `json_valid: true`")
                        .needle("json_valid"),
                );
                None
            }
        }
        "json_schema" => parse_json_schema(v(&raw.json_schema), env, errs),
        "tool_called" => parse_tool("tool_called", v(&raw.tool_called), env, errs),
        "tool_not_called" => parse_tool("tool_not_called", v(&raw.tool_not_called), env, errs),
        "trajectory" => parse_trajectory(v(&raw.trajectory), env, errs),
        "end_state" => parse_end_state(v(&raw.end_state), errs),
        "max_steps" => raw
            .max_steps
            .map(|n| (Check::MaxSteps(n), format!("max_steps {n}"))),
        "max_tokens" => raw
            .max_tokens
            .map(|n| (Check::MaxTokens(n), format!("max_tokens {n}"))),
        "escalated" => raw.escalated.map(|b| {
            let name = if b { "escalated" } else { "not escalated" };
            (Check::Escalated(b), name.to_string())
        }),
        "judge" => parse_judge(raw, env, errs),
        "expr" => parse_expr(raw.expr.as_deref().unwrap_or_default(), errs),
        "command" => parse_command(v(&raw.command), env, errs),
        _ => None,
    }
}

// ---------------------------------------------------------------- shorthand maps

/// Reports keys of a shorthand map that are not in `allowed`, naming the allowed ones.
fn unknown_keys(
    kind: &str,
    map: &Map<String, Value>,
    allowed: &[&str],
    errs: &mut Vec<CheckError>,
) {
    for key in map.keys().filter(|k| !allowed.contains(&k.as_str())) {
        let list = allowed
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let hint = did_you_mean(key, allowed.iter().copied())
            .map(|b| format!("did you mean `{b}`?"))
            .unwrap_or_else(|| format!("`{kind}` accepts {list}"));
        errs.push(
            CheckError::new(format!(
                "unknown key `{key}` in `{kind}` (expected one of: {list})"
            ))
            .hint(hint)
            .needle(key.clone()),
        );
    }
}

fn get_bool(kind: &str, map: &Map<String, Value>, key: &str, errs: &mut Vec<CheckError>) -> bool {
    match map.get(key) {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            errs.push(
                CheckError::new(format!(
                    "`{kind}.{key}` must be true or false, found {}",
                    kind_of(other)
                ))
                .needle(key),
            );
            false
        }
    }
}

fn get_string(
    kind: &str,
    map: &Map<String, Value>,
    key: &str,
    errs: &mut Vec<CheckError>,
) -> Option<String> {
    match map.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(other) => {
            errs.push(
                CheckError::new(format!(
                    "`{kind}.{key}` must be a non-empty string, found {}",
                    describe(other)
                ))
                .needle(key),
            );
            None
        }
        None => {
            errs.push(CheckError::new(format!("`{kind}` needs `{key}`")).needle(kind));
            None
        }
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) if s.is_empty() => "an empty string".into(),
        other => kind_of(other).into(),
    }
}

/// `"a"` → `["a"]`; `["a", "b"]` → both; anything else is an error.
fn string_list(
    kind: &str,
    key: &str,
    v: &Value,
    errs: &mut Vec<CheckError>,
) -> Option<Vec<String>> {
    let bad = |errs: &mut Vec<CheckError>, found: &str| {
        errs.push(
            CheckError::new(format!(
                "`{kind}.{key}` must be a non-empty list of strings, found {found}"
            ))
            .needle(key),
        );
        None
    };
    match v {
        Value::Array(items) if !items.is_empty() => {
            let strings: Option<Vec<String>> = items
                .iter()
                .map(|i| i.as_str().map(str::to_string))
                .collect();
            match strings {
                Some(s) => Some(s),
                None => bad(errs, "a non-string item"),
            }
        }
        Value::Array(_) => bad(errs, "an empty list"),
        other => bad(errs, kind_of(other)),
    }
}

// ---------------------------------------------------------------- kinds

fn parse_equals(v: &Value, errs: &mut Vec<CheckError>) -> Parsed {
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
    Some((Check::Equals { expected }, name))
}

fn parse_contains(kind: &str, v: &Value, errs: &mut Vec<CheckError>) -> Parsed {
    let (values, all, ignore_case) = match v {
        Value::String(s) if !s.is_empty() => (vec![s.clone()], true, false),
        Value::Object(map) => {
            unknown_keys(kind, map, &["value", "any", "all", "ignore_case"], errs);
            let ignore_case = get_bool(kind, map, "ignore_case", errs);
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
    };
    let check = if kind == "contains" {
        Check::Contains {
            values,
            all,
            ignore_case,
        }
    } else {
        Check::NotContains {
            values,
            ignore_case,
        }
    };
    Some((check, name))
}

fn parse_regex(v: &Value, env: &CheckEnv, errs: &mut Vec<CheckError>) -> Parsed {
    let (pattern, ignore_case) = match v {
        Value::String(s) => (s.clone(), false),
        Value::Object(map) => {
            unknown_keys("regex", map, &["pattern", "ignore_case"], errs);
            let ic = get_bool("regex", map, "ignore_case", errs);
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
            Check::Regex { regex },
            format!("regex {}", quote(&pattern, 40)),
        )),
        Err(e) => {
            errs.push(
                CheckError::new(format!("invalid regex `{pattern}`: {}", one_line(&e, 200)))
                    .needle(pattern.clone()),
            );
            None
        }
    }
}

fn parse_json_schema(v: &Value, env: &CheckEnv, errs: &mut Vec<CheckError>) -> Parsed {
    let (schema, name) = match v {
        Value::Object(_) | Value::Bool(_) => (v.clone(), "json_schema".to_string()),
        Value::String(rel) => {
            let path = env.suite_dir.join(rel);
            let text = match crate::input_file::read_to_string(
                &path,
                crate::limits::Limits::default().max_file_bytes,
            ) {
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
        Ok(schema) => Some((Check::JsonSchema { schema }, name)),
        Err(e) => {
            errs.push(
                CheckError::new(format!("invalid JSON Schema: {}", one_line(&e, 200)))
                    .needle("json_schema"),
            );
            None
        }
    }
}

fn check_tool(name: &str, env: &CheckEnv, errs: &mut Vec<CheckError>) {
    let Some(tools) = env.tools else { return };
    if tools.iter().any(|t| t == name) {
        return;
    }
    let hint = did_you_mean(name, tools.iter().map(String::as_str))
        .map(|b| format!("did you mean `{b}`?"))
        .unwrap_or_else(|| format!("the target's tools are: {}", tools.join(", ")));
    errs.push(
        CheckError::new(format!("unknown tool `{name}`"))
            .hint(hint)
            .needle(name),
    );
}

fn parse_tool(kind: &str, v: &Value, env: &CheckEnv, errs: &mut Vec<CheckError>) -> Parsed {
    let called = kind == "tool_called";
    let mut times = None;
    let (mut before, mut after) = (None, None);
    let mut rules = ArgRules::default();
    let (name, args) = match v {
        Value::String(s) if !s.is_empty() => (s.clone(), None),
        Value::Object(map) => {
            let allowed: &[&str] = if called {
                &[
                    "name",
                    "args",
                    "args_match",
                    "ignore",
                    "defaults",
                    "times",
                    "before",
                    "after",
                ]
            } else {
                &["name", "args", "args_match", "ignore", "defaults"]
            };
            unknown_keys(kind, map, allowed, errs);
            let args = map.get("args").filter(|a| !a.is_null()).cloned();
            times = parse_times(kind, map.get("times"), errs);
            for (key, slot) in [("before", &mut before), ("after", &mut after)] {
                if map.get(key).is_some_and(|v| !v.is_null()) {
                    if let Some(other) = get_string(kind, map, key, errs) {
                        check_tool(&other, env, errs);
                        *slot = Some(other);
                    }
                }
            }
            let name = get_string(kind, map, "name", errs)?;
            if let Some(m) = map.get("args_match").filter(|v| !v.is_null()) {
                rules.default = parse_matcher(&format!("{kind}.args_match"), m, errs)?;
            }
            rules.ignore = parse_ignore(kind, map.get("ignore"), errs);
            if let Some(d) = map.get("defaults").filter(|v| !v.is_null()) {
                match d {
                    Value::Object(defaults) => {
                        rules.defaults.insert(name.clone(), defaults.clone());
                    }
                    other => errs.push(
                        CheckError::new(format!(
                            "`{kind}.defaults` must be a map of argument names to their default values, found {}",
                            kind_of(other)
                        ))
                        .needle("defaults"),
                    ),
                }
            }
            (name, args)
        }
        other => {
            errs.push(
                CheckError::new(format!(
                    "`{kind}` expects a tool name or a map `{{name, args{}}}`, found {}",
                    if called { ", times" } else { "" },
                    describe(other)
                ))
                .needle(kind),
            );
            return None;
        }
    };
    check_tool(&name, env, errs);
    let mut display = format!("{kind} {name}");
    if let Some(a) = &args {
        display.push(' ');
        display.push_str(&truncate(&a.to_string(), 40));
    }
    match times {
        Some(Times {
            min,
            max: Some(max),
        }) if min == max => display.push_str(&format!(" ×{min}")),
        Some(Times {
            min,
            max: Some(max),
        }) => display.push_str(&format!(" ×{min}..{max}")),
        Some(Times { min, max: None }) => display.push_str(&format!(" ×{min}+")),
        None => {}
    }
    if let Some(b) = &before {
        display.push_str(&format!(" before {b}"));
    }
    if let Some(a) = &after {
        display.push_str(&format!(" after {a}"));
    }
    let check = if called {
        Check::ToolCalled {
            name,
            args,
            times,
            before,
            after,
            rules,
        }
    } else {
        Check::ToolNotCalled { name, args, rules }
    };
    Some((check, display))
}

/// `times: N` or `times: {min, max}` (either may be left out).
fn parse_times(kind: &str, v: Option<&Value>, errs: &mut Vec<CheckError>) -> Option<Times> {
    let count = |key: &str, v: &Value, errs: &mut Vec<CheckError>| {
        let n = v.as_u64().and_then(|n| u32::try_from(n).ok());
        if n.is_none() {
            errs.push(
                CheckError::new(format!(
                    "`{kind}.{key}` must be a whole number of 0 or more, found {v}"
                ))
                .needle("times"),
            );
        }
        n
    };
    match v? {
        Value::Null => None,
        Value::Object(map) => {
            unknown_keys(&format!("{kind}.times"), map, &["min", "max"], errs);
            let min = match map.get("min") {
                Some(v) => count("times.min", v, errs)?,
                None => 0,
            };
            let max = match map.get("max") {
                Some(v) => Some(count("times.max", v, errs)?),
                None => None,
            };
            if map.is_empty() {
                errs.push(
                    CheckError::new(format!("`{kind}.times` needs `min`, `max` or both"))
                        .needle("times"),
                );
                return None;
            }
            if let Some(max) = max.filter(|m| *m < min) {
                errs.push(
                    CheckError::new(format!(
                        "`{kind}.times.max` ({max}) is below `times.min` ({min})"
                    ))
                    .needle("times"),
                );
                return None;
            }
            Some(Times { min, max })
        }
        other => count("times", other, errs).map(|n| Times {
            min: n,
            max: Some(n),
        }),
    }
}

/// One matcher name: `exact`, `subset`, `superset` or `ignore`.
fn parse_matcher(key: &str, v: &Value, errs: &mut Vec<CheckError>) -> Option<ArgMatch> {
    let word = v.as_str().unwrap_or_default();
    if let Some(m) = ArgMatch::parse(word) {
        return Some(m);
    }
    errs.push(
        CheckError::new(format!(
            "unknown argument matcher {v} in `{key}` (expected `exact`, `subset`, `superset` or `ignore`)"
        ))
        .maybe_hint(
            did_you_mean(word, ArgMatch::NAMES).map(|b| format!("did you mean `{b}`?")),
        )
        .needle(if word.is_empty() { "args" } else { word }.to_string()),
    );
    None
}

/// `ignore: ["metadata.trace_id", "*.timestamp"]`: key patterns removed before comparing.
fn parse_ignore(kind: &str, v: Option<&Value>, errs: &mut Vec<CheckError>) -> Vec<KeyPattern> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Vec::new();
    };
    let Some(list) = string_list(kind, "ignore", v, errs) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|p| {
            KeyPattern::new(p)
                .map_err(|e| {
                    errs.push(
                        CheckError::new(e)
                            .hint("dot paths with `*` (one key) and `**` (any depth)")
                            .needle(p.clone()),
                    )
                })
                .ok()
        })
        .collect()
}

/// `args: subset` or `args: {default: subset, tools: {issue_refund: exact}}`, plus the
/// trajectory's `ignore` and `defaults: {TOOL: {ARG: VALUE}}`.
fn parse_trajectory_rules(
    map: &Map<String, Value>,
    env: &CheckEnv,
    errs: &mut Vec<CheckError>,
) -> Option<ArgRules> {
    let mut rules = ArgRules::default();
    let mut ok = true;
    match map.get("args") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            unknown_keys("trajectory.args", m, &["default", "tools"], errs);
            if let Some(d) = m.get("default").filter(|v| !v.is_null()) {
                match parse_matcher("trajectory.args.default", d, errs) {
                    Some(d) => rules.default = d,
                    None => ok = false,
                }
            }
            match m.get("tools") {
                None | Some(Value::Null) => {}
                Some(Value::Object(tools)) => {
                    for (tool, how) in tools {
                        check_tool(tool, env, errs);
                        match parse_matcher(&format!("trajectory.args.tools.{tool}"), how, errs) {
                            Some(how) => {
                                rules.tools.insert(tool.clone(), how);
                            }
                            None => ok = false,
                        }
                    }
                }
                Some(other) => {
                    errs.push(
                        CheckError::new(format!(
                            "`trajectory.args.tools` must map tool names to matchers, found {}",
                            kind_of(other)
                        ))
                        .needle("tools"),
                    );
                    ok = false;
                }
            }
        }
        Some(other) => match parse_matcher("trajectory.args", other, errs) {
            Some(d) => rules.default = d,
            None => ok = false,
        },
    }
    rules.ignore = parse_ignore("trajectory", map.get("ignore"), errs);
    match map.get("defaults") {
        None | Some(Value::Null) => {}
        Some(Value::Object(tools)) => {
            for (tool, defaults) in tools {
                check_tool(tool, env, errs);
                match defaults {
                    Value::Object(d) => {
                        rules.defaults.insert(tool.clone(), d.clone());
                    }
                    other => {
                        errs.push(
                            CheckError::new(format!(
                                "`trajectory.defaults.{tool}` must be a map of argument defaults, found {}",
                                kind_of(other)
                            ))
                            .needle(tool.clone()),
                        );
                        ok = false;
                    }
                }
            }
        }
        Some(other) => {
            errs.push(
                CheckError::new(format!(
                    "`trajectory.defaults` must map tool names to argument defaults, found {}",
                    kind_of(other)
                ))
                .hint("e.g. `defaults: {search_kb: {limit: 3}}`")
                .needle("defaults"),
            );
            ok = false;
        }
    }
    ok.then_some(rules)
}

/// A string that names something in the case: `expected.tools`, `vars.steps`.
fn case_ref(s: &str) -> bool {
    matches!(s.split('.').next(), Some("expected" | "vars")) && s.contains('.')
}

fn parse_trajectory(v: &Value, env: &CheckEnv, errs: &mut Vec<CheckError>) -> Parsed {
    let Value::Object(map) = v else {
        errs.push(
            CheckError::new(format!(
                "`trajectory` expects a map `{{mode, expected, args}}`, found {}",
                kind_of(v)
            ))
            .needle("trajectory"),
        );
        return None;
    };
    unknown_keys(
        "trajectory",
        map,
        &["mode", "expected", "args", "ignore", "defaults", "score"],
        errs,
    );
    let partial = match map.get("score") {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) if s == "f1" => true,
        Some(other) => {
            errs.push(
                CheckError::new(format!(
                    "`trajectory.score` must be `f1` (partial credit), found {other}"
                ))
                .hint("leave `score` out for 1 on pass and 0 on fail")
                .needle("score"),
            );
            false
        }
    };

    let mode = match map.get("mode") {
        None | Some(Value::Null) => Some(TrajectoryMode::InOrder),
        Some(other) => {
            let word = other.as_str().unwrap_or_default();
            let mode = TrajectoryMode::parse(word);
            if mode.is_none() {
                errs.push(
                    CheckError::new(format!(
                        "unknown trajectory mode {other} (expected one of: {})",
                        TrajectoryMode::NAMES
                            .iter()
                            .map(|m| format!("`{m}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                    .maybe_hint(
                        did_you_mean(word, TrajectoryMode::NAMES)
                            .map(|b| format!("did you mean `{b}`?")),
                    )
                    .needle(word.to_string()),
                );
            }
            mode
        }
    };
    let args = parse_trajectory_rules(map, env, errs);
    let expected = match map.get("expected") {
        Some(Value::String(s)) if case_ref(s) => Some(ValueRef::Case(s.clone())),
        Some(Value::Array(_)) => {
            let value = &map["expected"];
            match expected_calls(value) {
                Ok(calls) => {
                    for call in &calls {
                        check_tool(&call.name, env, errs);
                    }
                    Some(ValueRef::Inline(value.clone()))
                }
                Err(e) => {
                    errs.push(
                        CheckError::new(format!("`trajectory.expected`: {e}")).needle("expected"),
                    );
                    None
                }
            }
        }
        None | Some(Value::Null) => {
            errs.push(
                CheckError::new("`trajectory` needs `expected`")
                    .hint("`expected: expected.tools` or a list `[{name, args}]`")
                    .needle("trajectory"),
            );
            None
        }
        Some(other) => {
            errs.push(
                CheckError::new(format!(
                    "`trajectory.expected` must be `expected.tools` or a list of `{{name, args}}`, found {}",
                    match other {
                        Value::String(s) => format!("`{s}`"),
                        o => kind_of(o).to_string(),
                    }
                ))
                .needle("expected"),
            );
            None
        }
    };
    let (mode, expected, args) = (mode?, expected?, args?);
    let name = format!("trajectory {}", mode.as_str());
    Some((
        Check::Trajectory {
            mode,
            expected,
            args,
            partial,
        },
        name,
    ))
}

fn parse_end_state(v: &Value, errs: &mut Vec<CheckError>) -> Parsed {
    match v {
        Value::String(s) if case_ref(s) => Some((
            Check::EndState(EndStateSpec::Subset(ValueRef::Case(s.clone()))),
            format!("end_state {s}"),
        )),
        Value::Object(_) => Some((
            Check::EndState(EndStateSpec::Subset(ValueRef::Inline(v.clone()))),
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
                (Check::EndState(EndStateSpec::Paths(asserts)), name)
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

/// `[program, args...]` or `{argv: [...], timeout: 10s}`.
fn parse_command(v: &Value, env: &CheckEnv, errs: &mut Vec<CheckError>) -> Parsed {
    let (argv_value, timeout) = match v {
        Value::Array(_) => (v.clone(), crate::check::command::DEFAULT_TIMEOUT),
        Value::Object(map) => {
            unknown_keys("command", map, &["argv", "timeout"], errs);
            let timeout = match map.get("timeout") {
                None | Some(Value::Null) => crate::check::command::DEFAULT_TIMEOUT,
                Some(Value::String(t)) => match crate::duration::parse_duration(t) {
                    Ok(d) => d,
                    Err(e) => {
                        errs.push(
                            CheckError::new(format!("`command.timeout`: {e}")).needle("timeout"),
                        );
                        return None;
                    }
                },
                Some(other) => {
                    errs.push(
                        CheckError::new(format!(
                            "`command.timeout` must be a duration like `10s`, found {}",
                            kind_of(other)
                        ))
                        .needle("timeout"),
                    );
                    return None;
                }
            };
            (map.get("argv").cloned().unwrap_or(Value::Null), timeout)
        }
        other => {
            errs.push(
                CheckError::new(format!(
                    "`command` expects a list `[program, args...]` or a map `{{argv, timeout}}`, found {}",
                    describe(other)
                ))
                .hint("no shell is involved: write each argument as its own list item")
                .needle("command"),
            );
            return None;
        }
    };
    let argv = string_list("command", "argv", &argv_value, errs)?;
    let name = format!("command {}", truncate(&argv.join(" "), 50));
    Some((
        Check::Command {
            argv,
            dir: env.suite_dir.to_path_buf(),
            timeout,
            limits: env.limits,
        },
        name,
    ))
}

/// Compiles the expression and checks that it names only the variables it will be given.
fn parse_expr(source: &str, errs: &mut Vec<CheckError>) -> Parsed {
    match crate::check::expr::compile_check(source) {
        Ok(expr) => Some((Check::Expr { expr }, format!("expr {}", quote(source, 50)))),
        Err(e) => {
            errs.push(
                CheckError::new(format!("invalid `expr` {}: {e}", quote(source, 50)))
                    .hint("an expression over `case`, `output`, `trajectory`, `state`")
                    .needle("expr"),
            );
            None
        }
    }
}

fn unit_interval(key: &str, x: f64, errs: &mut Vec<CheckError>) -> bool {
    if (0.0..=1.0).contains(&x) {
        true
    } else {
        errs.push(
            CheckError::new(format!("`{key}` must be between 0 and 1, found {x}"))
                .hint("judge scores are normalised to 0..1")
                .needle(key),
        );
        false
    }
}

fn parse_judge(raw: &RawCheck, env: &CheckEnv, errs: &mut Vec<CheckError>) -> Parsed {
    let name = raw.judge.as_deref().unwrap_or_default();
    let threshold_ok = raw
        .threshold
        .is_none_or(|t| unit_interval("threshold", t, errs));
    let soft_ok = raw
        .soft_threshold
        .is_none_or(|t| unit_interval("soft_threshold", t, errs));
    let Some(judge) = env.judges.get(name) else {
        if env.available_judges.iter().any(|j| j == name) {
            errs.push(
                CheckError::new(format!("judge `{name}` has errors"))
                    .hint("see the errors of its file")
                    .needle(name),
            );
        } else {
            let hint = did_you_mean(name, env.available_judges.iter().map(String::as_str))
                .map(|b| format!("did you mean `{b}`?"))
                .unwrap_or_else(|| {
                    if env.available_judges.is_empty() {
                        "no judges found: add `judges/NAME.yaml`".to_string()
                    } else {
                        format!("available judges: {}", env.available_judges.join(", "))
                    }
                });
            errs.push(
                CheckError::new(format!("unknown judge `{name}`"))
                    .hint(hint)
                    .needle(name),
            );
        }
        return None;
    };
    if !(threshold_ok && soft_ok) {
        return None;
    }
    let threshold = raw.threshold.unwrap_or(judge.threshold);
    let soft_threshold = raw.soft_threshold.or(judge.soft_threshold);
    if let Some(soft) = soft_threshold {
        if soft > threshold {
            errs.push(
                CheckError::new(format!(
                    "`soft_threshold` ({soft}) is above `threshold` ({threshold})"
                ))
                .hint(if raw.soft_threshold.is_none() {
                    format!("`soft_threshold` {soft} comes from judge `{name}`: set it here too")
                } else {
                    "a soft fail lies between soft_threshold and threshold".to_string()
                })
                .needle("soft_threshold"),
            );
            return None;
        }
    }
    Some((
        Check::Judge {
            judge: Arc::clone(judge),
            threshold,
            soft_threshold,
        },
        format!("judge {name}"),
    ))
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
