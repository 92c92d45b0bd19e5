//! Front end, part one: source text to an abstract syntax tree.
//!
//! [`lexer`] splits text into tokens, [`parser`] builds the [`ast`]. Neither stage panics or stops
//! at the first problem: both report [`crate::diag::Diagnostic`]s and keep going.

pub mod ast;
pub mod lexer;
pub mod parser;

use crate::diag::Diagnostic;

/// Lexes and parses `source`, appending any problems to `diags`.
pub fn parse_source(source: &str, diags: &mut Vec<Diagnostic>) -> ast::File {
    let tokens = lexer::lex(source, diags);
    parser::parse(source, &tokens, diags)
}
