//! `Diagnostic`: one problem in a user file (suite, dataset, judge, mock rules, template),
//! with where it is and what was expected. A load collects all of them before giving up.

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    pub file: PathBuf,
    /// 1-based, when known.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// A lowercase fragment: "unknown check `tool_caled`".
    pub message: String,
    /// "did you mean `tool_called`?" or what was expected.
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(file: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.as_ref().to_path_buf(),
            line: None,
            column: None,
            message: message.into(),
            hint: None,
        }
    }

    pub fn at(mut self, line: usize, column: Option<usize>) -> Self {
        self.line = Some(line);
        self.column = column;
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Places the diagnostic at the first line of `source` containing `needle`, when the parser
    /// gave no position (validation happens after parsing, on values without spans).
    pub fn locate(mut self, source: &str, needle: &str) -> Self {
        if self.line.is_none() && !needle.is_empty() {
            if let Some((line, col)) = locate(source, needle) {
                self.line = Some(line);
                self.column = Some(col);
            }
        }
        self
    }

    /// A serde_yaml error, with its position and a "did you mean" for unknown fields.
    pub fn from_yaml(file: impl AsRef<Path>, err: &serde_yaml::Error) -> Self {
        let mut d = Diagnostic::new(file, clean_serde_message(&err.to_string()));
        if let Some(loc) = err.location() {
            d = d.at(loc.line(), Some(loc.column()));
        }
        d.with_unknown_field_hint()
    }

    /// A serde_json error; `line` is the line of the JSON text in its file (for JSONL).
    pub fn from_json(file: impl AsRef<Path>, line_offset: usize, err: &serde_json::Error) -> Self {
        let msg = clean_serde_message(&err.to_string());
        let d = Diagnostic::new(file, msg);
        let d = if err.line() > 0 {
            d.at(line_offset + err.line() - 1, Some(err.column()))
        } else {
            d
        };
        d.with_unknown_field_hint()
    }

    /// serde says "unknown field `x`, expected one of `a`, `b`": add "did you mean `a`?".
    fn with_unknown_field_hint(mut self) -> Self {
        if self.hint.is_some() {
            return self;
        }
        let msg = self.message.clone();
        let unknown = msg
            .split("unknown field `")
            .nth(1)
            .or_else(|| msg.split("unknown variant `").nth(1))
            .and_then(|rest| rest.split('`').next());
        if let Some(word) = unknown {
            let expected: Vec<&str> = msg
                .split("expected one of ")
                .nth(1)
                .map(|list| {
                    list.split(", ")
                        .map(|s| s.trim_matches(|c| c == '`' || c == ' '))
                        .collect()
                })
                .or_else(|| {
                    msg.split("expected `")
                        .nth(1)
                        .map(|s| vec![s.split('`').next().unwrap_or("")])
                })
                .unwrap_or_default();
            if let Some(best) = did_you_mean(word, expected.iter().copied()) {
                self.hint = Some(format!("did you mean `{best}`?"));
            }
        }
        self
    }
}

/// serde_yaml appends " at line N column M" to messages; the position is shown apart.
fn clean_serde_message(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        write!(f, ": {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

/// At most this many diagnostics are printed; the rest are counted.
pub const MAX_PRINTED: usize = 50;
/// At most this many characters of one printed diagnostic.
pub const MAX_CHARS: usize = 1000;

/// The lines to print for `errors`: the first `MAX_PRINTED`, each cut to `MAX_CHARS`, then
/// `… and N more`. A file with a million problems must not print a million lines.
pub fn printable(errors: &[Diagnostic]) -> Vec<String> {
    let mut lines: Vec<String> = errors
        .iter()
        .take(MAX_PRINTED)
        .map(|d| crate::text::truncate(&d.to_string(), MAX_CHARS))
        .collect();
    if errors.len() > MAX_PRINTED {
        lines.push(format!("… and {} more", errors.len() - MAX_PRINTED));
    }
    lines
}

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// 1-based line and column of the first occurrence of `needle` in `source`.
pub fn locate(source: &str, needle: &str) -> Option<(usize, usize)> {
    source.find(needle).map(|offset| position(source, offset))
}

/// The 1-based line and (byte) column of `offset` in `source`.
pub(crate) fn position(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let col = offset - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_field_gets_did_you_mean_and_position() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[expect(dead_code)]
        struct S {
            tool_called: Option<String>,
            regex: Option<String>,
        }
        let src = "regex: a\ntool_caled: x\n";
        let err = serde_yaml::from_str::<S>(src).unwrap_err();
        let d = Diagnostic::from_yaml("s.yaml", &err);
        assert_eq!(d.line, Some(2));
        assert_eq!(d.hint.as_deref(), Some("did you mean `tool_called`?"));
        assert!(
            d.to_string()
                .starts_with("error: s.yaml:2:1: unknown field `tool_caled`"),
            "{d}"
        );
    }

    #[test]
    fn did_you_mean_rejects_far_words() {
        assert_eq!(
            did_you_mean("helpfullness", ["helpfulness", "policy"]),
            Some("helpfulness")
        );
        assert_eq!(did_you_mean("zzz", ["helpfulness", "policy"]), None);
    }

    #[test]
    fn locate_finds_line_and_column() {
        assert_eq!(locate("a\nbb x\n", "x"), Some((2, 4)));
        assert_eq!(locate("a", "q"), None);
    }

    #[test]
    fn printing_is_capped_in_count_and_length() {
        let many: Vec<Diagnostic> = (0..1000)
            .map(|i| Diagnostic::new("s.yaml", format!("duplicate case id `{i}`")))
            .collect();
        let lines = printable(&many);
        assert_eq!(lines.len(), MAX_PRINTED + 1);
        assert_eq!(lines.last().unwrap(), "… and 950 more");
        let long = [Diagnostic::new("s.yaml", "x".repeat(100_000))];
        let lines = printable(&long);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].chars().count(), MAX_CHARS);
    }
}
