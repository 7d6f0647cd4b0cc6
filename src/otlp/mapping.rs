//! `to_steps`: a run's OpenTelemetry spans as trajectory steps — a pure function, documented
//! as a table in the README ("Traces in: the mapping").
//!
//! A span is classified by `gen_ai.operation.name` (GenAI semantic conventions, the latest
//! experimental version and v1.36) or `openinference.span.kind` (OpenInference). Model calls
//! become `model` steps, tool executions `tool` steps, agent invocations `agent` steps holding
//! their children; any other span (a chain, a retriever, a plain function) adds no step of its
//! own, its children take its place. Children follow their parent, ordered by start time.
//! What a step does not map is kept as its `metadata`.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::otlp::span::{Span, SpanId};
use crate::trajectory::{Metadata, Step, ToolCall, Usage};

/// Deeper nesting than this is cut (its spans are dropped): a hostile trace must not
/// overflow the stack.
pub const MAX_DEPTH: usize = 64;

/// What a span stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanRole {
    Model,
    Tool,
    Agent,
    /// Adds no step; its children take its place.
    Other,
}

/// The role of a span by its attributes.
pub fn role(span: &Span) -> SpanRole {
    if let Some(op) = span.str_attr("gen_ai.operation.name") {
        match op.as_str() {
            "chat" | "text_completion" | "generate_content" => return SpanRole::Model,
            "execute_tool" => return SpanRole::Tool,
            "invoke_agent" => return SpanRole::Agent,
            _ => {}
        }
    }
    match span
        .str_attr("openinference.span.kind")
        .map(|k| k.to_ascii_uppercase())
        .as_deref()
    {
        Some("LLM") => SpanRole::Model,
        Some("TOOL") => SpanRole::Tool,
        Some("AGENT") => SpanRole::Agent,
        _ => SpanRole::Other,
    }
}

/// The steps of one run's spans. Spans whose parent is not among them are its roots.
pub fn to_steps(spans: &[Span]) -> Vec<Step> {
    let mut seen = HashSet::new();
    // A span sent twice (an exporter's retry) counts once.
    let spans: Vec<&Span> = spans.iter().filter(|s| seen.insert(s.span_id)).collect();
    let ids: HashSet<SpanId> = spans.iter().map(|s| s.span_id).collect();
    let mut children: HashMap<SpanId, Vec<usize>> = HashMap::new();
    let mut roots = Vec::new();
    for (i, s) in spans.iter().enumerate() {
        match s
            .parent_span_id
            .filter(|p| ids.contains(p) && *p != s.span_id)
        {
            Some(p) => children.entry(p).or_default().push(i),
            None => roots.push(i),
        }
    }
    let by_start = |v: &mut Vec<usize>| v.sort_by_key(|&i| (spans[i].start_unix_nano, i));
    by_start(&mut roots);
    for v in children.values_mut() {
        by_start(v);
    }
    let tree = Tree { spans, children };
    let mut out = Vec::new();
    for i in roots {
        tree.map(i, 0, None, &mut out);
    }
    out
}

struct Tree<'a> {
    spans: Vec<&'a Span>,
    children: HashMap<SpanId, Vec<usize>>,
}

impl Tree<'_> {
    fn map(&self, i: usize, depth: usize, agent: Option<&str>, out: &mut Vec<Step>) {
        if depth >= MAX_DEPTH {
            return;
        }
        let span = self.spans[i];
        let kids = self
            .children
            .get(&span.span_id)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        match role(span) {
            SpanRole::Agent => {
                let mut used = Used::default();
                let name = used
                    .str(span, &["gen_ai.agent.name", "agent.name"])
                    .unwrap_or_else(|| strip_op(&span.name, "invoke_agent"));
                used.mark(&["gen_ai.operation.name", "openinference.span.kind"]);
                let mut steps = Vec::new();
                for &k in kids {
                    self.map(k, depth + 1, Some(&name), &mut steps);
                }
                out.push(Step::Agent {
                    name,
                    steps,
                    started_at: started_at(span),
                    latency_ms: latency_ms(span),
                    metadata: used.rest(span),
                });
                return;
            }
            SpanRole::Model => out.push(model_step(span, agent)),
            SpanRole::Tool => out.push(tool_step(span, agent)),
            SpanRole::Other => {}
        }
        for &k in kids {
            self.map(k, depth + 1, agent, out);
        }
    }
}

/// The attribute keys a step consumed; the rest become its metadata.
#[derive(Default)]
struct Used(HashSet<String>);

impl Used {
    fn mark(&mut self, keys: &[&str]) {
        self.0.extend(keys.iter().map(|k| k.to_string()));
    }

    /// The first of `keys` the span has as a string; all of them count as mapped.
    fn str(&mut self, span: &Span, keys: &[&str]) -> Option<String> {
        self.mark(keys);
        keys.iter()
            .find_map(|k| span.str_attr(k).filter(|s| !s.is_empty()))
    }

    fn u64(&mut self, span: &Span, keys: &[&str]) -> Option<u64> {
        self.mark(keys);
        keys.iter().find_map(|k| span.u64_attr(k))
    }

    fn value(&mut self, span: &Span, keys: &[&str]) -> Option<Value> {
        self.mark(keys);
        keys.iter().find_map(|k| span.attr(k).cloned())
    }

    fn rest(self, span: &Span) -> Metadata {
        let mut meta: Metadata = span
            .attributes
            .iter()
            .filter(|(k, _)| !self.0.contains(k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !span.name.is_empty() {
            meta.insert("span.name".into(), Value::String(span.name.clone()));
        }
        meta
    }
}

fn model_step(span: &Span, agent: Option<&str>) -> Step {
    let mut used = Used::default();
    used.mark(&[
        "gen_ai.operation.name",
        "openinference.span.kind",
        "gen_ai.agent.name",
    ]);
    let model = used
        .str(
            span,
            &[
                "gen_ai.response.model",
                "gen_ai.request.model",
                "llm.model_name",
            ],
        )
        .unwrap_or_default();
    let usage = Usage {
        input_tokens: used
            .u64(
                span,
                &[
                    "gen_ai.usage.input_tokens",
                    "gen_ai.usage.prompt_tokens",
                    "llm.token_count.prompt",
                ],
            )
            .unwrap_or(0),
        output_tokens: used
            .u64(
                span,
                &[
                    "gen_ai.usage.output_tokens",
                    "gen_ai.usage.completion_tokens",
                    "llm.token_count.completion",
                ],
            )
            .unwrap_or(0),
    };
    used.mark(&["llm.token_count.total"]);
    let output = used.value(span, &["gen_ai.output.messages", "gen_ai.completion"]);
    // v1.36 puts the completion on an event rather than an attribute.
    let from_event = || {
        span.events.iter().find_map(|e| match e.name.as_str() {
            "gen_ai.content.completion" => e.attributes.get("gen_ai.completion").cloned(),
            "gen_ai.choice" => e.attributes.get("message").cloned(),
            _ => None,
        })
    };
    let output = output.or_else(from_event);
    let oi_content = used.str(span, &["llm.output_messages.0.message.content"]);
    let content = output
        .as_ref()
        .and_then(text_of)
        .or(oi_content)
        .or_else(|| used.str(span, &["output.value"]))
        .filter(|c| !c.is_empty());
    let mut tool_calls = output.as_ref().map(tool_calls_of).unwrap_or_default();
    tool_calls.extend(openinference_tool_calls(span, &mut used));
    let mut metadata = used.rest(span);
    if let Some(e) = &span.error {
        metadata.insert("error".into(), Value::String(e.clone()));
    }
    Step::Model {
        content,
        tool_calls,
        usage,
        model,
        latency_ms: latency_ms(span),
        cost_usd: None,
        agent: agent
            .map(String::from)
            .or_else(|| span.str_attr("gen_ai.agent.name")),
        started_at: started_at(span),
        metadata,
    }
}

fn tool_step(span: &Span, agent: Option<&str>) -> Step {
    let mut used = Used::default();
    used.mark(&[
        "gen_ai.operation.name",
        "openinference.span.kind",
        "gen_ai.agent.name",
    ]);
    let name = used
        .str(span, &["gen_ai.tool.name", "tool.name"])
        .unwrap_or_else(|| strip_op(&span.name, "execute_tool"));
    let id = used
        .str(span, &["gen_ai.tool.call.id", "tool_call.id"])
        .unwrap_or_default();
    let args = used
        .value(span, &["gen_ai.tool.call.arguments", "input.value"])
        .map(parsed)
        .unwrap_or_else(|| Value::Object(Default::default()));
    let result = used
        .value(span, &["gen_ai.tool.call.result", "output.value"])
        .map(parsed);
    used.mark(&["input.mime_type", "output.mime_type"]);
    let error = span.error.clone().or_else(|| span.str_attr("error.type"));
    Step::Tool {
        id,
        name,
        args,
        result,
        error,
        latency_ms: latency_ms(span),
        agent: agent
            .map(String::from)
            .or_else(|| span.str_attr("gen_ai.agent.name")),
        started_at: started_at(span),
        metadata: used.rest(span),
    }
}

/// `invoke_agent triage` → `triage`: the span name the conventions give when no name
/// attribute is set.
fn strip_op(span_name: &str, op: &str) -> String {
    span_name
        .strip_prefix(op)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(span_name)
        .to_string()
}

/// A JSON-encoded string attribute as the JSON it holds; anything else as it is.
fn parsed(v: Value) -> Value {
    match v {
        Value::String(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
        other => other,
    }
}

/// The text of a completion in any of the shapes the conventions have used: plain text,
/// `[{"role", "content"}]`, `[{"role", "parts": [{"type": "text", "content"}]}]`.
fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(inner @ (Value::Array(_) | Value::Object(_))) => text_of(&inner),
            _ => Some(s.clone()),
        },
        Value::Array(items) => {
            let texts: Vec<String> = items.iter().filter_map(text_of).collect();
            (!texts.is_empty()).then(|| texts.join("\n"))
        }
        Value::Object(o) => {
            if o.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t != "text")
            {
                return None;
            }
            ["content", "text", "parts", "message"]
                .iter()
                .find_map(|k| o.get(*k).and_then(text_of))
        }
        _ => None,
    }
}

/// The tool calls a completion asked for: GenAI `{"type": "tool_call", "id", "name",
/// "arguments"}` parts, or OpenAI-style `tool_calls: [{"id", "function": {"name", "arguments"}}]`.
fn tool_calls_of(v: &Value) -> Vec<ToolCall> {
    let mut out = Vec::new();
    collect_tool_calls(v, &mut out, 0);
    out
}

fn collect_tool_calls(v: &Value, out: &mut Vec<ToolCall>, depth: usize) {
    if depth > 8 {
        return;
    }
    match v {
        Value::String(s) => {
            if let Ok(inner @ (Value::Array(_) | Value::Object(_))) = serde_json::from_str(s) {
                collect_tool_calls(&inner, out, depth + 1);
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|i| collect_tool_calls(i, out, depth + 1)),
        Value::Object(o) => {
            let call = |name: Option<&Value>, args: Option<&Value>| ToolCall {
                id: o
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                name: name.and_then(Value::as_str).unwrap_or_default().to_string(),
                args: args
                    .cloned()
                    .map(parsed)
                    .unwrap_or_else(|| Value::Object(Default::default())),
            };
            if o.get("type").and_then(Value::as_str) == Some("tool_call") {
                out.push(call(o.get("name"), o.get("arguments")));
            } else if let Some(f) = o.get("function").and_then(Value::as_object) {
                out.push(call(f.get("name"), f.get("arguments")));
            } else {
                for k in ["parts", "tool_calls", "message"] {
                    if let Some(inner) = o.get(k) {
                        collect_tool_calls(inner, out, depth + 1);
                    }
                }
            }
        }
        _ => {}
    }
}

/// OpenInference's flattened `llm.output_messages.0.message.tool_calls.K.tool_call.*`.
fn openinference_tool_calls(span: &Span, used: &mut Used) -> Vec<ToolCall> {
    let mut out = Vec::new();
    for k in 0.. {
        let key = |f: &str| format!("llm.output_messages.0.message.tool_calls.{k}.tool_call.{f}");
        let (name, args, id) = (key("function.name"), key("function.arguments"), key("id"));
        let Some(n) = used.str(span, &[&name]) else {
            break;
        };
        out.push(ToolCall {
            id: used.str(span, &[&id]).unwrap_or_default(),
            name: n,
            args: used
                .value(span, &[&args])
                .map(parsed)
                .unwrap_or_else(|| Value::Object(Default::default())),
        });
    }
    out
}

/// Wall time of a span, when both ends are known.
fn latency_ms(span: &Span) -> Option<u64> {
    (span.start_unix_nano > 0 && span.end_unix_nano >= span.start_unix_nano)
        .then(|| (span.end_unix_nano - span.start_unix_nano) / 1_000_000)
}

fn started_at(span: &Span) -> Option<String> {
    (span.start_unix_nano > 0).then(|| rfc3339_millis(span.start_unix_nano))
}

/// `2026-01-02T03:04:05.006Z` from nanoseconds since the Unix epoch (UTC, civil calendar by
/// Howard Hinnant's days-from-civil inverse).
pub fn rfc3339_millis(unix_nano: u64) -> String {
    let ms = unix_nano / 1_000_000;
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

#[cfg(test)]
#[path = "mapping_tests.rs"]
mod tests;
