//! Reports: one file per output format, each rendering a finished `RunReport`
//! (`crate::results`); the aggregation they read lives there, not here.
pub mod comparison_render;
pub mod csv;
pub(crate) mod format;
pub mod github;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod terminal;
pub mod trajectories;
pub mod trajectory_source;
pub mod write;
