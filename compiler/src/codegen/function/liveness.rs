//! Which IR locals carry a value from one block into another, and over which blocks.
//!
//! A local is *live into* a block when some path from the block's start reads it before
//! assigning it. A fault handler counts as reachable from every point of its block (a fault may
//! leave before any of the block's assignments), so whatever a handler is live into is live into
//! each block it handles, whatever those blocks assign. A local live into no block is
//! *block-local*: every read of it follows an assignment in the same block.
//!
//! For the other locals, [`extents`] gives the range of block indexes spanned by the blocks it is
//! live into and the blocks that assign it: two locals whose ranges do not overlap are never
//! both present in one block (see `variables`, which uses that to share Cranelift variables).
//! Entry liveness (a read that may see the initial value: a parameter, or zero) is reported
//! too.
//!
//! The analysis is sparse, one local at a time from the blocks that read it on entry, so its
//! cost is the size of the liveness, not blocks × locals.
//!
//! What this module does not do: decide anything about Cranelift (see `variables`).

use crate::ir::{Block, Function, Local, Operand};

/// The blocks over which a local's value must survive.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) struct Extent {
    /// The smallest block index the local is live into or assigned in.
    pub(super) first: u32,
    /// The largest one.
    pub(super) last: u32,
    /// Whether a read may see the value the local has on entry to the function.
    pub(super) live_at_entry: bool,
}

/// The extent of each local, or `None` for a block-local one.
pub(super) fn extents(func: &Function) -> Vec<Option<Extent>> {
    let mention = Mentions::of(func);
    let n_blocks = func.blocks.len();
    let mut preds: Vec<Vec<u32>> = vec![Vec::new(); n_blocks];
    let mut handled: Vec<Vec<u32>> = vec![Vec::new(); n_blocks];
    for (b, block) in func.blocks.iter().enumerate() {
        for succ in block.term.successors() {
            preds[succ.0 as usize].push(b as u32);
        }
        if let Some(handler) = block.handler {
            handled[handler.0 as usize].push(b as u32);
        }
    }

    // Per-block marks, stamped with the local being analysed (plus one), so they need no reset.
    let mut assigned = vec![0u32; n_blocks];
    let mut live = vec![0u32; n_blocks];
    let mut work = Vec::new();
    let mut result = Vec::with_capacity(func.locals.len());
    for local in 0..func.locals.len() {
        let stamp = local as u32 + 1;
        let reads = &mention.read_first[local];
        if reads.is_empty() {
            result.push(None);
            continue;
        }
        let (mut first, mut last) = (u32::MAX, 0);
        for &b in &mention.assigned[local] {
            assigned[b as usize] = stamp;
            (first, last) = (first.min(b), last.max(b));
        }
        for &b in reads {
            live[b as usize] = stamp;
            work.push(b);
        }
        while let Some(b) = work.pop() {
            (first, last) = (first.min(b), last.max(b));
            for &p in &preds[b as usize] {
                if live[p as usize] != stamp && assigned[p as usize] != stamp {
                    live[p as usize] = stamp;
                    work.push(p);
                }
            }
            for &p in &handled[b as usize] {
                if live[p as usize] != stamp {
                    live[p as usize] = stamp;
                    work.push(p);
                }
            }
        }
        result.push(Some(Extent {
            first,
            last,
            live_at_entry: live.first() == Some(&stamp),
        }));
    }
    result
}

/// For each local, the blocks that read it before assigning it and the blocks that assign it
/// (each block once, in increasing order).
struct Mentions {
    read_first: Vec<Vec<u32>>,
    assigned: Vec<Vec<u32>>,
}

impl Mentions {
    fn of(func: &Function) -> Mentions {
        let n = func.locals.len();
        let mut mentions = Mentions {
            read_first: vec![Vec::new(); n],
            assigned: vec![Vec::new(); n],
        };
        for (b, block) in func.blocks.iter().enumerate() {
            mentions.add_block(b as u32, block);
        }
        mentions
    }

    fn add_block(&mut self, b: u32, block: &Block) {
        let read = |mentions: &mut Mentions, operand: &Operand| {
            if let Operand::Local(Local(local)) = *operand {
                let local = local as usize;
                if mentions.assigned[local].last() != Some(&b)
                    && mentions.read_first[local].last() != Some(&b)
                {
                    mentions.read_first[local].push(b);
                }
            }
        };
        for inst in &block.insts {
            inst.for_each_use(|operand| read(self, operand));
            // A container updated in place is read (above) and then assigned.
            for Local(local) in inst.def().into_iter().chain(inst.updated_in_place()) {
                let assigned = &mut self.assigned[local as usize];
                if assigned.last() != Some(&b) {
                    assigned.push(b);
                }
            }
        }
        if let Some(operand) = block.term.operand() {
            read(self, operand);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{BinaryOp, BlockId, Inst, LocalInfo, SiteId, Term, Ty};

    fn function(locals: usize, params: u32, blocks: Vec<Block>) -> Function {
        Function {
            name: "f".into(),
            env: false,
            param_count: params,
            ret: Ty::Int,
            locals: (0..locals)
                .map(|_| LocalInfo {
                    ty: Ty::Int,
                    name: None,
                })
                .collect(),
            blocks,
        }
    }

    fn local(n: u32) -> Operand {
        Operand::Local(Local(n))
    }

    fn add(dst: u32, lhs: Operand, rhs: Operand) -> Inst {
        Inst::Binary {
            dst: Local(dst),
            op: BinaryOp::AddInt,
            lhs,
            rhs,
            site: SiteId(0),
        }
    }

    fn copy(dst: u32, src: Operand) -> Inst {
        Inst::Copy {
            dst: Local(dst),
            src,
        }
    }

    fn extent(first: u32, last: u32, live_at_entry: bool) -> Option<Extent> {
        Some(Extent {
            first,
            last,
            live_at_entry,
        })
    }

    #[test]
    fn temporaries_of_one_block_are_block_local() {
        // b0: %1 = %0 + 1; %2 = %1 + %1; return %2
        let func = function(
            3,
            1,
            vec![Block::new(
                vec![
                    add(1, local(0), Operand::Int(1)),
                    add(2, local(1), local(1)),
                ],
                Term::Return(Some(local(2))),
            )],
        );
        assert_eq!(extents(&func), vec![extent(0, 0, true), None, None]);
    }

    #[test]
    fn values_crossing_blocks_span_them() {
        // b0: %1 = 1; jump b1
        // b1: %2 = %1 + 1; branch %3, b1, b2     (%3 never assigned: zero on entry)
        // b2: return %2
        let func = function(
            4,
            0,
            vec![
                Block::new(vec![copy(1, Operand::Int(1))], Term::Jump(BlockId(1))),
                Block::new(
                    vec![add(2, local(1), Operand::Int(1))],
                    Term::Branch {
                        cond: local(3),
                        then_to: BlockId(1),
                        else_to: BlockId(2),
                    },
                ),
                Block::new(Vec::new(), Term::Return(Some(local(2)))),
            ],
        );
        assert_eq!(
            extents(&func),
            vec![
                None,
                extent(0, 1, false),
                extent(1, 2, false),
                extent(0, 1, true)
            ]
        );
    }

    #[test]
    fn a_handler_reads_from_every_point_of_its_blocks() {
        // b0: %0 = 1; jump b1
        // b1 (handler b2): %0 = 2; %1 = %0 + 1; return %1
        // b2: return %0
        let mut body = Block::new(
            vec![copy(0, Operand::Int(2)), add(1, local(0), Operand::Int(1))],
            Term::Return(Some(local(1))),
        );
        body.handler = Some(BlockId(2));
        let func = function(
            2,
            0,
            vec![
                Block::new(vec![copy(0, Operand::Int(1))], Term::Jump(BlockId(1))),
                body,
                Block::new(Vec::new(), Term::Return(Some(local(0)))),
            ],
        );
        // A fault before `%0 = 2` reaches b2 with the value of b0.
        assert_eq!(extents(&func), vec![extent(0, 2, false), None]);
    }
}
