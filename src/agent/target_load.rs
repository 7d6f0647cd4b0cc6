//! `TargetLoad`: what validating a target's raw shape needs from the suite loader (the suite's
//! folder, the limits) and what it gives back (problems, files whose content decides results).
//! Each target file validates its own shape with it, so a new target is not also a branch of
//! the loader; the loader turns the problems into located diagnostics.

use std::path::{Path, PathBuf};

use crate::fingerprint::stable_hash;
use crate::limits::Limits;

/// One problem in a target's settings.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TargetProblem {
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
    pub(crate) place: ProblemAt,
}

/// Where a target problem is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ProblemAt {
    /// In the suite file, at the first occurrence of this text.
    Needle(String),
    /// In another file, at a line.
    Line { file: PathBuf, line: usize },
}

pub(crate) struct TargetLoad<'a> {
    /// The suite's folder: relative paths in a target are relative to it.
    pub(crate) dir: &'a Path,
    pub(crate) limits: &'a Limits,
    pub(crate) problems: Vec<TargetProblem>,
    /// Hashes of the texts read while validating that decide results (for the suite's
    /// fingerprint): a recorded run's trajectories may be tens of megabytes, never copied.
    pub(crate) decisive: Vec<String>,
}

impl<'a> TargetLoad<'a> {
    pub(crate) fn new(dir: &'a Path, limits: &'a Limits) -> Self {
        TargetLoad {
            dir,
            limits,
            problems: Vec::new(),
            decisive: Vec::new(),
        }
    }

    /// Records a text read that decides results.
    pub(crate) fn decides(&mut self, text: &str) {
        self.decisive.push(stable_hash(&[text]));
    }

    pub(crate) fn resolve(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// A problem placed at the first occurrence of `needle` in the suite file.
    pub(crate) fn problem(
        &mut self,
        message: impl Into<String>,
        needle: &str,
    ) -> &mut TargetProblem {
        self.problems.push(TargetProblem {
            message: message.into(),
            hint: None,
            place: ProblemAt::Needle(needle.to_string()),
        });
        self.problems.last_mut().expect("just pushed")
    }
}

/// Validates an external target's `user_model` (who plays a simulated user): `Some(None)`
/// when there is none, `None` (with a problem) when it is not a model id.
pub(crate) fn user_model(
    raw: Option<&str>,
    cx: &mut TargetLoad,
) -> Option<Option<crate::provider::types::ModelId>> {
    let Some(text) = raw else {
        return Some(None);
    };
    match crate::provider::types::ModelId::parse(text) {
        Ok(m) => Some(Some(m)),
        Err(e) => {
            cx.problem(format!("`user_model`: {e}"), text);
            None
        }
    }
}
