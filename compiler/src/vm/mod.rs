//! The bytecode VM backend (`keel run --vm`, `keel emit bytecode`).
//!
//! The IR is compiled to a register bytecode ([`bytecode`]) and executed by one interpreter loop
//! ([`interp`]). Design points, after Lua 5 and ARCHITECTURE.md §6:
//! - register-based: IR locals are registers of the function's window in one contiguous file of
//!   untagged `i64` slots; calls copy no arguments and allocate nothing (the caller writes them
//!   into the callee's window);
//! - instructions specialised by static type, with immediate forms and fused compare-and-jump;
//! - blocks laid out so most jumps are fallthroughs, loop conditions duplicated at the loop's end.
//!
//! Values are untagged words too: a `float` is its bits, a string, array or struct the address of
//! a reference-counted heap object laid out as `keel_runtime::layout` says. Element and field
//! access, reference counting and the copy-on-write check run inline in the interpreter; anything
//! larger (allocation, freeing, copying, string and array functions) calls the runtime.
//!
//! Modules: [`bytecode`] (instruction set, encoding, validated [`Module`]), [`plan`] (fusion,
//! forwarding, layout decisions), [`compile`] (IR → bytecode), [`interp`] (the loop),
//! [`disasm`] (text), [`ops`] (checked integer operations), [`heap`] (inline object access),
//! [`rt`] (runtime calls), [`descs`] (the type descriptors the runtime reads), `releases` (which
//! registers a recovered fault releases), [`budget`] (runs on a fuel budget that always come back
//! to the caller, for fuzzing).
//!
//! Every observable effect (printing, faults, `exit`) goes through `keel_runtime`, like the other
//! backends. A fault inside a `live` block is recovered as the IR says: each instruction that can
//! fault has a handler and a list of the registers its fault releases in a side table, and the
//! interpreter unwinds frames on the cold path ([`interp`]). `KEEL_TRACE=1` prints each executed instruction to standard error.

pub mod budget;
pub mod bytecode;
pub mod compile;
pub mod descs;
pub mod disasm;
pub mod heap;
pub mod interp;
pub mod ops;
pub mod plan;
mod releases;
pub mod rt;

#[cfg(test)]
mod budget_tests;
#[cfg(test)]
mod recovery_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod value_tests;

pub use bytecode::Module;

use crate::ir::Program;

/// Compiles the IR to bytecode. The program must verify (`ir::verify`); the front end's output
/// always does. Debug-information markers (`Inst::Line`) are taken out first, so that the
/// bytecode is the same with them as without.
pub fn compile(program: &Program) -> Module {
    if program.has_line_markers() {
        let mut program = program.clone();
        program.remove_line_markers();
        compile::compile(&program)
    } else {
        compile::compile(program)
    }
}

/// Renders bytecode for `keel emit bytecode`.
pub fn disassemble(module: &Module) -> String {
    disasm::disassemble(module)
}

/// Runs a program to completion, returning its exit status (`exit` and unrecovered faults end
/// the process).
pub fn run(program: &Program, args: Vec<String>) -> i32 {
    run_module(&compile(program), args)
}

/// Calls function `func` of `module` with `args` and returns its result word (0 for `void`), on
/// this thread; `exit` and unrecovered faults end the process.
pub fn call(module: &Module, func: u32, args: &[i64]) -> i64 {
    interp::execute(module, func, args, false)
}

/// Runs a compiled program to completion, as [`run`] does: for callers that compile once and
/// keep the bytecode (the REPL keeps every entry's, for the descriptors its values point to).
pub fn run_module(module: &Module, args: Vec<String>) -> i32 {
    keel_runtime::process::set_args(args);
    let trace = std::env::var_os("KEEL_TRACE").is_some_and(|v| v == "1");
    interp::execute(module, module.entry(), &[], trace);
    keel_runtime::keel_finish()
}
