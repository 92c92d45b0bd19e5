//! The front end on huge generated inputs, through the `keel` binary: one mistake gives one
//! diagnostic, output stays small, and nothing crashes, however big or deep the input.
//!
//! Each test writes a generated program (too big to commit under `tests/programs/`) to a
//! temporary directory, runs `keel check NAME.kl` there and asserts the exact diagnostics and exit
//! status, and that standard error stays under [`MAX_STDERR`] bytes. A generous [`TIMEOUT`] is a
//! sanity bound that turns a hang or a blow-up into a failure; it is not a performance test.
//! The rules these tests pin down are in `docs/errors.md` ("One mistake, one diagnostic" and
//! "How much is printed").

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one `keel check` may take before the test fails.
const TIMEOUT: Duration = Duration::from_secs(120);

/// The most standard error any of these runs may write.
const MAX_STDERR: usize = 16 * 1024;

/// Runs `keel check NAME.kl` on `source`: the exit status and standard error.
fn check(name: &str, source: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = format!("{name}.kl");
    std::fs::write(dir.path().join(&file), source).expect("the program is written");
    let mut child = Command::new(env!("CARGO_BIN_EXE_keel"))
        .args(["check", &file])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("keel starts");
    let mut pipe = child.stderr.take().expect("stderr is piped");
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        pipe.read_to_end(&mut bytes).map(|_| bytes)
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("keel can be waited for") {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`keel check {file}` did not finish within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stderr = reader
        .join()
        .expect("the reader thread")
        .expect("stderr is read");
    assert!(
        stderr.len() <= MAX_STDERR,
        "`keel check {file}` wrote {} bytes to stderr; the start:\n{}",
        stderr.len(),
        String::from_utf8_lossy(&stderr[..stderr.len().min(2000)])
    );
    let stderr = String::from_utf8(stderr).expect("stderr is UTF-8");
    (status.code(), stderr)
}

/// The text of a one-line snippet diagnostic as rendered (`line` is the excerpt shown, `caret`
/// the underline's column in it, counting from 1, and `width` its length).
fn diagnostic(
    header: &str,
    at: (usize, usize),
    excerpt: &str,
    caret: (usize, usize),
    label: &str,
) -> String {
    let (line, col) = at;
    let pad = " ".repeat(line.to_string().len());
    let under = format!("{}{}", " ".repeat(caret.0 - 1), "^".repeat(caret.1));
    format!(
        "{header}\n{pad} ┌─ {{file}}:{line}:{col}\n{pad} │\n{line} │ {excerpt}\n{pad} │ {under} {label}\n"
    )
}

/// `text` with the file name filled in.
fn named(text: &str, file: &str) -> String {
    text.replace("{file}", file)
}

/// The summary line for `count` errors in `NAME.kl`.
fn summary(name: &str, count: usize) -> String {
    let plural = if count == 1 { "" } else { "s" };
    format!("error: could not compile `{name}.kl` due to {count} error{plural}\n")
}

const NESTED_TOO_DEEPLY: &str = "error[E0204]: code nested too deeply";
const NESTED_NOTE: &str = "  │\n  = split the code into functions or intermediate variables\n\n";
const NESTING_LABEL: &str = "more than 1000 levels of nested expressions or blocks";

/// `if true {` 100,000 times on one line (then, if `closed`, as many `}`): one E0204 at the
/// 501st `if` (each level is a statement and a block), with a snippet of 82 characters.
fn nested_ifs_on_one_line(name: &str, closed: bool) {
    let mut source = "if true {".repeat(100_000);
    if closed {
        source.push_str(&"}".repeat(100_000));
    }
    source.push('\n');
    let at = 500 * 9;
    let excerpt = format!("…{}…", &source[at - 40..at + 42]);
    let expected = named(
        &diagnostic(
            NESTED_TOO_DEEPLY,
            (1, at + 1),
            &excerpt,
            (42, 2),
            NESTING_LABEL,
        ),
        &format!("{name}.kl"),
    ) + NESTED_NOTE
        + &summary(name, 1);
    assert_eq!(check(name, &source), (Some(1), expected));
}

#[test]
fn a_hundred_thousand_nested_ifs_are_one_error() {
    nested_ifs_on_one_line("nested_ifs", true);
}

#[test]
fn a_hundred_thousand_unclosed_ifs_are_one_error() {
    nested_ifs_on_one_line("unclosed_ifs", false);
}

#[test]
fn nested_ifs_on_their_own_lines_are_one_error() {
    let source = format!("{}{}", "if true {\n".repeat(100_000), "}\n".repeat(100_000));
    let expected = named(
        &diagnostic(
            NESTED_TOO_DEEPLY,
            (501, 1),
            "if true {",
            (1, 2),
            NESTING_LABEL,
        ),
        "nested_lines.kl",
    ) + "    │\n    = split the code into functions or intermediate variables\n\n"
        + &summary("nested_lines", 1);
    assert_eq!(check("nested_lines", &source), (Some(1), expected));
}

#[test]
fn a_megabyte_line_shows_a_bounded_excerpt() {
    let line = format!(
        "let x = [{}oops{}];",
        "1, ".repeat(300_000),
        ", 2".repeat(300_000)
    );
    let at = line.find("oops").expect("the mistake is in the line");
    let excerpt = format!("…{}…", &line[at - 40..at + 44]);
    let expected = named(
        &diagnostic(
            "error[E0301]: unknown variable `oops`",
            (1, at + 1),
            &excerpt,
            (42, 4),
            "not declared in this scope",
        ),
        "long_line.kl",
    ) + "\n"
        + &summary("long_line", 1);
    assert_eq!(
        check("long_line", &format!("{line}\n")),
        (Some(1), expected)
    );
}

#[test]
fn a_megabyte_of_unknown_characters_is_one_error() {
    let source = format!("{}\n", "#".repeat(1_000_000));
    // The message keeps its first 160 and last 60 characters; the snippet, 40 on each side of
    // the start and the end of the label, which runs through the `…` between them.
    let message = format!(
        "error[E0101]: unexpected characters `{}…{}`",
        "#".repeat(160 - 23),
        "#".repeat(59)
    );
    let excerpt = format!("{}…{}", "#".repeat(40), "#".repeat(40));
    let expected = named(
        &diagnostic(&message, (1, 1), &excerpt, (1, 81), "not part of any token"),
        "hashes.kl",
    ) + "\n"
        + &summary("hashes", 1);
    assert_eq!(check("hashes", &source), (Some(1), expected));
}

#[test]
fn only_the_first_fifty_of_many_errors_are_printed() {
    let source = "println(zz);\n".repeat(100_000);
    let mut expected = String::new();
    for line in 1..=50 {
        expected += &named(
            &diagnostic(
                "error[E0301]: unknown variable `zz`",
                (line, 9),
                "println(zz);",
                (9, 2),
                "not declared in this scope",
            ),
            "many.kl",
        );
        expected.push('\n');
    }
    expected += "error: and 99950 more errors (only the first 50 are shown)\n";
    expected += &summary("many", 100_000);
    assert_eq!(check("many", &source), (Some(1), expected));
}

/// Checks that `source` gives exactly one E0204 "expression nested too deeply" at `at`.
fn too_deep(name: &str, source: &str, at: (usize, usize)) {
    let (status, stderr) = check(name, source);
    assert_eq!(status, Some(1), "{stderr}");
    let start = format!(
        "error[E0204]: expression nested too deeply\n  ┌─ {name}.kl:{}:{}\n",
        at.0, at.1
    );
    assert!(stderr.starts_with(&start), "{stderr}");
    assert!(
        stderr.contains("the expression is more than 102000 levels deep here"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("error[").count(), 1, "{stderr}");
    assert!(stderr.ends_with(&summary(name, 1)), "{stderr}");
}

#[test]
fn long_chains_are_one_error_not_a_crash() {
    // Each of these once overflowed the front end's stack: chains are read in loops, so only the
    // depth limit stops the tree they make from growing.
    let links = 300_000;
    let source = format!(
        "let x = true;\nif x {{ }}{}\n",
        " else if x { }".repeat(links)
    );
    // The tree is built from the last link up (each ` else if x { }` is 14 characters, the last
    // has height 2): the first too deep is the `if` of link 102,001 from the end.
    let link = links - 102_000 + 1;
    too_deep("else_if", &source, (2, 15 + 14 * (link - 1)));
    let source = format!("let a = [1];\nprintln(a{});\n", "[0]".repeat(300_000));
    too_deep("index", &source, (2, 9 + 3 * 102_000));
    let source = format!(
        "struct P {{ int x, }}\nlet p = new P {{ x: 1 }};\nlet q = p{};\n",
        ".x".repeat(300_000)
    );
    too_deep("field", &source, (3, 9 + 2 * 102_000));
    // Three nested sums of 50,000 terms: each short enough, together too deep.
    let sum = format!("{})", " + 1".repeat(50_000));
    let source = format!("let x = (((1{};\n", sum.repeat(3));
    // The inner two chains make 100,001 levels; the 2,000th term of the third is one too many.
    too_deep("sums", &source, (1, 12 + 2 * sum.len() + 4 * 2_000));
}

/// The one error at the end of the programs of [`deep_programs_within_the_limits_check`], on
/// their line 4: it keeps the (slower) backend from running, while the checker goes through the
/// whole tree.
fn mismatch_on_line_4(name: &str) -> String {
    named(
        &diagnostic(
            "error[E0401]: mismatched types",
            (4, 15),
            "let z: bool = 1;",
            (15, 1),
            "expected `bool`, found `int`",
        ),
        &format!("{name}.kl"),
    ) + "  │\n  = the value of `z` must be `bool`\n\n"
        + &summary(name, 1)
}

#[test]
fn deep_programs_within_the_limits_check() {
    // 100,000 links: 100,003 levels, within the limit.
    let source = format!(
        "let x = 3;\nlet y = if x == 0 {{ 0 }}{} else {{ -1 }};\nprintln(y);\nlet z: bool = 1;\n",
        (1..100_000)
            .map(|i| format!(" else if x == {i} {{ {i} }}"))
            .collect::<String>()
    );
    assert_eq!(
        check("else_ifs", &source),
        (Some(1), mismatch_on_line_4("else_ifs"))
    );
    let source = format!(
        "let total = 0{};\nprintln(total);\n\nlet z: bool = 1;\n",
        " + 1".repeat(100_000)
    );
    assert_eq!(
        check("long_sum", &source),
        (Some(1), mismatch_on_line_4("long_sum"))
    );
}
