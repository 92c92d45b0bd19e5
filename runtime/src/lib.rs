//! Keel's runtime: the functions generated code calls, behind a C ABI, shared by every backend.
//!
//! The native executable links this crate as a static library built for its target; the JIT binds
//! the same functions in-process (see [`symbols`]); the bytecode VM calls them as Rust functions.
//! Because printing, formatting, the value library and fault reporting are written once, here, the
//! three backends cannot drift apart in what a program does.
//!
//! The boundary carries only scalars and pointers: `int` is `i64`, `float` is `f64`, `bool` is an
//! `i64` holding 0 or 1, strings, arrays and structs are pointers to heap objects laid out as
//! [`layout`] describes, with type descriptors from [`desc`]; maps and sets are pointers to
//! objects whose header alone is public (the rest is [`map`]'s). Ownership follows docs/values.md:
//! arguments are borrowed unless a function says it consumes them; results are owned. No function
//! here unwinds: a Rust panic inside an `extern "C"` function aborts the process rather than
//! crossing generated code.
//!
//! Modules: [`allocator`] (out of memory is a fault, not an abort), [`layout`] (object layout constants), [`desc`] (type descriptors), [`object`]
//! (allocation, reference counting, copy-on-write), [`pool`] (the memory of small objects), [`string`] and [`string_ops`],
//! [`array`](mod@array), [`map`] (maps and sets),
//! [`value`] (deep equality and printed text), [`float`] (float text),
//! [`math`], [`parse`], [`system`] (input, arguments, clock), [`output`], [`fault`], [`fd`]
//! (writes that need no heap), [`recover`]
//! (`live` blocks, the pending-fault flag), [`process`] (start, end, leak check), [`session`]
//! (what a REPL session keeps between entries), [`stack`] (call
//! depth limit, the body's stack, stack overflow), [`own_stack`] (running on a mapped stack).
//!
//! **Two builds, one source.** Hosted (the default), the runtime uses Rust's standard library
//! for per-thread state and for the few things `host` lists; that build is linked into `keel`
//! (the JIT and the VM) and into executables built with `--libc`. With the feature
//! `freestanding` it is `#![no_std]`, for executables with no C library: its own entry point and
//! memory functions ([`freestanding`](mod@freestanding)), its own heap on `mmap` ([`heap`]),
//! one thread. Both make their system calls through [`sys`], and compute floats with the
//! `libm` crate, so a program does the same in either.
//!
//! What this crate does not do: it knows nothing of the IR, of source text or of Cranelift, and it
//! depends on no crate but `libm`.

#![cfg_attr(feature = "freestanding", no_std)]

extern crate alloc;

/// What modules use from `alloc`, which the standard library's prelude gives hosted builds.
mod prelude {
    pub use alloc::borrow::ToOwned;
    pub use alloc::boxed::Box;
    pub use alloc::format;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec;
    pub use alloc::vec::Vec;
}

pub mod allocator;
pub mod array;
pub mod desc;
pub mod fault;
pub mod fd;
pub mod files;
pub mod float;
#[cfg(feature = "freestanding")]
pub mod freestanding;
#[cfg(any(feature = "freestanding", test))]
pub mod heap;
pub mod host;
pub mod json;
pub mod layout;
pub mod map;
pub mod math;
pub mod object;
pub mod output;
pub mod own_stack;
pub mod parse;
pub mod pool;
pub mod process;
pub mod recover;
pub mod session;
pub mod stack;
pub mod statics;
pub mod string;
pub mod string_ops;
pub mod sys;
pub mod system;
#[cfg(test)]
mod test_support;
pub mod text;
pub mod value;

pub use array::{
    keel_array_alloc, keel_array_concat, keel_array_contains, keel_array_fill, keel_array_index_of,
    keel_array_pop, keel_array_push, keel_array_reverse, keel_array_slice, keel_array_sort,
};
pub use array::{keel_array_insert_at, keel_array_remove_at, keel_array_set_at, keel_array_swap};
pub use desc::{FieldDesc, TypeDesc};
pub use fault::{
    keel_fault, keel_fault_at, keel_fault_bounds, keel_fault_int, keel_fault_to_int, IntOp,
};
pub use files::{
    keel_env_var, keel_file_append, keel_file_exists, keel_file_read, keel_file_remove,
    keel_file_write, keel_io_error, keel_read_line, keel_sleep_ms,
};
pub use map::{
    keel_map_find, keel_map_insert, keel_map_key, keel_map_keys, keel_map_len, keel_map_new,
    keel_map_remove, keel_map_sort, keel_map_value, keel_map_values,
};
pub use math::{
    keel_float_abs, keel_float_atan2, keel_float_ceil, keel_float_cos, keel_float_exp,
    keel_float_floor, keel_float_ln, keel_float_max, keel_float_min, keel_float_pow,
    keel_float_round, keel_float_sin, keel_float_sqrt, keel_float_tan, keel_int_abs, keel_int_max,
    keel_int_min, keel_int_pow,
};
pub use math::{keel_float_math, keel_float_math2, keel_int_bits, keel_int_math};
pub use object::{
    keel_free, keel_free_shell, keel_make_unique, keel_release, keel_retain, keel_struct_alloc,
    live_objects,
};
pub use output::{
    keel_print_bool, keel_print_float, keel_print_int, keel_print_str, keel_print_value,
    PRINT_NEWLINE, PRINT_STDERR,
};
pub use parse::{keel_parse_float, keel_parse_float_error, keel_parse_int, keel_parse_int_error};
pub use process::{keel_exit, keel_finish, keel_init};
pub use recover::{
    keel_live_backoff, keel_live_enter, keel_live_exit, keel_live_retries, keel_live_retry,
    keel_speculate_abort, keel_speculate_enter,
};
pub use stack::{keel_fault_stack_overflow, keel_run_main, stack_units, MAX_STACK_UNITS};
pub use string::{
    keel_str_cmp, keel_str_concat, keel_str_eq, keel_str_from_bool, keel_str_from_float,
    keel_str_from_int, keel_str_len,
};
pub use string_ops::{
    keel_str_bytes, keel_str_chr, keel_str_ord, keel_str_to_bytes, keel_str_words,
};
pub use string_ops::{
    keel_str_char_at, keel_str_contains, keel_str_ends_with, keel_str_index_of, keel_str_join,
    keel_str_replace, keel_str_split, keel_str_starts_with, keel_str_substring, keel_str_to_lower,
    keel_str_to_upper, keel_str_trim,
};
pub use system::{keel_args, keel_clock_ms, keel_input};
pub use value::{keel_value_eq, keel_value_to_str};

use prelude::*;

/// Every runtime entry point generated code may call, by its symbol name, for the JIT to bind.
pub fn symbols() -> Vec<(&'static str, *const u8)> {
    vec![
        // process, output, faults
        ("keel_init", keel_init as *const u8),
        ("keel_finish", keel_finish as *const u8),
        ("keel_exit", keel_exit as *const u8),
        ("keel_print_int", keel_print_int as *const u8),
        ("keel_print_bool", keel_print_bool as *const u8),
        ("keel_print_str", keel_print_str as *const u8),
        ("keel_print_float", keel_print_float as *const u8),
        ("keel_print_value", keel_print_value as *const u8),
        ("keel_fault_int", keel_fault_int as *const u8),
        ("keel_fault_bounds", keel_fault_bounds as *const u8),
        ("keel_fault_to_int", keel_fault_to_int as *const u8),
        ("keel_fault", keel_fault as *const u8),
        ("keel_fault_at", keel_fault_at as *const u8),
        (
            "keel_static_is_set",
            statics::keel_static_is_set as *const u8,
        ),
        ("keel_static_get", statics::keel_static_get as *const u8),
        ("keel_static_set", statics::keel_static_set as *const u8),
        ("keel_session_get", session::keel_session_get as *const u8),
        ("keel_session_set", session::keel_session_set as *const u8),
        ("keel_live_enter", keel_live_enter as *const u8),
        ("keel_live_backoff", keel_live_backoff as *const u8),
        ("keel_live_exit", keel_live_exit as *const u8),
        ("keel_live_retry", keel_live_retry as *const u8),
        ("keel_live_retries", keel_live_retries as *const u8),
        ("keel_speculate_enter", keel_speculate_enter as *const u8),
        ("keel_speculate_abort", keel_speculate_abort as *const u8),
        (
            "keel_fault_stack_overflow",
            keel_fault_stack_overflow as *const u8,
        ),
        ("keel_run_main", keel_run_main as *const u8),
        // objects
        ("keel_free", keel_free as *const u8),
        ("keel_free_shell", keel_free_shell as *const u8),
        ("keel_retain", keel_retain as *const u8),
        ("keel_release", keel_release as *const u8),
        ("keel_make_unique", keel_make_unique as *const u8),
        ("keel_array_alloc", keel_array_alloc as *const u8),
        ("keel_struct_alloc", keel_struct_alloc as *const u8),
        // strings
        ("keel_str_concat", keel_str_concat as *const u8),
        ("keel_str_eq", keel_str_eq as *const u8),
        ("keel_str_cmp", keel_str_cmp as *const u8),
        ("keel_str_len", keel_str_len as *const u8),
        ("keel_str_from_int", keel_str_from_int as *const u8),
        ("keel_str_from_float", keel_str_from_float as *const u8),
        ("keel_str_from_bool", keel_str_from_bool as *const u8),
        ("keel_value_to_str", keel_value_to_str as *const u8),
        ("keel_str_split", keel_str_split as *const u8),
        ("keel_str_words", keel_str_words as *const u8),
        ("keel_str_bytes", keel_str_bytes as *const u8),
        ("keel_json_encode", json::keel_json_encode as *const u8),
        ("keel_str_to_bytes", keel_str_to_bytes as *const u8),
        ("keel_str_trim", keel_str_trim as *const u8),
        ("keel_str_to_upper", keel_str_to_upper as *const u8),
        ("keel_str_to_lower", keel_str_to_lower as *const u8),
        ("keel_str_contains", keel_str_contains as *const u8),
        ("keel_str_starts_with", keel_str_starts_with as *const u8),
        ("keel_str_ends_with", keel_str_ends_with as *const u8),
        ("keel_str_replace", keel_str_replace as *const u8),
        ("keel_str_substring", keel_str_substring as *const u8),
        ("keel_str_char_at", keel_str_char_at as *const u8),
        ("keel_str_index_of", keel_str_index_of as *const u8),
        ("keel_str_join", keel_str_join as *const u8),
        ("keel_parse_int", keel_parse_int as *const u8),
        ("keel_parse_float", keel_parse_float as *const u8),
        ("keel_parse_int_error", keel_parse_int_error as *const u8),
        (
            "keel_parse_float_error",
            keel_parse_float_error as *const u8,
        ),
        ("keel_input", keel_input as *const u8),
        ("keel_args", keel_args as *const u8),
        ("keel_file_read", keel_file_read as *const u8),
        ("keel_file_write", keel_file_write as *const u8),
        ("keel_file_append", keel_file_append as *const u8),
        ("keel_file_exists", keel_file_exists as *const u8),
        ("keel_file_remove", keel_file_remove as *const u8),
        ("keel_env_var", keel_env_var as *const u8),
        ("keel_read_line", keel_read_line as *const u8),
        ("keel_io_error", keel_io_error as *const u8),
        ("keel_sleep_ms", keel_sleep_ms as *const u8),
        // arrays and values
        ("keel_array_push", keel_array_push as *const u8),
        ("keel_array_insert_at", keel_array_insert_at as *const u8),
        ("keel_array_remove_at", keel_array_remove_at as *const u8),
        ("keel_array_swap", keel_array_swap as *const u8),
        ("keel_array_set_at", keel_array_set_at as *const u8),
        ("keel_int_math", keel_int_math as *const u8),
        ("keel_array_pop", keel_array_pop as *const u8),
        ("keel_array_slice", keel_array_slice as *const u8),
        ("keel_array_concat", keel_array_concat as *const u8),
        ("keel_array_reverse", keel_array_reverse as *const u8),
        ("keel_array_sort", keel_array_sort as *const u8),
        ("keel_array_contains", keel_array_contains as *const u8),
        ("keel_array_index_of", keel_array_index_of as *const u8),
        ("keel_array_fill", keel_array_fill as *const u8),
        ("keel_value_eq", keel_value_eq as *const u8),
        // maps and sets
        ("keel_map_new", keel_map_new as *const u8),
        ("keel_map_insert", keel_map_insert as *const u8),
        ("keel_map_remove", keel_map_remove as *const u8),
        ("keel_map_find", keel_map_find as *const u8),
        ("keel_map_key", keel_map_key as *const u8),
        ("keel_map_value", keel_map_value as *const u8),
        ("keel_map_sort", keel_map_sort as *const u8),
        ("keel_map_len", keel_map_len as *const u8),
        ("keel_map_keys", keel_map_keys as *const u8),
        ("keel_map_values", keel_map_values as *const u8),
        // numbers and time
        ("keel_int_pow", keel_int_pow as *const u8),
        ("keel_int_abs", keel_int_abs as *const u8),
        ("keel_int_min", keel_int_min as *const u8),
        ("keel_int_max", keel_int_max as *const u8),
        ("keel_float_abs", keel_float_abs as *const u8),
        ("keel_float_sqrt", keel_float_sqrt as *const u8),
        ("keel_float_floor", keel_float_floor as *const u8),
        ("keel_float_ceil", keel_float_ceil as *const u8),
        ("keel_float_round", keel_float_round as *const u8),
        ("keel_float_sin", keel_float_sin as *const u8),
        ("keel_float_cos", keel_float_cos as *const u8),
        ("keel_float_tan", keel_float_tan as *const u8),
        ("keel_float_exp", keel_float_exp as *const u8),
        ("keel_float_ln", keel_float_ln as *const u8),
        ("keel_float_min", keel_float_min as *const u8),
        ("keel_float_max", keel_float_max as *const u8),
        ("keel_float_pow", keel_float_pow as *const u8),
        ("keel_float_atan2", keel_float_atan2 as *const u8),
        ("keel_float_math", keel_float_math as *const u8),
        ("keel_str_chr", keel_str_chr as *const u8),
        ("keel_str_ord", keel_str_ord as *const u8),
        ("keel_float_math2", keel_float_math2 as *const u8),
        ("keel_int_bits", keel_int_bits as *const u8),
        ("keel_clock_ms", keel_clock_ms as *const u8),
    ]
}

#[cfg(test)]
mod tests {
    use super::symbols;

    #[test]
    fn symbol_names_are_unique() {
        let mut names: Vec<&str> = symbols().into_iter().map(|(name, _)| name).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
    }
}
