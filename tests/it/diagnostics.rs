//! Every invalid suite under tests/fixtures/invalid/ is refused with exit 2 and a message
//! that names the file and the problem; the whole stderr is pinned by a snapshot.

use crate::support::{gauntlet, stderr, stdout};

#[test]
fn invalid_suites_exit_2_with_located_messages() {
    insta::glob!("../fixtures/invalid", "*.yaml", |path| {
        let rel = path
            .strip_prefix(crate::support::root())
            .expect("fixture under the repo");
        let rel = rel.to_str().expect("utf-8 path");
        let out = gauntlet(&["validate", rel]);
        assert_eq!(out.status.code(), Some(2), "{rel}: {}", stderr(&out));
        assert!(stdout(&out).is_empty(), "{rel}: nothing on stdout");
        let err = stderr(&out);
        assert!(
            err.contains(rel) || err.contains("tests/fixtures/invalid/"),
            "{rel}: {err}"
        );
        assert!(!err.contains("panicked"), "{rel}: {err}");
        insta::assert_snapshot!(err);
    });
}

#[test]
fn eval_of_an_invalid_suite_runs_nothing() {
    let out = gauntlet(&[
        "eval",
        "tests/fixtures/invalid/unknown_check.yaml",
        "--out",
        "/nonexistent/never",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nothing was run"));
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec!["eval"],
        vec!["frobnicate"],
        vec!["eval", "suites/support.yaml", "-j", "0"],
        vec!["eval", "suites/support.yaml", "--timeout", "soon"],
        vec!["eval", "suites/support.yaml", "--filter", "["],
        vec!["eval", "suites/support.yaml", "--filter", "no-such-case-*"],
    ] {
        let out = gauntlet(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
}
