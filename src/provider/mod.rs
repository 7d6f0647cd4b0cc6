//! Model providers behind one trait, and the reliability wrappers composed around them.
pub mod anthropic;
pub(crate) mod body;
pub(crate) mod breaker;
pub(crate) mod cache;
pub(crate) mod fallback;
pub mod http;
pub(crate) mod kind;
pub mod mock;
pub mod mock_rules;
pub(crate) mod mock_script;
pub mod openai;
pub(crate) mod rate_limit;
pub(crate) mod raw_settings;
pub(crate) mod registry;
pub mod retry;
pub mod settings;
pub(crate) mod types;
pub(crate) mod usage;

pub use types::*;
