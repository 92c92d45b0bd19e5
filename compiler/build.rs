//! Build script: compiles the Keel runtime into a static library for every target it can, so the
//! `keel` binary can embed them and link native executables with no other files around.
//!
//! For the target `keel` is being built for (required) and for each other supported Linux target
//! (optional: a `rustup target` that is not installed is recorded, not a build failure), it runs
//! `$RUSTC` directly on `runtime/src/lib.rs` (no nested cargo) as a `staticlib` with
//! `panic=abort`, fat LTO and one codegen unit (LTO keeps only what the runtime's exported
//! functions reach: a third of the size of a plain staticlib), then strips debug information with
//! the toolchain's `rust-objcopy` when it is there. It writes `$OUT_DIR/runtime_libs.rs`, which
//! `aot::runtime_lib` includes: the table of built libraries (`include_bytes!`) and of targets that
//! could not be built, with why.
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

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let target = env::var("TARGET").expect("cargo sets TARGET");
    let host = env::var("HOST").expect("cargo sets HOST");
    let runtime_src = manifest_dir.join("../runtime/src");
    let runtime_lib = runtime_src.join("lib.rs");

    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={}", runtime_src.display());
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

    let mut targets = vec![target.clone()];
    targets.extend(
        CROSS_TARGETS
            .iter()
            .map(|t| t.to_string())
            .filter(|t| *t != target),
    );

    let results: Vec<(String, Result<PathBuf, String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = targets
            .iter()
            .map(|name| {
                let dir = out_dir.join("runtime").join(name);
                let (rustc, runtime_lib, objcopy) = (&rustc, &runtime_lib, &objcopy);
                scope.spawn(move || {
                    build_runtime(
                        Path::new(rustc),
                        runtime_lib,
                        name,
                        &dir,
                        objcopy.as_deref(),
                    )
                })
            })
            .collect();
        targets
            .iter()
            .zip(handles)
            .map(|(name, handle)| {
                let result = handle
                    .join()
                    .unwrap_or_else(|_| Err("the build thread panicked".to_string()));
                (name.clone(), result)
            })
            .collect()
    });

    if let Some((name, Err(reason))) = results.first() {
        panic!("cannot build the Keel runtime for {name}, the target keel is built for:\n{reason}");
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

/// Compiles the runtime for `target` into `dir`, returning the library's path or why it failed.
fn build_runtime(
    rustc: &Path,
    lib_rs: &Path,
    target: &str,
    dir: &Path,
    objcopy: Option<&Path>,
) -> Result<PathBuf, String> {
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let output = Command::new(rustc)
        .arg(lib_rs)
        .args([
            "--crate-type",
            "staticlib",
            "--crate-name",
            "keel_runtime",
            "--edition",
            "2021",
        ])
        .args([
            "-C",
            "opt-level=3",
            "-C",
            "panic=abort",
            "-C",
            "lto=fat",
            "-C",
            "codegen-units=1",
        ])
        .args(["--target", target, "--cap-lints", "allow", "--out-dir"])
        .arg(dir)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", rustc.display()))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        if stderr.contains("E0463") || stderr.contains("target may not be installed") {
            return Err(format!(
                "the Rust standard library for {target} is not installed"
            ));
        }
        return Err(stderr.trim().to_string());
    }
    let library = dir.join("libkeel_runtime.a");
    if let Some(objcopy) = objcopy {
        let stripped = dir.join("libkeel_runtime.stripped.a");
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
fn generate_table(results: &[(String, Result<PathBuf, String>)]) -> String {
    let mut text = String::from(
        "// Generated by compiler/build.rs: the runtime libraries built into keel.\n\n",
    );
    text.push_str("/// Runtime static libraries by Rust target triple.\n");
    text.push_str("static BUILT: &[(&str, &[u8])] = &[\n");
    for (name, result) in results {
        if let Ok(path) = result {
            let _ = writeln!(
                text,
                "    ({name:?}, include_bytes!({:?})),",
                path.display().to_string()
            );
        }
    }
    text.push_str(
        "];\n\n/// Supported targets whose runtime could not be built, with the reason.\n",
    );
    text.push_str("static MISSING: &[(&str, &str)] = &[\n");
    for (name, result) in results {
        if let Err(reason) = result {
            let _ = writeln!(text, "    ({name:?}, {reason:?}),");
        }
    }
    text.push_str("];\n");
    text
}
