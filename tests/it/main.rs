//! The one integration-test binary: drives the real `gauntlet` binary on real files.

mod baseline;
mod cache;
mod calibrate;
mod check_kinds;
mod confirm;
mod demo;
mod diagnostics;
mod fault_server;
mod faults_net;
mod faults_proc;
mod flaky;
mod gate;
mod harness;
mod html;
mod interrupt;
mod loaders_prop;
mod module_graph;
mod otel_in;
mod providers;
mod resume;
mod shard_merge;
mod stats_reference;
mod support;
mod targets;
mod trajectories;
