//! Targets: the agent under test. `harness` is the bundled agent loop.
pub mod harness;
pub mod target;
