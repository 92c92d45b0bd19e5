//! The `keel` command line: parses arguments, runs the front end, hands the IR to a backend.
//!
//! This is the only module that reads files, prints diagnostics and chooses exit statuses:
//! 0 for success, 1 for compile errors (and for programs that fault), otherwise the program's own
//! `exit(n)` status. It holds no compiler logic of its own.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::diag::{self, Diagnostic, SourceFile, Span};
use crate::{aot, ir, jit, sema, vm};

/// Keel: compile and run Keel programs on a bytecode VM, a JIT, or as native executables.
#[derive(Parser, Debug)]
#[command(name = "keel", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a program now (on the JIT unless told otherwise).
    Run {
        /// Run on the bytecode VM (instant start, slower execution).
        #[arg(long, conflicts_with_all = ["jit", "native"])]
        vm: bool,
        /// Run with the Cranelift JIT (the default).
        #[arg(long, conflicts_with = "native")]
        jit: bool,
        /// Build a native executable in a temporary directory and run it.
        #[arg(long)]
        native: bool,
        /// The program's source file.
        file: PathBuf,
        /// Arguments for the program (after `--`).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Compile a program to a standalone native executable.
    Build {
        /// The program's source file.
        file: PathBuf,
        /// Where to write the executable (default: the file's name without `.kl`).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Target triple (default: this machine); see `keel targets`.
        #[arg(long)]
        target: Option<String>,
    },
    /// Check a program for errors without running it.
    Check {
        /// The program's source file.
        file: PathBuf,
    },
    /// Print an intermediate form of a program.
    Emit {
        /// What to print.
        #[arg(value_enum)]
        what: EmitKind,
        /// The program's source file.
        file: PathBuf,
    },
}

#[derive(Copy, Clone, Debug, ValueEnum)]
enum EmitKind {
    /// The typed IR every backend consumes.
    Ir,
    /// The VM's register bytecode.
    Bytecode,
}

/// Runs the command line and returns the process's exit status.
pub fn main() -> ExitCode {
    install_panic_hook();
    let cli = Cli::parse();
    let status = match cli.command {
        Command::Run {
            vm,
            jit: _,
            native,
            file,
            args,
        } => with_program(&file, |program| {
            if vm {
                Ok(vm::run(&program, args))
            } else if native {
                run_native(&program, &file, args)
            } else {
                jit::run(&program, args)
            }
        }),
        Command::Build {
            file,
            output,
            target,
        } => with_program(&file, |program| {
            let output = output.unwrap_or_else(|| default_output(&file));
            aot::build(&program, &aot::BuildOptions { output, target }).map(|()| 0)
        }),
        Command::Check { file } => with_program(&file, |_| Ok(0)),
        Command::Emit { what, file } => with_program(&file, |program| {
            let text = match what {
                EmitKind::Ir => ir::print::program_to_string(&program),
                EmitKind::Bytecode => vm::disassemble(&vm::compile(&program)),
            };
            print!("{text}");
            Ok(0)
        }),
    };
    ExitCode::from(status.clamp(0, 255) as u8)
}

/// Reads and compiles `path`, then runs `then` on the IR; reports errors and returns the status.
fn with_program(path: &Path, then: impl FnOnce(ir::Program) -> Result<i32, String>) -> i32 {
    let source = match read_source(path) {
        Ok(source) => source,
        Err(LoadError::Io(message)) => {
            eprintln!("error[E0001]: {message}");
            return 1;
        }
        Err(LoadError::NotUtf8(bad)) => {
            let (source, diag) = *bad;
            eprint!("{}", diag::render(&source, &[diag], use_color()));
            return 1;
        }
    };
    let program = match sema::compile(&source) {
        Ok(program) => program,
        Err(diags) => {
            eprint!("{}", diag::render(&source, &diags, use_color()));
            return 1;
        }
    };
    match then(program) {
        Ok(status) => status,
        Err(message) => {
            eprintln!("error: {message}");
            1
        }
    }
}

/// Why a source file could not be loaded.
enum LoadError {
    /// It could not be read at all.
    Io(String),
    /// It is not UTF-8: the lossily decoded text, for the snippet, and the diagnostic.
    NotUtf8(Box<(SourceFile, Diagnostic)>),
}

fn read_source(path: &Path) -> Result<SourceFile, LoadError> {
    let bytes = std::fs::read(path).map_err(|e| {
        LoadError::Io(format!(
            "cannot read `{}`: {}",
            path.display(),
            io_reason(&e)
        ))
    })?;
    let name = path.display().to_string();
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(name, text)),
        Err(err) => {
            let offset = err.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(err.as_bytes()).into_owned();
            let diag = Diagnostic::new(
                "E0002",
                Span::new(offset, offset + 1),
                "source file is not valid UTF-8",
            )
            .label("invalid bytes start here")
            .note("Keel source files must be UTF-8");
            Err(LoadError::NotUtf8(Box::new((
                SourceFile::new(name, text),
                diag,
            ))))
        }
    }
}

fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ if error.raw_os_error() == Some(21) => "it is a directory".into(),
        _ => error.to_string(),
    }
}

fn default_output(file: &Path) -> PathBuf {
    PathBuf::from(file.file_stem().unwrap_or(file.as_os_str()))
}

/// `keel run --native`: builds into a temporary directory and runs the executable.
fn run_native(program: &ir::Program, file: &Path, args: Vec<String>) -> Result<i32, String> {
    let dir =
        tempfile::tempdir().map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let exe = dir.path().join(default_output(file));
    aot::build(
        program,
        &aot::BuildOptions {
            output: exe.clone(),
            target: None,
        },
    )?;
    let status = std::process::Command::new(&exe)
        .args(args)
        .status()
        .map_err(|e| format!("cannot run `{}`: {e}", exe.display()))?;
    Ok(exit_status_code(status))
}

/// The shell's view of a status: the exit code, or 128 + signal number.
fn exit_status_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

fn use_color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// Turns a panic into a plain request for a bug report (the default message still follows).
fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        eprintln!("error: the Keel compiler crashed. This is a bug in Keel, not in your program; please report it with the program that caused it.");
        default(info);
    }));
}
