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

/// The program `text` describes; panics, with the reason, when it does not parse or verify.
pub fn program(text: &str) -> Program {
    let program = parse(text, "t.kir").unwrap_or_else(|e| panic!("test IR: {e}\n{text}"));
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
