//! `system_prompt_context`: what the harness's system prompt template sees of a case.

use serde_json::Value;

use crate::agent::case_input::CaseInput;
use crate::template::Template;

/// What the system prompt `template` sees: `case` and `vars`, each built only when the template
/// reads it (a prompt that reads only `vars` costs no `case` JSON per case). Shared with the
/// harness so that load-time checking renders exactly what a run renders.
pub fn system_prompt_context(case: &dyn CaseInput, template: &Template) -> Value {
    let wanted = |name: &str| template.reads(name);
    let mut ctx = serde_json::Map::new();
    if wanted("case") {
        ctx.insert("case".into(), case.template_value());
    }
    if wanted("vars") {
        ctx.insert(
            "vars".into(),
            serde_json::to_value(case.vars()).unwrap_or(Value::Null),
        );
    }
    Value::Object(ctx)
}
