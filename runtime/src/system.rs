//! What a program reads from its surroundings: `input()` (a line of standard input), `args()`
//! (the command-line arguments) and `clock_ms()` (a monotonic clock).
//!
//! `input` flushes buffered output first, so a prompt printed with `print` appears before the
//! program waits. Bytes that are not UTF-8 are replaced by U+FFFD.
//!
//! What this module does not do: record the arguments (see `process`) or write output (see
//! `output`).

use core::sync::atomic::{AtomicU64, Ordering};

use crate::array::{keel_array_alloc, slots};
use crate::desc::STRING_ARRAY_DESC;
use crate::layout::{ArrayHeader, StrHeader};
use crate::output::flush_stdout;
use crate::prelude::*;
use crate::string::new_string;

/// Reads one line from standard input, without its `\n` or `\r\n`; `None` at end of input (or
/// on a read error).
pub fn read_line() -> Option<Vec<u8>> {
    flush_stdout();
    let mut line = Vec::new();
    if !crate::host::read_line(&mut line) {
        return None;
    }
    if line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    }
    Some(line)
}

/// `input()`: the next line of standard input without its line ending; `""` at end of input.
#[no_mangle]
pub extern "C" fn keel_input() -> *mut StrHeader {
    let line = read_line().unwrap_or_default();
    new_string(String::from_utf8_lossy(&line).as_bytes())
}

/// `args()`: the program's arguments as a `[string]` (without the program's own name).
#[no_mangle]
pub extern "C" fn keel_args() -> *mut ArrayHeader {
    let args = crate::process::args();
    // SAFETY: the array has room for one string per argument, each taken over by the array.
    unsafe {
        let array = keel_array_alloc(&STRING_ARRAY_DESC, args.len() as i64);
        for (index, arg) in args.iter().enumerate() {
            *slots(array).add(index) = new_string(arg.as_bytes()) as i64;
        }
        array
    }
}

/// The monotonic clock's reading, plus one, when `clock_ms` was first used (0 before).
static CLOCK_ORIGIN: AtomicU64 = AtomicU64::new(0);

/// `clock_ms()`: milliseconds on a monotonic clock (from an arbitrary origin); only differences
/// are meaningful.
#[no_mangle]
pub extern "C" fn keel_clock_ms() -> i64 {
    let now = crate::sys::monotonic_nanos();
    let origin =
        match CLOCK_ORIGIN.compare_exchange(0, now + 1, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => now,
            Err(first) => first - 1,
        };
    i64::try_from(now.saturating_sub(origin) / 1_000_000).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::array::elements;
    use crate::object::{live_objects, release};
    use crate::string::as_str;

    #[test]
    fn args_become_strings() {
        let before = live_objects();
        crate::process::set_args(vec!["one".to_string(), "twö".to_string()]);
        let array = keel_args();
        // SAFETY: `array` is a live array of strings.
        unsafe {
            let texts: Vec<&str> = elements(array)
                .iter()
                .map(|&s| as_str(s as *const StrHeader))
                .collect();
            assert_eq!(texts, ["one", "twö"]);
            release(array.cast());
        }
        crate::process::set_args(Vec::new());
        assert_eq!(live_objects(), before);
    }

    /// `input()` returns lines without `\n` or `\r\n`, then "" at the end of input, and
    /// replaces bytes that are not UTF-8.
    #[test]
    fn input_reads_lines() {
        use crate::test_support::{in_child, scenario};

        if scenario().is_some() {
            for _ in 0..5 {
                let line = keel_input();
                // SAFETY: `line` is a live string owned here.
                unsafe {
                    let text = crate::string::new_string(format!("[{}]", as_str(line)).as_bytes());
                    crate::output::keel_print_str(text, 0);
                    release(text.cast());
                    release(line.cast());
                }
            }
            std::process::exit(crate::process::keel_finish());
        }
        let output = in_child(
            "system::tests::input_reads_lines",
            "input",
            b"one\r\ntw\xffo\n\nlast",
            &[],
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("[one][tw\u{fffd}o][][last][]"), "{stdout}");
    }

    #[test]
    fn clock_is_monotonic() {
        let first = keel_clock_ms();
        let second = keel_clock_ms();
        assert!(first >= 0 && second >= first);
    }
}
