//! Suites: `raw` (what users write), `load` (resolve + validate), `model` (the validated types).
pub mod case_facts;
pub(crate) mod external_user;
pub mod load;
pub mod model;
pub mod raw;
