//! `CustomTool`: a tool defined in the suite rather than in the builtin world — `mock` (canned
//! replies by case and by a pattern on the arguments), `http` (POST the arguments as JSON to a
//! URL) or `command` (run a program without a shell, arguments as JSON on stdin, result JSON
//! on stdout, killed on timeout).

use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use globset::{Glob, GlobMatcher};
use regex::Regex;
use serde_json::Value;

use crate::agent::harness::raw_custom_tool::RawCustomTool;
use crate::agent::harness::tool_context::ToolContext;
use crate::duration::parse_duration;
use crate::limits::format_size;
use crate::process::{locate_program, OutputLimits, Program, RunError};
use crate::provider::body::{read_capped, BodyError};
use crate::provider::types::ToolSpec;
use crate::trajectory::{ToolFailure, ToolOutcome};

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub struct CustomTool {
    pub spec: ToolSpec,
    pub kind: CustomKind,
}

#[derive(Debug)]
pub enum CustomKind {
    Mock(Vec<MockToolReply>),
    Http {
        url: String,
        timeout: Duration,
        /// The largest reply body read (`run.limits.max_output_bytes`).
        max_reply_bytes: u64,
    },
    Command {
        /// `argv[0]` resolved without following symlinks; run in the suite's folder.
        program: Program,
        timeout: Duration,
        limits: OutputLimits,
    },
}

/// One canned reply of a `mock` tool: when it applies and what the tool returns.
#[derive(Debug)]
pub struct MockToolReply {
    pub case: Option<GlobMatcher>,
    pub args: Option<Regex>,
    pub outcome: ToolOutcome,
}

/// Why a suite's custom tool is invalid (each names the tool).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CustomToolError {
    #[error(
        "custom tool name `{0}` must be letters, digits, `_` or `-` (hint: providers reject other names)"
    )]
    BadName(String),
    #[error("custom tool `{tool}`: invalid `parameters` schema: {reason}")]
    BadSchema { tool: String, reason: String },
    #[error("custom tool `{0}` needs exactly one of `mock`, `http`, `command`")]
    NotOneKind(String),
    #[error("custom tool `{tool}`: {reason}")]
    BadTimeout { tool: String, reason: String },
    #[error("custom tool `{tool}`, reply {reply}: give exactly one of `result`, `error`")]
    NotOneOutcome { tool: String, reply: usize },
    #[error("custom tool `{tool}`, reply {reply}: invalid case glob: {reason}")]
    BadCaseGlob {
        tool: String,
        reply: usize,
        reason: String,
    },
    #[error("custom tool `{tool}`, reply {reply}: invalid args regex: {reason}")]
    BadArgsRegex {
        tool: String,
        reply: usize,
        reason: String,
    },
    #[error("custom tool `{tool}`: url `{url}` must start with http:// or https://")]
    BadUrl { tool: String, url: String },
    #[error("custom tool `{0}`: `argv` must not be empty")]
    EmptyArgv(String),
}

impl CustomTool {
    /// Validates and compiles what the suite wrote.
    pub(crate) fn compile(
        raw: &RawCustomTool,
        suite_dir: &Path,
        limits: OutputLimits,
    ) -> Result<CustomTool, CustomToolError> {
        let name = &raw.name;
        let tool = || name.clone();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(CustomToolError::BadName(tool()));
        }
        let parameters = raw
            .parameters
            .clone()
            .unwrap_or_else(|| serde_json::json!({"type": "object"}));
        jsonschema::validator_for(&parameters).map_err(|e| CustomToolError::BadSchema {
            tool: tool(),
            reason: e.to_string(),
        })?;
        let kinds = [
            raw.mock.is_some(),
            raw.http.is_some(),
            raw.command.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            return Err(CustomToolError::NotOneKind(tool()));
        }
        let timeout = |t: &Option<String>| -> Result<Duration, CustomToolError> {
            t.as_deref()
                .map(parse_duration)
                .transpose()
                .map(|d| d.unwrap_or(DEFAULT_TIMEOUT))
                .map_err(|e| CustomToolError::BadTimeout {
                    tool: tool(),
                    reason: e.to_string(),
                })
        };
        let kind = if let Some(m) = &raw.mock {
            let mut replies = Vec::new();
            for (i, r) in m.replies.iter().enumerate() {
                let reply = i + 1;
                let outcome = match (&r.result, &r.error) {
                    (Some(v), None) => Ok(v.clone()),
                    (None, Some(e)) => Err(e.clone()),
                    _ => {
                        return Err(CustomToolError::NotOneOutcome {
                            tool: tool(),
                            reply,
                        })
                    }
                };
                let case = r
                    .when
                    .case
                    .as_deref()
                    .map(|g| Glob::new(g).map(|g| g.compile_matcher()))
                    .transpose()
                    .map_err(|e| CustomToolError::BadCaseGlob {
                        tool: tool(),
                        reply,
                        reason: e.to_string(),
                    })?;
                let args = r
                    .when
                    .args
                    .as_deref()
                    .map(Regex::new)
                    .transpose()
                    .map_err(|e| CustomToolError::BadArgsRegex {
                        tool: tool(),
                        reply,
                        reason: e.to_string(),
                    })?;
                replies.push(MockToolReply {
                    case,
                    args,
                    outcome: outcome.map_err(ToolFailure),
                });
            }
            CustomKind::Mock(replies)
        } else if let Some(h) = &raw.http {
            if !(h.url.starts_with("http://") || h.url.starts_with("https://")) {
                return Err(CustomToolError::BadUrl {
                    tool: tool(),
                    url: h.url.clone(),
                });
            }
            CustomKind::Http {
                url: h.url.clone(),
                timeout: timeout(&h.timeout)?,
                max_reply_bytes: limits.max_output_bytes,
            }
        } else if let Some(c) = &raw.command {
            let Some(program) = c.argv.first() else {
                return Err(CustomToolError::EmptyArgv(tool()));
            };
            // `./tool.py` is relative to the suite file, like every other path in a suite;
            // a bare `python3` is looked up on PATH. A program that is missing is found out
            // when it is called, and the model is told.
            let path = locate_program(program, suite_dir);
            CustomKind::Command {
                program: Program {
                    path,
                    args: c.argv[1..].to_vec(),
                    // Where gauntlet runs, as before process groups came in.
                    cwd: ".".into(),
                    env: Default::default(),
                    pass_env: c.pass_env.clone(),
                },
                timeout: timeout(&c.timeout)?,
                limits,
            }
        } else {
            unreachable!("exactly one kind was checked above")
        };
        Ok(CustomTool {
            spec: ToolSpec {
                name: name.clone(),
                description: raw.description.clone().unwrap_or_default(),
                parameters,
            },
            kind,
        })
    }

    /// Runs the tool on validated arguments. `Err` is what the model is told.
    pub async fn run(&self, case_id: &str, args: &Value) -> ToolOutcome {
        self.run_in(&ToolContext::for_case(case_id), args).await
    }

    /// Runs the tool on validated arguments within a run: `http` and `command` tools are told
    /// the case, repeat, call index and session (`ToolContext`).
    pub async fn run_in(&self, ctx: &ToolContext, args: &Value) -> ToolOutcome {
        match &self.kind {
            CustomKind::Mock(replies) => mock_reply(replies, &ctx.case_id, args),
            CustomKind::Http {
                url,
                timeout,
                max_reply_bytes,
            } => http_call(url, *timeout, *max_reply_bytes, ctx, args).await,
            CustomKind::Command {
                program,
                timeout,
                limits,
            } => command_call(program, *timeout, *limits, ctx, args).await,
        }
    }
}

fn mock_reply(replies: &[MockToolReply], case_id: &str, args: &Value) -> ToolOutcome {
    // serde_json's map is a BTreeMap here, so compact JSON has its keys sorted.
    let text = args.to_string();
    replies
        .iter()
        .find(|r| {
            r.case.as_ref().is_none_or(|g| g.is_match(case_id))
                && r.args.as_ref().is_none_or(|re| re.is_match(&text))
        })
        .ok_or_else(|| format!("no mock reply matches the arguments {text}"))?
        .outcome
        .clone()
}

/// One client for every `http` tool of the process (each request sets its own timeout).
fn client() -> Result<&'static reqwest::Client, crate::http_client::HttpClientError> {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(c) = CLIENT.get() {
        return Ok(c);
    }
    let built = crate::http_client::build("http tools", None)?;
    Ok(CLIENT.get_or_init(|| built))
}

async fn http_call(
    url: &str,
    timeout: Duration,
    max_reply_bytes: u64,
    ctx: &ToolContext,
    args: &Value,
) -> ToolOutcome {
    let mut request = client()
        .map_err(|e| ToolFailure(e.to_string()))?
        .post(url)
        .timeout(timeout)
        .json(args);
    for (_, header, value) in ctx.pairs() {
        request = request.header(header, value);
    }
    let response = request
        .send()
        .await
        .map_err(|e| format!("tool endpoint unreachable: {e}"))?;
    let status = response.status();
    // Read as a capped stream: an endless reply costs at most the limit.
    let body = match read_capped(response, max_reply_bytes).await {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(BodyError::TooLarge { limit }) => {
            return Err(format!(
                "tool endpoint reply is larger than run.limits.max_output_bytes ({})",
                format_size(limit)
            )
            .into())
        }
        Err(BodyError::Transport(e)) => return Err(format!("tool endpoint: {e}").into()),
    };
    if !status.is_success() {
        return Err(format!("tool endpoint answered {status}: {}", clip(&body)).into());
    }
    parse_result(&body)
}

async fn command_call(
    program: &Program,
    timeout: Duration,
    limits: OutputLimits,
    ctx: &ToolContext,
    args: &Value,
) -> ToolOutcome {
    let mut program = program.clone();
    for (var, _, value) in ctx.pairs() {
        program.env.insert(var.to_string(), value);
    }
    let program = &program;
    let input = args.to_string();
    let name = program.path.display();
    let output = match program.run(input.as_bytes(), limits, Some(timeout)).await {
        Ok(o) => o,
        Err(RunError::Spawn(e)) => return Err(format!("cannot start `{name}`: {e}").into()),
        Err(e) => return Err(format!("tool process {e}").into()),
    };
    if !output.status.success() {
        return Err(format!(
            "tool process failed ({}): {}",
            output.status,
            clip(output.stderr.trim())
        )
        .into());
    }
    parse_result(&String::from_utf8_lossy(&output.stdout))
}

/// A tool's reply must be JSON; plain text is kept as a JSON string so a simple script works.
fn parse_result(body: &str) -> ToolOutcome {
    let body = body.trim();
    Ok(serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_string())))
}

fn clip(s: &str) -> String {
    const MAX: usize = 300;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::harness::raw_custom_tool::RawCustomTool;
    use crate::process::find_on_path;
    use serde_json::json;

    fn compile(yaml: &str) -> Result<CustomTool, CustomToolError> {
        let raw: RawCustomTool = serde_yaml::from_str(yaml).unwrap();
        CustomTool::compile(&raw, Path::new("/suites"), OutputLimits::default())
    }

    #[tokio::test]
    async fn mock_replies_match_by_case_and_args_in_order() {
        let t = compile(
            r#"
name: weather
mock:
  replies:
    - when: {case: "storm-*"}
      error: "service unavailable"
    - when: {args: '"city":"Paris"'}
      result: {temp: 12}
    - result: {temp: 20}
"#,
        )
        .unwrap();
        let paris = json!({"city": "Paris"});
        assert_eq!(
            t.run("storm-1", &paris).await,
            Err(ToolFailure("service unavailable".into()))
        );
        assert_eq!(t.run("c", &paris).await, Ok(json!({"temp": 12})));
        assert_eq!(
            t.run("c", &json!({"city": "Rome"})).await,
            Ok(json!({"temp": 20}))
        );
    }

    #[test]
    fn bad_definitions_are_rejected_with_a_reason() {
        let table = [
            ("name: t\n", "exactly one of"),
            (
                "name: t\nmock: {replies: []}\nhttp: {url: 'http://x'}",
                "exactly one of",
            ),
            ("name: 'a b'\nmock: {replies: []}", "letters, digits"),
            ("name: t\nhttp: {url: 'ftp://x'}", "http://"),
            ("name: t\ncommand: {argv: []}", "must not be empty"),
            (
                "name: t\nmock: {replies: [{result: 1, error: x}]}",
                "exactly one of `result`",
            ),
            (
                "name: t\nmock: {replies: [{when: {args: '('}, result: 1}]}",
                "regex",
            ),
            (
                "name: t\nparameters: {type: 12}\nmock: {replies: []}",
                "parameters",
            ),
            (
                "name: t\nhttp: {url: 'http://x', timeout: soon}",
                "custom tool `t`",
            ),
        ];
        for (yaml, want) in table {
            let err = compile(yaml).unwrap_err().to_string();
            assert!(err.contains(want), "{yaml}: {err}");
        }
    }

    #[test]
    fn relative_programs_resolve_against_the_suite() {
        let t = compile("name: t\ncommand: {argv: ['./tool.sh', '-v']}").unwrap();
        let CustomKind::Command { program, .. } = &t.kind else {
            panic!()
        };
        assert_eq!(program.path, Path::new("/suites/tool.sh"));
        assert_eq!(program.args, ["-v"]);
        let t = compile("name: t\ncommand: {argv: [sh]}").unwrap();
        let CustomKind::Command { program, .. } = &t.kind else {
            panic!()
        };
        assert_eq!(program.path, find_on_path("sh").unwrap());
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn command_tools_get_args_on_stdin_and_are_killed_on_timeout() {
        let echo = compile("name: t\ncommand: {argv: [cat]}").unwrap();
        assert_eq!(echo.run("c", &json!({"a": 1})).await, Ok(json!({"a": 1})));
        let failing =
            compile("name: t\ncommand: {argv: [sh, -c, 'echo nope >&2; exit 3']}").unwrap();
        let err = failing.run("c", &json!({})).await.unwrap_err();
        assert!(err.0.contains("nope"), "{err}");
        let slow = compile("name: t\ncommand: {argv: [sleep, '30'], timeout: 200ms}").unwrap();
        let err = slow.run("c", &json!({})).await.unwrap_err();
        assert!(err.0.contains("timed out"), "{err}");
        let missing = compile("name: t\ncommand: {argv: [/nonexistent/tool]}").unwrap();
        assert!(missing
            .run("c", &json!({}))
            .await
            .unwrap_err()
            .0
            .contains("cannot start"));
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_timed_out_command_tool_leaves_no_grandchild() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("grandchild.pid");
        let script = format!("sleep 300 & echo $! > {}; sleep 300", pid_file.display());
        let yaml = format!("name: t\ncommand: {{argv: [sh, -c, '{script}'], timeout: 300ms}}");
        let err = compile(&yaml)
            .unwrap()
            .run("c", &json!({}))
            .await
            .unwrap_err();
        assert!(err.0.contains("timed out"), "{err}");
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        assert!(
            !crate::process::is_running(&pid),
            "the grandchild {pid} survived"
        );
    }

    #[tokio::test]
    async fn http_tools_post_the_arguments_and_read_json() {
        use wiremock::matchers::{body_json, method, path};
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/weather"))
            .and(body_json(json!({"city": "Paris"})))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"temp": 12})))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/down"))
            .respond_with(ResponseTemplate::new(503).set_body_string("overloaded"))
            .mount(&server)
            .await;
        let ok = compile(&format!(
            "name: t\nhttp: {{url: '{}/weather'}}",
            server.uri()
        ))
        .unwrap();
        assert_eq!(
            ok.run("c", &json!({"city": "Paris"})).await,
            Ok(json!({"temp": 12}))
        );
        let down = compile(&format!("name: t\nhttp: {{url: '{}/down'}}", server.uri())).unwrap();
        let err = down.run("c", &json!({})).await.unwrap_err();
        assert!(
            err.0.contains("503") && err.0.contains("overloaded"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn http_tools_are_told_the_run_in_headers_and_the_body_stays_the_arguments() {
        use crate::agent::harness::tool_context::ToolContext;
        use wiremock::matchers::{body_json, header, method};
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(header("x-gauntlet-case-id", "c7"))
            .and(header("x-gauntlet-repeat", "2"))
            .and(header("x-gauntlet-call-index", "3"))
            .and(header("x-gauntlet-session", "abc"))
            .and(body_json(json!({"q": 1})))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
            .mount(&server)
            .await;
        let tool = compile(&format!("name: t\nhttp: {{url: '{}'}}", server.uri())).unwrap();
        let ctx = ToolContext {
            case_id: "c7".into(),
            repeat: 2,
            call_index: 3,
            session: "abc".into(),
        };
        assert_eq!(
            tool.run_in(&ctx, &json!({"q": 1})).await,
            Ok(json!({"ok": true}))
        );
        // Without the headers the server has no matching answer.
        assert!(tool.run("c7", &json!({"q": 1})).await.is_err());
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn command_tools_are_told_the_run_in_their_environment() {
        use crate::agent::harness::tool_context::ToolContext;
        let tool = compile(
            "name: t\ncommand: {argv: [sh, -c, 'printf \"%s %s %s %s\" $GAUNTLET_CASE_ID $GAUNTLET_REPEAT $GAUNTLET_CALL_INDEX $GAUNTLET_SESSION']}",
        )
        .unwrap();
        let ctx = ToolContext {
            case_id: "c7".into(),
            repeat: 1,
            call_index: 4,
            session: "s9".into(),
        };
        assert_eq!(tool.run_in(&ctx, &json!({})).await, Ok(json!("c7 1 4 s9")));
    }

    #[tokio::test]
    async fn an_http_tool_reply_over_the_output_limit_is_an_error() {
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(2048)))
            .mount(&server)
            .await;
        let raw: RawCustomTool =
            serde_yaml::from_str(&format!("name: t\nhttp: {{url: '{}'}}", server.uri())).unwrap();
        let limits = OutputLimits {
            max_output_bytes: 1024,
            max_stderr_bytes: 1024,
        };
        let tool = CustomTool::compile(&raw, Path::new("."), limits).unwrap();
        let err = tool.run("c", &json!({})).await.unwrap_err();
        assert!(
            err.0
                .contains("larger than run.limits.max_output_bytes (1 KiB)"),
            "{err}"
        );
    }
}
