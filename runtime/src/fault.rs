//! Runtime faults: the message a failing check prints, and the end of the process.
//!
//! A fault prints `file:line:col: <kind>: <message>` to standard error and ends the process with
//! status 1, after flushing standard output. Generated code calls these functions only on the cold
//! path, after its own inline check failed; the check itself never calls into the runtime.
//!
//! Not here yet: recovery into `live` blocks, contracts and stack overflow.

use std::io::Write;

use crate::output::flush_stdout;

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
    match op {
        IntOp::Neg => format!("integer overflow: -({a}) does not fit in int"),
        IntOp::Div | IntOp::Rem if b == 0 => format!("division by zero: {a} {} 0", op.symbol()),
        IntOp::Shl | IntOp::Shr => {
            format!(
                "integer overflow: {a} {} {b}: shift amount must be in 0..64",
                op.symbol()
            )
        }
        _ => format!(
            "integer overflow: {a} {} {b} does not fit in int",
            op.symbol()
        ),
    }
}

/// Reports a failed integer check at `site` (the text `file:line:col`) and ends the process.
///
/// # Safety
/// `site` must point to `site_len` bytes of UTF-8.
#[no_mangle]
pub unsafe extern "C" fn keel_fault_int(
    site: *const u8,
    site_len: usize,
    op: u32,
    a: i64,
    b: i64,
) -> ! {
    // SAFETY: the caller passes a valid byte range.
    let site = unsafe { std::slice::from_raw_parts(site, site_len) };
    let site = String::from_utf8_lossy(site);
    let message = match IntOp::from_code(op) {
        Some(op) => int_fault_message(op, a, b),
        None => format!("internal error: unknown integer operation {op}"),
    };
    fault(&site, &message)
}

/// Prints `site: message` to standard error and exits with status 1.
pub fn fault(site: &str, message: &str) -> ! {
    flush_stdout();
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{site}: {message}");
    let _ = err.flush();
    std::process::exit(1)
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
}
