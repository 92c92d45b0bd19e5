//! Running REPL entries so that nothing an entry does can end the session: each runs in a child
//! process, a copy of the session made just before it, which becomes the session if the entry
//! finishes.
//!
//! A Keel program ends its process when it faults, calls `exit`, overflows its stack or is
//! stopped with Ctrl-C, on every backend, and compiled code cannot be unwound. So the REPL
//! forks before running an entry ([`run_entry`]). The child (with Ctrl-C back to its default)
//! runs the entry; when it finishes, the child tells its parent, which ends, and the child goes
//! on as the session, with everything the entry changed. When the child ends instead, the
//! parent still holds the session as it was before the entry, and goes on from there; it tells
//! a fault (whose message the child printed) from Ctrl-C (the child was killed by `SIGINT`)
//! and from the program's own `exit(n)`, which the runtime announces on the pipe first
//! (`keel_runtime::process::notify_exit_on`) and which ends the session with status `n`.
//!
//! The process the user started stays as a supervisor ([`supervise`]): it makes itself the
//! "child subreaper" of the processes below it, so that a session handed over from parent to
//! child stays its descendant, and it ends when the last of them ends, with the status the
//! session said it ended with ([`end_session`]). At most three processes exist at once.
//!
//! What this module does not do: compile or run anything (its caller does, in the child).

use std::io::Write;
use std::sync::atomic::{AtomicI32, Ordering};

use keel_runtime::process::{notify_exit_on, EXIT_NOTICE_BYTE};

/// What the child tells its parent when the entry has finished: the session is now the child's.
const HANDED_OVER: u8 = b'k';

/// The write end of the pipe to the supervisor, on which the session's final status goes.
static STATUS_FD: AtomicI32 = AtomicI32::new(-1);

/// Makes this process the supervisor of a session and runs `session` in a child process; returns
/// the status the session ended with, once every process of it has ended.
pub fn supervise(session: impl FnOnce()) -> i32 {
    let mut fds = [0; 2];
    // SAFETY: `pipe` writes two descriptors into the array; prctl and signal have no memory
    // preconditions.
    let ready = unsafe {
        libc::pipe(fds.as_mut_ptr()) == 0
            && libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    };
    if !ready {
        // No isolation is possible: run the session here (a fault then ends it).
        session();
        return 0;
    }
    flush_std();
    // SAFETY: the process has one thread (the REPL starts before any other is made).
    match unsafe { libc::fork() } {
        -1 => {
            session();
            0
        }
        0 => {
            // SAFETY: closing the read end, which this process does not use.
            unsafe { libc::close(fds[0]) };
            STATUS_FD.store(fds[1], Ordering::Relaxed);
            session();
            end_session(0)
        }
        _ => {
            // SAFETY: closing the write end; ignoring SIGINT has no preconditions.
            unsafe {
                libc::close(fds[1]);
                libc::signal(libc::SIGINT, libc::SIG_IGN);
            }
            wait_for_every_descendant();
            last_status(fds[0]).unwrap_or(1)
        }
    }
}

/// Ends the session (in whichever process holds it now) with `status`.
pub fn end_session(status: i32) -> ! {
    flush_std();
    let fd = STATUS_FD.load(Ordering::Relaxed);
    if fd >= 0 {
        let _ = keel_runtime::fd::write_all(fd, &[status as u8]);
    }
    // SAFETY: ending the process; everything it must write is written.
    unsafe { libc::_exit(status) }
}

/// How an entry run by [`run_entry`] ended, as the parent saw it.
#[derive(Debug, PartialEq, Eq)]
pub enum Failed {
    /// It faulted (its message is printed) or died otherwise.
    Faulted,
    /// Ctrl-C stopped it.
    Interrupted,
    /// It was killed by signal `n`.
    Killed(i32),
    /// It called `exit(n)`: the session ends with status `n`.
    Exited(i32),
}

/// Runs `entry` in a copy of this process. Returns `Ok(())` in the copy once `entry` has
/// finished (the copy is the session from here on; the original has ended), or in the original,
/// which kept the session as it was before, how the copy ended.
pub fn run_entry(entry: impl FnOnce()) -> Result<(), Failed> {
    let mut fds = [0; 2];
    // SAFETY: `pipe` writes two descriptors into the array.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        entry();
        return Ok(());
    }
    let (read, write) = (fds[0], fds[1]);
    flush_std();
    // SAFETY: the REPL's process has one thread when it forks: the front end's and the JIT's
    // threads have ended.
    match unsafe { libc::fork() } {
        -1 => {
            // SAFETY: closing the descriptors just made.
            unsafe {
                libc::close(read);
                libc::close(write);
            }
            entry();
            Ok(())
        }
        0 => {
            // SAFETY: closing the read end; restoring SIGINT's default so Ctrl-C stops the
            // entry.
            unsafe {
                libc::close(read);
                libc::signal(libc::SIGINT, libc::SIG_DFL);
            }
            notify_exit_on(write);
            entry();
            notify_exit_on(-1);
            flush_std();
            // SAFETY: ignoring SIGINT again (the prompt handles Ctrl-C itself); writing one
            // byte to and closing our end of the pipe.
            unsafe {
                libc::signal(libc::SIGINT, libc::SIG_IGN);
                let _ = keel_runtime::fd::write_all(write, &[HANDED_OVER]);
                libc::close(write);
            }
            Ok(())
        }
        child => {
            // SAFETY: closing the write end, which only the child uses.
            unsafe { libc::close(write) };
            let message = read_all(read);
            // SAFETY: closing the read end.
            unsafe { libc::close(read) };
            if message.first() == Some(&HANDED_OVER) {
                // The child is the session now; it outlives us as the supervisor's.
                // SAFETY: ending this process without running anything more of it.
                unsafe { libc::_exit(0) };
            }
            let status = wait_for(child);
            if let [EXIT_NOTICE_BYTE, code, ..] = message[..] {
                return Err(Failed::Exited(i32::from(code)));
            }
            Err(match status {
                Some(signal) if signal == libc::SIGINT => Failed::Interrupted,
                Some(signal) => Failed::Killed(signal),
                None => Failed::Faulted,
            })
        }
    }
}

/// Waits for `child` to end: the signal that killed it, if one did.
fn wait_for(child: libc::pid_t) -> Option<i32> {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a valid place for waitpid to write to.
        let got = unsafe { libc::waitpid(child, &mut status, 0) };
        if got == child {
            break;
        }
        if got == -1 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return None;
        }
    }
    libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status))
}

/// Waits until this process has no child left (the supervisor's descendants become its
/// children as their parents end).
fn wait_for_every_descendant() {
    loop {
        let mut status = 0;
        // SAFETY: `status` is a valid place for waitpid to write to.
        let got = unsafe { libc::waitpid(-1, &mut status, 0) };
        if got == -1 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return;
        }
    }
}

/// The last status byte written to the pipe `fd`, once every writer has closed it.
fn last_status(fd: i32) -> Option<i32> {
    read_all(fd).last().map(|&status| i32::from(status))
}

/// Everything readable from `fd` until every writer has closed it.
fn read_all(fd: i32) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 64];
    loop {
        // SAFETY: `buffer` is valid for writes of its length.
        let got = unsafe { libc::read(fd, buffer.as_mut_ptr().cast(), buffer.len()) };
        match got {
            0 => return bytes,
            n if n > 0 => bytes.extend_from_slice(&buffer[..n as usize]),
            _ if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) => {}
            _ => return bytes,
        }
    }
}

/// Writes what Rust's standard streams hold, so that no process prints it twice.
fn flush_std() {
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
}
