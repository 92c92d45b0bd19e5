//! Where the lowering keeps each IR local's current value: a plain SSA value, or a
//! `cranelift_frontend::Variable` shared by locals that are never present in the same block.
//!
//! `cranelift_frontend` records each variable's definitions in a dense table indexed by
//! Cranelift block, as long as the largest block index the variable is used or defined in. One
//! variable per local would cost locals × blocks in a large function (a function of 10,000
//! `if` statements took 6.6 GB). So:
//! - a *block-local* local (see `liveness`) gets no variable: its value is the SSA value of its
//!   last assignment in the current IR block, which dominates every later read in that block
//!   (the Cranelift blocks an IR block is split into follow each other);
//! - the other locals share variables: two locals of one Cranelift type whose extents (block
//!   index ranges) do not overlap get the same variable (interval colouring, so as few variables
//!   as the most extents overlapping at one block). The SSA builder's search for a local's
//!   definition only visits blocks the local is live into, and stops at blocks that assign it,
//!   all inside its extent, so it only ever finds that local's own definitions: the Cranelift IR
//!   is the same as with a variable per local.
//!
//! Each variable starts with the value its locals may be read with on entry: the parameter it
//! holds, if one of them is a parameter live at the entry, else zero (at most one of a
//! variable's locals is live at the entry, since all those extents include block 0).
//!
//! What this module does not do: emit code (see `function`).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use cranelift_codegen::ir::Type;

use super::liveness::{extents, Extent};
use crate::ir::Function;

/// Where a local's value lives.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Home {
    /// A block-local local: the value of its last assignment in the current block.
    Value,
    /// Variable number `n` of [`Homes::variables`].
    Variable(u32),
}

/// A shared variable.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) struct SharedVariable {
    pub(super) ty: Type,
    /// The parameter whose value it starts with (else zero).
    pub(super) param: Option<u32>,
}

/// The home of every local of a function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Homes {
    /// By local.
    pub(super) homes: Vec<Home>,
    pub(super) variables: Vec<SharedVariable>,
}

/// Chooses the homes of `func`'s locals, whose Cranelift types are `types`.
pub(super) fn homes(func: &Function, types: &[Type]) -> Homes {
    let extents = extents(func);
    let mut homes = vec![Home::Value; func.locals.len()];
    let mut variables: Vec<SharedVariable> = Vec::new();

    // Extents in order of their first block; an extent live at the entry starts before block 0.
    let start = |extent: &Extent| match extent.live_at_entry {
        true => 0,
        false => u64::from(extent.first) + 1,
    };
    let mut order: Vec<(u64, usize, Extent)> = extents
        .iter()
        .enumerate()
        .filter_map(|(local, extent)| extent.map(|extent| (start(&extent), local, extent)))
        .collect();
    order.sort_unstable_by_key(|&(start, local, _)| (start, local));

    let mut pools: Vec<Pool> = Vec::new();
    for (start, local, extent) in order {
        let ty = types[local];
        let position = pools
            .iter()
            .position(|pool| pool.ty == ty)
            .unwrap_or_else(|| {
                pools.push(Pool::new(ty));
                pools.len() - 1
            });
        let pool = &mut pools[position];
        let variable = pool.take(start).unwrap_or_else(|| {
            variables.push(SharedVariable { ty, param: None });
            variables.len() as u32 - 1
        });
        if extent.live_at_entry && (local as u32) < func.param_count {
            variables[variable as usize].param = Some(local as u32);
        }
        pool.busy
            .push(Reverse((u64::from(extent.last) + 1, variable)));
        homes[local] = Home::Variable(variable);
    }
    Homes { homes, variables }
}

/// The variables of one Cranelift type.
struct Pool {
    ty: Type,
    /// The variables holding a local, by the position of the last block of its extent.
    busy: BinaryHeap<Reverse<(u64, u32)>>,
    /// The variables free for another local.
    free: Vec<u32>,
}

impl Pool {
    fn new(ty: Type) -> Pool {
        Pool {
            ty,
            busy: BinaryHeap::new(),
            free: Vec::new(),
        }
    }

    /// A variable free for an extent starting at position `start`, if there is one.
    fn take(&mut self, start: u64) -> Option<u32> {
        while let Some(&Reverse((end, variable))) = self.busy.peek() {
            if end >= start {
                break;
            }
            self.busy.pop();
            self.free.push(variable);
        }
        self.free.pop()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{BinaryOp, Block, BlockId, Inst, Local, LocalInfo, Operand, SiteId, Term, Ty};
    use cranelift_codegen::ir::types;

    fn local(n: u32) -> Operand {
        Operand::Local(Local(n))
    }

    /// `if` statements in a row, each `%k = x + k; if %k == 0 { c = c + %k }`: the `%k` are
    /// live from their block into the next one only.
    fn statements(count: u32) -> Function {
        // Locals: %0 = x (parameter), %1 = c, then per statement a value and a bool.
        let mut blocks = Vec::new();
        let value = |k: u32| 2 + 2 * k;
        let mut locals = vec![Ty::Int, Ty::Int];
        for k in 0..count {
            locals.extend([Ty::Int, Ty::Bool]);
            let (v, cond) = (value(k), value(k) + 1);
            let next = BlockId(2 * k + 2);
            blocks.push(Block::new(
                vec![
                    Inst::Binary {
                        dst: Local(v),
                        op: BinaryOp::AddInt,
                        lhs: local(0),
                        rhs: Operand::Int(i64::from(k)),
                        site: SiteId(0),
                    },
                    Inst::Binary {
                        dst: Local(cond),
                        op: BinaryOp::EqInt,
                        lhs: local(v),
                        rhs: Operand::Int(0),
                        site: SiteId(0),
                    },
                ],
                Term::Branch {
                    cond: local(cond),
                    then_to: BlockId(2 * k + 1),
                    else_to: next,
                },
            ));
            blocks.push(Block::new(
                vec![Inst::Binary {
                    dst: Local(1),
                    op: BinaryOp::AddInt,
                    lhs: local(1),
                    rhs: local(v),
                    site: SiteId(0),
                }],
                Term::Jump(next),
            ));
        }
        blocks.push(Block::new(Vec::new(), Term::Return(Some(local(1)))));
        Function {
            name: "f".into(),
            env: false,
            param_count: 1,
            ret: Ty::Int,
            locals: locals
                .into_iter()
                .map(|ty| LocalInfo { ty, name: None })
                .collect(),
            blocks,
        }
    }

    fn clif_types(func: &Function) -> Vec<Type> {
        func.locals
            .iter()
            .map(|info| match info.ty {
                Ty::Bool => types::I8,
                _ => types::I64,
            })
            .collect()
    }

    #[test]
    fn values_live_into_one_next_block_share_a_variable() {
        let func = statements(100);
        let homes = homes(&func, &clif_types(&func));
        // x and c, live everywhere (x from the entry, as the parameter), and one variable that
        // all the `%k` take turns in; the conditions are block-local.
        assert_eq!(
            homes.variables,
            vec![
                SharedVariable {
                    ty: types::I64,
                    param: Some(0)
                },
                SharedVariable {
                    ty: types::I64,
                    param: None
                },
                SharedVariable {
                    ty: types::I64,
                    param: None
                },
            ]
        );
        assert_eq!(homes.homes[0], Home::Variable(0));
        assert_eq!(homes.homes[1], Home::Variable(1));
        for k in 0..100 {
            assert_eq!(homes.homes[2 + 2 * k], Home::Variable(2));
            assert_eq!(homes.homes[3 + 2 * k], Home::Value);
        }
    }

    #[test]
    fn overlapping_extents_get_their_own_variables() {
        // b0: %1 = 1; %2 = 2; jump b1
        // b1: return %1 + %2 (through %3)
        let func = Function {
            name: "f".into(),
            env: false,
            param_count: 0,
            ret: Ty::Int,
            locals: (0..4)
                .map(|_| LocalInfo {
                    ty: Ty::Int,
                    name: None,
                })
                .collect(),
            blocks: vec![
                Block::new(
                    vec![
                        Inst::Copy {
                            dst: Local(1),
                            src: Operand::Int(1),
                        },
                        Inst::Copy {
                            dst: Local(2),
                            src: Operand::Int(2),
                        },
                    ],
                    Term::Jump(BlockId(1)),
                ),
                Block::new(
                    vec![Inst::Binary {
                        dst: Local(3),
                        op: BinaryOp::AddInt,
                        lhs: local(1),
                        rhs: local(2),
                        site: SiteId(0),
                    }],
                    Term::Return(Some(local(3))),
                ),
            ],
        };
        let homes = homes(&func, &clif_types(&func));
        assert_eq!(
            homes.homes,
            vec![
                Home::Value,
                Home::Variable(0),
                Home::Variable(1),
                Home::Value
            ]
        );
        assert_eq!(homes.variables.len(), 2);
    }
}
