//! Compiling one very large function takes memory linear in its size, on every backend.
//!
//! Each case generates a program whose code is one large function, of a shape that used to take
//! memory quadratic in its length (over 500 MB at the sizes used here, mostly over 1 GB): a long
//! string concatenation on one line, a long `&&` chain, and thousands of `let` + `if`
//! statements (with the `let` value read in the `if` body or not, or a string). Each is
//! compiled and run with `keel run --vm`, `keel run` (JIT) and `keel build` (then the
//! executable runs); the output must be exact, and the peak resident memory of the `keel`
//! process (from `wait4`) must stay under [`MAX_RSS_KIB`].
//!
//! What this file does not do: assert on time (a generous [`TIMEOUT`] only keeps a hang from
//! blocking the suite).

#![cfg(target_os = "linux")]

use std::fmt::Write as _;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The peak resident memory allowed to one `keel` process (the cases take up to 200 MB).
const MAX_RSS_KIB: i64 = 300 * 1024;

/// How long one `keel` process may take before the test fails (the cases take about a second
/// in a release build).
const TIMEOUT: Duration = Duration::from_secs(600);

/// A generated program and the output it must print.
struct Case {
    name: &'static str,
    source: String,
    stdout: String,
}

/// `println("" + 1 + 1 + ...)` with `terms` terms, on one line.
fn concatenation(terms: usize) -> Case {
    Case {
        name: "concatenation",
        source: format!("println(\"\"{});\n", " + 1".repeat(terms)),
        stdout: format!("{}\n", "1".repeat(terms)),
    }
}

/// `return x == 1 && x == 1 && ...;` with `terms` comparisons of a parameter.
fn conjunction(terms: usize) -> Case {
    let chain = vec!["x == 1"; terms].join(" && ");
    Case {
        name: "conjunction",
        source: format!("fn f(int x) -> bool {{\n    return {chain};\n}}\nprintln(f(1));\n"),
        stdout: "true\n".into(),
    }
}

/// The increment of [`statements`]' counter.
#[derive(Copy, Clone)]
enum Increment {
    /// `c += 1`.
    One,
    /// `c += v<i>`: the `let` value is read in another block than the one that assigned it.
    Value,
    /// `c += 1` after `let s<i> = "a" + v<i>`, read by `len` in the condition: heap values.
    String,
}

/// `statements` pairs of `let v<i> = x + i;` and `if v<i> % 7 == 0 { c += ...; }` (or a string
/// version, see [`Increment`]) in one function called with `x = 3`.
fn statements(statements: usize, increment: Increment) -> Case {
    let mut source = String::from("fn f(int x) -> int {\n    let c = 0;\n");
    let mut expected = 0i64;
    for i in 0..statements {
        let v = 3 + i as i64;
        match increment {
            Increment::One | Increment::Value => {
                let (text, amount) = match increment {
                    Increment::One => ("1".to_string(), 1),
                    _ => (format!("v{i}"), v),
                };
                writeln!(source, "    let v{i} = x + {i};").unwrap();
                writeln!(source, "    if v{i} % 7 == 0 {{ c += {text}; }}").unwrap();
                if v % 7 == 0 {
                    expected += amount;
                }
            }
            Increment::String => {
                writeln!(source, "    let s{i} = \"a\" + (x + {i});").unwrap();
                writeln!(source, "    if len(s{i}) > 2 {{ c += 1; }}").unwrap();
                if v >= 10 {
                    expected += 1;
                }
            }
        }
    }
    source.push_str("    return c;\n}\nprintln(f(3));\n");
    Case {
        name: match increment {
            Increment::One => "statements",
            Increment::Value => "statements_adding_values",
            Increment::String => "statements_of_strings",
        },
        source,
        stdout: format!("{expected}\n"),
    }
}

/// What a finished process did.
struct Finished {
    status: i32,
    stdout: String,
    stderr: String,
    /// Peak resident set size, in KiB.
    max_rss_kib: i64,
}

/// Runs `cmd` to completion (killing it after [`TIMEOUT`]) and measures its peak memory.
// The child is reaped by `wait4`, which `std`'s `wait` cannot replace: it gives no `rusage`.
#[allow(clippy::zombie_processes)]
fn run(mut cmd: Command) -> Finished {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Both pipes are read on threads, so a chatty child cannot block on a full pipe.
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            pipe.read_to_string(&mut text).map(|_| text)
        })
    };
    let stdout = read(Box::new(child.stdout.take().expect("stdout")));
    let stderr = read(Box::new(child.stderr.take().expect("stderr")));
    let pid = child.id() as libc::pid_t;
    let start = Instant::now();
    let (status, usage) = loop {
        let mut status = 0;
        // SAFETY: `rusage` is plain data that `wait4` fills in; the pid is our own child, which
        // `std` has not waited for.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let reaped = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        assert!(reaped >= 0, "wait4: {}", std::io::Error::last_os_error());
        if reaped == pid {
            break (status, usage);
        }
        if start.elapsed() > TIMEOUT {
            child.kill().expect("kill");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        start.elapsed() <= TIMEOUT,
        "killed after {TIMEOUT:?}: {cmd:?}"
    );
    Finished {
        status: if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -1
        },
        stdout: stdout.join().expect("stdout thread").expect("stdout"),
        stderr: stderr.join().expect("stderr thread").expect("stderr"),
        max_rss_kib: usage.ru_maxrss,
    }
}

fn keel() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keel"));
    cmd.env("NO_COLOR", "1");
    cmd
}

/// Checks that `keel` finished within the memory bound, successfully.
fn check_compiler(case: &Case, what: &str, finished: &Finished) {
    eprintln!(
        "{} ({what}): {} MiB",
        case.name,
        finished.max_rss_kib / 1024
    );
    assert_eq!(
        finished.status, 0,
        "{} ({what}) failed: {}",
        case.name, finished.stderr
    );
    assert!(
        finished.max_rss_kib <= MAX_RSS_KIB,
        "{} ({what}) took {} MiB, more than the {} MiB allowed",
        case.name,
        finished.max_rss_kib / 1024,
        MAX_RSS_KIB / 1024
    );
}

/// Compiles and runs `case` on the VM, on the JIT and as a native executable.
fn check(case: &Case, dir: &Path) {
    let source = dir.join(format!("{}.kl", case.name));
    std::fs::write(&source, &case.source).expect("write the program");

    let mut vm = keel();
    vm.arg("run").arg("--vm").arg(&source);
    let finished = run(vm);
    check_compiler(case, "keel run --vm", &finished);
    assert!(
        finished.stdout == case.stdout,
        "{}: wrong output on the VM",
        case.name
    );

    let mut jit = keel();
    jit.arg("run").arg(&source);
    let finished = run(jit);
    check_compiler(case, "keel run", &finished);
    assert!(
        finished.stdout == case.stdout,
        "{}: wrong output on the JIT",
        case.name
    );

    let exe = dir.join(case.name);
    let mut build = keel();
    build.arg("build").arg(&source).arg("-o").arg(&exe);
    let finished = run(build);
    check_compiler(case, "keel build", &finished);
    let ran = run(Command::new(&exe));
    assert_eq!(
        ran.status, 0,
        "{}: the executable failed: {}",
        case.name, ran.stderr
    );
    assert!(
        ran.stdout == case.stdout,
        "{}: wrong output of the executable",
        case.name
    );
}

#[test]
fn large_functions_compile_in_bounded_memory() {
    let dir = tempfile::tempdir().expect("temporary directory");
    // The sizes at which compiling each shape used to take over 1 GB (the strings: 550 MB on
    // the VM, more on the JIT).
    let cases = [
        concatenation(8_000),
        conjunction(20_000),
        statements(4_000, Increment::One),
        statements(4_000, Increment::Value),
        statements(3_000, Increment::String),
    ];
    for case in &cases {
        check(case, dir.path());
    }
}
