//! `Suite` and `Case`: the validated, resolved form of what the user wrote.
//! Everything here has been checked: paths exist, regexes and templates compile, names resolve.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::agent::command::CommandTarget;
use crate::agent::harness::custom_tool::CustomTool;
use crate::agent::harness::faults::Faults;
use crate::agent::harness::pricing::PriceTable;
use crate::agent::harness::tools::SharedToolSet;
use crate::agent::http::HttpTarget;
use crate::agent::replay::ReplayTarget;
use crate::check::calibrate::Label;
use crate::check::judge::Judge;
use crate::check::spec::CheckSpec;
use crate::gate::Gate;
use crate::provider::mock::MockRules;
use crate::provider::settings::ProviderSettings;
use crate::provider::ModelId;
use crate::suite::raw::{RawMockReply, RawToolCall};
use crate::template::SharedTemplate;
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
    pub providers: BTreeMap<String, ProviderSettings>,
    /// The harness model's fallback chain (`target.harness.fallback`), in order.
    pub fallback: Vec<ModelId>,
}

/// Human labels a judge must agree with (Cohen's kappa ≥ `min_kappa`) for its verdicts to gate.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationRequirement {
    pub labels: Vec<Label>,
    pub min_kappa: f64,
}

#[derive(Debug, Clone)]
pub enum Target {
    Harness(Arc<HarnessConfig>),
    /// The user's agent as a process speaking JSON on stdin/stdout.
    Command(Arc<CommandTarget>),
    /// The user's agent behind an HTTP endpoint.
    Http(Arc<HttpTarget>),
    /// Trajectories recorded by an earlier run.
    Replay(Arc<ReplayTarget>),
}

#[derive(Debug, Clone)]
pub struct HarnessConfig {
    pub model: ModelId,
    /// Compiled system prompt template source (rendered per case with `case` and `vars`).
    pub system: Option<String>,
    /// Builtin tool names, in the order given.
    pub tools: Vec<String>,
    /// The world fixture (JSON), cloned and mutated per case.
    pub world: Option<Arc<Value>>,
    pub max_steps: u32,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    /// Malformed tool calls (unknown tool, invalid arguments) the model may repair per case.
    pub max_repairs: u32,
    /// Token budget of the history sent to the model (`None`: everything).
    pub context_tokens: Option<u64>,
    /// Tools beyond the builtin world, offered after the builtin ones.
    pub custom_tools: Vec<Arc<CustomTool>>,
    /// Fault injection by tool name (builtin or custom).
    pub faults: BTreeMap<String, Faults>,
    /// USD per million tokens by `provider:model`: built-in defaults plus the suite's.
    pub pricing: PriceTable,
    /// Per-case limits (the run limits live in `RunSettings`).
    pub budget: Budget,
    /// The model playing a case's simulated user (default: the agent's model).
    pub user_model: Option<ModelId>,
    /// `tools` and `custom_tools` compiled, once for the whole suite.
    pub toolset: SharedToolSet,
    /// `system` compiled, once for the whole suite.
    pub system_template: SharedTemplate,
}

/// Token and USD limits, per case and per run. `None`: no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Budget {
    pub case_tokens: Option<u64>,
    pub case_usd: Option<f64>,
    pub run_tokens: Option<u64>,
    pub run_usd: Option<f64>,
}

/// A simulated user (tau-bench style): an LLM with a persona and a goal that keeps talking to
/// the agent until it says it is done or `max_turns` user turns were spoken.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulatedUser {
    pub persona: String,
    pub goal: String,
    pub max_turns: u32,
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
