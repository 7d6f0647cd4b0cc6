//! `expr` checks: a minijinja expression over `case`, `output`, `trajectory` and `state` that
//! must be true, e.g. `trajectory.steps | selectattr("type", "eq", "tool") | list | length <= 3`.

use serde_json::{json, Value};

use crate::suite::Case;
use crate::template::environment;
use crate::trajectory::Trajectory;

/// The variables an expression sees.
pub const EXPR_VARS: [&str; 4] = ["case", "output", "trajectory", "state"];

/// Compiles `source` and rejects variables it will not be given (so a typo fails at load).
pub fn compile_check(source: &str) -> Result<(), String> {
    if source.trim().is_empty() {
        return Err("the expression is empty".into());
    }
    let env = environment();
    let expr = env
        .compile_expression(source)
        .map_err(|e| crate::template::TemplateError::from(e).message)?;
    let mut unknown: Vec<String> = expr
        .undeclared_variables(false)
        .into_iter()
        .filter(|v| !EXPR_VARS.contains(&v.as_str()))
        .collect();
    unknown.sort();
    match unknown.first() {
        None => Ok(()),
        Some(v) => Err(format!(
            "unknown variable `{v}` (expected one of: {})",
            EXPR_VARS.join(", ")
        )),
    }
}

/// What an expression (and a `command` check) sees: the case, the final output, the trajectory
/// and the tool world's end state (null when the target reports none).
pub fn check_context(case: &Case, t: &Trajectory) -> Value {
    json!({
        "case": case.to_value(),
        "output": t.output,
        "trajectory": serde_json::to_value(t).unwrap_or(Value::Null),
        "state": t.state.as_deref().unwrap_or(&Value::Null),
    })
}

/// Evaluates the expression's truth; an evaluation error (undefined attribute, bad filter) is
/// returned as its message.
pub fn evaluate_expr(source: &str, case: &Case, t: &Trajectory) -> Result<bool, String> {
    let env = environment();
    let expr = env
        .compile_expression(source)
        .map_err(|e| crate::template::TemplateError::from(e).message)?;
    let value = expr
        .eval(check_context(case, t))
        .map_err(|e| crate::template::TemplateError::from(e).message)?;
    Ok(value.is_true())
}

#[cfg(test)]
mod tests {
    use super::*;
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
                    latency_ms: 0,
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
        ];
        for (src, want) in table {
            assert_eq!(compile_check(src), Ok(()), "{src}");
            assert_eq!(evaluate_expr(src, &case(), &t), want, "{src}");
        }
        assert!(evaluate_expr("state.nope.deeper", &case(), &t).is_err());
    }

    #[test]
    fn load_time_errors() {
        assert!(compile_check("output ==").is_err());
        assert!(compile_check("").is_err());
        let e = compile_check("outptu == 'x'").unwrap_err();
        assert!(e.contains("unknown variable `outptu`"), "{e}");
    }
}
