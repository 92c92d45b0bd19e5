//! Object-file emission: the whole program plus a C `main` in one relocatable ELF object.
//!
//! Keel functions are lowered by [`crate::codegen`] into a `cranelift-object` module built for
//! the target's ISA (position independent, baseline CPU features), each in its own section so the
//! linker's `--gc-sections` drops unused ones. Then a C `main(argc, argv) -> int` is added that
//! hands the entry function to `keel_run_main(argc, argv, entry, stack_bytes)`, which does what
//! every backend does around a program (`keel_init`, the entry function, `keel_finish`) on a
//! thread with a stack of `stack_bytes`, computed from the program's frames so that it holds
//! `MAX_STACK_UNITS` units of them, and returns the exit status. No unwind
//! tables are emitted (nothing unwinds through Keel code: the runtime aborts on panic), so the
//! object carries no text relocations into the PIE. With debug information
//! ([`emit_debug_object`], `keel build -g`), the same code comes with the DWARF sections of
//! `debuginfo`, which are not loaded.
//!
//! What this module does not do: write files or link (see `link`).

use cranelift_codegen::ir::{types, AbiParam, InstBuilder, Signature};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{FuncId, Linkage, Module};
use cranelift_object::{ObjectBuilder, ObjectModule};

use std::path::Path;

use super::debuginfo;
use super::target::Target;
use crate::codegen::runtime::{RuntimeFn, RuntimeImports};
use crate::codegen::{self, describe_module_error, CodegenError};
use crate::ir::Program;

/// Compiles `program` for `target` into the bytes of an object file defining `main`.
pub fn emit_object(program: &Program, target: &Target) -> Result<Vec<u8>, CodegenError> {
    emit(program, target, None)
}

/// [`emit_object`] with DWARF debug information (see `debuginfo`); source file names that are
/// not absolute are relative to `comp_dir`.
pub fn emit_debug_object(
    program: &Program,
    target: &Target,
    comp_dir: &Path,
) -> Result<Vec<u8>, CodegenError> {
    emit(program, target, Some(comp_dir))
}

/// The object file of `program`, with debug information when `debug_dir` (the compilation
/// directory) is given.
fn emit(
    program: &Program,
    target: &Target,
    debug_dir: Option<&Path>,
) -> Result<Vec<u8>, CodegenError> {
    let isa = codegen::isa::aot_isa(target.triple.clone())?;
    let mut builder = ObjectBuilder::new(
        isa.clone(),
        "keel_program",
        cranelift_module::default_libcall_names(),
    )
    .map_err(|e| CodegenError::general(describe_module_error(&e)))?;
    builder.per_function_section(true);
    let mut module = ObjectModule::new(builder);
    let lowered = codegen::lower_program_with(&mut module, program, debug_dir.is_some())?;
    define_c_main(&mut module, lowered.entry(), lowered.body_stack_bytes()).map_err(|message| {
        CodegenError {
            function: Some("main".into()),
            message,
        }
    })?;
    crate::timing::time("object file", || {
        let mut product = module.finish();
        if let Some(dir) = debug_dir {
            debuginfo::add_debug_sections(&mut product, program, &lowered, &*isa, dir)
                .map_err(CodegenError::general)?;
        }
        product
            .emit()
            .map_err(|e| CodegenError::general(format!("writing the object file: {e}")))
    })
}

/// Defines `int main(int argc, char **argv)` as
/// `return keel_run_main(argc, argv, &entry, stack_bytes)`.
fn define_c_main(
    module: &mut ObjectModule,
    entry: FuncId,
    stack_bytes: usize,
) -> Result<(), String> {
    let pointer = module.target_config().pointer_type();
    let mut signature = Signature::new(module.isa().default_call_conv());
    signature.params.push(AbiParam::new(types::I32));
    signature.params.push(AbiParam::new(pointer));
    signature.returns.push(AbiParam::new(types::I32));
    let main = module
        .declare_function("main", Linkage::Export, &signature)
        .map_err(|e| describe_module_error(&e))?;
    let mut imports = RuntimeImports::default();
    let run_main = imports.get(module, RuntimeFn::RunMain)?;

    let mut ctx = module.make_context();
    ctx.func.signature = signature;
    let mut builder_ctx = FunctionBuilderContext::new();
    let mut builder = FunctionBuilder::new(&mut ctx.func, &mut builder_ctx);
    let block = builder.create_block();
    builder.append_block_params_for_function_params(block);
    builder.switch_to_block(block);
    builder.seal_block(block);
    let mut args = builder.block_params(block).to_vec();

    let run_main = module.declare_func_in_func(run_main, builder.func);
    let entry = module.declare_func_in_func(entry, builder.func);
    args.push(builder.ins().func_addr(pointer, entry));
    let stack_bytes = i64::try_from(stack_bytes).unwrap_or(i64::MAX);
    args.push(builder.ins().iconst(pointer, stack_bytes));
    let call = builder.ins().call(run_main, &args);
    let status = builder.inst_results(call).to_vec();
    builder.ins().return_(&status);
    builder.finalize(module.target_config());

    module
        .define_function(main, &mut ctx)
        .map_err(|e| describe_module_error(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Block, FuncId as IrFuncId, Function, Term, Ty};

    fn empty_program() -> Program {
        Program {
            functions: vec![Function {
                name: "<main>".into(),
                env: false,
                param_count: 0,
                ret: Ty::Void,
                locals: vec![],
                blocks: vec![Block {
                    insts: vec![],
                    term: Term::Return(None),
                    handler: None,
                }],
            }],
            entry: IrFuncId(0),
            strings: vec![],
            sites: vec![],
            arrays: Vec::new(),
            structs: Vec::new(),
            maps: Vec::new(),
        }
    }

    #[test]
    fn objects_for_every_supported_target_are_elf() {
        for name in super::super::target::SUPPORTED {
            let target = Target::parse(name).expect("supported");
            let bytes = emit_object(&empty_program(), &target).expect("object");
            assert!(bytes.starts_with(b"\x7fELF"), "{name}");
        }
    }
}
