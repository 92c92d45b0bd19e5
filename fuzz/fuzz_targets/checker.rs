//! Fuzz target `checker`: the whole front end (`sema::compile`: lexing, parsing, name
//! resolution, type checking, lowering) on any text, on a stack as large as `keel` gives it.
//!
//! Properties: it never panics; on success the IR passes `ir::verify`, prints (`keel emit ir`),
//! and compiling without contracts (`--no-contracts`) succeeds and verifies too; on failure there
//! is at least one diagnostic, every span is valid, and rendering them (plain and in colour, as
//! `keel` prints them) does not panic.
#![no_main]

use keel::diag::SourceFile;
use keel::ir::verify::verify;
use keel::sema::{compile_on_this_thread, Options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    keel_fuzz::on_front_end_stack(check, data);
});

fn check(data: &[u8]) {
    let source = SourceFile::new("fuzz.kl", keel_fuzz::source_text(data));
    match compile_on_this_thread(&source, Options::default()) {
        Ok(program) => {
            if let Err(errors) = verify(&program) {
                panic!("the IR does not verify: {errors:#?}");
            }
            let _ = keel::ir::print::program_to_string(&program);
            let plain = compile_on_this_thread(
                &source,
                Options {
                    contracts: false,
                    ..Options::default()
                },
            )
            .unwrap_or_else(|diags| panic!("fails only without contracts: {diags:#?}"));
            if let Err(errors) = verify(&plain) {
                panic!("the IR without contracts does not verify: {errors:#?}");
            }
        }
        Err(diags) => {
            assert!(!diags.is_empty(), "compilation failed without a diagnostic");
            keel_fuzz::check_diagnostic_spans(&source.text, &diags);
            let _ = keel::diag::render(&source, &diags, false);
            let _ = keel::diag::render(&source, &diags, true);
        }
    }
}
