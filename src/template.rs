//! Template rendering (minijinja) with strict undefined behaviour, shared by system prompts,
//! judge prompts and mock replies. Templates are compiled at load time so that a broken
//! template fails before any model call is paid for.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use crate::limits::Limits;
use crate::render_memory;

/// `run.limits.max_render_fuel`, `max_render_bytes` and `max_render_memory` of the suite being loaded: the loader
/// sets them (`set_limits`) once `run` is read, before it compiles any template, and each
/// template keeps the values it was compiled with. Process-wide because templates are compiled
/// in many places (judges, expr checks, mock rules, system prompts) that know no suite.
static RENDER_FUEL: AtomicU64 = AtomicU64::new(DEFAULT_FUEL);
static RENDER_BYTES: AtomicU64 = AtomicU64::new(Limits::DEFAULT.max_render_bytes);
static RENDER_MEMORY: AtomicU64 = AtomicU64::new(Limits::DEFAULT.max_render_memory);
const DEFAULT_FUEL: u64 = Limits::DEFAULT.max_render_fuel;

/// The render limits of templates compiled from now on.
pub fn set_limits(limits: &Limits) {
    RENDER_FUEL.store(limits.max_render_fuel, Ordering::Relaxed);
    RENDER_BYTES.store(limits.max_render_bytes, Ordering::Relaxed);
    RENDER_MEMORY.store(limits.max_render_memory, Ordering::Relaxed);
}

/// `run.limits.max_render_memory` of templates and expressions compiled from now on.
pub fn memory_limit() -> u64 {
    RENDER_MEMORY.load(Ordering::Relaxed)
}

/// A fresh environment: strict undefined (a missing variable is an error, not an empty string),
/// no auto-escaping (prompts are plain text, not HTML), and fuel: a bound on the instructions
/// of one render, so a template cannot loop for ever.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_fuel(Some(RENDER_FUEL.load(Ordering::Relaxed)));
    env
}

/// Renders `source` with `ctx`. Undefined variables are errors; the output is bounded.
pub fn render(source: &str, ctx: impl Serialize) -> Result<String, TemplateError> {
    let env = environment();
    let tmpl = env.template_from_str(source)?;
    let bounds = RenderBounds {
        max_bytes: RENDER_BYTES.load(Ordering::Relaxed),
        max_memory: memory_limit(),
    };
    render_bounded(&tmpl, source, ctx, bounds)
}

/// What one render may produce and allocate.
#[derive(Debug, Clone, Copy)]
struct RenderBounds {
    /// `run.limits.max_render_bytes`.
    max_bytes: u64,
    /// `run.limits.max_render_memory`.
    max_memory: u64,
}

/// Renders into a buffer that refuses to grow past `max_bytes`, allocating at most
/// `max_memory` on the way (past it, gauntlet stops: see `render_memory`).
fn render_bounded(
    tmpl: &minijinja::Template<'_, '_>,
    source: &str,
    ctx: impl Serialize,
    bounds: RenderBounds,
) -> Result<String, TemplateError> {
    let max_bytes = bounds.max_bytes;
    let mut out = Bounded {
        buf: Vec::new(),
        max: max_bytes,
        breached: false,
    };
    let rendered = render_memory::within(bounds.max_memory, source, || {
        tmpl.render_captured_to(ctx, &mut out).map(drop)
    });
    match rendered {
        Ok(_) => Ok(String::from_utf8_lossy(&out.buf).into_owned()),
        Err(e) if out.breached => Err(TemplateError {
            message: format!(
                "the rendered text exceeds `run.limits.max_render_bytes` ({})",
                crate::limits::format_size(max_bytes)
            ),
            line: e.line(),
            snippet: None,
        }),
        Err(e) => Err(e.into()),
    }
}

/// A writer that fails once more than `max` bytes were written.
struct Bounded {
    buf: Vec<u8>,
    max: u64,
    breached: bool,
}

impl std::io::Write for Bounded {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if (self.buf.len() + data.len()) as u64 > self.max {
            self.breached = true;
            return Err(std::io::Error::other("render output limit"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A template compiled once, to be rendered for many cases.
pub struct Template {
    source: String,
    /// Holds the one template, under [`Template::NAME`].
    env: Environment<'static>,
    /// The top-level variables the template reads.
    reads: BTreeSet<String>,
    /// `run.limits.max_render_bytes` and `max_render_memory` when it was compiled.
    bounds: RenderBounds,
}

impl Template {
    const NAME: &'static str = "template";

    /// Compiles `source`, returning the syntax error with its line when it does not.
    pub fn compile(source: &str) -> Result<Template, TemplateError> {
        let mut env = environment();
        env.add_template_owned(Self::NAME, source.to_string())?;
        let reads = env
            .get_template(Self::NAME)?
            .undeclared_variables(false)
            .into_iter()
            .collect();
        Ok(Template {
            source: source.to_string(),
            env,
            reads,
            bounds: RenderBounds {
                max_bytes: RENDER_BYTES.load(Ordering::Relaxed),
                max_memory: memory_limit(),
            },
        })
    }

    /// The template as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the template reads the top-level variable `name`. A variable it never names
    /// cannot change its output or make it fail, so a context may leave it out.
    pub fn reads(&self, name: &str) -> bool {
        self.reads.contains(name)
    }

    /// Renders with `ctx`; the same text and errors as [`render`] of the source.
    pub fn render(&self, ctx: impl Serialize) -> Result<String, TemplateError> {
        let tmpl = self.env.get_template(Self::NAME)?;
        render_bounded(&tmpl, &self.source, ctx, self.bounds)
    }

    /// Renders with `ctx` and drops the text: the errors of [`Template::render`], without
    /// building a prompt nobody reads (load-time checks of every case).
    pub fn check(&self, ctx: impl Serialize) -> Result<(), TemplateError> {
        self.render(ctx).map(drop)
    }
}

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Template").field(&self.source).finish()
    }
}

/// A template compiled on first use and shared from then on (clones share it too): for a
/// template that is rendered once per case, such as the harness's system prompt.
#[derive(Debug, Clone, Default)]
pub struct SharedTemplate(Arc<OnceLock<Result<Arc<Template>, TemplateError>>>);

impl SharedTemplate {
    /// The compiled `source`; every call must pass the same source.
    pub fn get(&self, source: &str) -> Result<Arc<Template>, TemplateError> {
        self.0
            .get_or_init(|| Template::compile(source).map(Arc::new))
            .clone()
    }
}

/// A template error: what went wrong and, when minijinja knows, the line in the template.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    pub message: String,
    pub line: Option<usize>,
    /// The template text the error points at (e.g. `answer` in `{{ answer }}`), when known.
    pub snippet: Option<String>,
}

impl From<minijinja::Error> for TemplateError {
    fn from(err: minijinja::Error) -> Self {
        let snippet = err
            .range()
            .zip(err.template_source())
            .and_then(|(range, source)| source.get(range))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        let mut message = err.kind().to_string();
        if let Some(snippet) = &snippet {
            message = format!("{message} `{snippet}`");
        }
        if let Some(detail) = err.detail() {
            message = format!("{message}: {detail}");
        }
        if err.kind() == minijinja::ErrorKind::OutOfFuel {
            message = format!(
                "{message}: the render took more than `run.limits.max_render_fuel` ({}) steps",
                RENDER_FUEL.load(Ordering::Relaxed)
            );
        }
        TemplateError {
            message,
            line: err.line(),
            snippet,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn undefined_variable_is_an_error() {
        let err = render("Hi {{ nme }}", json!({"name": "Ada"})).unwrap_err();
        assert!(err.message.contains("undefined"), "{err:?}");
        assert_eq!(err.snippet.as_deref(), Some("nme"));
        assert_eq!(
            render("Hi {{ name }}", json!({"name": "Ada"})).unwrap(),
            "Hi Ada"
        );
    }

    #[test]
    fn syntax_error_has_a_line() {
        let err = Template::compile("ok\n{% if %}").unwrap_err();
        assert_eq!(err.line, Some(2));
    }

    #[test]
    fn compiled_template_renders_and_fails_like_render() {
        let src = "{% if vars.name is defined %}Hi {{ vars.name }}{% endif %} {{ nme }}";
        let t = Template::compile(src).unwrap();
        assert!(t.reads("vars") && t.reads("nme") && !t.reads("name"));
        let ctx = json!({"vars": {"name": "Ada"}, "nme": "!"});
        assert_eq!(t.render(&ctx).unwrap(), render(src, &ctx).unwrap());
        let ctx = json!({"vars": {}});
        assert_eq!(t.render(&ctx).unwrap_err(), render(src, &ctx).unwrap_err());
        assert_eq!(t.check(&ctx).unwrap_err(), render(src, &ctx).unwrap_err());
        let syntax = Template::compile("ok\n{% if %}").unwrap_err();
        assert_eq!(syntax, render("ok\n{% if %}", &ctx).unwrap_err());
    }

    #[test]
    fn endless_loops_run_out_of_fuel_and_big_outputs_are_cut() {
        let started = std::time::Instant::now();
        let err = render(
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            json!({}),
        )
        .unwrap_err();
        assert!(err.message.contains("fuel"), "{err:?}");
        assert!(started.elapsed() < std::time::Duration::from_secs(60));
        let err = render(
            "{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}",
            json!({}),
        )
        .unwrap_err();
        assert!(err.message.contains("max_render_bytes"), "{err:?}");
        let t =
            Template::compile("{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}").unwrap();
        assert!(t
            .render(json!({}))
            .unwrap_err()
            .message
            .contains("max_render_bytes"));
    }

    #[test]
    fn output_is_not_html_escaped() {
        assert_eq!(render("{{ x }}", json!({"x": "<b>&"})).unwrap(), "<b>&");
    }
}
