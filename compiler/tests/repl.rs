//! `keel repl`, end to end, on the JIT and on the VM.
//!
//! - **Scripted sessions** (`tests/repl/NAME.repl`): each script is fed to `keel repl` (and
//!   `keel repl --vm`) on standard input, which is then not a terminal; standard output and
//!   standard error go to one pipe, so the transcript shows results, diagnostics and fault
//!   messages in the order they came. It must equal `NAME.out` (the transcript, then a line
//!   `exit status: N`) on both backends. They run in `tests/repl/`, so that a `use` reads
//!   `tests/repl/lib/`. `KEEL_BLESS=1` writes the JIT's transcript as the expectation.
//! - **A terminal session** (`terminal/interrupt_and_continue::jit`, `::vm`): `keel repl` on a
//!   pseudo-terminal it has as its controlling terminal: the banner and prompts, a
//!   continuation line, Ctrl-C stopping a loop that never ends (the session keeps its
//!   variables), and Ctrl-D ending the session with status 0. The history goes to a scratch
//!   `XDG_DATA_HOME` and is checked. On a machine without pseudo-terminals it is reported as
//!   skipped, with the reason.

use std::fs;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Failed, Trial};

/// How long a session may take.
const TIME_LIMIT: Duration = Duration::from_secs(60);

const BACKENDS: [(&str, &[&str]); 2] = [("jit", &[]), ("vm", &["--vm"])];

fn main() {
    let args = Arguments::from_args();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/repl");
    let mut scripts: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("tests/repl exists")
        .map(|entry| entry.expect("readable directory").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "repl"))
        .collect();
    scripts.sort();
    let mut trials = Vec::new();
    for script in scripts {
        let name = script.file_stem().unwrap().to_string_lossy().into_owned();
        for (backend, flags) in BACKENDS {
            let script = script.clone();
            trials.push(Trial::test(format!("{name}::{backend}"), move || {
                scripted(&script, backend, flags)
            }));
        }
    }
    // A machine without pseudo-terminals (some containers) cannot run the terminal session:
    // it is reported as skipped with the reason.
    let no_terminal = open_pty().err().map(|e| {
        format!(
            "skipped: no pseudo-terminal ({})",
            e.message().unwrap_or("")
        )
    });
    for (backend, flags) in BACKENDS {
        let trial = Trial::test(
            format!("terminal/interrupt_and_continue::{backend}"),
            move || terminal_session(flags),
        );
        trials.push(match &no_terminal {
            Some(reason) => trial.with_ignored_flag(true).with_kind(reason.clone()),
            None => trial,
        });
    }
    libtest_mimic::run(&args, trials).exit();
}

/// Runs the script on one backend and compares the transcript with `NAME.out`.
fn scripted(script: &Path, backend: &str, flags: &[&str]) -> Result<(), Failed> {
    let input = fs::read(script)?;
    let (reader, writer) = std::io::pipe()?;
    let mut child = Command::new(env!("CARGO_BIN_EXE_keel"))
        .arg("repl")
        .args(flags)
        .env("NO_COLOR", "1")
        .current_dir(script.parent().expect("a script is in tests/repl"))
        .stdin(Stdio::piped())
        .stdout(writer.try_clone()?)
        .stderr(writer)
        .spawn()?;
    let mut stdin = child.stdin.take().expect("piped");
    let feeder = std::thread::spawn(move || stdin.write_all(&input));
    let transcript = read_with_limit(reader)?;
    let status = child.wait()?;
    feeder.join().expect("the feeder does not panic")?;
    let actual = format!(
        "{}exit status: {}\n",
        String::from_utf8_lossy(&transcript),
        status
            .code()
            .map_or("killed".to_string(), |c| c.to_string())
    );
    let expected_path = script.with_extension("out");
    if std::env::var_os("KEEL_BLESS").is_some() {
        // The JIT's transcript is the expectation; the VM's is compared once blessed.
        if backend == "jit" {
            fs::write(&expected_path, &actual)?;
        }
        return Ok(());
    }
    let expected = fs::read_to_string(&expected_path)
        .map_err(|e| format!("{}: {e}", expected_path.display()))?;
    if actual != expected {
        return Err(format!(
            "the transcript differs from {}\n--- expected\n{expected}\n--- actual\n{actual}",
            expected_path.display()
        )
        .into());
    }
    Ok(())
}

/// Reads `reader` to its end, failing after [`TIME_LIMIT`].
fn read_with_limit(mut reader: impl Read + Send + 'static) -> Result<Vec<u8>, Failed> {
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let outcome = reader.read_to_end(&mut bytes).map(|_| bytes);
        let _ = done.send(outcome);
    });
    match result.recv_timeout(TIME_LIMIT) {
        Ok(bytes) => Ok(bytes?),
        Err(_) => Err("the session did not end in time".into()),
    }
}

/// A pseudo-terminal: the controlling side, and the terminal the session gets.
fn open_pty() -> Result<(OwnedFd, OwnedFd), Failed> {
    let (mut controller, mut terminal) = (0, 0);
    // SAFETY: openpty writes two descriptors; the name, settings and size may be null.
    let opened = unsafe {
        libc::openpty(
            &mut controller,
            &mut terminal,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    if opened != 0 {
        return Err(format!("openpty: {}", std::io::Error::last_os_error()).into());
    }
    // SAFETY: both descriptors were just opened and are owned here.
    Ok(unsafe {
        (
            OwnedFd::from_raw_fd(controller),
            OwnedFd::from_raw_fd(terminal),
        )
    })
}

/// What the terminal shows, read as it comes.
struct Screen {
    controller: std::fs::File,
    seen: Vec<u8>,
}

impl Screen {
    /// Reads until the screen has shown `text` `count` times in all, failing after a while.
    fn wait_for(&mut self, text: &str, count: usize) -> Result<(), Failed> {
        let deadline = Instant::now() + TIME_LIMIT;
        while self.count(text) < count {
            if Instant::now() > deadline {
                return Err(format!(
                    "the terminal never showed {text:?} {count} times; it showed:\n{}",
                    String::from_utf8_lossy(&self.seen)
                )
                .into());
            }
            let mut poll = libc::pollfd {
                fd: self.controller.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            if unsafe { libc::poll(&mut poll, 1, 100) } > 0 {
                let mut buffer = [0u8; 4096];
                match self.controller.read(&mut buffer) {
                    Ok(0) | Err(_) => {
                        return Err(format!(
                            "the terminal closed before showing {text:?}; it showed:\n{}",
                            String::from_utf8_lossy(&self.seen)
                        )
                        .into())
                    }
                    Ok(n) => self.seen.extend_from_slice(&buffer[..n]),
                }
            }
        }
        Ok(())
    }

    fn count(&self, text: &str) -> usize {
        String::from_utf8_lossy(&self.seen).matches(text).count()
    }

    fn type_keys(&mut self, keys: &str) -> Result<(), Failed> {
        self.controller.write_all(keys.as_bytes())?;
        Ok(())
    }
}

/// The terminal session described at the top of this file.
fn terminal_session(flags: &[&str]) -> Result<(), Failed> {
    let data = tempfile::tempdir()?;
    let (controller, terminal) = open_pty()?;
    let mut command = Command::new(env!("CARGO_BIN_EXE_keel"));
    command
        .arg("repl")
        .args(flags)
        .env("XDG_DATA_HOME", data.path())
        .env("TERM", "dumb")
        .env("NO_COLOR", "1")
        .stdin(terminal.try_clone()?)
        .stdout(terminal.try_clone()?)
        .stderr(terminal);
    // SAFETY: between fork and exec the child only makes itself a session leader with the
    // terminal (its standard input) as its controlling terminal: async-signal-safe calls.
    unsafe {
        command.pre_exec(|| {
            if libc::setsid() == -1 || libc::ioctl(0, libc::TIOCSCTTY, 0) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn()?;
    drop(command);
    let mut screen = Screen {
        controller: std::fs::File::from(controller),
        seen: Vec::new(),
    };
    let result = (|| -> Result<(), Failed> {
        screen.wait_for("REPL on the", 1)?;
        screen.wait_for("keel> ", 1)?;
        screen.type_keys("let n = 5;\r")?;
        screen.wait_for("keel> ", 2)?;
        screen.type_keys("fn add(int a,\r")?;
        screen.wait_for("  ... ", 1)?;
        screen.type_keys("int b) -> int { return a + b; }\r")?;
        screen.wait_for("keel> ", 3)?;
        screen.type_keys("while true { n = n + 1; }\r")?;
        // Give the loop time to start before stopping it.
        std::thread::sleep(Duration::from_millis(300));
        screen.type_keys("\x03")?;
        screen.wait_for("interrupted", 1)?;
        screen.wait_for("keel> ", 4)?;
        screen.type_keys("add(n, 2)\r")?;
        screen.wait_for("7 : int", 1)?;
        screen.wait_for("keel> ", 5)?;
        screen.type_keys("\x04")?;
        Ok(())
    })();
    if let Err(error) = result {
        let _ = child.kill();
        let _ = child.wait();
        return Err(error);
    }
    let deadline = Instant::now() + TIME_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err("the session did not end after Ctrl-D".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if status.code() != Some(0) {
        return Err(format!("the session ended with {status}").into());
    }
    let history = fs::read_to_string(data.path().join("keel/history"))?;
    for entry in ["let n = 5;", "while true { n = n + 1; }", "add(n, 2)"] {
        if !history.lines().any(|line| line == entry) {
            return Err(format!("the history lacks {entry:?}:\n{history}").into());
        }
    }
    Ok(())
}
