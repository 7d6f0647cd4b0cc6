//! `http_client::build`: the one way gauntlet makes an HTTP client — for model providers, for
//! `http` agents and for `http` tools — so all three time out, identify themselves and use
//! proxies the same way.
//!
//! Proxies: `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY` (or their lowercase forms) are honoured, as
//! a corporate network needs, minus `NO_PROXY` — and loopback is always reached directly, so a
//! proxy set for the internet never swallows a local model server or agent.

use std::time::Duration;

/// Hosts never sent through a proxy, whatever `NO_PROXY` says.
const LOOPBACK: &str = "localhost,127.0.0.1,::1";

/// The longest a connection may take to open, when the request timeout is longer.
const MAX_CONNECT: Duration = Duration::from_secs(10);

/// Why no client could be built (a TLS backend or a proxy URL that does not load).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the HTTP client for {purpose}: {source}")]
pub struct HttpClientError {
    /// Who wanted the client: `openai`, `the http agent`, ...
    pub purpose: String,
    #[source]
    pub source: reqwest::Error,
}

/// A client for `purpose` (named in errors). `timeout`: the whole request, connection included;
/// `None` when the caller bounds each request itself (the runner's per-case timeout).
pub(crate) fn build(
    purpose: &str,
    timeout: Option<Duration>,
) -> Result<reqwest::Client, HttpClientError> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("gauntlet/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(timeout.map_or(MAX_CONNECT, |t| t.min(MAX_CONNECT)))
        // Proxies are set below, from the environment, with loopback always direct.
        .no_proxy();
    if let Some(t) = timeout {
        builder = builder.timeout(t);
    }
    let env = |names: [&str; 2]| {
        names
            .iter()
            .find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()))
    };
    let bypass = reqwest::NoProxy::from_string(&no_proxy_list(env(["NO_PROXY", "no_proxy"])));
    let wrap = |e| HttpClientError {
        purpose: purpose.to_string(),
        source: e,
    };
    let proxies = [
        (
            env(["HTTPS_PROXY", "https_proxy"]),
            reqwest::Proxy::https::<String> as ProxyFor,
        ),
        (
            env(["HTTP_PROXY", "http_proxy"]),
            reqwest::Proxy::http::<String>,
        ),
        (
            env(["ALL_PROXY", "all_proxy"]),
            reqwest::Proxy::all::<String>,
        ),
    ];
    for (url, make) in proxies {
        if let Some(url) = url {
            builder = builder.proxy(make(url).map_err(wrap)?.no_proxy(bypass.clone()));
        }
    }
    builder.build().map_err(wrap)
}

type ProxyFor = fn(String) -> reqwest::Result<reqwest::Proxy>;

/// The `NO_PROXY` list in force: the user's, plus loopback.
fn no_proxy_list(user: Option<String>) -> String {
    match user {
        Some(list) => format!("{list},{LOOPBACK}"),
        None => LOOPBACK.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_always_direct() {
        assert_eq!(no_proxy_list(None), LOOPBACK);
        assert_eq!(
            no_proxy_list(Some("corp.example".into())),
            format!("corp.example,{LOOPBACK}")
        );
    }

    #[tokio::test]
    async fn requests_carry_the_user_agent_and_time_out() {
        use wiremock::matchers::{header, method};
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let server = MockServer::start().await;
        let agent = concat!("gauntlet/", env!("CARGO_PKG_VERSION"));
        Mock::given(method("GET"))
            .and(header("user-agent", agent))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(500)))
            .mount(&server)
            .await;
        let patient = build("test", Some(Duration::from_secs(5))).unwrap();
        let ok = patient.get(server.uri()).send().await.unwrap();
        assert_eq!(ok.status(), 200);
        let hasty = build("test", Some(Duration::from_millis(50))).unwrap();
        let err = hasty.get(server.uri()).send().await.unwrap_err();
        assert!(err.is_timeout(), "{err}");
    }
}
