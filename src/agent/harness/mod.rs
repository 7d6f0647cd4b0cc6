//! The bundled agent harness: the loop, the builtin tools and the world they act on.
pub mod agent_loop;
#[cfg(test)]
mod demo_tests;
pub mod support;
pub mod tools;
pub mod world;
