//! CFG cleanup: drops blocks that cannot be reached and merges straight-line chains.
//!
//! A block that ends in `jump B`, where B has no other predecessor, absorbs B's instructions and
//! terminator, when both have the same fault handler. Unreachable blocks (code after `return`, `break` or `exit`) are removed, and the
//! remaining blocks are renumbered in their original order, the entry staying block 0. The pass
//! neither moves instructions across blocks in any other way nor touches instructions themselves.

use crate::ir::{Block, BlockId, Function, Term};

/// Simplifies `func`'s control-flow graph in place.
pub fn simplify(func: &mut Function) {
    merge_chains(&mut func.blocks);
    remove_unreachable(&mut func.blocks);
}

fn predecessor_counts(blocks: &[Block]) -> Vec<u32> {
    let mut counts = vec![0u32; blocks.len()];
    for block in blocks {
        for succ in block.successors() {
            counts[succ.0 as usize] += 1;
        }
    }
    counts
}

/// Merges every `jump`-to-single-predecessor pair (the absorbed blocks become unreachable).
fn merge_chains(blocks: &mut [Block]) {
    let preds = predecessor_counts(blocks);
    for b in 0..blocks.len() {
        // Keep absorbing while this block jumps to a block that only it reaches.
        while let Term::Jump(target) = blocks[b].term {
            let t = target.0 as usize;
            if t == b || t == 0 || preds[t] != 1 || blocks[t].handler != blocks[b].handler {
                break;
            }
            let absorbed =
                std::mem::replace(&mut blocks[t], Block::new(Vec::new(), Term::Jump(target)));
            blocks[b].insts.extend(absorbed.insts);
            blocks[b].term = absorbed.term;
        }
    }
}

/// Drops blocks not reachable from the entry and renumbers the rest in order.
fn remove_unreachable(blocks: &mut Vec<Block>) {
    let mut reachable = vec![false; blocks.len()];
    let mut stack = vec![0usize];
    while let Some(b) = stack.pop() {
        if std::mem::replace(&mut reachable[b], true) {
            continue;
        }
        stack.extend(blocks[b].successors().iter().map(|s| s.0 as usize));
    }
    let mut new_index = vec![0u32; blocks.len()];
    let mut next = 0;
    for (i, &live) in reachable.iter().enumerate() {
        if live {
            new_index[i] = next;
            next += 1;
        }
    }
    let renumber = |b: BlockId| BlockId(new_index[b.0 as usize]);
    let old = std::mem::take(blocks);
    *blocks = old
        .into_iter()
        .zip(reachable)
        .filter(|(_, live)| *live)
        .map(|(mut block, _)| {
            block.term = match block.term {
                Term::Jump(b) => Term::Jump(renumber(b)),
                Term::Branch {
                    cond,
                    then_to,
                    else_to,
                } => Term::Branch {
                    cond,
                    then_to: renumber(then_to),
                    else_to: renumber(else_to),
                },
                other => other,
            };
            block.handler = block.handler.map(renumber);
            block
        })
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Inst, Local, LocalInfo, Operand, Ty};

    fn block(insts: Vec<Inst>, term: Term) -> Block {
        Block::new(insts, term)
    }

    fn copy(dst: u32, v: i64) -> Inst {
        Inst::Copy {
            dst: Local(dst),
            src: Operand::Int(v),
        }
    }

    #[test]
    fn merges_chains_and_drops_dead_blocks() {
        let mut func = Function {
            name: "f".into(),
            env: false,
            param_count: 0,
            ret: Ty::Int,
            locals: vec![LocalInfo {
                ty: Ty::Int,
                name: None,
            }],
            blocks: vec![
                block(vec![copy(0, 1)], Term::Jump(BlockId(2))),
                block(vec![copy(0, 9)], Term::Return(Some(Operand::Int(9)))), // unreachable
                block(vec![copy(0, 2)], Term::Jump(BlockId(3))),
                block(vec![], Term::Return(Some(Operand::Local(Local(0))))),
            ],
        };
        simplify(&mut func);
        assert_eq!(func.blocks.len(), 1);
        assert_eq!(func.blocks[0].insts.len(), 2);
        assert!(matches!(
            func.blocks[0].term,
            Term::Return(Some(Operand::Local(Local(0))))
        ));
    }

    #[test]
    fn loops_keep_their_header() {
        // b0 -> b1 (header, two preds) -> b2 -> b1 / b3
        let mut func = Function {
            name: "f".into(),
            env: false,
            param_count: 0,
            ret: Ty::Void,
            locals: vec![LocalInfo {
                ty: Ty::Bool,
                name: None,
            }],
            blocks: vec![
                block(vec![], Term::Jump(BlockId(1))),
                block(
                    vec![],
                    Term::Branch {
                        cond: Operand::Local(Local(0)),
                        then_to: BlockId(2),
                        else_to: BlockId(3),
                    },
                ),
                block(vec![], Term::Jump(BlockId(1))),
                block(vec![], Term::Return(None)),
            ],
        };
        simplify(&mut func);
        assert_eq!(func.blocks.len(), 4);
    }
}
