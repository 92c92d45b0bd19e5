//! The JIT backend (stub, being written).
use crate::ir::Program;

/// Compiles `program` in-process and runs it, returning its exit status.
pub fn run(_program: &Program, _args: Vec<String>) -> Result<i32, String> {
    Err("the JIT is not written yet".into())
}
