//! End-to-end evaluation of small expressions through `keel::embed` (parse, check, lower,
//! compile to bytecode, run on the VM, convert the result to a `keel::embed::Value`), and
//! evaluation alone of an expression compiled once.
//!
//! Run with `cargo bench -p keel-eval-bench` (the figures go to RESULTS.md).

use criterion::{criterion_group, criterion_main, Criterion};
use keel::embed::Engine;
use keel_eval_bench::EXPRESSIONS;

fn end_to_end(c: &mut Criterion) {
    let engine = Engine::new();
    let mut group = c.benchmark_group("eval");
    for (name, expr, _) in EXPRESSIONS {
        group.bench_function(name, |b| {
            b.iter(|| engine.eval(std::hint::black_box(expr)).expect("evaluates"))
        });
    }
    group.finish();
}

fn compiled_once(c: &mut Criterion) {
    let engine = Engine::new();
    let mut group = c.benchmark_group("run_compiled");
    for (name, expr, _) in EXPRESSIONS {
        let compiled = engine.compile_expression(expr).expect("compiles");
        group.bench_function(name, |b| b.iter(|| compiled.eval_vm()));
    }
    group.finish();
}

criterion_group!(benches, end_to_end, compiled_once);
criterion_main!(benches);
