//! Runtime faults: the message a failing check prints, and the end of the process.
//!
//! Outside `live` blocks a fault prints `file:line:col: <kind>: <message>` to standard error and
//! ends the process with status 1, after flushing standard output. Inside one (see `recover`) the
//! fault is recorded and the raising function *returns*; its caller must then test the pending
//! flag and propagate. Stack overflow and out of memory are [`fatal`]: they end the process even
//! inside a `live` block. Generated code calls these functions only on the cold path, after its
//! own inline check failed; the check itself never calls into the runtime.
//!
//! The messages of faults raised inside runtime functions (bounds of strings, `parse_int`, `pow`,
//! ...) are written where they are detected; this module formats the ones generated code reports
//! itself ([`keel_fault_int`], [`keel_fault_bounds`], [`keel_fault_to_int`]).
//!
//! [`keel_fault`] raises a fault whose whole text generated code supplies (failed `assert`,
//! contracts, `invariant`). Stack overflow is in `stack`; the `live` block state in `recover`.

use crate::fd::{StackLine, STDERR};
use crate::output::flush_stdout_before_fault;
use crate::prelude::*;
use crate::text::Text;

/// The integer operation whose check failed, as passed to [`keel_fault_int`].
#[repr(u32)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum IntOp {
    Add = 0,
    Sub = 1,
    Mul = 2,
    Div = 3,
    Rem = 4,
    Neg = 5,
    Shl = 6,
    Shr = 7,
}

impl IntOp {
    fn from_code(code: u32) -> Option<IntOp> {
        Some(match code {
            0 => IntOp::Add,
            1 => IntOp::Sub,
            2 => IntOp::Mul,
            3 => IntOp::Div,
            4 => IntOp::Rem,
            5 => IntOp::Neg,
            6 => IntOp::Shl,
            7 => IntOp::Shr,
            _ => return None,
        })
    }

    fn symbol(self) -> &'static str {
        match self {
            IntOp::Add => "+",
            IntOp::Sub => "-",
            IntOp::Mul => "*",
            IntOp::Div => "/",
            IntOp::Rem => "%",
            IntOp::Neg => "-",
            IntOp::Shl => "<<",
            IntOp::Shr => ">>",
        }
    }
}

/// The `<kind>: <message>` part of an integer fault's report (`b` is ignored for `Neg`).
pub fn int_fault_message(op: IntOp, a: i64, b: i64) -> String {
    let mut text = Text::new();
    if op == IntOp::Neg {
        return text
            .str("integer overflow: -(")
            .int(a)
            .str(") does not fit in int")
            .take();
    }
    let by_zero = matches!(op, IntOp::Div | IntOp::Rem) && b == 0;
    text.str(if by_zero {
        "division by zero: "
    } else {
        "integer overflow: "
    })
    .int(a)
    .str(" ")
    .str(op.symbol())
    .str(" ")
    .int(b)
    .str(match op {
        _ if by_zero => "",
        IntOp::Shl | IntOp::Shr => ": shift amount must be in 0..64",
        _ => " does not fit in int",
    })
    .take()
}

/// Reports a failed integer check at `site` (the text `file:line:col`): ends the process, or
/// records the fault and returns inside a `live` block.
///
/// # Safety
/// `site` must point to `site_len` bytes of UTF-8.
#[no_mangle]
pub unsafe extern "C" fn keel_fault_int(site: *const u8, site_len: usize, op: u32, a: i64, b: i64) {
    let message = match IntOp::from_code(op) {
        Some(op) => int_fault_message(op, a, b),
        None => Text::new()
            .str("internal error: unknown integer operation ")
            .uint(u64::from(op))
            .take(),
    };
    // SAFETY: the caller passes a valid site.
    unsafe { fault_at(site, site_len, &message) }
}

/// What [`index_message`] and [`slice_message`] say an array is.
pub const OF_ARRAY: &str = "an array";
/// What [`index_message`] and [`slice_message`] say a string is.
pub const OF_STRING: &str = "a string";

/// The message of `index` out of bounds for a container (`of`: [`OF_ARRAY`] or [`OF_STRING`]) of
/// length `len`.
pub fn index_message(index: i64, len: i64, of: &str) -> String {
    Text::new()
        .str("index out of bounds: index ")
        .int(index)
        .str(" is out of range for ")
        .str(of)
        .str(" of length ")
        .int(len)
        .take()
}

/// The message of the slice `i..j` out of bounds for a container of length `len`.
pub fn slice_message(i: i64, j: i64, len: i64, of: &str) -> String {
    Text::new()
        .str("index out of bounds: slice ")
        .int(i)
        .str("..")
        .int(j)
        .str(" is out of range for ")
        .str(of)
        .str(" of length ")
        .int(len)
        .take()
}

/// The message of an array index out of bounds.
pub fn bounds_message(index: i64, len: i64) -> String {
    index_message(index, len, OF_ARRAY)
}

/// Reports `array[index]` out of bounds for an array of length `len` at `site` (ends the process
/// or, inside a `live` block, records the fault and returns).
///
/// # Safety
/// `site` must point to `site_len` bytes of UTF-8.
#[no_mangle]
pub unsafe extern "C" fn keel_fault_bounds(site: *const u8, site_len: usize, index: i64, len: i64) {
    // SAFETY: the caller passes a valid site.
    unsafe { fault_at(site, site_len, &bounds_message(index, len)) }
}

/// The message of a failed `to_int(value)`.
pub fn to_int_message(value: f64) -> String {
    let text = crate::float::FloatText::new(value);
    if value.is_nan() {
        format!("invalid conversion: to_int({text}) is not a number")
    } else {
        format!("invalid conversion: to_int({text}) is out of range for int")
    }
}

/// Reports a failed `to_int(value)` (NaN, infinite or out of range) at `site` (ends the process
/// or, inside a `live` block, records the fault and returns).
///
/// # Safety
/// `site` must point to `site_len` bytes of UTF-8.
#[no_mangle]
pub unsafe extern "C" fn keel_fault_to_int(site: *const u8, site_len: usize, value: f64) {
    // SAFETY: the caller passes a valid site.
    unsafe { fault_at(site, site_len, &to_int_message(value)) }
}

/// Raises the fault `message` (its whole `<kind>: <message>` text, a Keel string, consumed) at
/// `site`: a failed `assert`, `requires`, `ensures` or `invariant`. Ends the process, or records
/// the fault and returns inside a `live` block.
///
/// # Safety
/// `message` must be a live string owned by the caller; `site` must point to `site_len` bytes of
/// UTF-8.
#[no_mangle]
pub unsafe extern "C" fn keel_fault(
    message: *const crate::string::StrHeader,
    site: *const u8,
    site_len: usize,
) {
    // SAFETY: the caller passes a live string and a valid site.
    unsafe {
        let text = crate::string::as_str(message).to_owned();
        crate::object::release(message.cast_mut().cast());
        fault_at(site, site_len, &text)
    }
}

/// Raises the fault `message` (a Keel string, consumed) at the site whose text is the Keel
/// string `site` (borrowed): a contract of a function called through a function value, whose
/// call site is known only when it runs. Otherwise as [`keel_fault`].
///
/// # Safety
/// `message` must be a live string owned by the caller, `site` a live string.
#[no_mangle]
pub unsafe extern "C" fn keel_fault_at(
    message: *const crate::string::StrHeader,
    site: *const crate::string::StrHeader,
) {
    // SAFETY: the caller passes two live strings.
    unsafe {
        let site = crate::string::as_bytes(site);
        keel_fault(message, site.as_ptr(), site.len())
    }
}

/// The site text passed to a runtime function as `(site, site_len)` (the compiler writes sites
/// as UTF-8; anything else shows as `?`).
///
/// # Safety
/// `site` must point to `site_len` bytes that stay valid for `'a`, or be null.
unsafe fn site_text<'a>(site: *const u8, site_len: usize) -> &'a str {
    let site = if site.is_null() {
        &[][..]
    } else {
        // SAFETY: the caller passes a valid byte range.
        unsafe { core::slice::from_raw_parts(site, site_len) }
    };
    core::str::from_utf8(site).unwrap_or("?")
}

/// Raises `message` at the site passed to a runtime function as `(site, site_len)`: see
/// [`fault`]. The caller must return right after (with any result) when this returns.
///
/// # Safety
/// `site` must point to `site_len` bytes of UTF-8.
pub unsafe fn fault_at(site: *const u8, site_len: usize, message: &str) {
    // SAFETY: forwarded from the caller.
    fault(unsafe { site_text(site, site_len) }, message)
}

/// Like [`fault_at`], but ends the process even inside a `live` block (stack overflow).
///
/// # Safety
/// `site` must point to `site_len` bytes (UTF-8; invalid bytes are replaced).
pub unsafe fn fatal_at(site: *const u8, site_len: usize, message: &str) -> ! {
    // SAFETY: forwarded from the caller.
    fatal(unsafe { site_text(site, site_len) }, message)
}

/// Reports that the heap cannot provide `bytes` more bytes and ends the process with status 1.
/// Allocates nothing, like every fault report.
pub fn out_of_memory(bytes: usize) -> ! {
    flush_stdout_before_fault();
    let mut line = StackLine::<128>::new(STDERR);
    let mut digits = [0u8; 20];
    line.push(b"out of memory: cannot allocate ")
        .push(crate::output::format_int(bytes as i64, &mut digits))
        .push(b" bytes\n");
    line.finish();
    crate::host::exit(1)
}

/// Raises the fault `message` at `site`: inside a `live` block, records it (see `recover`) and
/// returns; otherwise prints `site: message` to standard error and exits with status 1.
pub fn fault(site: &str, message: &str) {
    if crate::recover::recovering() {
        crate::recover::record(Text::new().str(site).str(": ").str(message).take());
    } else {
        fatal(site, message)
    }
}

/// Prints `site: message` to standard error and exits with status 1, even inside a `live` block.
/// Allocates nothing: standard output is flushed from its fixed buffer, and the line is built on
/// the stack.
pub fn fatal(site: &str, message: &str) -> ! {
    flush_stdout_before_fault();
    let mut line = StackLine::<1024>::new(STDERR);
    line.push(site.as_bytes())
        .push(b": ")
        .push(message.as_bytes())
        .push(b"\n");
    line.finish();
    crate::host::exit(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_operands() {
        assert_eq!(
            int_fault_message(IntOp::Add, i64::MAX, 1),
            "integer overflow: 9223372036854775807 + 1 does not fit in int"
        );
        assert_eq!(
            int_fault_message(IntOp::Rem, 7, 0),
            "division by zero: 7 % 0"
        );
        assert_eq!(
            int_fault_message(IntOp::Neg, i64::MIN, 0),
            "integer overflow: -(-9223372036854775808) does not fit in int"
        );
        assert_eq!(
            int_fault_message(IntOp::Shl, 1, 64),
            "integer overflow: 1 << 64: shift amount must be in 0..64"
        );
    }

    /// Each runtime fault prints `site: message` to standard error after the buffered output and
    /// ends the process with status 1.
    #[test]
    fn faults_report_their_site_and_exit_1() {
        use crate::string::OwnedStaticStr;
        use crate::test_support::{in_child, scenario};

        const SITE: &[u8] = b"t.kl:3:7";
        if let Some(case) = scenario() {
            let text = OwnedStaticStr::new("héllo");
            let (site, site_len) = (SITE.as_ptr(), SITE.len());
            crate::output::keel_print_int(5, crate::output::PRINT_NEWLINE);
            // SAFETY: every argument is live; each call ends the process.
            unsafe {
                match case.as_str() {
                    "bounds" => keel_fault_bounds(site, site_len, 5, 3),
                    "to_int" => keel_fault_to_int(site, site_len, f64::INFINITY),
                    "substring" => {
                        crate::string_ops::keel_str_substring(text.as_ptr(), 2, 9, site, site_len);
                    }
                    "char_at" => {
                        crate::string_ops::keel_str_char_at(text.as_ptr(), -1, site, site_len);
                    }
                    "pop" => {
                        let empty =
                            crate::array::keel_array_alloc(&crate::desc::STRING_ARRAY_DESC, 0);
                        crate::array::keel_array_pop(empty, site, site_len);
                    }
                    "slice" => {
                        let empty =
                            crate::array::keel_array_alloc(&crate::desc::STRING_ARRAY_DESC, 4);
                        crate::array::keel_array_slice(empty, 2, 9, site, site_len);
                    }
                    "fill" => {
                        crate::array::keel_array_fill(
                            &crate::desc::STRING_ARRAY_DESC,
                            -1,
                            0,
                            site,
                            site_len,
                        );
                    }
                    "parse" => {
                        crate::parse::keel_parse_int(text.as_ptr(), site, site_len);
                    }
                    "abs" => {
                        crate::math::keel_int_abs(i64::MIN, site, site_len);
                    }
                    _ => {}
                }
            }
            std::process::exit(99);
        }
        let cases = [
            (
                "bounds",
                "index out of bounds: index 5 is out of range for an array of length 3",
            ),
            (
                "to_int",
                "invalid conversion: to_int(inf) is out of range for int",
            ),
            (
                "substring",
                "index out of bounds: slice 2..9 is out of range for a string of length 5",
            ),
            (
                "char_at",
                "index out of bounds: index -1 is out of range for a string of length 5",
            ),
            ("pop", "invalid argument: pop of an empty array"),
            (
                "slice",
                "index out of bounds: slice 2..9 is out of range for an array of length 4",
            ),
            (
                "fill",
                "invalid argument: array_fill with negative length -1",
            ),
            (
                "parse",
                r#"invalid argument: parse_int("héllo") is not an int"#,
            ),
            (
                "abs",
                "integer overflow: abs(-9223372036854775808) does not fit in int",
            ),
        ];
        for (case, message) in cases {
            let output = in_child(
                "fault::tests::faults_report_their_site_and_exit_1",
                case,
                b"",
                &[],
            );
            let stderr = String::from_utf8_lossy(&output.stderr);
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert_eq!(output.status.code(), Some(1), "{case}: {stderr}");
            assert!(
                stderr.contains(&format!("t.kl:3:7: {message}\n")),
                "{case}: {stderr}"
            );
            assert!(stdout.contains("5\n"), "{case}: output flushed first");
        }
    }

    #[test]
    fn bounds_and_conversion_messages() {
        assert_eq!(
            bounds_message(5, 3),
            "index out of bounds: index 5 is out of range for an array of length 3"
        );
        assert_eq!(
            slice_message(2, 9, 4, OF_STRING),
            "index out of bounds: slice 2..9 is out of range for a string of length 4"
        );
        assert_eq!(
            to_int_message(f64::NAN),
            "invalid conversion: to_int(NaN) is not a number"
        );
        assert_eq!(
            to_int_message(1e300),
            "invalid conversion: to_int(1e300) is out of range for int"
        );
        assert_eq!(
            to_int_message(f64::NEG_INFINITY),
            "invalid conversion: to_int(-inf) is out of range for int"
        );
    }
}
