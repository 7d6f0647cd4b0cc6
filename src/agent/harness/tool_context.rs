//! `ToolContext`: what a `command` or `http` tool (and a state source) is told about the call
//! beside its arguments — the case, the repeat, the call's index and the run's `session` — so
//! one tool server can keep a world per run.
//!
//! A command tool gets them as environment variables (`GAUNTLET_CASE_ID`, `GAUNTLET_REPEAT`,
//! `GAUNTLET_CALL_INDEX`, `GAUNTLET_SESSION`), an http tool as headers (`x-gauntlet-case-id`,
//! …): its arguments stay the whole body, as before.

/// One call's context.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ToolContext {
    pub case_id: String,
    /// 0-based repeat of the case.
    pub repeat: u32,
    /// 0-based index of this call among the run's calls of the same tool.
    pub call_index: u64,
    /// Unique to the run (case × repeat) within and across gauntlet processes.
    pub session: String,
}

impl ToolContext {
    /// A context without a run (unit tests, a tool called outside the loop).
    pub fn for_case(case_id: &str) -> ToolContext {
        ToolContext {
            case_id: case_id.to_string(),
            ..ToolContext::default()
        }
    }

    /// The pairs sent: as environment variables (`GAUNTLET_…`) or headers (`x-gauntlet-…`).
    pub(crate) fn pairs(&self) -> [(&'static str, &'static str, String); 4] {
        [
            (
                "GAUNTLET_CASE_ID",
                "x-gauntlet-case-id",
                self.case_id.clone(),
            ),
            (
                "GAUNTLET_REPEAT",
                "x-gauntlet-repeat",
                self.repeat.to_string(),
            ),
            (
                "GAUNTLET_CALL_INDEX",
                "x-gauntlet-call-index",
                self.call_index.to_string(),
            ),
            (
                "GAUNTLET_SESSION",
                "x-gauntlet-session",
                self.session.clone(),
            ),
        ]
    }
}

/// A new session id: 128 random bits in hex, so concurrent runs and processes never share one.
pub(crate) fn new_session() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No entropy source: the time and a counter still tell this process's runs apart.
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        return format!("{t:x}-{:x}-{n:x}", std::process::id());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_unique_hex() {
        let (a, b) = (new_session(), new_session());
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
