//! `Target`: the agent under test, one of the `TargetKind`s; `run_case` runs one case against
//! it and returns its trajectory; `RawTarget` is `target:` as written. Adding a target is a
//! variant here (raw key, kind, label, dispatch) and its file in `agent/` (raw shape, its
//! validation, running a case).

use std::sync::Arc;

use serde::Deserialize;

use crate::agent::case_input::CaseInput;
use crate::agent::command::{CommandTarget, RawCommand};
use crate::agent::harness::agent_loop::run_harness;
use crate::agent::harness::config::HarnessConfig;
use crate::agent::harness::raw_harness::RawHarness;
use crate::agent::http::{HttpTarget, RawHttp};
use crate::agent::replay::{RawReplay, ReplayTarget};
use crate::agent::target_load::TargetLoad;
use crate::agent::{command, http, replay};
use crate::provider::registry::Providers;
use crate::trajectory::Trajectory;

/// Exactly one of the target kinds. (An enum would read better, but serde's error for a wrong
/// externally-tagged enum does not list the variants; this struct does.)
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    #[serde(default)]
    pub harness: Option<RawHarness>,
    #[serde(default)]
    pub command: Option<RawCommand>,
    #[serde(default)]
    pub http: Option<RawHttp>,
    #[serde(default)]
    pub replay: Option<RawReplay>,
}

impl RawTarget {
    /// The kinds written under `target:` (a valid suite has exactly one).
    pub fn kinds(&self) -> Vec<TargetKind> {
        TargetKind::ALL
            .into_iter()
            .filter(|kind| match kind {
                TargetKind::Harness => self.harness.is_some(),
                TargetKind::Command => self.command.is_some(),
                TargetKind::Http => self.http.is_some(),
                TargetKind::Replay => self.replay.is_some(),
            })
            .collect()
    }
}

/// Validates the one kind written under `target:` (the harness aside: the suite loader checks
/// it against the rest of the suite — tools, world, system prompt — and builds it itself).
pub(crate) fn load(raw: &RawTarget, kind: TargetKind, cx: &mut TargetLoad) -> Option<Target> {
    match kind {
        TargetKind::Harness => None,
        TargetKind::Command => raw.command.as_ref().and_then(|c| command::load(c, cx)),
        TargetKind::Http => raw.http.as_ref().and_then(|h| http::load(h, cx)),
        TargetKind::Replay => raw.replay.as_ref().and_then(|r| replay::load(r, cx)),
    }
}

#[derive(Debug, Clone)]
pub enum Target {
    Harness(Arc<HarnessConfig>),
    /// The user's agent as a process speaking JSON on stdin/stdout.
    Command(Arc<CommandTarget>),
    /// The user's agent behind an HTTP endpoint.
    Http(Arc<HttpTarget>),
    /// Trajectories recorded by an earlier run.
    Replay(Arc<ReplayTarget>),
}

/// The kinds of target, in the order a suite's `target:` documents them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TargetKind {
    Harness,
    Command,
    Http,
    Replay,
}

impl TargetKind {
    pub(crate) const ALL: [TargetKind; 4] = [
        TargetKind::Harness,
        TargetKind::Command,
        TargetKind::Http,
        TargetKind::Replay,
    ];

    /// The key under `target:` in a suite.
    pub(crate) fn name(self) -> &'static str {
        match self {
            TargetKind::Harness => "harness",
            TargetKind::Command => "command",
            TargetKind::Http => "http",
            TargetKind::Replay => "replay",
        }
    }
}

impl Target {
    pub(crate) fn kind(&self) -> TargetKind {
        match self {
            Target::Harness(_) => TargetKind::Harness,
            Target::Command(_) => TargetKind::Command,
            Target::Http(_) => TargetKind::Http,
            Target::Replay(_) => TargetKind::Replay,
        }
    }

    /// How the target reads in reports and the terminal: `harness mock:support`.
    pub(crate) fn label(&self) -> String {
        let kind = self.kind().name();
        match self {
            Target::Harness(h) => format!("{kind} {}", h.model),
            // As written, not resolved: the label must not depend on the machine.
            Target::Command(c) => format!("{kind} {}", c.argv.join(" ")),
            Target::Http(h) => format!("{kind} {}", h.url),
            // The target that recorded the trajectories, so a replay reproduces its report.
            Target::Replay(r) => r.label.clone(),
        }
    }
}

impl Target {
    /// The model that plays simulated users on an external target (the turn protocol).
    pub(crate) fn user_model(&self) -> Option<&crate::provider::types::ModelId> {
        match self {
            Target::Command(c) => c.user_model.as_ref(),
            Target::Http(h) => h.user_model.as_ref(),
            Target::Harness(_) | Target::Replay(_) => None,
        }
    }

    /// Spans the target's OTLP receiver got that belonged to no run (0 when untraced).
    pub fn unattributed_spans(&self) -> u64 {
        match self {
            Target::Command(c) => c.traced.unattributed(),
            Target::Http(h) => h.traced.unattributed(),
            Target::Harness(_) | Target::Replay(_) => 0,
        }
    }
}

/// Never fails: an agent that cannot run yields a trajectory that ended in `error`.
/// `repeat` is which repeat of the case this run is (0-based).
pub(crate) async fn run_case(
    target: &Target,
    case: &impl CaseInput,
    repeat: u32,
    providers: &Providers,
) -> Trajectory {
    let case: &dyn CaseInput = case;
    match target {
        Target::Harness(config) => run_harness(config, case, repeat, providers).await,
        Target::Command(command) => command.run(case, repeat, providers).await,
        Target::Http(http) => http.run(case, repeat, providers).await,
        Target::Replay(replay) => replay.run(case),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_name_their_suite_key() {
        let names: Vec<&str> = TargetKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(names, ["harness", "command", "http", "replay"]);
    }
}
