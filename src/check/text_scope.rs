//! `TextScope`: which texts of a run the `contains`/`not_contains`/`regex` checks read (the
//! final output, or every agent message as τ-bench's output check does) and how they are
//! normalised (case, punctuation, whitespace) before matching.

use serde_json::{Map, Value};

use crate::check::parse::CheckError;
use crate::check::trajectory_match::kind_of;
use crate::trajectory::{Step, Trajectory};

/// Where a text check looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// The final output (the default).
    #[default]
    Output,
    /// Any message of the agent (each model answer with text, and the final output).
    AnyMessage,
}

/// Normalisers applied to both the text and the values before matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Normalize {
    /// Lowercased.
    pub case: bool,
    /// Punctuation removed (`,` `.` `!` `?` `'` …): `1,299.00` reads `129900`.
    pub punctuation: bool,
    /// Runs of whitespace as one space, trimmed.
    pub whitespace: bool,
}

/// `scope` and `normalize` of one text check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TextScope {
    pub scope: Scope,
    pub normalize: Normalize,
}

impl Normalize {
    pub(crate) fn is_identity(&self) -> bool {
        *self == Normalize::default()
    }

    pub(crate) fn apply(&self, text: &str) -> String {
        let mut s: String = if self.punctuation {
            text.chars().filter(|c| !c.is_ascii_punctuation()).collect()
        } else {
            text.to_string()
        };
        if self.case {
            s = s.to_lowercase();
        }
        if self.whitespace {
            s = s.split_whitespace().collect::<Vec<_>>().join(" ");
        }
        s
    }
}

impl TextScope {
    /// The texts to match, normalised.
    pub(crate) fn texts(&self, t: &Trajectory) -> Vec<String> {
        let mut raw: Vec<&str> = Vec::new();
        if self.scope == Scope::AnyMessage {
            for step in t.flat_steps() {
                if let Step::Model {
                    content: Some(c), ..
                } = step
                {
                    raw.push(c);
                }
            }
        }
        raw.push(&t.output);
        raw.into_iter().map(|s| self.normalize.apply(s)).collect()
    }

    /// A suffix for the check's display name: ` (any message)`.
    pub(crate) fn label(&self) -> &'static str {
        match self.scope {
            Scope::Output => "",
            Scope::AnyMessage => " (any message)",
        }
    }
}

/// Reads `scope` and `normalize` of a text check's map.
pub(crate) fn parse_scope(
    kind: &str,
    map: &Map<String, Value>,
    errs: &mut Vec<CheckError>,
) -> TextScope {
    let mut out = TextScope::default();
    match map.get("scope") {
        None => {}
        Some(Value::String(s)) if s == "output" => {}
        Some(Value::String(s)) if s == "any_message" => out.scope = Scope::AnyMessage,
        Some(other) => errs.push(
            CheckError::new(format!(
                "`{kind}.scope` must be `output` or `any_message`, found {}",
                match other {
                    Value::String(s) => format!("`{s}`"),
                    o => kind_of(o).to_string(),
                }
            ))
            .needle("scope"),
        ),
    }
    let names: Vec<&str> = match map.get("normalize") {
        None => Vec::new(),
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
            items.iter().filter_map(Value::as_str).collect()
        }
        Some(other) => {
            errs.push(
                CheckError::new(format!(
                    "`{kind}.normalize` must be a list of `case`, `punctuation`, `whitespace`, found {}",
                    kind_of(other)
                ))
                .needle("normalize"),
            );
            Vec::new()
        }
    };
    for name in names {
        match name {
            "case" => out.normalize.case = true,
            "punctuation" => out.normalize.punctuation = true,
            "whitespace" => out.normalize.whitespace = true,
            other => errs.push(
                CheckError::new(format!(
                    "`{kind}.normalize`: unknown normaliser `{other}` (expected `case`, `punctuation` or `whitespace`)"
                ))
                .needle(other.to_string()),
            ),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn normalisers_compose() {
        let all = Normalize {
            case: true,
            punctuation: true,
            whitespace: true,
        };
        assert_eq!(
            all.apply("  Refund of $1,299.00 —  Done! "),
            "refund of 129900 — done"
        );
        let ws = Normalize {
            whitespace: true,
            ..Normalize::default()
        };
        assert_eq!(ws.apply("a \n\t b"), "a b");
        assert!(Normalize::default().is_identity());
    }

    #[test]
    fn scope_and_normalize_are_read_and_checked() {
        let map = |v: Value| v.as_object().unwrap().clone();
        let mut errs = Vec::new();
        let s = parse_scope(
            "contains",
            &map(json!({"scope": "any_message", "normalize": ["case", "punctuation"]})),
            &mut errs,
        );
        assert!(errs.is_empty());
        assert_eq!(s.scope, Scope::AnyMessage);
        assert!(s.normalize.case && s.normalize.punctuation && !s.normalize.whitespace);
        parse_scope(
            "regex",
            &map(json!({"scope": "everywhere", "normalize": ["caps"]})),
            &mut errs,
        );
        let text: Vec<String> = errs.iter().map(|e| e.message.clone()).collect();
        assert!(text[0].contains("`output` or `any_message`"), "{text:?}");
        assert!(text[1].contains("unknown normaliser `caps`"), "{text:?}");
    }
}
