//! `truncate` and `one_line`: keep verdict reasons and display names short and single-line.

/// At most `max` characters (not bytes), with `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Whitespace runs (newlines included) collapsed to one space, then truncated.
pub fn one_line(s: &str, max: usize) -> String {
    let joined = s.split_whitespace().collect::<Vec<_>>().join(" ");
    truncate(&joined, max)
}

/// A string quoted for a reason or name: `"text"`, one line, truncated.
pub fn quote(s: &str, max: usize) -> String {
    format!("\"{}\"", one_line(s, max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_by_chars_and_collapses_lines() {
        assert_eq!(truncate("héllo", 5), "héllo");
        assert_eq!(truncate("héllo world", 5), "héll…");
        assert_eq!(one_line("a\n  b\tc ", 10), "a b c");
        assert_eq!(quote("x\ny", 10), "\"x y\"");
    }
}
