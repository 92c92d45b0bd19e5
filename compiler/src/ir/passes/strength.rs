//! Strength reduction: an even/odd test as a mask.
//!
//! `x % 2 == 0` (and any `x % C` compared with 0, `C` a power of two from 2) is whether the low
//! bits of `x` are zero: `x & (C - 1) == 0`, also for negative `x` (whose remainder is negative
//! but zero exactly when those bits are). When the remainder is a temporary read only by that
//! comparison, the pass turns `rem.int` into `and`: one instruction instead of the shifts and
//! subtraction a signed remainder takes. A remainder by a constant other than 0 never faults,
//! so no fault is lost.
//!
//! What it does not do: anything when the remainder is read elsewhere, or a divisor that is not
//! a power of two.

use crate::ir::{BinaryOp, Function, Inst, Local, Operand};

/// Rewrites every qualifying remainder of `func`.
pub fn reduce(func: &mut Function) {
    let mut reads = vec![0u32; func.locals.len()];
    for block in &func.blocks {
        for inst in &block.insts {
            inst.for_each_use(|op| count(&mut reads, op));
        }
        if let Some(op) = block.term.operand() {
            count(&mut reads, op);
        }
    }
    for block in &mut func.blocks {
        for i in 1..block.insts.len() {
            let tested = match &block.insts[i] {
                Inst::Binary {
                    op: BinaryOp::EqInt | BinaryOp::NeInt,
                    lhs: Operand::Local(rem),
                    rhs: Operand::Int(0),
                    ..
                } => *rem,
                _ => continue,
            };
            if reads[tested.0 as usize] != 1 {
                continue;
            }
            if let Inst::Binary {
                dst,
                op: op @ BinaryOp::RemInt,
                rhs: rhs @ Operand::Int(2..),
                ..
            } = &mut block.insts[i - 1]
            {
                let Operand::Int(divisor) = *rhs else {
                    continue;
                };
                if *dst == tested && divisor.count_ones() == 1 {
                    *op = BinaryOp::BitAnd;
                    *rhs = Operand::Int(divisor - 1);
                }
            }
        }
    }
}

fn count(reads: &mut [u32], op: &Operand) {
    if let Operand::Local(Local(n)) = op {
        reads[*n as usize] += 1;
    }
}

#[cfg(test)]
mod tests {
    use crate::ir::print::program_to_string;
    use crate::ir::testing::program;

    /// The program of function 0 with body `body` (locals `%1: int, %2: bool`) and an empty
    /// entry function, printed after the pass ran on function 0.
    fn reduced(ret: &str, body: &str) -> String {
        let mut program = program(&format!(
            "fn#0 f(%0: int) -> {ret} {{\n  locals %1: int, %2: bool\nb0:\n{body}\n}}\n\
             fn#1 (entry) <main>() -> void {{\nb0:\n  return\n}}"
        ));
        super::reduce(&mut program.functions[0]);
        program_to_string(&program)
    }

    #[test]
    fn an_even_test_becomes_a_mask() {
        let text = reduced(
            "bool",
            "%1 = rem.int %0, 8 @1:1\n%2 = eq.int %1, 0\nreturn %2",
        );
        assert!(text.contains("    %1 = and %0, 7\n"), "{text}");
    }

    #[test]
    fn a_remainder_read_again_or_by_another_divisor_stays() {
        let again = reduced(
            "int",
            "%1 = rem.int %0, 2 @1:1\n%2 = ne.int %1, 0\nreturn %1",
        );
        assert!(again.contains("rem.int %0, 2"), "{again}");
        let six = reduced(
            "bool",
            "%1 = rem.int %0, 6 @1:1\n%2 = eq.int %1, 0\nreturn %2",
        );
        assert!(six.contains("rem.int %0, 6"), "{six}");
    }
}
