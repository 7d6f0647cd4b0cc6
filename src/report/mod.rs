//! Reports: one file per output format, each rendering a finished `RunReport`
//! (`crate::results`); the aggregation they read lives there, not here.
pub(crate) mod budget;
pub(crate) mod comparison_render;
pub(crate) mod csv;
pub(crate) mod diff_html;
pub(crate) mod drift_render;
pub(crate) mod format;
pub(crate) mod github;
pub(crate) mod html;
pub mod json;
pub(crate) mod junit;
pub(crate) mod markdown;
pub(crate) mod terminal;
pub(crate) mod trajectories;
pub(crate) mod trajectory_source;
pub(crate) mod trend_html;
pub(crate) mod write;
