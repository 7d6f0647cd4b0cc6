//! `GithubReporter`: inside GitHub Actions, the finished report's cases as annotations on
//! stdout (`GITHUB_ACTIONS=true`) and `summary.md` appended to the job summary
//! (`GITHUB_STEP_SUMMARY`). The rendering is `report::github` and `report::markdown`.

use std::io::Write;
use std::path::PathBuf;

use crate::event::RunEvent;
use crate::report::github::render_annotations;
use crate::report::markdown::write_markdown;
use crate::reporter::fan_out::Reporter;

#[derive(Debug, Clone, Default)]
pub(crate) struct GithubReporter {
    annotate: bool,
    step_summary: Option<PathBuf>,
}

impl GithubReporter {
    /// As the environment of the process says: nothing outside GitHub Actions.
    pub(crate) fn from_env() -> Self {
        GithubReporter {
            annotate: std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true"),
            step_summary: std::env::var_os("GITHUB_STEP_SUMMARY")
                .filter(|p| !p.is_empty())
                .map(PathBuf::from),
        }
    }
}

impl Reporter for GithubReporter {
    fn on_event(&mut self, event: &RunEvent<'_>) {
        let RunEvent::Reported { report } = event else {
            return;
        };
        if self.annotate {
            print!("{}", render_annotations(report));
        }
        if let Some(path) = &self.step_summary {
            let appended = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .and_then(|f| {
                    let mut w = std::io::BufWriter::new(f);
                    write_markdown(&mut w, report)?;
                    w.flush()
                });
            if let Err(e) = appended {
                eprintln!(
                    "warning: cannot append to GITHUB_STEP_SUMMARY {}: {e}",
                    path.display()
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::markdown::render_markdown;
    use crate::results::fixture::sample_report;

    #[test]
    fn appends_the_summary_once_the_report_is_written_and_ignores_run_events() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary");
        std::fs::write(&path, "before\n").unwrap();
        let mut r = GithubReporter {
            annotate: false,
            step_summary: Some(path.clone()),
        };
        r.on_event(&RunEvent::SuiteFinished { suite: "s".into() });
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "before\n");
        let report = sample_report();
        r.on_event(&RunEvent::Reported { report: &report });
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("before\n{}", render_markdown(&report))
        );
    }
}
