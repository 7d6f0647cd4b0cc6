//! Reports: the `RunReport` record and one file per output format.
pub mod model;
