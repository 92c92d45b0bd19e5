//! Build script: compiles the Keel runtime into static libraries for every target it can, so the
//! `keel` binary can embed them and link native executables with no other files around.
//!
//! Each target gets two libraries, one per [`Flavor`]: the freestanding runtime (feature
//! `freestanding`: no C library, the default kind of executable) and the hosted one (linked with
//! glibc, `keel build --libc`). For the target `keel` is being built for both are required; for
//! each other supported Linux target they are optional (a `rustup target` that is not installed
//! is recorded, not a build failure). Each library is a nested `cargo rustc` of the `keel-runtime`
//! package (so its dependency, `libm`, comes from the workspace's lock file like everything else),
//! offline, in a target directory of its own under `OUT_DIR`, as a `staticlib` with `panic=abort`,
//! fat LTO and one codegen unit (LTO keeps only what the runtime's exported functions reach), then
//! stripped of debug information with the toolchain's `rust-objcopy` when it is there. It writes
//! `$OUT_DIR/runtime_libs.rs`, which `aot::runtime_lib` includes: the table of built libraries
//! (`include_bytes!`) and of those that could not be built, with why.
//!
//! What this script does not do: build anything of the compiler itself, or fail the build for a
//! missing cross target.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Targets `keel build --target` supports besides the one `keel` itself is built for.
const CROSS_TARGETS: &[&str] = &["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"];

/// The two builds of the runtime for a target.
#[derive(Clone, Copy)]
enum Flavor {
    Freestanding,
    Libc,
}

impl Flavor {
    const ALL: [Flavor; 2] = [Flavor::Freestanding, Flavor::Libc];

    /// The name `aot::runtime_lib` looks the library up by.
    fn name(self) -> &'static str {
        match self {
            Flavor::Freestanding => "freestanding",
            Flavor::Libc => "libc",
        }
    }
}

/// Environment variables of this build script's own run that must not reach the nested cargo
/// (they describe the `keel` package being built, or would redirect the nested build).
const NOT_INHERITED: &[&str] = &[
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET",
    "CARGO_BUILD_RUSTFLAGS",
    "OUT_DIR",
    "TARGET",
    "HOST",
    "PROFILE",
    "OPT_LEVEL",
    "DEBUG",
    "NUM_JOBS",
    "RUSTC_WORKSPACE_WRAPPER",
    "RUSTC_WRAPPER",
];

/// Prefixes of such variables.
const NOT_INHERITED_PREFIXES: &[&str] = &["CARGO_FEATURE_", "CARGO_CFG_", "CARGO_PKG_", "DEP_"];

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target = env::var("TARGET").expect("cargo sets TARGET");
    let host = env::var("HOST").expect("cargo sets HOST");
    let runtime_dir = manifest_dir.join("../runtime");
    let runtime_src = runtime_dir.join("src");

    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={}", runtime_src.display());
    println!(
        "cargo:rerun-if-changed={}",
        runtime_dir.join("Cargo.toml").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        manifest_dir.join("../Cargo.lock").display()
    );
    let sysroot = sysroot(Path::new(&rustc));
    if let Some(sysroot) = &sysroot {
        // rustup rewrites this file when a target is added, so a new cross runtime gets built.
        let components = sysroot.join("lib/rustlib/components");
        if components.exists() {
            println!("cargo:rerun-if-changed={}", components.display());
        }
    }
    let objcopy = sysroot
        .as_ref()
        .map(|root| {
            root.join("lib/rustlib")
                .join(&host)
                .join("bin/rust-objcopy")
        })
        .filter(|path| path.exists());

    // Where `aot::link` finds `rust-lld` when no other ELF linker is installed.
    if let Some(sysroot) = &sysroot {
        let lld = sysroot.join("lib/rustlib").join(&host).join("bin/rust-lld");
        println!("cargo:rustc-env=KEEL_TOOLCHAIN_LLD={}", lld.display());
    }

    let mut targets = vec![target.clone()];
    targets.extend(
        CROSS_TARGETS
            .iter()
            .map(|t| t.to_string())
            .filter(|t| *t != target),
    );
    let builds: Vec<(String, Flavor)> = targets
        .iter()
        .flat_map(|name| Flavor::ALL.map(|flavor| (name.clone(), flavor)))
        .collect();

    let manifest = runtime_dir.join("Cargo.toml");
    let results: Vec<(String, Flavor, Result<PathBuf, String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = builds
            .iter()
            .map(|(name, flavor)| {
                let dir = out_dir.join("runtime").join(flavor.name());
                let (cargo, manifest, objcopy) = (&cargo, &manifest, &objcopy);
                scope.spawn(move || {
                    build_runtime(
                        Path::new(cargo),
                        manifest,
                        name,
                        *flavor,
                        &dir,
                        objcopy.as_deref(),
                    )
                })
            })
            .collect();
        builds
            .iter()
            .zip(handles)
            .map(|((name, flavor), handle)| {
                let result = handle
                    .join()
                    .unwrap_or_else(|_| Err("the build thread panicked".to_string()));
                (name.clone(), *flavor, result)
            })
            .collect()
    });

    for (name, flavor, result) in &results {
        if let (true, Err(reason)) = (*name == target, result) {
            panic!(
                "cannot build the {} Keel runtime for {name}, the target keel is built for:\n{reason}",
                flavor.name()
            );
        }
    }
    fs::write(out_dir.join("runtime_libs.rs"), generate_table(&results))
        .expect("write runtime_libs.rs");
}

/// The toolchain's sysroot, if `rustc --print sysroot` answers.
fn sysroot(rustc: &Path) -> Option<PathBuf> {
    let output = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    Some(PathBuf::from(text.trim()))
}

/// Compiles the `flavor` runtime for `target` with `cargo` in the target directory `dir`,
/// returning the library's path or why it failed.
fn build_runtime(
    cargo: &Path,
    manifest: &Path,
    target: &str,
    flavor: Flavor,
    dir: &Path,
    objcopy: Option<&Path>,
) -> Result<PathBuf, String> {
    let mut command = Command::new(cargo);
    command
        .args(["rustc", "--release", "--offline", "--quiet", "--lib"])
        .args(["--crate-type", "staticlib"])
        .arg("--manifest-path")
        .arg(manifest)
        .args(["--target", target, "--target-dir"])
        .arg(dir);
    if let Flavor::Freestanding = flavor {
        command.args(["--features", "freestanding"]);
    }
    for (name, _) in env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        if NOT_INHERITED.contains(&name)
            || NOT_INHERITED_PREFIXES.iter().any(|p| name.starts_with(p))
        {
            command.env_remove(name);
        }
    }
    command
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "3")
        .env("CARGO_PROFILE_RELEASE_PANIC", "abort")
        .env("CARGO_PROFILE_RELEASE_LTO", "fat")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS", "false")
        .env("CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS", "false")
        .env("CARGO_TERM_COLOR", "never");
    let output = command
        .output()
        .map_err(|e| format!("cannot run {}: {e}", cargo.display()))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        if stderr.contains("E0463") || stderr.contains("target may not be installed") {
            return Err(format!(
                "the Rust standard library for {target} is not installed"
            ));
        }
        return Err(stderr.trim().to_string());
    }
    let built = dir.join(target).join("release");
    let library = built.join("libkeel_runtime.a");
    if let Some(objcopy) = objcopy {
        let stripped = built.join("libkeel_runtime.stripped.a");
        let status = Command::new(objcopy)
            .arg("--strip-debug")
            .arg(&library)
            .arg(&stripped)
            .status();
        if matches!(status, Ok(s) if s.success()) {
            return Ok(stripped);
        }
    }
    Ok(library)
}

/// The Rust source of `runtime_libs.rs`.
fn generate_table(results: &[(String, Flavor, Result<PathBuf, String>)]) -> String {
    let mut text = String::from(
        "// Generated by compiler/build.rs: the runtime libraries built into keel.\n\n",
    );
    text.push_str("/// Runtime static libraries by Rust target triple and flavor.\n");
    text.push_str("static BUILT: &[(&str, &str, &[u8])] = &[\n");
    for (name, flavor, result) in results {
        if let Ok(path) = result {
            let _ = writeln!(
                text,
                "    ({name:?}, {:?}, include_bytes!({:?})),",
                flavor.name(),
                path.display().to_string()
            );
        }
    }
    text.push_str(
        "];\n\n/// Supported targets whose runtime could not be built, with the reason.\n",
    );
    text.push_str("static MISSING: &[(&str, &str, &str)] = &[\n");
    for (name, flavor, result) in results {
        if let Err(reason) = result {
            let _ = writeln!(text, "    ({name:?}, {:?}, {reason:?}),", flavor.name());
        }
    }
    text.push_str("];\n");
    text
}
