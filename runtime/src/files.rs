//! Files and the process's surroundings, for the prelude's `read_file`, `write_file`,
//! `append_file`, `file_exists`, `remove_file`, `env_var`, `read_line` and `sleep_ms`.
//!
//! Each operation that can fail records why in a per-thread slot instead of faulting, and
//! returns a meaningless value (an empty string); the prelude's Keel functions call
//! [`keel_io_error`] right after to turn that into an `Err` (or a `None`). The reasons are this
//! module's own words for the operating system's error (`no such file or directory`, `permission
//! denied`, `is a directory`, ...), the same on every backend and machine, after what was being
//! done and the path: `cannot read "notes.txt": no such file or directory`.
//!
//! Nothing here loses data: a read returns the whole file or fails (a file that is not UTF-8
//! fails rather than being changed), and a write writes the whole content or reports why not.
//!
//! What this module does not do: buffer (each call is one open, read or write and close), or
//! resolve paths (relative ones are relative to the working directory).

use core::cell::RefCell;

use crate::layout::StrHeader;
use crate::output::flush_stdout;
use crate::prelude::*;
use crate::string::{as_str, new_string};
use crate::sys::{self, Errno};

crate::per_thread! {
    /// Why the last operation failed; empty when it did not.
    static IO_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
    /// Whether file operations are refused and `sleep_ms` does not sleep (see [`set_sandboxed`]).
    static SANDBOXED: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

/// Refuses (`true`) or allows again every file operation on this thread, and makes `sleep_ms`
/// return at once: for the VM's budgeted runs of arbitrary programs (fuzzing), which must not
/// touch the machine's files or wait. A refused operation fails like any other, with the reason
/// `not available in this run`.
pub fn set_sandboxed(on: bool) {
    SANDBOXED.with(|flag| flag.set(on));
}

/// Whether the operation `action` on `path` is refused (and so recorded as failed).
fn refused(action: &str, path: &str) -> bool {
    let refused = SANDBOXED.with(|flag| flag.get());
    if refused {
        set_error(format!(
            "cannot {action} {path:?}: not available in this run"
        ));
    }
    refused
}

fn set_error(message: String) {
    IO_ERROR.with(|slot| *slot.borrow_mut() = message);
}

/// Records the failure of `action` (`read`, `write`, ...) on `path`.
fn failed(action: &str, path: &str, error: Errno) {
    set_error(format!("cannot {action} {path:?}: {}", error.reason()));
}

/// The whole content of the file at `path`.
fn read_all(path: &str) -> Result<Vec<u8>, Errno> {
    let fd = sys::open(path.as_bytes(), sys::O_RDONLY)?;
    let result = read_to_end(fd);
    sys::close(fd);
    result
}

/// Everything left to read from `fd`, read in as few calls as its size allows.
fn read_to_end(fd: i32) -> Result<Vec<u8>, Errno> {
    let expected = sys::file_size(fd).unwrap_or(0);
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(expected.saturating_add(1))
        .map_err(|_| Errno(12))?;
    loop {
        if bytes.len() == bytes.capacity() {
            bytes
                .try_reserve(bytes.len().max(8192))
                .map_err(|_| Errno(12))?;
        }
        let spare = bytes.spare_capacity_mut();
        // SAFETY: the spare capacity is writable, and reading writes only initialized bytes
        // into it, of which `read_some` reports how many.
        let spare =
            unsafe { core::slice::from_raw_parts_mut(spare.as_mut_ptr().cast(), spare.len()) };
        match sys::read_some(fd, spare)? {
            0 => return Ok(bytes),
            // SAFETY: the kernel wrote `n` bytes after the initialized ones.
            n => unsafe { bytes.set_len(bytes.len() + n) },
        }
    }
}

/// # Safety
/// `s` must be a live string.
unsafe fn text<'a>(s: *const StrHeader) -> &'a str {
    // SAFETY: forwarded from the caller.
    unsafe { as_str(s) }
}

/// The text of the file at `path`, or `""` with the reason recorded.
///
/// # Safety
/// `path` must be a live string.
#[no_mangle]
pub unsafe extern "C" fn keel_file_read(path: *const StrHeader) -> *mut StrHeader {
    // SAFETY: forwarded from the caller.
    let path = unsafe { text(path) };
    if refused("read", path) {
        return new_string(b"");
    }
    match read_all(path) {
        Ok(bytes) => match core::str::from_utf8(&bytes) {
            Ok(content) => new_string(content.as_bytes()),
            Err(_) => {
                set_error(format!("cannot read {path:?}: not UTF-8 text"));
                new_string(b"")
            }
        },
        Err(error) => {
            failed("read", path, error);
            new_string(b"")
        }
    }
}

/// Writes `content` to the file at `path` (`append` non-zero: at its end), creating it if
/// needed; the number of bytes written, or 0 with the reason recorded.
unsafe fn write(path: *const StrHeader, content: *const StrHeader, append: bool) -> i64 {
    // SAFETY: forwarded from the caller.
    let (path, content) = unsafe { (text(path), text(content)) };
    let action = if append { "append to" } else { "write" };
    if refused(action, path) {
        return 0;
    }
    let mode = if append { sys::O_APPEND } else { sys::O_TRUNC };
    let written = sys::open(path.as_bytes(), sys::O_WRONLY | sys::O_CREAT | mode).and_then(|fd| {
        let result = sys::write_all(fd, content.as_bytes());
        sys::close(fd);
        result
    });
    match written {
        Ok(()) => content.len() as i64,
        Err(error) => {
            failed(action, path, error);
            0
        }
    }
}

/// `write_file`: replaces the file's content with `content`.
///
/// # Safety
/// `path` and `content` must be live strings.
#[no_mangle]
pub unsafe extern "C" fn keel_file_write(path: *const StrHeader, content: *const StrHeader) -> i64 {
    // SAFETY: forwarded from the caller.
    unsafe { write(path, content, false) }
}

/// `append_file`: adds `content` at the file's end.
///
/// # Safety
/// `path` and `content` must be live strings.
#[no_mangle]
pub unsafe extern "C" fn keel_file_append(
    path: *const StrHeader,
    content: *const StrHeader,
) -> i64 {
    // SAFETY: forwarded from the caller.
    unsafe { write(path, content, true) }
}

/// `file_exists`: whether something (a file, a directory) is at `path` (1) or not (0).
///
/// # Safety
/// `path` must be a live string.
#[no_mangle]
pub unsafe extern "C" fn keel_file_exists(path: *const StrHeader) -> i64 {
    // SAFETY: forwarded from the caller.
    let path = unsafe { text(path) };
    i64::from(!refused("look for", path) && sys::exists(path.as_bytes()))
}

/// `remove_file`: removes the file at `path`, or records why not.
///
/// # Safety
/// `path` must be a live string.
#[no_mangle]
pub unsafe extern "C" fn keel_file_remove(path: *const StrHeader) {
    // SAFETY: forwarded from the caller.
    let path = unsafe { text(path) };
    if refused("remove", path) {
        return;
    }
    if let Err(error) = sys::unlink(path.as_bytes()) {
        failed("remove", path, error);
    }
}

/// The value of the environment variable `name`, or `""` with `not set` recorded (also for a
/// value that is not UTF-8).
///
/// # Safety
/// `name` must be a live string.
#[no_mangle]
pub unsafe extern "C" fn keel_env_var(name: *const StrHeader) -> *mut StrHeader {
    // SAFETY: forwarded from the caller.
    let name = unsafe { text(name) };
    match crate::host::env_var(name).map(String::from_utf8) {
        Some(Ok(value)) => new_string(value.as_bytes()),
        None => {
            set_error(format!("{name} is not set"));
            new_string(b"")
        }
        Some(Err(_)) => {
            set_error(format!("{name} is not UTF-8 text"));
            new_string(b"")
        }
    }
}

/// The next line of standard input without its line ending, or `""` with `end of input`
/// recorded at the end. Bytes that are not UTF-8 are replaced by U+FFFD, as `input()` does.
#[no_mangle]
pub extern "C" fn keel_read_line() -> *mut StrHeader {
    match crate::system::read_line() {
        Some(line) => new_string(String::from_utf8_lossy(&line).as_bytes()),
        None => {
            set_error("end of input".to_string());
            new_string(b"")
        }
    }
}

/// Why the last operation of this module failed, as a new string, and forgets it: `""` when
/// it did not.
#[no_mangle]
pub extern "C" fn keel_io_error() -> *mut StrHeader {
    let message = IO_ERROR.with(|slot| core::mem::take(&mut *slot.borrow_mut()));
    new_string(message.as_bytes())
}

/// `sleep_ms(ms)`: flushes standard output (so what was printed shows while the program
/// waits), then sleeps `ms` milliseconds (none for `ms <= 0`).
#[no_mangle]
pub extern "C" fn keel_sleep_ms(ms: i64) {
    flush_stdout();
    if ms > 0 && !SANDBOXED.with(|flag| flag.get()) {
        sys::sleep_ms(ms as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::string::as_str;

    fn string(s: &str) -> *mut StrHeader {
        new_string(s.as_bytes())
    }

    fn taken_error() -> String {
        // SAFETY: `keel_io_error` returns a live string (leaked by this test).
        unsafe { as_str(keel_io_error()).to_string() }
    }

    #[test]
    fn a_missing_file_is_an_error_with_the_reason() {
        // SAFETY: the arguments are live strings.
        let content = unsafe { as_str(keel_file_read(string("/nonexistent/keel-test"))) };
        assert_eq!(content, "");
        assert_eq!(
            taken_error(),
            "cannot read \"/nonexistent/keel-test\": no such file or directory"
        );
        assert_eq!(taken_error(), "");
    }

    #[test]
    fn write_append_read_and_remove() {
        let dir = std::env::temp_dir().join(format!("keel-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.txt");
        let path = string(path.to_str().unwrap());
        // SAFETY: the arguments are live strings.
        unsafe {
            assert_eq!(keel_file_write(path, string("héllo\n")), 7);
            assert_eq!(keel_file_append(path, string("more")), 4);
            assert_eq!(as_str(keel_file_read(path)), "héllo\nmore");
            assert_eq!(keel_file_exists(path), 1);
            keel_file_remove(path);
            assert_eq!(taken_error(), "");
            assert_eq!(keel_file_exists(path), 0);
            keel_file_remove(path);
        }
        assert!(taken_error().ends_with("no such file or directory"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_sandboxed_thread_touches_no_file() {
        let path = string("Cargo.toml");
        set_sandboxed(true);
        // SAFETY: the argument is a live string.
        let exists = unsafe { keel_file_exists(path) };
        set_sandboxed(false);
        assert_eq!(exists, 0);
        assert_eq!(
            taken_error(),
            "cannot look for \"Cargo.toml\": not available in this run"
        );
        // SAFETY: as above.
        assert_eq!(unsafe { keel_file_exists(path) }, 1);
    }
}
