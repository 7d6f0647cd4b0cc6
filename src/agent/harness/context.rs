//! `fit_context`: keeps the history sent to the model within a token budget — the system
//! prompt, a note of what was dropped, and the most recent turns that fit.
//!
//! Tokens are estimated as ceil(chars / 4), like the mock provider counts them. Cuts happen
//! only before a user or assistant message, never between an assistant's tool calls and their
//! results: providers reject a tool result whose call is missing.

use crate::provider::types::{Message, Role};

/// The estimated tokens of one message: its text, tool calls and tool name.
pub(crate) fn estimate_tokens(m: &Message) -> u64 {
    let mut chars = m.content.chars().count();
    if !m.tool_calls.is_empty() {
        chars += serde_json::to_string(&m.tool_calls).map_or(0, |s| s.chars().count());
    }
    chars += m.name.as_deref().map_or(0, |n| n.chars().count());
    chars.div_ceil(4) as u64
}

/// The messages to send under `budget` tokens. Leading system messages are always kept; then
/// the longest suffix of the rest that fits and starts at a user or assistant message. When
/// something was dropped a system note says so. If even the latest turn does not fit, the
/// latest turn is sent anyway: an over-long request is the provider's call to refuse, while an
/// empty one would be meaningless.
pub(crate) fn fit_context(messages: &[Message], budget: u64) -> Vec<Message> {
    let head = messages
        .iter()
        .take_while(|m| m.role == Role::System)
        .count();
    let (system, rest) = messages.split_at(head);
    let total: u64 = messages.iter().map(estimate_tokens).sum();
    if total <= budget {
        return messages.to_vec();
    }
    let fixed: u64 = system.iter().map(estimate_tokens).sum();
    // Reserve room for the note itself (its length barely varies).
    let room = budget.saturating_sub(fixed + estimate_tokens(&note(rest.len())));
    let cut_points: Vec<usize> = (0..rest.len())
        .filter(|&i| rest[i].role != Role::Tool)
        .collect();
    let mut suffix_tokens: Vec<u64> = vec![0; rest.len() + 1];
    for i in (0..rest.len()).rev() {
        suffix_tokens[i] = suffix_tokens[i + 1] + estimate_tokens(&rest[i]);
    }
    let start = cut_points
        .iter()
        .copied()
        .find(|&i| suffix_tokens[i] <= room)
        .or_else(|| cut_points.last().copied())
        .unwrap_or(0);
    let mut out = system.to_vec();
    if start > 0 {
        out.push(note(start));
    }
    out.extend_from_slice(&rest[start..]);
    out
}

fn note(dropped: usize) -> Message {
    Message::system(format!(
        "[context trimmed: {dropped} earlier messages were dropped to fit the context budget]"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trajectory::ToolCall;
    use serde_json::json;

    fn history() -> Vec<Message> {
        let call = ToolCall {
            id: "c1".into(),
            name: "lookup_order".into(),
            args: json!({"order_id": "1"}),
        };
        vec![
            Message::system("s".repeat(40)),
            Message::user("u".repeat(400)),
            Message::assistant("", vec![call]),
            Message::tool("c1", "lookup_order", "t".repeat(400)),
            Message::assistant("a".repeat(40), vec![]),
            Message::user("latest question"),
        ]
    }

    #[test]
    fn under_budget_nothing_changes() {
        let h = history();
        assert_eq!(fit_context(&h, 10_000), h);
    }

    #[test]
    fn keeps_system_note_and_recent_turns_without_orphan_tool_results() {
        let h = history();
        let table: [(u64, usize); 4] = [
            // budget → index in `h` of the first kept non-system message
            (200, 2), // drops the long user turn; keeps the call and its result together
            (100, 4), // the tool result alone would be orphaned: cut before the next assistant
            (40, 5),
            (1, 5), // nothing fits: the latest turn goes anyway
        ];
        for (budget, first) in table {
            let out = fit_context(&h, budget);
            assert_eq!(out[0], h[0], "system prompt kept at {budget}");
            assert!(
                out[1]
                    .content
                    .contains(&format!("{} earlier messages", first - 1)),
                "{budget}: {:?}",
                out[1]
            );
            assert_eq!(&out[2..], &h[first..], "budget {budget}");
            assert_ne!(out[2].role, Role::Tool);
        }
    }
}
