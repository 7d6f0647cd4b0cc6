//! Targets: the agent under test. `harness` is the bundled agent loop; `command`, `http` and
//! `replay` evaluate an agent the user already has, through the JSON protocol in `protocol`.
pub mod case_input;
pub mod command;
pub mod harness;
pub mod http;
pub mod protocol;
pub mod replay;
pub mod target;
pub mod traced;
