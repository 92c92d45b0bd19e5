//! Front end, part one: source text to an abstract syntax tree.
//!
//! [`lexer`] splits text into tokens, [`parser`] builds the [`ast`]. Neither stage panics or stops
//! at the first problem: both report [`crate::diag::Diagnostic`]s and keep going. [`imports`]
//! joins the parsed files of a program of several (`use`) into the one tree the checker sees.

pub mod ast;
pub mod imports;
pub mod lexer;
pub mod parser;

use crate::diag::Diagnostic;

/// Lexes and parses `source`, appending any problems to `diags`.
pub fn parse_source(source: &str, diags: &mut Vec<Diagnostic>) -> ast::File {
    parse_source_at(source, 0, diags)
}

/// Lexes and parses `source`, one file of a program placed at `base` in the program's span
/// space (`diag::SourceMap`): every span of the tree and of the problems appended to `diags` is
/// an offset into `source` plus `base`.
pub fn parse_source_at(source: &str, base: u32, diags: &mut Vec<Diagnostic>) -> ast::File {
    let first = diags.len();
    let mut tokens = lexer::lex(source, diags);
    if base != 0 {
        for token in &mut tokens {
            token.span = token.span.shifted(base);
        }
        for diag in &mut diags[first..] {
            diag.shift(base);
        }
    }
    parser::parse_at(source, base, &tokens, diags)
}

/// Whether the only problem `parse_source_at(text, base, ..)` reported in `diags` is a `;`
/// missing after the last statement: the REPL and `embed` accept an entry or expression
/// without it.
pub fn only_final_semicolon_missing(diags: &[Diagnostic], text: &str, base: u32) -> bool {
    match diags {
        [diag] if diag.code == "E0201" && diag.message.starts_with("expected `;`") => {
            let at = diag.span.start.saturating_sub(base) as usize;
            text.get(at..).is_some_and(|rest| rest.trim().is_empty())
        }
        _ => false,
    }
}
