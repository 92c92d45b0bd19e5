//! Evaluates one expression end to end many times through `keel::embed::Engine::eval`, for a
//! profiler (callgrind, perf) to see where the time of one evaluation goes:
//!
//!     cargo run --release -p keel-eval-bench --example eval_loop -- '1 + 2' 100000

fn main() {
    let mut args = std::env::args().skip(1);
    let expr = args.next().unwrap_or_else(|| "42".to_string());
    let times: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let engine = keel::embed::Engine::new();
    let mut last = None;
    for _ in 0..times {
        last = Some(engine.eval(std::hint::black_box(&expr)).expect("evaluates"));
    }
    println!("{last:?}");
}
