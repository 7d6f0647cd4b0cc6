//! `TrajectoryLine`: one line of `trajectories.jsonl`, the file a run writes
//! (`report::trajectories`) and a `replay` target reads back (`agent::replay`). Its shape is a
//! protocol, so it lives below both: `{"id": ..., "status": ..., "target": ..., "trajectory": ...}`.

use serde::{Deserialize, Serialize};

use crate::trajectory::Trajectory;
use crate::verdict::CaseStatus;

/// One line of `trajectories.jsonl`, as read back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TrajectoryLine {
    pub id: String,
    pub status: CaseStatus,
    /// The label of the target that produced the trajectory (absent in older files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub trajectory: Trajectory,
}

/// A line of `trajectories.jsonl` that is not a `TrajectoryLine`; `line` is 1-based.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {source}")]
pub(crate) struct BadTrajectoryLine {
    pub line: usize,
    pub source: serde_json::Error,
}

/// Reads `trajectories.jsonl` back. Blank lines are skipped; an error names its line.
pub(crate) fn parse_trajectories(text: &str) -> Result<Vec<TrajectoryLine>, BadTrajectoryLine> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|source| BadTrajectoryLine {
                line: i + 1,
                source,
            })
        })
        .collect()
}
