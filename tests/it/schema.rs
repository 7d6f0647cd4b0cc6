//! `gauntlet schema`: the committed schemas under docs/schema/ are what the binary prints, every
//! shipped suite, dataset, judge and mock file validates against them — through the
//! `jsonschema` crate and through an independent validator (`check-jsonschema`, Python) — and a
//! typo is rejected by both.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::support::{gauntlet, missing_external, read, root, stderr, stdout};

const KINDS: [&str; 5] = ["suite", "cases", "judge", "mock", "report"];

/// Every file the repository ships that a schema describes, with the schema's kind.
fn shipped() -> Vec<(&'static str, PathBuf)> {
    let mut files = Vec::new();
    let yaml_in = |dir: &str| -> Vec<PathBuf> {
        let mut found: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .map(|e| e.expect("a directory entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        found.sort();
        found
    };
    files.extend(yaml_in("suites").into_iter().map(|p| ("suite", p)));
    files.push(("suite", root().join("examples/otel/suite.yaml")));
    files.extend(yaml_in("suites/mocks").into_iter().map(|p| ("mock", p)));
    files.extend(yaml_in("judges").into_iter().map(|p| ("judge", p)));
    for dataset in [
        "datasets/support/cases.jsonl",
        "datasets/python-agent/cases.jsonl",
        "examples/otel/cases.jsonl",
    ] {
        files.push(("cases", root().join(dataset)));
    }
    files
}

/// The documents of a file: one per JSONL line, else the YAML file as one.
fn documents(path: &Path) -> Vec<serde_json::Value> {
    let text = read(path);
    if path.extension().is_some_and(|x| x == "jsonl") {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    } else {
        vec![serde_yaml::from_str(&text).expect("YAML")]
    }
}

fn schema(kind: &str) -> serde_json::Value {
    serde_json::from_str(&read(root().join(format!("docs/schema/{kind}.json")))).expect("JSON")
}

/// The shipped suite with a misspelt gate key.
fn typo_suite() -> String {
    let text = read(root().join("suites/support.yaml"));
    assert!(text.contains("  min_pass_rate: 0.85"));
    text.replace("  min_pass_rate: 0.85", "  min_pass_rat: 0.85")
}

#[test]
fn committed_schemas_are_what_the_binary_prints() {
    for kind in KINDS {
        let out = gauntlet(&["schema", kind]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(
            stdout(&out),
            read(root().join(format!("docs/schema/{kind}.json"))),
            "docs/schema/{kind}.json is stale: regenerate it with `gauntlet schema {kind} > docs/schema/{kind}.json`"
        );
        let printed: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
        assert_eq!(
            printed["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
    }
    let out = gauntlet(&["schema", "suits"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("possible values"), "{}", stderr(&out));
}

#[test]
fn shipped_yaml_files_point_their_editor_at_the_right_schema() {
    for (kind, path) in shipped() {
        if path.extension().is_some_and(|x| x == "jsonl") {
            continue;
        }
        let text = read(&path);
        let first = text.lines().next().unwrap_or_default();
        let target = first
            .strip_prefix("# yaml-language-server: $schema=")
            .unwrap_or_else(|| panic!("{}: no $schema line first", path.display()));
        let schema_file = path.parent().expect("a folder").join(target);
        assert_eq!(
            schema_file.canonicalize().expect("the schema file exists"),
            root().join(format!("docs/schema/{kind}.json")),
            "{}",
            path.display()
        );
    }
}

#[test]
fn shipped_files_validate_and_a_typo_does_not() {
    let mut checked = 0;
    for (kind, path) in shipped() {
        let validator = jsonschema::draft202012::new(&schema(kind)).expect("a valid schema");
        for doc in documents(&path) {
            let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{}: {errors:?}", path.display());
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} documents checked");
    let validator = jsonschema::draft202012::new(&schema("suite")).expect("a valid schema");
    let typo: serde_json::Value = serde_yaml::from_str(&typo_suite()).expect("YAML");
    let errors: Vec<String> = validator
        .iter_errors(&typo)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.iter().any(|e| e.contains("min_pass_rat")),
        "{errors:?}"
    );
}

#[test]
fn an_independent_validator_agrees() {
    let tool = root().join(".venv/bin/check-jsonschema");
    if !tool.exists() {
        return missing_external(
            "check-jsonschema in .venv",
            "python3 -m venv .venv && .venv/bin/pip install -r .ci/requirements.txt",
        );
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let mut by_kind: Vec<(&str, Vec<PathBuf>)> = Vec::new();
    for (kind, path) in shipped() {
        // check-jsonschema reads JSON and YAML documents, not JSON lines: one file per line.
        let files = if path.extension().is_some_and(|x| x == "jsonl") {
            documents(&path)
                .iter()
                .enumerate()
                .map(|(i, doc)| {
                    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("cases");
                    let parent = path
                        .parent()
                        .and_then(|p| p.file_name())
                        .and_then(|s| s.to_str())
                        .unwrap_or("x");
                    let file = dir.path().join(format!("{parent}-{stem}-{i}.json"));
                    std::fs::write(&file, doc.to_string()).expect("write");
                    file
                })
                .collect()
        } else {
            vec![path]
        };
        match by_kind.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, list)) => list.extend(files),
            None => by_kind.push((kind, files)),
        }
    }
    for (kind, files) in &by_kind {
        let out = Command::new(&tool)
            .arg("--schemafile")
            .arg(root().join(format!("docs/schema/{kind}.json")))
            .args(files)
            .output()
            .expect("check-jsonschema runs");
        assert!(
            out.status.success(),
            "{kind}: {}{}",
            stdout(&out),
            stderr(&out)
        );
    }
    let typo = dir.path().join("typo.yaml");
    std::fs::write(&typo, typo_suite()).expect("write");
    let out = Command::new(&tool)
        .arg("--schemafile")
        .arg(root().join("docs/schema/suite.json"))
        .arg(&typo)
        .output()
        .expect("check-jsonschema runs");
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("min_pass_rat"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
}

#[test]
fn a_written_report_matches_the_report_schema() {
    // A baseline comparison too, so the optional parts of report.json are checked as well.
    let (first, dir) = super::support::eval_into("suites/support.yaml", &["--filter", "refund-*"]);
    assert!(
        first.status.code().is_some_and(|c| c <= 1),
        "{}",
        stderr(&first)
    );
    let baseline = dir.path().join("support/report.json");
    let (out, again) = super::support::eval_into(
        "suites/support.yaml",
        &[
            "--filter",
            "refund-*",
            "--baseline",
            baseline.to_str().expect("UTF-8"),
        ],
    );
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        stderr(&out)
    );
    let validator = jsonschema::draft202012::new(&schema("report")).expect("a valid schema");
    for file in [baseline, again.path().join("support/report.json")] {
        let report: serde_json::Value = serde_json::from_str(&read(&file)).expect("JSON");
        let errors: Vec<String> = validator
            .iter_errors(&report)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
    }
    let report: serde_json::Value =
        serde_json::from_str(&read(again.path().join("support/report.json"))).expect("JSON");
    assert!(report["baseline"].is_object(), "compared with the baseline");
}
