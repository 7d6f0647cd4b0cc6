//! `Limits`: the most gauntlet reads or renders from anything it does not control — provider
//! and agent replies, a command's stdout and stderr, files at load, YAML nesting, templates.
//! A breach is an error that names the limit (an errored run, or exit 2 at load), never
//! unbounded memory. Every limit has a default and can be set in the suite's `run.limits`.

use serde::Deserialize;
use serde_json::Value;

/// The limits of one suite's run. Sizes in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A model provider's response body (agent, judge and simulated-user calls).
    pub max_response_bytes: u64,
    /// An `http` agent's reply body, or a `command` agent's stdout (per case, or per line of a
    /// persistent agent); also `http`/`command` custom tools and `command` checks.
    pub max_output_bytes: u64,
    /// What is read of a command's stderr: the rest is drained and dropped; the tail is kept.
    pub max_stderr_bytes: u64,
    /// Any file read at load (suite, dataset, judge, mock rules, world, system prompt,
    /// baseline, replay trajectories). Only regular files are read.
    pub max_file_bytes: u64,
    /// Nesting depth of a YAML or JSON document read at load.
    pub max_depth: u32,
    /// Output of one template render (system prompt, judge prompt, expr check).
    pub max_render_bytes: u64,
    /// Memory one template render (or expression) may allocate on the way to its output: the
    /// strings and lists it builds (`src/render_memory.rs`).
    pub max_render_memory: u64,
    /// minijinja fuel of one template render: a bound on instructions, so a render cannot
    /// loop for ever.
    pub max_render_fuel: u64,
}

impl Limits {
    /// The defaults, as a constant: for what is read before (or without) a suite.
    pub const DEFAULT: Limits = Limits {
        max_response_bytes: 16 * MIB,
        max_output_bytes: 16 * MIB,
        max_stderr_bytes: 64 * KIB,
        max_file_bytes: 256 * MIB,
        max_depth: 128,
        max_render_bytes: MIB,
        max_render_memory: 128 * MIB,
        max_render_fuel: 50_000_000,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;

/// `run.limits` as written: every field optional; sizes as a number of bytes or a string with
/// a unit (`512KiB`, `16MiB`, `1GiB`, `10MB`).
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    #[serde(default)]
    pub max_response_bytes: Option<Value>,
    #[serde(default)]
    pub max_output_bytes: Option<Value>,
    #[serde(default)]
    pub max_stderr_bytes: Option<Value>,
    #[serde(default)]
    pub max_file_bytes: Option<Value>,
    #[serde(default)]
    pub max_depth: Option<u32>,
    #[serde(default)]
    pub max_render_bytes: Option<Value>,
    #[serde(default)]
    pub max_render_memory: Option<Value>,
    #[serde(default)]
    pub max_render_fuel: Option<u64>,
}

/// A limit that was not a valid size or count, with the key it was written under.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("`run.limits.{key}`: {problem}")]
pub struct LimitError {
    pub key: &'static str,
    pub problem: SizeError,
}

impl RawLimits {
    /// The validated limits: defaults where nothing is written; every invalid entry reported.
    pub fn resolve(&self) -> Result<Limits, Vec<LimitError>> {
        let mut limits = Limits::default();
        let mut errors = Vec::new();
        let sizes: [(&'static str, &Option<Value>, &mut u64); 6] = [
            (
                "max_response_bytes",
                &self.max_response_bytes,
                &mut limits.max_response_bytes,
            ),
            (
                "max_output_bytes",
                &self.max_output_bytes,
                &mut limits.max_output_bytes,
            ),
            (
                "max_stderr_bytes",
                &self.max_stderr_bytes,
                &mut limits.max_stderr_bytes,
            ),
            (
                "max_file_bytes",
                &self.max_file_bytes,
                &mut limits.max_file_bytes,
            ),
            (
                "max_render_bytes",
                &self.max_render_bytes,
                &mut limits.max_render_bytes,
            ),
            (
                "max_render_memory",
                &self.max_render_memory,
                &mut limits.max_render_memory,
            ),
        ];
        for (key, raw, slot) in sizes {
            if let Some(v) = raw {
                match parse_size(v) {
                    Ok(n) => *slot = n,
                    Err(problem) => errors.push(LimitError { key, problem }),
                }
            }
        }
        for (key, value) in [
            ("max_depth", self.max_depth.map(u64::from)),
            ("max_render_fuel", self.max_render_fuel),
        ] {
            if value == Some(0) {
                errors.push(LimitError {
                    key,
                    problem: SizeError::ZeroCount,
                });
            }
        }
        if let Some(d) = self.max_depth.filter(|&d| d > 0) {
            limits.max_depth = d;
        }
        if let Some(f) = self.max_render_fuel.filter(|&f| f > 0) {
            limits.max_render_fuel = f;
        }
        if errors.is_empty() {
            Ok(limits)
        } else {
            Err(errors)
        }
    }
}

/// A size: a whole number of bytes, or a string `<number><unit>` with unit `B`, `KB`, `MB`,
/// `GB` (powers of 1000) or `KiB`, `MiB`, `GiB` (powers of 1024). Zero is refused: a limit of
/// nothing would error every run.
pub fn parse_size(value: &Value) -> Result<u64, SizeError> {
    let bytes = match value {
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| SizeError::NotWhole(n.to_string()))?,
        Value::String(s) => parse_size_text(s)?,
        other => return Err(SizeError::NotASize(other.to_string())),
    };
    if bytes == 0 {
        return Err(SizeError::Zero);
    }
    Ok(bytes)
}

/// Why a value is not a size.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SizeError {
    #[error("expected a whole number of bytes, found `{0}`")]
    NotWhole(String),
    #[error("expected a size such as `16MiB`, found `{0}`")]
    NotASize(String),
    #[error("must be at least 1 byte")]
    Zero,
    #[error("must be at least 1")]
    ZeroCount,
    #[error("invalid size `{0}` (expected e.g. `512KiB`, `16MiB`)")]
    Number(String),
    #[error("invalid size unit `{unit}` in `{text}` (expected B, KB, MB, GB, KiB, MiB or GiB)")]
    Unit { unit: String, text: String },
    #[error("size `{0}` is too large")]
    TooLarge(String),
}

fn parse_size_text(text: &str) -> Result<u64, SizeError> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| SizeError::Number(text.to_string()))?;
    let scale = match unit.trim() {
        "" | "B" => 1,
        "KB" => 1000,
        "MB" => 1000 * 1000,
        "GB" => 1000 * 1000 * 1000,
        "KiB" => KIB,
        "MiB" => MIB,
        "GiB" => GIB,
        other => {
            return Err(SizeError::Unit {
                unit: other.to_string(),
                text: text.to_string(),
            })
        }
    };
    n.checked_mul(scale)
        .ok_or_else(|| SizeError::TooLarge(text.to_string()))
}

/// A human form of a byte count for messages: `16 MiB`, `64 KiB`, `1000 bytes`.
pub fn format_size(bytes: u64) -> String {
    for (unit, scale) in [("GiB", GIB), ("MiB", MIB), ("KiB", KIB)] {
        if bytes >= scale && bytes % scale == 0 {
            return format!("{} {unit}", bytes / scale);
        }
    }
    format!("{bytes} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sizes_parse_with_units_and_refuse_garbage() {
        let table = [
            (json!(1000), Ok(1000)),
            (json!("512KiB"), Ok(512 * 1024)),
            (json!("16MiB"), Ok(16 * 1024 * 1024)),
            (json!("10MB"), Ok(10_000_000)),
            (json!("1 GiB"), Ok(1 << 30)),
            (json!("7B"), Ok(7)),
        ];
        for (input, want) in table {
            assert_eq!(parse_size(&input), want, "{input}");
        }
        for bad in [
            json!(0),
            json!(-1),
            json!(1.5),
            json!("12 parsecs"),
            json!("MiB"),
            json!("99999999999999999999GiB"),
            json!([1]),
        ] {
            assert!(parse_size(&bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn resolve_keeps_defaults_and_reports_every_bad_key() {
        assert_eq!(RawLimits::default().resolve(), Ok(Limits::default()));
        let raw = RawLimits {
            max_output_bytes: Some(json!("1KiB")),
            max_depth: Some(16),
            ..RawLimits::default()
        };
        let got = raw.resolve().unwrap();
        assert_eq!(got.max_output_bytes, 1024);
        assert_eq!(got.max_depth, 16);
        assert_eq!(got.max_response_bytes, Limits::default().max_response_bytes);

        let bad = RawLimits {
            max_file_bytes: Some(json!("lots")),
            max_depth: Some(0),
            ..RawLimits::default()
        };
        let keys: Vec<_> = bad.resolve().unwrap_err().iter().map(|e| e.key).collect();
        assert_eq!(keys, ["max_file_bytes", "max_depth"]);
    }

    #[test]
    fn sizes_print_in_their_largest_whole_unit() {
        assert_eq!(format_size(16 * MIB), "16 MiB");
        assert_eq!(format_size(64 * KIB), "64 KiB");
        assert_eq!(format_size(1000), "1000 bytes");
    }
}
