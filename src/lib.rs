//! gauntlet: an agent evaluation and regression-testing framework.

pub mod agent;
pub mod check;
pub mod diagnostic;
pub mod event;
pub mod exit;
pub mod gate;
pub mod provider;
pub mod report;
pub mod suite;
pub mod template;
pub mod trajectory;
pub mod verdict;
