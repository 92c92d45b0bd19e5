//! The runtime's C-ABI entry points as generated code sees them: symbol names and signatures.
//!
//! Each [`RuntimeFn`] names one `extern "C"` function of `keel_runtime` (the names are those of
//! `keel_runtime::symbols()`, which the JIT binds in-process) with a Cranelift signature that
//! matches its Rust definition: `i64` for `int`, `i64` holding 0/1 for `bool` (callers
//! zero-extend their `i8`), pointers for strings and byte ranges, `i32` for `u32` flags and
//! operation codes. [`RuntimeImports`] declares them in a module with `Linkage::Import`, each once
//! and only when first used.
//!
//! What this module does not do: call anything, or know how the JIT or the linker resolves the
//! symbols.

use cranelift_codegen::ir::{types, AbiParam, Signature, Type};
use cranelift_codegen::isa::CallConv;
use cranelift_module::{FuncId, Linkage, Module};

use super::describe_module_error;

/// A runtime function generated code may call.
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
    /// `keel_fault_int(site: *const u8, site_len: usize, op: u32, a: i64, b: i64) -> !`.
    FaultInt,
}

impl RuntimeFn {
    /// Every runtime function, in declaration order.
    pub const ALL: [RuntimeFn; 7] = [
        RuntimeFn::Init,
        RuntimeFn::Finish,
        RuntimeFn::Exit,
        RuntimeFn::PrintInt,
        RuntimeFn::PrintBool,
        RuntimeFn::PrintStr,
        RuntimeFn::FaultInt,
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
            RuntimeFn::FaultInt => "keel_fault_int",
        }
    }

    /// The C signature, for a target with pointers of type `pointer`.
    pub fn signature(self, call_conv: CallConv, pointer: Type) -> Signature {
        let flags = AbiParam::new(types::I32).uext();
        let (params, returns) = match self {
            RuntimeFn::Init => (
                vec![AbiParam::new(types::I32).sext(), AbiParam::new(pointer)],
                vec![],
            ),
            RuntimeFn::Finish => (vec![], vec![AbiParam::new(types::I32).sext()]),
            RuntimeFn::Exit => (vec![AbiParam::new(types::I64)], vec![]),
            RuntimeFn::PrintInt | RuntimeFn::PrintBool => {
                (vec![AbiParam::new(types::I64), flags], vec![])
            }
            RuntimeFn::PrintStr => (vec![AbiParam::new(pointer), flags], vec![]),
            RuntimeFn::FaultInt => (
                vec![
                    AbiParam::new(pointer),
                    AbiParam::new(pointer),
                    AbiParam::new(types::I32).uext(),
                    AbiParam::new(types::I64),
                    AbiParam::new(types::I64),
                ],
                vec![],
            ),
        };
        let mut sig = Signature::new(call_conv);
        sig.params = params;
        sig.returns = returns;
        sig
    }
}

/// Runtime functions declared in one module so far.
#[derive(Default)]
pub struct RuntimeImports {
    declared: [Option<FuncId>; RuntimeFn::ALL.len()],
}

impl RuntimeImports {
    /// The module's id for `function`, declaring it as an import on first use; errors are rendered
    /// module errors.
    pub fn get<M: Module>(
        &mut self,
        module: &mut M,
        function: RuntimeFn,
    ) -> Result<FuncId, String> {
        let slot = &mut self.declared[function as usize];
        if let Some(id) = *slot {
            return Ok(id);
        }
        let sig = function.signature(
            module.isa().default_call_conv(),
            module.target_config().pointer_type(),
        );
        let id = module
            .declare_function(function.symbol(), Linkage::Import, &sig)
            .map_err(|e| describe_module_error(&e))?;
        *slot = Some(id);
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_runtime_symbol_table() {
        let mut ours: Vec<&str> = RuntimeFn::ALL.iter().map(|f| f.symbol()).collect();
        let mut theirs: Vec<&str> = keel_runtime::symbols()
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        ours.sort_unstable();
        theirs.sort_unstable();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn discriminants_index_the_table() {
        for (index, function) in RuntimeFn::ALL.iter().enumerate() {
            assert_eq!(*function as usize, index);
        }
    }
}
