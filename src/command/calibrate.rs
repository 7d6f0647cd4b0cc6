//! `gauntlet calibrate JUDGE --labels FILE [--mocks DIR] [--min-kappa K]`: grades human-labelled
//! examples with a judge and prints how well it agrees with the humans
//! (`check::calibrate` does the grading and the statistics).
//!
//! The judge's model is built the way `eval` builds it (`Providers::for_run`): a `mock:` judge
//! from `--mocks DIR/NAME.yaml`, an `openai:`/`anthropic:` judge from the environment (key,
//! `*_BASE_URL`), behind the same retries and breaker.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::check::calibrate::{calibrate, load_labels_on_scale};
use crate::check::judge::Judge;
use crate::diagnostic::Diagnostic;
use crate::exit;
use crate::limits::Limits;
use crate::provider::mock_rules::MockRules;
use crate::provider::registry::{ProviderSetup, Providers};

/// Prints the agreement table; exit 2 on bad input (or a missing key), 1 when kappa is below
/// `min_kappa`, 3 when the judge's model cannot be set up or the runtime cannot start.
pub fn run(judge_path: &Path, labels: &Path, mocks: &Path, min_kappa: Option<f64>) -> u8 {
    let fail = |errs: Vec<Diagnostic>| {
        for line in crate::diagnostic::printable(&errs) {
            eprintln!("{line}");
        }
        exit::INVALID_INPUT
    };
    let name = judge_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let judge = match Judge::load(&name, judge_path, &Limits::default()) {
        Ok(j) => j,
        Err(errs) => return fail(errs),
    };
    let labels = match load_labels_on_scale(labels, Some(judge.scale)) {
        Ok(l) => l,
        Err(errs) => return fail(errs),
    };
    let mut rules = BTreeMap::new();
    if judge.model.is_mock() {
        let file = mocks.join(format!("{}.yaml", judge.model.model));
        match MockRules::load(&file, &Limits::default()) {
            Ok(r) => {
                rules.insert(judge.model.model.clone(), Arc::new(r));
            }
            Err(errs) => {
                eprintln!(
                    "error: mock judge `{}` needs its rules in {} (hint: pass --mocks DIR)",
                    judge.model,
                    file.display()
                );
                return fail(errs);
            }
        }
    }
    let setup = ProviderSetup {
        models: vec![judge.model.clone()],
        fallback: None,
        settings: BTreeMap::new(),
        mocks: rules,
        max_response_bytes: Limits::default().max_response_bytes,
    };
    let providers = match Providers::for_run(&setup, true) {
        Ok(p) => p,
        Err(problems) => {
            for p in problems {
                eprintln!("error: {}: {p}", judge_path.display());
            }
            eprintln!("error: nothing was graded");
            return exit::INVALID_INPUT;
        }
    };
    let provider = match providers.get(&judge.model, &[]) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: judge model unavailable: {e}");
            return exit::RUN_INCOMPLETE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit::RUN_INCOMPLETE;
        }
    };
    let result = runtime.block_on(calibrate(&judge, provider.as_ref(), &labels));
    print!("{}", result.render());
    match (min_kappa, result.agreement.kappa()) {
        (Some(min), Some(k)) if k < min => {
            println!("\nkappa {k:.3} is below the minimum {min}: the judge is not calibrated");
            exit::GATE_FAILED
        }
        (Some(min), None) => {
            println!("\nno pass/fail labels to compute kappa; the minimum {min} cannot be met");
            exit::GATE_FAILED
        }
        _ => exit::GATE_PASSED,
    }
}
