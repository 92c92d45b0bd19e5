//! The program suite: every Keel program under `tests/programs/` run on every backend.
//!
//! Each `NAME.kl` (outside directories named `lib`, which hold the files programs import with
//! `use`) sits beside its expectations: `NAME.stdout`, `NAME.stderr` (each absent when
//! empty) and `NAME.status` (absent when 0). Optional inputs, used on every backend:
//!
//! - `NAME.stdin`: fed to standard input.
//! - `NAME.args`: the program's command-line arguments, one per line (after `--` for
//!   `keel run`); an empty line is an empty argument.
//! - `NAME.flags`: options for `keel run` / `keel build`, one per line (e.g. `--no-contracts`).
//! - `NAME.env`: `KEY=VALUE` lines set in the program's environment (blank lines and lines
//!   starting with `#` are skipped), e.g. `KEEL_LEAK_CHECK=1`. Every other `KEEL_*` variable of
//!   the harness's own environment is removed from the program's, so a `KEEL_TRACE` or
//!   `KEEL_LEAK_CHECK` in the developer's shell cannot change the results.
//! - `TMPDIR` is an empty directory of each run's own, removed afterwards: where a program
//!   writes files (`env_var("TMPDIR")`), so runs on several backends at once do not collide.
//!
//! Every program becomes one named test per backend, run with the program's directory as working
//! directory and its bare file name as argument, so messages read `NAME.kl:line:col`:
//!
//! - `group/name::vm` and `::jit`: `keel run --vm` / `--jit`;
//! - `::native`: `keel build` for this machine (a freestanding executable, no C library), then
//!   the executable;
//! - `::libc`: `keel build --libc` for this machine (linked with the shared glibc), then the
//!   executable;
//! - `::cross`: `keel build --target` for the *other* supported architecture (aarch64 on an
//!   x86_64 host, x86_64 on an aarch64 host), freestanding, then the executable under
//!   `qemu-aarch64` / `qemu-x86_64`. `--libc` cross executables (static and dynamic) under qemu
//!   are covered by the unit tests in `compiler/src/aot/`.
//!
//! A backend that cannot run here (no ELF linker; for `libc`, no C compiler driver; for `cross`,
//! no runtime library for the other target in this `keel` or no qemu-user) is
//! reported as ignored, its kind saying why (`[skipped: aarch64: cannot run here]`, the full
//! reason printed once before the tests), never as passed. With `CI` set (`true` or `1`, as `.ci/run`
//! does) the harness requires every backend: those tests run and fail with the reason instead.
//! A further `::ir` test compiles the program in-process, runs the IR verifier on it, and checks
//! that its printed IR (`keel emit ir`) parses back (`ir::parse`) into a program that verifies
//! and prints the same text; and that compiled with debug information (`keel build -g`) the
//! same holds, the IR without its `line` markers is the same text, the VM's bytecode is the same,
//! and so is the code and data of the object file for this machine.
//!
//! `KEEL_BLESS=1 cargo test --test programs` rewrites the expectations from the VM's behaviour
//! before comparing every backend against them; review the diff before committing it.
//!
//! `KEEL_VALGRIND=1 cargo test --release --test programs -- ::libc` runs each `--libc`
//! executable (whose allocations go through glibc's malloc, which memcheck follows) under
//! valgrind's memcheck (`--leak-check=full`, leaks counted as errors) and fails
//! its test with memcheck's report when memcheck finds anything (leaks only for programs that
//! end normally); the expectations are the same, since memcheck reports to a log file of its
//! own (see `support/valgrind.rs`, which lists the few programs it skips, with why).

mod support;
#[path = "support/valgrind.rs"]
mod valgrind;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use keel::diag::Sources;
use libtest_mimic::{Arguments, Failed, Trial};
use support::{every_backend_required, run_command, Backend, Launch, Machine, Outcome};

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/programs");
    let programs = find_programs(&root);
    let machine = Machine::survey();
    if std::env::var_os("KEEL_BLESS").is_some() {
        for program in &programs {
            let outcome = run(program, Backend::Vm, &machine)
                .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
            write_expected(program, &outcome);
        }
    }
    let required = every_backend_required();
    for backend in Backend::ALL {
        if let Some(unavailable) = machine.unavailable(backend) {
            let outcome = if required {
                "fail (CI is set)"
            } else {
                "are skipped"
            };
            eprintln!(
                "note: the {} tests {outcome}: {}",
                backend.name(),
                unavailable.reason.replace('\n', "\n      ")
            );
        }
    }
    let mut trials = Vec::new();
    for program in programs {
        let name = program
            .strip_prefix(&root)
            .unwrap_or(&program)
            .with_extension("")
            .display()
            .to_string();
        for backend in Backend::ALL {
            let path = program.clone();
            let for_trial = machine.clone();
            let trial = Trial::test(format!("{name}::{}", backend.name()), move || {
                check(&path, backend, &for_trial)
            });
            let trial = match machine.unavailable(backend) {
                Some(unavailable) if !required => trial
                    .with_ignored_flag(true)
                    .with_kind(format!("skipped: {}", unavailable.summary)),
                _ => match valgrind::skipped(&name) {
                    Some(reason) if backend == Backend::Libc && valgrind::enabled() => trial
                        .with_ignored_flag(true)
                        .with_kind(format!("skipped under valgrind: {reason}")),
                    _ => trial,
                },
            };
            trials.push(trial);
        }
        let path = program.clone();
        trials.push(Trial::test(format!("{name}::ir"), move || verify_ir(&path)));
    }
    libtest_mimic::run(&args, trials).exit();
}

/// The directories holding files that programs import (`use "lib/words.kl";`), which are not
/// programs of their own.
const IMPORTED_ONLY: &str = "lib";

/// Every `.kl` file under `root` outside [`IMPORTED_ONLY`] directories, sorted.
fn find_programs(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries =
            fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|name| name != IMPORTED_ONLY) {
                    dirs.push(path);
                }
            } else if path.extension().is_some_and(|ext| ext == "kl") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn check(program: &Path, backend: Backend, machine: &Machine) -> Result<(), Failed> {
    machine.require(backend)?;
    let expected = read_expected(program);
    let actual = run(program, backend, machine)?;
    if actual == expected {
        return Ok(());
    }
    let mut report = String::new();
    for (what, want, got) in [
        ("stdout", &expected.stdout, &actual.stdout),
        ("stderr", &expected.stderr, &actual.stderr),
    ] {
        if want != got {
            report.push_str(&format!(
                "{what} differs\n--- expected\n{want}\n--- actual\n{got}\n---\n"
            ));
        }
    }
    if expected.status != actual.status {
        report.push_str(&format!(
            "exit status: expected {}, got {}\n",
            expected.status, actual.status
        ));
    }
    Err(report.into())
}

/// Stack for the in-process front end of the `::ir` tests: libtest-mimic's worker threads have
/// 2 MiB, which a debug build's recursive descent through a long `else if` chain can exhaust,
/// and a stack overflow aborts the whole suite.
const FRONT_END_STACK: usize = 64 << 20;

/// Compiles `program` in-process and runs the IR verifier on the result.
fn verify_ir(program: &Path) -> Result<(), Failed> {
    let program = program.to_path_buf();
    std::thread::Builder::new()
        .stack_size(FRONT_END_STACK)
        .spawn(move || verify_ir_here(&program))
        .map_err(|e| format!("cannot start the front-end thread: {e}"))?
        .join()
        .map_err(|_| Failed::from("the front end panicked"))?
}

fn verify_ir_here(program: &Path) -> Result<(), Failed> {
    // Loaded as `keel` loads it, with the files it imports.
    let load = || {
        keel::driver::loader::load(program)
            .map_err(|_| format!("cannot load {}", program.display()))
    };
    let loaded = load()?;
    let name = loaded.sources.main_file().name.clone();
    let ir = match loaded.compile(keel::sema::Options::default()).1 {
        // Programs with compile errors have no IR to verify.
        Err(_) => return Ok(()),
        Ok(compiled) => compiled.program,
    };
    let printed = round_trip(&ir, &name)?;
    let debug_options = keel::sema::Options {
        debug_info: true,
        ..keel::sema::Options::default()
    };
    let debug_ir = (load()?.compile(debug_options).1)
        .map_err(|_| "compiling with debug information fails")?
        .program;
    let printed_debug = round_trip(&debug_ir, &name)?;
    let without_markers: String = (printed_debug.lines())
        .filter(|line| !line.trim_start().starts_with("line @"))
        .flat_map(|line| [line, "\n"])
        .collect();
    if without_markers != printed {
        return Err(format!("the IR with debug information, without its markers, differs\n--- without\n{printed}\n--- with, markers removed\n{without_markers}").into());
    }
    let bytecode = |ir| keel::vm::disassemble(&keel::vm::compile(ir));
    if bytecode(&debug_ir) != bytecode(&ir) {
        return Err("the bytecode differs with debug information".into());
    }
    same_object_code(&ir, &debug_ir)
}

/// Checks that `ir` verifies and that its printed text parses back into a program that verifies
/// and prints the same; returns the text.
fn round_trip(ir: &keel::ir::Program, name: &str) -> Result<String, Failed> {
    keel::ir::verify::verify(ir).map_err(|errors| errors.join("\n"))?;
    // The printed IR reads back as a program that verifies and prints the same.
    let printed = keel::ir::print::program_to_string(ir);
    let parsed = keel::ir::parse::parse(&printed, name)
        .map_err(|e| format!("the printed IR does not parse: {e}\n{printed}"))?;
    keel::ir::verify::verify(&parsed)
        .map_err(|errors| format!("the parsed IR does not verify: {}", errors.join("\n")))?;
    let reprinted = keel::ir::print::program_to_string(&parsed);
    if reprinted != printed {
        return Err(format!("the IR prints differently once parsed\n--- printed\n{printed}\n--- parsed and printed\n{reprinted}").into());
    }
    Ok(printed)
}

/// Checks that the object files of `ir` and of `debug_ir` (the same program with debug
/// information) for this machine have the same sections, debug sections and symbols aside, with
/// the same contents and relocations: debug information changes no code.
fn same_object_code(ir: &keel::ir::Program, debug_ir: &keel::ir::Program) -> Result<(), Failed> {
    use cranelift_object::object::read::elf::ElfFile64;
    use cranelift_object::object::{
        Endianness, Object, ObjectSection, ObjectSymbol, RelocationTarget,
    };

    let Ok(target) = keel::aot::Target::host() else {
        return Ok(());
    };
    let plain = keel::aot::emit_object(ir, &target).map_err(|e| e.to_string())?;
    let debug = keel::aot::object::emit_debug_object(debug_ir, &target, Path::new("/"))
        .map_err(|e| e.to_string())?;
    // Each section's name, contents and relocations (offset, target symbol's name, addend): the
    // symbol indices differ, as the debug sections' symbols come first.
    type Section = (String, Vec<u8>, Vec<(u64, String, i64)>);
    let sections = |bytes: &[u8]| -> Result<Vec<Section>, Failed> {
        let file = ElfFile64::<Endianness>::parse(bytes).map_err(|e| e.to_string())?;
        let target = |target: RelocationTarget| match target {
            RelocationTarget::Symbol(index) => file
                .symbol_by_index(index)
                .and_then(|symbol| symbol.name().map(str::to_string))
                .unwrap_or_default(),
            other => format!("{other:?}"),
        };
        let skipped = [".debug_", ".rela", ".symtab", ".strtab", ".shstrtab"];
        Ok((file.sections())
            .filter_map(|section| {
                let name = section.name().ok()?.to_string();
                if skipped.iter().any(|prefix| name.starts_with(prefix)) {
                    return None;
                }
                let relocations = (section.relocations())
                    .map(|(offset, r)| (offset, target(r.target()), r.addend()))
                    .collect();
                Some((name, section.data().ok()?.to_vec(), relocations))
            })
            .collect())
    };
    let (plain, debug) = (sections(&plain)?, sections(&debug)?);
    if plain != debug {
        let names = |sections: &[Section]| -> Vec<String> {
            sections.iter().map(|(name, ..)| name.clone()).collect()
        };
        let differing: Vec<&String> = (plain.iter())
            .filter(|section| !debug.contains(section))
            .map(|(name, ..)| name)
            .collect();
        return Err(format!(
            "the object code differs with debug information: sections {differing:?} (of {:?}; \
             with debug information: {:?})",
            names(&plain),
            names(&debug)
        )
        .into());
    }
    Ok(())
}

fn read_expected(program: &Path) -> Outcome {
    let read = |ext: &str| fs::read_to_string(program.with_extension(ext)).unwrap_or_default();
    let status = read("status").trim().parse().unwrap_or(0);
    Outcome {
        stdout: read("stdout"),
        stderr: read("stderr"),
        status,
    }
}

fn write_expected(program: &Path, outcome: &Outcome) {
    let write = |ext: &str, content: String| {
        let path = program.with_extension(ext);
        if content.is_empty() {
            let _ = fs::remove_file(&path);
        } else {
            fs::write(&path, content)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        }
    };
    write("stdout", outcome.stdout.clone());
    write("stderr", outcome.stderr.clone());
    write(
        "status",
        if outcome.status == 0 {
            String::new()
        } else {
            format!("{}\n", outcome.status)
        },
    );
}

/// Runs `program` on `backend` and collects what it did.
fn run(program: &Path, backend: Backend, machine: &Machine) -> Result<Outcome, String> {
    let inputs = Inputs::read(program)?;
    let mut ready = match Launch::prepare(machine, backend, program, &inputs.flags, &inputs.args)? {
        Ok(ready) => ready,
        // A program that does not compile reports the same diagnostics on every backend.
        Err(diagnostics) => return Ok(diagnostics),
    };
    inputs.apply_env(&mut ready.command);
    // A directory of its own for each run, as `TMPDIR`: programs that write files write there,
    // so the same program running on several backends at once does not share its files.
    let scratch = Scratch::new()?;
    ready.command.env("TMPDIR", &scratch.0);
    if backend == Backend::Libc && valgrind::enabled() {
        let memcheck = valgrind::Memcheck::new()?;
        let ends_normally = read_expected(program).status == 0;
        let command = memcheck.wrap(&ready.command, ends_normally);
        let outcome = run_command(command, &inputs.stdin)?;
        memcheck.verdict(outcome.status)?;
        return Ok(outcome);
    }
    run_command(ready.command, &inputs.stdin)
}

/// An empty directory, removed with what it holds when dropped.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new() -> Result<Scratch, String> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("keel-programs-{}-{n}", std::process::id()));
        fs::create_dir_all(&dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// What a program is given besides its source: `NAME.stdin`, `NAME.args`, `NAME.flags` and
/// `NAME.env`.
struct Inputs {
    stdin: Vec<u8>,
    args: Vec<String>,
    flags: Vec<String>,
    env: Vec<(String, String)>,
}

impl Inputs {
    fn read(program: &Path) -> Result<Inputs, String> {
        let stdin = fs::read(program.with_extension("stdin")).unwrap_or_default();
        let lines = |ext: &str| match fs::read_to_string(program.with_extension(ext)) {
            Ok(text) => text.lines().map(str::to_string).collect(),
            Err(_) => Vec::new(),
        };
        let args = lines("args");
        let flags = lines("flags");
        let env_path = program.with_extension("env");
        let env = match fs::read_to_string(&env_path) {
            Ok(text) => parse_env(&text).map_err(|e| format!("{}: {e}", env_path.display()))?,
            Err(_) => Vec::new(),
        };
        Ok(Inputs {
            stdin,
            args,
            flags,
            env,
        })
    }

    /// Removes the harness's own `KEEL_*` variables from `cmd`'s environment, then sets the
    /// program's.
    fn apply_env(&self, cmd: &mut Command) {
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("KEEL_") {
                cmd.env_remove(key);
            }
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
    }
}

/// `KEY=VALUE` lines; blank lines and `#` comments skipped.
fn parse_env(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        match line.split_once('=') {
            Some((key, value)) if !key.is_empty() && !key.contains(char::is_whitespace) => {
                pairs.push((key.to_string(), value.to_string()));
            }
            _ => {
                return Err(format!(
                    "line {}: expected KEY=VALUE, got `{line}`",
                    index + 1
                ))
            }
        }
    }
    Ok(pairs)
}
