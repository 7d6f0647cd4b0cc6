//! `CheckSpec`: a validated check, ready to evaluate. Built from a `RawCheck` by
//! `check::parse::from_raw`; each family owns the shape of its kinds (`check::family::*`).

use serde_json::Value;

use crate::check::family::{
    agents::AgentCheck, command::CommandCheck, end_state::EndStateCheck, expr::ExprCheck,
    json::JsonCheck, judge::JudgeCheck, limits::LimitCheck, text::TextCheck, tools::ToolCheck,
    trajectory::TrajectoryCheck,
};
use crate::check::registry::Family;
use crate::verdict::Severity;

#[derive(Debug, Clone)]
pub struct CheckSpec {
    pub check: Check,
    /// Display name: the user's `name`, else derived from the kind and its argument.
    pub name: String,
    pub severity: Severity,
    /// Weight in the case score (default 1; 0 = informational).
    pub weight: f64,
}

// Checks hold compiled regexes and schemas, which cannot be compared; cases compare by their
// other fields in tests, so equality of checks is by display name and kind.
impl PartialEq for CheckSpec {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.severity == other.severity && self.weight == other.weight
    }
}

/// A value given inline, or a reference into the case such as `expected.tools`, resolved per case.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueRef {
    Inline(Value),
    Case(String),
}

/// A validated check: one variant per family (see `check::registry::Family`).
#[derive(Debug, Clone)]
pub enum Check {
    Text(TextCheck),
    Json(JsonCheck),
    Tools(ToolCheck),
    Trajectory(TrajectoryCheck),
    Agents(AgentCheck),
    EndState(EndStateCheck),
    Limits(LimitCheck),
    Judge(JudgeCheck),
    Expr(ExprCheck),
    Command(CommandCheck),
}

impl Check {
    pub fn family(&self) -> Family {
        match self {
            Check::Text(_) => Family::Text,
            Check::Json(_) => Family::Json,
            Check::Tools(_) => Family::Tools,
            Check::Trajectory(_) => Family::Trajectory,
            Check::Agents(_) => Family::Agents,
            Check::EndState(_) => Family::EndState,
            Check::Limits(_) => Family::Limits,
            Check::Judge(_) => Family::Judge,
            Check::Expr(_) => Family::Expr,
            Check::Command(_) => Family::Command,
        }
    }

    /// See [`Family::is_deterministic`].
    pub fn is_deterministic(&self) -> bool {
        self.family().is_deterministic()
    }
}
