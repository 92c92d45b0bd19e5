//! Jump threading: a jump (or branch, or fault handler) that leads to an empty block ending in
//! `jump` goes straight to where the chain of such blocks ends.
//!
//! Chains can be as long as the function: the joins of an `else if` chain of n links are n
//! empty blocks, each jumping to the next, and every link's `then` block jumps into the chain.
//! So each block's final target is found once, following the chain only as far as the first
//! block whose target is already known, and the cost is linear in the number of blocks.
//!
//! A chain that runs into a loop of empty blocks (`while true { }`) has no end: jumps into it
//! are left as they are.

use super::{BlockPlan, Ending};
use crate::ir::BlockId;

/// Redirects every jump through a chain of empty `jump` blocks to the chain's end.
pub(super) fn thread_jumps(blocks: &mut [BlockPlan]) {
    let resolved = final_targets(blocks);
    let resolve = |b: BlockId| resolved[b.0 as usize];
    for block in blocks.iter_mut() {
        block.handler = block.handler.map(resolve);
        block.ending = match block.ending {
            Ending::Jump(to) => Ending::Jump(resolve(to)),
            Ending::Branch {
                cond,
                then_to,
                else_to,
            } => Ending::Branch {
                cond,
                then_to: resolve(then_to),
                else_to: resolve(else_to),
            },
            other => other,
        };
    }
}

/// Where following a block's chain of empty jumps leads.
#[derive(Copy, Clone)]
enum Chain {
    /// To this block, which is not an empty jump.
    EndsAt(BlockId),
    /// Into a loop of empty jumps.
    Loops,
}

/// For each block, the first block of its chain of empty `jump` blocks that is not one (the
/// block itself if it is not), or the block itself when the chain runs into a loop.
fn final_targets(blocks: &[BlockPlan]) -> Vec<BlockId> {
    let empty_jump = |b: usize| match blocks[b] {
        BlockPlan {
            kept: 0,
            ending: Ending::Jump(next),
            ..
        } => Some(next.0 as usize),
        _ => None,
    };
    let mut chains: Vec<Option<Chain>> = vec![None; blocks.len()];
    let mut on_path = vec![false; blocks.len()];
    let mut path = Vec::new();
    for start in 0..blocks.len() {
        let mut at = start;
        let chain = loop {
            if let Some(chain) = chains[at] {
                break chain;
            }
            if on_path[at] {
                break Chain::Loops;
            }
            match empty_jump(at) {
                Some(next) => {
                    on_path[at] = true;
                    path.push(at);
                    at = next;
                }
                None => {
                    chains[at] = Some(Chain::EndsAt(BlockId(at as u32)));
                    break Chain::EndsAt(BlockId(at as u32));
                }
            }
        };
        for b in path.drain(..) {
            on_path[b] = false;
            chains[b] = Some(chain);
        }
    }
    chains
        .into_iter()
        .enumerate()
        .map(|(b, chain)| match chain {
            Some(Chain::EndsAt(end)) => end,
            Some(Chain::Loops) | None => BlockId(b as u32),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Operand;

    fn block(kept: usize, ending: Ending) -> BlockPlan {
        BlockPlan {
            kept,
            insts: vec![Default::default(); kept],
            ending,
            handler: None,
        }
    }

    fn jump(to: u32) -> Ending {
        Ending::Jump(BlockId(to))
    }

    /// The final target of each block, by the definition: follow empty jumps until a block
    /// that is not one, giving up (the block itself) after as many steps as there are blocks.
    fn by_definition(blocks: &[BlockPlan]) -> Vec<BlockId> {
        (0..blocks.len())
            .map(|start| {
                let mut at = start;
                for _ in 0..blocks.len() {
                    match blocks[at] {
                        BlockPlan {
                            kept: 0,
                            ending: Ending::Jump(next),
                            ..
                        } => at = next.0 as usize,
                        _ => return BlockId(at as u32),
                    }
                }
                BlockId(start as u32)
            })
            .collect()
    }

    #[test]
    fn chains_end_at_the_first_block_that_does_something() {
        // 0 -> 1 -> 2 (returns); 3 -> 1; 4 has an instruction and jumps to 1.
        let blocks = vec![
            block(0, jump(1)),
            block(0, jump(2)),
            block(0, Ending::Return(None)),
            block(0, jump(1)),
            block(1, jump(1)),
        ];
        let ids: Vec<BlockId> = [2, 2, 2, 2, 4].map(BlockId).to_vec();
        assert_eq!(final_targets(&blocks), ids);
        assert_eq!(by_definition(&blocks), ids);
    }

    #[test]
    fn chains_into_empty_loops_stay() {
        // 0 -> 1 -> 2 -> 1 (an empty loop); 3 -> 0; 4 -> 4; 5 -> 6 (returns).
        let blocks = vec![
            block(0, jump(1)),
            block(0, jump(2)),
            block(0, jump(1)),
            block(0, jump(0)),
            block(0, jump(4)),
            block(0, jump(6)),
            block(0, Ending::Return(Some(Operand::Int(1)))),
        ];
        let ids: Vec<BlockId> = [0, 1, 2, 3, 4, 6, 6].map(BlockId).to_vec();
        assert_eq!(final_targets(&blocks), ids);
        assert_eq!(by_definition(&blocks), ids);
    }

    #[test]
    fn every_small_graph_agrees_with_the_definition() {
        // Every graph of four blocks, each empty and jumping to one of them or returning.
        let n = 4u32;
        for code in 0..(n + 1).pow(n) {
            let blocks: Vec<BlockPlan> = (0..n)
                .map(|b| match code / (n + 1).pow(b) % (n + 1) {
                    k if k == n => block(0, Ending::Return(None)),
                    k => block(0, jump(k)),
                })
                .collect();
            assert_eq!(final_targets(&blocks), by_definition(&blocks), "{code}");
        }
    }

    #[test]
    fn a_long_chain_takes_linear_time() {
        // The joins of an `else if` chain: block i + 1 jumps to block i, and so on down to the
        // return in block 0; quadratic work would take minutes here.
        let n = 1_000_000;
        let mut blocks = vec![block(0, Ending::Return(None))];
        blocks.extend((1..n).map(|b| block(0, jump(b - 1))));
        assert!(final_targets(&blocks).iter().all(|&t| t == BlockId(0)));
    }
}
