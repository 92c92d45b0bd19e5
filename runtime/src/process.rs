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

use core::cell::RefCell;
use core::ffi::{c_char, CStr};
use core::sync::atomic::{AtomicI32, Ordering};

use crate::output::flush_stdout;
use crate::prelude::*;

/// The program's arguments: as the VM and JIT drivers give them, or as a native executable's
/// `main` received them, turned into text only when the program asks for them (so a program
/// that never calls `args()` does not carry the conversion).
enum Args {
    Given(Vec<String>),
    /// `argc` and `argv` of `main`, which live as long as the process.
    Raw(usize, *const *const c_char),
}

crate::per_thread! {
    static ARGS: RefCell<Args> = const { RefCell::new(Args::Given(Vec::new())) };
}

/// Records the program's arguments (`argv[1..]`; `argv[0]` is the executable).
///
/// # Safety
/// `argv` must hold `argc` valid NUL-terminated strings that outlive the program (or `argc`
/// must be 0).
#[no_mangle]
pub unsafe extern "C" fn keel_init(argc: i32, argv: *const *const c_char) {
    crate::sys::ignore_sigpipe();
    let before = ARGS.with(|a| a.replace(Args::Raw(argc.max(0) as usize, argv)));
    // What a native executable's `main` replaces is the empty initial list, which owns no
    // memory: not dropping it keeps the code that frees a list of strings out of programs that
    // never make one.
    core::mem::forget(before);
}

/// One argument as the program sees it: its bytes as UTF-8, each invalid sequence replaced by
/// U+FFFD, on every backend.
pub fn arg_text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The arguments `keel run` received for the program, as [`arg_text`] makes them.
#[cfg(not(feature = "freestanding"))]
pub fn args_from_os(args: &[std::ffi::OsString]) -> Vec<String> {
    use std::os::unix::ffi::OsStrExt;
    args.iter().map(|arg| arg_text(arg.as_bytes())).collect()
}

/// Records the program's arguments from Rust (the VM and JIT drivers). Called as a program
/// starts on those backends, it also empties the `static let` slots a program run before on
/// this thread may have left (`statics`); a native executable's process starts with none.
pub fn set_args(args: Vec<String>) {
    crate::statics::clear();
    ARGS.with(|a| *a.borrow_mut() = Args::Given(args));
}

/// The program's arguments, as recorded by [`keel_init`] or [`set_args`].
pub fn args() -> Vec<String> {
    ARGS.with(|a| {
        let mut args = a.borrow_mut();
        if let Args::Raw(argc, argv) = *args {
            let texts = (1..argc)
                .map(|i| {
                    // SAFETY: `keel_init`'s caller guarantees `argv[i]` is a valid C string
                    // for i < argc, alive as long as the process.
                    arg_text(unsafe { CStr::from_ptr(*argv.add(i)) }.to_bytes())
                })
                .collect();
            *args = Args::Given(texts);
        }
        match &*args {
            Args::Given(texts) => texts.clone(),
            Args::Raw(..) => Vec::new(),
        }
    })
}

/// The environment variable that turns the leak check on (with the value `1`).
pub const LEAK_CHECK_VAR: &str = "KEEL_LEAK_CHECK";

/// Ends a program whose body ran to completion: flushes output and returns exit status 0, or 1
/// when the leak check is on and finds live objects.
#[no_mangle]
pub extern "C" fn keel_finish() -> i32 {
    flush_stdout();
    // What the program's statics hold is not a leak.
    crate::statics::clear_if_set();
    let leak_check = crate::host::env_var(LEAK_CHECK_VAR).is_some_and(|value| value == b"1");
    if leak_check {
        if let Some(report) = leak_report(crate::object::live_objects()) {
            let _ = crate::fd::write_all(crate::fd::STDERR, (report + "\n").as_bytes());
            return 1;
        }
    }
    0
}

/// What the leak check reports for `live` objects still allocated (nothing when there are none).
pub fn leak_report(live: i64) -> Option<String> {
    (live != 0).then(|| {
        crate::text::Text::new()
            .str("leak check: ")
            .int(live)
            .str(" objects still live")
            .take()
    })
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
    crate::host::exit(status)
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
