//! `Program`: the one way gauntlet runs a user's program — command agents (one-shot and
//! persistent), command checks and command tools.
//!
//! Every child starts in its own process group, registered in a table of live groups, so the
//! whole group (grandchildren included) is killed on timeout, when its future is dropped, and
//! at gauntlet's exit or abort (`kill_all`). A one-shot program's reply counts when the program
//! itself exits: the rest of its group is then killed, so a grandchild still holding the pipes
//! cannot make a correct reply time out. Stdout is bounded by `max_output_bytes` (a breach is an
//! error that names the limit); stderr is drained and only its last `max_stderr_bytes` kept.
//! Provider keys are withheld from the child's environment unless listed in `pass_env`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

use crate::limits::{format_size, Limits};

/// How long the pipes of an exited program may stay open (held by a process that left its
/// group) before what was read is used as is.
const PIPE_GRACE: Duration = Duration::from_secs(2);

/// A resolved program and how to start it.
#[derive(Debug, Clone)]
pub struct Program {
    /// `argv[0]` resolved by `resolve_program` (symlinks kept).
    pub path: PathBuf,
    pub args: Vec<String>,
    pub cwd: PathBuf,
    /// Added to gauntlet's environment (after the withheld keys are removed).
    pub env: BTreeMap<String, String>,
    /// Withheld variables the program may still see (`pass_env:`).
    pub pass_env: Vec<String>,
}

/// The bounds on what is read from a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputLimits {
    pub max_output_bytes: u64,
    pub max_stderr_bytes: u64,
}

impl From<&Limits> for OutputLimits {
    fn from(l: &Limits) -> Self {
        OutputLimits {
            max_output_bytes: l.max_output_bytes,
            max_stderr_bytes: l.max_stderr_bytes,
        }
    }
}

impl Default for OutputLimits {
    fn default() -> Self {
        OutputLimits::from(&Limits::default())
    }
}

/// What a finished one-shot program left.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    /// The last `max_stderr_bytes` of stderr, lossily decoded.
    pub stderr: String,
}

/// Why a program gave no result.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot start: {0}")]
    Spawn(std::io::Error),
    #[error("timed out after {}s and was killed", .0.as_secs_f64())]
    TimedOut(Duration),
    /// Stdout passed `max_output_bytes` (the value).
    #[error("{}", output_limit_message(*.0))]
    OutputTooLarge(u64),
    #[error("{0}")]
    Io(std::io::Error),
}

/// The message of a stdout that passed its limit: names the limit, as every breach does.
pub(crate) fn output_limit_message(limit: u64) -> String {
    format!(
        "its output exceeded `run.limits.max_output_bytes` ({}) and it was killed",
        format_size(limit)
    )
}

/// Whether gauntlet withholds this variable from the programs it runs: provider keys.
pub(crate) fn is_withheld(name: &str) -> bool {
    name.ends_with("_API_KEY")
}

impl Program {
    /// The command, ready to spawn: own process group, pipes, filtered environment.
    pub(crate) fn command(&self) -> Command {
        let mut cmd = Command::new(&self.path);
        cmd.args(&self.args)
            .current_dir(&self.cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        #[cfg(unix)]
        cmd.process_group(0);
        for (name, _) in std::env::vars_os() {
            if let Some(name) = name.to_str() {
                if is_withheld(name) && !self.pass_env.iter().any(|p| p == name) {
                    cmd.env_remove(name);
                }
            }
        }
        cmd.envs(&self.env);
        cmd
    }

    /// Starts the program; the returned guard kills its whole group when dropped.
    pub(crate) fn spawn(&self) -> std::io::Result<(Child, Group)> {
        let child = self.command().spawn()?;
        let group = Group::register(child.id());
        Ok((child, group))
    }

    /// Runs the program to its end: `input` on stdin (then closed), stdout bounded, stderr's
    /// tail kept. `timeout: None` relies on the caller dropping the future to stop it.
    pub async fn run(
        &self,
        input: &[u8],
        limits: OutputLimits,
        timeout: Option<Duration>,
    ) -> Result<Finished, RunError> {
        let (mut child, group) = self.spawn().map_err(RunError::Spawn)?;
        let mut stdout_buf = Vec::new();
        let mut stderr_tail = Tail::new(limits.max_stderr_bytes);
        let work = run_child(
            &mut child,
            &group,
            input,
            limits.max_output_bytes,
            &mut stdout_buf,
            &mut stderr_tail,
        );
        let status = match timeout {
            Some(t) => match tokio::time::timeout(t, work).await {
                Ok(r) => r,
                Err(_) => Err(RunError::TimedOut(t)),
            },
            None => work.await,
        };
        // Whatever happened, nothing of this program outlives the call.
        drop(group);
        let status = status?;
        Ok(Finished {
            status,
            stdout: stdout_buf,
            stderr: stderr_tail.text(),
        })
    }
}

async fn run_child(
    child: &mut Child,
    group: &Group,
    input: &[u8],
    max_output: u64,
    stdout_buf: &mut Vec<u8>,
    stderr_tail: &mut Tail,
) -> Result<ExitStatus, RunError> {
    let (Some(mut stdin), Some(stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err(RunError::Io(std::io::Error::other("the pipes are missing")));
    };
    let write = async move {
        // A program that exits without reading is judged by its exit status and reply.
        let _ = stdin.write_all(input).await;
        let _ = stdin.write_all(b"\n").await;
        drop(stdin);
    };
    let read_out = read_bounded(stdout, stdout_buf, max_output);
    let read_err = stderr_tail.drain(stderr);
    tokio::pin!(write, read_out, read_err);
    let (mut wrote, mut out_done, mut err_done) = (false, false, false);
    let status = loop {
        tokio::select! {
            _ = &mut write, if !wrote => wrote = true,
            r = &mut read_out, if !out_done => {
                out_done = true;
                r?;
            }
            _ = &mut read_err, if !err_done => err_done = true,
            s = child.wait() => break s.map_err(RunError::Io)?,
        }
    };
    // The program has exited: its reply is complete. Kill whatever it left in its group, so
    // the pipes close; a process that left the group gets a short grace, then is ignored.
    group.kill();
    let rest = async {
        if !out_done {
            (&mut read_out).await?;
        }
        if !err_done {
            (&mut read_err).await;
        }
        Ok::<(), RunError>(())
    };
    if let Ok(r) = tokio::time::timeout(PIPE_GRACE, rest).await {
        r?;
    }
    Ok(status)
}

/// Reads `pipe` to its end into `buf`; more than `limit` bytes is `OutputTooLarge`.
async fn read_bounded(
    mut pipe: impl AsyncRead + Unpin,
    buf: &mut Vec<u8>,
    limit: u64,
) -> Result<(), RunError> {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = pipe.read(&mut chunk).await.map_err(RunError::Io)?;
        if n == 0 {
            return Ok(());
        }
        if (buf.len() + n) as u64 > limit {
            return Err(RunError::OutputTooLarge(limit));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// One line (without its `\n`) of at most `limit` bytes; `Ok(None)` at end of stream.
pub(crate) async fn read_line_bounded(
    reader: &mut (impl AsyncBufRead + Unpin),
    limit: u64,
) -> Result<Option<Vec<u8>>, RunError> {
    let mut line = Vec::new();
    loop {
        let buf = reader.fill_buf().await.map_err(RunError::Io)?;
        if buf.is_empty() {
            return Ok((!line.is_empty()).then_some(line));
        }
        let (take, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i, true),
            None => (buf.len(), false),
        };
        if (line.len() + take) as u64 > limit {
            return Err(RunError::OutputTooLarge(limit));
        }
        line.extend_from_slice(&buf[..take]);
        reader.consume(if done { take + 1 } else { take });
        if done {
            return Ok(Some(line));
        }
    }
}

/// The last `keep` bytes of a stream.
#[derive(Debug)]
pub(crate) struct Tail {
    keep: usize,
    bytes: VecDeque<u8>,
    dropped: bool,
}

impl Tail {
    pub(crate) fn new(keep: u64) -> Tail {
        Tail {
            keep: usize::try_from(keep).unwrap_or(usize::MAX),
            bytes: VecDeque::new(),
            dropped: false,
        }
    }

    pub(crate) fn push(&mut self, data: &[u8]) {
        let data = if data.len() > self.keep {
            self.dropped = true;
            &data[data.len() - self.keep..]
        } else {
            data
        };
        self.bytes.extend(data);
        let excess = self.bytes.len().saturating_sub(self.keep);
        if excess > 0 {
            self.dropped = true;
            self.bytes.drain(..excess);
        }
    }

    /// Reads `pipe` to its end, keeping the tail.
    pub(crate) async fn drain(&mut self, mut pipe: impl AsyncRead + Unpin) {
        let mut chunk = [0u8; 16 * 1024];
        while let Ok(n) = pipe.read(&mut chunk).await {
            if n == 0 {
                break;
            }
            self.push(&chunk[..n]);
        }
    }

    /// The kept bytes, lossily decoded; `…` first when the start was dropped.
    pub(crate) fn text(&self) -> String {
        let (a, b) = self.bytes.as_slices();
        let mut bytes = a.to_vec();
        bytes.extend_from_slice(b);
        let text = String::from_utf8_lossy(&bytes);
        if self.dropped {
            format!("…{text}")
        } else {
            text.into_owned()
        }
    }
}

/// The process groups of live children, killed by `kill_all`.
static LIVE: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

/// A child's process group: killed (SIGKILL to the whole group) and unregistered on drop.
#[derive(Debug)]
pub(crate) struct Group {
    pgid: Option<i32>,
}

impl Group {
    fn register(pid: Option<u32>) -> Group {
        let pgid = pid.and_then(|p| i32::try_from(p).ok()).filter(|&p| p > 0);
        if let (Some(p), Ok(mut live)) = (pgid, LIVE.lock()) {
            live.insert(p);
        }
        Group { pgid }
    }

    /// Kills every process of the group (it stays registered until dropped).
    pub(crate) fn kill(&self) {
        if let Some(p) = self.pgid {
            kill_group(p);
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if let Some(p) = self.pgid {
            kill_group(p);
            if let Ok(mut live) = LIVE.lock() {
                live.remove(&p);
            }
        }
    }
}

fn kill_group(pgid: i32) {
    #[cfg(unix)]
    // SAFETY: kill(2) with a negative pid signals a process group; it touches no memory.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// Kills every live child's group: at gauntlet's exit and when a run is aborted.
pub fn kill_all() {
    let groups: Vec<i32> = match LIVE.lock() {
        Ok(mut live) => std::mem::take(&mut *live).into_iter().collect(),
        Err(_) => return,
    };
    for p in groups {
        kill_group(p);
    }
}

/// `exited with status 3`, `was killed by signal 9`.
pub(crate) fn describe_exit(status: ExitStatus) -> String {
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

/// Where `argv[0]` is: a name with a `/` is relative to `base` (the suite's folder), a bare
/// name is looked up on `PATH`. Symlinks are not followed — a virtualenv's `bin/python` must
/// stay the venv's, which Python finds from the path it was started by.
pub(crate) fn resolve_program(program: &str, base: &Path) -> Result<PathBuf, ProgramError> {
    if program.contains('/') {
        let path = locate_relative(program, base);
        if path.is_file() {
            Ok(path)
        } else {
            // As the user can find it: relative to where gauntlet runs, like other paths.
            Err(ProgramError::Missing(base.join(program)))
        }
    } else {
        find_on_path(program).ok_or_else(|| ProgramError::NotOnPath(program.to_string()))
    }
}

/// Why `argv[0]` cannot be found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ProgramError {
    /// A path (with a `/`), relative to the suite's folder, that is not a file.
    #[error("program {} does not exist", .0.display())]
    Missing(PathBuf),
    #[error("program `{0}` is not on PATH")]
    NotOnPath(String),
}

/// Where `argv[0]` would be, without requiring it to exist yet: for command tools, whose
/// missing program is found out when the model calls them (and the model is told).
pub(crate) fn locate_program(program: &str, base: &Path) -> PathBuf {
    if program.contains('/') {
        locate_relative(program, base)
    } else {
        find_on_path(program).unwrap_or_else(|| program.into())
    }
}

/// Absolute (the child runs in its own `cwd`), but not canonical: no symlink followed.
fn locate_relative(program: &str, base: &Path) -> PathBuf {
    std::path::absolute(base.join(program)).unwrap_or_else(|_| base.join(program))
}

/// Looks a bare program name up on `PATH`, as a shell would (first executable file wins).
pub(crate) fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
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

/// Whether process `pid` still runs (a zombie does not): what the no-survivor tests ask of
/// every user of this module, after a timeout.
#[cfg(test)]
pub(crate) fn is_running(pid: &str) -> bool {
    // A killed process may take a moment to be reaped by its parent.
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    loop {
        let running =
            std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).is_ok_and(|s| {
                // The state follows the parenthesised command name.
                s.rsplit_once(") ")
                    .is_some_and(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X'))
            });
        if !running || std::time::Instant::now() > deadline {
            return running;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Program {
        Program {
            path: find_on_path("sh").unwrap(),
            args: vec!["-c".into(), script.into()],
            cwd: std::env::temp_dir(),
            env: BTreeMap::new(),
            pass_env: vec![],
        }
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    const SMALL: OutputLimits = OutputLimits {
        max_output_bytes: 1000,
        max_stderr_bytes: 10,
    };

    #[test]
    fn replies_bounds_and_tails() {
        let rt = rt();
        let f = rt
            .block_on(sh("cat; echo 0123456789abcdef >&2").run(b"hi", SMALL, None))
            .unwrap();
        assert_eq!(f.stdout, b"hi\n");
        assert_eq!(f.stderr, "…789abcdef\n");
        let big = rt.block_on(sh("yes").run(b"", SMALL, None));
        assert!(
            matches!(big, Err(RunError::OutputTooLarge(1000))),
            "{big:?}"
        );
        let slow = rt.block_on(sh("sleep 5").run(b"", SMALL, Some(Duration::from_millis(100))));
        assert!(matches!(slow, Err(RunError::TimedOut(_))), "{slow:?}");
    }

    #[test]
    fn a_grandchild_holding_stdout_does_not_delay_the_reply() {
        let started = std::time::Instant::now();
        let f = rt()
            .block_on(sh("sleep 30 & echo done").run(b"", SMALL, Some(Duration::from_secs(10))))
            .unwrap();
        assert_eq!(f.stdout, b"done\n");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn provider_keys_are_withheld_unless_passed() {
        assert!(is_withheld("OPENAI_API_KEY") && !is_withheld("PATH"));
        std::env::set_var("GAUNTLET_TEST_API_KEY", "sk-x");
        let rt = rt();
        let mut p = sh("echo ${GAUNTLET_TEST_API_KEY:-none}");
        let f = rt.block_on(p.run(b"", SMALL, None)).unwrap();
        assert_eq!(f.stdout, b"none\n");
        p.pass_env = vec!["GAUNTLET_TEST_API_KEY".into()];
        let f = rt.block_on(p.run(b"", SMALL, None)).unwrap();
        assert_eq!(f.stdout, b"sk-x\n");
    }

    #[test]
    fn lines_are_bounded() {
        let rt = rt();
        let mut r = tokio::io::BufReader::new(&b"ab\ncdefgh\nij"[..]);
        let got = rt.block_on(read_line_bounded(&mut r, 4)).unwrap();
        assert_eq!(got.as_deref(), Some(&b"ab"[..]));
        assert!(rt.block_on(read_line_bounded(&mut r, 4)).is_err());
    }

    #[test]
    fn programs_resolve_without_following_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let target = find_on_path("sh").unwrap();
        std::os::unix::fs::symlink(&target, dir.path().join("link")).unwrap();
        let got = resolve_program("./link", dir.path()).unwrap();
        assert_eq!(got, dir.path().join("link"));
        assert!(resolve_program("./missing", dir.path()).is_err());
        assert!(resolve_program("no-such-program-gauntlet-xyz", dir.path()).is_err());
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
