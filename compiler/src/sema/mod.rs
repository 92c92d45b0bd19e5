//! Front end, part two: from the AST to the IR.
//!
//! [`check`] resolves names and checks types, producing the typed tree of [`types`]; [`lower`]
//! turns that into the [`crate::ir`]. Lowering runs only when checking reported nothing.

pub mod builtins;
pub mod check;
pub mod fuse;
pub mod lints;
pub mod lower;
pub mod types;
mod wrappers;

use crate::diag::{Diagnostic, SourceFile, Sources};
use crate::syntax::ast;
use crate::{ir, timing};

/// Stack for the front end's thread. Checking and lowering recurse once per nesting level of the
/// tree (a 20,000-term sum is 20,000 levels deep), so they run on a thread with a large stack;
/// the parser bounds how deep a tree can get (`syntax::parser::MAX_NESTING`, `MAX_CHAIN`).
pub const FRONT_END_STACK: usize = 1 << 30;

pub use lower::Options;

/// Declares [`PRELUDE`] and [`PRELUDE_FILES`] from one list of the files in `stdlib/`.
macro_rules! prelude_files {
    ($first:literal $(, $rest:literal)* $(,)?) => {
        /// The prelude's text: declarations every program sees (Option, Result and their
        /// helpers, the functional array helpers, files and the environment, math, strings,
        /// arrays, maps and sets): its files joined with a line break between them.
        pub const PRELUDE: &str = concat!(
            include_str!(concat!("../../../stdlib/", $first)),
            $("\n", include_str!(concat!("../../../stdlib/", $rest)),)*
        );

        /// The files [`PRELUDE`] is made of, in order, by the names a fault inside one of them
        /// shows.
        const PRELUDE_FILES: &[(&str, &str)] = &[
            (concat!("stdlib/", $first), include_str!(concat!("../../../stdlib/", $first))),
            $((concat!("stdlib/", $rest), include_str!(concat!("../../../stdlib/", $rest))),)*
        ];
    };
}

prelude_files!(
    "prelude.kl",
    "functional.kl",
    "system.kl",
    "math.kl",
    "strings.kl",
    "arrays.kl",
    "maps.kl",
);

/// Where the prelude is in the span space: after every program's files (`diag::SPAN_SPACE_END`),
/// so that a span tells by itself whether it is the prelude's.
pub const PRELUDE_BASE: u32 = crate::diag::SPAN_SPACE_END + 1;

const _: () = assert!(PRELUDE.len() < (u32::MAX - PRELUDE_BASE) as usize);

/// The prelude, parsed once per process. It parses and checks without a diagnostic (a unit test,
/// `the_prelude_is_its_files_and_checks_without_a_diagnostic`, says so);
/// its spans are offsets into [`PRELUDE`] from [`PRELUDE_BASE`]. No diagnostic about a program
/// points there; a fault inside a prelude function names its place ([`prelude_location`]).
pub fn prelude() -> &'static crate::syntax::ast::File {
    static PARSED: std::sync::OnceLock<crate::syntax::ast::File> = std::sync::OnceLock::new();
    PARSED.get_or_init(|| {
        let mut diags = Vec::new();
        crate::syntax::parse_source_at(PRELUDE, PRELUDE_BASE, &mut diags)
    })
}

/// The place of `offset` of the span space when it is in the prelude: the `stdlib/` file, line
/// and column.
pub fn prelude_location(offset: u32) -> Option<crate::diag::Location<'static>> {
    static FILES: std::sync::OnceLock<Vec<(u32, SourceFile)>> = std::sync::OnceLock::new();
    let offset = offset.checked_sub(PRELUDE_BASE)?;
    let files = FILES.get_or_init(|| {
        let mut base = 0u32;
        (PRELUDE_FILES.iter())
            .map(|&(name, text)| {
                let placed = (base, SourceFile::new(name, text));
                base += text.len() as u32 + 1;
                placed
            })
            .collect()
    });
    let index = files.partition_point(|(base, _)| *base <= offset).max(1) - 1;
    let (base, file) = &files[index];
    let (line, col) = file.line_col(offset - base);
    Some(crate::diag::Location {
        file: &file.name,
        line,
        col,
    })
}

/// Runs the whole front end on one file with the default [`Options`]: the IR, or every
/// diagnostic found.
pub fn compile(source: &SourceFile) -> Result<ir::Program, Vec<Diagnostic>> {
    compile_with(source, Options::default())
}

/// Runs the whole front end on one file: the IR, or every diagnostic found. The file is a
/// program given as text: a `use` in it is an error (`E0605`); the driver's loader reads the
/// files of a program on disk and compiles them with [`compile_parsed`].
pub fn compile_with(source: &SourceFile, options: Options) -> Result<ir::Program, Vec<Diagnostic>> {
    on_front_end_thread(|| compile_here(source, options))
}

/// Runs `work` on a thread with [`FRONT_END_STACK`] bytes of stack (or on this one, if no
/// thread can be made), for the front end's recursion.
pub fn on_front_end_thread<R: Send>(work: impl Fn() -> R + Sync) -> R {
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("keel-front-end".into())
            .stack_size(FRONT_END_STACK)
            .spawn_scoped(scope, &work);
        match worker {
            Ok(handle) => match handle.join() {
                Ok(result) => result,
                // Keep the compiler's own panic visible (the panic hook has printed it).
                Err(panic) => std::panic::resume_unwind(panic),
            },
            // No thread could be made: run on this one.
            Err(_) => work(),
        }
    })
}

/// [`compile_with`] on the calling thread, which must have at least [`FRONT_END_STACK`] bytes of
/// stack: for callers that compile many files on a thread of their own (the fuzz targets,
/// docs/fuzzing.md), which would otherwise pay for a fresh thread and its stack every time.
pub fn compile_on_this_thread(
    source: &SourceFile,
    options: Options,
) -> Result<ir::Program, Vec<Diagnostic>> {
    compile_here(source, options)
}

fn compile_here(source: &SourceFile, options: Options) -> Result<ir::Program, Vec<Diagnostic>> {
    compile_text_here(source, options).map(|compiled| compiled.program)
}

/// The rest of the front end, on the calling thread (which must have [`FRONT_END_STACK`] bytes
/// of stack), for a program already parsed: `file`, the one tree of all its files
/// (`syntax::imports::join`), its spans placed by `sources`, and `diags`, what parsing and
/// loading reported. The IR, or every diagnostic found, in source order.
pub fn compile_parsed(
    sources: &dyn Sources,
    file: ast::File,
    diags: Vec<Diagnostic>,
    options: Options,
) -> Result<ir::Program, Vec<Diagnostic>> {
    compile_full(sources, file, diags, options, None).map(|compiled| compiled.program)
}

/// What the front end makes of a program that compiles.
pub struct Compiled {
    pub program: ir::Program,
    /// Its warnings (`lints`), in source order.
    pub warnings: Vec<Diagnostic>,
    /// For an entry of a REPL session, what it keeps in the session's slots.
    pub session: Vec<types::SessionKept>,
}

/// [`compile_parsed`] with the program's warnings, and for an entry of a REPL session
/// (`crate::repl`), whose own code (reading and keeping the session's variables) is the part of
/// the span space `session_code` covers, what the entry keeps in the session's slots.
pub fn compile_full(
    sources: &dyn Sources,
    file: ast::File,
    diags: Vec<Diagnostic>,
    options: Options,
    session_code: Option<crate::diag::Span>,
) -> Result<Compiled, Vec<Diagnostic>> {
    Ok(check_full(sources, file, diags, session_code)?.lower(sources, options))
}

/// A program that checked: its typed tree and its warnings, not yet lowered.
pub struct Checked {
    typed: types::TProgram,
    /// Its warnings (`lints`), in source order.
    pub warnings: Vec<Diagnostic>,
}

/// The first half of [`compile_full`]: checks the program and finds its warnings (what `keel
/// check` needs), without lowering it.
pub fn check_full(
    sources: &dyn Sources,
    file: ast::File,
    mut diags: Vec<Diagnostic>,
    session_code: Option<crate::diag::Span>,
) -> Result<Checked, Vec<Diagnostic>> {
    let mut typed = timing::time("check", || {
        check::check_session_file(&file, prelude(), session_code, &mut diags)
    });
    // The syntax tree is not needed any more: free it before the IR is built next to the typed
    // tree (a third of the front end's peak memory on a long `else if` chain).
    timing::time("free the syntax tree", || drop(file));
    if !diags.is_empty() {
        diags.sort_by_key(|d| (d.span.start, d.span.end));
        return Err(diags);
    }
    let mut warnings = std::mem::take(&mut typed.warnings);
    warnings.extend(timing::time("lints", || lints::lint(&typed, sources)));
    warnings.sort_by_key(|w| (w.span.start, w.span.end));
    Ok(Checked { typed, warnings })
}

impl Checked {
    /// The second half of [`compile_full`]: the program's IR, with `options`.
    pub fn lower(mut self, sources: &dyn Sources, options: Options) -> Compiled {
        let session = std::mem::take(&mut self.typed.session);
        timing::time("fuse", || fuse::fuse_program(&mut self.typed));
        Compiled {
            program: timing::time("lower", || {
                lower::lower_program(&self.typed, sources, options)
            }),
            warnings: self.warnings,
            session,
        }
    }
}

/// [`compile_with`] with the program's warnings (see [`Compiled`]).
pub fn compile_text(source: &SourceFile, options: Options) -> Result<Compiled, Vec<Diagnostic>> {
    on_front_end_thread(|| compile_text_here(source, options))
}

/// [`compile_text`] on the calling thread.
fn compile_text_here(source: &SourceFile, options: Options) -> Result<Compiled, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let file = crate::syntax::parse_source(&source.text, &mut diags);
    crate::syntax::imports::refuse_uses(&file, &mut diags);
    compile_full(source, file, diags, options, None)
}

#[cfg(test)]
mod checks_tests;

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
    fn debug_info_marks_each_function_and_statement_where_its_code_begins() {
        let source = "fn add(int a, int b) -> int {\n    let c = a + b;\n    c\n}\n\
                      let i = 0;\nwhile i < 2 {\n    i = add(i, 1);\n}\n";
        let options = super::Options {
            debug_info: true,
            ..super::Options::default()
        };
        let program = super::compile_with(&SourceFile::new("t.kl", source), options)
            .unwrap_or_else(|d| panic!("{d:#?}"));
        verify(&program).unwrap_or_else(|e| panic!("{e:#?}"));
        let text = program_to_string(&program);
        let add = &text[text.find("fn#0").expect("add")..];
        let add = &add[..add.find("\n}\n").expect("end of add")];
        // The declaration (its name), the `let`'s value, the tail.
        assert_eq!(
            add.lines()
                .filter(|l| l.contains("line @"))
                .collect::<Vec<_>>(),
            ["    line @1:4", "    line @2:13", "    line @3:5"],
            "{add}"
        );
        // The top level: `let i = 0`, the loop's test (in its header), the assignment.
        let main = &text[text.find("<main>").expect("main")..];
        assert_eq!(
            main.lines()
                .filter(|l| l.contains("line @"))
                .collect::<Vec<_>>(),
            ["    line @5:9", "    line @6:7", "    line @7:9"],
            "{main}"
        );
        // Without the option, no markers, and the IR is the same without them.
        let plain = ir(source);
        assert!(!plain.contains("line @"), "{plain}");
        let without: String = (text.lines())
            .filter(|line| !line.contains("line @"))
            .flat_map(|line| [line, "\n"])
            .collect();
        assert_eq!(without, plain);
    }

    #[test]
    fn the_prelude_is_its_files_and_checks_without_a_diagnostic() {
        let joined: Vec<&str> = super::PRELUDE_FILES.iter().map(|&(_, text)| text).collect();
        assert_eq!(super::PRELUDE, joined.join("\n"));
        // Lexing, parsing and checking (the prelude's functions are checked with every program,
        // its generic ones when they are used: here, with a program using none).
        let mut diags = Vec::new();
        crate::syntax::parse_source_at(super::PRELUDE, super::PRELUDE_BASE, &mut diags);
        assert!(diags.is_empty(), "{diags:#?}");
        assert_eq!(codes(""), Vec::<&str>::new());
        // A prelude offset names its file and line.
        let math = super::PRELUDE
            .find("fn gcd(")
            .expect("gcd is in the prelude");
        let at =
            super::prelude_location(super::PRELUDE_BASE + math as u32).expect("a prelude offset");
        let line = 1 + super::PRELUDE_FILES[3].1
            [..super::PRELUDE_FILES[3].1.find("fn gcd(").unwrap()]
            .matches('\n')
            .count() as u32;
        assert_eq!((at.file, at.line, at.col), ("stdlib/math.kl", line, 1));
        assert!(super::prelude_location(super::PRELUDE_BASE - 1).is_none());
    }

    #[test]
    fn compiling_on_this_thread_is_compiling() {
        // On a thread with the front end's stack, as its callers must provide.
        std::thread::Builder::new()
            .stack_size(super::FRONT_END_STACK)
            .spawn(|| {
                for source in [
                    "fn f(int n) -> int { return n + 1; } println(f(1));",
                    "let x = ;",
                ] {
                    let file = SourceFile::new("t.kl", source);
                    let here = super::compile_on_this_thread(&file, super::Options::default());
                    let there = compile(&file);
                    match (here, there) {
                        (Ok(a), Ok(b)) => assert_eq!(program_to_string(&a), program_to_string(&b)),
                        (Err(a), Err(b)) => assert_eq!(format!("{a:?}"), format!("{b:?}")),
                        (a, b) => panic!("{source}: {a:?} vs {b:?}"),
                    }
                }
            })
            .unwrap()
            .join()
            .unwrap();
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
            "struct P { float x, [string] tags, } let ps = [new P { x: 1.5, tags: [] }]; ps[0].tags = push(ps[0].tags, \"a\"); ps[0].x += 2.0; println(ps);",
            "let a: [[int]] = [[1], []]; a[1] = push(a[1], 2); a[0][0] = a[1][0]; for row in a { println(row); } println(a == [[2], [2]]);",
            "let s = \"a\" + 1 + 2.5 + true; s += \"!\"; println(s < \"b\" && s != \"c\"); println(s[1..3]); println(to_int(sqrt(16.0)));",
            "fn f(string s, string t) -> string { s + t } let x = \"q\"; println(f(x, x)); println(x);",
        ] {
            ir(source);
        }
    }

    #[test]
    fn values_move_on_last_use_and_are_retained_otherwise() {
        let text =
            ir("let a = [1]; let b = a; b[0] = 2; println(a); let c = push(b, 3); println(c);");
        // `a` is used after `b = a`, so it is retained; `b` is last used by `push`, so it moves.
        assert!(text.contains("retain %0"), "{text}");
        assert!(!text.contains("retain %1"), "{text}");
        assert_eq!(text.matches("release").count(), 2, "{text}");
    }

    #[test]
    fn updates_of_a_field_or_element_from_itself_move_the_old_value() {
        let decl = "struct B { [int] items, }\nlet b = new B { items: [] };\nlet g = [[1]];\n";
        for update in [
            "b.items = push(b.items, 1);",
            "b.items = concat(b.items, [2, 3]);",
            "g[0] = pop(g[0]);",
            "let i = 0;\ng[i] = sort(g[i]);",
        ] {
            let text = ir(&format!("{decl}{update}\nprintln(b);\nprintln(g);"));
            assert!(text.contains("_take"), "{update}\n{text}");
            assert!(!text.contains("_get"), "{update}\n{text}");
        }
        // The rest of the call reads the emptied variable, or the indices differ: no move.
        for update in [
            "b.items = push(b.items, len(b.items));",
            "let i = 0;\ng[i] = push(g[0], 1);",
            "g[0] = push(g[0], g[0][0]);",
            "g[0] = push(g[0], len(g) + 1);",
        ] {
            let text = ir(&format!("{decl}{update}\nprintln(b);\nprintln(g);"));
            assert!(text.contains("_get"), "{update}\n{text}");
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
        let text = ir("fn f(int x) -> int { x + { x = 5; x } } println(f(1));");
        // x is copied into a temporary before the block runs.
        assert!(text.contains("%1 = %0"), "{text}");
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
        assert_eq!(codes("fn f(float x) {} f(1);"), ["E0401"]);
        assert_eq!(codes("let a = [];"), ["E0415"]);
        assert_eq!(codes("let a = [1, true];"), ["E0401"]);
        assert_eq!(codes("struct P { int x, } let p = new P { };"), ["E0416"]);
        assert_eq!(
            codes("struct P { int x, } let p = new P { x: 1 }; println(p.y);"),
            ["E0414"]
        );
        assert_eq!(codes("let x = 1; x[0] = 2;"), ["E0413"]);
        assert_eq!(codes("for c in \"abc\" { }"), ["E0413"]);
        assert_eq!(codes("println(1 + 2.0);"), ["E0403"]);
        assert_eq!(codes("println(len(1));"), ["E0401"]);
        assert_eq!(codes("println(push([1], 2, 3));"), ["E0402"]);
        assert_eq!(codes("fn len(int x) {}"), ["E0303"]);
        assert_eq!(codes("fn live_retries() {}"), ["E0303"]);
    }

    #[test]
    fn check_errors() {
        assert_eq!(codes("assert(1);"), ["E0502"]);
        assert_eq!(codes("assert(true, 1);"), ["E0503"]);
        assert_eq!(codes("assert(nope);"), ["E0301"]);
        assert_eq!(codes("fn f(int n) requires n { }"), ["E0504"]);
        assert_eq!(codes("fn f(int n) -> int ensures result { n }"), ["E0504"]);
        assert_eq!(
            codes("fn f(int n) -> int requires result > 0 { n }"),
            ["E0505"]
        );
        assert_eq!(codes("println(result);"), ["E0505"]);
        assert_eq!(codes("fn f(int n) ensures result > 0 { }"), ["E0506"]);
        assert_eq!(
            codes("fn f(int n) -> int requires { n = 1; true } { n }"),
            ["E0507"]
        );
        assert_eq!(codes("fn f(int n) requires m > 0 { }"), ["E0301"]);
        assert_eq!(codes("live invariant 1 { }"), ["E0512"]);
        // A variable called `result` is an ordinary variable.
        assert_eq!(codes("let result = 1; println(result);"), [] as [&str; 0]);
        // In `ensures`, `result` shadows a parameter of that name.
        assert_eq!(
            codes("fn f(bool result) -> int ensures result > 0 { 1 }"),
            [] as [&str; 0]
        );
        // `live` and `assert` keep control-flow analysis working.
        assert_eq!(
            codes("fn f() -> int { live { return 1; } }"),
            [] as [&str; 0]
        );
        assert_eq!(
            codes("fn f() -> int { while true { live { break; } } }"),
            ["E0407"]
        );
    }

    #[test]
    fn a_program_given_as_text_cannot_import() {
        assert_eq!(codes("use \"lib/a.kl\";\nfn f() {}\nf();"), ["E0605"]);
        // Without the file, its names are not known either; each is its own diagnostic.
        assert_eq!(codes("use \"a.kl\";\nf();"), ["E0605", "E0302"]);
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
