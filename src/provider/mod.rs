//! Model providers behind one trait.
pub mod mock;
pub mod mock_rules;
pub mod registry;
pub mod types;

pub use types::*;
