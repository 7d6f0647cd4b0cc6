//! `Suite` and `Case`: the validated, resolved form of what the user wrote.
//! Everything here has been checked: paths exist, regexes and templates compile, names resolve.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::agent::case_input::CaseInput;
use crate::agent::harness::budget::Budget;
use crate::agent::harness::simulated_user::SimulatedUser;
use crate::agent::target::Target;
use crate::check::calibrate::Label;
use crate::check::judge::Judge;
use crate::check::spec::CheckSpec;
use crate::gate::Gate;
use crate::provider::kind::ProviderKind;
use crate::provider::mock_rules::MockRules;
use crate::provider::mock_script::{RawMockReply, RawToolCall};
use crate::provider::registry::ProviderSetup;
use crate::provider::settings::ProviderSettings;
use crate::provider::types::ModelId;
use crate::verdict::MinPass;

#[derive(Debug, Clone)]
pub struct Suite {
    pub name: String,
    /// Hash of everything suite-wide that decides a run's result; with the case's own
    /// fingerprint, what ties a journalled run to the inputs it ran with.
    pub fingerprint: String,
    pub description: Option<String>,
    /// The suite file, as given on the command line.
    pub path: PathBuf,
    /// Sorted by id, ids unique.
    pub cases: Vec<Arc<Case>>,
    pub target: Target,
    /// Checks applied to every case (before the case's own).
    pub checks: Vec<CheckSpec>,
    /// Every judge referenced by any check, by name.
    pub judges: BTreeMap<String, Arc<Judge>>,
    /// `min_pass` policies of repeated cases, by case id (the case's own, else the suite's).
    pub min_pass: BTreeMap<String, MinPass>,
    /// Judges that must be calibrated before their verdicts gate, by name.
    pub calibration: BTreeMap<String, CalibrationRequirement>,
    /// Rules of every `mock:NAME` model the suite uses (agent or judge): `mocks/NAME.yaml`
    /// beside the suite file, loaded and compiled.
    pub mocks: BTreeMap<String, Arc<MockRules>>,
    pub gate: Gate,
    pub run: RunSettings,
    /// `providers.NAME` settings the suite gave (others use `ProviderSettings::defaults`).
    pub providers: BTreeMap<ProviderKind, ProviderSettings>,
    /// The harness model's fallback chain (`target.harness.fallback`), in order.
    pub fallback: Vec<ModelId>,
}

impl Suite {
    /// Every model the suite may call (the agent's, its fallbacks, the judges') and how to
    /// reach them: what `Providers::for_run` builds from.
    pub fn provider_setup(&self) -> ProviderSetup {
        let mut models: Vec<ModelId> = Vec::new();
        // External agents call their own models; only the harness's is ours to reach.
        if let Target::Harness(h) = &self.target {
            models.push(h.model.clone());
            models.extend(h.team.iter().flat_map(|t| t.models().cloned()));
        }
        models.extend(self.fallback.iter().cloned());
        models.extend(self.judges.values().map(|j| j.model.clone()));
        models.sort();
        models.dedup();
        let fallback = match &self.target {
            Target::Harness(h) if !self.fallback.is_empty() => {
                Some((h.model.clone(), self.fallback.clone()))
            }
            _ => None,
        };
        ProviderSetup {
            models,
            fallback,
            settings: self.providers.clone(),
            mocks: self.mocks.clone(),
            max_response_bytes: self.run.limits.max_response_bytes,
        }
    }
}

/// Human labels a judge must agree with (Cohen's kappa ≥ `min_kappa`) for its verdicts to gate.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationRequirement {
    pub labels: Vec<Label>,
    pub min_kappa: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub id: String,
    pub description: Option<String>,
    /// User turns: one for a single message, several for scripted multi-turn.
    pub turns: Vec<String>,
    pub vars: BTreeMap<String, Value>,
    pub expected: Expected,
    pub tags: Vec<String>,
    /// The case's own checks (suite checks are applied too).
    pub checks: Vec<CheckSpec>,
    /// Deep-merged over the suite's world for this case.
    pub world_fixture: Option<Value>,
    /// Per-case mock script (n-th agent model call gets the n-th reply).
    pub mock: Vec<RawMockReply>,
    /// A simulated user continuing the conversation after the first turn.
    pub user: Option<SimulatedUser>,
    /// Where the case was defined: `file:line`.
    pub source: String,
    /// Hash of the case as its dataset wrote it (see `Suite::fingerprint`).
    pub fingerprint: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Expected {
    pub reference: Option<String>,
    pub output: Option<Value>,
    pub tools: Option<Vec<RawToolCall>>,
    pub state: Option<Value>,
}

impl Case {
    /// A case with an id and one user turn and nothing else: what a calibration label becomes,
    /// and the base that tests fill in with struct update syntax.
    pub fn new(id: impl Into<String>, input: impl Into<String>) -> Case {
        Case {
            id: id.into(),
            description: None,
            turns: vec![input.into()],
            vars: BTreeMap::new(),
            expected: Expected::default(),
            tags: Vec::new(),
            checks: Vec::new(),
            world_fixture: None,
            mock: Vec::new(),
            user: None,
            source: String::new(),
            fingerprint: String::new(),
        }
    }

    /// The case as a JSON value: what templates (`case`) and `expected.*` references see.
    pub fn to_value(&self) -> Value {
        let fields = Self::FIELDS.iter().map(|k| (k.to_string(), self.field(k)));
        Value::Object(fields.collect())
    }

    /// The keys of [`Case::to_value`].
    const FIELDS: [&'static str; 7] = [
        "id",
        "description",
        "input",
        "turns",
        "vars",
        "tags",
        "expected",
    ];
    const EXPECTED_FIELDS: [&'static str; 4] = ["reference", "output", "tools", "state"];

    /// One top-level field of [`Case::to_value`] (null for an unknown key).
    fn field(&self, key: &str) -> Value {
        match key {
            "id" => json(&self.id),
            "description" => json(&self.description),
            "input" => json(&self.turns.first().cloned().unwrap_or_default()),
            "turns" => json(&self.turns),
            "vars" => json(&self.vars),
            "tags" => json(&self.tags),
            "expected" => Value::Object(
                Self::EXPECTED_FIELDS
                    .iter()
                    .map(|k| (k.to_string(), self.expected_field(k)))
                    .collect(),
            ),
            _ => Value::Null,
        }
    }

    fn expected_field(&self, key: &str) -> Value {
        let e = &self.expected;
        match key {
            "reference" => json(&e.reference),
            "output" => json(&e.output),
            "tools" => json(&e.tools),
            "state" => json(&e.state),
            _ => Value::Null,
        }
    }

    /// Resolves a reference such as `expected.tools` against this case.
    /// `None` when the path does not exist or is null.
    pub fn lookup(&self, path: &str) -> Option<Value> {
        // Only the part of `to_value` the path reaches is built: checks resolve
        // `expected.tools` and `expected.state` once per trajectory.
        let mut keys = path.split('.');
        let first = keys.next()?;
        if !Self::FIELDS.contains(&first) {
            return None;
        }
        let mut v = match (first, path.split('.').nth(1)) {
            ("expected", Some(sub)) if Self::EXPECTED_FIELDS.contains(&sub) => {
                keys.next();
                self.expected_field(sub)
            }
            ("expected", Some(_)) => return None,
            _ => self.field(first),
        };
        for key in keys {
            v = v.get_mut(key)?.take();
        }
        (!v.is_null()).then_some(v)
    }
}

impl CaseInput for Case {
    fn id(&self) -> &str {
        &self.id
    }
    fn turns(&self) -> &[String] {
        &self.turns
    }
    fn vars(&self) -> &BTreeMap<String, Value> {
        &self.vars
    }
    fn world_fixture(&self) -> Option<&Value> {
        self.world_fixture.as_ref()
    }
    fn mock_script(&self) -> &[RawMockReply] {
        &self.mock
    }
    fn simulated_user(&self) -> Option<&SimulatedUser> {
        self.user.as_ref()
    }
    fn template_value(&self) -> Value {
        self.to_value()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunSettings {
    pub concurrency: usize,
    pub timeout: Duration,
    pub repeat: u32,
    /// Only `run_tokens` / `run_usd` matter here: the runner stops scheduling past them.
    pub budget: Budget,
    /// Bounds on replies, outputs, files and renders (`run.limits`).
    pub limits: crate::limits::Limits,
}

impl Default for RunSettings {
    fn default() -> Self {
        RunSettings {
            concurrency: 8,
            timeout: Duration::from_secs(60),
            repeat: 1,
            budget: Budget::default(),
            limits: crate::limits::Limits::default(),
        }
    }
}

/// `serde_json::to_value` of a case's field: strings, lists and JSON values, which always
/// serialize.
fn json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}
