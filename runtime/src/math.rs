//! Numeric library functions: `pow`, `abs`, `min`, `max` on ints (faulting on overflow), and the
//! float functions (`sqrt`, `floor`, `round`, `sin`, `atan2`, ...), which never fault.
//!
//! Float functions are the `libm` crate's (a Rust port of musl's), in every build, so that a
//! program computes the same bits whether or not it runs with a C library; `round` rounds half away from zero, `min`/`max`
//! return the other operand when one is NaN.
//!
//! What this module does not do: arithmetic operators (backends do them inline) or report a
//! failed `to_int` (backends check it inline, [`float_to_int`] is the VM's check, and the fault is
//! `fault::keel_fault_to_int`).

use crate::fault::fault_at;
use crate::prelude::*;

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
                libm::$method(value)
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
                libm::$method(a, b)
            }
        )*
    };
}

unary_float_functions! {
    /// `abs(f)`.
    keel_float_abs => fabs;
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
    keel_float_ln => log;
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
    keel_float_pow => pow;
    /// `atan2(y, x)`: the angle of the point `(x, y)`.
    keel_float_atan2 => atan2;
}

/// The float functions of one argument behind `keel_float_math`, by their code (the order is
/// `FLOAT_MATH_NAMES`, which the compiler uses to pick a code).
/// The integer functions of [`keel_int_math`], by their code (their position here), with the
/// number of arguments each takes.
pub const INT_MATH_NAMES: [(&str, usize); 10] = [
    ("factorial", 1),
    ("fibonacci", 1),
    ("binomial", 2),
    ("int_sqrt", 1),
    ("int_log2", 1),
    ("modulo", 2),
    ("next_multiple_of", 2),
    ("is_prime", 1),
    ("next_prime", 1),
    ("abs_diff", 2),
];

/// `INT_MATH_NAMES[op]` of `a` (and `b`), or the `<kind>: <message>` of its fault.
pub fn int_math(op: i64, a: i64, b: i64) -> Result<i64, String> {
    let name = usize::try_from(op)
        .ok()
        .and_then(|op| INT_MATH_NAMES.get(op))
        .map_or("?", |&(name, _)| name);
    let negative = || Err(format!("invalid argument: {name} of negative {a}"));
    let too_big = |args: String| {
        Err(format!(
            "integer overflow: {name}({args}) does not fit in int"
        ))
    };
    match op {
        0 if a < 0 => negative(),
        0 => (1..=a)
            .try_fold(1i64, |p, k| p.checked_mul(k))
            .map_or_else(|| too_big(a.to_string()), Ok),
        1 if a < 0 => negative(),
        // fibonacci(92) is the last that fits.
        1 if a > 92 => too_big(a.to_string()),
        1 => {
            let (mut x, mut y) = (0i64, 1i64);
            for _ in 0..a {
                // `y` runs one ahead and may wrap on the last round; `x` never does.
                (x, y) = (y, x.wrapping_add(y));
            }
            Ok(x)
        }
        2 if a < 0 => negative(),
        2 if b < 0 || b > a => Ok(0),
        2 => {
            // C(n, k) = C(n, n - k); each partial product C(n - k + i, i) is an integer.
            let k = b.min(a - b) as i128;
            let mut value: i128 = 1;
            for i in 1..=k {
                value = value * (a as i128 - k + i) / i;
                if value > i64::MAX as i128 {
                    return too_big(format!("{a}, {b}"));
                }
            }
            Ok(value as i64)
        }
        3 if a < 0 => negative(),
        3 => {
            let mut root = libm::sqrt(a as f64) as i64;
            while root.checked_mul(root).is_none_or(|square| square > a) {
                root -= 1;
            }
            while (root + 1)
                .checked_mul(root + 1)
                .is_some_and(|square| square <= a)
            {
                root += 1;
            }
            Ok(root)
        }
        4 if a <= 0 => Err(format!(
            "invalid argument: int_log2 of {a}, which is not positive"
        )),
        4 => Ok(63 - i64::from(a.leading_zeros())),
        5 if b == 0 => Err(format!("division by zero: modulo({a}, 0)")),
        // Never negative: the remainder of Euclidean division (`-1` for `-1` mod `-1` is 0).
        5 => Ok(a.checked_rem_euclid(b).unwrap_or(0)),
        6 if b <= 0 => Err(format!(
            "invalid argument: next_multiple_of({a}, {b}): the multiple must be positive"
        )),
        6 => {
            let gap = (b - a.rem_euclid(b)) % b;
            a.checked_add(gap)
                .map_or_else(|| too_big(format!("{a}, {b}")), Ok)
        }
        7 => Ok(i64::from(is_prime(a))),
        8 => {
            let mut n = a.max(1);
            loop {
                n = match n.checked_add(1) {
                    Some(n) => n,
                    None => return too_big(a.to_string()),
                };
                if is_prime(n) {
                    return Ok(n);
                }
            }
        }
        9 => a
            .checked_sub(b)
            .and_then(i64::checked_abs)
            .map_or_else(|| too_big(format!("{a}, {b}")), Ok),
        _ => Err(format!("invalid argument: integer function {op}")),
    }
}

/// Whether `n` is a prime number: Miller-Rabin with the bases that decide every 64-bit number.
fn is_prime(n: i64) -> bool {
    const BASES: [u64; 12] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
    if n < 2 {
        return false;
    }
    let n = n as u64;
    if let Some(&base) = BASES.iter().find(|&&base| n.is_multiple_of(base)) {
        return n == base;
    }
    let mul = |a: u64, b: u64| ((u128::from(a) * u128::from(b)) % u128::from(n)) as u64;
    let pow = |mut base: u64, mut exponent: u64| {
        let mut result = 1u64;
        while exponent > 0 {
            if exponent & 1 == 1 {
                result = mul(result, base);
            }
            base = mul(base, base);
            exponent >>= 1;
        }
        result
    };
    let (shift, odd) = (
        (n - 1).trailing_zeros(),
        (n - 1) >> (n - 1).trailing_zeros(),
    );
    BASES.iter().all(|&base| {
        let mut x = pow(base, odd);
        if x == 1 || x == n - 1 {
            return true;
        }
        (1..shift).any(|_| {
            x = mul(x, x);
            x == n - 1
        })
    })
}

/// `factorial(n)`, `fibonacci(n)`, `binomial(n, k)`, `int_sqrt(n)`, `int_log2(n)`, `modulo(a,
/// b)`, `next_multiple_of(n, m)`, `is_prime(n)` (0 or 1) and `next_prime(n)`, by their position
/// `op` in [`INT_MATH_NAMES`] (`b` is 0 for those of one argument); faults on a negative
/// argument, a zero divisor or a result that does not fit.
///
/// # Safety
/// `site` must point to `site_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn keel_int_math(
    op: i64,
    a: i64,
    b: i64,
    site: *const u8,
    site_len: usize,
) -> i64 {
    match int_math(op, a, b) {
        Ok(value) => value,
        Err(message) => {
            // SAFETY: forwarded from the caller.
            unsafe { fault_at(site, site_len, &message) };
            0
        }
    }
}

pub const FLOAT_MATH_NAMES: [&str; 13] = [
    "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "log10", "log2",
    "exp2", "cbrt",
];

/// `asin(x)`, `acos(x)`, ... : the function of [`FLOAT_MATH_NAMES`] numbered `op`, of `x`
/// (NaN outside its domain, as in IEEE arithmetic; never a fault). An unknown `op` gives NaN.
#[no_mangle]
pub extern "C" fn keel_float_math(op: i64, x: f64) -> f64 {
    match op {
        0 => libm::asin(x),
        1 => libm::acos(x),
        2 => libm::atan(x),
        3 => libm::sinh(x),
        4 => libm::cosh(x),
        5 => libm::tanh(x),
        6 => libm::asinh(x),
        7 => libm::acosh(x),
        8 => libm::atanh(x),
        9 => libm::log10(x),
        10 => libm::log2(x),
        11 => libm::exp2(x),
        12 => libm::cbrt(x),
        _ => f64::NAN,
    }
}

/// `hypot(a, b)` (op 0: the length of the vector `(a, b)`, without overflow in between) and
/// `copysign(a, b)` (op 1: `a`'s magnitude with `b`'s sign; with a NaN `b`, the positive
/// magnitude, because the sign of a NaN differs between machines).
#[no_mangle]
pub extern "C" fn keel_float_math2(op: i64, a: f64, b: f64) -> f64 {
    match op {
        0 => libm::hypot(a, b),
        1 if b.is_nan() => libm::fabs(a),
        1 => libm::copysign(a, b),
        _ => f64::NAN,
    }
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
    fn primes_agree_with_trial_division() {
        let by_division = |n: i64| n >= 2 && (2..n).take_while(|d| d * d <= n).all(|d| n % d != 0);
        for n in -3..20_000 {
            assert_eq!(is_prime(n), by_division(n), "{n}");
        }
        // Strong pseudoprimes to several small bases, and primes near the top.
        for n in [
            3_215_031_751,
            2_152_302_898_747,
            3_474_749_660_383,
            341_550_071_728_321,
        ] {
            assert!(!is_prime(n), "{n}");
        }
        assert!(is_prime(i64::MAX - 24));
        assert!(!is_prime(i64::MAX));
    }

    #[test]
    fn integer_functions_and_their_faults() {
        let code = |name: &str| INT_MATH_NAMES.iter().position(|&(n, _)| n == name).unwrap() as i64;
        assert_eq!(
            int_math(code("factorial"), 20, 0),
            Ok(2_432_902_008_176_640_000)
        );
        assert_eq!(
            int_math(code("factorial"), 21, 0),
            Err("integer overflow: factorial(21) does not fit in int".into())
        );
        assert_eq!(
            int_math(code("fibonacci"), -1, 0),
            Err("invalid argument: fibonacci of negative -1".into())
        );
        assert_eq!(
            int_math(code("fibonacci"), 92, 0),
            Ok(7_540_113_804_746_346_429)
        );
        assert!(int_math(code("fibonacci"), 93, 0).is_err());
        assert_eq!(
            int_math(code("binomial"), 66, 33),
            Ok(7_219_428_434_016_265_740)
        );
        assert!(int_math(code("binomial"), 68, 34).is_err());
        assert_eq!(int_math(code("int_sqrt"), i64::MAX, 0), Ok(3_037_000_499));
        assert_eq!(int_math(code("modulo"), i64::MIN, -1), Ok(0));
        assert_eq!(
            int_math(code("modulo"), 1, 0),
            Err("division by zero: modulo(1, 0)".into())
        );
        assert!(int_math(code("next_multiple_of"), i64::MAX, 2).is_err());
        assert!(int_math(code("next_prime"), i64::MAX - 24, 0).is_err());
        assert!(int_math(code("abs_diff"), i64::MIN, 1).is_err());
    }

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
            assert_eq!(keel_int_abs(-5, core::ptr::null(), 0), 5);
            assert_eq!(keel_int_abs(i64::MAX, core::ptr::null(), 0), i64::MAX);
            assert_eq!(keel_int_pow(3, 4, core::ptr::null(), 0), 81);
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
        assert_eq!(keel_float_atan2(1.0, 1.0), core::f64::consts::FRAC_PI_4);
        assert_eq!(keel_float_exp(0.0), 1.0);
        assert_eq!(keel_float_ln(1.0), 0.0);
        assert_eq!(keel_float_sin(0.0), 0.0);
        assert_eq!(keel_float_cos(0.0), 1.0);
        assert_eq!(keel_float_tan(0.0), 0.0);
    }
}
