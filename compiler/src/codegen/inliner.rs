//! Inlining of small Keel functions into their callers, with Cranelift's inliner.
//!
//! Every function is first lowered to Cranelift IR on its own; then, before a function is
//! compiled, each direct call in it to a *small leaf* function is replaced by a copy of the
//! callee's body (`cranelift_codegen::Context::inline` does the mechanics). A leaf calls no Keel
//! function (calls into the runtime are fine: they are fault reports and slow paths), so
//! recursion cannot make inlining loop, and a callee is small when its body has at most
//! [`MAX_INLINED_INSTS`] instructions outside cold blocks. Inlining removes the call and return,
//! keeps the caller's values in registers across what was a call (a C call clobbers every float
//! register on x86-64), and lets Cranelift optimise the callee's body with the caller's
//! arguments: `a(i, j)` in a loop costs what its arithmetic costs.
//!
//! Inlined bodies keep their semantics exactly: the IR's checks are already in them. In a program
//! with `live` blocks, a recovered fault makes a function return at once through its unwind
//! block, and the caller's test of the pending-fault flag after the call sends it on to the
//! caller block's recovery target (see `function::recovery`; through the cold block that
//! releases what the caller's frame owns at the call, if anything). Inlined, the callee's unwind
//! block jumps to that target directly instead, and the test after the call goes: a leaf's normal
//! return never leaves a fault pending. (Left as it is, every fault path of the inlined body
//! would rejoin the caller's code after the call, inside the caller's loop, and make values
//! live across the fault calls: +80% on `spectral`.) Alias
//! regions are shared across functions by name (see `function::heap`), so an inlined body's
//! memory accesses keep their meaning in the caller.
//!
//! What this module does not do: inline anything the IR does not call directly, or inline into
//! functions of other modules.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;

use cranelift_codegen::inline::{Inline, InlineCommand};
use cranelift_codegen::ir::{
    self as clif, ExternalName, FuncRef, GlobalValue, GlobalValueData, InstructionData, Opcode,
};
use cranelift_module::FuncId;

use super::debug::DebugTables;
use super::function::RecoveryCode;

/// The largest callee body (in instructions outside cold blocks) that is inlined.
pub(super) const MAX_INLINED_INSTS: usize = 40;

/// The most alias regions a caller may have with an inlined body's added. A function's memory
/// flags, one set per region, must stay below Cranelift's limit of 65,535 per function;
/// `function::heap` gives a function at most `MAX_ALIAS_REGIONS` of its own, and bodies are
/// no longer inlined once this many are reached (a call is kept instead).
const MAX_ALIAS_REGIONS_AFTER_INLINING: usize = 2 * super::function::MAX_ALIAS_REGIONS;

/// Decides, for each call, whether to inline the callee, and supplies its body. A clone serves
/// another thread.
#[derive(Clone)]
pub(super) struct Inliner<'a> {
    /// The lowered body of each Keel function, by IR function index.
    bodies: &'a [clif::Function],
    /// The recovery code of each body.
    recovery: &'a [RecoveryCode],
    /// Whether each body may be inlined.
    inlinable: Vec<bool>,
    /// The IR function index of each Keel function's module id.
    by_id: HashMap<FuncId, usize>,
    /// The calls inlined into the current caller.
    inlined: RefCell<Vec<InlinedCall>>,
}

/// One call replaced by a copy of its callee's body.
#[derive(Clone)]
struct InlinedCall {
    /// The call instruction (in the caller's body before inlining).
    call: clif::Inst,
    /// The callee's IR function index.
    callee: usize,
    /// Where the callee's global values start in the caller.
    global_offset: u32,
    /// Where the callee's blocks start in the caller.
    block_offset: u32,
}

impl<'a> Inliner<'a> {
    /// An inliner for the Keel functions `functions` (module ids) with lowered `bodies` and their
    /// `recovery` code (in the same order).
    pub(super) fn new(
        functions: &[FuncId],
        bodies: &'a [clif::Function],
        recovery: &'a [RecoveryCode],
    ) -> Inliner<'a> {
        let by_id: HashMap<FuncId, usize> = functions
            .iter()
            .enumerate()
            .map(|(index, &id)| (id, index))
            .collect();
        let inlinable = bodies
            .iter()
            .map(|body| is_small(body) && !calls_keel_function(body, &by_id))
            .collect();
        Inliner {
            bodies,
            recovery,
            inlinable,
            by_id,
            inlined: RefCell::new(Vec::new()),
        }
    }

    /// Inlines the small leaf callees of `ctx.func`, the body of IR function `caller`; returns
    /// whether it inlined any.
    pub(super) fn inline_into(
        &self,
        ctx: &mut cranelift_codegen::Context,
        caller: usize,
    ) -> cranelift_codegen::CodegenResult<bool> {
        self.inlined.borrow_mut().clear();
        let inlined = ctx.inline(self)?;
        self.fix_symbol_names(&mut ctx.func);
        self.route_faults_of_inlined_bodies(&mut ctx.func, caller);
        Ok(inlined)
    }

    /// For debug information: gives each instruction of the copies of the bodies inlined by the
    /// last [`Self::inline_into`] the source location of the callee's instruction it copies, as
    /// inlined at its call (Cranelift's inliner copies no source locations). The copy of a
    /// callee block `b` is caller block `block_offset + b`, its instructions in the same order.
    pub(super) fn locate_inlined_code(&self, func: &mut clif::Function, debug: &mut DebugTables) {
        for inlined in self.inlined.borrow().iter() {
            let callee = &self.bodies[inlined.callee];
            let call = debug.inlined_call(
                crate::ir::FuncId(inlined.callee as u32),
                func.srcloc(inlined.call),
            );
            for block in callee.layout.blocks() {
                let copy = clif::Block::from_u32(inlined.block_offset + block.as_u32());
                if !func.layout.is_block_inserted(copy) {
                    continue;
                }
                let copies: Vec<clif::Inst> = func.layout.block_insts(copy).collect();
                for (original, copy) in callee.layout.block_insts(block).zip(copies) {
                    let loc = debug.inlined_loc(callee.srcloc(original), call);
                    func.set_srcloc(copy, loc);
                }
            }
        }
    }

    /// For each inlined call followed by a pending test (programs with `live` blocks): points
    /// the callee's unwind block, if it has one, at the test's recovery target (with the same
    /// arguments, which were all defined before the call), and replaces the test by a jump to
    /// the code after it.
    fn route_faults_of_inlined_bodies(&self, func: &mut clif::Function, caller: usize) {
        for inlined in self.inlined.borrow().iter() {
            let Some(test) = self.recovery[caller].after_calls.get(&inlined.call) else {
                continue;
            };
            let InstructionData::Brif {
                blocks: [to_target, to_next],
                ..
            } = func.dfg.insts[test.branch]
            else {
                continue;
            };
            let after_call = func.layout.inst_block(test.branch);
            if let Some(unwind) = self.recovery[inlined.callee].unwind {
                let copy = clif::Block::from_u32(inlined.block_offset + unwind.as_u32());
                if let Some(last) = func.layout.last_inst(copy) {
                    // The copy of the unwind block's `return` jumps to the code after the call.
                    match func.dfg.insts[last] {
                        InstructionData::Jump { destination, .. }
                            if Some(destination.block(&func.dfg.value_lists)) == after_call => {}
                        _ => continue,
                    }
                    let destination = to_target.deep_clone(&mut func.dfg.value_lists);
                    func.dfg.insts[last] = InstructionData::Jump {
                        opcode: Opcode::Jump,
                        destination,
                    };
                }
            }
            func.dfg.insts[test.branch] = InstructionData::Jump {
                opcode: Opcode::Jump,
                destination: to_next,
            };
            func.layout.remove_inst(test.load);
            func.layout.remove_inst(test.address);
        }
    }

    /// Cranelift's inliner copies a callee's symbol global values (the addresses of literals,
    /// fault sites and descriptors) without translating their names, which index the callee's
    /// own table of external names; this points each copy at the same name in the caller's
    /// table.
    fn fix_symbol_names(&self, func: &mut clif::Function) {
        for inlined in self.inlined.borrow().iter() {
            let (offset, callee) = (inlined.global_offset, &self.bodies[inlined.callee]);
            for (k, data) in callee.global_values.values().enumerate() {
                let GlobalValueData::Symbol {
                    name: ExternalName::User(callee_name),
                    ..
                } = data
                else {
                    continue;
                };
                let name = callee.params.user_named_funcs()[*callee_name].clone();
                let caller_name = func.declare_imported_user_function(name);
                let copy = GlobalValue::from_u32(offset + k as u32);
                if let GlobalValueData::Symbol { name, .. } = &mut func.global_values[copy] {
                    *name = ExternalName::User(caller_name);
                }
            }
        }
    }
}

impl Inline for &Inliner<'_> {
    fn inline(
        &mut self,
        caller: &clif::Function,
        call: clif::Inst,
        opcode: Opcode,
        callee: FuncRef,
        _args: &[clif::Value],
    ) -> InlineCommand<'_> {
        if opcode != Opcode::Call {
            return InlineCommand::KeepCall;
        }
        match keel_callee(caller, callee, &self.by_id) {
            Some(index)
                if self.inlinable[index]
                    && caller.dfg.alias_regions.len()
                        + self.bodies[index].dfg.alias_regions.len()
                        <= MAX_ALIAS_REGIONS_AFTER_INLINING =>
            {
                // The callee's global values and blocks are appended to the caller's.
                self.inlined.borrow_mut().push(InlinedCall {
                    call,
                    callee: index,
                    global_offset: caller.global_values.len() as u32,
                    block_offset: caller.dfg.blocks.len() as u32,
                });
                InlineCommand::Inline {
                    callee: Cow::Borrowed(&self.bodies[index]),
                    visit_callee: false,
                }
            }
            _ => InlineCommand::KeepCall,
        }
    }
}

/// The IR function index `callee` (a function reference of `caller`) names, if it is a Keel
/// function. `cranelift_module` names its functions `user(0, id)`.
fn keel_callee(
    caller: &clif::Function,
    callee: FuncRef,
    by_id: &HashMap<FuncId, usize>,
) -> Option<usize> {
    let ExternalName::User(name) = &caller.dfg.ext_funcs[callee].name else {
        return None;
    };
    let name = caller.params.user_named_funcs().get(*name)?;
    if name.namespace != 0 {
        return None;
    }
    by_id.get(&FuncId::from_u32(name.index)).copied()
}

fn is_small(body: &clif::Function) -> bool {
    let mut count = 0;
    for block in body.layout.blocks() {
        if !body.layout.is_cold(block) {
            count += body.layout.block_insts(block).count();
        }
    }
    count <= MAX_INLINED_INSTS
}

fn calls_keel_function(body: &clif::Function, by_id: &HashMap<FuncId, usize>) -> bool {
    body.layout.blocks().any(|block| {
        body.layout
            .block_insts(block)
            .any(|inst| match body.dfg.insts[inst] {
                InstructionData::Call { func_ref, .. } => {
                    keel_callee(body, func_ref, by_id).is_some()
                }
                InstructionData::CallIndirect { .. } => true,
                _ => false,
            })
    })
}
