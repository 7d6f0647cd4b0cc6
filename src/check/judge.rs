//! `Judge`: an LLM-as-judge rubric loaded from `judges/NAME.yaml`, and `grade`, which asks the
//! judge model for a verdict on one trajectory.

use std::path::Path;

use serde_json::{Map, Value};

use serde::Deserialize;

use crate::check::case::CaseFacts;
use crate::check::eval::errored_run;
use crate::check::judge_samples::{aggregate, std_dev, Aggregate};
use crate::diagnostic::{locate, Diagnostic};
use crate::provider::types::{Message, ModelId, ModelRequest, Provider, Purpose, ResponseFormat};
use crate::template::{Template, TemplateError};
use crate::text::one_line;
use crate::trajectory::{EndReason, Trajectory};
use crate::verdict::{Outcome, Verdict};

use crate::check::judge_output::parse_verdict;

#[derive(Debug)]
pub struct Judge {
    pub name: String,
    pub model: ModelId,
    /// Compiled (strict undefined) at load.
    pub prompt: Template,
    pub system: Option<Template>,
    /// The scale the judge answers in; scores are normalised to 0..1.
    pub scale: [f64; 2],
    pub threshold: f64,
    pub soft_threshold: Option<f64>,
    pub retries: u32,
    /// Independent calls per verdict (seeds 0..samples), reduced by `aggregate`.
    pub samples: u32,
    pub aggregate: Aggregate,
}

/// A judge rubric: `judges/NAME.yaml`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawJudge {
    #[serde(default)]
    pub description: Option<String>,
    /// `provider:model` of the judge.
    pub model: String,
    /// minijinja template of the judge prompt; sees `case`, `input`, `output`, `reference`,
    /// `trajectory`, `vars`.
    pub prompt: String,
    /// Optional system prompt for the judge.
    #[serde(default)]
    pub system: Option<String>,
    /// The score scale the judge answers in, normalised to 0..1. Default `[1, 5]`.
    #[serde(default)]
    pub scale: Option<[f64; 2]>,
    /// Pass at or above (normalised 0..1).
    pub threshold: f64,
    /// Between this and `threshold`: soft fail.
    #[serde(default)]
    pub soft_threshold: Option<f64>,
    /// Extra attempts when the judge's answer cannot be parsed. Default 2.
    #[serde(default)]
    pub retries: Option<u32>,
    /// Independent judge calls per verdict (default 1), reduced by `aggregate`.
    #[serde(default)]
    pub samples: Option<u32>,
    /// `mean` (default), `majority` or `min`.
    #[serde(default)]
    pub aggregate: Option<Aggregate>,
}

/// Default extra attempts on an unparsable answer.
const DEFAULT_RETRIES: u32 = 2;

impl Judge {
    /// Reads and validates `path` (a judge YAML) under the suite's `limits`. Every problem of
    /// the file is returned.
    pub fn load(
        name: &str,
        path: &Path,
        limits: &crate::limits::Limits,
    ) -> Result<Judge, Vec<Diagnostic>> {
        let source =
            crate::input_file::read_to_string(path, limits.max_file_bytes).map_err(|e| {
                vec![Diagnostic::new(
                    path,
                    format!("cannot read judge `{name}`: {e}"),
                )]
            })?;
        Self::from_source_within(name, path, &source, limits.max_depth)
    }

    /// Validates a judge from its YAML text under the default nesting limit; `path` is only
    /// used in diagnostics.
    pub fn from_source(name: &str, path: &Path, source: &str) -> Result<Judge, Vec<Diagnostic>> {
        Self::from_source_within(
            name,
            path,
            source,
            crate::limits::Limits::default().max_depth,
        )
    }

    fn from_source_within(
        name: &str,
        path: &Path,
        source: &str,
        max_depth: u32,
    ) -> Result<Judge, Vec<Diagnostic>> {
        let raw: RawJudge =
            crate::yaml_depth::from_str(path, source, max_depth).map_err(|d| vec![d])?;
        let mut errs = Vec::new();
        let at = |msg: String, needle: &str| Diagnostic::new(path, msg).locate(source, needle);

        let model = ModelId::parse(&raw.model)
            .map_err(|e| errs.push(at(e.to_string(), &raw.model)))
            .ok();
        let prompt = Template::compile(&raw.prompt)
            .map_err(|e| errs.push(template_diag(path, source, "prompt", &e)))
            .ok();
        let system = raw.system.as_deref().and_then(|system| {
            Template::compile(system)
                .map_err(|e| errs.push(template_diag(path, source, "system", &e)))
                .ok()
        });
        let scale = raw.scale.unwrap_or([1.0, 5.0]);
        if !(scale[0].is_finite() && scale[1].is_finite() && scale[0] < scale[1]) {
            errs.push(
                at(
                    format!("`scale` must be [low, high] with low < high, found {scale:?}"),
                    "scale",
                )
                .hint("e.g. `scale: [1, 5]`"),
            );
        }
        for (key, value) in [
            ("threshold", Some(raw.threshold)),
            ("soft_threshold", raw.soft_threshold),
        ] {
            if let Some(x) = value.filter(|x| !(0.0..=1.0).contains(x)) {
                errs.push(
                    at(format!("`{key}` must be between 0 and 1, found {x}"), key)
                        .hint("thresholds apply to the score normalised to 0..1"),
                );
            }
        }
        if let Some(soft) = raw.soft_threshold.filter(|s| *s > raw.threshold) {
            errs.push(
                at(
                    format!(
                        "`soft_threshold` ({soft}) is above `threshold` ({})",
                        raw.threshold
                    ),
                    "soft_threshold",
                )
                .hint("a soft fail lies between soft_threshold and threshold"),
            );
        }
        if raw.samples == Some(0) || raw.samples.is_some_and(|n| n > 50) {
            errs.push(
                at(
                    format!(
                        "`samples` must be 1 to 50, found {}",
                        raw.samples.unwrap_or(0)
                    ),
                    "samples",
                )
                .hint("3 or 5 samples with `aggregate: majority` smooth a noisy judge"),
            );
        }
        match (model, prompt) {
            (Some(model), Some(prompt)) if errs.is_empty() => Ok(Judge {
                name: name.to_string(),
                model,
                prompt,
                system,
                scale,
                threshold: raw.threshold,
                soft_threshold: raw.soft_threshold,
                retries: raw.retries.unwrap_or(DEFAULT_RETRIES),
                samples: raw.samples.unwrap_or(1),
                aggregate: raw.aggregate.unwrap_or_default(),
            }),
            _ => Err(errs),
        }
    }

    /// Renders the prompt (and system prompt) for `case` with an empty trajectory, so that an
    /// undefined variable is reported at load time rather than after the agent ran.
    pub fn check_renders(&self, case: &dyn CaseFacts) -> Result<(), TemplateError> {
        let empty = Trajectory::default();
        for template in std::iter::once(&self.prompt).chain(&self.system) {
            template.check(context_reading(case, &empty, |name| template.reads(name)))?;
        }
        Ok(())
    }

    /// The system prompt (when the judge has one) and the prompt for `case` and `trajectory`.
    fn render(
        &self,
        case: &dyn CaseFacts,
        trajectory: &Trajectory,
    ) -> (
        Option<Result<String, TemplateError>>,
        Result<String, TemplateError>,
    ) {
        let render = |template: &Template| {
            template.render(context_reading(case, trajectory, |name| {
                template.reads(name)
            }))
        };
        (self.system.as_ref().map(render), render(&self.prompt))
    }

    /// Whether `score` lies on the judge's scale (ends included). A score outside it is an
    /// error, never clamped: a judge answering 1e308 on 1..5 has not said "pass".
    pub fn in_scale(&self, score: f64) -> bool {
        let [lo, hi] = self.scale;
        (lo..=hi).contains(&score)
    }

    /// A judge score in the judge's scale, mapped to 0..1.
    pub fn normalise(&self, score: f64) -> f64 {
        let [lo, hi] = self.scale;
        ((score - lo) / (hi - lo)).clamp(0.0, 1.0)
    }
}

/// A template error inside `key`'s value, placed on the file's line when it can be worked out:
/// for a block scalar (`prompt: |`) template line n is n lines below the key.
fn template_diag(path: &Path, source: &str, key: &str, err: &TemplateError) -> Diagnostic {
    let d = Diagnostic::new(path, format!("invalid `{key}` template: {}", err.message));
    let Some((key_line, col)) = locate(source, &format!("{key}:")) else {
        return d;
    };
    let rest = source
        .lines()
        .nth(key_line - 1)
        .and_then(|l| l.split_once(':'))
        .map(|(_, r)| r.trim())
        .unwrap_or("");
    let block = rest.starts_with('|') || rest.starts_with('>');
    match err.line {
        Some(n) if block => d.at(key_line + n, None),
        _ => d.at(key_line, Some(col)),
    }
}

/// What a judge's templates see: `case`, `input` (first user turn), `output`, `reference`
/// (`expected.reference` or ""), `vars`, `trajectory`.
///
/// `input`, `output` and `reference` are fenced: a fence tag inside them (`</output>`,
/// `<reference>`, ...) is escaped to `&lt;/output&gt;`, so text in a candidate answer cannot
/// close the tag a rubric wraps it in and pose as instructions or a grade.
pub fn context(case: &dyn CaseFacts, trajectory: &Trajectory) -> Value {
    context_reading(case, trajectory, |_| true)
}

/// [`context`] with only the variables `wanted` (those a template reads): a variable a template
/// never names cannot change its text, and building `case` and `trajectory` for every case of a
/// large suite costs more than the rendering.
fn context_reading(
    case: &dyn CaseFacts,
    trajectory: &Trajectory,
    wanted: impl Fn(&str) -> bool,
) -> Value {
    let mut ctx = Map::new();
    let mut put = |name: &str, value: &dyn Fn() -> Value| {
        if wanted(name) {
            ctx.insert(name.to_string(), value());
        }
    };
    put("case", &|| case.to_value());
    put("input", &|| Value::String(fence(case.input())));
    put("output", &|| Value::String(fence(&trajectory.output)));
    put("reference", &|| {
        Value::String(fence(case.reference().unwrap_or("")))
    });
    put("vars", &|| {
        serde_json::to_value(case.vars()).unwrap_or(Value::Null)
    });
    put("trajectory", &|| {
        serde_json::to_value(trajectory).unwrap_or(Value::Null)
    });
    Value::Object(ctx)
}

/// The tags rubrics wrap candidate text in.
const FENCE_TAGS: [&str; 4] = ["input", "output", "reference", "trajectory"];

/// Escapes fence tags (any case, with or without attributes or a slash) in `text`.
pub fn fence(text: &str) -> String {
    // Most text has no tag at all: skip the regex (and its per-thread cache) for it.
    if !text.contains('<') {
        return text.to_string();
    }
    static TAG: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(&format!(
            r"(?i)<(\s*/?\s*(?:{})\b[^>]*)>",
            FENCE_TAGS.join("|")
        ))
        .expect("static regex")
    });
    TAG.replace_all(text, "&lt;$1&gt;").into_owned()
}

/// Asks `judge` (through `provider`, at temperature 0) to grade `trajectory`. An unparsable
/// answer is retried up to `judge.retries` more times, then is an `error`, never a pass.
/// The verdict is named `judge NAME` with weight 1; `check::family::judge::grade` applies a
/// check's name, weight and severity.
pub async fn grade(
    judge: &Judge,
    provider: &dyn Provider,
    case: &dyn CaseFacts,
    trajectory: &Trajectory,
    threshold: f64,
    soft_threshold: Option<f64>,
) -> Verdict {
    let (outcome, score, reason) =
        grade_parts(judge, provider, case, trajectory, threshold, soft_threshold).await;
    Verdict {
        check: format!("judge {}", judge.name),
        outcome,
        score,
        weight: 1.0,
        reason,
    }
}

async fn grade_parts(
    judge: &Judge,
    provider: &dyn Provider,
    case: &dyn CaseFacts,
    trajectory: &Trajectory,
    threshold: f64,
    soft_threshold: Option<f64>,
) -> (Outcome, Option<f64>, String) {
    if trajectory.end == EndReason::Error {
        return errored_run(trajectory);
    }
    let err = |msg: String| (Outcome::Error, None, msg);
    let (system, prompt) = judge.render(case, trajectory);
    let mut messages = Vec::new();
    match system {
        Some(Ok(s)) => messages.push(Message::system(s)),
        Some(Err(e)) => return err(format!("judge system prompt: {e}")),
        None => {}
    }
    match prompt {
        Ok(p) => messages.push(Message::user(p)),
        Err(e) => return err(format!("judge prompt: {e}")),
    }
    let mut scores = Vec::new();
    let mut reasons = Vec::new();
    for sample in 0..judge.samples.max(1) {
        match sample_once(judge, provider, messages.clone(), sample).await {
            Ok((score, reason)) => {
                scores.push(score);
                reasons.push(reason);
            }
            // One unreadable sample makes the verdict unreadable: never guess around it.
            Err(why) if judge.samples > 1 => {
                return err(format!("sample {} of {}: {why}", sample + 1, judge.samples))
            }
            Err(why) => return err(why.to_string()),
        }
    }
    let (outcome, score, agree) = aggregate(judge.aggregate, &scores, threshold, soft_threshold);
    let mut reason = reasons.first().cloned().unwrap_or_default();
    if scores.len() > 1 {
        let shown: Vec<String> = scores.iter().map(|s| format!("{s:.2}")).collect();
        reason = format!(
            "{} {score:.2} of samples [{}], {:.0}% agree, sd {:.2}; {reason}",
            judge.aggregate.as_str(),
            shown.join(", "),
            agree * 100.0,
            std_dev(&scores)
        );
    }
    (outcome, Some(score), reason)
}

/// Why one judge sample gave no score: the verdict is an `error`, never a guess.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
enum SampleError {
    #[error("judge call failed: {0}")]
    Call(String),
    #[error("judge score {score} is outside the judge's scale {low}..{high}")]
    OffScale { score: f64, low: f64, high: f64 },
    /// The last answer, shortened to one line.
    #[error("judge output could not be parsed: {0}")]
    Unparsable(String),
}

/// One sample: the judge call (seed = sample index), retried on unparsable output. The
/// normalised score and the reason, or why there is none.
async fn sample_once(
    judge: &Judge,
    provider: &dyn Provider,
    messages: Vec<Message>,
    sample: u32,
) -> Result<(f64, String), SampleError> {
    let mut request = ModelRequest {
        model: judge.model.model.clone(),
        messages,
        tools: Default::default(),
        temperature: Some(0.0),
        max_tokens: None,
        purpose: Purpose::Judge,
        seed: Some(u64::from(sample)),
        response_format: Some(ResponseFormat::Json),
    };
    let mut last = String::new();
    let mut off_scale = None;
    for _ in 0..=judge.retries {
        let response = match provider.complete(&request).await {
            Ok(r) => r,
            Err(e) => return Err(SampleError::Call(one_line(&e.message, 200))),
        };
        let text = response.content.unwrap_or_default();
        let verdict = parse_verdict(&text);
        off_scale = verdict
            .as_ref()
            .map(|(raw, _)| *raw)
            .filter(|raw| !judge.in_scale(*raw));
        if let Some((raw, why)) = verdict.filter(|_| off_scale.is_none()) {
            let score = judge.normalise(raw);
            let [lo, hi] = judge.scale;
            let reason = why
                .map(|r| one_line(&r, 200))
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| format!("score {raw} on {lo}..{hi}"));
            return Ok((score, reason));
        }
        // Asking again with the bad answer and a reminder of the format (rather than repeating
        // the same request) gives the model a chance to fix it, and a cache a different key.
        request
            .messages
            .push(Message::assistant(text.clone(), Vec::new()));
        request.messages.push(Message::user(format!(
            "Your answer could not be read. Reply with only a JSON object: \
             {{\"score\": <number from {} to {}>, \"reason\": \"<one sentence>\"}}",
            judge.scale[0], judge.scale[1]
        )));
        last = text;
    }
    if let Some(raw) = off_scale {
        return Err(SampleError::OffScale {
            score: raw,
            low: judge.scale[0],
            high: judge.scale[1],
        });
    }
    let excerpt = if last.trim().is_empty() {
        "(empty answer)".to_string()
    } else {
        one_line(&last, 120)
    };
    Err(SampleError::Unparsable(excerpt))
}

#[cfg(test)]
#[path = "judge_tests.rs"]
mod tests;
