//! `check_depth`: refuses YAML nested deeper than `max_depth` before serde_yaml sees it, in one
//! linear pass. (serde_yaml's own limit comes after a parse whose time grows with the square
//! of the depth: 100,000 levels took minutes.)
//!
//! The pass over-estimates rather than parses: block nesting is the stack of indentations
//! (each `- ` of a compact sequence opens a level too), flow nesting counts unclosed `[` and
//! `{` outside quotes and comments; block scalars (`|`, `>`) are skipped whole. A document
//! this pass lets through is then parsed for real.

/// Parses YAML `text` read from `path`, after `check_depth`: every loader's way in.
pub(crate) fn from_str<T: serde::de::DeserializeOwned>(
    path: &std::path::Path,
    text: &str,
    max_depth: u32,
) -> Result<T, crate::diagnostic::Diagnostic> {
    if let Err((line, message)) = check_depth(text, max_depth) {
        return Err(crate::diagnostic::Diagnostic::new(path, message).at(line, None));
    }
    serde_yaml::from_str(text).map_err(|e| crate::diagnostic::Diagnostic::from_yaml(path, &e))
}

/// `Err((line, message))` when some node is nested deeper than `max_depth`.
pub(crate) fn check_depth(text: &str, max_depth: u32) -> Result<(), (usize, String)> {
    let max = max_depth as usize;
    let mut indents: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    // Inside a block scalar: lines indented more than this are its text.
    let mut scalar_parent: Option<usize> = None;
    for (i, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let rest = &line[indent..];
        if let Some(parent) = scalar_parent {
            if rest.trim().is_empty() || indent > parent {
                continue;
            }
            scalar_parent = None;
        }
        if rest.trim().is_empty() || rest.starts_with('#') {
            continue;
        }
        let mut depth = 0;
        if flow == 0 {
            while indents.last().is_some_and(|&top| top > indent) {
                indents.pop();
            }
            if indents.last() != Some(&indent) {
                indents.push(indent);
            }
            depth = indents.len();
            // `- - - x`: each dash opens a sequence inside the one before.
            let mut r = rest;
            while r == "-" || r.starts_with("- ") {
                r = r[1..].trim_start_matches(' ');
                depth += 1;
            }
        }
        let (opened, block_scalar) = scan_flow(rest, &mut flow);
        if depth + opened.max(flow) > max {
            return Err((
                i + 1,
                format!("nested deeper than `run.limits.max_depth` ({max_depth}) levels"),
            ));
        }
        if block_scalar && flow == 0 {
            scalar_parent = Some(indent);
        }
    }
    Ok(())
}

/// Updates the flow depth over one line; returns the deepest flow level reached on it and
/// whether the line ends by opening a block scalar (`key: |`, `- >-`).
fn scan_flow(line: &str, flow: &mut usize) -> (usize, bool) {
    let mut deepest = *flow;
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some('"') if c == '\\' => {
                chars.next();
            }
            Some(q) if c == q => {
                // `''` inside single quotes is an escaped quote.
                if q == '\'' && chars.peek() == Some(&'\'') {
                    chars.next();
                } else {
                    quote = None;
                }
            }
            Some(_) => {}
            None => match c {
                '#' if prev == ' ' || prev == '\t' => break,
                '"' | '\'' if matches!(prev, ' ' | '[' | '{' | ',' | ':' | '-') => quote = Some(c),
                '[' | '{' => {
                    *flow += 1;
                    deepest = deepest.max(*flow);
                }
                ']' | '}' => *flow = flow.saturating_sub(1),
                _ => {}
            },
        }
        prev = c;
    }
    let trimmed = line.split(" #").next().unwrap_or("").trim_end();
    let last = trimmed.rsplit([' ', '\t']).next().unwrap_or("");
    let block_scalar = quote.is_none()
        && *flow == 0
        && (last.starts_with('|') || last.starts_with('>'))
        && last[1..]
            .chars()
            .all(|c| matches!(c, '-' | '+') || c.is_ascii_digit());
    (deepest, block_scalar)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_ok(text: &str, max: u32) -> bool {
        check_depth(text, max).is_ok()
    }

    #[test]
    fn ordinary_documents_pass() {
        let suite = "name: s\ntarget:\n  harness:\n    model: mock:x\n    tools: [a, b]\n\
                     checks:\n  - contains: \"[unclosed\"\n  - judge: tone\nprompt: |\n  range [0, 1)\n  {{ x }} {\n  still text\nafter: {a: [1, {b: 2}]}\n";
        assert!(depth_ok(suite, 6), "{:?}", check_depth(suite, 6));
    }

    #[test]
    fn deep_flow_block_and_dash_nesting_are_refused_fast() {
        let flow = "[".repeat(100_000) + &"]".repeat(100_000);
        let started = std::time::Instant::now();
        let (line, msg) = check_depth(&flow, 128).unwrap_err();
        assert_eq!(line, 1);
        assert!(msg.contains("max_depth"), "{msg}");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        let dashes = "- ".repeat(200) + "x";
        assert!(!depth_ok(&dashes, 128));
        let block: String = (0..200).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        assert_eq!(check_depth(&block, 128).unwrap_err().0, 129);
        assert!(depth_ok(&block, 200));
    }

    #[test]
    fn brackets_in_quotes_comments_and_block_scalars_do_not_count() {
        let text = "a: \"[[[[\"\nb: '{{{{'\nc: x # [[[[\nd: |\n  [[[[[[\n  {{{{\ne: 1\n";
        assert!(depth_ok(text, 2), "{:?}", check_depth(text, 2));
    }
}
