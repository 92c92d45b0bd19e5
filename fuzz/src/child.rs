//! Runs a compiled program in a forked child process on a fuel budget, for the `pipeline` target.
//!
//! Why a child: a budgeted run (`keel::vm::budget`) always returns, but a run that does not end
//! normally (out of fuel, `exit`, a fault) abandons the heap values its frames owned, and a
//! fuzzer runs millions of programs; in-process they would pile up. The child also starts each
//! program from the same runtime state (output buffer, arguments, `live` records) whatever the
//! one before did. A child that ends in any way other than `_exit(0)` after its run is a crash:
//! the parent panics, so libFuzzer records the input. So is a run that finished normally but
//! left heap objects allocated (a leak, which the reference counting must never produce).
//!
//! Coverage: libFuzzer reads the inline 8-bit edge counters of this process (the
//! `__sancov_cntrs` section) after each input, and a child's counters are its own copy. So the
//! child copies its counters, when its run is over, into a shared anonymous mapping, and the
//! parent copies them back over its own before returning: libFuzzer then sees the edges the
//! program's run reached, as if it had run in-process. (The child's counters start as the
//! parent's, so nothing the parent counted before the fork is lost; what the parent's own code
//! counts while waiting is.) The comparison operands libFuzzer records for its mutations
//! (`-use_cmp`, `-use_value_profile`) are the parent's: the child's are lost with it.
//!
//! `KEEL_FUZZ_NO_FORK=1` runs the program in-process instead (for a debugger, when reproducing
//! one input; leaks and shared state as described above). `KEEL_FUZZ_VERBOSE=1` prints each
//! run's outcome to standard error.

use std::sync::OnceLock;

use keel::vm::budget::{run_budgeted, Outcome};
use keel::vm::Module;

extern "C" {
    // The bounds of the section of libFuzzer's inline 8-bit counters, defined by the linker
    // (every instrumented object file puts its counters there; cargo-fuzz always instruments).
    static mut __start___sancov_cntrs: u8;
    static mut __stop___sancov_cntrs: u8;
}

/// This process's edge counters: start and length.
fn counters() -> (*mut u8, usize) {
    // Only the addresses of the linker-defined symbols are taken (no `unsafe` needed): nothing
    // is read here.
    let (start, stop) = (
        &raw mut __start___sancov_cntrs,
        &raw mut __stop___sancov_cntrs,
    );
    (start, stop as usize - start as usize)
}

/// The shared mapping the child copies its counters into (as an address), made once.
fn shared_counters() -> usize {
    static SHARED: OnceLock<usize> = OnceLock::new();
    *SHARED.get_or_init(|| {
        let (_, len) = counters();
        // SAFETY: a fresh anonymous mapping; no existing memory is affected.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len.max(1),
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert!(
            map != libc::MAP_FAILED,
            "mmap for the coverage counters failed"
        );
        map as usize
    })
}

/// Runs `module` on `fuel` units in a child process (see the module documentation) and
/// returns when it is over; panics when the child crashed.
pub fn run(module: &Module, fuel: u64) {
    if std::env::var_os("KEEL_FUZZ_NO_FORK").is_some_and(|v| v == "1") {
        if let Err(leaked) = run_checked(module, fuel) {
            panic!("{leaked}");
        }
        return;
    }
    let shared = shared_counters() as *mut u8;
    let (counters, len) = counters();
    // SAFETY: `getpid` has no preconditions.
    let parent = unsafe { libc::getpid() };
    // SAFETY: the child only runs the program, copies memory and calls `_exit`; the only other
    // thread of this process (libFuzzer's memory watcher) holds no lock the child needs.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed: {}", std::io::Error::last_os_error());
    if pid == 0 {
        in_child(module, fuel, parent, shared, counters, len);
    }
    let mut status = 0;
    loop {
        // SAFETY: `pid` is our child and `status` a valid place for its status.
        let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
        if waited == pid {
            break;
        }
        let error = std::io::Error::last_os_error();
        // libFuzzer's timer interrupts the wait every second or so.
        assert!(
            error.kind() == std::io::ErrorKind::Interrupted,
            "waitpid failed: {error}"
        );
    }
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        // SAFETY: both ranges are `len` bytes, the mapping was made that large, and they do not
        // overlap; libFuzzer reads the counters only after this input returns.
        unsafe { std::ptr::copy_nonoverlapping(shared, counters, len) };
        return;
    }
    if libc::WIFSIGNALED(status) {
        panic!(
            "the program's run crashed the child process: signal {}",
            libc::WTERMSIG(status)
        );
    }
    if libc::WEXITSTATUS(status) == LEAKED_STATUS {
        panic!("the program's run leaked heap objects (see the child's report above)");
    }
    panic!(
        "the program's run crashed the child process: exit status {} (see its report above)",
        libc::WEXITSTATUS(status)
    );
}

/// The child's side of [`run`]: never returns.
fn in_child(
    module: &Module,
    fuel: u64,
    parent: libc::pid_t,
    shared: *mut u8,
    counters: *mut u8,
    len: usize,
) -> ! {
    // SAFETY: plain system calls on this process's own state; `/dev/null` is a valid C string.
    unsafe {
        // Die with the parent (libFuzzer ends it on a timeout, for instance). The signal comes
        // when the *thread* that forked ends: the pipeline target forks from the main thread,
        // which lives as long as the fuzzer.
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        if libc::getppid() != parent {
            libc::_exit(0);
        }
        // `input()` reads an empty standard input, whatever the fuzzer's is.
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY);
        if null >= 0 {
            libc::dup2(null, 0);
            libc::close(null);
        }
    }
    let status = match run_checked(module, fuel) {
        Ok(()) => 0,
        Err(leaked) => {
            eprintln!("keel-fuzz: {leaked}");
            LEAKED_STATUS
        }
    };
    if status != 0 {
        // SAFETY: `_exit` has no preconditions; see below for why not `exit`.
        unsafe { libc::_exit(status) }
    }
    // SAFETY: as in `run`; `_exit` skips the exit handlers, which belong to the parent (libFuzzer
    // would take an exit for a crash).
    unsafe {
        std::ptr::copy_nonoverlapping(counters, shared, len);
        libc::_exit(0)
    }
}

/// The status of a child whose program finished but left heap objects allocated.
const LEAKED_STATUS: i32 = 86;

/// Runs `module` on `fuel` units and checks what a run that finished left behind: every heap
/// object it allocated is freed (`keel_runtime::object::live_objects`, the count that
/// `KEEL_LEAK_CHECK=1` reads), as the reference counting guarantees for a program that ends
/// normally, `live` blocks that recovered from faults included. A run that stops early (out of
/// fuel, `exit`, a fault that leaves the program) abandons what its frames own, so only
/// finished runs are checked. `Err` says how many objects leaked.
fn run_checked(module: &Module, fuel: u64) -> Result<(), String> {
    let before = keel_runtime::object::live_objects();
    let outcome = run_budgeted(module, Vec::new(), fuel);
    report(&outcome);
    let leaked = keel_runtime::object::live_objects() - before;
    if outcome == Outcome::Finished && leaked != 0 {
        return Err(format!(
            "the program finished with {leaked} heap objects still live (a reference-counting bug)"
        ));
    }
    Ok(())
}

/// Prints `outcome` to standard error when `KEEL_FUZZ_VERBOSE=1`.
fn report(outcome: &Outcome) {
    if std::env::var_os("KEEL_FUZZ_VERBOSE").is_some_and(|v| v == "1") {
        eprintln!("keel-fuzz: run ended: {outcome:?}");
    }
}
