//! TEMPORARY: stand-ins for helper APIs until the branches merge.
#![allow(dead_code, unused_variables)]
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::diagnostic::Diagnostic;
use crate::provider::mock::MockRules;
use crate::provider::{ModelId, Provider, ProviderError};
use crate::suite::model::{Case, Target};
use crate::suite::raw::RawMockReply;
use crate::trajectory::Trajectory;

pub const BUILTIN_TOOLS: &[&str] = &["lookup_order"];

pub fn load_mock(path: &Path) -> Result<MockRules, Vec<Diagnostic>> {
    todo!()
}

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
