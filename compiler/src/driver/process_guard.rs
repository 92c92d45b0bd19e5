//! Keeps a program that `keel run --native` started, and its files, from outliving `keel`.
//!
//! The child asks the kernel for `SIGKILL` when its parent dies (`PR_SET_PDEATHSIG`, Linux), set
//! between `fork` and `exec`; if `keel` died before that point, the child exits at once instead.
//! The executable is started from an open descriptor (`/proc/self/fd/N`), so its file can be
//! deleted before the program starts and nothing is left on disk whenever `keel` is killed.
//! What this module does not do: forward signals (a terminal's Ctrl-C reaches the whole process
//! group anyway).

use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// A command that runs the executable `file` is open on (its name may already be gone), with
/// `name` as its `argv[0]`. The descriptor must stay open until the program has started; the
/// program itself does not inherit it (`exec` closes it).
pub fn command_for_open_executable(file: &File, name: &OsStr) -> Command {
    let mut command = Command::new(format!("/proc/self/fd/{}", file.as_raw_fd()));
    command.arg0(name);
    command
}

/// Makes the program `command` starts end when this process does.
pub fn die_with_parent(command: &mut Command) {
    // SAFETY: `getpid` is async-signal-safe.
    let parent = unsafe { libc::getpid() };
    // SAFETY: the closure runs in the forked child before `exec`, and calls only the
    // async-signal-safe functions `prctl`, `getppid` and `_exit`; it allocates nothing.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died between `fork` and `prctl`: then nobody would kill us.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
}
