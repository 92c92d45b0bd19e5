//! Tests of fault recovery (`live` blocks) in compiled code, through both drivers.
//!
//! The programs are IR built by hand the way the front end lowers a `live` block (the sketch in
//! the IR's "Faults and recovery": a snapshot of each outer variable, `LiveEnter`, the body with
//! the recovery block as its handler, `LiveExit`, and a recovery block that calls `LiveRetry` and
//! restores the snapshots). Each runs under the JIT, in a child process of the test binary (an
//! unrecovered fault ends the process, and the runtime's live-block state is process-wide), and
//! as a native executable for the host and every other target that builds and runs here. Every
//! run must print exactly the expected output and error output and end with the expected status,
//! with the runtime's leak check on.

use std::io::Write;
use std::process::Command;

use super::values_tests::{run_native_program, Run};
use crate::aot::{emit_object, Target};
use crate::ir::{
    self, ArrayId, BinaryOp, Block, BlockId, FuncId, Function, Inst, Local, LocalInfo, Operand,
    Program, RtFunc, Site, SiteId, StrId, Stream, Term, Ty, UnaryOp,
};

/// Set in the child process that runs a program under the JIT.
const JIT_CHILD_VAR: &str = "KEEL_RECOVERY_TEST_JIT_CHILD";
/// Printed by the child right before the program runs: what follows is the program's output
/// (the test harness prints its own lines first).
const OUTPUT_MARK: &str = "\u{1}program output\u{1}";

/// Sites: `live` keywords, the faulting operations and calls.
const LIVE: SiteId = SiteId(0);
const DIV: SiteId = SiteId(1);
const INDEX: SiteId = SiteId(2);
const CALL: SiteId = SiteId(3);
const INNER_LIVE: SiteId = SiteId(4);
const ASSERT: SiteId = SiteId(5);
const CHAR_AT: SiteId = SiteId(6);

fn sites() -> Vec<Site> {
    [(2, 1), (3, 14), (4, 9), (5, 3), (6, 5), (7, 9), (8, 11)]
        .into_iter()
        .map(|(line, col)| Site {
            file: "t.kl".into(),
            line,
            col,
        })
        .collect()
}

fn ints(count: usize) -> Vec<LocalInfo> {
    vec![
        LocalInfo {
            ty: Ty::Int,
            name: None
        };
        count
    ]
}

fn var(n: u32) -> Operand {
    Operand::Local(Local(n))
}

fn copy(dst: u32, src: Operand) -> Inst {
    Inst::Copy {
        dst: Local(dst),
        src,
    }
}

fn binary(dst: u32, op: BinaryOp, lhs: Operand, rhs: Operand, site: SiteId) -> Inst {
    Inst::Binary {
        dst: Local(dst),
        op,
        lhs,
        rhs,
        site,
    }
}

fn println(value: Operand, ty: Ty) -> Inst {
    Inst::Print {
        value,
        ty,
        newline: true,
        stream: Stream::Stdout,
    }
}

fn runtime(dst: Option<u32>, func: RtFunc, args: Vec<Operand>, site: SiteId) -> Inst {
    Inst::CallRt {
        dst: dst.map(Local),
        func,
        args,
        site,
    }
}

fn call(dst: Option<u32>, func: u32, args: Vec<Operand>) -> Inst {
    Inst::Call {
        dst: dst.map(Local),
        func: FuncId(func),
        args,
        site: CALL,
    }
}

fn enter() -> Inst {
    runtime(None, RtFunc::LiveEnter, vec![Operand::Int(-1)], LIVE)
}

fn exit() -> Inst {
    runtime(None, RtFunc::LiveExit, vec![], LIVE)
}

fn retry(site: SiteId) -> Inst {
    runtime(None, RtFunc::LiveRetry, vec![], site)
}

fn retries(dst: u32) -> Inst {
    runtime(Some(dst), RtFunc::LiveRetries, vec![], LIVE)
}

fn block(insts: Vec<Inst>, term: Term, handler: Option<u32>) -> Block {
    Block {
        insts,
        term,
        handler: handler.map(BlockId),
    }
}

fn jump(to: u32) -> Term {
    Term::Jump(BlockId(to))
}

fn function(
    name: &str,
    params: u32,
    ret: Ty,
    locals: Vec<LocalInfo>,
    blocks: Vec<Block>,
) -> Function {
    Function {
        name: name.into(),
        param_count: params,
        ret,
        locals,
        blocks,
    }
}

/// A verified program whose last function is the entry.
fn program(functions: Vec<Function>, strings: Vec<String>, arrays: Vec<Ty>) -> Program {
    let program = Program {
        entry: FuncId(functions.len() as u32 - 1),
        functions,
        strings,
        sites: sites(),
        arrays,
        structs: Vec::new(),
    };
    ir::verify::verify(&program).unwrap_or_else(|errors| panic!("verifier: {errors:#?}"));
    program
}

/// Runs `program` under the JIT in a child process that runs the test `test` (its path below
/// the crate) again, and returns what the program did.
fn run_jit(test: &str, program: &Program) -> Run {
    if std::env::var_os(JIT_CHILD_VAR).is_some() {
        print!("{OUTPUT_MARK}");
        std::io::stdout().flush().expect("stdout");
        let status = crate::jit::run(program, Vec::new()).unwrap_or_else(|e| panic!("{e}"));
        std::process::exit(status);
    }
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let output = Command::new(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(JIT_CHILD_VAR, "1")
        .env(keel_runtime::process::LEAK_CHECK_VAR, "1")
        .output()
        .expect("the test binary runs");
    let mut run = Run::from(output);
    run.stdout = match run.stdout.split_once(OUTPUT_MARK) {
        Some((_, program_output)) => program_output.to_string(),
        None => panic!("the child did not run the program: {run:?}"),
    };
    run
}

/// Asserts that `program` behaves as `expected` under the JIT (as test `test`) and natively.
fn assert_runs(test: &str, program: &Program, expected: Run) {
    assert_eq!(run_jit(test, program), expected, "JIT");
    assert_eq!(run_native_program(program), expected, "native");
}

fn succeeds(stdout: &str) -> Run {
    Run {
        stdout: stdout.into(),
        stderr: String::new(),
        status: Some(0),
    }
}

/// This module's test `name` as the test harness names it.
fn test_name(name: &str) -> String {
    let module = module_path!().split_once("::").map_or("", |(_, rest)| rest);
    format!("{module}::{name}")
}

/// ```text
/// let x = 10;
/// live {                               // t.kl:2:1
///     println(live_retries());
///     let d = live_retries() / 2;
///     x += 1;
///     x += 100 / d;                    // t.kl:3:14: 0 on the first two attempts
/// }
/// println(x);
/// ```
fn retry_until_success() -> Program {
    let (x, snap, r, d, q) = (0, 1, 2, 3, 4);
    let main = function(
        "<main>",
        0,
        Ty::Void,
        ints(5),
        vec![
            block(
                vec![copy(x, Operand::Int(10)), copy(snap, var(x)), enter()],
                jump(1),
                None,
            ),
            block(
                vec![
                    retries(r),
                    println(var(r), Ty::Int),
                    binary(d, BinaryOp::DivInt, var(r), Operand::Int(2), DIV),
                    binary(x, BinaryOp::AddInt, var(x), Operand::Int(1), DIV),
                    binary(q, BinaryOp::DivInt, Operand::Int(100), var(d), DIV),
                    binary(x, BinaryOp::AddInt, var(x), var(q), DIV),
                ],
                jump(2),
                Some(3),
            ),
            block(vec![exit()], jump(4), None),
            block(vec![retry(LIVE), copy(x, var(snap))], jump(1), None),
            block(vec![println(var(x), Ty::Int)], Term::Return(None), None),
        ],
    );
    program(vec![main], Vec::new(), Vec::new())
}

#[test]
fn a_live_body_runs_again_with_its_variables_restored() {
    // Without the restore, x would be 113.
    assert_runs(
        &test_name("a_live_body_runs_again_with_its_variables_restored"),
        &retry_until_success(),
        succeeds("0\n1\n2\n111\n"),
    );
}

/// ```text
/// fn f3(int n) -> int { return 100 / n; }                  // a small leaf: inlined
/// fn f2(int n) -> float { return to_float(f3(n)) + 0.5; }
/// fn f1(int n) -> int { return to_int(f2(n) * 2.0); }
/// fn f0(int n) { println(f1(n)); }
/// fn deep(int n) -> int { if n == 0 { return 0; } return deep(n - 1); }
/// live { println(live_retries()); f0(live_retries()); }
/// println(deep(MAX_STACK_UNITS - 1));                    // needs every call uncounted again
/// ```
fn fault_three_calls_deep() -> Program {
    let f3 = function(
        "f3",
        1,
        Ty::Int,
        ints(2),
        vec![block(
            vec![binary(1, BinaryOp::DivInt, Operand::Int(100), var(0), DIV)],
            Term::Return(Some(var(1))),
            None,
        )],
    );
    let mut f2_locals = ints(2);
    f2_locals.push(LocalInfo {
        ty: Ty::Float,
        name: None,
    });
    let f2 = function(
        "f2",
        1,
        Ty::Float,
        f2_locals,
        vec![block(
            vec![
                call(Some(1), 0, vec![var(0)]),
                Inst::Unary {
                    dst: Local(2),
                    op: UnaryOp::IntToFloat,
                    src: var(1),
                    site: DIV,
                },
                binary(
                    2,
                    BinaryOp::AddFloat,
                    var(2),
                    Operand::Float(0.5f64.to_bits()),
                    DIV,
                ),
            ],
            Term::Return(Some(var(2))),
            None,
        )],
    );
    let mut f1_locals = ints(1);
    f1_locals.push(LocalInfo {
        ty: Ty::Float,
        name: None,
    });
    f1_locals.extend(ints(1));
    let f1 = function(
        "f1",
        1,
        Ty::Int,
        f1_locals,
        vec![block(
            vec![
                call(Some(1), 1, vec![var(0)]),
                binary(
                    1,
                    BinaryOp::MulFloat,
                    var(1),
                    Operand::Float(2.0f64.to_bits()),
                    DIV,
                ),
                Inst::Unary {
                    dst: Local(2),
                    op: UnaryOp::FloatToInt,
                    src: var(1),
                    site: DIV,
                },
            ],
            Term::Return(Some(var(2))),
            None,
        )],
    );
    let f0 = function(
        "f0",
        1,
        Ty::Void,
        ints(2),
        vec![block(
            vec![call(Some(1), 2, vec![var(0)]), println(var(1), Ty::Int)],
            Term::Return(None),
            None,
        )],
    );
    let mut deep_locals = ints(1);
    deep_locals.push(LocalInfo {
        ty: Ty::Bool,
        name: None,
    });
    deep_locals.extend(ints(2));
    let deep = function(
        "deep",
        1,
        Ty::Int,
        deep_locals,
        vec![
            block(
                vec![binary(1, BinaryOp::EqInt, var(0), Operand::Int(0), DIV)],
                Term::Branch {
                    cond: var(1),
                    then_to: BlockId(1),
                    else_to: BlockId(2),
                },
                None,
            ),
            block(vec![], Term::Return(Some(Operand::Int(0))), None),
            block(
                vec![
                    binary(2, BinaryOp::SubInt, var(0), Operand::Int(1), DIV),
                    call(Some(3), 4, vec![var(2)]),
                ],
                Term::Return(Some(var(3))),
                None,
            ),
        ],
    );
    let (r, d) = (0, 1);
    let main = function(
        "<main>",
        0,
        Ty::Void,
        ints(2),
        vec![
            block(vec![enter()], jump(1), None),
            block(
                vec![
                    retries(r),
                    println(var(r), Ty::Int),
                    call(None, 3, vec![var(r)]),
                ],
                jump(2),
                Some(3),
            ),
            block(vec![exit()], jump(4), None),
            block(vec![retry(LIVE)], jump(1), None),
            block(
                vec![
                    call(
                        Some(d),
                        4,
                        vec![Operand::Int(keel_runtime::MAX_STACK_UNITS - 1)],
                    ),
                    println(var(d), Ty::Int),
                ],
                Term::Return(None),
                None,
            ),
        ],
    );
    program(vec![f3, f2, f1, f0, deep, main], Vec::new(), Vec::new())
}

#[test]
fn a_fault_three_calls_deep_is_recovered_in_the_caller() {
    assert_runs(
        &test_name("a_fault_three_calls_deep_is_recovered_in_the_caller"),
        &fault_three_calls_deep(),
        succeeds("0\n1\n201\n0\n"),
    );
}

/// ```text
/// let a = [1, 2];
/// live {                                 // t.kl:2:1
///     println(live_retries());
///     println(a[live_retries() + 5]);    // t.kl:4:9: always out of bounds
/// }
/// println(0);
/// ```
fn always_failing() -> Program {
    let (a, r, i, v) = (0, 1, 2, 3);
    let mut locals = vec![LocalInfo {
        ty: Ty::Array(ArrayId(0)),
        name: None,
    }];
    locals.extend(ints(3));
    let main = function(
        "<main>",
        0,
        Ty::Void,
        locals,
        vec![
            block(
                vec![
                    Inst::NewArray {
                        dst: Local(a),
                        ty: ArrayId(0),
                        items: vec![Operand::Int(1), Operand::Int(2)],
                    },
                    enter(),
                ],
                jump(1),
                None,
            ),
            block(
                vec![
                    retries(r),
                    println(var(r), Ty::Int),
                    binary(i, BinaryOp::AddInt, var(r), Operand::Int(5), DIV),
                    Inst::ArrayGet {
                        dst: Local(v),
                        array: var(a),
                        index: var(i),
                        site: INDEX,
                    },
                    println(var(v), Ty::Int),
                ],
                jump(2),
                Some(3),
            ),
            block(vec![exit()], jump(4), None),
            block(vec![retry(LIVE)], jump(1), None),
            block(
                vec![println(Operand::Int(0), Ty::Int)],
                Term::Return(None),
                None,
            ),
        ],
    );
    program(vec![main], Vec::new(), vec![Ty::Int])
}

#[test]
fn an_exhausted_live_block_ends_the_process_with_its_last_fault() {
    assert_runs(
        &test_name("an_exhausted_live_block_ends_the_process_with_its_last_fault"),
        &always_failing(),
        Run {
            stdout: "0\n1\n2\n".into(),
            stderr: "t.kl:2:1: live block failed after 3 attempts; last fault: t.kl:4:9: \
                     index out of bounds: index 7 is out of range for an array of length 2\n"
                .into(),
            status: Some(1),
        },
    );
}

/// ```text
/// let x = 0;
/// live {                                // t.kl:2:1
///     let o = live_retries();
///     println(o);
///     x += 1;
///     live {                            // t.kl:6:5
///         println(live_retries() + 10);
///         assert o != 0;                // t.kl:7:9: the inner block fails on the first outer try
///         x += 100 / live_retries();    // then recovers once by itself
///     }
/// }
/// println(x);
/// ```
fn nested_blocks() -> Program {
    let (x, snap_outer, o, snap_inner, r, cond, q, t) = (0, 1, 2, 3, 4, 5, 6, 7);
    let mut locals = ints(5);
    locals.push(LocalInfo {
        ty: Ty::Bool,
        name: None,
    });
    locals.extend(ints(2));
    let main = function(
        "<main>",
        0,
        Ty::Void,
        locals,
        vec![
            // 0: before the outer block
            block(
                vec![copy(x, Operand::Int(0)), copy(snap_outer, var(x)), enter()],
                jump(1),
                None,
            ),
            // 1: outer body, up to the inner block
            block(
                vec![
                    retries(o),
                    println(var(o), Ty::Int),
                    binary(x, BinaryOp::AddInt, var(x), Operand::Int(1), DIV),
                    copy(snap_inner, var(x)),
                    runtime(None, RtFunc::LiveEnter, vec![Operand::Int(-1)], INNER_LIVE),
                ],
                jump(2),
                Some(8),
            ),
            // 2: inner body
            block(
                vec![
                    retries(r),
                    binary(t, BinaryOp::AddInt, var(r), Operand::Int(10), DIV),
                    println(var(t), Ty::Int),
                    binary(cond, BinaryOp::EqInt, var(o), Operand::Int(0), DIV),
                ],
                Term::Branch {
                    cond: var(cond),
                    then_to: BlockId(3),
                    else_to: BlockId(4),
                },
                Some(7),
            ),
            // 3: the failed assertion
            block(
                vec![runtime(
                    None,
                    RtFunc::Fault,
                    vec![Operand::Str(StrId(0))],
                    ASSERT,
                )],
                Term::Unwind,
                Some(7),
            ),
            // 4: rest of the inner body
            block(
                vec![
                    binary(q, BinaryOp::DivInt, Operand::Int(100), var(r), DIV),
                    binary(x, BinaryOp::AddInt, var(x), var(q), DIV),
                ],
                jump(5),
                Some(7),
            ),
            // 5: inner block done
            block(
                vec![runtime(None, RtFunc::LiveExit, vec![], INNER_LIVE)],
                jump(6),
                Some(8),
            ),
            // 6: outer block done
            block(vec![exit()], jump(9), None),
            // 7: inner recovery
            block(
                vec![retry(INNER_LIVE), copy(x, var(snap_inner))],
                jump(2),
                Some(8),
            ),
            // 8: outer recovery
            block(vec![retry(LIVE), copy(x, var(snap_outer))], jump(1), None),
            // 9: after
            block(vec![println(var(x), Ty::Int)], Term::Return(None), None),
        ],
    );
    program(
        vec![main],
        vec!["assertion failed: o != 0".into()],
        Vec::new(),
    )
}

#[test]
fn an_inner_block_that_fails_makes_the_outer_one_retry() {
    assert_runs(
        &test_name("an_inner_block_that_fails_makes_the_outer_one_retry"),
        &nested_blocks(),
        succeeds("0\n10\n11\n12\n1\n10\n11\n101\n"),
    );
}

/// ```text
/// fn pick(int i) -> string { return char_at("ab", i); }   // t.kl:8:11 when i < 0
/// live { let s = pick(live_retries() - 1); println(s); }
/// ```
fn runtime_function_fault() -> Program {
    let string = LocalInfo {
        ty: Ty::Str,
        name: None,
    };
    let pick = function(
        "pick",
        1,
        Ty::Str,
        vec![ints(1)[0].clone(), string.clone()],
        vec![block(
            vec![runtime(
                Some(1),
                RtFunc::StrCharAt,
                vec![Operand::Str(StrId(0)), var(0)],
                CHAR_AT,
            )],
            Term::Return(Some(var(1))),
            None,
        )],
    );
    let (r, i, s) = (0, 1, 2);
    let mut locals = ints(2);
    locals.push(string);
    let main = function(
        "<main>",
        0,
        Ty::Void,
        locals,
        vec![
            block(vec![enter()], jump(1), None),
            block(
                vec![
                    retries(r),
                    binary(i, BinaryOp::SubInt, var(r), Operand::Int(1), DIV),
                    call(Some(s), 0, vec![var(i)]),
                    println(var(s), Ty::Str),
                    Inst::Release { value: Local(s) },
                ],
                jump(2),
                Some(3),
            ),
            block(vec![exit()], jump(4), None),
            block(vec![retry(LIVE)], jump(1), None),
            block(vec![], Term::Return(None), None),
        ],
    );
    program(vec![pick, main], vec!["ab".into()], Vec::new())
}

#[test]
fn a_fault_raised_by_a_runtime_function_is_recovered() {
    assert_runs(
        &test_name("a_fault_raised_by_a_runtime_function_is_recovered"),
        &runtime_function_fault(),
        succeeds("a\n"),
    );
}

/// Programs without `live` blocks get no pending-fault tests: their objects never mention the
/// flag. Programs with one do.
#[test]
fn only_programs_that_recover_test_the_pending_flag() {
    let host = Target::host().expect("tests run on a supported host");
    let mentions_flag = |program: &Program| {
        let object = emit_object(program, &host).unwrap_or_else(|e| panic!("{e}"));
        let symbol = keel_runtime::recover::FAULT_PENDING_SYMBOL.as_bytes();
        object.windows(symbol.len()).any(|window| window == symbol)
    };
    assert!(mentions_flag(&fault_three_calls_deep()));
    let mut without_live = fault_three_calls_deep();
    for func in &mut without_live.functions {
        for block in &mut func.blocks {
            block.handler = None;
        }
    }
    assert!(!without_live.recovers());
    assert!(!mentions_flag(&without_live));
}

/// ```text
/// fn safe(int d) -> int {                  // a small leaf: inlined into the entry function
///     let q = 0;
///     live {                               // t.kl:6:5
///         println(live_retries() + 10);
///         q = 100 / d;                     // t.kl:3:14: always fails when d == 0
///     }
///     return q;
/// }
/// let r = 0;
/// live { println(live_retries()); r = safe(live_retries()); }
/// println(r);
/// ```
fn live_block_in_an_inlined_callee() -> Program {
    let (d, q, snap_q, t) = (0, 1, 2, 3);
    let safe = function(
        "safe",
        1,
        Ty::Int,
        ints(4),
        vec![
            block(
                vec![
                    copy(q, Operand::Int(0)),
                    copy(snap_q, var(q)),
                    runtime(None, RtFunc::LiveEnter, vec![Operand::Int(-1)], INNER_LIVE),
                ],
                jump(1),
                None,
            ),
            block(
                vec![
                    retries(t),
                    binary(t, BinaryOp::AddInt, var(t), Operand::Int(10), DIV),
                    println(var(t), Ty::Int),
                    binary(q, BinaryOp::DivInt, Operand::Int(100), var(d), DIV),
                ],
                jump(2),
                Some(3),
            ),
            block(
                vec![runtime(None, RtFunc::LiveExit, vec![], INNER_LIVE)],
                Term::Return(Some(var(q))),
                None,
            ),
            block(vec![retry(INNER_LIVE), copy(q, var(snap_q))], jump(1), None),
        ],
    );
    let (r, snap_r, k) = (0, 1, 2);
    let main = function(
        "<main>",
        0,
        Ty::Void,
        ints(3),
        vec![
            block(
                vec![copy(r, Operand::Int(0)), copy(snap_r, var(r)), enter()],
                jump(1),
                None,
            ),
            block(
                vec![
                    retries(k),
                    println(var(k), Ty::Int),
                    call(Some(r), 0, vec![var(k)]),
                ],
                jump(2),
                Some(3),
            ),
            block(vec![exit()], jump(4), None),
            block(vec![retry(LIVE), copy(r, var(snap_r))], jump(1), None),
            block(vec![println(var(r), Ty::Int)], Term::Return(None), None),
        ],
    );
    program(vec![safe, main], Vec::new(), Vec::new())
}

#[test]
fn a_live_block_in_an_inlined_callee_fails_into_the_callers() {
    assert_runs(
        &test_name("a_live_block_in_an_inlined_callee_fails_into_the_callers"),
        &live_block_in_an_inlined_callee(),
        succeeds("0\n10\n11\n12\n1\n10\n100\n"),
    );
}

/// A stack overflow inside a `live` block is not recovered: the process ends at the call.
#[test]
fn a_stack_overflow_is_not_recovered() {
    let mut program = fault_three_calls_deep();
    let main = program.functions.last_mut().expect("main");
    main.blocks[1].insts = vec![
        println(Operand::Int(7), Ty::Int),
        call(None, 4, vec![Operand::Int(keel_runtime::MAX_STACK_UNITS)]),
    ];
    assert_runs(
        &test_name("a_stack_overflow_is_not_recovered"),
        &program,
        Run {
            stdout: "7\n".into(),
            stderr: "t.kl:5:3: stack overflow: too many nested calls\n".into(),
            status: Some(1),
        },
    );
}
