//! Type descriptors: the read-only data that tells the runtime what is inside an array, struct or
//! map.
//!
//! Every array, struct and map object points to its type's [`TypeDesc`] (strings point to null).
//! The compiler emits descriptors as read-only data with exactly this `repr(C)` layout (the
//! `*_OFFSET` constants below); the VM builds the same structs in memory; the runtime has its own
//! for the values it creates itself ([`STRING_ARRAY_DESC`] for `split` and `args`).
//! Descriptors are compared by content, never by address, and may form cycles
//! (`struct Node { [Node] kids, }`).
//!
//! What this module does not do: walk objects (see `object` and `value`).

/// `kind` of `int`.
pub const KIND_INT: u32 = 0;
/// `kind` of `float`.
pub const KIND_FLOAT: u32 = 1;
/// `kind` of `bool`.
pub const KIND_BOOL: u32 = 2;
/// `kind` of `string`.
pub const KIND_STRING: u32 = 3;
/// `kind` of an array type; `elem` is the element type.
pub const KIND_ARRAY: u32 = 4;
/// `kind` of a struct type; `name` and `fields` describe it. A tuple type is a struct type
/// without a name (`name_len` 0; a declared struct always has one) whose fields are named `0`,
/// `1`, ...: it is stored, compared and released as a struct and printed as `(1, "a")`.
pub const KIND_STRUCT: u32 = 5;
/// `kind` of an enum type; `name` is the enum's. A value of an enum type points to an object of
/// one of its variant types, whose own descriptor (in the object header) says which.
pub const KIND_ENUM: u32 = 6;
/// `kind` of an enum's variant type: stored, copied and freed as a struct whose field 0 is the
/// variant's tag (an int) and whose other fields are the payload; `name` is the variant's name.
/// Printed as `Circle(1.0)`, or just `Empty` without a payload; equal to another value of the
/// same enum when the tags and then the payloads are.
pub const KIND_VARIANT: u32 = 7;
/// `kind` of a function type (`fn(int) -> int`); `name` is the type as written. Like an enum
/// type, it only says "look at the object": a function value points to an object of one of
/// its closure types.
pub const KIND_FN: u32 = 8;
/// `kind` of a closure type: the object a function value points to, stored and freed as a
/// struct whose field 0 is the code to call, field 1 the stack units a call takes, and the
/// other fields the values the closure captured; `name` is what it prints as between `<` and
/// `>` (`fn add`, `closure`). Equal only to itself (the compiler lets no program compare
/// functions).
pub const KIND_CLOSURE: u32 = 9;
/// `kind` of a map type (`map<K, V>`); `elem` is the map's entry type, the tuple `(K, V)` (a
/// struct without a name whose two fields, `0` and `1`, are the key and value types). A map
/// value points to a map object: the common header, then a part only the runtime reads (see
/// `map`).
pub const KIND_MAP: u32 = 10;
/// `kind` of a set type (`set<T>`); `elem` is the item type. A set value points to a map object
/// (see `map`) whose values are all 0.
pub const KIND_SET: u32 = 11;

/// The description of one Keel type.
#[repr(C)]
#[derive(Debug)]
pub struct TypeDesc {
    /// One of the `KIND_*` constants.
    pub kind: u32,
    /// Number of fields of a struct (0 otherwise).
    pub field_count: u32,
    /// The element type of an array, the entry type of a map, the item type of a set (null
    /// otherwise).
    pub elem: *const TypeDesc,
    /// A struct's name, UTF-8 (null otherwise).
    pub name: *const u8,
    pub name_len: u64,
    /// A struct's `field_count` fields in declaration order (null otherwise).
    pub fields: *const FieldDesc,
}

/// One field of a struct type.
#[repr(C)]
#[derive(Debug)]
pub struct FieldDesc {
    /// The field's name, UTF-8.
    pub name: *const u8,
    pub name_len: u64,
    /// The field's type.
    pub ty: *const TypeDesc,
}

/// Offset of `TypeDesc::kind`.
pub const DESC_KIND_OFFSET: i32 = 0;
/// Offset of `TypeDesc::field_count`.
pub const DESC_FIELD_COUNT_OFFSET: i32 = 4;
/// Offset of `TypeDesc::elem`.
pub const DESC_ELEM_OFFSET: i32 = 8;
/// Offset of `TypeDesc::name`.
pub const DESC_NAME_OFFSET: i32 = 16;
/// Offset of `TypeDesc::name_len`.
pub const DESC_NAME_LEN_OFFSET: i32 = 24;
/// Offset of `TypeDesc::fields`.
pub const DESC_FIELDS_OFFSET: i32 = 32;
/// Size of a `TypeDesc`.
pub const TYPE_DESC_SIZE: usize = 40;
/// Offset of `FieldDesc::name`.
pub const FIELD_NAME_OFFSET: i32 = 0;
/// Offset of `FieldDesc::name_len`.
pub const FIELD_NAME_LEN_OFFSET: i32 = 8;
/// Offset of `FieldDesc::ty`.
pub const FIELD_TY_OFFSET: i32 = 16;
/// Size of a `FieldDesc`.
pub const FIELD_DESC_SIZE: usize = 24;

const _: () = {
    assert!(core::mem::offset_of!(TypeDesc, kind) == DESC_KIND_OFFSET as usize);
    assert!(core::mem::offset_of!(TypeDesc, field_count) == DESC_FIELD_COUNT_OFFSET as usize);
    assert!(core::mem::offset_of!(TypeDesc, elem) == DESC_ELEM_OFFSET as usize);
    assert!(core::mem::offset_of!(TypeDesc, name) == DESC_NAME_OFFSET as usize);
    assert!(core::mem::offset_of!(TypeDesc, name_len) == DESC_NAME_LEN_OFFSET as usize);
    assert!(core::mem::offset_of!(TypeDesc, fields) == DESC_FIELDS_OFFSET as usize);
    assert!(core::mem::size_of::<TypeDesc>() == TYPE_DESC_SIZE);
    assert!(core::mem::offset_of!(FieldDesc, name) == FIELD_NAME_OFFSET as usize);
    assert!(core::mem::offset_of!(FieldDesc, name_len) == FIELD_NAME_LEN_OFFSET as usize);
    assert!(core::mem::offset_of!(FieldDesc, ty) == FIELD_TY_OFFSET as usize);
    assert!(core::mem::size_of::<FieldDesc>() == FIELD_DESC_SIZE);
};

// SAFETY: descriptors are immutable once built; the pointers they hold lead only to other
// immutable descriptors and names, so sharing them between threads cannot race.
unsafe impl Sync for TypeDesc {}
// SAFETY: as for `TypeDesc`.
unsafe impl Sync for FieldDesc {}
// SAFETY: a descriptor is plain immutable data; moving it to another thread moves no ownership
// (whoever builds descriptors keeps what they point to alive, as on any thread).
unsafe impl Send for TypeDesc {}
// SAFETY: as for `TypeDesc`.
unsafe impl Send for FieldDesc {}

impl TypeDesc {
    /// The descriptor of a scalar or string type (`KIND_INT` ... `KIND_STRING`).
    pub const fn simple(kind: u32) -> TypeDesc {
        TypeDesc {
            kind,
            field_count: 0,
            elem: core::ptr::null(),
            name: core::ptr::null(),
            name_len: 0,
            fields: core::ptr::null(),
        }
    }

    /// The descriptor of an array of `elem`.
    pub const fn array(elem: *const TypeDesc) -> TypeDesc {
        TypeDesc {
            kind: KIND_ARRAY,
            field_count: 0,
            elem,
            name: core::ptr::null(),
            name_len: 0,
            fields: core::ptr::null(),
        }
    }

    /// The descriptor of a map type whose entry type is `entry`, the tuple `(K, V)`.
    pub const fn map(entry: *const TypeDesc) -> TypeDesc {
        TypeDesc {
            kind: KIND_MAP,
            field_count: 0,
            elem: entry,
            name: core::ptr::null(),
            name_len: 0,
            fields: core::ptr::null(),
        }
    }

    /// The descriptor of a set of `item`.
    pub const fn set(item: *const TypeDesc) -> TypeDesc {
        TypeDesc {
            kind: KIND_SET,
            field_count: 0,
            elem: item,
            name: core::ptr::null(),
            name_len: 0,
            fields: core::ptr::null(),
        }
    }

    /// The descriptor of a struct named `name` with `fields`; both must outlive every use.
    pub const fn structure(name: &[u8], fields: &[FieldDesc]) -> TypeDesc {
        TypeDesc {
            kind: KIND_STRUCT,
            field_count: fields.len() as u32,
            elem: core::ptr::null(),
            name: name.as_ptr(),
            name_len: name.len() as u64,
            fields: fields.as_ptr(),
        }
    }

    /// The descriptor of an enum type named `name`; it must outlive every use.
    pub const fn enumeration(name: &[u8]) -> TypeDesc {
        TypeDesc {
            kind: KIND_ENUM,
            field_count: 0,
            elem: core::ptr::null(),
            name: name.as_ptr(),
            name_len: name.len() as u64,
            fields: core::ptr::null(),
        }
    }

    /// The descriptor of a variant named `name` whose `fields` are the tag (an int) and then
    /// the payload; both must outlive every use.
    pub const fn variant(name: &[u8], fields: &[FieldDesc]) -> TypeDesc {
        let mut desc = TypeDesc::structure(name, fields);
        desc.kind = KIND_VARIANT;
        desc
    }

    /// Whether values of this type point to objects whose own descriptor (in their header)
    /// says what they are: enums (an object of one of their variants) and function types (an
    /// object of one of their closure types).
    pub fn is_indirect(&self) -> bool {
        matches!(self.kind, KIND_ENUM | KIND_FN)
    }

    /// Whether objects of this type are laid out as structs: structs, tuples, variants and
    /// closures.
    pub fn has_fields(&self) -> bool {
        matches!(self.kind, KIND_STRUCT | KIND_VARIANT | KIND_CLOSURE)
    }

    /// Whether this is a tuple type: a struct type without a name.
    pub fn is_tuple(&self) -> bool {
        self.kind == KIND_STRUCT && self.name_len == 0
    }

    /// Whether values of this type are pointers to heap objects (strings, arrays, structs,
    /// enums, functions, maps, sets).
    pub fn is_heap(&self) -> bool {
        is_heap_kind(self.kind)
    }

    /// A struct's name (empty for other kinds).
    ///
    /// # Safety
    /// `name` must point to `name_len` bytes that outlive the result (or be null).
    pub unsafe fn name_bytes<'a>(&self) -> &'a [u8] {
        if self.name.is_null() {
            return &[];
        }
        // SAFETY: the caller guarantees the name range is valid.
        unsafe { core::slice::from_raw_parts(self.name, self.name_len as usize) }
    }

    /// A struct's fields (empty for other kinds).
    ///
    /// # Safety
    /// `fields` must point to `field_count` descriptors that outlive the result (or be null).
    pub unsafe fn field_descs<'a>(&self) -> &'a [FieldDesc] {
        if self.fields.is_null() {
            return &[];
        }
        // SAFETY: the caller guarantees the field table is valid.
        unsafe { core::slice::from_raw_parts(self.fields, self.field_count as usize) }
    }
}

impl FieldDesc {
    /// The field `name` of type `ty`; the name must outlive every use.
    pub const fn new(name: &[u8], ty: *const TypeDesc) -> FieldDesc {
        FieldDesc {
            name: name.as_ptr(),
            name_len: name.len() as u64,
            ty,
        }
    }

    /// The field's name.
    ///
    /// # Safety
    /// `name` must point to `name_len` bytes that outlive the result.
    pub unsafe fn name_bytes<'a>(&self) -> &'a [u8] {
        if self.name.is_null() {
            return &[];
        }
        // SAFETY: the caller guarantees the name range is valid.
        unsafe { core::slice::from_raw_parts(self.name, self.name_len as usize) }
    }
}

/// Whether values of `kind` are pointers to heap objects.
pub fn is_heap_kind(kind: u32) -> bool {
    matches!(
        kind,
        KIND_STRING
            | KIND_ARRAY
            | KIND_STRUCT
            | KIND_ENUM
            | KIND_VARIANT
            | KIND_FN
            | KIND_CLOSURE
            | KIND_MAP
            | KIND_SET
    )
}

/// Whether the descriptor `desc` (which may be null) describes a heap type.
///
/// # Safety
/// `desc` must be null or point to a valid descriptor.
pub unsafe fn desc_is_heap(desc: *const TypeDesc) -> bool {
    // SAFETY: the caller guarantees `desc` is null or valid.
    !desc.is_null() && unsafe { (*desc).is_heap() }
}

/// `int`.
pub static INT_DESC: TypeDesc = TypeDesc::simple(KIND_INT);
/// `float`.
pub static FLOAT_DESC: TypeDesc = TypeDesc::simple(KIND_FLOAT);
/// `bool`.
pub static BOOL_DESC: TypeDesc = TypeDesc::simple(KIND_BOOL);
/// `string`.
pub static STRING_DESC: TypeDesc = TypeDesc::simple(KIND_STRING);
/// `[string]`, the type of `split`'s and `args`'s results.
pub static STRING_ARRAY_DESC: TypeDesc = TypeDesc::array(&STRING_DESC);
/// `[int]`, the type of `string_to_bytes`'s result.
pub static INT_ARRAY_DESC: TypeDesc = TypeDesc::array(&INT_DESC);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_kinds() {
        assert!(!INT_DESC.is_heap());
        assert!(!FLOAT_DESC.is_heap());
        assert!(!BOOL_DESC.is_heap());
        assert!(STRING_DESC.is_heap());
        assert!(STRING_ARRAY_DESC.is_heap());
        static ENTRY_FIELDS: [FieldDesc; 2] = [
            FieldDesc::new(b"0", &STRING_DESC),
            FieldDesc::new(b"1", &INT_DESC),
        ];
        static ENTRY: TypeDesc = TypeDesc::structure(b"", &ENTRY_FIELDS);
        assert!(TypeDesc::map(&ENTRY).is_heap());
        assert!(TypeDesc::set(&INT_DESC).is_heap());
        // SAFETY: a null descriptor is allowed.
        assert!(!unsafe { desc_is_heap(core::ptr::null()) });
    }

    #[test]
    fn struct_descriptor_reads_back() {
        static FIELDS: [FieldDesc; 2] = [
            FieldDesc::new(b"x", &INT_DESC),
            FieldDesc::new(b"name", &STRING_DESC),
        ];
        static POINT: TypeDesc = TypeDesc::structure(b"Point", &FIELDS);
        // SAFETY: the statics live forever.
        unsafe {
            assert_eq!(POINT.name_bytes(), b"Point");
            let fields = POINT.field_descs();
            assert_eq!(fields.len(), 2);
            assert_eq!(fields[1].name_bytes(), b"name");
            assert_eq!((*fields[1].ty).kind, KIND_STRING);
        }
    }
}
