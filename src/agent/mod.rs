//! Targets: the agent under test. `harness` is the bundled agent loop; `command`, `http` and
//! `replay` evaluate an agent the user already has, through the JSON protocol in `protocol`.
pub(crate) mod case_input;
pub(crate) mod command;
pub(crate) mod conversation;
pub mod harness;
pub mod http;
pub(crate) mod protocol;
pub(crate) mod replay;
pub(crate) mod target;
pub(crate) mod target_load;
pub(crate) mod traced;
