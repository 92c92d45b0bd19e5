//! The runtime's C-ABI entry points as generated code sees them: symbol names and signatures.
//!
//! Two kinds of runtime function are called from generated code:
//! - the fixed set of [`RuntimeFn`]s the lowering itself needs (process start and end, printing,
//!   faults, allocation, freeing, copy-on-write), each with a Cranelift signature that matches
//!   its Rust definition: `i64` for `int`, `i64` holding 0/1 for `bool` (callers zero-extend
//!   their `i8`), `f64` for `float`, pointers for objects, descriptors and byte ranges, `i32` for
//!   `u32` flags and operation codes;
//! - the library functions an [`ir::Inst::CallRt`] names, whose signatures come from
//!   [`RtFunc::sig`] (see [`rt_signature`]).
//!
//! [`RuntimeImports`] declares both in a module with `Linkage::Import`, each once and only when
//! first used. The symbol names are those of `keel_runtime::symbols()`, which the JIT binds
//! in-process.
//!
//! What this module does not do: call anything, or know how the JIT or the linker resolves the
//! symbols.

use std::collections::HashMap;

use cranelift_codegen::ir::{types, AbiParam, Signature, Type};
use cranelift_codegen::isa::CallConv;
use cranelift_module::{FuncId, Linkage, Module};

use super::describe_module_error;
use crate::ir::{self, RtFunc, RtSig, RtType};

/// A runtime function the lowering calls on its own account (not through `CallRt`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum RuntimeFn {
    /// `keel_init(argc: i32, argv: *const *const c_char)`.
    Init,
    /// `keel_finish() -> i32`.
    Finish,
    /// `keel_exit(code: i64) -> !`.
    Exit,
    /// `keel_print_int(value: i64, flags: u32)`.
    PrintInt,
    /// `keel_print_bool(value: i64, flags: u32)`.
    PrintBool,
    /// `keel_print_str(s: *const StrHeader, flags: u32)`.
    PrintStr,
    /// `keel_print_float(value: f64, flags: u32)`.
    PrintFloat,
    /// `keel_print_value(v: *const Object, flags: u32)`: an array or a struct.
    PrintValue,
    /// `keel_fault_int(site: *const u8, site_len: usize, op: u32, a: i64, b: i64)`; like the
    /// other two fault functions below, it returns only while a `live` block is active.
    FaultInt,
    /// `keel_fault_bounds(site: *const u8, site_len: usize, index: i64, len: i64)`.
    FaultBounds,
    /// `keel_fault_to_int(site: *const u8, site_len: usize, value: f64)`.
    FaultToInt,
    /// `keel_fault_stack_overflow(site: *const u8, site_len: usize) -> !`.
    FaultStackOverflow,
    /// `keel_run_main(argc: i32, argv: *const *const c_char, entry: extern "C" fn(),
    /// stack_bytes: usize) -> i32`.
    RunMain,
    /// `keel_free(obj)`: frees an object whose count reached 0, releasing its children.
    Free,
    /// `keel_free_shell(obj)`: frees a struct whose count reached 0 and whose heap fields the
    /// caller took over, without releasing them.
    FreeShell,
    /// `keel_make_unique(obj) -> obj`: consumes `obj`, returns a copy with count 1.
    MakeUnique,
    /// `keel_array_alloc(desc, len: i64) -> arr`, elements zeroed.
    ArrayAlloc,
    /// `keel_struct_alloc(desc) -> struct`, fields zeroed.
    StructAlloc,
}

impl RuntimeFn {
    /// Every runtime function, in declaration order.
    pub const ALL: [RuntimeFn; 18] = [
        RuntimeFn::Init,
        RuntimeFn::Finish,
        RuntimeFn::Exit,
        RuntimeFn::PrintInt,
        RuntimeFn::PrintBool,
        RuntimeFn::PrintStr,
        RuntimeFn::PrintFloat,
        RuntimeFn::PrintValue,
        RuntimeFn::FaultInt,
        RuntimeFn::FaultBounds,
        RuntimeFn::FaultToInt,
        RuntimeFn::FaultStackOverflow,
        RuntimeFn::RunMain,
        RuntimeFn::Free,
        RuntimeFn::FreeShell,
        RuntimeFn::MakeUnique,
        RuntimeFn::ArrayAlloc,
        RuntimeFn::StructAlloc,
    ];

    /// The linker symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            RuntimeFn::Init => "keel_init",
            RuntimeFn::Finish => "keel_finish",
            RuntimeFn::Exit => "keel_exit",
            RuntimeFn::PrintInt => "keel_print_int",
            RuntimeFn::PrintBool => "keel_print_bool",
            RuntimeFn::PrintStr => "keel_print_str",
            RuntimeFn::PrintFloat => "keel_print_float",
            RuntimeFn::PrintValue => "keel_print_value",
            RuntimeFn::FaultInt => "keel_fault_int",
            RuntimeFn::FaultBounds => "keel_fault_bounds",
            RuntimeFn::FaultToInt => "keel_fault_to_int",
            RuntimeFn::FaultStackOverflow => "keel_fault_stack_overflow",
            RuntimeFn::RunMain => "keel_run_main",
            RuntimeFn::Free => "keel_free",
            RuntimeFn::FreeShell => "keel_free_shell",
            RuntimeFn::MakeUnique => "keel_make_unique",
            RuntimeFn::ArrayAlloc => "keel_array_alloc",
            RuntimeFn::StructAlloc => "keel_struct_alloc",
        }
    }

    /// The C signature, for a target with pointers of type `pointer`.
    pub fn signature(self, call_conv: CallConv, pointer: Type) -> Signature {
        let flags = AbiParam::new(types::I32).uext();
        let ptr = AbiParam::new(pointer);
        let int = AbiParam::new(types::I64);
        let (params, returns) = match self {
            RuntimeFn::Init => (vec![AbiParam::new(types::I32).sext(), ptr], vec![]),
            RuntimeFn::Finish => (vec![], vec![AbiParam::new(types::I32).sext()]),
            RuntimeFn::Exit => (vec![int], vec![]),
            RuntimeFn::PrintInt | RuntimeFn::PrintBool => (vec![int, flags], vec![]),
            RuntimeFn::PrintStr | RuntimeFn::PrintValue => (vec![ptr, flags], vec![]),
            RuntimeFn::PrintFloat => (vec![AbiParam::new(types::F64), flags], vec![]),
            RuntimeFn::FaultInt => (
                vec![ptr, ptr, AbiParam::new(types::I32).uext(), int, int],
                vec![],
            ),
            RuntimeFn::FaultBounds => (vec![ptr, ptr, int, int], vec![]),
            RuntimeFn::FaultToInt => (vec![ptr, ptr, AbiParam::new(types::F64)], vec![]),
            RuntimeFn::FaultStackOverflow => (vec![ptr, ptr], vec![]),
            RuntimeFn::RunMain => (
                vec![AbiParam::new(types::I32).sext(), ptr, ptr, ptr],
                vec![AbiParam::new(types::I32).sext()],
            ),
            RuntimeFn::Free | RuntimeFn::FreeShell => (vec![ptr], vec![]),
            RuntimeFn::MakeUnique | RuntimeFn::StructAlloc => (vec![ptr], vec![ptr]),
            RuntimeFn::ArrayAlloc => (vec![ptr, int], vec![ptr]),
        };
        let mut sig = Signature::new(call_conv);
        sig.params = params;
        sig.returns = returns;
        sig
    }
}

/// The Cranelift type of a runtime parameter or result kind.
pub fn rt_type(kind: RtType, pointer: Type) -> Type {
    match kind {
        RtType::I64 | RtType::Any => types::I64,
        RtType::F64 => types::F64,
        RtType::Ptr => pointer,
    }
}

/// The C signature of a library function called through `CallRt`: its parameters, then the site
/// text's pointer and length when it takes a site, and its result.
pub fn rt_signature(sig: &RtSig, call_conv: CallConv, pointer: Type) -> Signature {
    let mut signature = Signature::new(call_conv);
    for &kind in sig.params {
        signature.params.push(AbiParam::new(rt_type(kind, pointer)));
    }
    if sig.takes_site {
        signature.params.push(AbiParam::new(pointer));
        signature.params.push(AbiParam::new(pointer));
    }
    if let Some(ret) = sig.ret {
        signature.returns.push(AbiParam::new(rt_type(ret, pointer)));
    }
    signature
}

/// Runtime functions declared in one module so far, by symbol.
#[derive(Default)]
pub struct RuntimeImports {
    declared: HashMap<&'static str, FuncId>,
}

impl RuntimeImports {
    /// The module's id for `function`, declaring it as an import on first use; errors are rendered
    /// module errors.
    pub fn get<M: Module>(
        &mut self,
        module: &mut M,
        function: RuntimeFn,
    ) -> Result<FuncId, String> {
        let (call_conv, pointer) = conventions(module);
        self.declare(module, function.symbol(), || {
            function.signature(call_conv, pointer)
        })
    }

    /// The module's id for the library function `function`, declaring it on first use.
    pub fn get_rt<M: Module>(
        &mut self,
        module: &mut M,
        function: ir::RtFunc,
    ) -> Result<FuncId, String> {
        let (call_conv, pointer) = conventions(module);
        let sig = RtFunc::sig(function);
        self.declare(module, sig.symbol, || {
            rt_signature(&sig, call_conv, pointer)
        })
    }

    fn declare<M: Module>(
        &mut self,
        module: &mut M,
        symbol: &'static str,
        signature: impl FnOnce() -> Signature,
    ) -> Result<FuncId, String> {
        if let Some(&id) = self.declared.get(symbol) {
            return Ok(id);
        }
        let id = module
            .declare_function(symbol, Linkage::Import, &signature())
            .map_err(|e| describe_module_error(&e))?;
        self.declared.insert(symbol, id);
        Ok(id)
    }
}

fn conventions<M: Module>(module: &M) -> (CallConv, Type) {
    (
        module.isa().default_call_conv(),
        module.target_config().pointer_type(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_symbol_we_call_is_bound_by_the_runtime() {
        let theirs: Vec<&str> = keel_runtime::symbols()
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        let ours = RuntimeFn::ALL
            .iter()
            .map(|f| f.symbol())
            .chain(RtFunc::ALL.iter().map(|f| f.sig().symbol));
        for symbol in ours {
            assert!(theirs.contains(&symbol), "{symbol} is not in symbols()");
        }
    }

    #[test]
    fn library_signatures_add_the_site_arguments() {
        let pointer = types::I64;
        let sig = rt_signature(&RtFunc::StrSubstring.sig(), CallConv::SystemV, pointer);
        assert_eq!(sig.params.len(), 5);
        assert_eq!(sig.returns, vec![AbiParam::new(pointer)]);
        let sig = rt_signature(&RtFunc::FloatAtan2.sig(), CallConv::SystemV, pointer);
        assert_eq!(
            sig.params,
            vec![AbiParam::new(types::F64), AbiParam::new(types::F64)]
        );
        assert_eq!(sig.returns, vec![AbiParam::new(types::F64)]);
        let sig = rt_signature(&RtFunc::ArrayPush.sig(), CallConv::SystemV, pointer);
        assert_eq!(
            sig.params,
            vec![AbiParam::new(pointer), AbiParam::new(types::I64)]
        );
    }
}
