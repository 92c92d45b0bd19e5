//! Budgeted runs: the VM with a fuel limit, for fuzzing (`fuzz/`, docs/fuzzing.md).
//!
//! [`run_budgeted`] runs a program like `keel run --vm`, with three differences, so that any
//! program, however long it would run and however it would end, comes back to the caller:
//!
//! - **Fuel.** The run gets `fuel` units and stops with [`Outcome::OutOfFuel`] when the next step
//!   would need more than is left. A call and a backward jump cost 1 each, so every loop and every
//!   recursion pays for each round; work a single instruction does in proportion to the size of
//!   its operands costs one unit per 8 bytes it builds, copies, compares or prints (a `call_rt`
//!   such as `array_fill(n, x)`, `s + t` or `join(a, ",")`, a copy-on-write copy, printing a
//!   value), charged *before* the instruction runs. Time and memory are therefore both bounded
//!   by the fuel: a run allocates at most about 8 bytes per unit (plus the register file, which
//!   the stack-unit limit bounds) and nothing is attempted that the fuel could not pay for.
//! - **No process exit.** `exit(n)` ends the run with [`Outcome::Exited`] instead of the process;
//!   a stack overflow ends it with [`Outcome::Faulted`] (the message it would print). Other
//!   faults are recorded rather than printed: the run takes place inside a `live`-block record of
//!   its own (`keel_live_enter`), so the runtime records them and returns as it does inside any
//!   `live` block, the program's own `live` blocks recover as usual, and a fault that reaches the
//!   outermost frame ends the run with [`Outcome::Faulted`]. Since the code outside `live`
//!   blocks was compiled for faults that end the process (`ir::Program::runs_in_live_blocks`:
//!   no pending-fault tests there), the budgeted loop tests the flag after *every* runtime call
//!   that may fault, so that no instruction runs on the meaningless result of a recorded fault.
//!   Out of memory still ends the process, but the fuel keeps a run far below any real limit.
//! - **No sleeping, no files.** `backoff(...)` is not applied (the block keeps no delay between
//!   retries) and `sleep_ms` returns at once, so a run's time is its computation; every file
//!   operation fails with `not available in this run` (`keel_runtime::files::set_sandboxed`),
//!   so an arbitrary program cannot change or read the machine's files.
//!
//! The interpreter loop is generic over a `BUDGET` constant (like `TRACE`): the normal loop
//! contains none of the counting, so `keel run --vm` pays nothing for this mode.
//!
//! Faults that the program's `live` blocks recover from release what the frames they leave own,
//! exactly as in the normal loop (the unwind is shared: `FaultSite::releases`), so a run that
//! finishes leaves no heap object allocated. A run that stops early (out of fuel, `exit`, a
//! fault that leaves the program) abandons the values its frames owned: in-process callers leak
//! them. The fuzz target runs each program in a forked child for that reason, and checks that
//! a finished run left nothing allocated (docs/fuzzing.md).
//!
//! What this module does not do: decide what a run means (callers compare outcomes, or only
//! look for crashes) or bound the front end (its input's size does).

use std::sync::atomic::Ordering;

use keel_runtime::desc::{
    TypeDesc, KIND_ARRAY, KIND_CLOSURE, KIND_MAP, KIND_SET, KIND_STRING, KIND_STRUCT, KIND_VARIANT,
};
use keel_runtime::layout::{ArrayHeader, ObjHeader, StrHeader};
use keel_runtime::recover;

use super::bytecode::{Module, Reg};
use super::interp;
use crate::ir::RtFunc;

/// How a budgeted run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The program ran to its end (output flushed).
    Finished,
    /// The program called `exit(n)`; `n` is as given (the process status would be `n & 0xff`).
    Exited(i64),
    /// A fault left the program: `file:line:col: kind: message`, the line the process would
    /// print.
    Faulted(String),
    /// The fuel ran out.
    OutOfFuel,
}

/// Why the budgeted interpreter loop stopped early (it reports nothing itself).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Stop {
    OutOfFuel,
    Exit(i64),
    /// The call at this code index would exceed the stack-unit limit.
    StackOverflow(usize),
}

/// Runs the program `module` with `args` (as `keel run --vm` would) on at most `fuel` units,
/// returning how it ended; see the module documentation. Output is flushed before returning.
/// Runs on the calling thread; recovery state (the pending-fault flag) is global, so two
/// budgeted runs must not fault at the same time in one process.
pub fn run_budgeted(module: &Module, args: Vec<String>, fuel: u64) -> Outcome {
    keel_runtime::process::set_args(args);
    keel_runtime::files::set_sandboxed(true);
    // The run's own record: faults outside the program's `live` blocks are recorded, not fatal.
    keel_runtime::keel_live_enter(-1);
    let stopped = interp::execute_budgeted(module, module.entry(), &[], fuel);
    let pending = recover::fault_pending();
    // Leave every record, the program's (a run can stop inside its blocks) and the run's.
    while recover::recovering() {
        keel_runtime::keel_live_exit();
    }
    recover::FAULT_PENDING.store(0, Ordering::Relaxed);
    keel_runtime::output::flush_stdout();
    // The run is over: its `static let` values are released, as `keel_finish` does.
    keel_runtime::statics::clear();
    keel_runtime::files::set_sandboxed(false);
    match stopped {
        Ok(()) if pending => Outcome::Faulted(recover::last_fault().unwrap_or_default()),
        Ok(()) => Outcome::Finished,
        Err(Stop::OutOfFuel) => Outcome::OutOfFuel,
        Err(Stop::Exit(code)) => Outcome::Exited(code),
        Err(Stop::StackOverflow(ip)) => Outcome::Faulted(format!(
            "{}: {}",
            module.site_text(module.fault_site(ip).site),
            keel_runtime::stack::STACK_OVERFLOW_MESSAGE
        )),
    }
}

/// Fuel for `n` bytes: one unit per 8, rounded up, at least 1.
fn bytes(n: i64) -> u64 {
    (n.max(0) as u64).div_ceil(8).max(1)
}

/// Fuel for a string: its bytes.
///
/// # Safety
/// `word` must be the address of a live string.
pub(super) unsafe fn string_cost(word: i64) -> u64 {
    // SAFETY: the caller guarantees a live string.
    bytes(unsafe { (*(word as *const StrHeader)).len })
}

/// Whether the object at `word` has exactly one reference (an operation that consumes it
/// changes it in place instead of copying it).
///
/// # Safety
/// `word` must be the address of a live object.
unsafe fn unique(word: i64) -> bool {
    // SAFETY: the caller guarantees a live object.
    unsafe { (*(word as *const ObjHeader)).rc == 1 }
}

/// The number of entries of the map or set at `word`.
///
/// # Safety
/// `word` must be the address of a live map or set.
unsafe fn map_len(word: i64) -> u64 {
    // SAFETY: forwarded from the caller.
    unsafe { keel_runtime::map::keel_map_len(word as *const ObjHeader).max(0) as u64 }
}

/// Fuel for a shallow copy of the object at `word`: its slots or bytes.
///
/// # Safety
/// `word` must be the address of a live string, array or struct.
unsafe fn shallow_cost(word: i64) -> u64 {
    // SAFETY: the caller guarantees a live object; its descriptor says which kind.
    unsafe {
        let desc = (*(word as *const ObjHeader)).desc;
        if desc.is_null() {
            string_cost(word)
        } else if (*desc).kind == KIND_ARRAY {
            1 + (*(word as *const ArrayHeader)).len.max(0) as u64
        } else if matches!((*desc).kind, KIND_MAP | KIND_SET) {
            1 + 3 * map_len(word)
        } else {
            1 + u64::from((*desc).field_count)
        }
    }
}

/// Fuel for the copy-on-write step on the array or struct at `word`: nothing when it is unique,
/// else its shallow copy.
///
/// # Safety
/// `word` must be the address of a live array or struct.
pub(super) unsafe fn copy_cost(word: i64) -> u64 {
    // SAFETY: forwarded from the caller.
    unsafe {
        if unique(word) {
            0
        } else {
            shallow_cost(word)
        }
    }
}

/// Fuel for visiting the whole value at `word` (a string, array or struct, whose descriptor is
/// `desc`), every shared part as often as it is reached, as printing and deep equality do. Stops
/// counting once the total exceeds `limit`, so the cost of counting is bounded by the limit too.
///
/// # Safety
/// `word` must be null or the address of a live value of type `desc`.
pub(super) unsafe fn value_cost(word: i64, desc: *const TypeDesc, limit: u64) -> u64 {
    let mut total = 0u64;
    let mut pending = vec![(word, desc)];
    while let Some((word, desc)) = pending.pop() {
        if word == 0 || desc.is_null() {
            continue;
        }
        // SAFETY: `word` is a live value of type `desc` (the caller's, then an element or field
        // of one, typed by its container's descriptor).
        unsafe {
            // An enum value is walked as the variant its object is of.
            let desc = if (*desc).is_indirect() {
                (*(word as *const keel_runtime::layout::ObjHeader)).desc
            } else {
                desc
            };
            match (*desc).kind {
                KIND_STRING => total = total.saturating_add(string_cost(word)),
                KIND_ARRAY => {
                    let array = word as *const ArrayHeader;
                    let len = (*array).len.max(0) as usize;
                    total = total.saturating_add(1 + len as u64);
                    let elem = (*desc).elem;
                    // Only while within the limit, so `pending` holds at most `limit` items.
                    if total <= limit && keel_runtime::desc::desc_is_heap(elem) {
                        let items = keel_runtime::array::elements(array);
                        pending.extend(items.iter().map(|&item| (item, elem)));
                    }
                }
                KIND_STRUCT | KIND_VARIANT | KIND_CLOSURE => {
                    let fields = (*desc).field_count as usize;
                    total = total.saturating_add(1 + fields as u64);
                    for index in 0..fields {
                        let ty = (*(*desc).fields.add(index)).ty;
                        if keel_runtime::desc::desc_is_heap(ty) {
                            pending.push((*super::heap::field(word, index as u32), ty));
                        }
                    }
                }
                KIND_MAP | KIND_SET => {
                    let len = map_len(word);
                    total = total.saturating_add(1 + 2 * len);
                    let map = word as *const ObjHeader;
                    let (key, value) = keel_runtime::map::part_descs(map);
                    let (key_heap, value_heap) = (
                        keel_runtime::desc::desc_is_heap(key),
                        !value.is_null() && keel_runtime::desc::desc_is_heap(value),
                    );
                    if total <= limit && (key_heap || value_heap) {
                        for entry in keel_runtime::map::entries(map) {
                            if key_heap {
                                pending.push((entry.key, key));
                            }
                            if value_heap {
                                pending.push((entry.value, value));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        if total > limit {
            return total;
        }
    }
    total
}

/// Fuel for the whole value at `word`, whose descriptor it holds (null for a string).
///
/// # Safety
/// `word` must be the address of a live string, array or struct.
pub(super) unsafe fn object_cost(word: i64, limit: u64) -> u64 {
    // SAFETY: the caller guarantees a live object.
    unsafe {
        let desc = (*(word as *const ObjHeader)).desc;
        if desc.is_null() {
            string_cost(word)
        } else {
            value_cost(word, desc, limit)
        }
    }
}

/// Fuel for an element value `word` of the array `array` (which gives its type).
///
/// # Safety
/// `array` must be the address of a live array and `word` a value of its element type.
unsafe fn element_cost(array: i64, word: i64, limit: u64) -> u64 {
    // SAFETY: the caller guarantees a live array, whose descriptor's `elem` types `word`.
    unsafe {
        let elem = (*(*(array as *const ObjHeader)).desc).elem;
        if keel_runtime::desc::desc_is_heap(elem) {
            value_cost(word, elem, limit)
        } else {
            1
        }
    }
}

/// What the `call_rt` of `func` on the registers `args` of `window` costs, at most a little more
/// than `limit` (the fuel left) when it costs more than that. `LiveBackoff` costs 1 and is then
/// skipped by the interpreter (see the module documentation).
///
/// # Safety
/// `window` must be the current frame's window, in bounds for the registers of `args`, which
/// hold values of `func`'s parameter types (verified IR).
pub(super) unsafe fn rt_cost(func: RtFunc, args: &[Reg], window: *const i64, limit: u64) -> u64 {
    let mut values = [0i64; super::rt::MAX_PARAMS];
    for (slot, reg) in values.iter_mut().zip(args) {
        // SAFETY: the caller guarantees the window holds every register of the list.
        *slot = unsafe { *window.add(reg.index()) };
    }
    let [a, b, c] = values;
    use RtFunc::*;
    // SAFETY: the arguments have the parameter types of `func` (the caller's guarantee): the
    // pointer parameters below are live strings, arrays or structs as the signature says.
    let cost = unsafe {
        match func {
            // `a` is consumed: appended to in place when unique.
            StrConcat | ArrayConcat => {
                let own = if unique(a) { 0 } else { shallow_cost(a) };
                own.saturating_add(shallow_cost(b))
            }
            StrEq | StrCmp | StrContains | StrStartsWith | StrEndsWith | StrIndexOf => {
                string_cost(a).saturating_add(string_cost(b))
            }
            StrTrim | StrToUpper | StrToLower | StrSubstring | StrCharAt | ParseInt
            | ParseFloat | ParseIntError | ParseFloatError | Fault | FaultAt => string_cost(a),
            // Every piece is a new string object of about 6 words.
            StrSplit => {
                let len = (*(a as *const StrHeader)).len.max(0) as u64;
                let sep = (*(b as *const StrHeader)).len.max(1) as u64;
                string_cost(a).saturating_add(6 * (len / sep + 1))
            }
            // Primes: up to a prime gap of Miller-Rabin tests; the others a few dozen rounds.
            IntMath => 64,
            StrBytes => 1,
            // Written, a value takes up to about 8 bytes of text per byte of its parts.
            JsonEncode => {
                if keel_runtime::desc::desc_is_heap(a as *const TypeDesc) {
                    8u64.saturating_mul(value_cost(b, a as *const TypeDesc, limit / 8))
                } else {
                    1
                }
            }
            StrToBytes => 1 + (*(a as *const StrHeader)).len.max(0) as u64,
            // `a` is consumed: changed in place when unique; the elements after `i` move.
            ArrayInsertAt | ArrayRemoveAt | ArraySwap | ArraySetAt => shallow_cost(a),
            // At most one word per two bytes.
            StrWords => {
                let len = (*(a as *const StrHeader)).len.max(0) as u64;
                string_cost(a).saturating_add(6 * (len / 2 + 1))
            }
            // The result holds `s`, and `to` once per match (between every character for "").
            StrReplace => {
                let len = (*(a as *const StrHeader)).len.max(0) as u64;
                let from = (*(b as *const StrHeader)).len.max(1) as u64;
                let matches = len / from + 1;
                string_cost(a)
                    .saturating_add(string_cost(b))
                    .saturating_add(matches.saturating_mul(string_cost(c)))
            }
            StrJoin => {
                let items = (*(a as *const ArrayHeader)).len.max(0) as u64;
                value_cost(a, (*(a as *const ObjHeader)).desc, limit)
                    .saturating_add(items.saturating_mul(string_cost(b)))
            }
            // Printed, a value takes up to about 8 bytes of text per byte of its parts.
            ValueToStr => 8u64.saturating_mul(object_cost(a, limit / 8)),
            ValueEq => object_cost(a, limit).saturating_add(object_cost(b, limit)),
            ArrayContains | ArrayIndexOf => {
                object_cost(a, limit).saturating_add(element_cost(a, b, limit))
            }
            // `a` is consumed: changed in place when unique.
            ArrayPush | ArrayPop | MapInsert | MapRemove => {
                if unique(a) {
                    1
                } else {
                    shallow_cost(a)
                }
            }
            ArrayReverse => shallow_cost(a),
            ArraySort => {
                let len = (*(a as *const ArrayHeader)).len.max(1) as u64;
                let rounds = u64::from(64 - len.leading_zeros());
                object_cost(a, limit).saturating_mul(rounds)
            }
            ArraySlice => {
                let len = (*(a as *const ArrayHeader)).len.max(0);
                let (from, to) = (b.clamp(0, len), c.clamp(0, len));
                1 + (to - from).max(0) as u64
            }
            ArrayFill => 1 + b.max(0) as u64,
            Args => 1 + keel_runtime::process::args().len() as u64,
            StrLen | IntToStr | FloatToStr | BoolToStr | Input | IntPow | IntAbs | IntMin
            | IntMax | FloatAbs | FloatSqrt | FloatFloor | FloatCeil | FloatRound | FloatSin
            | FloatCos | FloatTan | FloatExp | FloatLn | FloatMin | FloatMax | FloatPow
            | FloatAtan2 | ClockMs | LiveEnter | LiveBackoff | LiveExit | LiveRetry
            | LiveRetries | SpecEnter | SpecAbort | StaticIsSet | StaticGet | StaticSet
            | SessionGet | SessionSet | FileExists | FileRemove | EnvVar | ReadLine | IoError
            | SleepMs | FloatMath | FloatMath2 | IntBits | StrChr | StrOrd => 1,
            FileRead | FileWrite | FileAppend => 1 + 64,
            MapNew | MapFind | MapKey | MapValue | MapLen => 1,
            MapSort => {
                let len = map_len(a).max(1);
                let rounds = u64::from(64 - len.leading_zeros());
                (1 + len).saturating_mul(rounds)
            }
            MapKeys | MapValues => 1 + map_len(a),
        }
    };
    cost.max(1)
}
