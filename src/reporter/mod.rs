//! Reporters: each follows a run's `RunEvent`s and does one thing with them — the progress
//! bar, the journal, GitHub's annotations and job summary — and `Reporters` fans every event
//! out to all of them (nextest's model). Another reporter (e.g. an OpenTelemetry exporter) is
//! one more file here and one more entry on the list the command builds.
pub mod fan_out;
pub(crate) mod genai_spans;
pub(crate) mod github;
pub(crate) mod journal;
pub(crate) mod otlp;
pub(crate) mod progress;
