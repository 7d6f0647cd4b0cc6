//! Run history: every recorded run of a suite in a database (SQLite by default, PostgreSQL for
//! a team), read back as tables, flip histories and drift alerts.
pub mod baseline;
pub(crate) mod git;
pub mod location;
pub mod query;
pub mod record;
pub mod store;
pub(crate) mod time;
