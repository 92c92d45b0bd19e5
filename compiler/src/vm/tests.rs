//! Whole-VM tests: small IR programs built by hand, compiled and run in-process (scalars,
//! control flow and calls here; floats and heap values in `value_tests`, which shares the
//! builders below).
//!
//! Programs here never fault or exit (that would end the test process); fault detection is
//! tested on the pure operations in `ops`, which the interpreter itself uses.

use super::bytecode::Instr;
use super::interp::execute;
use super::{compile, disassemble, ops, Module};
use crate::ir::{
    BinaryOp, Block, BlockId, FuncId, Function, Inst, Local, LocalInfo, Operand, Program, Site,
    SiteId, StrId, Term, Ty, UnaryOp,
};

pub(super) const SITE: SiteId = SiteId(0);

/// Builds one IR function.
pub(super) struct FnBuilder {
    func: Function,
}

impl FnBuilder {
    pub(super) fn new(name: &str, params: &[Ty], ret: Ty) -> FnBuilder {
        let locals = params
            .iter()
            .map(|&ty| LocalInfo { ty, name: None })
            .collect();
        FnBuilder {
            func: Function {
                name: name.into(),
                param_count: params.len() as u32,
                ret,
                locals,
                blocks: Vec::new(),
            },
        }
    }

    pub(super) fn local(&mut self, ty: Ty) -> Local {
        self.func.locals.push(LocalInfo { ty, name: None });
        Local(self.func.locals.len() as u32 - 1)
    }

    pub(super) fn block(&mut self) -> BlockId {
        self.func.blocks.push(Block {
            insts: Vec::new(),
            term: Term::Return(None),
            handler: None,
        });
        BlockId(self.func.blocks.len() as u32 - 1)
    }

    pub(super) fn push(&mut self, block: BlockId, inst: Inst) {
        self.func.blocks[block.0 as usize].insts.push(inst);
    }

    pub(super) fn binary(
        &mut self,
        block: BlockId,
        dst: Local,
        op: BinaryOp,
        lhs: Operand,
        rhs: Operand,
    ) {
        self.push(
            block,
            Inst::Binary {
                dst,
                op,
                lhs,
                rhs,
                site: SITE,
            },
        );
    }

    pub(super) fn call(
        &mut self,
        block: BlockId,
        dst: Option<Local>,
        func: u32,
        args: Vec<Operand>,
    ) {
        self.push(
            block,
            Inst::Call {
                dst,
                func: FuncId(func),
                args,
                site: SITE,
            },
        );
    }

    pub(super) fn end(&mut self, block: BlockId, term: Term) {
        self.func.blocks[block.0 as usize].term = term;
    }

    /// Sets where a recovered fault of `block`'s instructions goes.
    pub(super) fn handler(&mut self, block: BlockId, handler: Option<BlockId>) {
        self.func.blocks[block.0 as usize].handler = handler;
    }

    pub(super) fn build(self) -> Function {
        self.func
    }
}

pub(super) fn program(functions: Vec<Function>, strings: &[&str]) -> Program {
    typed_program(functions, strings, Vec::new(), Vec::new())
}

/// A program with array and struct types.
pub(super) fn typed_program(
    functions: Vec<Function>,
    strings: &[&str],
    arrays: Vec<Ty>,
    structs: Vec<crate::ir::StructDef>,
) -> Program {
    let program = Program {
        functions,
        entry: FuncId(0),
        strings: strings.iter().map(|s| s.to_string()).collect(),
        sites: vec![Site {
            file: "test.kl".into(),
            line: 1,
            col: 1,
        }],
        arrays,
        structs,
    };
    if let Err(errors) = crate::ir::verify::verify(&program) {
        panic!("test program does not verify: {errors:?}");
    }
    program
}

pub(super) fn l(local: Local) -> Operand {
    Operand::Local(local)
}

/// Compiles `program` and runs function `func` on `args`.
pub(super) fn run(program: &Program, func: u32, args: &[i64]) -> i64 {
    let module = compile(program);
    execute(&module, func, args, false)
}

/// `fn fib(n) -> int { if n < 2 { return n } return fib(n - 1) + fib(n - 2) }`, shaped the way
/// the front end lowers it: temporaries for each subexpression.
fn fib_function(index: u32) -> Function {
    let mut f = FnBuilder::new("fib", &[Ty::Int], Ty::Int);
    let n = Local(0);
    let (small, a, fa, b, fb, sum) = (
        f.local(Ty::Bool),
        f.local(Ty::Int),
        f.local(Ty::Int),
        f.local(Ty::Int),
        f.local(Ty::Int),
        f.local(Ty::Int),
    );
    let (entry, base, recurse) = (f.block(), f.block(), f.block());
    f.binary(entry, small, BinaryOp::LtInt, l(n), Operand::Int(2));
    f.end(
        entry,
        Term::Branch {
            cond: l(small),
            then_to: base,
            else_to: recurse,
        },
    );
    f.end(base, Term::Return(Some(l(n))));
    f.binary(recurse, a, BinaryOp::SubInt, l(n), Operand::Int(1));
    f.call(recurse, Some(fa), index, vec![l(a)]);
    f.binary(recurse, b, BinaryOp::SubInt, l(n), Operand::Int(2));
    f.call(recurse, Some(fb), index, vec![l(b)]);
    f.binary(recurse, sum, BinaryOp::AddInt, l(fa), l(fb));
    f.end(recurse, Term::Return(Some(l(sum))));
    f.build()
}

fn fib_program() -> Program {
    program(vec![fib_function(0)], &[])
}

#[test]
fn fib_computes_and_compiles_tightly() {
    let program = fib_program();
    assert_eq!(run(&program, 0, &[0]), 0);
    assert_eq!(run(&program, 0, &[1]), 1);
    assert_eq!(run(&program, 0, &[20]), 6765);
    let module = compile(&program);
    // Fused compare-and-jump, arguments computed in place, no moves.
    let code = module.code();
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

/// `fn sum(n) -> int { var s = 0; var i = 1; while i <= n { s = s + i; i = i + 1; } return s }`
fn sum_program(bound: Operand) -> Program {
    let mut f = FnBuilder::new("sum", &[Ty::Int], Ty::Int);
    let (s, i, go, t1, t2) = (
        f.local(Ty::Int),
        f.local(Ty::Int),
        f.local(Ty::Bool),
        f.local(Ty::Int),
        f.local(Ty::Int),
    );
    let (entry, header, body, exit) = (f.block(), f.block(), f.block(), f.block());
    f.push(
        entry,
        Inst::Copy {
            dst: s,
            src: Operand::Int(0),
        },
    );
    f.push(
        entry,
        Inst::Copy {
            dst: i,
            src: Operand::Int(1),
        },
    );
    f.end(entry, Term::Jump(header));
    f.binary(header, go, BinaryOp::LeInt, l(i), bound);
    f.end(
        header,
        Term::Branch {
            cond: l(go),
            then_to: body,
            else_to: exit,
        },
    );
    f.binary(body, t1, BinaryOp::AddInt, l(s), l(i));
    f.push(body, Inst::Copy { dst: s, src: l(t1) });
    f.binary(body, t2, BinaryOp::AddInt, l(i), Operand::Int(1));
    f.push(body, Inst::Copy { dst: i, src: l(t2) });
    f.end(body, Term::Jump(header));
    f.end(exit, Term::Return(Some(l(s))));
    program(vec![f.build()], &[])
}

#[test]
fn while_loop_sums_with_two_instructions_per_iteration() {
    let program = sum_program(l(Local(0)));
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

    let constant_bound = sum_program(Operand::Int(1000));
    assert_eq!(run(&constant_bound, 0, &[0]), 500_500);
    let listing = disassemble(&compile(&constant_bound));
    assert!(listing.contains("inc_le_int_imm_jump"), "{listing}");
}

#[test]
fn wide_constants_go_through_scratch_registers() {
    let program = sum_program(Operand::Int(5_000_000_000));
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
    let mut f = FnBuilder::new("f", &[ty, ty], result_ty);
    let dst = f.local(result_ty);
    let block = f.block();
    let operand = |value: i64, imm: bool, param: u32| match (imm, ty) {
        (false, _) => l(Local(param)),
        (true, Ty::Bool) => Operand::Bool(value != 0),
        (true, _) => Operand::Int(value),
    };
    f.binary(block, dst, op, operand(a, a_imm, 0), operand(b, b_imm, 1));
    f.end(block, Term::Return(Some(l(dst))));
    run(&program(vec![f.build()], &[]), 0, &[a, b])
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

/// `if (lhs op rhs) [negated with not] { return 1 } return 0`, in both block orders.
fn eval_branch(op: BinaryOp, a: i64, b: i64, a_imm: bool, b_imm: bool, negated: bool) -> i64 {
    let mut results = Vec::new();
    for then_first in [true, false] {
        let mut f = FnBuilder::new("f", &[Ty::Int, Ty::Int], Ty::Int);
        let cond = f.local(Ty::Bool);
        let not = f.local(Ty::Bool);
        let entry = f.block();
        let (yes, no) = if then_first {
            (f.block(), f.block())
        } else {
            let no = f.block();
            (f.block(), no)
        };
        let operand = |value: i64, imm: bool, param: u32| {
            if imm {
                Operand::Int(value)
            } else {
                l(Local(param))
            }
        };
        f.binary(entry, cond, op, operand(a, a_imm, 0), operand(b, b_imm, 1));
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
        results.push(run(&program(vec![f.build()], &[]), 0, &[a, b]));
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
        (UnaryOp::NegInt, Ty::Int, 5, -5),
        (UnaryOp::NegInt, Ty::Int, i64::MAX, -i64::MAX),
        (UnaryOp::Not, Ty::Bool, 0, 1),
        (UnaryOp::Not, Ty::Bool, 1, 0),
    ] {
        for imm in [false, true] {
            let mut f = FnBuilder::new("f", &[ty], ty);
            let dst = f.local(ty);
            let block = f.block();
            let src = match (imm, ty) {
                (false, _) => l(Local(0)),
                (true, Ty::Bool) => Operand::Bool(input != 0),
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
            assert_eq!(
                run(&program(vec![f.build()], &[]), 0, &[input]),
                expected,
                "{op:?} {input}"
            );
        }
    }
}

#[test]
fn nested_calls_keep_argument_order() {
    // fn f(a, b, c) -> int { return a * 100 + b * 10 + c }
    let mut f = FnBuilder::new("f", &[Ty::Int, Ty::Int, Ty::Int], Ty::Int);
    let (x, y, z, w) = (
        f.local(Ty::Int),
        f.local(Ty::Int),
        f.local(Ty::Int),
        f.local(Ty::Int),
    );
    let block = f.block();
    f.binary(block, x, BinaryOp::MulInt, l(Local(0)), Operand::Int(100));
    f.binary(block, y, BinaryOp::MulInt, Operand::Int(10), l(Local(1)));
    f.binary(block, z, BinaryOp::AddInt, l(x), l(y));
    f.binary(block, w, BinaryOp::AddInt, l(z), l(Local(2)));
    f.end(block, Term::Return(Some(l(w))));
    // fn g(n) -> int { return f(n - 1, f(n, n + 1, 1), n + 2) }  with g = fn#1
    let mut g = FnBuilder::new("g", &[Ty::Int], Ty::Int);
    let n = l(Local(0));
    let (a, b, inner, c, result) = (
        g.local(Ty::Int),
        g.local(Ty::Int),
        g.local(Ty::Int),
        g.local(Ty::Int),
        g.local(Ty::Int),
    );
    let block = g.block();
    g.binary(block, a, BinaryOp::SubInt, n, Operand::Int(1));
    g.binary(block, b, BinaryOp::AddInt, n, Operand::Int(1));
    g.call(block, Some(inner), 0, vec![n, l(b), Operand::Int(1)]);
    g.binary(block, c, BinaryOp::AddInt, n, Operand::Int(2));
    g.call(block, Some(result), 0, vec![l(a), l(inner), l(c)]);
    g.end(block, Term::Return(Some(l(result))));
    let program = program(vec![f.build(), g.build()], &[]);
    // f(3, 4, 1) = 341; f(2, 341, 5) = 200 + 3410 + 5
    assert_eq!(run(&program, 1, &[3]), 3615);
}

#[test]
fn a_discarded_result_clobbers_nothing() {
    // fn seven() -> int { return 7 }  fn main() -> int { let a = 5; seven(); return a }
    let mut seven = FnBuilder::new("seven", &[], Ty::Int);
    let block = seven.block();
    seven.end(block, Term::Return(Some(Operand::Int(7))));
    let mut main = FnBuilder::new("main", &[], Ty::Int);
    let a = main.local(Ty::Int);
    let block = main.block();
    main.push(
        block,
        Inst::Copy {
            dst: a,
            src: Operand::Int(5),
        },
    );
    main.call(block, None, 0, vec![]);
    main.end(block, Term::Return(Some(l(a))));
    let program = program(vec![seven.build(), main.build()], &[]);
    assert_eq!(run(&program, 1, &[]), 5);
}

#[test]
fn an_increment_ending_one_block_does_not_fuse_with_the_next_blocks_branch() {
    // b0: i = 0; branch p, b1, b2   b1: i = i + 1; jump b2
    // b2: c = i < 1; branch c, b3, b4   b3: return 1   b4: return 0
    let mut f = FnBuilder::new("f", &[Ty::Bool], Ty::Int);
    let (i, c) = (f.local(Ty::Int), f.local(Ty::Bool));
    let (b0, b1, b2, b3, b4) = (f.block(), f.block(), f.block(), f.block(), f.block());
    f.push(
        b0,
        Inst::Copy {
            dst: i,
            src: Operand::Int(0),
        },
    );
    f.end(
        b0,
        Term::Branch {
            cond: l(Local(0)),
            then_to: b1,
            else_to: b2,
        },
    );
    f.binary(b1, i, BinaryOp::AddInt, l(i), Operand::Int(1));
    f.end(b1, Term::Jump(b2));
    f.binary(b2, c, BinaryOp::LtInt, l(i), Operand::Int(1));
    f.end(
        b2,
        Term::Branch {
            cond: l(c),
            then_to: b3,
            else_to: b4,
        },
    );
    f.end(b3, Term::Return(Some(Operand::Int(1))));
    f.end(b4, Term::Return(Some(Operand::Int(0))));
    let program = program(vec![f.build()], &[]);
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
            let mut f = FnBuilder::new("count", &[Ty::Int], Ty::Int);
            let (k, i, c) = (f.local(Ty::Int), f.local(Ty::Int), f.local(Ty::Bool));
            let (entry, header, body, exit) = (f.block(), f.block(), f.block(), f.block());
            f.push(
                entry,
                Inst::Copy {
                    dst: k,
                    src: Operand::Int(0),
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
            let bound = if bound_imm {
                Operand::Int(n)
            } else {
                l(Local(0))
            };
            f.binary(header, c, op, l(i), bound);
            f.end(
                header,
                Term::Branch {
                    cond: l(c),
                    then_to: body,
                    else_to: exit,
                },
            );
            f.binary(body, k, BinaryOp::AddInt, l(k), Operand::Int(2));
            f.binary(body, i, BinaryOp::AddInt, Operand::Int(1), l(i));
            f.end(body, Term::Jump(header));
            f.end(exit, Term::Return(Some(l(k))));
            let program = program(vec![f.build()], &[]);
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
    let mut f = FnBuilder::new("depth", &[Ty::Int], Ty::Int);
    let (zero, m, r, s) = (
        f.local(Ty::Bool),
        f.local(Ty::Int),
        f.local(Ty::Int),
        f.local(Ty::Int),
    );
    let (entry, done, recurse) = (f.block(), f.block(), f.block());
    f.binary(entry, zero, BinaryOp::EqInt, l(Local(0)), Operand::Int(0));
    f.end(
        entry,
        Term::Branch {
            cond: l(zero),
            then_to: done,
            else_to: recurse,
        },
    );
    f.end(done, Term::Return(Some(Operand::Int(0))));
    f.binary(recurse, m, BinaryOp::SubInt, l(Local(0)), Operand::Int(1));
    f.call(recurse, Some(r), 0, vec![l(m)]);
    f.binary(recurse, s, BinaryOp::AddInt, l(r), Operand::Int(1));
    f.end(recurse, Term::Return(Some(l(s))));
    let program = program(vec![f.build()], &[]);
    assert_eq!(run(&program, 0, &[200_000]), 200_000);
}

#[test]
fn string_literals_are_static_objects_owned_by_the_module() {
    // fn pick(b) -> string { var s: string; if b { s = "yes" } else { s = "no" } return s }
    let mut f = FnBuilder::new("pick", &[Ty::Bool], Ty::Str);
    let s = f.local(Ty::Str);
    let (entry, yes, no, done) = (f.block(), f.block(), f.block(), f.block());
    f.end(
        entry,
        Term::Branch {
            cond: l(Local(0)),
            then_to: yes,
            else_to: no,
        },
    );
    for (block, text) in [(yes, 0), (no, 1)] {
        f.push(
            block,
            Inst::Copy {
                dst: s,
                src: Operand::Str(StrId(text)),
            },
        );
        f.end(block, Term::Jump(done));
    }
    f.end(done, Term::Return(Some(l(s))));
    let program = program(vec![f.build()], &["yes", "no"]);
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
    let mut nothing = FnBuilder::new("nothing", &[], Ty::Void);
    let block = nothing.block();
    nothing.end(block, Term::Return(None));
    let mut main = FnBuilder::new("main", &[], Ty::Int);
    let (entry, yes, no) = (main.block(), main.block(), main.block());
    main.call(entry, None, 0, vec![]);
    main.end(
        entry,
        Term::Branch {
            cond: Operand::Bool(true),
            then_to: yes,
            else_to: no,
        },
    );
    main.end(yes, Term::Return(Some(Operand::Int(7))));
    main.end(no, Term::Return(Some(Operand::Int(8))));
    let program = program(vec![nothing.build(), main.build()], &[]);
    assert_eq!(run(&program, 1, &[]), 7);
    let listing = disassemble(&compile(&program));
    assert!(
        !listing.contains("load_int r1, 8"),
        "dead block emitted:\n{listing}"
    );
}

#[test]
fn disassembly_names_functions_sites_and_literals() {
    let listing = disassemble(&compile(&fib_program()));
    assert!(
        listing.starts_with("fn#0 fib (entry): 1 param"),
        "{listing}"
    );
    assert!(
        listing.contains("ge_int_imm_jump  r0, 2, -> 2"),
        "{listing}"
    );
    assert!(listing.contains("call             fn#0 fib"), "{listing}");
    assert!(listing.contains("@1:1"), "{listing}");
}
