//! Where a fault goes after the runtime reported it: the end of the process, or a recovery
//! target (the IR's "Faults and recovery", propagation by return).
//!
//! Where no `live` block can be active, every fault function ends the process, so the cold block
//! that calls one ends in a trap that is never reached, and calls are not followed by any test:
//! exactly the code of a program that cannot recover. That is every block without a handler in
//! a function that no handler's block calls, even indirectly
//! ([`crate::ir::Program::runs_in_live_blocks`]): the whole program when it has no `live` block.
//!
//! In a program that recovers, the fault functions return while a `live` block is active, and
//! each IR block has a *recovery target*: the Cranelift block of its
//! [`crate::ir::Block::handler`], or, without one, the function's *unwind block*, which returns a
//! meaningless result (0, 0.0, false or null) so that the caller sees the fault at its call.
//! Then:
//! - the cold block of every inline check jumps to the target after calling the fault function;
//! - every Keel call and every runtime call that may fault ([`crate::ir::RtFunc::may_fault`]) is
//!   followed by a load of the runtime's `keel_fault_pending` flag and a branch to the target
//!   when it is set (the call-depth counter is decremented before that test, so a callee that
//!   returns early leaves it balanced);
//! - `Term::Unwind` jumps to the target.
//!
//! On the way, a fault path releases what its instruction's fault releases
//! ([`crate::ir::fault_releases`]), less the reads this block borrows instead of retaining (see
//! `facts`): in the cold block of a check, before its jump, and after a call in a cold block of
//! its own between the pending test and the target. The blocks those releases need are cold
//! too, so the happy path's code and layout stay as they were.
//!
//! Each function's unwind block and the pending tests after its Keel calls are recorded in its
//! [`RecoveryCode`], for the inliner: when it inlines a leaf callee, it points the callee's
//! unwind block straight at the caller block's recovery target and drops the test after the
//! call, which a normal return of a leaf can no longer need (see `codegen::inliner`).
//!
//! What this module does not do: stack overflow and out of memory stay fatal (their checks trap
//! after the report in every program), and nothing is released on their paths.

use std::collections::HashMap;

use cranelift_codegen::ir::{types, Block, Inst, InstBuilder, MemFlagsData, Value};
use cranelift_module::{Linkage, Module};
use keel_runtime::recover::FAULT_PENDING_SYMBOL;

use super::{FunctionLowering, Result, UNREACHABLE};
use crate::codegen::value_type;
use crate::ir::{BlockId, Local, Ty};

/// The recovery code of one lowered function that the inliner rewrites.
#[derive(Clone, Debug, Default)]
pub(in crate::codegen) struct RecoveryCode {
    /// The unwind block, if any fault path uses it.
    pub(in crate::codegen) unwind: Option<Block>,
    /// The pending test after each Keel call, by call instruction.
    pub(in crate::codegen) after_calls: HashMap<Inst, PendingTest>,
}

/// The test of the pending-fault flag after a call: all three instructions are in the call's
/// block, right after it (and after the call-depth bookkeeping of a non-leaf call).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(in crate::codegen) struct PendingTest {
    /// `symbol_value` of the flag.
    pub(in crate::codegen) address: Inst,
    /// The flag's load.
    pub(in crate::codegen) load: Inst,
    /// `brif flag, recovery target, next`.
    pub(in crate::codegen) branch: Inst,
}

/// Where the faults of the IR block being lowered go once the runtime has reported them.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum FaultExit {
    /// The program cannot recover: the fault function never returns.
    Fatal,
    /// To the handler block (a `live` block's recovery block).
    Handler(Block),
    /// Out of the function, through its unwind block.
    Return,
}

impl<M: Module> FunctionLowering<'_, '_, '_, M> {
    /// The exit of a block with fault handler `handler`, given the Cranelift blocks of the IR
    /// blocks.
    pub(super) fn fault_exit(
        &self,
        handler: Option<BlockId>,
        blocks: &[Block],
    ) -> Result<FaultExit> {
        match handler {
            // No `live` block can be active here: a fault ends the process.
            None if !self.runs_in_live_blocks => Ok(FaultExit::Fatal),
            Some(id) => blocks
                .get(id.0 as usize)
                .map(|&block| FaultExit::Handler(block))
                .ok_or_else(|| format!("fault handler b{} does not exist", id.0)),
            None => Ok(FaultExit::Return),
        }
    }

    /// The block a recovered fault of the current IR block continues at, or `None` when faults
    /// end the process.
    fn recovery_target(&mut self) -> Option<Block> {
        match self.fault_exit {
            FaultExit::Fatal => None,
            FaultExit::Handler(block) => Some(block),
            FaultExit::Return => Some(self.unwind_block()),
        }
    }

    /// The function's unwind block (cold; filled by [`Self::finish_unwind_block`]).
    fn unwind_block(&mut self) -> Block {
        if let Some(block) = self.recovery.unwind {
            return block;
        }
        let block = self.builder.create_block();
        self.builder.set_cold_block(block);
        self.recovery.unwind = Some(block);
        block
    }

    /// Ends a cold block that has just called a fault function for the current instruction:
    /// traps when the program cannot recover (the call never returns), else releases what the
    /// instruction's fault releases and jumps to the recovery target.
    pub(super) fn leave_after_fault(&mut self) -> Result<()> {
        match self.recovery_target() {
            Some(target) => {
                self.release_for_fault()?;
                self.builder.ins().jump(target, &[]);
            }
            None => {
                self.builder.ins().trap(UNREACHABLE);
            }
        }
        Ok(())
    }

    /// `Term::Unwind`: continues the fault just raised at the recovery target (the `CallRt`
    /// before it released what there was to release).
    pub(super) fn unwind(&mut self) {
        match self.recovery_target() {
            Some(target) => {
                self.builder.ins().jump(target, &[]);
            }
            None => {
                self.builder.ins().trap(UNREACHABLE);
            }
        }
    }

    /// After a call that may have recorded a fault: branches to the recovery target when the
    /// runtime's pending flag is set (through a cold block releasing what the call's fault
    /// releases, if anything), and continues lowering on the other path. Returns the test, or
    /// `None` when the program cannot recover (and nothing is emitted).
    pub(super) fn propagate_pending_fault(&mut self) -> Result<Option<PendingTest>> {
        let Some(target) = self.recovery_target() else {
            return Ok(None);
        };
        let releases = self.fault_release_locals();
        let exit = if releases.is_empty() {
            target
        } else {
            let cleanup = self.builder.create_block();
            self.builder.set_cold_block(cleanup);
            cleanup
        };
        let flag = self.fault_pending_address()?;
        let pending = self
            .builder
            .ins()
            .load(types::I64, MemFlagsData::trusted(), flag, 0);
        let next = self.builder.create_block();
        let branch = self.builder.ins().brif(pending, exit, &[], next, &[]);
        self.builder.seal_block(next);
        if exit != target {
            self.builder.seal_block(exit);
            self.builder.switch_to_block(exit);
            self.release_locals_for_fault(&releases)?;
            self.builder.ins().jump(target, &[]);
        }
        self.builder.switch_to_block(next);
        let definition = |value: Value| self.builder.func.dfg.value_def(value).inst();
        match (definition(flag), definition(pending)) {
            (Some(address), Some(load)) => Ok(Some(PendingTest {
                address,
                load,
                branch,
            })),
            _ => Err("the pending-fault test is not made of instructions".into()),
        }
    }

    /// The locals the current instruction's fault releases (`ir::fault_releases`), less those
    /// this block's lowering keeps as borrows (see `facts`).
    fn fault_release_locals(&self) -> Vec<Local> {
        let block = BlockId(self.block_index);
        self.fault_releases
            .at(block, self.inst_index)
            .iter()
            .copied()
            .filter(|&local| !self.borrows.borrowed_at(local, self.inst_index))
            .collect()
    }

    /// Releases, in the current (cold) block, what the current instruction's fault releases.
    fn release_for_fault(&mut self) -> Result<()> {
        let releases = self.fault_release_locals();
        self.release_locals_for_fault(&releases)
    }

    /// Releases `locals` on a fault path: every block the releases need is cold.
    fn release_locals_for_fault(&mut self, locals: &[Local]) -> Result<()> {
        let was_cold = std::mem::replace(&mut self.cold, true);
        for &local in locals {
            let object = self.use_local(local)?;
            let may_be_null = !self.non_null.contains(&object);
            self.release(object, may_be_null)?;
        }
        self.cold = was_cold;
        Ok(())
    }

    /// The address of the runtime's pending-fault flag (`keel_runtime::recover::FAULT_PENDING`).
    fn fault_pending_address(&mut self) -> Result<Value> {
        let flag = self
            .env
            .module
            .declare_data(FAULT_PENDING_SYMBOL, Linkage::Import, true, false)
            .map_err(|e| crate::codegen::describe_module_error(&e))?;
        Ok(self.data_address(flag))
    }

    /// Fills the unwind block, if a fault path needed one: it returns the zero of `ret`.
    pub(super) fn finish_unwind_block(&mut self, ret: Ty) {
        let Some(block) = self.recovery.unwind else {
            return;
        };
        self.builder.switch_to_block(block);
        match value_type(ret, self.env.pointer) {
            Some(ty) => {
                let zero = if ty == types::F64 {
                    self.builder.ins().f64const(0.0)
                } else {
                    self.builder.ins().iconst(ty, 0)
                };
                self.builder.ins().return_(&[zero]);
            }
            None => {
                self.builder.ins().return_(&[]);
            }
        }
    }
}
