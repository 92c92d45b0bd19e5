//! The operating system as the runtime sees it: raw Linux system calls for x86_64 and aarch64,
//! the same code in every build (a freestanding executable, an executable linked with glibc,
//! and `keel` running a program in-process), so what a program's I/O does cannot depend on how
//! it was built.
//!
//! Each call returns `Ok` or the kernel's error number ([`Errno`]), whose [`Errno::reason`] is
//! the runtime's own words for it (`no such file or directory`, ...), the same on every machine
//! and C library. Interrupted calls are retried by the functions that loop ([`write_all`],
//! [`read_some`]).
//!
//! What this module does not do: buffer (see `output`), allocate, or know about Keel values.
//! The few things that differ between a freestanding build and a hosted one (the environment,
//! standard input shared with the host, ending the process) are in `host`.

use core::ffi::c_void;

/// A Linux error number, as a failed system call returns it (negated).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
    pub const ENOENT: Errno = Errno(2);
    pub const EINTR: Errno = Errno(4);
    pub const ENOSPC: Errno = Errno(28);
    pub const ENAMETOOLONG: Errno = Errno(36);

    /// What went wrong, in words that do not depend on the C library.
    pub fn reason(self) -> &'static str {
        match self.0 {
            1 | 13 => "permission denied",
            2 => "no such file or directory",
            4 => "interrupted",
            5 => "input/output error",
            6 => "no such device or address",
            9 => "bad file descriptor",
            11 => "resource temporarily unavailable",
            12 => "out of memory",
            16 => "resource busy",
            17 => "already exists",
            19 => "no such device",
            20 => "not a directory",
            21 => "is a directory",
            22 => "invalid argument",
            23 | 24 => "too many open files",
            26 => "text file busy",
            27 => "file too large",
            28 => "no space left on device",
            30 => "read-only file system",
            32 => "broken pipe",
            36 => "invalid file name",
            39 => "directory not empty",
            40 => "too many levels of symbolic links",
            122 => "disk quota exceeded",
            _ => "operating system error",
        }
    }
}

/// A system call's result: a value, or the error number the kernel returned as `-errno`.
fn check(result: isize) -> Result<usize, Errno> {
    if (-4095..0).contains(&result) {
        Err(Errno(-result as i32))
    } else {
        Ok(result as usize)
    }
}

/// System call numbers and the instruction that makes a call, per architecture.
#[cfg(target_arch = "x86_64")]
mod arch {
    pub const READ: usize = 0;
    pub const WRITE: usize = 1;
    pub const CLOSE: usize = 3;
    pub const FSTAT: usize = 5;
    pub const MMAP: usize = 9;
    pub const MPROTECT: usize = 10;
    pub const MUNMAP: usize = 11;
    pub const RT_SIGACTION: usize = 13;
    pub const MREMAP: usize = 25;
    pub const NANOSLEEP: usize = 35;
    pub const CLOCK_GETTIME: usize = 228;
    pub const EXIT_GROUP: usize = 231;
    pub const OPENAT: usize = 257;
    pub const UNLINKAT: usize = 263;
    pub const FACCESSAT: usize = 269;

    /// # Safety
    /// The arguments must be valid for system call `n`, as the kernel documents it.
    pub unsafe fn syscall6(n: usize, a: [usize; 6]) -> isize {
        let result: isize;
        // SAFETY: forwarded from the caller; `syscall` clobbers rcx and r11 only, both declared.
        unsafe {
            core::arch::asm!(
                "syscall",
                inlateout("rax") n as isize => result,
                in("rdi") a[0],
                in("rsi") a[1],
                in("rdx") a[2],
                in("r10") a[3],
                in("r8") a[4],
                in("r9") a[5],
                lateout("rcx") _,
                lateout("r11") _,
                options(nostack),
            );
        }
        result
    }
}

/// System call numbers and the instruction that makes a call, per architecture.
#[cfg(target_arch = "aarch64")]
mod arch {
    pub const READ: usize = 63;
    pub const WRITE: usize = 64;
    pub const CLOSE: usize = 57;
    pub const FSTAT: usize = 80;
    pub const MMAP: usize = 222;
    pub const MPROTECT: usize = 226;
    pub const MUNMAP: usize = 215;
    pub const RT_SIGACTION: usize = 134;
    pub const MREMAP: usize = 216;
    pub const NANOSLEEP: usize = 101;
    pub const CLOCK_GETTIME: usize = 113;
    pub const EXIT_GROUP: usize = 94;
    pub const OPENAT: usize = 56;
    pub const UNLINKAT: usize = 35;
    pub const FACCESSAT: usize = 48;

    /// # Safety
    /// The arguments must be valid for system call `n`, as the kernel documents it.
    pub unsafe fn syscall6(n: usize, a: [usize; 6]) -> isize {
        let result: isize;
        // SAFETY: forwarded from the caller; `svc 0` changes x0 only.
        unsafe {
            core::arch::asm!(
                "svc 0",
                in("x8") n,
                inlateout("x0") a[0] as isize => result,
                in("x1") a[1],
                in("x2") a[2],
                in("x3") a[3],
                in("x4") a[4],
                in("x5") a[5],
                options(nostack),
            );
        }
        result
    }
}

/// # Safety
/// The arguments must be valid for system call `n`.
unsafe fn syscall(n: usize, a: [usize; 6]) -> Result<usize, Errno> {
    // SAFETY: forwarded from the caller.
    check(unsafe { arch::syscall6(n, a) })
}

/// The standard input descriptor.
pub const STDIN: i32 = 0;

// Flags of Linux's generic ABI, the same on x86_64 and aarch64.
pub const O_RDONLY: usize = 0;
pub const O_WRONLY: usize = 1;
pub const O_CREAT: usize = 0o100;
pub const O_TRUNC: usize = 0o1000;
pub const O_APPEND: usize = 0o2000;
pub const O_CLOEXEC: usize = 0o2000000;
const AT_FDCWD: isize = -100;
pub const PROT_NONE: usize = 0;
pub const PROT_READ_WRITE: usize = 1 | 2;
pub const MAP_PRIVATE: usize = 0x02;
pub const MAP_ANONYMOUS: usize = 0x20;
pub const MAP_NORESERVE: usize = 0x4000;
pub const MAP_STACK: usize = 0x2_0000;
const MREMAP_MAYMOVE: usize = 1;
const CLOCK_MONOTONIC: usize = 1;
const SIGPIPE: usize = 13;
const SIG_IGN: usize = 1;

/// A path as the kernel takes it: the bytes and a NUL, on the stack.
struct CPath {
    bytes: [u8; 4096],
}

impl CPath {
    /// `path` with a NUL after it; `ENAMETOOLONG` (an invalid file name) for a path with a NUL
    /// in it or too long for Linux.
    fn new(path: &[u8]) -> Result<CPath, Errno> {
        if path.contains(&0) || path.len() >= 4096 {
            return Err(Errno::ENAMETOOLONG);
        }
        let mut c = CPath { bytes: [0; 4096] };
        c.bytes[..path.len()].copy_from_slice(path);
        Ok(c)
    }

    fn ptr(&self) -> usize {
        self.bytes.as_ptr() as usize
    }
}

/// Opens `path` (relative to the working directory) with `flags`, creating it with mode 0666
/// (less the umask) when `flags` has [`O_CREAT`].
pub fn open(path: &[u8], flags: usize) -> Result<i32, Errno> {
    let path = CPath::new(path)?;
    loop {
        // SAFETY: `path` is a NUL-terminated string alive for the call.
        let result = unsafe {
            syscall(
                arch::OPENAT,
                [
                    AT_FDCWD as usize,
                    path.ptr(),
                    flags | O_CLOEXEC,
                    0o666,
                    0,
                    0,
                ],
            )
        };
        match result {
            Err(Errno::EINTR) => continue,
            other => return other.map(|fd| fd as i32),
        }
    }
}

/// Closes `fd` (errors are of no use once the data is written, and are ignored).
pub fn close(fd: i32) {
    // SAFETY: closing a descriptor has no memory effects.
    let _ = unsafe { syscall(arch::CLOSE, [fd as usize, 0, 0, 0, 0, 0]) };
}

/// Reads what is available from `fd` into `buffer` (0 at the end), retrying interrupted reads.
pub fn read_some(fd: i32, buffer: &mut [u8]) -> Result<usize, Errno> {
    loop {
        // SAFETY: `buffer` is writable for its length.
        let result = unsafe {
            syscall(
                arch::READ,
                [
                    fd as usize,
                    buffer.as_mut_ptr() as usize,
                    buffer.len(),
                    0,
                    0,
                    0,
                ],
            )
        };
        if result != Err(Errno::EINTR) {
            return result;
        }
    }
}

/// Writes all of `bytes` to `fd`, retrying interrupted and partial writes.
pub fn write_all(fd: i32, mut bytes: &[u8]) -> Result<(), Errno> {
    while !bytes.is_empty() {
        // SAFETY: `bytes` is readable for its length.
        let result = unsafe {
            syscall(
                arch::WRITE,
                [fd as usize, bytes.as_ptr() as usize, bytes.len(), 0, 0, 0],
            )
        };
        match result {
            Ok(0) => return Err(Errno::ENOSPC),
            Ok(written) => bytes = &bytes[written.min(bytes.len())..],
            Err(Errno::EINTR) => {}
            Err(errno) => return Err(errno),
        }
    }
    Ok(())
}

/// The size in bytes of the file open as `fd`, as `fstat` reports it.
pub fn file_size(fd: i32) -> Result<usize, Errno> {
    // `struct stat` is 144 bytes on x86_64 and 128 on aarch64; `st_size` is at byte 48 on both.
    let mut stat = [0u64; 32];
    // SAFETY: `stat` is writable and larger than either architecture's `struct stat`.
    unsafe {
        syscall(
            arch::FSTAT,
            [fd as usize, stat.as_mut_ptr() as usize, 0, 0, 0, 0],
        )?
    };
    Ok(stat[6] as usize)
}

/// Whether something is at `path` (following symbolic links).
pub fn exists(path: &[u8]) -> bool {
    let Ok(path) = CPath::new(path) else {
        return false;
    };
    const F_OK: usize = 0;
    // SAFETY: `path` is a NUL-terminated string alive for the call.
    unsafe {
        syscall(
            arch::FACCESSAT,
            [AT_FDCWD as usize, path.ptr(), F_OK, 0, 0, 0],
        )
    }
    .is_ok()
}

/// Removes the file (not directory) at `path`.
pub fn unlink(path: &[u8]) -> Result<(), Errno> {
    let path = CPath::new(path)?;
    // SAFETY: `path` is a NUL-terminated string alive for the call.
    unsafe { syscall(arch::UNLINKAT, [AT_FDCWD as usize, path.ptr(), 0, 0, 0, 0]) }.map(|_| ())
}

/// Maps `len` bytes of fresh zeroed memory with `prot` and `flags` (besides private and
/// anonymous), or `None` when the address space or the memory is exhausted.
pub fn map(len: usize, prot: usize, flags: usize) -> Option<*mut c_void> {
    // SAFETY: an anonymous private mapping at an address of the kernel's choice touches no
    // existing memory.
    let result = unsafe {
        syscall(
            arch::MMAP,
            [
                0,
                len,
                prot,
                MAP_PRIVATE | MAP_ANONYMOUS | flags,
                usize::MAX,
                0,
            ],
        )
    };
    result.ok().map(|address| address as *mut c_void)
}

/// Unmaps `len` bytes at `address`.
///
/// # Safety
/// The range must be a mapping (or part of one) that nothing uses any more.
pub unsafe fn unmap(address: *mut c_void, len: usize) {
    // SAFETY: forwarded from the caller.
    let _ = unsafe { syscall(arch::MUNMAP, [address as usize, len, 0, 0, 0, 0]) };
}

/// Grows or shrinks the mapping of `old_len` bytes at `address` to `new_len`, moving it if
/// needed; `None` (the old mapping unchanged) when that is not possible.
///
/// # Safety
/// The range must be one whole mapping made by [`map`].
pub unsafe fn remap(address: *mut c_void, old_len: usize, new_len: usize) -> Option<*mut c_void> {
    // SAFETY: forwarded from the caller.
    let result = unsafe {
        syscall(
            arch::MREMAP,
            [address as usize, old_len, new_len, MREMAP_MAYMOVE, 0, 0],
        )
    };
    result.ok().map(|address| address as *mut c_void)
}

/// Makes `len` bytes at `address` inaccessible (`PROT_NONE`) or accessible again.
///
/// # Safety
/// The range must be part of a mapping of the caller's.
pub unsafe fn protect(address: *mut c_void, len: usize, prot: usize) -> Result<(), Errno> {
    // SAFETY: forwarded from the caller.
    unsafe { syscall(arch::MPROTECT, [address as usize, len, prot, 0, 0, 0]) }.map(|_| ())
}

/// Nanoseconds on the monotonic clock (from an arbitrary origin).
pub fn monotonic_nanos() -> u64 {
    let mut time = [0i64; 2];
    // SAFETY: `time` is a writable `struct timespec`.
    let result = unsafe {
        syscall(
            arch::CLOCK_GETTIME,
            [CLOCK_MONOTONIC, time.as_mut_ptr() as usize, 0, 0, 0, 0],
        )
    };
    if result.is_err() {
        return 0;
    }
    (time[0] as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(time[1] as u64)
}

/// Sleeps `ms` milliseconds (the whole time, even when a signal interrupts the sleep).
pub fn sleep_ms(ms: u64) {
    let mut request = [(ms / 1000) as i64, ((ms % 1000) * 1_000_000) as i64];
    loop {
        let mut remaining = [0i64; 2];
        // SAFETY: both are `struct timespec`s, the second writable.
        let result = unsafe {
            syscall(
                arch::NANOSLEEP,
                [
                    request.as_ptr() as usize,
                    remaining.as_mut_ptr() as usize,
                    0,
                    0,
                    0,
                    0,
                ],
            )
        };
        if result != Err(Errno::EINTR) {
            return;
        }
        request = remaining;
    }
}

/// Makes a write to a closed pipe fail with `EPIPE` instead of killing the process.
pub fn ignore_sigpipe() {
    // The kernel's `struct sigaction` on both architectures: handler, flags, restorer, mask.
    let action: [usize; 4] = [SIG_IGN, 0, 0, 0];
    // SAFETY: `action` is a valid `struct sigaction` for the call's duration; the old action
    // is not asked for; the mask is 8 bytes.
    let _ = unsafe {
        syscall(
            arch::RT_SIGACTION,
            [SIGPIPE, action.as_ptr() as usize, 0, 8, 0, 0],
        )
    };
}

/// Ends the process at once with `status`, without running anything else.
pub fn exit_group(status: i32) -> ! {
    loop {
        // SAFETY: `exit_group` has no preconditions and does not return.
        let _ = unsafe { syscall(arch::EXIT_GROUP, [status as usize, 0, 0, 0, 0, 0]) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_round_trip_through_the_system_calls() {
        let path = std::env::temp_dir().join(format!("keel-sys-test-{}", std::process::id()));
        let path = path.to_str().unwrap().as_bytes().to_vec();
        let fd = open(&path, O_WRONLY | O_CREAT | O_TRUNC).unwrap();
        write_all(fd, b"hello").unwrap();
        close(fd);
        assert!(exists(&path));
        let fd = open(&path, O_RDONLY).unwrap();
        assert_eq!(file_size(fd), Ok(5));
        let mut buffer = [0u8; 16];
        assert_eq!(read_some(fd, &mut buffer), Ok(5));
        assert_eq!(&buffer[..5], b"hello");
        assert_eq!(read_some(fd, &mut buffer), Ok(0));
        close(fd);
        unlink(&path).unwrap();
        assert!(!exists(&path));
        assert_eq!(unlink(&path), Err(Errno::ENOENT));
        assert_eq!(open(&path, O_RDONLY), Err(Errno::ENOENT));
        assert_eq!(Errno::ENOENT.reason(), "no such file or directory");
        assert_eq!(open(b"a\0b", O_RDONLY), Err(Errno::ENAMETOOLONG));
    }

    #[test]
    fn a_directory_opens_but_does_not_read() {
        let fd = open(b"/", O_RDONLY).unwrap();
        let mut buffer = [0u8; 16];
        assert_eq!(
            read_some(fd, &mut buffer).map_err(Errno::reason),
            Err("is a directory")
        );
        close(fd);
    }

    #[test]
    fn memory_maps_grows_and_unmaps() {
        let page = map(4096, PROT_READ_WRITE, 0).unwrap();
        // SAFETY: the mapping is fresh, writable and ours.
        unsafe {
            *page.cast::<u8>() = 7;
            let grown = remap(page, 4096, 1 << 20).unwrap();
            assert_eq!(*grown.cast::<u8>(), 7);
            unmap(grown, 1 << 20);
        }
        assert!(map(usize::MAX - 4095, PROT_READ_WRITE, 0).is_none());
    }

    #[test]
    fn the_clock_moves_forward() {
        let first = monotonic_nanos();
        sleep_ms(2);
        assert!(monotonic_nanos() >= first + 2_000_000);
    }
}
