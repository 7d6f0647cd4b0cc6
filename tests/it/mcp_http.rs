//! MCP tool servers over streamable HTTP (`mcp: {retail: {url: ...}}`): examples/retail/server.py
//! serving many runs from one process with a world per MCP session, and servers that cannot be
//! reached, fail with a status or answer without end.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::fault_server::{Fault, FaultServer};
use crate::support::{case, eval_into, read, root, stderr, stdout};

/// A header value that must appear in no report.
const TOKEN: &str = "retail-token-5f4e3d2c1b0a";

/// The venv's python with the `mcp` package, or `None` (skipped outside CI).
fn python() -> Option<PathBuf> {
    let python = root().join(".venv/bin/python");
    let probe = Command::new(&python)
        .args(["-c", "import mcp.server.mcpserver, uvicorn"])
        .output();
    if probe.is_ok_and(|o| o.status.success()) {
        return Some(python);
    }
    crate::support::missing_external(
        "the `mcp` Python package in .venv",
        "python3 -m venv .venv && .venv/bin/pip install -r .ci/requirements.txt",
    );
    None
}

/// A localhost port nothing listens on (bound, then released).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind localhost");
    listener.local_addr().expect("local addr").port()
}

/// examples/retail/server.py serving streamable HTTP; killed when dropped.
struct RetailHttp {
    child: Child,
    port: u16,
    log: tempfile::NamedTempFile,
}

impl RetailHttp {
    fn start(python: &Path) -> RetailHttp {
        let port = free_port();
        let log = tempfile::NamedTempFile::new().expect("temp file");
        let child = Command::new(python)
            .arg(root().join("examples/retail/server.py"))
            .args(["--http", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(log.reopen().expect("reopen log"))
            .spawn()
            .expect("start the retail server");
        let server = RetailHttp { child, port, log };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the retail server did not listen: {}",
                server.stderr()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/mcp", self.port)
    }

    fn stderr(&self) -> String {
        let mut text = String::new();
        let _ = self.log.reopen().map(|mut f| f.read_to_string(&mut text));
        text
    }
}

impl Drop for RetailHttp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A retail suite whose server is at `url`, with `extra` lines in the server's entry.
fn retail_at(url: &str, extra: &str, run: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("mocks")).unwrap();
    std::fs::copy(
        root().join("suites/mocks/retail.yaml"),
        dir.path().join("mocks/retail.yaml"),
    )
    .unwrap();
    let yaml = format!(
        "name: retail-http\ndataset: {dataset}\ntarget:\n  harness:\n    model: mock:retail\n    tools: [retail.*]\n    mcp:\n      retail:\n        url: \"{url}\"\n        headers: {{Authorization: \"Bearer {TOKEN}\"}}\n        state: {{resource: 'state://db'}}\n{extra}    max_steps: 6\nchecks:\n  - end_state: {{mode: exact, expected: expected.state}}\ngate: {{min_pass_rate: 0, max_error_rate: 1}}\nrun: {run}\n",
        dataset = root().join("datasets/retail/cases.jsonl").display(),
    );
    std::fs::write(dir.path().join("suite.yaml"), yaml).unwrap();
    dir
}

fn report(out: &tempfile::TempDir) -> Value {
    serde_json::from_str(&read(out.path().join("retail-http/report.json"))).unwrap()
}

/// Every file gauntlet wrote, as one text: secrets must be in none of them.
fn everything_written(out: &tempfile::TempDir) -> String {
    let mut all = String::new();
    for entry in std::fs::read_dir(out.path().join("retail-http")).unwrap() {
        all.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default());
    }
    all
}

#[test]
fn one_http_server_serves_every_run_with_its_own_session_and_world() {
    let Some(python) = python() else { return };
    let server = RetailHttp::start(&python);
    let dir = retail_at(
        &server.url(),
        "        timeout: 20s\n",
        "{concurrency: 4, timeout: 60s}",
    );
    // Runs at once and repeated, all through one server process: cancel-pending and
    // modify-address both need order W-1002 pending, and return-lamp needs W-1001 delivered
    // (exchange-lamp's wrong return would change it), so any world shared between sessions
    // would fail or flake one of them.
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().to_str().unwrap();
    let (o, out) = eval_into(
        dir.path().join("suite.yaml").to_str().unwrap(),
        &["--repeat", "2", "--record", "--cache-dir", cache_dir],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let r = report(&out);
    for id in [
        "cancel-pending",
        "cancel-delivered-refused",
        "order-status",
        "modify-address",
        "return-lamp",
    ] {
        // `passed`, not `flaky`: both runs passed, exact end state and all.
        assert_eq!(case(&r, id)["status"], "passed", "{id}: {}", case(&r, id));
    }
    let exchange = case(&r, "exchange-lamp");
    assert_eq!(exchange["status"], "failed");
    assert!(
        exchange["checks"][0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("end state differs at 3 paths"),
        "{exchange}"
    );
    // Every run ended its session (DELETE), and the server dropped each world with it.
    let log = server.stderr();
    let ended: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("retail: session ended"))
        .collect();
    assert_eq!(ended.len(), 12, "{log}");
    assert!(log.contains("retail: session ended, 0 open"), "{log}");
    assert!(!everything_written(&out).contains(TOKEN));
    // The replay opens no connection: with nothing listening at the URL, the same report.
    drop(server);
    let gone = format!("http://127.0.0.1:{}/mcp", free_port());
    let dir = retail_at(
        &gone,
        "        timeout: 20s
",
        "{concurrency: 4, timeout: 60s}",
    );
    let (o, replayed) = eval_into(
        dir.path().join("suite.yaml").to_str().unwrap(),
        &["--repeat", "2", "--replay", "--cache-dir", cache_dir],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        read(out.path().join("retail-http/report.json")),
        read(replayed.path().join("retail-http/report.json"))
    );
}

#[test]
fn an_unreachable_server_errors_every_run_naming_its_url() {
    let url = format!("http://127.0.0.1:{}/mcp", free_port());
    let dir = retail_at(
        &url,
        "        start_timeout: 5s\n",
        "{concurrency: 2, timeout: 30s}",
    );
    let (o, out) = eval_into(dir.path().join("suite.yaml").to_str().unwrap(), &[]);
    let r = report(&out);
    for c in r["cases"].as_array().unwrap() {
        assert_eq!(c["status"], "errored", "{c}\n{}", stderr(&o));
        let why = c["error"].as_str().unwrap_or_default();
        assert!(
            why.starts_with(&format!(
                "MCP server `retail` at {url} failed its handshake"
            )),
            "{why}"
        );
    }
    assert!(!everything_written(&out).contains(TOKEN));
}

#[test]
fn a_server_failing_with_500_errors_the_run_with_the_status() {
    let server = FaultServer::start(Fault::Fixed {
        status: 500,
        header: None,
        body: "upstream database is down".into(),
    });
    let url = format!("{}/mcp", server.url());
    let dir = retail_at(&url, "", "{concurrency: 2, timeout: 30s}");
    let (o, out) = eval_into(dir.path().join("suite.yaml").to_str().unwrap(), &[]);
    let r = report(&out);
    let c = case(&r, "order-status");
    assert_eq!(c["status"], "errored", "{c}\n{}", stderr(&o));
    let why = c["error"].as_str().unwrap_or_default();
    assert!(
        why.contains(&format!("MCP server `retail` at {url}")),
        "{why}"
    );
    assert!(why.contains("500"), "{why}");
    assert!(why.contains("upstream database is down"), "{why}");
    // Every case was run (and errored): one bad server stops no other case.
    assert_eq!(r["cases"].as_array().unwrap().len(), 6);
}

#[test]
fn an_endless_reply_errors_the_run_naming_the_limit() {
    let server = FaultServer::start(Fault::EndlessChunked { max: 64 << 20 });
    let url = format!("{}/mcp", server.url());
    let dir = retail_at(
        &url,
        "",
        "{concurrency: 1, timeout: 30s, limits: {max_response_bytes: 256KiB}}",
    );
    let (o, out) = eval_into(
        dir.path().join("suite.yaml").to_str().unwrap(),
        &["--filter", "order-status"],
    );
    let r = report(&out);
    let c = case(&r, "order-status");
    assert_eq!(c["status"], "errored", "{c}\n{}", stderr(&o));
    let why = c["error"].as_str().unwrap_or_default();
    assert!(
        why.contains("longer than 262144 bytes, the limit (`run.limits.max_response_bytes`)"),
        "{why}"
    );
    // Reading stopped at the limit: far less than the server would have sent.
    let sent = server.sent.load(std::sync::atomic::Ordering::Relaxed);
    assert!(sent < 16 << 20, "{sent} bytes were sent");
}

#[test]
fn an_event_stream_over_the_limit_errors_the_run_naming_the_limit() {
    let Some(python) = python() else { return };
    let server = RetailHttp::start(&python);
    // The server answers in SSE events; its tool list is far over 600 bytes.
    let dir = retail_at(
        &server.url(),
        "",
        "{concurrency: 1, timeout: 30s, limits: {max_response_bytes: 600}}",
    );
    let (o, out) = eval_into(
        dir.path().join("suite.yaml").to_str().unwrap(),
        &["--filter", "order-status"],
    );
    let c = case(&report(&out), "order-status").clone();
    assert_eq!(c["status"], "errored", "{c}\n{}", stderr(&o));
    let why = c["error"].as_str().unwrap_or_default();
    assert!(
        why.contains(
            "an SSE event exceeded the limit of 600 bytes (`run.limits.max_response_bytes`)"
        ),
        "{why}"
    );
}
