//! OpenTelemetry traces in: an OTLP/HTTP receiver for `traces: otlp` targets, and the pure
//! mapping of an agent's spans (GenAI semantic conventions, OpenInference) to trajectory steps.
pub mod decode;
pub mod file;
pub mod import;
pub mod mapping;
pub mod receiver;
pub mod span;
pub mod trace_context;
pub mod traces;
