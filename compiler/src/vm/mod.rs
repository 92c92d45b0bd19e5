//! The bytecode VM backend (stub, being written).
use crate::ir::Program;

/// Compiled bytecode for a whole program.
pub struct Module;

/// Compiles the IR to bytecode.
pub fn compile(_program: &Program) -> Module {
    Module
}

/// Renders bytecode for `keel emit bytecode`.
pub fn disassemble(_module: &Module) -> String {
    String::new()
}

/// Runs a program to completion, returning its exit status (faults and `exit` end the process).
pub fn run(_program: &Program, _args: Vec<String>) -> i32 {
    0
}
