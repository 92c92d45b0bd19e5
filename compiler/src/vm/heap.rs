//! The interpreter's inline heap operations: reference counting, element and field access,
//! the copy-on-write check and allocation, on register words.
//!
//! A register of heap type holds the address of an object laid out as `keel_runtime::layout`
//! says. These helpers do the hot, simple part inline (an index check, a load, a count
//! update) and call the runtime for everything else: freeing, copying, allocating. The layout
//! constants come from the runtime, so the VM and the runtime cannot disagree about where a
//! length or an element is.
//!
//! What this module does not do: decide ownership (the IR does; these functions do exactly
//! what their instruction says) or report faults (the interpreter does, from the `Err`s here).

use keel_runtime::desc::TypeDesc;
use keel_runtime::layout::{
    ArrayHeader, ObjHeader, ARRAY_ELEMS_OFFSET, SLOT_SIZE, STRUCT_FIELDS_OFFSET,
};
use keel_runtime::object::{keel_make_unique, keel_struct_alloc, release_word, retain_word};

/// Adds one reference to the object at `word` (nothing for null or static objects).
///
/// # Safety
/// `word` must be null or the address of a live object.
#[inline(always)]
pub unsafe fn retain(word: i64) {
    // SAFETY: forwarded from the caller.
    unsafe { retain_word(word) }
}

/// Drops one reference to the object at `word`, freeing it at zero (nothing for null or
/// static objects).
///
/// # Safety
/// `word` must be null or the address of a live object whose reference the caller owns.
#[inline(always)]
pub unsafe fn release(word: i64) {
    // SAFETY: forwarded from the caller.
    unsafe { release_word(word) }
}

/// The copy-on-write step: `word` itself when its object has exactly one reference, else a
/// shallow copy (and one reference of the original is released).
///
/// # Safety
/// `word` must be the address of a live array or struct whose reference the caller owns.
#[inline(always)]
pub unsafe fn make_unique(word: i64) -> i64 {
    let object = word as *mut ObjHeader;
    // SAFETY: the caller guarantees a live object.
    if unsafe { (*object).rc } == 1 {
        word
    } else {
        // SAFETY: forwarded from the caller; the runtime takes over the reference.
        unsafe { keel_make_unique(object) as i64 }
    }
}

/// Makes the object in `slot` (an element or field) unique where it is, replacing it with a
/// copy when it is shared, and returns it. The container keeps its reference: the result is
/// borrowed from it.
///
/// # Safety
/// `slot` must point into a live, unique container and hold a live array or struct.
#[inline(always)]
pub unsafe fn make_unique_in_place(slot: *mut i64) -> i64 {
    // SAFETY: the caller guarantees a valid slot holding a live object, owned by the container.
    unsafe {
        let unique = make_unique(*slot);
        *slot = unique;
        unique
    }
}

/// The length of the array at `word`.
///
/// # Safety
/// `word` must be the address of a live array.
#[inline(always)]
pub unsafe fn array_len(word: i64) -> i64 {
    // SAFETY: the caller guarantees a live array.
    unsafe { (*(word as *const ArrayHeader)).len }
}

/// The address of element `index` of the array at `word`, without a bounds check.
///
/// # Safety
/// `word` must be the address of a live array and `index` in `0..len`.
#[inline(always)]
pub unsafe fn element_unchecked(word: i64, index: i64) -> *mut i64 {
    // SAFETY: the caller guarantees the element lies inside the array object.
    unsafe {
        (word as *mut u8)
            .add(ARRAY_ELEMS_OFFSET as usize)
            .cast::<i64>()
            .add(index as usize)
    }
}

/// The address of element `index` of the array at `word`, or the array's length when `index`
/// is out of bounds.
///
/// # Safety
/// `word` must be the address of a live array.
#[inline(always)]
pub unsafe fn element(word: i64, index: i64) -> Result<*mut i64, i64> {
    // SAFETY: the caller guarantees a live array.
    let len = unsafe { array_len(word) };
    // One unsigned comparison checks both ends: a negative index is a huge `u64`.
    if (index as u64) < (len as u64) {
        // SAFETY: `index` was just checked to be in `0..len`.
        Ok(unsafe { element_unchecked(word, index) })
    } else {
        Err(len)
    }
}

/// The address of field `field` of the struct at `word`.
///
/// # Safety
/// `word` must be the address of a live struct with more than `field` fields.
#[inline(always)]
pub unsafe fn field(word: i64, field: u32) -> *mut i64 {
    let offset = STRUCT_FIELDS_OFFSET as usize + field as usize * SLOT_SIZE as usize;
    // SAFETY: the caller guarantees the field lies inside the struct object.
    unsafe { (word as *mut u8).add(offset).cast() }
}

/// A new array of type descriptor `desc` holding `items` (whose references it takes over).
///
/// # Safety
/// `desc` must be the address of an array descriptor that outlives the array, and `items`
/// values of its element type.
pub unsafe fn new_array(desc: i64, items: &mut dyn ExactSizeIterator<Item = i64>) -> i64 {
    let len = items.len();
    // SAFETY: forwarded from the caller; the runtime returns an array of `len` zeroed elements.
    let array =
        unsafe { keel_runtime::array::keel_array_alloc(desc as *const TypeDesc, len as i64) };
    let word = array as i64;
    for (index, item) in items.enumerate() {
        // SAFETY: `index < len`, the array's length.
        unsafe { *element_unchecked(word, index as i64) = item };
    }
    word
}

/// A new struct of type descriptor `desc` with `fields` (whose references it takes over).
///
/// # Safety
/// `desc` must be the address of a struct descriptor that outlives the struct, with exactly
/// as many fields as `fields` yields, of the right types.
pub unsafe fn new_struct(desc: i64, fields: &mut dyn Iterator<Item = i64>) -> i64 {
    // SAFETY: forwarded from the caller.
    let object = unsafe { keel_struct_alloc(desc as *const TypeDesc) } as i64;
    for (index, value) in fields.enumerate() {
        // SAFETY: the caller guarantees the struct has this field.
        unsafe { *field(object, index as u32) = value };
    }
    object
}
