//! Register-preserving trampolines for the runtime calls on reference-counting slow paths.
//!
//! `Release` calls `keel_free` when a count reaches zero, and in-place updates call
//! `keel_make_unique` when a container is shared. Both calls sit on side paths of otherwise
//! call-free code, often inside or just after hot loops. A C call clobbers every caller-saved
//! register (on x86-64 that is every float register), and Cranelift's register allocator then
//! tends to spill the values that live across such a call at their definitions, inside the loop,
//! even though the call is rarely or never reached. So generated code may call, instead, a small
//! local function with Cranelift's `preserve_all` convention, which saves what the C call
//! clobbers itself, so the call site clobbers nothing (`function::heap` says when it does).
//! `preserve_all` functions cannot return values, so the make-unique trampoline writes its result
//! through a pointer argument (a stack slot of the caller).
//!
//! Each trampoline is defined once per module, on first use, with `Linkage::Local`.
//!
//! What this module does not do: decide when to free or copy (see `function::heap`).

use cranelift_codegen::ir::{AbiParam, InstBuilder, MemFlagsData, Signature};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{FuncId, Linkage, Module};

use super::describe_module_error;
use super::runtime::{RuntimeFn, RuntimeImports};

/// A trampoline generated code calls instead of a runtime function.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Helper {
    /// `(obj)`: calls `keel_free(obj)`.
    Free,
    /// `(obj, out: *mut obj)`: `*out = keel_make_unique(obj)`.
    MakeUnique,
}

impl Helper {
    fn symbol(self) -> &'static str {
        match self {
            Helper::Free => "keel.helper.free",
            Helper::MakeUnique => "keel.helper.make_unique",
        }
    }

    fn runtime_fn(self) -> RuntimeFn {
        match self {
            Helper::Free => RuntimeFn::Free,
            Helper::MakeUnique => RuntimeFn::MakeUnique,
        }
    }
}

/// The trampolines defined in one module so far.
#[derive(Default)]
pub(super) struct Helpers {
    free: Option<FuncId>,
    make_unique: Option<FuncId>,
}

impl Helpers {
    /// The module's id for `helper`, defining it on first use.
    pub(super) fn get<M: Module>(
        &mut self,
        module: &mut M,
        imports: &mut RuntimeImports,
        helper: Helper,
    ) -> Result<FuncId, String> {
        let slot = match helper {
            Helper::Free => &mut self.free,
            Helper::MakeUnique => &mut self.make_unique,
        };
        if let Some(id) = *slot {
            return Ok(id);
        }
        let id = define(module, imports, helper)?;
        *slot = Some(id);
        Ok(id)
    }
}

fn define<M: Module>(
    module: &mut M,
    imports: &mut RuntimeImports,
    helper: Helper,
) -> Result<FuncId, String> {
    let pointer = module.target_config().pointer_type();
    let mut signature = Signature::new(CallConv::PreserveAll);
    signature.params.push(AbiParam::new(pointer));
    if helper == Helper::MakeUnique {
        signature.params.push(AbiParam::new(pointer));
    }
    let id = module
        .declare_function(helper.symbol(), Linkage::Local, &signature)
        .map_err(|e| describe_module_error(&e))?;
    let target = imports.get(module, helper.runtime_fn())?;

    let mut ctx = module.make_context();
    ctx.func.signature = signature;
    let mut builder_ctx = FunctionBuilderContext::new();
    let mut builder = FunctionBuilder::new(&mut ctx.func, &mut builder_ctx);
    let block = builder.create_block();
    builder.append_block_params_for_function_params(block);
    builder.switch_to_block(block);
    builder.seal_block(block);
    let params = builder.block_params(block).to_vec();
    let callee = module.declare_func_in_func(target, builder.func);
    let call = builder.ins().call(callee, &params[..1]);
    if helper == Helper::MakeUnique {
        let result = *builder
            .inst_results(call)
            .first()
            .ok_or("keel_make_unique returns nothing")?;
        builder
            .ins()
            .store(MemFlagsData::trusted(), result, params[1], 0);
    }
    builder.ins().return_(&[]);
    builder.finalize(module.target_config());
    module
        .define_function(id, &mut ctx)
        .map_err(|e| describe_module_error(&e))?;
    Ok(id)
}
