//! `Estimate`: what `eval --dry-run` prints instead of running — the plan (cases × repeats), the
//! model calls it will make, and a cost range from the price table.
//!
//! Agent calls are a range: at least one per user turn, at most `max_steps` per run. Judge calls
//! are exact but for retries. Tokens are estimated like the mock counts them (four characters a
//! token) from what is known before the run: system prompt, tool specs, user turns, rubric.

use std::fmt::Write;

use crate::agent::harness::system_prompt::system_prompt_context;
use crate::agent::harness::tools::tool_spec;
use crate::agent::target::Target;
use crate::check::family::judge::JudgeCheck;
use crate::check::judge::context;
use crate::check::spec::Check;
use crate::suite::model::{Case, Suite};
use crate::trajectory::{Trajectory, Usage};

/// Output tokens assumed per model call: answers and tool calls are short; rubrics ask for JSON.
const OUTPUT_TOKENS_PER_CALL: u64 = 150;

#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Estimate {
    pub cases: usize,
    pub repeat: u32,
    pub runs: usize,
    pub agent_calls: (u64, u64),
    pub judge_calls: u64,
    /// USD range when every model involved is priced; `None` otherwise (e.g. the mock).
    pub cost_usd: Option<(f64, f64)>,
    pub unpriced: Vec<String>,
}

/// Estimates a run of `cases` (already selected) `repeat` times.
pub(crate) fn estimate(suite: &Suite, cases: &[std::sync::Arc<Case>], repeat: u32) -> Estimate {
    let repeat = repeat.max(1);
    let runs = cases.len() * repeat as usize;
    let mut est = Estimate {
        cases: cases.len(),
        repeat,
        runs,
        ..Default::default()
    };
    let mut cost = (0.0, 0.0);
    let mut priced = true;
    let mut price = |model: &str, usage: Usage, calls: (u64, u64), est: &mut Estimate| {
        let per_call = match &suite.target {
            Target::Harness(h) => h.pricing.cost(model, usage),
            _ => None,
        };
        match per_call {
            Some(c) => {
                cost.0 += c * calls.0 as f64;
                cost.1 += c * calls.1 as f64;
            }
            None => {
                priced = false;
                if !est.unpriced.iter().any(|m| m == model) {
                    est.unpriced.push(model.to_string());
                }
            }
        }
    };
    for case in cases {
        let r = u64::from(repeat);
        if let Target::Harness(h) = &suite.target {
            let system = h
                .system
                .as_deref()
                .and_then(|s| h.system_template.get(s).ok())
                .and_then(|t| t.render(system_prompt_context(case, &t)).ok())
                .unwrap_or_default();
            let tools: usize = h
                .tools
                .iter()
                .filter_map(|t| tool_spec(t))
                .map(|s| s.description.len() + s.parameters.to_string().len())
                .sum();
            let turns: usize = case.turns.iter().map(String::len).sum();
            let calls = (case.turns.len() as u64 * r, u64::from(h.max_steps) * r);
            let usage = Usage {
                input_tokens: ((system.len() + tools + turns) / 4) as u64,
                output_tokens: OUTPUT_TOKENS_PER_CALL,
            };
            est.agent_calls.0 += calls.0;
            est.agent_calls.1 += calls.1;
            price(&h.model.to_string(), usage, calls, &mut est);
        }
        for spec in suite.checks.iter().chain(case.checks.iter()) {
            let Check::Judge(JudgeCheck { judge, .. }) = &spec.check else {
                continue;
            };
            let n = u64::from(judge.samples.max(1)) * r;
            let prompt = judge
                .prompt
                .render(context(case, &Trajectory::default()))
                .map(|p| p.len())
                .unwrap_or(0);
            let usage = Usage {
                input_tokens: (prompt / 4) as u64 + OUTPUT_TOKENS_PER_CALL,
                output_tokens: OUTPUT_TOKENS_PER_CALL / 3,
            };
            est.judge_calls += n;
            price(&judge.model.to_string(), usage, (n, n), &mut est);
        }
    }
    est.unpriced.sort();
    est.cost_usd = priced.then_some((round_cents(cost.0), round_cents(cost.1)));
    est
}

fn round_cents(usd: f64) -> f64 {
    (usd * 100.0).ceil() / 100.0
}

pub(crate) fn render(suite: &str, e: &Estimate) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "dry run: suite `{suite}`: {} cases × {} repeat{} = {} runs",
        e.cases,
        e.repeat,
        if e.repeat == 1 { "" } else { "s" },
        e.runs
    );
    let _ = writeln!(
        out,
        "  model calls: agent {}–{} (one per user turn up to max_steps per run), judges {} (+ retries)",
        e.agent_calls.0, e.agent_calls.1, e.judge_calls
    );
    match e.cost_usd {
        Some((lo, hi)) => {
            let _ = writeln!(
                out,
                "  estimated cost: ${lo:.2}–${hi:.2} (price table; ~4 characters a token)"
            );
        }
        None => {
            let _ = writeln!(
                out,
                "  estimated cost: unknown, no price for {}",
                e.unpriced.join(", ")
            );
        }
    }
    out
}
