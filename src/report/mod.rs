//! Reports: the `RunReport` record and one file per output format.
pub mod case_result;
pub mod model;
