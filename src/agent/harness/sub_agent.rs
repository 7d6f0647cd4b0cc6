//! Sub-agents in the harness: a team's agents run through the same loop (`agent_loop::Run`)
//! and the same provider stack as a single agent. This file is what a team adds to the loop:
//! the shared state of one case's team (`TeamCtx`: delegation counts, the case's spend), an
//! agent called as a tool (a child run on the same world, recorded as a nested `agent` step
//! whose usage and cost roll into the caller's), and a handoff (the next agent continues the
//! conversation; its run is the next top-level `agent` step).
//!
//! The agent calls of one model turn (a fan-out) run concurrently, on the one world of the
//! case, and are gathered in call order: the trajectory and `report.json` are laid out the same
//! whatever order they finish in.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Instant;

use serde_json::{json, Value};

use crate::agent::case_input::CaseInput;
use crate::agent::harness::agent_loop::{Run, TurnEnd};
use crate::agent::harness::budget::Budget;
use crate::agent::harness::team::{Link, Team, TeamAgent};
use crate::agent::harness::tools::{ToolSetError, Toolbox};
use crate::provider::types::Message;
use crate::trajectory::{EndReason, Step, ToolCall, Usage};

/// What every agent of one case's team shares.
#[derive(Debug, Clone)]
pub(crate) struct TeamCtx {
    team: Arc<Team>,
    /// 0 for the entry agent (and the agents it hands off to).
    depth: u32,
    /// Sub-agent runs and handoffs so far in this case.
    calls: Arc<AtomicU32>,
    /// Tokens and USD of every agent so far in this case.
    spent: Arc<Mutex<(Usage, f64)>>,
    case_budget: Budget,
}

impl TeamCtx {
    /// The context of a new case and its entry agent.
    pub(crate) fn entry(team: &Arc<Team>) -> Option<(TeamCtx, Arc<TeamAgent>)> {
        let agent = team.agents.get(&team.entry)?.clone();
        let ctx = TeamCtx {
            team: team.clone(),
            depth: 0,
            calls: Arc::new(AtomicU32::new(0)),
            spent: Arc::new(Mutex::new((Usage::default(), 0.0))),
            case_budget: Budget::default(),
        };
        Some((ctx, agent))
    }

    /// The per-case token and USD budget (`run.budget`), which counts every agent.
    pub(crate) fn with_case_budget(mut self, budget: Budget) -> TeamCtx {
        self.case_budget = budget;
        self
    }

    pub(crate) fn spend(&self, usage: Usage, usd: Option<f64>) {
        let mut spent = self.spent.lock().unwrap_or_else(|e| e.into_inner());
        spent.0.add(usage);
        spent.1 += usd.unwrap_or(0.0);
    }

    /// The case budget the whole team has gone past, as a reason.
    pub(crate) fn over_case_budget(&self) -> Option<String> {
        let (usage, usd) = *self.spent.lock().unwrap_or_else(|e| e.into_inner());
        let tokens = usage.total();
        if let Some(limit) = self.case_budget.case_tokens.filter(|l| tokens > *l) {
            return Some(format!(
                "case budget exhausted: {tokens} tokens used by all agents, limit {limit}"
            ));
        }
        if let Some(limit) = self.case_budget.case_usd.filter(|l| usd > *l) {
            return Some(format!(
                "case budget exhausted: ${usd:.6} spent by all agents, limit ${limit}"
            ));
        }
        None
    }

    /// Counts one more delegation; the limit it would pass, as a reason.
    fn take_call(&self, deeper: bool) -> Result<(), String> {
        if deeper && self.depth + 1 > self.team.max_depth {
            return Err(format!(
                "delegation stopped: agents nested deeper than max_depth = {}",
                self.team.max_depth
            ));
        }
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if n > self.team.max_calls {
            return Err(format!(
                "delegation stopped: more than max_calls = {} agent calls in one case",
                self.team.max_calls
            ));
        }
        Ok(())
    }
}

impl Run {
    /// Makes this run the team's `agent`: its tools and the agents it may call.
    pub(super) fn join_team(&mut self, ctx: TeamCtx, agent: Arc<TeamAgent>) {
        self.model_calls = 0;
        self.agent_start = (self.traj.usage, self.traj.cost_usd.unwrap_or(0.0));
        self.team = Some((ctx, agent));
        self.offer_tools();
    }

    /// What calling `tool` does, when it is an agent of the team.
    pub(super) fn link(&self, tool: &str) -> Option<Link> {
        let (_, agent) = self.team.as_ref()?;
        agent.links.get(tool).cloned()
    }

    /// One user turn of a team: the current agent answers; on a handoff the next one takes
    /// over the conversation. Each agent's work is one top-level `agent` step.
    pub(super) async fn team_turn(&mut self, case: &dyn CaseInput) -> TurnEnd {
        loop {
            let Some((_, agent)) = self.team.clone() else {
                return TurnEnd::Stopped;
            };
            let from = self.traj.steps.len();
            let started = Instant::now();
            let end = self.answer_turn(&agent.config, case).await;
            let steps = self.traj.steps.split_off(from);
            self.traj
                .steps
                .push(agent_step(&agent.name, steps, started));
            let TurnEnd::Handoff(next) = end else {
                return end;
            };
            let (ctx, _) = self.team.clone().expect("a team run");
            let Some(next_agent) = ctx.team.agents.get(&next).cloned() else {
                return TurnEnd::Stopped;
            };
            // History follows; the system prompt and tools are the next agent's.
            let toolbox = match self.toolbox_of(&next_agent) {
                Ok(toolbox) => toolbox,
                Err(e) => {
                    self.stop(EndReason::Error, format!("agent `{next}`: {e}"));
                    return TurnEnd::Stopped;
                }
            };
            let provider = match self.providers.get(&next_agent.config.model, &[]) {
                Ok(p) => p,
                Err(e) => {
                    self.stop(EndReason::Error, format!("agent `{next}`: {}", e.message));
                    return TurnEnd::Stopped;
                }
            };
            match system_message(&next_agent, case) {
                Ok(system) => {
                    self.messages
                        .retain(|m| m.role != crate::provider::types::Role::System);
                    if let Some(s) = system {
                        self.messages.insert(0, s);
                    }
                }
                Err(e) => {
                    self.stop(EndReason::Error, e);
                    return TurnEnd::Stopped;
                }
            }
            self.toolbox = toolbox;
            self.provider = provider;
            self.join_team(ctx, next_agent);
        }
    }

    /// The tools of an agent taking over this run: its own, and its pick of the run's MCP
    /// tools (the same sessions: the servers' world goes on).
    fn toolbox_of(&self, agent: &TeamAgent) -> Result<Toolbox, ToolSetError> {
        let set = agent
            .config
            .toolset
            .get(&agent.config.tools, &agent.config.custom_tools)?;
        let mut toolbox = Toolbox::from_set(set).with_recorder(self.providers.tool_recorder());
        toolbox.share_run(&self.toolbox);
        if let Some(mcp) = &self.mcp {
            toolbox.add_mcp(mcp.clone(), agent.config.mcp_pick.as_deref())?;
        }
        Ok(toolbox)
    }

    /// A call of an agent tool: a handoff, or a sub-agent's run whose answer is the result.
    pub(super) async fn delegate(&mut self, case: &dyn CaseInput, call: ToolCall, link: Link) {
        let Some((ctx, _)) = self.team.clone() else {
            return;
        };
        let deeper = matches!(link, Link::Call(_));
        if let Err(reason) = ctx.take_call(deeper) {
            self.refuse(&call, reason);
            return;
        }
        match link {
            Link::Handoff(next) => {
                self.tool_answer(&call, Ok(json!({"handed_off_to": next})));
                self.handoff = Some(next);
            }
            Link::Call(name) => self.call_agent(case, call, &ctx, &name).await,
        }
    }

    /// Whether a model turn's calls are a fan-out: two or more, all of them agents called as
    /// tools. Those run concurrently; any other turn's calls run one after another.
    pub(super) fn is_fan_out(&self, calls: &[ToolCall]) -> bool {
        calls.len() > 1
            && calls
                .iter()
                .all(|c| matches!(self.link(&c.name), Some(Link::Call(_))))
    }

    /// The agent calls of one model turn, run concurrently on the one world and gathered in
    /// call order: the trajectory is the same whatever order they finish in.
    pub(super) async fn fan_out(&mut self, case: &dyn CaseInput, calls: Vec<ToolCall>) {
        let Some((ctx, _)) = self.team.clone() else {
            return;
        };
        let mut started = Vec::new();
        for call in calls {
            if let Err(reason) = ctx.take_call(true) {
                // The calls before it still run and are recorded: the partial tree.
                self.gather(case, started).await;
                self.refuse(&call, reason);
                return;
            }
            let Some(Link::Call(name)) = self.link(&call.name) else {
                continue;
            };
            match self.start_child(case, &call, &ctx, &name) {
                Ok(child) => started.push((call, name, Some(child))),
                Err(why) => {
                    self.tool_answer(&call, Err(why));
                }
            }
        }
        self.gather(case, started).await;
    }

    async fn gather(
        &mut self,
        case: &dyn CaseInput,
        started: Vec<(ToolCall, String, Option<Child>)>,
    ) {
        let mut running = Vec::new();
        let mut rest = Vec::new();
        for (call, name, child) in started {
            if let Some(child) = child {
                running.push(Box::pin(child.run(case)));
                rest.push((call, name));
            }
        }
        let done = join_in_order(running).await;
        for ((call, name), child) in rest.into_iter().zip(done) {
            self.finish_child(&call, &name, child);
        }
    }

    async fn call_agent(
        &mut self,
        case: &dyn CaseInput,
        call: ToolCall,
        ctx: &TeamCtx,
        name: &str,
    ) {
        match self.start_child(case, &call, ctx, name) {
            Ok(child) => {
                let done = Box::pin(child.run(case)).await;
                self.finish_child(&call, name, done);
            }
            Err(why) => self.tool_answer(&call, Err(why)),
        }
    }

    /// A sub-agent's run, ready to go: its own conversation on the caller's world; rules (not
    /// the case's script) answer its mock model.
    fn start_child(
        &self,
        case: &dyn CaseInput,
        call: &ToolCall,
        ctx: &TeamCtx,
        name: &str,
    ) -> Result<Child, String> {
        let agent = ctx
            .team
            .agents
            .get(name)
            .cloned()
            .ok_or_else(|| format!("no agent `{name}`"))?;
        let task = call
            .args
            .get("task")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mut run = Run::prepare(&agent.config, case, self.toolbox.repeat(), &self.providers)
            .map_err(|e| format!("agent `{name}` could not start: {e}"))?;
        run.toolbox = self
            .toolbox_of(&agent)
            .map_err(|e| format!("agent `{name}` could not start: {e}"))?;
        run.mcp = self.mcp.clone();
        run.user = None;
        if let Ok(p) = self.providers.get(&agent.config.model, &[]) {
            run.provider = p;
        }
        run.messages.push(Message::user(task.clone()));
        run.traj.steps.push(Step::User { content: task });
        run.world = self.world.clone();
        let deeper = TeamCtx {
            depth: ctx.depth + 1,
            ..ctx.clone()
        };
        run.join_team(deeper, agent.clone());
        Ok(Child {
            run,
            agent,
            started: Instant::now(),
            end: None,
        })
    }

    /// Records a finished sub-agent: its `agent` step, its usage and cost rolled into this
    /// run's, its answer as the tool's result; a limit or an outage below stops this run too.
    fn finish_child(&mut self, call: &ToolCall, name: &str, child: Child) {
        let Child {
            run: child,
            started,
            end,
            ..
        } = child;
        self.traj.usage.add(child.traj.usage);
        if let Some(c) = child.traj.cost_usd {
            self.traj.cost_usd = Some(crate::agent::harness::pricing::round_usd(
                self.traj.cost_usd.unwrap_or(0.0) + c,
            ));
        }
        if let Some(reason) = &child.escalation {
            self.escalation.get_or_insert(reason.clone());
        }
        let answered = matches!(end, Some(TurnEnd::Answered));
        let child_end = child.traj.end;
        let child_error = child.traj.error.clone();
        let halted = child.halted
            || !answered && matches!(child_end, EndReason::Escalated | EndReason::Error);
        let answer = child.last_text.clone();
        self.traj
            .steps
            .push(agent_step(name, child.traj.steps, started));
        let content = if answered {
            json!({"agent": name, "answer": answer}).to_string()
        } else {
            format!(
                "error: agent `{name}` stopped: {}",
                child_error.clone().unwrap_or_else(|| "no answer".into())
            )
        };
        // The answer goes back to the caller as the tool's result, linked to the call.
        self.messages
            .push(Message::tool(call.id.clone(), call.name.clone(), content));
        if halted && !self.halted {
            let reason = child_error.unwrap_or_else(|| format!("agent `{name}` stopped"));
            self.stop(child_end, reason);
            self.halted = true;
        }
    }

    /// A delegation past a limit: refused, and the case ends escalated with the tree so far.
    fn refuse(&mut self, call: &ToolCall, reason: String) {
        self.tool_answer(call, Err(reason.clone()));
        self.traj.steps.push(Step::Escalation {
            reason: reason.clone(),
        });
        self.stop(EndReason::Escalated, reason);
        self.halted = true;
    }

    /// Records an agent tool's answer: the tool step and the message the model reads.
    fn tool_answer(&mut self, call: &ToolCall, outcome: Result<Value, String>) {
        let content = match &outcome {
            Ok(v) => v.to_string(),
            Err(e) => format!("error: {e}"),
        };
        self.messages
            .push(Message::tool(call.id.clone(), call.name.clone(), content));
        let (result, error) = match outcome {
            Ok(v) => (Some(v), None),
            Err(e) => (None, Some(e)),
        };
        self.traj.steps.push(Step::Tool {
            id: call.id.clone(),
            name: call.name.clone(),
            args: call.args.clone(),
            result,
            error,
            latency_ms: Some(0),
            agent: None,
            started_at: None,
            metadata: Default::default(),
        });
    }
}

/// A sub-agent's run in progress.
struct Child {
    run: Run,
    agent: Arc<TeamAgent>,
    started: Instant,
    /// How its turn ended, once it has run.
    end: Option<TurnEnd>,
}

impl Child {
    async fn run(mut self, case: &dyn CaseInput) -> Child {
        let config = self.agent.config.clone();
        let end = Box::pin(self.run.answer_turn(&config, case)).await;
        self.end = Some(end);
        self
    }
}

/// Polls every future in one task and returns their outputs in the order given, whatever
/// order they finish in.
async fn join_in_order<F: Future + Unpin>(mut futures: Vec<F>) -> Vec<F::Output> {
    let mut done: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in futures.iter_mut().zip(done.iter_mut()) {
            if slot.is_none() {
                match Pin::new(f).poll(cx) {
                    Poll::Ready(out) => *slot = Some(out),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    done.into_iter().flatten().collect()
}

/// The `agent` step of one agent's run.
fn agent_step(name: &str, steps: Vec<Step>, started: Instant) -> Step {
    Step::Agent {
        name: name.to_string(),
        steps,
        started_at: None,
        latency_ms: Some(started.elapsed().as_millis() as u64),
        metadata: Default::default(),
    }
}

/// The agent's rendered system prompt, if it has one.
fn system_message(agent: &TeamAgent, case: &dyn CaseInput) -> Result<Option<Message>, String> {
    let Some(source) = &agent.config.system else {
        return Ok(None);
    };
    agent
        .config
        .system_template
        .get(source)
        .and_then(|t| {
            t.render(crate::agent::harness::system_prompt::system_prompt_context(
                case, &t,
            ))
        })
        .map(|s| Some(Message::system(s)))
        .map_err(|e| format!("agent `{}`: system prompt: {}", agent.name, e.message))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;
    use std::sync::Arc;

    use serde_json::json;

    use crate::agent::harness::agent_loop::run_harness;
    use crate::agent::harness::config::HarnessConfig;
    use crate::agent::harness::team::{RawTeam, Team};
    use crate::provider::mock_rules::MockRules;
    use crate::provider::registry::Providers;
    use crate::suite::model::Case;
    use crate::trajectory::{EndReason, Step, Trajectory};
    use crate::trajectory_tree::{agent_runs, usage_by_agent};

    /// `boss` asks `worker`, which asks itself again and again (a runaway), or answers.
    const BOSS: &str = r#"
rules:
  - when: {user: 'dig'}
    reply: {tool_calls: [{name: worker, args: {task: "dig deeper"}}]}
  - when: {user: 'race'}
    reply: {tool_calls: [{name: worker, args: {task: "slow"}}, {name: worker, args: {task: "quick"}}]}
  - when: {user: 'two'}
    reply: {tool_calls: [{name: worker, args: {task: "first"}}, {name: worker, args: {task: "second"}}]}
  - when: {tool_name: worker}
    reply: {text: "done"}
"#;
    const WORKER: &str = r#"
rules:
  - when: {user: 'dig'}
    reply: {tool_calls: [{name: worker, args: {task: "dig deeper"}}]}
  - when: {user: 'slow'}
    reply: {tool_calls: [{name: lookup_order, args: {order_id: "1"}}]}
  - when: {user: 'quick'}
    reply: {tool_calls: [{name: search_kb, args: {query: "x"}}]}
  - when: {tool_name: lookup_order}
    reply: {text: "slow one done"}
  - when: {tool_name: search_kb}
    reply: {text: "quick one done"}
  - when: {user: '(?P<t>first|second)'}
    reply: {text: "answer to {{ t }} with a long explanation that costs many tokens indeed"}
  - when: {tool_name: worker}
    reply: {text: "deep"}
"#;

    fn providers() -> Providers {
        let rules = |name: &str, text: &str| {
            (
                name.to_string(),
                Arc::new(MockRules::parse(Path::new("x.yaml"), text).unwrap()),
            )
        };
        Providers::new(BTreeMap::from([
            rules("boss", BOSS),
            rules("worker", WORKER),
        ]))
    }

    fn harness(team: &str) -> HarnessConfig {
        let mut base = HarnessConfig {
            world: Some(json!({"today": "2026-03-20"}).into()),
            ..HarnessConfig::bare("mock:boss", 5)
        };
        let raw: RawTeam = serde_yaml::from_str(team).unwrap();
        base.team = Some(Arc::new(Team::load(&raw, &base).unwrap()));
        base
    }

    /// Delegation polls each agent's loop inside its caller's, so nesting multiplies stack
    /// use: in a debug build more than a test thread's 2 MiB (eval gives its workers 8 MiB).
    async fn run(config: &HarnessConfig, input: &str) -> Trajectory {
        let (config, case) = (config.clone(), Case::new("c", input));
        std::thread::Builder::new()
            .stack_size(8 << 20)
            .spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime")
                    .block_on(run_harness(&config, &case, 0, &providers()))
            })
            .expect("thread")
            .join()
            .expect("the run")
    }

    #[tokio::test]
    async fn a_runaway_stops_at_max_depth_escalated_with_the_partial_tree() {
        let cfg = harness(
            "entry: boss\nmax_depth: 2\nagents:\n  boss: {agents: [worker]}\n  worker: {model: 'mock:worker', agents: [worker]}\n",
        );
        let t = run(&cfg, "dig").await;
        assert_eq!(t.end, EndReason::Escalated, "{t:?}");
        assert!(
            t.error
                .as_deref()
                .unwrap()
                .contains("deeper than max_depth = 2"),
            "{:?}",
            t.error
        );
        let depths: Vec<(&str, usize)> = agent_runs(&t).iter().map(|r| (r.name, r.depth)).collect();
        assert_eq!(depths, [("boss", 0), ("worker", 1), ("worker", 2)]);
        assert!(t.escalated());
    }

    #[tokio::test]
    async fn a_fan_out_is_gathered_in_call_order_and_usage_rolls_up() {
        let cfg = harness(
            "entry: boss\nagents:\n  boss: {agents: [worker]}\n  worker: {model: 'mock:worker'}\n",
        );
        let t = run(&cfg, "two").await;
        assert_eq!(t.end, EndReason::Completed, "{t:?}");
        let Step::Agent { steps, .. } = &t.steps[1] else {
            panic!("{t:?}")
        };
        let answers: Vec<String> = steps
            .iter()
            .filter_map(|s| match s {
                Step::Agent { steps, .. } => match steps.last() {
                    Some(Step::Model { content, .. }) => content.clone(),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        assert!(answers[0].starts_with("answer to first"), "{answers:?}");
        assert!(answers[1].starts_with("answer to second"), "{answers:?}");
        let by = usage_by_agent(&t);
        assert_eq!(
            t.usage.total(),
            by["boss"].tokens + by["worker"].tokens,
            "the case's usage is every agent's"
        );
        // Same run twice: the same tree.
        let again = run(&cfg, "two").await;
        assert_eq!(
            crate::trajectory_tree::tool_calls_of(&again, None).len(),
            crate::trajectory_tree::tool_calls_of(&t, None).len()
        );
    }

    #[tokio::test]
    async fn an_agents_budget_counts_its_sub_agents() {
        let cfg = harness(
            "entry: boss\nagents:\n  boss: {agents: [worker], max_tokens: 100}\n  worker: {model: 'mock:worker'}\n",
        );
        let t = run(&cfg, "two").await;
        assert_eq!(t.end, EndReason::Escalated, "{t:?}");
        let why = t.error.as_deref().unwrap();
        assert!(why.starts_with("agent `boss` budget exhausted"), "{why}");
        // What the budget compared is boss's tokens and its workers'.
        let boss_own = usage_by_agent(&t)["boss"].tokens;
        let counted = format!("{} tokens used, limit 100", t.usage.total());
        assert!(why.ends_with(&counted), "{why} ({boss_own} own)");
        assert!(t.usage.total() > boss_own);
    }

    #[tokio::test]
    async fn a_fan_out_runs_concurrently_and_is_gathered_in_call_order() {
        use crate::agent::harness::faults::Faults;
        let mut cfg = harness("entry: boss\nagents:\n  boss: {}\n");
        cfg.tools = vec!["lookup_order".into(), "search_kb".into()];
        cfg.world = Some(
            json!({"today": "2026-03-20", "orders": {"1": {"status": "shipped"}}, "kb": {}}).into(),
        );
        // Long enough that a loaded CI machine cannot blur concurrent (~1.5 s) into sequential
        // (at least 2.25 s).
        for (tool, ms) in [("lookup_order", 1500), ("search_kb", 750)] {
            cfg.faults.insert(
                tool.into(),
                Faults {
                    error_rate: 0.0,
                    latency_ms: ms,
                    seed: 0,
                },
            );
        }
        let raw: RawTeam = serde_yaml::from_str(
            "entry: boss\nagents:\n  boss: {agents: [worker]}\n  worker: {model: 'mock:worker', tools: [lookup_order, search_kb]}\n",
        )
        .unwrap();
        cfg.team = Some(Arc::new(Team::load(&raw, &cfg).unwrap()));
        let started = std::time::Instant::now();
        let t = run(&cfg, "race").await;
        let took = started.elapsed();
        assert_eq!(t.end, EndReason::Completed, "{t:?}");
        // The quick one finished first; the tree keeps the order of the calls.
        let order: Vec<&str> = crate::trajectory_tree::tool_calls_of(&t, Some("worker"))
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(order, ["lookup_order", "search_kb"]);
        assert!(
            took < std::time::Duration::from_millis(2100),
            "1500 ms and 750 ms of tool latency should overlap: {took:?}"
        );
    }

    #[test]
    fn team_problems_name_what_is_wrong() {
        let base = harness("entry: boss\nagents:\n  boss: {}\n");
        let raw: RawTeam = serde_yaml::from_str(
            "entry: nobody\nagents:\n  boss: {tools: [lookup_ordr], agents: [ghost], model: 'nope'}\n  w: {max_steps: 0}\n",
        )
        .unwrap();
        let problems: Vec<String> = Team::load(&raw, &base)
            .unwrap_err()
            .into_iter()
            .map(|p| p.message)
            .collect();
        assert!(problems[0].contains("no agent `nobody`"), "{problems:?}");
        assert!(
            problems.iter().any(|p| p.contains("agent `boss`")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("`max_steps` must be at least 1")),
            "{problems:?}"
        );
    }
}
