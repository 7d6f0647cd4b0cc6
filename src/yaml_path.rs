//! Where a node of a YAML file is: `checks[4].weight` → line 31, column 7.
//!
//! serde_yaml gives positions only for syntax and shape errors; validation runs later, on values
//! without spans. A diagnostic about the fifth check's `weight` must point at that `weight:`, not
//! at the first `weight:` of the file, so the loaders name the node by its path and this index,
//! built from the parser's events (saphyr-parser, which keeps a span per event), finds it.
//! It is built only when there is something to report: a valid suite never pays for it.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser};

/// A path into a YAML document: `gate.min_pass_rate`, `checks[4].weight`, `cases[0]`.
/// Mapping keys are joined with `.`, sequence items are `[i]` (0-based).
pub(crate) type NodePath = str;

/// 1-based line and column of every node of one YAML document, by path.
#[derive(Debug, Default)]
pub(crate) struct NodeIndex {
    positions: HashMap<String, (usize, usize)>,
}

/// One open collection while walking the events.
enum Frame {
    Mapping {
        path: String,
        /// The key whose value comes next, or `None` when a key comes next.
        key: Option<String>,
    },
    Sequence {
        path: String,
        next: usize,
    },
}

impl NodeIndex {
    /// Indexes the first document of `source`. A syntax error ends the walk: what was indexed
    /// before it stays usable (the parse error itself has its own position).
    pub(crate) fn build(source: &str) -> Self {
        let mut positions = HashMap::new();
        let mut stack: Vec<Frame> = Vec::new();
        for item in Parser::new_from_str(source) {
            let Ok((event, span)) = item else { break };
            let at = (span.start.line(), span.start.col() + 1);
            let opens = match event {
                Event::MappingStart(..) => Some(true),
                Event::SequenceStart(..) => Some(false),
                Event::Scalar(..) | Event::Alias(..) => None,
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                    continue;
                }
                Event::DocumentEnd => break,
                _ => continue,
            };
            // The path of this node, or `None` when the node is a mapping key.
            let path = match stack.last_mut() {
                None => Some(String::new()),
                Some(Frame::Sequence { path, next }) => {
                    let p = format!("{path}[{next}]");
                    *next += 1;
                    Some(p)
                }
                Some(Frame::Mapping { path, key }) => match key.take() {
                    Some(k) => Some(join(path, &k)),
                    None => {
                        let name = match &event {
                            Event::Scalar(text, ..) => text.to_string(),
                            // A collection as a key: no user file of ours has one; its value
                            // still needs a key slot to keep the walk in step.
                            _ => "?".to_string(),
                        };
                        // A key stands for its entry: "the fifth check's weight" is the line
                        // of `weight:`.
                        positions.entry(join(path, &name)).or_insert(at);
                        *key = Some(name);
                        None
                    }
                },
            };
            match (path, opens) {
                (Some(p), Some(is_map)) => {
                    positions.entry(p.clone()).or_insert(at);
                    stack.push(if is_map {
                        Frame::Mapping { path: p, key: None }
                    } else {
                        Frame::Sequence { path: p, next: 0 }
                    });
                }
                (Some(p), None) => {
                    positions.entry(p).or_insert(at);
                }
                // A collection used as a key: walk into it under a name nothing asks for.
                (None, Some(is_map)) => stack.push(if is_map {
                    Frame::Mapping {
                        path: "?".into(),
                        key: None,
                    }
                } else {
                    Frame::Sequence {
                        path: "?".into(),
                        next: 0,
                    }
                }),
                (None, None) => {}
            }
        }
        NodeIndex { positions }
    }

    /// The position of `path` itself.
    pub(crate) fn get(&self, path: &NodePath) -> Option<(usize, usize)> {
        self.positions.get(path).copied()
    }

    /// The position of `path`, or of its nearest ancestor that exists: a field the user left
    /// out is reported at the item that lacks it.
    pub(crate) fn nearest(&self, path: &NodePath) -> Option<(usize, usize)> {
        let mut p = path;
        loop {
            if let Some(at) = self.get(p) {
                return Some(at);
            }
            let cut = p.rfind(['.', '['])?;
            p = &p[..cut];
        }
    }
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUITE: &str = "\
name: demo
checks:
  - contains: hello
    weight: 1
  - regex: 'a+'
    weight: 2
cases:
  - id: a
    input: hi
    checks: [{contains: x, weight: 3}]
gate: {min_pass_rate: 0.9}
";

    #[test]
    fn each_key_is_found_at_its_own_line_not_the_first_with_that_word() {
        let idx = NodeIndex::build(SUITE);
        assert_eq!(idx.get("checks[0].weight"), Some((4, 5)));
        assert_eq!(idx.get("checks[1].weight"), Some((6, 5)));
        assert_eq!(idx.get("checks[1]"), Some((5, 5)));
        assert_eq!(idx.get("cases[0].checks[0].weight"), Some((10, 28)));
        assert_eq!(idx.get("gate.min_pass_rate"), Some((11, 8)));
        assert_eq!(idx.get("name"), Some((1, 1)));
    }

    #[test]
    fn a_missing_field_falls_back_to_its_item() {
        let idx = NodeIndex::build(SUITE);
        assert_eq!(idx.get("cases[0].expected"), None);
        assert_eq!(idx.nearest("cases[0].expected.reference"), Some((8, 5)));
        assert_eq!(idx.nearest("nothing.here"), None);
    }

    #[test]
    fn a_syntax_error_keeps_what_came_before_it() {
        let idx = NodeIndex::build("a: 1\nb: [unclosed\nc: 3\n");
        assert_eq!(idx.get("a"), Some((1, 1)));
        assert_eq!(idx.get("c"), None);
    }

    #[test]
    fn complex_keys_and_aliases_keep_the_walk_in_step() {
        let idx = NodeIndex::build("? [x, y]\n: 1\nbase: &b {k: 1}\nuse: *b\nlast: 2\n");
        assert_eq!(idx.get("use"), Some((4, 1)));
        assert_eq!(idx.get("last"), Some((5, 1)));
        assert_eq!(idx.get("base.k"), Some((3, 11)));
    }
}
