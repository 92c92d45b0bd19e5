//! Fuzz target `lexer`: `syntax::lexer::lex` on any text.
//!
//! Properties: it never panics; the tokens end with exactly one `Eof`, at the end of the input;
//! every token's span lies within the input, on character boundaries, after the one before it;
//! every diagnostic's spans are valid too.
#![no_main]

use keel::syntax::lexer::{lex, Tok};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = keel_fuzz::source_text(data);
    let mut diags = Vec::new();
    let tokens = lex(&text, &mut diags);
    let (last, body) = tokens
        .split_last()
        .expect("the token stream is never empty");
    assert_eq!(last.kind, Tok::Eof, "the last token is not Eof: {last:?}");
    let end = text.len() as u32;
    assert_eq!((last.span.start, last.span.end), (end, end), "{last:?}");
    let mut previous_end = 0;
    for token in body {
        assert_ne!(token.kind, Tok::Eof, "Eof before the end: {token:?}");
        keel_fuzz::check_span(&text, token.span, token);
        assert!(
            token.span.start >= previous_end,
            "token overlaps the one before it (which ended at {previous_end}): {token:?}"
        );
        previous_end = token.span.end;
    }
    keel_fuzz::check_diagnostic_spans(&text, &diags);
});
