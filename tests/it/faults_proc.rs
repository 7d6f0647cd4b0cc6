//! Hostile command agents: forking, holding pipes, printing without end, and a virtualenv's
//! python. Each test is bounded in time (run timeouts) and memory (peak RSS measured).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{case, missing_external, read};

/// A suite in a temp folder: `cases` ids (one YAML dataset), the `target:` block, extra keys.
fn suite(cases: &[&str], target: &str, extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let dataset: String = cases
        .iter()
        .map(|id| format!("- id: {id}\n  input: hello\n"))
        .collect();
    std::fs::write(dir.path().join("cases.yaml"), dataset).unwrap();
    let yaml =
        format!("name: faults\ndataset: cases.yaml\ntarget:\n{target}\ngate: {{max_error_rate: null}}\n{extra}\n");
    std::fs::write(dir.path().join("suite.yaml"), yaml).unwrap();
    dir
}

fn script(dir: &Path, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

struct Ran {
    code: Option<i32>,
    stderr: String,
    /// Peak resident set of gauntlet itself, in MiB.
    peak_mib: u64,
    elapsed: Duration,
    report: Value,
}

/// Runs `gauntlet eval` on the suite in `dir` and measures its peak RSS with wait4(2).
#[expect(
    clippy::zombie_processes,
    reason = "the child is reaped by wait4, which clippy does not see"
)]
fn eval(dir: &Path) -> Ran {
    let out = dir.join("out");
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(["eval", "suite.yaml", "--out"])
        .arg(&out)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("GAUNTLET_LOG")
        .env_remove("GITHUB_ACTIONS")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gauntlet runs");
    let mut stderr_pipe = child.stderr.take().expect("stderr piped");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr_pipe, &mut s);
        s
    });
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4 failed");
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let report = std::fs::read_to_string(out.join("faults/report.json"))
        .ok()
        .and_then(|r| serde_json::from_str(&r).ok())
        .unwrap_or(Value::Null);
    Ran {
        code,
        stderr: reader.join().unwrap_or_default(),
        peak_mib: usage.ru_maxrss as u64 / 1024,
        elapsed: started.elapsed(),
        report,
    }
}

/// Whether `pid` is a live process (a zombie, killed but not yet reaped by init, is not),
/// waiting up to 2 s for a SIGKILL just sent to land.
fn alive(pid: &str) -> bool {
    let stat = format!("/proc/{}/stat", pid.trim());
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let running = std::fs::read_to_string(&stat).is_ok_and(|s| {
            // The state follows the parenthesised command name.
            s.rsplit_once(") ")
                .is_some_and(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X'))
        });
        if !running || Instant::now() > deadline {
            return running;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits (bounded) until `file` names a pid, and returns it.
fn pid_in(file: &Path) -> String {
    let text = read(file);
    assert!(!text.trim().is_empty(), "{} is empty", file.display());
    text
}

#[test]
fn a_forking_agent_leaves_no_survivors_after_a_timeout() {
    let dir = suite(
        &["fork"],
        "  command:\n    argv: [./agent.sh]",
        "run: {timeout: 1s}",
    );
    script(
        dir.path(),
        "agent.sh",
        "sleep 300 &\necho $! > grandchild.pid\nsleep 300",
    );
    let ran = eval(dir.path());
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert_eq!(case(&ran.report, "fork")["status"], "errored");
    let pid = pid_in(&dir.path().join("grandchild.pid"));
    assert!(!alive(&pid), "the grandchild {pid} survived the timeout");
}

#[test]
fn a_persistent_agent_and_its_children_die_with_gauntlet() {
    let dir = suite(
        &["a", "b"],
        "  command:\n    argv: [./agent.sh]\n    persistent: true",
        "run: {concurrency: 1}",
    );
    script(
        dir.path(),
        "agent.sh",
        r#"sleep 300 &
echo $! >> children.pid
while read -r line; do
  id=$(printf '%s' "$line" | sed 's/.*"id":"\([^"]*\)".*/\1/')
  repeat=$(printf '%s' "$line" | sed 's/.*"repeat":\([0-9]*\).*/\1/')
  echo "{\"id\":\"$id\",\"repeat\":$repeat,\"output\":\"ok\"}"
done"#,
    );
    let ran = eval(dir.path());
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    for id in ["a", "b"] {
        assert_eq!(case(&ran.report, id)["status"], "passed", "{}", ran.report);
    }
    for pid in pid_in(&dir.path().join("children.pid")).lines() {
        assert!(!alive(pid), "the agent's child {pid} outlived gauntlet");
    }
}

#[test]
fn a_grandchild_holding_stdout_does_not_make_a_reply_time_out() {
    let dir = suite(
        &["held"],
        "  command:\n    argv: [./agent.sh]",
        "run: {timeout: 20s}",
    );
    // The background sleeper inherits stdout and would hold it open for 300 s.
    script(
        dir.path(),
        "agent.sh",
        "cat > /dev/null\nsleep 300 &\necho '{\"output\": \"ok\"}'",
    );
    let ran = eval(dir.path());
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert_eq!(
        case(&ran.report, "held")["status"],
        "passed",
        "{}",
        ran.report
    );
    assert!(ran.elapsed < Duration::from_secs(10), "{:?}", ran.elapsed);
}

#[test]
fn an_endless_printer_and_huge_stderr_stay_bounded() {
    let dir = suite(
        &["endless", "noisy"],
        "  command:\n    argv: [./agent.sh]",
        "run: {timeout: 60s}",
    );
    // `endless` prints for ever; `noisy` writes 100 MB to stderr, then answers.
    script(
        dir.path(),
        "agent.sh",
        r#"input=$(cat)
case "$input" in
  *'"id":"endless"'*) yes ;;
  *) head -c 100000000 /dev/zero | tr '\0' 'e' >&2; echo '{"output": "ok"}' ;;
esac"#,
    );
    let ran = eval(dir.path());
    eprintln!(
        "endless stdout + 100 MB stderr: peak RSS {} MiB, {:.1}s",
        ran.peak_mib,
        ran.elapsed.as_secs_f64()
    );
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let endless = case(&ran.report, "endless");
    assert_eq!(endless["status"], "errored");
    let error = endless["error"].as_str().unwrap_or_default();
    assert!(error.contains("max_output_bytes"), "{error}");
    assert_eq!(case(&ran.report, "noisy")["status"], "passed");
    assert!(ran.peak_mib < 512, "peak RSS {} MiB", ran.peak_mib);
}

#[test]
fn a_virtualenv_python_runs_as_the_venv() {
    let dir = suite(
        &["venv"],
        "  command:\n    argv: [./venv/bin/python, agent.py]",
        "",
    );
    let made = Command::new("python3")
        .args(["-m", "venv", "--without-pip", "venv"])
        .current_dir(dir.path())
        .output();
    if !made.is_ok_and(|o| o.status.success()) {
        return missing_external("python3 -m venv", "install python3-venv");
    }
    std::fs::write(
        dir.path().join("agent.py"),
        "import json, sys\nsys.stdin.read()\nprint(json.dumps({'output': sys.prefix}))\n",
    )
    .unwrap();
    let ran = eval(dir.path());
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let output = case(&ran.report, "venv")["output"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let venv = dir.path().join("venv").canonicalize().unwrap();
    assert_eq!(
        Path::new(&output).canonicalize().ok(),
        Some(venv),
        "{output}"
    );
}

#[test]
fn a_persistent_reply_for_another_case_or_an_extra_line_errors_that_run_only() {
    let dir = suite(
        &["a-ok", "b-extra", "c-ok", "d-wrong", "e-ok"],
        "  command:\n    argv: [python3, agent.py]\n    persistent: true",
        "run: {concurrency: 1}",
    );
    // Output is the case's own id, so a reply scored on the wrong case would show.
    std::fs::write(
        dir.path().join("agent.py"),
        r#"import json, os, sys
with open("starts", "a") as f:
    f.write(f"{os.getpid()}\n")
for line in sys.stdin:
    req = json.loads(line)
    reply = {"id": req["id"], "repeat": req["repeat"], "output": req["id"]}
    if req["id"] == "d-wrong":
        reply["id"] = "a-ok"
    out = json.dumps(reply) + "\n"
    if req["id"] == "b-extra":
        out += json.dumps({**reply, "output": "stray"}) + "\n"
    sys.stdout.write(out)
    sys.stdout.flush()
"#,
    )
    .unwrap();
    let ran = eval(dir.path());
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    for id in ["a-ok", "c-ok", "e-ok"] {
        let c = case(&ran.report, id);
        assert_eq!(c["status"], "passed", "{c}");
        assert_eq!(c["output"], id, "{c}");
    }
    let extra = case(&ran.report, "b-extra");
    assert_eq!(extra["status"], "errored", "{extra}");
    assert!(
        extra["error"]
            .as_str()
            .unwrap_or_default()
            .contains("more than one line"),
        "{extra}"
    );
    let wrong = case(&ran.report, "d-wrong");
    assert_eq!(wrong["status"], "errored", "{wrong}");
    assert!(
        wrong["error"]
            .as_str()
            .unwrap_or_default()
            .contains("not for case `d-wrong`"),
        "{wrong}"
    );
    let starts = read(dir.path().join("starts")).lines().count();
    assert_eq!(starts, 3, "restarted after each bad exchange");
}

/// An agent that answers every case with its input.
const ECHO_AGENT: &str = r#"sed 's/.*"input":"\([^"]*\)".*/{"output":"\1"}/'"#;

fn eval_resume(dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(["eval", "suite.yaml", "--out", "out", "--resume"])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("gauntlet runs")
}

#[test]
fn resume_reruns_the_cases_whose_inputs_changed_and_ignores_duplicate_lines() {
    let dir = suite(
        &["a", "b", "c"],
        "  command:\n    argv: [./agent.sh]",
        "checks:\n  - contains: hello",
    );
    script(dir.path(), "agent.sh", ECHO_AGENT);
    let first = eval_resume(dir.path());
    assert_eq!(first.status.code(), Some(0), "{first:?}");
    // Edit case b's dataset record; duplicate a journal line.
    let cases = read(dir.path().join("cases.yaml")).replacen(
        "- id: b\n  input: hello",
        "- id: b\n  input: goodbye",
        1,
    );
    std::fs::write(dir.path().join("cases.yaml"), cases).unwrap();
    let journal = dir.path().join("out/faults/journal.jsonl");
    let text = read(&journal);
    let line = text.lines().nth(1).unwrap().to_string();
    std::fs::write(&journal, format!("{text}{line}\n")).unwrap();
    let second = eval_resume(dir.path());
    let err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(0), "{err}");
    assert!(err.contains("resuming: 2 finished runs"), "{err}");
    assert!(err.contains("1 runs rerun"), "{err}");
    assert!(err.contains("1 duplicate lines"), "{err}");
    let report: Value =
        serde_json::from_str(&read(dir.path().join("out/faults/report.json"))).unwrap();
    assert_eq!(report["cases"].as_array().unwrap().len(), 3, "{report}");
    assert_eq!(case(&report, "b")["status"], "failed");
    // A changed suite-wide check reruns everything.
    let suite_yaml = read(dir.path().join("suite.yaml")).replace("hello", "o");
    std::fs::write(dir.path().join("suite.yaml"), suite_yaml).unwrap();
    let third = eval_resume(dir.path());
    let err = String::from_utf8_lossy(&third.stderr);
    assert!(err.contains("3 runs rerun"), "{err}");
}

#[test]
fn a_second_eval_into_the_same_folder_is_refused() {
    use std::os::unix::io::AsRawFd;
    let dir = suite(&["a"], "  command:\n    argv: [./agent.sh]", "");
    script(dir.path(), "agent.sh", ECHO_AGENT);
    std::fs::create_dir_all(dir.path().join("out/faults")).unwrap();
    // Another eval holds the folder's lock.
    let lock = std::fs::File::create(dir.path().join("out/faults/.lock")).unwrap();
    // SAFETY: flock(2) on a descriptor this test owns.
    let rc = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    assert_eq!(rc, 0);
    let o = eval_resume(dir.path());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("another gauntlet eval is writing to"), "{err}");
    drop(lock);
    assert_eq!(eval_resume(dir.path()).status.code(), Some(0));
}

/// Runs `gauntlet ARGS` in `dir`, killed if it takes more than 20 s (a hang is a failure).
fn gauntlet_bounded(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gauntlet runs");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            let _ = std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err);
            return (status.code(), err);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("gauntlet {args:?} hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn devices_and_fifos_at_load_are_refused_fast_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("devices.yaml"),
        "name: devices\ndataset: /dev/zero\ntarget:\n  harness:\n    model: mock:x\n    \
         system: /dev/zero\n    world: /dev/zero\n",
    )
    .unwrap();
    let (code, err) = gauntlet_bounded(d, &["eval", "devices.yaml", "--out", "out"]);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(err.matches("not a regular file").count(), 3, "{err}");

    let fifo = d.join("fifo.yaml");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo(3) with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let (code, err) = gauntlet_bounded(d, &["eval", "fifo.yaml", "--out", "out"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("FIFO"), "{err}");

    let ok = suite(&["a"], "  command:\n    argv: [./agent.sh]", "");
    script(ok.path(), "agent.sh", ECHO_AGENT);
    let (code, err) = gauntlet_bounded(
        ok.path(),
        &[
            "eval",
            "suite.yaml",
            "--out",
            "out",
            "--baseline",
            "/dev/zero",
        ],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("not a regular file"), "{err}");
}

#[test]
fn a_dataset_over_max_file_bytes_is_refused_naming_the_limit() {
    let dir = suite(
        &["a", "b"],
        "  command:\n    argv: [./agent.sh]",
        "run: {limits: {max_file_bytes: 20}}",
    );
    let (code, err) = gauntlet_bounded(dir.path(), &["eval", "suite.yaml", "--out", "out"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("run.limits.max_file_bytes"), "{err}");
}

#[test]
fn yaml_nested_100000_levels_is_refused_fast() {
    let dir = tempfile::tempdir().unwrap();
    let deep = format!(
        "name: deep\nrun:\n  x: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    std::fs::write(dir.path().join("deep.yaml"), deep).unwrap();
    let started = Instant::now();
    let (code, err) = gauntlet_bounded(dir.path(), &["validate", "deep.yaml"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("deep.yaml:3:"), "{err}");
    assert!(err.contains("max_depth"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn endless_and_huge_templates_are_refused_at_load() {
    let dir = suite(
        &["a"],
        "  harness:\n    model: mock:support\n    system: prompt.j2",
        "run: {limits: {max_render_fuel: 1000000}}",
    );
    std::fs::create_dir(dir.path().join("mocks")).unwrap();
    std::fs::copy(
        crate::support::root().join("suites/mocks/support.yaml"),
        dir.path().join("mocks/support.yaml"),
    )
    .unwrap();
    let prompt = dir.path().join("prompt.j2");
    std::fs::write(
        &prompt,
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    )
    .unwrap();
    let (code, err) = gauntlet_bounded(dir.path(), &["validate", "suite.yaml"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("max_render_fuel"), "{err}");
    std::fs::write(
        &prompt,
        "{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}",
    )
    .unwrap();
    let (code, err) = gauntlet_bounded(dir.path(), &["validate", "suite.yaml"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("max_render_bytes"), "{err}");
}

/// Templates that build ever larger values on the way to a small output: fuel and the output cap
/// do not see them; the render memory budget does.
const GROWING_TEMPLATES: [&str; 5] = [
    "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}",
    "{% set ns = namespace(l=[1]) %}{% for i in range(40) %}{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l | length }}",
    "{{ ('x' * 1000000) | replace('x', 'y' * 1000) | length }}",
    "{% set s %}{% for i in range(2000) %}{{ 'x' * 1000000 }}{% endfor %}{% endset %}{{ s | length }}",
    "{% macro f(s, n) %}{% if n > 0 %}{{ f(s ~ s, n - 1) }}{% else %}{{ s | length }}{% endif %}{% endmacro %}{{ f('x', 40) }}",
];

#[test]
fn templates_that_grow_their_values_stop_at_the_memory_limit_with_exit_2_at_load() {
    let dir = suite(
        &["a"],
        "  harness:\n    model: mock:support\n    system: prompt.j2",
        "",
    );
    std::fs::create_dir(dir.path().join("mocks")).unwrap();
    std::fs::copy(
        crate::support::root().join("suites/mocks/support.yaml"),
        dir.path().join("mocks/support.yaml"),
    )
    .unwrap();
    for template in GROWING_TEMPLATES {
        std::fs::write(dir.path().join("prompt.j2"), template).unwrap();
        let ran = eval(dir.path());
        assert_eq!(ran.code, Some(2), "{template}: {}", ran.stderr);
        assert!(
            ran.stderr
                .contains("`run.limits.max_render_memory` (128 MiB)"),
            "{template}: {}",
            ran.stderr
        );
        assert!(ran.stderr.contains(&template[..20]), "{}", ran.stderr);
        assert!(ran.peak_mib < 512, "{template}: {} MiB", ran.peak_mib);
    }
    // Below the limit the same kind of template renders: 2^20 bytes is well inside 128 MiB.
    std::fs::write(
        dir.path().join("prompt.j2"),
        "{% set ns = namespace(s='x') %}{% for i in range(20) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}",
    )
    .unwrap();
    let ran = eval(dir.path());
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    // And the limit is the suite's: at 1 MiB that one stops too.
    let yaml = std::fs::read_to_string(dir.path().join("suite.yaml")).unwrap();
    std::fs::write(
        dir.path().join("suite.yaml"),
        format!("{yaml}run: {{limits: {{max_render_memory: 1MiB}}}}\n"),
    )
    .unwrap();
    let ran = eval(dir.path());
    assert_eq!(ran.code, Some(2), "{}", ran.stderr);
    assert!(ran.stderr.contains("(1 MiB)"), "{}", ran.stderr);
}

#[test]
fn an_expression_that_grows_during_a_run_stops_with_exit_3_and_keeps_finished_runs() {
    // Case b's check builds two copies of the agent's reply repeated 20 million times (200 MB):
    // a size known only once the agent has answered.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cases.yaml"),
        "- id: a\n  input: hello\n- id: b\n  input: hello\n  checks: [{expr: \"((output * 20000000) ~ (output * 20000000)) | length > 0\"}]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("suite.yaml"),
        "name: faults\ndataset: cases.yaml\ntarget:\n  command:\n    argv: [./agent.sh]\nrun: {concurrency: 1}\n",
    )
    .unwrap();
    script(dir.path(), "agent.sh", ECHO_AGENT);
    let ran = eval(dir.path());
    assert_eq!(ran.code, Some(3), "{}", ran.stderr);
    assert!(ran.stderr.contains("max_render_memory"), "{}", ran.stderr);
    assert!(ran.stderr.contains("--resume"), "{}", ran.stderr);
    assert!(
        ran.stderr.contains("((output * 20000000) ~"),
        "{}",
        ran.stderr
    );
    assert!(ran.peak_mib < 512, "{} MiB", ran.peak_mib);
    let journal = std::fs::read_to_string(dir.path().join("out/faults/journal.jsonl")).unwrap();
    // The header and case a's run, which finished before b's check stopped gauntlet.
    assert_eq!(journal.lines().count(), 2, "{journal}");
    let run: Value = serde_json::from_str(journal.lines().nth(1).unwrap()).unwrap();
    assert!(run.to_string().contains(r#""a""#), "{run}");
}

#[test]
fn a_thousand_problems_print_fifty_and_a_count() {
    let dir = suite(&["x"], "  command:\n    argv: [./agent.sh]", "");
    script(dir.path(), "agent.sh", ECHO_AGENT);
    // A thousand cases, each with its own invalid regex.
    let cases: String = (0..1000)
        .map(|i| format!("- id: c{i}\n  input: hi\n  checks: [{{regex: '('}}]\n"))
        .collect();
    std::fs::write(dir.path().join("cases.yaml"), cases).unwrap();
    let (code, err) = gauntlet_bounded(dir.path(), &["validate", "suite.yaml"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("… and 950 more"), "{err}");
    assert!(err.lines().count() <= 52, "{} lines", err.lines().count());
    assert!(err.contains("is invalid (1000 problems)"), "{err}");
}

#[test]
fn sigterm_kills_the_agents_groups_and_reports_what_finished() {
    let dir = suite(
        &["quick", "slow"],
        "  command:\n    argv: [./agent.sh]",
        "run: {timeout: 120s, concurrency: 1}",
    );
    // `quick` answers at once; `slow` leaves a grandchild and hangs.
    script(
        dir.path(),
        "agent.sh",
        r#"read -r line
case "$line" in
  *'"id":"quick"'*) echo '{"output":"ok"}'; exit 0 ;;
esac
sleep 300 &
echo $! > grandchild.pid
sleep 300"#,
    );
    let out = dir.path().join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(["eval", "suite.yaml", "--out"])
        .arg(&out)
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env_remove("GAUNTLET_LOG")
        .env_remove("GITHUB_ACTIONS")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("gauntlet runs");
    let pid_file = dir.path().join("grandchild.pid");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::fs::read_to_string(&pid_file).map_or(true, |s| s.trim().is_empty()) {
        assert!(Instant::now() < deadline, "the slow case never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: signalling our own child.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) },
        0
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("gauntlet did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(3), "an aborted run is incomplete");
    let pid = pid_in(&pid_file);
    assert!(!alive(&pid), "the grandchild {pid} survived SIGTERM");
    let report: Value = serde_json::from_str(&read(out.join("faults/report.json"))).unwrap();
    assert_eq!(case(&report, "quick")["status"], "passed", "{report}");
}

#[test]
fn judge_mock_rules_and_baseline_files_obey_the_suites_max_file_bytes() {
    // Files the suite names are read under its own `run.limits`, not the default: a judge,
    // the mock rules of its model and a `--baseline` report each over the limit are refused
    // with exit 2, naming the limit.
    let padding = format!("# {}\n", "x".repeat(600));
    let dir = suite(
        &["a"],
        "  command:\n    argv: [./agent.sh]",
        "run: {limits: {max_file_bytes: 500}}\njudges_dir: judges\nchecks:\n  - judge: strict",
    );
    let d = dir.path();
    script(d, "agent.sh", ECHO_AGENT);
    std::fs::create_dir(d.join("judges")).unwrap();
    std::fs::create_dir(d.join("mocks")).unwrap();
    std::fs::write(
        d.join("judges/strict.yaml"),
        format!(
            "{padding}model: mock:j\nscale: [1, 5]\nthreshold: 0.5\nprompt: \"{{{{ output }}}}\"\n"
        ),
    )
    .unwrap();
    let (code, err) = gauntlet_bounded(d, &["validate", "suite.yaml"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("judge `strict`"), "{err}");
    assert!(err.contains("run.limits.max_file_bytes"), "{err}");

    // The judge fits; its mock rules do not.
    std::fs::write(
        d.join("judges/strict.yaml"),
        "model: mock:j\nscale: [1, 5]\nthreshold: 0.5\nprompt: \"{{ output }}\"\n",
    )
    .unwrap();
    std::fs::write(
        d.join("mocks/j.yaml"),
        format!("{padding}default: {{text: '{{\"score\": 5}}'}}\n"),
    )
    .unwrap();
    let (code, err) = gauntlet_bounded(d, &["validate", "suite.yaml"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("mocks/j.yaml"), "{err}");
    assert!(err.contains("run.limits.max_file_bytes"), "{err}");

    // Everything fits; the baseline does not.
    std::fs::write(
        d.join("mocks/j.yaml"),
        "default: {text: '{\"score\": 5}'}\n",
    )
    .unwrap();
    std::fs::write(
        d.join("base.json"),
        format!("{{\"pad\": \"{}\"}}", "x".repeat(600)),
    )
    .unwrap();
    let (code, err) = gauntlet_bounded(
        d,
        &[
            "eval",
            "suite.yaml",
            "--out",
            "out",
            "--baseline",
            "base.json",
        ],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("base.json"), "{err}");
    assert!(err.contains("run.limits.max_file_bytes"), "{err}");
}
