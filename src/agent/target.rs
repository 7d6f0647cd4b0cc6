//! `run_case`: runs one case against the suite's target and returns its trajectory.

use crate::agent::harness::agent_loop::run_harness;
use crate::provider::registry::Providers;
use crate::suite::{Case, Target};
use crate::trajectory::Trajectory;

/// Never fails: an agent that cannot run yields a trajectory that ended in `error`.
/// `repeat` is which repeat of the case this run is (0-based).
pub async fn run_case(
    target: &Target,
    case: &Case,
    repeat: u32,
    providers: &Providers,
) -> Trajectory {
    match target {
        Target::Harness(config) => run_harness(config, case, providers).await,
        Target::Command(command) => command.run(case, repeat).await,
        Target::Http(http) => http.run(case, repeat).await,
        Target::Replay(replay) => replay.run(case),
    }
}
