//! When a REPL entry is complete. An entry continues on the next line while it leaves a bracket
//! open or a block comment unterminated, or while the parser, at its end, still waits for
//! something (the body of `fn f() -> int`, the value of `let x =`); an empty line ends it anyway,
//! with the parser's diagnostic.
//!
//! The lexer decides what is a string or a comment, so a `{` inside `"..."` or `// ...` does not
//! count. A closing bracket without an opening one does not make the entry wait for more: the
//! parser reports it. Nor does a missing `;` after the last expression or statement: the REPL
//! accepts an entry without it.
//!
//! What this module does not do: read lines (see `repl`).

use crate::syntax::lexer::{lex, Tok};

/// Whether `text` (ending with its last line's line break) needs more lines.
pub fn is_incomplete(text: &str) -> bool {
    if text.ends_with("\n\n") {
        return false;
    }
    let mut ignored = Vec::new();
    let mut depth: i64 = 0;
    for token in lex(text, &mut ignored) {
        match token.kind {
            Tok::LParen | Tok::LBracket | Tok::LBrace => depth += 1,
            Tok::RParen | Tok::RBracket | Tok::RBrace => depth -= 1,
            Tok::UnterminatedComment => return true,
            _ => {}
        }
    }
    depth > 0 || parser_waits_at_the_end(text)
}

/// Whether `text` holds nothing but spaces and comments (no entry at all).
pub fn is_blank(text: &str) -> bool {
    let mut ignored = Vec::new();
    lex(text, &mut ignored)
        .iter()
        .all(|token| token.kind == Tok::Eof)
}

/// Whether parsing `text` reports something missing at its very end, other than a `;`.
fn parser_waits_at_the_end(text: &str) -> bool {
    let mut diags = Vec::new();
    crate::syntax::parse_source(text, &mut diags);
    let end = text.trim_end().len();
    diags.iter().any(|diag| {
        diag.span.start as usize >= end
            && !(diag.code == "E0201" && diag.message.starts_with("expected `;`"))
    })
}

#[cfg(test)]
mod tests {
    use super::{is_blank, is_incomplete};

    #[test]
    fn open_brackets_continue_the_entry() {
        assert!(is_incomplete("fn f(int x) -> int {\n"));
        assert!(is_incomplete("let xs = [1, 2,\n"));
        assert!(is_incomplete("println(f(1,\n"));
        assert!(is_incomplete("/* a comment\n"));
        assert!(!is_incomplete("fn f(int x) -> int { return x; }\n"));
        assert!(!is_incomplete("let x = 1;\n"));
        assert!(!is_incomplete("\n"));
    }

    #[test]
    fn what_the_parser_still_waits_for_continues_the_entry() {
        assert!(is_incomplete("fn f(int x) -> int\n"));
        assert!(is_incomplete("fn f(int x) -> int\n    requires x > 0\n"));
        assert!(is_incomplete("let x =\n"));
        assert!(is_incomplete("let x = 1 +\n"));
        // A missing `;` at the end is no reason to wait.
        assert!(!is_incomplete("1 + 2\n"));
        assert!(!is_incomplete("let x = 1\n"));
        // An empty line ends the entry, complete or not.
        assert!(!is_incomplete("let x =\n\n"));
        // A mistake before the end is the parser's to report.
        assert!(!is_incomplete("let = 1;\n"));
    }

    #[test]
    fn brackets_in_strings_and_comments_do_not_count() {
        assert!(!is_incomplete("println(\"{\");\n"));
        assert!(!is_incomplete("let x = 1; // {\n"));
        assert!(is_incomplete("if x { // }\n"));
    }

    #[test]
    fn comments_alone_are_no_entry() {
        assert!(is_blank("  // a note\n"));
        assert!(is_blank("/* a */\n"));
        assert!(!is_blank("x // a note\n"));
    }

    #[test]
    fn too_many_closing_brackets_leave_it_to_the_parser() {
        assert!(!is_incomplete("}\n"));
        assert!(!is_incomplete("f(1))\n"));
    }
}
