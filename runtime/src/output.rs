//! Buffered program output: `print`, `println` and `eprintln` of every printable type.
//!
//! Standard output is buffered in this thread, in a fixed buffer (no heap: a fault report flushes
//! it, and must work when memory is exhausted), and written when the buffer fills, before
//! anything is written to standard error, and when the program ends, exits or faults
//! ([`flush_stdout`]). Standard error is written at once.
//!
//! **Write errors.** When standard output is a pipe whose reader has gone (`keel run p.kl |
//! head -1`), the program ends at once, quietly, with status 141: what a shell reports for a
//! program killed by SIGPIPE, the usual end of a command-line tool in a pipeline. Every backend
//! ignores the signal itself (native executables in `keel_init`, `keel` as any Rust program) and
//! sees the error instead, so all of them end the same way. Any other error writing standard
//! output (a full disk, a closed descriptor) is reported as `output error: cannot write standard
//! output: <reason>` and ends the program with status 1, since the output is lost. Errors
//! writing standard error are ignored: there is nowhere left to report them.
//!
//! The text of a float comes from `float`, that of arrays and structs from `value`; this module
//! only writes it.

use crate::fd::{write_all, StackLine, STDERR, STDOUT};
use crate::float::FloatText;
use crate::layout::ObjHeader;
use crate::prelude::*;
use crate::string::{as_bytes, StrHeader};
use crate::sys::Errno;
use core::cell::RefCell;

/// `flags` bit: write a newline after the value.
pub const PRINT_NEWLINE: u32 = 1;
/// `flags` bit: write to standard error instead of standard output.
pub const PRINT_STDERR: u32 = 2;

/// The bytes of standard output held before they are written.
const BUFFER_BYTES: usize = 32 * 1024;

/// The status of a program whose standard output was closed by its reader: 128 + SIGPIPE.
pub const BROKEN_PIPE_STATUS: i32 = 141;

/// Standard output not yet written.
struct Buffer {
    bytes: [u8; BUFFER_BYTES],
    len: usize,
}

impl Buffer {
    /// Adds `bytes`, writing out what is held first when they do not fit, and writing them
    /// directly when they could never fit.
    fn add(&mut self, bytes: &[u8]) -> Result<(), Errno> {
        if self.len + bytes.len() > BUFFER_BYTES {
            self.write_out()?;
            if bytes.len() > BUFFER_BYTES {
                return write_all(STDOUT, bytes);
            }
        }
        self.bytes[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
        Ok(())
    }

    fn write_out(&mut self) -> Result<(), Errno> {
        let held = self.len;
        // Emptied first: after an error the program ends, and nothing may be written twice.
        self.len = 0;
        if held == 0 {
            return Ok(());
        }
        write_all(STDOUT, &self.bytes[..held])
    }
}

crate::per_thread! {
    static STDOUT_BUF: RefCell<Buffer> = const {
        RefCell::new(Buffer {
            bytes: [0; BUFFER_BYTES],
            len: 0,
        })
    };
}

/// Writes everything buffered for standard output; a write error ends the program (see the
/// module documentation).
pub fn flush_stdout() {
    if let Err(error) = STDOUT_BUF.with(|buf| buf.borrow_mut().write_out()) {
        stdout_failed(error);
    }
}

/// Writes everything buffered for standard output before a fault is reported, ignoring write
/// errors: the fault is what the program's end is about.
pub(crate) fn flush_stdout_before_fault() {
    let _ = STDOUT_BUF.with(|buf| buf.try_borrow_mut().map(|mut buf| buf.write_out()));
}

/// Ends the program after a failed write to standard output.
#[cold]
fn stdout_failed(error: Errno) -> ! {
    const EPIPE: Errno = Errno(32);
    if error == EPIPE {
        crate::host::exit(BROKEN_PIPE_STATUS);
    }
    let mut line = StackLine::<256>::new(STDERR);
    line.push(b"output error: cannot write standard output: ");
    line.push(write_error_reason(Some(error.0)).as_bytes());
    line.push(b"\n");
    line.finish();
    crate::host::exit(1)
}

/// Why a write failed, in words that are the same on every machine (the C library's are not).
fn write_error_reason(errno: Option<i32>) -> &'static str {
    // Linux's numbers, the same on x86_64 and aarch64.
    match errno {
        Some(5) => "input/output error",
        Some(9) => "the descriptor is closed",
        Some(27) => "file too large",
        Some(28) => "no space left on device",
        Some(122) => "disk quota exceeded",
        _ => "write failed",
    }
}

fn emit(bytes: &[u8], flags: u32) {
    let newline = flags & PRINT_NEWLINE != 0;
    if flags & PRINT_STDERR != 0 {
        flush_stdout();
        let mut line = StackLine::<256>::new(STDERR);
        line.push(bytes);
        if newline {
            line.push(b"\n");
        }
        line.finish();
        return;
    }
    let written = STDOUT_BUF.with(|buf| {
        let mut buf = buf.borrow_mut();
        buf.add(bytes)?;
        if newline {
            buf.add(b"\n")?;
        }
        Ok(())
    });
    if let Err(error) = written {
        stdout_failed(error);
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

/// Prints an array, struct or map as `[1, 2, 3]`, `Point { x: 1, y: 2 }`, `{"a": 1}` (strings
/// inside quoted).
///
/// # Safety
/// `value` must be a live array, struct or map with a valid descriptor.
#[no_mangle]
pub unsafe extern "C" fn keel_print_value(value: *const ObjHeader, flags: u32) {
    let mut text = Vec::new();
    // SAFETY: the caller passes a live object.
    unsafe { crate::value::write_object(&mut text, value) };
    emit(&text, flags);
}

/// Formats `value` in decimal into `buf`, returning the used tail. Not inlined: every fault
/// report and `print` of an int shares this one copy.
#[inline(never)]
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
    use super::{format_int, write_error_reason};

    #[test]
    fn write_errors_have_fixed_reasons() {
        assert_eq!(write_error_reason(Some(28)), "no space left on device");
        assert_eq!(write_error_reason(Some(9)), "the descriptor is closed");
        assert_eq!(write_error_reason(None), "write failed");
    }

    #[test]
    fn formats_extremes() {
        for v in [0, 7, -7, 10, i64::MAX, i64::MIN, -1_000_000] {
            let mut buf = [0u8; 20];
            assert_eq!(format_int(v, &mut buf), v.to_string().as_bytes());
        }
    }
}
