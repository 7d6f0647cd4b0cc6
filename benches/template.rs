//! Template benches: the support system prompt compiled and rendered per call (as the harness
//! does), and compiled once then rendered; the helpfulness judge prompt, compiled at load.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};

use gauntlet::agent::harness::system_prompt::system_prompt_context;
use gauntlet::check::judge::context;
use gauntlet::suite::load::load_suite;
use gauntlet::template;
use gauntlet::trajectory::Trajectory;

fn render(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let suite = load_suite(&root.join("suites/support.yaml")).unwrap_or_else(|e| panic!("{e:?}"));
    let case = &suite.cases[0];
    let system = std::fs::read_to_string(root.join("datasets/support/system.md.j2"))
        .expect("read the system prompt");
    let judge = &suite.judges["helpfulness"];
    let t = Trajectory {
        output: "Your order 1003 shipped with UPS, tracking 1Z999AA10123456784.".into(),
        ..Trajectory::default()
    };
    let compiled = template::Template::compile(&system).expect("compiles");
    c.bench_function("template/system_prompt", |b| {
        b.iter(|| {
            template::render(&system, system_prompt_context(case.as_ref(), &compiled))
                .expect("renders")
        })
    });
    c.bench_function("template/system_prompt_compiled", |b| {
        b.iter(|| {
            compiled
                .render(system_prompt_context(case.as_ref(), &compiled))
                .expect("renders")
        })
    });
    c.bench_function("template/judge_prompt_compiled", |b| {
        b.iter(|| judge.prompt.render(context(case, &t)).expect("renders"))
    });
}

criterion_group!(benches, render);
criterion_main!(benches);
