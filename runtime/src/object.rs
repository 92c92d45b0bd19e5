//! Heap objects: allocation, reference counting, freeing and the copy-on-write step.
//!
//! Every object is allocated here (`alloc_object`) and freed here ([`keel_free`]), so the number
//! of live objects ([`live_objects`]) is exact; the leak check of `process` reads it. Counting is
//! non-atomic and per thread: a Keel program runs on one thread, and in-process runs (the VM, the
//! JIT, tests) on different threads do not disturb each other's counts.
//!
//! [`retain`] and [`release`] ignore null (an emptied slot) and static objects (`rc == -1`).
//! Freeing an array, struct or map releases its heap children as its descriptor says, without
//! recursion (values may be nested to any depth; see [`keel_free`]).
//!
//! Structs (tuples and enum values too) are fixed-size and small, and take their memory from
//! the per-thread pool of `pool` ([`alloc_struct_memory`]), and so do strings small enough for
//! it (a string that grows past the pool's sizes moves to the system allocator); arrays, which
//! grow with `realloc`, and larger objects, from the system allocator.
//!
//! A map object (`map`) is allocated here too, one object whatever its size: its entries live in
//! storage of its own that `map` manages.
//!
//! What this module does not do: build strings, arrays or maps (see `string`, `array`, `map`); it
//! only knows their sizes, to free and copy them.

use alloc::alloc::{alloc, alloc_zeroed, dealloc, realloc, Layout};
use core::cell::Cell;

use crate::desc::{desc_is_heap, TypeDesc, KIND_ARRAY};
use crate::fault::out_of_memory;
use crate::layout::{ArrayHeader, ObjHeader, StrHeader, OBJECT_ALIGN, STATIC_RC};

crate::per_thread! {
    static LIVE_OBJECTS: Cell<i64> = const { Cell::new(0) };
}

/// The number of heap objects allocated and not yet freed on this thread.
pub fn live_objects() -> i64 {
    LIVE_OBJECTS.with(Cell::get)
}

fn count_live(delta: i64) {
    LIVE_OBJECTS.with(|live| live.set(live.get() + delta));
}

/// The size of an object of `header` bytes followed by `slots` slots of `slot_size` bytes; ends
/// the process (out of memory) when that does not fit in the address space.
pub(crate) fn object_size(header: usize, slots: i64, slot_size: usize) -> usize {
    usize::try_from(slots)
        .ok()
        .and_then(|slots| slots.checked_mul(slot_size))
        .and_then(|bytes| bytes.checked_add(header))
        .filter(|&size| size <= isize::MAX as usize - OBJECT_ALIGN)
        .unwrap_or_else(|| out_of_memory(usize::MAX))
}

fn layout(size: usize) -> Layout {
    Layout::from_size_align(size, OBJECT_ALIGN).unwrap_or_else(|_| out_of_memory(size))
}

/// Allocates `size` bytes (at least a header) for a new object and counts it live. The memory is
/// zeroed when `zeroed` is set.
pub(crate) fn alloc_object(size: usize, zeroed: bool) -> *mut u8 {
    let layout = layout(size.max(1));
    // SAFETY: the layout's size is not zero.
    let ptr = unsafe {
        if zeroed {
            alloc_zeroed(layout)
        } else {
            alloc(layout)
        }
    };
    if ptr.is_null() {
        out_of_memory(size);
    }
    count_live(1);
    ptr
}

/// Grows or shrinks an object allocated with `old_size` bytes to `new_size` bytes.
///
/// # Safety
/// `ptr` must come from [`alloc_object`] (or this function) with exactly `old_size` bytes.
pub(crate) unsafe fn realloc_object(ptr: *mut u8, old_size: usize, new_size: usize) -> *mut u8 {
    let new_size = new_size.max(1);
    let _ = layout(new_size);
    // SAFETY: the caller guarantees `ptr` was allocated with this layout; the new size is not
    // zero and was checked to form a valid layout.
    let moved = unsafe { realloc(ptr, layout(old_size.max(1)), new_size) };
    if moved.is_null() {
        out_of_memory(new_size);
    }
    moved
}

/// Memory for a struct object of `size` bytes (contents undefined), counted live: from the pool
/// when it serves that size.
fn alloc_struct_memory(size: usize) -> *mut u8 {
    match crate::pool::class_of(size) {
        Some(class) => {
            let ptr = crate::pool::alloc_block(class);
            count_live(1);
            ptr
        }
        None => alloc_object(size, false),
    }
}

/// Memory for a string object of `size` bytes (contents undefined), counted live: from the pool
/// when it serves that size, like a struct's (most strings are short words and keys, made and
/// dropped by the million in text processing), else from the system allocator.
pub(crate) fn alloc_string_memory(size: usize) -> *mut u8 {
    alloc_struct_memory(size)
}

/// Moves or grows a string object allocated with `old_size` bytes to `new_size` bytes: in place
/// by the system allocator when neither size is pooled, else into a new block (the first
/// `min(old_size, new_size)` bytes copied) and the old one freed.
///
/// # Safety
/// `ptr` must come from [`alloc_string_memory`] (or this function) with exactly `old_size` bytes.
pub(crate) unsafe fn realloc_string_memory(
    ptr: *mut u8,
    old_size: usize,
    new_size: usize,
) -> *mut u8 {
    let pooled = |size| crate::pool::class_of(size).is_some();
    if !pooled(old_size) && !pooled(new_size) {
        // SAFETY: forwarded from the caller: an unpooled block is the system allocator's.
        return unsafe { realloc_object(ptr, old_size, new_size) };
    }
    let moved = alloc_struct_memory(new_size);
    // SAFETY: both blocks hold at least the bytes copied; the old one is freed as it was made.
    unsafe {
        core::ptr::copy_nonoverlapping(ptr, moved, old_size.min(new_size));
        dealloc_struct_memory(ptr, old_size);
    }
    moved
}

/// Frees the memory of a struct (or string) object of `size` bytes and counts it dead.
///
/// # Safety
/// `ptr` must come from [`alloc_struct_memory`] with exactly `size` bytes.
unsafe fn dealloc_struct_memory(ptr: *mut u8, size: usize) {
    match crate::pool::class_of(size) {
        Some(class) => {
            // SAFETY: forwarded from the caller.
            unsafe { crate::pool::free_block(ptr, class) };
            count_live(-1);
        }
        // SAFETY: forwarded from the caller.
        None => unsafe { dealloc_object(ptr, size) },
    }
}

/// Frees an object's memory and counts it dead.
///
/// # Safety
/// `ptr` must come from [`alloc_object`] or [`realloc_object`] with exactly `size` bytes.
unsafe fn dealloc_object(ptr: *mut u8, size: usize) {
    // SAFETY: the caller guarantees `ptr` was allocated with this layout.
    unsafe { dealloc(ptr, layout(size.max(1))) };
    count_live(-1);
}

/// Adds one reference to `obj` (nothing for null or static objects).
///
/// # Safety
/// `obj` must be null or a live object.
#[inline]
pub unsafe fn retain(obj: *mut ObjHeader) {
    if obj.is_null() {
        return;
    }
    // SAFETY: the caller guarantees `obj` is live.
    unsafe {
        let rc = (*obj).rc;
        if rc != STATIC_RC {
            (*obj).rc = rc + 1;
        }
    }
}

/// Drops one reference to `obj`, freeing it when that was the last (nothing for null or static
/// objects).
///
/// # Safety
/// `obj` must be null or a live object the caller owns a reference to.
#[inline]
pub unsafe fn release(obj: *mut ObjHeader) {
    if obj.is_null() {
        return;
    }
    // SAFETY: the caller guarantees `obj` is live and owns one reference.
    unsafe {
        let rc = (*obj).rc;
        if rc == STATIC_RC {
            return;
        }
        if rc <= 1 {
            keel_free(obj);
        } else {
            (*obj).rc = rc - 1;
        }
    }
}

/// Adds `count` references to `obj` at once (nothing for null or static objects).
///
/// # Safety
/// `obj` must be null or a live object.
pub unsafe fn retain_many(obj: *mut ObjHeader, count: i64) {
    if obj.is_null() {
        return;
    }
    // SAFETY: the caller guarantees `obj` is live.
    unsafe {
        let rc = (*obj).rc;
        if rc != STATIC_RC {
            (*obj).rc = rc + count;
        }
    }
}

/// [`retain`] of a value word (an element or field of heap type).
///
/// # Safety
/// As for [`retain`], with `word` the object's address.
#[inline]
pub unsafe fn retain_word(word: i64) {
    // SAFETY: forwarded from the caller.
    unsafe { retain(word as *mut ObjHeader) }
}

/// [`release`] of a value word (an element or field of heap type).
///
/// # Safety
/// As for [`release`], with `word` the object's address.
#[inline]
pub unsafe fn release_word(word: i64) {
    // SAFETY: forwarded from the caller.
    unsafe { release(word as *mut ObjHeader) }
}

/// Whether `obj` has exactly one reference (and so may be changed in place).
///
/// # Safety
/// `obj` must be a live object.
#[inline]
pub unsafe fn is_unique(obj: *const ObjHeader) -> bool {
    // SAFETY: the caller guarantees `obj` is live.
    unsafe { (*obj).rc == 1 }
}

/// `Retain` as a call: adds one reference to `obj` (nothing for null or static objects).
///
/// # Safety
/// `obj` must be null or a live object.
#[no_mangle]
pub unsafe extern "C" fn keel_retain(obj: *mut ObjHeader) {
    // SAFETY: forwarded from the caller.
    unsafe { retain(obj) }
}

/// `Release` as a call: drops one reference, freeing the object at zero (nothing for null or
/// static objects).
///
/// # Safety
/// `obj` must be null or a live object the caller owns a reference to.
#[no_mangle]
pub unsafe extern "C" fn keel_release(obj: *mut ObjHeader) {
    // SAFETY: forwarded from the caller.
    unsafe { release(obj) }
}

/// Frees `obj`, whose count has reached zero, after releasing its heap children. Null and static
/// objects are ignored.
///
/// A value may be nested to any depth (a struct holding an array of itself, built in a loop), so
/// freeing does not recurse: the objects whose last reference is gone wait in a list threaded
/// through their own `rc` fields (a dead object's count is never read again) and are freed one
/// after the other. That takes constant stack and allocates nothing, whatever the depth.
///
/// # Safety
/// `obj` must be null, static, or a live object nobody else refers to.
#[no_mangle]
pub unsafe extern "C" fn keel_free(obj: *mut ObjHeader) {
    if obj.is_null() {
        return;
    }
    // SAFETY: the caller guarantees `obj` is a live object with no other references; every
    // object in the list is one too (its last reference was just dropped).
    unsafe {
        if (*obj).rc == STATIC_RC {
            return;
        }
        // The list of objects to free: its head, each one's `rc` holding the next (0 ends it).
        (*obj).rc = 0;
        let mut pending = obj;
        while !pending.is_null() {
            let next = (*pending).rc as *mut ObjHeader;
            let dead = pending;
            pending = next;
            free_one(dead, &mut pending);
        }
    }
}

/// Frees the struct object `obj`, whose count has reached zero, without releasing its fields:
/// the caller has taken over the reference of every heap field (generated code that moved the
/// fields of a dying value out of it, docs/values.md).
///
/// # Safety
/// `obj` must be a live struct object (not static) nobody else refers to, whose heap fields
/// the caller now owns.
#[no_mangle]
pub unsafe extern "C" fn keel_free_shell(obj: *mut ObjHeader) {
    // SAFETY: the caller guarantees a dead struct with a valid descriptor.
    unsafe {
        let size = struct_size(&*(*obj).desc);
        dealloc_struct_memory(obj.cast(), size);
    }
}

/// Drops one reference of the object at `word`, for a parent being freed: an object whose last
/// reference that was goes on the `pending` list (see [`keel_free`]) instead of being freed here.
///
/// # Safety
/// `word` must be null or a live object the parent owns a reference to.
unsafe fn release_child(word: i64, pending: &mut *mut ObjHeader) {
    let child = word as *mut ObjHeader;
    if child.is_null() {
        return;
    }
    // SAFETY: the caller guarantees `child` is live.
    unsafe {
        let rc = (*child).rc;
        if rc == STATIC_RC {
            return;
        }
        if rc <= 1 {
            (*child).rc = *pending as i64;
            *pending = child;
        } else {
            (*child).rc = rc - 1;
        }
    }
}

/// Frees the dead object `obj` (its count no longer used), dropping one reference of each heap
/// child onto `pending`.
///
/// # Safety
/// `obj` must be an object nobody refers to any more, with a valid descriptor (or a string).
unsafe fn free_one(obj: *mut ObjHeader, pending: &mut *mut ObjHeader) {
    // SAFETY: the caller guarantees `obj` is dead and whole; its descriptor says where its heap
    // children are and how large it is.
    unsafe {
        let size = match (*obj).desc.as_ref() {
            None => {
                let string = obj.cast::<StrHeader>();
                dealloc_struct_memory(obj.cast(), crate::string::string_size((*string).cap));
                return;
            }
            Some(desc) if desc.kind == KIND_ARRAY => {
                let array = obj.cast::<ArrayHeader>();
                if desc_is_heap(desc.elem) {
                    for &word in crate::array::elements(array) {
                        release_child(word, pending);
                    }
                }
                crate::array::array_size((*array).cap)
            }
            Some(desc) if crate::map::is_map_kind(desc.kind) => {
                let (key_heap, value_heap) = crate::map::heap_parts(obj);
                if key_heap || value_heap {
                    for entry in crate::map::entries(obj) {
                        if key_heap {
                            release_child(entry.key, pending);
                        }
                        if value_heap {
                            release_child(entry.value, pending);
                        }
                    }
                }
                crate::map::drop_storage(obj);
                crate::map::MAP_SIZE
            }
            Some(desc) if desc.has_fields() => {
                let fields = struct_fields(obj);
                for (index, field) in desc.field_descs().iter().enumerate() {
                    if desc_is_heap(field.ty) {
                        release_child(*fields.add(index), pending);
                    }
                }
                dealloc_struct_memory(obj.cast(), struct_size(desc));
                return;
            }
            Some(desc) => crate::fault::fatal(
                "keel",
                &crate::text::Text::new()
                    .str("internal error: free of an object of kind ")
                    .uint(u64::from(desc.kind))
                    .take(),
            ),
        };
        dealloc_object(obj.cast(), size);
    }
}

/// The copy-on-write step: returns `obj` itself when it is unique, otherwise a shallow copy (its
/// children retained) after releasing one reference of `obj`. Consumes `obj`; the result is owned.
///
/// # Safety
/// `obj` must be null or a live object the caller owns a reference to.
#[no_mangle]
pub unsafe extern "C" fn keel_make_unique(obj: *mut ObjHeader) -> *mut ObjHeader {
    // SAFETY: the caller guarantees `obj` is null or live and owned.
    unsafe {
        if obj.is_null() || is_unique(obj) {
            return obj;
        }
        let copy = shallow_copy(obj);
        release(obj);
        copy
    }
}

/// A new object with the same contents as `obj`, its heap children retained.
///
/// # Safety
/// `obj` must be a live object.
unsafe fn shallow_copy(obj: *mut ObjHeader) -> *mut ObjHeader {
    // SAFETY: the caller guarantees `obj` is live; its descriptor gives its kind and size.
    unsafe {
        match (*obj).desc.as_ref() {
            None => crate::string::copy_string(obj.cast()).cast(),
            Some(desc) if desc.kind == KIND_ARRAY => {
                let array = obj.cast::<ArrayHeader>();
                crate::array::copy_array(array, (*array).len).cast()
            }
            Some(desc) if crate::map::is_map_kind(desc.kind) => crate::map::copy_map(obj, 0),
            Some(desc) => {
                let size = struct_size(desc);
                let copy = alloc_struct_memory(size).cast::<ObjHeader>();
                core::ptr::copy_nonoverlapping(obj.cast::<u8>(), copy.cast::<u8>(), size);
                (*copy).rc = 1;
                let fields = struct_fields(copy);
                for (index, field) in desc.field_descs().iter().enumerate() {
                    if desc_is_heap(field.ty) {
                        retain_word(*fields.add(index));
                    }
                }
                copy
            }
        }
    }
}

/// The size of a struct object of type `desc`.
fn struct_size(desc: &TypeDesc) -> usize {
    object_size(
        crate::layout::OBJ_HEADER_SIZE,
        i64::from(desc.field_count),
        8,
    )
}

/// The address of a struct's first field.
///
/// # Safety
/// `obj` must be a struct object.
pub unsafe fn struct_fields(obj: *mut ObjHeader) -> *mut i64 {
    // SAFETY: fields start right after the header, inside the object.
    unsafe {
        obj.cast::<u8>()
            .add(crate::layout::STRUCT_FIELDS_OFFSET as usize)
            .cast()
    }
}

/// Allocates a struct of type `desc` with every field zero (null for heap fields); `rc` is 1.
///
/// # Safety
/// `desc` must be a valid struct descriptor that outlives the object.
#[no_mangle]
pub unsafe extern "C" fn keel_struct_alloc(desc: *const TypeDesc) -> *mut ObjHeader {
    // SAFETY: the caller guarantees `desc` is a valid descriptor.
    let size = struct_size(unsafe { &*desc });
    let obj = alloc_struct_memory(size).cast::<ObjHeader>();
    // SAFETY: `obj` was just allocated with room for the header and the fields.
    unsafe {
        (*obj).rc = 1;
        (*obj).desc = desc;
        let fields = struct_fields(obj);
        core::ptr::write_bytes(fields, 0, (*desc).field_count as usize);
    }
    obj
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desc::{FieldDesc, INT_DESC, STRING_DESC};
    use crate::string::{as_bytes, new_string};

    static FIELDS: [FieldDesc; 2] = [
        FieldDesc::new(b"id", &INT_DESC),
        FieldDesc::new(b"name", &STRING_DESC),
    ];
    static USER: TypeDesc = TypeDesc::structure(b"User", &FIELDS);

    #[test]
    fn struct_alloc_and_free_balance() {
        let before = live_objects();
        // SAFETY: objects are built and released through the runtime's own functions.
        unsafe {
            let user = keel_struct_alloc(&USER);
            assert_eq!(live_objects(), before + 1);
            let fields = struct_fields(user);
            assert_eq!(*fields, 0);
            assert_eq!(*fields.add(1), 0);
            *fields = 7;
            *fields.add(1) = new_string(b"ann") as i64;
            assert_eq!(live_objects(), before + 2);
            release(user);
        }
        assert_eq!(live_objects(), before);
    }

    #[test]
    fn make_unique_copies_only_shared_objects() {
        let before = live_objects();
        // SAFETY: as above.
        unsafe {
            let user = keel_struct_alloc(&USER);
            let name = new_string(b"bo");
            *struct_fields(user).add(1) = name as i64;
            // Unique: the same object comes back.
            assert_eq!(keel_make_unique(user), user);
            // Shared: a copy, and the original loses the reference the copy took over.
            retain(user);
            let copy = keel_make_unique(user);
            assert_ne!(copy, user);
            assert_eq!((*user).rc, 1);
            assert_eq!((*copy).rc, 1);
            assert_eq!((*name).rc, 2);
            *struct_fields(copy) = 9;
            assert_eq!(*struct_fields(user), 0);
            assert_eq!(as_bytes(*struct_fields(copy).add(1) as *const _), b"bo");
            release(user);
            assert_eq!((*name).rc, 1);
            release(copy);
        }
        assert_eq!(live_objects(), before);
    }

    #[test]
    fn null_and_static_objects_are_ignored() {
        let literal = crate::string::OwnedStaticStr::new("lit");
        let before = live_objects();
        // SAFETY: null and a static string are valid arguments.
        unsafe {
            retain(core::ptr::null_mut());
            release(core::ptr::null_mut());
            keel_free(core::ptr::null_mut());
            let obj = literal.as_ptr() as *mut ObjHeader;
            retain(obj);
            release(obj);
            release(obj);
            keel_free(obj);
            assert_eq!((*obj).rc, STATIC_RC);
            // Making a static object unique copies it.
            let copy = keel_make_unique(obj);
            assert_ne!(copy, obj);
            assert_eq!(as_bytes(copy.cast()), b"lit");
            release(copy);
        }
        assert_eq!(live_objects(), before);
    }
}
