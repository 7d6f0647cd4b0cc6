//! Load-time benches: a 100,000-case JSONL dataset, the support suite, and a whole suite of
//! 100,000 cases (what `gauntlet validate` does), each from files in a temp dir.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use gauntlet::dataset;
use gauntlet::suite::load::load_suite;
use gauntlet::suite::raw::RawCase;

mod fixtures;

fn dataset_jsonl(c: &mut Criterion) {
    let big = fixtures::size(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("cases.jsonl");
    std::fs::write(&file, fixtures::support_jsonl(big)).expect("write dataset");
    let mut g = c.benchmark_group("load");
    g.sample_size(10);
    g.throughput(Throughput::Elements(big as u64));
    g.bench_function("dataset_jsonl_100k", |b| {
        b.iter(|| {
            let (cases, errors) =
                dataset::load::<RawCase>(&file, &gauntlet::limits::Limits::default());
            assert_eq!((cases.len(), errors.len()), (big, 0));
            cases
        })
    });
    g.finish();
}

fn support_suite(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("suites/support.yaml");
    c.bench_function("load/suite_support_yaml", |b| {
        b.iter(|| load_suite(&path).expect("the support suite loads"))
    });
}

/// The support suite (system prompt, world, judges, mock rules) over a 100,000-case dataset:
/// every case is validated, its checks compiled and its templates rendered.
fn support_suite_100k(c: &mut Criterion) {
    let big = fixtures::size(100_000);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("temp dir");
    let suites = dir.path().join("suites");
    std::fs::create_dir(&suites).expect("mkdir");
    std::fs::write(dir.path().join("cases.jsonl"), fixtures::support_jsonl(big)).expect("write");
    let yaml = std::fs::read_to_string(root.join("suites/support.yaml"))
        .expect("read the support suite")
        .replace("../datasets/support/cases.jsonl", "../cases.jsonl")
        .replace("critical: [refund-policy]", "critical: [vip]");
    let suite = suites.join("support.yaml");
    std::fs::write(&suite, yaml).expect("write suite");
    for link in ["datasets", "judges"] {
        symlink(&root.join(link), &dir.path().join(link));
    }
    symlink(&root.join("suites/mocks"), &suites.join("mocks"));
    let mut g = c.benchmark_group("load");
    g.sample_size(10);
    g.throughput(Throughput::Elements(big as u64));
    g.bench_function("suite_support_100k", |b| {
        b.iter(|| {
            let s = load_suite(&suite).unwrap_or_else(|e| panic!("{e:?}"));
            assert_eq!(s.cases.len(), big);
            s
        })
    });
    g.finish();
}

fn symlink(from: &Path, to: &Path) {
    #[cfg(unix)]
    std::os::unix::fs::symlink(from, to).expect("symlink");
    #[cfg(not(unix))]
    let _ = (from, to);
}

criterion_group!(benches, dataset_jsonl, support_suite, support_suite_100k);
criterion_main!(benches);
