//! `block_list_items`: where each item of a top-level block list (`checks:`) lies in a YAML
//! file. serde_yaml gives no positions for values that deserialized fine, so a problem found
//! later in the fifth check would otherwise be placed at the first matching word of the file.

use std::ops::Range;

/// The byte range of each item of the block list under the top-level `key`, each range starting
/// at the beginning of a line. Empty when the key is missing or its value is not a block list
/// (a flow list `[...]` on one line, say): the caller then searches the whole file.
pub(crate) fn block_list_items(source: &str, key: &str) -> Vec<Range<usize>> {
    let mut lines = Vec::new();
    let mut offset = 0;
    for line in source.split_inclusive('\n') {
        lines.push((offset, line));
        offset += line.len();
    }
    let is_key = |line: &str| {
        line.strip_prefix(key)
            .and_then(|rest| rest.strip_prefix(':'))
            .is_some_and(|rest| {
                let rest = rest.trim();
                rest.is_empty() || rest.starts_with('#')
            })
    };
    let Some(start) = lines.iter().position(|(_, l)| is_key(l)) else {
        return Vec::new();
    };
    let blank = |l: &str| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#')
    };
    let indent = |l: &str| l.len() - l.trim_start_matches(' ').len();
    let mut items: Vec<Range<usize>> = Vec::new();
    let mut item_indent = None;
    let mut end = source.len();
    for (at, line) in &lines[start + 1..] {
        if blank(line) {
            continue;
        }
        let (n, dash) = (indent(line), line.trim_start().starts_with('-'));
        let level = *item_indent.get_or_insert(n);
        if n < level || (n == level && !dash) {
            end = *at;
            break;
        }
        if n == level {
            if let Some(last) = items.last_mut() {
                last.end = *at;
            }
            items.push(*at..source.len());
        }
    }
    if let Some(last) = items.last_mut() {
        last.end = end;
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_of_a_block_list_under_a_top_level_key() {
        let src = "name: s\nchecks:\n  - contains: a\n    weight: 2\n\n  # a comment\n  - max_steps: 3\ngate:\n  min_pass_rate: 1\n";
        let items: Vec<&str> = block_list_items(src, "checks")
            .into_iter()
            .map(|r| &src[r])
            .collect();
        assert_eq!(
            items,
            [
                "  - contains: a\n    weight: 2\n\n  # a comment\n",
                "  - max_steps: 3\n"
            ]
        );
        // A list at the key's own indentation, and the last item running to the end.
        let src = "checks:\n- regex: x\n- expr: y";
        let items: Vec<&str> = block_list_items(src, "checks")
            .into_iter()
            .map(|r| &src[r])
            .collect();
        assert_eq!(items, ["- regex: x\n", "- expr: y"]);
    }

    #[test]
    fn no_items_for_flow_lists_nested_or_missing_keys() {
        assert!(block_list_items("checks: [{regex: x}]\n", "checks").is_empty());
        assert!(block_list_items("run:\n  checks:\n    - regex: x\n", "checks").is_empty());
        assert!(block_list_items("name: s\n", "checks").is_empty());
        assert!(block_list_items("checkers:\n  - a\n", "checks").is_empty());
    }
}
