//! `validate` and `list`: load suites and show what is in them; call no model.

use std::path::{Path, PathBuf};

use crate::cli::{load_all, usage_error, ListFormat, SelectArgs};
use crate::exit;
use crate::provider::registry::missing_keys;

pub fn validate(paths: &[PathBuf]) -> u8 {
    let Some(suites) = load_all(paths) else {
        return exit::INVALID_INPUT;
    };
    for suite in &suites {
        // `validate` calls no model, so a missing key is only a warning here; `eval` refuses.
        for problem in missing_keys(&suite.provider_setup()) {
            eprintln!("warning: {}: {problem}", suite.path.display());
        }
        let checks: usize = suite.checks.len() * suite.cases.len()
            + suite.cases.iter().map(|c| c.checks.len()).sum::<usize>();
        println!(
            "ok: {} — suite `{}`: {} cases, {} checks, {} judges",
            suite.path.display(),
            suite.name,
            suite.cases.len(),
            checks,
            suite.judges.len()
        );
    }
    forget_at_exit(suites);
    exit::GATE_PASSED
}

pub fn list(path: &Path, select: &SelectArgs, format: ListFormat) -> u8 {
    let selection = match select.selection().compile() {
        Ok(s) => s,
        Err(msg) => return usage_error(msg),
    };
    let Some(suites) = load_all(&[path.to_path_buf()]) else {
        return exit::INVALID_INPUT;
    };
    for suite in &suites {
        if format == ListFormat::Json {
            let cases: Vec<serde_json::Value> = selection
                .apply(&suite.cases)
                .iter()
                .map(|case| {
                    serde_json::json!({
                        "id": case.id,
                        "tags": case.tags,
                        "description": case.description,
                        "source": case.source,
                    })
                })
                .collect();
            println!("{}", serde_json::Value::Array(cases));
            continue;
        }
        for case in selection.apply(&suite.cases) {
            if case.tags.is_empty() {
                println!("{}", case.id);
            } else {
                println!("{}  [{}]", case.id, case.tags.join(", "));
            }
        }
    }
    forget_at_exit(suites);
    exit::GATE_PASSED
}

/// The process exits right after these commands: freeing a suite of 100,000 cases one
/// allocation at a time would cost more than a tenth of the load, for nothing.
fn forget_at_exit(suites: Vec<crate::suite::model::Suite>) {
    std::mem::forget(suites);
}
