//! IR file tests: every `tests/ir/**/NAME.kir`, an IR program as `keel emit ir` prints it, run on
//! every backend and compared with the expectations in its own comments.
//!
//! `keel` runs a `.kir` file as it is (parsed by `ir::parse`, checked by `ir::verify`, no pass run
//! again), so these tests reach shapes of IR the front end does not produce: recovery paths,
//! reference-counting edge cases, instructions no source program emits yet. Expectations are
//! comment lines anywhere in the file (the parser skips `//` lines):
//!
//! - `// stdout: TEXT`: one line of standard output (`TEXT` and a newline), in order;
//! - `// stderr: TEXT`: likewise for standard error (a verifier error is a diagnostic here);
//! - `// status: N`: the exit status (0 when absent);
//! - `// args: A`: one argument for the program, in order.
//!
//! Every run has the runtime's leak check on (`KEEL_LEAK_CHECK=1`): a program that ends normally
//! with heap objects still alive reports them and fails. Other comments are free text. Each file becomes one named test per backend (`ir/NAME::vm`,
//! `::jit`, `::native`, `::cross`), run as `compiler/tests/programs.rs` runs programs (see
//! `support`), with the same rule for backends that cannot run here. Sites of fault messages name
//! the `.kir` file: `NAME.kir:line:col` with the line and column the IR's `@line:col` gives.
//!
//! `KEEL_BLESS=1 cargo test --test ir_files` rewrites each file's `stdout`, `stderr` and `status`
//! lines from the VM's behaviour, at the end of the file (so that no line of IR moves: a
//! diagnostic names lines); review the diff before committing it.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, Failed, Trial};
use support::{every_backend_required, run_command, Backend, Launch, Machine, Outcome};

/// The expectation prefixes, in the order bless writes them.
const STDOUT: &str = "// stdout: ";
const STDERR: &str = "// stderr: ";
const STATUS: &str = "// status: ";
const ARGS: &str = "// args: ";
/// Set for every run: a program that ends normally with heap objects still alive fails
/// (`keel_runtime::process::LEAK_CHECK_VAR`).
const LEAK_CHECK_VAR: &str = "KEEL_LEAK_CHECK";

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/ir");
    let files = find_files(&root);
    let machine = Machine::survey();
    if std::env::var_os("KEEL_BLESS").is_some_and(|v| v == "1") {
        for file in &files {
            bless(file, &machine).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        }
    }
    let required = every_backend_required();
    let mut trials = Vec::new();
    for file in files {
        let name = file
            .strip_prefix(&root)
            .unwrap_or(&file)
            .with_extension("")
            .display()
            .to_string();
        for backend in Backend::ALL {
            let path = file.clone();
            let for_trial = machine.clone();
            let trial = Trial::test(format!("ir/{name}::{}", backend.name()), move || {
                check(&path, backend, &for_trial)
            });
            trials.push(match machine.unavailable(backend) {
                Some(unavailable) if !required => trial
                    .with_ignored_flag(true)
                    .with_kind(format!("skipped: {}", unavailable.summary)),
                _ => trial,
            });
        }
    }
    libtest_mimic::run(&args, trials).exit();
}

/// Every `.kir` file under `root`, sorted.
fn find_files(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries =
            fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|ext| ext == "kir") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// What a file's comments say: the program's arguments and the outcome expected.
struct Expectations {
    args: Vec<String>,
    outcome: Outcome,
}

fn read_expectations(text: &str) -> Result<Expectations, String> {
    let mut expected = Expectations {
        args: Vec::new(),
        outcome: Outcome {
            stdout: String::new(),
            stderr: String::new(),
            status: 0,
        },
    };
    for (index, line) in text.lines().enumerate() {
        if let Some(rest) = expectation(line, STDOUT) {
            expected.outcome.stdout.push_str(rest);
            expected.outcome.stdout.push('\n');
        } else if let Some(rest) = expectation(line, STDERR) {
            expected.outcome.stderr.push_str(rest);
            expected.outcome.stderr.push('\n');
        } else if let Some(rest) = expectation(line, STATUS) {
            expected.outcome.status = rest
                .trim()
                .parse()
                .map_err(|_| format!("line {}: a status must be a number", index + 1))?;
        } else if let Some(rest) = expectation(line, ARGS) {
            expected.args.push(rest.to_string());
        }
    }
    Ok(expected)
}

/// The text after `prefix` (also when the line is just the prefix without its trailing space:
/// an empty line of output).
fn expectation<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    line.strip_prefix(prefix)
        .or_else(|| (line == prefix.trim_end()).then_some(""))
}

fn run(
    file: &Path,
    backend: Backend,
    machine: &Machine,
    args: &[String],
) -> Result<Outcome, String> {
    match Launch::prepare(machine, backend, file, &[], args)? {
        Ok(mut ready) => {
            ready.command.env(LEAK_CHECK_VAR, "1");
            run_command(ready.command, &[])
        }
        // IR that does not parse or verify reports the same diagnostic on every backend.
        Err(diagnostics) => Ok(diagnostics),
    }
}

fn check(file: &Path, backend: Backend, machine: &Machine) -> Result<(), Failed> {
    machine.require(backend)?;
    let text = fs::read_to_string(file)?;
    let expected = read_expectations(&text)?;
    let actual = run(file, backend, machine, &expected.args)?;
    if actual == expected.outcome {
        return Ok(());
    }
    Err(format!(
        "expected\n{}\ngot\n{}",
        as_comments(&expected.outcome).join("\n"),
        as_comments(&actual).join("\n")
    )
    .into())
}

/// The expectation lines that describe `outcome`.
fn as_comments(outcome: &Outcome) -> Vec<String> {
    let mut lines = Vec::new();
    for (prefix, text) in [(STDOUT, &outcome.stdout), (STDERR, &outcome.stderr)] {
        for line in text.lines() {
            lines.push(if line.is_empty() {
                prefix.trim_end().to_string()
            } else {
                format!("{prefix}{line}")
            });
        }
    }
    if outcome.status != 0 {
        lines.push(format!("{STATUS}{}", outcome.status));
    }
    lines
}

/// Rewrites `file`'s outcome lines from what the VM does.
fn bless(file: &Path, machine: &Machine) -> Result<(), String> {
    let text = fs::read_to_string(file).map_err(|e| e.to_string())?;
    let expected = read_expectations(&text)?;
    let is_outcome = |line: &str| {
        [STDOUT, STDERR, STATUS]
            .iter()
            .any(|p| expectation(line, p).is_some())
    };
    // The outcome goes at the end, so that blessing never moves a line of IR (diagnostics name
    // lines); the program runs without the old outcome lines, as it will be written.
    let mut lines: Vec<String> = text
        .lines()
        .filter(|line| !is_outcome(line))
        .map(str::to_string)
        .collect();
    while lines.last().is_some_and(|line| line.trim().is_empty()) {
        lines.pop();
    }
    let write = |lines: &[String]| {
        let mut text = lines.join("\n");
        text.push('\n');
        fs::write(file, text).map_err(|e| e.to_string())
    };
    write(&lines)?;
    let outcome = run(file, Backend::Vm, machine, &expected.args)?;
    lines.extend(as_comments(&outcome));
    write(&lines)
}
