//! Fuzz target `parser`: lexing and parsing (`syntax::parse_source`) of any text.
//!
//! Properties: it never panics (also when the tree is dropped: deep trees are dropped
//! recursively, so it runs on a stack as large as the compiler's front end gets); every
//! diagnostic's spans lie within the input, on character boundaries.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    keel_fuzz::on_front_end_stack(
        |data| {
            let text = keel_fuzz::source_text(data);
            let mut diags = Vec::new();
            let file = keel::syntax::parse_source(&text, &mut diags);
            keel_fuzz::check_diagnostic_spans(&text, &diags);
            drop(file);
        },
        data,
    );
});
