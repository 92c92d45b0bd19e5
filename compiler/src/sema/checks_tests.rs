//! Tests of the run-time checks through the whole front end: `assert`, contracts checked at
//! call sites (and their elision on constants), and the lowering of `live` blocks.
//!
//! Each test compiles a small program, runs the IR verifier and compares the printed IR of one
//! function exactly. Diagnostics are covered by `sema::tests` and `tests/programs/errors/`.

use super::types::TStmt;
use super::{compile_with, Options};
use crate::diag::SourceFile;
use crate::ir::{print::program_to_string, verify::verify};

/// The verified IR of `source` compiled with `options`, as `keel emit ir` prints it.
fn ir_with(source: &str, options: Options) -> String {
    let program = compile_with(&SourceFile::new("t.kl", source), options)
        .unwrap_or_else(|d| panic!("{d:#?}"));
    verify(&program).unwrap_or_else(|e| panic!("{e:#?}"));
    program_to_string(&program)
}

fn ir(source: &str) -> String {
    ir_with(source, Options::default())
}

/// The printed function called `name` (from its `fn#` line to its closing brace).
fn function<'a>(text: &'a str, name: &str) -> &'a str {
    let start = text
        .find(&format!(" {name}("))
        .and_then(|at| text[..at].rfind("fn#"))
        .unwrap_or_else(|| panic!("no function {name} in\n{text}"));
    let end = start + text[start..].find("\n}\n").expect("functions end with }") + 3;
    &text[start..end]
}

#[test]
fn a_constant_argument_leaves_no_check() {
    let text = ir("fn fib(int n) -> int requires n >= 0 {\n\
         if n < 2 { return n; }\n\
         return fib(n - 1) + fib(n - 2);\n\
         }\n\
         println(fib(30));\n");
    assert_eq!(
        function(&text, "<main>"),
        "fn#1 (entry) <main>() -> void {\n  locals %0: bool, %1: int\nb0:\n    %1 = call fib(30) @5:9\n    println.int %1\n    return\n}\n"
    );
    // The recursive calls pass computed values: both are checked.
    assert_eq!(function(&text, "fib").matches("keel_fault").count(), 2);
}

#[test]
fn contracts_are_checked_at_the_call_with_the_arguments_and_the_result() {
    let text = ir(
        "fn half(int n) -> int requires n % 2 == 0 ensures result * 2 == n { n / 2 }\n\
         fn twice(int x) -> int { x = half(x); x }\n",
    );
    assert!(text.starts_with(
        "str#0 = \"contract violated: half requires n % 2 == 0 (clause at t.kl:1:32)\"\n\
         str#1 = \"contract violated: half ensures result * 2 == n (clause at t.kl:1:51)\"\n"
    ));
    // The result goes to a temporary: `ensures` still reads the argument `x` after the call.
    // (`n % 2 == 0` is a mask: `ir::passes::strength`.)
    assert_eq!(
        function(&text, "twice"),
        "fn#1 twice(%0:x: int) -> int {\n  locals %1: int, %2: bool, %3: int, %4: int, %5: bool\n\
         b0:\n    %1 = and %0, 1\n    %2 = eq.int %1, 0\n    branch %2, b1, b2\n\
         b1:\n    %3 = call half(%0) @2:30\n    %4 = mul.int %3, 2 @1:58\n    %5 = eq.int %4, %0\n    branch %5, b3, b4\n\
         b2:\n    call_rt keel_fault(str#0) @2:30\n    unwind\n\
         b3:\n    %0 = %3\n    return %0\n\
         b4:\n    call_rt keel_fault(str#1) @2:30\n    unwind\n}\n"
    );
    // The callee itself checks nothing.
    assert!(!function(&text, "half").contains("keel_fault"));
}

#[test]
fn no_contracts_drops_the_checks_but_not_asserts() {
    let source = "fn half(int n) -> int requires n % 2 == 0 { assert(n < 100); n / 2 }\n\
                  fn twice(int x) -> int { half(x) }\n";
    let text = ir_with(
        source,
        Options {
            contracts: false,
            ..Options::default()
        },
    );
    assert!(!text.contains("contract violated"), "{text}");
    assert_eq!(
        function(&text, "twice"),
        "fn#1 twice(%0:x: int) -> int {\n  locals %1: int\nb0:\n    %1 = call half(%0) @2:26\n    return %1\n}\n"
    );
    assert!(function(&text, "half").contains("keel_fault"));
}

#[test]
fn calls_inside_clauses_check_no_contracts() {
    // Mutually recursive contracts: lowering terminates, and only `a`'s clause is checked.
    let text = ir("fn a(int n) -> bool requires n < 0 || b(n - 1) { true }\n\
         fn b(int n) -> bool requires a(n) { false }\n\
         println(a(1));\n");
    assert_eq!(
        function(&text, "<main>"),
        "fn#2 (entry) <main>() -> void {\n  locals %0: bool, %1: int, %2: bool, %3: bool\n\
         b0:\n    %2 = call b(0) @1:39\n    branch %2, b1, b2\n\
         b1:\n    %3 = call a(1) @3:9\n    println.bool %3\n    return\n\
         b2:\n    call_rt keel_fault(str#0) @3:9\n    unwind\n}\n"
    );
}

#[test]
fn an_assert_message_is_built_only_on_failure() {
    let text = ir("fn check(int n) {\n    assert(n > 0, \"bad n: \" + n);\n}\n");
    assert_eq!(
        function(&text, "check"),
        "fn#0 check(%0:n: int) -> void {\n  locals %1: bool, %2: string, %3: string, %4: string\n\
         b0:\n    %1 = gt.int %0, 0\n    branch %1, b1, b2\n\
         b1:\n    return\n\
         b2:\n    %3 = call_rt keel_str_from_int(%0)\n    %2 = call_rt keel_str_concat(str#0, %3)\n    release %3\n    %4 = call_rt keel_str_concat(str#1, %2)\n    release %2\n    call_rt keel_fault(%4) @2:5\n    unwind\n}\n"
    );
    assert!(text.contains("str#1 = \"assertion failed: \""), "{text}");
}

#[test]
fn an_assert_without_message_quotes_its_condition() {
    let text = ir("let x = 3;\nassert(x * 2 == (7));\n");
    assert!(
        text.contains("str#0 = \"assertion failed: x * 2 == (7)\""),
        "{text}"
    );
    // The condition is a constant: the fault is certain, the branch gone.
    assert_eq!(
        function(&text, "<main>"),
        "fn#0 (entry) <main>() -> void {\n  locals %0:x: int, %1: int, %2: bool\n\
         b0:\n    %0 = 3\n    call_rt keel_fault(str#0) @2:1\n    unwind\n}\n"
    );
}

#[test]
fn a_live_block_snapshots_enters_recovers_and_exits() {
    let text = ir("fn f(int n) -> int {\n\
         let total = 0;\n\
         live backoff(factor=3) within 2s invariant total >= 0 {\n\
         total += 10 / n;\n\
         }\n\
         total\n\
         }\n");
    assert_eq!(
        function(&text, "f"),
        "fn#0 f(%0:n: int) -> int {\n  locals %1:total: int, %2: int, %3: int, %4: bool\n\
         b0:\n    %1 = 0\n    %2 = 0\n    call_rt keel_live_enter(2000)\n    call_rt keel_live_backoff(2, 3, 20)\n    jump b2\n\
         b1:\n    call_rt keel_live_retry() @3:1\n    %1 = %2\n    jump b2\n\
         b2: (faults to b1)\n    %3 = div.int 10, %0 @4:13\n    %1 = add.int %1, %3 @4:7\n    %4 = ge.int %1, 0\n    branch %4, b3, b4\n\
         b3: (faults to b1)\n    jump b5\n\
         b4: (faults to b1)\n    call_rt keel_fault(str#0) @3:44\n    unwind\n\
         b5:\n    call_rt keel_live_exit()\n    return %1\n}\n"
    );
    assert!(
        text.contains("str#0 = \"invariant failed: total >= 0\""),
        "{text}"
    );
}

#[test]
fn leaving_live_blocks_early_exits_each_of_them_outside_their_handlers() {
    let text = ir("fn f(int n) -> int {\n\
         let x = 0;\n\
         while true {\n\
         live {\n\
         x += n;\n\
         live {\n\
         if x > 5 { return x; }\n\
         break;\n\
         }\n\
         }\n\
         }\n\
         x\n\
         }\n");
    assert_eq!(
        function(&text, "f"),
        "fn#0 f(%0:n: int) -> int {\n  locals %1:x: int, %2: int, %3: bool\n\
         b0:\n    %1 = 0\n    jump b1\n\
         b1:\n    %2 = %1\n    call_rt keel_live_enter(-1)\n    jump b3\n\
         b2:\n    call_rt keel_live_retry() @4:1\n    %1 = %2\n    jump b3\n\
         b3: (faults to b2)\n    %1 = add.int %1, %0 @5:3\n    call_rt keel_live_enter(-1)\n    jump b5\n\
         b4: (faults to b2)\n    call_rt keel_live_retry() @6:1\n    jump b5\n\
         b5: (faults to b4)\n    %3 = gt.int %1, 5\n    branch %3, b6, b7\n\
         b6: (faults to b4)\n    jump b9\n\
         b7: (faults to b4)\n    jump b8\n\
         b8: (faults to b4)\n    jump b10\n\
         b9:\n    call_rt keel_live_exit()\n    call_rt keel_live_exit()\n    return %1\n\
         b10:\n    call_rt keel_live_exit()\n    call_rt keel_live_exit()\n    return %1\n}\n"
    );
}

#[test]
fn a_retry_restores_every_outer_variable_the_body_assigns() {
    let source = "struct P { int f, }\n\
         fn g(int n) {\n\
         let a = [0]; let p = new P { f: 0 }; let x = n; let y = n; let z = n; let w = n; let kept = n;\n\
         live {\n\
         a[0] = 1; p.f = 2; x += 1;\n\
         while x < 0 { y = 1; }\n\
         live { z = 3; }\n\
         for i in 0..2 { n = i; }\n\
         let inner = 4; inner = 5;\n\
         { w = { 6 }; }\n\
         println(kept + inner);\n\
         }\n\
         println(a[0] + p.f + x + y + z + w);\n\
         }\n";
    let mut diags = Vec::new();
    let file = crate::syntax::parse_source(source, &mut diags);
    let typed = super::check::check_file(&file, super::prelude(), &mut diags);
    assert!(diags.is_empty(), "{diags:#?}");
    let g = &typed.funcs[0];
    let live = g
        .body
        .stmts
        .iter()
        .find_map(|stmt| match stmt {
            TStmt::Live(live) => Some(live),
            _ => None,
        })
        .expect("g has a live block");
    let names: Vec<&str> = live
        .restored
        .iter()
        .map(|var| g.vars[var.0 as usize].0.as_str())
        .collect();
    // The parameter too; not `kept` (only read), nor `inner` and `i` (declared inside).
    assert_eq!(names, ["n", "a", "p", "x", "y", "z", "w"]);
    // The recovery block copies each back from its snapshot.
    let text = ir(source);
    let recovery = function(&text, "g")
        .split("\nb")
        .find(|block| block.contains("keel_live_retry() @4:1"))
        .expect("a recovery block");
    assert_eq!(recovery.matches(" = %").count(), 7, "{recovery}");
}

#[test]
fn checks_in_every_position_lower_to_verified_ir() {
    for source in [
        // Heap arguments and results in both kinds of clause, and a result bound to a variable.
        "struct P { int x, [string] tags, }\n\
         fn tag(P p, string t) -> P requires len(t) > 0 ensures contains(result.tags, t) \
         ensures len(result.tags) == len(p.tags) + 1 { p.tags = push(p.tags, t); p }\n\
         let p = new P { x: 1, tags: [] }; p = tag(p, \"a\"); println(tag(p, \"b\"));",
        // Clauses with `&&`, `||`, `!`, `if` and calls, on a void function.
        "fn ok(int n) -> bool { n != 3 }\n\
         fn f(int a, int b) requires a < b && (ok(a) || !ok(b)) requires if a > 0 { b > 0 } else { true } { }\n\
         f(1, 2); for i in 0..3 { f(i, i + 1); }",
        // Calls with contracts inside asserts, invariants and other calls' arguments.
        "fn pos(int n) -> int requires n > 0 ensures result > 0 { n }\n\
         let x = 1; assert(pos(pos(x)) == 1, \"x = \" + pos(x));\n\
         live invariant pos(x) > 0 { x = pos(x + 1); }",
        // Nested live blocks in loops, with every way out.
        "fn f([int] xs) -> int {\n\
         let t = 0;\n\
         for x in xs {\n\
         live backoff() within 1ms {\n\
         if x == 0 { continue; }\n\
         for y in xs { live { if y == x { break; } t += y; if t > 99 { return t; } } }\n\
         xs[0] = t;\n\
         }\n\
         }\n\
         t\n\
         }\n\
         println(f([1, 2, 3]));",
        // A live block at the top level, with strings and a diverging body.
        "let s = \"\"; live { s = s + live_retries(); println(s); }\n\
         fn g() -> int { live { return 1; } }\n\
         println(g());",
        // An empty body, and an invariant alone.
        "live { } let n = 0; live invariant n == 0 { }",
    ] {
        ir(source);
        ir_with(
            source,
            Options {
                contracts: false,
                ..Options::default()
            },
        );
    }
}

#[test]
fn only_functions_called_from_live_blocks_run_in_them() {
    let program = compile_with(
        &SourceFile::new(
            "t.kl",
            "fn leaf(int n) -> int { return 10 / n; }\n\
             fn inner(int n) -> int { return leaf(n) + 1; }\n\
             fn outside(int n) -> int { return leaf(n) * 2; }\n\
             fn unused(int n) -> int { return n; }\n\
             println(outside(1));\n\
             live { println(inner(1)); }\n\
             println(outside(2));\n",
        ),
        Options::default(),
    )
    .unwrap_or_else(|d| panic!("{d:#?}"));
    let runs: Vec<(&str, bool)> = program
        .functions
        .iter()
        .map(|f| f.name.as_str())
        .zip(program.runs_in_live_blocks())
        .collect();
    assert_eq!(
        runs,
        [
            ("leaf", true),
            ("inner", true),
            ("outside", false),
            ("unused", false),
            ("<main>", false)
        ]
    );
}

#[test]
fn a_function_given_a_closure_calls_it_directly_in_its_copy() {
    let text = ir(
        "fn apply(fn(int) -> int f, int x) -> int { return f(x); }\n\
         let k = 3;\n\
         println(apply(fn(int x) -> int { return x + k; }, 1));\n",
    );
    // The call goes to a copy of `apply` whose call of `f` names the closure's function.
    assert!(text.contains("call apply with %0 closure#0(%"));
    let header = " apply with %0 closure#0(%0:f: struct#0, %1:x: int) -> int {";
    let copy = &text[text.find(header).expect("the copy of `apply`")..];
    let copy = &copy[..copy.find("\n}\n").expect("functions end with }")];
    assert!(copy.contains("call_indirect closure#0(%1, %0, str#0)"));
    // The original stays as it was (a user function is kept even when no longer called).
    assert!(function(&text, "apply").contains("call_indirect(%1, %0, str#0)"));
}

#[test]
fn a_function_that_passes_its_function_value_on_is_not_copied() {
    let text = ir(
        "fn apply(fn(int) -> int f, int x) -> int { return f(x); }\n\
         fn keep(fn(int) -> int f) -> [fn(int) -> int] { return [f]; }\n\
         let g = fn(int x) -> int { return x; };\n\
         println(len(keep(g)));\n\
         let h = g;\n\
         println(apply(h, 1));\n",
    );
    // `keep` stores its parameter; `h` is a copy of `g`, not a closure made here.
    assert!(!text.contains(" with %"));
}
