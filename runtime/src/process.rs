//! Process start and end: program arguments, normal completion and `exit(n)`.
//!
//! Every backend calls [`keel_init`] before the program body and [`keel_finish`] after it; `exit(n)`
//! calls [`keel_exit`], which flushes output and ends the process with status `n & 0xff`, as the
//! operating system reports it.
//!
//! **Leak check:** with `KEEL_LEAK_CHECK=1` in the environment, [`keel_finish`] prints
//! `leak check: N objects still live` to standard error and returns 1 when heap objects allocated
//! on this thread are still live (`exit` and faults end the process without checking). Faults
//! that `live` blocks recovered from are checked like everything else: the frames they leave
//! release what they own.

use std::cell::RefCell;
use std::ffi::{c_char, CStr};
use std::io::Write;
use std::sync::atomic::{AtomicI32, Ordering};

use crate::output::flush_stdout;

thread_local! {
    static ARGS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Records the program's arguments (`argv[1..]`; `argv[0]` is the executable).
///
/// # Safety
/// `argv` must hold `argc` valid NUL-terminated strings (or `argc` must be 0).
#[no_mangle]
pub unsafe extern "C" fn keel_init(argc: i32, argv: *const *const c_char) {
    ignore_sigpipe();
    let mut args = Vec::new();
    for i in 1..argc.max(0) as usize {
        // SAFETY: the caller guarantees `argv[i]` is a valid C string for i < argc.
        let arg = unsafe { CStr::from_ptr(*argv.add(i)) };
        args.push(arg_text(arg.to_bytes()));
    }
    set_args(args);
}

/// Makes a write to a closed pipe fail with `EPIPE` instead of killing the process, as in every
/// Rust program (`keel` included), so that `output` ends native executables the way it ends the
/// VM and the JIT.
fn ignore_sigpipe() {
    const SIGPIPE: i32 = 13;
    const SIG_IGN: usize = 1;
    extern "C" {
        fn signal(signum: i32, handler: usize) -> usize;
    }
    // SAFETY: setting a signal's disposition to "ignore" has no preconditions.
    unsafe { signal(SIGPIPE, SIG_IGN) };
}

/// One argument as the program sees it: its bytes as UTF-8, each invalid sequence replaced by
/// U+FFFD, on every backend.
pub fn arg_text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The arguments `keel run` received for the program, as [`arg_text`] makes them.
pub fn args_from_os(args: &[std::ffi::OsString]) -> Vec<String> {
    use std::os::unix::ffi::OsStrExt;
    args.iter().map(|arg| arg_text(arg.as_bytes())).collect()
}

/// Records the program's arguments from Rust (the VM and JIT drivers). Called as a program
/// starts on every backend (native executables through [`keel_init`]), it also empties the
/// `static let` slots a program run before on this thread may have left (`statics`).
pub fn set_args(args: Vec<String>) {
    crate::statics::clear();
    ARGS.with(|a| *a.borrow_mut() = args);
}

/// The program's arguments, as recorded by [`keel_init`] or [`set_args`].
pub fn args() -> Vec<String> {
    ARGS.with(|a| a.borrow().clone())
}

/// The environment variable that turns the leak check on (with the value `1`).
pub const LEAK_CHECK_VAR: &str = "KEEL_LEAK_CHECK";

/// Ends a program whose body ran to completion: flushes output and returns exit status 0, or 1
/// when the leak check is on and finds live objects.
#[no_mangle]
pub extern "C" fn keel_finish() -> i32 {
    flush_stdout();
    // What the program's statics hold is not a leak.
    crate::statics::clear();
    let leak_check = std::env::var_os(LEAK_CHECK_VAR).is_some_and(|value| value == "1");
    if leak_check {
        if let Some(report) = leak_report(crate::object::live_objects()) {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{report}");
            let _ = err.flush();
            return 1;
        }
    }
    0
}

/// What the leak check reports for `live` objects still allocated (nothing when there are none).
pub fn leak_report(live: i64) -> Option<String> {
    (live != 0).then(|| format!("leak check: {live} objects still live"))
}

/// `exit(code)`: flushes output and ends the process (first telling the descriptor given to
/// [`notify_exit_on`], if any).
#[no_mangle]
pub extern "C" fn keel_exit(code: i64) -> ! {
    flush_stdout();
    let status = (code & 0xff) as i32;
    let notice = EXIT_NOTICE.load(Ordering::Relaxed);
    if notice >= 0 {
        let _ = crate::fd::write_all(notice, &[EXIT_NOTICE_BYTE, status as u8]);
    }
    std::process::exit(status)
}

/// The file descriptor [`keel_exit`] tells of the program's `exit`, or -1.
static EXIT_NOTICE: AtomicI32 = AtomicI32::new(-1);

/// What [`keel_exit`] writes to the descriptor of [`notify_exit_on`], followed by the status.
pub const EXIT_NOTICE_BYTE: u8 = b'x';

/// Makes `exit(n)` write [`EXIT_NOTICE_BYTE`] and the status byte to `fd` before the process
/// ends, so that a REPL running an entry in a child process tells a program's `exit` from a
/// fault, which also ends the process with a status. -1 turns it off.
pub fn notify_exit_on(fd: i32) {
    EXIT_NOTICE.store(fd, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With `KEEL_LEAK_CHECK=1`, `keel_finish` reports live objects and returns 1; without it, or
    /// with nothing live, it returns 0.
    #[test]
    fn finish_runs_the_leak_check() {
        use crate::test_support::{in_child, scenario};

        const TEST: &str = "process::tests::finish_runs_the_leak_check";
        if let Some(case) = scenario() {
            let s = crate::string::new_string(b"kept");
            if case == "clean" {
                // SAFETY: `s` is owned here and released once.
                unsafe { crate::object::release(s.cast()) };
            }
            std::process::exit(keel_finish());
        }
        let leak = [(LEAK_CHECK_VAR, "1")];
        let output = in_child(TEST, "leak", b"", &leak);
        assert_eq!(output.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("leak check: 1 objects still live\n"),
            "{stderr}"
        );
        assert_eq!(in_child(TEST, "clean", b"", &leak).status.code(), Some(0));
        assert_eq!(in_child(TEST, "leak", b"", &[]).status.code(), Some(0));
    }

    #[test]
    fn leak_report_counts_objects() {
        assert_eq!(leak_report(0), None);
        assert_eq!(
            leak_report(3).as_deref(),
            Some("leak check: 3 objects still live")
        );
    }
}
