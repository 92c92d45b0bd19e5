//! The memory layout of Keel heap objects, as every backend and the runtime see it.
//!
//! Every heap object starts with an [`ObjHeader`] (`rc` at 0, `desc` at 8). Then, by kind:
//! - a **string** ([`StrHeader`]; `desc` is null): `len` (bytes) at 16, `cap` (bytes allocated
//!   for text) at 24, `chars` (Unicode scalar values) at 32, the UTF-8 bytes at
//!   [`STR_BYTES_OFFSET`];
//! - an **array** ([`ArrayHeader`]): `len` at 16, `cap` at 24, then `cap` 8-byte elements at
//!   [`ARRAY_ELEMS_OFFSET`];
//! - a **struct**: its fields, 8 bytes each, from [`STRUCT_FIELDS_OFFSET`], in declaration order.
//!
//! Objects are 8-byte aligned. A reference count of [`STATIC_RC`] marks a static object (a literal
//! in read-only data) that is never counted, changed or freed. The constants below are the only
//! place these numbers are written down: backends use them rather than literal offsets.
//!
//! What this module does not do: allocate, free or interpret objects (see `object`, `string`,
//! `array`), or describe types (see `desc`).

use crate::desc::TypeDesc;

/// The header every heap object starts with.
#[repr(C)]
#[derive(Debug)]
pub struct ObjHeader {
    /// Reference count; [`STATIC_RC`] for static objects.
    pub rc: i64,
    /// The object's type descriptor; null for strings.
    pub desc: *const TypeDesc,
}

/// A string object's header; the UTF-8 bytes follow at [`STR_BYTES_OFFSET`].
#[repr(C)]
#[derive(Debug)]
pub struct StrHeader {
    /// Reference count; [`STATIC_RC`] for literals that live as long as the program.
    pub rc: i64,
    /// Always null for strings.
    pub desc: *const TypeDesc,
    /// Length in bytes.
    pub len: i64,
    /// Bytes allocated for the text (at least `len`).
    pub cap: i64,
    /// Number of Unicode scalar values; equal to `len` exactly when the text is ASCII.
    pub chars: i64,
}

/// An array object's header; `cap` 8-byte elements follow at [`ARRAY_ELEMS_OFFSET`].
#[repr(C)]
#[derive(Debug)]
pub struct ArrayHeader {
    pub rc: i64,
    /// The array type's descriptor (kind `array`; its `elem` is the element type).
    pub desc: *const TypeDesc,
    /// Number of elements in use.
    pub len: i64,
    /// Number of element slots allocated.
    pub cap: i64,
}

/// The reference count of a static object: never changed, never freed.
pub const STATIC_RC: i64 = -1;

/// Offset of `rc` in every object.
pub const RC_OFFSET: i32 = 0;
/// Offset of `desc` in every object.
pub const DESC_OFFSET: i32 = 8;
/// Size of the common header.
pub const OBJ_HEADER_SIZE: usize = 16;

/// Offset of a string's byte length.
pub const STR_LEN_OFFSET: i32 = 16;
/// Offset of a string's byte capacity.
pub const STR_CAP_OFFSET: i32 = 24;
/// Offset of a string's scalar count.
pub const STR_CHARS_OFFSET: i32 = 32;
/// Offset of a string's first byte; also the size of [`StrHeader`].
pub const STR_BYTES_OFFSET: i32 = 40;

/// Offset of an array's length.
pub const ARRAY_LEN_OFFSET: i32 = 16;
/// Offset of an array's capacity.
pub const ARRAY_CAP_OFFSET: i32 = 24;
/// Offset of an array's first element; element `i` is at `ARRAY_ELEMS_OFFSET + 8 * i`.
pub const ARRAY_ELEMS_OFFSET: i32 = 32;

/// Offset of a struct's first field; field `i` is at `STRUCT_FIELDS_OFFSET + 8 * i`.
pub const STRUCT_FIELDS_OFFSET: i32 = 16;

/// Size of one array element or struct field.
pub const SLOT_SIZE: i32 = 8;

/// Alignment of every object (and of every type descriptor).
pub const OBJECT_ALIGN: usize = 8;

// The constants above must describe the `repr(C)` structs exactly.
const _: () = {
    assert!(core::mem::size_of::<ObjHeader>() == OBJ_HEADER_SIZE);
    assert!(core::mem::offset_of!(ObjHeader, rc) == RC_OFFSET as usize);
    assert!(core::mem::offset_of!(ObjHeader, desc) == DESC_OFFSET as usize);
    assert!(core::mem::offset_of!(StrHeader, rc) == RC_OFFSET as usize);
    assert!(core::mem::offset_of!(StrHeader, desc) == DESC_OFFSET as usize);
    assert!(core::mem::offset_of!(StrHeader, len) == STR_LEN_OFFSET as usize);
    assert!(core::mem::offset_of!(StrHeader, cap) == STR_CAP_OFFSET as usize);
    assert!(core::mem::offset_of!(StrHeader, chars) == STR_CHARS_OFFSET as usize);
    assert!(core::mem::size_of::<StrHeader>() == STR_BYTES_OFFSET as usize);
    assert!(core::mem::offset_of!(ArrayHeader, rc) == RC_OFFSET as usize);
    assert!(core::mem::offset_of!(ArrayHeader, desc) == DESC_OFFSET as usize);
    assert!(core::mem::offset_of!(ArrayHeader, len) == ARRAY_LEN_OFFSET as usize);
    assert!(core::mem::offset_of!(ArrayHeader, cap) == ARRAY_CAP_OFFSET as usize);
    assert!(core::mem::size_of::<ArrayHeader>() == ARRAY_ELEMS_OFFSET as usize);
    assert!(STRUCT_FIELDS_OFFSET as usize == OBJ_HEADER_SIZE);
};
