//! index.html in a real browser (headless Chromium): the page renders, and markup in model
//! output is shown as text, never executed. Skipped, with a message, where Chromium is absent
//! (a failure in CI).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{eval_into, missing_external, read, stderr};

pub fn chromium() -> Option<PathBuf> {
    let candidates = [
        std::env::var("GAUNTLET_CHROMIUM").unwrap_or_default(),
        "/usr/bin/chromium".into(),
        "/usr/bin/chromium-browser".into(),
    ];
    let found = candidates.iter().map(PathBuf::from).find(|p| p.is_file());
    if found.is_none() {
        missing_external(
            "Chromium",
            "install Debian's `chromium`, or set GAUNTLET_CHROMIUM",
        );
    }
    found
}

/// Runs headless Chromium on a local file with the flags this closed network needs.
/// A screenshot of `page` at `size` ("W,H"): the PNG's bytes; none fails the test with
/// Chromium's stderr.
pub fn screenshot(chrome: &Path, page: &Path, size: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let shot = dir.path().join("shot.png");
    let r = headless(
        chrome,
        page,
        &[
            &format!("--window-size={size}"),
            &format!("--screenshot={}", shot.display()),
        ],
    );
    std::fs::read(&shot).unwrap_or_else(|e| {
        panic!(
            "no screenshot ({e}): {}",
            String::from_utf8_lossy(&r.stderr)
        )
    })
}

pub fn headless(chrome: &Path, page: &Path, extra: &[&str]) -> std::process::Output {
    let profile = tempfile::tempdir().unwrap();
    Command::new(chrome)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs")
}

#[test]
fn the_report_renders_in_chromium() {
    let Some(chrome) = chromium() else { return };
    let (o, out) = eval_into("suites/support.yaml", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let page = out.path().join("support/index.html");
    let png = screenshot(&chrome, &page, "1200,1600");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    assert!(
        png.len() > 20_000,
        "a page with content, not a blank one: {} bytes",
        png.len()
    );

    let dom =
        String::from_utf8_lossy(&headless(&chrome, &page, &["--dump-dom"]).stdout).into_owned();
    assert!(dom.contains("gate passed"), "{dom}");
    assert!(
        dom.contains("kb-international-shipping"),
        "every case is on the page"
    );
}

#[test]
fn markup_in_model_output_does_not_execute() {
    let Some(chrome) = chromium() else { return };
    let (o, out) = eval_into("tests/fixtures/valid/xss.yaml", &[]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "the not_contains check fails: {}",
        stderr(&o)
    );
    let page = out.path().join("xss/index.html");
    let html = read(&page);
    assert!(!html.contains("<script>document"), "escaped in the file");
    let dom =
        String::from_utf8_lossy(&headless(&chrome, &page, &["--dump-dom"]).stdout).into_owned();
    assert!(
        dom.contains("&lt;script&gt;document.body.setAttribute"),
        "shown as text: {dom}"
    );
    assert!(
        !dom.contains("data-pwned=\""),
        "the script did not run: {dom}"
    );
}
