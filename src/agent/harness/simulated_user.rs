//! `SimulatedUserChat`: the conversation as the simulated user sees it, and its requests to the
//! user model. The simulated user is an LLM with a persona and a goal (tau-bench style); it
//! speaks until it says it is done with `###STOP###` or `max_turns` user turns were spoken.

use crate::provider::types::{Message, ModelRequest, Purpose};

/// A simulated user (tau-bench style): an LLM with a persona and a goal that keeps talking to
/// the agent until it says it is done or `max_turns` user turns were spoken.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulatedUser {
    pub persona: String,
    pub goal: String,
    pub max_turns: u32,
}

/// What the simulated user writes when its goal is met (or cannot be met).
pub(crate) const STOP_TOKEN: &str = "###STOP###";

/// The simulated user's side of the conversation. Roles are mirrored: its own turns are
/// `assistant` messages and the agent's answers `user` messages, so any chat model can play it.
#[derive(Debug)]
pub(crate) struct SimulatedUserChat {
    messages: Vec<Message>,
}

/// What the simulated user said next.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum UserReply {
    Says(String),
    Done,
}

impl SimulatedUserChat {
    pub(crate) fn new(user: &SimulatedUser) -> Self {
        let system = format!(
            "You are playing a customer talking to a support agent. Stay in character; write \
             only what the customer says, one short message at a time.\n\n\
             Persona: {}\n\nGoal: {}\n\n\
             When the goal is met, or clearly cannot be met, reply with exactly {STOP_TOKEN}.",
            user.persona, user.goal
        );
        SimulatedUserChat {
            messages: vec![Message::system(system)],
        }
    }

    /// A turn the user said (the case's input, or an earlier simulated turn).
    pub(crate) fn user_said(&mut self, text: &str) {
        self.messages.push(Message::assistant(text, Vec::new()));
    }

    /// The agent's answer to the last turn.
    pub(crate) fn agent_said(&mut self, text: &str) {
        self.messages.push(Message::user(text));
    }

    pub(crate) fn request(&self, model: &str) -> ModelRequest {
        ModelRequest {
            model: model.to_string(),
            messages: self.messages.clone(),
            tools: Default::default(),
            temperature: None,
            max_tokens: None,
            purpose: Purpose::SimulatedUser,
            seed: None,
            response_format: None,
        }
    }
}

/// Reads the user model's answer: the stop token anywhere means done; an empty answer too,
/// since an empty user turn would only make the agent guess.
pub(crate) fn parse_reply(content: Option<&str>) -> UserReply {
    let text = content.unwrap_or_default().trim();
    if text.is_empty() || text.contains(STOP_TOKEN) {
        UserReply::Done
    } else {
        UserReply::Says(text.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::types::Role;

    #[test]
    fn roles_are_mirrored_and_the_persona_is_in_the_system_prompt() {
        let mut chat = SimulatedUserChat::new(&SimulatedUser {
            persona: "impatient".into(),
            goal: "get order 1 status".into(),
            max_turns: 3,
        });
        chat.user_said("where is my order?");
        chat.agent_said("Which order?");
        let r = chat.request("support");
        assert_eq!(r.purpose, Purpose::SimulatedUser);
        let roles: Vec<Role> = r.messages.iter().map(|m| m.role).collect();
        assert_eq!(roles, [Role::System, Role::Assistant, Role::User]);
        assert!(r.messages[0].content.contains("impatient"));
        assert!(r.messages[0].content.contains(STOP_TOKEN));
    }

    #[test]
    fn stop_token_and_empty_replies_end_the_conversation() {
        assert_eq!(parse_reply(Some("Thanks! ###STOP###")), UserReply::Done);
        assert_eq!(parse_reply(Some("  ")), UserReply::Done);
        assert_eq!(parse_reply(None), UserReply::Done);
        assert_eq!(
            parse_reply(Some(" It's order 1. ")),
            UserReply::Says("It's order 1.".into())
        );
    }
}
