//! Keeps a program that `keel run --native` started from outliving `keel`.
//!
//! The child asks the kernel for `SIGKILL` when its parent dies (`PR_SET_PDEATHSIG`, Linux), set
//! between `fork` and `exec`; if `keel` died before that point, the child exits at once instead.
//! What this module does not do: forward signals (a terminal's Ctrl-C reaches the whole process
//! group anyway) or clean up files (the caller removes the executable once it runs).

use std::os::unix::process::CommandExt;
use std::process::Command;

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
