//! `MockRules`: the compiled rules file `suites/mocks/NAME.yaml` that scripts the offline
//! `mock:NAME` model.
//!
//! ```yaml
//! rules:                       # tried in order; the first rule whose conditions ALL hold answers
//!   - name: refund-eligible    # optional, shows in errors and debug output
//!     when:
//!       purpose: agent         # agent (default) | judge | simulated_user
//!       user: '(?i)refund.*order (?P<order_id>\d+)'   # regex on the LAST message, which must be a user message
//!       tool: '"status":"delivered"'                  # regex on the LAST message, which must be a tool result
//!       tool_name: lookup_order                       # the last message is a result of this tool
//!       context: '(?i)\brefund\b'                     # regex over the conversation (see below)
//!       prompt: '(?s)<output>.*sorry.*</output>'      # regex on the last user message (judge requests)
//!     reply:
//!       text: "Order {{ order_id }} is on its way."   # minijinja template (strict undefined)
//!       tool_calls:                                   # string values inside args are templates too
//!         - {name: lookup_order, args: {order_id: "{{ order_id }}"}}
//! default:                     # optional: reply when no rule matches; without it no match is an error
//!   text: "..."
//! ```
//!
//! - Named capture groups of every matched regex are merged (in the order above) into the
//!   template context. A group that did not take part in the match is the empty string.
//! - `context` runs over the contents of every user, assistant and tool message joined by `\n`.
//!   The system prompt is left out on purpose: it usually mentions every topic (refunds,
//!   policies) and would make any topic rule match on every call.
//! - Tool results arrive as compact JSON with keys sorted, so a regex over several fields
//!   must name them in alphabetical order.
//! - An args value that is exactly one `{{ expression }}` keeps the type of the expression:
//!   captures are strings, so `"{{ amount | float }}"` gives a number, `"{{ order_id }}"` a string.
//!   Any other string value is rendered as a template to a string.
//! - Unknown fields are errors; every regex and template is compiled at load, and a template
//!   naming a variable that no regex of its rule captures is a load error.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;
use serde::Deserialize;
use serde_json::Value;

use crate::diagnostic::Diagnostic;
use crate::provider::mock_script::RawMockReply;
use crate::provider::types::{Message, ModelRequest, ProviderError, Purpose, Role};
use crate::template;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRules {
    #[serde(default)]
    rules: Vec<RawRule>,
    #[serde(default)]
    default: Option<RawMockReply>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    when: RawWhen,
    reply: RawMockReply,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawWhen {
    #[serde(default)]
    purpose: Option<Purpose>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    tool: Option<String>,
    #[serde(default)]
    tool_name: Option<String>,
    #[serde(default)]
    context: Option<String>,
    #[serde(default)]
    prompt: Option<String>,
}

/// Which text of the request a rule's regex runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Subject {
    /// The last message, which must be a user message.
    User,
    /// The last message, which must be a tool result.
    Tool,
    /// The conversation without the system prompt.
    Context,
    /// The last user message, wherever it is.
    Prompt,
}

#[derive(Debug)]
struct Rule {
    /// The user's name, or `rule N` (1-based).
    label: String,
    purpose: Purpose,
    tool_name: Option<String>,
    conditions: Vec<(Subject, Regex)>,
    reply: RawMockReply,
}

/// The compiled rules of one `mock:NAME` model.
#[derive(Debug, Default)]
pub struct MockRules {
    /// The rules file, for messages.
    pub path: PathBuf,
    rules: Vec<Rule>,
    default: Option<RawMockReply>,
}

/// A reply chosen and rendered for one request: text and tool calls `(name, args)`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RenderedReply {
    pub text: Option<String>,
    pub tool_calls: Vec<(String, Value)>,
}

impl MockRules {
    /// Reads and compiles a rules file under the suite's `limits`, collecting every problem in it.
    pub fn load(path: &Path, limits: &crate::limits::Limits) -> Result<MockRules, Vec<Diagnostic>> {
        let source =
            crate::input_file::read_to_string(path, limits.max_file_bytes).map_err(|e| {
                vec![Diagnostic::new(
                    path,
                    format!("cannot read mock rules: {e}"),
                )]
            })?;
        Self::parse_within(path, &source, limits.max_depth)
    }

    /// Compiles rules from `source` under the default nesting limit; `path` is only used in
    /// messages.
    pub fn parse(path: &Path, source: &str) -> Result<MockRules, Vec<Diagnostic>> {
        Self::parse_within(path, source, crate::limits::Limits::default().max_depth)
    }

    fn parse_within(
        path: &Path,
        source: &str,
        max_depth: u32,
    ) -> Result<MockRules, Vec<Diagnostic>> {
        let raw: RawRules = if source.trim().is_empty() {
            RawRules {
                rules: Vec::new(),
                default: None,
            }
        } else {
            crate::yaml_depth::from_str(path, source, max_depth).map_err(|d| vec![d])?
        };
        let mut diags = Vec::new();
        let mut rules = Vec::new();
        for (i, raw_rule) in raw.rules.into_iter().enumerate() {
            let label = raw_rule
                .name
                .clone()
                .unwrap_or_else(|| format!("rule {}", i + 1));
            if let Some(rule) = compile_rule(path, source, label, raw_rule, &mut diags) {
                rules.push(rule);
            }
        }
        if let Some(reply) = &raw.default {
            check_reply(path, source, "default", reply, &BTreeSet::new(), &mut diags);
        }
        if diags.is_empty() {
            Ok(MockRules {
                path: path.to_path_buf(),
                rules,
                default: raw.default,
            })
        } else {
            Err(diags)
        }
    }

    /// Number of rules, for tests and debug output.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The first matching rule's reply, rendered with its captures; the default when none
    /// matches; an error naming the last message when there is no default.
    pub(crate) fn answer(&self, request: &ModelRequest) -> Result<RenderedReply, ProviderError> {
        let subjects = Subjects::of(&request.messages);
        for rule in &self.rules {
            if let Some(captures) = rule.matches(request.purpose, &subjects) {
                tracing::debug!(rule = %rule.label, "mock rule matched");
                return render_reply(&rule.reply, &captures).map_err(|e| {
                    ProviderError::fatal(format!(
                        "mock rule `{}` in {}: {e}",
                        rule.label,
                        self.path.display()
                    ))
                });
            }
        }
        match &self.default {
            Some(reply) => render_reply(reply, &BTreeMap::new()).map_err(|e| {
                ProviderError::fatal(format!("mock default in {}: {e}", self.path.display()))
            }),
            None => Err(ProviderError::fatal(format!(
                "no mock rule in {} matched the {} request (last message, {}: {:?})",
                self.path.display(),
                purpose_name(request.purpose),
                subjects.last_role,
                crate::text::excerpt(subjects.last_content, 200, ""),
            ))),
        }
    }
}

fn purpose_name(p: Purpose) -> &'static str {
    match p {
        Purpose::Agent => "agent",
        Purpose::Judge => "judge",
        Purpose::SimulatedUser => "simulated_user",
    }
}

/// The texts of a request that conditions look at, computed once per request.
struct Subjects<'a> {
    last_role: &'static str,
    last_content: &'a str,
    last: Option<&'a Message>,
    last_user: Option<&'a str>,
    context: String,
}

impl<'a> Subjects<'a> {
    fn of(messages: &'a [Message]) -> Self {
        let last = messages.last();
        let last_role = match last.map(|m| m.role) {
            Some(Role::System) => "system",
            Some(Role::User) => "user",
            Some(Role::Assistant) => "assistant",
            Some(Role::Tool) => "tool",
            None => "none",
        };
        Subjects {
            last_role,
            last_content: last.map_or("", |m| m.content.as_str()),
            last,
            last_user: messages
                .iter()
                .rev()
                .find(|m| m.role == Role::User)
                .map(|m| m.content.as_str()),
            context: messages
                .iter()
                .filter(|m| m.role != Role::System)
                .map(|m| m.content.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    fn text(&self, subject: Subject) -> Option<&str> {
        let last_is = |role: Role| {
            self.last
                .filter(|m| m.role == role)
                .map(|m| m.content.as_str())
        };
        match subject {
            Subject::User => last_is(Role::User),
            Subject::Tool => last_is(Role::Tool),
            Subject::Context => Some(&self.context),
            Subject::Prompt => self.last_user,
        }
    }
}

impl Rule {
    /// The merged named captures when every condition holds.
    fn matches(&self, purpose: Purpose, s: &Subjects) -> Option<BTreeMap<String, String>> {
        if purpose != self.purpose {
            return None;
        }
        if let Some(name) = &self.tool_name {
            let last = s.last.filter(|m| m.role == Role::Tool)?;
            if last.name.as_deref() != Some(name.as_str()) {
                return None;
            }
        }
        let mut captures = BTreeMap::new();
        for (subject, regex) in &self.conditions {
            let caps = regex.captures(s.text(*subject)?)?;
            for name in regex.capture_names().flatten() {
                let value = caps.name(name).map_or("", |m| m.as_str());
                captures.insert(name.to_string(), value.to_string());
            }
        }
        Some(captures)
    }
}

fn compile_rule(
    path: &Path,
    source: &str,
    label: String,
    raw: RawRule,
    diags: &mut Vec<Diagnostic>,
) -> Option<Rule> {
    let before = diags.len();
    let w = raw.when;
    let fields = [
        (Subject::User, "user", w.user),
        (Subject::Tool, "tool", w.tool),
        (Subject::Context, "context", w.context),
        (Subject::Prompt, "prompt", w.prompt),
    ];
    let last_user = fields[0].2.is_some();
    let last_tool = fields[1].2.is_some() || w.tool_name.is_some();
    if last_user && last_tool {
        diags.push(
            Diagnostic::new(
                path,
                format!("mock rule `{label}` can never match: `user` needs the last message to be a user message, `tool`/`tool_name` a tool result"),
            )
            // An unnamed rule is found by its `user` pattern instead.
            .locate(source, &label)
            .locate(source, fields[0].2.as_deref().unwrap_or_default()),
        );
    }
    let mut conditions = Vec::new();
    let mut names = BTreeSet::new();
    for (subject, field, pattern) in fields {
        let Some(pattern) = pattern else { continue };
        match Regex::new(&pattern) {
            Ok(re) => {
                names.extend(re.capture_names().flatten().map(str::to_string));
                conditions.push((subject, re));
            }
            Err(e) => diags.push(
                Diagnostic::new(
                    path,
                    format!("invalid regex in `{field}` of mock rule `{label}`: {e}"),
                )
                .locate(source, &pattern),
            ),
        }
    }
    if diags.len() == before {
        check_reply(path, source, &label, &raw.reply, &names, diags);
    }
    (diags.len() == before).then(|| Rule {
        label,
        purpose: w.purpose.unwrap_or(Purpose::Agent),
        tool_name: w.tool_name,
        conditions,
        reply: raw.reply,
    })
}

/// Compiles every template of a reply and checks it only names known captures.
fn check_reply(
    path: &Path,
    source: &str,
    label: &str,
    reply: &RawMockReply,
    captures: &BTreeSet<String>,
    diags: &mut Vec<Diagnostic>,
) {
    let mut templates: Vec<&str> = reply.text.iter().map(String::as_str).collect();
    for call in &reply.tool_calls {
        if let Some(args) = &call.args {
            if !args.is_object() {
                diags.push(
                    Diagnostic::new(
                        path,
                        format!(
                            "args of tool call `{}` in mock rule `{label}` must be a mapping",
                            call.name
                        ),
                    )
                    .locate(source, &call.name),
                );
            }
            collect_strings(args, &mut templates);
        }
    }
    for t in templates {
        if let Err(e) =
            undeclared(t).and_then(
                |vars| match vars.into_iter().find(|v| !captures.contains(v)) {
                    None => Ok(()),
                    Some(v) => Err(ReplyError::NotCaptured {
                        var: v,
                        captures: if captures.is_empty() {
                            "none".to_string()
                        } else {
                            captures.iter().cloned().collect::<Vec<_>>().join(", ")
                        },
                    }),
                },
            )
        {
            diags.push(
                Diagnostic::new(path, format!("template in mock rule `{label}`: {e}"))
                    .locate(source, t.lines().next().unwrap_or(t)),
            );
        }
    }
}

fn collect_strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

/// When `s` is exactly one `{{ expression }}`, the expression source.
fn whole_expression(s: &str) -> Option<&str> {
    let inner = s.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    (!inner.contains("{{") && !inner.contains("}}")).then(|| inner.trim_matches('-').trim())
}

/// Why a rule's reply cannot be used: its template does not compile or render, or an
/// expression's value is not JSON.
#[derive(Debug, thiserror::Error)]
enum ReplyError {
    #[error("{}", .0.message)]
    Template(#[from] template::TemplateError),
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error("`{var}` is not captured by any regex of the rule (captures: {captures})")]
    NotCaptured { var: String, captures: String },
}

impl From<minijinja::Error> for ReplyError {
    fn from(e: minijinja::Error) -> Self {
        ReplyError::Template(e.into())
    }
}

/// The variables a template (or whole-expression value) uses; a syntax error otherwise.
fn undeclared(s: &str) -> Result<BTreeSet<String>, ReplyError> {
    let env = template::environment();
    let vars = match whole_expression(s) {
        Some(expr) => env.compile_expression(expr)?.undeclared_variables(false),
        None => env.template_from_str(s)?.undeclared_variables(false),
    };
    Ok(vars.into_iter().collect())
}

fn render_reply(
    reply: &RawMockReply,
    captures: &BTreeMap<String, String>,
) -> Result<RenderedReply, ReplyError> {
    let text = match &reply.text {
        Some(t) => Some(template::render(t, captures)?),
        None => None,
    };
    let mut tool_calls = Vec::new();
    for call in &reply.tool_calls {
        let args = match &call.args {
            Some(a) => render_value(a, captures)?,
            None => Value::Object(Default::default()),
        };
        tool_calls.push((call.name.clone(), args));
    }
    Ok(RenderedReply { text, tool_calls })
}

fn render_value(v: &Value, captures: &BTreeMap<String, String>) -> Result<Value, ReplyError> {
    Ok(match v {
        Value::String(s) => match whole_expression(s) {
            Some(expr) => {
                let env = template::environment();
                let value = crate::render_memory::within(template::memory_limit(), expr, || {
                    env.compile_expression(expr).and_then(|e| e.eval(captures))
                })?;
                serde_json::to_value(&value)?
            }
            None => Value::String(template::render(s, captures)?),
        },
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| render_value(x, captures))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| Ok((k.clone(), render_value(x, captures)?)))
                .collect::<Result<_, ReplyError>>()?,
        ),
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rules(src: &str) -> MockRules {
        MockRules::parse(Path::new("m.yaml"), src).unwrap()
    }

    fn req(purpose: Purpose, messages: Vec<Message>) -> ModelRequest {
        ModelRequest {
            model: "t".into(),
            messages,
            tools: Default::default(),
            temperature: None,
            max_tokens: None,
            purpose,
            seed: None,
            response_format: None,
        }
    }

    const SRC: &str = r#"
rules:
  - name: judge
    when: {purpose: judge, prompt: '(?s)<output>\n(?P<out>[^\n]*)\n</output>'}
    reply: {text: '{"score": 4, "reason": "said {{ out }}"}'}
  - name: refund
    when: {user: '(?i)refund order (?P<order_id>\d+)'}
    reply:
      tool_calls: [{name: lookup_order, args: {order_id: "{{ order_id }}"}}]
  - name: refund-ok
    when: {tool_name: lookup_order, tool: '"total":(?P<amount>[0-9.]+)', context: '(?i)\brefund\b'}
    reply:
      tool_calls: [{name: issue_refund, args: {amount: "{{ amount | float }}", note: "of {{ amount }}", n: 3}}]
  - when: {tool_name: issue_refund}
    reply: {text: done}
"#;

    #[test]
    fn first_matching_rule_answers_with_captures() {
        let r = rules(SRC);
        let a = r
            .answer(&req(
                Purpose::Agent,
                vec![Message::system("refund"), Message::user("Refund order 42")],
            ))
            .unwrap();
        assert_eq!(
            a.tool_calls,
            vec![("lookup_order".into(), json!({"order_id": "42"}))]
        );
        let tool = Message::tool("call_1", "lookup_order", r#"{"total":9.5}"#);
        let a = r
            .answer(&req(
                Purpose::Agent,
                vec![Message::user("refund order 42"), tool],
            ))
            .unwrap();
        assert_eq!(
            a.tool_calls[0].1,
            json!({"amount": 9.5, "note": "of 9.5", "n": 3})
        );
    }

    #[test]
    fn conditions_see_only_their_subject() {
        let r = rules(SRC);
        // The system prompt says "refund", but context leaves it out: no rule matches.
        let tool = Message::tool("call_1", "lookup_order", r#"{"total":9.5}"#);
        let err = r
            .answer(&req(
                Purpose::Agent,
                vec![Message::system("refund"), Message::user("hi"), tool],
            ))
            .unwrap_err();
        assert!(err.message.contains("no mock rule"), "{err}");
        assert!(err.message.contains("tool"), "{err}");
        // A tool result from another tool does not satisfy tool_name.
        let other = Message::tool("call_1", "search_kb", "{}");
        assert!(r
            .answer(&req(Purpose::Agent, vec![Message::user("refund"), other]))
            .is_err());
        // Purpose must match: the judge rule does not answer agents and vice versa.
        let judge = req(
            Purpose::Judge,
            vec![Message::user("x\n<output>\nhello\n</output>\n")],
        );
        assert_eq!(
            r.answer(&judge).unwrap().text.as_deref(),
            Some(r#"{"score": 4, "reason": "said hello"}"#)
        );
        let mut as_agent = judge.clone();
        as_agent.purpose = Purpose::Agent;
        assert!(r.answer(&as_agent).is_err());
    }

    #[test]
    fn default_answers_when_nothing_matches() {
        let r = rules("default: {text: sorry}\n");
        let a = r
            .answer(&req(Purpose::Agent, vec![Message::user("x")]))
            .unwrap();
        assert_eq!(a.text.as_deref(), Some("sorry"));
    }

    #[test]
    fn load_errors_are_collected_with_lines() {
        let table: &[(&str, &[&str])] = &[
            ("rules:\n  - when: {usr: x}\n    reply: {text: a}\n", &["unknown field `usr`"]),
            (
                "rules:\n  - when: {user: '(['}\n    reply: {text: a}\n  - when: {tool: ok}\n    reply: {text: '{{ nope }}'}\n",
                &["invalid regex in `user`", "`nope` is not captured"],
            ),
            (
                "rules:\n  - name: both\n    when: {user: a, tool_name: t}\n    reply: {text: a}\n",
                &["can never match"],
            ),
            (
                "rules:\n  - when: {user: hello, tool: x}\n    reply: {text: a}\n",
                &["can never match"],
            ),
            ("rules:\n  - reply: {text: '{% if %}'}\n", &["syntax"]),
            (
                "rules:\n  - when: {user: '(?P<x>a)'}\n    reply: {tool_calls: [{name: t, args: {a: '{{ x | float }}', b: '{{ y }}'}}]}\n",
                &["`y` is not captured"],
            ),
        ];
        for (src, wants) in table {
            let diags = MockRules::parse(Path::new("m.yaml"), src).unwrap_err();
            assert_eq!(diags.len(), wants.len(), "{src}: {diags:?}");
            for (d, want) in diags.iter().zip(wants.iter()) {
                assert!(d.message.contains(want), "{src}: {d}");
                assert!(d.line.is_some(), "{src}: {d}");
            }
        }
    }
}
