//! `Target`: the agent under test, one of the `TargetKind`s; `run_case` runs one case against
//! it and returns its trajectory. Adding a target is a variant here (kind, label, dispatch), its
//! file in `agent/`, and its `target:` key in `suite::raw`.

use std::sync::Arc;

use crate::agent::case_input::CaseInput;
use crate::agent::command::CommandTarget;
use crate::agent::harness::agent_loop::run_harness;
use crate::agent::harness::config::HarnessConfig;
use crate::agent::http::HttpTarget;
use crate::agent::replay::ReplayTarget;
use crate::provider::registry::Providers;
use crate::trajectory::Trajectory;

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
    pub const ALL: [TargetKind; 4] = [
        TargetKind::Harness,
        TargetKind::Command,
        TargetKind::Http,
        TargetKind::Replay,
    ];

    /// The key under `target:` in a suite.
    pub fn name(self) -> &'static str {
        match self {
            TargetKind::Harness => "harness",
            TargetKind::Command => "command",
            TargetKind::Http => "http",
            TargetKind::Replay => "replay",
        }
    }
}

impl Target {
    pub fn kind(&self) -> TargetKind {
        match self {
            Target::Harness(_) => TargetKind::Harness,
            Target::Command(_) => TargetKind::Command,
            Target::Http(_) => TargetKind::Http,
            Target::Replay(_) => TargetKind::Replay,
        }
    }

    /// How the target reads in reports and the terminal: `harness mock:support`.
    pub fn label(&self) -> String {
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
pub async fn run_case(
    target: &Target,
    case: &impl CaseInput,
    repeat: u32,
    providers: &Providers,
) -> Trajectory {
    let case: &dyn CaseInput = case;
    match target {
        Target::Harness(config) => run_harness(config, case, providers).await,
        Target::Command(command) => command.run(case, repeat).await,
        Target::Http(http) => http.run(case, repeat).await,
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
