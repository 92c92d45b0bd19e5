//! The `keel` command line: parses arguments, runs the front end, hands the IR to a backend.
//!
//! This is the only module that reads files, prints diagnostics and chooses exit statuses:
//! 0 for success, 1 for compile errors (and for programs that fault), otherwise the program's own
//! `exit(n)` status. It holds no compiler logic of its own. [`loader`] reads a program's files
//! (the main one and those it imports with `use`).

pub mod loader;
mod process_guard;

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use loader::LoadError;

use crate::diag::{self, Diagnostic, SourceFile, SourceMap, Span};
use crate::{aot, codegen, ir, jit, sema, timing, vm};

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
        #[command(flatten)]
        checks: Checks,
        /// The program given on the command line instead of a file (`keel run -e 'println(1);'`);
        /// its diagnostics and faults name it `<-e>`.
        #[arg(short = 'e', value_name = "PROGRAM", conflicts_with = "file")]
        eval: Option<String>,
        /// The program's source file, or `-` to read the program from standard input (named
        /// `<stdin>` in messages; the program's own input is then empty).
        #[arg(required_unless_present = "eval")]
        file: Option<PathBuf>,
        /// Arguments for the program (after `--`). Bytes that are not UTF-8 reach the program
        /// as U+FFFD, as in a native executable.
        #[arg(last = true, value_parser = clap::value_parser!(OsString))]
        args: Vec<OsString>,
    },
    /// Start an interactive session (on the JIT unless told otherwise).
    Repl {
        /// Run entries on the bytecode VM.
        #[arg(long)]
        vm: bool,
        #[command(flatten)]
        checks: Checks,
    },
    /// Compile a program to a standalone native executable.
    Build {
        #[command(flatten)]
        checks: Checks,
        /// The program's source file.
        file: PathBuf,
        /// Where to write the executable (default: the file's name without `.kl` or `.rz`, or
        /// with `.out` added for other names; `-<arch>` added for another architecture). Never
        /// the source file itself.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Target triple (default: this machine); see `keel targets`.
        #[arg(long, value_name = "TRIPLE")]
        target: Option<String>,
        /// Link with the system's C library (glibc), loaded at start from the machine the
        /// program runs on, instead of the default: a static executable with no C library.
        #[arg(long)]
        libc: bool,
        /// With `--libc`, put glibc inside the executable (implies `--libc`).
        #[arg(long = "static")]
        static_link: bool,
        /// Add debug information (DWARF line tables, function names, call frames) and keep the
        /// symbols, for gdb and perf; the code is the same.
        #[arg(short = 'g')]
        debug_info: bool,
    },
    /// List the targets `keel build --target` supports and what this machine has for each.
    Targets,
    /// Check a program for errors without running it.
    Check {
        #[command(flatten)]
        checks: Checks,
        /// The program's source file.
        file: PathBuf,
    },
    /// Print an intermediate form of a program.
    Emit {
        /// What to print.
        #[arg(value_enum)]
        what: EmitKind,
        #[command(flatten)]
        checks: Checks,
        /// The program's source file.
        file: PathBuf,
    },
}

/// The run-time checks a compiled program makes, and what becomes of its warnings, for every
/// command that compiles.
#[derive(clap::Args, Debug)]
struct Checks {
    /// Do not check `requires`/`ensures` contracts at calls (`assert` and `invariant` are
    /// still checked).
    #[arg(long)]
    no_contracts: bool,
    /// Fail (status 1, nothing run or built) when the program has warnings.
    #[arg(long, conflicts_with = "no_warnings")]
    deny_warnings: bool,
    /// Do not print warnings.
    #[arg(long)]
    no_warnings: bool,
    #[command(flatten)]
    work: Work,
}

/// How the compiler does its work, for every command that compiles.
#[derive(clap::Args, Debug)]
struct Work {
    /// Print how long each phase of the compile took, on standard error (before the program's
    /// run, for `keel run`).
    #[arg(long)]
    time_passes: bool,
    /// How many threads compile functions to machine code (default: one per core). The code
    /// is the same for any number.
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,
}

impl Work {
    fn apply(&self) {
        if self.time_passes {
            timing::enable();
        }
        codegen::set_threads(self.jobs.map_or(0, usize::from));
    }
}

impl Command {
    /// The command's `Work` settings, if it compiles.
    fn work(&self) -> Option<&Work> {
        match self {
            Command::Run { checks, .. }
            | Command::Repl { checks, .. }
            | Command::Build { checks, .. }
            | Command::Check { checks, .. }
            | Command::Emit { checks, .. } => Some(&checks.work),
            Command::Targets => None,
        }
    }
}

/// How a command compiles: the front end's options, and what becomes of warnings.
#[derive(Copy, Clone, Debug)]
struct Compile {
    options: sema::Options,
    deny_warnings: bool,
    show_warnings: bool,
}

impl Checks {
    fn options(&self) -> sema::Options {
        sema::Options {
            contracts: !self.no_contracts,
            ..sema::Options::default()
        }
    }

    fn compile(&self) -> Compile {
        Compile {
            options: self.options(),
            deny_warnings: self.deny_warnings,
            show_warnings: !self.no_warnings,
        }
    }

    /// [`Checks::compile`], with the markers debug information needs when `debug_info`.
    fn compile_for_build(&self, debug_info: bool) -> Compile {
        let mut compile = self.compile();
        compile.options.debug_info = debug_info;
        compile
    }
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
    if let Some(work) = cli.command.work() {
        work.apply();
    }
    let status = match cli.command {
        Command::Run {
            vm,
            jit: _,
            native,
            checks,
            eval,
            file,
            args,
        } => {
            let run = |program: ir::Program, name: &Path| {
                if native {
                    // The executable receives the bytes and decodes them as the VM and JIT do.
                    return run_native(&program, name, args.clone());
                }
                let args = keel_runtime::process::args_from_os(&args);
                if vm {
                    let module = timing::time("bytecode", || vm::compile(&program));
                    print_time_report();
                    Ok(vm::run_module(&module, args))
                } else {
                    let code = jit::JitProgram::compile(&program).map_err(|e| e.to_string())?;
                    print_time_report();
                    Ok(code.run(args))
                }
            };
            match (eval, file) {
                (Some(text), _) => {
                    with_text(SourceFile::new("<-e>", text), checks.compile(), |p| {
                        run(p, Path::new("program"))
                    })
                }
                (None, Some(file)) if file.as_os_str() == "-" => match read_stdin() {
                    Ok(source) => {
                        with_text(source, checks.compile(), |p| run(p, Path::new("program")))
                    }
                    Err(status) => status,
                },
                (None, Some(file)) => with_program(&file, checks.compile(), |p| run(p, &file)),
                (None, None) => unreachable!("clap requires a file or -e"),
            }
        }
        Command::Build {
            checks,
            file,
            output,
            target,
            libc,
            static_link,
            debug_info,
        } => with_program(&file, checks.compile_for_build(debug_info), |program| {
            let link_mode = if static_link {
                aot::LinkMode::Static
            } else if libc {
                aot::LinkMode::Dynamic
            } else {
                aot::LinkMode::Freestanding
            };
            let output = match output {
                Some(output) => output,
                None => default_output(&file, target.as_deref())?,
            };
            refuse_overwriting_source(&file, &output)?;
            let options = aot::BuildOptions {
                output,
                target,
                link_mode,
                debug_info,
            };
            aot::build(&program, &options).map(|()| 0)
        }),
        Command::Repl { vm, checks } => {
            let backend = if vm {
                crate::repl::Backend::Vm
            } else {
                crate::repl::Backend::Jit
            };
            crate::repl::run(backend, checks.options())
        }
        Command::Targets => write_stdout(&targets_report(&aot::readiness::all())),
        Command::Check { checks, file } if is_ir_file(&file) => {
            with_program(&file, checks.compile(), |_| Ok(0))
        }
        Command::Check { checks, file } => check_program(&file, checks.compile()),
        Command::Emit { what, checks, file } => with_program(&file, checks.compile(), |program| {
            let text = match what {
                EmitKind::Ir => ir::print::program_to_string(&program),
                EmitKind::Bytecode => vm::disassemble(&vm::compile(&program)),
            };
            Ok(write_stdout(&text))
        }),
    };
    print_time_report();
    ExitCode::from(status.clamp(0, 255) as u8)
}

/// Prints what `--time-passes` measured so far, if it is on and has not been printed: before a
/// program runs (its output, and an `exit`, come after it), or when the command ends.
fn print_time_report() {
    if let Some(report) = timing::report() {
        eprint!("{report}");
    }
}

/// Writes `keel`'s own output (`emit`, `targets`) and returns the exit status: 0, or, as for
/// programs, 141 when the reader of standard output has gone (`keel emit ir p.kl | head`) and 1
/// with a message for any other write error.
fn write_stdout(text: &str) -> i32 {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {
            keel_runtime::output::BROKEN_PIPE_STATUS
        }
        Err(error) => {
            eprintln!("error: cannot write standard output: {error}");
            1
        }
    }
}

/// Reads and compiles `path` (and the files it imports) with `options`, then runs `then` on the
/// IR; reports errors and returns the status.
fn with_program(
    path: &Path,
    compile: Compile,
    then: impl FnOnce(ir::Program) -> Result<i32, String>,
) -> i32 {
    let loaded = if is_ir_file(path) {
        loader::read_source(path).map(|source| {
            let program = load_ir(&source).map(|program| sema::Compiled {
                program,
                warnings: Vec::new(),
                session: Vec::new(),
            });
            (SourceMap::new(source), program)
        })
    } else {
        sema::on_front_end_thread(|| {
            loader::load(path).map(|loaded| loaded.compile(compile.options))
        })
    };
    let (sources, compiled) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return report_load_error(error),
    };
    let program = match compiled {
        Ok(compiled) if warnings_allow(&sources, &compiled.warnings, compile) => compiled.program,
        Ok(_) => return 1,
        Err(diags) => {
            eprint!("{}", diag::render(&sources, &diags, use_color()));
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

/// `keel check`: reads and checks `path` (and the files it imports) and reports what it finds;
/// nothing is lowered. Returns the status.
fn check_program(path: &Path, compile: Compile) -> i32 {
    let loaded = sema::on_front_end_thread(|| {
        loader::load(path).map(|loaded| {
            let (sources, checked) = loaded.check();
            (sources, checked.map(|checked| checked.warnings))
        })
    });
    match loaded {
        Ok((sources, Ok(warnings))) => i32::from(!warnings_allow(&sources, &warnings, compile)),
        Ok((sources, Err(diags))) => {
            eprint!("{}", diag::render(&sources, &diags, use_color()));
            1
        }
        Err(error) => report_load_error(error),
    }
}

/// Reports why a program's files could not be read; returns the status.
fn report_load_error(error: LoadError) -> i32 {
    match error {
        LoadError::Io(message) => eprintln!("error[E0001]: {message}"),
        LoadError::NotUtf8(bad) => {
            let (source, diag) = *bad;
            eprint!("{}", diag::render(&source, &[diag], use_color()));
        }
    }
    1
}

/// Compiles a program given as text (`-e`, or standard input), which cannot import files
/// (`E0605`), then runs `then` on the IR; reports errors and returns the status.
fn with_text(
    source: SourceFile,
    compile: Compile,
    then: impl FnOnce(ir::Program) -> Result<i32, String>,
) -> i32 {
    match sema::compile_text(&source, compile.options) {
        Ok(compiled) if warnings_allow(&source, &compiled.warnings, compile) => {
            then(compiled.program).unwrap_or_else(|message| {
                eprintln!("error: {message}");
                1
            })
        }
        Ok(_) => 1,
        Err(diags) => {
            eprint!("{}", diag::render(&source, &diags, use_color()));
            1
        }
    }
}

/// Prints a program's warnings (unless told not to) and says whether the command may go on:
/// not when they are denied (`--deny-warnings`).
fn warnings_allow(sources: &dyn diag::Sources, warnings: &[Diagnostic], compile: Compile) -> bool {
    if warnings.is_empty() {
        return true;
    }
    if compile.show_warnings || compile.deny_warnings {
        eprint!("{}", diag::render_warnings(sources, warnings, use_color()));
    }
    if compile.deny_warnings {
        eprintln!(
            "error: could not compile `{}`: its warnings are denied (--deny-warnings)",
            sources.main_file().name
        );
        return false;
    }
    true
}

/// The program on standard input (`keel run -`), named `<stdin>`; or, when it cannot be read or
/// is not UTF-8, the exit status after reporting why.
fn read_stdin() -> Result<SourceFile, i32> {
    use std::io::Read;
    let mut bytes = Vec::new();
    if let Err(error) = std::io::stdin().lock().read_to_end(&mut bytes) {
        eprintln!(
            "error[E0001]: cannot read standard input: {}",
            io_reason(&error)
        );
        return Err(1);
    }
    loader::decode("<stdin>".into(), bytes).map_err(|bad| {
        let (source, diag) = *bad;
        eprint!("{}", diag::render(&source, &[diag], use_color()));
        1
    })
}

/// Whether `path` holds IR text (`.kir`, as `keel emit ir` writes it) rather than Keel source.
fn is_ir_file(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext == "kir")
}

/// Reads IR text: the program, if it parses and verifies; else one diagnostic (E0010 at the
/// first thing that could not be read, or E0011 listing what the verifier found). The IR is run
/// as it is: no pass runs again (it is what `emit ir` printed, after them), and `--no-contracts`
/// changes nothing (its checks are already explicit).
fn load_ir(source: &SourceFile) -> Result<ir::Program, Vec<Diagnostic>> {
    let program = ir::parse::parse(&source.text, &source.name).map_err(|error| {
        let start = error.offset_in(&source.text);
        let end = match source.text[start..].chars().next() {
            Some(c) if c != '\n' && c != '\r' => start + c.len_utf8(),
            _ => start,
        };
        vec![
            Diagnostic::new("E0010", Span::new(start, end), error.message)
                .label("the IR text cannot be read from here"),
        ]
    })?;
    ir::verify::verify(&program).map_err(|errors| {
        // Shown at the header of the function the first error names (`fn#N ...`).
        let at = errors
            .first()
            .and_then(|error| error.split_whitespace().next())
            .filter(|name| name.starts_with("fn#"))
            .and_then(|name| {
                let header = format!("{name} ");
                let mut offset = 0;
                source.text.split_inclusive('\n').find_map(|line| {
                    let here = offset;
                    offset += line.len();
                    line.starts_with(&header).then_some(here)
                })
            })
            .unwrap_or(0);
        let mut diag = Diagnostic::new("E0011", Span::new(at, at), "the IR is not well formed")
            .label("in this function");
        for error in errors {
            diag = diag.note(error);
        }
        vec![diag]
    })?;
    Ok(program)
}

/// An I/O error's reason as Keel words it in `cannot read ...` messages.
fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ if error.raw_os_error() == Some(21) => "it is a directory".into(),
        _ => error.to_string(),
    }
}

/// The file name extensions of Keel source files.
const SOURCE_EXTENSIONS: [&str; 2] = ["kl", "rz"];

fn has_source_extension(path: &Path) -> bool {
    path.extension()
        .is_some_and(|ext| SOURCE_EXTENSIONS.iter().any(|source| ext == *source))
}

/// `keel build`'s executable when `-o` is not given, in the current directory: the source's file
/// name without `.kl`/`.rz` (`hello.kl` → `hello`), or with `.out` added when it has another
/// extension or none (`prog` → `prog.out`, `q.txt` → `q.txt.out`), so it never names the source
/// itself. For a `--target` of another architecture, `-<arch>` follows the name
/// (`hello-aarch64`, `prog-aarch64.out`), so it does not replace this machine's executable.
fn default_output(file: &Path, target: Option<&str>) -> Result<PathBuf, String> {
    let Some(name) = file.file_name() else {
        return Err(format!(
            "`{}` has no file name to name the executable after; give one with -o",
            file.display()
        ));
    };
    let (stem, suffix) = if has_source_extension(file) {
        (file.file_stem().unwrap_or(name).to_os_string(), "")
    } else {
        (name.to_os_string(), ".out")
    };
    let mut output = stem;
    if let Some(target) = target {
        let target = aot::Target::parse(target)?;
        if !target.is_host() {
            output.push(format!("-{}", target.arch()));
        }
    }
    output.push(suffix);
    Ok(PathBuf::from(output))
}

/// Refuses an executable path that would replace the source (the same file under any name, by
/// hard or symbolic link too) or that looks like a source file, so a mistyped `-o` cannot lose a
/// program.
fn refuse_overwriting_source(source: &Path, output: &Path) -> Result<(), String> {
    if is_same_file(source, output) {
        return Err(format!(
            "the executable `{}` would replace the source file `{}`; choose another name with -o",
            output.display(),
            source.display()
        ));
    }
    if has_source_extension(output) {
        return Err(format!(
            "the executable `{}` would have a source file's name (`.{}`); choose another name \
             with -o",
            output.display(),
            output
                .extension()
                .map(|ext| ext.to_string_lossy())
                .unwrap_or_default()
        ));
    }
    Ok(())
}

/// Whether two paths name the same existing file (device and inode, after symbolic links).
fn is_same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// `keel run --native`: builds into a temporary directory and runs the executable.
///
/// Nothing outlives `keel`, whenever it is killed: the temporary directory is removed before
/// the program starts (it runs from an open descriptor of its executable, see
/// [`process_guard::command_for_open_executable`]), and the program is killed if `keel` dies
/// first ([`process_guard::die_with_parent`]).
fn run_native(program: &ir::Program, file: &Path, args: Vec<OsString>) -> Result<i32, String> {
    let dir = tempfile::Builder::new()
        .prefix("keel-run-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let name = file
        .file_stem()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("program"));
    let exe = dir.path().join(&name);
    aot::build(
        program,
        &aot::BuildOptions {
            output: exe.clone(),
            target: None,
            link_mode: aot::LinkMode::Freestanding,
            debug_info: false,
        },
    )?;
    print_time_report();
    let executable =
        std::fs::File::open(&exe).map_err(|e| format!("cannot open `{}`: {e}", exe.display()))?;
    drop(dir);
    let mut command = process_guard::command_for_open_executable(&executable, name.as_os_str());
    command.args(args);
    process_guard::die_with_parent(&mut command);
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot run `{}`: {e}", name.display()))?;
    drop(executable);
    let status = child
        .wait()
        .map_err(|e| format!("cannot wait for `{}`: {e}", name.display()))?;
    Ok(exit_status_code(status))
}

/// The shell's view of a status: the exit code, or 128 + signal number.
fn exit_status_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// `keel targets`: one block per supported target, the host first, saying whether this `keel`
/// can build for it and with what.
fn targets_report(targets: &[aot::readiness::Readiness]) -> String {
    let mut text = String::new();
    for ready in targets {
        let mut heading = ready.target.name.to_string();
        if ready.target.is_host() {
            heading.push_str(" (host, the default)");
        }
        let verdict = if ready.can_build() {
            "can build"
        } else {
            "cannot build"
        };
        text.push_str(&format!("{heading:<45} {verdict}\n"));
        let mut line = |label: &str, value: String| {
            let mut lines = value.lines();
            text.push_str(&format!("  {label:<9}{}\n", lines.next().unwrap_or("")));
            for more in lines {
                text.push_str(&format!("  {:<9}{more}\n", ""));
            }
        };
        line(
            "runtime",
            match (&ready.runtime, &ready.libc_runtime) {
                (Ok(()), Ok(())) => "built in (freestanding and --libc)".to_string(),
                (Err(reason), _) => format!("missing: {reason}"),
                (Ok(()), Err(reason)) => format!("freestanding only; --libc missing: {reason}"),
            },
        );
        line(
            "linker",
            match &ready.elf_linker {
                Ok(linker) => format!(
                    "{} ({}, from {})",
                    linker.name,
                    linker.program.display(),
                    linker.source
                ),
                Err(reason) => format!("missing: {reason}"),
            },
        );
        line(
            "--libc",
            match &ready.linker {
                Ok(linker) => {
                    let from = match linker.source.as_str() {
                        "default" => "the default".to_string(),
                        variable => format!("from {variable}"),
                    };
                    match linker.resolved_path() {
                        Some(path) => format!("{} ({}, {from})", linker.name, path.display()),
                        None => format!("{} ({from})", linker.name),
                    }
                }
                Err(reason) => format!("no C compiler: {reason}"),
            },
        );
        line(
            "static",
            match &ready.static_libc {
                Ok(libc) => format!("yes (--static links {})", libc.display()),
                Err(_) if ready.linker.is_err() => "no C compiler".to_string(),
                Err(reason) => format!("no: {reason}"),
            },
        );
        line(
            "runs",
            match (&ready.dynamic_runner, &ready.static_runner) {
                (Ok(runner), _) if runner.is_empty() => "directly".to_string(),
                (Ok(dynamic), Ok(fixed)) => {
                    format!("`{}` (--libc: `{}`)", fixed.join(" "), dynamic.join(" "))
                }
                (Err(reason), Ok(fixed)) => {
                    format!(
                        "`{}` (--libc only with --static)\n{reason}",
                        fixed.join(" ")
                    )
                }
                (_, Err(reason)) => format!("not here: {reason}"),
            },
        );
    }
    text.push_str(&format!(
        "\nThe linker is ${} if set, else ld.lld, else the Rust toolchain's rust-lld; with --libc \
         it is ${} if set,\nelse $CC_<triple>, else $CC, else the default above.\n",
        aot::link::ELF_LINKER_ENV,
        aot::link::LINKER_ENV
    ));
    text
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use aot::link::{ElfLinker, Linker};
    use aot::readiness::Readiness;

    fn lld() -> ElfLinker {
        ElfLinker {
            name: "ld.lld".into(),
            source: "PATH".into(),
            program: PathBuf::from("/usr/bin/ld.lld"),
            args: Vec::new(),
        }
    }

    fn linker(name: &str, source: &str) -> Linker {
        Linker {
            name: name.into(),
            source: source.into(),
            program: PathBuf::from(name),
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    fn foreign() -> aot::Target {
        aot::target::SUPPORTED
            .iter()
            .filter_map(|name| aot::Target::parse(name).ok())
            .find(|target| !target.is_host())
            .expect("two supported targets")
    }

    #[test]
    fn a_ready_cross_target_shows_its_linker_libc_and_runners() {
        let ready = Readiness {
            target: foreign(),
            runtime: Ok(()),
            libc_runtime: Ok(()),
            elf_linker: Ok(lld()),
            linker: Ok(linker("cross-gcc", "CC_x")),
            static_libc: Ok(PathBuf::from("/sysroot/libc.a")),
            dynamic_runner: Ok(vec!["qemu-x".into(), "-L".into(), "/usr/x".into()]),
            static_runner: Ok(vec!["qemu-x".into()]),
        };
        let report = targets_report(&[ready]);
        let lines: Vec<&str> = report.lines().collect();
        assert!(lines[0].starts_with(foreign().name), "{report}");
        assert!(lines[0].ends_with(" can build"), "{report}");
        assert_eq!(lines[1], "  runtime  built in (freestanding and --libc)");
        assert_eq!(lines[2], "  linker   ld.lld (/usr/bin/ld.lld, from PATH)");
        assert_eq!(lines[3], "  --libc   cross-gcc (from CC_x)");
        assert_eq!(lines[4], "  static   yes (--static links /sysroot/libc.a)");
        assert_eq!(lines[5], "  runs     `qemu-x` (--libc: `qemu-x -L /usr/x`)");
        assert!(report.contains("KEEL_LINKER"), "{report}");
        assert!(report.contains("KEEL_LD"), "{report}");
    }

    #[test]
    fn a_missing_runtime_or_linker_says_cannot_build_and_why() {
        let ready = Readiness {
            target: foreign(),
            runtime: Err("not built\nhelp: rustup target add".into()),
            libc_runtime: Err("not built".into()),
            elf_linker: Err("no lld".into()),
            linker: Err("no cross-gcc".into()),
            static_libc: Err("no cross-gcc".into()),
            dynamic_runner: Err("no sysroot".into()),
            static_runner: Ok(vec!["qemu-x".into()]),
        };
        let report = targets_report(&[ready]);
        let lines: Vec<&str> = report.lines().collect();
        assert!(lines[0].ends_with(" cannot build"), "{report}");
        assert_eq!(lines[1], "  runtime  missing: not built");
        assert_eq!(lines[2], "           help: rustup target add");
        assert_eq!(lines[3], "  linker   missing: no lld");
        assert_eq!(lines[4], "  --libc   no C compiler: no cross-gcc");
        assert_eq!(lines[5], "  static   no C compiler");
        assert_eq!(lines[6], "  runs     `qemu-x` (--libc only with --static)");
        assert_eq!(lines[7], "           no sysroot");
    }

    #[test]
    fn the_host_is_marked_and_runs_directly() {
        let host = Readiness::of(aot::Target::host().expect("supported host"));
        let report = targets_report(&[host]);
        assert!(report.contains("(host, the default)"), "{report}");
        assert!(report.contains("  runs     directly\n"), "{report}");
    }
}
