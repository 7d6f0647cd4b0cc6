//! `CommandTarget`: the user's agent as a process speaking the JSON protocol on stdin/stdout.
//!
//! The program is started directly (never through a shell), in the suite's folder unless `cwd`
//! says otherwise, with `env` added to gauntlet's environment. Every child is spawned with
//! `kill_on_drop`, so when the runner's per-case timeout drops the case's future, the process
//! is killed with it.
//!
//! Per-case mode: one process per case; the request JSON on stdin (then stdin is closed), the
//! reply JSON on stdout, exit status 0.
//!
//! Persistent mode: long-lived processes serving JSON lines, one request line in, one reply line
//! out. They form a small pool: a case takes an idle process (or starts one), and gives it back
//! only after a clean exchange, so at most `concurrency` processes run and each serves one case
//! at a time. A process that dies, times out or answers garbage is dropped (killed), and a later
//! case starts a fresh one: a dropped exchange can never leave a stale reply for the next case.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::agent::protocol::{parse_reply, Request};
use crate::suite::model::Case;
use crate::text::tail;
use crate::trajectory::Trajectory;

/// How much of the agent's stderr a message quotes.
const STDERR_TAIL: usize = 600;
/// How much stderr a persistent process keeps in memory (it may run for hours).
const STDERR_KEEP: usize = 4096;

#[derive(Debug)]
pub struct CommandTarget {
    /// `argv` as written in the suite: what the report's target label shows.
    pub argv: Vec<String>,
    /// `argv[0]` resolved: relative to the suite folder when it contains a `/`, else on `PATH`.
    pub program: PathBuf,
    pub persistent: bool,
    pub env: BTreeMap<String, String>,
    /// The working directory of the agent (the suite's folder by default).
    pub cwd: PathBuf,
    /// Idle persistent processes.
    idle: Mutex<Vec<Process>>,
}

impl CommandTarget {
    pub fn new(
        argv: Vec<String>,
        program: PathBuf,
        persistent: bool,
        env: BTreeMap<String, String>,
        cwd: PathBuf,
    ) -> Self {
        CommandTarget {
            argv,
            program,
            persistent,
            env,
            cwd,
            idle: Mutex::new(Vec::new()),
        }
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(self.argv.iter().skip(1))
            .envs(&self.env)
            .current_dir(&self.cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    fn spawn_error(&self, e: std::io::Error) -> Trajectory {
        Trajectory::errored(format!(
            "cannot start the agent `{}`: {e}",
            self.program.display()
        ))
    }

    /// Runs one case: never fails, a broken agent gives an `errored` trajectory.
    pub async fn run(&self, case: &Case) -> Trajectory {
        if self.persistent {
            self.run_persistent(case).await
        } else {
            self.run_once(case).await
        }
    }

    async fn run_once(&self, case: &Case) -> Trajectory {
        let mut child = match self.command().spawn() {
            Ok(c) => c,
            Err(e) => return self.spawn_error(e),
        };
        let request = Request::new(case).to_line();
        let stdin = child.stdin.take();
        // Write and read at once: an agent may answer before it has read all of its input.
        let write = async move {
            if let Some(mut stdin) = stdin {
                // An agent that exits without reading is judged by its exit status and reply.
                let _ = stdin.write_all(request.as_bytes()).await;
                let _ = stdin.write_all(b"\n").await;
            }
        };
        let (_, output) = tokio::join!(write, child.wait_with_output());
        let output = match output {
            Ok(o) => o,
            Err(e) => return Trajectory::errored(format!("lost the agent: {e}")),
        };
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            return Trajectory::errored(format!(
                "the agent {}; stderr: {}",
                describe_exit(output.status),
                tail(&stderr, STDERR_TAIL)
            ));
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let mut trajectory = parse_reply(&stdout);
        if let Some(error) = &mut trajectory.error {
            if error.starts_with("invalid reply") && !stderr.trim().is_empty() {
                error.push_str(&format!("; stderr: {}", tail(&stderr, STDERR_TAIL)));
            }
        }
        trajectory
    }

    async fn run_persistent(&self, case: &Case) -> Trajectory {
        let idle = self.idle.lock().ok().and_then(|mut pool| pool.pop());
        let mut process = match idle {
            Some(p) => p,
            None => match Process::spawn(self.command()) {
                Ok(p) => p,
                Err(e) => return self.spawn_error(e),
            },
        };
        match process.exchange(&Request::new(case).to_line()).await {
            Ok(line) => {
                let trajectory = parse_reply(&line);
                if is_json(&line) {
                    // One JSON line answered one request: the stream is in step, reuse it.
                    if let Ok(mut pool) = self.idle.lock() {
                        pool.push(process);
                    }
                }
                trajectory
            }
            // The process is dropped here, which kills it; the next case starts a new one.
            Err(reason) => Trajectory::errored(format!(
                "{reason}; stderr: {}",
                tail(&process.stderr_text(), STDERR_TAIL)
            )),
        }
    }
}

fn is_json(line: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(line).is_ok()
}

/// One running persistent agent.
#[derive(Debug)]
struct Process {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// The last `STDERR_KEEP` bytes of stderr, filled by a background task.
    stderr: Arc<Mutex<VecDeque<u8>>>,
}

impl Process {
    fn spawn(mut cmd: Command) -> std::io::Result<Process> {
        let mut child = cmd.spawn()?;
        let (Some(stdin), Some(stdout), Some(mut stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(std::io::Error::other("the agent's pipes are missing"));
        };
        let kept = Arc::new(Mutex::new(VecDeque::new()));
        let sink = kept.clone();
        // Drain stderr so a chatty agent never blocks on a full pipe; keep the tail.
        tokio::spawn(async move {
            let mut buf = [0u8; 1024];
            while let Ok(n) = stderr.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                if let Ok(mut kept) = sink.lock() {
                    kept.extend(&buf[..n]);
                    let excess = kept.len().saturating_sub(STDERR_KEEP);
                    kept.drain(..excess);
                }
            }
        });
        Ok(Process {
            child,
            stdin,
            stdout: BufReader::new(stdout),
            stderr: kept,
        })
    }

    /// Sends one request line and reads one reply line.
    async fn exchange(&mut self, request: &str) -> Result<String, String> {
        let sent = async {
            self.stdin.write_all(request.as_bytes()).await?;
            self.stdin.write_all(b"\n").await?;
            self.stdin.flush().await
        }
        .await;
        if let Err(e) = sent {
            return Err(format!(
                "cannot send the case to the agent: {e}{}",
                self.exit_note().await
            ));
        }
        let mut line = String::new();
        match self.stdout.read_line(&mut line).await {
            Ok(0) => Err(format!(
                "the agent closed its output before replying{}",
                self.exit_note().await
            )),
            Ok(_) => Ok(line),
            Err(e) => Err(format!("cannot read the agent's reply: {e}")),
        }
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
        self.stderr
            .lock()
            .map(|kept| {
                let (a, b) = kept.as_slices();
                let mut bytes = a.to_vec();
                bytes.extend_from_slice(b);
                String::from_utf8_lossy(&bytes).into_owned()
            })
            .unwrap_or_default()
    }
}

/// `exited with status 3`, `was killed by signal 9`.
fn describe_exit(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with status {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("was killed by signal {signal}");
        }
    }
    format!("ended abnormally ({status})")
}

/// Looks a bare program name up on `PATH`, as a shell would (first executable file wins).
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &std::path::Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_programs_on_path_but_not_missing_ones() {
        assert!(find_on_path("sh").is_some());
        assert!(find_on_path("no-such-program-gauntlet-xyz").is_none());
    }

    #[test]
    fn exit_statuses_read_plainly() {
        let status = std::process::Command::new("sh")
            .args(["-c", "exit 3"])
            .status()
            .unwrap();
        assert_eq!(describe_exit(status), "exited with status 3");
        let status = std::process::Command::new("sh")
            .args(["-c", "kill -9 $$"])
            .status()
            .unwrap();
        assert_eq!(describe_exit(status), "was killed by signal 9");
    }
}
