//! `parse_int` and `parse_float`: numbers from text, accepting exactly what a Keel literal
//! accepts, plus a leading `-` or `+`.
//!
//! `parse_int` takes decimal (`42`, `1_000`), hexadecimal (`0x2A`) and binary (`0b101`) digits
//! with `_` separators; `parse_float` takes float literals (`1.5`, `2.0e-3`, `1e9`) and decimal
//! integer literals (`42` is `42.0`). Nothing else is accepted: no white space, no `inf` or `NaN`.
//! Bad text faults with `invalid argument: parse_int("12x") is not an int` (`... is not a float`);
//! a number too large faults with `... is out of range for int` (`for float`).
//!
//! For the `Result` that `parse_int` and `parse_float` give a program, `keel_parse_int_error`
//! and `keel_parse_float_error` say why a text is not a number (`"12x" is not an int`) without
//! faulting, or give the empty string for one that is; the checker then calls the parser.
//!
//! What this module does not do: read input (see `system`).

use crate::fault::fault_at;
use crate::layout::StrHeader;
use crate::prelude::*;
use crate::string::{as_bytes, new_string};
use crate::value::write_quoted;

/// `parse_int(text)`, or the `<kind>: <message>` of its fault.
pub fn parse_int(text: &[u8]) -> Result<i64, String> {
    let fail = |what: &str| {
        let mut quoted = Vec::new();
        write_quoted(&mut quoted, text);
        let quoted = String::from_utf8_lossy(&quoted);
        Err(format!("invalid argument: parse_int({quoted}) {what}"))
    };
    let (negative, unsigned) = split_sign(text);
    let (radix, digits) = match unsigned {
        [b'0', b'x' | b'X', rest @ ..] => (16, rest),
        [b'0', b'b' | b'B', rest @ ..] => (2, rest),
        [b'0'..=b'9', ..] => (10, unsigned),
        _ => return fail("is not an int"),
    };
    let mut magnitude: u64 = 0;
    let mut out_of_range = false;
    let mut any_digit = false;
    for &byte in digits {
        if byte == b'_' {
            continue;
        }
        let Some(digit) = char::from(byte).to_digit(radix) else {
            return fail("is not an int");
        };
        any_digit = true;
        match magnitude
            .checked_mul(u64::from(radix))
            .and_then(|m| m.checked_add(u64::from(digit)))
        {
            Some(next) => magnitude = next,
            None => out_of_range = true,
        }
    }
    if !any_digit {
        return fail("is not an int");
    }
    let limit = if negative {
        i64::MIN.unsigned_abs()
    } else {
        i64::MAX as u64
    };
    if out_of_range || magnitude > limit {
        return fail("is out of range for int");
    }
    Ok(if negative {
        0i64.wrapping_sub_unsigned(magnitude)
    } else {
        magnitude as i64
    })
}

/// `parse_float(text)`, or the `<kind>: <message>` of its fault.
pub fn parse_float(text: &[u8]) -> Result<f64, String> {
    let fail = |what: &str| {
        let mut quoted = Vec::new();
        write_quoted(&mut quoted, text);
        let quoted = String::from_utf8_lossy(&quoted);
        Err(format!("invalid argument: parse_float({quoted}) {what}"))
    };
    let (_, unsigned) = split_sign(text);
    if !is_float_literal(unsigned) {
        return fail("is not a float");
    }
    let cleaned: String = text
        .iter()
        .filter(|&&byte| byte != b'_')
        .map(|&byte| char::from(byte))
        .collect();
    match cleaned.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(value),
        Ok(_) => fail("is out of range for float"),
        Err(_) => fail("is not a float"),
    }
}

/// A leading `-` or `+` and the rest.
fn split_sign(text: &[u8]) -> (bool, &[u8]) {
    match text {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, text),
    }
}

/// Whether `text` is `digits [. digits] [(e|E) [+|-] digits_or_underscores]`, where `digits` is
/// a decimal digit followed by digits and `_`.
fn is_float_literal(text: &[u8]) -> bool {
    /// The end of a run of `[0-9][0-9_]*` starting at `at`, if there is one.
    fn digits(text: &[u8], at: usize) -> Option<usize> {
        if !text.get(at)?.is_ascii_digit() {
            return None;
        }
        let run = text[at..]
            .iter()
            .take_while(|byte| byte.is_ascii_digit() || **byte == b'_')
            .count();
        Some(at + run)
    }
    let Some(mut at) = digits(text, 0) else {
        return false;
    };
    if text.get(at) == Some(&b'.') {
        let Some(end) = digits(text, at + 1) else {
            return false;
        };
        at = end;
    }
    if matches!(text.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(text.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        let exponent = &text[at..];
        return exponent.iter().any(u8::is_ascii_digit)
            && exponent
                .iter()
                .all(|byte| byte.is_ascii_digit() || *byte == b'_');
    }
    at == text.len()
}

/// `parse_int(s)`; faults on text that is not an int literal or does not fit.
///
/// # Safety
/// `s` must be a live string; `site` must point to `site_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn keel_parse_int(
    s: *const StrHeader,
    site: *const u8,
    site_len: usize,
) -> i64 {
    // SAFETY: the caller guarantees `s` is live and the site valid.
    unsafe {
        match parse_int(as_bytes(s)) {
            Ok(value) => value,
            Err(message) => {
                fault_at(site, site_len, &message);
                0
            }
        }
    }
}

/// `parse_float(s)`; faults on text that is not a float (or int) literal or is too large.
///
/// # Safety
/// `s` must be a live string; `site` must point to `site_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn keel_parse_float(
    s: *const StrHeader,
    site: *const u8,
    site_len: usize,
) -> f64 {
    // SAFETY: the caller guarantees `s` is live and the site valid.
    unsafe {
        match parse_float(as_bytes(s)) {
            Ok(value) => value,
            Err(message) => {
                fault_at(site, site_len, &message);
                0.0
            }
        }
    }
}

/// The error of a parse that failed, as a program's `Err` holds it: the fault's text without
/// its `invalid argument: parse_int(...)` frame, `"12x" is not an int`.
fn error_text(text: &[u8], name: &str, fault: &str) -> String {
    let mut quoted = Vec::new();
    write_quoted(&mut quoted, text);
    let quoted = String::from_utf8_lossy(&quoted);
    let frame = format!("invalid argument: {name}({quoted}) ");
    match fault.strip_prefix(&frame) {
        Some(why) => format!("{quoted} {why}"),
        None => fault.to_string(),
    }
}

/// Why `s` is not an int for `parse_int`, or the empty string when it is one. Never faults.
///
/// # Safety
/// `s` must be a live string.
#[no_mangle]
pub unsafe extern "C" fn keel_parse_int_error(s: *const StrHeader) -> *mut StrHeader {
    // SAFETY: the caller guarantees `s` is live.
    let text = unsafe { as_bytes(s) };
    match parse_int(text) {
        Ok(_) => new_string(b""),
        Err(fault) => new_string(error_text(text, "parse_int", &fault).as_bytes()),
    }
}

/// Why `s` is not a float for `parse_float`, or the empty string when it is one. Never faults.
///
/// # Safety
/// `s` must be a live string.
#[no_mangle]
pub unsafe extern "C" fn keel_parse_float_error(s: *const StrHeader) -> *mut StrHeader {
    // SAFETY: the caller guarantees `s` is live.
    let text = unsafe { as_bytes(s) };
    match parse_float(text) {
        Ok(_) => new_string(b""),
        Err(fault) => new_string(error_text(text, "parse_float", &fault).as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(text: &str) -> Result<i64, String> {
        parse_int(text.as_bytes())
    }

    fn float(text: &str) -> Result<f64, String> {
        parse_float(text.as_bytes())
    }

    #[test]
    fn ints_in_every_literal_form() {
        assert_eq!(int("42"), Ok(42));
        assert_eq!(int("-42"), Ok(-42));
        assert_eq!(int("+7"), Ok(7));
        assert_eq!(int("007"), Ok(7));
        assert_eq!(int("1_000_000"), Ok(1_000_000));
        assert_eq!(int("0x2a"), Ok(42));
        assert_eq!(int("-0X_FF"), Ok(-255));
        assert_eq!(int("0b101"), Ok(5));
        assert_eq!(int("9223372036854775807"), Ok(i64::MAX));
        assert_eq!(int("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(int("-0x8000000000000000"), Ok(i64::MIN));
    }

    #[test]
    fn errors_for_results_drop_the_fault_frame() {
        assert_eq!(
            error_text(b"12x", "parse_int", &int("12x").unwrap_err()),
            r#""12x" is not an int"#
        );
        assert_eq!(
            error_text(b"1e999", "parse_float", &float("1e999").unwrap_err()),
            r#""1e999" is out of range for float"#
        );
    }

    #[test]
    fn bad_ints() {
        for text in [
            "", "-", "12x", " 1", "1 ", "_1", "0x", "0x_", "0b2", "1.0", "--1", "+-1",
        ] {
            let message = int(text).expect_err(text);
            assert!(message.ends_with("is not an int"), "{text}: {message}");
        }
        assert_eq!(
            int("12x"),
            Err(r#"invalid argument: parse_int("12x") is not an int"#.to_string())
        );
        assert_eq!(
            int("a\n"),
            Err(r#"invalid argument: parse_int("a\n") is not an int"#.to_string())
        );
        assert_eq!(
            int("9223372036854775808"),
            Err(
                r#"invalid argument: parse_int("9223372036854775808") is out of range for int"#
                    .to_string()
            )
        );
        assert!(int("99999999999999999999999").is_err());
        assert!(int("-9223372036854775809").is_err());
    }

    #[test]
    fn floats_in_every_literal_form() {
        assert_eq!(float("1.5"), Ok(1.5));
        assert_eq!(float("-2.0e-3"), Ok(-0.002));
        assert_eq!(float("+1e9"), Ok(1e9));
        assert_eq!(float("1E+2"), Ok(100.0));
        assert_eq!(float("1_000.000_1"), Ok(1000.0001));
        assert_eq!(float("42"), Ok(42.0));
        assert_eq!(float("0.1"), Ok(0.1));
        assert_eq!(float("-0.0").map(f64::to_bits), Ok((-0.0f64).to_bits()));
        assert_eq!(float("1e-400"), Ok(0.0));
    }

    #[test]
    fn bad_floats() {
        for text in [
            "", ".5", "1.", "1.e5", "e5", "1e", "1e+", "1e_", "inf", "NaN", "0x10", " 1.0", "1.0f",
        ] {
            let message = float(text).expect_err(text);
            assert!(message.ends_with("is not a float"), "{text}: {message}");
        }
        assert_eq!(
            float("1e400"),
            Err(r#"invalid argument: parse_float("1e400") is out of range for float"#.to_string())
        );
    }
}
