//! The checked integer operations of the VM, as pure functions the interpreter calls.
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

#[cfg(test)]
mod tests {
    use super::*;

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
