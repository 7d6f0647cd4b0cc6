//! TEMPORARY: stand-ins for helper APIs until the branches merge.
#![allow(dead_code, unused_variables)]
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::check::judge::Judge;
use crate::check::spec::CheckSpec;
use crate::diagnostic::Diagnostic;
use crate::provider::mock::MockRules;
use crate::suite::model::Case;
use crate::suite::raw::RawCheck;
use crate::template::TemplateError;

pub const BUILTIN_TOOLS: &[&str] = &[
    "lookup_order",
    "search_kb",
    "create_ticket",
    "issue_refund",
    "send_email",
    "escalate_to_human",
];

pub struct CheckEnv<'a> {
    pub suite_dir: &'a Path,
    pub judges: &'a BTreeMap<String, Arc<Judge>>,
    pub available_judges: &'a [String],
    pub tools: Option<&'a [String]>,
}
pub struct CheckError {
    pub message: String,
    pub hint: Option<String>,
    pub needle: Option<String>,
}

pub fn from_raw(raw: &RawCheck, env: &CheckEnv) -> Result<CheckSpec, Vec<CheckError>> {
    todo!()
}
pub fn load_mock(path: &Path) -> Result<MockRules, Vec<Diagnostic>> {
    todo!()
}
pub fn load_judge(name: &str, path: &Path) -> Result<Judge, Vec<Diagnostic>> {
    todo!()
}
pub fn check_renders(j: &Judge, case: &Case) -> Result<(), TemplateError> {
    todo!()
}

use crate::provider::{ModelId, Provider, ProviderError};
use crate::suite::model::Target;
use crate::suite::raw::RawMockReply;
use crate::trajectory::Trajectory;
use crate::verdict::Verdict;

#[derive(Debug)]
pub struct Providers;
impl Providers {
    pub fn new(mocks: BTreeMap<String, Arc<MockRules>>) -> Self {
        Providers
    }
    pub fn get(
        &self,
        id: &ModelId,
        script: &[RawMockReply],
    ) -> Result<Arc<dyn Provider>, ProviderError> {
        todo!()
    }
}
pub async fn run_case(target: &Target, case: &Case, providers: &Providers) -> Trajectory {
    todo!()
}
pub fn evaluate(spec: &CheckSpec, case: &Case, trajectory: &Trajectory) -> Verdict {
    todo!()
}
pub async fn grade(
    judge: &Judge,
    provider: &dyn Provider,
    case: &Case,
    trajectory: &Trajectory,
    threshold: f64,
    soft_threshold: Option<f64>,
) -> Verdict {
    todo!()
}
