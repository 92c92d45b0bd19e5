//! Tests of the Cranelift lowering of floats and heap values, through both drivers.
//!
//! Programs are written in Keel and compiled by the front end (which runs the IR passes), as
//! `keel` does.
//! JIT tests call one compiled function and check what it returns; AOT tests build an executable
//! for the host (and for every other target that can be built and run here, under qemu), run it
//! with the runtime's leak check on, and compare its output, error output and status exactly.

use std::process::Output;

use crate::aot::link::{find_linker, LinkMode};
use crate::aot::{self, runtime_lib, target::SUPPORTED, BuildOptions, Target};
use crate::diag::SourceFile;
use crate::ir::{self, Program};
use crate::jit::JitProgram;
use crate::sema;

/// `source` through the front end, verified.
fn compile(source: &str) -> Program {
    let program = sema::compile(&SourceFile::new("t.kl", source))
        .unwrap_or_else(|diags| panic!("front end: {diags:#?}"));
    ir::verify::verify(&program).unwrap_or_else(|e| panic!("verifier: {e:#?}"));
    program
}

/// Compiles `source` with the JIT and returns the address of its function `name`.
fn jit_function(source: &str, name: &str) -> (JitProgram, *const u8) {
    let program = compile(source);
    let index = program
        .functions
        .iter()
        .position(|f| f.name == name)
        .unwrap_or_else(|| panic!("no function {name}"));
    let jit = JitProgram::compile(&program).unwrap_or_else(|e| panic!("{e}"));
    let address = jit.function_address(ir::FuncId(index as u32));
    (jit, address)
}

/// What an executable did.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    stdout: String,
    stderr: String,
    status: Option<i32>,
}

impl Run {
    fn from(output: Output) -> Run {
        Run {
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            status: output.status.code(),
        }
    }
}

/// [`run_native_program`] of `source` through the front end.
fn run_native(source: &str) -> Run {
    run_native_program(&compile(source))
}

/// Builds `program` for the host and runs it with `KEEL_LEAK_CHECK=1`; builds and runs it for
/// every other target that works here too and asserts it behaves the same.
fn run_native_program(program: &Program) -> Run {
    let host = Target::host().expect("tests run on a supported host");
    let expected = run_on(program, &host, &[]);
    for name in SUPPORTED {
        let Ok(target) = Target::parse(name) else {
            continue;
        };
        if target.is_host()
            || runtime_lib::for_target(&target, LinkMode::Dynamic).is_err()
            || find_linker(&target).is_err()
        {
            continue;
        }
        let Ok(runner) = target.runner(LinkMode::Dynamic) else {
            continue;
        };
        let run = run_on(program, &target, &runner);
        assert_eq!(run, expected, "{target} differs from the host");
    }
    expected
}

fn run_on(program: &Program, target: &Target, runner: &[String]) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let exe = dir.path().join("program");
    let options = BuildOptions {
        output: exe.clone(),
        target: Some(target.name.to_string()),
        link_mode: LinkMode::Dynamic,
        debug_info: false,
    };
    aot::build(program, &options).unwrap_or_else(|e| panic!("build for {target}: {e}"));
    let mut command = aot::executable_command(&exe, runner);
    command.env("KEEL_LEAK_CHECK", "1");
    Run::from(command.output().expect("runs"))
}

/// Asserts the program prints `stdout` and exits 0 with nothing on stderr and nothing leaked.
fn assert_prints(source: &str, stdout: &str) {
    let run = run_native(source);
    assert_eq!(
        run,
        Run {
            stdout: stdout.to_string(),
            stderr: String::new(),
            status: Some(0),
        }
    );
}

/// Asserts the program prints `stdout`, then faults with `stderr`.
fn assert_faults(source: &str, stdout: &str, stderr: &str) {
    let run = run_native(source);
    assert_eq!(
        run,
        Run {
            stdout: stdout.to_string(),
            stderr: stderr.to_string(),
            status: Some(1),
        }
    );
}

mod floats {
    use super::*;

    #[test]
    fn arithmetic_and_conversions() {
        let source = "fn f(float a, float b) -> float { return -((a + b) * (a - b) / b); }
                      fn g(int i) -> float { return to_float(i) * 0.5; }
                      fn h(float x) -> int { return to_int(x); }";
        let (_jit, f) = jit_function(source, "f");
        // SAFETY: `f` is `fn(float, float) -> float`.
        let f = unsafe { std::mem::transmute::<*const u8, extern "C" fn(f64, f64) -> f64>(f) };
        for (a, b) in [(1.5, 2.0), (-3.25, 0.1), (1e300, 1e-300), (0.0, 0.0)] {
            let expected = -((a + b) * (a - b) / b);
            let got = f(a, b);
            assert!(
                got.to_bits() == expected.to_bits() || (got.is_nan() && expected.is_nan()),
                "f({a}, {b}) = {got}, expected {expected}"
            );
        }
        let (_jit, g) = jit_function(source, "g");
        // SAFETY: `g` is `fn(int) -> float`.
        let g = unsafe { std::mem::transmute::<*const u8, extern "C" fn(i64) -> f64>(g) };
        assert_eq!(g(7), 3.5);
        assert_eq!(g(i64::MAX), i64::MAX as f64 * 0.5);
        let (_jit, h) = jit_function(source, "h");
        // SAFETY: `h` is `fn(float) -> int`.
        let h = unsafe { std::mem::transmute::<*const u8, extern "C" fn(f64) -> i64>(h) };
        assert_eq!(h(2.9), 2);
        assert_eq!(h(-2.9), -2);
        assert_eq!(h(-0.0), 0);
        assert_eq!(h(-9_223_372_036_854_775_808.0), i64::MIN);
        assert_eq!(h(9_223_372_036_854_774_784.0), 9_223_372_036_854_774_784);
    }

    #[test]
    fn comparisons_as_values_and_as_branches() {
        let ops = ["<", "<=", ">", ">=", "==", "!="];
        let values = [-1.5, 0.0, -0.0, 2.0, f64::INFINITY, f64::NAN];
        for op in ops {
            let source = format!(
                "fn value(float a, float b) -> bool {{ return a {op} b; }}
                 fn branch(float a, float b) -> int {{ if a {op} b {{ return 1; }} return 0; }}
                 fn negated(float a, float b) -> int {{ if !(a {op} b) {{ return 1; }} return 0; }}"
            );
            let (_v, value) = jit_function(&source, "value");
            let (_b, branch) = jit_function(&source, "branch");
            let (_n, negated) = jit_function(&source, "negated");
            // SAFETY: the signatures are those declared in `source`.
            let (value, branch, negated) = unsafe {
                (
                    std::mem::transmute::<*const u8, extern "C" fn(f64, f64) -> bool>(value),
                    std::mem::transmute::<*const u8, extern "C" fn(f64, f64) -> i64>(branch),
                    std::mem::transmute::<*const u8, extern "C" fn(f64, f64) -> i64>(negated),
                )
            };
            for a in values {
                for b in values {
                    let expected = match op {
                        "<" => a < b,
                        "<=" => a <= b,
                        ">" => a > b,
                        ">=" => a >= b,
                        "==" => a == b,
                        _ => a != b,
                    };
                    assert_eq!(value(a, b), expected, "{a} {op} {b}");
                    assert_eq!(branch(a, b), i64::from(expected), "if {a} {op} {b}");
                    assert_eq!(negated(a, b), i64::from(!expected), "if !({a} {op} {b})");
                }
            }
        }
    }

    #[test]
    fn loop_of_floats() {
        let source = "fn basel(int n) -> float {
                          let s = 0.0;
                          for i in 1..n + 1 { let x = to_float(i); s += 1.0 / (x * x); }
                          return s;
                      }";
        let (_jit, basel) = jit_function(source, "basel");
        // SAFETY: `basel` is `fn(int) -> float`.
        let basel = unsafe { std::mem::transmute::<*const u8, extern "C" fn(i64) -> f64>(basel) };
        let expected: f64 = (1..=1000).map(|i| 1.0 / (i as f64 * i as f64)).sum();
        assert_eq!(basel(1000), expected);
    }

    #[test]
    fn printing_and_math_in_executables() {
        assert_prints(
            "let x = 0.1 + 0.2;
             println(x);
             println(1e300 * 1e10);
             println(-1.0 / 0.0);
             println(0.0 / 0.0);
             println(-0.0);
             println(3.0);
             println(sqrt(2.0));
             println(to_int(-7.9));
             print(2.5); println(\"\");
             println(1.5e-7);",
            "0.30000000000000004\ninf\n-inf\nNaN\n-0.0\n3.0\n1.4142135623730951\n-7\n2.5\n1.5e-7\n",
        );
    }

    #[test]
    fn to_int_faults_name_the_value() {
        assert_faults(
            "println(1); let z = 0.0; println(to_int(z / z));",
            "1\n",
            "t.kl:1:34: invalid conversion: to_int(NaN) is not a number\n",
        );
        assert_faults(
            "let big = 9223372036854775807.0; println(to_int(big));",
            "",
            "t.kl:1:42: invalid conversion: to_int(9.223372036854776e18) is out of range for int\n",
        );
        assert_faults(
            "println(to_int(-1e300));",
            "",
            "t.kl:1:9: invalid conversion: to_int(-1e300) is out of range for int\n",
        );
    }
}

mod heap {
    use super::*;

    #[test]
    fn arrays_are_values() {
        assert_prints(
            "let a = [1, 2, 3];
             a[1] = 5;
             let b = a;
             b[0] = 9;
             println(a);
             println(b);
             println(len(a) + a[2] * 10);
             let e: [int] = [];
             println(e);
             println(len(e));",
            "[1, 5, 3]\n[9, 5, 3]\n33\n[]\n0\n",
        );
    }

    #[test]
    fn arrays_of_every_element_type() {
        assert_prints(
            "let fs = [1.5, -0.0, 2.0];
             fs[2] = fs[0] * 3.0;
             let bs = [true, false];
             bs[1] = !bs[1];
             let ss = [\"a\", \"b\"];
             let t = ss[0] + \"x\";
             ss[1] = t;
             ss[0] = ss[1] + \"y\";
             let nested = [[1], [2, 3]];
             let inner = nested[1];
             nested[1] = [4];
             println(fs); println(bs); println(ss); println(nested); println(inner);
             println(fs[2] + 1.0);
             if bs[1] { println(\"yes\"); }",
            "[1.5, -0.0, 4.5]\n[true, true]\n[\"axy\", \"ax\"]\n[[1], [4]]\n[2, 3]\n5.5\nyes\n",
        );
    }

    #[test]
    fn structs_are_values() {
        assert_prints(
            "struct Point { float x, float y, }
             struct Named { string name, Point at, bool on, int n, }
             fn norm(Point p) -> float { return sqrt(p.x * p.x + p.y * p.y); }
             let p = new Point { x: 3.0, y: 4.0 };
             let q = p;
             q.x = 6.0;
             println(norm(p));
             println(p); println(q);
             let n = new Named { name: \"n\", at: p, on: true, n: -2 };
             let m = n;
             m.at.y = 0.5;
             m.name = m.name + \"!\";
             m.on = false;
             println(n); println(m);
             println(m.at.y + n.at.y);",
            "5.0\nPoint { x: 3.0, y: 4.0 }\nPoint { x: 6.0, y: 4.0 }\n\
             Named { name: \"n\", at: Point { x: 3.0, y: 4.0 }, on: true, n: -2 }\n\
             Named { name: \"n!\", at: Point { x: 3.0, y: 0.5 }, on: false, n: -2 }\n4.5\n",
        );
    }

    #[test]
    fn nested_updates_and_recursive_types() {
        assert_prints(
            "struct Node { string name, [Node] kids, }
             struct Empty { }
             let root = new Node { name: \"root\", kids: [] };
             root.kids = push(root.kids, new Node { name: \"a\", kids: [] });
             root.kids = push(root.kids, new Node { name: \"b\", kids: [] });
             let before = root;
             root.kids[1].name = \"c\";
             root.kids[0].kids = push(root.kids[0].kids, new Node { name: \"d\", kids: [] });
             println(before);
             println(root);
             println(new Empty { });
             let grid = [[0, 0], [0, 0]];
             for i in 0..2 { for j in 0..2 { grid[i][j] = i * 2 + j; } }
             println(grid);",
            "Node { name: \"root\", kids: [Node { name: \"a\", kids: [] }, Node { name: \"b\", kids: [] }] }\n\
             Node { name: \"root\", kids: [Node { name: \"a\", kids: [Node { name: \"d\", kids: [] }] }, Node { name: \"c\", kids: [] }] }\n\
             Empty {}\n[[0, 1], [2, 3]]\n",
        );
    }

    #[test]
    fn runtime_functions_with_values_of_every_kind() {
        assert_prints(
            "let a: [float] = [];
             for i in 0..5 { a = push(a, to_float(i) / 2.0); }
             let b = array_fill(3, true);
             b = push(b, false);
             let words = split(\"x,yy,z\", \",\");
             println(a); println(b); println(words);
             println(contains(a, 1.5)); println(index_of(a, 2.0)); println(contains(b, false));
             println(len(join(words, \"-\")));
             println(to_string(a[1]) + \" \" + to_string(b));
             println(a == [0.0, 0.5, 1.0, 1.5, 2.0]);
             println(pop(a)); println(reverse(words));",
            "[0.0, 0.5, 1.0, 1.5, 2.0]\n[true, true, true, false]\n[\"x\", \"yy\", \"z\"]\n\
             true\n4\ntrue\n6\n0.5 [true, true, true, false]\ntrue\n[0.0, 0.5, 1.0, 1.5]\n[\"z\", \"yy\", \"x\"]\n",
        );
    }

    #[test]
    fn out_of_bounds_faults() {
        assert_faults(
            "let a = [1, 2, 3];\nprintln(a[2]);\nprintln(a[3]);",
            "3\n",
            "t.kl:3:10: index out of bounds: index 3 is out of range for an array of length 3\n",
        );
        assert_faults(
            "let a = [\"x\"];\nlet i = -1;\na[i] = \"y\";",
            "",
            "t.kl:3:2: index out of bounds: index -1 is out of range for an array of length 1\n",
        );
        assert_faults(
            "let a: [[int]] = [[1]];\na[0][5] = 1;",
            "",
            "t.kl:2:5: index out of bounds: index 5 is out of range for an array of length 1\n",
        );
    }

    #[test]
    fn jit_counts_every_reference() {
        let source = "struct P { [string] names, float w, }
                      fn churn(int n) -> int {
                          let ps: [P] = [];
                          for i in 0..n {
                              let p = new P { names: [to_string(i)], w: to_float(i) };
                              ps = push(ps, p);
                              let q = ps[i];
                              q.names = push(q.names, \"x\");
                              ps[i / 2].names[0] = q.names[1];
                          }
                          let total = 0;
                          for p in ps { total += len(p.names) + to_int(p.w); }
                          return total;
                      }";
        let (_jit, churn) = jit_function(source, "churn");
        // SAFETY: `churn` is `fn(int) -> int`.
        let churn = unsafe { std::mem::transmute::<*const u8, extern "C" fn(i64) -> i64>(churn) };
        let live = keel_runtime::object::live_objects();
        assert_eq!(churn(100), 100 + (0..100).sum::<i64>());
        assert_eq!(keel_runtime::object::live_objects(), live, "leaked objects");
    }
}

mod library {
    use super::*;

    #[test]
    fn inline_functions_match_the_runtime() {
        let source = "fn f(float x) -> float { return sqrt(x) + abs(x); }
                      fn g(int a, int b) -> int { return min(a, b) * 3 + max(a, b) + abs(a - b); }";
        let (_jit, f) = jit_function(source, "f");
        // SAFETY: `f` is `fn(float) -> float`.
        let f = unsafe { std::mem::transmute::<*const u8, extern "C" fn(f64) -> f64>(f) };
        for x in [0.0, -0.0, 2.0, 1e300, f64::INFINITY, -4.0, f64::NAN] {
            let expected = keel_runtime::keel_float_sqrt(x) + keel_runtime::keel_float_abs(x);
            let got = f(x);
            assert!(
                got.to_bits() == expected.to_bits() || (got.is_nan() && expected.is_nan()),
                "f({x}) = {got}, expected {expected}"
            );
        }
        let (_jit, g) = jit_function(source, "g");
        // SAFETY: `g` is `fn(int, int) -> int`.
        let g = unsafe { std::mem::transmute::<*const u8, extern "C" fn(i64, i64) -> i64>(g) };
        for (a, b) in [(1, 2), (-5, 3), (7, 7), (-1_000_000_007, 1_000_000_009)] {
            assert_eq!(
                g(a, b),
                a.min(b) * 3 + a.max(b) + (a - b).abs(),
                "g({a}, {b})"
            );
        }
    }

    #[test]
    fn abs_of_int_min_faults() {
        assert_faults(
            "let m = -9223372036854775807 - 1;\nprintln(abs(m + 1));\nprintln(abs(m));",
            "9223372036854775807\n",
            "t.kl:3:9: integer overflow: abs(-9223372036854775808) does not fit in int\n",
        );
    }
}

mod copy_on_write {
    use super::*;

    #[test]
    fn updates_never_show_through_copies() {
        assert_prints(
            "struct P { float x, [int] tags, }
             fn main() {
                 let ps = [new P { x: 0.0, tags: [] }, new P { x: 1.0, tags: [7] }];
                 let i = 1;
                 ps[i].x = 5.0;
                 let q = ps[i];
                 ps[i].x = 6.0;
                 ps[i].tags[0] = 8;
                 let copy = ps;
                 ps[i].x = 7.0;
                 ps[0] = q;
                 ps[i].x = 9.0;
                 ps[0].tags = push(ps[0].tags, 1);
                 i = 0;
                 ps[i].x = -1.0;
                 println(q); println(copy); println(ps);
             }
             main();",
            "P { x: 5.0, tags: [7] }\n\
             [P { x: 0.0, tags: [] }, P { x: 6.0, tags: [8] }]\n\
             [P { x: -1.0, tags: [7, 1] }, P { x: 9.0, tags: [8] }]\n",
        );
    }

    #[test]
    fn shared_values_in_loops_are_copied_once() {
        let source = "fn f(int n) -> int {
                          let a = array_fill(n, 0);
                          let b = a;
                          for i in 0..n { a[i] = i; b[n - 1 - i] = i * 2; }
                          let s = 0;
                          for i in 0..n { s += a[i] * 1000 + b[i]; }
                          return s;
                      }";
        let (_jit, f) = jit_function(source, "f");
        // SAFETY: `f` is `fn(int) -> int`.
        let f = unsafe { std::mem::transmute::<*const u8, extern "C" fn(i64) -> i64>(f) };
        let live = keel_runtime::object::live_objects();
        let n = 50;
        let expected: i64 = (0..n).map(|i| i * 1000 + (n - 1 - i) * 2).sum();
        assert_eq!(f(n), expected);
        assert_eq!(keel_runtime::object::live_objects(), live);
    }
}

mod programs {
    use super::*;

    #[test]
    fn sorting_and_searching_with_every_value_kind() {
        let run = run_native(
            "struct Item { string name, float price, bool sold, int id, }
             fn swap([Item] xs, int i, int j) -> [Item] {
                 let t = xs[i];
                 xs[i] = xs[j];
                 xs[j] = t;
                 return xs;
             }
             fn sort_by_price([Item] xs) -> [Item] {
                 for i in 0..len(xs) {
                     for j in 0..len(xs) - 1 - i {
                         if xs[j].price > xs[j + 1].price { xs = swap(xs, j, j + 1); }
                     }
                 }
                 return xs;
             }
             fn main() {
                 let items: [Item] = [];
                 let names = split(\"pear,fig,kiwi,plum\", \",\");
                 for i in 0..len(names) {
                     items = push(items, new Item { name: names[i], price: to_float(7 - i * 2) / 4.0,
                                                    sold: i % 2 == 0, id: i });
                 }
                 let sorted = sort_by_price(items);
                 sorted[0].sold = !sorted[0].sold;
                 println(sorted[0]);
                 println(items[0] == sorted[3]);
                 println(items == sorted);
                 let grid = [[1.5, 2.5], [3.5]];
                 grid[1] = push(grid[1], 4.5);
                 eprintln(grid);
                 eprintln(sorted[1].price);
                 let total = 0.0;
                 for row in grid { for x in row { total += x; } }
                 println(total);
                 if sorted[3].sold && names[0] == \"pear\" { println(\"first\"); }
             }
             main();",
        );
        assert_eq!(
            run,
            Run {
                stdout: "Item { name: \"plum\", price: 0.25, sold: true, id: 3 }\ntrue\nfalse\n12.0\nfirst\n"
                    .into(),
                stderr: "[[1.5, 2.5], [3.5, 4.5]]\n0.75\n".into(),
                status: Some(0),
            }
        );
    }
}

mod regressions {
    use super::*;

    /// A length read from an array that is released before the length is used: the load must
    /// stay before the release (a pure, movable load once sank past the free).
    #[test]
    fn length_of_a_temporary_array() {
        let source = "fn f(int n) -> int { let k = len(array_fill(n, false)); return k * 2; }
                      fn g(int n) -> int { return len(array_fill(n, [1])) + len(array_fill(n, 2.5)); }";
        let (_jit, f) = jit_function(source, "f");
        // SAFETY: `f` is `fn(int) -> int`.
        let f = unsafe { std::mem::transmute::<*const u8, extern "C" fn(i64) -> i64>(f) };
        let (_jit, g) = jit_function(source, "g");
        // SAFETY: `g` is `fn(int) -> int`.
        let g = unsafe { std::mem::transmute::<*const u8, extern "C" fn(i64) -> i64>(g) };
        for n in [0, 1, 1000, 100_000] {
            assert_eq!(f(n), 2 * n);
            assert_eq!(g(n), 2 * n);
        }
        assert_prints("println(len(array_fill(1000, false)));", "1000\n");
    }
}

mod inlining {
    use super::*;

    #[test]
    fn inlined_functions_keep_their_checks_and_sites() {
        assert_faults(
            "fn ratio(int a, int b) -> int {\n    return a / b;\n}\n\
             fn weight(float x, [float] w, int i) -> float { return x * w[i]; }\n\
             let total = 0;\n\
             for i in 0..3 { total += ratio(10, 2 - i); }\n",
            "",
            "t.kl:2:14: division by zero: 10 / 0\n",
        );
        assert_faults(
            "fn weight(float x, [float] w, int i) -> float {\n    return x * w[i];\n}\n\
             let w = [1.0, 2.0];\n\
             let s = 0.0;\n\
             for i in 0..3 { s += weight(1.5, w, i); println(s); }\n",
            "1.5\n4.5\n",
            "t.kl:2:17: index out of bounds: index 2 is out of range for an array of length 2\n",
        );
    }

    /// Calls of leaf functions are checked against the depth limit without being counted: the
    /// fault must still come at exactly the call where every backend reports it.
    #[test]
    fn leaf_calls_fault_at_the_same_depth() {
        let program = |depth: i64| {
            format!(
                "fn leaf(int x) -> int {{ return x * 2; }}\n\
                 fn f(int n) -> int {{\n    if n == 0 {{ return leaf(21); }}\n    return f(n - 1) + 0;\n}}\n\
                 println(f({depth}));\n"
            )
        };
        let limit = keel_runtime::stack::MAX_STACK_UNITS;
        // `f(d)` nests d + 1 calls of `f`, then one of `leaf`.
        assert_prints(&program(limit - 2), "42\n");
        assert_faults(
            &program(limit - 1),
            "",
            "t.kl:3:24: stack overflow: too many nested calls\n",
        );
    }

    #[test]
    fn small_callees_are_inlined_and_recursion_is_not() {
        let source = "fn a(int i, int j) -> float { return 1.0 / to_float((i + j) * (i + j + 1) / 2 + i + 1); }
                      fn fib(int n) -> int { if n < 2 { return n; } return fib(n - 1) + fib(n - 2); }
                      fn sum(int n) -> float {
                          let s = 0.0;
                          for i in 0..n { for j in 0..n { s += a(i, j); } }
                          return s + to_float(fib(10));
                      }";
        let (_jit, sum) = jit_function(source, "sum");
        // SAFETY: `sum` is `fn(int) -> float`.
        let sum = unsafe { std::mem::transmute::<*const u8, extern "C" fn(i64) -> f64>(sum) };
        let mut expected = 0.0;
        for i in 0..30i64 {
            for j in 0..30i64 {
                expected += 1.0 / ((i + j) * (i + j + 1) / 2 + i + 1) as f64;
            }
        }
        assert_eq!(sum(30), expected + 55.0);
    }
}

mod checks {
    use super::*;

    #[test]
    fn an_index_read_from_its_own_array_is_checked_again() {
        assert_faults(
            "let a = [5, 1];\nlet i = 0;\ni = a[i];\nprintln(i);\nprintln(a[i]);",
            "5\n",
            "t.kl:5:10: index out of bounds: index 5 is out of range for an array of length 2\n",
        );
    }
}
