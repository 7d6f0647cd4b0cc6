//! `Family`: the registry of check kinds. Each family file (`check::family::*`) lists the kinds
//! it owns in its `KINDS`; every list of kinds — the keys serde accepts in a check, "a check needs
//! one of", the order of "a check has both" — is read from here, so no list's order has to follow
//! another's, and a new kind is added in its family file alone.

use std::sync::LazyLock;

use crate::check::family::{
    agents, command, end_state, expr, json, judge, limits, text, tools, trajectory,
};

/// A group of check kinds that share their user-facing shape, validation and evaluation.
/// The order is the order kinds are listed in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    Text,
    Json,
    Tools,
    Trajectory,
    Agents,
    EndState,
    Limits,
    Judge,
    Expr,
    Command,
}

/// What serde reads a kind's value as. A kind that takes one scalar is read typed, so a wrong
/// type gets serde's own located message ("invalid type: string \"x\", expected u64").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Any YAML/JSON value; the family parses shorthands itself.
    Any,
    /// A whole-number bound, or `{max, agent}`: the bound on one agent's own calls.
    U64OrAgent,
    /// A number bound, or `{max, agent}`.
    F64OrAgent,
    Bool,
    U64,
    F64,
    String,
}

/// One check kind: the key a user writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub name: &'static str,
    pub shape: Shape,
}

impl Family {
    pub const ALL: [Family; 10] = [
        Family::Text,
        Family::Json,
        Family::Tools,
        Family::Trajectory,
        Family::Agents,
        Family::EndState,
        Family::Limits,
        Family::Judge,
        Family::Expr,
        Family::Command,
    ];

    /// The kinds of this family, in the order they are listed.
    pub fn kinds(self) -> &'static [Kind] {
        match self {
            Family::Text => text::KINDS,
            Family::Json => json::KINDS,
            Family::Tools => tools::KINDS,
            Family::Trajectory => trajectory::KINDS,
            Family::Agents => agents::KINDS,
            Family::EndState => end_state::KINDS,
            Family::Limits => limits::KINDS,
            Family::Judge => judge::KINDS,
            Family::Expr => expr::KINDS,
            Family::Command => command::KINDS,
        }
    }

    /// Whether the family's verdicts are pure functions of the case and the trajectory: no
    /// model, no process. Only deterministic checks may be scored in batches on rayon.
    pub fn is_deterministic(self) -> bool {
        !matches!(self, Family::Judge | Family::Command)
    }
}

/// A kind as found in the registry: its family and its position among all kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registered {
    pub family: Family,
    pub kind: &'static Kind,
    /// Position among all kinds: the order kinds are listed in messages.
    pub order: usize,
}

static ALL_KINDS: LazyLock<Vec<Registered>> = LazyLock::new(|| {
    Family::ALL
        .iter()
        .flat_map(|f| f.kinds().iter().map(move |k| (*f, k)))
        .enumerate()
        .map(|(order, (family, kind))| Registered {
            family,
            kind,
            order,
        })
        .collect()
});

static KIND_NAMES: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| ALL_KINDS.iter().map(|r| r.kind.name).collect());

/// Every kind's name, in listing order.
pub(crate) fn kind_names() -> &'static [&'static str] {
    &KIND_NAMES
}

/// The registered kind named `name`.
pub(crate) fn lookup(name: &str) -> Option<Registered> {
    ALL_KINDS.iter().find(|r| r.kind.name == name).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_are_unique_and_each_maps_back_to_its_family() {
        let names = kind_names();
        let mut sorted = names.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(
            sorted.len(),
            names.len(),
            "a kind is listed twice: {names:?}"
        );
        for family in Family::ALL {
            for kind in family.kinds() {
                assert_eq!(lookup(kind.name).map(|r| r.family), Some(family));
            }
        }
        assert_eq!(lookup("nope"), None);
    }

    #[test]
    fn only_judge_and_command_need_io() {
        let io: Vec<Family> = Family::ALL
            .into_iter()
            .filter(|f| !f.is_deterministic())
            .collect();
        assert_eq!(io, [Family::Judge, Family::Command]);
    }
}
