//! IR-to-IR passes run after lowering, before any backend.
//!
//! Each pass keeps the program's meaning exactly (same output, same faults at the same sites)
//! and leaves IR that still verifies. Passes here are cheap and always on.

pub mod fold_constants;
pub mod rc;
pub mod simplify_cfg;
pub mod specialize;
pub mod strength;

use super::Program;

/// Runs every pass on every function.
pub fn run_all(program: &mut Program) {
    for func in &mut program.functions {
        fold_constants::fold(func);
        strength::reduce(func);
        simplify_cfg::simplify(func);
        rc::insert_rc(func);
    }
}
