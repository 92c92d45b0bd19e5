//! Whole-VM tests: small IR programs, written as IR text (`ir::testing`), compiled and run
//! in-process (scalars, control flow and calls here; floats and heap values in `value_tests`),
//! with checks of the bytecode they compile to.
//!
//! Programs here never fault or exit (that would end the test process); fault detection is
//! tested on the pure operations in `ops`, which the interpreter itself uses, and what programs
//! do on every backend by the IR files in `tests/ir/`.

use super::bytecode::Instr;
use super::interp::execute;
use super::{compile, disassemble, ops, Module};
use crate::ir::print::binary_name;
use crate::ir::testing::{self, FIB};
use crate::ir::{BinaryOp, Program, Ty};

/// Compiles `program` and runs function `func` on `args`.
pub(super) fn run(program: &Program, func: u32, args: &[i64]) -> i64 {
    let module = compile(program);
    execute(&module, func, args, false)
}

/// `op`'s site suffix in the IR text: ` @1:1` when it can fault, nothing otherwise.
pub(super) fn site_of(op: BinaryOp) -> &'static str {
    if op.can_fault() {
        " @1:1"
    } else {
        ""
    }
}

/// An operand of a generated function: parameter `%param`, or `value` written as an immediate.
pub(super) fn operand(ty: Ty, value: i64, immediate: bool, param: u32) -> String {
    match (immediate, ty) {
        (false, _) => format!("%{param}"),
        (true, Ty::Bool) => (value != 0).to_string(),
        (true, _) => value.to_string(),
    }
}

#[test]
fn fib_computes_and_compiles_tightly() {
    let program = testing::program(FIB);
    assert_eq!(run(&program, 0, &[0]), 0);
    assert_eq!(run(&program, 0, &[1]), 1);
    assert_eq!(run(&program, 0, &[20]), 6765);
    let module = compile(&program);
    // Fused compare-and-jump, arguments computed in place, no moves.
    let fib = &module.functions()[0];
    let code = &module.code()[fib.frame.entry as usize..fib.end as usize];
    assert!(
        matches!(code[0], Instr::GeIntImmJump { imm: 2, .. }),
        "{}",
        disassemble(&module)
    );
    assert!(
        !code.iter().any(|i| matches!(i, Instr::Mov { .. })),
        "{}",
        disassemble(&module)
    );
    assert_eq!(code.len(), 8, "{}", disassemble(&module));
}

/// `fn sum(n) -> int { var s = 0; var i = 1; while i <= BOUND { s = s + i; i = i + 1; } return s }`
/// with `bound` the parameter `%0` or a constant.
fn sum_program(bound: &str) -> Program {
    testing::program(&format!(
        "fn#0 (entry) sum(%0: int) -> int {{
           locals %1: int, %2: int, %3: bool, %4: int, %5: int
         b0:
           %1 = 0
           %2 = 1
           jump b1
         b1:
           %3 = le.int %2, {bound}
           branch %3, b2, b3
         b2:
           %4 = add.int %1, %2 @1:1
           %1 = %4
           %5 = add.int %2, 1 @1:1
           %2 = %5
           jump b1
         b3:
           return %1
         }}"
    ))
}

#[test]
fn while_loop_sums_with_two_instructions_per_iteration() {
    let program = sum_program("%0");
    assert_eq!(run(&program, 0, &[100_000]), 5_000_050_000);
    assert_eq!(run(&program, 0, &[0]), 0);
    let module = compile(&program);
    let listing = disassemble(&module);
    // The body is the add, then the increment fused with the loop condition copied to its end.
    let body: Vec<&Instr> = module
        .code()
        .iter()
        .skip_while(|i| !matches!(i, Instr::AddInt { .. }))
        .take(2)
        .collect();
    assert!(matches!(body[1], Instr::IncLeIntJump { .. }), "{listing}");
    assert!(!listing.contains("mov"), "{listing}");

    let constant_bound = sum_program("1000");
    assert_eq!(run(&constant_bound, 0, &[0]), 500_500);
    let listing = disassemble(&compile(&constant_bound));
    assert!(listing.contains("inc_le_int_imm_jump"), "{listing}");
}

#[test]
fn wide_constants_go_through_scratch_registers() {
    let program = sum_program("5000000000");
    let listing = disassemble(&compile(&program));
    assert!(
        listing.contains("load_int") && listing.contains("le_int_jump"),
        "{listing}"
    );
}

/// The value of `lhs op rhs` computed by a compiled function, where each side is either a
/// parameter or an immediate.
fn eval_binary(op: BinaryOp, ty: Ty, a: i64, b: i64, a_imm: bool, b_imm: bool) -> i64 {
    let result_ty = if op.is_comparison() { Ty::Bool } else { ty };
    let program = testing::program(&format!(
        "fn#0 (entry) f(%0: {ty}, %1: {ty}) -> {result_ty} {{
           locals %2: {result_ty}
         b0:
           %2 = {} {}, {}{}
           return %2
         }}",
        binary_name(op),
        operand(ty, a, a_imm, 0),
        operand(ty, b, b_imm, 1),
        site_of(op),
    ));
    run(&program, 0, &[a, b])
}

const SHAPES: [(bool, bool); 4] = [(false, false), (false, true), (true, false), (true, true)];

const INTS: [i64; 12] = [
    0,
    1,
    -1,
    2,
    7,
    -7,
    63,
    64,
    i32::MAX as i64 + 1,
    i32::MIN as i64,
    i64::MAX,
    i64::MIN,
];

#[test]
fn every_arithmetic_op_agrees_with_its_definition_in_every_operand_shape() {
    type Reference = fn(i64, i64) -> Result<i64, keel_runtime::IntOp>;
    let cases: [(BinaryOp, Reference); 10] = [
        (BinaryOp::AddInt, ops::add),
        (BinaryOp::SubInt, ops::sub),
        (BinaryOp::MulInt, ops::mul),
        (BinaryOp::DivInt, ops::div),
        (BinaryOp::RemInt, ops::rem),
        (BinaryOp::Shl, ops::shl),
        (BinaryOp::Shr, ops::shr),
        (BinaryOp::BitAnd, |a, b| Ok(a & b)),
        (BinaryOp::BitOr, |a, b| Ok(a | b)),
        (BinaryOp::BitXor, |a, b| Ok(a ^ b)),
    ];
    for (op, reference) in cases {
        for a in INTS {
            for b in INTS {
                // Faulting cases end the process; they are covered by `ops`' tests.
                let Ok(expected) = reference(a, b) else {
                    continue;
                };
                for (a_imm, b_imm) in SHAPES {
                    let got = eval_binary(op, Ty::Int, a, b, a_imm, b_imm);
                    assert_eq!(
                        got, expected,
                        "{a} {op:?} {b} (immediates: {a_imm} {b_imm})"
                    );
                }
            }
        }
    }
}

#[test]
fn comparisons_agree_with_rust_as_values_and_as_branches() {
    type Relation = fn(i64, i64) -> bool;
    let cases: [(BinaryOp, Relation); 6] = [
        (BinaryOp::EqInt, |a, b| a == b),
        (BinaryOp::NeInt, |a, b| a != b),
        (BinaryOp::LtInt, |a, b| a < b),
        (BinaryOp::LeInt, |a, b| a <= b),
        (BinaryOp::GtInt, |a, b| a > b),
        (BinaryOp::GeInt, |a, b| a >= b),
    ];
    let values = [0, 1, -1, 5, i32::MAX as i64 + 1, i64::MIN, i64::MAX];
    for (op, reference) in cases {
        for a in values {
            for b in values {
                let expected = i64::from(reference(a, b));
                for (a_imm, b_imm) in SHAPES {
                    let value = eval_binary(op, Ty::Int, a, b, a_imm, b_imm);
                    assert_eq!(value, expected, "{a} {op:?} {b} as a value");
                    for negated in [false, true] {
                        let taken = eval_branch(op, a, b, a_imm, b_imm, negated);
                        assert_eq!(
                            taken,
                            expected ^ i64::from(negated),
                            "{a} {op:?} {b} as a branch"
                        );
                    }
                }
            }
        }
    }
}

/// `if (lhs op rhs) [negated with not] { return 1 } return 0` on ints, in both block orders.
fn eval_branch(op: BinaryOp, a: i64, b: i64, a_imm: bool, b_imm: bool, negated: bool) -> i64 {
    let (lhs, rhs) = (operand(Ty::Int, a, a_imm, 0), operand(Ty::Int, b, b_imm, 1));
    eval_branch_on(op, Ty::Int, (&lhs, &rhs), negated, &[a, b])
}

/// `if (lhs op rhs) [negated with not] { return 1 } return 0` with two parameters of type `ty`,
/// `lhs` and `rhs` written as IR operands, run on `args` with the then-block first and second:
/// both orders must agree.
pub(super) fn eval_branch_on(
    op: BinaryOp,
    ty: Ty,
    (lhs, rhs): (&str, &str),
    negated: bool,
    args: &[i64],
) -> i64 {
    let (test, tested) = if negated {
        ("%3 = not %2", "%3")
    } else {
        ("", "%2")
    };
    let mut results = Vec::new();
    for then_first in [true, false] {
        let (yes, no) = if then_first {
            ("b1", "b2")
        } else {
            ("b2", "b1")
        };
        let program = testing::program(&format!(
            "fn#0 (entry) f(%0: {ty}, %1: {ty}) -> int {{
               locals %2: bool, %3: bool
             b0:
               %2 = {} {lhs}, {rhs}{}
               {test}
               branch {tested}, {yes}, {no}
             b1:
               return {}
             b2:
               return {}
             }}",
            binary_name(op),
            site_of(op),
            u8::from(then_first),
            u8::from(!then_first),
        ));
        results.push(run(&program, 0, args));
    }
    assert_eq!(results[0], results[1], "block order changed the result");
    results[0]
}

#[test]
fn bool_ops_work_on_zero_and_one() {
    type Logic = fn(bool, bool) -> bool;
    let cases: [(BinaryOp, Logic); 5] = [
        (BinaryOp::BitAnd, |a, b| a & b),
        (BinaryOp::BitOr, |a, b| a | b),
        (BinaryOp::BitXor, |a, b| a ^ b),
        (BinaryOp::EqBool, |a, b| a == b),
        (BinaryOp::NeBool, |a, b| a != b),
    ];
    for (op, reference) in cases {
        for a in [false, true] {
            for b in [false, true] {
                for (a_imm, b_imm) in SHAPES {
                    let got = eval_binary(op, Ty::Bool, a.into(), b.into(), a_imm, b_imm);
                    assert_eq!(got, i64::from(reference(a, b)), "{a} {op:?} {b}");
                }
            }
        }
    }
}

#[test]
fn unary_ops() {
    for (op, ty, input, expected) in [
        ("neg.int", Ty::Int, 5, -5),
        ("neg.int", Ty::Int, i64::MAX, -i64::MAX),
        ("not", Ty::Bool, 0, 1),
        ("not", Ty::Bool, 1, 0),
    ] {
        let site = if op == "neg.int" { " @1:1" } else { "" };
        for imm in [false, true] {
            let program = testing::program(&format!(
                "fn#0 (entry) f(%0: {ty}) -> {ty} {{
                   locals %1: {ty}
                 b0:
                   %1 = {op} {}{site}
                   return %1
                 }}",
                operand(ty, input, imm, 0),
            ));
            assert_eq!(run(&program, 0, &[input]), expected, "{op} {input}");
        }
    }
}

#[test]
fn nested_calls_keep_argument_order() {
    // fn f(a, b, c) -> int { return a * 100 + 10 * b + c }
    // fn g(n) -> int { return f(n - 1, f(n, n + 1, 1), n + 2) }
    let program = testing::program(
        "fn#0 (entry) f(%0: int, %1: int, %2: int) -> int {
           locals %3: int, %4: int, %5: int, %6: int
         b0:
           %3 = mul.int %0, 100 @1:1
           %4 = mul.int 10, %1 @1:1
           %5 = add.int %3, %4 @1:1
           %6 = add.int %5, %2 @1:1
           return %6
         }
         fn#1 g(%0: int) -> int {
           locals %1: int, %2: int, %3: int, %4: int, %5: int
         b0:
           %1 = sub.int %0, 1 @1:1
           %2 = add.int %0, 1 @1:1
           %3 = call f(%0, %2, 1) @1:1
           %4 = add.int %0, 2 @1:1
           %5 = call f(%1, %3, %4) @1:1
           return %5
         }",
    );
    // f(3, 4, 1) = 341; f(2, 341, 5) = 200 + 3410 + 5
    assert_eq!(run(&program, 1, &[3]), 3615);
}

#[test]
fn a_discarded_result_clobbers_nothing() {
    // fn seven() -> int { return 7 }  fn main() -> int { let a = 5; seven(); return a }
    let program = testing::program(
        "fn#0 (entry) seven() -> int {
         b0:
           return 7
         }
         fn#1 main() -> int {
           locals %0: int
         b0:
           %0 = 5
           call seven() @1:1
           return %0
         }",
    );
    assert_eq!(run(&program, 1, &[]), 5);
}

#[test]
fn an_increment_ending_one_block_does_not_fuse_with_the_next_blocks_branch() {
    let program = testing::program(
        "fn#0 (entry) f(%0: bool) -> int {
           locals %1: int, %2: bool
         b0:
           %1 = 0
           branch %0, b1, b2
         b1:
           %1 = add.int %1, 1 @1:1
           jump b2
         b2:
           %2 = lt.int %1, 1
           branch %2, b3, b4
         b3:
           return 1
         b4:
           return 0
         }",
    );
    assert_eq!(run(&program, 0, &[0]), 1);
    assert_eq!(run(&program, 0, &[1]), 0);
    let module = compile(&program);
    let code = module.code();
    // The layout this test is about: b1's increment falls through into b2's compare-and-jump.
    assert!(
        matches!(code[2], Instr::AddIntImm { .. }),
        "{}",
        disassemble(&module)
    );
    assert!(
        matches!(code[3], Instr::GeIntImmJump { .. }),
        "{}",
        disassemble(&module)
    );
}

#[test]
fn loop_steps_fuse_for_every_bound_shape() {
    // fn count(n) -> int { let k = 0; let i = 0; while i OP bound { k = k + 2; i = 1 + i } return k }
    for (op, bound_imm) in [
        (BinaryOp::LtInt, false),
        (BinaryOp::LtInt, true),
        (BinaryOp::LeInt, false),
        (BinaryOp::LeInt, true),
    ] {
        for n in [0i64, 1, 10] {
            let program = testing::program(&format!(
                "fn#0 (entry) count(%0: int) -> int {{
                   locals %1: int, %2: int, %3: bool
                 b0:
                   %1 = 0
                   %2 = 0
                   jump b1
                 b1:
                   %3 = {} %2, {}
                   branch %3, b2, b3
                 b2:
                   %1 = add.int %1, 2 @1:1
                   %2 = add.int 1, %2 @1:1
                   jump b1
                 b3:
                   return %1
                 }}",
                binary_name(op),
                operand(Ty::Int, n, bound_imm, 0),
            ));
            let module = compile(&program);
            let listing = disassemble(&module);
            assert!(listing.contains("inc_l"), "{listing}");
            let iterations = if op == BinaryOp::LtInt { n } else { n + 1 };
            assert_eq!(
                execute(&module, 0, &[n], false),
                2 * iterations,
                "{op:?} {n}\n{listing}"
            );
        }
    }
}

#[test]
fn deep_recursion_grows_the_register_file() {
    // fn depth(n) -> int { if n == 0 { return 0 } return depth(n - 1) + 1 }
    let program = testing::program(
        "fn#0 (entry) depth(%0: int) -> int {
           locals %1: bool, %2: int, %3: int, %4: int
         b0:
           %1 = eq.int %0, 0
           branch %1, b1, b2
         b1:
           return 0
         b2:
           %2 = sub.int %0, 1 @1:1
           %3 = call depth(%2) @1:1
           %4 = add.int %3, 1 @1:1
           return %4
         }",
    );
    assert_eq!(run(&program, 0, &[200_000]), 200_000);
}

#[test]
fn string_literals_are_static_objects_owned_by_the_module() {
    // fn pick(b) -> string { var s: string; if b { s = "yes" } else { s = "no" } return s }
    let program = testing::program(
        r#"str#0 = "yes"
           str#1 = "no"
           fn#0 (entry) pick(%0: bool) -> string {
             locals %1: string
           b0:
             branch %0, b1, b2
           b1:
             %1 = str#0
             jump b3
           b2:
             %1 = str#1
             jump b3
           b3:
             return %1
           }"#,
    );
    let module: Module = compile(&program);
    let values = module.literals().values();
    assert_eq!(module.literals().texts(), ["yes".to_string(), "no".into()]);
    assert_eq!(execute(&module, 0, &[1], false), values[0]);
    assert_eq!(execute(&module, 0, &[0], false), values[1]);
    let header = values[0] as *const keel_runtime::layout::StrHeader;
    // SAFETY: `values[0]` is the literal "yes", alive as long as `module`.
    let (rc, text) = unsafe { ((*header).rc, keel_runtime::string::as_bytes(header)) };
    assert_eq!((rc, text), (keel_runtime::layout::STATIC_RC, &b"yes"[..]));
}

#[test]
fn void_calls_and_constant_branches() {
    // fn nothing() {}  fn main() -> int { nothing(); if true { return 7 } return 8 }
    let program = testing::program(
        "fn#0 (entry) nothing() -> void {
         b0:
           return
         }
         fn#1 main() -> int {
         b0:
           call nothing() @1:1
           branch true, b1, b2
         b1:
           return 7
         b2:
           return 8
         }",
    );
    assert_eq!(run(&program, 1, &[]), 7);
    let listing = disassemble(&compile(&program));
    assert!(
        !listing.contains("load_int r1, 8"),
        "dead block emitted:\n{listing}"
    );
}

#[test]
fn disassembly_names_functions_sites_and_literals() {
    let listing = disassemble(&compile(&testing::program(FIB)));
    assert!(listing.starts_with("fn#0 fib: 1 param"), "{listing}");
    assert!(
        listing.contains("ge_int_imm_jump  r0, 2, -> 2"),
        "{listing}"
    );
    assert!(listing.contains("call             fn#0 fib"), "{listing}");
    assert!(listing.contains("@1:1"), "{listing}");
}
