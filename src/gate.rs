//! `Gate`: the suite's CI policy, and the verdict it gives on a run (`GateResult`), which
//! decides the exit code.
//!
//! The gate owns its whole verdict: the rate limits, the critical cases, the baseline's
//! regressions, the quarantine of flaky cases and the uncalibrated judges are all decided here,
//! for a run and for merged shards alike, and nothing changes a verdict once it is given.
//! Each rule is a `RuleKind` that knows its name, direction and unit, so no renderer has to
//! guess them from the name.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::verdict::{rate, CaseStatus, DEFAULT_ALPHA};

/// The gate a suite configures (`gate:`), validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Gate {
    pub min_pass_rate: Option<f64>,
    pub max_soft_fail_rate: Option<f64>,
    pub max_error_rate: Option<f64>,
    /// Tags or case ids: any failure there fails the gate.
    pub critical: Vec<String>,
    /// With a baseline: at most this many regressions.
    pub max_regressions: Option<u64>,
    /// Significance level for regressions of repeated cases.
    pub alpha: f64,
    /// Flaky cases are reported but not gated.
    pub quarantine_flaky: bool,
    /// With `--history`: at most this many drift alerts (no rule when unset).
    pub max_drift: Option<u64>,
}

/// The error-rate limit a gate has unless the suite writes `max_error_rate: null`: a run where
/// more than one case in ten could not be judged says nothing about quality, and must not pass
/// silently (an agent crashing on every case would otherwise pass a regressions-only gate).
pub(crate) const DEFAULT_MAX_ERROR_RATE: f64 = 0.1;

impl Default for Gate {
    fn default() -> Self {
        Gate {
            min_pass_rate: None,
            max_soft_fail_rate: None,
            max_error_rate: None,
            critical: Vec::new(),
            max_regressions: None,
            alpha: DEFAULT_ALPHA,
            quarantine_flaky: false,
            max_drift: None,
        }
    }
}

/// Every rule a gate can hold, in the order a verdict lists them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    MinPassRate,
    MaxSoftFailRate,
    MaxErrorRate,
    /// Regressions plus lost cases against the baseline.
    MaxRegressions,
    /// Drift alerts over the run history (`drift`).
    MaxDrift,
}

/// Which side of its limit a rule's value must stay on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The value must be at least the limit.
    AtLeast,
    /// The value must be at most the limit.
    AtMost,
}

/// What a rule's limit and value count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A fraction of the cases, 0..1.
    Rate,
    /// A number of cases.
    Count,
}

impl RuleKind {
    /// The name the suite and `report.json` use.
    pub(crate) fn name(self) -> &'static str {
        match self {
            RuleKind::MinPassRate => "min_pass_rate",
            RuleKind::MaxSoftFailRate => "max_soft_fail_rate",
            RuleKind::MaxErrorRate => "max_error_rate",
            RuleKind::MaxRegressions => "max_regressions",
            RuleKind::MaxDrift => "max_drift",
        }
    }

    pub(crate) fn direction(self) -> Direction {
        match self {
            RuleKind::MinPassRate => Direction::AtLeast,
            RuleKind::MaxSoftFailRate
            | RuleKind::MaxErrorRate
            | RuleKind::MaxRegressions
            | RuleKind::MaxDrift => Direction::AtMost,
        }
    }

    /// Whether a case of this status counts towards a rate rule's share of the cases.
    fn counts(self, status: CaseStatus) -> bool {
        match self {
            RuleKind::MinPassRate => status.is_pass(),
            RuleKind::MaxSoftFailRate => status == CaseStatus::SoftFailed,
            RuleKind::MaxErrorRate => status == CaseStatus::Errored,
            RuleKind::MaxRegressions | RuleKind::MaxDrift => false,
        }
    }

    pub(crate) fn unit(self) -> Unit {
        match self {
            RuleKind::MinPassRate | RuleKind::MaxSoftFailRate | RuleKind::MaxErrorRate => {
                Unit::Rate
            }
            RuleKind::MaxRegressions | RuleKind::MaxDrift => Unit::Count,
        }
    }
}

impl Direction {
    /// Limits are inclusive: a value equal to its limit holds.
    pub(crate) fn holds(self, actual: f64, limit: f64) -> bool {
        match self {
            Direction::AtLeast => actual >= limit,
            Direction::AtMost => actual <= limit,
        }
    }

    /// How the limit reads beside a value that holds: `≥` or `≤`.
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            Direction::AtLeast => "≥",
            Direction::AtMost => "≤",
        }
    }

    /// How a value that broke its limit compares to it: `<` or `>`.
    pub(crate) fn broken_symbol(self) -> &'static str {
        match self {
            Direction::AtLeast => "<",
            Direction::AtMost => ">",
        }
    }
}

/// The gate's verdict, as `report.json` records it (`gate`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GateResult {
    pub passed: bool,
    /// Every configured rule with its limit and the actual value, in `RuleKind` order.
    pub rules: Vec<GateRule>,
    /// Ids of failed (or errored) cases that are critical by tag or id.
    pub critical_failures: Vec<String>,
    /// Flaky cases left out of the gated rates (`gate.quarantine_flaky`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quarantined: Vec<String>,
    /// Judges below their suite's calibration requirement: their verdicts only warned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uncalibrated: Vec<String>,
    /// The suite's `max_drift`, kept when no run history judged it (a run without
    /// `--history`, such as a shard): `gauntlet merge --history` judges the merged run by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_drift: Option<u64>,
}

impl GateResult {
    /// Judges the kept `max_drift` by the drift alerts the run history raised; nothing when
    /// the suite sets no `max_drift`.
    fn judge_drift(&mut self, alerts: usize) {
        if let Some(limit) = self.max_drift.take() {
            self.rules.push(GateRule::judge(
                RuleKind::MaxDrift,
                limit as f64,
                alerts as f64,
            ));
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GateRule {
    pub rule: RuleKind,
    pub limit: f64,
    pub actual: f64,
    pub passed: bool,
}

impl GateRule {
    fn judge(rule: RuleKind, limit: f64, actual: f64) -> GateRule {
        GateRule {
            rule,
            limit,
            actual,
            passed: rule.direction().holds(actual, limit),
        }
    }
}

/// What the gate reads of a case (a reduced case of the run).
pub trait GatedCase {
    fn id(&self) -> &str;
    fn tags(&self) -> &[String];
    fn status(&self) -> CaseStatus;
}

/// Whose gate decides: the suite's, on a run, or the one the shards of a run carried.
#[derive(Debug, Clone)]
pub enum Policy<'a> {
    /// A run of the suite; `uncalibrated` are the judges that fell short of calibration.
    Suite {
        gate: &'a Gate,
        uncalibrated: Vec<String>,
    },
    /// Shards of one run being merged: their verdicts hold the suite's limits.
    Shards(Vec<GateResult>),
}

impl Policy<'_> {
    /// The verdict on `cases` (the run's cases, reduced over repeats). `baseline_losses` is
    /// what the baseline comparison counts against `max_regressions`
    /// (`Comparison::gated_losses`); `None` without a baseline.
    #[cfg(test)]
    pub(crate) fn verdict<C: GatedCase>(
        self,
        cases: &[C],
        baseline_losses: Option<usize>,
    ) -> GateResult {
        self.verdict_with_drift(cases, baseline_losses, None)
    }

    /// `verdict`, with the number of drift alerts the run history raised (`None` without a
    /// history): `max_drift` judges it when the suite sets it (merged shards carry it).
    pub(crate) fn verdict_with_drift<C: GatedCase>(
        self,
        cases: &[C],
        baseline_losses: Option<usize>,
        drift_alerts: Option<usize>,
    ) -> GateResult {
        let mut result = match self {
            Policy::Suite { gate, uncalibrated } => {
                let critical = critical_failures(&gate.critical, cases);
                let mut r = judge(gate, cases, critical, baseline_losses, uncalibrated);
                r.max_drift = gate.max_drift;
                r
            }
            Policy::Shards(shards) => merged(&shards, cases, baseline_losses),
        };
        if let Some(alerts) = drift_alerts {
            result.judge_drift(alerts);
        }
        result.passed =
            result.rules.iter().all(|r| r.passed) && result.critical_failures.is_empty();
        result
    }
}

/// Applies every configured limit, in `RuleKind` order; the critical failures; and, with a
/// baseline, the regressions rule.
///
/// Rates are rounded as the summary rounds them, so the verdict matches the numbers a reader
/// sees in the report. An empty run has a pass rate of 0 and fails any `min_pass_rate` above
/// 0: a gate should not pass on nothing. Without `max_regressions`, any regression fails the
/// gate (a quality gate that lets a pass → fail flip through unnoticed is no gate); lost cases
/// (passed there, errored here) count like regressions: an agent that crashes must not pass
/// for having failed nothing.
fn judge<C: GatedCase>(
    gate: &Gate,
    cases: &[C],
    critical_failures: Vec<String>,
    baseline_losses: Option<usize>,
    uncalibrated: Vec<String>,
) -> GateResult {
    // Quarantined flaky cases are reported but left out of the rates the gate judges.
    let quarantined: Vec<String> = if gate.quarantine_flaky {
        cases
            .iter()
            .filter(|c| c.status() == CaseStatus::Flaky)
            .map(|c| c.id().to_string())
            .collect()
    } else {
        Vec::new()
    };
    let gated: Vec<CaseStatus> = cases
        .iter()
        .map(GatedCase::status)
        .filter(|s| quarantined.is_empty() || *s != CaseStatus::Flaky)
        .collect();
    let share = |rule: RuleKind| {
        let counted = gated.iter().filter(|s| rule.counts(**s)).count();
        rate(counted, gated.len())
    };
    let limits = [
        (RuleKind::MinPassRate, gate.min_pass_rate),
        (RuleKind::MaxSoftFailRate, gate.max_soft_fail_rate),
        (RuleKind::MaxErrorRate, gate.max_error_rate),
    ];
    let mut rules: Vec<GateRule> = limits
        .into_iter()
        .filter_map(|(rule, limit)| Some(GateRule::judge(rule, limit?, share(rule))))
        .collect();
    if let Some(losses) = baseline_losses {
        let limit = gate.max_regressions.unwrap_or(0);
        rules.push(GateRule::judge(
            RuleKind::MaxRegressions,
            limit as f64,
            losses as f64,
        ));
    }
    GateResult {
        passed: rules.iter().all(|r| r.passed) && critical_failures.is_empty(),
        rules,
        critical_failures,
        quarantined,
        uncalibrated,
        max_drift: None,
    }
}

/// Failed or errored cases matching a critical tag or id, sorted, each once.
fn critical_failures<C: GatedCase>(critical: &[String], cases: &[C]) -> Vec<String> {
    cases
        .iter()
        .filter(|c| matches!(c.status(), CaseStatus::Failed | CaseStatus::Errored))
        .filter(|c| {
            critical
                .iter()
                .any(|k| k == c.id() || c.tags().iter().any(|t| t == k))
        })
        .map(|c| c.id().to_string())
        .collect::<BTreeSet<String>>()
        .into_iter()
        .collect()
}

/// The gate of merged shards. The limits are the suite's, the same in every shard, read back
/// from their rules. Critical tags are not in a report, but whether a case is a critical
/// failure is, and each case is in one shard: those are joined as they are, like the
/// uncalibrated judges. Quarantine shows only where it mattered: in a shard that had flaky
/// cases. The regressions rule applies when the shards had one (they had a baseline).
fn merged<C: GatedCase>(
    shards: &[GateResult],
    cases: &[C],
    baseline_losses: Option<usize>,
) -> GateResult {
    let limit = |kind: RuleKind| {
        shards
            .iter()
            .flat_map(|g| g.rules.iter())
            .find(|r| r.rule == kind)
            .map(|r| r.limit)
    };
    let gate = Gate {
        quarantine_flaky: shards.iter().any(|g| !g.quarantined.is_empty()),
        min_pass_rate: limit(RuleKind::MinPassRate),
        max_soft_fail_rate: limit(RuleKind::MaxSoftFailRate),
        max_error_rate: limit(RuleKind::MaxErrorRate),
        max_regressions: limit(RuleKind::MaxRegressions).map(|l| l as u64),
        ..Gate::default()
    };
    let joined = |f: fn(&GateResult) -> &Vec<String>| -> Vec<String> {
        shards
            .iter()
            .flat_map(|g| f(g).iter().cloned())
            .collect::<BTreeSet<String>>()
            .into_iter()
            .collect()
    };
    let critical = joined(|g| &g.critical_failures);
    let uncalibrated = joined(|g| &g.uncalibrated);
    let losses = baseline_losses.filter(|_| gate.max_regressions.is_some());
    let mut result = judge(&gate, cases, critical, losses, uncalibrated);
    // A shard recorded in no history kept its suite's `max_drift`; `merge --history` judges it.
    result.max_drift = shards.iter().find_map(|g| g.max_drift);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Case {
        id: String,
        tags: Vec<String>,
        status: CaseStatus,
    }

    impl GatedCase for Case {
        fn id(&self) -> &str {
            &self.id
        }
        fn tags(&self) -> &[String] {
            &self.tags
        }
        fn status(&self) -> CaseStatus {
            self.status
        }
    }

    fn case(id: &str, status: CaseStatus, tags: &[&str]) -> Case {
        Case {
            id: id.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            status,
        }
    }

    /// `n` cases per status, in the order passed, soft-failed, errored, failed.
    fn cases(passed: usize, soft: usize, errored: usize, failed: usize) -> Vec<Case> {
        let mut out = Vec::new();
        for (n, status) in [
            (passed, CaseStatus::Passed),
            (soft, CaseStatus::SoftFailed),
            (errored, CaseStatus::Errored),
            (failed, CaseStatus::Failed),
        ] {
            for i in 0..n {
                out.push(case(&format!("{}-{i}", status.as_str()), status, &[]));
            }
        }
        out
    }

    fn rule(kind: RuleKind, limit: f64, actual: f64, passed: bool) -> GateRule {
        GateRule {
            rule: kind,
            limit,
            actual,
            passed,
        }
    }

    fn suite(gate: &Gate) -> Policy<'_> {
        Policy::Suite {
            gate,
            uncalibrated: vec![],
        }
    }

    #[test]
    fn rule_kinds_know_their_name_direction_and_unit() {
        use RuleKind::*;
        let table = [
            (MinPassRate, "min_pass_rate", Direction::AtLeast, Unit::Rate),
            (
                MaxSoftFailRate,
                "max_soft_fail_rate",
                Direction::AtMost,
                Unit::Rate,
            ),
            (
                MaxErrorRate,
                "max_error_rate",
                Direction::AtMost,
                Unit::Rate,
            ),
            (
                MaxRegressions,
                "max_regressions",
                Direction::AtMost,
                Unit::Count,
            ),
        ];
        for (kind, name, direction, unit) in table {
            assert_eq!(kind.name(), name);
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::json!(name),
                "report.json spells the rule by its name"
            );
            assert_eq!((kind.direction(), kind.unit()), (direction, unit), "{name}");
        }
        assert!(Direction::AtLeast.holds(0.8, 0.8) && !Direction::AtLeast.holds(0.7, 0.8));
        assert!(Direction::AtMost.holds(0.2, 0.2) && !Direction::AtMost.holds(0.3, 0.2));
    }

    #[test]
    fn rules_follow_configured_limits_in_fixed_order() {
        use RuleKind::*;
        let all = Gate {
            min_pass_rate: Some(0.8),
            max_soft_fail_rate: Some(0.2),
            max_error_rate: Some(0.1),
            ..Gate::default()
        };
        type Row = (&'static str, Gate, Vec<Case>, Vec<GateRule>, bool);
        let table: Vec<Row> = vec![
            (
                "no limits passes",
                Gate::default(),
                cases(0, 1, 1, 0),
                vec![],
                true,
            ),
            (
                "limits are inclusive",
                all.clone(),
                cases(6, 2, 1, 1),
                vec![
                    rule(MinPassRate, 0.8, 0.8, true),
                    rule(MaxSoftFailRate, 0.2, 0.2, true),
                    rule(MaxErrorRate, 0.1, 0.1, true),
                ],
                true,
            ),
            (
                "each side can fail",
                all.clone(),
                cases(4, 3, 2, 1),
                vec![
                    rule(MinPassRate, 0.8, 0.7, false),
                    rule(MaxSoftFailRate, 0.2, 0.3, false),
                    rule(MaxErrorRate, 0.1, 0.2, false),
                ],
                false,
            ),
            (
                "only configured rules appear",
                Gate {
                    max_error_rate: Some(0.0),
                    ..Gate::default()
                },
                cases(1, 2, 1, 0),
                vec![rule(MaxErrorRate, 0.0, 0.25, false)],
                false,
            ),
            (
                "an empty run fails a minimum",
                all.clone(),
                vec![],
                vec![
                    rule(MinPassRate, 0.8, 0.0, false),
                    rule(MaxSoftFailRate, 0.2, 0.0, true),
                    rule(MaxErrorRate, 0.1, 0.0, true),
                ],
                false,
            ),
        ];
        for (name, gate, cases, want_rules, want_passed) in table {
            let got = suite(&gate).verdict(&cases, None);
            assert_eq!(got.rules, want_rules, "{name}");
            assert_eq!(got.passed, want_passed, "{name}");
            assert!(got.critical_failures.is_empty(), "{name}");
        }
    }

    #[test]
    fn critical_tags_and_ids_catch_failed_and_errored_cases_only() {
        use CaseStatus::*;
        let cases = vec![
            case("z-refund", Failed, &["refund-policy"]),
            case("a-refund", Errored, &["refund-policy", "orders"]),
            case("soft-refund", SoftFailed, &["refund-policy"]),
            case("flaky-refund", Flaky, &["refund-policy"]),
            case("named", Failed, &[]),
            case("other", Failed, &["orders"]),
            case("ok", Passed, &["refund-policy"]),
        ];
        let table: Vec<(Vec<&str>, Vec<&str>)> = vec![
            (vec![], vec![]),
            (vec!["refund-policy"], vec!["a-refund", "z-refund"]),
            (vec!["named"], vec!["named"]),
            // A case matching by both tag and id is listed once.
            (vec!["orders", "other"], vec!["a-refund", "other"]),
            (vec!["ok", "unknown"], vec![]),
        ];
        for (critical, want) in table {
            let gate = Gate {
                critical: critical.iter().map(|s| s.to_string()).collect(),
                ..Gate::default()
            };
            let got = suite(&gate).verdict(&cases, None);
            assert_eq!(got.critical_failures, want, "{critical:?}");
            assert_eq!(got.passed, want.is_empty(), "{critical:?}");
        }
    }

    #[test]
    fn quarantined_flaky_cases_are_reported_not_gated() {
        let cases = vec![
            case("a", CaseStatus::Passed, &[]),
            case("b", CaseStatus::Flaky, &[]),
            case("c", CaseStatus::Flaky, &[]),
        ];
        let mut gate = Gate {
            min_pass_rate: Some(0.9),
            ..Gate::default()
        };
        let r = suite(&gate).verdict(&cases, None);
        assert!(!r.passed, "flaky cases count as not passing");
        assert_eq!(r.rules[0].actual, 0.3333);
        gate.quarantine_flaky = true;
        let r = suite(&gate).verdict(&cases, None);
        assert!(r.passed, "{r:?}");
        assert_eq!(r.rules[0].actual, 1.0);
        assert_eq!(r.quarantined, vec!["b".to_string(), "c".to_string()]);
    }

    #[test]
    fn baseline_rule_defaults_to_zero_regressions() {
        let table = [
            (None, None, true, 0),
            (None, Some(0), true, 1),
            (None, Some(1), false, 1),
            (Some(1), Some(1), true, 1),
            (Some(1), Some(2), false, 1),
        ];
        for (limit, losses, want, rules) in table {
            let gate = Gate {
                max_regressions: limit,
                ..Gate::default()
            };
            let result = suite(&gate).verdict(&cases(1, 0, 0, 0), losses);
            assert_eq!(result.passed, want, "{limit:?} {losses:?}");
            assert_eq!(result.rules.len(), rules, "{limit:?} {losses:?}");
            if let Some(r) = result.rules.first() {
                assert_eq!(r.rule, RuleKind::MaxRegressions);
                assert_eq!(r.limit, limit.unwrap_or(0) as f64);
            }
        }
    }

    #[test]
    fn shards_merge_to_the_gate_of_the_whole_run() {
        let gate = Gate {
            min_pass_rate: Some(0.5),
            critical: vec!["refund-policy".into()],
            max_regressions: Some(1),
            quarantine_flaky: true,
            ..Gate::default()
        };
        let all = vec![
            case("a", CaseStatus::Failed, &["refund-policy"]),
            case("b", CaseStatus::Passed, &[]),
            case("c", CaseStatus::Flaky, &[]),
            case("d", CaseStatus::Passed, &[]),
        ];
        let verdict = |cases: &[Case], losses, uncalibrated: &[&str]| {
            Policy::Suite {
                gate: &gate,
                uncalibrated: uncalibrated.iter().map(|s| s.to_string()).collect(),
            }
            .verdict(cases, losses)
        };
        let whole = verdict(&all, Some(2), &["j1"]);
        let shards = vec![
            verdict(&all[..2], Some(1), &["j1"]),
            verdict(&all[2..], Some(1), &[]),
        ];
        let merged = Policy::Shards(shards).verdict(&all, Some(2));
        assert_eq!(merged, whole);
        assert!(!merged.passed);
        assert_eq!(merged.critical_failures, ["a"]);
        assert_eq!(merged.quarantined, ["c"]);
        assert_eq!(merged.uncalibrated, ["j1"]);
        assert_eq!(
            merged.rules.last().map(|r| r.rule),
            Some(RuleKind::MaxRegressions)
        );
        // Shards without a baseline carry no regressions rule, and the merge adds none.
        let plain = vec![verdict(&all, None, &[])];
        let merged = Policy::Shards(plain).verdict(&all, Some(3));
        assert!(merged
            .rules
            .iter()
            .all(|r| r.rule != RuleKind::MaxRegressions));
    }

    #[test]
    fn max_drift_is_kept_until_a_history_judges_it_and_travels_through_shards() {
        let gate = Gate {
            min_pass_rate: Some(0.5),
            max_drift: Some(1),
            ..Gate::default()
        };
        let all = vec![
            case("a", CaseStatus::Passed, &[]),
            case("b", CaseStatus::Passed, &[]),
        ];
        let suite = || Policy::Suite {
            gate: &gate,
            uncalibrated: vec![],
        };
        // Without a history: no rule, the limit kept.
        let shard = suite().verdict_with_drift(&all[..1], None, None);
        assert_eq!(shard.max_drift, Some(1));
        assert!(shard.rules.iter().all(|r| r.rule != RuleKind::MaxDrift));
        assert!(shard.passed);
        // With one: judged, no longer kept.
        let judged = suite().verdict_with_drift(&all, None, Some(2));
        assert_eq!(judged.max_drift, None);
        assert!(!judged.passed);
        let shards = vec![shard, suite().verdict_with_drift(&all[1..], None, None)];
        // Merged without a history the limit is still kept; with one, the whole run's verdict.
        let merged = Policy::Shards(shards.clone()).verdict_with_drift(&all, None, None);
        assert_eq!((merged.max_drift, merged.passed), (Some(1), true));
        let merged = Policy::Shards(shards.clone()).verdict_with_drift(&all, None, Some(2));
        assert_eq!(merged, judged);
        let merged = Policy::Shards(shards).verdict_with_drift(&all, None, Some(1));
        assert!(merged.passed);
        assert_eq!(
            merged.rules.last().map(|r| r.rule),
            Some(RuleKind::MaxDrift)
        );
    }
}
