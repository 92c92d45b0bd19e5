//! Keel's runtime: the functions generated code calls, behind a C ABI, shared by every backend.
//!
//! The native executable links this crate as a static library built for its target; the JIT binds
//! the same functions in-process (see [`symbols`]); the bytecode VM calls them as Rust functions.
//! Because printing and fault reporting are written once, here, the three backends cannot drift
//! apart in what a program prints.
//!
//! The boundary carries only scalars and pointers: `int` is `i64`, `bool` is an `i64` holding 0 or 1,
//! a string is a pointer to a [`string::StrHeader`]. No function here unwinds: a Rust panic inside an
//! `extern "C"` function aborts the process rather than crossing generated code.
//!
//! What this crate does not do: it knows nothing of the IR, of source text or of Cranelift.

pub mod fault;
pub mod output;
pub mod process;
pub mod string;

pub use fault::{keel_fault_int, IntOp};
pub use output::{keel_print_bool, keel_print_int, keel_print_str, PRINT_NEWLINE, PRINT_STDERR};
pub use process::{keel_exit, keel_finish, keel_init};

/// Every runtime entry point generated code may call, by its symbol name, for the JIT to bind.
pub fn symbols() -> Vec<(&'static str, *const u8)> {
    vec![
        ("keel_init", keel_init as *const u8),
        ("keel_finish", keel_finish as *const u8),
        ("keel_exit", keel_exit as *const u8),
        ("keel_print_int", keel_print_int as *const u8),
        ("keel_print_bool", keel_print_bool as *const u8),
        ("keel_print_str", keel_print_str as *const u8),
        ("keel_fault_int", keel_fault_int as *const u8),
    ]
}
