//! Tests of budgeted runs (`budget`): every way a program can end comes back as an [`Outcome`],
//! work is paid for before it is done, and a run leaves the runtime ready for the next one.
//!
//! Recovery state (the pending-fault flag) is global and program output goes to the process's
//! standard output, so each test runs its programs in a child process: this test binary, started
//! again on that test alone, which prints each run's output followed by its outcome.

use std::process::Command;
use std::time::{Duration, Instant};

use super::budget::{run_budgeted, Outcome};
use crate::diag::SourceFile;

/// The environment variable that makes the test binary the child of test `name`.
const CHILD_VAR: &str = "KEEL_BUDGET_TEST_CHILD";

/// Printed by the child before the first run, after the test harness's own text.
const START: &str = "\n--- budgeted runs\n";

/// Separates a run's output from its outcome in the child's standard output.
const MARKER: &str = "\n--- outcome: ";

/// Follows the outcome: how many more heap objects were live after the run than before it.
const LIVE: &str = " --- objects left: ";

/// Runs each `(source, fuel)` budgeted, one after the other in one child process, and returns
/// each run's standard output and outcome (as `Debug` text).
fn run_in_child(name: &str, runs: &[(&str, u64)]) -> Vec<(String, String)> {
    runs_in_child(name, runs)
        .into_iter()
        .map(|(printed, outcome, _)| (printed, outcome))
        .collect()
}

/// Like [`run_in_child`], also returning how many heap objects each run left allocated.
fn runs_in_child(name: &str, runs: &[(&str, u64)]) -> Vec<(String, String, i64)> {
    if std::env::var(CHILD_VAR).as_deref() == Ok(name) {
        use std::io::Write;
        print!("{START}");
        let _ = std::io::stdout().flush();
        for (source, fuel) in runs {
            let program = crate::sema::compile(&SourceFile::new("t.kl", *source))
                .unwrap_or_else(|d| panic!("{source}: {d:#?}"));
            let module = super::compile(&program);
            let before = keel_runtime::object::live_objects();
            let outcome = run_budgeted(&module, Vec::new(), *fuel);
            let live = keel_runtime::object::live_objects() - before;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{MARKER}{outcome:?}{LIVE}{live}");
            let _ = out.flush();
        }
        std::process::exit(0);
    }
    let path = module_path!()
        .split_once("::")
        .map_or(module_path!(), |(_, rest)| rest);
    let test = format!("{path}::{name}");
    let exe = std::env::current_exe().expect("test binary path");
    let output = Command::new(exe)
        .args(["--exact", &test, "--nocapture", "--test-threads=1"])
        .env(CHILD_VAR, name)
        .env_remove("KEEL_TRACE")
        .output()
        .expect("run the test binary");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the child of {test} failed: {:?}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let mut results = Vec::new();
    let Some((_, mut rest)) = stdout.split_once(START) else {
        panic!("the child did not run {test}:\n{stdout}");
    };
    for _ in runs {
        let (printed, after) = rest
            .split_once(MARKER)
            .unwrap_or_else(|| panic!("missing outcome in:\n{stdout}"));
        let (outcome, after) = after.split_once('\n').unwrap_or((after, ""));
        let (outcome, live) = outcome
            .rsplit_once(LIVE)
            .unwrap_or_else(|| panic!("missing object count in:\n{stdout}"));
        let live = live
            .parse()
            .unwrap_or_else(|_| panic!("bad count in:\n{stdout}"));
        results.push((printed.to_string(), outcome.to_string(), live));
        rest = after;
    }
    results
}

/// The outcome of a single run of `source`, checking its output.
fn outcome_of(name: &str, source: &str, fuel: u64, stdout: &str) -> String {
    let mut runs = run_in_child(name, &[(source, fuel)]);
    let (printed, outcome) = runs.remove(0);
    assert_eq!(printed, stdout, "{source}");
    outcome
}

#[test]
fn a_program_that_ends_finishes() {
    let outcome = outcome_of(
        "a_program_that_ends_finishes",
        "println(\"hi\"); let a = [1, 2]; println(a);",
        1_000,
        "hi\n[1, 2]\n",
    );
    assert_eq!(outcome, format!("{:?}", Outcome::Finished));
}

#[test]
fn loops_and_recursion_run_out_of_fuel() {
    let runs = run_in_child(
        "loops_and_recursion_run_out_of_fuel",
        &[
            ("println(1); while true { }", 10_000),
            ("let i = 0; for j in 0..1000000000 { i += 1; }", 10_000),
            (
                "fn f(int n) -> int { if n < 0 { return 0; } return f(n + 1) + f(n + 2); } println(f(0));",
                10_000,
            ),
        ],
    );
    assert_eq!(runs[0].0, "1\n");
    for (_, outcome) in &runs {
        assert_eq!(outcome, &format!("{:?}", Outcome::OutOfFuel));
    }
}

#[test]
fn exit_ends_the_run_not_the_process() {
    let outcome = outcome_of(
        "exit_ends_the_run_not_the_process",
        "println(1); fn f() { exit(300); } f(); println(2);",
        1_000,
        "1\n",
    );
    assert_eq!(outcome, format!("{:?}", Outcome::Exited(300)));
}

#[test]
fn faults_end_the_run_with_their_message() {
    let runs = run_in_child(
        "faults_end_the_run_with_their_message",
        &[
            ("println(0);\nlet a = [1];\nprintln(a[5]);", 1_000),
            ("fn f(int n) -> int { return n / 0; }\nprintln(f(1));", 1_000),
            ("let x: [int] = [];\nx = pop(x);", 1_000),
            ("assert(1 > 2);", 1_000),
            (
                "fn f(int n) -> int { if n < 0 { return 0; } return f(n + 1) + 1; }\nprintln(f(0));",
                1_000_000,
            ),
            // Runtime functions that fault outside `live` blocks, where the code does not test
            // for a recorded fault (it would have ended the process): the run stops there.
            ("let a = array_fill(-1, 0);\nprintln(len(a));", 1_000),
            ("println(len(substring(\"ab\", 5, 1)) + 1);\nprintln(2);", 1_000),
            // The state is clean again afterwards.
            ("println(7);", 1_000),
        ],
    );
    let outcomes: Vec<&str> = runs.iter().map(|(_, outcome)| outcome.as_str()).collect();
    assert_eq!(runs[0].0, "0\n");
    assert!(
        outcomes[0].starts_with("Faulted(\"t.kl:3:10: index out of bounds"),
        "{outcomes:?}"
    );
    assert!(
        outcomes[1].starts_with("Faulted(\"t.kl:1:31: division by zero"),
        "{outcomes:?}"
    );
    assert!(outcomes[2].contains("invalid argument"), "{outcomes:?}");
    assert!(outcomes[3].contains("assertion failed"), "{outcomes:?}");
    assert!(
        outcomes[4].starts_with("Faulted(\"t.kl:1:")
            && outcomes[4].ends_with("stack overflow: too many nested calls\")"),
        "{outcomes:?}"
    );
    assert!(
        outcomes[5].starts_with("Faulted(\"t.kl:1:9: invalid argument: array_fill"),
        "{outcomes:?}"
    );
    assert_eq!(runs[6].0, "");
    assert!(
        outcomes[6].contains("index out of bounds: slice"),
        "{outcomes:?}"
    );
    assert_eq!(
        runs[7],
        ("7\n".to_string(), format!("{:?}", Outcome::Finished))
    );
}

#[test]
fn live_blocks_recover_and_do_not_sleep() {
    let source = "live backoff(base_ms=2000, factor=2, max_ms=3000) {\n    println(live_retries());\n    assert(live_retries() == 2);\n}\nprintln(\"done\");\nlive {\n    let a = [1];\n    println(a[3]);\n}";
    let started = Instant::now();
    let mut runs = run_in_child(
        "live_blocks_recover_and_do_not_sleep",
        &[(source, 10_000), ("println(live_retries());", 100)],
    );
    assert!(started.elapsed() < Duration::from_secs(4));
    let (printed, outcome) = runs.remove(0);
    assert_eq!(printed, "0\n1\n2\ndone\n");
    assert!(
        outcome.starts_with("Faulted(\"t.kl:6:1: live block failed after 3 attempts"),
        "{outcome}"
    );
    // No `live` record of the first run is left behind.
    assert_eq!(
        runs[0],
        ("0\n".to_string(), format!("{:?}", Outcome::Finished))
    );
}

#[test]
fn work_in_one_instruction_is_paid_for_first() {
    let runs = run_in_child(
        "work_in_one_instruction_is_paid_for_first",
        &[
            // Would allocate 8 GB.
            (
                "let a = array_fill(1000000000, 0);\nprintln(len(a));",
                100_000,
            ),
            // Doubles a string until the fuel is gone, not the memory.
            ("let s = \"ab\";\nwhile true { s = s + s; }", 100_000),
            // Copies on write of a large shared array.
            (
                "let a = array_fill(10000, 0);\nfor i in 0..1000000 { let b = a; b[0] = i; }",
                1_000_000,
            ),
            // Prints a value whose parts are shared: small in memory, huge on the page.
            (
                "let row = array_fill(1000, 1);\nlet grid = array_fill(1000, row);\nprintln(grid);",
                100_000,
            ),
            ("println(len(array_fill(1000, 0)));", 2_000),
        ],
    );
    for (printed, outcome) in &runs[..4] {
        assert_eq!(printed, "");
        assert_eq!(outcome, &format!("{:?}", Outcome::OutOfFuel));
    }
    assert_eq!(
        runs[4],
        ("1000\n".to_string(), format!("{:?}", Outcome::Finished))
    );
}

#[test]
fn recovered_faults_release_what_the_frames_owned() {
    // As the normal loop does (`ir::fault_releases`): forty recoveries from a fault three calls
    // deep, every frame on the way owning strings, arrays and structs, leave nothing allocated.
    let source = "struct Item { string name, [int] counts, }
fn innermost(Item item, [string] words, int d) -> int {
    let label = item.name + \"/\" + words[0];
    return len(label) / d;
}
fn middle(Item item, int d) -> int {
    let words = split(\"alpha beta gamma\", \" \");
    let copy = item;
    copy.counts = push(copy.counts, d);
    return innermost(copy, words, d) + len(copy.counts);
}
fn outer(string name, int d) -> int {
    let item = new Item { name: name + \"!\", counts: [1, 2, 3] };
    let extra = [item, item];
    return middle(item, d) + len(extra);
}
let total = 0;
let log: [string] = [];
for i in 0..40 {
    live {
        let held = \"round \" + i;
        log = push(log, held);
        total = total + outer(held, live_retries());
    }
}
println(total);
println(log[39]);";
    let runs = runs_in_child(
        "recovered_faults_release_what_the_frames_owned",
        &[(source, 1_000_000)],
    );
    let (printed, outcome, live) = &runs[0];
    assert_eq!(outcome, &format!("{:?}", Outcome::Finished));
    assert_eq!(printed, "830\nround 39\n");
    assert_eq!(*live, 0, "objects left allocated");
}

#[test]
fn a_finished_run_releases_its_statics_and_the_next_starts_afresh() {
    // A static holding heap values is released when the run ends (the fuzz target's leak
    // check counts right after), and a second run of the program starts with it unset.
    let source = "fn log(string s) -> [string] {
    static let lines: [string] = [];
    lines = push(lines, s + \"!\");
    return lines;
}
log(\"a\");
println(log(\"b\"));";
    let runs = runs_in_child(
        "a_finished_run_releases_its_statics_and_the_next_starts_afresh",
        &[(source, 10_000), (source, 10_000)],
    );
    for (printed, outcome, live) in &runs {
        assert_eq!(outcome, &format!("{:?}", Outcome::Finished));
        assert_eq!(printed, "[\"a!\", \"b!\"]\n");
        assert_eq!(*live, 0, "objects left allocated");
    }
}
