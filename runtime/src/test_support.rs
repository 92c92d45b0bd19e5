//! Test helper: runs one scenario in a child process, for behaviour that ends the process (faults,
//! `keel_finish`'s status) or reads standard input.
//!
//! A test calls [`in_child`] with its own full name and a scenario name. In the parent this
//! re-runs the test binary on just that test with the scenario in an environment variable and
//! returns the child's output; in the child, [`scenario`] returns the scenario to play.
//!
//! What this module does not do: exist outside `cargo test`.

use std::io::Write;
use std::process::{Command, Output, Stdio};

const SCENARIO_VAR: &str = "KEEL_RUNTIME_TEST_SCENARIO";

/// The scenario this process was started to play, if it is a child.
pub fn scenario() -> Option<String> {
    std::env::var(SCENARIO_VAR).ok()
}

/// Runs the test `test_name` (its full path, e.g. `fault::tests::faults_exit`) in a child process
/// playing `scenario`, with `stdin` as its standard input and `envs` set.
pub fn in_child(test_name: &str, scenario: &str, stdin: &[u8], envs: &[(&str, &str)]) -> Output {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let mut child = Command::new(exe)
        .args([test_name, "--exact", "--nocapture", "--test-threads=1"])
        .env(SCENARIO_VAR, scenario)
        .envs(envs.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the test binary starts");
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin).expect("the child reads its input");
    }
    child.wait_with_output().expect("the child runs")
}
