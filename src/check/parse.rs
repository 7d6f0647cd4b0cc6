//! `CheckError` and `from_raw`: turn a user-written `RawCheck` into a validated `CheckSpec`,
//! collecting every problem of the check rather than stopping at the first.
//!
//! The common keys (`name`, `severity`, `weight`) are checked here; each kind's value is handed
//! to its family (`check::family::*`), which says what it accepts when given something else. The
//! shorthand helpers below are shared by the families.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::check::compile_cache::CompileCache;
use crate::check::family::{
    agents, command, end_state, expr, json, judge, limits, text, tools, trajectory,
};
use crate::check::judge::Judge;
use crate::check::raw::{RawCheck, RawKind};
use crate::check::registry::{kind_names, Family};
use crate::check::spec::{Check, CheckSpec};
use crate::check::trajectory_match::kind_of;
use crate::diagnostic::did_you_mean;

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
    /// The agents of the target's team, when known (a harness with a team): agent names in
    /// checks are checked against them. An external agent's agents are known only once it runs.
    pub agents: Option<&'a [String]>,
    /// With MCP servers, whose tools are known only once they run: where tool names that
    /// `tools` does not hold are collected, for each run to check against what its servers
    /// list.
    pub mcp_named: Option<&'a std::sync::Mutex<BTreeSet<String>>>,
    /// Regexes and schemas already compiled by this load.
    pub cache: &'a CompileCache,
    /// `run.limits`: what a command check may print, how large a schema file may be.
    pub limits: crate::limits::Limits,
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
    pub(crate) fn new(message: impl Into<String>) -> Self {
        CheckError {
            message: message.into(),
            hint: None,
            needle: None,
        }
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub(crate) fn maybe_hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }

    pub(crate) fn needle(mut self, needle: impl Into<String>) -> Self {
        self.needle = Some(needle.into());
        self
    }
}

impl std::error::Error for CheckError {}

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
pub(crate) fn from_raw(raw: &RawCheck, env: &CheckEnv) -> Result<CheckSpec, Vec<CheckError>> {
    let mut errs = Vec::new();
    let parsed = match raw.kinds.as_slice() {
        [] => {
            errs.push(
                CheckError::new(format!("a check needs one of: {}", kind_names().join(", ")))
                    .maybe_hint(raw.name.as_ref().map(|n| format!("in check `{n}`"))),
            );
            None
        }
        [kind] => parse_kind(kind, raw, env, &mut errs),
        [a, b] => {
            let (a, b) = (a.name(), b.name());
            errs.push(
                CheckError::new(format!("a check has both `{a}` and `{b}`"))
                    .hint("write one check per list item")
                    .needle(b),
            );
            None
        }
        many => {
            errs.push(
                CheckError::new(format!(
                    "a check has several kinds: {}",
                    many.iter()
                        .map(|k| format!("`{}`", k.name()))
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
    if !raw.kinds.iter().any(|k| k.kind.family == Family::Judge) {
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

type Parsed = Option<(Check, String)>;

/// Hands `kind` to its family. The one place a family is chosen for validation.
fn parse_kind(
    kind: &RawKind,
    raw: &RawCheck,
    env: &CheckEnv,
    errs: &mut Vec<CheckError>,
) -> Parsed {
    let (name, v) = (kind.name(), &kind.value);
    fn wrap<T>(parsed: Option<(T, String)>, f: impl FnOnce(T) -> Check) -> Parsed {
        parsed.map(|(c, name)| (f(c), name))
    }
    match kind.kind.family {
        Family::Text => wrap(text::parse(name, v, env, errs), Check::Text),
        Family::Json => wrap(json::parse(name, v, env, errs), Check::Json),
        Family::Tools => wrap(tools::parse(name, v, env, errs), Check::Tools),
        Family::Trajectory => wrap(trajectory::parse(name, v, env, errs), Check::Trajectory),
        Family::Agents => wrap(agents::parse(name, v, env, errs), Check::Agents),
        Family::EndState => wrap(end_state::parse(name, v, env, errs), Check::EndState),
        Family::Limits => wrap(limits::parse(name, v, env, errs), Check::Limits),
        Family::Judge => wrap(judge::parse(name, v, raw, env, errs), Check::Judge),
        Family::Expr => wrap(expr::parse(name, v, env, errs), Check::Expr),
        Family::Command => wrap(command::parse(name, v, env, errs), Check::Command),
    }
}

// ---------------------------------------------------------------- shorthand maps

/// Reports keys of a shorthand map that are not in `allowed`, naming the allowed ones.
pub(crate) fn unknown_keys(
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

pub(crate) fn get_bool(
    kind: &str,
    map: &Map<String, Value>,
    key: &str,
    errs: &mut Vec<CheckError>,
) -> bool {
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

pub(crate) fn get_string(
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

pub(crate) fn describe(v: &Value) -> String {
    match v {
        Value::String(s) if s.is_empty() => "an empty string".into(),
        other => kind_of(other).into(),
    }
}

/// `"a"` → `["a"]`; `["a", "b"]` → both; anything else is an error.
pub(crate) fn string_list(
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

/// A string that names something in the case: `expected.tools`, `vars.steps`.
pub(crate) fn case_ref(s: &str) -> bool {
    matches!(s.split('.').next(), Some("expected" | "vars")) && s.contains('.')
}

/// Parses one check written in YAML with no judges, tools or files around it: what the family
/// files' tests need.
#[cfg(test)]
pub(crate) fn parse_alone(yaml: &str) -> Result<CheckSpec, Vec<CheckError>> {
    let raw: RawCheck = serde_yaml::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"));
    let env = CheckEnv {
        suite_dir: std::path::Path::new("."),
        judges: &Default::default(),
        available_judges: &[],
        tools: None,
        agents: None,
        mcp_named: None,
        cache: &Default::default(),
        limits: Default::default(),
    };
    from_raw(&raw, &env)
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
