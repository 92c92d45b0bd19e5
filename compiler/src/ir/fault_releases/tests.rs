//! Release lists of small programs, checked against the IR they are computed from.

use super::FaultReleases;
use crate::diag::SourceFile;
use crate::ir::{BlockId, Function, Inst, Local, Program};

fn compile(source: &str) -> Program {
    crate::sema::compile(&SourceFile::new("t.kl", source)).unwrap_or_else(|d| panic!("{d:#?}"))
}

fn function<'p>(program: &'p Program, name: &str) -> &'p Function {
    program
        .functions
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no function {name}"))
}

/// The release list of every instruction of `func` that can fault and whose kind `pick`
/// accepts, with the names (or numbers) of the locals, sorted.
fn lists(func: &Function, runs_in_live_blocks: bool, pick: fn(&Inst) -> bool) -> Vec<Vec<String>> {
    let releases = FaultReleases::of(func, runs_in_live_blocks);
    let name = |local: Local| {
        func.locals[local.0 as usize]
            .name
            .clone()
            .unwrap_or_else(|| format!("%{}", local.0))
    };
    let mut found = Vec::new();
    for (b, block) in func.blocks.iter().enumerate() {
        for (i, inst) in block.insts.iter().enumerate() {
            if inst.can_fault() && pick(inst) {
                let mut list: Vec<String> = releases
                    .at(BlockId(b as u32), i)
                    .iter()
                    .map(|&l| name(l))
                    .collect();
                list.sort();
                found.push(list);
            }
        }
    }
    found
}

fn is_call(inst: &Inst) -> bool {
    matches!(inst, Inst::Call { .. })
}

#[test]
fn a_frame_left_by_a_fault_releases_what_it_owns_at_the_call() {
    let program = compile(
        "fn level2(int x) -> int { return 100 / x; }
         fn level1(int x) -> int { let parts = [x, x + 1]; return level2(x) + len(parts); }
         let result = 0;
         live { result = level1(live_retries()); }
         println(result);",
    );
    let level1 = function(&program, "level1");
    assert_eq!(
        lists(level1, true, is_call),
        vec![vec!["parts".to_string()]]
    );
    // Where no `live` block can be active, faults end the process: no lists at all.
    assert!(FaultReleases::of(level1, false).is_empty());
}

#[test]
fn the_recovery_block_keeps_its_snapshots_and_the_variables_the_body_reads() {
    let program = compile(
        "fn f(string s, int d) -> int { return len(s) / d; }
         let names = [\"a\"];
         let label = \"l\";
         live {
             names = push(names, label);
             println(f(label, live_retries()));
         }
         println(names);",
    );
    let main = function(&program, "<main>");
    // At the call of `f`: the body's `names` (overwritten from its snapshot by the recovery
    // block) is released; `label` (read by the retried body) and the snapshot are kept.
    assert_eq!(lists(main, false, is_call), vec![vec!["names".to_string()]]);
}

#[test]
fn a_value_an_array_set_did_not_store_is_released_with_every_reference() {
    let program = compile(
        "fn f([string] xs, string s) -> int { xs[9] = s; return len(s) + len(xs); }
         live { println(f([\"a\"], \"b\" + live_retries())); }",
    );
    let f = function(&program, "f");
    let sets = lists(f, true, |inst| matches!(inst, Inst::ArraySet { .. }));
    // `s` is retained for the store and kept for `len(s)`: two references, both the frame's.
    assert_eq!(sets, vec![vec!["s", "s", "xs"]]);
}

#[test]
fn a_call_hands_its_arguments_to_the_callee() {
    let program = compile(
        "fn g(string s) -> int { return len(s) / 0; }
         fn f(string s) -> int { let t = s + \"!\"; return g(t) + g(s); }
         live { println(f(\"x\" + live_retries())); }",
    );
    let f = function(&program, "f");
    // First call: `t` moves into `g`, `s` (still needed) stays; second call: `s` moves.
    assert_eq!(lists(f, true, is_call), vec![vec!["s".to_string()], vec![]]);
}
