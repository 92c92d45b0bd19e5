//! Linking: the program's object and the runtime library into an executable, with the target's
//! C compiler driver.
//!
//! The driver is found by the `cc` crate's rules, as in a build script but with target, host and
//! optimisation level given by hand (`CC_<triple>`, `CC`, then `cc` for the host or e.g.
//! `aarch64-linux-gnu-gcc` for a cross target). It links a PIE against the system C library only:
//! `-static-libgcc` (the unwinder the Rust standard library references comes from `libgcc_eh.a`,
//! not from `libgcc_s.so`), `--gc-sections` to drop unreferenced code, `-s` to drop symbols, and
//! the system libraries `rustc --print native-static-libs` lists for the runtime (`--as-needed`,
//! so on a current glibc they cost nothing).
//!
//! What this module does not do: pick the runtime library or produce the object.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;

use target_lexicon::Triple;

use super::target::Target;

/// Libraries a Rust `std` static library needs on Linux with glibc.
const SYSTEM_LIBS: &[&str] = &["-lutil", "-lrt", "-lpthread", "-lm", "-ldl", "-lc"];

/// Links `object` and `runtime` into the executable `output`.
pub fn link(target: &Target, object: &Path, runtime: &Path, output: &Path) -> Result<(), String> {
    let (mut command, driver) = linker_command(target)?;
    command
        .arg("-o")
        .arg(output)
        .arg(object)
        .arg(runtime)
        .args([
            "-static-libgcc",
            "-Wl,--gc-sections",
            "-s",
            "-Wl,--as-needed",
        ])
        .args(SYSTEM_LIBS);
    let result = command.output();
    let output_text = match result {
        Ok(out) if out.status.success() => return Ok(()),
        Ok(out) => out,
        Err(error) if error.kind() == ErrorKind::NotFound => {
            return Err(format!(
                "cannot link: the C compiler `{driver}` was not found\n{}",
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
    let mut message = format!("linking with `{driver}` failed ({})", output_text.status);
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

/// Where the C compiler driver for `target` is, or what to install (for `keel targets` and for
/// skipping tests that cannot link).
pub fn find_linker(target: &Target) -> Result<PathBuf, String> {
    let (_, driver) = linker_command(target)?;
    find_program(Path::new(&driver)).ok_or_else(|| {
        format!(
            "the C compiler `{driver}` was not found\n{}",
            install_hint(target)
        )
    })
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

/// The C compiler driver for `target` and its display name.
fn linker_command(target: &Target) -> Result<(Command, String), String> {
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
    let driver = tool.path().display().to_string();
    Ok((tool.to_command(), driver))
}

/// What to install (or set) to get a working linker for `target`.
fn install_hint(target: &Target) -> String {
    let env_name = format!("CC_{}", target.name.replace('-', "_"));
    if target.is_host() {
        format!(
            "help: keel links executables with the system C toolchain; install one (Debian/Ubuntu: \
             `apt-get install gcc libc6-dev`) or set {env_name} or CC to a C compiler"
        )
    } else {
        let packages = match target.name {
            "aarch64-unknown-linux-gnu" => "gcc-aarch64-linux-gnu libc6-dev-arm64-cross",
            _ => "gcc-x86-64-linux-gnu libc6-dev-amd64-cross",
        };
        format!(
            "help: cross-linking for {target} needs its C toolchain (Debian/Ubuntu: `apt-get install \
             {packages}`), or set {env_name} to a C compiler for {target}"
        )
    }
}
