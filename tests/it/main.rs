//! The one integration-test binary: drives the real `gauntlet` binary on real files.

mod calibrate;
mod demo;
mod diagnostics;
mod gate;
mod support;
