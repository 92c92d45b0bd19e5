//! What a recovered fault releases: for each instruction that can fault, the heap values its
//! frame owns at that point and that the place the fault continues at does not take over.
//!
//! After the RC pass (`ir::passes::rc`) a heap local owns a reference exactly while it is live:
//! every owned reference is consumed or released later on every path, and a local read later
//! holds one. So when instruction `i` of a block faults, the frame owns the heap locals live
//! after `i` (with the block's fault handler counted as a successor, as the RC pass counts it),
//! except `i`'s own result, which a faulting instruction never produces. Where the fault goes
//! decides what of that must be released:
//! - to the block's handler `h` (a `live` block's recovery block): everything except the locals
//!   live at the start of `h`, which the recovery block reads and so expects to own (its
//!   snapshots and the variables the retried body reads); the variables the body assigns are
//!   overwritten there from their snapshots, so their current values are released;
//! - out of the function (no handler): everything, since the frame is left.
//!
//! What the faulting instruction itself consumed is accounted for by its kind: a `Call`'s
//! arguments belong to the callee, whose own frame releases them (they are its parameters); a
//! `CallRt` that consumes an argument and faults releases it itself (`keel_array_pop`,
//! `keel_array_fill`, `keel_fault`); an `ArraySet` faults before it stores its value, so the
//! value stays the frame's and is in the list (twice when the frame keeps a reference of its own
//! too, as after `retain v; a[i] = v`).
//!
//! Each backend releases a list after the fault has been reported and before it continues at
//! the handler or leaves the function: codegen on the cold fault path of the instruction (see
//! `codegen::function::recovery`), the VM from a side table its unwind reads (`vm::interp`).
//! A backend that keeps a local as a borrow where the IR owns it (a read whose retain and
//! release it elides) leaves that local out, and one that keeps a value elsewhere than its
//! local (the VM's arguments written in place) releases it there. Nothing is computed for the
//! happy path, and nothing for functions where every fault ends the process.
//!
//! What this module does not do: look at `Term::Unwind`, which follows the `CallRt` of
//! `RtFunc::Fault` whose list already covers it (the RC pass releases every value that dies in
//! the block before the unwind, so both lists are empty), or decide where faults go (that is
//! [`crate::ir::Block::handler`]).

use crate::ir::passes::rc::Liveness;
use crate::ir::{BlockId, Function, Inst, Local, Operand};

/// The release lists of one function, by block and instruction index.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FaultReleases {
    /// For each block, the instructions with a non-empty list, in increasing index order.
    blocks: Vec<Vec<(u32, Box<[Local]>)>>,
}

impl FaultReleases {
    /// The release lists of `func` (after the RC pass). When `runs_in_live_blocks` is false (no
    /// `live` block can be active while the function runs outside its own `live` blocks; see
    /// [`crate::ir::Program::runs_in_live_blocks`]), only blocks with a handler get lists: the
    /// faults of the others end the process.
    pub fn of(func: &Function, runs_in_live_blocks: bool) -> FaultReleases {
        let heap = func.owned_heap();
        let recovers = |block: &crate::ir::Block| runs_in_live_blocks || block.handler.is_some();
        if !heap.iter().any(|&h| h) || !func.blocks.iter().any(recovers) {
            return FaultReleases::default();
        }
        let liveness = Liveness::compute(func, &heap);
        let mut live = LiveSet::new(func.locals.len());
        let mut blocks = Vec::with_capacity(func.blocks.len());
        for (b, block) in func.blocks.iter().enumerate() {
            let mut lists = Vec::new();
            if recovers(block) && block.insts.iter().any(Inst::can_fault) {
                let expected: &[u32] = match block.handler {
                    Some(h) => &liveness.live_in[h.0 as usize],
                    None => &[],
                };
                live.reset(&liveness.live_out[b]);
                if let Some(&Operand::Local(l)) = block.term.operand() {
                    if heap[l.0 as usize] {
                        live.insert(l.0);
                    }
                }
                for (index, inst) in block.insts.iter().enumerate().rev() {
                    if inst.can_fault() {
                        let list = releases(inst, &live, expected, &heap);
                        if !list.is_empty() {
                            lists.push((index as u32, list.into_boxed_slice()));
                        }
                    }
                    live.step_back(inst, &heap);
                }
                lists.reverse();
            }
            blocks.push(lists);
        }
        FaultReleases { blocks }
    }

    /// The heap locals to release when instruction `inst` of block `block` faults (a local may
    /// appear twice: it owns two references), in no particular order.
    pub fn at(&self, block: BlockId, inst: usize) -> &[Local] {
        let Some(lists) = self.blocks.get(block.0 as usize) else {
            return &[];
        };
        match lists.binary_search_by_key(&(inst as u32), |&(index, _)| index) {
            Ok(found) => &lists[found].1,
            Err(_) => &[],
        }
    }

    /// Whether no instruction releases anything.
    pub fn is_empty(&self) -> bool {
        self.blocks.iter().all(Vec::is_empty)
    }
}

/// The list of `inst`, which can fault, given the heap locals `live` after it and those the
/// fault's destination expects to own (`expected`, increasing).
fn releases(inst: &Inst, live: &LiveSet, expected: &[u32], heap: &[bool]) -> Vec<Local> {
    let def = inst.def();
    let mut list: Vec<Local> = live
        .members
        .iter()
        .map(|&x| Local(x))
        .filter(|&x| Some(x) != def && expected.binary_search(&x.0).is_err())
        .collect();
    // The value an `ArraySet` did not store: its reference is the frame's again.
    if let Inst::ArraySet {
        value: Operand::Local(value),
        ..
    } = *inst
    {
        if heap[value.0 as usize] {
            list.push(value);
        }
    }
    list
}

/// A set of locals with membership in O(1) and iteration in the order of insertion.
struct LiveSet {
    /// Where each local is in `members`, if it is in the set.
    position: Vec<Option<u32>>,
    members: Vec<u32>,
}

impl LiveSet {
    fn new(locals: usize) -> LiveSet {
        LiveSet {
            position: vec![None; locals],
            members: Vec::new(),
        }
    }

    /// Makes the set hold exactly `locals`.
    fn reset(&mut self, locals: &[u32]) {
        for &x in &self.members {
            self.position[x as usize] = None;
        }
        self.members.clear();
        for &x in locals {
            self.insert(x);
        }
    }

    fn insert(&mut self, x: u32) {
        if self.position[x as usize].is_none() {
            self.position[x as usize] = Some(self.members.len() as u32);
            self.members.push(x);
        }
    }

    fn remove(&mut self, x: u32) {
        if let Some(at) = self.position[x as usize].take() {
            self.members.swap_remove(at as usize);
            if let Some(&moved) = self.members.get(at as usize) {
                self.position[moved as usize] = Some(at);
            }
        }
    }

    /// From the heap locals live after `inst` to those live before it.
    fn step_back(&mut self, inst: &Inst, heap: &[bool]) {
        if let Some(def) = inst.def() {
            if heap[def.0 as usize] {
                self.remove(def.0);
            }
        }
        inst.for_each_use(|operand| {
            if let Operand::Local(l) = *operand {
                if heap[l.0 as usize] {
                    self.insert(l.0);
                }
            }
        });
    }
}

#[cfg(test)]
mod tests;
