//! The program suite: every Keel program under `tests/programs/` run on every backend.
//!
//! Each `NAME.kl` sits beside its expectations: `NAME.stdout`, `NAME.stderr` (each absent when
//! empty) and `NAME.status` (absent when 0); `NAME.stdin`, if present, is fed to standard input.
//! Every program becomes one named test per backend (`group/name::vm`, `::jit`, `::native`), run
//! with the program's directory as working directory and its bare file name as argument, so
//! messages read `NAME.kl:line:col`. A backend that cannot run here is reported as ignored, with
//! the reason, never as passed. A further `::ir` test runs the IR verifier on the program.
//!
//! `KEEL_BLESS=1 cargo test --test programs` rewrites the expectations from the VM's behaviour
//! before comparing every backend against them; review the diff before committing it.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Failed, Trial};

/// How long one program may run before the test fails.
const TIME_LIMIT: Duration = Duration::from_secs(60);

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Backend {
    Vm,
    Jit,
    Native,
}

impl Backend {
    const ALL: [Backend; 3] = [Backend::Vm, Backend::Jit, Backend::Native];

    fn name(self) -> &'static str {
        match self {
            Backend::Vm => "vm",
            Backend::Jit => "jit",
            Backend::Native => "native",
        }
    }
}

/// What a program did: the three things a test compares.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    stdout: String,
    stderr: String,
    status: i32,
}

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/programs");
    let programs = find_programs(&root);
    if std::env::var_os("KEEL_BLESS").is_some() {
        for program in &programs {
            let outcome =
                run(program, Backend::Vm).unwrap_or_else(|e| panic!("{}: {e}", program.display()));
            write_expected(program, &outcome);
        }
    }
    let native_skip = native_unavailable();
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
            let trial = Trial::test(format!("{name}::{}", backend.name()), move || {
                check(&path, backend)
            });
            let trial = match (backend, &native_skip) {
                (Backend::Native, Some(reason)) => trial
                    .with_ignored_flag(true)
                    .with_kind(format!("skipped: {reason}")),
                _ => trial,
            };
            trials.push(trial);
        }
        let path = program.clone();
        trials.push(Trial::test(format!("{name}::ir"), move || verify_ir(&path)));
    }
    libtest_mimic::run(&args, trials).exit();
}

/// Every `.kl` file under `root`, sorted.
fn find_programs(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries =
            fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|ext| ext == "kl") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Why native executables cannot be built here, if they cannot.
fn native_unavailable() -> Option<String> {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    match Command::new(&cc)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(status) if status.success() => None,
        _ => Some(format!("no C compiler driver (`{cc}`) to link with")),
    }
}

fn check(program: &Path, backend: Backend) -> Result<(), Failed> {
    let expected = read_expected(program);
    let actual = run(program, backend)?;
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

fn verify_ir(program: &Path) -> Result<(), Failed> {
    let text = fs::read_to_string(program).map_err(|e| e.to_string())?;
    let name = program
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let source = keel::diag::SourceFile::new(name, text);
    match keel::sema::compile(&source) {
        // Programs with compile errors have no IR to verify.
        Err(_) => Ok(()),
        Ok(ir) => keel::ir::verify::verify(&ir).map_err(|errors| errors.join("\n").into()),
    }
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

fn keel() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keel"));
    cmd.env("NO_COLOR", "1");
    cmd
}

/// Runs `program` on `backend` and collects what it did.
fn run(program: &Path, backend: Backend) -> Result<Outcome, String> {
    let dir = program.parent().ok_or("program has no directory")?;
    let file = program.file_name().ok_or("program has no file name")?;
    let stdin = fs::read(program.with_extension("stdin")).unwrap_or_default();
    match backend {
        Backend::Vm | Backend::Jit => {
            let mut cmd = keel();
            cmd.arg("run")
                .arg(format!("--{}", backend.name()))
                .arg(file)
                .current_dir(dir);
            run_command(cmd, &stdin)
        }
        Backend::Native => {
            let out_dir = tempfile::tempdir().map_err(|e| e.to_string())?;
            let exe = out_dir.path().join("program");
            let mut build = keel();
            build
                .arg("build")
                .arg(file)
                .arg("-o")
                .arg(&exe)
                .current_dir(dir);
            let built = run_command(build, &[])?;
            if built.status != 0 {
                // A program that does not compile reports the same diagnostics on every backend.
                return Ok(built);
            }
            let mut cmd = Command::new(&exe);
            cmd.current_dir(dir);
            run_command(cmd, &stdin)
        }
    }
}

/// Runs a command to completion (or the time limit) with the given standard input.
fn run_command(mut cmd: Command, stdin: &[u8]) -> Result<Outcome, String> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    let mut input = child.stdin.take().ok_or("no stdin pipe")?;
    let stdin = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let mut out_pipe = child.stdout.take().ok_or("no stdout pipe")?;
    let mut err_pipe = child.stderr.take().ok_or("no stderr pipe")?;
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out_pipe.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        buf
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{cmd:?} did not finish within {TIME_LIMIT:?}"));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = feeder.join();
    let stdout = out_reader.join().map_err(|_| "stdout reader failed")?;
    let stderr = err_reader.join().map_err(|_| "stderr reader failed")?;
    use std::os::unix::process::ExitStatusExt;
    let status = status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
    Ok(Outcome {
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        status,
    })
}
