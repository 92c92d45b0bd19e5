//! Heap objects: allocation, reference counting, freeing and the copy-on-write step.
//!
//! Every object is allocated here (`alloc_object`) and freed here ([`keel_free`]), so the number
//! of live objects ([`live_objects`]) is exact; the leak check of `process` reads it. Counting is
//! non-atomic and per thread: a Keel program runs on one thread, and in-process runs (the VM, the
//! JIT, tests) on different threads do not disturb each other's counts.
//!
//! [`retain`] and [`release`] ignore null (an emptied slot) and static objects (`rc == -1`).
//! Freeing an array or struct releases its heap children as its descriptor says. That takes no
//! machine stack however deeply the value is nested (a list of a million nodes is freed in a
//! loop): an object whose count reaches zero while another is being freed waits in a list of
//! pending objects, linked through their `rc` words, which nothing reads any more.
//!
//! What this module does not do: build strings or arrays (see `string` and `array`); it only
//! knows their sizes, to free and copy them.

use std::alloc::{alloc, alloc_zeroed, dealloc, realloc, Layout};
use std::cell::Cell;

use crate::desc::{desc_is_heap, TypeDesc, KIND_ARRAY, KIND_STRUCT};
use crate::fault::out_of_memory;
use crate::layout::{ArrayHeader, ObjHeader, StrHeader, OBJECT_ALIGN, STATIC_RC};

thread_local! {
    static LIVE_OBJECTS: Cell<i64> = const { Cell::new(0) };
    /// Whether [`keel_free`] is freeing objects on this thread (then it only queues more).
    static FREEING: Cell<bool> = const { Cell::new(false) };
    /// The objects waiting to be freed, each linking to the next through its `rc` word.
    static PENDING: Cell<*mut ObjHeader> = const { Cell::new(std::ptr::null_mut()) };
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
/// objects are ignored. Children whose count reaches zero are freed in the same loop, not by
/// recursion (see the module documentation), so this takes constant machine stack.
///
/// # Safety
/// `obj` must be null, static, or a live object nobody else refers to.
#[no_mangle]
pub unsafe extern "C" fn keel_free(obj: *mut ObjHeader) {
    // SAFETY: the caller guarantees `obj` is null, static or live and unreferenced.
    if obj.is_null() || unsafe { (*obj).rc } == STATIC_RC {
        return;
    }
    // Most objects own no others (strings, arrays of scalars, structs of scalars): they are
    // freed at once, without the thread-local list.
    // SAFETY: `obj` is live and unreferenced.
    if let Some(size) = unsafe { leaf_size(obj) } {
        // SAFETY: as above; `size` is its allocation's size.
        unsafe { dealloc_object(obj.cast(), size) };
        return;
    }
    // SAFETY: `obj` is live and nobody refers to it: its `rc` word may hold the link.
    unsafe { (*obj).rc = PENDING.get() as i64 };
    PENDING.set(obj);
    if FREEING.replace(true) {
        // An object being freed released its last reference to `obj`: the loop below, further
        // up the stack, frees it.
        return;
    }
    loop {
        let next = PENDING.get();
        if next.is_null() {
            break;
        }
        // SAFETY: every pending object is live, unreferenced and linked through its `rc`.
        unsafe {
            PENDING.set((*next).rc as *mut ObjHeader);
            free_children_and_object(next);
        }
    }
    FREEING.set(false);
}

/// The size of `obj` when it refers to no other object (a string, an array of scalars or an
/// empty one, a struct of scalars); `None` when it may.
///
/// # Safety
/// `obj` must be a live object.
unsafe fn leaf_size(obj: *mut ObjHeader) -> Option<usize> {
    // SAFETY: the caller guarantees `obj` is live, so its descriptor is valid.
    unsafe {
        match (*obj).desc.as_ref() {
            None => Some(crate::string::string_size((*obj.cast::<StrHeader>()).cap)),
            Some(desc) if desc.kind == KIND_ARRAY => {
                let array = obj.cast::<ArrayHeader>();
                (!desc_is_heap(desc.elem) || (*array).len == 0)
                    .then(|| crate::array::array_size((*array).cap))
            }
            Some(desc) if desc.kind == KIND_STRUCT => {
                let scalars = desc.field_descs().iter().all(|f| !desc_is_heap(f.ty));
                scalars.then(|| struct_size(desc))
            }
            Some(_) => None,
        }
    }
}

/// Releases the heap children of `obj` (which may queue them, see [`keel_free`]) and frees its
/// memory.
///
/// # Safety
/// `obj` must be a live, unreferenced, non-static object.
unsafe fn free_children_and_object(obj: *mut ObjHeader) {
    // SAFETY: the caller guarantees `obj` is live; its descriptor says where its heap children
    // are and how large it is.
    unsafe {
        let size = match (*obj).desc.as_ref() {
            None => {
                let string = obj.cast::<StrHeader>();
                crate::string::string_size((*string).cap)
            }
            Some(desc) if desc.kind == KIND_ARRAY => {
                let array = obj.cast::<ArrayHeader>();
                if desc_is_heap(desc.elem) {
                    for &word in crate::array::elements(array) {
                        release_word(word);
                    }
                }
                crate::array::array_size((*array).cap)
            }
            Some(desc) if desc.kind == KIND_STRUCT => {
                let fields = struct_fields(obj);
                for (index, field) in desc.field_descs().iter().enumerate() {
                    if desc_is_heap(field.ty) {
                        release_word(*fields.add(index));
                    }
                }
                struct_size(desc)
            }
            Some(desc) => crate::fault::fatal(
                "keel",
                &format!("internal error: free of an object of kind {}", desc.kind),
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
            Some(desc) => {
                let size = struct_size(desc);
                let copy = alloc_object(size, false).cast::<ObjHeader>();
                std::ptr::copy_nonoverlapping(obj.cast::<u8>(), copy.cast::<u8>(), size);
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
    let obj = alloc_object(size, true).cast::<ObjHeader>();
    // SAFETY: `obj` was just allocated with room for the header.
    unsafe {
        (*obj).rc = 1;
        (*obj).desc = desc;
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

    /// `struct Link { Link next, }`: each link holds the rest of a chain.
    static LINK_FIELDS: [FieldDesc; 1] = [FieldDesc::new(b"next", &LINK)];
    static LINK: TypeDesc = TypeDesc::structure(b"Link", &LINK_FIELDS);

    #[test]
    fn a_deep_chain_is_freed_in_constant_stack() {
        // A million links freed on a thread with 64 KiB of stack: one frame per link would need
        // far more.
        let freed = std::thread::Builder::new()
            .stack_size(64 << 10)
            .spawn(|| {
                let before = live_objects();
                // SAFETY: the links are built and released through the runtime's functions;
                // each link's field takes over the reference to the previous one.
                unsafe {
                    let mut head = std::ptr::null_mut();
                    for _ in 0..1_000_000 {
                        let link = keel_struct_alloc(&LINK);
                        *struct_fields(link) = head as i64;
                        head = link;
                    }
                    assert_eq!(live_objects(), before + 1_000_000);
                    release(head);
                }
                live_objects() - before
            })
            .expect("spawn")
            .join()
            .expect("no stack overflow");
        assert_eq!(freed, 0);
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
            retain(std::ptr::null_mut());
            release(std::ptr::null_mut());
            keel_free(std::ptr::null_mut());
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
