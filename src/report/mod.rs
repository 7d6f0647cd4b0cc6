//! Reports: the `RunReport` record and one file per output format.
pub mod build;
pub mod case_result;
pub mod compare;
pub mod comparison_render;
pub mod confirmation;
pub mod csv;
#[cfg(test)]
pub(crate) mod fixture;
pub(crate) mod format;
pub mod github;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod merge;
pub mod model;
pub mod repeats;
pub mod terminal;
pub mod trajectories;
pub mod trajectory_source;
pub mod write;
