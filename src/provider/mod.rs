//! Model providers behind one trait.
pub mod mock;
pub mod types;

pub use types::*;
