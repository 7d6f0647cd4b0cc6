//! `CommandTarget`: the user's agent as a process speaking the JSON protocol on stdin/stdout.
//!
//! The program is started directly (never through a shell), in the suite's folder unless `cwd`
//! says otherwise, with `env` added to gauntlet's environment, through `crate::process`: its
//! own process group, killed whole when the runner's per-case timeout drops the case's future.
//!
//! Per-case mode: one process per case; the request JSON on stdin (then stdin is closed), the
//! reply JSON on stdout, exit status 0.
//!
//! Persistent mode: long-lived processes serving JSON lines, one request line in, one reply line
//! out. They form a small pool: a case takes an idle process (or starts one), and gives it back
//! only after a clean exchange, so at most `concurrency` processes run and each serves one case
//! at a time. A process that dies, times out or answers garbage is dropped (killed), and a later
//! case starts a fresh one: a dropped exchange can never leave a stale reply for the next case.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::Deserialize;

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout};

use crate::agent::case_input::CaseInput;
use crate::agent::conversation::{converse, TurnAgent};
use crate::agent::protocol::{parse_reply, read_reply, Reply, Request};
use crate::agent::target::Target;
use crate::agent::target_load::TargetLoad;
use crate::agent::traced::{reply_trajectory, Traced};
use crate::otlp::receiver::TraceRun;
use crate::otlp::traces::Traces;
use crate::process::{
    describe_exit, output_limit_message, read_line_bounded, resolve_program, Group, OutputLimits,
    Program, ProgramError, RunError, Tail,
};
use crate::provider::registry::Providers;
use crate::provider::types::ModelId;
use crate::text::tail;
use crate::trajectory::Trajectory;

/// How much of the agent's stderr a message quotes.
const STDERR_TAIL: usize = 600;

/// The user's agent as a process: the JSON protocol on stdin/stdout.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCommand {
    /// Program and arguments; never run through a shell. `argv[0]` is found relative to the
    /// suite's folder when it contains a `/`, else on `PATH`.
    pub argv: Vec<String>,
    /// One long-lived process serving JSON lines instead of one process per case.
    #[serde(default)]
    pub persistent: bool,
    /// Added to gauntlet's own environment.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Provider keys (`*_API_KEY`) the agent may see; all others are withheld.
    #[serde(default)]
    pub pass_env: Vec<String>,
    /// Working directory, relative to the suite's folder (default: the suite's folder).
    #[serde(default)]
    pub cwd: Option<String>,
    /// `otlp`: receive the agent's OpenTelemetry spans as its trajectory.
    #[serde(default)]
    pub traces: Option<crate::otlp::traces::Traces>,
    /// The model that plays a case's simulated `user` (the turn protocol), e.g. `mock:user`.
    #[serde(default)]
    pub user_model: Option<String>,
    /// Send every case turn by turn (the turn protocol), even one with no simulated user:
    /// one request per scripted turn.
    #[serde(default)]
    pub turn_by_turn: bool,
}

#[derive(Debug)]
pub struct CommandTarget {
    /// `argv` as written in the suite: what the report's target label shows.
    pub argv: Vec<String>,
    /// The resolved program, its arguments, folder and environment.
    pub program: Program,
    pub persistent: bool,
    pub limits: OutputLimits,
    /// `traces: otlp`: the run's spans are its trajectory when the reply carries none.
    pub traced: Traced,
    /// Plays a case's simulated user, turn by turn (`agent::conversation`).
    pub user_model: Option<ModelId>,
    /// `turn_by_turn`: every case goes through the turn protocol.
    pub turn_by_turn: bool,
    /// Idle persistent processes.
    idle: Mutex<Vec<Process>>,
}

impl CommandTarget {
    /// `program.path` is `argv[0]` resolved (`crate::process::resolve_program`).
    pub fn new(
        argv: Vec<String>,
        program: Program,
        persistent: bool,
        limits: OutputLimits,
    ) -> Self {
        CommandTarget {
            argv,
            program,
            persistent,
            limits,
            traced: Traced::default(),
            user_model: None,
            turn_by_turn: false,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// This target with the model that plays simulated users.
    pub fn with_user_model(mut self, user_model: Option<ModelId>) -> Self {
        self.user_model = user_model;
        self
    }

    /// This target with its `turn_by_turn` setting.
    pub fn with_turn_by_turn(mut self, turn_by_turn: bool) -> Self {
        self.turn_by_turn = turn_by_turn;
        self
    }

    /// This target with its `traces:` setting.
    pub fn with_traces(mut self, traces: Option<Traces>) -> Self {
        self.traced = Traced::new(traces);
        self
    }

    /// The program's path, for messages.
    pub fn path(&self) -> &std::path::Path {
        &self.program.path
    }

    fn spawn_error(&self, e: impl std::fmt::Display) -> Trajectory {
        Trajectory::errored(format!(
            "cannot start the agent `{}`: {e}",
            self.program.path.display()
        ))
    }

    /// The program of one traced process (a run's, or a turn's): its trace context and the
    /// receiver's endpoint in its environment.
    fn program_for(
        &self,
        trace: Option<&TraceRun>,
        case_id: &str,
        repeat: u32,
    ) -> Cow<'_, Program> {
        let Some(run) = trace else {
            return Cow::Borrowed(&self.program);
        };
        let mut p = self.program.clone();
        for (k, v) in run.context().env(&run.endpoint(), case_id, repeat) {
            let v = match (k.as_str(), p.env.get(&k)) {
                // The suite's own resource attributes are kept beside the run's.
                ("OTEL_RESOURCE_ATTRIBUTES", Some(own)) => format!("{own},{v}"),
                _ => v,
            };
            p.env.insert(k, v);
        }
        Cow::Owned(p)
    }

    /// An idle persistent process, or a new one. A long-lived process learns where to export
    /// once; each request carries its run's (or turn's) `traceparent`.
    fn idle_or_spawn(&self, trace: Option<&TraceRun>) -> Result<Process, Trajectory> {
        if let Some(p) = self.idle.lock().ok().and_then(|mut pool| pool.pop()) {
            return Ok(p);
        }
        let spawned = match trace {
            Some(run) => {
                let mut p = self.program.clone();
                let env = run.context().env(&run.endpoint(), "", 0);
                for (k, v) in env
                    .into_iter()
                    .filter(|(k, _)| k.starts_with("OTEL_EXPORTER"))
                {
                    p.env.insert(k, v);
                }
                Process::spawn(&p, self.limits)
            }
            None => Process::spawn(&self.program, self.limits),
        };
        spawned.map_err(|e| self.spawn_error(e))
    }

    /// Runs one case: never fails, a broken agent gives an `errored` trajectory. A case with
    /// a simulated user is a conversation (the turn protocol), one exchange per user turn.
    pub(crate) async fn run(
        &self,
        case: &dyn CaseInput,
        repeat: u32,
        providers: &Providers,
    ) -> Trajectory {
        if self.turn_by_turn || case.simulated_user().is_some() {
            let user_model = self.user_model.as_ref();
            return if self.persistent {
                let mut agent = PersistentTurns {
                    target: self,
                    process: None,
                    id: case.id(),
                    repeat,
                };
                let t = converse(case, repeat, user_model, providers, &mut agent).await;
                // Only a process whose every exchange was clean goes back to the pool.
                if let (Some(p), Ok(mut pool)) = (agent.process, self.idle.lock()) {
                    pool.push(p);
                }
                t
            } else {
                let mut agent = OnceTurns {
                    target: self,
                    id: case.id(),
                    repeat,
                };
                converse(case, repeat, user_model, providers, &mut agent).await
            };
        }
        if self.persistent {
            self.run_persistent(case, repeat).await
        } else {
            self.run_once(case, repeat).await
        }
    }

    async fn run_once(&self, case: &dyn CaseInput, repeat: u32) -> Trajectory {
        let trace = match self
            .traced
            .begin(case.id(), repeat, self.limits.max_output_bytes)
            .await
        {
            Ok(t) => t,
            Err(e) => return Trajectory::errored(e.to_string()),
        };
        let program = self.program_for(trace.as_ref(), case.id(), repeat);
        let request = Request::new(case)
            .with_repeat(repeat)
            .with_traceparent(trace.as_ref().map(|t| t.context().traceparent()))
            .to_line();
        let (stdout, stderr) = match self.exchange_once(&program, &request).await {
            Ok(out) => out,
            Err(t) => return t,
        };
        let mut trajectory = reply_trajectory(&stdout, trace).await;
        if let Some(error) = &mut trajectory.error {
            add_stderr(error, &stderr);
        }
        trajectory
    }

    /// One process for one request: its stdout and stderr, or the `errored` trajectory of a
    /// process that could not start or failed.
    async fn exchange_once(
        &self,
        program: &Program,
        request: &str,
    ) -> Result<(String, String), Trajectory> {
        // No timeout here: the runner's per-case timeout drops this future, which kills the
        // agent's whole process group.
        let output = match program.run(request.as_bytes(), self.limits, None).await {
            Ok(o) => o,
            Err(RunError::Spawn(e)) => return Err(self.spawn_error(e)),
            Err(e) => return Err(Trajectory::errored(format!("the agent: {e}"))),
        };
        let stderr = output.stderr;
        if !output.status.success() {
            return Err(Trajectory::errored(format!(
                "the agent {}; stderr: {}",
                describe_exit(output.status),
                tail(&stderr, STDERR_TAIL)
            )));
        }
        Ok((String::from_utf8_lossy(&output.stdout).into_owned(), stderr))
    }

    async fn run_persistent(&self, case: &dyn CaseInput, repeat: u32) -> Trajectory {
        let trace = match self
            .traced
            .begin(case.id(), repeat, self.limits.max_output_bytes)
            .await
        {
            Ok(t) => t,
            Err(e) => return Trajectory::errored(e.to_string()),
        };
        let mut process = match self.idle_or_spawn(trace.as_ref()) {
            Ok(p) => p,
            Err(t) => return t,
        };
        let request = Request::new(case)
            .with_repeat(repeat)
            .with_traceparent(trace.as_ref().map(|t| t.context().traceparent()))
            .to_line();
        match process.exchange(&request).await {
            Ok(line) => {
                let Some(reply) = json(&line) else {
                    // Not even JSON: the stream is out of step; the process is dropped.
                    return parse_reply(&line);
                };
                if let Err(reason) = same_exchange(&reply, case.id(), repeat) {
                    return Trajectory::errored(reason.to_string());
                }
                if process.has_more_output().await {
                    return Trajectory::errored(format!(
                        "the agent printed more than one line for case `{}` repeat {repeat}; \
                         it was restarted (hint: a persistent agent prints exactly one reply line \
                         per request, and logs to stderr)",
                        case.id()
                    ));
                }
                // One reply, for this very request: the stream is in step, reuse it.
                if let Ok(mut pool) = self.idle.lock() {
                    pool.push(process);
                }
                reply_trajectory(&line, trace).await
            }
            // The process is dropped here, which kills its group; the next case starts anew.
            Err(reason) => Trajectory::errored(format!(
                "{reason}; stderr: {}",
                tail(&process.stderr_text(), STDERR_TAIL)
            )),
        }
    }
}

/// A malformed reply's message gains the agent's stderr, which usually says why.
fn add_stderr(error: &mut String, stderr: &str) {
    if error.starts_with("invalid reply") && !stderr.trim().is_empty() {
        error.push_str(&format!("; stderr: {}", tail(stderr, STDERR_TAIL)));
    }
}

/// The turn protocol on a per-case command: one process per turn.
struct OnceTurns<'a> {
    target: &'a CommandTarget,
    id: &'a str,
    repeat: u32,
}

impl TurnAgent for OnceTurns<'_> {
    async fn answer(
        &mut self,
        request: String,
        trace: Option<&TraceRun>,
    ) -> Result<Reply, Trajectory> {
        let program = self.target.program_for(trace, self.id, self.repeat);
        let (stdout, stderr) = self.target.exchange_once(&program, &request).await?;
        read_reply(&stdout).map_err(|mut t| {
            if let Some(error) = &mut t.error {
                add_stderr(error, &stderr);
            }
            t
        })
    }

    fn traced(&self) -> &Traced {
        &self.target.traced
    }

    fn max_trace_bytes(&self) -> u64 {
        self.target.limits.max_output_bytes
    }
}

/// The turn protocol on a persistent command: every turn of the run on one process, which
/// goes back to the pool only if every exchange was clean (`process` is then `Some`).
struct PersistentTurns<'a> {
    target: &'a CommandTarget,
    process: Option<Process>,
    id: &'a str,
    repeat: u32,
}

impl TurnAgent for PersistentTurns<'_> {
    async fn answer(
        &mut self,
        request: String,
        trace: Option<&TraceRun>,
    ) -> Result<Reply, Trajectory> {
        let target = self.target;
        let mut process = match self.process.take() {
            Some(p) => p,
            None => target.idle_or_spawn(trace)?,
        };
        let line = match process.exchange(&request).await {
            Ok(line) => line,
            Err(reason) => {
                return Err(Trajectory::errored(format!(
                    "{reason}; stderr: {}",
                    tail(&process.stderr_text(), STDERR_TAIL)
                )))
            }
        };
        let Some(value) = json(&line) else {
            return Err(parse_reply(&line));
        };
        if let Err(reason) = same_exchange(&value, self.id, self.repeat) {
            return Err(Trajectory::errored(reason.to_string()));
        }
        if process.has_more_output().await {
            return Err(Trajectory::errored(
                "the agent printed more than one line for one turn; it was restarted (hint: a \
                 persistent agent prints exactly one reply line per request, and logs to stderr)",
            ));
        }
        let reply = read_reply(&line)?;
        self.process = Some(process);
        Ok(reply)
    }

    fn traced(&self) -> &Traced {
        &self.target.traced
    }

    fn max_trace_bytes(&self) -> u64 {
        self.target.limits.max_output_bytes
    }
}

fn json(line: &str) -> Option<serde_json::Value> {
    serde_json::from_str(line).ok()
}

/// Whether a persistent agent's reply echoes the request's `id` and `repeat`. A reply for
/// another case (a stale line, an extra line) must never be scored as this one's.
fn same_exchange(reply: &serde_json::Value, id: &str, repeat: u32) -> Result<(), ExchangeError> {
    let got_id = reply.get("id");
    let got_repeat = reply.get("repeat");
    if got_id.and_then(|v| v.as_str()) == Some(id)
        && got_repeat.and_then(|v| v.as_u64()) == Some(u64::from(repeat))
    {
        return Ok(());
    }
    let shown = |v: Option<&serde_json::Value>| v.map_or("nothing".to_string(), |v| v.to_string());
    Err(ExchangeError::OtherCase {
        got_id: crate::text::truncate(&shown(got_id), 100),
        got_repeat: crate::text::truncate(&shown(got_repeat), 20),
        id: id.to_string(),
        repeat,
    })
}

/// Why an exchange with a persistent agent gave no reply for this request; the process is
/// dropped (killed) and the next case starts a fresh one.
#[derive(Debug, thiserror::Error)]
enum ExchangeError {
    /// `exited`: `" (it exited with status 1)"` when the process had ended, else empty.
    #[error("cannot send the case to the agent: {source}{exited}")]
    Send {
        source: std::io::Error,
        exited: String,
    },
    #[error("the agent closed its output before replying{exited}")]
    Closed { exited: String },
    #[error("the agent's reply line: {}", output_limit_message(*.0))]
    TooLong(u64),
    #[error("cannot read the agent's reply: {0}")]
    Read(RunError),
    #[error(
        "the agent's reply is for id {got_id} repeat {got_repeat}, not for case `{id}` repeat \
         {repeat}; it was restarted (hint: a persistent agent echoes the request's `id` and \
         `repeat` in its reply)"
    )]
    OtherCase {
        got_id: String,
        got_repeat: String,
        id: String,
        repeat: u32,
    },
}

/// One running persistent agent. Dropping it kills its whole process group.
#[derive(Debug)]
struct Process {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// The tail of stderr, filled by a background task.
    stderr: Arc<Mutex<Tail>>,
    max_line: u64,
    // Declared last: dropped after the pipes, kills the group.
    _group: Group,
}

impl Process {
    fn spawn(program: &Program, limits: OutputLimits) -> std::io::Result<Process> {
        let (mut child, group) = program.spawn()?;
        let (Some(stdin), Some(stdout), Some(mut stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(std::io::Error::other("the agent's pipes are missing"));
        };
        let kept = Arc::new(Mutex::new(Tail::new(limits.max_stderr_bytes)));
        let sink = kept.clone();
        // Drain stderr so a chatty agent never blocks on a full pipe; keep the tail.
        tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            let mut buf = [0u8; 16 * 1024];
            while let Ok(n) = stderr.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                if let Ok(mut kept) = sink.lock() {
                    kept.push(&buf[..n]);
                }
            }
        });
        Ok(Process {
            child,
            stdin,
            stdout: BufReader::new(stdout),
            stderr: kept,
            max_line: limits.max_output_bytes,
            _group: group,
        })
    }

    /// Sends one request line and reads one reply line.
    async fn exchange(&mut self, request: &str) -> Result<String, ExchangeError> {
        let sent = async {
            self.stdin.write_all(request.as_bytes()).await?;
            self.stdin.write_all(b"\n").await?;
            self.stdin.flush().await
        }
        .await;
        if let Err(source) = sent {
            return Err(ExchangeError::Send {
                source,
                exited: self.exit_note().await,
            });
        }
        match read_line_bounded(&mut self.stdout, self.max_line).await {
            Ok(None) => Err(ExchangeError::Closed {
                exited: self.exit_note().await,
            }),
            Ok(Some(line)) => Ok(String::from_utf8_lossy(&line).into_owned()),
            Err(RunError::OutputTooLarge(limit)) => Err(ExchangeError::TooLong(limit)),
            Err(e) => Err(ExchangeError::Read(e)),
        }
    }

    /// Whether the agent has already printed more after its reply line: an extra line, which
    /// would otherwise be read as the next case's reply. (A line printed later is caught by
    /// the next exchange's id check.)
    async fn has_more_output(&mut self) -> bool {
        use tokio::io::AsyncBufReadExt;
        if !self.stdout.buffer().is_empty() {
            return true;
        }
        // A zero timeout still polls once: data already in the pipe is seen, nothing waits.
        matches!(
            tokio::time::timeout(std::time::Duration::ZERO, self.stdout.fill_buf()).await,
            Ok(Ok(buf)) if !buf.is_empty()
        )
    }

    /// `" (it exited with status 1)"` when the process has ended, after a short grace so a
    /// crashing process has time to be reaped.
    async fn exit_note(&mut self) -> String {
        let waited =
            tokio::time::timeout(std::time::Duration::from_millis(500), self.child.wait()).await;
        match waited {
            Ok(Ok(status)) => format!(" (it {})", describe_exit(status)),
            _ => String::new(),
        }
    }

    fn stderr_text(&self) -> String {
        self.stderr.lock().map(|t| t.text()).unwrap_or_default()
    }
}

/// Validates `target: {command: ...}`: the program is found, `cwd` is a folder.
pub(crate) fn load(raw: &RawCommand, cx: &mut TargetLoad) -> Option<Target> {
    let limits = cx.limits;
    let Some(program) = raw.argv.first() else {
        cx.problem("`command.argv` is empty", "argv").hint =
            Some("e.g. `argv: [python3, agent.py]`".into());
        return None;
    };
    let resolved = match resolve_program(program, cx.dir) {
        Ok(path) => Some(path),
        Err(e @ ProgramError::Missing(_)) => {
            cx.problem(format!("agent {e}"), program).hint = Some(
                "a program path with a `/` is relative to the suite file; a bare name is looked up on PATH".into(),
            );
            None
        }
        Err(e @ ProgramError::NotOnPath(_)) => {
            cx.problem(e.to_string(), program).hint = Some(
                "install it, or give a path such as `./agent` (relative to the suite file)".into(),
            );
            None
        }
    };
    let cwd_rel = raw.cwd.as_deref().unwrap_or("");
    let cwd = match cx.resolve(cwd_rel).canonicalize() {
        Ok(dir) if dir.is_dir() => Some(dir),
        _ => {
            cx.problem(
                format!("`cwd` {} is not a folder", cx.resolve(cwd_rel).display()),
                "cwd",
            )
            .hint = Some("`cwd` is relative to the suite file".into());
            None
        }
    };
    let program = Program {
        path: resolved?,
        args: raw.argv[1..].to_vec(),
        cwd: cwd?,
        env: raw.env.clone(),
        pass_env: raw.pass_env.clone(),
    };
    let user_model = crate::agent::target_load::user_model(raw.user_model.as_deref(), cx)?;
    Some(Target::Command(Arc::new(
        CommandTarget::new(raw.argv.clone(), program, raw.persistent, limits.into())
            .with_traces(raw.traces)
            .with_user_model(user_model)
            .with_turn_by_turn(raw.turn_by_turn),
    )))
}
