//! Fuzz target `pipeline`: compile any text and run it on the bytecode VM, on a fuel budget.
//!
//! Properties: the front end never panics and its IR verifies; the bytecode compiler and the
//! disassembler (`keel emit bytecode`) never panic; running the program ends (the fuel bounds
//! its time and memory, `keel::vm::budget`) without crashing: no panic, no memory error (the
//! interpreter and runtime use unsafe code; build with AddressSanitizer, the default), no
//! signal; and a run that finishes leaves no heap object allocated. Faults and `exit` in the
//! program are ordinary outcomes. Each run happens in a forked child whose coverage is passed
//! back (`keel_fuzz::child`).
//!
//! `KEEL_FUZZ_FUEL` sets the fuel of each run (default 100,000 units: about 100,000 loop rounds
//! or calls).
#![no_main]

use std::sync::OnceLock;

use keel::diag::SourceFile;
use libfuzzer_sys::fuzz_target;

/// The fuel of each run.
fn fuel() -> u64 {
    static FUEL: OnceLock<u64> = OnceLock::new();
    *FUEL.get_or_init(|| keel_fuzz::env_number("KEEL_FUZZ_FUEL", 100_000))
}

fuzz_target!(|data: &[u8]| {
    let Some(program) = keel_fuzz::on_front_end_stack(front_end, data) else {
        return;
    };
    if let Err(errors) = keel::ir::verify::verify(&program) {
        panic!("the IR does not verify: {errors:#?}");
    }
    // The rest happens on this thread (the main thread, as in `keel run --vm`), so that the
    // program's run gets the stack it gets there; the child process is forked from here.
    let module = keel::vm::compile(&program);
    let _ = keel::vm::disassemble(&module);
    keel_fuzz::child::run(&module, fuel());
});

/// The IR of the program `data`, if it compiles.
fn front_end(data: &[u8]) -> Option<keel::ir::Program> {
    let source = SourceFile::new("fuzz.kl", keel_fuzz::source_text(data));
    keel::sema::compile_on_this_thread(&source, keel::sema::Options::default()).ok()
}
