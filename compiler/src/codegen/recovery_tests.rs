//! White-box tests of fault recovery (`live` blocks) in compiled code: what an object file holds.
//!
//! What recovery does is tested on every backend by the IR files in `tests/ir/live/` (and the
//! `live/` programs of the program suite); this module checks only what cannot be seen from the
//! outside: that programs without `live` blocks pay nothing for them.

use crate::aot::{emit_object, Target};
use crate::ir::{testing, Program};

/// A program with a live block whose body faults three calls deep.
const FAULT_THREE_CALLS_DEEP: &str =
    include_str!("../../../tests/ir/live/fault_three_calls_deep.kir");

/// Programs without `live` blocks get no pending-fault tests: their objects never mention the
/// flag. Programs with one do.
#[test]
fn only_programs_that_recover_test_the_pending_flag() {
    let host = Target::host().expect("tests run on a supported host");
    let mentions_flag = |program: &Program| {
        let object = emit_object(program, &host).unwrap_or_else(|e| panic!("{e}"));
        let symbol = keel_runtime::recover::FAULT_PENDING_SYMBOL.as_bytes();
        object.windows(symbol.len()).any(|window| window == symbol)
    };
    let with_live = testing::program(FAULT_THREE_CALLS_DEEP);
    assert!(with_live.recovers());
    assert!(mentions_flag(&with_live));
    let mut without_live = with_live;
    for func in &mut without_live.functions {
        for block in &mut func.blocks {
            block.handler = None;
        }
    }
    assert!(!without_live.recovers());
    assert!(!mentions_flag(&without_live));
}
