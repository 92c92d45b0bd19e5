//! Running a closure on the current thread, on a stack of its own: how a native executable runs
//! its program body on a stack sized for `keel_runtime::MAX_STACK_UNITS` frames (see `stack`).
//!
//! The C `main` of a native executable is generated code, so the Rust runtime never set up its
//! thread, and the main thread's stack is what the system gives it (8 MiB by default). Rather
//! than start a thread with a larger stack, [`on_own_stack`] maps a stack (reserved, not
//! committed: only the pages a deep recursion touches cost memory; a guard region at its low
//! end, so a runaway native recursion stops with a segmentation fault), moves the stack pointer
//! there for the duration of one call, and unmaps it afterwards. That keeps a native program
//! single-threaded: no thread-local state to hand over, and no second thread whose bookkeeping
//! (the thread-local storage vector glibc allocates with each thread) is still allocated when a
//! fault or `exit` ends the process from the body, which valgrind would report as possibly lost.
//!
//! Only x86_64 and aarch64 have the switch (a few instructions of inline assembly each); other
//! targets run the closure on the current stack.
//!
//! What this module does not do: decide the size (see `stack::body_stack_bytes`) or count calls.

use core::ffi::c_void;

use crate::sys;

/// Bytes at the low end of the stack that are never accessible: stack probes of frames up to
/// this size land in it. A multiple of every page size Linux uses (4, 16 and 64 KiB).
pub const GUARD_BYTES: usize = 64 << 10;

/// A mapped stack, unmapped on drop.
struct Stack {
    base: *mut c_void,
    size: usize,
}

impl Stack {
    /// Maps a stack of `size` bytes (a multiple of [`GUARD_BYTES`], more than it), or `None`
    /// when the address space cannot hold it.
    fn map(size: usize) -> Option<Stack> {
        let base = sys::map(
            size,
            sys::PROT_READ_WRITE,
            sys::MAP_NORESERVE | sys::MAP_STACK,
        )?;
        let stack = Stack { base, size };
        // SAFETY: the guard is the first bytes of the mapping just made, which nothing uses.
        unsafe { sys::protect(base, GUARD_BYTES, sys::PROT_NONE) }.ok()?;
        Some(stack)
    }

    /// The initial stack pointer: the end of the mapping (which is page aligned, so 16-byte
    /// aligned as both ABIs require).
    fn top(&self) -> usize {
        self.base as usize + self.size
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: the mapping is ours and nothing runs on it any more.
        unsafe { sys::unmap(self.base, self.size) };
    }
}

/// Runs `body` on this thread on a stack of `size` bytes (rounded up to [`GUARD_BYTES`]) and
/// returns its result; gives `body` back, not run, when no such stack can be mapped.
pub fn on_own_stack<T, F: FnOnce() -> T>(size: usize, body: F) -> Result<T, F> {
    if !SWITCHES {
        return Ok(body());
    }
    let Some(stack) = size
        .checked_next_multiple_of(GUARD_BYTES)
        .and_then(|size| Stack::map(size.max(2 * GUARD_BYTES)))
    else {
        return Err(body);
    };
    let mut result = None;
    {
        let mut run = Some(|| result = Some(body()));
        // SAFETY: `stack` is a fresh mapping, unused until `switch_and_call` returns and
        // unmapped only after; the entry function is instantiated for the closure `run` holds.
        unsafe { switch_and_call(stack.top(), run_closure(&run), (&raw mut run).cast()) };
    }
    drop(stack);
    match result {
        Some(result) => Ok(result),
        // The closure always runs to completion (nothing here unwinds).
        None => crate::host::abort(),
    }
}

/// The entry function that runs the closure in an `Option<F>` at `data`.
fn run_closure<F: FnOnce()>(_: &Option<F>) -> unsafe extern "C" fn(*mut c_void) {
    unsafe extern "C" fn run<F: FnOnce()>(data: *mut c_void) {
        // SAFETY: `data` is the `Option<F>` `on_own_stack` passed, alive and not otherwise
        // used until this returns.
        if let Some(f) = unsafe { (*data.cast::<Option<F>>()).take() } {
            f();
        }
    }
    run::<F>
}

/// Whether this target has a stack switch.
const SWITCHES: bool = cfg!(any(target_arch = "x86_64", target_arch = "aarch64"));

/// Calls `entry(data)` with the stack pointer at `top`, then restores it.
///
/// # Safety
/// `top` must be the 16-byte aligned end of writable memory large enough for everything `entry`
/// does, used by nothing else meanwhile; `entry` must be safe to call with `data`.
#[cfg(target_arch = "x86_64")]
unsafe fn switch_and_call(top: usize, entry: unsafe extern "C" fn(*mut c_void), data: *mut c_void) {
    // SAFETY: forwarded from the caller. The old stack pointer is kept in r12, which the callee
    // preserves (it is callee-saved) and which is declared clobbered here; every register the
    // C ABI lets a callee change is declared clobbered too.
    unsafe {
        core::arch::asm!(
            "mov r12, rsp",
            "mov rsp, {top}",
            "call {entry}",
            "mov rsp, r12",
            top = in(reg) top,
            entry = in(reg) entry,
            in("rdi") data,
            out("r12") _,
            clobber_abi("C"),
        );
    }
}

/// Calls `entry(data)` with the stack pointer at `top`, then restores it.
///
/// # Safety
/// As on x86_64.
#[cfg(target_arch = "aarch64")]
unsafe fn switch_and_call(top: usize, entry: unsafe extern "C" fn(*mut c_void), data: *mut c_void) {
    // SAFETY: forwarded from the caller. The old stack pointer is kept in x20, which the callee
    // preserves (it is callee-saved) and which is declared clobbered here; every register the
    // C ABI lets a callee change (the link register included) is declared clobbered too.
    unsafe {
        core::arch::asm!(
            "mov x20, sp",
            "mov sp, {top}",
            "blr {entry}",
            "mov sp, x20",
            top = in(reg) top,
            entry = in(reg) entry,
            in("x0") data,
            out("x20") _,
            clobber_abi("C"),
        );
    }
}

/// Other targets have no switch ([`SWITCHES`] is false, so this is never called).
///
/// # Safety
/// None needed: it only calls `entry`.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
unsafe fn switch_and_call(
    _top: usize,
    entry: unsafe extern "C" fn(*mut c_void),
    data: *mut c_void,
) {
    // SAFETY: forwarded from the caller.
    unsafe { entry(data) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_recursion_fits_on_the_own_stack() {
        fn descend(n: u64) -> u64 {
            let pad = core::hint::black_box([n; 64]);
            if n == 0 {
                0
            } else {
                descend(n - 1) + pad[0] % 2
            }
        }
        // 100,000 frames of over 512 bytes each: far beyond the test thread's 2 MiB stack.
        assert_eq!(
            on_own_stack(1 << 30, || descend(100_000)).ok(),
            Some(50_000)
        );
    }

    #[test]
    fn the_body_sees_its_captures_and_its_result_comes_back() {
        let mut seen = Vec::new();
        let text = String::from("kept");
        let result = on_own_stack(1 << 20, || {
            seen.push(text.len());
            text.clone() + "!"
        });
        assert_eq!(result.ok().as_deref(), Some("kept!"));
        assert_eq!(seen, [4]);
    }

    #[test]
    fn a_stack_beyond_the_address_space_is_refused() {
        assert!(on_own_stack(usize::MAX / 2, || 1).is_err());
        assert!(on_own_stack(usize::MAX, || 1).is_err());
    }
}
