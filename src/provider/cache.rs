//! `CachedProvider`: a `Provider` wrapper that answers model calls from `.gauntlet/cache/models/`
//! (`eval --cache`), stores every answer (`--record`), or answers only from the store
//! (`--replay`, where a miss is an error naming the case and what differed).
//!
//! The key is the stable FNV-128 hash of the canonical request — provider, model, messages,
//! tools, sampling parameters, purpose — plus the case id and repeat index, so repeats of a case
//! are cached apart and are not copies of each other. Requests carry no API key, so neither do
//! keys nor files. Each file keeps the canonical request beside the response: a replay miss
//! finds the nearest recorded request of the same case and names the first field that differs.
//! `ToolRecorder` does the same for `http`/`command` custom tools (under `tools/`), so a whole
//! trajectory replays with no key and no network.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::fingerprint::stable_hash;
use crate::provider::types::{ModelRequest, ModelResponse, Provider, ProviderError};
use crate::trajectory::{ToolCall, Usage};
use crate::trajectory::{ToolFailure, ToolOutcome};

/// Where the cache lives, relative to the working directory.
pub(crate) const DEFAULT_DIR: &str = ".gauntlet/cache";

/// How the cache is used in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CacheMode {
    /// `--cache`: answer from the store when possible, store what was called.
    ReadWrite,
    /// `--record`: always call, store every answer.
    Record,
    /// `--replay`: answer only from the store; a miss is an error.
    Replay,
}

impl CacheMode {
    fn reads(self) -> bool {
        matches!(self, CacheMode::ReadWrite | CacheMode::Replay)
    }
}

/// Which run of which case a call belongs to: part of every key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CallContext {
    pub case_id: String,
    pub repeat: u32,
}

/// The on-disk store: `<root>/models/<key>.json` and `<root>/tools/<key>.json`.
#[derive(Debug, Clone)]
pub(crate) struct ModelCache {
    root: PathBuf,
    mode: CacheMode,
}

/// One stored call: who made it, the canonical request, the answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    case: String,
    repeat: u32,
    request: Value,
    response: Value,
}

/// A model answer as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredResponse {
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<ToolCall>,
    #[serde(default)]
    usage: Usage,
    model: String,
}

/// The two kinds of stored call, each in its own folder.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Model,
    Tool,
}

impl Kind {
    fn folder(self) -> &'static str {
        match self {
            Kind::Model => "models",
            Kind::Tool => "tools",
        }
    }
}

/// A cache folder or entry that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("--cache-dir {} cannot be written ({source})", path.display())]
pub(crate) struct CacheWriteError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Whether the cache folder `dir` can be created and written: checked once before a run, so
/// an unwritable `--cache-dir` warns once instead of every call failing silently.
pub(crate) fn probe_writable(dir: &Path) -> Result<(), CacheWriteError> {
    let fail = |source| CacheWriteError {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let probe = dir.join(format!(".probe{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(fail)?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

impl ModelCache {
    pub(crate) fn new(root: impl Into<PathBuf>, mode: CacheMode) -> Self {
        ModelCache {
            root: root.into(),
            mode,
        }
    }

    fn key(kind: Kind, ctx: &CallContext, request: &Value) -> String {
        // serde_json's map is sorted here, so compact JSON is canonical.
        let body = request.to_string();
        let repeat = ctx.repeat.to_string();
        stable_hash(&[kind.folder(), &ctx.case_id, &repeat, &body])
    }

    fn path(&self, kind: Kind, key: &str) -> PathBuf {
        self.root.join(kind.folder()).join(format!("{key}.json"))
    }

    fn get(&self, kind: Kind, key: &str) -> Option<Entry> {
        // A cache folder may be shared or tampered with: an entry is read like any input
        // file (regular files only, bounded), and one that is not is a miss.
        let text = crate::input_file::read_to_string(
            &self.path(kind, key),
            crate::limits::Limits::DEFAULT.max_file_bytes,
        )
        .ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Best effort under `--cache` (a lost entry only costs a later call); written atomically.
    fn put(&self, kind: Kind, key: &str, entry: &Entry) -> Result<(), CacheWriteError> {
        let dir = self.root.join(kind.folder());
        let fail = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CacheWriteError { path, source }
        };
        std::fs::create_dir_all(&dir).map_err(fail(&dir))?;
        let tmp = dir.join(format!("{key}.tmp{}", std::process::id()));
        let body = serde_json::to_string_pretty(entry).map_err(|e| fail(&tmp)(e.into()))?;
        std::fs::write(&tmp, body).map_err(fail(&tmp))?;
        std::fs::rename(&tmp, self.path(kind, key)).map_err(fail(&tmp))
    }

    /// Why `request` is not in the store: the nearest recorded request of the same case (same
    /// repeat first) and the first field that differs.
    fn explain_miss(&self, kind: Kind, ctx: &CallContext, request: &Value) -> String {
        let what = match kind {
            Kind::Model => "model call",
            Kind::Tool => "tool call",
        };
        let head = format!(
            "replay miss in case `{}` (repeat {}): {what} not recorded",
            ctx.case_id, ctx.repeat
        );
        let hint = "(hint: record the run again with `eval --record`)";
        let mut candidates: Vec<(String, Entry)> = Vec::new();
        if let Ok(dir) = std::fs::read_dir(self.root.join(kind.folder())) {
            for item in dir.flatten() {
                let name = item.file_name().to_string_lossy().to_string();
                let Some(key) = name.strip_suffix(".json") else {
                    continue;
                };
                if let Some(e) = self.get(kind, key).filter(|e| e.case == ctx.case_id) {
                    candidates.push((key.to_string(), e));
                }
            }
        }
        // Nearest: same repeat, then the longest run of equal leading fields; ties by key, so
        // the message is the same at any concurrency.
        let nearest = candidates
            .iter()
            .map(|(key, e)| {
                let (path, depth) = first_difference(&e.request, request);
                (
                    (e.repeat != ctx.repeat, std::cmp::Reverse(depth), key),
                    e,
                    path,
                )
            })
            .min_by(|a, b| a.0.cmp(&b.0));
        match nearest {
            None => format!("{head}; nothing was recorded for this case {hint}"),
            Some((_, e, path)) => {
                let at = path.unwrap_or_else(|| "(nothing)".into());
                let (recorded, now) = excerpts(&lookup(&e.request, &at), &lookup(request, &at));
                format!(
                    "{head}; differs from the nearest recorded one (repeat {}) at `{at}`: \
                     now {now}, recorded {recorded} {hint}",
                    e.repeat
                )
            }
        }
    }
}

/// Short excerpts of two differing texts around where they first differ.
fn excerpts(a: &str, b: &str) -> (String, String) {
    const BEFORE: usize = 12;
    const LEN: usize = 40;
    let same = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    let start = same.saturating_sub(BEFORE);
    let cut = |s: &str| {
        let n = s.chars().count();
        let body: String = s.chars().skip(start).take(LEN).collect();
        let pre = if start > 0 { "…" } else { "" };
        let post = if start + LEN < n { "…" } else { "" };
        format!("{pre}{body}{post}")
    };
    (cut(a), cut(b))
}

/// The path of the first difference between two JSON values in document order (object keys
/// sorted, arrays by index), and how many leaves were equal before it.
fn first_difference(a: &Value, b: &Value) -> (Option<String>, usize) {
    let mut equal = 0;
    let path = walk(a, b, String::new(), &mut equal);
    (path, equal)
}

fn walk(a: &Value, b: &Value, here: String, equal: &mut usize) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let sub = if here.is_empty() {
                    k.clone()
                } else {
                    format!("{here}.{k}")
                };
                match (x.get(k), y.get(k)) {
                    (Some(va), Some(vb)) => {
                        if let Some(p) = walk(va, vb, sub, equal) {
                            return Some(p);
                        }
                    }
                    _ => return Some(sub),
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) => {
            for i in 0..x.len().max(y.len()) {
                let sub = format!("{here}[{i}]");
                match (x.get(i), y.get(i)) {
                    (Some(va), Some(vb)) => {
                        if let Some(p) = walk(va, vb, sub, equal) {
                            return Some(p);
                        }
                    }
                    _ => return Some(sub),
                }
            }
            None
        }
        _ if a == b => {
            *equal += 1;
            None
        }
        _ => Some(here),
    }
}

/// The value at a path `walk` produced, as compact JSON, or `(absent)`.
fn lookup(v: &Value, path: &str) -> String {
    let mut cur = v;
    for part in path.split('.') {
        let (name, indices) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            match cur.get(name) {
                Some(next) => cur = next,
                None => return "(absent)".into(),
            }
        }
        for idx in indices.split(['[', ']']).filter(|s| !s.is_empty()) {
            match idx.parse::<usize>().ok().and_then(|i| cur.get(i)) {
                Some(next) => cur = next,
                None => return "(absent)".into(),
            }
        }
    }
    cur.to_string()
}

/// The canonical form of a model request: everything that shapes the answer, nothing secret.
fn canonical(provider: &str, request: &ModelRequest) -> Value {
    let mut v = serde_json::to_value(request).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut v {
        map.insert("provider".into(), Value::String(provider.to_string()));
    }
    v
}

/// A provider whose calls go through the cache for one case and repeat.
#[derive(Debug)]
pub(crate) struct CachedProvider {
    inner: Arc<dyn Provider>,
    cache: Arc<ModelCache>,
    ctx: CallContext,
}

impl CachedProvider {
    pub(crate) fn new(inner: Arc<dyn Provider>, cache: Arc<ModelCache>, ctx: CallContext) -> Self {
        CachedProvider { inner, cache, ctx }
    }
}

#[async_trait]
impl Provider for CachedProvider {
    fn name(&self) -> &str {
        self.inner.name()
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelResponse, ProviderError> {
        let canonical = canonical(self.inner.name(), request);
        let key = ModelCache::key(Kind::Model, &self.ctx, &canonical);
        let mode = self.cache.mode;
        if mode.reads() {
            let hit = self
                .cache
                .get(Kind::Model, &key)
                .and_then(|e| serde_json::from_value::<StoredResponse>(e.response).ok());
            if let Some(r) = hit {
                return Ok(ModelResponse {
                    content: r.content,
                    tool_calls: r.tool_calls,
                    usage: r.usage,
                    model: r.model,
                });
            }
            if mode == CacheMode::Replay {
                return Err(ProviderError::fatal(self.cache.explain_miss(
                    Kind::Model,
                    &self.ctx,
                    &canonical,
                )));
            }
        }
        let response = self.inner.complete(request).await?;
        let stored = StoredResponse {
            content: response.content.clone(),
            tool_calls: response.tool_calls.clone(),
            usage: response.usage,
            model: response.model.clone(),
        };
        let entry = Entry {
            case: self.ctx.case_id.clone(),
            repeat: self.ctx.repeat,
            request: canonical,
            response: serde_json::to_value(stored).unwrap_or(Value::Null),
        };
        if let Err(e) = self.cache.put(Kind::Model, &key, &entry) {
            tracing::warn!(error = %e, "model cache not written");
        }
        Ok(response)
    }
}

/// Records and replays the calls of `http`/`command` custom tools for one case and repeat.
#[derive(Debug, Clone)]
pub(crate) struct ToolRecorder {
    cache: Arc<ModelCache>,
    ctx: CallContext,
}

/// What a recorder decided before a tool call.
pub(crate) enum ToolLookup {
    /// Answer with this (a replayed result, or a replay miss as the tool's error).
    Answer(ToolOutcome),
    /// Call the tool, then `store` the outcome under this key.
    Call(String),
}

impl ToolRecorder {
    pub(crate) fn new(cache: Arc<ModelCache>, ctx: CallContext) -> Self {
        ToolRecorder { cache, ctx }
    }

    /// Whether calls are answered only from the store (`--replay`).
    pub(crate) fn replays(&self) -> bool {
        self.cache.mode == CacheMode::Replay
    }

    fn request(tool: &str, args: &Value, index: u64) -> Value {
        json!({"tool": tool, "args": args, "index": index})
    }

    /// `index`: how many calls of this tool the run made before this one.
    pub(crate) fn lookup(&self, tool: &str, args: &Value, index: u64) -> ToolLookup {
        let request = Self::request(tool, args, index);
        let key = ModelCache::key(Kind::Tool, &self.ctx, &request);
        let mode = self.cache.mode;
        if mode.reads() {
            if let Some(e) = self.cache.get(Kind::Tool, &key) {
                let outcome = match e.response.get("error").and_then(Value::as_str) {
                    Some(err) => Err(ToolFailure(err.to_string())),
                    None => Ok(e.response.get("ok").cloned().unwrap_or(Value::Null)),
                };
                return ToolLookup::Answer(outcome);
            }
            if mode == CacheMode::Replay {
                let why = self.cache.explain_miss(Kind::Tool, &self.ctx, &request);
                return ToolLookup::Answer(Err(ToolFailure(why)));
            }
        }
        ToolLookup::Call(key)
    }

    pub(crate) fn store(
        &self,
        key: &str,
        tool: &str,
        args: &Value,
        index: u64,
        outcome: &ToolOutcome,
    ) {
        let response = match outcome {
            Ok(v) => json!({"ok": v}),
            Err(e) => json!({"error": e.0}),
        };
        let entry = Entry {
            case: self.ctx.case_id.clone(),
            repeat: self.ctx.repeat,
            request: Self::request(tool, args, index),
            response,
        };
        if let Err(e) = self.cache.put(Kind::Tool, key, &entry) {
            tracing::warn!(error = %e, "tool cache not written");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_difference_names_the_path() {
        let a = json!({"messages": [{"content": "hi"}, {"content": "a"}], "model": "m"});
        let b = json!({"messages": [{"content": "hi"}, {"content": "b"}], "model": "m"});
        let (path, equal) = first_difference(&a, &b);
        assert_eq!(path.as_deref(), Some("messages[1].content"));
        assert_eq!(equal, 1);
        assert_eq!(lookup(&a, "messages[1].content"), "\"a\"");
        let c = json!({"messages": [{"content": "hi"}], "model": "m"});
        assert_eq!(first_difference(&a, &c).0.as_deref(), Some("messages[1]"));
        assert_eq!(lookup(&c, "messages[1]"), "(absent)");
        assert_eq!(first_difference(&a, &a).0, None);
        let (x, y) = excerpts(
            "\"Where is my order 1003?\"",
            "\"Where is my order 1003 please?\"",
        );
        assert_eq!(
            (x.as_str(), y.as_str()),
            ("…y order 1003?\"", "…y order 1003 please?\"")
        );
    }

    #[test]
    fn keys_differ_by_repeat_and_case() {
        let r = json!({"model": "m"});
        let ctx = |c: &str, n| CallContext {
            case_id: c.into(),
            repeat: n,
        };
        let k0 = ModelCache::key(Kind::Model, &ctx("a", 0), &r);
        assert_eq!(k0, ModelCache::key(Kind::Model, &ctx("a", 0), &r));
        assert_ne!(k0, ModelCache::key(Kind::Model, &ctx("a", 1), &r));
        assert_ne!(k0, ModelCache::key(Kind::Model, &ctx("b", 0), &r));
        assert_ne!(k0, ModelCache::key(Kind::Tool, &ctx("a", 0), &r));
    }
}
