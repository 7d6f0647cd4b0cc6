//! `HttpTarget`: the user's agent behind an HTTP endpoint.
//!
//! Each case is one `POST` of the request JSON to `url` (with the configured headers); the
//! response body is the reply JSON. A connection error, a non-2xx status or a body that is not
//! a valid reply makes the case `errored` with the reason, the status and a body excerpt. The
//! runner's per-case timeout drops the request future, which cancels the request.

use std::collections::BTreeMap;

use crate::agent::protocol::{parse_reply, Request};
use crate::suite::model::Case;
use crate::text::excerpt;
use crate::trajectory::Trajectory;

/// How much of an error body a message quotes.
const BODY_EXCERPT: usize = 300;

#[derive(Debug)]
pub struct HttpTarget {
    pub url: reqwest::Url,
    /// Sent with every request, sorted by name.
    pub headers: BTreeMap<String, String>,
    pub client: reqwest::Client,
}

impl HttpTarget {
    /// Runs one case: never fails, a broken endpoint gives an `errored` trajectory.
    pub async fn run(&self, case: &Case) -> Trajectory {
        let mut request = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(Request::new(case).to_line());
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                return Trajectory::errored(format!(
                    "cannot reach the agent at {}: {}",
                    self.url,
                    error_chain(&e)
                ))
            }
        };
        let status = response.status();
        let body = match response.text().await {
            Ok(b) => b,
            Err(e) => {
                return Trajectory::errored(format!(
                    "cannot read the agent's reply (HTTP {status}): {}",
                    error_chain(&e)
                ))
            }
        };
        if !status.is_success() {
            return Trajectory::errored(format!(
                "the agent answered HTTP {status}: {}",
                excerpt(&body, BODY_EXCERPT, "(nothing)")
            ));
        }
        parse_reply(&body)
    }
}

/// reqwest's top-level message ("error sending request") hides the cause; append the chain.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
