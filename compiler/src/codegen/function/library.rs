//! `CallRt`: calls of the runtime's library functions, and the few that are inlined.
//!
//! A library call converts each argument to the kind [`RtFunc::sig`] gives it (a `bool` widens
//! to `i64`; an `Any` argument carries a float as its bits), appends the fault site when the
//! function takes one, and narrows a `bool` result back to `i8` (an `Any` result of type
//! `float` is its bits). `sqrt` and `abs` of floats and
//! `min`, `max` and `abs` of ints are single instructions and are emitted inline, with exactly
//! the runtime's results (`abs` of `int_min` still calls the runtime, which reports the fault).
//! `push` stores in place when it can (`heap::array_push`). In a program that recovers, a call
//! of a function that may fault is followed by the test of the pending-fault flag (see
//! `recovery`).
//!
//! What this module does not do: know what any library function computes beyond those five and
//! `push`.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Value};
use cranelift_module::Module;

use super::{FunctionLowering, Result};
use crate::codegen::runtime::rt_type;
use crate::ir::{self, Operand, RtFunc, RtType, SiteId, Ty};

impl<M: Module> FunctionLowering<'_, '_, '_, M> {
    /// `dst = func(args...)` for a library function: each argument converted to the kind the
    /// signature gives it, the site text appended when the function takes it, and the result
    /// narrowed back to `dst`'s type (a runtime `bool` is an `i64`).
    pub(super) fn call_library(
        &mut self,
        dst: Option<ir::Local>,
        func: RtFunc,
        args: &[Operand],
        site: SiteId,
    ) -> Result<()> {
        let sig = func.sig();
        if let (RtFunc::ArrayPush, Some(dst), [array, value]) = (func, dst, args) {
            return self.array_push(dst, *array, *value);
        }
        if let Some(result) = self.inline_library(func, args, site)? {
            if let Some(dst) = dst {
                self.def_local(dst, result);
            }
            return Ok(());
        }
        if args.len() != sig.params.len() {
            return Err(format!(
                "{} takes {} arguments, the IR passes {}",
                sig.symbol,
                sig.params.len(),
                args.len()
            ));
        }
        let mut values = Vec::with_capacity(args.len() + 2);
        for (&arg, &kind) in args.iter().zip(sig.params) {
            let value = self.operand(arg)?;
            let value = self.runtime_arg(value, self.operand_ty(arg), kind);
            values.push(value);
        }
        if sig.takes_site {
            values.extend(self.site_args(site)?);
        }
        let env = &mut *self.env;
        let id = env.imports.get_rt(env.module, func)?;
        let callee = self.func_ref(id);
        let call = self.builder.ins().call(callee, &values);
        if func.may_fault() {
            self.propagate_pending_fault()?;
        }
        let Some(dst) = dst else { return Ok(()) };
        let Some(ret) = sig.ret else {
            return Err(format!(
                "{} returns nothing, the IR uses its result",
                sig.symbol
            ));
        };
        let mut result = *self
            .builder
            .inst_results(call)
            .first()
            .ok_or_else(|| format!("{} returns nothing", sig.symbol))?;
        if self.types[dst.0 as usize] == Ty::Bool && ret != RtType::F64 {
            result = self.builder.ins().ireduce(types::I8, result);
        }
        if self.types[dst.0 as usize] == Ty::Float && ret == RtType::Any {
            // A float element comes back as its bits.
            result = (self.builder.ins()).bitcast(types::F64, MemFlagsData::new(), result);
        }
        if ret == RtType::Ptr {
            // The runtime returns objects, never null.
            self.non_null.insert(result);
        }
        self.def_local(dst, result);
        Ok(())
    }

    /// The result of the library functions that are single instructions (`sqrt`, `abs`, `min`
    /// and `max` on ints, `abs` on floats), computed inline with exactly the runtime's result;
    /// `None` for the others. `abs` of an int checks for `int_min` inline and lets the runtime
    /// function report the fault.
    fn inline_library(
        &mut self,
        func: RtFunc,
        args: &[Operand],
        site: SiteId,
    ) -> Result<Option<Value>> {
        let inline = matches!(
            func,
            RtFunc::FloatSqrt | RtFunc::FloatAbs | RtFunc::IntMin | RtFunc::IntMax | RtFunc::IntAbs
        );
        if !inline || args.len() != func.sig().params.len() {
            return Ok(None);
        }
        let values = self.operands(args)?;
        Ok(Some(match (func, values.as_slice()) {
            (RtFunc::FloatSqrt, &[x]) => self.builder.ins().sqrt(x),
            (RtFunc::FloatAbs, &[x]) => self.builder.ins().fabs(x),
            (RtFunc::IntMin, &[a, b]) => self.builder.ins().smin(a, b),
            (RtFunc::IntMax, &[a, b]) => self.builder.ins().smax(a, b),
            (RtFunc::IntAbs, &[x]) => {
                let overflows = self.builder.ins().icmp_imm_s(IntCC::Equal, x, i64::MIN);
                self.fault_if_with(overflows, |this| {
                    let [site_ptr, site_len] = this.site_args(site)?;
                    let env = &mut *this.env;
                    let id = env.imports.get_rt(env.module, RtFunc::IntAbs)?;
                    let callee = this.func_ref(id);
                    this.builder.ins().call(callee, &[x, site_ptr, site_len]);
                    Ok(())
                })?;
                self.builder.ins().iabs(x)
            }
            _ => return Ok(None),
        }))
    }

    /// Converts a value of IR type `ty` to what a runtime parameter of kind `kind` expects:
    /// bools widen to `i64`; `Any` also carries a float as its bits.
    pub(super) fn runtime_arg(&mut self, value: Value, ty: Ty, kind: RtType) -> Value {
        let wanted = rt_type(kind, self.env.pointer);
        match ty {
            Ty::Bool if wanted == types::I64 => self.builder.ins().uextend(types::I64, value),
            Ty::Float if wanted == types::I64 => {
                self.builder
                    .ins()
                    .bitcast(types::I64, MemFlagsData::new(), value)
            }
            _ => value,
        }
    }
}
