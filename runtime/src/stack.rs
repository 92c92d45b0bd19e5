//! Call depth: the limit on nested Keel calls, the counter compiled code keeps, the stack the
//! program body runs on, and the `stack overflow` fault.
//!
//! Every backend allows the same [`MAX_CALL_DEPTH`] nested Keel calls (the entry function, the
//! program's top-level statements, is not counted), so a program that recurses too deeply prints
//! the same output and then the same `file:line:col: stack overflow: too many nested calls` at the
//! same call everywhere:
//! - compiled code (JIT and native) keeps the count in the exported global [`CALL_DEPTH`]
//!   (symbol [`CALL_DEPTH_SYMBOL`]): before each Keel-to-Keel call it adds 1 and calls
//!   [`keel_fault_stack_overflow`] when the count exceeds the limit; after the call it subtracts
//!   1 again. Keel programs are single-threaded, so plain loads and stores suffice;
//! - the bytecode VM counts its own return records against the same constant.
//!
//! Compiled code really recurses on the machine stack, so the program body runs on a thread with
//! a [`BODY_STACK_BYTES`] stack ([`with_body_stack`], [`keel_run_main`]): reserved, not committed,
//! so only the pages a deep recursion touches cost memory. The body thread does the whole run
//! (arguments, body, finish) because output buffering, arguments and the live-object count are
//! per-thread state.
//!
//! What this module does not do: recover from overflow (`live` blocks), or guard against native
//! recursion inside runtime functions.

use std::ffi::c_char;
use std::sync::atomic::{AtomicI64, Ordering};

/// The most Keel calls that may be active at once, on every backend. At 200,000 a 1 GiB stack
/// leaves over 5 KiB per compiled frame, far more than any Keel function's frame.
pub const MAX_CALL_DEPTH: i64 = 200_000;

/// The stack reserved for the program body's thread (only touched pages are committed).
pub const BODY_STACK_BYTES: usize = 1 << 30;

/// The message of the fault a call beyond [`MAX_CALL_DEPTH`] reports.
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

/// Reports a call nested deeper than [`MAX_CALL_DEPTH`] at `site` (the call's `file:line:col`)
/// and ends the process with status 1.
///
/// # Safety
/// `site` must point to `site_len` bytes of UTF-8.
#[no_mangle]
pub unsafe extern "C" fn keel_fault_stack_overflow(site: *const u8, site_len: usize) -> ! {
    // SAFETY: the caller passes a valid site.
    unsafe { crate::fault::fatal_at(site, site_len, STACK_OVERFLOW_MESSAGE) }
}

/// Runs `body` on a thread with a [`BODY_STACK_BYTES`] stack and returns its result. When no
/// such thread can be started, `body` runs on this thread (deep recursion may then crash).
pub fn with_body_stack<T: Send>(body: impl FnOnce() -> T + Send) -> T {
    let mut body = Some(body);
    let spawned = std::thread::scope(|scope| {
        let started = std::thread::Builder::new()
            .name("keel-main".into())
            .stack_size(BODY_STACK_BYTES)
            .spawn_scoped(scope, || body.take().map(|body| body()));
        match started {
            Ok(handle) => handle.join().ok().flatten(),
            Err(_) => None,
        }
    });
    match (spawned, body) {
        (Some(result), _) => result,
        (None, Some(body)) => body(),
        // The body ran and panicked; runtime panics abort, so this is not reached in practice.
        (None, None) => std::process::abort(),
    }
}

/// A native executable's whole run: on a thread with a large stack, `keel_init(argc, argv)`,
/// `entry()`, then `keel_finish()`, whose status is returned.
///
/// # Safety
/// `argv` must hold `argc` valid NUL-terminated strings (or `argc` must be 0); `entry` must be
/// the program's entry function.
#[no_mangle]
pub unsafe extern "C" fn keel_run_main(
    argc: i32,
    argv: *const *const c_char,
    entry: extern "C" fn(),
) -> i32 {
    // SAFETY: the caller guarantees `argv`; the arguments are copied before anything else runs.
    unsafe { crate::process::keel_init(argc, argv) };
    let args = crate::process::args();
    with_body_stack(move || {
        crate::process::set_args(args);
        entry();
        crate::process::keel_finish()
    })
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
            let pad = std::hint::black_box([n; 64]);
            if n == 0 {
                0
            } else {
                descend(n - 1) + pad[0] % 2
            }
        }
        // 100,000 frames of over 512 bytes each: far beyond a default 8 MiB stack.
        assert_eq!(with_body_stack(|| descend(100_000)), 50_000);
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
