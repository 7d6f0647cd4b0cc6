//! `gauntlet calibrate`: the shipped judges measured against their shipped labels, offline.

use crate::support::{gauntlet, stderr, stdout};

#[test]
fn shipped_judges_print_their_agreement_table() {
    for (judge, accuracy, kappa) in [
        ("helpfulness", "0.750", "0.471"),
        ("policy", "0.900", "0.783"),
    ] {
        let out = gauntlet(&[
            "calibrate",
            &format!("judges/{judge}.yaml"),
            "--labels",
            &format!("judges/labels/{judge}.jsonl"),
        ]);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
        assert!(
            text.contains(&format!("accuracy       {accuracy}")),
            "{text}"
        );
        assert!(text.contains(&format!("cohen's kappa  {kappa}")), "{text}");
        assert!(text.contains("human pass"), "{text}");
    }
}

#[test]
fn a_kappa_below_the_minimum_exits_1_and_bad_labels_exit_2() {
    let out = gauntlet(&[
        "calibrate",
        "judges/helpfulness.yaml",
        "--labels",
        "judges/labels/helpfulness.jsonl",
        "--min-kappa",
        "0.6",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("below the minimum 0.6"));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"input\": \"x\", \"output\": \"y\"}\nnot json\n").unwrap();
    let out = gauntlet(&[
        "calibrate",
        "judges/policy.yaml",
        "--labels",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains(":1") && err.contains("needs `pass`"), "{err}");
    assert!(err.contains(":2"), "{err}");
}
