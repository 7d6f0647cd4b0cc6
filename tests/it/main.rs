//! The one integration-test binary: drives the real `gauntlet` binary on real files.

mod demo;
mod diagnostics;
mod gate;
mod harness;
mod support;
