//! Check families: one file per family, each holding its kinds' user-facing shape (`KINDS` and
//! the validated type), validation (`parse`) and evaluation. The registry is `check::registry`.
pub mod agents;
pub mod command;
pub mod end_state;
pub mod expr;
pub mod json;
pub mod judge;
pub mod limits;
pub mod text;
pub mod tools;
pub mod trajectory;
