//! `MockProvider`: deterministic, offline model scripted by rules in `suites/mocks/NAME.yaml`.
// STUB: to be written by the harness work.

#[derive(Debug, Default)]
pub struct MockRules {}
