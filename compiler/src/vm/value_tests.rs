//! Whole-VM tests of floats and heap values: IR text (`ir::testing`), compiled and run
//! in-process, with checks of the bytecode it compiles to.
//!
//! Heap tests check the runtime's live-object count before and after, so a missing or extra
//! reference-count operation in the VM shows up as a leak or a crash. Results come back as
//! return values (strings are compared inside the program with `keel_str_eq`), since printing
//! goes to the process's standard output.

use super::bytecode::Instr;
use super::interp::execute;
use super::tests::{eval_branch_on, run, site_of};
use super::{compile, disassemble};
use crate::ir::print::binary_name;
use crate::ir::{testing, BinaryOp, Program, Ty};
use keel_runtime::object::live_objects;

fn bits(x: f64) -> i64 {
    x.to_bits() as i64
}

fn float_of(word: i64) -> f64 {
    f64::from_bits(word as u64)
}

/// A float operand: parameter `%param`, or `x` written as a constant.
fn float_operand(x: f64, constant: bool, param: u32) -> String {
    if constant {
        format!("{x:?}")
    } else {
        format!("%{param}")
    }
}

/// Runs `program`'s function 0 and checks that it leaves no heap object behind.
fn run_without_leaks(program: &Program) -> i64 {
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
    let program = testing::program(&format!(
        "fn#0 (entry) f(%0: float, %1: float) -> {result_ty} {{
           locals %2: {result_ty}
         b0:
           %2 = {} {}, {}{}
           return %2
         }}",
        binary_name(op),
        float_operand(a, a_const, 0),
        float_operand(b, b_const, 1),
        site_of(op),
    ));
    run(&program, 0, &[bits(a), bits(b)])
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
    let rhs = float_operand(b, b_const, 1);
    eval_branch_on(op, Ty::Float, ("%0", &rhs), negated, &[bits(a), bits(b)])
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
    let program = testing::program(
        "fn#0 (entry) f(%0: float) -> float {
           locals %1: bool, %2: float
         b0:
           jump b1
         b1:
           %1 = lt.float %0, 10.0
           branch %1, b2, b3
         b2:
           %2 = mul.float %0, 2.0
           %0 = %2
           jump b1
         b3:
           return %0
         }",
    );
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
    let unary = |op: &str, from: Ty, to: Ty, input: i64, constant: bool| -> i64 {
        let src = match (constant, from) {
            (false, _) => "%0".to_string(),
            (true, Ty::Float) => format!("{:?}", float_of(input)),
            (true, _) => input.to_string(),
        };
        let site = if op == "float_to_int" { " @1:1" } else { "" };
        let program = testing::program(&format!(
            "fn#0 (entry) f(%0: {from}) -> {to} {{
               locals %1: {to}
             b0:
               %1 = {op} {src}{site}
               return %1
             }}"
        ));
        run(&program, 0, &[input])
    };
    for constant in [false, true] {
        let to_float = |i: i64| float_of(unary("int_to_float", Ty::Int, Ty::Float, i, constant));
        assert_eq!(to_float(-3), -3.0);
        assert_eq!(to_float(i64::MAX), 9_223_372_036_854_775_807.0);
        assert_eq!(to_float((1 << 53) + 1), (1u64 << 53) as f64);
        let to_int = |x: f64| unary("float_to_int", Ty::Float, Ty::Int, bits(x), constant);
        assert_eq!(to_int(2.9), 2);
        assert_eq!(to_int(-2.9), -2);
        assert_eq!(to_int(-9_223_372_036_854_775_808.0), i64::MIN);
        let neg = |x: f64| unary("neg.float", Ty::Float, Ty::Float, bits(x), constant);
        assert_eq!(neg(0.0), bits(-0.0));
        assert_eq!(neg(-1.5), bits(1.5));
        assert!(float_of(neg(f64::NAN)).is_sign_negative());
    }
}

#[test]
fn math_and_float_text_come_from_the_runtime() {
    // fn f(x: float) -> bool { return to_string(sqrt(x) + 0.2) == "0.30000000000000004" }
    let program = testing::program(
        r#"str#0 = "0.30000000000000004"
           fn#0 (entry) f(%0: float) -> bool {
             locals %1: float, %2: float, %3: string, %4: bool
           b0:
             %1 = call_rt keel_float_sqrt(%0)
             %2 = add.float %1, 0.2
             %3 = call_rt keel_str_from_float(%2)
             %4 = call_rt keel_str_eq(%3, str#0)
             release %3
             return %4
           }"#,
    );
    let module = compile(&program);
    let before = live_objects();
    assert_eq!(execute(&module, 0, &[bits(0.01)], false), 1);
    assert_eq!(execute(&module, 0, &[bits(0.04)], false), 0);
    assert_eq!(live_objects(), before);
}

/// `var a = []; for i in 0..{n} { a = push(a, i) }; var s = 0; for i in 0..len(a) { s = s + a[i] };
/// return s`, with `{n}` to be filled in.
const PUSH_AND_SUM_TEMPLATE: &str = r##"
    array#0 = [int]

    fn#0 (entry) main() -> int {
      locals %0: array#0, %1: int, %2: bool, %3: array#0, %4: int, %5: int, %6: int, %7: int, %8: int, %9: bool, %10: int, %11: int
    b0:
        %0 = new_array array#0 []
        %1 = 0
        jump b1
    b1:
        %2 = lt.int %1, {n}
        branch %2, b2, b3
    b2:
        %3 = call_rt keel_array_push(%0, %1)
        %0 = %3
        %4 = add.int %1, 1 @1:1
        %1 = %4
        jump b1
    b3:
        %5 = array_len %0
        %6 = 0
        %7 = 0
        jump b4
    b4:
        %9 = lt.int %6, %5
        branch %9, b5, b6
    b5:
        %8 = array_get %0[%6] @1:1
        %10 = add.int %7, %8 @1:1
        %7 = %10
        %11 = add.int %6, 1 @1:1
        %6 = %11
        jump b4
    b6:
        release %0
        return %7
    }
"##;

fn push_and_sum_program(n: i64) -> Program {
    testing::program(&PUSH_AND_SUM_TEMPLATE.replace("{n}", &n.to_string()))
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

/// let p = Person { name: "An" + "ne", age: 37 }; println(p)
/// return p.name == "Anne" & to_string(p) == "Person { ... }" & p.age == 37
const PERSON: &str = r##"
    struct#0 Person { name: string, age: int }
    str#0 = "An"
    str#1 = "ne"
    str#2 = "Anne"
    str#3 = "Person { name: \"Anne\", age: 37 }"

    fn#0 (entry) main() -> bool {
      locals %0: string, %1: struct#0, %2: string, %3: bool, %4: int, %5: string, %6: bool, %7: bool, %8: bool, %9: bool
    b0:
        %0 = call_rt keel_str_concat(str#0, str#1)
        %1 = new_struct struct#0 {%0, 37}
        %2 = field_get %1.0
        %3 = call_rt keel_str_eq(%2, str#2)
        release %2
        %4 = field_get %1.1
        %5 = call_rt keel_value_to_str(%1)
        %6 = call_rt keel_str_eq(%5, str#3)
        release %5
        println.struct#0 %1
        release %1
        %7 = eq.int %4, 37
        %8 = and %3, %6
        %9 = and %8, %7
        return %9
    }
"##;

#[test]
fn a_struct_with_a_string_field_reads_prints_and_frees() {
    // let p = Person { name: "An" + "ne", age: 37 }; println(p)
    // return p.name == "Anne" & to_string(p) == "Person { ... }" & p.age == 37
    let program = testing::program(PERSON);
    assert_eq!(run_without_leaks(&program), 1);
}

/// let a = [1, 2, 3]; var b = a; b[0] = 9; b[1] = 8; return a[0] * 100 + b[0] * 10 + len(b)
const SHARED_ARRAY_SET: &str = r##"
    array#0 = [int]

    fn#0 (entry) main() -> int {
      locals %0: array#0, %1: array#0, %2: int, %3: int, %4: int, %5: int, %6: int, %7: int, %8: int
    b0:
        %0 = new_array array#0 [1, 2, 3]
        retain %0
        %1 = %0
        array_set %1[0] = 9 @1:1
        array_set %1[1] = 8 @1:1
        %2 = array_get %0[0] @1:1
        %3 = array_get %1[0] @1:1
        %4 = array_len %1
        release %0
        release %1
        %5 = mul.int %2, 100 @1:1
        %6 = mul.int %3, 10 @1:1
        %7 = add.int %5, %6 @1:1
        %8 = add.int %7, %4 @1:1
        return %8
    }
"##;

#[test]
fn setting_an_element_of_a_shared_array_copies_it_first() {
    // let a = [1, 2, 3]; var b = a; b[0] = 9; b[1] = 8; return a[0] * 100 + b[0] * 10 + len(b)
    let program = testing::program(SHARED_ARRAY_SET);
    assert_eq!(run_without_leaks(&program), 193);
}

/// fn f() -> [int] { var a = [1, 2]; a[1] = 5; return a }
const UNSHARED_ARRAY_SET: &str = r##"
    array#0 = [int]

    fn#0 (entry) main() -> array#0 {
      locals %0: array#0
    b0:
        %0 = new_array array#0 [1, 2]
        array_set %0[1] = 5 @1:1
        return %0
    }
"##;

#[test]
fn an_unshared_array_is_updated_in_place() {
    // fn f() -> [int] { var a = [1, 2]; a[1] = 5; return a } with the address checked.
    let program = testing::program(UNSHARED_ARRAY_SET);
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
/// return outer[1][0] * 100 + copy[1][0]; `{between}` holds what is done between take and set.
const NESTED_UPDATE_TEMPLATE: &str = r##"
    array#0 = [int]
    array#1 = [[int]]

    fn#0 (entry) main() -> int {
      locals %0: string, %1: array#0, %2: array#0, %3: array#1, %4: array#1, %5: array#0, %6: array#0, %7: array#0, %8: int, %9: int, %10: int, %11: int
    b0:
        %1 = new_array array#0 [1, 2]
        %2 = new_array array#0 [3, 4]
        %3 = new_array array#1 [%1, %2]
        retain %3
        %4 = %3
        %5 = array_take %3[1] @1:1
        array_set %5[0] = 30 @1:1
    {between}    array_set %3[1] = %5 @1:1
        %6 = array_get %3[1] @1:1
        %8 = array_get %6[0] @1:1
        release %6
        %7 = array_get %4[1] @1:1
        %9 = array_get %7[0] @1:1
        release %7
        release %3
        release %4
        %10 = mul.int %8, 100 @1:1
        %11 = add.int %10, %9 @1:1
        return %11
    }
"##;

fn nested_update_program(look_between: bool) -> Program {
    let between = if look_between {
        "%0 = call_rt keel_value_to_str(%5)\nrelease %0\n"
    } else {
        ""
    };
    testing::program(&NESTED_UPDATE_TEMPLATE.replace("{between}", between))
}

/// let p = Point { x: 1.0, y: 2.0 }; var q = p; q.x = 5.0;
/// var bag = Bag { label: "b", items: [1] }; let shared = bag;
/// var items = take bag.items; items = push(items, 2); bag.items = items; bag.label = "c";
/// return to_int(p.x * 10.0 + q.x) * 100 + len(bag.items) * 10 + len(shared.items)
const POINT_AND_BAG: &str = r##"
    struct#0 Point { x: float, y: float }
    struct#1 Bag { label: string, items: [int] }
    array#0 = [int]
    str#0 = "b"
    str#1 = "c"

    fn#0 (entry) main() -> int {
      locals %0: struct#0, %1: struct#0, %2: float, %3: float, %4: float, %5: float, %6: int, %7: array#0, %8: struct#1, %9: struct#1, %10: array#0, %11: array#0, %12: array#0, %13: array#0, %14: int, %15: int, %16: int, %17: int, %18: int, %19: int
    b0:
        %0 = new_struct struct#0 {1.0, 2.0}
        retain %0
        %1 = %0
        field_set %1.0 = 5.0
        %2 = field_get %0.0
        %3 = field_get %1.0
        release %0
        release %1
        %4 = mul.float %2, 10.0
        %5 = add.float %4, %3
        %6 = float_to_int %5 @1:1
        %7 = new_array array#0 [1]
        %8 = new_struct struct#1 {str#0, %7}
        retain %8
        %9 = %8
        %10 = field_take %8.1
        %11 = call_rt keel_array_push(%10, 2)
        field_set %8.1 = %11
        field_set %8.0 = str#1
        %12 = field_get %8.1
        %14 = array_len %12
        release %12
        %13 = field_get %9.1
        %15 = array_len %13
        release %13
        release %8
        release %9
        %16 = mul.int %6, 100 @1:1
        %17 = mul.int %14, 10 @1:1
        %18 = add.int %16, %17 @1:1
        %19 = add.int %18, %15 @1:1
        return %19
    }
"##;

#[test]
fn struct_fields_copy_on_write_and_move_through_take() {
    // let p = Point { x: 1.0, y: 2.0 }; var q = p; q.x = 5.0;
    // var bag = Bag { label: "b", items: [1] }; let shared = bag;
    // var items = take bag.items; items = push(items, 2); bag.items = items; bag.label = "c";
    // return to_int(p.x * 10.0 + q.x) * 100 + len(bag.items) * 10 + len(shared.items)
    let program = testing::program(POINT_AND_BAG);
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

/// struct Node { name: string, kids: [Node] }
/// let leaf = Node { name: "b", kids: [] }; let root = Node { name: "a", kids: [leaf] };
/// let filled = array_fill(desc [int], 3, 7);
/// return to_string(root) == "..." & to_string(filled) == "[7, 7, 7]"
const RECURSIVE_NODES: &str = r##"
    struct#0 Node { name: string, kids: [Node] }
    array#0 = [Node]
    array#1 = [int]
    str#0 = "a"
    str#1 = "b"
    str#2 = "Node { name: \"a\", kids: [Node { name: \"b\", kids: [] }] }"
    str#3 = "[7, 7, 7]"

    fn#0 (entry) main() -> bool {
      locals %0: array#0, %1: struct#0, %2: array#0, %3: struct#0, %4: string, %5: bool, %6: array#1, %7: string, %8: bool, %9: bool
    b0:
        %0 = new_array array#0 []
        %1 = new_struct struct#0 {str#1, %0}
        %2 = new_array array#0 [%1]
        %3 = new_struct struct#0 {str#0, %2}
        %4 = call_rt keel_value_to_str(%3)
        %5 = call_rt keel_str_eq(%4, str#2)
        %6 = call_rt keel_array_fill(desc(array#1), 3, 7) @1:1
        %7 = call_rt keel_value_to_str(%6)
        %8 = call_rt keel_str_eq(%7, str#3)
        release %4
        release %3
        release %6
        release %7
        %9 = and %5, %8
        return %9
    }
"##;

#[test]
fn descriptors_reach_the_runtime_and_recursive_types_print() {
    // struct Node { name: string, kids: [Node] }
    // let leaf = Node { name: "b", kids: [] }; let root = Node { name: "a", kids: [leaf] };
    // let filled = array_fill(desc [int], 3, 7);
    // return to_string(root) == "..." & to_string(filled) == "[7, 7, 7]"
    let program = testing::program(RECURSIVE_NODES);
    assert_eq!(run_without_leaks(&program), 1);
    let listing = disassemble(&compile(&program));
    assert!(listing.contains("load_desc        r"), "{listing}");
    assert!(listing.contains("desc#5 [int]"), "{listing}");
}

/// fn g(a: int, n: int) -> int { return a * 10 + n }
/// fn main() -> int { let t = 4 + 0; return g(t, len([5, 6, 7])) }: `t` goes in place into g's
/// window before the array literal's constants are loaded.
const ARGUMENT_IN_PLACE: &str = r##"
    array#0 = [int]

    fn#0 (entry) main() -> int {
      locals %0: int, %1: array#0, %2: int, %3: int
    b0:
        %0 = add.int 4, 0 @1:1
        %1 = new_array array#0 [5, 6, 7]
        %2 = array_len %1
        release %1
        %3 = call g(%0, %2) @1:1
        return %3
    }

    fn#1 g(%0: int, %1: int) -> int {
      locals %2: int, %3: int
    b0:
        %2 = mul.int %0, 10 @1:1
        %3 = add.int %2, %1 @1:1
        return %3
    }
"##;

#[test]
fn constant_list_operands_do_not_clobber_arguments_written_in_place() {
    // fn g(a: int, n: int) -> int { return a * 10 + n }
    // fn main() -> int { let t = 4 + 0; return g(t, len([5, 6, 7])) }: `t` goes in place
    // into g's window before the array literal's constants are loaded.
    let program = testing::program(ARGUMENT_IN_PLACE);
    assert_eq!(run_without_leaks(&program), 43);
}

#[test]
fn instructions_stay_16_bytes_with_the_new_forms() {
    assert_eq!(std::mem::size_of::<Instr>(), 16);
}

/// let ps = [Point { x: 1.0, y: 2.0 }, Point { x: 3.0, y: 4.0 }]; let copy = ps;
/// ps[1].x = ps[1].x + 10.0;
/// let h = Holder { p: Point { x: 5.0, y: 6.0 }, name: "h" }; let h2 = h; h.p.y = 60.0;
/// return ps[1].x * 10000.0 + copy[1].x * 1000.0 + h.p.y * 10.0 + h2.p.y
const ELEMENT_FIELDS: &str = r##"
    struct#0 Point { x: float, y: float }
    struct#1 Holder { p: Point, name: string }
    array#0 = [Point]
    str#0 = "h"

    fn#0 (entry) main() -> float {
      locals %0: struct#0, %1: struct#0, %2: struct#0, %3: struct#0, %4: struct#0, %5: struct#0, %6: struct#0, %7: struct#0, %8: struct#0, %9: struct#0, %10: array#0, %11: array#0, %12: struct#1, %13: struct#1, %14: float, %15: float, %16: float, %17: float, %18: float, %19: float, %20: float, %21: float, %22: float, %23: float, %24: float, %25: float, %26: float
    b0:
        %0 = new_struct struct#0 {1.0, 2.0}
        %1 = new_struct struct#0 {3.0, 4.0}
        %10 = new_array array#0 [%0, %1]
        retain %10
        %11 = %10
        %3 = array_get %10[1] @1:1
        %14 = field_get %3.0
        release %3
        %15 = add.float %14, 10.0
        %6 = array_take %10[1] @1:1
        field_set %6.0 = %15
        array_set %10[1] = %6 @1:1
        %4 = array_get %10[1] @1:1
        %16 = field_get %4.0
        release %4
        %5 = array_get %11[1] @1:1
        %17 = field_get %5.0
        release %5
        %2 = new_struct struct#0 {5.0, 6.0}
        %12 = new_struct struct#1 {%2, str#0}
        retain %12
        %13 = %12
        %7 = field_take %12.0
        field_set %7.1 = 60.0
        field_set %12.0 = %7
        %8 = field_get %12.0
        %18 = field_get %8.1
        release %8
        %9 = field_get %13.0
        %19 = field_get %9.1
        release %9
        release %10
        release %11
        release %12
        release %13
        %20 = mul.float %16, 10000.0
        %21 = mul.float %17, 1000.0
        %22 = mul.float %18, 10.0
        %23 = add.float %20, %21
        %24 = add.float %22, %19
        %25 = add.float %23, %24
        %26 = %25
        return %26
    }
"##;

#[test]
fn element_fields_read_and_update_in_place_and_copies_stay_apart() {
    // let ps = [Point { x: 1.0, y: 2.0 }, Point { x: 3.0, y: 4.0 }]; let copy = ps;
    // ps[1].x = ps[1].x + 10.0;
    // let h = Holder { p: Point { x: 5.0, y: 6.0 }, name: "h" }; let h2 = h; h.p.y = 60.0;
    // return ps[1].x * 10000.0 + copy[1].x * 1000.0 + h.p.y * 10.0 + h2.p.y
    let program = testing::program(ELEMENT_FIELDS);
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
