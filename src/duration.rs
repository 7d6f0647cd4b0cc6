//! Human durations as written in suites and on the command line: `500ms`, `60s`, `2m`, `1h`.

use std::time::{Duration, Instant};

/// The longest duration gauntlet accepts or waits: 100 years. Anything from a file, the command
/// line or the network beyond it is refused (or, from a server, saturates here), so no later
/// addition to a clock can overflow.
pub(crate) const MAX_DURATION: Duration = Duration::from_secs(100 * 365 * 86_400);

/// Why a text is not a duration.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum DurationError {
    #[error("invalid duration `{0}` (expected e.g. `500ms`, `60s`, `2m`)")]
    Number(String),
    #[error("invalid duration unit `{unit}` in `{text}` (expected ms, s, m or h)")]
    Unit { unit: String, text: String },
    #[error("duration `{0}` must be positive")]
    NotPositive(String),
    #[error("duration `{0}` is longer than 100 years (hint: leave the setting out for no limit)")]
    TooLong(String),
}

/// Parses `<number><unit>` with unit `ms`, `s`, `m` or `h`; a bare number is seconds.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| DurationError::Number(text.to_string()))?;
    let secs = match unit.trim() {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        other => {
            return Err(DurationError::Unit {
                unit: other.to_string(),
                text: text.to_string(),
            })
        }
    };
    if secs <= 0.0 || secs.is_nan() {
        return Err(DurationError::NotPositive(text.to_string()));
    }
    match Duration::try_from_secs_f64(secs) {
        Ok(d) if d <= MAX_DURATION => Ok(d),
        _ => Err(DurationError::TooLong(text.to_string())),
    }
}

/// `at + d`, or the latest instant the clock can hold near it when that overflows: a deadline
/// far enough away is "never" either way.
pub(crate) fn saturating_add(at: Instant, d: Duration) -> Instant {
    let mut step = d;
    loop {
        if let Some(t) = at.checked_add(step) {
            return t;
        }
        if step.is_zero() {
            return at;
        }
        step /= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_rejects_garbage() {
        let table = [
            ("500ms", Some(Duration::from_millis(500))),
            ("60s", Some(Duration::from_secs(60))),
            ("2m", Some(Duration::from_secs(120))),
            ("1h", Some(Duration::from_secs(3600))),
            ("1.5", Some(Duration::from_millis(1500))),
            ("10 parsecs", None),
            ("", None),
            ("0s", None),
        ];
        for (text, want) in table {
            assert_eq!(parse_duration(text).ok(), want, "{text}");
        }
    }

    #[test]
    fn absurd_durations_are_refused_with_a_message() {
        for text in ["876001h", "99999999999999999999999s", "1e400", "nan"] {
            let e = parse_duration(text).unwrap_err().to_string();
            assert!(
                e.contains("100 years") || e.contains("invalid") || e.contains("positive"),
                "{text}: {e}"
            );
        }
        assert!(parse_duration("99999999999999999999999s")
            .unwrap_err()
            .to_string()
            .contains("longer than 100 years"));
        assert_eq!(
            parse_duration("876000h"),
            Ok(MAX_DURATION),
            "exactly 100 years is allowed"
        );
    }

    #[test]
    fn saturating_add_never_panics() {
        let now = Instant::now();
        assert_eq!(
            saturating_add(now, Duration::from_secs(1)),
            now + Duration::from_secs(1)
        );
        assert!(saturating_add(now, Duration::MAX) > now);
    }
}
