//! `read_capped`: reads an HTTP response body as a stream, never holding more than a cap, so an
//! endless or oversized reply from a provider or an `http` agent costs bounded memory.

/// Most of an error body that is kept: enough for any real provider message.
pub(crate) const ERROR_BODY_BYTES: u64 = 64 * 1024;

/// Why a body could not be read whole.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// The body is longer than `limit` bytes (by `Content-Length`, or as it streamed in).
    TooLarge { limit: u64 },
    /// The connection failed or timed out mid-body.
    Transport(reqwest::Error),
}

/// The body of `response`, failing as soon as it is known to exceed `limit` bytes.
pub(crate) async fn read_capped(
    response: reqwest::Response,
    limit: u64,
) -> Result<Vec<u8>, BodyError> {
    read(response, limit, false).await
}

/// At most the first `limit` bytes of the body, the rest unread (for error messages, which
/// only quote the start).
pub(crate) async fn read_prefix(
    response: reqwest::Response,
    limit: u64,
) -> Result<Vec<u8>, BodyError> {
    read(response, limit, true).await
}

async fn read(
    mut response: reqwest::Response,
    limit: u64,
    truncate: bool,
) -> Result<Vec<u8>, BodyError> {
    if !truncate && response.content_length().is_some_and(|n| n > limit) {
        return Err(BodyError::TooLarge { limit });
    }
    // Reserve what was announced, within the cap: one allocation for the common case.
    let hint = response.content_length().unwrap_or(0).min(limit);
    let mut body = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
    let cap = usize::try_from(limit).unwrap_or(usize::MAX);
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len().saturating_add(chunk.len()) > cap {
            if truncate {
                let room = cap - body.len();
                body.extend_from_slice(&chunk[..room]);
                break;
            }
            return Err(BodyError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
