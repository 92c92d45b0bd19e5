//! Unbuffered writes to the standard output and error descriptors, and lines assembled on the
//! stack, so that output and fault reports need no heap.
//!
//! Reporting a fault must work when the heap is exhausted (out of memory is itself a fault), so
//! nothing here allocates: [`write_all`] writes a byte slice straight to a descriptor, and
//! [`StackLine`] collects a report's pieces in a fixed buffer and writes it with as few `write`
//! calls as it can (one for any report that fits), so a fault's line is not interleaved with
//! other output.
//!
//! What this module does not do: buffer standard output (see `output`) or decide what a write
//! error means.

use core::fmt;

use crate::sys::Errno;

/// The standard output descriptor.
pub const STDOUT: i32 = 1;
/// The standard error descriptor.
pub const STDERR: i32 = 2;

/// Writes all of `bytes` to the descriptor `fd` (retrying interrupted and partial writes).
pub fn write_all(fd: i32, bytes: &[u8]) -> Result<(), Errno> {
    crate::sys::write_all(fd, bytes)
}

/// A line of text built on the stack and written to a descriptor: what does not fit in `N`
/// bytes is written as it comes.
pub struct StackLine<const N: usize> {
    fd: i32,
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> StackLine<N> {
    /// An empty line for the descriptor `fd`.
    pub fn new(fd: i32) -> Self {
        StackLine {
            fd,
            bytes: [0; N],
            len: 0,
        }
    }

    /// Appends `bytes`, writing out what is held when they do not fit.
    pub fn push(&mut self, bytes: &[u8]) -> &mut Self {
        if self.len + bytes.len() > N {
            self.write_held();
            if bytes.len() > N {
                let _ = write_all(self.fd, bytes);
                return self;
            }
        }
        self.bytes[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
        self
    }

    /// Writes what is held (errors are ignored: there is nowhere left to report them).
    pub fn finish(mut self) {
        self.write_held();
    }

    fn write_held(&mut self) {
        if self.len > 0 {
            let _ = write_all(self.fd, &self.bytes[..self.len]);
            self.len = 0;
        }
    }
}

impl<const N: usize> fmt::Write for StackLine<N> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.push(text.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;

    /// A line longer than the buffer reaches the descriptor whole and in order.
    #[test]
    fn long_lines_are_written_in_order() {
        use core::fmt::Write as _;
        use std::io::Read;
        use std::os::fd::AsRawFd;

        let mut file = tempfile_in_target();
        let fd = file.as_raw_fd();
        let mut line = StackLine::<8>::new(fd);
        line.push(b"abc").push(b"defgh").push(b"0123456789abcdef");
        let _ = write!(line, "-{}-", 42);
        line.push(b"\n");
        line.finish();
        let mut text = String::new();
        use std::io::Seek;
        file.rewind().unwrap();
        file.read_to_string(&mut text).unwrap();
        assert_eq!(text, "abcdefgh0123456789abcdef-42-\n");
    }

    fn tempfile_in_target() -> File {
        let path = std::env::temp_dir().join(format!("keel-fd-test-{}", std::process::id()));
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        let _ = std::fs::remove_file(&path);
        file
    }
}
