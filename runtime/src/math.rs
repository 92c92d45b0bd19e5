//! Numeric library functions: `pow`, `abs`, `min`, `max` on ints (faulting on overflow), and the
//! float functions (`sqrt`, `floor`, `round`, `sin`, `atan2`, ...), which never fault.
//!
//! Float functions are Rust's `f64` methods; `round` rounds half away from zero, `min`/`max`
//! return the other operand when one is NaN.
//!
//! What this module does not do: arithmetic operators (backends do them inline) or report a
//! failed `to_int` (backends check it inline, [`float_to_int`] is the VM's check, and the fault is
//! `fault::keel_fault_to_int`).

use crate::fault::fault_at;

/// `pow(base, exponent)` on ints, or the `<kind>: <message>` of its fault.
pub fn int_pow(base: i64, exponent: i64) -> Result<i64, String> {
    if exponent < 0 {
        return Err(format!(
            "invalid argument: pow with negative exponent {exponent}"
        ));
    }
    let result = match u32::try_from(exponent) {
        Ok(small) => base.checked_pow(small),
        // Only 0, 1 and -1 survive an exponent this large.
        Err(_) => match base {
            0 | 1 => Some(base),
            -1 => Some(if exponent % 2 == 0 { 1 } else { -1 }),
            _ => None,
        },
    };
    result.ok_or_else(|| format!("integer overflow: pow({base}, {exponent}) does not fit in int"))
}

/// `pow(base, exponent)` on ints; faults on a negative exponent or overflow.
///
/// # Safety
/// `site` must point to `site_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn keel_int_pow(
    base: i64,
    exponent: i64,
    site: *const u8,
    site_len: usize,
) -> i64 {
    match int_pow(base, exponent) {
        Ok(value) => value,
        // SAFETY: forwarded from the caller.
        Err(message) => {
            // SAFETY: forwarded from the caller.
            unsafe { fault_at(site, site_len, &message) };
            0
        }
    }
}

/// `abs(value)` on ints; faults for `i64::MIN`.
///
/// # Safety
/// `site` must point to `site_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn keel_int_abs(value: i64, site: *const u8, site_len: usize) -> i64 {
    match value.checked_abs() {
        Some(magnitude) => magnitude,
        None => {
            let message = format!("integer overflow: abs({value}) does not fit in int");
            // SAFETY: forwarded from the caller.
            unsafe { fault_at(site, site_len, &message) };
            0
        }
    }
}

/// `to_int(f)` as the VM computes it: truncation toward zero, or `None` for NaN, infinities and
/// values outside `int` (valid: `-9223372036854775808.0 <= f < 9223372036854775808.0`), where
/// the caller reports `fault::keel_fault_to_int`.
pub fn float_to_int(value: f64) -> Option<i64> {
    /// 2^63, exactly representable.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (-LIMIT..LIMIT).contains(&value).then_some(value as i64)
}

/// `min(a, b)` on ints.
#[no_mangle]
pub extern "C" fn keel_int_min(a: i64, b: i64) -> i64 {
    a.min(b)
}

/// `max(a, b)` on ints.
#[no_mangle]
pub extern "C" fn keel_int_max(a: i64, b: i64) -> i64 {
    a.max(b)
}

/// Defines `extern "C" fn name(value: f64) -> f64` forwarding to an `f64` method.
macro_rules! unary_float_functions {
    ($($(#[$doc:meta])* $name:ident => $method:ident;)*) => {
        $(
            $(#[$doc])*
            #[no_mangle]
            pub extern "C" fn $name(value: f64) -> f64 {
                value.$method()
            }
        )*
    };
}

/// Defines `extern "C" fn name(a: f64, b: f64) -> f64` forwarding to an `f64` method.
macro_rules! binary_float_functions {
    ($($(#[$doc:meta])* $name:ident => $method:ident;)*) => {
        $(
            $(#[$doc])*
            #[no_mangle]
            pub extern "C" fn $name(a: f64, b: f64) -> f64 {
                a.$method(b)
            }
        )*
    };
}

unary_float_functions! {
    /// `abs(f)`.
    keel_float_abs => abs;
    /// `sqrt(f)` (NaN for negative numbers).
    keel_float_sqrt => sqrt;
    /// `floor(f)`.
    keel_float_floor => floor;
    /// `ceil(f)`.
    keel_float_ceil => ceil;
    /// `round(f)`: to the nearest integer, halves away from zero.
    keel_float_round => round;
    /// `sin(f)` (radians).
    keel_float_sin => sin;
    /// `cos(f)` (radians).
    keel_float_cos => cos;
    /// `tan(f)` (radians).
    keel_float_tan => tan;
    /// `exp(f)`.
    keel_float_exp => exp;
    /// `ln(f)`: the natural logarithm.
    keel_float_ln => ln;
}

/// `min(a, b)` on floats: the smaller, with `-0.0` below `0.0`; the other operand when one is
/// NaN. Written out rather than `f64::min`, whose choice between two zeros depends on the
/// machine (x86_64's `minsd` returns the second operand, aarch64's `fminnm` the negative zero).
#[no_mangle]
pub extern "C" fn keel_float_min(a: f64, b: f64) -> f64 {
    if a.is_nan() {
        b
    } else if b.is_nan() || a < b || (a == b && a.is_sign_negative()) {
        a
    } else {
        b
    }
}

/// `max(a, b)` on floats: the larger, with `0.0` above `-0.0`; the other operand when one is NaN
/// (see [`keel_float_min`]).
#[no_mangle]
pub extern "C" fn keel_float_max(a: f64, b: f64) -> f64 {
    if a.is_nan() {
        b
    } else if b.is_nan() || a > b || (a == b && a.is_sign_positive()) {
        a
    } else {
        b
    }
}

binary_float_functions! {
    /// `pow(a, b)` on floats.
    keel_float_pow => powf;
    /// `atan2(y, x)`: the angle of the point `(x, y)`.
    keel_float_atan2 => atan2;
}

/// The float functions of one argument behind `keel_float_math`, by their code (the order is
/// `FLOAT_MATH_NAMES`, which the compiler uses to pick a code).
pub const FLOAT_MATH_NAMES: [&str; 13] = [
    "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "log10", "log2",
    "exp2", "cbrt",
];

/// `asin(x)`, `acos(x)`, ... : the function of [`FLOAT_MATH_NAMES`] numbered `op`, of `x`
/// (NaN outside its domain, as in IEEE arithmetic; never a fault). An unknown `op` gives NaN.
#[no_mangle]
pub extern "C" fn keel_float_math(op: i64, x: f64) -> f64 {
    match op {
        0 => x.asin(),
        1 => x.acos(),
        2 => x.atan(),
        3 => x.sinh(),
        4 => x.cosh(),
        5 => x.tanh(),
        6 => asinh(x),
        7 => x.acosh(),
        8 => x.atanh(),
        9 => x.log10(),
        10 => x.log2(),
        11 => exp2(x),
        12 => x.cbrt(),
        _ => f64::NAN,
    }
}

/// `hypot(a, b)` (op 0: the length of the vector `(a, b)`, without overflow in between) and
/// `copysign(a, b)` (op 1: `a`'s magnitude with `b`'s sign; with a NaN `b`, the positive
/// magnitude, because the sign of a NaN differs between machines).
#[no_mangle]
pub extern "C" fn keel_float_math2(op: i64, a: f64, b: f64) -> f64 {
    match op {
        0 => hypot(a, b),
        1 if b.is_nan() => a.abs(),
        1 => a.copysign(b),
        _ => f64::NAN,
    }
}

// The C library's `asinh`, `exp2` and `hypot` round differently on x86_64 and aarch64 (by an
// ulp, now and then), so these three are computed here from operations that agree everywhere:
// IEEE arithmetic and `sqrt`, and the C library's `exp` and `log1p`, which give the same bits on
// both (checked over 20,000 inputs by the program suite's cross runs).

/// `asinh(x)` as `log1p(|x| + x² / (1 + sqrt(1 + x²)))` with `x`'s sign; `ln(|x|) + ln 2` where
/// `x²` would overflow.
fn asinh(x: f64) -> f64 {
    let a = x.abs();
    let magnitude = if a > 1e150 {
        a.ln() + std::f64::consts::LN_2
    } else {
        let square = a * a;
        (a + square / (1.0 + (1.0 + square).sqrt())).ln_1p()
    };
    magnitude.copysign(x)
}

/// `exp2(x)` as `2^n * exp(f ln 2)` with `x = n + f`, `n` an integer and `|f| <= 0.5`: exact for
/// integers.
fn exp2(x: f64) -> f64 {
    if !x.is_finite() {
        return if x == f64::NEG_INFINITY { 0.0 } else { x };
    }
    let n = x.round().clamp(-1100.0, 1100.0);
    let fraction = (x - n) * std::f64::consts::LN_2;
    // Two steps of 2^(n/2), so that neither overflows where the result does not.
    let half = (n / 2.0).trunc();
    let scale_a = 2f64.powi(half as i32);
    let scale_b = 2f64.powi((n - half) as i32);
    fraction.exp() * scale_a * scale_b
}

/// `hypot(a, b)`: `m * sqrt(1 + (s/m)²)` for the larger magnitude `m` and the smaller `s`, so
/// nothing overflows in between; infinity if either is infinite, else NaN if either is NaN.
fn hypot(a: f64, b: f64) -> f64 {
    let (a, b) = (a.abs(), b.abs());
    if a.is_infinite() || b.is_infinite() {
        return f64::INFINITY;
    }
    if a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    let (large, small) = if a >= b { (a, b) } else { (b, a) };
    if large == 0.0 {
        return 0.0;
    }
    let ratio = small / large;
    large * (1.0 + ratio * ratio).sqrt()
}

/// The bit counts of an int, by `op`: 0 `count_ones`, 1 `count_zeros`, 2 `leading_zeros`, 3
/// `trailing_zeros` (of the 64-bit two's complement; 64 for the zeros of 0).
#[no_mangle]
pub extern "C" fn keel_int_bits(op: i64, x: i64) -> i64 {
    i64::from(match op {
        0 => x.count_ones(),
        1 => x.count_zeros(),
        2 => x.leading_zeros(),
        _ => x.trailing_zeros(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_float_functions_and_bit_counts() {
        assert_eq!(keel_float_math(9, 1000.0), 3.0);
        assert_eq!(keel_float_math(10, 8.0), 3.0);
        assert_eq!(keel_float_math(12, -27.0), -3.0);
        assert!(keel_float_math(0, 2.0).is_nan());
        assert_eq!(keel_float_math2(0, 3.0, 4.0), 5.0);
        assert_eq!(keel_float_math2(0, f64::NAN, f64::INFINITY), f64::INFINITY);
        assert_eq!(keel_float_math2(0, 1e300, 1e300), 1.4142135623730952e300);
        assert_eq!(keel_float_math(11, 10.0), 1024.0);
        assert_eq!(keel_float_math(11, -1074.0), 5e-324);
        assert!((keel_float_math(11, 1023.5) / 1.2711610061536462e308 - 1.0).abs() < 1e-15);
        assert_eq!(keel_float_math(11, f64::NEG_INFINITY), 0.0);
        assert_eq!(keel_float_math(6, 0.0), 0.0);
        assert!(keel_float_math(6, -0.0).is_sign_negative());
        assert!((keel_float_math(6, 1.0) - 0.881373587019543).abs() < 1e-15);
        assert!((keel_float_math(6, -1e200) + 461.2101657793691).abs() < 1e-12);
        assert_eq!(keel_float_math2(1, 2.0, -0.0), -2.0);
        assert_eq!(keel_float_math2(1, -2.0, -f64::NAN), 2.0);
        assert_eq!(keel_int_bits(0, -1), 64);
        assert_eq!(keel_int_bits(2, 1), 63);
        assert_eq!(keel_int_bits(3, 0), 64);
        assert_eq!(keel_int_bits(1, 0), 64);
    }

    #[test]
    fn int_pow_values_and_faults() {
        assert_eq!(int_pow(2, 10), Ok(1024));
        assert_eq!(int_pow(0, 0), Ok(1));
        assert_eq!(int_pow(-2, 63), Ok(i64::MIN));
        assert_eq!(int_pow(-1, 1 << 40), Ok(1));
        assert_eq!(int_pow(-1, (1 << 40) + 1), Ok(-1));
        assert_eq!(int_pow(1, i64::MAX), Ok(1));
        assert_eq!(int_pow(0, i64::MAX), Ok(0));
        assert_eq!(
            int_pow(10, 19),
            Err("integer overflow: pow(10, 19) does not fit in int".to_string())
        );
        assert_eq!(
            int_pow(2, 1 << 40),
            Err(format!(
                "integer overflow: pow(2, {}) does not fit in int",
                1i64 << 40
            ))
        );
        assert_eq!(
            int_pow(3, -1),
            Err("invalid argument: pow with negative exponent -1".to_string())
        );
    }

    #[test]
    fn int_helpers() {
        // SAFETY: no fault is reached, so the site is never read.
        unsafe {
            assert_eq!(keel_int_abs(-5, std::ptr::null(), 0), 5);
            assert_eq!(keel_int_abs(i64::MAX, std::ptr::null(), 0), i64::MAX);
            assert_eq!(keel_int_pow(3, 4, std::ptr::null(), 0), 81);
        }
        assert_eq!(keel_int_min(-3, 2), -3);
        assert_eq!(keel_int_max(-3, 2), 2);
    }

    #[test]
    fn float_to_int_truncates_and_checks_range() {
        assert_eq!(float_to_int(2.9), Some(2));
        assert_eq!(float_to_int(-2.9), Some(-2));
        assert_eq!(float_to_int(-0.0), Some(0));
        assert_eq!(float_to_int(-9_223_372_036_854_775_808.0), Some(i64::MIN));
        assert_eq!(
            float_to_int(9_223_372_036_854_774_784.0),
            Some(9_223_372_036_854_774_784)
        );
        assert_eq!(float_to_int(9_223_372_036_854_775_808.0), None);
        assert_eq!(float_to_int(f64::NAN), None);
        assert_eq!(float_to_int(f64::INFINITY), None);
        assert_eq!(float_to_int(f64::NEG_INFINITY), None);
        assert_eq!(float_to_int(-1e19), None);
    }

    #[test]
    fn float_functions() {
        assert_eq!(keel_float_round(2.5), 3.0);
        assert_eq!(keel_float_round(-2.5), -3.0);
        assert_eq!(keel_float_round(0.49999999999999994), 0.0);
        assert_eq!(keel_float_floor(-1.5), -2.0);
        assert_eq!(keel_float_ceil(-1.5), -1.0);
        assert_eq!(keel_float_abs(-0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(keel_float_sqrt(16.0), 4.0);
        assert!(keel_float_sqrt(-1.0).is_nan());
        assert_eq!(keel_float_min(1.0, f64::NAN), 1.0);
        assert_eq!(keel_float_min(f64::NAN, 1.0), 1.0);
        assert_eq!(keel_float_max(f64::NAN, 2.0), 2.0);
        assert_eq!(keel_float_max(2.0, f64::NAN), 2.0);
        assert_eq!(keel_float_min(3.0, -1.0), -1.0);
        assert_eq!(keel_float_max(3.0, -1.0), 3.0);
        for (a, b) in [(0.0, -0.0), (-0.0, 0.0)] {
            assert!(keel_float_min(a, b).is_sign_negative(), "min({a}, {b})");
            assert!(keel_float_max(a, b).is_sign_positive(), "max({a}, {b})");
        }
        assert_eq!(keel_float_pow(2.0, 0.5), 2.0f64.sqrt());
        assert_eq!(keel_float_atan2(1.0, 1.0), std::f64::consts::FRAC_PI_4);
        assert_eq!(keel_float_exp(0.0), 1.0);
        assert_eq!(keel_float_ln(1.0), 0.0);
        assert_eq!(keel_float_sin(0.0), 0.0);
        assert_eq!(keel_float_cos(0.0), 1.0);
        assert_eq!(keel_float_tan(0.0), 0.0);
    }
}
