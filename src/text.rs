//! `truncate`, `one_line`, `excerpt`, `tail`: keep reasons, names and quoted model, agent or
//! server text short enough for a report line, cut on character boundaries.

/// At most `max` characters (not bytes), with `…` when cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Whitespace runs (newlines included) collapsed to one space, then truncated.
pub(crate) fn one_line(s: &str, max: usize) -> String {
    let joined = s.split_whitespace().collect::<Vec<_>>().join(" ");
    truncate(&joined, max)
}

/// A string quoted for a reason or name: `"text"`, one line, truncated.
pub(crate) fn quote(s: &str, max: usize) -> String {
    format!("\"{}\"", one_line(s, max))
}

/// The trimmed text cut to at most `max` characters, `…` marking a cut; `empty` when there is
/// nothing, so a message never ends in a dangling colon.
pub(crate) fn excerpt(text: &str, max: usize, empty: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        return empty.to_string();
    }
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// The last `max` characters of the trimmed text: where a crash explains itself.
pub(crate) fn tail(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.is_empty() {
        return "(empty)".to_string();
    }
    let count = text.chars().count();
    if count <= max {
        return text.to_string();
    }
    let start = text.char_indices().nth(count - max).map_or(0, |(i, _)| i);
    format!("…{}", &text[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_and_tail_cut_on_char_boundaries() {
        assert_eq!(excerpt("ééééé", 3, "(nothing)"), "ééé…");
        assert_eq!(excerpt("  ", 3, "(nothing)"), "(nothing)");
        assert_eq!(tail("abcdé", 2), "…dé");
        assert_eq!(tail("ab", 5), "ab");
        assert_eq!(tail("", 5), "(empty)");
    }

    #[test]
    fn truncates_by_chars_and_collapses_lines() {
        assert_eq!(truncate("héllo", 5), "héllo");
        assert_eq!(truncate("héllo world", 5), "héll…");
        assert_eq!(one_line("a\n  b\tc ", 10), "a b c");
        assert_eq!(quote("x\ny", 10), "\"x y\"");
    }
}
