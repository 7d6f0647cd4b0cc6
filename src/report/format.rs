//! `pct` and `score`: how numbers read in the human-facing renderers, kept in one place so the
//! terminal, summary.md, junit.xml and results.csv agree.

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
}
