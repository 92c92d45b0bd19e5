//! Front end, part two: from the AST to the IR.
//!
//! [`check`] resolves names and checks types, producing the typed tree of [`types`]; [`lower`]
//! turns that into the [`crate::ir`]. Lowering runs only when checking reported nothing.

pub mod check;
pub mod lower;
pub mod types;

use crate::diag::{Diagnostic, SourceFile};
use crate::ir;

/// Runs the whole front end on one file: the IR, or every diagnostic found.
pub fn compile(source: &SourceFile) -> Result<ir::Program, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let file = crate::syntax::parse_source(&source.text, &mut diags);
    let typed = check::check_file(&file, &mut diags);
    if !diags.is_empty() {
        diags.sort_by_key(|d| (d.span.start, d.span.end));
        return Err(diags);
    }
    Ok(lower::lower_program(&typed, source))
}

#[cfg(test)]
mod tests {
    use super::compile;
    use crate::diag::SourceFile;
    use crate::ir::{print::program_to_string, verify::verify};

    /// Compiles `source`, expecting success and a verifying IR; returns the printed IR.
    fn ir(source: &str) -> String {
        let program =
            compile(&SourceFile::new("t.kl", source)).unwrap_or_else(|d| panic!("{d:#?}"));
        verify(&program).unwrap_or_else(|e| panic!("{e:#?}"));
        program_to_string(&program)
    }

    /// The codes of the diagnostics `source` produces, in source order.
    fn codes(source: &str) -> Vec<&'static str> {
        match compile(&SourceFile::new("t.kl", source)) {
            Ok(_) => Vec::new(),
            Err(diags) => diags.iter().map(|d| d.code).collect(),
        }
    }

    #[test]
    fn well_typed_programs_lower_and_verify() {
        for source in [
            "fn fib(int n) -> int { if n < 2 { return n; } return fib(n - 1) + fib(n - 2); } println(fib(10));",
            "fn f(int n) { if n < 2 { return 1; } return n * f(n - 1); } println(f(5));",
            "fn even(int n) -> bool { if n == 0 { true } else { odd(n - 1) } } fn odd(int n) -> bool { if n == 0 { false } else { even(n - 1) } } println(even(10));",
            "let s = \"hi\"; println(s); let x = if true { 1 } else { 2 }; print(x); eprintln(false);",
            "let t = 0; for i in 0..10 { if i % 2 == 0 { continue; } t += i; if t > 10 { break; } } println(t);",
            "let a = 1; let ok = a > 0 && a < 10 || !(a == 5); println(ok & true ^ false);",
            "fn loop_forever() -> int { while true { } } fn g() -> int { exit(3); }",
            "let x = 1; { let x = 2; println(x); } println(x);",
        ] {
            ir(source);
        }
    }

    #[test]
    fn loop_variable_copies_a_hidden_counter() {
        let text = ir("for i in 0..3 { i = 10; println(i); }");
        assert!(text.contains("lt.int"), "{text}");
        assert!(text.contains("add.int"), "{text}");
    }

    #[test]
    fn left_operand_is_read_before_a_block_assigns_it() {
        let text = ir("let x = 1; let y = x + { x = 5; x }; println(y);");
        // x is copied into a temporary before the block runs.
        assert!(text.contains("%2 = %0"), "{text}");
    }

    #[test]
    fn type_errors() {
        assert_eq!(codes("let x: int = true;"), ["E0401"]);
        assert_eq!(codes("println(1 + true);"), ["E0403"]);
        assert_eq!(codes("println(y);"), ["E0301"]);
        assert_eq!(codes("g();"), ["E0302"]);
        assert_eq!(codes("fn f(int a) {} f(1, 2);"), ["E0402"]);
        assert_eq!(codes("let a = 1; let a = 2;"), ["E0304"]);
        assert_eq!(codes("if 1 { }"), ["E0404"]);
        assert_eq!(codes("fn f() -> int { return; }"), ["E0405"]);
        assert_eq!(codes("fn f() { } let x = f();"), ["E0406"]);
        assert_eq!(
            codes("fn f(int n) -> int { if n > 0 { return 1; } }"),
            ["E0407"]
        );
        assert_eq!(codes("fn f(int n) { return f(n); }"), ["E0408"]);
        assert_eq!(codes("break;"), ["E0409"]);
        assert_eq!(codes("return;"), ["E0410"]);
        assert_eq!(codes("let x = if true { 1 };"), ["E0411"]);
        assert_eq!(codes("fn print(int x) {}"), ["E0303"]);
        assert_eq!(codes("fn f(float x) {}"), ["E0901"]);
    }

    #[test]
    fn one_mistake_one_diagnostic() {
        assert_eq!(
            codes("let x = y + 1; let z = x * 2; println(z);"),
            ["E0301"]
        );
        assert_eq!(
            codes("let x: int = true;\nlet y: bool = 1;\nprintln(q);"),
            ["E0401", "E0401", "E0301"]
        );
    }
}
