//! Property tests: no input, however malformed, may panic the front end.
//!
//! Four kinds of input are generated: arbitrary text (any Unicode scalar, control characters,
//! lossily decoded random bytes), token soup (random sequences of Keel keywords, operators,
//! punctuation, names and literals, including huge and malformed integers, bad escapes and
//! unterminated strings and comments), syntactically plausible but semantically random programs
//! (wrong types, unknown names, misplaced `break`/`return`, recursion with inferred results), and
//! mutations of the real programs under `tests/programs/` (byte ranges deleted, duplicated,
//! swapped or moved, on character boundaries).
//!
//! For every input, [`keel::sema::compile`] must return, and compiling twice must give the same
//! result (no hash-order nondeterminism). On success the IR must pass the verifier.
//! On failure there must be at least one diagnostic, every span of every diagnostic
//! must lie within the text on character boundaries, and rendering them (with and without colour)
//! must not panic.
//!
//! What this file does not cover: huge and deeply nested inputs (the parser bounds nesting and
//! tree depth, and a stack overflow would abort the process rather than panic, so they are run
//! through the `keel` binary by `limits.rs`; see also `tests/programs/regressions/`), and the
//! behaviour of programs when run (see `differential.rs`).
//!
//! The seed is fixed so that CI is reproducible; set `PROPTEST_RNG_SEED=<n>` to explore other
//! inputs and `PROPTEST_CASES=<n>` to change how many each property tries.

use std::path::Path;

use keel::diag::{render, Diagnostic, SourceFile, Span};
use keel::ir::print::program_to_string;
use keel::ir::verify::verify;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

/// The proptest configuration of every property here: `cases` inputs from a fixed seed unless the
/// environment asks otherwise, no persistence files, bounded shrinking.
fn config(cases: u32) -> Config {
    let from_env = Config::default();
    Config {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            from_env.cases
        } else {
            cases
        },
        rng_seed: if std::env::var_os("PROPTEST_RNG_SEED").is_some() {
            from_env.rng_seed
        } else {
            RngSeed::Fixed(0x6b65_656c)
        },
        failure_persistence: None,
        max_shrink_iters: 2048,
        ..from_env
    }
}

// ---- the check every input goes through ----------------------------------------------------------

/// Runs the front end on `text` and checks everything the module doc promises.
fn check_front_end(text: &str) -> Result<(), TestCaseError> {
    let source = SourceFile::new("f.kl", text);
    let result = keel::sema::compile(&source);
    let again = keel::sema::compile(&source);
    match (&result, &again) {
        (Ok(first), Ok(second)) => prop_assert_eq!(
            program_to_string(first),
            program_to_string(second),
            "two compilations gave different IR"
        ),
        (Err(first), Err(second)) => {
            prop_assert_eq!(first, second, "two compilations gave different diagnostics")
        }
        _ => prop_assert!(false, "one compilation failed and the other did not"),
    }
    match result {
        Ok(program) => {
            if let Err(errors) = verify(&program) {
                return Err(TestCaseError::fail(format!(
                    "the IR of this program does not verify:\n{}\n--- program\n{text}",
                    errors.join("\n")
                )));
            }
        }
        Err(diagnostics) => {
            prop_assert!(
                !diagnostics.is_empty(),
                "compile failed without a diagnostic"
            );
            for diagnostic in &diagnostics {
                check_diagnostic(&source, diagnostic)?;
            }
            let plain = render(&source, &diagnostics, false);
            prop_assert!(
                plain.contains(diagnostics[0].code),
                "rendered text lacks the code {}:\n{plain}",
                diagnostics[0].code
            );
            render(&source, &diagnostics, true);
        }
    }
    Ok(())
}

fn check_diagnostic(source: &SourceFile, diagnostic: &Diagnostic) -> Result<(), TestCaseError> {
    let code = diagnostic.code;
    prop_assert!(
        code.len() == 5 && code.starts_with('E') && code[1..].bytes().all(|b| b.is_ascii_digit()),
        "malformed code {code:?}"
    );
    prop_assert!(
        !diagnostic.message.is_empty(),
        "{code} has an empty message"
    );
    check_span(source, diagnostic.span, code)?;
    for (span, _) in &diagnostic.secondary {
        check_span(source, *span, code)?;
    }
    Ok(())
}

fn check_span(source: &SourceFile, span: Span, code: &str) -> Result<(), TestCaseError> {
    let text = &source.text;
    let (start, end) = (span.start as usize, span.end as usize);
    prop_assert!(
        start <= end && end <= text.len(),
        "{code}: span {start}..{end} is not within the text ({} bytes)",
        text.len()
    );
    prop_assert!(
        text.is_char_boundary(start) && text.is_char_boundary(end),
        "{code}: span {start}..{end} splits a character"
    );
    source.line_col(span.start);
    source.line_col(span.end);
    Ok(())
}

// ---- (a) arbitrary text --------------------------------------------------------------------------

/// Characters that tend to trouble lexers and renderers.
const AWKWARD_CHARS: &[char] = &[
    '\0',
    '\u{7}',
    '\u{8}',
    '\t',
    '\n',
    '\u{b}',
    '\u{c}',
    '\r',
    '\u{1b}',
    '\u{7f}',
    '\u{85}',
    '\u{a0}',
    '\u{ad}',
    '\u{301}',
    '\u{200b}',
    '\u{200d}',
    '\u{2028}',
    '\u{2029}',
    '\u{202e}',
    '\u{fe0f}',
    '\u{feff}',
    '\u{fffd}',
    '\u{ffff}',
    '\u{10ffff}',
    'é',
    'ß',
    'İ',
    'Σ',
    '变',
    '𝔸',
    '😀',
    '"',
    '\\',
    '/',
    '*',
    '{',
    '}',
    '(',
    ')',
    ';',
    '_',
];

fn any_text() -> impl Strategy<Value = String> {
    let character = prop_oneof![
        3 => any::<char>(),
        3 => proptest::char::range('\0', '\u{7f}'),
        2 => proptest::sample::select(AWKWARD_CHARS),
    ];
    prop_oneof![
        proptest::collection::vec(character, 0..300).prop_map(|chars| chars.into_iter().collect()),
        proptest::collection::vec(any::<u8>(), 0..300)
            .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
    ]
}

// ---- (b) token soup ------------------------------------------------------------------------------

/// Every keyword, operator and punctuation token, builtin names, and some near misses.
const FIXED_TOKENS: &[&str] = &[
    "fn",
    "let",
    "static",
    "if",
    "else",
    "while",
    "for",
    "in",
    "return",
    "break",
    "continue",
    "struct",
    "enum",
    "new",
    "match",
    "live",
    "requires",
    "ensures",
    "invariant",
    "assert",
    "type",
    "use",
    "impl",
    "trait",
    "true",
    "false",
    "int",
    "bool",
    "string",
    "void",
    "float",
    "print",
    "println",
    "eprintln",
    "exit",
    "main",
    "result",
    "backoff",
    "within",
    "base_ms",
    "factor",
    "max_ms",
    "ms",
    "s",
    "50ms",
    "live_retries",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ",",
    ";",
    ":",
    ".",
    "..",
    "...",
    "->",
    "?",
    "=",
    "+=",
    "-=",
    "*=",
    "/=",
    "%=",
    "<<=",
    "||",
    "&&",
    "|",
    "^",
    "&",
    "==",
    "!=",
    "<",
    ">",
    "<=",
    ">=",
    "<<",
    ">>",
    "+",
    "-",
    "*",
    "/",
    "%",
    "!",
    "#",
    "#!",
    "@",
    "$",
    "`",
    "'",
    "~",
    "\\",
    "\"",
    "0",
    "00",
    "0x",
    "0b",
    "0_",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "18446744073709551616",
    "0xffffffffffffffff",
    "0x8000000000000000",
    "0x7fffffffffffffff",
    "0b",
    "0b2",
    "0x_",
    "1.5",
    "2.0e-3",
    "1e999",
    "1.",
    ".5",
    "\"\"",
    "\"\\\"",
    "\"\\u{}\"",
    "\"\\u{110000}\"",
    "\"\\u{d800}\"",
    "\"\\u{zz}\"",
    "\"\\u{1F600}\"",
    "\"\\u{\"",
    "\"\\x41\"",
    "\"\\q\"",
    "\"",
    "//",
    "/*",
    "*/",
    "/**/",
    "/*/",
    "é",
    "naïve",
    "变量",
    "_",
    "__",
    "x",
    "y",
    "n",
    "f",
    "g",
];

/// A string literal, sometimes with bad escapes or no closing quote.
fn string_literal() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-z ]{0,4}",
        Just("\\n".to_string()),
        Just("\\t".to_string()),
        Just("\\0".to_string()),
        Just("\\\\".to_string()),
        Just("\\\"".to_string()),
        Just("\\\n".to_string()),
        Just("\\".to_string()),
        "\\\\u\\{[0-9a-fA-FxZ_]{0,9}\\}?",
        "\\\\[a-zA-Z0-9'{}]",
        any::<char>().prop_map(String::from),
    ];
    (proptest::collection::vec(piece, 0..6), any::<bool>()).prop_map(|(pieces, closed)| {
        let mut text = String::from("\"");
        text.extend(pieces);
        if closed {
            text.push('"');
        }
        text
    })
}

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => proptest::sample::select(FIXED_TOKENS).prop_map(String::from),
        2 => "[A-Za-z_][A-Za-z0-9_]{0,8}",
        2 => "[0-9][0-9_]{0,40}",
        1 => "0[xXbB][0-9a-zA-Z_]{0,24}",
        1 => "[0-9]{1,3}\\.[0-9]{1,3}([eE][+-]?[0-9]{1,4})?",
        2 => string_literal(),
        1 => "//[^\n]{0,10}",
        1 => "/\\*[a-z*/ \n]{0,10}(\\*/)?",
    ]
}

fn separator() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(&[" ", " ", " ", "", "\n", "\t", "\r\n", "  \n  "][..])
}

fn token_soup() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        proptest::collection::vec((token(), separator()), 0..150),
    )
        .prop_map(|(shebang, tokens)| {
            let mut text = if shebang {
                String::from("#!/usr/bin/env keel\n")
            } else {
                String::new()
            };
            for (token, separator) in tokens {
                text.push_str(&token);
                text.push_str(separator);
            }
            text
        })
}

// ---- (c) plausible programs with random semantics ------------------------------------------------

const NAMES: &[&str] = &["a", "b", "n", "x", "f", "g", "main", "print", "exit"];
const TYPES: &[&str] = &["int", "bool", "string", "void", "float", "T", "[int]"];
const BINARY_OPS: &[&str] = &[
    "||", "&&", "|", "^", "&", "==", "!=", "<", ">", "<=", ">=", "<<", ">>", "+", "-", "*", "/",
    "%",
];
const ASSIGN_OPS: &[&str] = &["=", "+=", "-=", "*=", "/=", "%="];

fn name() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(NAMES)
}

fn type_name() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(TYPES)
}

fn leaf_expr() -> impl Strategy<Value = String> {
    prop_oneof![
        "-?[0-9]{1,3}",
        Just("9223372036854775807".to_string()),
        Just("0x7fffffffffffffff".to_string()),
        Just("true".to_string()),
        Just("false".to_string()),
        Just("\"s\"".to_string()),
        name().prop_map(String::from),
    ]
}

/// A statement whose expressions come from `expr`.
fn statement(expr: BoxedStrategy<String>) -> impl Strategy<Value = String> {
    let block = proptest::collection::vec(expr.clone(), 0..3)
        .prop_map(|stmts| format!("{{ {} }}", stmts.join("; ")));
    prop_oneof![
        (name(), proptest::option::of(type_name()), expr.clone()).prop_map(|(n, t, e)| match t {
            Some(t) => format!("let {n}: {t} = {e};"),
            None => format!("let {n} = {e};"),
        }),
        (name(), proptest::sample::select(ASSIGN_OPS), expr.clone())
            .prop_map(|(n, op, e)| format!("{n} {op} {e};")),
        expr.clone().prop_map(|e| format!("{e};")),
        (expr.clone(), block.clone()).prop_map(|(c, b)| format!("while {c} {b}")),
        (name(), expr.clone(), expr.clone(), block)
            .prop_map(|(n, lo, hi, b)| format!("for {n} in {lo}..{hi} {b}")),
        Just("break;".to_string()),
        Just("continue;".to_string()),
        proptest::option::of(expr).prop_map(|e| match e {
            Some(e) => format!("return {e};"),
            None => "return;".to_string(),
        }),
    ]
}

fn expression() -> impl Strategy<Value = String> {
    leaf_expr().prop_recursive(4, 48, 4, |inner| {
        let inner = inner.boxed();
        prop_oneof![
            (
                inner.clone(),
                proptest::sample::select(BINARY_OPS),
                inner.clone()
            )
                .prop_map(|(l, op, r)| format!("{l} {op} {r}")),
            (
                proptest::sample::select(&["-", "!", "--", "!-"][..]),
                inner.clone()
            )
                .prop_map(|(op, e)| format!("{op}{e}")),
            inner.clone().prop_map(|e| format!("({e})")),
            (name(), proptest::collection::vec(inner.clone(), 0..3))
                .prop_map(|(f, args)| format!("{f}({})", args.join(", "))),
            (
                inner.clone(),
                inner.clone(),
                proptest::option::of(inner.clone())
            )
                .prop_map(|(c, t, e)| match e {
                    Some(e) => format!("if {c} {{ {t} }} else {{ {e} }}"),
                    None => format!("if {c} {{ {t} }}"),
                }),
            (
                proptest::collection::vec(statement(inner.clone()), 0..3),
                proptest::option::of(inner)
            )
                .prop_map(|(stmts, tail)| format!(
                    "{{ {} {} }}",
                    stmts.join(" "),
                    tail.unwrap_or_default()
                )),
        ]
    })
}

fn function_item() -> impl Strategy<Value = String> {
    (
        name(),
        proptest::collection::vec((type_name(), name()), 0..3),
        proptest::option::of(type_name()),
        proptest::collection::vec(statement(expression().boxed()), 0..5),
        proptest::option::of(expression()),
    )
        .prop_map(|(name, params, result, body, tail)| {
            let params: Vec<String> = params.iter().map(|(t, n)| format!("{t} {n}")).collect();
            let result = result.map(|t| format!(" -> {t}")).unwrap_or_default();
            format!(
                "fn {name}({}){result} {{\n    {}\n    {}\n}}\n",
                params.join(", "),
                body.join("\n    "),
                tail.unwrap_or_default()
            )
        })
}

fn plausible_program() -> impl Strategy<Value = String> {
    let item = prop_oneof![
        2 => function_item(),
        3 => statement(expression().boxed()).prop_map(|s| format!("{s}\n")),
    ];
    proptest::collection::vec(item, 0..8).prop_map(|items| items.concat())
}

// ---- (d) mutations of the program suite ----------------------------------------------------------

/// Suite programs larger than this are left out: they test size limits of the compiler (such as
/// `regressions/long_sum.kl`, which exhausts the stack of a test thread), and mutating them is slow.
const MAX_PROGRAM_BYTES: usize = 16 * 1024;

/// Every `.kl` program of the suite up to [`MAX_PROGRAM_BYTES`], with its path, sorted.
fn suite_programs() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/programs");
    let mut found = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for path in entries.flatten().map(|entry| entry.path()) {
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|ext| ext == "kl") {
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                if text.len() <= MAX_PROGRAM_BYTES {
                    let name = path.strip_prefix(&root).unwrap_or(&path).display();
                    found.push((name.to_string(), text));
                }
            }
        }
    }
    found.sort();
    found
}

/// [`suite_programs`], read once per test process.
fn cached_suite_programs() -> &'static [(String, String)] {
    static PROGRAMS: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    PROGRAMS.get_or_init(suite_programs)
}

/// One edit; positions and lengths are fractions (in 1/65536) of the text's length so they apply
/// to any program and shrink toward the start of the text.
#[derive(Clone, Debug)]
enum Mutation {
    Delete { at: u16, len: u16 },
    Duplicate { at: u16, len: u16 },
    Swap { first: u16, second: u16, len: u16 },
    Move { from: u16, to: u16, len: u16 },
    Insert { at: u16, text: String },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let len = prop_oneof![3 => 0u16..600, 1 => any::<u16>()];
    prop_oneof![
        (any::<u16>(), len.clone()).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<u16>(), len.clone()).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
        (any::<u16>(), any::<u16>(), len.clone()).prop_map(|(first, second, len)| Mutation::Swap {
            first,
            second,
            len
        }),
        (any::<u16>(), any::<u16>(), len).prop_map(|(from, to, len)| Mutation::Move {
            from,
            to,
            len
        }),
        (any::<u16>(), token()).prop_map(|(at, text)| Mutation::Insert { at, text }),
    ]
}

/// The char boundary nearest below `fraction` of the way through `text`.
fn boundary(text: &str, fraction: u16) -> usize {
    let mut at = text.len() * fraction as usize / 65536;
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The range of `len` (a fraction) starting at `start`, on char boundaries, within the text.
fn range_from(text: &str, start: usize, len: u16) -> std::ops::Range<usize> {
    let mut end = (start + text.len() * len as usize / 65536).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    start..end
}

fn apply(text: &str, mutation: &Mutation) -> String {
    match mutation {
        Mutation::Delete { at, len } => {
            let range = range_from(text, boundary(text, *at), *len);
            format!("{}{}", &text[..range.start], &text[range.end..])
        }
        Mutation::Duplicate { at, len } => {
            let range = range_from(text, boundary(text, *at), *len);
            format!(
                "{}{}{}",
                &text[..range.end],
                &text[range.clone()],
                &text[range.end..]
            )
        }
        Mutation::Swap { first, second, len } => {
            let (a, b) = (boundary(text, *first), boundary(text, *second));
            let (low, high) = (a.min(b), a.max(b));
            let first = range_from(text, low, *len);
            let first = first.start..first.end.min(high);
            let second = range_from(text, high, *len);
            format!(
                "{}{}{}{}{}",
                &text[..first.start],
                &text[second.clone()],
                &text[first.end..second.start],
                &text[first.clone()],
                &text[second.end..]
            )
        }
        Mutation::Move { from, to, len } => {
            let range = range_from(text, boundary(text, *from), *len);
            let piece = &text[range.clone()];
            let rest = format!("{}{}", &text[..range.start], &text[range.end..]);
            let at = boundary(&rest, *to);
            format!("{}{piece}{}", &rest[..at], &rest[at..])
        }
        Mutation::Insert { at, text: inserted } => {
            let at = boundary(text, *at);
            format!("{}{inserted} {}", &text[..at], &text[at..])
        }
    }
}

// ---- the properties ------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn arbitrary_text_never_panics(text in any_text()) {
        check_front_end(&text)?;
    }

}

proptest! {
    #![proptest_config(config(1500))]

    #[test]
    fn token_soup_never_panics(text in token_soup()) {
        check_front_end(&text)?;
    }

    #[test]
    fn plausible_programs_never_panic(text in plausible_program()) {
        check_front_end(&text)?;
    }

    #[test]
    fn mutated_suite_programs_never_panic(
        pick in any::<proptest::sample::Index>(),
        mutations in proptest::collection::vec(mutation(), 1..5),
    ) {
        let programs = cached_suite_programs();
        prop_assume!(!programs.is_empty());
        let (name, original) = &programs[pick.index(programs.len())];
        let mut text = original.clone();
        for mutation in &mutations {
            text = apply(&text, mutation);
        }
        check_front_end(&text).map_err(|error| {
            TestCaseError::fail(format!("{error}\n(mutated from {name})"))
        })?;
    }
}

/// The suite's programs themselves, unmutated, pass the same check (a sanity check of the
/// property's own logic, and of every error program's diagnostics).
#[test]
fn suite_programs_pass_the_check() {
    let programs = suite_programs();
    assert!(
        programs.len() > 10,
        "found only {} suite programs",
        programs.len()
    );
    for (name, text) in programs {
        if let Err(error) = check_front_end(&text) {
            panic!("{name}: {error}");
        }
    }
}

#[test]
fn mutations_stay_on_char_boundaries() {
    let text = "é变😀 x";
    for a in [0, 1, 20000, 40000, 65535] {
        for b in [0, 1, 30000, 65535] {
            for len in [0, 1, 9000, 30000, 65535] {
                for mutation in [
                    Mutation::Delete { at: a, len },
                    Mutation::Duplicate { at: a, len },
                    Mutation::Swap {
                        first: a,
                        second: b,
                        len,
                    },
                    Mutation::Move {
                        from: a,
                        to: b,
                        len,
                    },
                ] {
                    let mutated = apply(text, &mutation);
                    assert!(
                        mutated.chars().all(|c| text.contains(c)),
                        "{mutation:?} gave {mutated:?}"
                    );
                }
            }
        }
    }
}
