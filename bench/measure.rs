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

/// The argument that makes the bench exe a measuring helper (see [`helper_main`]).
pub const HELPER: &str = "__measure";

/// Runs `bin args` in `cwd` with stdout and stderr to `log_prefix.{out,err}`, and measures it.
/// The environment is the bench's, minus what could point gauntlet elsewhere, plus `env`.
///
/// gauntlet is started by a fresh helper process (this exe, re-executed), not by the bench:
/// Linux carries the peak RSS of the memory a process was spawned from into its `ru_maxrss`
/// (exec records the old address space's high-water mark), so a child spawned from the bench —
/// which parses 140 MB reports — would report the bench's peak instead of its own.
pub fn run(
    bin: &Path,
    args: &[&str],
    cwd: &Path,
    env: &[(&str, &str)],
    log_prefix: &Path,
) -> std::io::Result<Measured> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.arg(HELPER)
        .arg(log_prefix)
        .arg(bin)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .env_remove("OPENAI_BASE_URL")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GAUNTLET_LOG")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    parse_line(text.trim()).ok_or_else(|| {
        std::io::Error::other(format!(
            "the measuring helper failed ({}): {text}",
            out.status
        ))
    })
}

/// The helper: `bench __measure LOG_PREFIX BIN ARGS...` runs BIN and prints one line
/// `WALL_NS CPU_NS PEAK_RSS_KIB EXIT` (EXIT `-` when killed by a signal).
pub fn helper_main(args: &[String]) -> std::process::ExitCode {
    let [log_prefix, bin, rest @ ..] = args else {
        eprintln!("error: usage: bench {HELPER} LOG_PREFIX BIN ARGS...");
        return std::process::ExitCode::from(2);
    };
    match measure_child(Path::new(bin), rest, Path::new(log_prefix)) {
        Ok(m) => {
            let exit = m.exit.map_or("-".to_string(), |c| c.to_string());
            println!(
                "{} {} {} {exit}",
                m.wall.as_nanos(),
                m.cpu.as_nanos(),
                m.peak_rss_kib
            );
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot run {bin}: {e}");
            std::process::ExitCode::from(3)
        }
    }
}

fn parse_line(line: &str) -> Option<Measured> {
    let mut f = line.split_whitespace();
    let nanos = |s: &str| s.parse::<u64>().ok().map(Duration::from_nanos);
    let wall = nanos(f.next()?)?;
    let cpu = nanos(f.next()?)?;
    let peak_rss_kib = f.next()?.parse().ok()?;
    let exit = match f.next()? {
        "-" => None,
        code => Some(code.parse().ok()?),
    };
    Some(Measured {
        wall,
        cpu,
        peak_rss_kib,
        exit,
    })
}

/// Spawns `bin args` (stdout and stderr to `log_prefix.{out,err}`) and waits for it with
/// `wait4`, which gives that child's own rusage.
fn measure_child(bin: &Path, args: &[String], log_prefix: &Path) -> std::io::Result<Measured> {
    let out = File::create(log_prefix.with_extension("out"))?;
    let err = File::create(log_prefix.with_extension("err"))?;
    let start = Instant::now();
    let child = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()?;
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
