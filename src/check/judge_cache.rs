//! `JudgeCache`: judge answers stored on disk apart from agent calls, so re-scoring the same
//! trajectories (`eval --cache`) makes no judge call.
//!
//! The key is a stable 128-bit FNV-1a hash of the judge's name, its model and the whole request
//! (rendered prompt, sample seed, retry turns). One JSON file per key under
//! `.gauntlet/cache/judges/`. Only successful answers are stored; an unreadable answer is stored
//! too (it is what the model said), and its retry has a different key.

use std::path::PathBuf;

use async_trait::async_trait;
use serde_json::json;

use crate::provider::types::{ModelRequest, ModelResponse, Provider, ProviderError};
use crate::trajectory::Usage;

#[derive(Debug, Clone)]
pub(crate) struct JudgeCache {
    dir: PathBuf,
}

impl JudgeCache {
    pub(crate) fn new(dir: impl Into<PathBuf>) -> Self {
        JudgeCache { dir: dir.into() }
    }

    /// The cache key of one judge request.
    pub(crate) fn key(judge: &str, model: &str, request: &ModelRequest) -> String {
        let body = serde_json::to_string(request).unwrap_or_default();
        stable_hash(&[judge, model, &body])
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    pub(crate) fn get(&self, key: &str) -> Option<String> {
        // Read like any input file (regular files only, bounded): a bad entry is a miss.
        let text = crate::input_file::read_to_string(
            &self.path(key),
            crate::limits::Limits::DEFAULT.max_file_bytes,
        )
        .ok()?;
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        v.get("content")?.as_str().map(str::to_string)
    }

    /// Best effort: a cache that cannot be written only costs a later call.
    pub(crate) fn put(&self, key: &str, content: &str) {
        if std::fs::create_dir_all(&self.dir).is_err() {
            return;
        }
        let tmp = self.dir.join(format!("{key}.tmp{}", std::process::id()));
        let body = json!({"content": content}).to_string();
        if std::fs::write(&tmp, body).is_ok() {
            let _ = std::fs::rename(&tmp, self.path(key));
        }
    }
}

use crate::fingerprint::stable_hash;

/// A provider that answers judge requests from the cache, and fills it on a miss.
#[derive(Debug)]
pub(crate) struct CachedJudge<'a> {
    pub inner: &'a dyn Provider,
    pub cache: &'a JudgeCache,
    pub judge: &'a str,
}

#[async_trait]
impl Provider for CachedJudge<'_> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelResponse, ProviderError> {
        let key = JudgeCache::key(self.judge, self.inner.name(), request);
        if let Some(content) = self.cache.get(&key) {
            return Ok(ModelResponse {
                content: Some(content),
                tool_calls: Vec::new(),
                usage: Usage::default(),
                model: request.model.clone(),
            });
        }
        let response = self.inner.complete(request).await?;
        self.cache
            .put(&key, response.content.as_deref().unwrap_or_default());
        Ok(response)
    }
}
