//! Report bench: `report.json` for a 10,000-case run.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use gauntlet::check::eval::evaluate;
use gauntlet::gate::Policy;
use gauntlet::report::json::render_json;
use gauntlet::results::build::{build_report, ReportHeader, Scored};
use gauntlet::results::repeats::reduce;
use gauntlet::results::run_result::run_result;
use gauntlet::suite::load::load_suite;

mod fixtures;

fn report_json(c: &mut Criterion) {
    let n = fixtures::size(10_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let suite = load_suite(&fixtures::write_checked_suite(dir.path(), n))
        .unwrap_or_else(|e| panic!("{e:?}"));
    let results = suite
        .cases
        .iter()
        .enumerate()
        .map(|(i, case)| {
            let t = fixtures::refund_trajectory(i);
            let verdicts = suite
                .checks
                .iter()
                .chain(&case.checks)
                .map(|spec| evaluate(spec, case, &t))
                .collect();
            run_result(&case.id, &case.tags, 0, t, verdicts)
        })
        .collect();
    let header = ReportHeader {
        suite: suite.name.clone(),
        description: None,
        target: "command true".into(),
    };
    let cases = Scored::new(reduce(results, &|_| None));
    let gate = Policy::Suite {
        gate: &suite.gate,
        uncalibrated: vec![],
    };
    let report = build_report(header, gate, cases, None, None);
    let mut g = c.benchmark_group("report");
    g.sample_size(20);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("render_json_10k", |b| b.iter(|| render_json(&report)));
    g.finish();
}

criterion_group!(benches, report_json);
criterion_main!(benches);
