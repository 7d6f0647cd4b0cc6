//! `load_mcp`: the harness's `mcp:` servers validated against the `tools:` entries that select
//! them (`retail.*`, `retail.cancel_order`). Pure: problems come back with the word to place
//! them at, and `suite::load` turns them into diagnostics.

use std::path::Path;
use std::sync::Arc;

use crate::agent::harness::mcp::{McpSelect, McpServer};
use crate::agent::harness::raw_harness::RawHarness;
use crate::limits::Limits;

/// A problem of the `mcp:` section: its message, the text it is about and a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct McpProblem {
    pub message: String,
    pub needle: String,
    pub hint: Option<String>,
}

/// Whether a `tools:` entry selects MCP tools (`SERVER.*` or `SERVER.TOOL`).
pub(crate) fn is_mcp_selector(name: &str) -> bool {
    name.contains('.')
}

/// The servers, each with the tools `tools:` selects of it, and the problems found.
pub(crate) fn load_mcp(
    h: &RawHarness,
    suite_dir: &Path,
    limits: &Limits,
) -> (Vec<Arc<McpServer>>, Vec<McpProblem>) {
    let mut problems = Vec::new();
    let mut selects: Vec<(&str, McpSelect)> = h
        .mcp
        .keys()
        .map(|k| (k.as_str(), McpSelect::Only(Vec::new())))
        .collect();
    for entry in h.tools.iter().filter(|t| is_mcp_selector(t)) {
        let (server, tool) = entry.split_once('.').unwrap_or((entry, ""));
        let Some((_, select)) = selects.iter_mut().find(|(s, _)| *s == server) else {
            let declared: Vec<&str> = h.mcp.keys().map(String::as_str).collect();
            problems.push(McpProblem {
                message: format!("`tools`: `{entry}` names no MCP server `{server}`"),
                needle: entry.clone(),
                hint: Some(match crate::diagnostic::did_you_mean(server, declared.iter().copied()) {
                    Some(best) => format!("did you mean `{best}.{tool}`?"),
                    None => "declare the server under `mcp:` in the harness, e.g. `mcp: {retail: {command: [python3, server.py]}}`".into(),
                }),
            });
            continue;
        };
        match (tool, &mut *select) {
            ("*", _) => *select = McpSelect::All,
            ("", _) => problems.push(McpProblem {
                message: format!("`tools`: `{entry}` names no tool"),
                needle: entry.clone(),
                hint: Some(format!("`{server}.*` offers all of its tools")),
            }),
            (_, McpSelect::All) => {}
            (t, McpSelect::Only(names)) => {
                if names.iter().any(|n| n == t) {
                    problems.push(McpProblem {
                        message: format!("tool `{entry}` is listed twice"),
                        needle: entry.clone(),
                        hint: None,
                    });
                } else {
                    names.push(t.to_string());
                }
            }
        }
    }
    let mut servers = Vec::new();
    for ((name, raw), (_, select)) in h.mcp.iter().zip(selects) {
        if select == McpSelect::Only(Vec::new()) {
            problems.push(McpProblem {
                message: format!("MCP server `{name}` offers no tool to the model"),
                needle: format!("{name}:"),
                hint: Some(format!(
                    "list `{name}.*` (or `{name}.TOOL`) in the harness's `tools`"
                )),
            });
            continue;
        }
        match McpServer::compile(name, raw, select, suite_dir, limits) {
            Ok(s) => servers.push(Arc::new(s)),
            Err(e) => problems.push(McpProblem {
                message: e.to_string(),
                needle: format!("{name}:"),
                hint: None,
            }),
        }
    }
    let with_state: Vec<&str> = servers
        .iter()
        .filter(|s| s.state_resource.is_some())
        .map(|s| s.name.as_str())
        .collect();
    if with_state.len() > 1 {
        problems.push(McpProblem {
            message: format!(
                "MCP servers {} each declare a `state`; a run has one end state",
                with_state.join(", ")
            ),
            needle: "state:".into(),
            hint: Some("keep `state` on the server that holds the world".into()),
        });
    }
    (servers, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn harness(yaml: &str) -> RawHarness {
        serde_yaml::from_str(yaml).unwrap()
    }

    fn messages(yaml: &str) -> Vec<String> {
        load_mcp(&harness(yaml), Path::new("."), &Limits::DEFAULT)
            .1
            .into_iter()
            .map(|p| p.message)
            .collect()
    }

    #[test]
    fn selectors_pick_all_or_some_tools() {
        let h = harness(
            "model: mock:x\ntools: [a.*, b.get, b.put]\nmcp: {a: {command: [x]}, b: {command: [y], state: {resource: 'state://db'}}}",
        );
        let (servers, problems) = load_mcp(&h, Path::new("."), &Limits::DEFAULT);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(servers[0].select, McpSelect::All);
        assert_eq!(
            servers[1].select,
            McpSelect::Only(vec!["get".into(), "put".into()])
        );
        assert_eq!(servers[1].state_resource.as_deref(), Some("state://db"));
    }

    #[test]
    fn mistakes_are_named() {
        let m = messages("model: mock:x\ntools: [retial.*]\nmcp: {retail: {command: [x]}}");
        assert_eq!(
            m,
            [
                "`tools`: `retial.*` names no MCP server `retial`",
                "MCP server `retail` offers no tool to the model"
            ]
        );
        let m = messages("model: mock:x\ntools: [r.a, r.a]\nmcp: {r: {command: [x]}}");
        assert_eq!(m, ["tool `r.a` is listed twice"]);
        let m = messages(
            "model: mock:x\ntools: [a.*, b.*]\nmcp: {a: {command: [x], state: {resource: s}}, b: {command: [x], state: {resource: t}}}",
        );
        assert!(m[0].contains("each declare a `state`"), "{m:?}");
    }
}
