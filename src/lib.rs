//! gauntlet: an agent evaluation and regression-testing framework.

pub mod agent;
pub mod batch;
pub mod check;
pub mod cli;
pub mod command;
pub mod confirm;
pub mod dataset;
pub mod diagnostic;
pub mod dry_run;
pub mod duration;
pub mod event;
pub mod exit;
pub mod gate;
pub mod journal;
pub mod limits;
pub mod plan;
pub mod provider;
pub mod report;
pub mod runner;
pub mod shard;
pub mod stats;
pub mod suite;
pub mod template;
pub mod text;
pub mod trajectory;
pub mod verdict;
