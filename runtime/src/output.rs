//! Buffered program output: `print`, `println` and `eprintln` of every printable type.
//!
//! Standard output is buffered in this thread and flushed when the buffer grows large, before
//! anything is written to standard error, and when the program ends, exits or faults
//! ([`flush_stdout`]). Standard error is written at once.
//!
//! The text of a float comes from `float`, that of arrays and structs from `value`; this module
//! only writes it.

use std::cell::RefCell;
use std::io::Write;

use crate::float::FloatText;
use crate::layout::ObjHeader;
use crate::string::{as_bytes, StrHeader};

/// `flags` bit: write a newline after the value.
pub const PRINT_NEWLINE: u32 = 1;
/// `flags` bit: write to standard error instead of standard output.
pub const PRINT_STDERR: u32 = 2;

const FLUSH_THRESHOLD: usize = 32 * 1024;

thread_local! {
    static STDOUT_BUF: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(FLUSH_THRESHOLD + 1024));
}

/// Writes everything buffered for standard output. Write errors (a closed pipe) are ignored.
pub fn flush_stdout() {
    STDOUT_BUF.with(|buf| {
        let mut buf = buf.borrow_mut();
        if !buf.is_empty() {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(&buf);
            let _ = out.flush();
            buf.clear();
        }
    });
}

fn emit(bytes: &[u8], flags: u32) {
    let newline = flags & PRINT_NEWLINE != 0;
    if flags & PRINT_STDERR != 0 {
        flush_stdout();
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(bytes);
        if newline {
            let _ = err.write_all(b"\n");
        }
        return;
    }
    let full = STDOUT_BUF.with(|buf| {
        let mut buf = buf.borrow_mut();
        buf.extend_from_slice(bytes);
        if newline {
            buf.push(b'\n');
        }
        buf.len() >= FLUSH_THRESHOLD
    });
    if full {
        flush_stdout();
    }
}

/// Prints an `int` in decimal.
#[no_mangle]
pub extern "C" fn keel_print_int(value: i64, flags: u32) {
    let mut digits = [0u8; 20];
    let text = format_int(value, &mut digits);
    emit(text, flags);
}

/// Prints a `bool` (0 or 1) as `false` or `true`.
#[no_mangle]
pub extern "C" fn keel_print_bool(value: i64, flags: u32) {
    emit(if value != 0 { b"true" } else { b"false" }, flags);
}

/// Prints a string's raw text.
///
/// # Safety
/// `s` must be a valid Keel string value.
#[no_mangle]
pub unsafe extern "C" fn keel_print_str(s: *const StrHeader, flags: u32) {
    // SAFETY: the caller passes a live string object.
    let text = unsafe { as_bytes(s) };
    emit(text, flags);
}

/// Prints a `float` by the float text rule (`3.0`, `0.1`, `1e300`, `NaN`, `-inf`).
#[no_mangle]
pub extern "C" fn keel_print_float(value: f64, flags: u32) {
    emit(FloatText::new(value).as_bytes(), flags);
}

/// Prints an array or struct as `[1, 2, 3]`, `Point { x: 1, y: 2 }` (strings inside quoted).
///
/// # Safety
/// `value` must be a live array or struct with a valid descriptor.
#[no_mangle]
pub unsafe extern "C" fn keel_print_value(value: *const ObjHeader, flags: u32) {
    let mut text = Vec::new();
    // SAFETY: the caller passes a live object.
    unsafe { crate::value::write_object(&mut text, value) };
    emit(&text, flags);
}

/// Formats `value` in decimal into `buf`, returning the used tail.
pub(crate) fn format_int(value: i64, buf: &mut [u8; 20]) -> &[u8] {
    let negative = value < 0;
    let mut magnitude = value.unsigned_abs();
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b'0' + (magnitude % 10) as u8;
        magnitude /= 10;
        if magnitude == 0 {
            break;
        }
    }
    if negative {
        // 20 bytes hold 19 digits and a sign: i64::MIN has 19 digits.
        start -= 1;
        buf[start] = b'-';
    }
    &buf[start..]
}

#[cfg(test)]
mod tests {
    use super::format_int;

    #[test]
    fn formats_extremes() {
        for v in [0, 7, -7, 10, i64::MAX, i64::MIN, -1_000_000] {
            let mut buf = [0u8; 20];
            assert_eq!(format_int(v, &mut buf), v.to_string().as_bytes());
        }
    }
}
