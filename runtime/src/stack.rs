//! The stack: the limit on nested Keel calls, the counter compiled code keeps, the stack the
//! program body runs on, and the `stack overflow` fault.
//!
//! **The limit is measured in stack units, the same on every backend.** A call of a function
//! takes [`stack_units`] of its IR locals (1 for up to [`LOCALS_PER_STACK_UNIT`] - 1 locals, one
//! more for each further [`LOCALS_PER_STACK_UNIT`]), and the calls active at once may take
//! [`MAX_STACK_UNITS`] in all (the entry function, the program's top-level statements, is not
//! counted). So a program that recurses too deeply prints the same output and then the same
//! `file:line:col: stack overflow: too many nested calls` at the same call everywhere, however
//! large its frames:
//! - compiled code (JIT and native) keeps the count in the exported global [`CALL_DEPTH`]
//!   (symbol [`CALL_DEPTH_SYMBOL`]): before each Keel-to-Keel call it adds the callee's units and
//!   calls [`keel_fault_stack_overflow`] when the count exceeds the limit; after the call it
//!   subtracts them again. Keel programs are single-threaded, so plain loads and stores suffice;
//! - the bytecode VM keeps the same count in its return records.
//!
//! **The machine stack is sized by the real frames.** Compiled code recurses on the machine
//! stack, so the program body runs on a stack that holds [`MAX_STACK_UNITS`] units of the
//! largest frame per unit that Cranelift produced for the program, plus
//! [`RUNTIME_HEADROOM_BYTES`] for the runtime functions the deepest frame calls
//! ([`body_stack_bytes`]); at least [`BODY_STACK_BYTES`]. The stack is reserved, not committed,
//! so only the pages a deep recursion touches cost memory. Under an address-space limit too small
//! for it, the body gets the largest stack that fits. A native executable maps that stack on its
//! main thread and switches to it for the body ([`keel_run_main`], `own_stack`): the process
//! stays single-threaded, so a fault or `exit` ending it from the body leaves no second thread's
//! bookkeeping allocated (which valgrind would report). The JIT runs the body on a thread with
//! that stack ([`with_body_stack`]), which does the whole run (arguments, body, finish) because
//! output buffering, arguments and the live-object count are per-thread state.
//!
//! What this module does not do: recover from overflow (`live` blocks), or guard against native
//! recursion inside runtime functions.

use core::ffi::c_char;
use core::sync::atomic::{AtomicI64, Ordering};

/// The most stack units the Keel calls active at once may take, on every backend: 200,000
/// calls of functions with fewer than [`LOCALS_PER_STACK_UNIT`] locals.
pub const MAX_STACK_UNITS: i64 = 200_000;

/// The IR locals one stack unit of a function's frame stands for.
pub const LOCALS_PER_STACK_UNIT: usize = 64;

/// The stack units a call of a function with `locals` IR locals (parameters, variables and
/// temporaries) takes: at least 1, growing with the frame.
pub const fn stack_units(locals: usize) -> i64 {
    1 + (locals / LOCALS_PER_STACK_UNIT) as i64
}

/// The least stack reserved for the program body's thread (only touched pages are committed):
/// over 5 KiB per stack unit.
pub const BODY_STACK_BYTES: usize = 1 << 30;

/// Stack kept beyond [`MAX_STACK_UNITS`] frames for the runtime functions the deepest Keel frame
/// calls (printing, sorting, formatting).
pub const RUNTIME_HEADROOM_BYTES: usize = 8 << 20;

/// The stack the body needs when no compiled frame takes more than
/// `bytes_per_unit` bytes per stack unit: room for [`MAX_STACK_UNITS`] units of them and the
/// runtime's headroom, and at least [`BODY_STACK_BYTES`]. Saturates rather than overflowing
/// (such a stack cannot be reserved, which [`with_body_stack`] reports).
pub fn body_stack_bytes(bytes_per_unit: usize) -> usize {
    (MAX_STACK_UNITS as usize)
        .saturating_mul(bytes_per_unit)
        .saturating_add(RUNTIME_HEADROOM_BYTES)
        .max(BODY_STACK_BYTES)
}

/// The message of the fault a call beyond [`MAX_STACK_UNITS`] reports.
pub const STACK_OVERFLOW_MESSAGE: &str = "stack overflow: too many nested calls";

/// The symbol under which compiled code finds [`CALL_DEPTH`].
pub const CALL_DEPTH_SYMBOL: &str = "keel_call_depth";

/// The number of Keel calls active in compiled code (same layout as an `i64`).
#[export_name = "keel_call_depth"]
pub static CALL_DEPTH: AtomicI64 = AtomicI64::new(0);

/// The address of [`CALL_DEPTH`], for the JIT to bind [`CALL_DEPTH_SYMBOL`] to.
pub fn call_depth_address() -> *const u8 {
    CALL_DEPTH.as_ptr().cast_const().cast()
}

/// Reports a call that would take the stack beyond [`MAX_STACK_UNITS`] at `site` (the call's `file:line:col`)
/// and ends the process with status 1.
///
/// # Safety
/// `site` must point to `site_len` bytes of UTF-8.
#[no_mangle]
pub unsafe extern "C" fn keel_fault_stack_overflow(site: *const u8, site_len: usize) -> ! {
    // SAFETY: the caller passes a valid site.
    unsafe { crate::fault::fatal_at(site, site_len, STACK_OVERFLOW_MESSAGE) }
}

/// Runs `body` on a thread with a stack of `stack_bytes` (see [`body_stack_bytes`]) and
/// returns its result (the JIT's body; native executables use [`keel_run_main`]).
///
/// When that much address space cannot be reserved (a `ulimit -v` below it), the thread gets the
/// largest stack of half, a quarter, ... of it that can be, down to [`SMALLEST_BODY_STACK`], and
/// the body runs on this thread when not even that can: the program still runs, and only a
/// recursion deeper than the smaller stack holds ends differently from the other backends.
///
/// The calling thread gets no `std::thread::Thread` handle: `std::thread::scope` would make one
/// (to wake it when the scoped threads end), and on a thread the Rust runtime did not start (the
/// C `main` of a native executable, which used to run its body here) that handle is only freed
/// by a thread-exit destructor that the process's exit never runs: valgrind reported its 48
/// bytes as possibly lost in every program. A plain spawn, joined before this function returns,
/// allocates nothing that outlives the join.
#[cfg(not(feature = "freestanding"))]
pub fn with_body_stack<T: Send>(stack_bytes: usize, body: impl FnOnce() -> T + Send) -> T {
    let mut body = Some(body);
    let mut size = stack_bytes;
    loop {
        let slot = &mut body;
        let builder = std::thread::Builder::new()
            .name("keel-main".into())
            .stack_size(size);
        // SAFETY: the thread borrows `body` (through `slot`), and it is joined right below,
        // before anything it borrows goes out of scope; when it cannot be started, the closure
        // is dropped without running and `body` is untouched.
        let started = unsafe { builder.spawn_unchecked(move || slot.take().map(|body| body())) };
        match started.map(|handle| handle.join()) {
            Ok(Ok(Some(result))) => return result,
            // The body panicked; runtime panics abort, so this is not reached in practice.
            Ok(_) => crate::host::abort(),
            Err(_) if size / 2 >= SMALLEST_BODY_STACK => size /= 2,
            Err(_) => break,
        }
    }
    match body.take() {
        Some(body) => body(),
        None => crate::host::abort(),
    }
}

/// The smallest stack [`with_body_stack`] and [`keel_run_main`] try before they run the body on
/// the calling thread's stack.
pub const SMALLEST_BODY_STACK: usize = 8 << 20;

/// A native executable's whole run: `keel_init(argc, argv)`, then, on a stack of `stack_bytes`
/// (which the compiler computed from the program's frames, see [`body_stack_bytes`]) mapped for
/// it on this thread (`own_stack`), `entry()` and `keel_finish()`, whose status is returned.
///
/// When that much address space cannot be reserved, the stack is half, a quarter, ... of it,
/// down to [`SMALLEST_BODY_STACK`], and the body runs on this thread's own stack when not even
/// that can be mapped, as [`with_body_stack`] does.
///
/// # Safety
/// `argv` must hold `argc` valid NUL-terminated strings (or `argc` must be 0); `entry` must be
/// the program's entry function.
#[no_mangle]
pub unsafe extern "C" fn keel_run_main(
    argc: i32,
    argv: *const *const c_char,
    entry: extern "C" fn(),
    stack_bytes: usize,
) -> i32 {
    // SAFETY: forwarded from the caller.
    unsafe { crate::process::keel_init(argc, argv) };
    let mut body = move || {
        entry();
        crate::process::keel_finish()
    };
    let mut size = stack_bytes;
    loop {
        match crate::own_stack::on_own_stack(size, body) {
            Ok(status) => return status,
            Err(back) if size / 2 >= SMALLEST_BODY_STACK => (body, size) = (back, size / 2),
            Err(back) => return back(),
        }
    }
}

/// The depth compiled code has counted (for tests and diagnostics).
pub fn call_depth() -> i64 {
    CALL_DEPTH.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_stack_holds_deep_native_recursion() {
        fn descend(n: u64) -> u64 {
            let pad = core::hint::black_box([n; 64]);
            if n == 0 {
                0
            } else {
                descend(n - 1) + pad[0] % 2
            }
        }
        // 100,000 frames of over 512 bytes each: far beyond a default 8 MiB stack.
        assert_eq!(
            with_body_stack(BODY_STACK_BYTES, || descend(100_000)),
            50_000
        );
    }

    #[test]
    fn units_grow_with_locals_and_the_stack_with_frames() {
        assert_eq!(stack_units(0), 1);
        assert_eq!(stack_units(LOCALS_PER_STACK_UNIT - 1), 1);
        assert_eq!(stack_units(LOCALS_PER_STACK_UNIT), 2);
        assert_eq!(stack_units(1300), 21);
        assert_eq!(body_stack_bytes(64), BODY_STACK_BYTES);
        assert_eq!(
            body_stack_bytes(10_000),
            200_000 * 10_000 + RUNTIME_HEADROOM_BYTES
        );
        assert_eq!(body_stack_bytes(usize::MAX), usize::MAX);
    }

    #[test]
    fn the_counter_is_the_exported_address() {
        assert_eq!(call_depth(), 0);
        assert_eq!(
            call_depth_address(),
            CALL_DEPTH.as_ptr().cast_const().cast()
        );
    }

    /// The fault prints the site and the message after buffered output and exits with 1.
    #[test]
    fn stack_overflow_reports_its_site() {
        use crate::test_support::{in_child, scenario};

        const SITE: &[u8] = b"t.kl:4:9";
        if scenario().is_some() {
            crate::output::keel_print_int(5, crate::output::PRINT_NEWLINE);
            // SAFETY: the site is a live byte string.
            unsafe { keel_fault_stack_overflow(SITE.as_ptr(), SITE.len()) }
        }
        let output = in_child(
            "stack::tests::stack_overflow_reports_its_site",
            "overflow",
            b"",
            &[],
        );
        assert_eq!(output.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("t.kl:4:9: stack overflow: too many nested calls\n"),
            "{stderr}"
        );
        assert!(String::from_utf8_lossy(&output.stdout).contains("5\n"));
    }
}
