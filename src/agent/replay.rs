//! `ReplayTarget`: the trajectories of an earlier run, looked up by case id; calls nothing.
//!
//! Re-scoring recorded trajectories makes a change to a check or a judge free to try. The run
//! reports the target that *recorded* the trajectories (each `trajectories.jsonl` line names
//! it), so a replay of an unchanged suite reproduces the original `report.json` byte for byte.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;
use serde::Deserialize;

use crate::agent::case_input::CaseInput;
use crate::agent::protocol::traced_trajectory;
use crate::agent::target::Target;
use crate::agent::target_load::{ProblemAt, TargetLoad, TargetProblem};
use crate::otlp::file::{is_otlp_json, read_traces};
use crate::trajectory::Trajectory;
use crate::trajectory_line::TrajectoryLine;

/// The file is kept as text and each case's line parsed when the case runs: a JSON line is a
/// fraction of the size of the parsed trajectory, so a 100,000-case replay does not hold
/// 100,000 trajectories in memory, and the parsing is spread over rayon's threads.
/// Re-score an earlier run's trajectories.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawReplay {
    /// Path to a `trajectories.jsonl`, relative to the suite's folder.
    pub trajectories: String,
}

#[derive(Debug)]
pub struct ReplayTarget {
    /// The `trajectories.jsonl` read, as resolved from the suite.
    pub file: PathBuf,
    /// The label of the target that recorded the trajectories; `replay FILE` when the file does
    /// not say.
    pub label: String,
    text: String,
    /// Where each case's line is in `text`.
    lines: BTreeMap<String, Range<usize>>,
    /// The trajectories of an OTLP JSON file (`crate::otlp::file`), by case id: built at load
    /// (a trace is spread over many lines).
    traced: BTreeMap<String, Trajectory>,
}

/// A line of a `trajectories.jsonl` that is not a trajectory line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct BadLine {
    /// 1-based.
    pub line: usize,
    pub message: String,
}

impl ReplayTarget {
    /// Reads the text of a `trajectories.jsonl`. Every line is parsed once here (in parallel),
    /// so a malformed one is a load error naming its 1-based line, not a failed case. The
    /// later of two lines with one id wins (a file appended to by a re-run), and the label is
    /// the first line's target.
    pub fn parse(file: PathBuf, written: &str, text: String) -> Result<Self, BadLine> {
        if is_otlp_json(&text) {
            let traced = read_traces(&text)
                .map_err(|e| BadLine {
                    line: e.line,
                    message: e.message,
                })?
                .into_iter()
                .map(|(id, run)| (id, traced_trajectory(run)))
                .collect();
            return Ok(ReplayTarget {
                file,
                label: format!("replay {written}"),
                text: String::new(),
                lines: BTreeMap::new(),
                traced,
            });
        }
        let mut spans = Vec::new();
        let mut start = 0;
        for (i, line) in text.split_inclusive('\n').enumerate() {
            let end = start + line.len();
            if !line.trim().is_empty() {
                spans.push((i + 1, start..end));
            }
            start = end;
        }
        let parsed: Vec<(String, Option<String>)> = spans
            .par_iter()
            .map(|(n, range)| {
                serde_json::from_str::<TrajectoryLine>(&text[range.clone()])
                    .map(|l| (l.id, l.target))
                    .map_err(|e| BadLine {
                        line: *n,
                        message: e.to_string(),
                    })
            })
            .collect::<Result<_, _>>()?;
        let label = parsed
            .iter()
            .find_map(|(_, target)| target.clone())
            .unwrap_or_else(|| format!("replay {written}"));
        let lines = parsed
            .into_iter()
            .zip(spans)
            .map(|((id, _), (_, range))| (id, range))
            .collect();
        Ok(ReplayTarget {
            file,
            label,
            text,
            lines,
            traced: BTreeMap::new(),
        })
    }

    pub fn run(&self, case: &dyn CaseInput) -> Trajectory {
        if let Some(t) = self.traced.get(case.id()) {
            return t.clone();
        }
        let Some(range) = self.lines.get(case.id()) else {
            return Trajectory::errored(format!(
                "no recorded trajectory for case `{}` in {}",
                case.id(),
                self.file.display()
            ));
        };
        // Parsed once already at load, so this cannot fail unless the program is wrong.
        match serde_json::from_str::<TrajectoryLine>(&self.text[range.clone()]) {
            Ok(line) => line.trajectory,
            Err(e) => Trajectory::errored(format!(
                "cannot re-read the trajectory of case `{}` in {}: {e}",
                case.id(),
                self.file.display()
            )),
        }
    }
}

/// Validates `target: {replay: ...}`: the trajectories file reads and parses.
pub(crate) fn load(raw: &RawReplay, cx: &mut TargetLoad) -> Option<Target> {
    let file = cx.resolve(&raw.trajectories);
    let text = match crate::input_file::read_to_string(&file, cx.limits.max_file_bytes) {
        Ok(t) => {
            cx.decides(&t);
            t
        }
        Err(e) => {
            cx.problem(
                format!("cannot read trajectories {}: {e}", file.display()),
                &raw.trajectories,
            )
            .hint = Some(
                "`replay.trajectories` is a run's `trajectories.jsonl`, relative to the suite file"
                    .into(),
            );
            return None;
        }
    };
    match ReplayTarget::parse(file.clone(), &raw.trajectories, text) {
        Ok(replay) => Some(Target::Replay(Arc::new(replay))),
        Err(bad) => {
            cx.problems.push(TargetProblem {
                message: format!("invalid trajectory line: {}", bad.message),
                hint: None,
                place: ProblemAt::Line {
                    file,
                    line: bad.line,
                },
            });
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::model::Case;
    use crate::verdict::CaseStatus;

    fn line(id: &str, target: Option<&str>, output: &str) -> String {
        let line = TrajectoryLine {
            id: id.into(),
            status: CaseStatus::Passed,
            target: target.map(String::from),
            trajectory: Trajectory {
                output: output.into(),
                ..Default::default()
            },
        };
        serde_json::to_string(&line).unwrap() + "\n"
    }

    fn case(id: &str) -> Case {
        Case::new(id, "hi")
    }

    #[test]
    fn replays_by_id_and_errors_on_unknown_cases() {
        let text = [
            line("a", Some("harness mock:support"), "one"),
            "\n".to_string(),
            line("a", Some("harness mock:support"), "two"),
            line("c", Some("harness mock:support"), "three"),
        ]
        .concat();
        let t = ReplayTarget::parse("r/trajectories.jsonl".into(), "r/trajectories.jsonl", text)
            .unwrap();
        assert_eq!(t.label, "harness mock:support");
        assert_eq!(t.run(&case("a")).output, "two");
        assert_eq!(t.run(&case("c")).output, "three");
        let missing = t.run(&case("b"));
        assert_eq!(
            missing.error.as_deref(),
            Some("no recorded trajectory for case `b` in r/trajectories.jsonl")
        );
    }

    #[test]
    fn an_otlp_json_file_replays_its_traces_by_case_id() {
        let text = r#"{"resourceSpans": [{"resource": {"attributes": [{"key": "gauntlet.case_id", "value": {"stringValue": "a"}}]},
            "scopeSpans": [{"spans": [{"traceId": "0102030405060708090a0b0c0d0e0f10", "spanId": "0000000000000001",
              "name": "execute_tool lookup_order", "attributes": [
                {"key": "gen_ai.operation.name", "value": {"stringValue": "execute_tool"}}]},
              {"traceId": "0102030405060708090a0b0c0d0e0f10", "spanId": "0000000000000002",
               "name": "chat", "startTimeUnixNano": "5", "attributes": [
                {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
                {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "1000000"}},
                {"key": "gen_ai.completion", "value": {"stringValue": "Shipped."}}]}]}]}]}"#;
        // One export per line, as the Collector writes them.
        let text = text.replace('\n', " ");
        let t = ReplayTarget::parse("x".into(), "traces.jsonl", text).unwrap();
        assert_eq!(t.label, "replay traces.jsonl");
        let calls: Vec<String> = t
            .run(&case("a"))
            .tool_calls()
            .map(|(n, _)| n.to_string())
            .collect();
        assert_eq!(calls, ["lookup_order"]);
        let run = t.run(&case("a"));
        assert_eq!(run.output, "Shipped.", "the last model text");
        assert_eq!(run.usage.input_tokens, 1_000_000);
        assert_eq!(
            run.cost_usd,
            Some(2.5),
            "priced as a reply's model steps are"
        );
        assert!(t.run(&case("b")).error.is_some());
    }

    #[test]
    fn the_label_falls_back_to_the_file() {
        let t = ReplayTarget::parse("x".into(), "old.jsonl", line("a", None, "")).unwrap();
        assert_eq!(t.label, "replay old.jsonl");
    }

    #[test]
    fn a_bad_line_is_an_error_naming_it() {
        let text = line("a", None, "ok") + "\n{\"id\": 1}\n";
        let err = ReplayTarget::parse("x".into(), "x", text).unwrap_err();
        assert_eq!(err.line, 3, "{err}");
        assert!(err.to_string().starts_with("line 3: "), "{err}");
    }
}
