//! `ProgressReporter`: the live progress bar on stderr, with a line for each run that did
//! not pass. Only when asked (stderr is a TTY); the final table is `report::terminal`.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cancellation::Cancellation;
use crate::event::RunEvent;
use crate::report::terminal::{clean, paint, RED};
use crate::reporter::fan_out::Reporter;

pub(crate) struct ProgressReporter {
    show_progress: bool,
    color: bool,
    bar: Option<ProgressBar>,
    /// Tests draw to a hidden target so nothing reaches the test output.
    draw_hidden: bool,
}

impl ProgressReporter {
    /// `show_progress` false (stderr is not a TTY) prints nothing live.
    pub(crate) fn new(show_progress: bool, color: bool) -> Self {
        ProgressReporter {
            show_progress,
            color,
            bar: None,
            draw_hidden: false,
        }
    }

    /// Clears the bar, leaving the terminal for the summary.
    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    fn style(&self) -> ProgressStyle {
        let template = if self.color {
            "{prefix:.bold} [{bar:30.cyan/blue}] {pos}/{len} {msg}"
        } else {
            "{prefix} [{bar:30}] {pos}/{len} {msg}"
        };
        // The templates are constants; fall back to the default bar rather than panic.
        ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ")
    }
}

impl Reporter for ProgressReporter {
    fn on_event(&mut self, event: &RunEvent<'_>) {
        if !self.show_progress {
            return;
        }
        match event {
            RunEvent::SuiteStarted { suite, total } => {
                self.finish();
                let target = if self.draw_hidden {
                    ProgressDrawTarget::hidden()
                } else {
                    ProgressDrawTarget::stderr()
                };
                let bar = ProgressBar::with_draw_target(Some(*total as u64), target);
                bar.set_style(self.style());
                bar.set_prefix(suite.clone());
                self.bar = Some(bar);
            }
            RunEvent::RunStarted { .. } | RunEvent::Reported { .. } => {}
            RunEvent::RunFinished { result } => {
                if let Some(bar) = &self.bar {
                    if !result.status.is_pass() {
                        // Printed above the bar so failures are visible before the run ends.
                        bar.println(format!(
                            "{} {}",
                            paint(&format!("{:>11}", result.status.as_str()), RED, self.color),
                            clean(&result.id)
                        ));
                    }
                    bar.inc(1);
                    bar.set_message(result.id.clone());
                }
            }
            RunEvent::Cancelled { level } => {
                if let Some(bar) = &self.bar {
                    bar.set_message(match level {
                        Cancellation::Aborting => "aborting: dropping running cases",
                        _ => "cancelling: finishing running cases (Ctrl-C again aborts)",
                    });
                }
            }
            RunEvent::SuiteFinished { .. } => self.finish(),
        }
    }
}

impl Drop for ProgressReporter {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::fixture::sample_runs;
    use crate::results::run_result::RunResult;

    fn finished(id: &str) -> RunResult {
        let mut result = sample_runs().swap_remove(0);
        result.id = id.into();
        result
    }

    #[test]
    fn progress_bar_follows_events() {
        let mut r = ProgressReporter::new(true, false);
        r.draw_hidden = true;
        r.on_event(&RunEvent::SuiteStarted {
            suite: "support".into(),
            total: 3,
        });
        r.on_event(&RunEvent::RunStarted {
            id: "a".into(),
            repeat: 0,
        });
        r.on_event(&RunEvent::RunFinished {
            result: &finished("a"),
        });
        r.on_event(&RunEvent::RunFinished {
            result: &finished("b"),
        });
        let bar = r.bar.as_ref().expect("bar exists");
        assert_eq!(bar.length(), Some(3));
        assert_eq!(bar.position(), 2);
        assert_eq!(bar.message(), "b");
        r.on_event(&RunEvent::Cancelled {
            level: Cancellation::Draining,
        });
        assert!(r.bar.as_ref().unwrap().message().starts_with("cancelling"));
        r.on_event(&RunEvent::SuiteFinished {
            suite: "support".into(),
        });
        assert!(r.bar.is_none());
    }

    #[test]
    fn no_progress_means_no_bar() {
        let mut r = ProgressReporter::new(false, true);
        r.on_event(&RunEvent::SuiteStarted {
            suite: "support".into(),
            total: 3,
        });
        r.on_event(&RunEvent::RunFinished {
            result: &finished("a"),
        });
        assert!(r.bar.is_none());
    }
}
