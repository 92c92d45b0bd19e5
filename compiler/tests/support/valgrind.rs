//! The program suite's valgrind mode: with `KEEL_VALGRIND=1`, each `--libc` executable (the
//! `libc` backend: its heap is glibc's malloc, which memcheck follows) runs under
//! valgrind's memcheck, and its test fails with memcheck's report when it finds an error: an
//! invalid read or write, a use of uninitialised memory, an invalid free, or a leak (definitely
//! or possibly lost blocks, `--leak-check=full`). Recovered faults included: the frames they
//! leave release what they own (docs/faults.md), so a clean program stays clean.
//!
//! Leaks count for programs that end normally, with status 0. A program that ends with an
//! unrecovered fault or `exit(n)` stops where it is, without releasing what its frames own, as
//! the OS reclaims everything anyway (the leak check, `KEEL_LEAK_CHECK=1`, does not check such
//! endings either); memcheck still reports those blocks in its log, and every other kind of
//! error still fails the test.
//!
//! Memcheck writes its own report to a log file beside the executable, never to the program's
//! standard error, and a clean run changes nothing of what the program prints or of its status,
//! so every expectation still holds. A program memcheck cannot run in reasonable time, or whose
//! output depends on how fast it runs, is skipped with its reason ([`SKIPPED`]).
//!
//! What this module does not do: run the other backends under valgrind (the VM and the JIT run
//! inside `keel`, whose own allocations are not the program's), or the cross backend (qemu).

use std::path::PathBuf;
use std::process::Command;

/// The environment variable that turns the mode on (with the value `1`).
pub const VAR: &str = "KEEL_VALGRIND";

/// The status memcheck ends the program with when it found errors; no program of the suite
/// exits with it.
pub const ERROR_STATUS: i32 = 97;

/// Programs (`group/name`) not run under valgrind, with the reason.
pub const SKIPPED: &[(&str, &str)] = &[];

/// Whether the mode is on.
pub fn enabled() -> bool {
    std::env::var(VAR).is_ok_and(|value| value == "1")
}

/// Why `program` (`group/name`) is not run under valgrind, if it is not.
pub fn skipped(program: &str) -> Option<&'static str> {
    SKIPPED
        .iter()
        .find(|(name, _)| *name == program)
        .map(|&(_, reason)| reason)
}

/// One run under memcheck: where its report goes.
pub struct Memcheck {
    dir: tempfile::TempDir,
}

impl Memcheck {
    pub fn new() -> Result<Memcheck, String> {
        let found = Command::new("valgrind").arg("--version").output();
        if !found.is_ok_and(|output| output.status.success()) {
            return Err(format!("{VAR}=1, but valgrind cannot be run here"));
        }
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        Ok(Memcheck { dir })
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("memcheck.log")
    }

    /// `command` (an executable with its arguments, directory and environment) under memcheck;
    /// leaks are errors when the program is expected to end normally (`leaks_count`).
    pub fn wrap(&self, command: &Command, leaks_count: bool) -> Command {
        let leak_errors = if leaks_count {
            "definite,possible"
        } else {
            "none"
        };
        let mut wrapped = Command::new("valgrind");
        wrapped
            .arg("--tool=memcheck")
            .arg("--leak-check=full")
            .arg(format!("--errors-for-leak-kinds={leak_errors}"))
            .arg(format!("--error-exitcode={ERROR_STATUS}"))
            .arg("--num-callers=40")
            .arg(format!("--log-file={}", self.log().display()))
            .arg(command.get_program())
            .args(command.get_args());
        if let Some(dir) = command.get_current_dir() {
            wrapped.current_dir(dir);
        }
        for (key, value) in command.get_envs() {
            match value {
                Some(value) => wrapped.env(key, value),
                None => wrapped.env_remove(key),
            };
        }
        wrapped
    }

    /// Memcheck's verdict on the run that ended with `status`: its whole report when it found
    /// errors or did not finish its report.
    pub fn verdict(&self, status: i32) -> Result<(), String> {
        let report = std::fs::read_to_string(self.log())
            .map_err(|e| format!("no memcheck report ({e}); the program ended with {status}"))?;
        let errors = report
            .lines()
            .find_map(|line| line.split_once("ERROR SUMMARY: "))
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .and_then(|count| count.parse::<u64>().ok());
        match errors {
            Some(0) if status != ERROR_STATUS => Ok(()),
            Some(_) => Err(format!("memcheck found errors:\n{report}")),
            None => Err(format!("memcheck did not finish its report:\n{report}")),
        }
    }
}
