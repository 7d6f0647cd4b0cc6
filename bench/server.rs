//! `Server`: a minimal local OpenAI-compatible endpoint (`POST /v1/chat/completions`) on
//! 127.0.0.1, answering with [`reply`] after a configurable latency.
//!
//! It runs on its own tokio runtime with a single worker thread, so that on a 2-core machine
//! it leaves the other core to gauntlet (whose CPU is measured apart, by rusage of the child).
//! HTTP/1.1 keep-alive and HTTP/2 (h2c, prior knowledge) are both served.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;

use crate::reply::reply;

pub struct Server {
    pub addr: SocketAddr,
    calls: Arc<AtomicU64>,
    /// TCP connections accepted: with keep-alive, about the client's concurrency, not its calls.
    connections: Arc<AtomicU64>,
    /// Dropping the runtime stops the server.
    _runtime: tokio::runtime::Runtime,
}

impl Server {
    /// Binds 127.0.0.1:0 and serves until dropped; every answer waits `latency` first.
    pub fn start(latency: Duration) -> std::io::Result<Server> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("bench-server")
            .enable_all()
            .build()?;
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        let calls = Arc::new(AtomicU64::new(0));
        let connections = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&calls);
        let accepted = Arc::clone(&connections);
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                accepted.fetch_add(1, Ordering::Relaxed);
                let _ = stream.set_nodelay(true);
                let counter = Arc::clone(&counter);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        handle(req, latency, Arc::clone(&counter))
                    });
                    // A client hanging up mid-request is its business, not the bench's.
                    let _ = auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Server {
            addr,
            calls,
            connections,
            _runtime: runtime,
        })
    }

    /// The base URL as gauntlet's `providers.openai.base_url` wants it (up to `/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Chat completions answered so far.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }
}

async fn handle(
    req: Request<Incoming>,
    latency: Duration,
    calls: Arc<AtomicU64>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let respond = |status: StatusCode, body: Vec<u8>| {
        let mut r = Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = status;
        r.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        );
        Ok(r)
    };
    if req.method() != Method::POST || req.uri().path() != "/v1/chat/completions" {
        return respond(StatusCode::NOT_FOUND, br#"{"error": "not found"}"#.to_vec());
    }
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return respond(StatusCode::BAD_REQUEST, b"{}".to_vec()),
    };
    let Ok(request) = serde_json::from_slice(&body) else {
        return respond(
            StatusCode::BAD_REQUEST,
            br#"{"error": "not JSON"}"#.to_vec(),
        );
    };
    let answer = reply(&request);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    calls.fetch_add(1, Ordering::Relaxed);
    respond(StatusCode::OK, answer.to_string().into_bytes())
}
