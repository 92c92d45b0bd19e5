//! Process start and end: program arguments, normal completion and `exit(n)`.
//!
//! Every backend calls [`keel_init`] before the program body and [`keel_finish`] after it; `exit(n)`
//! calls [`keel_exit`], which flushes output and ends the process with status `n & 0xff`, as the
//! operating system reports it.

use std::cell::RefCell;
use std::ffi::{c_char, CStr};

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
    let mut args = Vec::new();
    for i in 1..argc.max(0) as usize {
        // SAFETY: the caller guarantees `argv[i]` is a valid C string for i < argc.
        let arg = unsafe { CStr::from_ptr(*argv.add(i)) };
        args.push(arg.to_string_lossy().into_owned());
    }
    set_args(args);
}

/// Records the program's arguments from Rust (the VM and JIT drivers).
pub fn set_args(args: Vec<String>) {
    ARGS.with(|a| *a.borrow_mut() = args);
}

/// The program's arguments, as recorded by [`keel_init`] or [`set_args`].
pub fn args() -> Vec<String> {
    ARGS.with(|a| a.borrow().clone())
}

/// Ends a program whose body ran to completion: flushes output and returns exit status 0.
#[no_mangle]
pub extern "C" fn keel_finish() -> i32 {
    flush_stdout();
    0
}

/// `exit(code)`: flushes output and ends the process.
#[no_mangle]
pub extern "C" fn keel_exit(code: i64) -> ! {
    flush_stdout();
    std::process::exit((code & 0xff) as i32)
}
