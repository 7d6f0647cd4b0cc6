//! Model providers behind one trait, and the reliability wrappers composed around them.
pub mod anthropic;
pub mod body;
pub mod breaker;
pub mod cache;
pub mod fallback;
pub mod http;
pub mod kind;
pub mod mock;
pub mod mock_rules;
pub mod mock_script;
pub mod openai;
pub mod rate_limit;
pub mod raw_settings;
pub mod registry;
pub mod retry;
pub mod settings;
pub mod types;
pub mod usage;

pub use types::*;
