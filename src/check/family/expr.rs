//! `expr` checks: a minijinja expression over `case`, `output`, `trajectory`, `state` that must
//! be true: shape, validation and evaluation. Compiling and evaluating is `check::expr`.

use serde_json::Value;

use crate::check::case::CaseFacts;
use crate::check::eval::{error, fail, pass, Judged, EXCERPT};
use crate::check::expr::{compile_check, CompiledExpr};
use crate::check::parse::{CheckEnv, CheckError};
use crate::check::registry::{Kind, Shape};
use crate::text::{one_line, quote};
use crate::trajectory::Trajectory;

pub(crate) const KINDS: &[Kind] = &[Kind {
    name: "expr",
    shape: Shape::String,
}];

/// A minijinja expression that must be true (compiled and checked at load).
#[derive(Debug, Clone)]
pub struct ExprCheck {
    pub expr: CompiledExpr,
}

/// Compiles the expression and checks that it names only the variables it will be given.
pub(crate) fn parse(
    _kind: &str,
    v: &Value,
    _env: &CheckEnv,
    errs: &mut Vec<CheckError>,
) -> Option<(ExprCheck, String)> {
    let source = v.as_str().unwrap_or_default();
    match compile_check(source) {
        Ok(expr) => Some((ExprCheck { expr }, format!("expr {}", quote(source, 50)))),
        Err(e) => {
            errs.push(
                CheckError::new(format!("invalid `expr` {}: {e}", quote(source, 50)))
                    .hint("an expression over `case`, `output`, `trajectory`, `state`, `agents`")
                    .needle("expr"),
            );
            None
        }
    }
}

pub(crate) fn evaluate(check: &ExprCheck, case: &dyn CaseFacts, t: &Trajectory) -> Judged {
    let expr = &check.expr;
    match expr.eval(case, t) {
        Ok(true) => pass(format!("{} is true", quote(expr.source(), EXCERPT))),
        Ok(false) => fail(format!("{} is false", quote(expr.source(), EXCERPT))),
        Err(e) => error(format!(
            "{} failed: {}",
            quote(expr.source(), EXCERPT),
            one_line(&e.to_string(), 160)
        )),
    }
}
