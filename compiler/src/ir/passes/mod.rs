//! IR-to-IR passes run after lowering, before any backend.
//!
//! Each pass keeps the program's meaning exactly (same output, same faults at the same sites)
//! and leaves IR that still verifies. Passes here are cheap and always on.

pub mod fold_constants;
pub mod rc;
pub mod simplify_cfg;
pub mod specialize;
pub mod strength;

use super::{Function, Program};

/// Runs every pass on every function.
pub fn run_all(program: &mut Program) {
    program.functions.iter_mut().for_each(run_on_function);
}

/// Runs every pass on `func` (lowering does, as it finishes each function; timed as `IR
/// passes` by `--time-passes`).
pub fn run_on_function(func: &mut Function) {
    crate::timing::time("IR passes", || {
        fold_constants::fold(func);
        strength::reduce(func);
        simplify_cfg::simplify(func);
        rc::insert_rc(func);
    })
}
