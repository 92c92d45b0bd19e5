//! The string library: `split`, `trim`, `to_upper`, `to_lower`, `contains`, `starts_with`,
//! `ends_with`, `replace`, `substring`, `char_at`, `index_of` and `join`.
//!
//! Indices are Unicode scalar indices. On ASCII strings (`chars == len`) they are byte indices, so
//! `char_at` and `substring` are O(1) there and O(n) otherwise. Out-of-range indices fault at the
//! caller's site with the messages of docs/values.md. One-character ASCII results are static
//! strings (no allocation), so `char_at` in a loop is cheap.
//!
//! Every function borrows its arguments and returns an owned result.
//!
//! What this module does not do: concatenation, comparison and `len` (see `string`).

use crate::array::{elements, keel_array_alloc, slots};
use crate::desc::{INT_ARRAY_DESC, STRING_ARRAY_DESC};
use crate::fault::{fault_at, index_message, slice_message, OF_STRING};
use crate::layout::{ArrayHeader, StrHeader, STATIC_RC};
use crate::object::retain;
use crate::prelude::*;
use crate::string::{alloc_string, append, as_bytes, as_str, count_chars, new_string_with_chars};

/// A static one-byte string object, for [`ASCII_STRINGS`].
#[repr(C)]
struct StaticChar {
    header: StrHeader,
    text: [u8; 8],
}

/// The 128 one-character ASCII strings, as static objects.
struct AsciiStrings([StaticChar; 128]);

// SAFETY: the table is never written: its objects are static (`rc == -1`), which retaining,
// releasing, freeing and appending all leave alone.
unsafe impl Sync for AsciiStrings {}

static ASCII_STRINGS: AsciiStrings = AsciiStrings(ascii_strings());

const fn ascii_strings() -> [StaticChar; 128] {
    const BLANK: StaticChar = StaticChar {
        header: StrHeader {
            rc: STATIC_RC,
            desc: core::ptr::null(),
            len: 1,
            cap: 1,
            chars: 1,
        },
        text: [0; 8],
    };
    let mut table = [BLANK; 128];
    let mut byte = 0;
    while byte < 128 {
        table[byte].text[0] = byte as u8;
        byte += 1;
    }
    table
}

/// A string holding `bytes` (valid UTF-8, `chars` scalars): a static object for one ASCII
/// character, else a new string.
fn string_of(bytes: &[u8], chars: i64) -> *mut StrHeader {
    if let [byte] = *bytes {
        if byte < 128 {
            let object: *const StaticChar = &ASCII_STRINGS.0[byte as usize];
            return object.cast_mut().cast();
        }
    }
    new_string_with_chars(bytes, chars)
}

/// A string holding `text` (the scalar count is computed).
fn string_of_str(text: &str) -> *mut StrHeader {
    string_of(text.as_bytes(), count_chars(text.as_bytes()))
}

/// `s` itself as a new reference.
///
/// # Safety
/// `s` must be a live string.
unsafe fn same(s: *const StrHeader) -> *mut StrHeader {
    // SAFETY: forwarded from the caller.
    unsafe { retain(s.cast_mut().cast()) };
    s.cast_mut()
}

/// Whether the string `s` is ASCII (its scalar indices are byte indices).
///
/// # Safety
/// `s` must be a live string.
unsafe fn is_ascii(s: *const StrHeader) -> bool {
    // SAFETY: forwarded from the caller.
    unsafe { (*s).chars == (*s).len }
}

/// The byte offset of scalar `index` (at most the scalar count) in `text`.
fn byte_offset(text: &str, index: i64) -> usize {
    text.char_indices()
        .nth(index as usize)
        .map_or(text.len(), |(offset, _)| offset)
}

/// `split(s, sep)`: the pieces of `s` between occurrences of `sep`; with an empty `sep`, one
/// string per scalar.
///
/// # Safety
/// `s` and `sep` must be live strings.
#[no_mangle]
pub unsafe extern "C" fn keel_str_split(
    s: *const StrHeader,
    sep: *const StrHeader,
) -> *mut ArrayHeader {
    // SAFETY: the caller guarantees both strings are live; the array has room for every piece.
    unsafe {
        let text = as_str(s);
        let sep = as_str(sep);
        let pieces: Vec<*mut StrHeader> = if sep.is_empty() {
            text.char_indices()
                .map(|(at, c)| string_of(&text.as_bytes()[at..at + c.len_utf8()], 1))
                .collect()
        } else if let [byte] = sep.as_bytes() {
            // One byte is one ASCII character: found with a byte search, not a substring one.
            // The pieces of an ASCII string are ASCII: their scalars need no counting.
            if is_ascii(s) {
                text.split(char::from(*byte))
                    .map(|piece| string_of(piece.as_bytes(), piece.len() as i64))
                    .collect()
            } else {
                text.split(char::from(*byte)).map(string_of_str).collect()
            }
        } else {
            text.split(sep).map(string_of_str).collect()
        };
        let array = keel_array_alloc(&STRING_ARRAY_DESC, pieces.len() as i64);
        for (index, piece) in pieces.into_iter().enumerate() {
            *slots(array).add(index) = piece as i64;
        }
        array
    }
}

/// `words(s)`: the words of `s`, the runs of characters between spaces, tabs, `\n` and `\r`
/// (none for a string of only those).
///
/// # Safety
/// `s` must be a live string.
#[no_mangle]
pub unsafe extern "C" fn keel_str_words(s: *const StrHeader) -> *mut ArrayHeader {
    // SAFETY: the caller guarantees `s` is live; the array has room for every word.
    unsafe {
        // The separators are ASCII, so every byte between them is part of a word, and the
        // words are valid UTF-8 on their own. The words are counted first, so that the array
        // is allocated once, at its size.
        let bytes = as_bytes(s);
        let mut count = 0;
        for_each_word(bytes, |_, _| count += 1);
        let array = keel_array_alloc(&STRING_ARRAY_DESC, count as i64);
        // The words of an ASCII string are ASCII: their scalars need no counting.
        let ascii = is_ascii(s);
        let mut index = 0;
        for_each_word(bytes, |start, end| {
            let word = &bytes[start..end];
            let chars = if ascii {
                word.len() as i64
            } else {
                count_chars(word)
            };
            *slots(array).add(index) = string_of(word, chars) as i64;
            index += 1;
        });
        array
    }
}

/// Calls `found(start, end)` for each word of `bytes` in order: each longest run of bytes that
/// are not `' '`, `'\t'`, `'\n'` or `'\r'`.
///
/// Eight bytes at a time, as one word: a mask with the high bit of each byte that belongs to a
/// word, compared with the same mask shifted by a byte, has a bit where a word starts or ends,
/// and those are visited in order. The test is branch-free: a loop asking of each byte whether
/// a word ends there mispredicts at nearly every word end, which was most of its time on text.
fn for_each_word(bytes: &[u8], mut found: impl FnMut(usize, usize)) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    /// The high bit of each zero byte of `x` (exact: no carry crosses a byte).
    fn zero_bytes(x: u64) -> u64 {
        !(((x & !HIGH) + !HIGH) | x) & HIGH
    }
    /// The high bit of each byte of `chunk` that is part of a word.
    fn word_bytes(chunk: u64) -> u64 {
        let separators = zero_bytes(chunk ^ (ONES * u64::from(b' ')))
            | zero_bytes(chunk ^ (ONES * u64::from(b'\t')))
            | zero_bytes(chunk ^ (ONES * u64::from(b'\n')))
            | zero_bytes(chunk ^ (ONES * u64::from(b'\r')));
        !separators & HIGH
    }
    let mut start = 0;
    // The high bit of byte 0: whether the byte before the chunk belongs to a word.
    let mut carry = 0;
    let mut step = |at: usize, chunk: u64| {
        let inside = word_bytes(chunk);
        let mut changes = inside ^ ((inside << 8) | carry);
        while changes != 0 {
            let bit = changes.trailing_zeros();
            let pos = at + bit as usize / 8;
            if inside & (1 << bit) != 0 {
                start = pos;
            } else {
                found(start, pos);
            }
            changes &= changes - 1;
        }
        carry = inside >> 56;
    };
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        step(at, u64::from_le_bytes(word));
        at += 8;
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        // Past the end of the text counts as a space, which ends a last word.
        let mut word = [b' '; 8];
        word[..rest.len()].copy_from_slice(rest);
        step(at, u64::from_le_bytes(word));
    }
    if carry != 0 {
        found(start, bytes.len());
    }
}

/// `trim(s)`: `s` without leading and trailing Unicode white space.
///
/// # Safety
/// `s` must be a live string.
#[no_mangle]
pub unsafe extern "C" fn keel_str_trim(s: *const StrHeader) -> *mut StrHeader {
    // SAFETY: the caller guarantees `s` is live.
    unsafe {
        let text = as_str(s);
        let trimmed = text.trim();
        if trimmed.len() == text.len() {
            return same(s);
        }
        string_of_str(trimmed)
    }
}

/// `to_upper(s)`: Unicode upper case.
///
/// # Safety
/// `s` must be a live string.
#[no_mangle]
pub unsafe extern "C" fn keel_str_to_upper(s: *const StrHeader) -> *mut StrHeader {
    // SAFETY: the caller guarantees `s` is live.
    unsafe {
        if is_ascii(s) {
            let upper = as_bytes(s).to_ascii_uppercase();
            return string_of(&upper, upper.len() as i64);
        }
        string_of_str(&as_str(s).to_uppercase())
    }
}

/// `to_lower(s)`: Unicode lower case.
///
/// # Safety
/// `s` must be a live string.
#[no_mangle]
pub unsafe extern "C" fn keel_str_to_lower(s: *const StrHeader) -> *mut StrHeader {
    // SAFETY: the caller guarantees `s` is live.
    unsafe {
        if is_ascii(s) {
            let lower = as_bytes(s).to_ascii_lowercase();
            return string_of(&lower, lower.len() as i64);
        }
        string_of_str(&as_str(s).to_lowercase())
    }
}

/// `contains(s, t)` as 0 or 1.
///
/// # Safety
/// `s` and `t` must be live strings.
#[no_mangle]
pub unsafe extern "C" fn keel_str_contains(s: *const StrHeader, t: *const StrHeader) -> i64 {
    // SAFETY: the caller guarantees both strings are live.
    i64::from(unsafe { as_str(s).contains(as_str(t)) })
}

/// `starts_with(s, t)` as 0 or 1.
///
/// # Safety
/// `s` and `t` must be live strings.
#[no_mangle]
pub unsafe extern "C" fn keel_str_starts_with(s: *const StrHeader, t: *const StrHeader) -> i64 {
    // SAFETY: the caller guarantees both strings are live.
    i64::from(unsafe { as_bytes(s).starts_with(as_bytes(t)) })
}

/// `ends_with(s, t)` as 0 or 1.
///
/// # Safety
/// `s` and `t` must be live strings.
#[no_mangle]
pub unsafe extern "C" fn keel_str_ends_with(s: *const StrHeader, t: *const StrHeader) -> i64 {
    // SAFETY: the caller guarantees both strings are live.
    i64::from(unsafe { as_bytes(s).ends_with(as_bytes(t)) })
}

/// `replace(s, from, to)`: every non-overlapping occurrence of `from`, left to right, replaced by
/// `to`. An empty `from` matches before every scalar and at the end (`replace("ab", "", "-")` is
/// `-a-b-`).
///
/// # Safety
/// `s`, `from` and `to` must be live strings.
#[no_mangle]
pub unsafe extern "C" fn keel_str_replace(
    s: *const StrHeader,
    from: *const StrHeader,
    to: *const StrHeader,
) -> *mut StrHeader {
    // SAFETY: the caller guarantees the strings are live.
    unsafe {
        let text = as_str(s);
        let from = as_str(from);
        if !from.is_empty() && !text.contains(from) {
            return same(s);
        }
        string_of_str(&text.replace(from, as_str(to)))
    }
}

/// `substring(s, i, j)`: the scalars `i..j`; faults unless `0 <= i <= j <= len(s)`.
///
/// # Safety
/// `s` must be a live string; `site` a valid site.
#[no_mangle]
pub unsafe extern "C" fn keel_str_substring(
    s: *const StrHeader,
    i: i64,
    j: i64,
    site: *const u8,
    site_len: usize,
) -> *mut StrHeader {
    // SAFETY: the caller guarantees `s` is live; the range is checked first.
    unsafe {
        let chars = (*s).chars;
        if !(0 <= i && i <= j && j <= chars) {
            fault_at(site, site_len, &slice_message(i, j, chars, OF_STRING));
            return core::ptr::null_mut();
        }
        if i == 0 && j == chars {
            return same(s);
        }
        let bytes = as_bytes(s);
        if is_ascii(s) {
            return string_of(&bytes[i as usize..j as usize], j - i);
        }
        let text = as_str(s);
        let start = byte_offset(text, i);
        let end = start + byte_offset(&text[start..], j - i);
        string_of(&bytes[start..end], j - i)
    }
}

/// `char_at(s, i)`: the scalar at index `i` as a string; faults unless `0 <= i < len(s)`.
///
/// # Safety
/// `s` must be a live string; `site` a valid site.
#[no_mangle]
pub unsafe extern "C" fn keel_str_char_at(
    s: *const StrHeader,
    i: i64,
    site: *const u8,
    site_len: usize,
) -> *mut StrHeader {
    // SAFETY: the caller guarantees `s` is live; the index is checked first.
    unsafe {
        let chars = (*s).chars;
        if !(0 <= i && i < chars) {
            fault_at(site, site_len, &index_message(i, chars, OF_STRING));
            return core::ptr::null_mut();
        }
        let bytes = as_bytes(s);
        if is_ascii(s) {
            return string_of(&bytes[i as usize..i as usize + 1], 1);
        }
        let text = as_str(s);
        let start = byte_offset(text, i);
        let width = text[start..].chars().next().map_or(0, char::len_utf8);
        string_of(&bytes[start..start + width], 1)
    }
}

/// `chr(code)`: the one-character string of the Unicode scalar value `code`; faults for a
/// number that is not one (negative, a surrogate, above U+10FFFF).
///
/// # Safety
/// `site` must be a valid site.
#[no_mangle]
pub unsafe extern "C" fn keel_str_chr(
    code: i64,
    site: *const u8,
    site_len: usize,
) -> *mut StrHeader {
    let Some(c) = u32::try_from(code).ok().and_then(char::from_u32) else {
        let message = format!("invalid argument: chr({code}) is not a Unicode scalar value");
        // SAFETY: forwarded from the caller.
        unsafe { fault_at(site, site_len, &message) };
        return core::ptr::null_mut();
    };
    let mut buffer = [0u8; 4];
    string_of(c.encode_utf8(&mut buffer).as_bytes(), 1)
}

/// `ord(s)`: the Unicode scalar value of the first character of `s`; faults for `""`.
///
/// # Safety
/// `s` must be a live string; `site` a valid site.
#[no_mangle]
pub unsafe extern "C" fn keel_str_ord(
    s: *const StrHeader,
    site: *const u8,
    site_len: usize,
) -> i64 {
    // SAFETY: the caller guarantees `s` is live.
    let first = unsafe { as_str(s) }.chars().next();
    match first {
        Some(c) => i64::from(u32::from(c)),
        None => {
            // SAFETY: forwarded from the caller.
            unsafe { fault_at(site, site_len, "invalid argument: ord of an empty string") };
            0
        }
    }
}

/// The byte functions of strings, by `op`: 0 `string_bytes_len(s)` (the number of UTF-8
/// bytes), 1 `string_byte_at(s, i)` (byte `i`, 0 to 255; faults unless `0 <= i < bytes`).
///
/// # Safety
/// `s` must be a live string; `site` a valid site.
#[no_mangle]
pub unsafe extern "C" fn keel_str_bytes(
    op: i64,
    s: *const StrHeader,
    i: i64,
    site: *const u8,
    site_len: usize,
) -> i64 {
    // SAFETY: the caller guarantees `s` is live.
    let bytes = unsafe { as_bytes(s) };
    if op == 0 {
        return bytes.len() as i64;
    }
    match usize::try_from(i).ok().and_then(|i| bytes.get(i)) {
        Some(&byte) => i64::from(byte),
        None => {
            let message = format!(
                "index out of bounds: byte {i} is out of range for a string of {} bytes",
                bytes.len()
            );
            // SAFETY: forwarded from the caller.
            unsafe { fault_at(site, site_len, &message) };
            0
        }
    }
}

/// `string_to_bytes(s)`: the UTF-8 bytes of `s`, as ints from 0 to 255.
///
/// # Safety
/// `s` must be a live string.
#[no_mangle]
pub unsafe extern "C" fn keel_str_to_bytes(s: *const StrHeader) -> *mut ArrayHeader {
    // SAFETY: the caller guarantees `s` is live; the array has room for every byte.
    unsafe {
        let bytes = as_bytes(s);
        let array = keel_array_alloc(&INT_ARRAY_DESC, bytes.len() as i64);
        for (index, &byte) in bytes.iter().enumerate() {
            *slots(array).add(index) = i64::from(byte);
        }
        array
    }
}

/// `index_of(s, t)`: the scalar index of the first occurrence of `t` in `s`, or -1 (0 for an
/// empty `t`).
///
/// # Safety
/// `s` and `t` must be live strings.
#[no_mangle]
pub unsafe extern "C" fn keel_str_index_of(s: *const StrHeader, t: *const StrHeader) -> i64 {
    // SAFETY: the caller guarantees both strings are live.
    unsafe {
        let text = as_str(s);
        match text.find(as_str(t)) {
            None => -1,
            Some(at) if is_ascii(s) => at as i64,
            Some(at) => count_chars(&text.as_bytes()[..at]),
        }
    }
}

/// `join(a, sep)`: the strings of `a` with `sep` between them.
///
/// # Safety
/// `a` must be a live array of strings; `sep` a live string.
#[no_mangle]
pub unsafe extern "C" fn keel_str_join(
    a: *const ArrayHeader,
    sep: *const StrHeader,
) -> *mut StrHeader {
    // SAFETY: the caller guarantees the array holds live strings; the result is unique, so
    // appending to it works in place within the capacity reserved here.
    unsafe {
        let items = elements(a);
        let separator = as_bytes(sep);
        let separator_chars = (*sep).chars;
        let total: usize = items
            .iter()
            .map(|&item| (*(item as *const StrHeader)).len as usize)
            .sum::<usize>()
            + separator.len() * items.len().saturating_sub(1);
        let mut joined = alloc_string(total as i64);
        for (index, &item) in items.iter().enumerate() {
            if index > 0 {
                joined = append(joined, separator, separator_chars);
            }
            let item = item as *const StrHeader;
            joined = append(joined, as_bytes(item), (*item).chars);
        }
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{live_objects, release};
    use crate::string::OwnedStaticStr;

    fn lit(text: &str) -> OwnedStaticStr {
        OwnedStaticStr::new(text)
    }

    fn take(s: *mut StrHeader) -> String {
        // SAFETY: `s` is a live string the test owns.
        unsafe {
            let text = as_str(s).to_string();
            assert_eq!((*s).chars, text.chars().count() as i64);
            release(s.cast());
            text
        }
    }

    fn take_all(a: *mut ArrayHeader) -> Vec<String> {
        // SAFETY: `a` is a live array of strings the test owns.
        unsafe {
            let items = elements(a)
                .iter()
                .map(|&s| as_str(s as *const StrHeader).to_string())
                .collect();
            release(a.cast());
            items
        }
    }

    fn split(s: &str, sep: &str) -> Vec<String> {
        // SAFETY: both strings are live.
        take_all(unsafe { keel_str_split(lit(s).as_ptr(), lit(sep).as_ptr()) })
    }

    #[test]
    fn words_are_the_runs_between_separators_at_every_alignment() {
        let before = live_objects();
        // Texts of every length up to 40 from an alphabet of separators, ASCII, other control
        // bytes and a two-byte character, against the plain definition.
        let alphabet = [" ", "\t", "\n", "\r", "a", "b", "\u{0}", "\u{1f}", "!", "é"];
        let mut state = 12345u64;
        for length in 0..40 {
            for _ in 0..50 {
                let text: String = (0..length)
                    .map(|_| {
                        state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                        alphabet[(state >> 33) as usize % alphabet.len()]
                    })
                    .collect();
                let expected: Vec<&str> = text
                    .split([' ', '\t', '\n', '\r'])
                    .filter(|word| !word.is_empty())
                    .collect();
                let words = lit(&text);
                // SAFETY: the string is live; the array's strings are checked by `take`.
                let array = unsafe { keel_str_words(words.as_ptr()) };
                // SAFETY: `array` is a live array of strings.
                let got: Vec<String> = unsafe { elements(array) }
                    .iter()
                    .map(|&word| {
                        // SAFETY: each element is a live string, retained for `take`.
                        unsafe { retain(word as *mut _) };
                        take(word as *mut StrHeader)
                    })
                    .collect();
                take_all(array);
                assert_eq!(got, expected, "{text:?}");
            }
        }
        assert_eq!(live_objects(), before);
    }

    #[test]
    fn splits() {
        let before = live_objects();
        assert_eq!(split("a,b,,c", ","), ["a", "b", "", "c"]);
        assert_eq!(split("", ","), [""]);
        assert_eq!(split("héllo", ""), ["h", "é", "l", "l", "o"]);
        assert_eq!(split("", ""), Vec::<String>::new());
        assert_eq!(split("a--b--", "--"), ["a", "b", ""]);
        assert_eq!(live_objects(), before);
    }

    #[test]
    fn trims_and_changes_case() {
        let before = live_objects();
        // SAFETY: the literals are live for each call.
        unsafe {
            assert_eq!(take(keel_str_trim(lit("  a b \n").as_ptr())), "a b");
            assert_eq!(take(keel_str_trim(lit("ab").as_ptr())), "ab");
            assert_eq!(take(keel_str_to_upper(lit("abc-1").as_ptr())), "ABC-1");
            assert_eq!(take(keel_str_to_upper(lit("straße").as_ptr())), "STRASSE");
            assert_eq!(take(keel_str_to_lower(lit("ÉCOLE X").as_ptr())), "école x");
        }
        assert_eq!(live_objects(), before);
    }

    #[test]
    fn searches() {
        let hay = lit("héllo wörld");
        let t = |needle: &str| lit(needle);
        // SAFETY: the literals are live for each call.
        unsafe {
            assert_eq!(keel_str_contains(hay.as_ptr(), t("wö").as_ptr()), 1);
            assert_eq!(keel_str_contains(hay.as_ptr(), t("x").as_ptr()), 0);
            assert_eq!(keel_str_starts_with(hay.as_ptr(), t("hé").as_ptr()), 1);
            assert_eq!(keel_str_ends_with(hay.as_ptr(), t("rld").as_ptr()), 1);
            assert_eq!(keel_str_ends_with(hay.as_ptr(), t("h").as_ptr()), 0);
            assert_eq!(keel_str_index_of(hay.as_ptr(), t("wö").as_ptr()), 6);
            assert_eq!(keel_str_index_of(hay.as_ptr(), t("").as_ptr()), 0);
            assert_eq!(keel_str_index_of(hay.as_ptr(), t("z").as_ptr()), -1);
            assert_eq!(
                keel_str_index_of(lit("abcabc").as_ptr(), t("ca").as_ptr()),
                2
            );
        }
    }

    #[test]
    fn replaces() {
        let before = live_objects();
        // SAFETY: the literals are live for each call.
        unsafe {
            let r = |s: &str, from: &str, to: &str| {
                take(keel_str_replace(
                    lit(s).as_ptr(),
                    lit(from).as_ptr(),
                    lit(to).as_ptr(),
                ))
            };
            assert_eq!(r("a.b.c", ".", "::"), "a::b::c");
            assert_eq!(r("aaa", "aa", "b"), "ba");
            assert_eq!(r("abc", "x", "y"), "abc");
            assert_eq!(r("ab", "", "-"), "-a-b-");
            assert_eq!(r("é", "é", "e"), "e");
        }
        assert_eq!(live_objects(), before);
    }

    #[test]
    fn indexes_by_scalar() {
        let before = live_objects();
        let ascii = lit("hello");
        let wide = lit("h€llo😀");
        let none = core::ptr::null();
        // SAFETY: the literals are live; every index is in range.
        unsafe {
            assert_eq!(
                take(keel_str_substring(ascii.as_ptr(), 1, 3, none, 0)),
                "el"
            );
            assert_eq!(
                take(keel_str_substring(ascii.as_ptr(), 0, 5, none, 0)),
                "hello"
            );
            assert_eq!(take(keel_str_substring(ascii.as_ptr(), 5, 5, none, 0)), "");
            assert_eq!(take(keel_str_substring(wide.as_ptr(), 1, 3, none, 0)), "€l");
            assert_eq!(take(keel_str_substring(wide.as_ptr(), 5, 6, none, 0)), "😀");
            assert_eq!(take(keel_str_char_at(ascii.as_ptr(), 4, none, 0)), "o");
            assert_eq!(take(keel_str_char_at(wide.as_ptr(), 1, none, 0)), "€");
            assert_eq!(take(keel_str_char_at(wide.as_ptr(), 5, none, 0)), "😀");
            // One ASCII character is a static string: nothing is allocated.
            let c = keel_str_char_at(ascii.as_ptr(), 0, none, 0);
            assert_eq!((*c).rc, STATIC_RC);
            assert_eq!(live_objects(), before);
        }
        assert_eq!(live_objects(), before);
    }

    #[test]
    fn joins() {
        let before = live_objects();
        // SAFETY: the arrays and strings are built here and released once.
        unsafe {
            let parts = keel_str_split(lit("a b c").as_ptr(), lit(" ").as_ptr());
            assert_eq!(take(keel_str_join(parts, lit(", ").as_ptr())), "a, b, c");
            release(parts.cast());
            let none = keel_array_alloc(&STRING_ARRAY_DESC, 0);
            assert_eq!(take(keel_str_join(none, lit(", ").as_ptr())), "");
            release(none.cast());
            let one = keel_str_split(lit("é").as_ptr(), lit(",").as_ptr());
            assert_eq!(take(keel_str_join(one, lit("-").as_ptr())), "é");
            release(one.cast());
        }
        assert_eq!(live_objects(), before);
    }
}
