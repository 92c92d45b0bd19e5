//! The text of a `float`: what `print`, `to_string` and string `+` show for an `f64`.
//!
//! The rule (docs/values.md): the shortest decimal digits that read back as the same `f64`; fixed
//! notation with at least one digit after the `.` when the decimal exponent is in `-5..=15`
//! (`0.0001`, `3.0`, `1234.5`), otherwise `d.ddde±x` without a `+` and without a trailing `.0` in
//! the mantissa (`1e300`, `1.5e-7`); `NaN`, `inf`, `-inf`, and `-0.0`.
//!
//! Rust's `{:e}` formatting already produces the shortest round-trip digits; this module only
//! reshapes them, into a fixed-size buffer so printing a float does not allocate.
//!
//! What this module does not do: parse floats (see `parse`) or print them (see `output`).

use core::fmt::{self, Write as _};

/// Longest text the rule produces: a sign, `0.` and 4 zeros, and 17 digits, with room to spare.
const MAX_TEXT: usize = 40;

/// The smallest and largest decimal exponents written in fixed notation.
const FIXED_EXPONENTS: core::ops::RangeInclusive<i32> = -5..=15;

/// A float's text, held inline.
#[derive(Clone, Copy)]
pub struct FloatText {
    buf: [u8; MAX_TEXT],
    len: usize,
}

impl FloatText {
    /// Formats `value` by the float text rule.
    pub fn new(value: f64) -> FloatText {
        let mut text = FloatText {
            buf: [0; MAX_TEXT],
            len: 0,
        };
        if value.is_nan() {
            text.push_bytes(b"NaN");
            return text;
        }
        if value.is_sign_negative() {
            text.push_bytes(b"-");
        }
        let magnitude = value.abs();
        if magnitude.is_infinite() {
            text.push_bytes(b"inf");
            return text;
        }
        if magnitude == 0.0 {
            text.push_bytes(b"0.0");
            return text;
        }
        let (digits, digit_count, exponent) = shortest_digits(magnitude);
        let digits = &digits[..digit_count];
        if FIXED_EXPONENTS.contains(&exponent) {
            text.push_fixed(digits, exponent);
        } else {
            text.push_scientific(digits, exponent);
        }
        text
    }

    /// The text's bytes (ASCII).
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // The text is built from ASCII digits, signs, `.`, `e` and the words `NaN`/`inf` only.
        core::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    fn push_bytes(&mut self, bytes: &[u8]) {
        self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    fn push_zeros(&mut self, count: usize) {
        self.buf[self.len..self.len + count].fill(b'0');
        self.len += count;
    }

    /// `digits` × 10^(exponent - digits.len() + 1) in fixed notation, with at least one digit
    /// after the point.
    fn push_fixed(&mut self, digits: &[u8], exponent: i32) {
        if exponent < 0 {
            self.push_bytes(b"0.");
            self.push_zeros((-exponent - 1) as usize);
            self.push_bytes(digits);
            return;
        }
        let int_digits = exponent as usize + 1;
        if digits.len() <= int_digits {
            self.push_bytes(digits);
            self.push_zeros(int_digits - digits.len());
            self.push_bytes(b".0");
        } else {
            self.push_bytes(&digits[..int_digits]);
            self.push_bytes(b".");
            self.push_bytes(&digits[int_digits..]);
        }
    }

    /// `d.ddde±x`, without `.` when there is one digit.
    fn push_scientific(&mut self, digits: &[u8], exponent: i32) {
        self.push_bytes(&digits[..1]);
        if digits.len() > 1 {
            self.push_bytes(b".");
            self.push_bytes(&digits[1..]);
        }
        self.push_bytes(b"e");
        let mut exp_text = [0u8; 8];
        let mut cursor = Cursor::new(&mut exp_text);
        let _ = write!(cursor, "{exponent}");
        let used = cursor.len;
        self.push_bytes(&exp_text[..used]);
    }
}

/// Formatted text written into a fixed buffer; what does not fit is an error.
struct Cursor<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> Cursor<'a> {
    fn new(buf: &'a mut [u8]) -> Self {
        Cursor { buf, len: 0 }
    }
}

impl fmt::Write for Cursor<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let end = self.len + text.len();
        let room = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        room.copy_from_slice(text.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl fmt::Display for FloatText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for FloatText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// The shortest round-trip decimal digits of a finite positive `magnitude` and its decimal
/// exponent: `magnitude` = `d.ddd` × 10^exponent. Returns a digit buffer, the digit count and the
/// exponent.
fn shortest_digits(magnitude: f64) -> ([u8; 24], usize, i32) {
    // `{:e}` writes e.g. `1.2345678901234568e17`, `5e-324`: at most 17 digits, a point, `e`, a
    // sign and three exponent digits.
    let mut raw = [0u8; 32];
    let mut cursor = Cursor::new(&mut raw);
    let _ = write!(cursor, "{magnitude:e}");
    let used = cursor.len;
    let raw = &raw[..used];

    let mut digits = [0u8; 24];
    let mut count = 0;
    let mut exponent = 0i32;
    let mut exponent_sign = 1;
    let mut in_exponent = false;
    for &byte in raw {
        match byte {
            b'e' => in_exponent = true,
            b'-' if in_exponent => exponent_sign = -1,
            b'0'..=b'9' if in_exponent => exponent = exponent * 10 + i32::from(byte - b'0'),
            b'0'..=b'9' if count < digits.len() => {
                digits[count] = byte;
                count += 1;
            }
            _ => {}
        }
    }
    (digits, count, exponent * exponent_sign)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: f64) -> String {
        FloatText::new(value).as_str().to_string()
    }

    #[test]
    fn fixed_notation() {
        assert_eq!(text(0.1), "0.1");
        assert_eq!(text(3.0), "3.0");
        assert_eq!(text(1234.5), "1234.5");
        assert_eq!(text(0.0001), "0.0001");
        assert_eq!(text(1e-5), "0.00001");
        assert_eq!(text(1.5e-5), "0.000015");
        assert_eq!(text(1e15), "1000000000000000.0");
        assert_eq!(text(1.5e15), "1500000000000000.0");
        assert_eq!(text(123456.789), "123456.789");
        assert_eq!(text(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(text(-2.5), "-2.5");
        assert_eq!(text(100.0), "100.0");
        assert_eq!(text(9007199254740993.0), "9007199254740992.0");
        assert_eq!(text(1.0 / 3.0), "0.3333333333333333");
    }

    #[test]
    fn scientific_notation() {
        assert_eq!(text(1e16), "1e16");
        assert_eq!(text(1.5e16), "1.5e16");
        assert_eq!(text(123456789012345680.0), "1.2345678901234568e17");
        assert_eq!(text(1e-6), "1e-6");
        assert_eq!(text(1.5e-7), "1.5e-7");
        assert_eq!(text(1e300), "1e300");
        assert_eq!(text(-1e300), "-1e300");
        assert_eq!(text(5e-324), "5e-324");
        assert_eq!(text(f64::MIN_POSITIVE), "2.2250738585072014e-308");
        assert_eq!(text(f64::MAX), "1.7976931348623157e308");
        assert_eq!(text(f64::MIN), "-1.7976931348623157e308");
    }

    #[test]
    fn special_values() {
        assert_eq!(text(0.0), "0.0");
        assert_eq!(text(-0.0), "-0.0");
        assert_eq!(text(f64::NAN), "NaN");
        assert_eq!(text(-f64::NAN), "NaN");
        assert_eq!(text(f64::INFINITY), "inf");
        assert_eq!(text(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn text_reads_back_as_the_same_float() {
        // A deterministic spread of bit patterns over the whole finite range.
        let mut bits: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            bits ^= bits << 13;
            bits ^= bits >> 7;
            bits ^= bits << 17;
            let value = f64::from_bits(bits);
            if !value.is_finite() {
                continue;
            }
            let shown = text(value);
            let back: f64 = shown.parse().expect("the text is a Rust float literal");
            assert_eq!(
                back.to_bits(),
                value.to_bits(),
                "{value:e} shown as {shown}"
            );
            assert!(shown.contains('.') || shown.contains('e'), "{shown}");
            assert!(!shown.contains("e+") && !shown.contains(".0e"), "{shown}");
        }
    }
}
