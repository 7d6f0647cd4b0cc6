//! `PriceTable`: USD per million input and output tokens by `provider:model`, and the cost of
//! one model call. Built-in defaults for common hosted models; a suite's `pricing:` overrides
//! or extends them. A model with no price costs `None` (not zero): the report then says
//! nothing about cost instead of claiming it was free.

use std::collections::BTreeMap;

use crate::trajectory::Usage;

/// USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Price {
    pub input: f64,
    pub output: f64,
}

/// List prices (USD per million tokens) at the time of writing; override in the suite when
/// they change or for a negotiated rate.
const DEFAULTS: &[(&str, f64, f64)] = &[
    ("openai:gpt-4o", 2.5, 10.0),
    ("openai:gpt-4o-mini", 0.15, 0.6),
    ("openai:gpt-4.1", 2.0, 8.0),
    ("openai:gpt-4.1-mini", 0.4, 1.6),
    ("openai:gpt-4.1-nano", 0.1, 0.4),
    ("openai:o3", 2.0, 8.0),
    ("openai:o4-mini", 1.1, 4.4),
    ("anthropic:claude-opus-4-1", 15.0, 75.0),
    ("anthropic:claude-sonnet-4-5", 3.0, 15.0),
    ("anthropic:claude-sonnet-4-0", 3.0, 15.0),
    ("anthropic:claude-3-5-haiku-latest", 0.8, 4.0),
    ("anthropic:claude-haiku-4-5", 1.0, 5.0),
];

#[derive(Debug, Clone, PartialEq)]
pub struct PriceTable {
    prices: BTreeMap<String, Price>,
}

impl Default for PriceTable {
    fn default() -> Self {
        PriceTable {
            prices: DEFAULTS
                .iter()
                .map(|(m, i, o)| {
                    (
                        m.to_string(),
                        Price {
                            input: *i,
                            output: *o,
                        },
                    )
                })
                .collect(),
        }
    }
}

impl PriceTable {
    /// The defaults with `overrides` on top.
    pub(crate) fn with(overrides: impl IntoIterator<Item = (String, Price)>) -> Self {
        let mut table = PriceTable::default();
        table.prices.extend(overrides);
        table
    }

    /// The price of `model` (`provider:model`). The answering model may carry a dated suffix
    /// (`gpt-4o-mini-2024-07-18`), so the longest priced prefix wins.
    pub(crate) fn price(&self, model: &str) -> Option<Price> {
        if let Some(p) = self.prices.get(model) {
            return Some(*p);
        }
        self.prices
            .iter()
            .filter(|(k, _)| model.starts_with(k.as_str()))
            .max_by_key(|(k, _)| k.len())
            .map(|(_, p)| *p)
    }

    /// The price of a model as an external agent names it: `provider:model`, or the bare
    /// model (`gpt-4o-mini`, `claude-sonnet-4-5-20250929`) as SDKs and OpenTelemetry spans
    /// report it, matched against every provider's entries (the longest priced prefix wins).
    pub(crate) fn price_any_provider(&self, model: &str) -> Option<Price> {
        if model.contains(':') {
            return self.price(model);
        }
        self.prices
            .iter()
            .filter_map(|(k, p)| Some((k.split_once(':')?.1, p)))
            .filter(|(bare, _)| model.starts_with(bare))
            .max_by_key(|(bare, _)| bare.len())
            .map(|(_, p)| *p)
    }

    /// USD for one call of an external agent's model ([`Self::price_any_provider`]).
    pub(crate) fn cost_any_provider(&self, model: &str, usage: Usage) -> Option<f64> {
        self.price_any_provider(model).map(|p| usd(p, usage))
    }

    /// USD for one call's usage, rounded to 1e-9 so sums stay reproducible.
    pub(crate) fn cost(&self, model: &str, usage: Usage) -> Option<f64> {
        self.price(model).map(|p| usd(p, usage))
    }
}

fn usd(p: Price, usage: Usage) -> f64 {
    round_usd(
        (usage.input_tokens as f64 * p.input + usage.output_tokens as f64 * p.output) / 1_000_000.0,
    )
}

/// Rounds to a nano-dollar: float sums of many small costs then compare and print stably.
pub(crate) fn round_usd(usd: f64) -> f64 {
    (usd * 1e9).round() / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(i: u64, o: u64) -> Usage {
        Usage {
            input_tokens: i,
            output_tokens: o,
        }
    }

    #[test]
    fn defaults_price_common_models_and_mock_is_unpriced() {
        let t = PriceTable::default();
        assert_eq!(
            t.cost("openai:gpt-4o-mini", usage(1_000_000, 1_000_000)),
            Some(0.75)
        );
        assert_eq!(t.cost("mock:support", usage(10, 10)), None);
    }

    #[test]
    fn overrides_win_and_dated_names_use_the_longest_prefix() {
        let t = PriceTable::with([(
            "openai:gpt-4o".to_string(),
            Price {
                input: 1.0,
                output: 1.0,
            },
        )]);
        assert_eq!(t.cost("openai:gpt-4o", usage(500_000, 500_000)), Some(1.0));
        // `gpt-4o-mini-2024-07-18` is a gpt-4o-mini, not a gpt-4o.
        assert_eq!(
            t.cost("openai:gpt-4o-mini-2024-07-18", usage(1_000_000, 0)),
            Some(0.15)
        );
    }

    #[test]
    fn an_external_agents_bare_model_names_are_priced_across_providers() {
        let t = PriceTable::default();
        assert_eq!(
            t.cost_any_provider("gpt-4o-mini-2024-07-18", usage(1_000_000, 0)),
            Some(0.15)
        );
        assert_eq!(
            t.cost_any_provider("claude-sonnet-4-5-20250929", usage(0, 1_000_000)),
            Some(15.0)
        );
        assert_eq!(
            t.cost_any_provider("openai:gpt-4o", usage(1_000_000, 0)),
            Some(2.5)
        );
        assert_eq!(t.cost_any_provider("my-local-llama", usage(10, 10)), None);
    }
}
