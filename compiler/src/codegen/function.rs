//! Lowers one IR function to Cranelift IR with `cranelift_frontend`.
//!
//! Each IR local is a `Variable` (the frontend builds SSA form from the assignments), each IR
//! block a Cranelift block; a fresh entry block binds the parameters, zeroes every other local
//! and jumps to IR block 0 (so IR block 0 may be a loop header). The checks the IR's semantics
//! demand are inline: the happy path pays one compare (or overflow flag) and one branch per
//! check, to a cold block that calls `keel_fault_int(site, site_len, op, a, b)` and then traps,
//! unreachably, because that call never returns. Checks that an operand constant makes
//! impossible are not emitted (`x / 2`, `x << 3`).
//!
//! What this module does not do: declare functions, verify or compile the result (the caller
//! does), or decide what a fault prints (the runtime does).

use std::collections::HashMap;

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    self as clif, types, Block, FuncRef, GlobalValue, InstBuilder, TrapCode, Value,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_module::{DataId, FuncId, Module};
use keel_runtime::IntOp;

use super::runtime::RuntimeFn;
use super::{value_type, Env};
use crate::ir::{self, BinaryOp, Inst, Operand, SiteId, Stream, Term, Ty, UnaryOp};

/// The trap after a call that never returns; reaching it would be a runtime bug.
const UNREACHABLE: TrapCode = TrapCode::unwrap_user(1);

type Result<T> = std::result::Result<T, String>;

/// Lowers `func` into `clif`, whose signature the caller has already set.
pub(super) fn lower_function<M: Module>(
    env: &mut Env<'_, M>,
    func: &ir::Function,
    clif: &mut clif::Function,
    builder_ctx: &mut FunctionBuilderContext,
) -> Result<()> {
    let mut builder = FunctionBuilder::new(clif, builder_ctx);
    let mut vars = Vec::with_capacity(func.locals.len());
    for (index, info) in func.locals.iter().enumerate() {
        let ty = value_type(info.ty, env.pointer)
            .ok_or_else(|| format!("local %{index} has type void"))?;
        vars.push((builder.declare_var(ty), ty));
    }
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
    for (index, &(var, ty)) in vars.iter().enumerate() {
        let initial = match params.get(index) {
            Some(&param) => param,
            None => builder.ins().iconst(ty, 0),
        };
        builder.def_var(var, initial);
    }
    builder.ins().jump(first, &[]);

    let mut lowering = FunctionLowering {
        env,
        builder,
        vars: vars.into_iter().map(|(var, _)| var).collect(),
        func_refs: HashMap::new(),
        data_refs: HashMap::new(),
    };
    for (block, &clif_block) in func.blocks.iter().zip(&blocks) {
        lowering.builder.switch_to_block(clif_block);
        for inst in &block.insts {
            lowering.inst(inst)?;
        }
        lowering.term(&block.term, &blocks)?;
    }
    let config = lowering.env.module.target_config();
    lowering.builder.seal_all_blocks();
    lowering.builder.finalize(config);
    Ok(())
}

/// The state of lowering one function.
struct FunctionLowering<'e, 'a, 'f, M: Module> {
    env: &'e mut Env<'a, M>,
    builder: FunctionBuilder<'f>,
    /// The variable of each IR local.
    vars: Vec<Variable>,
    /// Functions and data objects referenced so far from this function.
    func_refs: HashMap<FuncId, FuncRef>,
    data_refs: HashMap<DataId, GlobalValue>,
}

/// The value of an immediate int operand, if it is one.
fn constant(operand: Operand) -> Option<i64> {
    match operand {
        Operand::Int(value) => Some(value),
        _ => None,
    }
}

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
    fn var(&self, local: ir::Local) -> Variable {
        self.vars[local.0 as usize]
    }

    fn operand(&mut self, operand: Operand) -> Result<Value> {
        Ok(match operand {
            Operand::Local(local) => {
                let var = self.var(local);
                self.builder.use_var(var)
            }
            Operand::Int(value) => self.builder.ins().iconst(types::I64, value),
            Operand::Bool(value) => self.builder.ins().iconst(types::I8, i64::from(value)),
            Operand::Str(id) => {
                let env = &mut *self.env;
                let data = env.data.string(env.module, env.program, id)?;
                self.data_address(data)
            }
            // VALUES-TODO: the values work lowers these.
            Operand::Float(_) | Operand::Desc(_) => return Err("values are not lowered yet".into()),
        })
    }

    fn data_address(&mut self, data: DataId) -> Value {
        let global = match self.data_refs.get(&data) {
            Some(&global) => global,
            None => {
                let global = self
                    .env
                    .module
                    .declare_data_in_func(data, self.builder.func);
                self.data_refs.insert(data, global);
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
        let env = &mut *self.env;
        let id = env.imports.get(env.module, function)?;
        let callee = self.func_ref(id);
        self.builder.ins().call(callee, args);
        Ok(())
    }

    fn inst(&mut self, inst: &Inst) -> Result<()> {
        match inst {
            Inst::Copy { dst, src } => {
                let value = self.operand(*src)?;
                self.builder.def_var(self.var(*dst), value);
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
                    // VALUES-TODO
                    _ => return Err("values are not lowered yet".into()),
                };
                self.builder.def_var(self.var(*dst), result);
            }
            Inst::Binary {
                dst,
                op,
                lhs,
                rhs,
                site,
            } => {
                let result = self.binary(*op, *lhs, *rhs, *site)?;
                self.builder.def_var(self.var(*dst), result);
            }
            Inst::Call {
                dst,
                func,
                args,
                site: _,
            } => {
                let mut values = Vec::with_capacity(args.len());
                for arg in args {
                    values.push(self.operand(*arg)?);
                }
                let id = *self
                    .env
                    .functions
                    .get(func.0 as usize)
                    .ok_or_else(|| format!("call to fn#{} which does not exist", func.0))?;
                let callee = self.func_ref(id);
                let call = self.builder.ins().call(callee, &values);
                if let Some(dst) = dst {
                    let result = *self.builder.inst_results(call).first().ok_or_else(|| {
                        format!("call to fn#{} uses the result of a void function", func.0)
                    })?;
                    self.builder.def_var(self.var(*dst), result);
                }
            }
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
                    Ty::Void => return Err("print of a void value".into()),
                    // VALUES-TODO
                    _ => return Err("values are not lowered yet".into()),
                }
            }
            // VALUES-TODO: the values work lowers these.
            _ => return Err("values are not lowered yet".into()),
        }
        Ok(())
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
            // VALUES-TODO
            _ => return Err("values are not lowered yet".into()),
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

    /// Branches to a cold block that reports an integer fault when `failed` (an `i8`) is nonzero.
    fn fault_if(
        &mut self,
        failed: Value,
        op: IntOp,
        site: SiteId,
        a: Value,
        b: Value,
    ) -> Result<()> {
        let cold = self.builder.create_block();
        self.builder.set_cold_block(cold);
        let next = self.builder.create_block();
        self.builder.ins().brif(failed, cold, &[], next, &[]);
        self.builder.seal_block(cold);
        self.builder.seal_block(next);

        self.builder.switch_to_block(cold);
        self.report_int_fault(op, site, a, b)?;
        self.builder.switch_to_block(next);
        Ok(())
    }

    /// Reports an integer fault unconditionally (an operand constant makes it certain). Code
    /// after it is unreachable but stays well formed.
    fn fault_always(&mut self, op: IntOp, site: SiteId, a: Value, b: Value) -> Result<()> {
        let always = self.builder.ins().iconst(types::I8, 1);
        self.fault_if(always, op, site, a, b)
    }

    /// Calls `keel_fault_int` for `op` at `site` and ends the current block with a trap.
    fn report_int_fault(&mut self, op: IntOp, site: SiteId, a: Value, b: Value) -> Result<()> {
        let env = &mut *self.env;
        let (text, len) = env.data.site(env.module, env.program, site)?;
        let site_ptr = self.data_address(text);
        let site_len = self.builder.ins().iconst(self.env.pointer, len as i64);
        let code = self.builder.ins().iconst(types::I32, i64::from(op as u32));
        self.call_runtime(RuntimeFn::FaultInt, &[site_ptr, site_len, code, a, b])?;
        self.builder.ins().trap(UNREACHABLE);
        Ok(())
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
                    let negated = self.builder.ins().icmp_imm_s(IntCC::Equal, cond, 0);
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
        }
        Ok(())
    }
}
