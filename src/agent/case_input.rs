//! `CaseInput`: what an agent may read of a case — its id, user turns, variables, world
//! fixture, mock script and simulated user, and the case as templates see it. The validated
//! `suite::Case` implements it; agents never see its checks or `expected` answer key (except
//! through the template value the user's own system prompt asks for).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::agent::harness::simulated_user::SimulatedUser;
use crate::provider::mock_script::RawMockReply;

/// `Sync`: a case is read across the awaits of a run spawned on the runtime.
pub trait CaseInput: Sync {
    fn id(&self) -> &str;
    /// User turns: one for a single message, several for scripted multi-turn.
    fn turns(&self) -> &[String];
    fn vars(&self) -> &BTreeMap<String, Value>;
    /// Deep-merged over the suite's world for this case.
    fn world_fixture(&self) -> Option<&Value>;
    /// Per-case mock script (n-th agent model call gets the n-th reply).
    fn mock_script(&self) -> &[RawMockReply];
    /// A simulated user continuing the conversation after the first turn.
    fn simulated_user(&self) -> Option<&SimulatedUser>;
    /// The case as a JSON value: what a system prompt template sees as `case`.
    fn template_value(&self) -> Value;
}

impl<T: CaseInput + Send + ?Sized> CaseInput for std::sync::Arc<T> {
    fn id(&self) -> &str {
        (**self).id()
    }
    fn turns(&self) -> &[String] {
        (**self).turns()
    }
    fn vars(&self) -> &BTreeMap<String, Value> {
        (**self).vars()
    }
    fn world_fixture(&self) -> Option<&Value> {
        (**self).world_fixture()
    }
    fn mock_script(&self) -> &[RawMockReply] {
        (**self).mock_script()
    }
    fn simulated_user(&self) -> Option<&SimulatedUser> {
        (**self).simulated_user()
    }
    fn template_value(&self) -> Value {
        (**self).template_value()
    }
}
