//! The top-level modules of `src/` depend on each other one way only (docs/architecture.md).
//!
//! An edge `a -> b` is any `crate::b` path in a file of module `a` (`src/a.rs` or `src/a/`),
//! outside comments and `#[cfg(test)]` modules; `*_tests.rs` files are test code. A cycle is a
//! strongly connected group of more than one module. The test prints every edge of a cycle so
//! the one to cut can be seen.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::support::root;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The module a file under `src/` belongs to, or `None` for the crate roots.
fn top_module(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    match first.strip_suffix(".rs") {
        Some("lib" | "main") => None,
        Some(stem) => Some(stem.to_string()),
        None => Some(first.to_string()),
    }
}

/// The text with line comments and `#[cfg(test)] mod … { … }` blocks removed.
fn production_code(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "#[cfg(test)]".len()..];
        let head = after.trim_start();
        let is_mod = head.starts_with("mod ") || head.starts_with("pub(crate) mod ");
        match (is_mod, after.find('{'), after.find(';')) {
            (true, Some(open), semi) if semi.is_none_or(|s| s > open) => {
                let mut depth = 0usize;
                let mut end = after.len();
                for (i, c) in after[open..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = open + i + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                rest = &after[end..];
            }
            _ => rest = after,
        }
    }
    out.push_str(rest);
    out.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every module named after `crate::` in `code`, including grouped `crate::{a, b::c}`.
fn referenced(code: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let after = &code[at + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let inner = group.split('}').next().unwrap_or("");
            for part in inner.split(',') {
                found.insert(ident(part.trim()));
            }
        } else {
            found.insert(ident(after));
        }
    }
    found
}

fn graph(src: &Path) -> Graph {
    let mut modules = BTreeSet::new();
    for entry in std::fs::read_dir(src).expect("src/ is readable") {
        let entry = entry.expect("a directory entry");
        if let Some(m) = top_module(Path::new(&entry.file_name())) {
            modules.insert(m);
        }
    }
    let mut graph: Graph = modules
        .iter()
        .map(|m| (m.clone(), BTreeSet::new()))
        .collect();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("a readable folder") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !name.ends_with(".rs") || name.ends_with("_tests.rs") || name == "tests.rs" {
                continue;
            }
            let rel = path.strip_prefix(src).expect("under src/");
            let Some(from) = top_module(rel) else {
                continue;
            };
            let text = std::fs::read_to_string(&path).expect("a readable source file");
            for to in referenced(&production_code(&text)) {
                if to != from && modules.contains(&to) {
                    graph.get_mut(&from).expect("a module").insert(to);
                }
            }
        }
    }
    graph
}

/// Strongly connected groups of more than one module (Tarjan's algorithm; recursion is fine
/// at a few dozen modules).
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    struct State<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        groups: Vec<Vec<String>>,
    }
    fn visit<'g>(s: &mut State<'g>, v: &'g str) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        for w in &s.graph[v] {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if s.stack.contains(&w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut group = Vec::new();
            while let Some(w) = s.stack.pop() {
                group.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if group.len() > 1 {
                group.sort();
                s.groups.push(group);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        groups: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.groups
}

#[test]
fn top_level_modules_form_no_cycle() {
    let g = graph(&root().join("src"));
    assert!(
        g.len() > 10,
        "the modules of src/ were found: {:?}",
        g.keys()
    );
    let groups = cycles(&g);
    let report: Vec<String> = groups
        .iter()
        .map(|group| {
            let edges: Vec<String> = group
                .iter()
                .flat_map(|a| {
                    g[a].iter()
                        .filter(|b| group.contains(b))
                        .map(move |b| format!("{a} -> {b}"))
                })
                .collect();
            format!("cycle {{{}}}: {}", group.join(", "), edges.join("; "))
        })
        .collect();
    assert!(groups.is_empty(), "module cycles:\n{}", report.join("\n"));
}

#[test]
fn the_cycle_finder_finds_a_planted_cycle_and_ignores_test_code() {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path();
    std::fs::create_dir(src.join("a")).expect("mkdir");
    std::fs::write(src.join("lib.rs"), "pub mod a; pub mod b; pub mod c;").expect("write");
    std::fs::write(src.join("a/x.rs"), "use crate::b::Thing;\n").expect("write");
    std::fs::write(src.join("b.rs"), "use crate::{c::More, a};\n").expect("write");
    std::fs::write(
        src.join("c.rs"),
        "// use crate::a is only a comment\n#[cfg(test)]\nmod tests {\n    use crate::a::X;\n}\n",
    )
    .expect("write");
    let g = graph(src);
    assert_eq!(cycles(&g), vec![vec!["a".to_string(), "b".to_string()]]);
    assert!(
        g["c"].is_empty(),
        "comments and test modules are not edges: {g:?}"
    );
    std::fs::write(src.join("c.rs"), "fn f() { crate::a::go() }\n").expect("write");
    assert_eq!(
        cycles(&graph(src)),
        vec![vec!["a".to_string(), "b".to_string(), "c".to_string()]]
    );
}
