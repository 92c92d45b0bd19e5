//! What differs between the runtime in a freestanding executable (feature `freestanding`: no
//! C library, no Rust standard library, one thread) and the hosted runtime (linked with glibc,
//! or inside `keel`, where the JIT and the VM run programs on threads of their own): per-thread
//! state, the environment, reading standard input, and ending the process. Everything else
//! goes through `sys` in both.
//!
//! - [`per_thread!`] declares state that is per thread when hosted (`thread_local!`) and a plain
//!   static in a freestanding executable, whose program is its only thread. Both have `with`.
//! - [`env_var`]: hosted, the process's environment as Rust sees it; freestanding, the block the
//!   kernel put on the initial stack (recorded by `freestanding::start`).
//! - [`read_line`]: hosted, through Rust's standard input, whose buffer `keel repl` shares;
//!   freestanding, through a buffer of this module's own on `read(0)`.
//! - [`exit`] and [`abort`].
//!
//! What this module does not do: anything that could be the same in both (see `sys`).

use crate::prelude::*;

/// Declares per-thread statics (see the module doc), each with a `const` initializer:
/// `per_thread! { static NAME: Type = const { value }; }`.
#[cfg(not(feature = "freestanding"))]
#[macro_export]
macro_rules! per_thread {
    ($($(#[$meta:meta])* static $name:ident: $ty:ty = const { $init:expr };)*) => {
        ::std::thread_local! {
            $($(#[$meta])* static $name: $ty = const { $init };)*
        }
    };
}

/// Declares per-thread statics (see the module doc), each with a `const` initializer:
/// `per_thread! { static NAME: Type = const { value }; }`.
#[cfg(feature = "freestanding")]
#[macro_export]
macro_rules! per_thread {
    ($($(#[$meta:meta])* static $name:ident: $ty:ty = const { $init:expr };)*) => {
        $($(#[$meta])* static $name: $crate::host::Single<$ty> = $crate::host::Single::new($init);)*
    };
}

/// A static of a freestanding executable's only thread, used like a `thread_local!` key.
#[cfg(feature = "freestanding")]
pub struct Single<T>(T);

// SAFETY: a freestanding executable runs its program on one thread and starts no other, so the
// value is never reached from two threads.
#[cfg(feature = "freestanding")]
unsafe impl<T> Sync for Single<T> {}

#[cfg(feature = "freestanding")]
impl<T> Single<T> {
    pub const fn new(value: T) -> Self {
        Single(value)
    }

    /// Calls `f` with the value, as `LocalKey::with` does.
    pub fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.0)
    }
}

/// The value of the environment variable `name` as bytes, if it is set.
#[cfg(not(feature = "freestanding"))]
pub fn env_var(name: &str) -> Option<Vec<u8>> {
    use std::os::unix::ffi::OsStringExt;
    std::env::var_os(name).map(|value| value.into_vec())
}

/// The value of the environment variable `name` as bytes, if it is set.
#[cfg(feature = "freestanding")]
pub fn env_var(name: &str) -> Option<Vec<u8>> {
    if name.is_empty() || name.contains(['=', '\0']) {
        return None;
    }
    crate::freestanding::start::environment()
        .find_map(|entry| {
            let rest = entry.strip_prefix(name.as_bytes())?;
            rest.strip_prefix(b"=")
        })
        .map(<[u8]>::to_vec)
}

/// Reads one line from standard input with its `\n` (none on the last line of an input that
/// does not end with one), appending it to `line`; false at the end of input or on an error.
#[cfg(not(feature = "freestanding"))]
pub fn read_line(line: &mut Vec<u8>) -> bool {
    use std::io::BufRead;
    matches!(std::io::stdin().lock().read_until(b'\n', line), Ok(n) if n > 0)
}

/// Reads one line from standard input with its `\n` (none on the last line of an input that
/// does not end with one), appending it to `line`; false at the end of input or on an error.
#[cfg(feature = "freestanding")]
pub fn read_line(line: &mut Vec<u8>) -> bool {
    use core::cell::RefCell;
    /// Bytes read from standard input and not yet returned: `bytes[start..end]`.
    struct Pending {
        bytes: [u8; 8192],
        start: usize,
        end: usize,
    }
    static STDIN: Single<RefCell<Pending>> = Single::new(RefCell::new(Pending {
        bytes: [0; 8192],
        start: 0,
        end: 0,
    }));
    STDIN.with(|pending| {
        let mut pending = pending.borrow_mut();
        let mut any = false;
        loop {
            if pending.start == pending.end {
                let Pending { bytes, .. } = &mut *pending;
                match crate::sys::read_some(crate::sys::STDIN, bytes) {
                    Ok(0) | Err(_) => return any,
                    Ok(n) => {
                        pending.start = 0;
                        pending.end = n;
                    }
                }
            }
            any = true;
            let held = &pending.bytes[pending.start..pending.end];
            match held.iter().position(|&b| b == b'\n') {
                Some(at) => {
                    line.extend_from_slice(&held[..=at]);
                    pending.start += at + 1;
                    return true;
                }
                None => {
                    line.extend_from_slice(held);
                    pending.start = pending.end;
                }
            }
        }
    })
}

/// Ends the process with `status` (output must have been flushed).
pub fn exit(status: i32) -> ! {
    #[cfg(not(feature = "freestanding"))]
    {
        std::process::exit(status)
    }
    #[cfg(feature = "freestanding")]
    {
        crate::sys::exit_group(status)
    }
}

/// Ends the process at once after an internal error, as `abort()` does.
pub fn abort() -> ! {
    #[cfg(not(feature = "freestanding"))]
    {
        std::process::abort()
    }
    #[cfg(feature = "freestanding")]
    {
        // The status of a process killed by SIGABRT, as a shell reports it.
        crate::sys::exit_group(134)
    }
}

/// A value shared by every thread of the process, used through [`Lock::with`]: a mutex when
/// hosted, a plain cell in a freestanding executable (one thread).
pub struct Lock<T> {
    #[cfg(not(feature = "freestanding"))]
    inner: std::sync::Mutex<T>,
    #[cfg(feature = "freestanding")]
    inner: core::cell::RefCell<T>,
}

// SAFETY: freestanding, the process has one thread (see `Single`); hosted, the mutex is Sync
// for a `Send` value, which the bound requires.
#[cfg(feature = "freestanding")]
unsafe impl<T: Send> Sync for Lock<T> {}

impl<T> Lock<T> {
    pub const fn new(value: T) -> Self {
        Lock {
            #[cfg(not(feature = "freestanding"))]
            inner: std::sync::Mutex::new(value),
            #[cfg(feature = "freestanding")]
            inner: core::cell::RefCell::new(value),
        }
    }

    /// Calls `f` with the value, which no other thread uses meanwhile (a panic that poisoned
    /// the mutex is ignored: the value is still consistent, nothing here panics holding it).
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        #[cfg(not(feature = "freestanding"))]
        {
            let mut guard = self
                .inner
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&mut guard)
        }
        #[cfg(feature = "freestanding")]
        {
            f(&mut self.inner.borrow_mut())
        }
    }
}
