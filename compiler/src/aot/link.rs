//! Linking: the program's object and the runtime library into an executable.
//!
//! **Freestanding executables** (the default, [`LinkMode::Freestanding`]) are linked by an ELF
//! linker that serves every target from one install, with no C library: static, entered at the
//! runtime's `keel_start`, unreferenced sections dropped, symbols stripped (kept with `-g`).
//! The linker ([`find_elf_linker`]) is `KEEL_LD` when that is set (a command taking GNU ld's
//! options, its words separated by spaces), else `ld.lld` on `PATH` (Debian's `lld`), else the
//! `rust-lld` of the Rust toolchain that built this `keel` (invoked as `rust-lld -flavor gnu`).
//!
//! **Executables with glibc** (`--libc`: [`LinkMode::Dynamic`], [`LinkMode::Static`]) are linked
//! with the target's C compiler driver. The driver ([`find_linker`]) is `KEEL_LINKER` when that is set: a command, its words separated
//! by spaces (`KEEL_LINKER='clang --target=aarch64-linux-gnu'`), used for whatever target is being
//! built. Otherwise the `cc` crate's rules decide, as in a build script but with target, host and
//! optimisation level given by hand: `CC_<triple>` (either spelling, `CC_aarch64-unknown-linux-gnu`
//! or `CC_aarch64_unknown_linux_gnu`), `TARGET_CC` (cross) or `HOST_CC` (native), `CC`, then `cc`
//! for the host or the Debian cross compiler (`aarch64-linux-gnu-gcc`, `x86_64-linux-gnu-gcc`).
//!
//! Every executable is position independent and needs no Rust: `-static-libgcc` (the unwinder the
//! Rust standard library references comes from `libgcc_eh.a`, not from `libgcc_s.so`),
//! `--gc-sections` to drop unreferenced code, `-s` to drop symbols (kept, with the debug sections,
//! for an executable with debug information: `keel build -g`), and the system libraries
//! `rustc --print native-static-libs` lists for the runtime (`--as-needed`, so on a current glibc
//! they cost nothing). [`LinkMode`] says how the C library (glibc) comes in: loaded at start from
//! the machine the program runs on (the default), or copied into the executable (`-static-pie`,
//! from glibc's `libc.a`: `libc6-dev` on the host, `libc6-dev-arm64-cross` for aarch64 on x86_64).
//!
//! What this module does not do: pick the runtime library or produce the object.

use std::ffi::{OsStr, OsString};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;

use target_lexicon::Triple;

use super::target::Target;

/// The environment variable that overrides the C compiler driver for every target.
pub const LINKER_ENV: &str = "KEEL_LINKER";

/// The environment variable that overrides the ELF linker of freestanding executables.
pub const ELF_LINKER_ENV: &str = "KEEL_LD";

/// The `rust-lld` of the toolchain that built this `keel` (`compiler/build.rs` records it).
const TOOLCHAIN_LLD: Option<&str> = option_env!("KEEL_TOOLCHAIN_LLD");

/// Libraries a Rust `std` static library needs on Linux with glibc.
const SYSTEM_LIBS: &[&str] = &["-lutil", "-lrt", "-lpthread", "-lm", "-ldl", "-lc"];

/// What the executable is linked with.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum LinkMode {
    /// A static executable without a C library, on Keel's freestanding runtime: runs on any
    /// Linux kernel of its architecture, and needs only an ELF linker to build, for any target.
    #[default]
    Freestanding,
    /// A PIE that loads the shared glibc of the machine it runs on: small, but needs a glibc at
    /// least as new as the one it was linked against (and, under qemu, the target's libraries).
    Dynamic,
    /// A static PIE with glibc inside: runs on any Linux kernel of its architecture, with no
    /// files around it; 0.5-0.7 MB larger. glibc's name-service functions (`getaddrinfo`,
    /// `getpwnam`, ...) would still want shared libraries at run time; Keel's runtime calls none.
    Static,
}

/// The C compiler driver that links for a target, and where that choice came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Linker {
    /// How the user knows it: the value of the variable it came from, or the default's name.
    pub name: String,
    /// Where the choice came from: `KEEL_LINKER`, `CC_<triple>`, ..., or `default`.
    pub source: String,
    /// The program to run: a path, or a bare name looked up in `PATH`.
    pub program: PathBuf,
    /// Arguments that come before keel's own: from `KEEL_LINKER` or `CC`, and the `cc` crate's
    /// defaults for the target (compile flags, inert when linking, and `--target` for clang).
    pub args: Vec<OsString>,
    /// Environment variables the `cc` crate asks to set.
    pub env: Vec<(OsString, OsString)>,
}

impl Linker {
    /// Where the program is, if it can be found.
    pub fn resolved_path(&self) -> Option<PathBuf> {
        find_program(&self.program)
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args);
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }
}

/// The ELF linker of freestanding executables, and where that choice came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElfLinker {
    /// How the user knows it: `KEEL_LD`'s value, `ld.lld`, or `rust-lld`.
    pub name: String,
    /// Where the choice came from: `KEEL_LD`, `PATH`, or `the Rust toolchain`.
    pub source: String,
    /// The program to run.
    pub program: PathBuf,
    /// Arguments that come before keel's own.
    pub args: Vec<OsString>,
}

/// The ELF linker for freestanding executables (see the module doc), checked to exist, or what
/// to install.
pub fn find_elf_linker() -> Result<ElfLinker, String> {
    if let Some(value) = std::env::var_os(ELF_LINKER_ENV) {
        let linker = linker_from_override(&value).ok_or_else(|| {
            format!("{ELF_LINKER_ENV} is set but empty; unset it or name an ELF linker")
        })?;
        let linker = ElfLinker {
            name: linker.name,
            source: ELF_LINKER_ENV.to_string(),
            program: linker.program,
            args: linker.args,
        };
        return match find_program(&linker.program) {
            Some(_) => Ok(linker),
            None => Err(format!(
                "the linker `{}` (from {ELF_LINKER_ENV}) was not found",
                linker.name
            )),
        };
    }
    if let Some(path) = find_program(Path::new("ld.lld")) {
        return Ok(ElfLinker {
            name: "ld.lld".to_string(),
            source: "PATH".to_string(),
            program: path,
            args: Vec::new(),
        });
    }
    if let Some(path) = TOOLCHAIN_LLD.map(PathBuf::from).filter(|p| p.is_file()) {
        return Ok(ElfLinker {
            name: "rust-lld".to_string(),
            source: "the Rust toolchain".to_string(),
            program: path,
            args: vec!["-flavor".into(), "gnu".into()],
        });
    }
    Err(format!(
        "no ELF linker found for freestanding executables\n\
         help: install lld (Debian/Ubuntu: `apt-get install lld`), set {ELF_LINKER_ENV} to an \
         ELF linker, or build with --libc to link with the C compiler"
    ))
}

/// Links `object` and `runtime` into the executable `output`; with `debug_info`, keeps its
/// symbols and debug sections.
pub fn link(
    target: &Target,
    mode: LinkMode,
    debug_info: bool,
    object: &Path,
    runtime: &Path,
    output: &Path,
) -> Result<(), String> {
    if mode == LinkMode::Freestanding {
        return link_freestanding(debug_info, object, runtime, output);
    }
    let linker = choose_linker(target)?;
    let mut command = linker.command();
    command
        .arg("-o")
        .arg(output)
        .arg(object)
        .arg(runtime)
        .args(["-static-libgcc", "-Wl,--gc-sections"]);
    if !debug_info {
        command.arg("-s");
    }
    command.arg("-Wl,--as-needed");
    if mode == LinkMode::Static {
        command.arg("-static-pie");
    }
    command.args(SYSTEM_LIBS);
    let driver = &linker.name;
    let output_text = match command.output() {
        Ok(out) if out.status.success() => return Ok(()),
        Ok(out) => out,
        Err(error) if error.kind() == ErrorKind::NotFound => {
            return Err(format!(
                "cannot link: the C compiler `{driver}` (from {}) was not found\n{}",
                linker.source,
                install_hint(target)
            ))
        }
        Err(error) => {
            return Err(format!(
                "cannot link: running the C compiler `{driver}` failed: {error}"
            ))
        }
    };
    let stderr = String::from_utf8_lossy(&output_text.stderr);
    let stdout = String::from_utf8_lossy(&output_text.stdout);
    let mut message = format!(
        "linking with `{driver}` (from {}) failed ({})",
        linker.source, output_text.status
    );
    for text in [stderr.trim(), stdout.trim()] {
        if !text.is_empty() {
            message.push('\n');
            message.push_str(text);
        }
    }
    if stderr.contains("cannot find -l") || stderr.contains("crt1.o") {
        message.push('\n');
        message.push_str(&install_hint(target));
    }
    Err(message)
}

/// A linker script added to the default layout of a freestanding executable without debug
/// information: drops the call-frame tables (nothing unwinds: the runtime is built with
/// `panic=abort`, and compiled Keel code never unwinds) and the compilers' comments. A third of
/// a small program's file. With `-g` they stay, for debuggers and profilers.
const DISCARD_SCRIPT: &str = "SECTIONS {\n  /DISCARD/ : { *(.eh_frame) *(.eh_frame_hdr) \
                              *(.gcc_except_table .gcc_except_table.*) *(.comment) }\n} \
                              INSERT AFTER .text;\n";

/// Links a freestanding executable (see the module doc).
fn link_freestanding(
    debug_info: bool,
    object: &Path,
    runtime: &Path,
    output: &Path,
) -> Result<(), String> {
    let linker = find_elf_linker().map_err(|reason| format!("cannot link: {reason}"))?;
    let mut command = Command::new(&linker.program);
    command
        .args(&linker.args)
        .args(["-static", "-e", "keel_start", "--gc-sections"])
        .args(["-z", "noexecstack", "-z", "norelro"])
        .arg("-o")
        .arg(output)
        .arg(object)
        .arg(runtime);
    if !debug_info {
        let script = object.with_file_name("discard.ld");
        std::fs::write(&script, DISCARD_SCRIPT)
            .map_err(|e| format!("cannot write {}: {e}", script.display()))?;
        command.arg("-s").arg("-T").arg(&script);
    }
    let name = &linker.name;
    let output_text = command
        .output()
        .map_err(|error| format!("cannot link: running `{name}` failed: {error}"))?;
    if output_text.status.success() {
        return Ok(());
    }
    let mut message = format!(
        "linking with `{name}` (from {}) failed ({})",
        linker.source, output_text.status
    );
    for text in [&output_text.stderr, &output_text.stdout] {
        let text = String::from_utf8_lossy(text);
        if !text.trim().is_empty() {
            message.push('\n');
            message.push_str(text.trim());
        }
    }
    Err(message)
}

/// The C compiler driver for `target`, checked to exist (for `keel targets` and for skipping
/// tests that cannot link), or what to install.
pub fn find_linker(target: &Target) -> Result<Linker, String> {
    let linker = choose_linker(target)?;
    if linker.resolved_path().is_none() {
        return Err(format!(
            "the C compiler `{}` (from {}) was not found\n{}",
            linker.name,
            linker.source,
            install_hint(target)
        ));
    }
    Ok(linker)
}

/// Where `target`'s static C library (`libc.a`, for [`LinkMode::Static`]) is, as its C
/// compiler driver sees it, or what to install.
pub fn find_static_libc(target: &Target) -> Result<PathBuf, String> {
    let linker = find_linker(target)?;
    let missing = || {
        format!(
            "`{}` finds no static C library (libc.a) for {target}\n{}",
            linker.name,
            install_hint(target)
        )
    };
    let output = linker
        .command()
        .arg("-print-file-name=libc.a")
        .output()
        .map_err(|_| missing())?;
    let answer = String::from_utf8_lossy(&output.stdout).trim().to_string();
    // The driver echoes the bare name back when it does not find the file.
    let path = PathBuf::from(answer);
    if output.status.success() && path.is_absolute() && path.is_file() {
        Ok(path.canonicalize().unwrap_or(path))
    } else {
        Err(missing())
    }
}

/// Resolves `program` as the shell would: a path with a directory as is, a bare name through
/// `PATH`.
pub fn find_program(program: &Path) -> Option<PathBuf> {
    if program.components().count() > 1 {
        return program.is_file().then(|| program.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// The C compiler driver for `target`, without checking that it exists.
fn choose_linker(target: &Target) -> Result<Linker, String> {
    if let Some(value) = std::env::var_os(LINKER_ENV) {
        return linker_from_override(&value).ok_or_else(|| {
            format!("{LINKER_ENV} is set but empty; unset it or name a C compiler driver")
        });
    }
    let host = Triple::host().to_string();
    let tool = cc::Build::new()
        .target(target.name)
        .host(&host)
        .opt_level(0)
        .debug(false)
        .cargo_metadata(false)
        .cargo_warnings(false)
        .emit_rerun_if_env_changed(false)
        .try_get_compiler()
        .map_err(|e| {
            format!(
                "cannot find a C compiler to link for {target}: {e}\n{}",
                install_hint(target)
            )
        })?;
    let source = cc_source(target);
    let name = match std::env::var_os(&source) {
        Some(value) => value.to_string_lossy().trim().to_string(),
        None => tool.path().display().to_string(),
    };
    Ok(Linker {
        name,
        source,
        program: tool.path().to_path_buf(),
        args: tool.args().to_vec(),
        env: tool
            .get_envs()
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect(),
    })
}

/// `KEEL_LINKER`'s value as a linker: the first word is the program, the rest its arguments.
fn linker_from_override(value: &OsStr) -> Option<Linker> {
    let text = value.to_string_lossy();
    let mut words = text.split_whitespace();
    let program = PathBuf::from(words.next()?);
    Some(Linker {
        name: text.trim().to_string(),
        source: LINKER_ENV.to_string(),
        program,
        args: words.map(OsString::from).collect(),
        env: Vec::new(),
    })
}

/// Which environment variable the `cc` crate takes the driver from for `target`, in its order.
fn cc_source(target: &Target) -> String {
    let kind = if target.is_host() { "HOST" } else { "TARGET" };
    [
        format!("CC_{}", target.name),
        format!("CC_{}", target.name.replace('-', "_")),
        format!("{kind}_CC"),
        "CC".to_string(),
    ]
    .into_iter()
    .find(|name| std::env::var_os(name).is_some_and(|value| !value.is_empty()))
    .unwrap_or_else(|| "default".to_string())
}

/// What to install (or set) to get a working linker for `target`.
fn install_hint(target: &Target) -> String {
    let env_name = format!("CC_{}", target.name.replace('-', "_"));
    if target.is_host() {
        format!(
            "help: keel links executables with the system C toolchain; install one (Debian/Ubuntu: \
             `apt-get install gcc libc6-dev`) or set {LINKER_ENV}, {env_name} or CC to a C compiler"
        )
    } else {
        format!(
            "help: cross-linking for {target} needs its C toolchain (Debian/Ubuntu: \
             `apt-get install {}`), or set {LINKER_ENV} or {env_name} to a C compiler for {target}",
            target.cross_packages()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_splits_program_from_arguments() {
        let linker = linker_from_override(OsStr::new(
            "  clang  --target=aarch64-linux-gnu -fuse-ld=lld ",
        ))
        .expect("non-empty");
        assert_eq!(linker.program, PathBuf::from("clang"));
        assert_eq!(
            linker.args,
            vec![
                OsString::from("--target=aarch64-linux-gnu"),
                OsString::from("-fuse-ld=lld")
            ]
        );
        assert_eq!(linker.source, LINKER_ENV);
        assert_eq!(
            linker.name,
            "clang  --target=aarch64-linux-gnu -fuse-ld=lld"
        );
    }

    #[test]
    fn empty_override_is_rejected() {
        assert_eq!(linker_from_override(OsStr::new("   ")), None);
    }

    #[test]
    fn bare_names_are_found_through_path_and_paths_as_they_are() {
        assert_eq!(find_program(Path::new("/nonexistent/cc")), None);
        assert_eq!(find_program(Path::new("surely-no-such-program-keel")), None);
        assert_eq!(
            find_program(Path::new("/bin/sh")),
            Some(PathBuf::from("/bin/sh"))
        );
    }

    #[test]
    fn hints_name_the_packages_and_the_overrides() {
        for name in super::super::target::SUPPORTED {
            let target = Target::parse(name).expect("supported");
            let hint = install_hint(&target);
            assert!(hint.contains("apt-get install"), "{hint}");
            assert!(hint.contains(LINKER_ENV), "{hint}");
            if !target.is_host() {
                assert!(hint.contains(target.cross_packages()), "{hint}");
            }
        }
    }
}
