//! Resolves and validates a suite file into a `Suite`, collecting every error of the load.
//!
//! Order matters only for what can be checked: the suite file is parsed first (a syntax error
//! there stops the load, since nothing else can be found), then judges and mock rules, then
//! checks and datasets, and last the templates rendered against every case. Every other
//! problem is collected, so a user fixes a broken suite in one round.

use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use serde_json::Value;

use crate::agent::harness::budget::Budget;
use crate::agent::harness::config::HarnessConfig;
use crate::agent::harness::custom_tool::CustomTool;
use crate::agent::harness::faults::Faults;
use crate::agent::harness::pricing::{Price, PriceTable};
use crate::agent::harness::raw_harness::RawHarness;
use crate::agent::harness::simulated_user::SimulatedUser;
use crate::agent::harness::system_prompt::system_prompt_context;
use crate::agent::harness::tools::BUILTIN_TOOLS;
use crate::agent::harness::world::{World, WorldError};
use crate::agent::target::{RawTarget, Target, TargetKind};
use crate::agent::target_load::{ProblemAt, TargetLoad};
use crate::check::calibrate::load_labels;
use crate::check::compile_cache::CompileCache;
use crate::check::judge::Judge;
use crate::check::parse::{from_raw, CheckEnv};
use crate::check::raw::RawCheck;
use crate::check::spec::CheckSpec;
use crate::dataset::{self, SourcedCase};
use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::duration::parse_duration;
use crate::fingerprint::stable_hash;
use crate::gate::{Gate, DEFAULT_MAX_ERROR_RATE};
use crate::limits::Limits;
use crate::provider::kind::ProviderKind;
use crate::provider::mock_rules::MockRules;
use crate::provider::raw_settings::RawProviderSettings;
use crate::provider::settings::ProviderSettings;
use crate::provider::types::ModelId;
use crate::suite::model::{CalibrationRequirement, Case, Expected, RunSettings, Suite};
use crate::suite::raw::{RawCalibration, RawCase, RawGate, RawRun, RawSuite};
use crate::template::SharedTemplate;
use crate::verdict::{MinPass, DEFAULT_ALPHA};
use crate::yaml_path::NodeIndex;

/// Default bound on model calls per case when the suite does not set `max_steps`.
const DEFAULT_MAX_STEPS: u32 = 10;
const DEFAULT_MAX_REPAIRS: u32 = 2;
const DEFAULT_USER_TURNS: u32 = 5;

/// `--model` and `--judge-model`: model ids that replace the suite's agent model and every
/// judge's model. Applied during the load, so the replacement is validated (and its mock rules
/// loaded) like a model written in the files.
#[derive(Debug, Clone, Default)]
pub struct ModelOverrides {
    pub model: Option<String>,
    pub judge_model: Option<String>,
}

/// Loads, resolves and validates the suite at `path`.
pub fn load_suite(path: &Path) -> Result<Suite, Vec<Diagnostic>> {
    load_suite_with(path, &ModelOverrides::default())
}

/// `load_suite`, with the models replaced as `overrides` says.
pub fn load_suite_with(path: &Path, overrides: &ModelOverrides) -> Result<Suite, Vec<Diagnostic>> {
    // The suite's own `run.limits` are inside it: the suite file gets the default limit.
    let source = crate::input_file::read_to_string(path, Limits::default().max_file_bytes)
        .map_err(|e| vec![Diagnostic::new(path, format!("cannot read suite: {e}"))])?;
    let mut raw: RawSuite =
        // Before `run.limits` is known: the suite file gets the default depth.
        crate::yaml_depth::from_str(path, &source, Limits::default().max_depth)
            .map_err(|d| vec![d])?;
    let judge_model = match overrides.judge_model.as_deref().map(ModelId::parse) {
        Some(Err(msg)) => {
            return Err(vec![Diagnostic::new(path, format!("--judge-model: {msg}"))]);
        }
        Some(Ok(id)) => Some(id),
        None => None,
    };
    if let Some(m) = &overrides.model {
        if let Err(msg) = ModelId::parse(m) {
            return Err(vec![Diagnostic::new(path, format!("--model: {msg}"))]);
        }
        if let Some(h) = raw.target.harness.as_mut() {
            h.model = m.clone();
        }
    }
    let mut loader = Loader {
        path: path.to_path_buf(),
        dir: parent_dir(path),
        source,
        judges_dir: None,
        errors: Vec::new(),
        judge_model,
        overrides: overrides.clone(),
        inputs: Vec::new(),
        limits: Limits::default(),
        nodes: OnceCell::new(),
    };
    let suite = loader.suite(raw);
    if loader.errors.is_empty() {
        suite.ok_or_else(Vec::new)
    } else {
        loader.errors.sort();
        loader.errors.dedup();
        Err(loader.errors)
    }
}

struct Loader {
    path: PathBuf,
    dir: PathBuf,
    source: String,
    judges_dir: Option<PathBuf>,
    errors: Vec<Diagnostic>,
    /// `--judge-model`: replaces every judge's model.
    judge_model: Option<ModelId>,
    /// `--model` and `--judge-model` as given: part of the fingerprint.
    overrides: ModelOverrides,
    /// Hashes of the files read that decide results, in reading order.
    inputs: Vec<String>,
    /// `run.limits`, once `run` is read.
    limits: Limits,
    /// Where each node of the suite file is; built at the first error that names a node.
    nodes: OnceCell<NodeIndex>,
}

impl Loader {
    /// An error in the suite file, placed at the first occurrence of `needle`.
    fn error(&mut self, message: impl Into<String>, needle: &str) -> &mut Diagnostic {
        let d = Diagnostic::new(&self.path, message).locate(&self.source, needle);
        self.errors.push(d);
        self.errors.last_mut().expect("just pushed")
    }

    /// An error about one node of the suite file (`run.budget.case_usd`, `checks[4].weight`),
    /// placed at that node, or at its nearest ancestor when the node itself is absent.
    fn error_at(&mut self, message: impl Into<String>, path: &str) -> &mut Diagnostic {
        let mut d = Diagnostic::new(&self.path, message);
        let nodes = self.nodes.get_or_init(|| NodeIndex::build(&self.source));
        if let Some((line, column)) = nodes.nearest(path) {
            d = d.at(line, Some(column));
        }
        self.errors.push(d);
        self.errors.last_mut().expect("just pushed")
    }

    /// Records a file read at load whose content decides runs' results (for the fingerprint).
    fn decides(&mut self, text: &str) {
        self.inputs.push(stable_hash(&[text]));
    }

    /// The fingerprint of everything suite-wide that decides a run's result: the suite file
    /// (less what only shapes the run: description, gate, concurrency, repeat), the model
    /// overrides, and the judge, mock, system prompt, world and replay files it read.
    fn fingerprint(&mut self, judges: &[PathBuf], mocks: &[PathBuf]) -> String {
        let mut suite = serde_yaml::from_str::<serde_json::Value>(&self.source)
            .map(|mut v| {
                if let Some(map) = v.as_object_mut() {
                    map.remove("description");
                    map.remove("gate");
                    if let Some(run) = map.get_mut("run").and_then(|r| r.as_object_mut()) {
                        run.remove("concurrency");
                        run.remove("repeat");
                    }
                }
                v.to_string()
            })
            .unwrap_or_else(|_| self.source.clone());
        suite.push_str(&format!("\0{:?}", self.overrides));
        for file in judges.iter().chain(mocks) {
            let text = crate::input_file::read_to_string(file, self.limits.max_file_bytes)
                .unwrap_or_default();
            self.decides(&text);
        }
        let mut parts: Vec<&str> = vec![&suite];
        parts.extend(self.inputs.iter().map(String::as_str));
        stable_hash(&parts)
    }

    fn resolve(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    fn suite(&mut self, raw: RawSuite) -> Option<Suite> {
        if raw.name.trim().is_empty() {
            self.error_at("`name` must not be empty", "name");
        } else if raw.name.contains(['/', '\\']) || raw.name.starts_with('.') {
            self.error_at(
                format!("suite name `{}` cannot be used as a folder name", raw.name),
                "name",
            )
            .hint = Some("use letters, digits, `-` and `_`".into());
        } else if raw.name.len() > 255 {
            // It names the reports folder: most file systems refuse a longer file name.
            self.error_at(
                format!("suite name is {} bytes long, more than 255", raw.name.len()),
                "name",
            )
            .hint = Some("the name is a folder name under --out; shorten it".into());
        }
        // First: the limits bound what the target, tools and checks may read.
        let run = self.run(&raw.run);
        self.limits = run.limits;
        // Every template of this suite (judges, checks, mocks, system prompt) is compiled
        // below, under its limits.
        crate::template::set_limits(&run.limits);
        let (harness, external) = self.target(&raw.target, &run.limits);
        let tools: Vec<String> = harness
            .as_ref()
            .map(|h| {
                let custom = h.custom_tools.iter().map(|t| t.spec.name.clone());
                // A team's agents are tools too (`kb`, `transfer_to_billing`).
                let mut links: Vec<String> = h
                    .team
                    .iter()
                    .flat_map(|t| t.agents.values().flat_map(|a| a.links.keys().cloned()))
                    .collect();
                links.sort();
                links.dedup();
                h.tools.iter().cloned().chain(custom).chain(links).collect()
            })
            .unwrap_or_default();

        let judges_dir = self.judges_dir(raw.judges_dir.as_deref());
        let available_judges = list_judges(judges_dir.as_deref());
        let datasets = self.datasets(&raw);

        // Judges referenced anywhere, loaded once each; unknown names are reported by the
        // check conversion, which knows where they were written.
        let mut judge_names = BTreeSet::new();
        let all_raw_checks = raw.checks.iter().chain(
            datasets
                .iter()
                .flat_map(|(_, cs)| cs.iter().flat_map(|c| c.case.checks.iter())),
        );
        for check in all_raw_checks {
            if let Some(name) = crate::check::family::judge::named_judge(check) {
                judge_names.insert(name.to_string());
            }
        }
        let judges = self.judges(judges_dir.as_deref(), &judge_names, &available_judges);
        self.judges_dir = judges_dir.clone();

        let mut mocks = BTreeMap::new();
        let mut mock_names = BTreeSet::new();
        let mut mock_files = Vec::new();
        if let Some(h) = &harness {
            let team = h.team.iter().flat_map(|t| t.models());
            for m in std::iter::once(&h.model)
                .chain(h.user_model.as_ref())
                .chain(team)
            {
                if m.is_mock() {
                    mock_names.insert(m.model.clone());
                }
            }
        }
        // An external target's simulated-user model (the turn protocol).
        if let Some(m) = external.as_ref().and_then(|t| t.user_model()) {
            if m.is_mock() {
                mock_names.insert(m.model.clone());
            }
        }
        for judge in judges.values() {
            if judge.model.is_mock() {
                mock_names.insert(judge.model.model.clone());
            }
        }
        for name in mock_names {
            let file = self.dir.join("mocks").join(format!("{name}.yaml"));
            if !file.is_file() {
                self.error(
                    format!(
                        "mock model `mock:{name}` has no rules file {}",
                        file.display()
                    ),
                    &format!("mock:{name}"),
                )
                .hint = Some("mock rules live in `mocks/NAME.yaml` beside the suite file".into());
                continue;
            }
            match MockRules::load(&file, &run.limits) {
                Ok(rules) => {
                    mock_files.push(file);
                    mocks.insert(name, Arc::new(rules));
                }
                Err(errs) => self.errors.extend(errs),
            }
        }

        let min_pass = self.min_pass(&raw.run, &datasets);
        let cache = CompileCache::default();
        let team_agents: Option<Vec<String>> = harness
            .as_ref()
            .and_then(|h| h.team.as_ref())
            .map(|t| t.agents.keys().cloned().collect());
        let mcp_named = std::sync::Mutex::new(BTreeSet::new());
        let env = CheckEnv {
            suite_dir: &self.dir,
            judges: &judges,
            available_judges: &available_judges,
            tools: harness.as_ref().map(|_| tools.as_slice()),
            // An MCP server's tool names are known only once it runs.
            mcp_named: harness
                .as_ref()
                .filter(|h| !h.mcp.is_empty())
                .map(|_| &mcp_named),
            agents: team_agents.as_deref(),
            cache: &cache,
            limits: run.limits,
        };
        let mut checks = Vec::new();
        let mut check_errors = Vec::new();
        for (i, raw_check) in raw.checks.iter().enumerate() {
            let place = Place::Search {
                source: &self.source,
                nodes: &self.nodes,
                item: i,
            };
            match convert_check(raw_check, &env, &self.path, place) {
                Ok(c) => checks.push(c),
                Err(errs) => check_errors.extend(errs),
            }
        }
        let cases = cases(datasets, &env, &mut check_errors);
        let min_pass: BTreeMap<String, MinPass> = cases
            .iter()
            .filter_map(|c| {
                let policy = min_pass.0.get(&c.id).copied().or(min_pass.1);
                policy.map(|p| (c.id.clone(), p))
            })
            .collect();
        self.errors.extend(check_errors);

        if let Some(h) = &harness {
            self.render_system_prompt(h, raw.target.harness.as_ref(), &cases);
            self.check_worlds(h, raw.target.harness.as_ref(), &cases);
        }
        self.render_judges(&judges, &checks, &cases);
        let default_gate = RawGate {
            min_pass_rate: Some(1.0),
            ..RawGate::default()
        };
        let gate = self.gate(raw.gate.as_ref().unwrap_or(&default_gate), &cases);
        let providers = self.providers(&raw.providers);
        let fallback = self.fallback(raw.target.harness.as_ref());
        let calibration = self.calibration(&raw.calibration, &judges);

        let target = match harness {
            Some(mut h) => {
                h.budget = run.budget;
                let named = mcp_named.into_inner().unwrap_or_else(|e| e.into_inner());
                h.mcp_named.extend(named);
                h.mcp_named.sort();
                h.mcp_named.dedup();
                Target::Harness(Arc::new(h))
            }
            None => match external? {
                Target::Http(h) => {
                    Target::Http(h.with_max_reply_bytes(run.limits.max_output_bytes))
                }
                other => other,
            },
        };
        self.errors
            .extend(crate::suite::external_user::external_user_problems(
                &target, &cases,
            ));
        // Not collected in place: that would keep the `Case`s' whole buffer behind the `Arc`s.
        let mut shared_cases = Vec::with_capacity(cases.len());
        shared_cases.extend(cases.into_iter().map(Arc::new));
        let judge_files: Vec<PathBuf> = judges_dir
            .iter()
            .flat_map(|dir| judges.keys().map(|n| dir.join(format!("{n}.yaml"))))
            .collect();
        let fingerprint = self.fingerprint(&judge_files, &mock_files);
        Some(Suite {
            fingerprint,
            name: raw.name,
            description: raw.description,
            path: self.path.clone(),
            cases: shared_cases,
            target,
            checks,
            judges,
            min_pass,
            calibration,
            mocks,
            gate,
            run,
            providers,
            fallback,
        })
    }

    fn providers(
        &mut self,
        raw: &BTreeMap<String, RawProviderSettings>,
    ) -> BTreeMap<ProviderKind, ProviderSettings> {
        let mut out = BTreeMap::new();
        let configurable: Vec<&str> = ProviderKind::http_kinds().map(|k| k.name()).collect();
        for (name, settings) in raw {
            let Some(kind) = ProviderKind::parse(name).filter(|k| k.is_http()) else {
                let hint = match did_you_mean(name, configurable.iter().copied()) {
                    Some(best) => format!("did you mean `{best}`?"),
                    None => format!("configurable providers: {}", configurable.join(", ")),
                };
                self.error(format!("unknown provider `{name}` in `providers`"), name)
                    .hint = Some(hint);
                continue;
            };
            match ProviderSettings::from_raw(kind, settings) {
                Ok(s) => {
                    out.insert(kind, s);
                }
                Err(errs) => {
                    for e in errs {
                        self.error(format!("providers.{name}: {e}"), e.needle());
                    }
                }
            }
        }
        out
    }

    fn fallback(&mut self, harness: Option<&RawHarness>) -> Vec<ModelId> {
        let mut out = Vec::new();
        for text in harness.map(|h| h.fallback.as_slice()).unwrap_or_default() {
            match ModelId::parse(text) {
                Ok(id) if id.is_mock() => {
                    self.error(
                        format!(
                            "fallback model `{id}` is a mock; fallbacks are for real providers"
                        ),
                        text,
                    );
                }
                Ok(id) if harness.is_some_and(|h| h.model == *text) => {
                    self.error(
                        format!("fallback model `{id}` is the primary model itself"),
                        text,
                    );
                }
                Ok(id) if out.contains(&id) => {
                    self.error(format!("fallback model `{id}` is listed twice"), text);
                }
                Ok(id) => out.push(id),
                Err(msg) => {
                    self.error(msg.to_string(), text);
                }
            }
        }
        out
    }

    /// Exactly one target kind. The harness comes back apart from the other kinds: the loader
    /// checks more against it (tools, world, system prompt).
    fn target(
        &mut self,
        raw: &RawTarget,
        limits: &Limits,
    ) -> (Option<HarnessConfig>, Option<Target>) {
        let present = raw.kinds();
        let kinds = TargetKind::ALL
            .iter()
            .map(|k| format!("`{}`", k.name()))
            .collect::<Vec<_>>()
            .join(", ");
        let kind = match present.as_slice() {
            [] => {
                self.error("the suite has no target", "target:").hint = Some(format!(
                    "expected one of {kinds}, e.g. `target: {{harness: {{model: ..., tools: [...]}}}}`"
                ));
                return (None, None);
            }
            [kind] => *kind,
            many => {
                let found = many
                    .iter()
                    .map(|k| format!("`{}`", k.name()))
                    .collect::<Vec<_>>()
                    .join(" and ");
                self.error(
                    format!("a target has exactly one kind, found {found}"),
                    "target:",
                )
                .hint = Some(format!("keep one of {kinds}"));
                return (None, None);
            }
        };
        if kind == TargetKind::Harness {
            return (
                raw.harness.as_ref().and_then(|h| self.harness(h, limits)),
                None,
            );
        }
        let dir = self.dir.clone();
        let mut cx = TargetLoad::new(&dir, limits);
        let target = crate::agent::target::load(raw, kind, &mut cx);
        self.inputs.append(&mut cx.decisive);
        for p in cx.problems {
            let d = match p.place {
                ProblemAt::Needle(needle) => self.error(p.message, &needle),
                ProblemAt::Line { file, line } => {
                    self.errors
                        .push(Diagnostic::new(file, p.message).at(line, None));
                    self.errors.last_mut().expect("just pushed")
                }
            };
            d.hint = p.hint;
        }
        (None, target)
    }

    fn harness(&mut self, h: &RawHarness, limits: &Limits) -> Option<HarnessConfig> {
        let model = match ModelId::parse(&h.model) {
            Ok(m) => Some(m),
            Err(msg) => {
                let needle = h.model.clone();
                self.error(msg.to_string(), &needle);
                None
            }
        };
        let mut tools = Vec::new();
        for name in &h.tools {
            if crate::agent::harness::mcp_load::is_mcp_selector(name) {
                // `SERVER.*`, `SERVER.TOOL`: checked with the `mcp:` servers below.
            } else if !BUILTIN_TOOLS.contains(&name.as_str()) {
                let hint = match did_you_mean(name, BUILTIN_TOOLS.iter().copied()) {
                    Some(best) => format!("did you mean `{best}`?"),
                    None => format!("builtin tools are: {}", BUILTIN_TOOLS.join(", ")),
                };
                self.error(format!("unknown tool `{name}`"), name).hint = Some(hint);
            } else if tools.contains(name) {
                self.error(format!("tool `{name}` is listed twice"), name);
            } else {
                tools.push(name.clone());
            }
        }
        // Compiled here once: the load-time render check and every case's run share it.
        let system_template = SharedTemplate::default();
        let system = h.system.as_deref().and_then(|rel| {
            let file = self.resolve(rel);
            match crate::input_file::read_to_string(&file, self.limits.max_file_bytes) {
                Ok(text) => {
                    self.decides(&text);
                    if let Err(e) = system_template.get(&text) {
                        let mut d =
                            Diagnostic::new(&file, format!("invalid template: {}", e.message));
                        d.line = e.line;
                        self.errors.push(d);
                    }
                    Some(text)
                }
                Err(e) => {
                    self.error(
                        format!("cannot read system prompt {}: {e}", file.display()),
                        rel,
                    );
                    None
                }
            }
        });
        let world = h.world.as_deref().and_then(|rel| {
            let file = self.resolve(rel);
            match crate::input_file::read_to_string(&file, self.limits.max_file_bytes)
                .inspect(|t| self.decides(t))
            {
                Ok(text) => match serde_json::from_str::<Value>(&text) {
                    Ok(v) if v.is_object() => Some(v),
                    Ok(_) => {
                        self.errors
                            .push(Diagnostic::new(&file, "the world must be a JSON object"));
                        None
                    }
                    Err(e) => {
                        self.errors.push(Diagnostic::from_json(&file, 1, &e));
                        None
                    }
                },
                Err(e) => {
                    self.error(format!("cannot read world {}: {e}", file.display()), rel);
                    None
                }
            }
        });
        if h.max_steps == Some(0) {
            self.error("`max_steps` must be at least 1", "max_steps");
        }
        if let Some(t) = h.temperature {
            if !(0.0..=2.0).contains(&t) {
                self.error(format!("`temperature` {t} is outside 0..2"), "temperature");
            }
        }
        let custom_tools = self.custom_tools(h, &tools, limits);
        let known: Vec<String> = tools
            .iter()
            .cloned()
            .chain(custom_tools.iter().map(|t| t.spec.name.clone()))
            .collect();
        let (mcp, problems) = crate::agent::harness::mcp_load::load_mcp(h, &self.dir, limits);
        for p in problems {
            self.error(p.message, &p.needle).hint = p.hint;
        }
        let state = h.state.as_ref().and_then(|raw| {
            if mcp.iter().any(|s| s.state_resource.is_some()) {
                self.error(
                    "the harness has a `state` source and an MCP server with `state`: a run has one end state",
                    "state:",
                );
            }
            match crate::agent::harness::state_source::StateSource::compile(raw, &self.dir, limits.into()) {
                Ok(s) => Some(Arc::new(s)),
                Err(e) => {
                    self.error(e.to_string().replace("custom tool `state`", "`state`"), "state:");
                    None
                }
            }
        });
        // An MCP server's tools are known only once it runs: faults may name any of them,
        // and each run checks those names against what its servers list.
        let mcp_named: Vec<String> = match mcp.is_empty() {
            true => Vec::new(),
            false => h
                .faults
                .keys()
                .filter(|n| !known.contains(n))
                .cloned()
                .collect(),
        };
        let known: Vec<String> = known.into_iter().chain(mcp_named.clone()).collect();
        let faults = self.faults(h, &known);
        let pricing = self.pricing(h);
        let user_model = h
            .user_model
            .as_deref()
            .and_then(|m| match ModelId::parse(m) {
                Ok(m) => Some(m),
                Err(msg) => {
                    self.error(format!("`user_model`: {msg}"), m);
                    None
                }
            });
        if h.context_tokens == Some(0) {
            self.error("`context_tokens` must be at least 1", "context_tokens");
        }
        let config = HarnessConfig {
            model: model?,
            system,
            tools,
            world: world.map(Arc::new),
            max_steps: h.max_steps.unwrap_or(DEFAULT_MAX_STEPS),
            temperature: h.temperature,
            max_tokens: h.max_tokens,
            max_repairs: h.max_repairs.unwrap_or(DEFAULT_MAX_REPAIRS),
            context_tokens: h.context_tokens,
            custom_tools,
            faults,
            pricing,
            // Filled from `run.budget` once that is read.
            budget: Budget::default(),
            user_model,
            mcp,
            mcp_pick: None,
            mcp_named,
            state,
            toolset: Default::default(),
            system_template,
            team: None,
        };
        Some(self.team(h, config))
    }

    /// `harness.team`, validated against the harness it is part of.
    fn team(&mut self, h: &RawHarness, mut config: HarnessConfig) -> HarnessConfig {
        if let Some(raw) = &h.team {
            match crate::agent::harness::team::Team::load(raw, &config) {
                Ok(team) => {
                    // The MCP tools agents name one by one: checked by each run, with the
                    // checks' names.
                    config.mcp_named.extend(team.mcp_named());
                    config.team = Some(Arc::new(team));
                }
                Err(problems) => {
                    for p in problems {
                        self.error(p.message, &p.needle);
                    }
                }
            }
        }
        config
    }

    fn custom_tools(
        &mut self,
        h: &RawHarness,
        builtin: &[String],
        limits: &Limits,
    ) -> Vec<Arc<CustomTool>> {
        let mut out: Vec<Arc<CustomTool>> = Vec::new();
        for raw in &h.custom_tools {
            if builtin.contains(&raw.name) || out.iter().any(|t| t.spec.name == raw.name) {
                let needle = format!("name: {}", raw.name);
                self.error(format!("tool `{}` is defined twice", raw.name), &needle);
                continue;
            }
            match CustomTool::compile(raw, &self.dir, limits.into()) {
                Ok(t) => out.push(Arc::new(t)),
                Err(e) => {
                    let needle = format!("name: {}", raw.name);
                    self.error(e.to_string(), &needle);
                }
            }
        }
        out
    }

    fn faults(&mut self, h: &RawHarness, known: &[String]) -> BTreeMap<String, Faults> {
        let mut out = BTreeMap::new();
        for (name, f) in &h.faults {
            if !known.contains(name) {
                let hint = match did_you_mean(name, known.iter().map(String::as_str)) {
                    Some(best) => format!("did you mean `{best}`?"),
                    None => "faults apply to tools listed in `tools` or `custom_tools`".into(),
                };
                self.error(format!("`faults`: unknown tool `{name}`"), name)
                    .hint = Some(hint);
                continue;
            }
            let error_rate = f.error_rate.unwrap_or(0.0);
            if !(0.0..=1.0).contains(&error_rate) {
                let needle = format!("error_rate: {error_rate}");
                self.error(
                    format!("`faults.{name}.error_rate` {error_rate} is outside 0..1"),
                    &needle,
                );
                continue;
            }
            out.insert(
                name.clone(),
                Faults {
                    error_rate,
                    latency_ms: f.latency_ms.unwrap_or(0),
                    seed: f.seed.unwrap_or(0),
                },
            );
        }
        out
    }

    fn pricing(&mut self, h: &RawHarness) -> PriceTable {
        let mut prices = Vec::new();
        for (model, p) in &h.pricing {
            let well_formed = model
                .split_once(':')
                .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty());
            // The key as it starts a line of the `pricing` map, not the same text elsewhere.
            let needle = format!("{model}:");
            if !well_formed {
                self.error(format!("`pricing`: `{model}` is not a model id"), &needle)
                    .hint = Some("write `provider:model`, e.g. `openai:gpt-4o-mini`".into());
            } else if !(p.input >= 0.0 && p.output >= 0.0) {
                self.error(
                    format!("`pricing.{model}`: prices must be zero or more"),
                    model,
                );
            } else {
                prices.push((
                    model.clone(),
                    Price {
                        input: p.input,
                        output: p.output,
                    },
                ));
            }
        }
        PriceTable::with(prices)
    }

    /// `judges_dir` as written, else the nearest `judges/` folder at or above the suite's.
    fn judges_dir(&mut self, configured: Option<&str>) -> Option<PathBuf> {
        if let Some(rel) = configured {
            let dir = self.resolve(rel);
            if !dir.is_dir() {
                self.error(format!("judges_dir {} is not a folder", dir.display()), rel);
                return None;
            }
            return Some(dir);
        }
        let mut cur = self.dir.clone();
        for _ in 0..32 {
            let candidate = cur.join("judges");
            if candidate.is_dir() {
                return Some(candidate);
            }
            // Walk up lexically while the path has components, then through `..`, so paths in
            // messages stay relative to where the user ran the command.
            let up = if cur.as_os_str().is_empty() || cur == Path::new(".") {
                PathBuf::from("..")
            } else if cur.file_name().is_some() {
                cur.parent().map(Path::to_path_buf).unwrap_or_default()
            } else {
                cur.join("..")
            };
            if up.canonicalize().ok() == cur.canonicalize().ok() && up.canonicalize().is_ok() {
                return None;
            }
            cur = if up.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                up
            };
        }
        None
    }

    fn judges(
        &mut self,
        dir: Option<&Path>,
        names: &BTreeSet<String>,
        available: &[String],
    ) -> BTreeMap<String, Arc<Judge>> {
        let mut judges = BTreeMap::new();
        for name in names {
            if !available.contains(name) {
                continue; // reported where the check names it
            }
            let Some(dir) = dir else { continue };
            match Judge::load(name, &dir.join(format!("{name}.yaml")), &self.limits) {
                Ok(mut j) => {
                    if let Some(m) = &self.judge_model {
                        j.model = m.clone();
                    }
                    judges.insert(name.clone(), Arc::new(j));
                }
                Err(errs) => self.errors.extend(errs),
            }
        }
        judges
    }

    fn datasets(&mut self, raw: &RawSuite) -> Vec<(PathBuf, Vec<SourcedCase<RawCase>>)> {
        let mut rels: Vec<&String> = raw.dataset.iter().collect();
        rels.extend(raw.datasets.iter());
        if rels.is_empty() {
            self.error("the suite has no dataset", "name:").hint =
                Some("expected `dataset: path/to/cases.jsonl` (or `datasets: [...]`)".into());
        }
        let mut out = Vec::new();
        for rel in rels {
            let file = self.resolve(rel);
            if !file.exists() {
                self.error(format!("dataset {} does not exist", file.display()), rel)
                    .hint = Some("dataset paths are relative to the suite file".into());
                continue;
            }
            let (cases, errors) = dataset::load(&file, &self.limits);
            self.errors.extend(errors);
            out.push((file, cases));
        }
        out
    }

    fn render_system_prompt(
        &mut self,
        h: &HarnessConfig,
        raw: Option<&RawHarness>,
        cases: &[Case],
    ) {
        let (Some(system), Some(rel)) = (&h.system, raw.and_then(|r| r.system.as_deref())) else {
            return;
        };
        // The harness renders this same compiled template at run time.
        let Ok(template) = h.system_template.get(system) else {
            return; // already reported
        };
        let file = self.resolve(rel);
        // One case shows the problem; the rest would repeat it. The first in case order, so the
        // message does not depend on which thread finds one.
        let failure = cases.par_iter().find_map_first(|case| {
            let ctx = system_prompt_context(case, &template);
            template.check(ctx).err().map(|e| (case, e))
        });
        if let Some((case, e)) = failure {
            let mut d = Diagnostic::new(
                &file,
                format!(
                    "system prompt cannot be rendered for case `{}`: {}",
                    case.id, e.message
                ),
            )
            .hint("the system prompt sees `case` and `vars`");
            d.line = e.line;
            if let Some(snippet) = &e.snippet {
                d = d.locate(system, snippet);
            }
            self.errors.push(d);
        }
    }

    /// The world, with each case's fixture merged over it, must have the shape the tools
    /// rely on; a broken fixture fails the load instead of every case at run time.
    fn check_worlds(&mut self, h: &HarnessConfig, raw: Option<&RawHarness>, cases: &[Case]) {
        let world_file = raw
            .and_then(|r| r.world.as_deref())
            .map(|rel| self.resolve(rel));
        if let Err(e) = World::new(h.world.as_ref(), None) {
            let file = world_file.unwrap_or_else(|| self.path.clone());
            self.errors.push(Diagnostic::new(file, e.to_string()));
            return;
        }
        let failures: Vec<(&Case, WorldError)> = cases
            .par_iter()
            .filter(|c| c.world_fixture.is_some())
            .filter_map(|case| {
                World::new(h.world.as_ref(), case.world_fixture.as_ref())
                    .err()
                    .map(|e| (case, e))
            })
            .collect();
        for (case, e) in failures {
            let (file, line) = case
                .source
                .rsplit_once(':')
                .map(|(f, l)| (PathBuf::from(f), l.parse().ok()))
                .unwrap_or_else(|| (self.path.clone(), None));
            let mut d = Diagnostic::new(file, format!("case `{}`: fixtures.world: {e}", case.id));
            d.line = line;
            self.errors.push(d);
        }
    }

    /// Renders each judge used against each case that uses it, so that an undefined variable
    /// fails the load rather than a paid model call.
    fn render_judges(
        &mut self,
        judges: &BTreeMap<String, Arc<Judge>>,
        suite_checks: &[CheckSpec],
        cases: &[Case],
    ) {
        let uses = |case: &Case, name: &str| {
            suite_checks.iter().chain(&case.checks).any(|spec| {
                matches!(&spec.check, crate::check::spec::Check::Judge(j) if j.judge.name == name)
            })
        };
        for (name, judge) in judges {
            // One case shows the problem: the first in case order that uses the judge.
            let failure = cases.par_iter().find_map_first(|case| {
                if !uses(case, name) {
                    return None;
                }
                judge.check_renders(case).err().map(|e| (case, e))
            });
            let Some((case, e)) = failure else { continue };
            let file = self
                .judges_dir
                .clone()
                .unwrap_or_default()
                .join(format!("{name}.yaml"));
            // The template sits inside the YAML file: place the error by its text.
            let source = crate::input_file::read_to_string(&file, self.limits.max_file_bytes)
                .unwrap_or_default();
            let mut d = Diagnostic::new(
                &file,
                format!(
                    "judge prompt cannot be rendered for case `{}`: {}",
                    case.id, e.message
                ),
            )
            .hint("judge prompts see `case`, `input`, `output`, `reference`, `vars`, `trajectory`");
            if let Some(snippet) = &e.snippet {
                d = d.locate(&source, snippet);
            }
            self.errors.push(d);
        }
    }

    /// `min_pass` policies: each case's own (by id) and the suite's default.
    fn min_pass(
        &mut self,
        run: &RawRun,
        datasets: &[(PathBuf, Vec<SourcedCase<RawCase>>)],
    ) -> (BTreeMap<String, MinPass>, Option<MinPass>) {
        let default = run
            .min_pass
            .as_deref()
            .and_then(|t| match t.parse::<MinPass>() {
                Ok(m) => Some(m),
                Err(e) => {
                    self.error(e.to_string(), "min_pass");
                    None
                }
            });
        let mut by_case = BTreeMap::new();
        for (file, sourced) in datasets {
            for sc in sourced {
                let Some(text) = &sc.case.min_pass else {
                    continue;
                };
                match text.parse::<MinPass>() {
                    Ok(m) => {
                        by_case.insert(sc.case.id.clone(), m);
                    }
                    Err(e) => self.errors.push(
                        Diagnostic::new(file, format!("case `{}`: {e}", sc.case.id))
                            .at(sc.line, None),
                    ),
                }
            }
        }
        (by_case, default)
    }

    /// The suite's calibration requirements: each names a judge a check uses, and its labels
    /// load (every bad line reported).
    fn calibration(
        &mut self,
        raw: &BTreeMap<String, RawCalibration>,
        judges: &BTreeMap<String, Arc<Judge>>,
    ) -> BTreeMap<String, CalibrationRequirement> {
        let mut out = BTreeMap::new();
        for (name, c) in raw {
            if !judges.contains_key(name) {
                let hint = did_you_mean(name, judges.keys().map(String::as_str))
                    .map(|b| format!("did you mean `{b}`?"))
                    .unwrap_or_else(|| "list judges that a check of this suite uses".into());
                self.error(
                    format!("calibration for judge `{name}`, which no check uses"),
                    name,
                )
                .hint = Some(hint);
                continue;
            }
            if !(-1.0..=1.0).contains(&c.min_kappa) {
                self.error(
                    format!("`min_kappa` {} is outside -1..1", c.min_kappa),
                    "min_kappa",
                );
            }
            match load_labels(&self.resolve(&c.labels)) {
                Ok(labels) => {
                    out.insert(
                        name.clone(),
                        CalibrationRequirement {
                            labels,
                            min_kappa: c.min_kappa,
                        },
                    );
                }
                Err(errs) => self.errors.extend(errs),
            }
        }
        out
    }

    fn gate(&mut self, raw: &RawGate, cases: &[Case]) -> Gate {
        for (key, value) in [
            ("min_pass_rate", raw.min_pass_rate),
            ("max_soft_fail_rate", raw.max_soft_fail_rate),
            ("max_error_rate", raw.max_error_rate.flatten()),
            ("alpha", raw.alpha),
        ] {
            if let Some(v) = value {
                if !(0.0..=1.0).contains(&v) {
                    self.error(format!("`{key}` {v} is outside 0..1"), key).hint =
                        Some("rates are fractions: 0.85 means 85%".into());
                }
            }
        }
        let known = || -> BTreeSet<&str> {
            cases
                .iter()
                .flat_map(|c| c.tags.iter().map(String::as_str).chain([c.id.as_str()]))
                .collect()
        };
        for entry in &raw.critical {
            let found = cases
                .iter()
                .any(|c| c.id == *entry || c.tags.contains(entry));
            if !found {
                let known = known();
                let hint = did_you_mean(entry, known.iter().copied())
                    .map(|b| format!("did you mean `{b}`?"))
                    .unwrap_or_else(|| "`critical` lists tags or case ids of the dataset".into());
                self.error(
                    format!("critical `{entry}` matches no case tag or id"),
                    entry,
                )
                .hint = Some(hint);
            }
        }
        Gate {
            min_pass_rate: raw.min_pass_rate,
            max_soft_fail_rate: raw.max_soft_fail_rate,
            max_error_rate: raw.max_error_rate.unwrap_or(Some(DEFAULT_MAX_ERROR_RATE)),
            critical: raw.critical.clone(),
            max_regressions: raw.max_regressions,
            alpha: raw.alpha.unwrap_or(DEFAULT_ALPHA),
            quarantine_flaky: raw.quarantine_flaky,
            max_drift: raw.max_drift,
        }
    }

    fn run(&mut self, raw: &RawRun) -> RunSettings {
        let mut run = RunSettings::default();
        if let Some(c) = raw.concurrency {
            if c == 0 {
                self.error_at("`concurrency` must be at least 1", "run.concurrency");
            } else {
                run.concurrency = c;
            }
        }
        match raw.repeat {
            Some(0) => {
                self.error_at("`repeat` must be at least 1", "run.repeat");
            }
            Some(n) => run.repeat = n,
            None => {}
        }
        if let Some(t) = &raw.timeout {
            match parse_duration(t) {
                Ok(d) => run.timeout = d,
                Err(msg) => {
                    self.error_at(msg.to_string(), "run.timeout");
                }
            }
        }
        if let Some(b) = &raw.budget {
            for (key, usd) in [("case_usd", b.case_usd), ("run_usd", b.run_usd)] {
                if usd.is_some_and(|v| v.is_nan() || v < 0.0) {
                    self.error_at(
                        format!("`budget.{key}` must be zero or more"),
                        &format!("run.budget.{key}"),
                    );
                }
            }
            run.budget = Budget {
                case_tokens: b.case_tokens,
                case_usd: b.case_usd,
                run_tokens: b.run_tokens,
                run_usd: b.run_usd,
            };
        }
        if let Some(l) = &raw.limits {
            match l.resolve() {
                Ok(limits) => run.limits = limits,
                Err(errors) => {
                    for e in errors {
                        self.error_at(e.to_string(), &format!("run.limits.{}", e.key));
                    }
                }
            }
        }
        run
    }
}

/// Converts all cases of all datasets; duplicate ids are errors at the second definition.
/// Cases convert in parallel (compiling their checks is most of a large suite's load); the
/// result and the errors do not depend on the order they finish in.
fn cases(
    datasets: Vec<(PathBuf, Vec<SourcedCase<RawCase>>)>,
    env: &CheckEnv,
    errors: &mut Vec<Diagnostic>,
) -> Vec<Case> {
    // Only looked up, never iterated: a hash map keeps the output independent of its order.
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut files = Vec::new();
    let mut todo = Vec::new();
    for (file, sourced) in datasets {
        for SourcedCase { case: raw, line } in sourced {
            let here = format!("{}:{line}", file.display());
            if let Some(first) = seen.get(&raw.id) {
                errors.push(
                    Diagnostic::new(&file, format!("duplicate case id `{}`", raw.id))
                        .at(line, None)
                        .hint(format!("first defined at {first}")),
                );
                continue;
            }
            seen.insert(raw.id.clone(), here.clone());
            todo.push((files.len(), raw, line, here));
        }
        files.push(file);
    }
    let converted: Vec<Result<Case, Vec<Diagnostic>>> = todo
        .into_par_iter()
        .map(|(f, raw, line, here)| case(raw, &files[f], line, here, env))
        .collect();
    let mut out = Vec::with_capacity(converted.len());
    for c in converted {
        match c {
            Ok(c) => out.push(c),
            Err(errs) => errors.extend(errs),
        }
    }
    // Ids are unique here, so an unstable sort gives the one order.
    out.par_sort_unstable_by(|a, b| a.id.cmp(&b.id));
    out
}

fn case(
    raw: RawCase,
    file: &Path,
    line: usize,
    source: String,
    env: &CheckEnv,
) -> Result<Case, Vec<Diagnostic>> {
    // The case as its dataset wrote it: what decides its runs beside the suite.
    let fingerprint = crate::fingerprint::stable_hash_json(&raw);
    let mut errors = Vec::new();
    let err = |msg: String| Diagnostic::new(file, msg).at(line, None);
    if raw.id.trim().is_empty() {
        errors.push(err("case `id` must not be empty".into()));
    }
    let turns = match &raw.input {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        _ => {
            errors.push(
                err(format!(
                    "case `{}`: `input` must be a message or a non-empty list of user turns",
                    raw.id
                ))
                .hint("e.g. \"input\": \"Where is my order?\" or \"input\": [\"hi\", \"order 7\"]"),
            );
            Vec::new()
        }
    };
    let world_fixture = match &raw.fixtures {
        None => None,
        Some(Value::Object(map)) => {
            let mut world = None;
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("world", Value::Object(_)) => world = Some(value.clone()),
                    ("world", _) => errors.push(err(format!(
                        "case `{}`: `fixtures.world` must be an object",
                        raw.id
                    ))),
                    (other, _) => {
                        let mut d = err(format!("case `{}`: unknown fixture `{other}`", raw.id));
                        if let Some(best) = did_you_mean(other, ["world"]) {
                            d = d.hint(format!("did you mean `{best}`?"));
                        } else {
                            d = d.hint("expected `world`");
                        }
                        errors.push(d);
                    }
                }
            }
            world
        }
        Some(_) => {
            errors.push(err(format!(
                "case `{}`: `fixtures` must be an object such as {{\"world\": {{...}}}}",
                raw.id
            )));
            None
        }
    };
    let user = raw.user.as_ref().and_then(|u| {
        let max_turns = u.max_turns.unwrap_or(DEFAULT_USER_TURNS);
        if max_turns == 0 || u.goal.trim().is_empty() {
            errors.push(err(format!(
                "case `{}`: `user` needs a non-empty `goal` and `max_turns` of at least 1",
                raw.id
            )));
            return None;
        }
        Some(SimulatedUser {
            persona: u.persona.clone(),
            goal: u.goal.clone(),
            max_turns,
        })
    });
    let mut checks = Vec::new();
    for raw_check in &raw.checks {
        match convert_check(raw_check, env, file, Place::Line(line)) {
            Ok(c) => checks.push(c),
            Err(errs) => errors.extend(errs.into_iter().map(|d| Diagnostic {
                message: format!("case `{}`: {}", raw.id, d.message),
                ..d
            })),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Case {
        fingerprint,
        id: raw.id,
        description: raw.description,
        turns,
        vars: raw.vars,
        expected: Expected {
            reference: raw.expected.reference,
            output: raw.expected.output,
            tools: raw.expected.tools,
            state: raw.expected.state,
        },
        tags: raw.tags,
        checks,
        world_fixture,
        mock: raw.mock,
        user,
        source,
    })
}

/// Where a check's problems are placed.
enum Place<'a> {
    /// At the line of the case that holds the check (datasets).
    Line(usize),
    /// At the problem's word in `source`, first within the lines of suite check number `item`
    /// (so the fifth check's `weight` is not placed at the first `weight:` of the file).
    Search {
        source: &'a str,
        nodes: &'a OnceCell<NodeIndex>,
        item: usize,
    },
}

impl Place<'_> {
    fn place(&self, d: Diagnostic, needle: Option<&str>) -> Diagnostic {
        let (source, nodes, item, needle) = match (self, needle) {
            (Place::Line(line), _) => return d.at(*line, None),
            (
                Place::Search {
                    source,
                    nodes,
                    item,
                },
                Some(needle),
            ) => (*source, *nodes, *item, needle),
            (Place::Search { .. }, None) => return d,
        };
        // In a quoted YAML string a backslash is written twice.
        let needles = [needle.to_string(), needle.replace('\\', "\\\\")];
        let nodes = nodes.get_or_init(|| NodeIndex::build(source));
        if let Some(first) = nodes.get(&format!("checks[{item}]")) {
            let start = byte_offset(source, first);
            let end = nodes
                .get(&format!("checks[{}]", item + 1))
                .map_or(source.len(), |next| byte_offset(source, next).max(start));
            let found = needles
                .iter()
                .find_map(|n| source[start..end].find(n.as_str()));
            if let Some(at) = found {
                let (line, column) = crate::diagnostic::position(source, start + at);
                return d.at(line, Some(column));
            }
        }
        needles.iter().fold(d, |d, n| d.locate(source, n))
    }
}

/// The byte offset of a 1-based (line, character column) position in `source`.
fn byte_offset(source: &str, (line, column): (usize, usize)) -> usize {
    let line_start = if line <= 1 {
        0
    } else {
        source
            .match_indices('\n')
            .nth(line - 2)
            .map_or(source.len(), |(i, _)| i + 1)
    };
    source[line_start..]
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(source.len(), |(i, _)| line_start + i)
}

/// One check; errors placed as `place` says.
fn convert_check(
    raw: &RawCheck,
    env: &CheckEnv,
    file: &Path,
    place: Place,
) -> Result<CheckSpec, Vec<Diagnostic>> {
    from_raw(raw, env).map_err(|errs| {
        errs.into_iter()
            .map(|e| {
                let mut d = Diagnostic::new(file, e.message);
                d.hint = e.hint;
                place.place(d, e.needle.as_deref())
            })
            .collect()
    })
}

/// Names of the `*.yaml` files in the judges folder, sorted.
fn list_judges(dir: Option<&Path>) -> Vec<String> {
    let Some(dir) = dir else { return Vec::new() };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(String::from))
        .collect();
    names.sort();
    names
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod gate_defaults_tests {
    use super::*;

    fn gate_of(gate_yaml: &str) -> Gate {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("cases.yaml"),
            "- id: a\n  input: hi\n  checks:\n    - contains: hi\n",
        )
        .unwrap();
        let suite = format!(
            "name: s\ndataset: cases.yaml\ntarget:\n  command:\n    argv: [python3, agent.py]\n{gate_yaml}"
        );
        let path = dir.path().join("s.yaml");
        std::fs::write(&path, suite).unwrap();
        load_suite(&path).unwrap().gate
    }

    #[test]
    fn the_error_rate_rule_is_on_unless_written_null() {
        assert_eq!(gate_of("").max_error_rate, Some(0.1), "no gate section");
        assert_eq!(gate_of("gate: {}\n").max_error_rate, Some(0.1));
        assert_eq!(
            gate_of("gate: {max_error_rate: 0.3}\n").max_error_rate,
            Some(0.3)
        );
        assert_eq!(
            gate_of("gate: {max_error_rate: null}\n").max_error_rate,
            None,
            "null removes the rule"
        );
    }
}

#[cfg(test)]
mod check_place_tests {
    use super::*;

    #[test]
    fn a_problem_in_the_fifth_check_is_placed_in_the_fifth_check() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cases.yaml"), "- id: a\n  input: hi\n").unwrap();
        let suite = [
            "name: s",
            "dataset: cases.yaml",
            "target:",
            "  command:",
            "    argv: [python3, agent.py]",
            "checks:",
            "  - contains: a",
            "    weight: 1",
            "  - contains: b",
            "    weight: 2",
            "  - max_steps: 3",
            "    weight: 1",
            "  - regex: c",
            "  - contains: d",
            "    weight: -1",
            "    name: fifth",
        ]
        .join("\n");
        let path = dir.path().join("s.yaml");
        // Where the loader places the negative weight of `text`.
        let placed = |text: &str| {
            std::fs::write(&path, text).unwrap();
            let errs = load_suite(&path).unwrap_err();
            let weight = errs
                .iter()
                .find(|d| d.message.contains("`weight` must be 0 or more"))
                .unwrap_or_else(|| panic!("{errs:?}"));
            (weight.line, weight.column)
        };
        assert_eq!(placed(&suite), (Some(15), Some(5)));
        assert_eq!(suite.lines().nth(14), Some("    weight: -1"));

        // A flow list on one line: placed at the second check's own `weight`.
        let flow = suite.split("checks:").next().unwrap().to_string()
            + "checks: [{contains: a, weight: 1}, {contains: d, weight: -1}]\n";
        assert_eq!(placed(&flow), (Some(6), Some(50)));
    }
}
