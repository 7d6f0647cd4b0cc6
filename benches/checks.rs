//! Scoring benches: every deterministic check of a case (`check::eval::evaluate`) over many
//! recorded trajectories, one at a time and on rayon.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rayon::prelude::*;

use gauntlet::check::eval::evaluate;
use gauntlet::suite::load::load_suite;
use gauntlet::suite::model::{Case, Suite};
use gauntlet::trajectory::Trajectory;
use gauntlet::verdict::{Outcome, Verdict};

mod fixtures;

fn score(suite: &Suite, case: &Case, t: &Trajectory) -> Vec<Verdict> {
    suite
        .checks
        .iter()
        .chain(&case.checks)
        .map(|spec| evaluate(spec, case, t))
        .collect()
}

fn scoring(c: &mut Criterion) {
    let n = fixtures::size(10_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let suite = load_suite(&fixtures::write_checked_suite(dir.path(), n))
        .unwrap_or_else(|e| panic!("{e:?}"));
    let trajectories: Vec<Trajectory> = (0..n).map(fixtures::refund_trajectory).collect();
    let pairs: Vec<(&Case, &Trajectory)> = suite
        .cases
        .iter()
        .map(|c| &**c)
        .zip(&trajectories)
        .collect();
    // Every check passes: a failing check would bench the failure message instead.
    for v in score(&suite, pairs[0].0, pairs[0].1) {
        assert_eq!(v.outcome, Outcome::Pass, "{v:?}");
    }

    let mut g = c.benchmark_group("checks");
    g.throughput(Throughput::Elements(1));
    let (case, t) = pairs[0];
    for (i, spec) in suite.checks.iter().chain(&case.checks).enumerate() {
        let kind = spec.name.split([':', ' ']).next().unwrap_or("check");
        g.bench_function(BenchmarkId::new("one", format!("{i:02}_{kind}")), |b| {
            b.iter(|| evaluate(spec, case, t))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("checks");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("all_10k_sequential", |b| {
        b.iter(|| {
            pairs
                .iter()
                .map(|(c, t)| score(&suite, c, t))
                .collect::<Vec<_>>()
        })
    });
    g.bench_function("all_10k_rayon", |b| {
        b.iter(|| {
            pairs
                .par_iter()
                .map(|(c, t)| score(&suite, c, t))
                .collect::<Vec<_>>()
        })
    });
    g.finish();
}

criterion_group!(benches, scoring);
criterion_main!(benches);
