//! Keel strings: the object, how it is built, and the core operations (`+`, `==`, `<`, `len`,
//! `to_string` of scalars).
//!
//! A string value is a pointer to a [`StrHeader`] (`{rc, desc = null, len, cap, chars}`) followed
//! by `cap` bytes of which the first `len` are UTF-8 text (see `layout`). `chars` counts Unicode
//! scalar values, so `len(s)` is O(1) and ASCII text (`chars == len`) is indexed in O(1).
//! String literals are *static* objects (`rc == -1`), laid out by [`static_string_bytes`] in the
//! compiler's read-only data or held by an [`OwnedStaticStr`] in the VM; they are never freed.
//!
//! Strings are immutable as far as the program can see. `keel_str_concat` consumes its left
//! operand and appends in place when that operand is unique (capacity grows by doubling), so
//! `s = s + t` in a loop is amortised O(len(t)).
//!
//! Every string's text is valid UTF-8: literals come from source text, `input` replaces invalid
//! bytes, and every operation cuts text at scalar boundaries only.
//!
//! What this module does not do: the library functions on strings (`split`, `trim`, ... see
//! `string_ops`) or printing (see `output`).

use crate::float::FloatText;
use crate::layout::STR_BYTES_OFFSET;
use crate::object::{alloc_string_memory, object_size, realloc_string_memory, release};
use crate::prelude::*;

pub use crate::layout::{StrHeader, STATIC_RC};

/// The size of a string object with `cap` bytes of text.
pub(crate) fn string_size(cap: i64) -> usize {
    object_size(STR_BYTES_OFFSET as usize, cap, 1)
}

/// The number of Unicode scalar values in UTF-8 `bytes`.
pub fn count_chars(bytes: &[u8]) -> i64 {
    // Every scalar has exactly one byte that is not a continuation byte (`0b10xx_xxxx`).
    bytes.iter().filter(|&&byte| (byte as i8) >= -0x40).count() as i64
}

/// A new empty string object with room for `cap` bytes; `rc` is 1.
pub(crate) fn alloc_string(cap: i64) -> *mut StrHeader {
    let s = alloc_string_memory(string_size(cap)).cast::<StrHeader>();
    // SAFETY: `s` was just allocated with room for the header.
    unsafe {
        s.write(StrHeader {
            rc: 1,
            desc: core::ptr::null(),
            len: 0,
            cap,
            chars: 0,
        });
    }
    s
}

/// A new string holding `bytes` (valid UTF-8) with `chars` scalars.
pub(crate) fn new_string_with_chars(bytes: &[u8], chars: i64) -> *mut StrHeader {
    let s = alloc_string(bytes.len() as i64);
    // SAFETY: `s` has room for `bytes.len()` bytes of text.
    unsafe {
        core::ptr::copy_nonoverlapping(bytes.as_ptr(), text_ptr(s), bytes.len());
        (*s).len = bytes.len() as i64;
        (*s).chars = chars;
    }
    s
}

/// A new string holding `bytes`, which must be valid UTF-8.
pub fn new_string(bytes: &[u8]) -> *mut StrHeader {
    new_string_with_chars(bytes, count_chars(bytes))
}

/// A new string with the same text as `s`.
///
/// # Safety
/// `s` must be a live string.
pub(crate) unsafe fn copy_string(s: *const StrHeader) -> *mut StrHeader {
    // SAFETY: the caller guarantees `s` is live.
    unsafe { new_string_with_chars(as_bytes(s), (*s).chars) }
}

/// The address of a string's first byte.
///
/// # Safety
/// `s` must point to a string object.
unsafe fn text_ptr(s: *mut StrHeader) -> *mut u8 {
    // SAFETY: the text follows the header inside the object.
    unsafe { s.cast::<u8>().add(STR_BYTES_OFFSET as usize) }
}

/// Serialises a static string object (header then bytes) as a compiler writes it into data
/// (8-byte aligned).
pub fn static_string_bytes(text: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(STR_BYTES_OFFSET as usize + text.len());
    let len = text.len() as i64;
    for word in [STATIC_RC, 0, len, len, count_chars(text.as_bytes())] {
        bytes.extend_from_slice(&word.to_ne_bytes());
    }
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
        core::slice::from_raw_parts(s.cast::<u8>().add(STR_BYTES_OFFSET as usize), len)
    }
}

/// Views a string value's text as `str`.
///
/// # Safety
/// As for [`as_bytes`].
pub unsafe fn as_str<'a>(s: *const StrHeader) -> &'a str {
    // SAFETY: every Keel string holds valid UTF-8 (see the module documentation).
    unsafe { core::str::from_utf8_unchecked(as_bytes(s)) }
}

/// Appends `tail` (valid UTF-8 of `tail_chars` scalars) to the string `s`, which is consumed: in
/// place when `s` is unique (growing its capacity by doubling), else into a new string.
///
/// # Safety
/// `s` must be a live string the caller owns a reference to; `tail` must not point into `s`
/// unless `s` is shared.
pub(crate) unsafe fn append(s: *mut StrHeader, tail: &[u8], tail_chars: i64) -> *mut StrHeader {
    // SAFETY: the caller guarantees `s` is live and owned; all writes stay within `cap`.
    unsafe {
        let len = (*s).len;
        let needed = len + tail.len() as i64;
        if (*s).rc == 1 {
            let mut s = s;
            let cap = (*s).cap;
            if needed > cap {
                let new_cap = needed.max(cap.saturating_mul(2)).max(16);
                s = realloc_string_memory(s.cast(), string_size(cap), string_size(new_cap)).cast();
                (*s).cap = new_cap;
            }
            let end = text_ptr(s).add(len as usize);
            core::ptr::copy_nonoverlapping(tail.as_ptr(), end, tail.len());
            (*s).len = needed;
            (*s).chars += tail_chars;
            return s;
        }
        let joined = alloc_string(needed);
        let text = text_ptr(joined);
        core::ptr::copy_nonoverlapping(text_ptr(s), text, len as usize);
        core::ptr::copy_nonoverlapping(tail.as_ptr(), text.add(len as usize), tail.len());
        (*joined).len = needed;
        (*joined).chars = (*s).chars + tail_chars;
        release(s.cast());
        joined
    }
}

/// `a + b`: consumes `a` (appending in place when it is unique), borrows `b`.
///
/// # Safety
/// `a` must be a live string the caller owns a reference to; `b` a live string.
#[no_mangle]
pub unsafe extern "C" fn keel_str_concat(a: *mut StrHeader, b: *const StrHeader) -> *mut StrHeader {
    // SAFETY: when `b` is `a`, `a` has two references and is not changed in place.
    unsafe { append(a, as_bytes(b), (*b).chars) }
}

/// `a == b` (byte equality) as 0 or 1.
///
/// # Safety
/// `a` and `b` must be live strings.
#[no_mangle]
pub unsafe extern "C" fn keel_str_eq(a: *const StrHeader, b: *const StrHeader) -> i64 {
    // SAFETY: the caller guarantees both are live.
    i64::from(a == b || unsafe { as_bytes(a) == as_bytes(b) })
}

/// Compares `a` and `b` by bytes: -1, 0 or 1.
///
/// # Safety
/// `a` and `b` must be live strings.
#[no_mangle]
pub unsafe extern "C" fn keel_str_cmp(a: *const StrHeader, b: *const StrHeader) -> i64 {
    // SAFETY: the caller guarantees both are live.
    match unsafe { as_bytes(a).cmp(as_bytes(b)) } {
        core::cmp::Ordering::Less => -1,
        core::cmp::Ordering::Equal => 0,
        core::cmp::Ordering::Greater => 1,
    }
}

/// `len(s)`: the number of Unicode scalar values.
///
/// # Safety
/// `s` must be a live string.
#[no_mangle]
pub unsafe extern "C" fn keel_str_len(s: *const StrHeader) -> i64 {
    // SAFETY: the caller guarantees `s` is live.
    unsafe { (*s).chars }
}

/// `to_string(i)`: decimal digits.
#[no_mangle]
pub extern "C" fn keel_str_from_int(value: i64) -> *mut StrHeader {
    let mut digits = [0u8; 20];
    let text = crate::output::format_int(value, &mut digits);
    new_string_with_chars(text, text.len() as i64)
}

/// `to_string(f)`: the float text rule.
#[no_mangle]
pub extern "C" fn keel_str_from_float(value: f64) -> *mut StrHeader {
    let text = FloatText::new(value);
    new_string_with_chars(text.as_bytes(), text.as_bytes().len() as i64)
}

/// `to_string(b)`: `true` or `false`.
#[no_mangle]
pub extern "C" fn keel_str_from_bool(value: i64) -> *mut StrHeader {
    let text: &[u8] = if value != 0 { b"true" } else { b"false" };
    new_string_with_chars(text, text.len() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{live_objects, retain};

    /// Reads a string result and releases it.
    fn take(s: *mut StrHeader) -> String {
        // SAFETY: `s` is a live string the test owns.
        unsafe {
            let text = as_str(s).to_string();
            assert_eq!((*s).chars, text.chars().count() as i64);
            release(s.cast());
            text
        }
    }

    #[test]
    fn owned_static_string_reads_back() {
        let s = OwnedStaticStr::new("héllo, world");
        // SAFETY: `s` is alive for the whole test.
        unsafe {
            assert_eq!(as_bytes(s.as_ptr()), "héllo, world".as_bytes());
            assert_eq!((*s.as_ptr()).rc, STATIC_RC);
            assert!((*s.as_ptr()).desc.is_null());
            assert_eq!(keel_str_len(s.as_ptr()), 12);
            assert_eq!((*s.as_ptr()).len, 13);
        }
    }

    #[test]
    fn concat_appends_in_place_when_unique() {
        let before = live_objects();
        let tail = OwnedStaticStr::new("ab");
        // SAFETY: strings are built by the runtime and released exactly once.
        unsafe {
            let mut s = new_string(b"");
            for _ in 0..100 {
                s = keel_str_concat(s, tail.as_ptr());
            }
            assert_eq!((*s).len, 200);
            assert_eq!(live_objects(), before + 1);
            assert!((*s).cap >= 200 && (*s).cap < 400);
            // Shared: a new string, the original keeps its text.
            retain(s.cast());
            let other = keel_str_concat(s, tail.as_ptr());
            assert_ne!(other, s);
            assert_eq!((*s).rc, 1);
            assert_eq!((*s).len, 200);
            assert_eq!(take(other).len(), 202);
            // Concatenating a string with itself.
            retain(s.cast());
            let doubled = keel_str_concat(s, s);
            assert_eq!(take(doubled).len(), 400);
            release(s.cast());
        }
        assert_eq!(live_objects(), before);
    }

    #[test]
    fn concat_of_a_literal_copies_it() {
        let left = OwnedStaticStr::new("né");
        let right = OwnedStaticStr::new("e");
        // SAFETY: a static string may be consumed; the result is owned.
        let joined = unsafe { keel_str_concat(left.as_ptr() as *mut _, right.as_ptr()) };
        assert_eq!(take(joined), "née");
    }

    #[test]
    fn comparisons() {
        let a = OwnedStaticStr::new("apple");
        let b = OwnedStaticStr::new("apples");
        let c = OwnedStaticStr::new("apple");
        // SAFETY: all are live static strings.
        unsafe {
            assert_eq!(keel_str_eq(a.as_ptr(), c.as_ptr()), 1);
            assert_eq!(keel_str_eq(a.as_ptr(), b.as_ptr()), 0);
            assert_eq!(keel_str_cmp(a.as_ptr(), b.as_ptr()), -1);
            assert_eq!(keel_str_cmp(b.as_ptr(), a.as_ptr()), 1);
            assert_eq!(keel_str_cmp(a.as_ptr(), c.as_ptr()), 0);
        }
    }

    #[test]
    fn scalars_to_string() {
        assert_eq!(take(keel_str_from_int(i64::MIN)), "-9223372036854775808");
        assert_eq!(take(keel_str_from_int(42)), "42");
        assert_eq!(take(keel_str_from_float(2.5)), "2.5");
        assert_eq!(take(keel_str_from_float(1e100)), "1e100");
        assert_eq!(take(keel_str_from_bool(1)), "true");
        assert_eq!(take(keel_str_from_bool(0)), "false");
    }

    #[test]
    fn counts_scalars() {
        assert_eq!(count_chars(b""), 0);
        assert_eq!(count_chars("aé😀z".as_bytes()), 4);
    }
}
