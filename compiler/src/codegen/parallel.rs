//! Compiling a program's lowered functions to machine code, on every core.
//!
//! Once lowered, each function's Cranelift body is independent of the others: inlining into it
//! reads the other bodies but changes only its own copy, and compiling it reads only the ISA.
//! [`compile_all`] hands the functions to worker threads one at a time (the next index from a
//! shared counter); a worker inlines and compiles its function in a context of its own and
//! sends back the machine code, its relocations and what the caller needs to know of its frame.
//! The calling thread then defines the functions in the module in function order. The module
//! thus gets the same bytes whatever the number of threads: the same as one thread compiling the functions in order, which is what happens for
//! small programs (starting threads would cost more than it saves) and when debug information
//! is asked for (inlining then adds each inlined call's source locations to the program's one
//! [`DebugTables`], numbered in function order). A failure is the first function's in order,
//! whatever the threads.
//!
//! What this module does not do: lower IR (that is `function`), decide what is inlined (that is
//! `inliner`), or touch the module from a worker.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, OnceLock};

use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir as clif;
use cranelift_codegen::isa::{OwnedTargetIsa, TargetIsa};
use cranelift_codegen::Context;
use cranelift_module::{FuncId, ModuleError, ModuleReloc};

use super::debug::{DebugTables, FunctionCode};
use super::inliner::Inliner;
use super::CodegenError;
use super::{describe_module_error, isa, stack_bytes_per_unit, verify_in_debug_builds};
use crate::ir::Program;

/// How many threads compile functions; 0: one per core (see [`set_threads`]).
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Programs with fewer Cranelift instructions than this (before inlining) are compiled on the
/// calling thread: about a millisecond of compiling, the time it takes to start the threads.
const PARALLEL_MIN_INSTS: usize = 20_000;

/// The stack of a worker thread: Cranelift's passes over one function nest deeply for big ones.
const WORKER_STACK_BYTES: usize = 64 << 20;

/// Sets how many threads compile functions (`keel build --jobs`): 0 for one per core.
pub fn set_threads(threads: usize) {
    THREADS.store(threads, Ordering::Relaxed);
}

/// The threads compiling functions; one per core unless [`set_threads`] said otherwise.
pub fn threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        threads => threads,
    }
}

/// One function's machine code, ready to be defined in the module.
pub(super) struct Compiled {
    pub(super) bytes: Vec<u8>,
    pub(super) alignment: u64,
    pub(super) relocs: Vec<ModuleReloc>,
    /// See `stack_bytes_per_unit`.
    pub(super) stack_bytes_per_unit: usize,
    /// What debug information needs of it, when asked for.
    pub(super) debug: Option<FunctionCode>,
}

/// What compiling any function of a program reads.
pub(super) struct Job<'a> {
    pub(super) program: &'a Program,
    /// The module's id of each function.
    pub(super) functions: &'a [FuncId],
    /// The lowered body of each function.
    pub(super) bodies: &'a [clif::Function],
    pub(super) isa: &'a dyn TargetIsa,
    /// The ISA for huge functions (see `is_huge`), made when the first one is met.
    pub(super) unoptimized: OnceLock<Result<OwnedTargetIsa, CodegenError>>,
}

impl Job<'_> {
    fn unoptimized_isa(&self) -> Result<&dyn TargetIsa, CodegenError> {
        match self.unoptimized.get_or_init(|| isa::unoptimized(self.isa)) {
            Ok(isa) => Ok(&**isa),
            Err(error) => Err(error.clone()),
        }
    }
}

/// Inlines into and compiles every function of `job`; their code in function order. `debug`
/// (when debug information is asked for) gets the inlined calls' locations. Fails with the
/// first failure in function order.
pub(super) fn compile_all(
    job: &Job,
    inliner: &Inliner,
    mut debug: Option<&mut DebugTables>,
) -> Result<Vec<Compiled>, CodegenError> {
    let count = job.bodies.len();
    let size: usize = job.bodies.iter().map(|body| body.dfg.num_insts()).sum();
    let threads = threads().min(count);
    if threads <= 1 || size < PARALLEL_MIN_INSTS || debug.is_some() {
        return crate::timing::time("Cranelift (1 thread)", || {
            let mut ctx = Context::new();
            (0..count)
                .map(|index| compile_one(job, inliner, index, &mut ctx, debug.as_deref_mut()))
                .collect()
        });
    }
    crate::timing::time("Cranelift (parallel)", || {
        compile_on_threads(job, inliner, threads)
    })
}

/// [`compile_all`] on `threads` worker threads.
fn compile_on_threads(
    job: &Job,
    inliner: &Inliner,
    threads: usize,
) -> Result<Vec<Compiled>, CodegenError> {
    let count = job.bodies.len();
    let next = AtomicUsize::new(0);
    // Functions from this index on are not compiled: one before it failed.
    let limit = AtomicUsize::new(count);
    let mut results: Vec<Option<Result<Compiled, CodegenError>>> = std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::channel();
        for _ in 0..threads {
            let sender = sender.clone();
            let inliner = inliner.clone();
            let (next, limit) = (&next, &limit);
            let worker = move || {
                let mut ctx = Context::new();
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= limit.load(Ordering::Relaxed) {
                        break;
                    }
                    let compiled = compile_one(job, &inliner, index, &mut ctx, None);
                    if compiled.is_err() {
                        limit.fetch_min(index + 1, Ordering::Relaxed);
                    }
                    if sender.send((index, compiled)).is_err() {
                        break;
                    }
                }
            };
            std::thread::Builder::new()
                .name("keel-codegen".into())
                .stack_size(WORKER_STACK_BYTES)
                .spawn_scoped(scope, worker)
                .map_err(|e| CodegenError::general(format!("cannot start a thread: {e}")))?;
        }
        drop(sender);
        let mut results: Vec<_> = (0..count).map(|_| None).collect();
        for (index, compiled) in receiver {
            results[index] = Some(compiled);
        }
        Ok(results)
    })?;
    // Every function before the first failure was compiled; a worker that panicked sent
    // nothing for its function (leaving the scope re-raised its panic).
    let compiled = results.len().min(limit.into_inner());
    let mut code = Vec::with_capacity(count);
    for result in results.iter_mut().take(compiled) {
        match result.take() {
            Some(result) => code.push(result?),
            None => return Err(CodegenError::general("a code generation thread stopped")),
        }
    }
    Ok(code)
}

/// Inlines into and compiles function `index` of `job` in `ctx`; with `debug` (debug
/// information asked for), keeps what it needs of the code.
fn compile_one(
    job: &Job,
    inliner: &Inliner,
    index: usize,
    ctx: &mut Context,
    debug: Option<&mut DebugTables>,
) -> Result<Compiled, CodegenError> {
    let func = &job.program.functions[index];
    let failed = |message: String| CodegenError::in_function(&func.name, message);
    let debug_info = debug.is_some();
    ctx.clear();
    ctx.func = job.bodies[index].clone();
    let inlined =
        (inliner.inline_into(ctx, index)).map_err(|e| failed(format!("inlining: {e}")))?;
    if inlined {
        verify_in_debug_builds(&ctx.func, job.isa, &func.name)?;
        if let Some(debug) = debug {
            inliner.locate_inlined_code(&mut ctx.func, debug);
        }
    }
    let isa = if super::is_huge(&ctx.func) {
        job.unoptimized_isa()?
    } else {
        job.isa
    };
    ctx.compile(isa, &mut ControlPlane::default())
        .map_err(|e| failed(describe_module_error(&ModuleError::Compilation(e.inner))))?;
    let code = ctx
        .compiled_code()
        .ok_or_else(|| failed("Cranelift produced no code".into()))?;
    let id = job.functions[index];
    let relocs = (code.buffer.relocs().iter())
        .map(|reloc| ModuleReloc::from_mach_reloc(reloc, &ctx.func, id))
        .collect();
    let debug = match debug_info {
        true => Some(FunctionCode::of(code, isa).map_err(failed)?),
        false => None,
    };
    Ok(Compiled {
        bytes: code.buffer.data().to_vec(),
        alignment: u64::from(code.buffer.alignment),
        relocs,
        stack_bytes_per_unit: stack_bytes_per_unit(ctx, func),
        debug,
    })
}
