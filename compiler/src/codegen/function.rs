//! Lowers one IR function to Cranelift IR with `cranelift_frontend`.
//!
//! Each IR block becomes a Cranelift block. A local whose value crosses blocks lives in a
//! `Variable` (the frontend builds SSA form from the assignments; `float`s live in float
//! registers as `f64`), shared with other locals never present in the same blocks; a local
//! read only in the block that assigned it is just the SSA value of that assignment (see
//! `variables`, which keeps the cost linear in the size of the function). A fresh entry block
//! binds the parameters, zeroes the other variables and jumps to IR block 0 (so IR block 0 may
//! be a loop header). The checks the IR's semantics demand are inline: the happy path pays one compare (or
//! overflow flag) and one branch per check, to a cold block that calls the runtime's fault
//! function (`keel_fault_int`, `keel_fault_to_int`, `keel_fault_bounds`) and then traps,
//! unreachably, because that call never returns, or, in a program with `live` blocks, goes on
//! to the block's recovery target (see `recovery`, which also tests the pending-fault flag after
//! calls). Checks that an operand constant makes impossible are not emitted (`x / 2`, `x << 3`).
//!
//! Every Keel-to-Keel call counts the callee's stack units in the runtime's call-depth counter
//! (load, add, store, compare and branch before the call; load, subtract, store after it) and
//! reports `stack overflow` at its site beyond `keel_runtime::MAX_STACK_UNITS`, like the VM. A
//! call of a leaf function (one that calls no Keel function) only checks that there is room for
//! it: nothing reads the count while a leaf runs, so the fault comes at the same call. A stack overflow is
//! never recovered from: its cold block always traps.
//!
//! Scalars, calls, printing and control flow are here; heap values (reference counting, arrays,
//! structs, copy-on-write) are in the `heap` submodule, what it may assume about them within a
//! block in `facts`, calls of runtime library functions in `library`, and where locals live in
//! `variables` (with `liveness`).
//!
//! What this module does not do: declare functions, verify or compile the result (the caller
//! does), or decide what a fault prints (the runtime does).

mod facts;
mod heap;
mod library;
mod liveness;
mod recovery;
mod variables;

use std::collections::{HashMap, HashSet};

use cranelift_codegen::ir::condcodes::{CondCode, FloatCC, IntCC};
use cranelift_codegen::ir::immediates::{Ieee64, Imm64};
use cranelift_codegen::ir::{
    self as clif, types, AliasRegion, Block, FuncRef, GlobalValue, GlobalValueData, InstBuilder,
    InstructionData, MemFlagsData, StackSlot, TrapCode, Value, ValueDef,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_module::{DataId, FuncId, Linkage, Module};
use keel_runtime::stack::{CALL_DEPTH_SYMBOL, MAX_STACK_UNITS};
use keel_runtime::IntOp;

use super::data::PoolAddress;
use super::debug;
use super::runtime::RuntimeFn;
use super::{value_type, Env};
use crate::ir::fault_releases::FaultReleases;
use crate::ir::{self, BinaryOp, Inst, Operand, SiteId, Stream, Term, Ty, UnaryOp};
use facts::{BlockFacts, Borrows};
use heap::Region;
pub(crate) use heap::MAX_ALIAS_REGIONS;
use recovery::FaultExit;
pub(super) use recovery::RecoveryCode;
use variables::Home;

/// The trap after a call that never returns; reaching it would be a runtime bug.
const UNREACHABLE: TrapCode = TrapCode::unwrap_user(1);

type Result<T> = std::result::Result<T, String>;

/// Lowers `func` (function number `index`) into `clif`, whose signature the caller has already
/// set, and returns where its recovery code is (for the inliner).
pub(super) fn lower_function<M: Module>(
    env: &mut Env<'_, M>,
    index: usize,
    func: &ir::Function,
    clif: &mut clif::Function,
    builder_ctx: &mut FunctionBuilderContext,
) -> Result<RecoveryCode> {
    // With debug information, the function is lowered without its markers, which only set the
    // source location of what follows them (see `super::debug`).
    let stripped;
    let mut markers = Vec::new();
    let func = match env.debug {
        Some(_) => {
            (stripped, markers) = debug::without_markers(func);
            &stripped
        }
        None => func,
    };
    let mut builder = FunctionBuilder::new(clif, builder_ctx);
    if let (Some(debug), Some(site)) = (&mut env.debug, debug::declaration(&markers)) {
        builder.set_srcloc(debug.loc(site));
    }
    let mut types = Vec::with_capacity(func.locals.len());
    for (index, info) in func.locals.iter().enumerate() {
        types.push(
            value_type(info.ty, env.pointer)
                .ok_or_else(|| format!("local %{index} has type void"))?,
        );
    }
    let homes = variables::homes(func, &types);
    let variables: Vec<Variable> = homes
        .variables
        .iter()
        .map(|shared| builder.declare_var(shared.ty))
        .collect();
    let blocks: Vec<Block> = func.blocks.iter().map(|_| builder.create_block()).collect();
    let Some(&first) = blocks.first() else {
        return Err("function has no blocks".into());
    };

    let start = builder.create_block();
    builder.append_block_params_for_function_params(start);
    builder.switch_to_block(start);
    builder.seal_block(start);
    let params = builder.block_params(start).to_vec();
    if params.len() != func.param_count as usize {
        return Err(format!(
            "{} parameters in the signature, {} in the IR",
            params.len(),
            func.param_count
        ));
    }
    for (shared, &var) in homes.variables.iter().zip(&variables) {
        let initial = match shared.param {
            Some(param) => params[param as usize],
            None if shared.ty == types::F64 => builder.ins().f64const(0.0),
            None => builder.ins().iconst(shared.ty, 0),
        };
        builder.def_var(var, initial);
    }
    builder.ins().jump(first, &[]);

    let runs_in_live_blocks = env.runs_in_live_blocks[index];
    let mut lowering = FunctionLowering {
        env,
        builder,
        homes: homes
            .homes
            .iter()
            .map(|home| match *home {
                Home::Value => None,
                Home::Variable(n) => Some(variables[n as usize]),
            })
            .collect(),
        values: vec![None; func.locals.len()],
        block_index: 0,
        types: func.locals.iter().map(|info| info.ty).collect(),
        func_refs: HashMap::new(),
        data_refs: HashMap::new(),
        regions: HashMap::new(),
        unique_slot: None,
        borrows: Borrows::default(),
        facts: BlockFacts::default(),
        inst_index: 0,
        non_null: HashSet::new(),
        preserve_floats: func.locals.iter().any(|info| info.ty == Ty::Float),
        fault_exit: FaultExit::Fatal,
        runs_in_live_blocks,
        recovery: RecoveryCode::default(),
        fault_releases: FaultReleases::of(func, runs_in_live_blocks),
        cold: false,
    };
    for (block_index, (block, &clif_block)) in func.blocks.iter().zip(&blocks).enumerate() {
        lowering.block_index = block_index as u32;
        lowering.builder.switch_to_block(clif_block);
        lowering.fault_exit = lowering.fault_exit(block.handler, &blocks)?;
        lowering.borrows = facts::elided_borrows(&lowering.types, block);
        lowering.facts.clear();
        let mut lines = markers.get(block_index).map_or(&[][..], Vec::as_slice);
        for (index, inst) in block.insts.iter().enumerate() {
            lines = lowering.mark_lines(lines, index);
            lowering.inst_index = index;
            lowering.inst(inst)?;
            lowering.facts.after(inst);
        }
        lowering.mark_lines(lines, block.insts.len());
        lowering.term(&block.term, &blocks)?;
    }
    lowering.finish_unwind_block(func.ret);
    let config = lowering.env.module.target_config();
    lowering.builder.seal_all_blocks();
    lowering.builder.finalize(config);
    Ok(lowering.recovery)
}

/// The state of lowering one function.
struct FunctionLowering<'e, 'a, 'f, M: Module> {
    env: &'e mut Env<'a, M>,
    builder: FunctionBuilder<'f>,
    /// The variable of each IR local, or `None` for a block-local one (see `variables`).
    homes: Vec<Option<Variable>>,
    /// The current value of each block-local local, with the index of the IR block that
    /// assigned it.
    values: Vec<Option<(u32, Value)>>,
    /// The index of the IR block being lowered.
    block_index: u32,
    /// The IR type of each local.
    types: Vec<Ty>,
    /// Functions and data objects referenced so far from this function.
    func_refs: HashMap<FuncId, FuncRef>,
    data_refs: HashMap<PoolAddress, GlobalValue>,
    /// The alias regions of this function's memory accesses (see `heap::Region`).
    regions: HashMap<Region, AliasRegion>,
    /// Where `keel_make_unique`'s trampoline puts its result, once needed.
    unique_slot: Option<StackSlot>,
    /// The current IR block's borrowed reads (see `facts`).
    borrows: Borrows,
    /// What is known about the current IR block's containers at this point (see `facts`).
    facts: BlockFacts,
    /// The index of the instruction being lowered in its IR block.
    inst_index: usize,
    /// Values known to be object pointers (never null), which `Release` need not test.
    non_null: HashSet<Value>,
    /// Whether the function has float locals, whose registers slow-path calls should preserve
    /// (see `heap`).
    preserve_floats: bool,
    /// Where the current IR block's recovered faults go (see `recovery`).
    fault_exit: FaultExit,
    /// Whether the function may run while a `live` block is active (see `recovery`).
    runs_in_live_blocks: bool,
    /// The unwind block, once needed, and the pending tests after Keel calls (see `recovery`).
    recovery: RecoveryCode,
    /// What each instruction's recovered fault releases (see `recovery`).
    fault_releases: FaultReleases,
    /// Whether code for a fault path is being emitted, so that every block made is cold.
    cold: bool,
}

/// The value of an immediate int operand, if it is one.
fn constant(operand: Operand) -> Option<i64> {
    match operand {
        Operand::Int(value) => Some(value),
        _ => None,
    }
}

/// The Cranelift condition of a float comparison (IEEE: only `NeFloat` is true on NaN).
fn float_condition(op: BinaryOp) -> Option<FloatCC> {
    Some(match op {
        BinaryOp::EqFloat => FloatCC::Equal,
        BinaryOp::NeFloat => FloatCC::NotEqual,
        BinaryOp::LtFloat => FloatCC::LessThan,
        BinaryOp::LeFloat => FloatCC::LessThanOrEqual,
        BinaryOp::GtFloat => FloatCC::GreaterThan,
        BinaryOp::GeFloat => FloatCC::GreaterThanOrEqual,
        _ => return None,
    })
}

/// `-2^63`, the smallest float `FloatToInt` accepts; `2^63` is the first one it rejects above.
const INT_MIN_AS_FLOAT: f64 = -9_223_372_036_854_775_808.0;

fn print_flags(newline: bool, stream: Stream) -> i64 {
    let mut flags = 0;
    if newline {
        flags |= keel_runtime::PRINT_NEWLINE;
    }
    if stream == Stream::Stderr {
        flags |= keel_runtime::PRINT_STDERR;
    }
    i64::from(flags)
}

impl<M: Module> FunctionLowering<'_, '_, '_, M> {
    /// Sets the source location of what follows to the last of the `markers` (of the current
    /// block) that come before instruction `index`; returns the markers after it.
    fn mark_lines<'m>(
        &mut self,
        markers: &'m [(usize, SiteId)],
        index: usize,
    ) -> &'m [(usize, SiteId)] {
        let here = markers.partition_point(|&(at, _)| at <= index);
        if let (Some(debug), Some(&(_, site))) = (&mut self.env.debug, markers[..here].last()) {
            self.builder.set_srcloc(debug.loc(site));
        }
        &markers[here..]
    }

    /// The current value of `local`.
    fn use_local(&mut self, local: ir::Local) -> Result<Value> {
        let index = local.0 as usize;
        if let Some(var) = self.homes[index] {
            return Ok(self.builder.use_var(var));
        }
        match self.values[index] {
            Some((block, value)) if block == self.block_index => Ok(value),
            _ => Err(format!(
                "block-local %{index} read before it is assigned in b{}",
                self.block_index
            )),
        }
    }

    /// Makes `value` the current value of `local`.
    fn def_local(&mut self, local: ir::Local, value: Value) {
        let index = local.0 as usize;
        match self.homes[index] {
            Some(var) => self.builder.def_var(var, value),
            None => self.values[index] = Some((self.block_index, value)),
        }
    }

    fn operand(&mut self, operand: Operand) -> Result<Value> {
        Ok(match operand {
            Operand::Local(local) => self.use_local(local)?,
            Operand::Int(value) => self.builder.ins().iconst(types::I64, value),
            Operand::Bool(value) => self.builder.ins().iconst(types::I8, i64::from(value)),
            Operand::Float(bits) => self.builder.ins().f64const(Ieee64::with_bits(bits)),
            Operand::Str(id) => {
                let env = &mut *self.env;
                let address = env.data.string(env.module, env.program, id)?;
                self.pool_address(address)
            }
            Operand::Desc(ty) => self.descriptor(ty)?,
        })
    }

    /// The IR type of an operand (`Desc` operands, which are addresses, count as `Int`).
    /// The values of `operands`, in order.
    fn operands(&mut self, operands: &[Operand]) -> Result<Vec<Value>> {
        operands.iter().map(|&op| self.operand(op)).collect()
    }

    fn operand_ty(&self, operand: Operand) -> Ty {
        match operand {
            Operand::Local(local) => self.types[local.0 as usize],
            Operand::Int(_) | Operand::Desc(_) => Ty::Int,
            Operand::Bool(_) => Ty::Bool,
            Operand::Float(_) => Ty::Float,
            Operand::Str(_) => Ty::Str,
        }
    }

    /// The address of `ty`'s type descriptor.
    fn descriptor(&mut self, ty: Ty) -> Result<Value> {
        let env = &mut *self.env;
        let data = env.descriptors.get(env.module, env.program, ty)?;
        Ok(self.data_address(data))
    }

    /// The address of data object `data`.
    fn data_address(&mut self, data: DataId) -> Value {
        self.pool_address((data, 0))
    }

    /// The address `offset` bytes into data object `data` (one `GlobalValue` per address).
    fn pool_address(&mut self, (data, offset): PoolAddress) -> Value {
        let global = match self.data_refs.get(&(data, offset)) {
            Some(&global) => global,
            None => {
                let base = match self.data_refs.get(&(data, 0)) {
                    Some(&base) => base,
                    None => {
                        let base = self
                            .env
                            .module
                            .declare_data_in_func(data, self.builder.func);
                        self.data_refs.insert((data, 0), base);
                        base
                    }
                };
                let global = match self.builder.func.global_values[base].clone() {
                    GlobalValueData::Symbol {
                        name,
                        colocated,
                        tls,
                        ..
                    } if offset != 0 => {
                        self.builder
                            .func
                            .create_global_value(GlobalValueData::Symbol {
                                name,
                                offset: Imm64::new(i64::from(offset)),
                                colocated,
                                tls,
                            })
                    }
                    _ => base,
                };
                self.data_refs.insert((data, offset), global);
                global
            }
        };
        self.builder.ins().symbol_value(self.env.pointer, global)
    }

    fn func_ref(&mut self, id: FuncId) -> FuncRef {
        if let Some(&found) = self.func_refs.get(&id) {
            return found;
        }
        let found = self.env.module.declare_func_in_func(id, self.builder.func);
        self.func_refs.insert(id, found);
        found
    }

    fn call_runtime(&mut self, function: RuntimeFn, args: &[Value]) -> Result<()> {
        self.call_runtime_for(function, args)?;
        Ok(())
    }

    /// Calls a runtime function that returns one value, and returns it.
    fn call_runtime_value(&mut self, function: RuntimeFn, args: &[Value]) -> Result<Value> {
        let call = self.call_runtime_for(function, args)?;
        self.builder
            .inst_results(call)
            .first()
            .copied()
            .ok_or_else(|| format!("{} returns nothing", function.symbol()))
    }

    fn call_runtime_for(&mut self, function: RuntimeFn, args: &[Value]) -> Result<clif::Inst> {
        let env = &mut *self.env;
        let id = env.imports.get(env.module, function)?;
        let callee = self.func_ref(id);
        Ok(self.builder.ins().call(callee, args))
    }

    /// A new block for straight-line code of the current path: cold on a fault path.
    fn new_block(&mut self) -> Block {
        let block = self.builder.create_block();
        if self.cold {
            self.builder.set_cold_block(block);
        }
        block
    }

    /// The site text's address and length, the trailing arguments of faulting runtime calls.
    fn site_args(&mut self, site: SiteId) -> Result<[Value; 2]> {
        let env = &mut *self.env;
        let (text, len) = env.data.site(env.module, env.program, site)?;
        let site_ptr = self.pool_address(text);
        let site_len = self.builder.ins().iconst(self.env.pointer, len as i64);
        Ok([site_ptr, site_len])
    }

    fn inst(&mut self, inst: &Inst) -> Result<()> {
        match inst {
            Inst::Copy { dst, src } => {
                let value = self.operand(*src)?;
                self.def_local(*dst, value);
            }
            Inst::Unary { dst, op, src, site } => {
                let value = self.operand(*src)?;
                let result = match op {
                    UnaryOp::NegInt => {
                        let overflows =
                            self.builder.ins().icmp_imm_s(IntCC::Equal, value, i64::MIN);
                        let zero = self.builder.ins().iconst(types::I64, 0);
                        self.fault_if(overflows, IntOp::Neg, *site, value, zero)?;
                        self.builder.ins().ineg(value)
                    }
                    UnaryOp::Not => self.builder.ins().bxor_imm_u(value, 1),
                    UnaryOp::NegFloat => self.builder.ins().fneg(value),
                    UnaryOp::IntToFloat => self.builder.ins().fcvt_from_sint(types::F64, value),
                    UnaryOp::FloatToInt => self.float_to_int(value, *site)?,
                };
                self.def_local(*dst, result);
            }
            Inst::Binary {
                dst,
                op,
                lhs,
                rhs,
                site,
            } => {
                let result = self.binary(*op, *lhs, *rhs, *site)?;
                self.def_local(*dst, result);
            }
            Inst::Call {
                dst,
                func,
                args,
                site,
            } => self.call(*dst, *func, args, *site)?,
            Inst::CallIndirect {
                dst,
                args,
                site,
                known: Some(func),
            } => self.call(*dst, *func, args, *site)?,
            Inst::CallIndirect {
                dst,
                args,
                site,
                known: None,
            } => self.call_indirect(*dst, args, *site)?,
            Inst::Print {
                value,
                ty,
                newline,
                stream,
            } => {
                let value = self.operand(*value)?;
                let flags = self
                    .builder
                    .ins()
                    .iconst(types::I32, print_flags(*newline, *stream));
                match ty {
                    Ty::Int => self.call_runtime(RuntimeFn::PrintInt, &[value, flags])?,
                    Ty::Bool => {
                        let wide = self.builder.ins().uextend(types::I64, value);
                        self.call_runtime(RuntimeFn::PrintBool, &[wide, flags])?;
                    }
                    Ty::Str => self.call_runtime(RuntimeFn::PrintStr, &[value, flags])?,
                    Ty::Float => self.call_runtime(RuntimeFn::PrintFloat, &[value, flags])?,
                    Ty::Array(_) | Ty::Struct(_) | Ty::Map(_) => {
                        self.call_runtime(RuntimeFn::PrintValue, &[value, flags])?
                    }
                    Ty::Void => return Err("print of a void value".into()),
                }
            }
            Inst::CallRt {
                dst,
                func,
                args,
                site,
            } => self.call_library(*dst, *func, args, *site)?,
            Inst::Retain { value } => {
                let object = self.use_local(*value)?;
                let may_be_null = !self.non_null.contains(&object);
                self.retain(object, may_be_null);
            }
            Inst::Release { value } => {
                if let Some(moves) = self.borrows.moves.get(&self.inst_index) {
                    let moves = moves.clone();
                    let object = self.use_local(*value)?;
                    self.release_moving(object, &moves)?;
                } else if !self.borrows.releases.contains(&self.inst_index) {
                    let object = self.use_local(*value)?;
                    let may_be_null = !self.non_null.contains(&object);
                    self.release(object, may_be_null)?;
                }
            }
            Inst::NewArray { dst, ty, items } => self.new_array(*dst, *ty, items)?,
            Inst::NewStruct { dst, ty, fields } => self.new_struct(*dst, *ty, fields)?,
            Inst::ArrayLen { dst, array } => {
                let array = self.operand(*array)?;
                let len = self.array_len(array);
                self.def_local(*dst, len);
            }
            Inst::ArrayGet {
                dst,
                array,
                index,
                site,
            } => self.array_get(*dst, *array, *index, *site)?,
            Inst::ArraySet {
                array,
                index,
                value,
                site,
            } => self.array_set(*array, *index, *value, *site)?,
            Inst::ArrayTake {
                dst,
                array,
                index,
                site,
            } => self.array_take(*dst, *array, *index, *site)?,
            Inst::FieldGet { dst, object, field } => self.field_get(*dst, *object, *field)?,
            Inst::VariantField {
                dst,
                object,
                variant,
                field,
            } => self.variant_field(*dst, *object, *variant, *field)?,
            Inst::FieldSet {
                object,
                field,
                value,
            } => self.field_set(*object, *field, *value)?,
            Inst::FieldTake { dst, object, field } => self.field_take(*dst, *object, *field)?,
            // No code; with debug information, markers are taken out first (`mark_lines`).
            Inst::Line { .. } => {}
        }
        Ok(())
    }

    /// `to_int(value)`: one range check (two compares, false on NaN) in front of the conversion.
    fn float_to_int(&mut self, value: Value, site: SiteId) -> Result<Value> {
        let low = self.builder.ins().f64const(INT_MIN_AS_FLOAT);
        let high = self.builder.ins().f64const(-INT_MIN_AS_FLOAT);
        let below = self
            .builder
            .ins()
            .fcmp(FloatCC::UnorderedOrLessThan, value, low);
        let above = self
            .builder
            .ins()
            .fcmp(FloatCC::GreaterThanOrEqual, value, high);
        let bad = self.builder.ins().bor(below, above);
        self.fault_if_with(bad, |this| {
            let [site_ptr, site_len] = this.site_args(site)?;
            this.call_runtime(RuntimeFn::FaultToInt, &[site_ptr, site_len, value])
        })?;
        // In range, so the saturating conversion is exact (and a single instruction on arm64).
        Ok(self.builder.ins().fcvt_to_sint_sat(types::I64, value))
    }

    fn binary(&mut self, op: BinaryOp, lhs: Operand, rhs: Operand, site: SiteId) -> Result<Value> {
        let a = self.operand(lhs)?;
        let b = self.operand(rhs)?;
        Ok(match op {
            BinaryOp::AddInt => match (constant(lhs), constant(rhs)) {
                (_, Some(c)) => self.add_constant(a, b, a, c, IntOp::Add, site)?,
                (Some(c), None) => self.add_constant(a, b, b, c, IntOp::Add, site)?,
                (None, None) => {
                    let (sum, overflow) = self.builder.ins().sadd_overflow(a, b);
                    self.fault_if(overflow, IntOp::Add, site, a, b)?;
                    sum
                }
            },
            BinaryOp::SubInt => match constant(rhs) {
                Some(c) => self.add_constant(a, b, a, c, IntOp::Sub, site)?,
                None => {
                    let (difference, overflow) = self.builder.ins().ssub_overflow(a, b);
                    self.fault_if(overflow, IntOp::Sub, site, a, b)?;
                    difference
                }
            },
            BinaryOp::MulInt => {
                let (product, overflow) = self.builder.ins().smul_overflow(a, b);
                self.fault_if(overflow, IntOp::Mul, site, a, b)?;
                product
            }
            BinaryOp::DivInt => self.divide(a, b, constant(lhs), constant(rhs), site)?,
            BinaryOp::RemInt => self.remainder(a, b, constant(rhs), site)?,
            BinaryOp::Shl | BinaryOp::Shr => {
                let in_range = constant(rhs).is_some_and(|amount| (0..=63).contains(&amount));
                let fault_op = if op == BinaryOp::Shl {
                    IntOp::Shl
                } else {
                    IntOp::Shr
                };
                if !in_range {
                    // One unsigned compare rejects both negative amounts and amounts above 63.
                    let bad = self
                        .builder
                        .ins()
                        .icmp_imm_s(IntCC::UnsignedGreaterThan, b, 63);
                    self.fault_if(bad, fault_op, site, a, b)?;
                }
                if op == BinaryOp::Shl {
                    self.builder.ins().ishl(a, b)
                } else {
                    self.builder.ins().sshr(a, b)
                }
            }
            BinaryOp::BitAnd => self.builder.ins().band(a, b),
            BinaryOp::BitOr => self.builder.ins().bor(a, b),
            BinaryOp::BitXor => self.builder.ins().bxor(a, b),
            BinaryOp::EqInt | BinaryOp::EqBool => self.builder.ins().icmp(IntCC::Equal, a, b),
            BinaryOp::NeInt | BinaryOp::NeBool => self.builder.ins().icmp(IntCC::NotEqual, a, b),
            BinaryOp::LtInt => self.builder.ins().icmp(IntCC::SignedLessThan, a, b),
            BinaryOp::LeInt => self.builder.ins().icmp(IntCC::SignedLessThanOrEqual, a, b),
            BinaryOp::GtInt => self.builder.ins().icmp(IntCC::SignedGreaterThan, a, b),
            BinaryOp::GeInt => self
                .builder
                .ins()
                .icmp(IntCC::SignedGreaterThanOrEqual, a, b),
            BinaryOp::AddFloat => self.builder.ins().fadd(a, b),
            BinaryOp::SubFloat => self.builder.ins().fsub(a, b),
            BinaryOp::MulFloat => self.builder.ins().fmul(a, b),
            BinaryOp::DivFloat => self.builder.ins().fdiv(a, b),
            BinaryOp::EqFloat
            | BinaryOp::NeFloat
            | BinaryOp::LtFloat
            | BinaryOp::LeFloat
            | BinaryOp::GtFloat
            | BinaryOp::GeFloat => {
                let cc = float_condition(op).ok_or("not a float comparison")?;
                self.builder.ins().fcmp(cc, a, b)
            }
        })
    }

    /// `x + c` (`op` is `Add`) or `x - c` (`Sub`) for a constant `c`, where `a` and `b` are the
    /// operands as written (for the fault message). The result moves away from `x` in the
    /// direction of `c` exactly when no overflow happened, so one compare of the result against
    /// `x` is the whole check, and it fuses with the branch (an overflow flag does not, on x64).
    fn add_constant(
        &mut self,
        a: Value,
        b: Value,
        x: Value,
        c: i64,
        op: IntOp,
        site: SiteId,
    ) -> Result<Value> {
        let result = if op == IntOp::Add {
            self.builder.ins().iadd(a, b)
        } else {
            self.builder.ins().isub(a, b)
        };
        if c == 0 {
            return Ok(result);
        }
        let grows = (c > 0) == (op == IntOp::Add);
        let wrapped = if grows {
            IntCC::SignedLessThan
        } else {
            IntCC::SignedGreaterThan
        };
        let overflows = self.builder.ins().icmp(wrapped, result, x);
        self.fault_if(overflows, op, site, a, b)?;
        Ok(result)
    }

    /// `a / b`: faults on `b == 0` and on `i64::MIN / -1`, checking only what the constants allow.
    fn divide(
        &mut self,
        a: Value,
        b: Value,
        dividend: Option<i64>,
        divisor: Option<i64>,
        site: SiteId,
    ) -> Result<Value> {
        if divisor == Some(0) {
            self.fault_always(IntOp::Div, site, a, b)?;
            return Ok(self.builder.ins().iconst(types::I64, 0));
        }
        if divisor.is_none() {
            let zero = self.builder.ins().icmp_imm_s(IntCC::Equal, b, 0);
            self.fault_if(zero, IntOp::Div, site, a, b)?;
        }
        let may_overflow =
            divisor.is_none_or(|d| d == -1) && dividend.is_none_or(|n| n == i64::MIN);
        if may_overflow {
            let is_min = self.builder.ins().icmp_imm_s(IntCC::Equal, a, i64::MIN);
            let is_minus_one = self.builder.ins().icmp_imm_s(IntCC::Equal, b, -1);
            let overflows = self.builder.ins().band(is_min, is_minus_one);
            self.fault_if(overflows, IntOp::Div, site, a, b)?;
        }
        Ok(self.builder.ins().sdiv(a, b))
    }

    /// `a % b`: faults on `b == 0`; `x % -1` is 0 for every `x`, including `i64::MIN` (where the
    /// hardware remainder would trap), so a divisor of -1 is replaced by 1 without a branch.
    fn remainder(
        &mut self,
        a: Value,
        b: Value,
        divisor: Option<i64>,
        site: SiteId,
    ) -> Result<Value> {
        match divisor {
            Some(0) => {
                self.fault_always(IntOp::Rem, site, a, b)?;
                Ok(self.builder.ins().iconst(types::I64, 0))
            }
            Some(-1) => Ok(self.builder.ins().iconst(types::I64, 0)),
            Some(_) => Ok(self.builder.ins().srem(a, b)),
            None => {
                let zero = self.builder.ins().icmp_imm_s(IntCC::Equal, b, 0);
                self.fault_if(zero, IntOp::Rem, site, a, b)?;
                let is_minus_one = self.builder.ins().icmp_imm_s(IntCC::Equal, b, -1);
                let one = self.builder.ins().iconst(types::I64, 1);
                let safe_divisor = self.builder.ins().select(is_minus_one, one, b);
                Ok(self.builder.ins().srem(a, safe_divisor))
            }
        }
    }

    /// The address of the runtime's call-depth counter (`keel_runtime::stack::CALL_DEPTH`).
    fn call_depth_address(&mut self) -> Result<Value> {
        let counter = self
            .env
            .module
            .declare_data(CALL_DEPTH_SYMBOL, Linkage::Import, true, false)
            .map_err(|e| super::describe_module_error(&e))?;
        Ok(self.data_address(counter))
    }

    /// Counts a Keel call of a callee taking `units` stack units about to be made at `site`,
    /// reporting a stack overflow there when the calls would take more than `MAX_STACK_UNITS`.
    fn enter_call(&mut self, site: SiteId, units: i64) -> Result<()> {
        let counter = self.call_depth_address()?;
        let flags = MemFlagsData::trusted();
        let before = self.builder.ins().load(types::I64, flags, counter, 0);
        let after = self.builder.ins().iadd_imm_s(before, units);
        self.count_call(site, counter, after)
    }

    /// Stores the call depth `after` (the count with a call about to be made at `site`) to the
    /// counter at `counter`, reporting a stack overflow there when it exceeds
    /// `MAX_STACK_UNITS`.
    fn count_call(&mut self, site: SiteId, counter: Value, after: Value) -> Result<()> {
        self.builder
            .ins()
            .store(MemFlagsData::trusted(), after, counter, 0);
        let too_deep =
            self.builder
                .ins()
                .icmp_imm_s(IntCC::SignedGreaterThan, after, MAX_STACK_UNITS);
        self.fatal_if_with(too_deep, |this| {
            let [site_ptr, site_len] = this.site_args(site)?;
            this.call_runtime(RuntimeFn::FaultStackOverflow, &[site_ptr, site_len])
        })
    }

    /// Reports a stack overflow at `site` when a call of a callee taking `units` stack units
    /// would exceed `MAX_STACK_UNITS`, without counting it (for calls of leaf functions).
    fn check_call_depth(&mut self, site: SiteId, units: i64) -> Result<()> {
        let counter = self.call_depth_address()?;
        let depth = self
            .builder
            .ins()
            .load(types::I64, MemFlagsData::trusted(), counter, 0);
        let too_deep =
            self.builder
                .ins()
                .icmp_imm_s(IntCC::SignedGreaterThan, depth, MAX_STACK_UNITS - units);
        self.fatal_if_with(too_deep, |this| {
            let [site_ptr, site_len] = this.site_args(site)?;
            this.call_runtime(RuntimeFn::FaultStackOverflow, &[site_ptr, site_len])
        })
    }

    /// A direct call of Keel function `func` (from `call`, or `call_indirect` of a known
    /// callee), counting its stack units.
    fn call(
        &mut self,
        dst: Option<ir::Local>,
        func: ir::FuncId,
        args: &[Operand],
        site: SiteId,
    ) -> Result<()> {
        let values = self.operands(args)?;
        let id = *self
            .env
            .functions
            .get(func.0 as usize)
            .ok_or_else(|| format!("call to fn#{} which does not exist", func.0))?;
        let callee = self.func_ref(id);
        // A leaf makes no Keel calls, so nothing reads the count while it runs: checking
        // that there is room for one more call is all its call needs (same fault, same
        // place; no stores, which also keeps the check cheap once the leaf is inlined).
        let leaf = self
            .env
            .leaves
            .get(func.0 as usize)
            .copied()
            .unwrap_or(false);
        let units = self
            .env
            .program
            .functions
            .get(func.0 as usize)
            .map_or(1, ir::Function::stack_units);
        if leaf {
            self.check_call_depth(site, units)?;
        } else {
            self.enter_call(site, units)?;
        }
        let call = self.builder.ins().call(callee, &values);
        if !leaf {
            self.leave_call(units)?;
        }
        if let Some(test) = self.propagate_pending_fault()? {
            self.recovery.after_calls.insert(call, test);
        }
        if let Some(dst) = dst {
            let result = *self.builder.inst_results(call).first().ok_or_else(|| {
                format!("call to fn#{} uses the result of a void function", func.0)
            })?;
            self.def_local(dst, result);
        }
        Ok(())
    }

    /// `call_indirect`: calls the code in field 0 of the function value's object, counting the
    /// stack units in its field 1 like a direct call.
    fn call_indirect(
        &mut self,
        dst: Option<ir::Local>,
        args: &[Operand],
        site: SiteId,
    ) -> Result<()> {
        let values = self.operands(args)?;
        let position = ir::StructDef::callee_position(args.len());
        let Some(Operand::Local(callee)) = args.get(position) else {
            return Err("call_indirect without a function value".into());
        };
        let Some(&Ty::Struct(fn_type)) = self.types.get(callee.0 as usize) else {
            return Err("call_indirect of a value that is not a function".into());
        };
        // The function type's parameters, then the closure object and the site text.
        let (mut params, ret) = self.env.program.struct_def(fn_type).signature();
        params.extend([Ty::Struct(fn_type), Ty::Str]);
        let pointer = self.env.pointer;
        let call_conv = self.env.module.isa().default_call_conv();
        let sig = super::signature_of(&params, ret, call_conv, pointer)?;
        let sig = self.builder.import_signature(sig);
        let object = values[position];
        let flags = MemFlagsData::trusted().with_readonly();
        let field = |k: i32| keel_runtime::layout::STRUCT_FIELDS_OFFSET + 8 * k;
        let code = self.builder.ins().load(pointer, flags, object, field(0));
        let units = self.builder.ins().load(types::I64, flags, object, field(1));
        let counter = self.call_depth_address()?;
        let counted = MemFlagsData::trusted();
        let before = self.builder.ins().load(types::I64, counted, counter, 0);
        let after = self.builder.ins().iadd(before, units);
        self.count_call(site, counter, after)?;
        let call = self.builder.ins().call_indirect(sig, code, &values);
        let counter = self.call_depth_address()?;
        let depth = self.builder.ins().load(types::I64, counted, counter, 0);
        let restored = self.builder.ins().isub(depth, units);
        self.builder.ins().store(counted, restored, counter, 0);
        if let Some(test) = self.propagate_pending_fault()? {
            self.recovery.after_calls.insert(call, test);
        }
        if let Some(dst) = dst {
            let result = *self
                .builder
                .inst_results(call)
                .first()
                .ok_or("call_indirect uses the result of a void function")?;
            self.def_local(dst, result);
        }
        Ok(())
    }

    /// Uncounts a Keel call of a callee taking `units` stack units that returned. The counter is reloaded rather than the old depth kept
    /// live across the call: that would hold a callee-saved register in every calling function
    /// (measured: fib(32) +32% instead of +15%).
    fn leave_call(&mut self, units: i64) -> Result<()> {
        let counter = self.call_depth_address()?;
        let flags = MemFlagsData::trusted();
        let depth = self.builder.ins().load(types::I64, flags, counter, 0);
        let restored = self.builder.ins().iadd_imm_s(depth, -units);
        self.builder.ins().store(flags, restored, counter, 0);
        Ok(())
    }

    /// Branches to a cold block that reports an integer fault when `failed` (an `i8`) is nonzero.
    fn fault_if(
        &mut self,
        failed: Value,
        op: IntOp,
        site: SiteId,
        a: Value,
        b: Value,
    ) -> Result<()> {
        self.fault_if_with(failed, |this| {
            let [site_ptr, site_len] = this.site_args(site)?;
            let code = this.builder.ins().iconst(types::I32, i64::from(op as u32));
            this.call_runtime(RuntimeFn::FaultInt, &[site_ptr, site_len, code, a, b])
        })
    }

    /// Reports an integer fault unconditionally (an operand constant makes it certain). Code
    /// after it is unreachable but stays well formed.
    fn fault_always(&mut self, op: IntOp, site: SiteId, a: Value, b: Value) -> Result<()> {
        let always = self.builder.ins().iconst(types::I8, 1);
        self.fault_if(always, op, site, a, b)
    }

    /// Branches to a cold block when `failed` (an `i8`) is nonzero; `report` fills that block
    /// with the call of a fault function, after which the block traps (the call never returns)
    /// or, in a program that recovers, goes to the recovery target (see `recovery`). Lowering
    /// continues on the happy path.
    fn fault_if_with(
        &mut self,
        failed: Value,
        report: impl FnOnce(&mut Self) -> Result<()>,
    ) -> Result<()> {
        self.report_if(failed, report, true)
    }

    /// Like [`Self::fault_if_with`] for a fault no `live` block recovers from (stack overflow):
    /// the cold block always traps.
    fn fatal_if_with(
        &mut self,
        failed: Value,
        report: impl FnOnce(&mut Self) -> Result<()>,
    ) -> Result<()> {
        self.report_if(failed, report, false)
    }

    /// Branches to a cold block filled by `report` when `failed` is nonzero; the block then
    /// leaves for the recovery target when `recoverable` (see `recovery`), else traps.
    fn report_if(
        &mut self,
        failed: Value,
        report: impl FnOnce(&mut Self) -> Result<()>,
        recoverable: bool,
    ) -> Result<()> {
        let cold = self.builder.create_block();
        self.builder.set_cold_block(cold);
        let next = self.builder.create_block();
        self.builder.ins().brif(failed, cold, &[], next, &[]);
        self.builder.seal_block(cold);
        self.builder.seal_block(next);

        self.builder.switch_to_block(cold);
        report(self)?;
        if recoverable {
            self.leave_after_fault()?;
        } else {
            self.builder.ins().trap(UNREACHABLE);
        }
        self.builder.switch_to_block(next);
        Ok(())
    }

    /// The negation of the bool `cond`, folded into the comparison that computed it when that
    /// was a float comparison (Cranelift folds integer comparisons itself).
    fn negate_condition(&mut self, cond: Value) -> Value {
        if let ValueDef::Result(inst, 0) = self.builder.func.dfg.value_def(cond) {
            if let InstructionData::FloatCompare { cond: cc, args, .. } =
                self.builder.func.dfg.insts[inst]
            {
                return self.builder.ins().fcmp(cc.complement(), args[0], args[1]);
            }
        }
        self.builder.ins().icmp_imm_s(IntCC::Equal, cond, 0)
    }

    fn term(&mut self, term: &Term, blocks: &[Block]) -> Result<()> {
        let block = |id: ir::BlockId| {
            blocks
                .get(id.0 as usize)
                .copied()
                .ok_or_else(|| format!("jump to b{} which does not exist", id.0))
        };
        match term {
            Term::Jump(target) => {
                self.builder.ins().jump(block(*target)?, &[]);
            }
            Term::Branch {
                cond,
                then_to,
                else_to,
            } => {
                let then_block = block(*then_to)?;
                let else_block = block(*else_to)?;
                if then_block == else_block {
                    self.builder.ins().jump(then_block, &[]);
                } else {
                    // Cranelift lays blocks out in reverse postorder, which puts a branch's
                    // second target right after it. Branching on the negated condition to
                    // (else, then) makes `then` (a loop body) the fall-through, so a loop costs
                    // one taken branch per iteration instead of two. The negation folds into
                    // the comparison that computed the condition.
                    let cond = self.operand(*cond)?;
                    let negated = self.negate_condition(cond);
                    self.builder
                        .ins()
                        .brif(negated, else_block, &[], then_block, &[]);
                }
            }
            Term::Return(value) => match value {
                Some(value) => {
                    let value = self.operand(*value)?;
                    self.builder.ins().return_(&[value]);
                }
                None => {
                    self.builder.ins().return_(&[]);
                }
            },
            Term::Exit(status) => {
                let status = self.operand(*status)?;
                self.call_runtime(RuntimeFn::Exit, &[status])?;
                self.builder.ins().trap(UNREACHABLE);
            }
            Term::Unwind => self.unwind(),
        }
        Ok(())
    }
}
