//! `keel build -g`: executables with debug information, checked from the outside.
//!
//! The program is `tests/debuginfo/prog.kl` (which imports `shapes.kl`).
//! - `gdb/breaks_and_backtraces` (x86_64 hosts): gdb, in batch mode, stops at a line of
//!   `prog.kl` and at one of the imported file (in a function the code generator inlines), and
//!   its backtraces name the Keel functions with their `file:line`, frame by frame, down to the
//!   program's top level.
//! - `same_behaviour::native`, `::cross`: the executable built with `-g` prints, fails and exits
//!   as the one built without (for the other architecture: under its emulator).
//!
//! That the code itself is the same with `-g` is checked for every program of the suite by
//! `programs.rs` (`::ir`). A check that cannot run here (no gdb, no native toolchain, no cross
//! tools, another architecture) is reported as skipped with the reason, as `programs.rs` does;
//! with `CI` set it runs and fails instead, except where the architecture rules it out.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use libtest_mimic::{Arguments, Failed, Trial};
use support::{every_backend_required, keel, run_command, Backend, Launch, Machine};

/// Where the program under test is.
fn program_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/debuginfo")
}

fn main() {
    let args = Arguments::from_args();
    let machine = Machine::survey();
    let required = every_backend_required();
    let mut trials = Vec::new();
    for backend in [Backend::Native, Backend::Cross] {
        let for_trial = machine.clone();
        let trial = Trial::test(format!("same_behaviour::{}", backend.name()), move || {
            same_behaviour(&for_trial, backend)
        });
        trials.push(match machine.unavailable(backend) {
            Some(unavailable) if !required => trial
                .with_ignored_flag(true)
                .with_kind(format!("skipped: {}", unavailable.summary)),
            _ => trial,
        });
    }
    let for_trial = machine.clone();
    let trial = Trial::test("gdb/breaks_and_backtraces", move || {
        breaks_and_backtraces(&for_trial)
    });
    let skip = if std::env::consts::ARCH != "x86_64" {
        Some("the gdb test runs on x86_64 hosts".to_string())
    } else if required {
        None
    } else if let Some(unavailable) = machine.unavailable(Backend::Native) {
        Some(unavailable.summary.clone())
    } else if !gdb_runs() {
        Some("gdb is not installed".to_string())
    } else {
        None
    };
    trials.push(match skip {
        Some(reason) => trial
            .with_ignored_flag(true)
            .with_kind(format!("skipped: {reason}")),
        None => trial,
    });
    libtest_mimic::run(&args, trials).exit();
}

/// Whether `gdb` can be started.
fn gdb_runs() -> bool {
    Command::new("gdb")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success())
}

/// The program built with and without `-g` for `backend` behaves the same.
fn same_behaviour(machine: &Machine, backend: Backend) -> Result<(), Failed> {
    let program = program_dir().join("prog.kl");
    let run = |flags: &[String]| -> Result<support::Outcome, Failed> {
        match Launch::prepare(machine, backend, &program, flags, &[] as &[&str])? {
            Ok(launch) => Ok(run_command(launch.command, &[])?),
            Err(failed) => Err(format!("the build failed: {failed:?}").into()),
        }
    };
    let plain = run(&[])?;
    let debug = run(&["-g".to_string()])?;
    if plain != debug {
        return Err(format!("without -g: {plain:?}\n   with -g: {debug:?}").into());
    }
    // The program faults at its end, after printing what its calls computed.
    let expected = "12\n14\n";
    if plain.stdout != expected || plain.status != 1 || !plain.stderr.contains("prog.kl:21:13") {
        return Err(format!("unexpected behaviour: {plain:?}").into());
    }
    Ok(())
}

/// gdb stops at `prog.kl:8` and at `shapes.kl:2`, and shows the Keel frames of both stops.
fn breaks_and_backtraces(machine: &Machine) -> Result<(), Failed> {
    machine.require(Backend::Native)?;
    let dir = tempfile::tempdir()?;
    let exe = dir.path().join("prog");
    let mut build = keel();
    build
        .args(["build", "-g", "prog.kl", "-o"])
        .arg(&exe)
        .current_dir(program_dir());
    let built = run_command(build, &[])?;
    if built.status != 0 {
        return Err(format!("keel build -g failed: {built:?}").into());
    }
    let mut gdb = Command::new("gdb");
    gdb.args(["-nx", "-batch", "-iex", "set debuginfod enabled off"])
        .args(["-ex", "break prog.kl:8", "-ex", "break shapes.kl:2"])
        .args(["-ex", "run", "-ex", "bt", "-ex", "continue", "-ex", "bt"])
        .arg(&exe);
    let out = run_command(gdb, &[])?;
    let text = format!("{}{}", out.stdout, out.stderr);
    if text.contains("ptrace: Operation not permitted") {
        return Err(format!("gdb may not trace processes here:\n{text}").into());
    }
    // "Breakpoint 1, countdown () at prog.kl:8" and the backtrace after it.
    let stops: Vec<&str> = (text.split("\nBreakpoint ").skip(1))
        .filter(|stop| {
            stop.split_once(", ")
                .is_some_and(|(number, _)| number.chars().all(|c| c.is_ascii_digit()))
        })
        .collect();
    let expected: [&[(&str, &str)]; 2] = [
        &[
            ("countdown", "prog.kl:8"),
            ("countdown", "prog.kl:10"),
            ("countdown", "prog.kl:10"),
            ("report", "prog.kl:15"),
            ("<main>", "prog.kl:19"),
        ],
        &[
            ("area", "shapes.kl:2"),
            ("countdown", "prog.kl:8"),
            ("countdown", "prog.kl:10"),
            ("countdown", "prog.kl:10"),
            ("report", "prog.kl:15"),
            ("<main>", "prog.kl:19"),
        ],
    ];
    if stops.len() != expected.len() {
        return Err(format!(
            "expected {} stops at breakpoints, gdb said:\n{text}",
            expected.len()
        )
        .into());
    }
    for (stop, frames) in stops.iter().zip(expected) {
        let (name, place) = frames[0];
        let first = stop.lines().next().unwrap_or_default();
        if !first.ends_with(&format!("{name} () at {place}")) {
            return Err(format!("expected a stop in {name} at {place}, gdb said:\n{text}").into());
        }
        let shown: Vec<String> = (stop.lines())
            .filter(|line| line.starts_with('#'))
            .map(|line| match line.split_once(" in ") {
                Some((_, frame)) => frame.to_string(),
                None => line
                    .split_whitespace()
                    .skip(1)
                    .collect::<Vec<_>>()
                    .join(" "),
            })
            .take(frames.len())
            .collect();
        let wanted: Vec<String> = (frames.iter())
            .map(|(name, place)| format!("{name} () at {place}"))
            .collect();
        if shown != wanted {
            return Err(format!(
                "expected the backtrace to begin with\n{}\ngdb said:\n{text}",
                wanted.join("\n")
            )
            .into());
        }
    }
    Ok(())
}
