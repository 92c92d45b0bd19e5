//! The in-memory layout of Keel strings.
//!
//! A string value is a pointer to a [`StrHeader`] immediately followed by `len` bytes of UTF-8.
//! String literals are *static* objects: their reference count is [`STATIC_RC`] and they are never
//! freed. Compilers lay literals out in read-only data with exactly this layout (8-byte aligned).
//!
//! Not here yet: heap strings, concatenation and reference counting (they arrive with the values work).

/// The header in front of every string's bytes.
#[repr(C)]
#[derive(Debug)]
pub struct StrHeader {
    /// Reference count; [`STATIC_RC`] for literals that live as long as the program.
    pub rc: i64,
    /// Length in bytes.
    pub len: i64,
}

/// The reference count of a static (never freed) string.
pub const STATIC_RC: i64 = -1;

/// Size in bytes of [`StrHeader`]; the text starts this far after the string pointer.
pub const HEADER_SIZE: usize = std::mem::size_of::<StrHeader>();

/// Serialises a static string object (header then bytes) as a compiler writes it into data.
pub fn static_string_bytes(text: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HEADER_SIZE + text.len());
    bytes.extend_from_slice(&STATIC_RC.to_ne_bytes());
    bytes.extend_from_slice(&(text.len() as i64).to_ne_bytes());
    bytes.extend_from_slice(text.as_bytes());
    bytes
}

/// A static string object owned by Rust code (the VM's literal pool), 8-byte aligned.
pub struct OwnedStaticStr {
    words: Box<[u64]>,
}

impl OwnedStaticStr {
    pub fn new(text: &str) -> Self {
        let bytes = static_string_bytes(text);
        let mut words = vec![0u64; bytes.len().div_ceil(8)].into_boxed_slice();
        for (word, chunk) in words.iter_mut().zip(bytes.chunks(8)) {
            let mut buf = [0u8; 8];
            buf[..chunk.len()].copy_from_slice(chunk);
            *word = u64::from_ne_bytes(buf);
        }
        OwnedStaticStr { words }
    }

    /// The string value: a pointer to the header, valid as long as `self` lives.
    pub fn as_ptr(&self) -> *const StrHeader {
        self.words.as_ptr().cast()
    }
}

/// Views a string value's text.
///
/// # Safety
/// `s` must point to a live string object laid out as described in this module.
pub unsafe fn as_bytes<'a>(s: *const StrHeader) -> &'a [u8] {
    // SAFETY: the caller guarantees `s` is a valid header followed by `len` bytes.
    unsafe {
        let len = (*s).len as usize;
        std::slice::from_raw_parts(s.cast::<u8>().add(HEADER_SIZE), len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_static_string_reads_back() {
        let s = OwnedStaticStr::new("héllo, world");
        // SAFETY: `s` is alive for the whole test.
        let text = unsafe { as_bytes(s.as_ptr()) };
        assert_eq!(text, "héllo, world".as_bytes());
        // SAFETY: as above.
        assert_eq!(unsafe { (*s.as_ptr()).rc }, STATIC_RC);
    }
}
