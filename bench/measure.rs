//! `Measured`: wall time, user + sys CPU and peak RSS of one `gauntlet` child process, read
//! with `wait4` so that only that process (not the bench or its server) is counted.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

#[derive(Debug, Clone, Copy)]
pub struct Measured {
    pub wall: Duration,
    /// User + system CPU of the child.
    pub cpu: Duration,
    pub peak_rss_kib: u64,
    /// The exit code; `None` when the child was killed by a signal.
    pub exit: Option<i32>,
}

impl Measured {
    pub fn peak_rss_mib(&self) -> f64 {
        self.peak_rss_kib as f64 / 1024.0
    }
}

/// The release `gauntlet` next to this example: `target/release/examples/bench` →
/// `target/release/gauntlet`. `cargo run --example` does not build the binary, so a missing
/// or stale one is an error that says what to run.
pub fn locate_gauntlet() -> Result<PathBuf, String> {
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find the bench's own exe: {e}"))?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("the bench's exe has no profile folder")?;
    let bin = profile_dir.join("gauntlet");
    let build = "run `cargo build --release` first (then `cargo run --release --example bench`)";
    let built = std::fs::metadata(&bin)
        .and_then(|m| m.modified())
        .map_err(|_| format!("{} is missing: {build}", bin.display()))?;
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    if newest(&src).is_some_and(|t| t > built) {
        return Err(format!(
            "{} is older than the sources in {}: {build}",
            bin.display(),
            src.display()
        ));
    }
    if !profile_dir.ends_with("release") {
        eprintln!(
            "warning: measuring a {} build; use --release",
            profile_dir.display()
        );
    }
    Ok(bin)
}

/// The newest modification time of a file under `dir`.
fn newest(dir: &Path) -> Option<SystemTime> {
    let mut best = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        let t = if path.is_dir() {
            newest(&path)
        } else {
            entry.metadata().and_then(|m| m.modified()).ok()
        };
        best = best.max(t);
    }
    best
}

/// Runs `bin args` in `cwd` with stdout and stderr to `log_prefix.{out,err}`, and measures it.
/// The environment is the bench's, minus what could point gauntlet elsewhere, plus `env`.
pub fn run(
    bin: &Path,
    args: &[&str],
    cwd: &Path,
    env: &[(&str, &str)],
    log_prefix: &Path,
) -> std::io::Result<Measured> {
    let out = File::create(log_prefix.with_extension("out"))?;
    let err = File::create(log_prefix.with_extension("err"))?;
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .env_remove("OPENAI_BASE_URL")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GAUNTLET_LOG")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let start = Instant::now();
    let child = cmd.spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain old data; zeroed is a valid value for wait4 to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: waits for our own child, writing into the two locals above. `child` is never
        // waited on by std afterwards (dropping a `Child` does not wait).
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    let wall = start.elapsed();
    drop(child);
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    let exit = if libc::WIFEXITED(status) {
        Some(libc::WEXITSTATUS(status))
    } else {
        None
    };
    Ok(Measured {
        wall,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        // Linux reports ru_maxrss in KiB.
        peak_rss_kib: usage.ru_maxrss as u64,
        exit,
    })
}
