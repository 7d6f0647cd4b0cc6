//! `Toolbox`: the builtin tools offered to the model in one run, with their compiled argument
//! schemas. A call is validated before it runs; an invalid call is not run and its error goes
//! back to the model so it can repair the call.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::agent::harness::support;
use crate::agent::harness::world::World;
use crate::provider::ToolSpec;

/// Every builtin tool name; the suite loader validates `tools:` against this list.
pub const BUILTIN_TOOLS: &[&str] = &[
    "lookup_order",
    "search_kb",
    "create_ticket",
    "issue_refund",
    "send_email",
    "escalate_to_human",
];

/// The tool whose successful call ends the trajectory as `escalated`.
pub const ESCALATION_TOOL: &str = "escalate_to_human";

/// The spec of one builtin tool, as offered to the model.
pub fn tool_spec(name: &str) -> Option<ToolSpec> {
    support::spec(name).map(|(description, parameters)| ToolSpec {
        name: name.to_string(),
        description: description.to_string(),
        parameters,
    })
}

/// The specs of the named builtin tools, in the order given; an unknown name is an error.
pub fn tool_specs(names: &[String]) -> Result<Vec<ToolSpec>, String> {
    names
        .iter()
        .map(|n| {
            tool_spec(n).ok_or_else(|| {
                let hint = crate::diagnostic::did_you_mean(n, BUILTIN_TOOLS.iter().copied())
                    .map(|b| format!(" (hint: did you mean `{b}`?)"))
                    .unwrap_or_default();
                format!("unknown builtin tool `{n}`{hint}")
            })
        })
        .collect()
}

pub struct Toolbox {
    specs: Vec<ToolSpec>,
    validators: BTreeMap<String, jsonschema::Validator>,
}

impl std::fmt::Debug for Toolbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Toolbox")
            .field(
                "tools",
                &self.specs.iter().map(|s| &s.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Toolbox {
    pub fn new(names: &[String]) -> Result<Toolbox, String> {
        let specs = tool_specs(names)?;
        let mut validators = BTreeMap::new();
        for spec in &specs {
            let v = jsonschema::validator_for(&spec.parameters)
                .map_err(|e| format!("schema of tool `{}`: {e}", spec.name))?;
            validators.insert(spec.name.clone(), v);
        }
        Ok(Toolbox { specs, validators })
    }

    pub fn specs(&self) -> &[ToolSpec] {
        &self.specs
    }

    /// Validates and runs a call. `Err` is what the model is told: an unknown tool, invalid
    /// arguments (the tool did not run), or the tool's own refusal.
    pub fn call(&self, world: &mut World, name: &str, args: &Value) -> Result<Value, String> {
        let Some(validator) = self.validators.get(name) else {
            let offered: Vec<&str> = self.specs.iter().map(|s| s.name.as_str()).collect();
            return Err(format!(
                "unknown tool `{name}` (available: {})",
                offered.join(", ")
            ));
        };
        let problems: Vec<String> = validator
            .iter_errors(args)
            .map(|e| {
                let at = e.instance_path().to_string();
                if at.is_empty() {
                    e.to_string()
                } else {
                    format!("{at}: {e}")
                }
            })
            .collect();
        if !problems.is_empty() {
            return Err(format!(
                "invalid arguments for `{name}`: {}",
                problems.join("; ")
            ));
        }
        support::run(world, name, args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn all() -> Vec<String> {
        BUILTIN_TOOLS.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_builtin_has_a_valid_schema() {
        let tb = Toolbox::new(&all()).unwrap();
        assert_eq!(tb.specs().len(), BUILTIN_TOOLS.len());
    }

    #[test]
    fn unknown_name_gets_a_hint() {
        let err = tool_specs(&["lookup_ordr".to_string()]).unwrap_err();
        assert!(err.contains("did you mean `lookup_order`"), "{err}");
    }

    #[test]
    fn invalid_arguments_are_rejected_before_running() {
        let tb = Toolbox::new(&all()).unwrap();
        let mut w = World::from_value(json!({"today": "2026-03-20"})).unwrap();
        let table = [
            (
                "lookup_order",
                json!({"order_id": 1042}),
                "invalid arguments",
            ),
            ("lookup_order", json!({}), "order_id"),
            (
                "issue_refund",
                json!({"order_id": "1", "amount": -1, "reason": "x"}),
                "/amount",
            ),
            (
                "create_ticket",
                json!({"subject": "s", "body": "b"}),
                "invalid arguments",
            ),
            (
                "send_email",
                json!({"to": "nobody", "subject": "s", "body": "b"}),
                "/to",
            ),
            (
                "lookup_order",
                json!({"order_id": "1", "x": 1}),
                "invalid arguments",
            ),
            ("delete_everything", json!({}), "unknown tool"),
        ];
        for (name, args, want) in table {
            let err = tb.call(&mut w, name, &args).unwrap_err();
            assert!(err.contains(want), "{name} {args}: {err}");
        }
        // Nothing ran, so nothing was written.
        assert_eq!(w.state(), &json!({"today": "2026-03-20"}));
    }
}
