//! The bundled agent harness: the loop, the builtin tools and the world they act on.
pub(crate) mod agent_loop;
pub(crate) mod budget;
pub(crate) mod config;
pub(crate) mod context;
pub(crate) mod custom_tool;
pub(crate) mod faults;
pub(crate) mod pricing;
pub(crate) mod raw_custom_tool;
pub(crate) mod raw_harness;
pub(crate) mod simulated_user;
pub(crate) mod sub_agent;
pub(crate) mod support;
pub mod system_prompt;
pub(crate) mod team;
pub(crate) mod tools;
pub(crate) mod world;
