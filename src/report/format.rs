//! `pct`, `score` and `p_value`: how numbers read in the human-facing renderers, kept in one
//! place so the terminal, summary.md, index.html, junit.xml and results.csv agree.

use crate::gate::{GateRule, Unit};

/// A rate as a percentage with one decimal: `0.4` → `40.0%`.
pub(crate) fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// A score as stored (already rounded to four places), always with a decimal point so `1.0`
/// and `0.5167` read as the same kind of number.
pub(crate) fn score(x: f64) -> String {
    format!("{x:?}")
}

/// Below this a p-value reads `p < 0.0001`: the stored value is rounded to four places, so a
/// tiny p would otherwise print as the impossible `p = 0`.
const P_FLOOR: f64 = 0.0001;

/// A p-value with its relation: `p = 0.0312`, `p = 1`, `p < 0.0001`. Plain text: HTML escapes
/// the `<` itself.
pub(crate) fn p_value(p: f64) -> String {
    if p.is_nan() {
        return "p = –".to_string();
    }
    if p < P_FLOOR {
        return format!("p < {P_FLOOR}");
    }
    let fixed = format!("{p:.4}");
    let trimmed = fixed.trim_end_matches('0').trim_end_matches('.');
    format!("p = {trimmed}")
}

/// Where an agent's error quotes its stderr (`agent::command`): `…; stderr: TEXT`.
const STDERR_MARK: &str = "stderr: ";

/// An agent's error on one line of at most `max` characters, keeping what explains it: the
/// start of the message and the *end* of any stderr it quotes (where a crash says why; the
/// first characters of a traceback only say that there is one).
pub(crate) fn error_line(error: &str, max: usize) -> String {
    let line = error.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max {
        return line;
    }
    match line.split_once(STDERR_MARK) {
        Some((head, stderr)) => {
            // The message before the stderr gets at most half; the tail the rest, less the
            // `…` that `tail` puts before it.
            let head = crate::text::truncate(head, max / 2);
            let room = max
                .saturating_sub(head.chars().count() + STDERR_MARK.len() + 1)
                .max(1);
            format!("{head}{STDERR_MARK}{}", crate::text::tail(stderr, room))
        }
        None => crate::text::truncate(&line, max),
    }
}

/// A gate rule's limit or actual value: rates as percentages, counts as whole numbers.
pub(crate) fn rule_value(rule: &GateRule, x: f64) -> String {
    match rule.rule.unit() {
        Unit::Rate => pct(x),
        Unit::Count => format!("{x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let table = [
            (0.0, "0.0%", "0.0"),
            (0.4, "40.0%", "0.4"),
            (1.0, "100.0%", "1.0"),
        ];
        for (x, p, s) in table {
            assert_eq!(pct(x), p);
            assert_eq!(score(x), s);
        }
        assert_eq!(score(0.5167), "0.5167");
        assert_eq!(pct(0.6667), "66.7%");
    }

    #[test]
    fn an_error_line_keeps_the_end_of_the_stderr() {
        let crash = "the agent exited with code 1; stderr: Traceback (most recent call last):\n  \
                     File \"agent.py\", line 3, in <module>\n    main()\nKeyError: 'OPENAI_API_KEY'";
        let line = error_line(crash, 80);
        assert!(line.chars().count() <= 80, "{line}");
        assert!(
            line.starts_with("the agent exited with code 1; stderr: …"),
            "{line}"
        );
        assert!(line.ends_with("KeyError: 'OPENAI_API_KEY'"), "{line}");
        assert!(!line.contains('\n'));
        assert_eq!(error_line("short\nerror", 80), "short error");
        let long = "x".repeat(100);
        assert_eq!(error_line(&long, 10), format!("{}…", "x".repeat(9)));
    }

    #[test]
    fn p_values_never_read_zero() {
        let table = [
            (0.0, "p < 0.0001"),
            (0.00004, "p < 0.0001"),
            (0.0001, "p = 0.0001"),
            (0.0312, "p = 0.0312"),
            (0.5, "p = 0.5"),
            (1.0, "p = 1"),
            (f64::NAN, "p = –"),
        ];
        for (p, want) in table {
            assert_eq!(p_value(p), want, "{p}");
        }
    }
}
