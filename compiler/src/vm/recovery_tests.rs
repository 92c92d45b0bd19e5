//! White-box tests of fault recovery on the VM: the bytecode's handler tables and unwind
//! instructions, the trace of an unwind, and `unwind` itself.
//!
//! What recovery does is tested on every backend by the IR files in `tests/ir/live/`, which
//! these tests also compile. The trace test runs its program in a child process, since a
//! recovered fault changes global runtime state (the live-block stack, the pending flag): this
//! test binary, started again on that test alone (see [`run_in_child_with`]).

use std::process::Command;

use super::interp::execute;
use super::{compile, disassemble};
use crate::ir::{testing, Program, RtFunc};

/// A fault in `f3` unwinds `f2` and `f1` into `main`'s live block.
const FAULT_DEEP: &str = include_str!("../../../tests/ir/live/fault_deep_with_messages.kir");
/// A fault in a runtime function and a failed check in a callee, both recovered.
const RUNTIME_FAULTS: &str =
    include_str!("../../../tests/ir/live/runtime_faults_and_failed_checks.kir");

/// What a program did in a child process.
#[derive(Debug)]
struct Outcome {
    stderr: String,
    status: Option<i32>,
}

/// Set in the child to the name of the test whose program it runs.
const CHILD_VAR: &str = "KEEL_VM_RECOVERY_CHILD";
/// Written by the child before the program runs; the test harness's own lines come before it.
const MARKER: &str = "<<<program>>>\n";

/// Runs the program `build` makes on the VM (as `keel run --vm` does) in a child process, with
/// `env` set: this test binary, started again on test `name` alone with [`CHILD_VAR`] set, where
/// this function runs the program and exits with its status instead of returning. The leak
/// check is on.
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
    if !stdout.contains(MARKER) {
        panic!(
            "the child did not run {test}:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Outcome {
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        status: output.status.code(),
    }
}

#[test]
fn the_trace_shows_each_step_of_an_unwind() {
    let outcome = run_in_child_with(
        "the_trace_shows_each_step_of_an_unwind",
        &[("KEEL_TRACE", "1")],
        || testing::program(FAULT_DEEP),
    );
    assert_eq!(outcome.status, Some(0), "{outcome:?}");
    let module = compile(&testing::program(FAULT_DEEP));
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

#[test]
fn the_listing_shows_handlers_and_unwind() {
    let module = compile(&testing::program(RUNTIME_FAULTS));
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
    let module = compile(&testing::program(
        "fn#0 (entry) <main>() -> int {
           locals %0: int
         b0:
           %0 = div.int 7, 1 @1:1
           return %0
         }",
    ));
    assert!((0..module.code().len()).all(|ip| module.handler(ip).is_none()));
    assert!(!disassemble(&module).contains("on fault"));
}

/// `unwind` itself, in-process (no fault is recorded, so no runtime state changes): it leaves
/// functions until a `call` with a handler, whose block then runs in the caller's frame.
#[test]
fn unwind_leaves_frames_until_a_call_with_a_handler() {
    let module = compile(&testing::program(
        "fn#0 (entry) main() -> int {
           locals %0: int, %1: int, %2: int
         b0:
           %0 = 5
           jump b1
         b1: (faults to b2)
           %1 = call middle() @1:1
           return %1
         b2:
           %2 = mul.int %0, 10 @2:5
           return %2
         }
         fn#1 middle() -> int {
           locals %0: int, %1: int
         b0:
           %0 = call leaf() @1:1
           %1 = add.int %0, 1 @2:5
           return %1
         }
         fn#2 leaf() -> int {
         b0:
           unwind
         }",
    ));
    assert_eq!(execute(&module, 0, &[], false), 50);
    // The frames were popped: running again from a fresh machine and from `middle` works alike.
    assert_eq!(execute(&module, 0, &[], false), 50);
    // Leaving the outermost frame returns the meaningless result 0.
    assert_eq!(execute(&module, 1, &[], false), 0);
}
