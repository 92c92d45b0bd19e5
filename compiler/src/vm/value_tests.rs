//! Whole-VM tests of floats and heap values: hand-built IR, compiled and run in-process.
//!
//! Heap tests check the runtime's live-object count before and after, so a missing or extra
//! reference-count operation in the VM shows up as a leak or a crash. Results come back as
//! return values (strings are compared inside the program with `StrEq`), since printing goes to
//! the process's standard output.

use super::bytecode::Instr;
use super::interp::execute;
use super::tests::{l, program, run, typed_program, FnBuilder, SITE};
use super::{compile, disassemble};
use crate::ir::{
    ArrayId, BinaryOp, FieldDef, Inst, Local, Operand, RtFunc, StrId, StructDef, StructId, Term,
    Ty, UnaryOp,
};
use keel_runtime::object::live_objects;

fn fl(x: f64) -> Operand {
    Operand::Float(x.to_bits())
}

fn bits(x: f64) -> i64 {
    x.to_bits() as i64
}

fn float_of(word: i64) -> f64 {
    f64::from_bits(word as u64)
}

fn rt(f: &mut FnBuilder, block: crate::ir::BlockId, dst: Local, func: RtFunc, args: Vec<Operand>) {
    f.push(
        block,
        Inst::CallRt {
            dst: Some(dst),
            func,
            args,
            site: SITE,
        },
    );
}

/// Runs `program`'s function 0 and checks that it leaves no heap object behind.
fn run_without_leaks(program: &crate::ir::Program) -> i64 {
    let module = compile(program);
    let before = live_objects();
    let result = execute(&module, 0, &[], false);
    assert_eq!(live_objects(), before, "objects leaked or freed twice");
    result
}

const FLOATS: [f64; 10] = [
    0.0,
    -0.0,
    1.0,
    0.1,
    -2.5,
    3.0,
    1e308,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
];

const SHAPES: [(bool, bool); 4] = [(false, false), (false, true), (true, false), (true, true)];

/// `lhs op rhs` on floats, each side a parameter or a constant.
fn eval_float(op: BinaryOp, a: f64, b: f64, a_const: bool, b_const: bool) -> i64 {
    let result_ty = if op.is_comparison() {
        Ty::Bool
    } else {
        Ty::Float
    };
    let mut f = FnBuilder::new("f", &[Ty::Float, Ty::Float], result_ty);
    let dst = f.local(result_ty);
    let block = f.block();
    let side = |x: f64, constant: bool, param: u32| if constant { fl(x) } else { l(Local(param)) };
    f.binary(block, dst, op, side(a, a_const, 0), side(b, b_const, 1));
    f.end(block, Term::Return(Some(l(dst))));
    run(&program(vec![f.build()], &[]), 0, &[bits(a), bits(b)])
}

#[test]
fn float_arithmetic_is_ieee_in_every_operand_shape() {
    type Arith = fn(f64, f64) -> f64;
    let cases: [(BinaryOp, Arith); 4] = [
        (BinaryOp::AddFloat, |a, b| a + b),
        (BinaryOp::SubFloat, |a, b| a - b),
        (BinaryOp::MulFloat, |a, b| a * b),
        (BinaryOp::DivFloat, |a, b| a / b),
    ];
    for (op, reference) in cases {
        for a in FLOATS {
            for b in FLOATS {
                let expected = reference(a, b);
                for (a_const, b_const) in SHAPES {
                    let got = float_of(eval_float(op, a, b, a_const, b_const));
                    assert!(
                        got.to_bits() == expected.to_bits() || (got.is_nan() && expected.is_nan()),
                        "{a} {op:?} {b} = {got}, expected {expected}"
                    );
                }
            }
        }
    }
}

/// `if (lhs op rhs) [negated with not] { return 1 } return 0` on floats, in both block orders.
fn eval_float_branch(op: BinaryOp, a: f64, b: f64, b_const: bool, negated: bool) -> i64 {
    let mut results = Vec::new();
    for then_first in [true, false] {
        let mut f = FnBuilder::new("f", &[Ty::Float, Ty::Float], Ty::Int);
        let (cond, not) = (f.local(Ty::Bool), f.local(Ty::Bool));
        let entry = f.block();
        let (yes, no) = if then_first {
            (f.block(), f.block())
        } else {
            let no = f.block();
            (f.block(), no)
        };
        let rhs = if b_const { fl(b) } else { l(Local(1)) };
        f.binary(entry, cond, op, l(Local(0)), rhs);
        let tested = if negated {
            f.push(
                entry,
                Inst::Unary {
                    dst: not,
                    op: UnaryOp::Not,
                    src: l(cond),
                    site: SITE,
                },
            );
            not
        } else {
            cond
        };
        f.end(
            entry,
            Term::Branch {
                cond: l(tested),
                then_to: yes,
                else_to: no,
            },
        );
        f.end(yes, Term::Return(Some(Operand::Int(1))));
        f.end(no, Term::Return(Some(Operand::Int(0))));
        results.push(run(&program(vec![f.build()], &[]), 0, &[bits(a), bits(b)]));
    }
    assert_eq!(results[0], results[1], "block order changed the result");
    results[0]
}

#[test]
fn float_comparisons_respect_nan_as_values_and_as_branches() {
    type Relation = fn(f64, f64) -> bool;
    let cases: [(BinaryOp, Relation); 6] = [
        (BinaryOp::EqFloat, |a, b| a == b),
        (BinaryOp::NeFloat, |a, b| a != b),
        (BinaryOp::LtFloat, |a, b| a < b),
        (BinaryOp::LeFloat, |a, b| a <= b),
        (BinaryOp::GtFloat, |a, b| a > b),
        (BinaryOp::GeFloat, |a, b| a >= b),
    ];
    let values = [0.0, -0.0, 1.5, -1.5, f64::INFINITY, f64::NAN];
    for (op, reference) in cases {
        for a in values {
            for b in values {
                let expected = i64::from(reference(a, b));
                for (a_const, b_const) in SHAPES {
                    let value = eval_float(op, a, b, a_const, b_const);
                    assert_eq!(value, expected, "{a} {op:?} {b} as a value");
                }
                for b_const in [false, true] {
                    for negated in [false, true] {
                        let taken = eval_float_branch(op, a, b, b_const, negated);
                        assert_eq!(
                            taken,
                            expected ^ i64::from(negated),
                            "{a} {op:?} {b} as a branch (negated: {negated})"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn float_branches_fuse_into_one_instruction() {
    // `while x < 10.0 { x = x * 2.0 }` keeps a fused float compare-and-jump.
    let mut f = FnBuilder::new("f", &[Ty::Float], Ty::Float);
    let (go, next) = (f.local(Ty::Bool), f.local(Ty::Float));
    let (entry, header, body, exit) = (f.block(), f.block(), f.block(), f.block());
    f.end(entry, Term::Jump(header));
    f.binary(header, go, BinaryOp::LtFloat, l(Local(0)), fl(10.0));
    f.end(
        header,
        Term::Branch {
            cond: l(go),
            then_to: body,
            else_to: exit,
        },
    );
    f.binary(body, next, BinaryOp::MulFloat, l(Local(0)), fl(2.0));
    f.push(
        body,
        Inst::Copy {
            dst: Local(0),
            src: l(next),
        },
    );
    f.end(body, Term::Jump(header));
    f.end(exit, Term::Return(Some(l(Local(0)))));
    let program = program(vec![f.build()], &[]);
    assert_eq!(float_of(run(&program, 0, &[bits(0.75)])), 12.0);
    let module = compile(&program);
    let listing = disassemble(&module);
    assert!(
        listing.contains("not_lt_float_jump") && listing.contains("lt_float_jump"),
        "{listing}"
    );
    assert!(
        !listing.contains("lt_float "),
        "comparison not fused:\n{listing}"
    );
    // The constants are loaded once, before the loop: two instructions per iteration.
    assert_eq!(listing.matches("load_float").count(), 2, "{listing}");
    let code = module.code();
    let body = code
        .iter()
        .position(|i| matches!(i, Instr::MulFloat { .. }))
        .unwrap();
    assert!(
        matches!(code[body + 1], Instr::LtFloatJump { .. }),
        "{listing}"
    );
}

#[test]
fn conversions_and_negation() {
    let unary = |op: UnaryOp, from: Ty, to: Ty, input: i64, constant: bool| -> i64 {
        let mut f = FnBuilder::new("f", &[from], to);
        let dst = f.local(to);
        let block = f.block();
        let src = match (constant, from) {
            (false, _) => l(Local(0)),
            (true, Ty::Float) => Operand::Float(input as u64),
            (true, _) => Operand::Int(input),
        };
        f.push(
            block,
            Inst::Unary {
                dst,
                op,
                src,
                site: SITE,
            },
        );
        f.end(block, Term::Return(Some(l(dst))));
        run(&program(vec![f.build()], &[]), 0, &[input])
    };
    for constant in [false, true] {
        let to_float =
            |i: i64| float_of(unary(UnaryOp::IntToFloat, Ty::Int, Ty::Float, i, constant));
        assert_eq!(to_float(-3), -3.0);
        assert_eq!(to_float(i64::MAX), 9_223_372_036_854_775_807.0);
        assert_eq!(to_float((1 << 53) + 1), (1u64 << 53) as f64);
        let to_int = |x: f64| unary(UnaryOp::FloatToInt, Ty::Float, Ty::Int, bits(x), constant);
        assert_eq!(to_int(2.9), 2);
        assert_eq!(to_int(-2.9), -2);
        assert_eq!(to_int(-9_223_372_036_854_775_808.0), i64::MIN);
        let neg = |x: f64| unary(UnaryOp::NegFloat, Ty::Float, Ty::Float, bits(x), constant);
        assert_eq!(neg(0.0), bits(-0.0));
        assert_eq!(neg(-1.5), bits(1.5));
        assert!(float_of(neg(f64::NAN)).is_sign_negative());
    }
}

#[test]
fn math_and_float_text_come_from_the_runtime() {
    // fn f(x: float) -> bool { return to_string(sqrt(x) + 0.2) == "0.30000000000000004" }
    let mut f = FnBuilder::new("f", &[Ty::Float], Ty::Bool);
    let (root, sum, text, same) = (
        f.local(Ty::Float),
        f.local(Ty::Float),
        f.local(Ty::Str),
        f.local(Ty::Bool),
    );
    let block = f.block();
    rt(&mut f, block, root, RtFunc::FloatSqrt, vec![l(Local(0))]);
    f.binary(block, sum, BinaryOp::AddFloat, l(root), fl(0.2));
    rt(&mut f, block, text, RtFunc::FloatToStr, vec![l(sum)]);
    rt(
        &mut f,
        block,
        same,
        RtFunc::StrEq,
        vec![l(text), Operand::Str(StrId(0))],
    );
    f.push(block, Inst::Release { value: text });
    f.end(block, Term::Return(Some(l(same))));
    let program = program(vec![f.build()], &["0.30000000000000004"]);
    let module = compile(&program);
    let before = live_objects();
    assert_eq!(execute(&module, 0, &[bits(0.01)], false), 1);
    assert_eq!(execute(&module, 0, &[bits(0.04)], false), 0);
    assert_eq!(live_objects(), before);
}

/// `[int]` is array type 0 in the programs below.
const INTS: Ty = Ty::Array(ArrayId(0));

/// `var a = []; for i in 0..n { a = push(a, i) }; var s = 0; for i in 0..len(a) { s = s + a[i] };
/// return s`
fn push_and_sum_program(n: i64) -> crate::ir::Program {
    let mut f = FnBuilder::new("main", &[], Ty::Int);
    let (a, i, go, pushed, next) = (
        f.local(INTS),
        f.local(Ty::Int),
        f.local(Ty::Bool),
        f.local(INTS),
        f.local(Ty::Int),
    );
    let (len, j, s, x, go2, s2, j2) = (
        f.local(Ty::Int),
        f.local(Ty::Int),
        f.local(Ty::Int),
        f.local(Ty::Int),
        f.local(Ty::Bool),
        f.local(Ty::Int),
        f.local(Ty::Int),
    );
    let (entry, header, body, middle, header2, body2, exit) = (
        f.block(),
        f.block(),
        f.block(),
        f.block(),
        f.block(),
        f.block(),
        f.block(),
    );
    f.push(
        entry,
        Inst::NewArray {
            dst: a,
            ty: ArrayId(0),
            items: vec![],
        },
    );
    f.push(
        entry,
        Inst::Copy {
            dst: i,
            src: Operand::Int(0),
        },
    );
    f.end(entry, Term::Jump(header));
    f.binary(header, go, BinaryOp::LtInt, l(i), Operand::Int(n));
    f.end(
        header,
        Term::Branch {
            cond: l(go),
            then_to: body,
            else_to: middle,
        },
    );
    rt(&mut f, body, pushed, RtFunc::ArrayPush, vec![l(a), l(i)]);
    f.push(
        body,
        Inst::Copy {
            dst: a,
            src: l(pushed),
        },
    );
    f.binary(body, next, BinaryOp::AddInt, l(i), Operand::Int(1));
    f.push(
        body,
        Inst::Copy {
            dst: i,
            src: l(next),
        },
    );
    f.end(body, Term::Jump(header));
    f.push(
        middle,
        Inst::ArrayLen {
            dst: len,
            array: l(a),
        },
    );
    f.push(
        middle,
        Inst::Copy {
            dst: j,
            src: Operand::Int(0),
        },
    );
    f.push(
        middle,
        Inst::Copy {
            dst: s,
            src: Operand::Int(0),
        },
    );
    f.end(middle, Term::Jump(header2));
    f.binary(header2, go2, BinaryOp::LtInt, l(j), l(len));
    f.end(
        header2,
        Term::Branch {
            cond: l(go2),
            then_to: body2,
            else_to: exit,
        },
    );
    f.push(
        body2,
        Inst::ArrayGet {
            dst: x,
            array: l(a),
            index: l(j),
            site: SITE,
        },
    );
    f.binary(body2, s2, BinaryOp::AddInt, l(s), l(x));
    f.push(body2, Inst::Copy { dst: s, src: l(s2) });
    f.binary(body2, j2, BinaryOp::AddInt, l(j), Operand::Int(1));
    f.push(body2, Inst::Copy { dst: j, src: l(j2) });
    f.end(body2, Term::Jump(header2));
    f.push(exit, Inst::Release { value: a });
    f.end(exit, Term::Return(Some(l(s))));
    typed_program(vec![f.build()], &[], vec![Ty::Int], vec![])
}

#[test]
fn pushing_100_000_elements_is_fast_and_frees_everything() {
    let program = push_and_sum_program(100_000);
    let start = std::time::Instant::now();
    assert_eq!(run_without_leaks(&program), 99_999 * 100_000 / 2);
    let elapsed = start.elapsed();
    // Amortised O(1) pushes: far below a second even unoptimised (quadratic copying would take
    // minutes).
    assert!(elapsed.as_secs_f64() < 2.0, "took {elapsed:?}");
    let listing = disassemble(&compile(&program));
    assert!(
        listing.contains("call_rt          r0, keel_array_push(r0, r1)"),
        "{listing}"
    );
    assert!(listing.contains("array_get "), "{listing}");
}

/// `struct Person { name: string, age: int }`
fn person() -> StructDef {
    StructDef {
        name: "Person".into(),
        fields: vec![
            FieldDef {
                name: "name".into(),
                ty: Ty::Str,
            },
            FieldDef {
                name: "age".into(),
                ty: Ty::Int,
            },
        ],
    }
}

#[test]
fn a_struct_with_a_string_field_reads_prints_and_frees() {
    // let p = Person { name: "An" + "ne", age: 37 }; println(p)
    // return p.name == "Anne" & to_string(p) == "Person { ... }" & p.age == 37
    let person_ty = Ty::Struct(StructId(0));
    let mut f = FnBuilder::new("main", &[], Ty::Bool);
    let (name, p, got_name, name_ok, age, text, text_ok) = (
        f.local(Ty::Str),
        f.local(person_ty),
        f.local(Ty::Str),
        f.local(Ty::Bool),
        f.local(Ty::Int),
        f.local(Ty::Str),
        f.local(Ty::Bool),
    );
    let (age_ok, both, all) = (f.local(Ty::Bool), f.local(Ty::Bool), f.local(Ty::Bool));
    let block = f.block();
    let s = |n: u32| Operand::Str(StrId(n));
    rt(&mut f, block, name, RtFunc::StrConcat, vec![s(0), s(1)]);
    f.push(
        block,
        Inst::NewStruct {
            dst: p,
            ty: StructId(0),
            fields: vec![l(name), Operand::Int(37)],
        },
    );
    f.push(
        block,
        Inst::FieldGet {
            dst: got_name,
            object: l(p),
            field: 0,
        },
    );
    rt(
        &mut f,
        block,
        name_ok,
        RtFunc::StrEq,
        vec![l(got_name), s(2)],
    );
    f.push(block, Inst::Release { value: got_name });
    f.push(
        block,
        Inst::FieldGet {
            dst: age,
            object: l(p),
            field: 1,
        },
    );
    rt(&mut f, block, text, RtFunc::ValueToStr, vec![l(p)]);
    rt(&mut f, block, text_ok, RtFunc::StrEq, vec![l(text), s(3)]);
    f.push(block, Inst::Release { value: text });
    f.push(
        block,
        Inst::Print {
            value: l(p),
            ty: person_ty,
            newline: true,
            stream: crate::ir::Stream::Stdout,
        },
    );
    f.push(block, Inst::Release { value: p });
    f.binary(block, age_ok, BinaryOp::EqInt, l(age), Operand::Int(37));
    f.binary(block, both, BinaryOp::BitAnd, l(name_ok), l(text_ok));
    f.binary(block, all, BinaryOp::BitAnd, l(both), l(age_ok));
    f.end(block, Term::Return(Some(l(all))));
    let strings = ["An", "ne", "Anne", "Person { name: \"Anne\", age: 37 }"];
    let program = typed_program(vec![f.build()], &strings, vec![], vec![person()]);
    assert_eq!(run_without_leaks(&program), 1);
}

#[test]
fn setting_an_element_of_a_shared_array_copies_it_first() {
    // let a = [1, 2, 3]; var b = a; b[0] = 9; b[1] = 8; return a[0] * 100 + b[0] * 10 + len(b)
    let mut f = FnBuilder::new("main", &[], Ty::Int);
    let (a, b, x, y, n, t1, t2, t3, t4) = (
        f.local(INTS),
        f.local(INTS),
        f.local(Ty::Int),
        f.local(Ty::Int),
        f.local(Ty::Int),
        f.local(Ty::Int),
        f.local(Ty::Int),
        f.local(Ty::Int),
        f.local(Ty::Int),
    );
    let block = f.block();
    let items = vec![Operand::Int(1), Operand::Int(2), Operand::Int(3)];
    f.push(
        block,
        Inst::NewArray {
            dst: a,
            ty: ArrayId(0),
            items,
        },
    );
    f.push(block, Inst::Retain { value: a });
    f.push(block, Inst::Copy { dst: b, src: l(a) });
    for (index, value) in [(0, 9), (1, 8)] {
        f.push(
            block,
            Inst::ArraySet {
                array: b,
                index: Operand::Int(index),
                value: Operand::Int(value),
                site: SITE,
            },
        );
    }
    for (dst, array) in [(x, a), (y, b)] {
        f.push(
            block,
            Inst::ArrayGet {
                dst,
                array: l(array),
                index: Operand::Int(0),
                site: SITE,
            },
        );
    }
    f.push(
        block,
        Inst::ArrayLen {
            dst: n,
            array: l(b),
        },
    );
    f.push(block, Inst::Release { value: a });
    f.push(block, Inst::Release { value: b });
    f.binary(block, t1, BinaryOp::MulInt, l(x), Operand::Int(100));
    f.binary(block, t2, BinaryOp::MulInt, l(y), Operand::Int(10));
    f.binary(block, t3, BinaryOp::AddInt, l(t1), l(t2));
    f.binary(block, t4, BinaryOp::AddInt, l(t3), l(n));
    f.end(block, Term::Return(Some(l(t4))));
    let program = typed_program(vec![f.build()], &[], vec![Ty::Int], vec![]);
    assert_eq!(run_without_leaks(&program), 193);
}

#[test]
fn an_unshared_array_is_updated_in_place() {
    // fn f() -> [int] { var a = [1, 2]; a[1] = 5; return a } with the address checked.
    let mut f = FnBuilder::new("main", &[], INTS);
    let a = f.local(INTS);
    let block = f.block();
    f.push(
        block,
        Inst::NewArray {
            dst: a,
            ty: ArrayId(0),
            items: vec![Operand::Int(1), Operand::Int(2)],
        },
    );
    f.push(
        block,
        Inst::ArraySet {
            array: a,
            index: Operand::Int(1),
            value: Operand::Int(5),
            site: SITE,
        },
    );
    f.end(block, Term::Return(Some(l(a))));
    let program = typed_program(vec![f.build()], &[], vec![Ty::Int], vec![]);
    let module = compile(&program);
    let before = live_objects();
    let array = execute(&module, 0, &[], false);
    assert_eq!(live_objects(), before + 1);
    // SAFETY: `array` is the live `[int]` the program returned, owned here.
    unsafe {
        assert_eq!(super::heap::array_len(array), 2);
        assert_eq!(*super::heap::element_unchecked(array, 1), 5);
        assert_eq!((*(array as *const keel_runtime::layout::ObjHeader)).rc, 1);
        super::heap::release(array);
    }
    assert_eq!(live_objects(), before);
}

#[test]
fn nested_updates_take_and_set_back_without_touching_a_shared_copy() {
    for look_between in [false, true] {
        let program = nested_update_program(look_between);
        assert_eq!(
            run_without_leaks(&program),
            3003,
            "look between: {look_between}"
        );
        let listing = disassemble(&compile(&program));
        // Without a use of the taken row between take and set, the update works in place.
        let ops: &[&str] = if look_between {
            &["array_take", "array_set_rc", "array_get_rc", "new_array"]
        } else {
            &["array_elem_mut", "array_get_rc", "new_array"]
        };
        for op in ops {
            assert!(listing.contains(op), "{op} missing:\n{listing}");
        }
        if !look_between {
            assert!(!listing.contains("array_take"), "{listing}");
            assert!(!listing.contains("array_set_rc"), "{listing}");
        }
    }
}

/// let outer = [[1, 2], [3, 4]]; let copy = outer;
/// var t = take outer[1]; t[0] = 30; [to_string(t);] outer[1] = t  (outer[1][0] = 30)
/// return outer[1][0] * 100 + copy[1][0]
fn nested_update_program(look_between: bool) -> crate::ir::Program {
    let nested = Ty::Array(ArrayId(1));
    let mut f = FnBuilder::new("main", &[], Ty::Int);
    let text = f.local(Ty::Str);
    let (inner1, inner2, outer, copy, t, got1, got2, v, w, r1, r2) = (
        f.local(INTS),
        f.local(INTS),
        f.local(nested),
        f.local(nested),
        f.local(INTS),
        f.local(INTS),
        f.local(INTS),
        f.local(Ty::Int),
        f.local(Ty::Int),
        f.local(Ty::Int),
        f.local(Ty::Int),
    );
    let block = f.block();
    for (dst, items) in [(inner1, [1, 2]), (inner2, [3, 4])] {
        f.push(
            block,
            Inst::NewArray {
                dst,
                ty: ArrayId(0),
                items: items.iter().map(|&i| Operand::Int(i)).collect(),
            },
        );
    }
    f.push(
        block,
        Inst::NewArray {
            dst: outer,
            ty: ArrayId(1),
            items: vec![l(inner1), l(inner2)],
        },
    );
    f.push(block, Inst::Retain { value: outer });
    f.push(
        block,
        Inst::Copy {
            dst: copy,
            src: l(outer),
        },
    );
    f.push(
        block,
        Inst::ArrayTake {
            dst: t,
            array: outer,
            index: Operand::Int(1),
            site: SITE,
        },
    );
    f.push(
        block,
        Inst::ArraySet {
            array: t,
            index: Operand::Int(0),
            value: Operand::Int(30),
            site: SITE,
        },
    );
    if look_between {
        rt(&mut f, block, text, RtFunc::ValueToStr, vec![l(t)]);
        f.push(block, Inst::Release { value: text });
    }
    f.push(
        block,
        Inst::ArraySet {
            array: outer,
            index: Operand::Int(1),
            value: l(t),
            site: SITE,
        },
    );
    for (got, from, value) in [(got1, outer, v), (got2, copy, w)] {
        f.push(
            block,
            Inst::ArrayGet {
                dst: got,
                array: l(from),
                index: Operand::Int(1),
                site: SITE,
            },
        );
        f.push(
            block,
            Inst::ArrayGet {
                dst: value,
                array: l(got),
                index: Operand::Int(0),
                site: SITE,
            },
        );
        f.push(block, Inst::Release { value: got });
    }
    f.push(block, Inst::Release { value: outer });
    f.push(block, Inst::Release { value: copy });
    f.binary(block, r1, BinaryOp::MulInt, l(v), Operand::Int(100));
    f.binary(block, r2, BinaryOp::AddInt, l(r1), l(w));
    f.end(block, Term::Return(Some(l(r2))));
    typed_program(vec![f.build()], &[], vec![Ty::Int, INTS], vec![])
}

/// `struct Point { x: float, y: float }` and `struct Bag { label: string, items: [int] }`.
fn point_and_bag() -> Vec<StructDef> {
    let field = |name: &str, ty: Ty| FieldDef {
        name: name.into(),
        ty,
    };
    vec![
        StructDef {
            name: "Point".into(),
            fields: vec![field("x", Ty::Float), field("y", Ty::Float)],
        },
        StructDef {
            name: "Bag".into(),
            fields: vec![field("label", Ty::Str), field("items", INTS)],
        },
    ]
}

#[test]
fn struct_fields_copy_on_write_and_move_through_take() {
    // let p = Point { x: 1.0, y: 2.0 }; var q = p; q.x = 5.0;
    // var bag = Bag { label: "b", items: [1] }; let shared = bag;
    // var items = take bag.items; items = push(items, 2); bag.items = items; bag.label = "c";
    // return to_int(p.x * 10.0 + q.x) * 100 + len(bag.items) * 10 + len(shared.items)
    let (point, bag_ty) = (Ty::Struct(StructId(0)), Ty::Struct(StructId(1)));
    let mut f = FnBuilder::new("main", &[], Ty::Int);
    let (p, q, px, qx, t1, t2, i1) = (
        f.local(point),
        f.local(point),
        f.local(Ty::Float),
        f.local(Ty::Float),
        f.local(Ty::Float),
        f.local(Ty::Float),
        f.local(Ty::Int),
    );
    let (one, bag, shared, items, pushed, got1, got2, n1, n2) = (
        f.local(INTS),
        f.local(bag_ty),
        f.local(bag_ty),
        f.local(INTS),
        f.local(INTS),
        f.local(INTS),
        f.local(INTS),
        f.local(Ty::Int),
        f.local(Ty::Int),
    );
    let (r1, r2, r3, r4) = (
        f.local(Ty::Int),
        f.local(Ty::Int),
        f.local(Ty::Int),
        f.local(Ty::Int),
    );
    let block = f.block();
    f.push(
        block,
        Inst::NewStruct {
            dst: p,
            ty: StructId(0),
            fields: vec![fl(1.0), fl(2.0)],
        },
    );
    f.push(block, Inst::Retain { value: p });
    f.push(block, Inst::Copy { dst: q, src: l(p) });
    f.push(
        block,
        Inst::FieldSet {
            object: q,
            field: 0,
            value: fl(5.0),
        },
    );
    for (dst, from) in [(px, p), (qx, q)] {
        f.push(
            block,
            Inst::FieldGet {
                dst,
                object: l(from),
                field: 0,
            },
        );
    }
    f.push(block, Inst::Release { value: p });
    f.push(block, Inst::Release { value: q });
    f.binary(block, t1, BinaryOp::MulFloat, l(px), fl(10.0));
    f.binary(block, t2, BinaryOp::AddFloat, l(t1), l(qx));
    f.push(
        block,
        Inst::Unary {
            dst: i1,
            op: UnaryOp::FloatToInt,
            src: l(t2),
            site: SITE,
        },
    );
    f.push(
        block,
        Inst::NewArray {
            dst: one,
            ty: ArrayId(0),
            items: vec![Operand::Int(1)],
        },
    );
    f.push(
        block,
        Inst::NewStruct {
            dst: bag,
            ty: StructId(1),
            fields: vec![Operand::Str(StrId(0)), l(one)],
        },
    );
    f.push(block, Inst::Retain { value: bag });
    f.push(
        block,
        Inst::Copy {
            dst: shared,
            src: l(bag),
        },
    );
    f.push(
        block,
        Inst::FieldTake {
            dst: items,
            object: bag,
            field: 1,
        },
    );
    rt(
        &mut f,
        block,
        pushed,
        RtFunc::ArrayPush,
        vec![l(items), Operand::Int(2)],
    );
    f.push(
        block,
        Inst::FieldSet {
            object: bag,
            field: 1,
            value: l(pushed),
        },
    );
    f.push(
        block,
        Inst::FieldSet {
            object: bag,
            field: 0,
            value: Operand::Str(StrId(1)),
        },
    );
    for (got, from, n) in [(got1, bag, n1), (got2, shared, n2)] {
        f.push(
            block,
            Inst::FieldGet {
                dst: got,
                object: l(from),
                field: 1,
            },
        );
        f.push(
            block,
            Inst::ArrayLen {
                dst: n,
                array: l(got),
            },
        );
        f.push(block, Inst::Release { value: got });
    }
    f.push(block, Inst::Release { value: bag });
    f.push(block, Inst::Release { value: shared });
    f.binary(block, r1, BinaryOp::MulInt, l(i1), Operand::Int(100));
    f.binary(block, r2, BinaryOp::MulInt, l(n1), Operand::Int(10));
    f.binary(block, r3, BinaryOp::AddInt, l(r1), l(r2));
    f.binary(block, r4, BinaryOp::AddInt, l(r3), l(n2));
    f.end(block, Term::Return(Some(l(r4))));
    let program = typed_program(vec![f.build()], &["b", "c"], vec![Ty::Int], point_and_bag());
    assert_eq!(run_without_leaks(&program), 1521);
    let listing = disassemble(&compile(&program));
    for op in [
        "field_set ",
        "field_set_rc",
        "field_take",
        "field_get_rc",
        "new_struct",
    ] {
        assert!(listing.contains(op), "{op} missing:\n{listing}");
    }
}

#[test]
fn descriptors_reach_the_runtime_and_recursive_types_print() {
    // struct Node { name: string, kids: [Node] }
    // let leaf = Node { name: "b", kids: [] }; let root = Node { name: "a", kids: [leaf] };
    // let filled = array_fill(desc [int], 3, 7);
    // return to_string(root) == "..." & to_string(filled) == "[7, 7, 7]"
    let node = Ty::Struct(StructId(0));
    let nodes = Ty::Array(ArrayId(0));
    let defs = vec![StructDef {
        name: "Node".into(),
        fields: vec![
            FieldDef {
                name: "name".into(),
                ty: Ty::Str,
            },
            FieldDef {
                name: "kids".into(),
                ty: nodes,
            },
        ],
    }];
    let mut f = FnBuilder::new("main", &[], Ty::Bool);
    let (none, leaf, kids, root, text, ok1, filled, text2, ok2, both) = (
        f.local(nodes),
        f.local(node),
        f.local(nodes),
        f.local(node),
        f.local(Ty::Str),
        f.local(Ty::Bool),
        f.local(Ty::Array(ArrayId(1))),
        f.local(Ty::Str),
        f.local(Ty::Bool),
        f.local(Ty::Bool),
    );
    let block = f.block();
    let s = |n: u32| Operand::Str(StrId(n));
    f.push(
        block,
        Inst::NewArray {
            dst: none,
            ty: ArrayId(0),
            items: vec![],
        },
    );
    f.push(
        block,
        Inst::NewStruct {
            dst: leaf,
            ty: StructId(0),
            fields: vec![s(1), l(none)],
        },
    );
    f.push(
        block,
        Inst::NewArray {
            dst: kids,
            ty: ArrayId(0),
            items: vec![l(leaf)],
        },
    );
    f.push(
        block,
        Inst::NewStruct {
            dst: root,
            ty: StructId(0),
            fields: vec![s(0), l(kids)],
        },
    );
    rt(&mut f, block, text, RtFunc::ValueToStr, vec![l(root)]);
    rt(&mut f, block, ok1, RtFunc::StrEq, vec![l(text), s(2)]);
    rt(
        &mut f,
        block,
        filled,
        RtFunc::ArrayFill,
        vec![
            Operand::Desc(Ty::Array(ArrayId(1))),
            Operand::Int(3),
            Operand::Int(7),
        ],
    );
    rt(&mut f, block, text2, RtFunc::ValueToStr, vec![l(filled)]);
    rt(&mut f, block, ok2, RtFunc::StrEq, vec![l(text2), s(3)]);
    for dead in [text, root, filled, text2] {
        f.push(block, Inst::Release { value: dead });
    }
    f.binary(block, both, BinaryOp::BitAnd, l(ok1), l(ok2));
    f.end(block, Term::Return(Some(l(both))));
    let strings = [
        "a",
        "b",
        "Node { name: \"a\", kids: [Node { name: \"b\", kids: [] }] }",
        "[7, 7, 7]",
    ];
    let program = typed_program(vec![f.build()], &strings, vec![node, Ty::Int], defs);
    assert_eq!(run_without_leaks(&program), 1);
    let listing = disassemble(&compile(&program));
    assert!(listing.contains("load_desc        r"), "{listing}");
    assert!(listing.contains("desc#5 [int]"), "{listing}");
}

#[test]
fn constant_list_operands_do_not_clobber_arguments_written_in_place() {
    // fn g(a: int, n: int) -> int { return a * 10 + n }
    // fn main() -> int { let t = 4 + 0; return g(t, len([5, 6, 7])) }: `t` goes in place
    // into g's window before the array literal's constants are loaded.
    let mut g = FnBuilder::new("g", &[Ty::Int, Ty::Int], Ty::Int);
    let (m, r) = (g.local(Ty::Int), g.local(Ty::Int));
    let gb = g.block();
    g.binary(gb, m, BinaryOp::MulInt, l(Local(0)), Operand::Int(10));
    g.binary(gb, r, BinaryOp::AddInt, l(m), l(Local(1)));
    g.end(gb, Term::Return(Some(l(r))));
    let mut f = FnBuilder::new("main", &[], Ty::Int);
    let (t, a, n, result) = (
        f.local(Ty::Int),
        f.local(INTS),
        f.local(Ty::Int),
        f.local(Ty::Int),
    );
    let block = f.block();
    f.binary(block, t, BinaryOp::AddInt, Operand::Int(4), Operand::Int(0));
    f.push(
        block,
        Inst::NewArray {
            dst: a,
            ty: ArrayId(0),
            items: vec![Operand::Int(5), Operand::Int(6), Operand::Int(7)],
        },
    );
    f.push(
        block,
        Inst::ArrayLen {
            dst: n,
            array: l(a),
        },
    );
    f.push(block, Inst::Release { value: a });
    f.call(block, Some(result), 1, vec![l(t), l(n)]);
    f.end(block, Term::Return(Some(l(result))));
    let program = typed_program(vec![f.build(), g.build()], &[], vec![Ty::Int], vec![]);
    assert_eq!(run_without_leaks(&program), 43);
}

#[test]
fn instructions_stay_16_bytes_with_the_new_forms() {
    assert_eq!(std::mem::size_of::<Instr>(), 16);
}

#[test]
fn element_fields_read_and_update_in_place_and_copies_stay_apart() {
    // let ps = [Point { x: 1.0, y: 2.0 }, Point { x: 3.0, y: 4.0 }]; let copy = ps;
    // ps[1].x = ps[1].x + 10.0;
    // let h = Holder { p: Point { x: 5.0, y: 6.0 }, name: "h" }; let h2 = h; h.p.y = 60.0;
    // return ps[1].x * 10000.0 + copy[1].x * 1000.0 + h.p.y * 10.0 + h2.p.y
    let point = Ty::Struct(StructId(0));
    let holder = Ty::Struct(StructId(1));
    let points = Ty::Array(ArrayId(0));
    let field = |name: &str, ty: Ty| FieldDef {
        name: name.into(),
        ty,
    };
    let defs = vec![
        StructDef {
            name: "Point".into(),
            fields: vec![field("x", Ty::Float), field("y", Ty::Float)],
        },
        StructDef {
            name: "Holder".into(),
            fields: vec![field("p", point), field("name", Ty::Str)],
        },
    ];
    let mut f = FnBuilder::new("main", &[], Ty::Float);
    let [p0, p1, p2, t1, t2, t3, u, v, g, g2] = [(); 10].map(|_| f.local(point));
    let (ps, copy, h, h2) = (
        f.local(points),
        f.local(points),
        f.local(holder),
        f.local(holder),
    );
    let [x, y, a, b, c, d, s1, s2, s3, s4, s5, s6, s7] = [(); 13].map(|_| f.local(Ty::Float));
    let block = f.block();
    let new_point = |f: &mut FnBuilder, dst: Local, x: f64, y: f64| {
        f.push(
            block,
            Inst::NewStruct {
                dst,
                ty: StructId(0),
                fields: vec![fl(x), fl(y)],
            },
        )
    };
    let element_x = |f: &mut FnBuilder, dst: Local, from: Local, tmp: Local| {
        f.push(
            block,
            Inst::ArrayGet {
                dst: tmp,
                array: l(from),
                index: Operand::Int(1),
                site: SITE,
            },
        );
        f.push(
            block,
            Inst::FieldGet {
                dst,
                object: l(tmp),
                field: 0,
            },
        );
        f.push(block, Inst::Release { value: tmp });
    };
    new_point(&mut f, p0, 1.0, 2.0);
    new_point(&mut f, p1, 3.0, 4.0);
    f.push(
        block,
        Inst::NewArray {
            dst: ps,
            ty: ArrayId(0),
            items: vec![l(p0), l(p1)],
        },
    );
    f.push(block, Inst::Retain { value: ps });
    f.push(
        block,
        Inst::Copy {
            dst: copy,
            src: l(ps),
        },
    );
    element_x(&mut f, x, ps, t1);
    f.binary(block, y, BinaryOp::AddFloat, l(x), fl(10.0));
    f.push(
        block,
        Inst::ArrayTake {
            dst: u,
            array: ps,
            index: Operand::Int(1),
            site: SITE,
        },
    );
    f.push(
        block,
        Inst::FieldSet {
            object: u,
            field: 0,
            value: l(y),
        },
    );
    f.push(
        block,
        Inst::ArraySet {
            array: ps,
            index: Operand::Int(1),
            value: l(u),
            site: SITE,
        },
    );
    element_x(&mut f, a, ps, t2);
    element_x(&mut f, b, copy, t3);
    new_point(&mut f, p2, 5.0, 6.0);
    f.push(
        block,
        Inst::NewStruct {
            dst: h,
            ty: StructId(1),
            fields: vec![l(p2), Operand::Str(StrId(0))],
        },
    );
    f.push(block, Inst::Retain { value: h });
    f.push(block, Inst::Copy { dst: h2, src: l(h) });
    f.push(
        block,
        Inst::FieldTake {
            dst: v,
            object: h,
            field: 0,
        },
    );
    f.push(
        block,
        Inst::FieldSet {
            object: v,
            field: 1,
            value: fl(60.0),
        },
    );
    f.push(
        block,
        Inst::FieldSet {
            object: h,
            field: 0,
            value: l(v),
        },
    );
    for (got, from, value) in [(g, h, c), (g2, h2, d)] {
        f.push(
            block,
            Inst::FieldGet {
                dst: got,
                object: l(from),
                field: 0,
            },
        );
        f.push(
            block,
            Inst::FieldGet {
                dst: value,
                object: l(got),
                field: 1,
            },
        );
        f.push(block, Inst::Release { value: got });
    }
    for dead in [ps, copy, h, h2] {
        f.push(block, Inst::Release { value: dead });
    }
    f.binary(block, s1, BinaryOp::MulFloat, l(a), fl(10000.0));
    f.binary(block, s2, BinaryOp::MulFloat, l(b), fl(1000.0));
    f.binary(block, s3, BinaryOp::MulFloat, l(c), fl(10.0));
    f.binary(block, s4, BinaryOp::AddFloat, l(s1), l(s2));
    f.binary(block, s5, BinaryOp::AddFloat, l(s3), l(d));
    f.binary(block, s6, BinaryOp::AddFloat, l(s4), l(s5));
    f.push(
        block,
        Inst::Copy {
            dst: s7,
            src: l(s6),
        },
    );
    f.end(block, Term::Return(Some(l(s7))));
    let program = typed_program(vec![f.build()], &["h"], vec![point], defs);
    assert_eq!(float_of(run_without_leaks(&program)), 133_606.0);
    let listing = disassemble(&compile(&program));
    assert_eq!(listing.matches("array_get_field ").count(), 3, "{listing}");
    for op in ["array_elem_mut", "field_mut", "field_get_rc"] {
        assert!(listing.contains(op), "{op} missing:\n{listing}");
    }
    for op in [
        "array_take",
        "field_take",
        "array_set_rc",
        "release          r",
    ] {
        let expected = usize::from(op.starts_with("release")) * 6;
        assert_eq!(listing.matches(op).count(), expected, "{op}:\n{listing}");
    }
}
