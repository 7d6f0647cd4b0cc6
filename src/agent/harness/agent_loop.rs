//! `run_harness`: the bundled agent loop — model call, tool calls, repeat until the model
//! answers without tools; then the next user turn (scripted, or from a simulated user).
//!
//! Ends: `completed` with the last answer; `max_steps` when the model-call budget runs out
//! (the partial trajectory is kept); `max_repairs` when the model keeps making malformed tool
//! calls; `escalated` after a successful `escalate_to_human` (the model may still give a
//! closing answer within the budget) or when the case's token/USD budget runs out; `error`
//! when the provider (or the simulated user's provider) fails.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tracing::Instrument;

use crate::agent::case_input::CaseInput;
use crate::agent::harness::config::HarnessConfig;
use crate::agent::harness::context::fit_context;
use crate::agent::harness::mcp::McpTools;
use crate::agent::harness::pricing::round_usd;
use crate::agent::harness::simulated_user::{parse_reply, SimulatedUserChat, UserReply};
use crate::agent::harness::sub_agent::TeamCtx;
use crate::agent::harness::system_prompt::system_prompt_context;
use crate::agent::harness::team::TeamAgent;
use crate::agent::harness::tools::{ToolError, ToolSetError, Toolbox};
use crate::agent::harness::world::{World, WorldError};
use crate::provider::registry::Providers;
use crate::provider::types::ToolSpec;
use crate::provider::types::{Message, ModelId, ModelRequest, Provider, ProviderError, Purpose};
use crate::trajectory::ESCALATION_TOOL;
use crate::trajectory::{EndReason, Step, ToolCall, Trajectory, Usage};

/// Runs one case through the harness. Never panics and never fails: problems end the
/// trajectory in `error` with the steps recorded so far.
pub(crate) async fn run_harness(
    config: &HarnessConfig,
    case: &dyn CaseInput,
    repeat: u32,
    providers: &Providers,
) -> Trajectory {
    let span = tracing::info_span!("case", id = %case.id(), model = %config.model);
    async {
        // A team starts with its entry agent: its model, prompt and tools.
        let entry = config.team.as_ref().and_then(TeamCtx::entry);
        let first = entry.as_ref().map_or(config, |(_, a)| &a.config);
        let mut run = match Run::prepare(first, case, repeat, providers) {
            Ok(run) => run,
            Err(e) => {
                tracing::warn!(error = %e, "case could not start");
                return Trajectory::errored(e.to_string());
            }
        };
        // MCP servers are the harness's; each agent of a team is offered its pick of them.
        if let Err(e) = run.start_mcp(config, first).await {
            tracing::warn!(error = %e, "case could not start");
            return Trajectory::errored(e.to_string());
        }
        if let Some((ctx, agent)) = entry {
            run.join_team(ctx.with_case_budget(config.budget), agent);
        }
        run.go(config, case).await;
        run.finish(config, case, repeat).await
    }
    .instrument(span)
    .await
}

/// Why a case could not start: its trajectory ends in `error` with this as the reason.
#[derive(Debug, thiserror::Error)]
pub(super) enum StartError {
    #[error("case has no input")]
    NoInput,
    #[error("world of case `{case}`: {source}")]
    World { case: String, source: WorldError },
    #[error(transparent)]
    Tools(ToolSetError),
    #[error(transparent)]
    Model(ProviderError),
    #[error("system prompt: {0}")]
    SystemPrompt(String),
    #[error("simulated user: {0}")]
    SimulatedUser(ProviderError),
    #[error(transparent)]
    Mcp(crate::agent::harness::mcp::McpError),
    #[error("a check, `faults` or an agent's `tools` names tool `{name}`, which neither the harness nor its MCP servers offer{}", .near.as_ref().map(|b| format!(" (hint: did you mean `{b}`?)")).unwrap_or_default())]
    UnknownTool { name: String, near: Option<String> },
}

/// The simulated user of a case: its provider, model and side of the conversation.
pub(super) struct UserSim {
    provider: Arc<dyn Provider>,
    model: ModelId,
    chat: SimulatedUserChat,
    max_turns: u32,
}

/// The state of one run of the loop (one agent's, in a team: see `sub_agent`).
pub(super) struct Run {
    pub(super) provider: Arc<dyn Provider>,
    pub(super) toolbox: Toolbox,
    /// Shared with the sub-agents of a team, which act on the same world (the calls of a
    /// fan-out concurrently: each tool call holds it while it runs).
    pub(super) world: Arc<tokio::sync::Mutex<World>>,
    /// Whether the trajectory reports the world's end state (the suite or case gave one).
    has_world: bool,
    pub(super) messages: Vec<Message>,
    pub(super) traj: Trajectory,
    /// Last non-empty model text: the output when the run stops early.
    pub(super) last_text: String,
    pub(super) escalation: Option<String>,
    /// Malformed tool calls so far (each one is fed back for repair).
    repairs: u32,
    /// Calls so far per tool: the index that keys fault draws.
    tool_calls: BTreeMap<String, u64>,
    pub(super) user: Option<UserSim>,
    /// A tool server that broke (died, hung): the run ends in `error` with this.
    pub(super) broken: Option<String>,
    /// The run's MCP sessions: one set for the whole run, shared by a team's agents (each
    /// offered its pick of the tools) and kept across handoffs until the end state is read.
    pub(super) mcp: Option<Arc<McpTools>>,
    /// The tools offered to the model: the toolbox's, then (in a team) the agents'.
    pub(super) specs: Arc<[ToolSpec]>,
    /// Model calls of the current agent: what its `max_steps` bounds.
    pub(super) model_calls: u32,
    /// In a team: the agent this run is, and what all its agents share.
    pub(super) team: Option<(TeamCtx, Arc<TeamAgent>)>,
    /// A sub-agent stopped the whole case (delegation limit, case budget, provider down).
    pub(super) halted: bool,
    /// The agent the model handed the conversation to in this turn.
    pub(super) handoff: Option<String>,
    /// Usage and USD when the current agent took over: its budget counts from there.
    pub(super) agent_start: (Usage, f64),
    pub(super) providers: Providers,
}

impl Run {
    pub(super) fn prepare(
        config: &HarnessConfig,
        case: &dyn CaseInput,
        repeat: u32,
        providers: &Providers,
    ) -> Result<Run, StartError> {
        if case.turns().is_empty() {
            return Err(StartError::NoInput);
        }
        let world = World::new(config.world.as_ref(), case.world_fixture()).map_err(|source| {
            StartError::World {
                case: case.id().to_string(),
                source,
            }
        })?;
        let tools = config
            .toolset
            .get(&config.tools, &config.custom_tools)
            .map_err(StartError::Tools)?;
        let toolbox = Toolbox::from_set(tools)
            .with_recorder(providers.tool_recorder())
            .with_run(repeat, crate::agent::harness::tool_context::new_session());
        let provider = providers
            .get(&config.model, case.mock_script())
            .map_err(StartError::Model)?;
        let mut messages = Vec::new();
        if let Some(source) = &config.system {
            let system = config
                .system_template
                .get(source)
                .and_then(|t| t.render(system_prompt_context(case, &t)))
                .map_err(|e| StartError::SystemPrompt(e.message))?;
            messages.push(Message::system(system));
        }
        let user = match case.simulated_user() {
            Some(u) => {
                let model = config.user_model.clone().unwrap_or(config.model.clone());
                // The per-case mock script is the agent's; the simulated user follows rules.
                let provider = providers
                    .get(&model, &[])
                    .map_err(StartError::SimulatedUser)?;
                Some(UserSim {
                    provider,
                    model,
                    chat: SimulatedUserChat::new(u),
                    max_turns: u.max_turns,
                })
            }
            None => None,
        };
        let specs = toolbox.specs().clone();
        let world = Arc::new(tokio::sync::Mutex::new(world));
        Ok(Run {
            specs,
            model_calls: 0,
            team: None,
            halted: false,
            handoff: None,
            agent_start: (Usage::default(), 0.0),
            providers: providers.clone(),
            provider,
            toolbox,
            world,
            has_world: config.world.is_some() || case.world_fixture().is_some(),
            messages,
            traj: Trajectory::default(),
            last_text: String::new(),
            escalation: None,
            repairs: 0,
            tool_calls: BTreeMap::new(),
            user,
            broken: None,
            mcp: None,
        })
    }

    /// Starts this run's own MCP servers (a fresh session per run: no state leaks between
    /// cases or repeats) and offers their tools to the agent that starts (`agent`: the
    /// harness, or a team's entry agent, with its pick).
    async fn start_mcp(
        &mut self,
        config: &HarnessConfig,
        agent: &HarnessConfig,
    ) -> Result<(), StartError> {
        if config.mcp.is_empty() {
            return Ok(());
        }
        let mcp = self
            .toolbox
            .open_mcp(&config.mcp)
            .await
            .map_err(StartError::Mcp)?;
        if let Some(name) = config.mcp_named.iter().find(|n| !mcp.has(n)) {
            let offered = mcp.specs.iter().map(|s| s.name.as_str());
            return Err(StartError::UnknownTool {
                name: name.clone(),
                near: crate::diagnostic::did_you_mean(name, offered).map(str::to_string),
            });
        }
        let mcp = Arc::new(mcp);
        self.mcp = Some(mcp.clone());
        self.toolbox
            .add_mcp(mcp, agent.mcp_pick.as_deref())
            .map_err(StartError::Tools)?;
        self.offer_tools();
        Ok(())
    }

    /// Takes again the tools offered to the model: the toolbox's, then (in a team) the agents
    /// this one may call. Called whenever either changes (MCP tools added, an agent joining).
    pub(super) fn offer_tools(&mut self) {
        self.specs = match &self.team {
            None => self.toolbox.specs().clone(),
            Some((_, agent)) => {
                let toolbox = self.toolbox.specs().iter();
                toolbox.chain(&agent.agent_specs).cloned().collect()
            }
        };
    }

    async fn go(&mut self, config: &HarnessConfig, case: &dyn CaseInput) {
        let mut spoken = 0u32;
        for turn in case.turns() {
            spoken += 1;
            if !self.user_turn(config, case, turn.clone()).await {
                return;
            }
            // After an escalation a human takes over: no more user turns.
            if self.escalation.is_some() {
                break;
            }
        }
        while self.escalation.is_none() {
            let Some(sim) = &mut self.user else { break };
            if spoken >= sim.max_turns {
                break;
            }
            let request = sim.chat.request(&sim.model.model);
            let span = tracing::debug_span!("simulated_user", turn = spoken + 1);
            let reply = match sim.provider.complete(&request).instrument(span).await {
                Ok(r) => r,
                Err(e) => {
                    self.stop(
                        EndReason::Error,
                        format!("simulated user failed: {}", e.message),
                    );
                    return;
                }
            };
            match parse_reply(reply.content.as_deref()) {
                UserReply::Done => break,
                UserReply::Says(text) => {
                    spoken += 1;
                    if !self.user_turn(config, case, text).await {
                        return;
                    }
                }
            }
        }
        self.traj.end = EndReason::Completed;
        self.traj.output = self.last_text.clone();
    }

    /// One user turn and the agent's answer to it. `false`: the run stopped.
    async fn user_turn(
        &mut self,
        config: &HarnessConfig,
        case: &dyn CaseInput,
        text: String,
    ) -> bool {
        self.traj.steps.push(Step::User {
            content: text.clone(),
        });
        self.messages.push(Message::user(text.clone()));
        if let Some(sim) = &mut self.user {
            sim.chat.user_said(&text);
        }
        let end = match self.team.is_some() {
            true => self.team_turn(case).await,
            false => self.answer_turn(config, case).await,
        };
        match end {
            TurnEnd::Answered => {
                if let Some(sim) = &mut self.user {
                    sim.chat.agent_said(&self.last_text);
                }
                true
            }
            TurnEnd::Stopped | TurnEnd::Handoff(_) => false,
        }
    }

    /// Ends the run early with `end` and a reason; the partial trajectory is kept.
    pub(super) fn stop(&mut self, end: EndReason, reason: String) {
        self.traj.end = end;
        self.traj.error = Some(reason);
        self.traj.output = self.last_text.clone();
    }

    /// Calls the model until it answers without tool calls (or the run must stop).
    pub(super) async fn answer_turn(
        &mut self,
        config: &HarnessConfig,
        case: &dyn CaseInput,
    ) -> TurnEnd {
        loop {
            if self.model_calls >= config.max_steps {
                self.stop(
                    EndReason::MaxSteps,
                    format!("stopped after max_steps = {} model calls", config.max_steps),
                );
                return TurnEnd::Stopped;
            }
            let messages = match config.context_tokens {
                Some(budget) => fit_context(&self.messages, budget),
                None => self.messages.clone(),
            };
            let request = ModelRequest {
                model: config.model.model.clone(),
                messages,
                tools: self.specs.clone(),
                temperature: config.temperature,
                max_tokens: config.max_tokens,
                purpose: Purpose::Agent,
                seed: None,
                response_format: None,
            };
            let started = Instant::now();
            self.model_calls += 1;
            let span = tracing::debug_span!("model_call", step = self.model_calls);
            let result = self.provider.complete(&request).instrument(span).await;
            let latency_ms = started.elapsed().as_millis() as u64;
            let response = match result {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(error = %e, "model call failed");
                    self.stop(
                        EndReason::Error,
                        format!("model call failed: {}", e.message),
                    );
                    return TurnEnd::Stopped;
                }
            };
            // Real providers give ids; fill any gap so results can be linked to their calls.
            let earlier: usize = self.messages.iter().map(|m| m.tool_calls.len()).sum();
            let calls: Vec<ToolCall> = response
                .tool_calls
                .into_iter()
                .enumerate()
                .map(|(i, mut c)| {
                    if c.id.is_empty() {
                        c.id = format!("call_{}", earlier + i + 1);
                    }
                    c
                })
                .collect();
            let text = response.content.unwrap_or_default();
            let cost_usd = call_cost(config, &response.model, response.usage);
            self.traj.usage.add(response.usage);
            if let Some(c) = cost_usd {
                self.traj.cost_usd = Some(round_usd(self.traj.cost_usd.unwrap_or(0.0) + c));
            }
            if let Some((ctx, _)) = &self.team {
                ctx.spend(response.usage, cost_usd);
            }
            self.traj.steps.push(Step::Model {
                content: (!text.is_empty()).then(|| text.clone()),
                tool_calls: calls.clone(),
                usage: response.usage,
                model: response.model,
                latency_ms: Some(latency_ms),
                cost_usd,
                agent: None,
                started_at: None,
                metadata: Default::default(),
            });
            self.messages
                .push(Message::assistant(text.clone(), calls.clone()));
            if !text.trim().is_empty() {
                self.last_text = text;
            }
            if let Some(reason) = self.over_budget(config) {
                // Graceful degradation: hand over to a human with what was done so far.
                self.traj.steps.push(Step::Escalation {
                    reason: reason.clone(),
                });
                self.stop(EndReason::Escalated, reason);
                return TurnEnd::Stopped;
            }
            if calls.is_empty() {
                return TurnEnd::Answered;
            }
            if self.is_fan_out(&calls) {
                self.fan_out(case, calls).await;
            } else {
                for call in calls {
                    self.run_tool(config, case, call).await;
                    if self.halted || self.broken.is_some() {
                        break;
                    }
                }
            }
            if let Some(reason) = self.broken.take() {
                self.stop(EndReason::Error, reason);
                return TurnEnd::Stopped;
            }
            if self.halted {
                return TurnEnd::Stopped;
            }
            if let Some(next) = self.handoff.take() {
                return TurnEnd::Handoff(next);
            }
            if self.repairs > config.max_repairs {
                self.stop(
                    EndReason::MaxRepairs,
                    format!(
                        "gave up after {} malformed tool calls (max_repairs = {})",
                        self.repairs, config.max_repairs
                    ),
                );
                return TurnEnd::Stopped;
            }
        }
    }

    /// The case budget this trajectory has gone past, as a reason.
    fn over_budget(&self, config: &HarnessConfig) -> Option<String> {
        if let Some(why) = self
            .team
            .as_ref()
            .and_then(|(ctx, _)| ctx.over_case_budget())
        {
            return Some(why);
        }
        let b = &config.budget;
        // In a team, `config.budget` is the agent's own (its sub-agents' spend included).
        let whose = match &self.team {
            Some((_, agent)) => format!("agent `{}` budget", agent.name),
            None => "case budget".to_string(),
        };
        let (start, start_usd) = self.agent_start;
        let tokens = self.traj.usage.total().saturating_sub(start.total());
        if let Some(limit) = b.case_tokens.filter(|l| tokens > *l) {
            return Some(format!(
                "{whose} exhausted: {tokens} tokens used, limit {limit}"
            ));
        }
        let usd = self.traj.cost_usd.unwrap_or(0.0) - start_usd;
        if let Some(limit) = b.case_usd.filter(|l| usd > *l) {
            return Some(format!(
                "{whose} exhausted: ${usd:.6} spent, limit ${limit}"
            ));
        }
        None
    }

    async fn run_tool(&mut self, config: &HarnessConfig, case: &dyn CaseInput, call: ToolCall) {
        if let Some(link) = self.link(&call.name) {
            return self.delegate(case, call, link).await;
        }
        let span = tracing::debug_span!("tool_call", tool = %call.name, id = %call.id);
        let started = Instant::now();
        let index = self.tool_calls.entry(call.name.clone()).or_insert(0);
        let n = *index;
        *index += 1;
        let outcome = match config.faults.get(&call.name) {
            // A malformed call is refused before any fault: the model's mistake comes first.
            Some(f) => match self.toolbox.validate(&call.name, &call.args) {
                Err(e) => Err(e),
                Ok(()) => {
                    if f.latency_ms > 0 {
                        tokio::time::sleep(Duration::from_millis(f.latency_ms)).await;
                    }
                    if f.fails(case.id(), &call.name, n) {
                        Err(ToolError::Failed(format!(
                            "injected fault: `{}` is unavailable (call {})",
                            call.name,
                            n + 1
                        )))
                    } else {
                        let world = self.world.clone();
                        let mut world = world.lock().await;
                        self.toolbox
                            .call(&mut world, case.id(), &call.name, &call.args)
                            .instrument(span)
                            .await
                    }
                }
            },
            None => {
                let world = self.world.clone();
                let mut world = world.lock().await;
                self.toolbox
                    .call(&mut world, case.id(), &call.name, &call.args)
                    .instrument(span)
                    .await
            }
        };
        let latency_ms = started.elapsed().as_millis() as u64;
        let content = match &outcome {
            Ok(v) => v.to_string(),
            Err(ToolError::Malformed(e)) => {
                tracing::debug!(error = %e, "malformed tool call");
                self.repairs += 1;
                format!("error: {e}")
            }
            Err(ToolError::Failed(e)) => {
                tracing::debug!(error = %e, "tool call refused");
                format!("error: {e}")
            }
            Err(ToolError::Broken(e)) => {
                tracing::warn!(error = %e, "tool server broke");
                self.broken = Some(e.clone());
                format!("error: {e}")
            }
        };
        self.messages
            .push(Message::tool(call.id.clone(), call.name.clone(), content));
        let escalated = outcome.is_ok() && call.name == ESCALATION_TOOL;
        let (result, error) = match outcome {
            Ok(v) => (Some(v), None),
            Err(e) => (None, Some(e.message().to_string())),
        };
        let reason = call
            .args
            .get("reason")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        self.traj.steps.push(Step::Tool {
            id: call.id,
            name: call.name,
            args: call.args,
            result,
            error,
            latency_ms: Some(latency_ms),
            agent: None,
            started_at: None,
            metadata: Default::default(),
        });
        if escalated {
            self.traj.steps.push(Step::Escalation {
                reason: reason.clone(),
            });
            self.escalation.get_or_insert(reason);
        }
    }

    async fn finish(
        mut self,
        config: &HarnessConfig,
        case: &dyn CaseInput,
        repeat: u32,
    ) -> Trajectory {
        // An escalation is a graceful end even if the closing answer ran out of steps.
        if let Some(reason) = &self.escalation {
            if !matches!(self.traj.end, EndReason::Error | EndReason::Escalated) {
                self.traj.end = EndReason::Escalated;
                self.traj.error = Some(format!("escalated to a human: {reason}"));
            }
        }
        if self.has_world {
            // Every sub-agent has finished: the world is this run's alone again.
            self.traj.state = match Arc::try_unwrap(self.world) {
                Ok(world) => Some(world.into_inner().into_state()),
                Err(shared) => shared.try_lock().ok().map(|w| w.clone().into_state()),
            };
        }
        // A declared state source (an MCP resource, the custom tools' endpoint) is the world.
        // Names in the record that no tool can have (tool names have no `:`).
        let state = match (self.mcp.as_deref(), &config.state) {
            (Some(mcp), _) if mcp.has_state() => {
                let read = async { mcp.end_state().await.map_err(|e| e.to_string()) };
                self.toolbox.recorded_state("state:mcp", read).await
            }
            (_, Some(source)) => {
                let ctx = crate::agent::harness::tool_context::ToolContext {
                    case_id: case.id().to_string(),
                    repeat,
                    call_index: 0,
                    session: self.toolbox.session().to_string(),
                };
                let read = async { source.read(&ctx).await.map(Some).map_err(|e| e.to_string()) };
                self.toolbox.recorded_state("state:source", read).await
            }
            (_, None) => Ok(None),
        };
        // The state is read: the run's sessions with its MCP servers end here (its agents
        // are done: no other holder is left).
        self.toolbox.detach_mcp();
        if let Some(mcp) = self.mcp.take() {
            if let Ok(mut mcp) = Arc::try_unwrap(mcp) {
                mcp.close().await;
            }
        }
        match state {
            Ok(Some(state)) => self.traj.state = Some(state.into()),
            Ok(None) => {}
            Err(e) if self.traj.end != EndReason::Error => {
                self.traj.end = EndReason::Error;
                self.traj.error = Some(e);
            }
            Err(_) => {}
        }
        self.traj
    }
}

/// The USD of one model call. The answering model's name is tried first (it may be a dated
/// snapshot with its own price), then the configured model.
fn call_cost(
    config: &HarnessConfig,
    answered_by: &str,
    usage: crate::trajectory::Usage,
) -> Option<f64> {
    let answered = if answered_by.contains(':') {
        answered_by.to_string()
    } else {
        format!("{}:{answered_by}", config.model.provider)
    };
    config
        .pricing
        .cost(&answered, usage)
        .or_else(|| config.pricing.cost(&config.model.to_string(), usage))
}

pub(super) enum TurnEnd {
    Answered,
    Stopped,
    /// The model handed the conversation to this agent.
    Handoff(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::harness::custom_tool::CustomTool;
    use crate::agent::harness::faults::Faults;
    use crate::agent::harness::pricing::{Price, PriceTable};
    use crate::agent::harness::simulated_user::SimulatedUser;
    use crate::agent::harness::tools::BUILTIN_TOOLS;
    use crate::provider::mock_rules::MockRules;
    use crate::provider::mock_script::{RawMockReply, RawToolCall};
    use crate::provider::types::ModelId;
    use crate::suite::model::Case;
    use serde_json::json;
    use std::collections::BTreeMap;
    use std::path::Path;
    use std::sync::Arc;

    const RULES: &str = r#"
rules:
  - when: {purpose: simulated_user, user: 'shipped'}
    reply: {text: "Great, thanks. ###STOP###"}
  - when: {purpose: simulated_user}
    reply: {text: "status of 1"}
  - when: {user: '(?i)what is my secret', context: 'secret is 42'}
    reply: {text: "It is 42."}
  - when: {user: '(?i)status of (?P<id>\d+)'}
    reply: {tool_calls: [{name: lookup_order, args: {order_id: "{{ id }}"}}]}
  - when: {tool_name: lookup_order, tool: '"status":"(?P<s>\w+)"'}
    reply: {text: "It is {{ s }}."}
  - when: {tool_name: lookup_order, tool: '^error: injected'}
    reply: {text: "The lookup failed."}
  - when: {tool_name: issue_refund, tool: '^error: (?P<why>.*)'}
    reply: {text: "Sorry, I cannot: {{ why }}"}
  - when: {tool_name: escalate_to_human}
    reply: {text: "A human will take over."}
  - when: {user: '(?i)loop'}
    reply: {text: "thinking", tool_calls: [{name: search_kb, args: {query: x}}]}
  - when: {tool_name: search_kb}
    reply: {text: "still thinking", tool_calls: [{name: search_kb, args: {query: x}}]}
  - when: {user: '.'}
    reply: {text: "You said something."}
"#;

    /// A simulated user that never gives up: for `max_turns`.
    const STUBBORN: &str = r#"
rules:
  - when: {purpose: simulated_user}
    reply: {text: "and another thing"}
"#;

    fn providers() -> Providers {
        let rules = MockRules::parse(Path::new("t.yaml"), RULES).unwrap();
        let stubborn = MockRules::parse(Path::new("u.yaml"), STUBBORN).unwrap();
        Providers::new(BTreeMap::from([
            ("t".to_string(), Arc::new(rules)),
            ("u".to_string(), Arc::new(stubborn)),
        ]))
    }

    fn config(max_steps: u32) -> HarnessConfig {
        HarnessConfig {
            system: Some("You help {{ vars.name }} with case {{ case.id }}.".into()),
            tools: BUILTIN_TOOLS.iter().map(|s| s.to_string()).collect(),
            world: Some(
                json!({
                    "today": "2026-03-20",
                    "orders": {
                        "1": {"status": "shipped", "total": 10.0},
                        "2": {"status": "delivered", "total": 10.0, "delivered_on": "2025-12-01"},
                    }
                })
                .into(),
            ),
            ..HarnessConfig::bare("mock:t", max_steps)
        }
    }

    fn case(turns: &[&str], mock: Vec<RawMockReply>) -> Case {
        Case {
            turns: turns.iter().map(|s| s.to_string()).collect(),
            vars: BTreeMap::from([("name".to_string(), json!("Ada"))]),
            mock,
            source: "t.jsonl:1".into(),
            ..Case::new("c1", "")
        }
    }

    fn call(name: &str, args: Value) -> RawMockReply {
        RawMockReply {
            text: None,
            tool_calls: vec![RawToolCall {
                name: name.into(),
                args: Some(args),
            }],
        }
    }

    fn say(text: &str) -> RawMockReply {
        RawMockReply {
            text: Some(text.into()),
            tool_calls: vec![],
        }
    }

    fn tools(t: &Trajectory) -> Vec<(String, bool)> {
        t.steps
            .iter()
            .filter_map(|s| match s {
                Step::Tool { name, error, .. } => Some((name.clone(), error.is_none())),
                _ => None,
            })
            .collect()
    }

    async fn run(cfg: &HarnessConfig, c: &Case) -> Trajectory {
        run_harness(cfg, c, 0, &providers()).await
    }

    #[tokio::test]
    async fn tool_then_answer_completes_with_usage_and_state() {
        let t = run(&config(8), &case(&["status of 1"], vec![])).await;
        assert_eq!(t.end, EndReason::Completed, "{t:?}");
        assert_eq!(t.output, "It is shipped.");
        assert_eq!(tools(&t), [("lookup_order".to_string(), true)]);
        assert_eq!(t.model_calls(), 2);
        let summed: u64 = t
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Model { usage, .. } => Some(usage.total()),
                _ => None,
            })
            .sum();
        assert!(summed > 0);
        assert_eq!(t.usage.total(), summed);
        assert_eq!(
            t.state.as_ref().unwrap()["orders"]["1"]["status"],
            "shipped"
        );
    }

    #[tokio::test]
    async fn invalid_arguments_are_fed_back_and_repaired() {
        let script = vec![
            call("lookup_order", json!({"order_id": 1})),
            call("lookup_order", json!({"order_id": "1"})),
        ];
        let t = run(&config(8), &case(&["hi"], script)).await;
        assert_eq!(
            tools(&t),
            [
                ("lookup_order".to_string(), false),
                ("lookup_order".to_string(), true)
            ]
        );
        match &t.steps[2] {
            Step::Tool {
                error: Some(e),
                result: None,
                id,
                ..
            } => {
                assert!(e.contains("invalid arguments"), "{e}");
                assert_eq!(id, "call_1");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(t.output, "It is shipped.");
        assert_eq!(t.end, EndReason::Completed);
    }

    #[tokio::test]
    async fn max_steps_stops_the_loop_and_keeps_the_partial_trajectory() {
        let t = run(&config(3), &case(&["loop"], vec![])).await;
        assert_eq!(t.end, EndReason::MaxSteps);
        assert_eq!(t.model_calls(), 3);
        assert_eq!(tools(&t).len(), 3);
        assert_eq!(t.output, "still thinking");
    }

    #[tokio::test]
    async fn escalation_ends_the_run_after_the_closing_answer() {
        let script = vec![call("escalate_to_human", json!({"reason": "legal threat"}))];
        let t = run(&config(8), &case(&["I will sue", "hello?"], script)).await;
        assert_eq!(t.end, EndReason::Escalated);
        assert!(t.escalated());
        assert_eq!(t.output, "A human will take over.");
        // The second scripted turn never happens: a human has the conversation now.
        assert_eq!(kinds(&t), ["user", "model", "tool", "escalation", "model"]);
        assert_eq!(
            t.state.unwrap()["escalations"]["ESC-1"]["reason"],
            "legal threat"
        );
    }

    #[tokio::test]
    async fn scripted_turns_continue_the_conversation() {
        let t = run(&config(8), &case(&["hello", "status of 1"], vec![])).await;
        assert_eq!(t.end, EndReason::Completed);
        let users = t
            .steps
            .iter()
            .filter(|s| matches!(s, Step::User { .. }))
            .count();
        assert_eq!(users, 2);
        assert_eq!(t.output, "It is shipped.");
        assert_eq!(t.model_calls(), 3);
    }

    #[tokio::test]
    async fn policy_refusal_reaches_the_model_and_changes_nothing() {
        let script = vec![call(
            "issue_refund",
            json!({"order_id": "2", "amount": 10.0, "reason": "broken"}),
        )];
        let t = run(&config(8), &case(&["refund 2"], script)).await;
        assert_eq!(tools(&t), [("issue_refund".to_string(), false)]);
        assert!(
            t.output
                .starts_with("Sorry, I cannot: order 2 was delivered 109 days ago"),
            "{}",
            t.output
        );
        let state = t.state.unwrap();
        assert!(state.get("refunds").is_none());
        assert_eq!(state["orders"]["2"]["status"], "delivered");
    }

    #[tokio::test]
    async fn provider_error_ends_in_error_with_steps_kept() {
        // The script answers the first call; the second has no rule for an empty message.
        let t = run(&config(8), &case(&["hello", ""], vec![say("first")])).await;
        assert_eq!(t.end, EndReason::Error);
        assert!(
            t.error.as_deref().unwrap().contains("no mock rule"),
            "{t:?}"
        );
        assert_eq!(t.steps.len(), 3);
        assert_eq!(t.output, "first");
        assert!(t.usage.total() > 0);
    }

    #[tokio::test]
    async fn setup_problems_error_without_panicking() {
        let mut cfg = config(8);
        cfg.system = Some("{{ vars.missing }}".into());
        let t = run(&cfg, &case(&["hi"], vec![])).await;
        assert_eq!(t.end, EndReason::Error);
        assert!(t.error.unwrap().contains("system prompt"));
        let mut cfg = config(8);
        cfg.model = ModelId::parse("mock:other").unwrap();
        let t = run(&cfg, &case(&["hi"], vec![])).await;
        assert!(t.error.unwrap().contains("mock:other"));
        let t = run(&config(8), &case(&[], vec![])).await;
        assert_eq!(t.end, EndReason::Error);
    }

    /// The trajectory without wall-clock values, for comparing two runs.
    fn timeless(mut t: Trajectory) -> Trajectory {
        for s in &mut t.steps {
            match s {
                Step::Model { latency_ms, .. } | Step::Tool { latency_ms, .. } => {
                    *latency_ms = None
                }
                _ => {}
            }
        }
        t
    }

    fn kinds(t: &Trajectory) -> Vec<&'static str> {
        t.steps
            .iter()
            .map(|s| match s {
                Step::User { .. } => "user",
                Step::Model { .. } => "model",
                Step::Tool { .. } => "tool",
                Step::Escalation { .. } => "escalation",
                Step::Agent { .. } => "agent",
            })
            .collect()
    }

    #[tokio::test]
    async fn malformed_calls_past_max_repairs_end_the_case() {
        let bad = || call("lookup_order", json!({"order_id": 1}));
        let t = run(&config(8), &case(&["hi"], vec![bad(), bad(), bad(), bad()])).await;
        assert_eq!(t.end, EndReason::MaxRepairs, "{t:?}");
        assert!(t.error.as_deref().unwrap().contains("max_repairs = 2"));
        // Each repair attempt is visible: three refused calls, nothing ran.
        assert_eq!(tools(&t), vec![("lookup_order".to_string(), false); 3]);
        let mut cfg = config(8);
        cfg.max_repairs = 0;
        let t = run(&cfg, &case(&["hi"], vec![bad()])).await;
        assert_eq!(t.end, EndReason::MaxRepairs);
        // A policy refusal is the tool's answer, not a malformed call: it never counts.
        let refund = call(
            "issue_refund",
            json!({"order_id": "2", "amount": 10.0, "reason": "broken"}),
        );
        let t = run(&cfg, &case(&["refund 2"], vec![refund])).await;
        assert_eq!(t.end, EndReason::Completed);
    }

    #[tokio::test]
    async fn unknown_tools_and_unparsable_arguments_are_repairable() {
        let script = vec![
            call("lookup_ordr", json!({"order_id": "1"})),
            call("lookup_order", json!("{order_id: 1")),
            call("lookup_order", json!({"order_id": "1"})),
        ];
        let t = run(&config(8), &case(&["hi"], script)).await;
        assert_eq!(t.end, EndReason::Completed, "{t:?}");
        assert_eq!(t.output, "It is shipped.");
        let errors: Vec<String> = t
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Tool { error: Some(e), .. } => Some(e.clone()),
                _ => None,
            })
            .collect();
        assert!(errors[0].contains("unknown tool"), "{errors:?}");
        assert!(errors[1].contains("not a JSON object"), "{errors:?}");
    }

    #[tokio::test]
    async fn a_case_over_its_token_budget_escalates_with_its_partial_trajectory() {
        let mut cfg = config(8);
        cfg.budget.case_tokens = Some(1);
        let t = run(&cfg, &case(&["status of 1"], vec![])).await;
        assert_eq!(t.end, EndReason::Escalated);
        assert!(t
            .error
            .as_deref()
            .unwrap()
            .contains("case budget exhausted"));
        assert_eq!(kinds(&t), ["user", "model", "escalation"]);
        // The tool call the model asked for was not run: the budget was already gone.
        assert!(tools(&t).is_empty());
    }

    #[tokio::test]
    async fn priced_calls_carry_cost_and_a_usd_budget_escalates() {
        let mut cfg = config(8);
        cfg.pricing = PriceTable::with([(
            "mock:t".to_string(),
            Price {
                input: 1_000_000.0,
                output: 1_000_000.0,
            },
        )]);
        let t = run(&cfg, &case(&["status of 1"], vec![])).await;
        assert_eq!(t.end, EndReason::Completed);
        let step_costs: Vec<f64> = t
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Model { cost_usd, .. } => *cost_usd,
                _ => None,
            })
            .collect();
        assert_eq!(step_costs.len(), 2);
        // $1 per token: cost equals tokens.
        assert_eq!(t.cost_usd, Some(t.usage.total() as f64));
        cfg.budget.case_usd = Some(step_costs[0]);
        let t = run(&cfg, &case(&["status of 1"], vec![])).await;
        assert_eq!(t.end, EndReason::Escalated, "{t:?}");
        assert_eq!(t.model_calls(), 2);
        // Unpriced models report no cost at all.
        let t = run(&config(8), &case(&["status of 1"], vec![])).await;
        assert_eq!(t.cost_usd, None);
    }

    #[tokio::test]
    async fn context_budget_drops_old_turns() {
        let c = case(&["my secret is 42", "what is my secret"], vec![]);
        let t = run(&config(8), &c).await;
        assert_eq!(t.output, "It is 42.");
        let mut cfg = config(8);
        cfg.system = None;
        cfg.context_tokens = Some(8);
        let t = run(&cfg, &c).await;
        assert_eq!(t.end, EndReason::Completed);
        assert_eq!(
            t.output, "You said something.",
            "the first turn was dropped"
        );
    }

    fn faulty(rate: f64, seed: u64) -> HarnessConfig {
        let mut cfg = config(8);
        cfg.faults.insert(
            "lookup_order".into(),
            Faults {
                error_rate: rate,
                latency_ms: 1,
                seed,
            },
        );
        cfg
    }

    #[tokio::test]
    async fn seeded_tool_faults_reproduce_the_same_trajectory() {
        // Many calls so that a 50% rate surely shows both outcomes.
        let script: Vec<RawMockReply> = (0..6)
            .map(|_| call("lookup_order", json!({"order_id": "1"})))
            .collect();
        let c = case(&["hi"], script);
        let a = timeless(run(&faulty(0.5, 11), &c).await);
        let b = timeless(run(&faulty(0.5, 11), &c).await);
        assert_eq!(a, b);
        let outcomes: Vec<bool> = tools(&a).into_iter().map(|(_, ok)| ok).collect();
        assert!(
            outcomes.contains(&true) && outcomes.contains(&false),
            "{outcomes:?}"
        );
        let injected = a.steps.iter().any(
            |s| matches!(s, Step::Tool { error: Some(e), .. } if e.starts_with("injected fault")),
        );
        assert!(injected);
        let other = timeless(run(&faulty(0.5, 12), &c).await);
        assert_ne!(tools(&a), tools(&other), "another seed, other draws");
        // Injected faults are tool failures, not malformed calls: no repair budget is used.
        let all_fail = run(&faulty(1.0, 0), &c).await;
        assert_eq!(all_fail.end, EndReason::Completed);
    }

    #[tokio::test]
    async fn custom_mock_tools_run_in_the_loop() {
        let raw: crate::agent::harness::raw_custom_tool::RawCustomTool = serde_yaml::from_str(
            "name: weather\nmock: {replies: [{when: {case: c1}, result: {temp: 12}}]}",
        )
        .unwrap();
        let mut cfg = config(8);
        cfg.custom_tools = vec![Arc::new(
            CustomTool::compile(&raw, Path::new("."), Default::default()).unwrap(),
        )];
        let t = run(&cfg, &case(&["hi"], vec![call("weather", json!({}))])).await;
        match &t.steps[2] {
            Step::Tool { name, result, .. } => {
                assert_eq!(name, "weather");
                assert_eq!(result, &Some(json!({"temp": 12})));
            }
            other => panic!("{other:?}"),
        }
    }

    fn with_user(mut c: Case, max_turns: u32) -> Case {
        c.user = Some(SimulatedUser {
            persona: "terse".into(),
            goal: "know where order 1 is".into(),
            max_turns,
        });
        c
    }

    #[tokio::test]
    async fn simulated_user_talks_until_done() {
        let t = run(&config(8), &with_user(case(&["hello"], vec![]), 5)).await;
        assert_eq!(t.end, EndReason::Completed, "{t:?}");
        assert_eq!(
            kinds(&t),
            ["user", "model", "user", "model", "tool", "model"]
        );
        assert_eq!(t.output, "It is shipped.");
        match &t.steps[2] {
            Step::User { content } => assert_eq!(content, "status of 1"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn simulated_user_stops_at_max_turns() {
        let mut cfg = config(8);
        cfg.user_model = Some(ModelId::parse("mock:u").unwrap());
        let t = run(&cfg, &with_user(case(&["hello"], vec![]), 3)).await;
        assert_eq!(t.end, EndReason::Completed);
        let users = t
            .steps
            .iter()
            .filter(|s| matches!(s, Step::User { .. }))
            .count();
        assert_eq!(users, 3);
        assert_eq!(t.model_calls(), 3);
    }

    #[test]
    fn the_run_future_is_send() {
        fn assert_send<T: Send>(_: T) {}
        let cfg = config(8);
        let c = case(&["hi"], vec![]);
        let p = providers();
        assert_send(run_harness(&cfg, &c, 0, &p));
    }
}
