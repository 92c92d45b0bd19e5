//! The Cranelift lowering shared by the JIT and AOT drivers: IR → Cranelift IR → machine code.
//!
//! [`lower_program`] is generic over `cranelift_module::Module`, so the JIT (`cranelift-jit`,
//! memory in this process) and the AOT driver (`cranelift-object`, a relocatable `.o`) compile
//! every Keel function through exactly the same code. It declares all functions first (so calls
//! between Keel functions are direct, in any order), then lowers each IR function:
//! IR locals become SSA values or shared `cranelift_frontend::Variable`s (`int` → `i64`, `bool` →
//! `i8`, `float` → `f64`, strings, arrays and structs → a pointer; see `function`, whose cost
//! stays linear in the size of a function), IR blocks become Cranelift blocks, and every
//! check the IR's semantics require (see `ir/mod.rs`) becomes an inline compare-and-branch to a
//! cold block that calls the runtime's fault function. Reference counting, array and struct
//! access are inline too (see `function`). String literals and fault-site texts go into two
//! read-only pools (see `data`), type descriptors into read-only data objects of their own, each
//! only when used. Finally, small leaf functions are inlined into their callers and every
//! function is compiled, on every core, the module getting the same bytes for any number of
//! threads (see `parallel`).
//!
//! Faults and `live` blocks: in a program without `live` blocks the fault functions never
//! return, so each cold block ends in a trap and nothing else is emitted. In a program with one
//! ([`ir::Program::recovers`]), recovery is propagation by return, the same on every target:
//! each IR block has a recovery target (its handler block, or an unwind block that returns 0 /
//! 0.0 / null from the function); fault blocks jump there after the fault call, `Term::Unwind`
//! jumps there, and every Keel call and faulting runtime call is followed by a test of the
//! runtime's `keel_fault_pending` flag that branches there (see `function::recovery`). Stack
//! overflow stays fatal.
//!
//! With debug information asked for ([`lower_program_with`]), the IR's `line` markers become
//! Cranelift source locations and [`debug`] keeps, for each compiled function, its source ranges
//! and unwind information; the machine code stays the same.
//!
//! Submodules: [`isa`] builds the target ISA with Keel's settings; [`runtime`] declares the
//! runtime's C-ABI entry points; [`debug`] collects what debug information needs; `data` owns
//! literal and site data; `descriptors` owns type descriptors; `helpers` defines
//! register-preserving trampolines for reference-counting slow paths; `function` lowers one
//! function (its `heap` part: reference counts, arrays, structs; its `recovery` part: where
//! faults go); `inliner` inlines small leaf functions into their callers before each function is
//! compiled; `parallel` compiles the functions on worker threads.
//!
//! What this module does not do: it chooses no module kind, emits no C `main`, links nothing and
//! runs nothing (that is `jit` and `aot`). It trusts its input to pass `ir::verify`.

mod data;
pub mod debug;
mod descriptors;
mod function;
mod helpers;
mod inliner;
pub mod isa;
mod parallel;
#[cfg(test)]
mod recovery_tests;
pub mod runtime;
#[cfg(test)]
mod values_tests;

use std::collections::HashMap;
use std::fmt;

use cranelift_codegen::ir::{self as clif, types, AbiParam, Signature, Type, UserFuncName};
use cranelift_codegen::isa::{CallConv, TargetIsa};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_module::{FuncId, Linkage, Module, ModuleError};

use crate::ir::{self, Program, Ty};
use data::DataObjects;
use debug::DebugTables;
use descriptors::Descriptors;
use helpers::Helpers;
use inliner::Inliner;
pub use parallel::{set_threads, threads};
use runtime::RuntimeImports;

/// A failure to generate code: a Cranelift verifier or backend error, or an unusable ISA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodegenError {
    /// The Keel function being compiled, when the failure belongs to one.
    pub function: Option<String>,
    /// What went wrong, in Cranelift's words.
    pub message: String,
}

impl CodegenError {
    /// An error that belongs to no particular function.
    pub fn general(message: impl Into<String>) -> CodegenError {
        CodegenError {
            function: None,
            message: message.into(),
        }
    }

    fn in_function(function: &str, message: impl Into<String>) -> CodegenError {
        CodegenError {
            function: Some(function.to_string()),
            message: message.into(),
        }
    }
}

impl fmt::Display for CodegenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.function {
            Some(name) => write!(
                f,
                "code generation failed in function `{name}`: {}",
                self.message
            ),
            None => write!(f, "code generation failed: {}", self.message),
        }
    }
}

impl std::error::Error for CodegenError {}

/// Where each IR function ended up in the module.
#[derive(Clone, Debug)]
pub struct LoweredProgram {
    functions: Vec<FuncId>,
    entry: FuncId,
    /// The most machine stack any function's frame takes per stack unit it counts.
    stack_bytes_per_unit: usize,
    /// What debug information needs, when it was asked for.
    debug: Option<DebugTables>,
}

impl LoweredProgram {
    /// The module's id for IR function `id`.
    pub fn function(&self, id: ir::FuncId) -> FuncId {
        self.functions[id.0 as usize]
    }

    /// The module's id for the program's entry function (`fn() -> void`).
    pub fn entry(&self) -> FuncId {
        self.entry
    }

    /// The stack the program body's thread needs so that the stack-unit limit, not the machine
    /// stack, is what a deep recursion reaches first (`keel_runtime::stack`).
    pub fn body_stack_bytes(&self) -> usize {
        keel_runtime::stack::body_stack_bytes(self.stack_bytes_per_unit)
    }

    /// The source locations and compiled code debug information needs, if
    /// [`lower_program_with`] was asked for them.
    pub fn debug_tables(&self) -> Option<&DebugTables> {
        self.debug.as_ref()
    }
}

/// The machine stack the function just compiled in `ctx` takes per stack unit a call of it
/// counts: its frame below the frame pointer, the saved frame pointer and return address, and the
/// slots of arguments it passes on the stack, which Cranelift keeps in the same frame.
fn stack_bytes_per_unit(ctx: &cranelift_codegen::Context, func: &ir::Function) -> usize {
    const LINKAGE_BYTES: usize = 16;
    let frame = ctx
        .compiled_code()
        .and_then(|code| code.buffer.frame_layout())
        .map_or(0, |layout| layout.frame_to_fp_offset as usize);
    let units = usize::try_from(func.stack_units()).unwrap_or(1).max(1);
    (frame + LINKAGE_BYTES).div_ceil(units)
}

/// The symbol a Keel function gets in the module: prefixed and numbered, so it can clash neither
/// with libc or runtime symbols nor with another Keel function.
pub fn symbol_name(index: usize, name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("keel.fn{index}.{clean}")
}

/// The Cranelift type that holds a value of `ty`, or `None` for `void`.
pub fn value_type(ty: Ty, pointer: Type) -> Option<Type> {
    match ty {
        Ty::Int => Some(types::I64),
        Ty::Bool => Some(types::I8),
        Ty::Float => Some(types::F64),
        Ty::Str | Ty::Array(_) | Ty::Struct(_) | Ty::Map(_) => Some(pointer),
        Ty::Void => None,
    }
}

/// The Cranelift signature of a Keel function.
fn keel_signature(
    func: &ir::Function,
    call_conv: CallConv,
    pointer: Type,
) -> Result<Signature, CodegenError> {
    let params: Vec<Ty> = func.params().map(|param| func.local_ty(param)).collect();
    signature_of(&params, func.ret, call_conv, pointer)
        .map_err(|message| CodegenError::in_function(&func.name, message))
}

/// The Cranelift signature of a Keel function taking `params` and returning `ret` (also of
/// the functions called through function values).
pub fn signature_of(
    params: &[Ty],
    ret: Ty,
    call_conv: CallConv,
    pointer: Type,
) -> Result<Signature, String> {
    let mut sig = Signature::new(call_conv);
    for (index, &param) in params.iter().enumerate() {
        let ty = value_type(param, pointer)
            .ok_or_else(|| format!("parameter %{index} has type void"))?;
        sig.params.push(AbiParam::new(ty));
    }
    if let Some(ret) = value_type(ret, pointer) {
        sig.returns.push(AbiParam::new(ret));
    }
    Ok(sig)
}

/// Declares and defines every function of `program` in `module` and returns their ids.
///
/// Keel functions get `Linkage::Local`; runtime functions are imported by name as they are first
/// used. The caller finishes the module (JIT finalisation or object emission).
pub fn lower_program<M: Module>(
    module: &mut M,
    program: &Program,
) -> Result<LoweredProgram, CodegenError> {
    lower_program_with(module, program, false)
}

/// [`lower_program`], also collecting what debug information needs when `debug_info` is set
/// ([`LoweredProgram::debug_tables`]); the machine code is the same either way.
pub fn lower_program_with<M: Module>(
    module: &mut M,
    program: &Program,
    debug_info: bool,
) -> Result<LoweredProgram, CodegenError> {
    let call_conv = module.isa().default_call_conv();
    let pointer = module.target_config().pointer_type();

    let mut signatures = Vec::with_capacity(program.functions.len());
    let mut functions = Vec::with_capacity(program.functions.len());
    for (index, func) in program.functions.iter().enumerate() {
        let sig = keel_signature(func, call_conv, pointer)?;
        let id = module
            .declare_function(&symbol_name(index, &func.name), Linkage::Local, &sig)
            .map_err(|e| CodegenError::in_function(&func.name, e.to_string()))?;
        signatures.push(sig);
        functions.push(id);
    }
    let entry = *functions.get(program.entry.0 as usize).ok_or_else(|| {
        CodegenError::general(format!("entry fn#{} does not exist", program.entry.0))
    })?;

    let mut env = Env {
        module,
        program,
        functions: &functions,
        leaves: program.functions.iter().map(is_leaf).collect(),
        runs_in_live_blocks: program.runs_in_live_blocks(),
        imports: RuntimeImports::default(),
        data: DataObjects::default(),
        descriptors: Descriptors::default(),
        helpers: Helpers::default(),
        region_ids: HashMap::new(),
        pointer,
        debug: debug_info.then(DebugTables::default),
    };
    // Lower every function first, so that small ones can be inlined into their callers.
    let (bodies, recovery) = crate::timing::time("IR to Cranelift", || {
        let mut builder_ctx = FunctionBuilderContext::new();
        let mut bodies = Vec::with_capacity(program.functions.len());
        let mut recovery = Vec::with_capacity(program.functions.len());
        for (index, (func, sig)) in program.functions.iter().zip(signatures).enumerate() {
            let mut body =
                clif::Function::with_name_signature(UserFuncName::user(0, index as u32), sig);
            let code = function::lower_function(&mut env, index, func, &mut body, &mut builder_ctx)
                .map_err(|message| CodegenError::in_function(&func.name, message))?;
            verify_in_debug_builds(&body, env.module.isa(), &func.name)?;
            bodies.push(body);
            recovery.push(code);
        }
        Ok::<_, CodegenError>((bodies, recovery))
    })?;

    let inliner = Inliner::new(&functions, &bodies, &recovery);
    let job = parallel::Job {
        program,
        functions: &functions,
        bodies: &bodies,
        isa: env.module.isa(),
        unoptimized: std::sync::OnceLock::new(),
    };
    let compiled = parallel::compile_all(&job, &inliner, env.debug.as_mut())?;
    drop(inliner);
    drop(bodies);
    let mut bytes_per_unit = 0;
    for (index, code) in compiled.into_iter().enumerate() {
        let name = &program.functions[index].name;
        (env.module)
            .define_function_bytes(functions[index], code.alignment, &code.bytes, &code.relocs)
            .map_err(|e| CodegenError::in_function(name, describe_module_error(&e)))?;
        if let (Some(debug), Some(code)) = (&mut env.debug, code.debug) {
            debug.functions.push(code);
        }
        bytes_per_unit = bytes_per_unit.max(code.stack_bytes_per_unit);
    }
    env.data.finish(env.module).map_err(CodegenError::general)?;
    let debug = env.debug.take();
    Ok(LoweredProgram {
        functions,
        entry,
        stack_bytes_per_unit: bytes_per_unit,
        debug,
    })
}

/// Functions with more blocks than this are compiled without optimisation: Cranelift's
/// optimiser takes time quadratic in the depth of the dominator tree, and every inline check
/// adds a level (a straight line of 20,000 additions took 40 s in a debug build of `keel`).
const MAX_OPTIMIZED_BLOCKS: usize = 5_000;

fn is_huge(body: &clif::Function) -> bool {
    body.layout.blocks().nth(MAX_OPTIMIZED_BLOCKS).is_some()
}

/// Whether `func` calls no Keel function (runtime calls do not count).
fn is_leaf(func: &ir::Function) -> bool {
    !func
        .blocks
        .iter()
        .flat_map(|block| &block.insts)
        .any(|inst| matches!(inst, ir::Inst::Call { .. } | ir::Inst::CallIndirect { .. }))
}

/// Runs the Cranelift verifier on `body` in debug builds (release builds trust the lowering).
fn verify_in_debug_builds(
    body: &clif::Function,
    isa: &dyn TargetIsa,
    name: &str,
) -> Result<(), CodegenError> {
    if cfg!(debug_assertions) {
        cranelift_codegen::verify_function(body, isa).map_err(|errors| {
            let text = cranelift_codegen::print_errors::pretty_verifier_error(body, None, errors);
            CodegenError::in_function(name, format!("Cranelift verifier: {text}"))
        })?;
    }
    Ok(())
}

/// Renders a module error with its cause chain (Cranelift's top-level text alone is often vague).
pub fn describe_module_error(error: &ModuleError) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// What every function lowering shares: the module and the program-wide declarations.
struct Env<'a, M: Module> {
    module: &'a mut M,
    program: &'a Program,
    /// Module ids of the Keel functions, indexed by `ir::FuncId`.
    functions: &'a [FuncId],
    /// Whether each Keel function is a leaf (calls no Keel function), indexed by `ir::FuncId`.
    leaves: Vec<bool>,
    /// Whether each Keel function may run while a `live` block is active, so that its faults
    /// may be recovered from (see `function::recovery`), indexed by `ir::FuncId`.
    runs_in_live_blocks: Vec<bool>,
    imports: RuntimeImports,
    data: DataObjects,
    descriptors: Descriptors,
    helpers: Helpers,
    /// The module-wide `user_id` of each alias region, by name (see `function::heap`).
    region_ids: HashMap<String, u32>,
    pointer: Type,
    /// The source locations of the code, when debug information is asked for (see `debug`).
    debug: Option<DebugTables>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbol_names_are_prefixed_and_clean() {
        assert_eq!(symbol_name(0, "<main>"), "keel.fn0._main_");
        assert_eq!(symbol_name(12, "printf"), "keel.fn12.printf");
    }

    #[test]
    fn errors_name_the_function() {
        let error = CodegenError::in_function("fib", "bad");
        assert_eq!(
            error.to_string(),
            "code generation failed in function `fib`: bad"
        );
        assert_eq!(
            CodegenError::general("no isa").to_string(),
            "code generation failed: no isa"
        );
    }
}
