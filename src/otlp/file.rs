//! `read_traces`: a file of OTLP JSON trace exports — one `ExportTraceServiceRequest` per line,
//! as the OpenTelemetry Collector's file exporter writes it — as one trajectory per case.
//!
//! A trace's case is its resource's `gauntlet.case_id` (spans recorded while gauntlet ran the
//! agent with `traces: otlp` and a Collector beside it), else its trace id in hex (production
//! traces). A later trace of the same case wins, as a later line of a `trajectories.jsonl` does.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::otlp::decode::{decode, hex, Encoding};
use crate::otlp::mapping::to_steps;
use crate::otlp::span::{Span, TraceId};
use crate::otlp::trace_context::CASE_ID_ATTRIBUTE;
use crate::trajectory::{Step, Trajectory};

/// Whether `text` looks like OTLP JSON rather than a `trajectories.jsonl`: its first line is
/// an object with `resourceSpans`.
pub fn is_otlp_json(text: &str) -> bool {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .and_then(|l| serde_json::from_str::<Value>(l).ok())
        .is_some_and(|v| v.get("resourceSpans").is_some())
}

/// A line that is not an OTLP JSON export (1-based line, message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct BadExport {
    pub line: usize,
    pub message: String,
}

/// What one trace says happened: its steps, and as output the last model text (a reply is
/// not in a trace). The agent side makes it a trajectory as it does a reply
/// (`agent::protocol::traced_trajectory`: usage summed, models priced).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TracedRun {
    pub steps: Vec<Step>,
    pub output: String,
}

impl TracedRun {
    /// The steps as a trajectory, for what reads tool and model calls.
    pub fn trajectory(&self) -> Trajectory {
        Trajectory {
            steps: self.steps.clone(),
            output: self.output.clone(),
            ..Default::default()
        }
    }
}

/// The run of every case in the file.
pub fn read_traces(text: &str) -> Result<BTreeMap<String, TracedRun>, BadExport> {
    Ok(traces_by_case(text)?
        .into_iter()
        .map(|(id, spans)| (id, traced_run(&spans)))
        .collect())
}

/// Every trace's spans with its case id, in the order the traces first appear.
pub fn traces_by_case(text: &str) -> Result<Vec<(String, Vec<Span>)>, BadExport> {
    // Spans by trace, in the order the traces first appear; each trace's case.
    let mut traces: Vec<(TraceId, String, Vec<Span>)> = Vec::new();
    let mut index: BTreeMap<TraceId, usize> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let batches = decode(line.as_bytes(), Encoding::Json).map_err(|e| BadExport {
            line: n + 1,
            message: e.to_string(),
        })?;
        for batch in batches {
            let case = batch
                .resource
                .get(CASE_ID_ATTRIBUTE)
                .and_then(Value::as_str)
                .map(String::from);
            for span in batch.spans {
                let i = *index.entry(span.trace_id).or_insert_with(|| {
                    let id = case.clone().unwrap_or_else(|| hex(&span.trace_id));
                    traces.push((span.trace_id, id, Vec::new()));
                    traces.len() - 1
                });
                traces[i].2.push(span);
            }
        }
    }
    Ok(traces
        .into_iter()
        .map(|(_, id, spans)| (id, spans))
        .collect())
}

pub fn traced_run(spans: &[Span]) -> TracedRun {
    let flat = Trajectory {
        steps: to_steps(spans),
        ..Default::default()
    };
    let output = flat
        .flat_steps()
        .into_iter()
        .rev()
        .find_map(|s| match s {
            Step::Model {
                content: Some(c), ..
            } if !c.is_empty() => Some(c.clone()),
            _ => None,
        })
        .unwrap_or_default();
    TracedRun {
        steps: flat.steps,
        output,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn export(trace: &str, case: Option<&str>, spans: &str) -> String {
        let resource = case.map_or(String::new(), |c| {
            format!(r#""resource": {{"attributes": [{{"key": "gauntlet.case_id", "value": {{"stringValue": "{c}"}}}}]}},"#)
        });
        let spans = spans.replace("TRACE", trace).replace('\n', " ");
        format!(r#"{{"resourceSpans": [{{{resource} "scopeSpans": [{{"spans": [{spans}]}}]}}]}}"#)
    }

    const T1: &str = "0102030405060708090a0b0c0d0e0f10";
    const SPANS: &str = r#"
        {"traceId": "TRACE", "spanId": "0000000000000001", "name": "invoke_agent support",
         "startTimeUnixNano": "1000000", "endTimeUnixNano": "9000000",
         "attributes": [{"key": "gen_ai.operation.name", "value": {"stringValue": "invoke_agent"}}]},
        {"traceId": "TRACE", "spanId": "0000000000000002", "parentSpanId": "0000000000000001",
         "name": "execute_tool lookup_order", "startTimeUnixNano": "2000000",
         "attributes": [{"key": "gen_ai.operation.name", "value": {"stringValue": "execute_tool"}},
                        {"key": "gen_ai.tool.name", "value": {"stringValue": "lookup_order"}}]},
        {"traceId": "TRACE", "spanId": "0000000000000003", "parentSpanId": "0000000000000001",
         "name": "chat", "startTimeUnixNano": "3000000",
         "attributes": [{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                        {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
                        {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "1000000"}},
                        {"key": "gen_ai.completion", "value": {"stringValue": "It shipped."}}]}"#;

    #[test]
    fn traces_become_trajectories_by_case_id_or_trace_id() {
        let text = [
            export(T1, Some("order-shipped"), SPANS),
            export(&"ab".repeat(16), None, SPANS),
        ]
        .join("\n");
        assert!(is_otlp_json(&text));
        let cases = read_traces(&text).unwrap();
        assert_eq!(
            cases.keys().collect::<Vec<_>>(),
            ["abababababababababababababababab", "order-shipped"]
        );
        let t = cases["order-shipped"].trajectory();
        assert_eq!(t.output, "It shipped.");
        assert_eq!(
            t.tool_calls().map(|(n, _)| n).collect::<Vec<_>>(),
            ["lookup_order"]
        );
        assert_eq!(t.model_calls(), 1);
    }

    #[test]
    fn a_trajectories_file_is_not_otlp_and_a_bad_export_names_its_line() {
        assert!(!is_otlp_json("{\"id\": \"a\", \"trajectory\": {}}\n"));
        assert!(!is_otlp_json(""));
        let text = format!("{}\n\n{{\"resourceSpans\": 1}}\n", export(T1, None, SPANS));
        let err = read_traces(&text).unwrap_err();
        assert_eq!(err.line, 3, "{err}");
    }
}
