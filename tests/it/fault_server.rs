//! `FaultServer`: a tiny hostile HTTP/1.1 server on localhost, on plain threads (no runtime), so
//! it keeps answering while a test blocks on the `gauntlet` binary. Every connection gets one
//! answer, chosen by the server's `Fault`, then is closed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How the server misbehaves.
#[derive(Debug, Clone)]
pub enum Fault {
    /// HTTP 401 with a provider-style JSON error quoting the credential header it received
    /// (`authorization` or `x-api-key`), as OpenAI and Anthropic do.
    EchoKey,
    /// HTTP 200, `Transfer-Encoding: chunked`, and 64 KiB chunks for ever (until the client
    /// hangs up or `max` bytes were sent).
    EndlessChunked { max: u64 },
    /// A status with a fixed header and body.
    Fixed {
        status: u16,
        header: Option<(String, String)>,
        body: String,
    },
}

pub struct FaultServer {
    pub port: u16,
    /// Body bytes sent, over all connections.
    pub sent: Arc<AtomicU64>,
    /// Requests answered.
    pub requests: Arc<AtomicU64>,
}

impl FaultServer {
    pub fn start(fault: Fault) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind localhost");
        let port = listener.local_addr().expect("local addr").port();
        let sent = Arc::new(AtomicU64::new(0));
        let requests = Arc::new(AtomicU64::new(0));
        let (counter, answered) = (sent.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                answered.fetch_add(1, Ordering::Relaxed);
                let (fault, counter) = (fault.clone(), counter.clone());
                std::thread::spawn(move || {
                    let _ = answer(stream, &fault, &counter);
                });
            }
        });
        FaultServer {
            port,
            sent,
            requests,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Reads one request (headers and a `Content-Length` body) and answers it.
fn answer(stream: TcpStream, fault: &Fault, sent: &AtomicU64) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut credential = String::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            let name = name.trim().to_ascii_lowercase();
            if name == "authorization" || name == "x-api-key" {
                credential = value.trim().to_string();
            }
            if name == "content-length" {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let mut out = stream;
    match fault {
        Fault::EchoKey => {
            let body = serde_json::json!({
                "type": "error",
                "error": {
                    "message": format!("Incorrect API key provided: {credential}"),
                    "type": "invalid_request_error",
                    "sent": credential
                }
            })
            .to_string();
            write_fixed(&mut out, 401, None, &body)
        }
        Fault::Fixed {
            status,
            header,
            body,
        } => write_fixed(&mut out, *status, header.as_ref(), body),
        Fault::EndlessChunked { max } => {
            out.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                  transfer-encoding: chunked\r\nconnection: close\r\n\r\n",
            )?;
            let chunk = vec![b' '; 64 * 1024];
            let started = Instant::now();
            let mut total = 0u64;
            // Bounded anyway, so a client that never stops reading cannot keep a test alive.
            while total < *max && started.elapsed() < Duration::from_secs(120) {
                write!(out, "{:x}\r\n", chunk.len())?;
                out.write_all(&chunk)?;
                out.write_all(b"\r\n")?;
                total += chunk.len() as u64;
                sent.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            }
            out.write_all(b"0\r\n\r\n")
        }
    }
}

fn write_fixed(
    out: &mut TcpStream,
    status: u16,
    header: Option<&(String, String)>,
    body: &str,
) -> std::io::Result<()> {
    let extra = header
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .unwrap_or_default();
    write!(
        out,
        "HTTP/1.1 {status} Fault\r\ncontent-type: application/json\r\n{extra}\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}
