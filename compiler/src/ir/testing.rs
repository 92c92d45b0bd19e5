//! The one way tests build IR programs: from the text `keel emit ir` prints.
//!
//! Backend unit tests that must stay in Rust (white-box checks of the JIT's machine code, of the
//! VM's bytecode, of what an executable's ELF header says) write their program as IR text and
//! get it here, parsed (`ir::parse`) and verified (`ir::verify`). Tests of what a program does on
//! every backend belong in `tests/ir/*.kir` instead. Sites are in the file `t.kir`.
//!
//! What this module does not do: build anything the printer cannot write.

use super::parse::parse;
use super::verify::verify;
use super::Program;

/// `fn fib(n) -> int { if n < 2 { return n } return fib(n - 1) + fib(n - 2) }` as function 0,
/// shaped the way the front end lowers it (a temporary for each subexpression), and an empty
/// entry function: for tests that compile one function and call it from Rust.
pub const FIB: &str = "
    fn#0 fib(%0: int) -> int {
      locals %1: bool, %2: int, %3: int, %4: int, %5: int, %6: int
    b0:
      %1 = lt.int %0, 2
      branch %1, b1, b2
    b1:
      return %0
    b2:
      %2 = sub.int %0, 1 @1:1
      %3 = call fib(%2) @1:1
      %4 = sub.int %0, 2 @1:1
      %5 = call fib(%4) @1:1
      %6 = add.int %3, %5 @1:1
      return %6
    }
    fn#1 (entry) <main>() -> void {
    b0:
      return
    }";

/// The program `text` describes; panics, with the reason, when it does not parse or verify.
/// Indentation is free (see [`indented`]), so the text can sit indented in a Rust string.
pub fn program(text: &str) -> Program {
    let text = indented(text);
    let program = parse(&text, "t.kir").unwrap_or_else(|e| panic!("test IR: {e}\n{text}"));
    if let Err(errors) = verify(&program) {
        panic!("test IR does not verify: {}\n{text}", errors.join("\n"));
    }
    program
}

/// A program of one entry function whose body is `body` (instruction lines and a terminator),
/// with the locals `locals` (`%0: int, %1: string`) and the string literals `strings`.
pub fn main_program(strings: &[&str], locals: &str, body: &str) -> Program {
    let mut text = String::new();
    for (index, string) in strings.iter().enumerate() {
        text.push_str(&format!("str#{index} = {string:?}\n"));
    }
    text.push_str("fn#0 (entry) <main>() -> void {\n");
    if !locals.is_empty() {
        text.push_str(&format!("  locals {locals}\n"));
    }
    text.push_str("b0:\n");
    for line in body.lines().map(str::trim).filter(|line| !line.is_empty()) {
        text.push_str(&format!("    {line}\n"));
    }
    text.push_str("}\n");
    program(&text)
}

/// `text` with each line indented as the printer indents it: definitions, block labels, comments
/// and closing braces at the margin, `locals` by two spaces, instructions by four.
pub fn indented(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines().map(str::trim) {
        let is_label = line
            .strip_prefix('b')
            .and_then(|rest| rest.split_once(':'))
            .is_some_and(|(index, _)| {
                !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit())
            });
        let margin = if line.is_empty()
            || is_label
            || line == "}"
            || ["fn#", "str#", "struct#", "array#", "//"]
                .iter()
                .any(|p| line.starts_with(p))
        {
            ""
        } else if line.starts_with("locals ") {
            "  "
        } else {
            "    "
        };
        out.push_str(margin);
        out.push_str(line);
        out.push('\n');
    }
    out
}
