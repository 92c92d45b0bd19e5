//! The ahead-of-time backend (`keel build FILE -o OUT`): the IR as a native executable.
//!
//! [`build`] resolves the target ([`target`]), compiles the program with the shared Cranelift
//! lowering into an object file that also defines C `main` ([`object`]), writes it and the
//! target's runtime static library for the link mode (built into `keel` by `build.rs`, see
//! [`runtime_lib`]) to a temporary directory, and links them ([`link`]): by default with an ELF
//! linker into a static executable that needs nothing at all ([`LinkMode::Freestanding`]); with
//! `--libc`, with the target's C compiler driver against glibc, shared or inside
//! ([`LinkMode::Static`]). [`readiness`] says what this machine can build and run for each
//! target (`keel targets`).
//!
//! What this module does not do: run the executable, or run foreign-architecture executables
//! under an emulator (the test harness does).

pub mod debuginfo;
pub mod link;
pub mod object;
pub mod readiness;
pub mod runtime_lib;
pub mod target;

use std::fs;
use std::path::{Path, PathBuf};

use crate::ir::Program;

pub use link::LinkMode;
pub use object::emit_object;
pub use target::Target;

/// What `keel build` was asked to produce.
pub struct BuildOptions {
    /// Where the executable goes.
    pub output: PathBuf,
    /// Target triple; `None` means the host.
    pub target: Option<String>,
    /// How the C library comes in.
    pub link_mode: LinkMode,
    /// Whether the executable has DWARF debug information and its symbols (`keel build -g`, see
    /// [`debuginfo`]); its code is the same either way.
    pub debug_info: bool,
}

/// Compiles `program` to a native executable.
pub fn build(program: &Program, options: &BuildOptions) -> Result<(), String> {
    let target = Target::resolve(options.target.as_deref())?;
    let runtime = runtime_lib::for_target(&target, options.link_mode)?;
    check_output_directory(&options.output)?;
    let object = if options.debug_info {
        let comp_dir = std::env::current_dir()
            .map_err(|e| format!("cannot find the current directory: {e}"))?;
        object::emit_debug_object(program, &target, &comp_dir)
    } else {
        emit_object(program, &target)
    }
    .map_err(|e| e.to_string())?;

    let dir = tempfile::Builder::new()
        .prefix("keel-build-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let object_path = dir.path().join("program.o");
    let runtime_path = dir.path().join("libkeel_runtime.a");
    fs::write(&object_path, object)
        .map_err(|e| format!("cannot write {}: {e}", object_path.display()))?;
    fs::write(&runtime_path, runtime)
        .map_err(|e| format!("cannot write {}: {e}", runtime_path.display()))?;
    // Linked beside the destination (in a directory of its own, so the linker creates the file
    // with the usual permissions), then renamed over it: a failed link leaves an existing file
    // as it was, and nobody sees a half-written executable.
    let cannot_write = |e: std::io::Error| {
        format!(
            "cannot write the executable `{}`: {e}",
            options.output.display()
        )
    };
    let staging = tempfile::Builder::new()
        .prefix(".keel-link-")
        .tempdir_in(output_directory(&options.output))
        .map_err(cannot_write)?;
    let linked = staging.path().join("executable");
    crate::timing::time("link", || {
        link::link(
            &target,
            options.link_mode,
            options.debug_info,
            &object_path,
            &runtime_path,
            &linked,
        )
    })?;
    fs::rename(&linked, &options.output).map_err(cannot_write)
}

/// The directory `output` goes into.
fn output_directory(output: &Path) -> &Path {
    match output.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Fails early, with a plain message, when the executable's directory does not exist (the
/// linker would say so in its own words, after all the work).
fn check_output_directory(output: &Path) -> Result<(), String> {
    let directory = output_directory(output);
    if directory.is_dir() {
        Ok(())
    } else {
        Err(format!(
            "cannot write the executable `{}`: the directory `{}` does not exist",
            output.display(),
            directory.display()
        ))
    }
}

/// The command that runs executable `exe`: itself, or under `runner` (an emulator and its
/// arguments) when that is not empty. For tests that build executables.
#[cfg(test)]
pub(crate) fn executable_command(
    exe: &std::path::Path,
    runner: &[String],
) -> std::process::Command {
    match runner.split_first() {
        Some((emulator, args)) => {
            let mut command = std::process::Command::new(emulator);
            command.args(args).arg(exe);
            command
        }
        None => std::process::Command::new(exe),
    }
}

#[cfg(test)]
mod tests {
    //! What building executables does beyond running programs (which `tests/ir/*.kir` and
    //! `tests/programs` test on every backend): the ELF files for each target and link mode,
    //! static executables behaving like dynamic ones, and the errors of `build`.
    use std::process::Output;
    use std::sync::OnceLock;

    use super::*;

    /// `print("before"); let x = 9223372036854775807; println(x + 1);` (sites in `t.kir`).
    fn overflow_program() -> Program {
        crate::ir::testing::main_program(
            &["before"],
            "%0: int",
            "println.string str#0
             %0 = 9223372036854775807
             %0 = add.int %0, 1 @2:9
             println.int %0
             return",
        )
    }

    /// The foreign targets whose executables linked with `mode` can be built and run here, with
    /// their runners.
    fn cross_targets(mode: LinkMode) -> Vec<(Target, Vec<String>)> {
        static READINESS: OnceLock<Vec<readiness::Readiness>> = OnceLock::new();
        READINESS
            .get_or_init(readiness::all)
            .iter()
            .filter(|ready| !ready.target.is_host())
            .filter_map(|ready| {
                let runner = ready.build_and_run(mode).ok()?;
                Some((ready.target.clone(), runner.to_vec()))
            })
            .collect()
    }

    fn build_and_run_on(
        program: &Program,
        target: &Target,
        mode: LinkMode,
        runner: &[String],
    ) -> Output {
        let (_dir, exe) = build_in_temp_dir(program, target, mode);
        executable_command(&exe, runner)
            .output()
            .unwrap_or_else(|e| panic!("running the {target} executable failed: {e}"))
    }

    /// Builds `program` into a new temporary directory, which the caller keeps alive.
    fn build_in_temp_dir(
        program: &Program,
        target: &Target,
        mode: LinkMode,
    ) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let exe = dir.path().join("program");
        let options = BuildOptions {
            output: exe.clone(),
            target: Some(target.name.to_string()),
            link_mode: mode,
            debug_info: false,
        };
        build(program, &options)
            .unwrap_or_else(|e| panic!("{mode:?} build for {target} failed: {e}"));
        (dir, exe)
    }

    /// The ELF header's machine field and whether the program headers ask for an interpreter
    /// (the dynamic loader), read from a 64-bit little-endian executable.
    fn elf_machine_and_interpreter(exe: &Path) -> (u16, bool) {
        let bytes = fs::read(exe).expect("read executable");
        assert!(
            bytes.starts_with(b"\x7fELF\x02\x01"),
            "64-bit little-endian ELF"
        );
        let u16_at = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]);
        let u32_at = |at: usize| {
            u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let u64_at = |at: usize| {
            let mut word = [0; 8];
            word.copy_from_slice(&bytes[at..at + 8]);
            u64::from_le_bytes(word)
        };
        const PT_INTERP: u32 = 3;
        let (table, entry_size, count) = (u64_at(0x20) as usize, u16_at(0x36), u16_at(0x38));
        let has_interpreter = (0..usize::from(count)).any(|index| {
            let at = table + index * usize::from(entry_size);
            u32_at(at) == PT_INTERP
        });
        (u16_at(0x12), has_interpreter)
    }

    /// The ELF machine number of a target's executables.
    fn elf_machine(target: &Target) -> u16 {
        match target.arch() {
            "x86_64" => 62,
            "aarch64" => 183,
            other => panic!("no ELF machine number for {other}"),
        }
    }

    #[test]
    fn executables_are_for_their_target_and_static_ones_have_no_loader() {
        let host = Target::host().expect("tests run on a supported host");
        let mut builds = vec![
            (host.clone(), LinkMode::Freestanding),
            (host.clone(), LinkMode::Dynamic),
        ];
        if readiness::Readiness::of(host.clone())
            .build_and_run(LinkMode::Static)
            .is_ok()
        {
            builds.push((host, LinkMode::Static));
        }
        for mode in [LinkMode::Freestanding, LinkMode::Dynamic, LinkMode::Static] {
            builds.extend(cross_targets(mode).into_iter().map(|(t, _)| (t, mode)));
        }
        for (target, mode) in builds {
            let (_dir, exe) = build_in_temp_dir(&overflow_program(), &target, mode);
            let (machine, has_interpreter) = elf_machine_and_interpreter(&exe);
            assert_eq!(machine, elf_machine(&target), "{target} {mode:?}");
            assert_eq!(
                has_interpreter,
                mode == LinkMode::Dynamic,
                "{target} {mode:?}"
            );
        }
    }

    #[test]
    fn static_executables_behave_like_dynamic_ones() {
        let program = overflow_program();
        let host = Target::host().expect("tests run on a supported host");
        let expected = build_and_run_on(&program, &host, LinkMode::Dynamic, &[]);
        let mut runs = cross_targets(LinkMode::Static);
        if readiness::Readiness::of(host.clone())
            .build_and_run(LinkMode::Static)
            .is_ok()
        {
            runs.push((host, Vec::new()));
        }
        for (target, runner) in runs {
            let output = build_and_run_on(&program, &target, LinkMode::Static, &runner);
            assert_eq!(output.stdout, expected.stdout, "stdout on {target}");
            assert_eq!(output.stderr, expected.stderr, "stderr on {target}");
            assert_eq!(output.status.code(), Some(1), "status on {target}");
        }
    }

    #[test]
    fn unknown_target_is_a_clear_error() {
        let options = BuildOptions {
            output: PathBuf::from("/nonexistent/x"),
            target: Some("mips-unknown-linux-gnu".into()),
            link_mode: LinkMode::Dynamic,
            debug_info: false,
        };
        let error = build(&overflow_program(), &options).expect_err("unsupported target");
        assert!(error.contains("not supported"), "{error}");
    }

    #[test]
    fn missing_output_directory_is_a_clear_error() {
        let options = BuildOptions {
            output: PathBuf::from("/nonexistent-dir/for/sure/x"),
            target: None,
            link_mode: LinkMode::Static,
            debug_info: false,
        };
        let error = build(&overflow_program(), &options).expect_err("cannot write output");
        assert_eq!(
            error,
            "cannot write the executable `/nonexistent-dir/for/sure/x`: the directory \
             `/nonexistent-dir/for/sure` does not exist"
        );
    }

    #[test]
    fn bare_file_names_go_to_the_current_directory() {
        assert_eq!(check_output_directory(Path::new("program")), Ok(()));
    }
}
