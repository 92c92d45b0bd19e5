//! What the file-driven test harnesses share: the backends a program runs on, what this machine
//! can run (the native toolchain; the other architecture's linker, libc and qemu-user), and
//! running a command with a time limit to collect its output and status.
//!
//! Each harness (`programs.rs`, `cli.rs`, `differential.rs`) includes this module and uses the
//! parts it needs.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one program may run before its test fails.
pub const TIME_LIMIT: Duration = Duration::from_secs(60);

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    Vm,
    Jit,
    /// `keel build`: a freestanding executable for this machine.
    Native,
    /// `keel build --libc`: an executable for this machine linked with glibc.
    Libc,
    /// `keel build --target`: a freestanding executable for the other architecture, under qemu.
    Cross,
}

impl Backend {
    pub const ALL: [Backend; 5] = [
        Backend::Vm,
        Backend::Jit,
        Backend::Native,
        Backend::Libc,
        Backend::Cross,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Backend::Vm => "vm",
            Backend::Jit => "jit",
            Backend::Native => "native",
            Backend::Libc => "libc",
            Backend::Cross => "cross",
        }
    }
}

/// How the native, libc and cross backends build and run executables here, or why they cannot.
#[derive(Clone, Debug)]
pub struct Machine {
    pub native: Result<(), Unavailable>,
    pub libc: Result<(), Unavailable>,
    pub cross: Result<CrossTarget, Unavailable>,
}

/// The foreign target of the `cross` backend and the command prefix that runs its executables.
#[derive(Clone, Debug)]
pub struct CrossTarget {
    pub triple: String,
    pub runner: Vec<String>,
}

/// Why a backend cannot run here: a few words for the test's kind, and the whole story.
#[derive(Clone, Debug)]
pub struct Unavailable {
    pub summary: String,
    pub reason: String,
}

impl Machine {
    pub fn survey() -> Machine {
        use keel::aot::readiness::Readiness;
        use keel::aot::{target::SUPPORTED, LinkMode, Target};

        let host = match Target::host() {
            Ok(host) => host,
            Err(reason) => {
                let unavailable = Unavailable {
                    summary: "unsupported host".into(),
                    reason,
                };
                return Machine {
                    native: Err(unavailable.clone()),
                    libc: Err(unavailable.clone()),
                    cross: Err(unavailable),
                };
            }
        };
        let host_ready = Readiness::of(host.clone());
        let host_can = |mode| {
            host_ready
                .build_and_run(mode)
                .map(|_| ())
                .map_err(|gap| Unavailable {
                    summary: gap.summary().into(),
                    reason: gap.reason().into(),
                })
        };
        let (native, libc) = (
            host_can(LinkMode::Freestanding),
            host_can(LinkMode::Dynamic),
        );
        let other = SUPPORTED
            .iter()
            .filter_map(|name| Target::parse(name).ok())
            .find(|target| *target != host);
        let cross = match other {
            None => Err(Unavailable {
                summary: "no other target".into(),
                reason: format!("keel supports no target besides the host {host}"),
            }),
            Some(target) => {
                let ready = Readiness::of(target.clone());
                match ready.build_and_run(LinkMode::Freestanding) {
                    Ok(runner) => Ok(CrossTarget {
                        triple: target.name.to_string(),
                        runner: runner.to_vec(),
                    }),
                    Err(gap) => Err(Unavailable {
                        summary: format!("{}: {}", target.arch(), gap.summary()),
                        reason: format!("{target}: {}", gap.reason()),
                    }),
                }
            }
        };
        Machine {
            native,
            libc,
            cross,
        }
    }

    /// Fails when `backend` cannot run here, saying why.
    pub fn require(&self, backend: Backend) -> Result<(), String> {
        match self.unavailable(backend) {
            Some(unavailable) => Err(format!(
                "the {} backend cannot run here: {}",
                backend.name(),
                unavailable.reason
            )),
            None => Ok(()),
        }
    }

    /// Why `backend` cannot run here, if it cannot.
    pub fn unavailable(&self, backend: Backend) -> Option<&Unavailable> {
        match backend {
            Backend::Vm | Backend::Jit => None,
            Backend::Native => self.native.as_ref().err(),
            Backend::Libc => self.libc.as_ref().err(),
            Backend::Cross => self.cross.as_ref().err(),
        }
    }
}

/// Whether this run is CI's, where every backend must run (`CI=true` or `CI=1`).
pub fn every_backend_required() -> bool {
    std::env::var("CI").is_ok_and(|value| value == "true" || value == "1")
}

/// What a program did: the three things a test compares.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    pub status: i32,
}

pub fn keel() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keel"));
    cmd.env("NO_COLOR", "1");
    cmd
}

/// Every program runs with warnings off: what is compared is what the program does, the same
/// on every backend, and a native executable's run prints no compile-time warnings. Warnings
/// are tested on their own (`compiler/tests/cli.rs`, `warnings/*`).
const NO_WARNINGS: &str = "--no-warnings";

/// A program ready to start on a backend: the command (arguments given, working directory the
/// program's own) and, for executables, the directory that holds them while it runs.
pub struct Launch {
    pub command: Command,
    _executable: Option<tempfile::TempDir>,
}

impl Launch {
    /// Readies `program` for `backend` with `keel` options `flags` and the program's `args`:
    /// `keel run --vm`/`--jit` (with [`NO_WARNINGS`]), or `keel build` (`--libc` for libc,
    /// `--target` for cross) and the executable
    /// (under the emulator for cross). `Ok(Err(outcome))` is a build that failed: its diagnostics.
    /// The program runs in its own directory and is named by its bare file name, so messages read
    /// `NAME.kl:line:col`.
    pub fn prepare<A: AsRef<OsStr>>(
        machine: &Machine,
        backend: Backend,
        program: &Path,
        flags: &[String],
        args: &[A],
    ) -> Result<Result<Launch, Outcome>, String> {
        let dir = program.parent().ok_or("program has no directory")?;
        let file = program.file_name().ok_or("program has no file name")?;
        let (target, runner, libc) = match (backend, &machine.cross) {
            (Backend::Vm | Backend::Jit, _) => {
                let mut command = keel();
                command
                    .arg("run")
                    .arg(format!("--{}", backend.name()))
                    .arg(NO_WARNINGS)
                    .args(flags)
                    .arg(file)
                    .arg("--")
                    .args(args)
                    .current_dir(dir);
                return Ok(Ok(Launch {
                    command,
                    _executable: None,
                }));
            }
            (Backend::Native, _) => (None, &[][..], false),
            (Backend::Libc, _) => (None, &[][..], true),
            (Backend::Cross, Ok(cross)) => (Some(cross.triple.as_str()), &cross.runner[..], false),
            (Backend::Cross, Err(unavailable)) => return Err(unavailable.reason.clone()),
        };
        let out_dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let exe = out_dir.path().join("program");
        let mut build = keel();
        build
            .arg("build")
            .arg(NO_WARNINGS)
            .args(flags)
            .arg(file)
            .arg("-o")
            .arg(&exe)
            .current_dir(dir);
        if let Some(triple) = target {
            build.args(["--target", triple]);
        }
        if libc {
            build.arg("--libc");
        }
        let built = run_command(build, &[])?;
        if built.status != 0 {
            return Ok(Err(built));
        }
        let mut command = executable_command(&exe, runner);
        command.args(args).current_dir(dir);
        Ok(Ok(Launch {
            command,
            _executable: Some(out_dir),
        }))
    }
}

/// The command that runs the executable `exe`: itself, or under `runner` (an emulator and its
/// arguments, as `CrossTarget::runner`) when that is not empty.
pub fn executable_command(exe: &Path, runner: &[String]) -> Command {
    match runner.split_first() {
        Some((emulator, emulator_args)) => {
            let mut command = Command::new(emulator);
            command.args(emulator_args).arg(exe);
            command
        }
        None => Command::new(exe),
    }
}

/// Runs a command to completion (or the time limit) with the given standard input.
pub fn run_command(cmd: Command, stdin: &[u8]) -> Result<Outcome, String> {
    run_command_within(cmd, stdin, TIME_LIMIT)
}

/// [`run_command`] with a time limit of the caller's choosing.
pub fn run_command_within(
    mut cmd: Command,
    stdin: &[u8],
    limit: Duration,
) -> Result<Outcome, String> {
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
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{cmd:?} did not finish within {limit:?}"));
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
