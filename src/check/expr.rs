//! `expr` checks: a minijinja expression over `case`, `output`, `trajectory` and `state` that
//! must be true, e.g. `trajectory.steps | selectattr("type", "eq", "tool") | list | length <= 3`.
//! In a multi-agent run `agents` maps each agent to its own work (`trajectory_tree::AgentUsage`):
//! `agents.billing.tools`, `agents.kb.tokens`, `agents.triage.runs`.

use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock};

use minijinja::{Environment, Expression};
use serde_json::{json, Value};

use crate::check::case::CaseFacts;
use crate::template::{environment, TemplateError};
use crate::trajectory::Trajectory;
use crate::trajectory_tree::usage_by_agent;

/// The variables an expression sees.
pub(crate) const EXPR_VARS: [&str; 5] = ["case", "output", "trajectory", "state", "agents"];

/// The one environment every expression is compiled in: compiled expressions borrow it.
static ENV: LazyLock<Environment<'static>> = LazyLock::new(environment);

/// An `expr` check's expression, compiled once at load and evaluated per trajectory.
#[derive(Clone)]
pub struct CompiledExpr {
    source: String,
    expr: Arc<Expression<'static, 'static>>,
    /// Of [`EXPR_VARS`], those the expression names: only they are built per evaluation.
    reads: Arc<BTreeSet<String>>,
    /// `run.limits.max_render_memory` when it was compiled.
    memory_limit: u64,
}

impl std::fmt::Debug for CompiledExpr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("CompiledExpr").field(&self.source).finish()
    }
}

/// Why an expression does not compile, or fails while it is evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExprError {
    #[error("the expression is empty")]
    Empty,
    /// minijinja's message: a syntax error at load, an undefined attribute or a bad filter
    /// when evaluated.
    #[error("{0}")]
    Template(String),
    #[error("unknown variable `{name}` (expected one of: {})", EXPR_VARS.join(", "))]
    UnknownVariable { name: String },
}

impl From<minijinja::Error> for ExprError {
    fn from(e: minijinja::Error) -> Self {
        ExprError::Template(TemplateError::from(e).message)
    }
}

/// Compiles `source` and rejects variables it will not be given (so a typo fails at load).
pub(crate) fn compile_check(source: &str) -> Result<CompiledExpr, ExprError> {
    if source.trim().is_empty() {
        return Err(ExprError::Empty);
    }
    let expr = ENV.compile_expression_owned(source.to_string())?;
    let reads: BTreeSet<String> = expr.undeclared_variables(false).into_iter().collect();
    match reads.iter().find(|v| !EXPR_VARS.contains(&v.as_str())) {
        None => Ok(CompiledExpr {
            source: source.to_string(),
            expr: Arc::new(expr),
            reads: Arc::new(reads),
            memory_limit: crate::template::memory_limit(),
        }),
        Some(v) => Err(ExprError::UnknownVariable { name: v.clone() }),
    }
}

/// What an expression (and a `command` check) sees: the case, the final output, the trajectory
/// and the tool world's end state (null when the target reports none).
pub(crate) fn check_context(case: &dyn CaseFacts, t: &Trajectory) -> Value {
    json!({
        "case": case.to_value(),
        "output": t.output,
        "trajectory": serde_json::to_value(t).unwrap_or(Value::Null),
        "state": t.state.as_deref().unwrap_or(&Value::Null),
        "agents": agents_value(t),
    })
}

/// Each agent's own work by name (empty for a single-agent run).
fn agents_value(t: &Trajectory) -> Value {
    serde_json::to_value(usage_by_agent(t)).unwrap_or(Value::Null)
}

impl CompiledExpr {
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates the expression's truth; an evaluation error (undefined attribute, bad
    /// filter) is returned as its message. The values are those of [`check_context`], built
    /// only for the variables the expression names.
    pub fn eval(&self, case: &dyn CaseFacts, t: &Trajectory) -> Result<bool, ExprError> {
        use minijinja::Value as V;
        let mut ctx: Vec<(&str, V)> = Vec::with_capacity(self.reads.len());
        for name in self.reads.iter() {
            let value = match name.as_str() {
                "case" => V::from_serialize(case.to_value()),
                "output" => V::from(t.output.as_str()),
                "trajectory" => V::from_serialize(serde_json::to_value(t).unwrap_or(Value::Null)),
                "state" => V::from_serialize(t.state.as_deref().unwrap_or(&Value::Null)),
                "agents" => V::from_serialize(agents_value(t)),
                _ => continue,
            };
            ctx.push((name.as_str(), value));
        }
        let value = crate::render_memory::within(self.memory_limit, &self.source, || {
            self.expr.eval(V::from_iter(ctx))
        })?;
        Ok(value.is_true())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::model::Case;
    use crate::trajectory::Step;

    fn case() -> Case {
        Case {
            tags: vec!["vip".into()],
            source: "x".into(),
            ..Case::new("c", "hi")
        }
    }

    #[test]
    fn expressions_table() {
        let t = Trajectory {
            output: "Refunded 30.00".into(),
            steps: vec![
                Step::Tool {
                    id: String::new(),
                    name: "issue_refund".into(),
                    args: json!({"amount": 30}),
                    result: None,
                    error: None,
                    latency_ms: Some(0),
                    agent: None,
                    started_at: None,
                    metadata: Default::default(),
                },
                Step::Escalation { reason: "x".into() },
            ],
            state: Some(json!({"orders": {"1042": {"status": "refunded"}}}).into()),
            ..Default::default()
        };
        let table = [
            ("'30.00' in output", Ok(true)),
            ("state.orders['1042'].status == 'refunded'", Ok(true)),
            ("'vip' in case.tags and output | length < 20", Ok(true)),
            (
                "trajectory.steps | selectattr('type', 'eq', 'tool') | list | length == 2",
                Ok(false),
            ),
            ("trajectory.steps[0].args.amount <= 30", Ok(true)),
            ("agents | length == 0", Ok(true)),
        ];
        for (src, want) in table {
            let expr = compile_check(src).unwrap_or_else(|e| panic!("{src}: {e}"));
            assert_eq!(expr.eval(&case(), &t), want, "{src}");
        }
        let deeper = compile_check("state.nope.deeper").unwrap();
        assert!(deeper.eval(&case(), &t).is_err());
    }

    #[test]
    fn agents_sees_the_tree() {
        let t: Trajectory = serde_json::from_value(json!({"steps": [
            {"type": "agent", "name": "triage", "steps": [
                {"type": "model", "usage": {"input_tokens": 7, "output_tokens": 3}},
                {"type": "agent", "name": "billing", "steps": [
                    {"type": "tool", "name": "issue_refund", "args": {}}]}]}]}))
        .unwrap();
        for src in [
            "'issue_refund' in agents.billing.tools",
            "'issue_refund' not in agents.triage.tools",
            "agents.triage.tokens == 10 and agents.billing.runs == 1",
            "trajectory.steps[0].steps[1].name == 'billing'",
        ] {
            let expr = compile_check(src).unwrap_or_else(|e| panic!("{src}: {e}"));
            assert_eq!(expr.eval(&case(), &t), Ok(true), "{src}");
        }
    }

    #[test]
    fn load_time_errors() {
        assert!(compile_check("output ==").is_err());
        assert!(compile_check("").is_err());
        let e = compile_check("outptu == 'x'").unwrap_err().to_string();
        assert!(e.contains("unknown variable `outptu`"), "{e}");
    }
}
