//! The checked integer operations of the VM (and `to_int`), as pure functions the interpreter
//! calls.
//!
//! Each function computes one IR operation with exactly the semantics documented in `ir/mod.rs`
//! and returns `Err(op)` when the operation faults, naming the [`IntOp`] the runtime reports.
//! Keeping them pure lets unit tests check every edge case without ending the process; the
//! interpreter turns an `Err` into a call of `keel_runtime::keel_fault_int`.
//!
//! What this module does not do: report faults, or know about registers and instructions.

use keel_runtime::IntOp;

/// `a + b`; faults on signed overflow.
#[inline(always)]
pub fn add(a: i64, b: i64) -> Result<i64, IntOp> {
    a.checked_add(b).ok_or(IntOp::Add)
}

/// `a - b`; faults on signed overflow.
#[inline(always)]
pub fn sub(a: i64, b: i64) -> Result<i64, IntOp> {
    a.checked_sub(b).ok_or(IntOp::Sub)
}

/// `a * b`; faults on signed overflow.
#[inline(always)]
pub fn mul(a: i64, b: i64) -> Result<i64, IntOp> {
    a.checked_mul(b).ok_or(IntOp::Mul)
}

/// `a / b`, truncating toward zero; faults when `b` is 0 and on `i64::MIN / -1`.
#[inline(always)]
pub fn div(a: i64, b: i64) -> Result<i64, IntOp> {
    // `checked_div` fails exactly on a zero divisor and on `MIN / -1`.
    a.checked_div(b).ok_or(IntOp::Div)
}

/// `a % b` (the sign follows `a`); faults when `b` is 0; `i64::MIN % -1` is 0.
#[inline(always)]
pub fn rem(a: i64, b: i64) -> Result<i64, IntOp> {
    if b == 0 {
        return Err(IntOp::Rem);
    }
    // `wrapping_rem` yields 0 for `MIN % -1`, the one case where `%` overflows.
    Ok(a.wrapping_rem(b))
}

/// `a << b`; faults unless `b` is in `0..=63`; bits shifted out are discarded.
#[inline(always)]
pub fn shl(a: i64, b: i64) -> Result<i64, IntOp> {
    if (0..64).contains(&b) {
        Ok(a << b)
    } else {
        Err(IntOp::Shl)
    }
}

/// `a >> b`, arithmetic (sign-propagating); faults unless `b` is in `0..=63`.
#[inline(always)]
pub fn shr(a: i64, b: i64) -> Result<i64, IntOp> {
    if (0..64).contains(&b) {
        Ok(a >> b)
    } else {
        Err(IntOp::Shr)
    }
}

/// `-a`; faults on `-i64::MIN`.
#[inline(always)]
pub fn neg(a: i64) -> Result<i64, IntOp> {
    a.checked_neg().ok_or(IntOp::Neg)
}

/// `to_int(value)`: truncates toward zero; `None` (a fault) for NaN, infinities and values
/// outside `int` (valid: `-9223372036854775808.0 <= value < 9223372036854775808.0`).
#[inline(always)]
pub fn float_to_int(value: f64) -> Option<i64> {
    // 2^63 is exact as an f64; NaN fails both comparisons.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if (-LIMIT..LIMIT).contains(&value) {
        Some(value as i64)
    } else {
        None
    }
}

/// `!(a < b)`: true when `a >= b` or either is NaN (what a branch on `not (a < b)` tests).
#[inline(always)]
#[allow(clippy::neg_cmp_op_on_partial_ord)] // the negation, NaN included, is the point
pub fn not_less(a: f64, b: f64) -> bool {
    !(a < b)
}

/// `!(a <= b)`: true when `a > b` or either is NaN.
#[inline(always)]
#[allow(clippy::neg_cmp_op_on_partial_ord)] // the negation, NaN included, is the point
pub fn not_less_or_equal(a: f64, b: f64) -> bool {
    !(a <= b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negated_float_comparisons_hold_for_nan() {
        assert!(not_less(1.0, 1.0) && !not_less(0.0, 1.0) && not_less(f64::NAN, 1.0));
        assert!(not_less_or_equal(2.0, 1.0) && !not_less_or_equal(1.0, 1.0));
        assert!(not_less_or_equal(1.0, f64::NAN));
    }

    #[test]
    fn float_to_int_truncates_and_checks_the_range() {
        assert_eq!(float_to_int(2.9), Some(2));
        assert_eq!(float_to_int(-2.9), Some(-2));
        assert_eq!(float_to_int(-0.0), Some(0));
        assert_eq!(float_to_int(-9_223_372_036_854_775_808.0), Some(MIN));
        assert_eq!(float_to_int(9_223_372_036_854_775_808.0), None);
        // The largest f64 below 2^63.
        assert_eq!(
            float_to_int(9_223_372_036_854_774_784.0),
            Some(9_223_372_036_854_774_784)
        );
        assert_eq!(float_to_int(-9_223_372_036_854_777_856.0), None);
        assert_eq!(float_to_int(f64::NAN), None);
        assert_eq!(float_to_int(f64::INFINITY), None);
        assert_eq!(float_to_int(f64::NEG_INFINITY), None);
        assert_eq!(float_to_int(1e300), None);
    }

    const MIN: i64 = i64::MIN;
    const MAX: i64 = i64::MAX;

    #[test]
    fn add_sub_mul_fault_only_on_overflow() {
        assert_eq!(add(MAX - 1, 1), Ok(MAX));
        assert_eq!(add(MAX, 1), Err(IntOp::Add));
        assert_eq!(add(MIN, -1), Err(IntOp::Add));
        assert_eq!(add(-5, 3), Ok(-2));
        assert_eq!(sub(MIN + 1, 1), Ok(MIN));
        assert_eq!(sub(MIN, 1), Err(IntOp::Sub));
        assert_eq!(sub(0, MIN), Err(IntOp::Sub));
        assert_eq!(sub(-1, MIN), Ok(MAX));
        assert_eq!(mul(MIN, 1), Ok(MIN));
        assert_eq!(mul(MIN, -1), Err(IntOp::Mul));
        assert_eq!(mul(1 << 32, 1 << 31), Err(IntOp::Mul));
        assert_eq!(mul(-(1 << 32), 1 << 31), Ok(MIN));
        assert_eq!(mul(-7, 6), Ok(-42));
    }

    #[test]
    fn division_truncates_toward_zero() {
        assert_eq!(div(7, 2), Ok(3));
        assert_eq!(div(-7, 2), Ok(-3));
        assert_eq!(div(7, -2), Ok(-3));
        assert_eq!(div(-7, -2), Ok(3));
        assert_eq!(rem(7, 2), Ok(1));
        assert_eq!(rem(-7, 2), Ok(-1));
        assert_eq!(rem(7, -2), Ok(1));
        assert_eq!(rem(-7, -2), Ok(-1));
    }

    #[test]
    fn division_edge_cases() {
        assert_eq!(div(1, 0), Err(IntOp::Div));
        assert_eq!(div(0, 0), Err(IntOp::Div));
        assert_eq!(div(MIN, -1), Err(IntOp::Div));
        assert_eq!(div(MIN, 1), Ok(MIN));
        assert_eq!(div(MAX, -1), Ok(-MAX));
        assert_eq!(rem(1, 0), Err(IntOp::Rem));
        assert_eq!(rem(MIN, -1), Ok(0));
        assert_eq!(rem(MIN, MAX), Ok(-1));
    }

    #[test]
    fn shifts_check_the_amount() {
        assert_eq!(shl(1, 0), Ok(1));
        assert_eq!(shl(1, 63), Ok(MIN));
        assert_eq!(shl(3, 63), Ok(MIN));
        assert_eq!(shl(-1, 1), Ok(-2));
        assert_eq!(shl(1, 64), Err(IntOp::Shl));
        assert_eq!(shl(1, -1), Err(IntOp::Shl));
        assert_eq!(shl(1, MIN), Err(IntOp::Shl));
        assert_eq!(shr(-8, 1), Ok(-4));
        assert_eq!(shr(MIN, 63), Ok(-1));
        assert_eq!(shr(MAX, 63), Ok(0));
        assert_eq!(shr(1, 64), Err(IntOp::Shr));
        assert_eq!(shr(1, -3), Err(IntOp::Shr));
    }

    #[test]
    fn negation_faults_only_on_min() {
        assert_eq!(neg(5), Ok(-5));
        assert_eq!(neg(MAX), Ok(MIN + 1));
        assert_eq!(neg(0), Ok(0));
        assert_eq!(neg(MIN), Err(IntOp::Neg));
    }
}
