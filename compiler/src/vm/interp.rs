//! The interpreter: one loop that executes a validated [`Module`].
//!
//! State is a register file (`Vec<i64>`, one contiguous array of untagged slots), a frame base
//! `bp` (the current function's window is `regs[bp..bp + frame_size]`), an instruction index `ip`
//! into the module's single code array, and a stack of return records. A call moves `bp` to the
//! callee's window (which starts at the caller's outgoing-argument slots, where the arguments
//! already are) and pushes a record; nothing is allocated unless the register file or the record
//! stack must grow for a deeper call than any before.
//!
//! # Stack overflow
//! The VM never overflows the Rust stack: Keel calls do not recurse in Rust. Instead it counts
//! the stack units of the active calls (each function's, from its IR locals, kept in the return
//! records) against `keel_runtime::MAX_STACK_UNITS`, the runtime's limit, the same on every
//! backend, and reports `stack overflow: too many nested calls` at the call's site through
//! `keel_runtime::keel_fault_stack_overflow`, as compiled code does. The register file grows as
//! deep calls need, up to [`Module::max_registers`], which the unit limit is always reached
//! before.
//!
//! # Faults and recovery
//! A failed check calls the runtime's fault function, which ends the process unless a `live`
//! block is active. Inside one it records the fault and returns, and so do runtime functions that
//! fault (after a `call_rt` marked `checks_fault`, the interpreter tests
//! `keel_runtime::recover::fault_pending`). The faulting instruction then leaves the loop
//! (`Machine::interpret` returns it), and `Machine::unwind`, on the cold path, finds where to
//! continue: the instruction's handler ([`Module::handler`]), in the same frame; without one the
//! frame is popped like a return that writes no result, and the caller's `call` counts as the
//! faulting instruction, until a handler is found. The `unwind` instruction (IR `unwind` without a
//! handler) starts the same search. Calls need no test on return: a frame with a fault pending
//! is never returned to, only unwound. Stack overflow is never recovered from. At each step the
//! unwind first releases the registers the faulting instruction's side-table entry lists
//! ([`FaultSite::releases`](super::bytecode::FaultSite::releases)): the values the frame owns
//! there that the handler does not take over (all of them when the frame is left), so a
//! recovered fault leaks nothing.
//!
//! # Tracing
//! With `trace` set (the `KEEL_TRACE=1` environment variable), every executed instruction is
//! printed to standard error in the disassembler's format with the values of the registers it
//! reads, and each step of an unwind as a line saying where the fault goes. The loop is generic
//! over a `TRACE` constant, so the normal loop contains no trace code.
//!
//! # Budgeted runs
//! The loop is also generic over a `BUDGET` constant, for [`super::budget`]: with it, calls,
//! backward jumps and operand-sized work are paid for in fuel before they happen, and `exit`, a
//! stack overflow and running out of fuel leave the loop (as `Fault::Stop`) instead of ending the
//! process. The normal loop (`BUDGET` false) contains none of it.
//!
//! # Safety
//! The hot loop reads instructions and registers without bounds checks. It relies on the
//! invariants [`Module::new`] validated, and on one maintained here: while a function runs,
//! `bp + frame_size <= regs.len()` (checked at every call, growing the register file when
//! needed; the file never shrinks). Together they make every access in bounds: each register
//! operand is below its function's frame size, each jump lands inside its function, and no
//! function's code can run past its last instruction.
//!
//! What this module does not do: compile, validate, or format instructions (see `disasm`).

use std::io::Write;

use keel_runtime::layout::{ObjHeader, StrHeader};
use keel_runtime::output::{keel_print_float, keel_print_value};
use keel_runtime::{
    keel_exit, keel_fault_int, keel_print_bool, keel_print_int, keel_print_str, IntOp,
};

use super::budget::{self, Stop};
use super::bytecode::{FrameInfo, Instr, Module};
use super::heap;
use super::ops;
use super::{disasm, rt};
use crate::ir::RtFunc;

/// The most stack units the active calls may take: `keel_runtime::MAX_STACK_UNITS`.
const MAX_STACK_UNITS: u32 = keel_runtime::MAX_STACK_UNITS as u32;

/// The register file's size when a program starts (2 KiB: what a short run needs, and what
/// allocating it for every call from the embedding API costs little); it doubles as deeper
/// calls need.
const INITIAL_REGISTERS: usize = 1 << 8;

/// What a return needs to resume the caller.
#[derive(Copy, Clone, Debug)]
struct ReturnRecord {
    /// The instruction after the call.
    return_ip: u32,
    /// The caller's frame base.
    bp: u32,
    /// The absolute register that receives the result.
    result: u32,
    /// The stack units the active calls take, this one included (kept by `call_counted`; 0 for
    /// `call`, where the number of records is the count).
    units: u32,
}

/// Runs function `func` of `module` with `args` as its parameters and returns its result (0 for
/// a void function, and for a fault recovered from that left the function without a handler).
/// `exit` and unrecovered faults end the process inside.
pub fn execute(module: &Module, func: u32, args: &[i64], trace: bool) -> i64 {
    let (mut machine, frame) = Machine::new(module, func, args);
    let outcome = if trace {
        machine.run::<true, false>(module, frame, &mut 0)
    } else {
        machine.run::<false, false>(module, frame, &mut 0)
    };
    // Only a budgeted loop stops early.
    outcome.unwrap_or(0)
}

/// Like [`execute`] without tracing, on at most `fuel` units of fuel, and without ending the
/// process on `exit` or a stack overflow: those, and running out of fuel, come back as a
/// [`Stop`] (see `budget`). Other faults go to the runtime as usual, so the caller must have a
/// `live` record active for them to be recorded rather than fatal.
pub(super) fn execute_budgeted(
    module: &Module,
    func: u32,
    args: &[i64],
    mut fuel: u64,
) -> Result<(), Stop> {
    let (mut machine, frame) = Machine::new(module, func, args);
    machine
        .run::<false, true>(module, frame, &mut fuel)
        .map(|_| ())
}

struct Machine {
    regs: Vec<i64>,
    returns: Vec<ReturnRecord>,
}

/// A fault an instruction raises, as the interpreter reports it.
#[derive(Copy, Clone, Debug)]
enum Fault {
    /// A failed integer check of `op` on `a` and `b` (`keel_fault_int`).
    Int(IntOp, i64, i64),
    /// `array[index]` out of bounds for an array of length `len` (`keel_fault_bounds`).
    Bounds { index: i64, len: i64 },
    /// A failed `to_int(value)` (`keel_fault_to_int`).
    ToInt(f64),
    /// Already recorded: by the runtime function a `call_rt` called, or before an `unwind`.
    Recorded,
    /// Not a fault: a budgeted run stops (never reported or unwound).
    Stop(Stop),
}

impl Fault {
    /// Reports the fault of the instruction at `ip`: ends the process, or inside a `live` block
    /// records it and returns.
    fn report(self, module: &Module, ip: usize) {
        let fault = module.fault_site(ip);
        let site = module.site_text(fault.site);
        // `site` is a live `&str`, so the pointer and length describe valid UTF-8, which is all
        // the runtime's fault functions require.
        let (site, len) = (site.as_ptr(), site.len());
        match self {
            Fault::Int(op, a, b) => {
                let (a, b) = if fault.swapped { (b, a) } else { (a, b) };
                // SAFETY: a valid site (above).
                unsafe { keel_fault_int(site, len, op as u32, a, b) }
            }
            // SAFETY: a valid site (above).
            Fault::Bounds { index, len: length } => unsafe {
                keel_runtime::fault::keel_fault_bounds(site, len, index, length)
            },
            // SAFETY: a valid site (above).
            Fault::ToInt(value) => unsafe {
                keel_runtime::fault::keel_fault_to_int(site, len, value)
            },
            Fault::Recorded | Fault::Stop(_) => {}
        }
    }
}

/// A fault raised by the instruction at `ip` of the frame at `bp`.
#[derive(Copy, Clone, Debug)]
struct Raised {
    ip: usize,
    bp: usize,
    fault: Fault,
}

/// The site text (`file:line:col`) of the instruction at `ip`.
fn site_of(module: &Module, ip: usize) -> &str {
    module.site_text(module.fault_site(ip).site)
}

/// Reports a stack overflow at the call at `ip` and ends the process.
#[cold]
#[inline(never)]
fn stack_overflow(module: &Module, ip: usize) -> ! {
    let site = module.site_text(module.fault_site(ip).site);
    // SAFETY: `site` is a live `&str`.
    unsafe { keel_runtime::keel_fault_stack_overflow(site.as_ptr(), site.len()) }
}

/// Writes one trace line: the function, the instruction as the disassembler shows it, then the
/// values of the registers it reads. Program output buffered so far is flushed first, so the
/// trace and the program's own output appear in the order they happened.
#[cold]
#[inline(never)]
fn trace_line(module: &Module, ip: usize, instr: &Instr, window: &[i64]) {
    keel_runtime::output::flush_stdout();
    let name = module.function_at(ip).map_or("?", |f| f.name.as_str());
    let mut line = format!("{name:<12} {}", disasm::instruction_line(module, ip, instr));
    let (read, count) = instr.read();
    let listed = instr.list().map_or(&[][..], |list| module.list(list));
    let read: Vec<_> = read[..count].iter().chain(listed).collect();
    if !read.is_empty() {
        let values: Vec<String> = read
            .iter()
            .map(|r| format!("r{}={}", r.0, window[r.index()]))
            .collect();
        line = format!("{line:<76} ; {}", values.join(" "));
    }
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Runs the `call_rt` at `ip`, of runtime function `func` with the registers of list `args` of
/// `window`. Returns its result, or `None` when `checks_fault` is set and the call recorded a
/// fault. Out of the interpreter loop: a runtime call costs far more than this call, and the
/// loop stays small.
///
/// # Safety
/// `window` must be the current frame's window, in bounds for every register of the list.
#[inline(never)]
unsafe fn call_runtime(
    module: &Module,
    ip: usize,
    func: RtFunc,
    args: u32,
    checks_fault: bool,
    window: *const i64,
) -> Option<i64> {
    let mut values = [0i64; rt::MAX_PARAMS];
    for (slot, reg) in values.iter_mut().zip(module.list(args)) {
        // SAFETY: the list's registers are below the frame size (validated by `Module::new`),
        // and the caller guarantees the window holds the frame.
        *slot = unsafe { *window.add(reg.index()) };
    }
    // SAFETY: the list has one register per parameter (validated), holding values of the
    // parameter types (verified IR).
    let result = unsafe { rt::call(func, &values, || site_of(module, ip)) };
    if checks_fault && keel_runtime::recover::fault_pending() {
        return None;
    }
    Some(result)
}

/// Writes one trace line for the releases of an unwind step: the registers that the fault of
/// the instruction at `ip` releases (list `list`).
#[cold]
#[inline(never)]
fn trace_releases(module: &Module, ip: usize, list: u32) {
    keel_runtime::output::flush_stdout();
    let name = module.function_at(ip).map_or("?", |f| f.name.as_str());
    let regs: Vec<String> = module
        .list(list)
        .iter()
        .map(|r| format!("r{}", r.0))
        .collect();
    let _ = writeln!(
        std::io::stderr().lock(),
        "{name:<12} {:>6}  unwinding {ip} releases {}",
        "",
        regs.join(" ")
    );
}

/// Writes one trace line for a step of an unwind: the fault of the instruction at `ip`
/// continues at `handler`, or leaves the function.
#[cold]
#[inline(never)]
fn trace_unwind(module: &Module, ip: usize, handler: Option<u32>) {
    keel_runtime::output::flush_stdout();
    let name = module.function_at(ip).map_or("?", |f| f.name.as_str());
    let step = match handler {
        Some(handler) => format!("fault at {ip} -> {handler}"),
        None => format!("fault at {ip} leaves {name}"),
    };
    let _ = writeln!(std::io::stderr().lock(), "{name:<12} {:>6}  {step}", "");
}

impl Machine {
    /// A machine ready to run function `func` of `module` with `args` as its parameters.
    fn new(module: &Module, func: u32, args: &[i64]) -> (Machine, FrameInfo) {
        let Some(frame) = module.frames().get(func as usize).copied() else {
            panic!("execute: no function {func}");
        };
        assert_eq!(
            args.len(),
            module.functions()[func as usize].param_count as usize,
            "execute: arity"
        );
        let mut machine = Machine {
            regs: vec![0; INITIAL_REGISTERS.max(frame.frame_size as usize)],
            returns: Vec::with_capacity(256),
        };
        machine.regs[..args.len()].copy_from_slice(args);
        (machine, frame)
    }

    /// Reports a raised fault and, when the runtime recorded it for a `live` block (it ends
    /// the process otherwise), unwinds.
    #[cold]
    #[inline(never)]
    fn raise<const TRACE: bool>(
        &mut self,
        module: &Module,
        raised: Raised,
    ) -> Option<(usize, usize)> {
        raised.fault.report(module, raised.ip);
        self.unwind::<TRACE>(module, raised.ip, raised.bp)
    }

    /// Finds where the fault just recorded by the instruction at `ip` of the frame at `bp`
    /// continues: that instruction's handler, or else, popping the frame (its return record,
    /// so the call depth stays right; no result is written), the handler of the caller's
    /// `call`, and so on. Returns the handler's code index and frame base, or `None` when the
    /// fault left the outermost frame.
    fn unwind<const TRACE: bool>(
        &mut self,
        module: &Module,
        mut ip: usize,
        mut bp: usize,
    ) -> Option<(usize, usize)> {
        loop {
            let fault = module.fault_site(ip);
            if let Some(list) = fault.releases {
                if TRACE {
                    trace_releases(module, ip, list);
                }
                self.release_all(module.list(list), bp);
            }
            let handler = fault.handler;
            if TRACE {
                trace_unwind(module, ip, handler);
            }
            if let Some(handler) = handler {
                return Some((handler as usize, bp));
            }
            let record = self.returns.pop()?;
            // The instruction before the return address is the caller's `call`.
            ip = record.return_ip as usize - 1;
            bp = record.bp as usize;
        }
    }

    /// Releases the value of each of `regs` in the frame at `bp`: what the frame owned when the
    /// fault left its instruction, and what the place the fault goes to does not take over.
    fn release_all(&mut self, regs: &[super::bytecode::Reg], bp: usize) {
        for reg in regs {
            let value = self.regs[bp + reg.index()];
            // SAFETY: the compiler lists exactly the registers that own a reference when the
            // instruction faults (`ir::fault_releases`, placed by `vm::releases`): each holds a
            // live object (or null) whose reference nothing else will release, since the frame
            // is left or the recovery block overwrites them.
            unsafe { heap::release(value) }
        }
    }

    /// Makes room for a callee window ending at `top`, or reports a stack overflow at `ip` when
    /// the call would take the active calls to `units` stack units, beyond the limit.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, module: &Module, ip: usize, top: usize, units: u32) {
        if units > MAX_STACK_UNITS {
            stack_overflow(module, ip);
        }
        if top > self.regs.len() {
            let limit = module.max_registers();
            if top > limit {
                // Not reached: the unit limit comes first (see `Module::max_registers`).
                stack_overflow(module, ip);
            }
            let new_len = top.max(self.regs.len() * 2).min(limit);
            self.regs.resize(new_len, 0);
        }
    }

    /// Runs from the entry of `entry` until the outermost frame returns (its result) or a
    /// recovered fault leaves it (0), or, in a budgeted run on `fuel`, until it stops early.
    fn run<const TRACE: bool, const BUDGET: bool>(
        &mut self,
        module: &Module,
        entry: FrameInfo,
        fuel: &mut u64,
    ) -> Result<i64, Stop> {
        let (mut ip, mut bp) = (entry.entry as usize, 0);
        loop {
            match self.run_until_fault::<TRACE, BUDGET>(module, ip, bp, fuel) {
                Ok(result) => return Ok(result),
                Err(Raised {
                    fault: Fault::Stop(stop),
                    ..
                }) if BUDGET => return Err(stop),
                Err(raised) => match self.raise::<TRACE>(module, raised) {
                    Some((handler, frame)) => (ip, bp) = (handler, frame),
                    None => return Ok(0),
                },
            }
        }
    }

    /// Runs [`Machine::interpret`] on a machine held in a local variable (the register file and
    /// the return records move there and back), so that the loop reaches the record stack's
    /// length and capacity without going through `self`.
    #[inline(never)]
    fn run_until_fault<const TRACE: bool, const BUDGET: bool>(
        &mut self,
        module: &Module,
        ip: usize,
        bp: usize,
        fuel: &mut u64,
    ) -> Result<i64, Raised> {
        let mut machine = Machine {
            regs: std::mem::take(&mut self.regs),
            returns: std::mem::take(&mut self.returns),
        };
        let outcome = machine.interpret::<TRACE, BUDGET>(module, ip, bp, fuel);
        *self = machine;
        outcome
    }

    /// The interpreter loop: runs from instruction `ip` in the frame at `bp` until the
    /// outermost frame returns (`Ok` with its result) or an instruction raises a fault
    /// (`Err`, for `run` to report and unwind). Leaving the loop on a fault, rather than
    /// unwinding inside it, keeps the loop's state out of the fault paths.
    ///
    /// With `BUDGET`, every call and backward jump, and the work of the instructions whose cost
    /// grows with their operands, is paid for from `fuel` before it is done (see `budget`),
    /// and `exit`, a stack overflow and running out of fuel leave the loop as a [`Fault::Stop`].
    #[inline(always)]
    fn interpret<const TRACE: bool, const BUDGET: bool>(
        &mut self,
        module: &Module,
        mut ip: usize,
        mut bp: usize,
        fuel: &mut u64,
    ) -> Result<i64, Raised> {
        let code = module.code();
        let frames = module.frames();
        let stack_units = module.stack_units();
        let literals = module.literals().values();
        let descs = module.descs().values();
        let units = module.descs().unit_values();
        let mut base: *mut i64 = self.regs.as_mut_ptr();
        // `r` points at the current window: `r.add(n)` is register n.
        // SAFETY: `bp` is the base of a frame on the stack, whose window is in bounds.
        let mut r: *mut i64 = unsafe { base.add(bp) };

        // SAFETY (for every use of these two macros): register operands come from the current
        // function's code, so they are below its frame size (validated by `Module::new`), and
        // `bp + frame_size <= regs.len()` holds while it runs (see the module documentation);
        // `r` is `regs.as_mut_ptr() + bp`, refreshed whenever `regs` reallocates.
        macro_rules! get {
            ($reg:expr) => {
                unsafe { *r.add($reg.index()) }
            };
        }
        macro_rules! set {
            ($reg:expr, $value:expr) => {{
                let value: i64 = $value;
                unsafe { *r.add($reg.index()) = value }
            }};
        }
        // Float registers hold `f64::to_bits`.
        macro_rules! getf {
            ($reg:expr) => {
                f64::from_bits(get!($reg) as u64)
            };
        }
        macro_rules! setf {
            ($reg:expr, $value:expr) => {{
                let value: f64 = $value;
                set!($reg, value.to_bits() as i64)
            }};
        }
        // The register values of list `list`. Not hot: used by allocation and runtime calls.
        macro_rules! list_values {
            ($list:expr) => {
                module.list($list).iter().map(|&reg| get!(reg))
            };
        }
        // SAFETY (for every use): verified IR gives heap instructions registers holding live
        // objects of the types they expect (arrays, structs with the named field, descriptors
        // of the right kind, validated by `Module::new`), each owned as the IR's ownership
        // rules say; `heap` documents what each operation requires.
        macro_rules! heap {
            ($($body:tt)*) => {
                unsafe { $($body)* }
            };
        }
        // Raises `fault` at the instruction just fetched: leaves the loop for `run` to report
        // it and continue where it is recovered.
        macro_rules! raise {
            ($fault:expr) => {
                return Err(Raised {
                    ip: ip - 1,
                    bp,
                    fault: $fault,
                })
            };
        }
        // Budgeted runs only: pays for a call, and stops the run where the call would overflow
        // the stack (kept apart from `call!`, whose code it would otherwise perturb).
        macro_rules! budget_call {
            ($func:expr, $window:expr, $units:expr) => {{
                charge!(1);
                // SAFETY: `func` names an existing function (validated by `Module::new`).
                let callee = unsafe { *frames.get_unchecked($func as usize) };
                let top = bp + $window.index() + callee.frame_size as usize;
                let after: u32 = $units(&self.returns, $func);
                if after > MAX_STACK_UNITS || top > module.max_registers() {
                    raise!(Fault::Stop(Stop::StackOverflow(ip - 1)));
                }
            }};
        }
        // A Keel call of `func` with its window at `window` and its result into `dst`: `units`
        // gives the stack units the active calls would take with the callee, `record_units` what
        // the new return record keeps of that count.
        macro_rules! call {
            ($func:expr, $window:expr, $dst:expr, $record_units:expr, $units:expr) => {{
                if BUDGET {
                    budget_call!($func, $window, $units);
                }
                // SAFETY: `func` names an existing function (validated by `Module::new`).
                let callee = unsafe { *frames.get_unchecked($func as usize) };
                let new_bp = bp + $window.index();
                let top = new_bp + callee.frame_size as usize;
                let after: u32 = $units(&self.returns, $func);
                if top > self.regs.len() || after > MAX_STACK_UNITS {
                    self.grow(module, ip - 1, top, after);
                    base = self.regs.as_mut_ptr();
                }
                // Every index fits in u32: the register file's limit does
                // (`Module::max_registers`), and the code was indexed with u32.
                self.returns.push(ReturnRecord {
                    return_ip: ip as u32,
                    bp: bp as u32,
                    result: (bp + $dst.index()) as u32,
                    units: $record_units(after),
                });
                bp = new_bp;
                // SAFETY: `new_bp + frame_size <= regs.len()` was just ensured.
                r = unsafe { base.add(bp) };
                ip = callee.entry as usize;
            }};
        }
        // An array index: the element's address, or the bounds fault of this instruction.
        macro_rules! element {
            ($array:expr, $index:expr) => {{
                let (array, index) = ($array, $index);
                match heap! { heap::element(array, index) } {
                    Ok(slot) => slot,
                    Err(len) => raise!(Fault::Bounds { index, len }),
                }
            }};
        }
        // A checked operation: its result, or the fault it raises.
        macro_rules! checked {
            ($result:expr, $a:expr, $b:expr) => {
                match $result {
                    Ok(value) => value,
                    Err(op) => raise!(Fault::Int(op, $a, $b)),
                }
            };
        }

        // Budgeted runs only: pays `cost` units of fuel, or stops the run when fewer are left.
        macro_rules! charge {
            ($cost:expr) => {
                if BUDGET {
                    let cost: u64 = $cost;
                    if *fuel < cost {
                        raise!(Fault::Stop(Stop::OutOfFuel));
                    }
                    *fuel -= cost;
                }
            };
        }
        // A jump to `target`: a backward one (a loop's next round) costs a unit of fuel.
        macro_rules! jump {
            ($target:expr) => {{
                let target = $target as usize;
                if BUDGET && target < ip {
                    charge!(1);
                }
                ip = target;
            }};
        }
        // The copy-on-write step on the array or struct at `word` (budgeted: the copy is paid
        // for first).
        macro_rules! make_unique {
            ($word:expr) => {{
                let word = $word;
                charge!(heap! { budget::copy_cost(word) });
                heap! { heap::make_unique(word) }
            }};
        }
        macro_rules! make_unique_in_place {
            ($slot:expr) => {{
                let slot = $slot;
                charge!(heap! { budget::copy_cost(*slot) });
                heap! { heap::make_unique_in_place(slot) }
            }};
        }

        // A conditional jump. Written as a branch (not a conditional move of `ip`), so that the
        // processor predicts it instead of waiting for the comparison.
        macro_rules! jump_if {
            ($cond:expr, $target:expr) => {
                if $cond {
                    jump!($target);
                } else {
                    std::hint::cold_path();
                }
            };
        }

        loop {
            // SAFETY: `ip` is inside the current function's code: it starts at an entry, jumps
            // land inside the function, and the function's last instruction never falls through
            // (all validated by `Module::new`).
            let instr = unsafe { *code.get_unchecked(ip) };
            if TRACE {
                // SAFETY: the window `r[..frame_size]` is in bounds, as for the macros above.
                let window = unsafe {
                    let size = module
                        .function_at(ip)
                        .map_or(0, |f| f.frame.frame_size as usize);
                    std::slice::from_raw_parts(r, size)
                };
                trace_line(module, ip, &instr, window);
            }
            ip += 1;
            match instr {
                Instr::Mov { dst, src } => set!(dst, get!(src)),
                Instr::LoadInt { dst, value } => set!(dst, value),
                Instr::LoadStr { dst, string } => {
                    // SAFETY: `string` is a valid literal index (validated by `Module::new`).
                    set!(dst, unsafe { *literals.get_unchecked(string as usize) })
                }
                Instr::LoadFloat { dst, bits } => set!(dst, bits as i64),
                Instr::LoadDesc { dst, desc } => {
                    // SAFETY: `desc` is a valid descriptor index (validated by `Module::new`).
                    set!(dst, unsafe { *descs.get_unchecked(desc as usize) })
                }
                Instr::LoadUnit { dst, desc } => {
                    // SAFETY: `desc` is the index of a descriptor with a static value
                    // (validated by `Module::new`).
                    set!(dst, unsafe { *units.get_unchecked(desc as usize) })
                }

                Instr::AddInt { dst, a, b } => {
                    let (a, b) = (get!(a), get!(b));
                    set!(dst, checked!(ops::add(a, b), a, b))
                }
                Instr::AddIntImm { dst, a, imm } => {
                    let (a, b) = (get!(a), i64::from(imm));
                    set!(dst, checked!(ops::add(a, b), a, b))
                }
                Instr::SubInt { dst, a, b } => {
                    let (a, b) = (get!(a), get!(b));
                    set!(dst, checked!(ops::sub(a, b), a, b))
                }
                Instr::SubIntImm { dst, a, imm } => {
                    let (a, b) = (get!(a), i64::from(imm));
                    set!(dst, checked!(ops::sub(a, b), a, b))
                }
                Instr::MulInt { dst, a, b } => {
                    let (a, b) = (get!(a), get!(b));
                    set!(dst, checked!(ops::mul(a, b), a, b))
                }
                Instr::MulIntImm { dst, a, imm } => {
                    let (a, b) = (get!(a), i64::from(imm));
                    set!(dst, checked!(ops::mul(a, b), a, b))
                }
                Instr::DivInt { dst, a, b } => {
                    let (a, b) = (get!(a), get!(b));
                    set!(dst, checked!(ops::div(a, b), a, b))
                }
                Instr::DivIntImm { dst, a, imm } => {
                    let (a, b) = (get!(a), i64::from(imm));
                    set!(dst, checked!(ops::div(a, b), a, b))
                }
                Instr::RemInt { dst, a, b } => {
                    let (a, b) = (get!(a), get!(b));
                    set!(dst, checked!(ops::rem(a, b), a, b))
                }
                Instr::RemIntImm { dst, a, imm } => {
                    let (a, b) = (get!(a), i64::from(imm));
                    set!(dst, checked!(ops::rem(a, b), a, b))
                }
                Instr::ShlInt { dst, a, b } => {
                    let (a, b) = (get!(a), get!(b));
                    set!(dst, checked!(ops::shl(a, b), a, b))
                }
                Instr::ShlIntImm { dst, a, imm } => {
                    let (a, b) = (get!(a), i64::from(imm));
                    set!(dst, checked!(ops::shl(a, b), a, b))
                }
                Instr::ShrInt { dst, a, b } => {
                    let (a, b) = (get!(a), get!(b));
                    set!(dst, checked!(ops::shr(a, b), a, b))
                }
                Instr::ShrIntImm { dst, a, imm } => {
                    let (a, b) = (get!(a), i64::from(imm));
                    set!(dst, checked!(ops::shr(a, b), a, b))
                }
                Instr::NegInt { dst, src } => {
                    let a = get!(src);
                    set!(dst, checked!(ops::neg(a), a, 0))
                }

                Instr::BitAnd { dst, a, b } => set!(dst, get!(a) & get!(b)),
                Instr::BitAndImm { dst, a, imm } => set!(dst, get!(a) & i64::from(imm)),
                Instr::BitOr { dst, a, b } => set!(dst, get!(a) | get!(b)),
                Instr::BitOrImm { dst, a, imm } => set!(dst, get!(a) | i64::from(imm)),
                Instr::BitXor { dst, a, b } => set!(dst, get!(a) ^ get!(b)),
                Instr::BitXorImm { dst, a, imm } => set!(dst, get!(a) ^ i64::from(imm)),
                Instr::Not { dst, src } => set!(dst, get!(src) ^ 1),

                Instr::EqInt { dst, a, b } => set!(dst, i64::from(get!(a) == get!(b))),
                Instr::NeInt { dst, a, b } => set!(dst, i64::from(get!(a) != get!(b))),
                Instr::LtInt { dst, a, b } => set!(dst, i64::from(get!(a) < get!(b))),
                Instr::LeInt { dst, a, b } => set!(dst, i64::from(get!(a) <= get!(b))),
                Instr::EqIntImm { dst, a, imm } => set!(dst, i64::from(get!(a) == i64::from(imm))),
                Instr::NeIntImm { dst, a, imm } => set!(dst, i64::from(get!(a) != i64::from(imm))),
                Instr::LtIntImm { dst, a, imm } => set!(dst, i64::from(get!(a) < i64::from(imm))),
                Instr::LeIntImm { dst, a, imm } => set!(dst, i64::from(get!(a) <= i64::from(imm))),
                Instr::GtIntImm { dst, a, imm } => set!(dst, i64::from(get!(a) > i64::from(imm))),
                Instr::GeIntImm { dst, a, imm } => set!(dst, i64::from(get!(a) >= i64::from(imm))),

                Instr::AddFloat { dst, a, b } => setf!(dst, getf!(a) + getf!(b)),
                Instr::SubFloat { dst, a, b } => setf!(dst, getf!(a) - getf!(b)),
                Instr::MulFloat { dst, a, b } => setf!(dst, getf!(a) * getf!(b)),
                Instr::DivFloat { dst, a, b } => setf!(dst, getf!(a) / getf!(b)),
                Instr::NegFloat { dst, src } => setf!(dst, -getf!(src)),
                Instr::IntToFloat { dst, src } => setf!(dst, get!(src) as f64),
                Instr::FloatToInt { dst, src } => {
                    let value = getf!(src);
                    match ops::float_to_int(value) {
                        Some(int) => set!(dst, int),
                        None => raise!(Fault::ToInt(value)),
                    }
                }
                Instr::EqFloat { dst, a, b } => set!(dst, i64::from(getf!(a) == getf!(b))),
                Instr::NeFloat { dst, a, b } => set!(dst, i64::from(getf!(a) != getf!(b))),
                Instr::LtFloat { dst, a, b } => set!(dst, i64::from(getf!(a) < getf!(b))),
                Instr::LeFloat { dst, a, b } => set!(dst, i64::from(getf!(a) <= getf!(b))),

                Instr::Jump { target } => jump!(target),
                Instr::JumpIfTrue { cond, target } => jump_if!(get!(cond) != 0, target),
                Instr::JumpIfFalse { cond, target } => jump_if!(get!(cond) == 0, target),
                Instr::EqIntJump { a, b, target } => jump_if!(get!(a) == get!(b), target),
                Instr::NeIntJump { a, b, target } => jump_if!(get!(a) != get!(b), target),
                Instr::LtIntJump { a, b, target } => jump_if!(get!(a) < get!(b), target),
                Instr::LeIntJump { a, b, target } => jump_if!(get!(a) <= get!(b), target),
                Instr::EqIntImmJump { a, imm, target } => {
                    jump_if!(get!(a) == i64::from(imm), target)
                }
                Instr::NeIntImmJump { a, imm, target } => {
                    jump_if!(get!(a) != i64::from(imm), target)
                }
                Instr::LtIntImmJump { a, imm, target } => {
                    jump_if!(get!(a) < i64::from(imm), target)
                }
                Instr::LeIntImmJump { a, imm, target } => {
                    jump_if!(get!(a) <= i64::from(imm), target)
                }
                Instr::GtIntImmJump { a, imm, target } => {
                    jump_if!(get!(a) > i64::from(imm), target)
                }
                Instr::GeIntImmJump { a, imm, target } => {
                    jump_if!(get!(a) >= i64::from(imm), target)
                }
                Instr::EqFloatJump { a, b, target } => jump_if!(getf!(a) == getf!(b), target),
                Instr::NeFloatJump { a, b, target } => jump_if!(getf!(a) != getf!(b), target),
                Instr::LtFloatJump { a, b, target } => jump_if!(getf!(a) < getf!(b), target),
                Instr::LeFloatJump { a, b, target } => jump_if!(getf!(a) <= getf!(b), target),
                Instr::NotLtFloatJump { a, b, target } => {
                    jump_if!(ops::not_less(getf!(a), getf!(b)), target)
                }
                Instr::NotLeFloatJump { a, b, target } => {
                    jump_if!(ops::not_less_or_equal(getf!(a), getf!(b)), target)
                }
                Instr::IncLtIntJump { a, b, target } => {
                    let x = get!(a);
                    set!(a, checked!(ops::add(x, 1), x, 1));
                    jump_if!(get!(a) < get!(b), target)
                }
                Instr::IncLeIntJump { a, b, target } => {
                    let x = get!(a);
                    set!(a, checked!(ops::add(x, 1), x, 1));
                    jump_if!(get!(a) <= get!(b), target)
                }
                Instr::IncLtIntImmJump { a, imm, target } => {
                    let x = get!(a);
                    let next = checked!(ops::add(x, 1), x, 1);
                    set!(a, next);
                    jump_if!(next < i64::from(imm), target)
                }
                Instr::IncLeIntImmJump { a, imm, target } => {
                    let x = get!(a);
                    let next = checked!(ops::add(x, 1), x, 1);
                    set!(a, next);
                    jump_if!(next <= i64::from(imm), target)
                }

                Instr::Call {
                    func,
                    base: window,
                    dst,
                } => {
                    // Every function takes one stack unit: the records count them.
                    call!(
                        func,
                        window,
                        dst,
                        |_| 0,
                        |returns: &Vec<ReturnRecord>, _| { returns.len() as u32 + 1 }
                    )
                }
                Instr::CallCounted {
                    func,
                    base: window,
                    dst,
                } => {
                    // The newest record holds the count; no overflow: it is at most the limit,
                    // and so is a callee's units plus one (`Module::stack_units`).
                    let count = |returns: &Vec<ReturnRecord>, func: u32| {
                        // SAFETY: `func` names an existing function (validated by `Module::new`).
                        let callee_units = unsafe { *stack_units.get_unchecked(func as usize) };
                        returns.last().map_or(0, |record| record.units) + callee_units
                    };
                    call!(func, window, dst, |after| after, count)
                }
                Instr::CallValue {
                    callee,
                    base: window,
                    dst,
                } => {
                    let object = get!(callee);
                    // SAFETY: a function value is a live closure object, whose field 0 the VM
                    // set to its function's number (`compile`'s `new_struct`).
                    let func = heap! { *heap::field(object, 0) } as u32;
                    call!(
                        func,
                        window,
                        dst,
                        |_| 0,
                        |returns: &Vec<ReturnRecord>, _| { returns.len() as u32 + 1 }
                    )
                }
                Instr::CallValueCounted {
                    callee,
                    base: window,
                    dst,
                } => {
                    let object = get!(callee);
                    // SAFETY: as for `CallValue`.
                    let func = heap! { *heap::field(object, 0) } as u32;
                    let count = |returns: &Vec<ReturnRecord>, func: u32| {
                        // SAFETY: `func` names an existing function (the VM made the object).
                        let callee_units = unsafe { *stack_units.get_unchecked(func as usize) };
                        returns.last().map_or(0, |record| record.units) + callee_units
                    };
                    call!(func, window, dst, |after| after, count)
                }
                Instr::Ret { src } => {
                    let value = get!(src);
                    let Some(record) = self.returns.pop() else {
                        return Ok(value);
                    };
                    bp = record.bp as usize;
                    ip = record.return_ip as usize;
                    // SAFETY: the caller's window (which holds the result register) was in bounds
                    // when the caller was entered, and the register file never shrinks.
                    unsafe {
                        r = base.add(bp);
                        *base.add(record.result as usize) = value;
                    }
                }
                Instr::RetVoid => {
                    let Some(record) = self.returns.pop() else {
                        return Ok(0);
                    };
                    bp = record.bp as usize;
                    ip = record.return_ip as usize;
                    // SAFETY: the caller's window was in bounds when the caller was entered, and
                    // the register file never shrinks.
                    r = unsafe { base.add(bp) };
                }
                Instr::Exit { src } => {
                    if BUDGET {
                        raise!(Fault::Stop(Stop::Exit(get!(src))));
                    }
                    keel_exit(get!(src))
                }
                Instr::Unwind => raise!(Fault::Recorded),

                Instr::PrintInt { src, flags } => keel_print_int(get!(src), flags),
                Instr::PrintBool { src, flags } => keel_print_bool(get!(src), flags),
                Instr::PrintStr { src, flags } => {
                    let string = get!(src) as *const StrHeader;
                    charge!(heap! { budget::string_cost(string as i64) });
                    // SAFETY: the compiler emits `print_str` only for a register holding a
                    // `string` value of verified IR: a live string object.
                    unsafe { keel_print_str(string, flags) }
                }
                Instr::PrintFloat { src, flags } => keel_print_float(getf!(src), flags),
                Instr::PrintValue { src, flags } => {
                    let value = get!(src) as *const ObjHeader;
                    charge!(heap! { budget::object_cost(value as i64, *fuel) });
                    // SAFETY: verified IR prints an array or struct register: a live object.
                    unsafe { keel_print_value(value, flags) }
                }

                Instr::Retain { src } => {
                    let value = get!(src);
                    heap! { heap::retain(value) }
                }
                Instr::Release { src } => {
                    let value = get!(src);
                    heap! { heap::release(value) }
                }
                Instr::NewArray { dst, desc, items } => {
                    // SAFETY: `desc` is a valid descriptor index (validated by `Module::new`).
                    let desc = unsafe { *descs.get_unchecked(desc as usize) };
                    let mut values = list_values!(items);
                    let array = heap! { heap::new_array(desc, &mut values) };
                    set!(dst, array)
                }
                Instr::NewStruct { dst, desc, fields } => {
                    // SAFETY: `desc` is a valid descriptor index (validated by `Module::new`).
                    let desc = unsafe { *descs.get_unchecked(desc as usize) };
                    let mut values = list_values!(fields);
                    let object = heap! { heap::new_struct(desc, &mut values) };
                    set!(dst, object)
                }
                Instr::ArrayLen { dst, array } => {
                    let array = get!(array);
                    set!(dst, heap! { heap::array_len(array) })
                }
                Instr::ArrayGet { dst, array, index } => {
                    let slot = element!(get!(array), get!(index));
                    set!(dst, heap! { *slot })
                }
                Instr::ArrayGetRc { dst, array, index } => {
                    let slot = element!(get!(array), get!(index));
                    let value = heap! { *slot };
                    heap! { heap::retain(value) };
                    set!(dst, value)
                }
                Instr::ArraySet {
                    array: container,
                    index,
                    value,
                } => {
                    let (array, i, value) = (get!(container), get!(index), get!(value));
                    element!(array, i);
                    let unique = make_unique!(array);
                    set!(container, unique);
                    heap! { *heap::element_unchecked(unique, i) = value };
                }
                Instr::ArraySetRc {
                    array: container,
                    index,
                    value,
                } => {
                    let (array, i, value) = (get!(container), get!(index), get!(value));
                    element!(array, i);
                    let unique = make_unique!(array);
                    set!(container, unique);
                    let old =
                        heap! { std::ptr::replace(heap::element_unchecked(unique, i), value) };
                    heap! { heap::release(old) };
                }
                Instr::ArrayTake {
                    dst,
                    array: container,
                    index,
                } => {
                    let (array, i) = (get!(container), get!(index));
                    element!(array, i);
                    let unique = make_unique!(array);
                    set!(container, unique);
                    set!(
                        dst,
                        heap! { std::ptr::replace(heap::element_unchecked(unique, i), 0) }
                    )
                }
                Instr::ArrayGetField {
                    dst,
                    array,
                    index,
                    field,
                } => {
                    let slot = element!(get!(array), get!(index));
                    let element = heap! { *slot };
                    set!(dst, heap! { *heap::field(element, u32::from(field)) })
                }
                Instr::ArrayGetFieldRc {
                    dst,
                    array,
                    index,
                    field,
                } => {
                    let slot = element!(get!(array), get!(index));
                    let element = heap! { *slot };
                    let value = heap! { *heap::field(element, u32::from(field)) };
                    heap! { heap::retain(value) };
                    set!(dst, value)
                }
                Instr::ArrayElemMut {
                    dst,
                    array: container,
                    index,
                } => {
                    let (array, i) = (get!(container), get!(index));
                    element!(array, i);
                    let unique = make_unique!(array);
                    set!(container, unique);
                    let slot = heap! { heap::element_unchecked(unique, i) };
                    let element = make_unique_in_place!(slot);
                    set!(dst, element)
                }
                Instr::FieldMut {
                    dst,
                    object: container,
                    field,
                } => {
                    let object = get!(container);
                    let unique = make_unique!(object);
                    set!(container, unique);
                    let slot = heap! { heap::field(unique, field) };
                    let value = make_unique_in_place!(slot);
                    set!(dst, value)
                }
                Instr::FieldGet { dst, object, field } => {
                    let object = get!(object);
                    set!(dst, heap! { *heap::field(object, field) })
                }
                Instr::FieldGetRc { dst, object, field } => {
                    let object = get!(object);
                    let value = heap! { *heap::field(object, field) };
                    heap! { heap::retain(value) };
                    set!(dst, value)
                }
                Instr::FieldSet {
                    object: container,
                    field,
                    value,
                } => {
                    let (object, value) = (get!(container), get!(value));
                    let unique = make_unique!(object);
                    set!(container, unique);
                    heap! { *heap::field(unique, field) = value };
                }
                Instr::FieldSetRc {
                    object: container,
                    field,
                    value,
                } => {
                    let (object, value) = (get!(container), get!(value));
                    let unique = make_unique!(object);
                    set!(container, unique);
                    let old = heap! { std::ptr::replace(heap::field(unique, field), value) };
                    heap! { heap::release(old) };
                }
                Instr::FieldTake {
                    dst,
                    object: container,
                    field,
                } => {
                    let object = get!(container);
                    let unique = make_unique!(object);
                    set!(container, unique);
                    set!(
                        dst,
                        heap! { std::ptr::replace(heap::field(unique, field), 0) }
                    )
                }
                Instr::CallRt {
                    func,
                    dst,
                    args,
                    checks_fault,
                } => {
                    // SAFETY: `r` is the current window, in bounds for the frame's registers,
                    // which hold values of the function's parameter types (verified IR).
                    charge!(unsafe { budget::rt_cost(func, module.list(args), r, *fuel) });
                    if BUDGET && func == RtFunc::LiveBackoff {
                        // Budgeted runs do not sleep (see `budget`).
                        continue;
                    }
                    // A budgeted run records faults everywhere, so it tests for them everywhere.
                    let checks_fault = checks_fault || (BUDGET && func.may_fault());
                    // SAFETY: `r` is the current window, in bounds for the frame's registers.
                    let call = unsafe { call_runtime(module, ip - 1, func, args, checks_fault, r) };
                    match call {
                        Some(result) => set!(dst, result),
                        None => raise!(Fault::Recorded),
                    }
                }
            }
        }
    }
}
