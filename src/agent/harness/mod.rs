//! The bundled agent harness: the loop, the builtin tools and the world they act on.
pub mod agent_loop;
pub mod budget;
pub mod config;
pub mod context;
pub mod custom_tool;
pub mod faults;
pub mod pricing;
pub mod raw_custom_tool;
pub mod simulated_user;
pub mod support;
pub mod system_prompt;
pub mod tools;
pub mod world;
