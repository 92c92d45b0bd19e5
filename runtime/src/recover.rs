//! Recovery: the state of active `live` blocks and of the fault they are recovering from.
//!
//! A fault raised while no `live` block is active ends the process at once (see `fault`). While
//! one is active, the fault is *recorded* instead: its text goes to [`last_fault`], the exported
//! flag [`FAULT_PENDING`] (symbol [`FAULT_PENDING_SYMBOL`]) becomes 1, and the raising function
//! returns. Generated code tests the flag after every call that may fault and, when it is set,
//! leaves the function (returning a meaningless result) until it reaches the function whose
//! `live` block is active; that block's recovery code calls [`keel_live_retry`]. This is
//! propagation by return: no `setjmp`, no unwind tables, the same on every backend and target.
//!
//! The protocol, as generated code follows it:
//! - entering a block: [`keel_live_enter`] pushes a record (retry count, start time, `within`),
//!   [`keel_live_backoff`] sets its `backoff`; leaving it normally (also by `return`, `break`, `continue`): [`keel_live_exit`];
//! - recovering: [`keel_live_retry`] counts the failed attempt and either clears the fault and
//!   returns (sleeping the backoff first) so the body runs again, or pops the record and raises
//!   the block's own fault (`live block failed after 3 attempts` or a timeout), which the next
//!   enclosing block recovers from or which ends the process;
//! - [`keel_live_retries`] is `live_retries()`;
//! - speculation (a fused array pipeline, `sema::fuse`): [`keel_speculate_enter`] pushes a
//!   record that only catches faults, so they are recorded and returned instead of ending the
//!   process; [`keel_live_exit`] leaves it after the fast code succeeded, and
//!   [`keel_speculate_abort`] leaves it after a fault, forgetting the fault, so that the code
//!   the fast path stands for runs instead and raises it again where it belongs.
//!
//! Keel programs are single-threaded. The block stack is per thread, so that tests running
//! programs on several threads of one process keep separate stacks; the pending flag is one
//! global, because compiled code reads it at a fixed address, so two threads must not recover
//! from faults at the same time (tests that do run their programs in child processes).
//!
//! What this module does not do: restore variables (generated code does, from its snapshots) or
//! release the values owned by the frames a recovered fault leaves (generated code does, on
//! each fault's cold path; see docs/faults.md).

use crate::prelude::*;
use core::cell::RefCell;
use core::sync::atomic::{AtomicI64, Ordering};

/// How many times a `live` block runs its body before it fails.
pub const MAX_ATTEMPTS: i64 = 3;

/// The symbol under which compiled code finds [`FAULT_PENDING`].
pub const FAULT_PENDING_SYMBOL: &str = "keel_fault_pending";

/// 1 while a recorded fault is propagating to its `live` block, else 0 (same layout as an `i64`).
#[export_name = "keel_fault_pending"]
pub static FAULT_PENDING: AtomicI64 = AtomicI64::new(0);

/// One active `live` block.
struct LiveRecord {
    /// Failed attempts so far: `live_retries()`.
    retries: i64,
    /// The monotonic clock's reading when the block was entered, in nanoseconds; read only for
    /// a block with `within` (0 otherwise), so entering other blocks makes no system call.
    started_ns: u64,
    /// `within`, in milliseconds, if given.
    within_ms: Option<u64>,
    backoff: Backoff,
    /// Whether it is a speculation rather than a `live` block: `live_retries()` looks past it.
    speculative: bool,
}

/// `backoff(base_ms, factor, max_ms)`; all zero when the block has none.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub base_ms: u64,
    pub factor: u64,
    pub max_ms: u64,
}

impl Backoff {
    /// The sleep before retry `k` (1 for the first retry): `min(max_ms, base_ms * factor^k)`.
    pub fn delay_ms(self, k: u32) -> u64 {
        let grown = self
            .factor
            .checked_pow(k)
            .and_then(|power| power.checked_mul(self.base_ms))
            .unwrap_or(u64::MAX);
        grown.min(self.max_ms)
    }
}

struct State {
    blocks: Vec<LiveRecord>,
    /// `file:line:col: kind: message` of the fault being recovered from.
    last_fault: Option<String>,
}

crate::per_thread! {
    static STATE: RefCell<State> = const {
        RefCell::new(State {
            blocks: Vec::new(),
            last_fault: None,
        })
    };
}

/// Runs `f` on this thread's recovery state (never re-entered: `f` calls nothing that uses it).
fn with_state<T>(f: impl FnOnce(&mut State) -> T) -> T {
    STATE.with(|state| f(&mut state.borrow_mut()))
}

/// The address of [`FAULT_PENDING`], for the JIT to bind [`FAULT_PENDING_SYMBOL`] to.
pub fn fault_pending_address() -> *const u8 {
    FAULT_PENDING.as_ptr().cast_const().cast()
}

/// Whether a fault is propagating to its `live` block.
pub fn fault_pending() -> bool {
    FAULT_PENDING.load(Ordering::Relaxed) != 0
}

/// Whether a `live` block is active, so that a fault is recorded rather than ending the process.
pub fn recovering() -> bool {
    with_state(|state| !state.blocks.is_empty())
}

/// Records the fault `text` (`file:line:col: kind: message`) for the active `live` block.
pub(crate) fn record(text: String) {
    with_state(|state| state.last_fault = Some(text));
    FAULT_PENDING.store(1, Ordering::Relaxed);
}

/// The text of the fault being recovered from, if any.
pub fn last_fault() -> Option<String> {
    with_state(|state| state.last_fault.clone())
}

/// Enters a `live` block: `within_ms < 0` means no `within`. The block has no backoff until
/// [`keel_live_backoff`] gives it one.
#[no_mangle]
pub extern "C" fn keel_live_enter(within_ms: i64) {
    let record = LiveRecord {
        retries: 0,
        started_ns: if within_ms >= 0 {
            crate::sys::monotonic_nanos()
        } else {
            0
        },
        within_ms: u64::try_from(within_ms).ok(),
        backoff: Backoff {
            base_ms: 0,
            factor: 0,
            max_ms: 0,
        },
        speculative: false,
    };
    with_state(|state| state.blocks.push(record));
}

/// Enters a speculation: until [`keel_live_exit`] or [`keel_speculate_abort`], a fault is
/// recorded and returned like one inside a `live` block.
#[no_mangle]
pub extern "C" fn keel_speculate_enter() {
    keel_live_enter(-1);
    with_state(|state| {
        if let Some(record) = state.blocks.last_mut() {
            record.speculative = true;
        }
    });
}

/// Leaves the innermost speculation after a fault in it: the fault is forgotten (its text and
/// the pending flag), because the slow path that follows raises it again.
#[no_mangle]
pub extern "C" fn keel_speculate_abort() {
    with_state(|state| {
        state.blocks.pop();
        state.last_fault = None;
    });
    FAULT_PENDING.store(0, Ordering::Relaxed);
}

/// Gives the `live` block just entered its `backoff(base_ms, factor, max_ms)` (negative values,
/// which the front end rejects, count as 0).
#[no_mangle]
pub extern "C" fn keel_live_backoff(base_ms: i64, factor: i64, max_ms: i64) {
    let ms = |value: i64| value.max(0) as u64;
    with_state(|state| {
        if let Some(block) = state.blocks.last_mut() {
            block.backoff = Backoff {
                base_ms: ms(base_ms),
                factor: ms(factor),
                max_ms: ms(max_ms),
            };
        }
    })
}

/// Leaves the innermost `live` block after its body (and invariant) succeeded.
#[no_mangle]
pub extern "C" fn keel_live_exit() {
    with_state(|state| state.blocks.pop());
}

/// `live_retries()`: the innermost block's failed attempts so far (0 outside any block).
#[no_mangle]
pub extern "C" fn keel_live_retries() -> i64 {
    with_state(|state| {
        let mut blocks = state.blocks.iter().rev();
        blocks
            .find(|block| !block.speculative)
            .map_or(0, |block| block.retries)
    })
}

/// Called by the recovery code of the innermost `live` block (at `site`, the `live` keyword)
/// with a fault pending. Either prepares the next attempt (counts it, sleeps the backoff, clears
/// the fault) and returns, or leaves the block and raises its own fault: after
/// [`MAX_ATTEMPTS`] failed attempts, or as a timeout when the next attempt could not start
/// within the block's `within`.
///
/// # Safety
/// `site` must point to `site_len` bytes of UTF-8.
#[no_mangle]
pub unsafe extern "C" fn keel_live_retry(site: *const u8, site_len: usize) {
    let verdict = with_state(|state| {
        let last = state.last_fault.take().unwrap_or_default();
        let Some(block) = state.blocks.last_mut() else {
            return Err(format!(
                "internal error: live_retry outside a live block; last fault: {last}"
            ));
        };
        let attempts = block.retries + 1;
        let delay = block.backoff.delay_ms(attempts.min(u32::MAX as i64) as u32);
        let timed_out = block.within_ms.is_some_and(|within| {
            let elapsed_ns = crate::sys::monotonic_nanos().saturating_sub(block.started_ns);
            elapsed_ns.saturating_add(delay.saturating_mul(1_000_000))
                > within.saturating_mul(1_000_000)
        });
        if attempts >= MAX_ATTEMPTS {
            state.blocks.pop();
            Err(format!(
                "live block failed after {MAX_ATTEMPTS} attempts; last fault: {last}"
            ))
        } else if timed_out {
            let within = block.within_ms.unwrap_or(0);
            state.blocks.pop();
            let tries = if attempts == 1 { "attempt" } else { "attempts" };
            Err(format!(
                "timeout: live block did not succeed within {within}ms ({attempts} {tries}); last fault: {last}"
            ))
        } else {
            block.retries = attempts;
            Ok(delay)
        }
    });
    FAULT_PENDING.store(0, Ordering::Relaxed);
    match verdict {
        Ok(delay) => {
            if delay > 0 {
                crate::output::flush_stdout();
                crate::sys::sleep_ms(delay);
            }
        }
        // SAFETY: forwarded from the caller.
        Err(message) => unsafe { crate::fault::fault_at(site, site_len, &message) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_saturates() {
        let backoff = Backoff {
            base_ms: 2,
            factor: 2,
            max_ms: 20,
        };
        assert_eq!(backoff.delay_ms(1), 4);
        assert_eq!(backoff.delay_ms(2), 8);
        assert_eq!(backoff.delay_ms(4), 20);
        assert_eq!(backoff.delay_ms(200), 20);
        let none = Backoff {
            base_ms: 0,
            factor: 0,
            max_ms: 0,
        };
        assert_eq!(none.delay_ms(1), 0);
    }

    /// Enter, fault, retry twice, fault a third time: the block gives up with its own fault,
    /// which an enclosing block records as one fault of its own.
    #[test]
    fn retries_count_and_exhaustion_escalates() {
        const SITE: &[u8] = b"t.kl:1:1";
        let (site, site_len) = (SITE.as_ptr(), SITE.len());
        assert!(!recovering());
        assert_eq!(keel_live_retries(), 0);
        keel_live_enter(-1); // outer
        keel_live_enter(-1); // inner
        for attempt in 0..3 {
            assert_eq!(keel_live_retries(), attempt);
            crate::fault::fault("t.kl:2:5", "division by zero: 1 / 0");
            assert!(fault_pending());
            // SAFETY: the site is a live byte string.
            unsafe { keel_live_retry(site, site_len) };
        }
        // The inner block gave up; its fault is pending for the outer one.
        assert!(fault_pending());
        assert_eq!(keel_live_retries(), 0);
        assert_eq!(
            last_fault().as_deref(),
            Some(
                "t.kl:1:1: live block failed after 3 attempts; last fault: t.kl:2:5: division by \
                 zero: 1 / 0"
            )
        );
        // SAFETY: as above.
        unsafe { keel_live_retry(site, site_len) };
        assert!(!fault_pending());
        assert_eq!(keel_live_retries(), 1);
        keel_live_exit();
        assert!(!recovering());
        // In the same test: the pending flag is one global, so tests of it cannot run in parallel.
        speculation_catches_and_forgets_a_fault();
    }

    /// A fault inside a speculation is recorded, and aborting forgets it; `live_retries()`
    /// looks through the speculation to the `live` block around it.
    fn speculation_catches_and_forgets_a_fault() {
        const SITE: &[u8] = b"t.kl:1:1";
        keel_live_enter(-1);
        crate::fault::fault("t.kl:2:5", "division by zero: 1 / 0");
        // SAFETY: the site is a live byte string.
        unsafe { keel_live_retry(SITE.as_ptr(), SITE.len()) };
        keel_speculate_enter();
        assert_eq!(keel_live_retries(), 1);
        crate::fault::fault("t.kl:3:5", "integer overflow: 1 + 1");
        assert!(fault_pending());
        keel_speculate_abort();
        assert!(!fault_pending());
        assert_eq!(last_fault(), None);
        assert!(recovering());
        keel_speculate_enter();
        keel_live_exit();
        keel_live_exit();
        assert!(!recovering());
    }
}
