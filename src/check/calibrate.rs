//! `Calibration`: runs a judge over human-labelled examples and measures how well it agrees
//! with the humans; the command itself is `command::calibrate`.
//!
//! A labels file is JSONL, one example a line:
//! `{"input": "...", "output": "...", "reference": "...", "pass": true}` or with `"score": 4`
//! (in the judge's scale) instead of, or besides, `pass`. A score label also yields a pass
//! label (normalised score at or above the judge's threshold).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::check::calibration_stats::{pearson, spearman, Agreement};
use crate::check::case::CaseFacts;
use crate::check::judge::{grade, Judge};
use crate::diagnostic::Diagnostic;
use crate::provider::types::Provider;
use crate::trajectory::Trajectory;
use crate::verdict::Outcome;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Label {
    #[serde(default)]
    pub id: Option<String>,
    pub input: String,
    pub output: String,
    #[serde(default)]
    pub reference: Option<String>,
    /// The human's pass/fail.
    #[serde(default)]
    pub pass: Option<bool>,
    /// The human's score, in the judge's scale.
    #[serde(default)]
    pub score: Option<f64>,
}

/// Reads a labels file; every bad line is reported.
pub fn load_labels(path: &Path) -> Result<Vec<Label>, Vec<Diagnostic>> {
    load_labels_on_scale(path, None)
}

/// [`load_labels`], and a `score` outside `scale` (the judge's) is a bad line too: it cannot
/// be compared with the judge's scores, and clamping it would invent a label.
pub fn load_labels_on_scale(
    path: &Path,
    scale: Option<[f64; 2]>,
) -> Result<Vec<Label>, Vec<Diagnostic>> {
    let text =
        crate::input_file::read_to_string(path, crate::limits::Limits::default().max_file_bytes)
            .map_err(|e| vec![Diagnostic::new(path, format!("cannot read labels: {e}"))])?;
    let mut labels = Vec::new();
    let mut errs = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Label>(line) {
            Ok(l) if l.pass.is_none() && l.score.is_none() => errs.push(
                Diagnostic::new(path, "a label needs `pass` (true/false) or `score`")
                    .at(i + 1, None),
            ),
            Ok(Label {
                score: Some(score), ..
            }) if scale.is_some_and(|[lo, hi]| !(lo..=hi).contains(&score)) => {
                let [lo, hi] = scale.unwrap_or_default();
                errs.push(
                    Diagnostic::new(
                        path,
                        format!("label score {score} is outside the judge's scale {lo}..{hi}"),
                    )
                    .at(i + 1, None),
                );
            }
            Ok(l) => labels.push(l),
            Err(e) => errs.push(
                Diagnostic::new(path, format!("invalid label: {e}")).at(i + 1, Some(e.column())),
            ),
        }
    }
    if labels.is_empty() && errs.is_empty() {
        errs.push(Diagnostic::new(path, "the labels file has no examples"));
    }
    if errs.is_empty() {
        Ok(labels)
    } else {
        Err(errs)
    }
}

/// What the judge said about one example.
#[derive(Debug, Clone, PartialEq)]
pub struct Graded {
    pub id: String,
    pub human_pass: Option<bool>,
    /// Normalised 0..1.
    pub human_score: Option<f64>,
    pub outcome: Outcome,
    /// Normalised 0..1; `None` when the judge errored.
    pub judge_score: Option<f64>,
}

/// A label as the case its judge grades. Its `case` value is the one a suite case with this
/// input and reference gives the judge's template, so a rubric reads the same in both.
struct LabelCase {
    id: String,
    input: String,
    reference: Option<String>,
    /// Always empty: a label has no vars, but `CaseFacts` lends them by reference.
    vars: BTreeMap<String, Value>,
}

impl CaseFacts for LabelCase {
    fn id(&self) -> &str {
        &self.id
    }

    fn input(&self) -> &str {
        &self.input
    }

    fn reference(&self) -> Option<&str> {
        self.reference.as_deref()
    }

    fn vars(&self) -> &BTreeMap<String, Value> {
        &self.vars
    }

    fn to_value(&self) -> Value {
        json!({
            "id": self.id,
            "description": null,
            "input": self.input,
            "turns": [self.input],
            "vars": {},
            "tags": [],
            "expected": {
                "reference": self.reference,
                "output": null,
                "tools": null,
                "state": null,
            },
        })
    }

    fn lookup(&self, path: &str) -> Option<Value> {
        let mut v = self.to_value();
        for key in path.split('.') {
            v = v.get_mut(key)?.take();
        }
        (!v.is_null()).then_some(v)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    pub judge: String,
    pub graded: Vec<Graded>,
    pub agreement: Agreement,
    pub pearson: Option<f64>,
    pub spearman: Option<f64>,
    /// Examples the judge could not grade (left out of every statistic).
    pub errors: usize,
}

/// Grades every label with `judge` and computes the agreement statistics. The judge passes an
/// example when its verdict is `pass` (a soft fail counts as not passing: calibration asks
/// whether the judge draws the line where humans do).
pub async fn calibrate(judge: &Judge, provider: &dyn Provider, labels: &[Label]) -> Calibration {
    let mut graded = Vec::new();
    for (i, label) in labels.iter().enumerate() {
        let id = label.id.clone().unwrap_or_else(|| format!("{}", i + 1));
        let case = LabelCase {
            id: id.clone(),
            input: label.input.clone(),
            reference: label.reference.clone(),
            vars: BTreeMap::new(),
        };
        let trajectory = Trajectory {
            output: label.output.clone(),
            ..Default::default()
        };
        let v = grade(
            judge,
            provider,
            &case,
            &trajectory,
            judge.threshold,
            judge.soft_threshold,
        )
        .await;
        let human_score = label.score.map(|s| judge.normalise(s));
        let human_pass = label
            .pass
            .or_else(|| human_score.map(|s| s >= judge.threshold));
        graded.push(Graded {
            id,
            human_pass,
            human_score,
            outcome: v.outcome,
            judge_score: v.score,
        });
    }
    let ok: Vec<&Graded> = graded
        .iter()
        .filter(|g| g.outcome != Outcome::Error)
        .collect();
    let pairs: Vec<(bool, bool)> = ok
        .iter()
        .filter_map(|g| g.human_pass.map(|h| (h, g.outcome == Outcome::Pass)))
        .collect();
    let (hs, js): (Vec<f64>, Vec<f64>) = ok
        .iter()
        .filter_map(|g| g.human_score.zip(g.judge_score))
        .unzip();
    Calibration {
        judge: judge.name.clone(),
        agreement: Agreement::from_pairs(&pairs),
        pearson: pearson(&hs, &js),
        spearman: spearman(&hs, &js),
        errors: graded.len() - ok.len(),
        graded,
    }
}

impl Calibration {
    /// The agreement table, as printed by `gauntlet calibrate`.
    pub fn render(&self) -> String {
        let a = &self.agreement;
        let num = |x: Option<f64>| x.map_or("n/a".to_string(), |x| format!("{x:.3}"));
        let mut out = format!(
            "judge `{}`: {} labelled examples, {} graded, {} errors\n\n",
            self.judge,
            self.graded.len(),
            self.graded.len() - self.errors,
            self.errors
        );
        out.push_str(&format!(
            "pass/fail ({} examples)\n  accuracy       {}\n  cohen's kappa  {}\n\n",
            a.total(),
            num(a.accuracy()),
            num(a.kappa())
        ));
        out.push_str("  confusion      judge pass  judge fail\n");
        out.push_str(&format!(
            "  human pass     {:>10}  {:>10}\n  human fail     {:>10}  {:>10}\n",
            a.both_pass, a.human_only_pass, a.judge_only_pass, a.both_fail
        ));
        let scored = self
            .graded
            .iter()
            .filter(|g| g.human_score.is_some() && g.judge_score.is_some())
            .count();
        if scored > 0 {
            out.push_str(&format!(
                "\nscores ({scored} examples)\n  pearson        {}\n  spearman       {}\n",
                num(self.pearson),
                num(self.spearman)
            ));
        }
        let disagree: Vec<&Graded> = self
            .graded
            .iter()
            .filter(|g| {
                g.outcome == Outcome::Error
                    || g.human_pass
                        .is_some_and(|h| h != (g.outcome == Outcome::Pass))
            })
            .collect();
        if !disagree.is_empty() {
            out.push_str("\ndisagreements\n");
            for g in disagree {
                out.push_str(&format!(
                    "  {:<12} human {:<5} judge {} {}\n",
                    g.id,
                    g.human_pass
                        .map_or("-", |p| if p { "pass" } else { "fail" }),
                    g.outcome.as_str(),
                    g.judge_score.map_or(String::new(), |s| format!("({s:.2})"))
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::model::{Case, Expected};

    #[test]
    fn a_label_shows_the_judge_the_case_a_suite_case_would() {
        let label = LabelCase {
            id: "7".into(),
            input: "Where is order 7?".into(),
            reference: Some("It shipped.".into()),
            vars: BTreeMap::new(),
        };
        let case = Case {
            expected: Expected {
                reference: Some("It shipped.".into()),
                ..Default::default()
            },
            ..Case::new("7", "Where is order 7?")
        };
        assert_eq!(
            serde_json::to_string(&label.to_value()).unwrap(),
            serde_json::to_string(&case.to_value()).unwrap()
        );
        for path in [
            "expected.reference",
            "input",
            "expected.tools",
            "id",
            "nope",
        ] {
            assert_eq!(label.lookup(path), case.lookup(path), "{path}");
        }
    }
}
