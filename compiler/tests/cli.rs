//! How programs behave when started in ways the program suite cannot arrange, on every backend,
//! and what `keel build` and `keel run --native` leave on disk and in the process table.
//!
//! The programs are under `tests/cli/`. Each check is one named test per backend where the
//! backend matters (`output/broken_pipe::vm`, `::jit`, `::native`, `::libc`, `::cross`), run the way
//! `compiler/tests/programs.rs` runs programs (see `support`), with the same rule for backends
//! that cannot run here: skipped with the reason, or failed when `CI` is set. A check that
//! cannot mean anything on a backend says so as its skip reason (a memory limit under qemu-user
//! limits the emulator, not the program).
//!
//! - `output/broken_pipe`: the reader of standard output goes away after one line; the program
//!   ends quietly with status 141 and never reaches its last `eprintln`.
//! - `output/disk_full`: standard output is `/dev/full`; the program ends with status 1 and
//!   `output error: cannot write standard output: no space left on device`.
//! - `args/invalid_utf8`: an argument with a byte that is not UTF-8 arrives as U+FFFD.
//! - `memory/exhausted_before_output`: under a 512 MiB address-space limit, a program that
//!   exhausts the heap before printing anything reports `out of memory` with status 1 instead of
//!   aborting.
//! - `emit/broken_pipe`: `keel emit ir` into a pipe whose reader goes away ends with status 141,
//!   not a compiler crash.
//! - `struct/seventy_thousand_fields`: a generated struct with 70,000 fields (more memory-flag
//!   sets than Cranelift allows one function) is built, updated, compared and read.
//! - `build/*`: the default executable names, the refusal to write over the source, the
//!   same executable from one, two and three code-generation threads (`-j`), and
//!   `examples/hello.kl` built for both architectures with no C toolchain on `PATH`: static,
//!   at most 16 KiB, printing what the VM prints.
//! - `run_native/killed_keel_leaves_nothing`: killing `keel run --native` kills the program and
//!   leaves no temporary files.
//! - `warnings/check_run_and_deny`: the warnings of `tests/warnings/*.kl` from `keel check`,
//!   `keel run`, and `--deny-warnings` failing a check and a build.
//! - `imports/named_from_another_directory`: the programs of `tests/programs/imports*` run,
//!   checked and emitted from their parent directory name their imported files by the joined
//!   path (`imports/lib/counting.kl`) in faults, diagnostics and the IR.

mod support;

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Failed, Trial};
use support::{
    every_backend_required, executable_command, keel, run_command, Backend, Launch, Machine,
    Outcome,
};

/// How long a check waits for a program that should end by itself.
const WAIT_LIMIT: Duration = Duration::from_secs(60);

type Check = fn(&Machine, Backend) -> Result<(), Failed>;

/// Why `memory/exhausted_before_output` is skipped on the cross backend (in full in the note
/// printed before the tests): an address-space limit under qemu-user applies to the emulator,
/// which then fails itself before the program does.
const QEMU_MEMORY_LIMIT: &str = "qemu cannot limit guest memory";

fn main() {
    let args = Arguments::from_args();
    let machine = Machine::survey();
    let required = every_backend_required();
    eprintln!(
        "note: memory/exhausted_before_output::cross is skipped: an address-space limit under \
         qemu-user applies to the emulator, which then fails itself before the program does"
    );
    let per_backend: [(&str, Check); 5] = [
        ("struct/seventy_thousand_fields", seventy_thousand_fields),
        ("output/broken_pipe", broken_pipe),
        ("output/disk_full", disk_full),
        ("args/invalid_utf8", invalid_utf8_argument),
        ("memory/exhausted_before_output", exhausted_before_output),
    ];
    let mut trials = Vec::new();
    for (name, check) in per_backend {
        for backend in Backend::ALL {
            let for_trial = machine.clone();
            let trial = Trial::test(format!("{name}::{}", backend.name()), move || {
                check(&for_trial, backend)
            });
            let skip = match (name, backend) {
                ("memory/exhausted_before_output", Backend::Cross) => {
                    Some(QEMU_MEMORY_LIMIT.to_string())
                }
                _ if required => None,
                _ => machine
                    .unavailable(backend)
                    .map(|unavailable| unavailable.summary.clone()),
            };
            trials.push(match skip {
                Some(reason) => trial
                    .with_ignored_flag(true)
                    .with_kind(format!("skipped: {reason}")),
                None => trial,
            });
        }
    }
    let host_only: [(&str, Check); 8] = [
        ("emit/broken_pipe", emit_into_broken_pipe),
        (
            "build/same_code_on_any_thread_count",
            same_code_on_any_thread_count,
        ),
        ("warnings/check_run_and_deny", warnings_check_run_and_deny),
        ("run/one_liners", one_liners),
        (
            "imports/named_from_another_directory",
            imports_named_from_another_directory,
        ),
        ("build/default_names", default_names),
        (
            "build/refuses_to_overwrite_source",
            refuses_to_overwrite_source,
        ),
        (
            "run_native/killed_keel_leaves_nothing",
            killed_keel_leaves_nothing,
        ),
    ];
    for (name, check) in host_only {
        let for_trial = machine.clone();
        let trial = Trial::test(name, move || check(&for_trial, Backend::Native));
        trials.push(match machine.unavailable(Backend::Native) {
            Some(unavailable) if !required => trial
                .with_ignored_flag(true)
                .with_kind(format!("skipped: {}", unavailable.summary)),
            _ => trial,
        });
    }
    let for_trial = machine.clone();
    let trial = Trial::test("build/freestanding_needs_no_c_toolchain", move || {
        freestanding_needs_no_c_toolchain(&for_trial, Backend::Cross)
    });
    trials.push(match machine.unavailable(Backend::Cross) {
        Some(unavailable) if !required => trial
            .with_ignored_flag(true)
            .with_kind(format!("skipped: {}", unavailable.summary)),
        _ => trial,
    });
    let for_trial = machine.clone();
    let trial = Trial::test("build/cross_default_name", move || {
        cross_default_name(&for_trial, Backend::Cross)
    });
    trials.push(match machine.unavailable(Backend::Cross) {
        Some(unavailable) if !required => trial
            .with_ignored_flag(true)
            .with_kind(format!("skipped: {}", unavailable.summary)),
        _ => trial,
    });
    libtest_mimic::run(&args, trials).exit();
}

fn program(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/cli")
        .join(name)
}

/// `program` ready to start on `backend` with `args`, or why it cannot be.
fn launch(
    machine: &Machine,
    backend: Backend,
    name: &str,
    args: &[&[u8]],
) -> Result<Launch, Failed> {
    launch_path(machine, backend, &program(name), args)
}

/// Like [`launch`], for a program anywhere.
fn launch_path(
    machine: &Machine,
    backend: Backend,
    path: &Path,
    args: &[&[u8]],
) -> Result<Launch, Failed> {
    machine.require(backend)?;
    let args: Vec<&std::ffi::OsStr> = args
        .iter()
        .map(|a| std::ffi::OsStr::from_bytes(a))
        .collect();
    match Launch::prepare(machine, backend, path, &[], &args)? {
        Ok(ready) => Ok(ready),
        Err(failed) => Err(format!("{} did not build: {failed:?}", path.display()).into()),
    }
}

/// Waits for `child` at most [`WAIT_LIMIT`], killing it after that.
fn wait_limited(child: &mut Child) -> Result<ExitStatus, Failed> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if started.elapsed() > WAIT_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("the program did not end within {WAIT_LIMIT:?}").into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The shell's view of a status: the exit code, or 128 + the signal's number.
fn status_code(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

fn expect_outcome(actual: &Outcome, expected: &Outcome) -> Result<(), Failed> {
    if actual == expected {
        Ok(())
    } else {
        Err(format!("expected {expected:?}\n     got {actual:?}").into())
    }
}

/// Starts `command` with standard output into a pipe, reads its first line, closes the pipe (as
/// `head -1` does), and returns that line, what it wrote to standard error, and its status.
fn first_line_then_close(command: &mut Command) -> Result<Outcome, Failed> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout pipe")?);
    let mut first = String::new();
    stdout.read_line(&mut first)?;
    drop(stdout);
    let mut stderr_pipe = child.stderr.take().ok_or("no stderr pipe")?;
    let status = wait_limited(&mut child)?;
    let mut stderr = String::new();
    stderr_pipe.read_to_string(&mut stderr)?;
    Ok(Outcome {
        stdout: first,
        stderr,
        status: status_code(status),
    })
}

fn broken_pipe(machine: &Machine, backend: Backend) -> Result<(), Failed> {
    let mut ready = launch(machine, backend, "broken_pipe.kl", &[])?;
    expect_outcome(
        &first_line_then_close(&mut ready.command)?,
        &Outcome {
            stdout: "0\n".into(),
            stderr: String::new(),
            status: 141,
        },
    )
}

fn disk_full(machine: &Machine, backend: Backend) -> Result<(), Failed> {
    let mut ready = launch(machine, backend, "broken_pipe.kl", &[])?;
    let full = fs::OpenOptions::new().write(true).open("/dev/full")?;
    let output = ready
        .command
        .stdin(Stdio::null())
        .stdout(full)
        .stderr(Stdio::piped())
        .spawn()?
        .wait_with_output()?;
    expect_outcome(
        &Outcome {
            stdout: String::new(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            status: status_code(output.status),
        },
        &Outcome {
            stdout: String::new(),
            stderr: "output error: cannot write standard output: no space left on device\n".into(),
            status: 1,
        },
    )
}

fn invalid_utf8_argument(machine: &Machine, backend: Backend) -> Result<(), Failed> {
    let ready = launch(machine, backend, "args.kl", &[b"a\xffb", b"ok"])?;
    let actual = run_command(ready.command, &[])?;
    expect_outcome(
        &actual,
        &Outcome {
            stdout: "a\u{fffd}b\n3\nok\n2\n".into(),
            stderr: String::new(),
            status: 0,
        },
    )
}

/// The address space a program may use in [`exhausted_before_output`]: enough for `keel` to
/// compile, small enough to fill in a moment.
const MEMORY_LIMIT: libc::rlim_t = 512 << 20;

fn exhausted_before_output(machine: &Machine, backend: Backend) -> Result<(), Failed> {
    let mut ready = launch(machine, backend, "exhaust_memory.kl", &[])?;
    // SAFETY: the closure runs between fork and exec and calls only `setrlimit`, which is
    // async-signal-safe; it allocates nothing.
    unsafe {
        ready.command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: MEMORY_LIMIT,
                rlim_max: MEMORY_LIMIT,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let actual = run_command(ready.command, &[])?;
    let reported = actual
        .stderr
        .strip_prefix("out of memory: cannot allocate ")
        .and_then(|rest| rest.strip_suffix(" bytes\n"))
        .is_some_and(|bytes| !bytes.is_empty() && bytes.bytes().all(|b| b.is_ascii_digit()));
    if actual.status == 1 && actual.stdout.is_empty() && reported {
        Ok(())
    } else {
        Err(format!(
            "expected status 1 and `out of memory: cannot allocate N bytes`, got {actual:?}"
        )
        .into())
    }
}

fn emit_into_broken_pipe(_: &Machine, _: Backend) -> Result<(), Failed> {
    // IR far larger than a pipe holds.
    let dir = tempfile::tempdir()?;
    let source = dir.path().join("big.kl");
    fs::write(&source, "println(1);\n".repeat(20_000))?;
    let mut keel = keel();
    keel.args(["emit", "ir"]).arg(&source);
    expect_outcome(
        &first_line_then_close(&mut keel)?,
        &Outcome {
            stdout: "fn#0 (entry) <main>() -> void {\n".into(),
            stderr: String::new(),
            status: 141,
        },
    )
}

/// The fields of the struct of [`seventy_thousand_fields`].
const MANY_FIELDS: usize = 70_000;

fn seventy_thousand_fields(machine: &Machine, backend: Backend) -> Result<(), Failed> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("wide.kl");
    let names: Vec<String> = (0..MANY_FIELDS).map(|i| format!("f{i}")).collect();
    let declared: Vec<String> = names.iter().map(|n| format!("int {n}")).collect();
    let given: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| format!("{n}: {i}"))
        .collect();
    let last = MANY_FIELDS - 1;
    let source = format!(
        "struct Wide {{ {} }}\n\
         let a = new Wide {{ {} }};\n\
         let b = a;\n\
         b.f{last} = b.f{last} + b.f1;\n\
         println(a.f{last});\n\
         println(b.f{last});\n\
         println(a == b);\n\
         b.f{last} = a.f{last};\n\
         println(a == b);\n",
        declared.join(", "),
        given.join(", ")
    );
    fs::write(&path, source)?;
    let ready = launch_path(machine, backend, &path, &[])?;
    expect_outcome(
        &run_command(ready.command, &[])?,
        &Outcome {
            stdout: format!("{last}\n{}\nfalse\ntrue\n", last + 1),
            stderr: String::new(),
            status: 0,
        },
    )
}

/// A fresh directory holding a copy of `tests/cli/hello.kl` under `name`.
fn scratch_with_hello(name: &str) -> Result<(tempfile::TempDir, PathBuf), Failed> {
    let dir = tempfile::tempdir()?;
    let source = dir.path().join(name);
    fs::copy(program("hello.kl"), &source)?;
    Ok((dir, source))
}

/// Runs `keel` with `args` in `dir`.
fn keel_in(dir: &Path, args: &[&str]) -> Result<Outcome, Failed> {
    let mut command = keel();
    command.args(args).current_dir(dir);
    Ok(run_command(command, &[])?)
}

fn expect_hello(executable: &Path) -> Result<(), Failed> {
    let actual = run_command(Command::new(executable), &[])?;
    expect_outcome(
        &actual,
        &Outcome {
            stdout: "hello\n".into(),
            stderr: String::new(),
            status: 0,
        },
    )
}

fn default_names(_: &Machine, _: Backend) -> Result<(), Failed> {
    for (source, executable) in [
        ("hello.kl", "hello"),
        ("hello.rz", "hello"),
        ("prog", "prog.out"),
        ("q.txt", "q.txt.out"),
        ("a.b.kl", "a.b"),
    ] {
        let (dir, path) = scratch_with_hello(source)?;
        let original = fs::read(&path)?;
        let built = keel_in(dir.path(), &["build", source])?;
        if built.status != 0 {
            return Err(format!("keel build {source}: {built:?}").into());
        }
        expect_hello(&dir.path().join(executable))?;
        if fs::read(&path)? != original {
            return Err(format!("keel build {source} changed the source").into());
        }
    }
    Ok(())
}

fn imports_named_from_another_directory(_: &Machine, _: Backend) -> Result<(), Failed> {
    let programs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/programs");
    let fault = keel_in(&programs, &["run", "--vm", "imports/fault_in_import.kl"])?;
    expect_outcome(
        &fault,
        &Outcome {
            stdout: "6\n".into(),
            stderr: "imports/lib/counting.kl:5:19: integer overflow: 9223372036854775807 + 1 \
                     does not fit in int\n"
                .into(),
            status: 1,
        },
    )?;
    let twice = keel_in(&programs, &["check", "imports_errors/defined_twice.kl"])?;
    for place in [
        "┌─ imports_errors/lib/area.kl:1:4\n",
        "┌─ imports_errors/defined_twice.kl:3:4\n",
    ] {
        if twice.status != 1 || !twice.stderr.contains(place) {
            return Err(format!("keel check does not show {place}: {twice:?}").into());
        }
    }
    let ir = keel_in(&programs, &["emit", "ir", "imports/contract_in_import.kl"])?;
    if ir.status != 0
        || !ir
            .stdout
            .contains("(clause at imports/lib/checked.kl:1:33)")
    {
        return Err(format!("keel emit ir does not follow the import: {ir:?}").into());
    }
    Ok(())
}

/// A program of `count` functions, each calling earlier ones, with loops, structs, arrays, a
/// `live` block and a contract: enough code for `keel build` to compile on several threads.
fn many_functions(count: usize) -> String {
    let mut text = String::from("struct Point { int x, int y, }\n");
    for i in 0..count {
        let call = match i {
            0 => "acc = acc + 1;".to_string(),
            _ => format!("acc = acc + f{}(n - 1, xs) % 1000;", i / 2),
        };
        text += &format!(
            "fn f{i}(int n, [int] xs) -> int requires n >= 0 {{
    let acc = {i};
    let p = new Point {{ x: n, y: {} }};
    for x in xs {{
        if x % 2 == 0 {{ acc = acc + x * p.y; }} else {{ acc = acc - x + p.x; }}
    }}
    if n > 0 {{ {call} }}
    live {{
        let ys = [acc, n, p.x + p.y];
        acc = acc + ys[n % 3];
    }}
    return acc;
}}
",
            i % 7
        );
    }
    text += "let xs = [1, 2, 3, 4, 5];\n";
    for i in (0..count).step_by(count / 8 + 1) {
        text += &format!("println(f{i}(3, xs));\n");
    }
    text
}

/// `keel build` compiles functions on several threads (`--time-passes` says so) and writes the
/// same executable whatever their number; the JIT's code, compiled the same way, prints what
/// the VM prints; `keel check` checks without lowering.
fn same_code_on_any_thread_count(_: &Machine, _: Backend) -> Result<(), Failed> {
    let dir = tempfile::tempdir()?;
    let source = dir.path().join("many.kl");
    fs::write(&source, many_functions(150))?;
    let reference = keel_in(dir.path(), &["run", "--vm", "many.kl"])?;
    if reference.status != 0 || reference.stdout.lines().count() != 8 {
        return Err(format!("the program does not run on the VM: {reference:?}").into());
    }
    let mut executables = Vec::new();
    for jobs in ["-j1", "-j2", "-j3"] {
        let exe = format!("many{jobs}");
        let built = keel_in(
            dir.path(),
            &["build", jobs, "--time-passes", "many.kl", "-o", &exe],
        )?;
        let phase = match jobs {
            "-j1" => "Cranelift (1 thread)",
            _ => "Cranelift (parallel)",
        };
        if built.status != 0 || !built.stderr.contains(phase) || !built.stderr.contains("link") {
            return Err(format!("keel build {jobs} --time-passes: {built:?}").into());
        }
        let ran = run_command(Command::new(dir.path().join(&exe)), &[])?;
        expect_outcome(&ran, &reference)?;
        executables.push((jobs, fs::read(dir.path().join(&exe))?));
    }
    for (jobs, bytes) in &executables[1..] {
        if *bytes != executables[0].1 {
            return Err(format!("keel build {jobs} writes another executable than -j1").into());
        }
    }
    let jit = keel_in(dir.path(), &["run", "--jit", "-j2", "many.kl"])?;
    expect_outcome(&jit, &reference)?;
    let checked = keel_in(dir.path(), &["check", "--time-passes", "many.kl"])?;
    if checked.status != 0 || !checked.stderr.contains("check ") || checked.stderr.contains("lower")
    {
        return Err(format!("keel check --time-passes: {checked:?}").into());
    }
    Ok(())
}

/// `keel run -e PROGRAM` and `keel run -` (the program on standard input) on the VM, the JIT
/// and a native executable: output, arguments, a fault and a diagnostic naming `<-e>`.
fn one_liners(_: &Machine, _: Backend) -> Result<(), Failed> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let outcome = |stdout: &str, stderr: &str, status| Outcome {
        stdout: stdout.into(),
        stderr: stderr.into(),
        status,
    };
    for mode in ["--vm", "--jit", "--native"] {
        let printed = keel_in(here, &["run", mode, "-e", "println(6 * 7);"])?;
        expect_outcome(&printed, &outcome("42\n", "", 0))?;
        let fault = keel_in(here, &["run", mode, "-e", "let z = 0; println(1 / z);"])?;
        expect_outcome(
            &fault,
            &outcome("", "<-e>:1:22: division by zero: 1 / 0\n", 1),
        )?;
        let mut command = keel();
        command
            .args(["run", mode, "-", "--", "a"])
            .current_dir(here);
        let piped = run_command(command, b"println(args());\nprintln(input() == \"\");\n")?;
        expect_outcome(&piped, &outcome("[\"a\"]\ntrue\n", "", 0))?;
    }
    let wrong = keel_in(here, &["run", "-e", "let count = 1; println(cout);"])?;
    for part in ["error[E0301]", "┌─ <-e>:1:24", "did you mean `count`?"] {
        if wrong.status != 1 || !wrong.stderr.contains(part) {
            return Err(format!("keel run -e does not report {part}: {wrong:?}").into());
        }
    }
    Ok(())
}

/// The programs of `tests/warnings/`: `keel check` prints exactly their `.stderr` (warnings,
/// then the summary) and succeeds; `keel run --vm` prints the same before the program's own
/// output, and nothing with `--no-warnings`; `--deny-warnings` fails `check` and `build` with
/// status 1. `KEEL_BLESS=1` writes the `.stderr` files.
fn warnings_check_run_and_deny(_: &Machine, _: Backend) -> Result<(), Failed> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/warnings");
    let mut programs: Vec<PathBuf> = fs::read_dir(&dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    programs.retain(|path| path.extension().is_some_and(|ext| ext == "kl"));
    programs.sort();
    if programs.is_empty() {
        return Err("tests/warnings has no program".into());
    }
    for program in programs {
        let name = program.file_name().unwrap().to_string_lossy().into_owned();
        let checked = keel_in(&dir, &["check", &name])?;
        let expected_path = program.with_extension("stderr");
        if std::env::var_os("KEEL_BLESS").is_some() {
            fs::write(&expected_path, &checked.stderr)?;
        }
        let expected = fs::read_to_string(&expected_path)?;
        if !expected.contains("warning[W") {
            return Err(format!("{name} gives no warning: {expected:?}").into());
        }
        expect_outcome(
            &checked,
            &Outcome {
                stdout: String::new(),
                stderr: expected.clone(),
                status: 0,
            },
        )?;
        let ran = keel_in(&dir, &["run", "--vm", &name])?;
        let quiet = keel_in(&dir, &["run", "--vm", "--no-warnings", &name])?;
        if ran.stderr != format!("{expected}{}", quiet.stderr) || ran.stdout != quiet.stdout {
            return Err(format!(
                "keel run does not print {name}'s warnings before its output: {ran:?} {quiet:?}"
            )
            .into());
        }
        let denied = format!(
            "{expected}error: could not compile `{name}`: its warnings are denied \
             (--deny-warnings)\n"
        );
        let scratch = tempfile::tempdir()?;
        let executable = scratch.path().join("program");
        let executable = executable.to_string_lossy();
        let check = ["check", "--deny-warnings", &name];
        let build = ["build", "--deny-warnings", &name, "-o", &executable];
        for args in [&check[..], &build[..]] {
            let failed = keel_in(&dir, args)?;
            expect_outcome(
                &failed,
                &Outcome {
                    stdout: String::new(),
                    stderr: denied.clone(),
                    status: 1,
                },
            )?;
        }
        if scratch.path().join("program").exists() {
            return Err(format!("a build of {name} with its warnings denied wrote one").into());
        }
    }
    Ok(())
}

fn refuses_to_overwrite_source(_: &Machine, _: Backend) -> Result<(), Failed> {
    let (dir, source) = scratch_with_hello("hi.kl")?;
    std::os::unix::fs::symlink("hi.kl", dir.path().join("link"))?;
    fs::hard_link(&source, dir.path().join("hard"))?;
    let original = fs::read(&source)?;
    let replace = |output: &str| {
        format!(
            "error: the executable `{output}` would replace the source file `hi.kl`; choose \
             another name with -o\n"
        )
    };
    for (output, stderr) in [
        ("hi.kl", replace("hi.kl")),
        ("./hi.kl", replace("./hi.kl")),
        ("link", replace("link")),
        ("hard", replace("hard")),
        (
            "other.kl",
            "error: the executable `other.kl` would have a source file's name (`.kl`); choose \
             another name with -o\n"
                .to_string(),
        ),
    ] {
        let actual = keel_in(dir.path(), &["build", "hi.kl", "-o", output])?;
        expect_outcome(
            &actual,
            &Outcome {
                stdout: String::new(),
                stderr,
                status: 1,
            },
        )?;
        if fs::read(&source)? != original {
            return Err(format!("keel build -o {output} changed the source").into());
        }
    }
    if dir.path().join("other.kl").exists() {
        return Err("a refused build wrote its executable".into());
    }
    Ok(())
}

/// The largest a freestanding `examples/hello.kl` may be (stripped), for either architecture.
const HELLO_LIMIT_BYTES: usize = 16 * 1024;

/// `examples/hello.kl` built the default way, for this machine and for the other architecture,
/// with no C compiler, C library or binutils on `PATH` (only the ELF linker, named by
/// `KEEL_LD`): static executables of at most [`HELLO_LIMIT_BYTES`] that ask for no dynamic
/// loader and print what the VM prints.
fn freestanding_needs_no_c_toolchain(machine: &Machine, _: Backend) -> Result<(), Failed> {
    let cross = machine
        .cross
        .as_ref()
        .map_err(|unavailable| unavailable.reason.clone())?;
    let linker = keel::aot::link::find_elf_linker()?;
    let mut named = vec![linker.program.display().to_string()];
    named.extend(
        linker
            .args
            .iter()
            .map(|arg| arg.to_string_lossy().into_owned()),
    );
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/hello.kl");
    let mut vm = keel();
    vm.args(["run", "--vm"]).arg(&example);
    let expected = run_command(vm, &[])?;
    let dir = tempfile::tempdir()?;
    let empty = tempfile::tempdir()?;
    for (target, runner) in [
        (None, &[][..]),
        (Some(cross.triple.as_str()), &cross.runner[..]),
    ] {
        let exe = dir.path().join(target.unwrap_or("host"));
        let mut build = keel();
        build.arg("build").arg(&example).arg("-o").arg(&exe);
        if let Some(triple) = target {
            build.args(["--target", triple]);
        }
        for variable in ["CC", "HOST_CC", "TARGET_CC", "KEEL_LINKER"] {
            build.env_remove(variable);
        }
        build
            .env("PATH", empty.path())
            .env("KEEL_LD", named.join(" "));
        let built = run_command(build, &[])?;
        let name = target.unwrap_or("the host");
        if built.status != 0 {
            return Err(format!("keel build for {name} without a C toolchain: {built:?}").into());
        }
        let bytes = fs::read(&exe)?;
        if bytes.len() > HELLO_LIMIT_BYTES {
            return Err(format!(
                "hello for {name} is {} bytes, over {HELLO_LIMIT_BYTES}",
                bytes.len()
            )
            .into());
        }
        let kinds = program_header_kinds(&bytes).ok_or("not a 64-bit ELF executable")?;
        const PT_DYNAMIC: u32 = 2;
        const PT_INTERP: u32 = 3;
        if kinds.contains(&PT_INTERP) || kinds.contains(&PT_DYNAMIC) {
            return Err(format!("hello for {name} is not statically linked: {kinds:?}").into());
        }
        let mut command = executable_command(&exe, runner);
        command.current_dir(dir.path());
        expect_outcome(&run_command(command, &[])?, &expected)?;
    }
    Ok(())
}

/// The types of the program headers of a 64-bit little-endian ELF file.
fn program_header_kinds(bytes: &[u8]) -> Option<Vec<u32>> {
    if !bytes.starts_with(b"\x7fELF\x02\x01") {
        return None;
    }
    let u16_at = |at: usize| Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?));
    let u32_at = |at: usize| Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
    let table = u64::from_le_bytes(bytes.get(0x20..0x28)?.try_into().ok()?) as usize;
    let (entry, count) = (usize::from(u16_at(0x36)?), usize::from(u16_at(0x38)?));
    (0..count).map(|i| u32_at(table + i * entry)).collect()
}

fn cross_default_name(machine: &Machine, _: Backend) -> Result<(), Failed> {
    let cross = machine
        .cross
        .as_ref()
        .map_err(|unavailable| unavailable.reason.clone())?;
    let arch = cross.triple.split('-').next().unwrap_or_default();
    let (dir, _) = scratch_with_hello("hello.kl")?;
    let host = keel_in(dir.path(), &["build", "hello.kl"])?;
    if host.status != 0 {
        return Err(format!("keel build hello.kl: {host:?}").into());
    }
    let host_executable = fs::read(dir.path().join("hello"))?;
    let built = keel_in(
        dir.path(),
        &["build", "hello.kl", "--target", &cross.triple],
    )?;
    if built.status != 0 {
        return Err(format!("keel build --target {}: {built:?}", cross.triple).into());
    }
    if fs::read(dir.path().join("hello"))? != host_executable {
        return Err("the cross build replaced the host's executable".into());
    }
    let foreign = dir.path().join(format!("hello-{arch}"));
    let mut command = executable_command(&foreign, &cross.runner);
    command.current_dir(dir.path());
    expect_outcome(
        &run_command(command, &[])?,
        &Outcome {
            stdout: "hello\n".into(),
            stderr: String::new(),
            status: 0,
        },
    )
}

/// Every process whose executable lies under `dir`.
fn processes_running_from(dir: &Path) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe.starts_with(dir))
        })
        .collect()
}

fn killed_keel_leaves_nothing(_: &Machine, _: Backend) -> Result<(), Failed> {
    let temp = tempfile::tempdir()?;
    // Canonical, as the kernel reports executables' paths.
    let temp_path = temp.path().canonicalize()?;
    let mut command = keel();
    command
        .args(["run", "--native"])
        .arg(program("forever.kl"))
        .env("TMPDIR", &temp_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut keel = command.spawn()?;
    let mut stderr = BufReader::new(keel.stderr.take().ok_or("no stderr pipe")?);
    let mut first = String::new();
    stderr.read_line(&mut first)?;
    if first != "started\n" {
        let _ = keel.kill();
        return Err(format!("the program did not start: {first:?}").into());
    }
    keel.kill()?;
    keel.wait()?;
    let started = Instant::now();
    loop {
        let running = processes_running_from(&temp_path);
        let left: Vec<_> = fs::read_dir(&temp_path)?
            .flatten()
            .map(|e| e.path())
            .collect();
        if running.is_empty() && left.is_empty() {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(10) {
            for pid in &running {
                // SAFETY: `kill` has no memory-safety preconditions.
                unsafe { libc::kill(*pid as i32, libc::SIGKILL) };
            }
            return Err(format!(
                "after keel was killed: processes {running:?} still run, files {left:?} remain"
            )
            .into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
