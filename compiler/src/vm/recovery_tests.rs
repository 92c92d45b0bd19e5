//! Recovery tests: hand-built IR programs with `live` blocks, lowered the way the front end
//! lowers them (ir/mod.rs, "Faults and recovery"), run on the VM.
//!
//! A recovered fault changes global runtime state (the live-block stack, the pending flag) and an
//! unrecovered one ends the process, so each program runs in a child process: this test binary,
//! started again on one test alone (see [`run_in_child`]). Only the unwinding mechanics that touch
//! no runtime state run in-process.

use std::process::Command;

use super::interp::execute;
use super::tests::{l, FnBuilder};
use super::{compile, disassemble};
use crate::ir::{
    BinaryOp, BlockId, FuncId, Inst, Local, Operand, Program, RtFunc, Site, SiteId, StrId, Stream,
    Term, Ty,
};

/// `t.kl:1:1`, the outer `live` keyword.
const LIVE: SiteId = SiteId(0);
/// `t.kl:2:5`, the faulting operation of a body.
const BODY: SiteId = SiteId(1);
/// `t.kl:4:3`, an inner `live` keyword.
const INNER_LIVE: SiteId = SiteId(2);
/// `t.kl:6:7`, a failed check (`keel_fault`).
const CHECK: SiteId = SiteId(3);

/// A verified program in file `t.kl` whose entry is function 0.
fn t_program(functions: Vec<crate::ir::Function>, strings: &[&str]) -> Program {
    let sites = [(1, 1), (2, 5), (4, 3), (6, 7)]
        .into_iter()
        .map(|(line, col)| Site {
            file: "t.kl".into(),
            line,
            col,
        })
        .collect();
    let program = Program {
        functions,
        entry: FuncId(0),
        strings: strings.iter().map(|s| s.to_string()).collect(),
        sites,
        arrays: Vec::new(),
        structs: Vec::new(),
    };
    if let Err(errors) = crate::ir::verify::verify(&program) {
        panic!("test program does not verify: {errors:?}");
    }
    program
}

fn rt(f: &mut FnBuilder, block: BlockId, dst: Option<Local>, func: RtFunc, args: Vec<Operand>) {
    let site = if func == RtFunc::LiveRetry {
        LIVE
    } else {
        BODY
    };
    rt_at(f, block, dst, func, args, site);
}

fn rt_at(
    f: &mut FnBuilder,
    block: BlockId,
    dst: Option<Local>,
    func: RtFunc,
    args: Vec<Operand>,
    site: SiteId,
) {
    f.push(
        block,
        Inst::CallRt {
            dst,
            func,
            args,
            site,
        },
    );
}

/// `dst = lhs op rhs`, reporting `t.kl:2:5`.
fn op(f: &mut FnBuilder, block: BlockId, dst: Local, op: BinaryOp, lhs: Operand, rhs: Operand) {
    f.push(
        block,
        Inst::Binary {
            dst,
            op,
            lhs,
            rhs,
            site: BODY,
        },
    );
}

fn copy(f: &mut FnBuilder, block: BlockId, dst: Local, src: Operand) {
    f.push(block, Inst::Copy { dst, src });
}

/// Prints string literal `string`, or the int `value`, to standard output.
fn print(f: &mut FnBuilder, block: BlockId, value: Operand, newline: bool) {
    let ty = match value {
        Operand::Str(_) => Ty::Str,
        _ => Ty::Int,
    };
    f.push(
        block,
        Inst::Print {
            value,
            ty,
            newline,
            stream: Stream::Stdout,
        },
    );
}

/// Prints `label` then the int `value` and a newline.
fn print_labelled(f: &mut FnBuilder, block: BlockId, label: u32, value: Local) {
    print(f, block, Operand::Str(StrId(label)), false);
    print(f, block, l(value), true);
}

/// The blocks of one `live` block, lowered as the front end does: `pre` (an existing block)
/// snapshots the outer variables and enters; the body starts at `start` (handler `rec`) and
/// must end by jumping to `done`, which leaves the block (its terminator is the caller's);
/// `rec` retries: `live_retry()`, the variables restored, back to `start`.
struct Live {
    start: BlockId,
    done: BlockId,
    rec: BlockId,
}

/// Lowers a `live` block entered from `pre`, inside the `live` block whose recovery block is
/// `outer` (if any), restoring each `(variable, snapshot)` of `restored` on retry.
fn live(
    f: &mut FnBuilder,
    pre: BlockId,
    outer: Option<BlockId>,
    site: SiteId,
    restored: &[(Local, Local)],
) -> Live {
    let (start, done, rec) = (f.block(), f.block(), f.block());
    for &(variable, snapshot) in restored {
        copy(f, pre, snapshot, l(variable));
    }
    rt(f, pre, None, RtFunc::LiveEnter, vec![Operand::Int(-1)]);
    f.end(pre, Term::Jump(start));
    f.handler(start, Some(rec));
    rt(f, done, None, RtFunc::LiveExit, vec![]);
    f.handler(done, outer);
    rt_at(f, rec, None, RtFunc::LiveRetry, vec![], site);
    for &(variable, snapshot) in restored {
        copy(f, rec, variable, l(snapshot));
    }
    f.end(rec, Term::Jump(start));
    f.handler(rec, outer);
    Live { start, done, rec }
}

/// What a program did in a child process.
#[derive(Debug)]
struct Outcome {
    stdout: String,
    stderr: String,
    status: Option<i32>,
}

/// Set in the child to the name of the test whose program it runs.
const CHILD_VAR: &str = "KEEL_VM_RECOVERY_CHILD";
/// Written by the child before the program runs; the test harness's own lines come before it.
const MARKER: &str = "<<<program>>>\n";

/// Runs the program `build` makes on the VM (as `keel run --vm` does) in a child process: this
/// test binary, started again on test `name` alone with [`CHILD_VAR`] set, where this function
/// runs the program and exits with its status instead of returning. The leak check is on.
fn run_in_child(name: &str, build: impl FnOnce() -> Program) -> Outcome {
    run_in_child_with(name, &[], build)
}

fn run_in_child_with(name: &str, env: &[(&str, &str)], build: impl FnOnce() -> Program) -> Outcome {
    if std::env::var(CHILD_VAR).as_deref() == Ok(name) {
        use std::io::Write;
        let program = build();
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(MARKER.as_bytes());
        let _ = out.flush();
        drop(out);
        let status = super::run(&program, Vec::new());
        std::process::exit(status);
    }
    let path = module_path!()
        .split_once("::")
        .map_or(module_path!(), |(_, rest)| rest);
    let test = format!("{path}::{name}");
    let exe = std::env::current_exe().expect("test binary path");
    let mut command = Command::new(exe);
    command
        .args(["--exact", &test, "--nocapture", "--test-threads=1"])
        .env(CHILD_VAR, name)
        .env(keel_runtime::process::LEAK_CHECK_VAR, "1")
        .env_remove("KEEL_TRACE");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("run the test binary");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let Some((_, program_output)) = stdout.split_once(MARKER) else {
        panic!(
            "the child did not run {test}:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    Outcome {
        stdout: program_output.to_string(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        status: output.status.code(),
    }
}

/// ```text
/// x = 10
/// live {
///     r = live_retries(); x = x + 1
///     println("attempt {r}: x = {x}")
///     q = 100 / (r / 2)          // divides by 0 on attempts 0 and 1
///     println("q = {q}")
/// }
/// println("after: x = {x}")
/// ```
fn retry_program() -> Program {
    let mut f = FnBuilder::new("<main>", &[], Ty::Void);
    let (x, snapshot, r, d, q) = (
        f.local(Ty::Int),
        f.local(Ty::Int),
        f.local(Ty::Int),
        f.local(Ty::Int),
        f.local(Ty::Int),
    );
    let pre = f.block();
    copy(&mut f, pre, x, Operand::Int(10));
    let block = live(&mut f, pre, None, LIVE, &[(x, snapshot)]);
    let body = block.start;
    rt(&mut f, body, Some(r), RtFunc::LiveRetries, vec![]);
    op(&mut f, body, x, BinaryOp::AddInt, l(x), Operand::Int(1));
    print(&mut f, body, Operand::Str(StrId(0)), false);
    print(&mut f, body, l(r), false);
    print_labelled(&mut f, body, 1, x);
    op(&mut f, body, d, BinaryOp::DivInt, l(r), Operand::Int(2));
    op(&mut f, body, q, BinaryOp::DivInt, Operand::Int(100), l(d));
    print_labelled(&mut f, body, 2, q);
    f.end(body, Term::Jump(block.done));
    let after = f.block();
    f.end(block.done, Term::Jump(after));
    print_labelled(&mut f, after, 3, x);
    t_program(
        vec![f.build()],
        &["attempt ", ": x = ", "q = ", "after: x = "],
    )
}

#[test]
fn a_live_block_retries_its_body_with_outer_variables_restored() {
    let outcome = run_in_child(
        "a_live_block_retries_its_body_with_outer_variables_restored",
        retry_program,
    );
    assert_eq!(
        outcome.stdout,
        "attempt 0: x = 11\nattempt 1: x = 11\nattempt 2: x = 11\nq = 100\nafter: x = 11\n"
    );
    assert_eq!(outcome.stderr, "");
    assert_eq!(outcome.status, Some(0));
}

/// ```text
/// fn f3(n) -> int { println("f3"); return 60 / n }
/// fn f2(n) -> int { println("f2"); t = f3(n); println("f2 back"); return t + 1 }
/// fn f1(n) -> int { t = f2(n); println("f1 back"); return t * 2 }
/// live { v = f1(live_retries()); println("v = {v}") }     // f3 divides by 0 on attempt 0
/// println("w = {f1(3)}")
/// ```
fn deep_program() -> Program {
    let mut main = FnBuilder::new("<main>", &[], Ty::Void);
    let (r, v, w) = (
        main.local(Ty::Int),
        main.local(Ty::Int),
        main.local(Ty::Int),
    );
    let pre = main.block();
    let block = live(&mut main, pre, None, LIVE, &[]);
    let body = block.start;
    rt(&mut main, body, Some(r), RtFunc::LiveRetries, vec![]);
    main.call(body, Some(v), 1, vec![l(r)]);
    print_labelled(&mut main, body, 3, v);
    main.end(body, Term::Jump(block.done));
    let after = main.block();
    main.end(block.done, Term::Jump(after));
    main.call(after, Some(w), 1, vec![Operand::Int(3)]);
    print_labelled(&mut main, after, 4, w);

    let mut f1 = FnBuilder::new("f1", &[Ty::Int], Ty::Int);
    let (t, u) = (f1.local(Ty::Int), f1.local(Ty::Int));
    let b = f1.block();
    f1.call(b, Some(t), 2, vec![l(Local(0))]);
    print(&mut f1, b, Operand::Str(StrId(2)), true);
    op(&mut f1, b, u, BinaryOp::MulInt, l(t), Operand::Int(2));
    f1.end(b, Term::Return(Some(l(u))));

    let mut f2 = FnBuilder::new("f2", &[Ty::Int], Ty::Int);
    let (t, u) = (f2.local(Ty::Int), f2.local(Ty::Int));
    let b = f2.block();
    print(&mut f2, b, Operand::Str(StrId(0)), true);
    f2.call(b, Some(t), 3, vec![l(Local(0))]);
    print(&mut f2, b, Operand::Str(StrId(1)), true);
    op(&mut f2, b, u, BinaryOp::AddInt, l(t), Operand::Int(1));
    f2.end(b, Term::Return(Some(l(u))));

    let mut f3 = FnBuilder::new("f3", &[Ty::Int], Ty::Int);
    let t = f3.local(Ty::Int);
    let b = f3.block();
    print(&mut f3, b, Operand::Str(StrId(5)), true);
    op(
        &mut f3,
        b,
        t,
        BinaryOp::DivInt,
        Operand::Int(60),
        l(Local(0)),
    );
    f3.end(b, Term::Return(Some(l(t))));

    t_program(
        vec![main.build(), f1.build(), f2.build(), f3.build()],
        &["f2", "f2 back", "f1 back", "v = ", "w = ", "f3"],
    )
}

#[test]
fn a_fault_three_calls_deep_is_recovered_in_the_caller() {
    let outcome = run_in_child(
        "a_fault_three_calls_deep_is_recovered_in_the_caller",
        deep_program,
    );
    assert_eq!(
        outcome.stdout,
        "f2\nf3\n\
         f2\nf3\nf2 back\nf1 back\nv = 122\n\
         f2\nf3\nf2 back\nf1 back\nw = 42\n"
    );
    assert_eq!(outcome.stderr, "");
    assert_eq!(outcome.status, Some(0));
}

#[test]
fn the_trace_shows_each_step_of_an_unwind() {
    let outcome = run_in_child_with(
        "the_trace_shows_each_step_of_an_unwind",
        &[("KEEL_TRACE", "1")],
        deep_program,
    );
    assert_eq!(outcome.status, Some(0), "{outcome:?}");
    let module = compile(&deep_program());
    let name_at = |ip: usize| module.function_at(ip).map(|f| f.name.clone());
    // The division in f3, then the calls in f2 and f1 leave their functions; main's call goes to
    // the recovery block.
    let steps: Vec<&str> = outcome
        .stderr
        .lines()
        .filter(|line| line.contains("fault at"))
        .collect();
    assert_eq!(steps.len(), 4, "{}", outcome.stderr);
    for (step, function) in steps.iter().zip(["f3", "f2", "f1"]) {
        assert!(step.starts_with(function), "{step}");
        assert!(step.ends_with(&format!("leaves {function}")), "{step}");
    }
    let (_, handler) = steps[3].rsplit_once("-> ").expect("a handler");
    let handler: usize = handler.parse().expect("a code index");
    assert_eq!(name_at(handler).as_deref(), Some("<main>"));
    assert!(matches!(
        module.code()[handler],
        super::bytecode::Instr::CallRt {
            func: RtFunc::LiveRetry,
            ..
        }
    ));
}

/// `live { r = live_retries(); println("try {r}"); zero = 0; println(7 / zero) } println("after")`
fn exhausted_program() -> Program {
    let mut f = FnBuilder::new("<main>", &[], Ty::Void);
    let (r, zero, q) = (f.local(Ty::Int), f.local(Ty::Int), f.local(Ty::Int));
    let pre = f.block();
    let block = live(&mut f, pre, None, LIVE, &[]);
    let body = block.start;
    rt(&mut f, body, Some(r), RtFunc::LiveRetries, vec![]);
    print_labelled(&mut f, body, 0, r);
    copy(&mut f, body, zero, Operand::Int(0));
    op(&mut f, body, q, BinaryOp::DivInt, Operand::Int(7), l(zero));
    print(&mut f, body, l(q), true);
    f.end(body, Term::Jump(block.done));
    let after = f.block();
    f.end(block.done, Term::Jump(after));
    print(&mut f, after, Operand::Str(StrId(1)), true);
    t_program(vec![f.build()], &["try ", "after"])
}

#[test]
fn a_block_that_fails_three_times_ends_the_process() {
    let outcome = run_in_child(
        "a_block_that_fails_three_times_ends_the_process",
        exhausted_program,
    );
    assert_eq!(outcome.stdout, "try 0\ntry 1\ntry 2\n");
    assert_eq!(
        outcome.stderr,
        "t.kl:1:1: live block failed after 3 attempts; last fault: t.kl:2:5: division by zero: 7 / 0\n"
    );
    assert_eq!(outcome.status, Some(1));
}

/// ```text
/// live {                                  // t.kl:1:1
///     ro = live_retries(); println("outer {ro}")
///     d = ro                              // or 0, when `always_fails`
///     live {                              // t.kl:4:3
///         println("inner {live_retries()}")
///         q = 10 / d; println("q = {q}")
///     }
/// }
/// println("done")
/// ```
fn nested_program(always_fails: bool) -> Program {
    let mut f = FnBuilder::new("<main>", &[], Ty::Void);
    let (ro, ri, d, q) = (
        f.local(Ty::Int),
        f.local(Ty::Int),
        f.local(Ty::Int),
        f.local(Ty::Int),
    );
    let pre = f.block();
    let outer = live(&mut f, pre, None, LIVE, &[]);
    let outer_body = outer.start;
    rt(&mut f, outer_body, Some(ro), RtFunc::LiveRetries, vec![]);
    print_labelled(&mut f, outer_body, 0, ro);
    copy(
        &mut f,
        outer_body,
        d,
        if always_fails { Operand::Int(0) } else { l(ro) },
    );
    let inner = live(&mut f, outer_body, Some(outer.rec), INNER_LIVE, &[]);
    let inner_body = inner.start;
    rt(&mut f, inner_body, Some(ri), RtFunc::LiveRetries, vec![]);
    print_labelled(&mut f, inner_body, 1, ri);
    op(
        &mut f,
        inner_body,
        q,
        BinaryOp::DivInt,
        Operand::Int(10),
        l(d),
    );
    print_labelled(&mut f, inner_body, 2, q);
    f.end(inner_body, Term::Jump(inner.done));
    f.end(inner.done, Term::Jump(outer.done));
    let after = f.block();
    f.end(outer.done, Term::Jump(after));
    print(&mut f, after, Operand::Str(StrId(3)), true);
    t_program(vec![f.build()], &["outer ", "inner ", "q = ", "done"])
}

#[test]
fn an_inner_blocks_failure_is_one_fault_of_the_outer_block() {
    let outcome = run_in_child(
        "an_inner_blocks_failure_is_one_fault_of_the_outer_block",
        || nested_program(false),
    );
    assert_eq!(
        outcome.stdout,
        "outer 0\ninner 0\ninner 1\ninner 2\nouter 1\ninner 0\nq = 10\ndone\n"
    );
    assert_eq!(outcome.stderr, "");
    assert_eq!(outcome.status, Some(0));
}

#[test]
fn nested_blocks_that_always_fail_report_both_failures() {
    let outcome = run_in_child(
        "nested_blocks_that_always_fail_report_both_failures",
        || nested_program(true),
    );
    let attempt = |r: u32| format!("outer {r}\ninner 0\ninner 1\ninner 2\n");
    assert_eq!(
        outcome.stdout,
        format!("{}{}{}", attempt(0), attempt(1), attempt(2))
    );
    assert_eq!(
        outcome.stderr,
        "t.kl:1:1: live block failed after 3 attempts; last fault: \
         t.kl:4:3: live block failed after 3 attempts; last fault: \
         t.kl:2:5: division by zero: 10 / 0\n"
    );
    assert_eq!(outcome.status, Some(1));
}

/// ```text
/// fn check(n) -> int { assert n >= 2; return n }     // keel_fault at t.kl:6:7, then unwind
/// live {
///     r = live_retries(); println("A {r}")
///     if r == 0 { v = parse_int("x1") } else { v = check(r) }
///     println("checked {v}")
/// }
/// live { r2 = live_retries(); println("B {r2}") } invariant r2 >= 1
/// println("done")
/// ```
fn runtime_faults_program() -> Program {
    let mut main = FnBuilder::new("<main>", &[], Ty::Void);
    let (r, is_first, v, r2, ok) = (
        main.local(Ty::Int),
        main.local(Ty::Bool),
        main.local(Ty::Int),
        main.local(Ty::Int),
        main.local(Ty::Bool),
    );
    let pre = main.block();
    let a = live(&mut main, pre, None, LIVE, &[]);
    rt(&mut main, a.start, Some(r), RtFunc::LiveRetries, vec![]);
    print_labelled(&mut main, a.start, 0, r);
    op(
        &mut main,
        a.start,
        is_first,
        BinaryOp::EqInt,
        l(r),
        Operand::Int(0),
    );
    let (parse, call, checked) = (main.block(), main.block(), main.block());
    for block in [parse, call, checked] {
        main.handler(block, Some(a.rec));
    }
    main.end(
        a.start,
        Term::Branch {
            cond: l(is_first),
            then_to: parse,
            else_to: call,
        },
    );
    rt(
        &mut main,
        parse,
        Some(v),
        RtFunc::ParseInt,
        vec![Operand::Str(StrId(1))],
    );
    main.end(parse, Term::Jump(checked));
    main.call(call, Some(v), 1, vec![l(r)]);
    main.end(call, Term::Jump(checked));
    print_labelled(&mut main, checked, 2, v);
    main.end(checked, Term::Jump(a.done));

    let b_pre = main.block();
    main.end(a.done, Term::Jump(b_pre));
    let b = live(&mut main, b_pre, None, LIVE, &[]);
    rt(&mut main, b.start, Some(r2), RtFunc::LiveRetries, vec![]);
    print_labelled(&mut main, b.start, 3, r2);
    op(
        &mut main,
        b.start,
        ok,
        BinaryOp::GeInt,
        l(r2),
        Operand::Int(1),
    );
    let fail = main.block();
    main.handler(fail, Some(b.rec));
    main.end(
        b.start,
        Term::Branch {
            cond: l(ok),
            then_to: b.done,
            else_to: fail,
        },
    );
    rt_at(
        &mut main,
        fail,
        None,
        RtFunc::Fault,
        vec![Operand::Str(StrId(5))],
        CHECK,
    );
    main.end(fail, Term::Unwind);
    let after = main.block();
    main.end(b.done, Term::Jump(after));
    print(&mut main, after, Operand::Str(StrId(4)), true);

    let mut check = FnBuilder::new("check", &[Ty::Int], Ty::Int);
    let small = check.local(Ty::Bool);
    let (entry, failed, fine) = (check.block(), check.block(), check.block());
    op(
        &mut check,
        entry,
        small,
        BinaryOp::LtInt,
        l(Local(0)),
        Operand::Int(2),
    );
    check.end(
        entry,
        Term::Branch {
            cond: l(small),
            then_to: failed,
            else_to: fine,
        },
    );
    rt_at(
        &mut check,
        failed,
        None,
        RtFunc::Fault,
        vec![Operand::Str(StrId(6))],
        CHECK,
    );
    check.end(failed, Term::Unwind);
    check.end(fine, Term::Return(Some(l(Local(0)))));

    t_program(
        vec![main.build(), check.build()],
        &[
            "A ",
            "x1",
            "checked ",
            "B ",
            "done",
            "invariant failed: r2 >= 1",
            "assertion failed: n >= 2",
        ],
    )
}

#[test]
fn runtime_function_faults_and_failed_checks_are_recovered() {
    let outcome = run_in_child(
        "runtime_function_faults_and_failed_checks_are_recovered",
        runtime_faults_program,
    );
    assert_eq!(outcome.stdout, "A 0\nA 1\nA 2\nchecked 2\nB 0\nB 1\ndone\n");
    assert_eq!(outcome.stderr, "");
    assert_eq!(outcome.status, Some(0));
}

#[test]
fn the_listing_shows_handlers_and_unwind() {
    let module = compile(&runtime_faults_program());
    let listing = disassemble(&module);
    // `unwind` in `check`, which has no handler, leaves the function; in main's `fail` block it
    // is a jump to the recovery block.
    let check = &module.functions()[1];
    let check_code = &module.code()[check.frame.entry as usize..check.end as usize];
    assert!(
        check_code.contains(&super::bytecode::Instr::Unwind),
        "{listing}"
    );
    let main = &module.functions()[0];
    let main_code = &module.code()[main.frame.entry as usize..main.end as usize];
    assert!(
        !main_code.contains(&super::bytecode::Instr::Unwind),
        "{listing}"
    );
    assert!(
        listing
            .lines()
            .any(|line| line.split_whitespace().nth(1) == Some("unwind")),
        "{listing}"
    );
    // Every faulting instruction of a live body names its recovery block: the `live_retry` call.
    let handled: Vec<&str> = listing
        .lines()
        .filter(|line| line.contains("on fault -> "))
        .collect();
    assert!(!handled.is_empty(), "{listing}");
    for line in &handled {
        let (_, target) = line.rsplit_once("-> ").expect("a handler");
        let target: usize = target.parse().expect("a code index");
        assert!(
            matches!(
                module.code()[target],
                super::bytecode::Instr::CallRt {
                    func: RtFunc::LiveRetry,
                    ..
                }
            ),
            "{line}\n{listing}"
        );
    }
    assert!(
        handled.iter().any(|line| line.contains("keel_parse_int")),
        "{listing}"
    );
    assert!(
        handled.iter().any(|line| line.contains("fn#1 check")),
        "{listing}"
    );
    // Nothing in `check` has a handler.
    let check_header = listing.find("\nfn#1 check:").expect("check's listing");
    assert!(!listing[check_header..].contains("on fault"), "{listing}");
}

#[test]
fn programs_without_handlers_compile_without_any() {
    let module = compile(&super::tests::program(
        vec![{
            let mut f = FnBuilder::new("<main>", &[], Ty::Int);
            let x = f.local(Ty::Int);
            let b = f.block();
            f.binary(b, x, BinaryOp::DivInt, Operand::Int(7), Operand::Int(1));
            f.end(b, Term::Return(Some(l(x))));
            f.build()
        }],
        &[],
    ));
    assert!((0..module.code().len()).all(|ip| module.handler(ip).is_none()));
    assert!(!disassemble(&module).contains("on fault"));
}

/// `unwind` itself, in-process (no fault is recorded, so no runtime state changes): it leaves
/// functions until a `call` with a handler, whose block then runs in the caller's frame.
#[test]
fn unwind_leaves_frames_until_a_call_with_a_handler() {
    // fn main() -> int { x = 5; [handled by b1] y = middle(); return y }  b1: return x * 10
    // fn middle() -> int { z = leaf(); return z + 1 }
    // fn leaf() -> int { unwind }
    let mut main = FnBuilder::new("main", &[], Ty::Int);
    let (x, y, x10) = (
        main.local(Ty::Int),
        main.local(Ty::Int),
        main.local(Ty::Int),
    );
    let (entry, body, handler) = (main.block(), main.block(), main.block());
    copy(&mut main, entry, x, Operand::Int(5));
    main.end(entry, Term::Jump(body));
    main.handler(body, Some(handler));
    main.call(body, Some(y), 1, vec![]);
    main.end(body, Term::Return(Some(l(y))));
    op(
        &mut main,
        handler,
        x10,
        BinaryOp::MulInt,
        l(x),
        Operand::Int(10),
    );
    main.end(handler, Term::Return(Some(l(x10))));

    let mut middle = FnBuilder::new("middle", &[], Ty::Int);
    let (z, z1) = (middle.local(Ty::Int), middle.local(Ty::Int));
    let b = middle.block();
    middle.call(b, Some(z), 2, vec![]);
    op(&mut middle, b, z1, BinaryOp::AddInt, l(z), Operand::Int(1));
    middle.end(b, Term::Return(Some(l(z1))));

    let mut leaf = FnBuilder::new("leaf", &[], Ty::Int);
    let b = leaf.block();
    leaf.end(b, Term::Unwind);

    let program = t_program(vec![main.build(), middle.build(), leaf.build()], &[]);
    let module = compile(&program);
    assert_eq!(execute(&module, 0, &[], false), 50);
    // The frames were popped: running again from a fresh machine and from `middle` works alike.
    assert_eq!(execute(&module, 0, &[], false), 50);
    // Leaving the outermost frame returns the meaningless result 0.
    assert_eq!(execute(&module, 1, &[], false), 0);
}
