//! Keel arrays: allocation, copy-on-write growth, and the array library functions (`push`, `pop`,
//! `slice`, `concat`, `reverse`, `sort`, `contains`, `index_of`, `array_fill`).
//!
//! An array value is a pointer to an [`ArrayHeader`] (`{rc, desc, len, cap}`) followed by `cap`
//! 8-byte slots; the first `len` hold elements: an `int`, the bits of a `float`, a `bool` as 0/1,
//! or a pointer to a heap object (see `layout`). `desc` is the array type's descriptor.
//!
//! Functions that take an array *owned* (`push`, `pop`, `concat`, `reverse`, `sort`) change it in
//! place when it is unique and copy it first otherwise; `push` grows the capacity by doubling, so
//! `a = push(a, x)` in a loop is amortised O(1). Functions that build a new array from a borrowed
//! one retain the heap elements they copy.
//!
//! What this module does not do: element equality and printing (see `value`), or `ArrayGet` /
//! `ArraySet`, which backends do inline.

use crate::desc::{desc_is_heap, TypeDesc, KIND_BOOL, KIND_FLOAT, KIND_INT, KIND_STRING};
use crate::fault::{bounds_message, fault_at, slice_message, OF_ARRAY};
use crate::layout::{ArrayHeader, ObjHeader, ARRAY_ELEMS_OFFSET};
use crate::object::{
    alloc_object, is_unique, object_size, realloc_object, release, release_word, retain_many,
    retain_word,
};
use crate::prelude::*;
use crate::string::as_bytes;
use crate::value::word_eq;

/// The size of an array object with `cap` slots.
pub(crate) fn array_size(cap: i64) -> usize {
    object_size(ARRAY_ELEMS_OFFSET as usize, cap, 8)
}

/// The address of an array's first slot.
///
/// # Safety
/// `a` must point to an array object.
pub unsafe fn slots(a: *mut ArrayHeader) -> *mut i64 {
    // SAFETY: the slots follow the header inside the object.
    unsafe { a.cast::<u8>().add(ARRAY_ELEMS_OFFSET as usize).cast() }
}

/// An array's elements.
///
/// # Safety
/// `a` must be a live array that is not changed while the slice is used.
pub unsafe fn elements<'a>(a: *const ArrayHeader) -> &'a [i64] {
    // SAFETY: the first `len` slots are initialised elements.
    unsafe { core::slice::from_raw_parts(slots(a.cast_mut()), (*a).len as usize) }
}

/// An array's elements, to change in place.
///
/// # Safety
/// `a` must be a live array the caller owns uniquely, and no other view of it may be used while
/// the slice is.
unsafe fn elements_mut<'a>(a: *mut ArrayHeader) -> &'a mut [i64] {
    // SAFETY: as for `elements`, with exclusive access.
    unsafe { core::slice::from_raw_parts_mut(slots(a), (*a).len as usize) }
}

/// The descriptor of an array's elements.
///
/// # Safety
/// `a` must be a live array with a valid descriptor.
pub unsafe fn elem_desc(a: *const ArrayHeader) -> *const TypeDesc {
    // SAFETY: the caller guarantees `a` and its descriptor are valid.
    unsafe { (*(*a).desc).elem }
}

/// A new array of type `desc` with `len` elements (all slots zeroed when `zeroed`, else only
/// `len..cap` are left uninitialised for the caller to fill) and room for `cap`; `rc` is 1.
pub(crate) fn alloc_array(
    desc: *const TypeDesc,
    len: i64,
    cap: i64,
    zeroed: bool,
) -> *mut ArrayHeader {
    let cap = cap.max(len).max(0);
    let a = alloc_object(array_size(cap), zeroed).cast::<ArrayHeader>();
    // SAFETY: `a` was just allocated with room for the header.
    unsafe {
        a.write(ArrayHeader {
            rc: 1,
            desc,
            len: len.max(0),
            cap,
        });
    }
    a
}

/// Releases the element value `word` of the array `a` when elements are heap values.
///
/// # Safety
/// `a` must be a live array; `word` an element of its type that the caller owns.
unsafe fn release_element(a: *const ArrayHeader, word: i64) {
    // SAFETY: forwarded from the caller.
    unsafe {
        if desc_is_heap(elem_desc(a)) {
            release_word(word);
        }
    }
}

/// Retains every element of `items` when they are heap values.
///
/// # Safety
/// `items` must be elements of an array whose element type is `elem`.
unsafe fn retain_all(items: &[i64], elem: *const TypeDesc) {
    // SAFETY: heap elements are null or live objects.
    unsafe {
        if desc_is_heap(elem) {
            for &word in items {
                retain_word(word);
            }
        }
    }
}

/// A new array (`rc` 1) with the elements of `a` (retained) and room for `cap` of them.
///
/// # Safety
/// `a` must be a live array.
pub(crate) unsafe fn copy_array(a: *const ArrayHeader, cap: i64) -> *mut ArrayHeader {
    // SAFETY: the caller guarantees `a` is live; the copy has room for its elements.
    unsafe {
        let items = elements(a);
        let copy = alloc_array((*a).desc, items.len() as i64, cap, false);
        core::ptr::copy_nonoverlapping(items.as_ptr(), slots(copy), items.len());
        retain_all(items, elem_desc(a));
        copy
    }
}

/// Makes the owned array `a` unique with room for at least `needed` elements: grows it in place
/// (doubling) when it is unique, else copies it and releases one reference of the original.
///
/// # Safety
/// `a` must be a live array the caller owns a reference to.
unsafe fn reserve_unique(a: *mut ArrayHeader, needed: i64) -> *mut ArrayHeader {
    // SAFETY: the caller guarantees `a` is live and owned.
    unsafe {
        if !is_unique(a.cast()) {
            let copy = copy_array(a, needed);
            release(a.cast());
            return copy;
        }
        let cap = (*a).cap;
        if needed <= cap {
            return a;
        }
        let new_cap = needed.max(cap.saturating_mul(2)).max(4);
        let grown = realloc_object(a.cast(), array_size(cap), array_size(new_cap));
        let grown = grown.cast::<ArrayHeader>();
        (*grown).cap = new_cap;
        grown
    }
}

/// Allocates an array of type `desc` with `len` elements, all zero (null for heap elements), for
/// the caller to fill; `rc` is 1.
///
/// # Safety
/// `desc` must be a valid array descriptor that outlives the array.
#[no_mangle]
pub unsafe extern "C" fn keel_array_alloc(desc: *const TypeDesc, len: i64) -> *mut ArrayHeader {
    alloc_array(desc, len, len, true)
}

/// `push(a, v)`: `a` with `v` appended. Consumes both.
///
/// # Safety
/// `a` must be a live array the caller owns a reference to; `v` an owned element of its type.
#[no_mangle]
pub unsafe extern "C" fn keel_array_push(a: *mut ArrayHeader, value: i64) -> *mut ArrayHeader {
    // SAFETY: `reserve_unique` leaves room for one more element in a unique array.
    unsafe {
        let len = (*a).len;
        let a = reserve_unique(a, len + 1);
        *slots(a).add(len as usize) = value;
        (*a).len = len + 1;
        a
    }
}

/// `pop(a)`: `a` without its last element (released). Consumes `a`, also when it faults because
/// `a` is empty (a recovered fault finds `a` released).
///
/// # Safety
/// `a` must be a live array the caller owns a reference to; `site` a valid site.
#[no_mangle]
pub unsafe extern "C" fn keel_array_pop(
    a: *mut ArrayHeader,
    site: *const u8,
    site_len: usize,
) -> *mut ArrayHeader {
    // SAFETY: the caller guarantees `a` is live and owned.
    unsafe {
        let len = (*a).len;
        if len == 0 {
            fault_at(site, site_len, "invalid argument: pop of an empty array");
            // Recovered: the caller propagates the fault, and the array it passed is released
            // here, as every runtime function that consumes an argument and faults does.
            release(a.cast());
            return core::ptr::null_mut();
        }
        if !is_unique(a.cast()) {
            // Copy all but the last element instead of copying it only to release it.
            let items = &elements(a)[..len as usize - 1];
            let copy = alloc_array((*a).desc, items.len() as i64, items.len() as i64, false);
            core::ptr::copy_nonoverlapping(items.as_ptr(), slots(copy), items.len());
            retain_all(items, elem_desc(a));
            release(a.cast());
            return copy;
        }
        let last = *slots(a).add(len as usize - 1);
        (*a).len = len - 1;
        release_element(a, last);
        a
    }
}

/// `slice(a, i, j)`: a new array of the elements `i..j`. Borrows `a`; faults unless
/// `0 <= i <= j <= len(a)`.
///
/// # Safety
/// `a` must be a live array; `site` a valid site.
#[no_mangle]
pub unsafe extern "C" fn keel_array_slice(
    a: *const ArrayHeader,
    i: i64,
    j: i64,
    site: *const u8,
    site_len: usize,
) -> *mut ArrayHeader {
    // SAFETY: the caller guarantees `a` is live; the range was checked.
    unsafe {
        let len = (*a).len;
        if !(0 <= i && i <= j && j <= len) {
            fault_at(site, site_len, &slice_message(i, j, len, OF_ARRAY));
            return core::ptr::null_mut();
        }
        let items = &elements(a)[i as usize..j as usize];
        let copy = alloc_array((*a).desc, items.len() as i64, items.len() as i64, false);
        core::ptr::copy_nonoverlapping(items.as_ptr(), slots(copy), items.len());
        retain_all(items, elem_desc(a));
        copy
    }
}

/// `concat(a, b)`: `a` followed by `b`'s elements. Consumes `a` (extended in place when unique),
/// borrows `b`.
///
/// # Safety
/// `a` must be a live array the caller owns a reference to; `b` a live array of the same type.
#[no_mangle]
pub unsafe extern "C" fn keel_array_concat(
    a: *mut ArrayHeader,
    b: *const ArrayHeader,
) -> *mut ArrayHeader {
    // SAFETY: when `b` is `a`, `a` is shared and so copied before it changes; the copy has room.
    unsafe {
        let len = (*a).len;
        let extra = (*b).len;
        let a = reserve_unique(a, len + extra);
        let items = elements(b);
        core::ptr::copy_nonoverlapping(items.as_ptr(), slots(a).add(len as usize), items.len());
        retain_all(items, elem_desc(a));
        (*a).len = len + extra;
        a
    }
}

/// `reverse(a)`: the elements in reverse order. Consumes `a` (reversed in place when unique).
///
/// # Safety
/// `a` must be a live array the caller owns a reference to.
#[no_mangle]
pub unsafe extern "C" fn keel_array_reverse(a: *mut ArrayHeader) -> *mut ArrayHeader {
    // SAFETY: `reserve_unique` makes `a` unique, so it may change in place.
    unsafe {
        let a = reserve_unique(a, (*a).len);
        elements_mut(a).reverse();
        a
    }
}

/// `sort(a)`: ints and bools ascending, floats by [`float_order`] (ascending, `-0.0` before
/// `0.0`, every NaN last), strings by bytes. Consumes `a` (sorted in place when unique). Arrays
/// of other element types are returned unchanged.
///
/// # Safety
/// `a` must be a live array the caller owns a reference to.
#[no_mangle]
pub unsafe extern "C" fn keel_array_sort(a: *mut ArrayHeader) -> *mut ArrayHeader {
    // SAFETY: `reserve_unique` makes `a` unique; string elements are live strings.
    unsafe {
        let kind = (*elem_desc(a)).kind;
        let a = reserve_unique(a, (*a).len);
        let items = elements_mut(a);
        match kind {
            KIND_INT | KIND_BOOL => items.sort_unstable(),
            KIND_FLOAT => items.sort_unstable_by(|x, y| {
                float_order(f64::from_bits(*x as u64), f64::from_bits(*y as u64))
            }),
            KIND_STRING => {
                items.sort_by(|x, y| as_bytes(*x as *const _).cmp(as_bytes(*y as *const _)))
            }
            _ => {}
        }
        a
    }
}

/// The order `sort` puts floats in: ascending, `-0.0` before `0.0`, every NaN last. A NaN's sign
/// is not part of it: `0.0 / 0.0` is a negative NaN on x86_64 and a positive one on aarch64, and
/// nothing else in Keel can see the difference.
fn float_order(a: f64, b: f64) -> core::cmp::Ordering {
    use core::cmp::Ordering;
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.total_cmp(&b),
    }
}

/// `index_of(a, v)`: the index of the first element equal to `v` (deep equality), or -1.
///
/// # Safety
/// `a` must be a live array; `value` an element of its type.
#[no_mangle]
pub unsafe extern "C" fn keel_array_index_of(a: *const ArrayHeader, value: i64) -> i64 {
    // SAFETY: the caller guarantees `a` is live and `value` has its element type.
    unsafe {
        let elem = elem_desc(a);
        elements(a)
            .iter()
            .position(|&item| word_eq(item, value, elem))
            .map_or(-1, |index| index as i64)
    }
}

/// `contains(a, v)`: whether some element equals `v` (deep equality), as 0 or 1.
///
/// # Safety
/// `a` must be a live array; `value` an element of its type.
#[no_mangle]
pub unsafe extern "C" fn keel_array_contains(a: *const ArrayHeader, value: i64) -> i64 {
    // SAFETY: forwarded from the caller.
    i64::from(unsafe { keel_array_index_of(a, value) } >= 0)
}

/// Reports `message` at the site and releases what a faulting position function consumed: the
/// array and, when `value` is given, the value (an element of the array's type).
///
/// # Safety
/// `a` must be a live array the caller owns; `value` an owned element of its type; `site` a
/// valid site.
unsafe fn position_fault(
    a: *mut ArrayHeader,
    value: Option<i64>,
    message: &str,
    site: *const u8,
    site_len: usize,
) -> *mut ArrayHeader {
    // SAFETY: forwarded from the caller.
    unsafe {
        fault_at(site, site_len, message);
        // Recovered: the caller propagates the fault; what was consumed is released here.
        if let Some(value) = value {
            release_element(a, value);
        }
        release(a.cast());
    }
    core::ptr::null_mut()
}

/// `array_insert_at(a, i, x)`: `a` with `x` inserted before position `i` (`i == len(a)`
/// appends); faults unless `0 <= i <= len(a)`. Consumes `a` (changed in place when unique) and
/// `x`.
///
/// # Safety
/// `a` must be a live array the caller owns; `value` an owned element of its type; `site` a
/// valid site.
#[no_mangle]
pub unsafe extern "C" fn keel_array_insert_at(
    a: *mut ArrayHeader,
    index: i64,
    value: i64,
    site: *const u8,
    site_len: usize,
) -> *mut ArrayHeader {
    // SAFETY: the caller guarantees `a` is live and owned; `reserve_unique` leaves room for one
    // more element, so the moved slots stay inside the array.
    unsafe {
        let len = (*a).len;
        if !(0..=len).contains(&index) {
            let message =
                format!("index out of bounds: insert at {index} into an array of length {len}");
            return position_fault(a, Some(value), &message, site, site_len);
        }
        let a = reserve_unique(a, len + 1);
        let at = slots(a).add(index as usize);
        core::ptr::copy(at, at.add(1), (len - index) as usize);
        *at = value;
        (*a).len = len + 1;
        a
    }
}

/// `array_remove_at(a, i)`: `a` without its element `i`; faults unless `0 <= i < len(a)`.
/// Consumes `a` (changed in place when unique).
///
/// # Safety
/// `a` must be a live array the caller owns; `site` a valid site.
#[no_mangle]
pub unsafe extern "C" fn keel_array_remove_at(
    a: *mut ArrayHeader,
    index: i64,
    site: *const u8,
    site_len: usize,
) -> *mut ArrayHeader {
    // SAFETY: the caller guarantees `a` is live and owned; the index is checked before use.
    unsafe {
        let len = (*a).len;
        if !(0..len).contains(&index) {
            let message = bounds_message(index, len);
            return position_fault(a, None, &message, site, site_len);
        }
        let a = reserve_unique(a, len);
        let at = slots(a).add(index as usize);
        let removed = *at;
        core::ptr::copy(at.add(1), at, (len - index - 1) as usize);
        (*a).len = len - 1;
        release_element(a, removed);
        a
    }
}

/// `array_swap(a, i, j)`: `a` with its elements `i` and `j` exchanged; faults unless both are
/// positions of `a`. Consumes `a` (changed in place when unique).
///
/// # Safety
/// `a` must be a live array the caller owns; `site` a valid site.
#[no_mangle]
pub unsafe extern "C" fn keel_array_swap(
    a: *mut ArrayHeader,
    i: i64,
    j: i64,
    site: *const u8,
    site_len: usize,
) -> *mut ArrayHeader {
    // SAFETY: the caller guarantees `a` is live and owned; both indices are checked.
    unsafe {
        let len = (*a).len;
        if let Some(bad) = [i, j].into_iter().find(|k| !(0..len).contains(k)) {
            let message = bounds_message(bad, len);
            return position_fault(a, None, &message, site, site_len);
        }
        let a = reserve_unique(a, len);
        elements_mut(a).swap(i as usize, j as usize);
        a
    }
}

/// `array_set_at(a, i, x)`: `a` with `x` at position `i` (what `a[i] = x` does to a variable);
/// faults unless `0 <= i < len(a)`. Consumes `a` (changed in place when unique) and `x`.
///
/// # Safety
/// `a` must be a live array the caller owns; `value` an owned element of its type; `site` a
/// valid site.
#[no_mangle]
pub unsafe extern "C" fn keel_array_set_at(
    a: *mut ArrayHeader,
    index: i64,
    value: i64,
    site: *const u8,
    site_len: usize,
) -> *mut ArrayHeader {
    // SAFETY: the caller guarantees `a` is live and owned; the index is checked before use.
    unsafe {
        let len = (*a).len;
        if !(0..len).contains(&index) {
            let message = bounds_message(index, len);
            return position_fault(a, Some(value), &message, site, site_len);
        }
        let a = reserve_unique(a, len);
        let at = slots(a).add(index as usize);
        let old = core::mem::replace(&mut *at, value);
        release_element(a, old);
        a
    }
}

/// `array_fill(n, v)`: an array of type `desc` with `n` copies of `v`. Consumes `v`, also when it
/// faults because `n` is negative.
///
/// # Safety
/// `desc` must be a valid array descriptor that outlives the array; `value` an owned element of
/// its element type; `site` a valid site.
#[no_mangle]
pub unsafe extern "C" fn keel_array_fill(
    desc: *const TypeDesc,
    n: i64,
    value: i64,
    site: *const u8,
    site_len: usize,
) -> *mut ArrayHeader {
    // SAFETY: the caller guarantees the descriptor and value; the array has room for `n`.
    unsafe {
        let heap = desc_is_heap((*desc).elem);
        if n < 0 {
            if heap {
                release_word(value);
            }
            let message = format!("invalid argument: array_fill with negative length {n}");
            fault_at(site, site_len, &message);
            return core::ptr::null_mut();
        }
        let a = alloc_array(desc, n, n, false);
        elements_mut(a).fill(value);
        if heap {
            // `n` references are needed and the caller passed one.
            if n == 0 {
                release_word(value);
            } else {
                retain_many(value as *mut ObjHeader, n - 1);
            }
        }
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desc::{FLOAT_DESC, INT_DESC, STRING_ARRAY_DESC};
    use crate::object::{live_objects, retain};
    use crate::string::{as_str, new_string};

    static INT_ARRAY: TypeDesc = TypeDesc::array(&INT_DESC);
    static FLOAT_ARRAY: TypeDesc = TypeDesc::array(&FLOAT_DESC);

    fn ints(values: &[i64]) -> *mut ArrayHeader {
        // SAFETY: the array has room for every value.
        unsafe {
            let a = keel_array_alloc(&INT_ARRAY, values.len() as i64);
            elements_mut(a).copy_from_slice(values);
            a
        }
    }

    fn strings(values: &[&str]) -> *mut ArrayHeader {
        // SAFETY: the array has room for every value and takes over each new string.
        unsafe {
            let a = keel_array_alloc(&STRING_ARRAY_DESC, values.len() as i64);
            for (slot, text) in elements_mut(a).iter_mut().zip(values) {
                *slot = new_string(text.as_bytes()) as i64;
            }
            a
        }
    }

    /// Reads an int array and releases it.
    fn take_ints(a: *mut ArrayHeader) -> Vec<i64> {
        // SAFETY: `a` is a live array the test owns.
        unsafe {
            let items = elements(a).to_vec();
            release(a.cast());
            items
        }
    }

    /// Reads a string array and releases it.
    fn take_strings(a: *mut ArrayHeader) -> Vec<String> {
        // SAFETY: `a` is a live array of strings the test owns.
        unsafe {
            let items = elements(a)
                .iter()
                .map(|&s| as_str(s as *const _).to_string())
                .collect();
            release(a.cast());
            items
        }
    }

    #[test]
    fn push_grows_in_place_amortised() {
        let before = live_objects();
        // SAFETY: arrays are built and released through the runtime.
        unsafe {
            let mut a = keel_array_alloc(&INT_ARRAY, 0);
            let mut moves = 0;
            for i in 0..1000 {
                let old_cap = (*a).cap;
                a = keel_array_push(a, i);
                if (*a).cap != old_cap {
                    moves += 1;
                }
            }
            assert!(moves <= 10, "{moves} reallocations");
            assert_eq!(live_objects(), before + 1);
            assert_eq!(take_ints(a), (0..1000).collect::<Vec<_>>());
        }
        assert_eq!(live_objects(), before);
    }

    #[test]
    fn push_to_a_shared_array_copies_it() {
        let before = live_objects();
        // SAFETY: as above.
        unsafe {
            let a = strings(&["x"]);
            retain(a.cast());
            let b = keel_array_push(a, new_string(b"y") as i64);
            assert_ne!(a, b);
            assert_eq!((*a).rc, 1);
            assert_eq!(take_strings(b), ["x", "y"]);
            assert_eq!(take_strings(a), ["x"]);
        }
        assert_eq!(live_objects(), before);
    }

    #[test]
    fn pop_releases_the_last_element() {
        let before = live_objects();
        // SAFETY: as above.
        unsafe {
            let a = strings(&["a", "b", "c"]);
            let a = keel_array_pop(a, core::ptr::null(), 0);
            assert_eq!(live_objects(), before + 3);
            retain(a.cast());
            let b = keel_array_pop(a, core::ptr::null(), 0);
            assert_eq!(take_strings(b), ["a"]);
            assert_eq!(take_strings(a), ["a", "b"]);
        }
        assert_eq!(live_objects(), before);
    }

    #[test]
    fn slice_concat_reverse() {
        let before = live_objects();
        // SAFETY: as above.
        unsafe {
            let a = strings(&["a", "b", "c", "d"]);
            let s = keel_array_slice(a, 1, 3, core::ptr::null(), 0);
            assert_eq!(take_strings(s), ["b", "c"]);
            let empty = keel_array_slice(a, 4, 4, core::ptr::null(), 0);
            assert_eq!(take_strings(empty), Vec::<String>::new());
            retain(a.cast());
            let twice = keel_array_concat(a, a);
            assert_eq!(
                take_strings(twice),
                ["a", "b", "c", "d", "a", "b", "c", "d"]
            );
            retain(a.cast());
            let backwards = keel_array_reverse(a);
            assert_eq!(take_strings(backwards), ["d", "c", "b", "a"]);
            assert_eq!(take_strings(a), ["a", "b", "c", "d"]);

            let x = ints(&[1, 2]);
            let y = ints(&[3]);
            let joined = keel_array_concat(x, y);
            assert_eq!(take_ints(joined), [1, 2, 3]);
            assert_eq!(take_ints(y), [3]);
        }
        assert_eq!(live_objects(), before);
    }

    #[test]
    fn sorts_by_element_type() {
        let before = live_objects();
        // SAFETY: as above.
        unsafe {
            assert_eq!(
                take_ints(keel_array_sort(ints(&[3, -1, 2, 0]))),
                [-1, 0, 2, 3]
            );

            let floats = [2.5, f64::NAN, -0.0, 0.0, f64::NEG_INFINITY, -1.0];
            let a = keel_array_alloc(&FLOAT_ARRAY, floats.len() as i64);
            for (slot, f) in elements_mut(a).iter_mut().zip(floats) {
                *slot = f.to_bits() as i64;
            }
            let sorted: Vec<f64> = take_ints(keel_array_sort(a))
                .into_iter()
                .map(|bits| f64::from_bits(bits as u64))
                .collect();
            assert_eq!(sorted[..5], [f64::NEG_INFINITY, -1.0, -0.0, 0.0, 2.5]);
            assert!(sorted[1].is_sign_negative() && sorted[2].is_sign_negative());
            assert!(sorted[5].is_nan());

            let words = keel_array_sort(strings(&["pear", "Apple", "apple", "é", "a"]));
            assert_eq!(take_strings(words), ["Apple", "a", "apple", "pear", "é"]);
        }
        assert_eq!(live_objects(), before);
    }

    #[test]
    fn contains_and_index_of_compare_by_value() {
        let before = live_objects();
        // SAFETY: as above.
        unsafe {
            let a = strings(&["a", "b", "b"]);
            let needle = new_string(b"b");
            assert_eq!(keel_array_index_of(a, needle as i64), 1);
            assert_eq!(keel_array_contains(a, needle as i64), 1);
            let missing = new_string(b"z");
            assert_eq!(keel_array_index_of(a, missing as i64), -1);
            assert_eq!(keel_array_contains(a, missing as i64), 0);
            release(needle.cast());
            release(missing.cast());
            release(a.cast());

            let n = ints(&[5, 6]);
            assert_eq!(keel_array_index_of(n, 6), 1);
            release(n.cast());
        }
        assert_eq!(live_objects(), before);
    }

    #[test]
    fn fill_shares_one_element() {
        let before = live_objects();
        // SAFETY: as above.
        unsafe {
            let s = new_string(b"hi");
            let a = keel_array_fill(&STRING_ARRAY_DESC, 3, s as i64, core::ptr::null(), 0);
            assert_eq!((*s).rc, 3);
            assert_eq!(take_strings(a), ["hi", "hi", "hi"]);
            let s = new_string(b"gone");
            let empty = keel_array_fill(&STRING_ARRAY_DESC, 0, s as i64, core::ptr::null(), 0);
            assert_eq!(take_strings(empty), Vec::<String>::new());
            let zeros = keel_array_fill(&INT_ARRAY, 4, 7, core::ptr::null(), 0);
            assert_eq!(take_ints(zeros), [7, 7, 7, 7]);
        }
        assert_eq!(live_objects(), before);
    }

    #[test]
    fn freeing_releases_nested_arrays() {
        static NESTED: TypeDesc = TypeDesc::array(&STRING_ARRAY_DESC);
        let before = live_objects();
        // SAFETY: as above.
        unsafe {
            let outer = keel_array_alloc(&NESTED, 2);
            elements_mut(outer)[0] = strings(&["a", "b"]) as i64;
            // A null slot (as left by `ArrayTake`) is skipped.
            assert_eq!(live_objects(), before + 4);
            release(outer.cast());
        }
        assert_eq!(live_objects(), before);
    }
}
