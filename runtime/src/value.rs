//! Whole values, walked by their type descriptors: deep equality and the printed text of arrays,
//! structs and maps.
//!
//! Equality follows `==` on each part: ints, bools and strings by value, floats by IEEE (so an
//! array holding NaN is not equal to itself, like NaN), arrays element by element, structs field
//! by field, maps by their entries whatever their order (the same number, and every key of one
//! in the other with an equal value), sets by their items. The text is what `print` shows:
//! `[1, 2, 3]`, `["a\n", "b"]` (strings inside quoted with escapes), floats by the float rule,
//! `Point { x: 1, y: 2.5 }`, `[]`, `E {}`, `{"a": 1, "b": 2}` and `{1, 2}` (in ascending key
//! order), `{}`.
//!
//! Values may be nested to any depth (a struct holding an array of its own type, built in a
//! loop), so neither walk recurses: each keeps a stack of the arrays, structs and maps it is
//! inside, on the heap.
//!
//! What this module does not do: write the text anywhere (see `output`) or compare descriptors
//! (values of one static type are compared; their descriptors are not).

use crate::desc::{
    TypeDesc, KIND_ARRAY, KIND_BOOL, KIND_CLOSURE, KIND_ENUM, KIND_FLOAT, KIND_FN, KIND_INT,
    KIND_MAP, KIND_SET, KIND_STRING, KIND_STRUCT, KIND_VARIANT,
};
use crate::float::FloatText;
use crate::layout::{ArrayHeader, ObjHeader, StrHeader};
use crate::object::{retain, struct_fields};
use crate::prelude::*;
use crate::string::{as_bytes, new_string};

/// Whether the value words `a` and `b` of type `desc` are equal by `==`.
///
/// Values may be nested to any depth, so the walk keeps its own stack of the arrays and structs
/// it is inside (as deep as the values, on the heap) instead of recursing.
///
/// # Safety
/// `desc` must be a valid descriptor; heap words must be null or live objects of that type.
pub unsafe fn word_eq(a: i64, b: i64, desc: *const TypeDesc) -> bool {
    let mut open: Vec<Pair<'_>> = Vec::new();
    // SAFETY: the caller guarantees the descriptor and the objects are valid; the parts pushed
    // are elements and fields of them, typed by their containers' descriptors.
    unsafe {
        if !shallow_eq(a, b, desc, &mut open) {
            return false;
        }
        while let Some(pair) = open.last_mut() {
            let next = match pair {
                Pair::Arrays { xs, ys, elem, next } => (*next < xs.len()).then(|| {
                    *next += 1;
                    (xs[*next - 1], ys[*next - 1], *elem)
                }),
                Pair::Structs {
                    xs,
                    ys,
                    fields,
                    next,
                } => (*next < fields.len()).then(|| {
                    *next += 1;
                    (*xs.add(*next - 1), *ys.add(*next - 1), fields[*next - 1].ty)
                }),
                Pair::Maps {
                    xs,
                    ys,
                    value,
                    next,
                } => {
                    let mut values = None;
                    while *next < xs.len() {
                        let entry = xs[*next];
                        *next += 1;
                        let Some(found) = crate::map::find_hashed(*ys, entry.key, entry.hash)
                        else {
                            return false;
                        };
                        if !value.is_null() {
                            let other = crate::map::entries(*ys)[found].value;
                            values = Some((entry.value, other, *value));
                            break;
                        }
                    }
                    values
                }
            };
            match next {
                Some((x, y, desc)) => {
                    if !shallow_eq(x, y, desc, &mut open) {
                        return false;
                    }
                }
                None => {
                    open.pop();
                }
            }
        }
        true
    }
}

/// Two arrays, structs or maps being compared part by part, and the index of the next part.
enum Pair<'a> {
    Arrays {
        xs: &'a [i64],
        ys: &'a [i64],
        elem: *const TypeDesc,
        next: usize,
    },
    Structs {
        xs: *const i64,
        ys: *const i64,
        fields: &'a [crate::desc::FieldDesc],
        next: usize,
    },
    /// Two maps (or sets) of one type and of one length: each entry of `xs` is looked up in
    /// `ys` (absent: they differ), and for maps the two values compared.
    Maps {
        xs: &'a [crate::map::Entry],
        ys: *const ObjHeader,
        /// The value type; null for sets.
        value: *const TypeDesc,
        next: usize,
    },
}

/// Compares `a` and `b` of type `desc` as far as can be done without looking inside them:
/// scalars and strings whole, arrays and maps by length; two arrays, structs or maps still to be
/// compared part by part are pushed onto `open`. False when they already differ.
///
/// # Safety
/// As for [`word_eq`].
unsafe fn shallow_eq<'a>(a: i64, b: i64, desc: *const TypeDesc, open: &mut Vec<Pair<'a>>) -> bool {
    // SAFETY: the caller guarantees the descriptor and the objects are valid.
    unsafe {
        let desc = of_object(a, desc);
        match (*desc).kind {
            KIND_FLOAT => f64::from_bits(a as u64) == f64::from_bits(b as u64),
            KIND_STRING | KIND_ARRAY | KIND_STRUCT | KIND_VARIANT | KIND_MAP | KIND_SET
                if a == 0 || b == 0 =>
            {
                a == b
            }
            KIND_STRING => {
                a == b || as_bytes(a as *const StrHeader) == as_bytes(b as *const StrHeader)
            }
            KIND_CLOSURE => a == b,
            // No shortcut for `a == b`: an array holding NaN is not equal to itself.
            KIND_ARRAY => {
                let xs = crate::array::elements(a as *const ArrayHeader);
                let ys = crate::array::elements(b as *const ArrayHeader);
                if xs.len() != ys.len() {
                    return false;
                }
                open.push(Pair::Arrays {
                    xs,
                    ys,
                    elem: (*desc).elem,
                    next: 0,
                });
                true
            }
            // No shortcut for `a == b` either: a map may hold NaN.
            KIND_MAP | KIND_SET => {
                let (x, y) = (a as *const ObjHeader, b as *const ObjHeader);
                let xs = crate::map::entries(x);
                if xs.len() != crate::map::entries(y).len() {
                    return false;
                }
                open.push(Pair::Maps {
                    xs,
                    ys: y,
                    value: crate::map::part_descs(x).1,
                    next: 0,
                });
                true
            }
            KIND_STRUCT => {
                open.push(Pair::Structs {
                    xs: struct_fields(a as *mut ObjHeader),
                    ys: struct_fields(b as *mut ObjHeader),
                    fields: (*desc).field_descs(),
                    next: 0,
                });
                true
            }
            // Two values of one enum: equal tags (field 0), then equal payloads.
            KIND_VARIANT => {
                let (xs, ys) = (
                    struct_fields(a as *mut ObjHeader),
                    struct_fields(b as *mut ObjHeader),
                );
                if *xs != *ys {
                    return false;
                }
                open.push(Pair::Structs {
                    xs: xs.add(1),
                    ys: ys.add(1),
                    fields: payload((*desc).field_descs()),
                    next: 0,
                });
                true
            }
            _ => a == b,
        }
    }
}

/// `a == b` for two arrays, structs or maps of the same type (deep), as 0 or 1.
///
/// # Safety
/// `a` and `b` must be live arrays, structs or maps of one type, with valid descriptors.
#[no_mangle]
pub unsafe extern "C" fn keel_value_eq(a: *const ObjHeader, b: *const ObjHeader) -> i64 {
    // SAFETY: the caller guarantees the objects are valid; a string has no descriptor.
    unsafe {
        let desc = (*a).desc;
        if desc.is_null() {
            return i64::from(word_eq(a as i64, b as i64, &crate::desc::STRING_DESC));
        }
        i64::from(word_eq(a as i64, b as i64, desc))
    }
}

/// Appends the text of the value word `word` of type `desc` as it appears inside an array or
/// struct (strings quoted).
///
/// Values may be nested to any depth, so the walk keeps its own stack of the arrays, structs and
/// maps it is inside (as deep as the value, on the heap) instead of recursing. Maps are sorted
/// (in place: see `map`) as they are reached.
///
/// # Safety
/// `desc` must be a valid descriptor; a heap word must be null or a live object of that type.
pub unsafe fn write_value(out: &mut Vec<u8>, word: i64, desc: *const TypeDesc) {
    let mut open: Vec<Open<'_>> = Vec::new();
    // SAFETY: the caller guarantees the descriptor and the object are valid; the parts written
    // are elements and fields of it, typed by their containers' descriptors.
    unsafe {
        write_start(out, word, desc, &mut open);
        while let Some(container) = open.last_mut() {
            let next = match container {
                Open::Array { items, elem, next } => {
                    if *next == items.len() {
                        out.push(b']');
                        None
                    } else {
                        if *next > 0 {
                            out.extend_from_slice(b", ");
                        }
                        *next += 1;
                        Some((items[*next - 1], *elem))
                    }
                }
                Open::Struct {
                    values,
                    fields,
                    tuple,
                    next,
                } => {
                    if *next == fields.len() {
                        out.extend_from_slice(if *tuple { b")" } else { b" }" });
                        None
                    } else {
                        if *next > 0 {
                            out.extend_from_slice(b", ");
                        }
                        let field = &fields[*next];
                        if !*tuple {
                            out.extend_from_slice(field.name_bytes());
                            out.extend_from_slice(b": ");
                        }
                        *next += 1;
                        Some((*values.add(*next - 1), field.ty))
                    }
                }
                Open::Map {
                    entries,
                    key,
                    value,
                    next,
                    value_due,
                } => {
                    if *value_due {
                        *value_due = false;
                        out.extend_from_slice(b": ");
                        Some((entries[*next - 1].value, *value))
                    } else if *next == entries.len() {
                        out.push(b'}');
                        None
                    } else {
                        if *next > 0 {
                            out.extend_from_slice(b", ");
                        }
                        *next += 1;
                        *value_due = !value.is_null();
                        Some((entries[*next - 1].key, *key))
                    }
                }
            };
            match next {
                Some((word, desc)) => write_start(out, word, desc, &mut open),
                None => {
                    open.pop();
                }
            }
        }
    }
}

/// An array, struct or map whose text is being written, and the index of its next part.
enum Open<'a> {
    Array {
        items: &'a [i64],
        elem: *const TypeDesc,
        next: usize,
    },
    /// A struct, or a tuple (a struct without a name): `(1, "a")`, its elements without names.
    Struct {
        values: *const i64,
        fields: &'a [crate::desc::FieldDesc],
        tuple: bool,
        next: usize,
    },
    /// A map, `{"a": 1}`, or a set, `{1, 2}` (`value` null), its entries in key order; for a map,
    /// `value_due` once the key of entry `next - 1` is written and its value is not.
    Map {
        entries: &'a [crate::map::Entry],
        key: *const TypeDesc,
        value: *const TypeDesc,
        next: usize,
        value_due: bool,
    },
}

/// Appends the text of `word` of type `desc` as far as it goes without its parts: a scalar or
/// string whole, an empty struct or map whole, or the start of an array, struct or map, which is
/// pushed onto `open` for its parts and its end.
///
/// # Safety
/// As for [`write_value`].
unsafe fn write_start<'a>(
    out: &mut Vec<u8>,
    word: i64,
    desc: *const TypeDesc,
    open: &mut Vec<Open<'a>>,
) {
    // SAFETY: the caller guarantees the descriptor and the object are valid.
    unsafe {
        match (*desc).kind {
            KIND_INT => write_int(out, word),
            KIND_FLOAT => {
                out.extend_from_slice(FloatText::new(f64::from_bits(word as u64)).as_bytes())
            }
            KIND_BOOL => out.extend_from_slice(if word != 0 { b"true" } else { b"false" }),
            _ if word == 0 => out.extend_from_slice(b"<null>"),
            KIND_STRING => write_quoted(out, as_bytes(word as *const StrHeader)),
            KIND_ARRAY => {
                out.push(b'[');
                open.push(Open::Array {
                    items: crate::array::elements(word as *const ArrayHeader),
                    elem: (*desc).elem,
                    next: 0,
                });
            }
            KIND_MAP | KIND_SET => {
                let m = word as *const ObjHeader;
                crate::map::sort_map(m);
                let entries = crate::map::entries(m);
                if entries.is_empty() {
                    out.extend_from_slice(b"{}");
                    return;
                }
                out.push(b'{');
                let (key, value) = crate::map::part_descs(m);
                open.push(Open::Map {
                    entries,
                    key,
                    value,
                    next: 0,
                    value_due: false,
                });
            }
            KIND_ENUM | KIND_FN => write_start(out, word, of_object(word, desc), open),
            // `<fn add>`, `<closure>`.
            KIND_CLOSURE => {
                out.push(b'<');
                out.extend_from_slice((*desc).name_bytes());
                out.push(b'>');
            }
            // `Circle(1.0)`, or `Empty` without a payload.
            KIND_VARIANT => {
                out.extend_from_slice((*desc).name_bytes());
                let fields = payload((*desc).field_descs());
                if !fields.is_empty() {
                    out.push(b'(');
                    open.push(Open::Struct {
                        values: struct_fields(word as *mut ObjHeader).add(1),
                        fields,
                        tuple: true,
                        next: 0,
                    });
                }
            }
            KIND_STRUCT => {
                let tuple = (*desc).is_tuple();
                let fields = (*desc).field_descs();
                if tuple {
                    out.push(b'(');
                } else if fields.is_empty() {
                    out.extend_from_slice((*desc).name_bytes());
                    out.extend_from_slice(b" {}");
                    return;
                } else {
                    out.extend_from_slice((*desc).name_bytes());
                    out.extend_from_slice(b" { ");
                }
                open.push(Open::Struct {
                    values: struct_fields(word as *mut ObjHeader),
                    fields,
                    tuple,
                    next: 0,
                });
            }
            kind => out.extend_from_slice(format!("<kind {kind}>").as_bytes()),
        }
    }
}

/// The descriptor to walk the value word `word` of static type `desc` by: for an enum (a
/// pointer to an object of one of its variants), the variant's, from the object's header;
/// `desc` itself otherwise (and for null).
///
/// # Safety
/// `desc` must be valid; a word of an enum type must be null or a live object.
unsafe fn of_object(word: i64, desc: *const TypeDesc) -> *const TypeDesc {
    // SAFETY: the caller guarantees both.
    unsafe {
        if (*desc).is_indirect() && word != 0 {
            (*(word as *const ObjHeader)).desc
        } else {
            desc
        }
    }
}

/// A variant's payload fields: all but the tag (field 0).
fn payload(fields: &[crate::desc::FieldDesc]) -> &[crate::desc::FieldDesc] {
    fields.get(1..).unwrap_or(&[])
}

/// Appends the text `print` shows for the object `obj`: an array, struct or map by its
/// descriptor, a string (no descriptor) as its raw text.
///
/// # Safety
/// `obj` must be a live object with a valid descriptor (or a string).
pub unsafe fn write_object(out: &mut Vec<u8>, obj: *const ObjHeader) {
    // SAFETY: the caller guarantees `obj` is valid.
    unsafe {
        let desc = (*obj).desc;
        if desc.is_null() {
            out.extend_from_slice(as_bytes(obj.cast()));
        } else {
            write_value(out, obj as i64, desc);
        }
    }
}

fn write_int(out: &mut Vec<u8>, value: i64) {
    let mut digits = [0u8; 20];
    out.extend_from_slice(crate::output::format_int(value, &mut digits));
}

/// Appends `text` in double quotes with the escapes of Keel string literals: `\"`, `\\`, `\n`,
/// `\t`, `\r`, `\0`, and `\u{..}` for other control characters.
pub fn write_quoted(out: &mut Vec<u8>, text: &[u8]) {
    out.push(b'"');
    for &byte in text {
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0 => out.extend_from_slice(b"\\0"),
            0x01..=0x1f | 0x7f => out.extend_from_slice(format!("\\u{{{byte:x}}}").as_bytes()),
            _ => out.push(byte),
        }
    }
    out.push(b'"');
}

/// `to_string(v)` of an array, struct or map: the text `print` shows. A string comes back as
/// itself.
///
/// # Safety
/// `v` must be a live object with a valid descriptor (or a string).
#[no_mangle]
pub unsafe extern "C" fn keel_value_to_str(v: *const ObjHeader) -> *mut StrHeader {
    // SAFETY: the caller guarantees `v` is valid; a string result is a new reference to `v`.
    unsafe {
        if (*v).desc.is_null() {
            retain(v.cast_mut());
            return v.cast_mut().cast();
        }
        let mut text = Vec::new();
        write_object(&mut text, v);
        new_string(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::array::{elements, keel_array_alloc, slots};
    use crate::desc::{FieldDesc, BOOL_DESC, FLOAT_DESC, INT_DESC, STRING_ARRAY_DESC, STRING_DESC};
    use crate::object::{keel_struct_alloc, live_objects, release};
    use crate::string::as_str;

    static POINT_FIELDS: [FieldDesc; 2] = [
        FieldDesc::new(b"x", &INT_DESC),
        FieldDesc::new(b"y", &FLOAT_DESC),
    ];
    static POINT: TypeDesc = TypeDesc::structure(b"Point", &POINT_FIELDS);
    static POINTS: TypeDesc = TypeDesc::array(&POINT);
    static EMPTY: TypeDesc = TypeDesc::structure(b"E", &[]);
    static SHAPE_FIELDS: [FieldDesc; 4] = [
        FieldDesc::new(b"name", &STRING_DESC),
        FieldDesc::new(b"corners", &POINTS),
        FieldDesc::new(b"tags", &STRING_ARRAY_DESC),
        FieldDesc::new(b"closed", &BOOL_DESC),
    ];
    static SHAPE: TypeDesc = TypeDesc::structure(b"Shape", &SHAPE_FIELDS);
    static FLOATS: TypeDesc = TypeDesc::array(&FLOAT_DESC);
    static NESTED_INTS: TypeDesc = TypeDesc::array(&INT_ARRAY);
    static INT_ARRAY: TypeDesc = TypeDesc::array(&INT_DESC);

    fn point(x: i64, y: f64) -> i64 {
        // SAFETY: the struct has two fields.
        unsafe {
            let p = keel_struct_alloc(&POINT);
            *struct_fields(p) = x;
            *struct_fields(p).add(1) = y.to_bits() as i64;
            p as i64
        }
    }

    fn array_of(desc: &TypeDesc, items: &[i64]) -> i64 {
        // SAFETY: the array has room for the items, which it takes over.
        unsafe {
            let a = keel_array_alloc(desc, items.len() as i64);
            core::ptr::copy_nonoverlapping(items.as_ptr(), slots(a), items.len());
            a as i64
        }
    }

    fn text_of(obj: i64) -> String {
        // SAFETY: `obj` is a live object built by the test.
        unsafe {
            let s = keel_value_to_str(obj as *const ObjHeader);
            let text = as_str(s).to_string();
            release(s.cast());
            text
        }
    }

    // `enum Tree { Leaf, Node(Tree, int, Tree) }` and `[Tree]`.
    static TREE: TypeDesc = TypeDesc::enumeration(b"Tree");
    static LEAF_FIELDS: [FieldDesc; 1] = [FieldDesc::new(b"tag", &INT_DESC)];
    static LEAF: TypeDesc = TypeDesc::variant(b"Leaf", &LEAF_FIELDS);
    static TREE_NODE_FIELDS: [FieldDesc; 4] = [
        FieldDesc::new(b"tag", &INT_DESC),
        FieldDesc::new(b"0", &TREE),
        FieldDesc::new(b"1", &INT_DESC),
        FieldDesc::new(b"2", &TREE),
    ];
    static TREE_NODE: TypeDesc = TypeDesc::variant(b"Node", &TREE_NODE_FIELDS);
    static TREES: TypeDesc = TypeDesc::array(&TREE);

    fn leaf() -> i64 {
        // SAFETY: the variant has its tag field.
        unsafe { keel_struct_alloc(&LEAF) as i64 }
    }

    fn node(left: i64, value: i64, right: i64) -> i64 {
        // SAFETY: the variant has a tag and three payload fields, which take over the children.
        unsafe {
            let n = keel_struct_alloc(&TREE_NODE);
            let fields = struct_fields(n);
            *fields = 1;
            *fields.add(1) = left;
            *fields.add(2) = value;
            *fields.add(3) = right;
            n as i64
        }
    }

    #[test]
    fn enums_print_compare_and_free_by_their_variants() {
        let before = live_objects();
        let a = node(leaf(), 3, node(leaf(), 4, leaf()));
        let b = node(leaf(), 3, node(leaf(), 4, leaf()));
        let c = node(leaf(), 3, leaf());
        assert_eq!(text_of(a), "Node(Leaf, 3, Node(Leaf, 4, Leaf))");
        let lone = leaf();
        assert_eq!(text_of(lone), "Leaf");
        // SAFETY: the values are live trees.
        unsafe {
            assert!(word_eq(a, b, &TREE));
            assert!(!word_eq(a, c, &TREE));
            assert!(!word_eq(c, a, &TREE));
            assert_eq!(keel_value_eq(a as *const _, b as *const _), 1);
        }
        let trees = array_of(&TREES, &[a, c]);
        assert_eq!(
            text_of(trees),
            "[Node(Leaf, 3, Node(Leaf, 4, Leaf)), Node(Leaf, 3, Leaf)]"
        );
        // SAFETY: each value is released once.
        unsafe {
            release(trees as *mut ObjHeader);
            release(b as *mut ObjHeader);
            release(lone as *mut ObjHeader);
        }
        assert_eq!(live_objects(), before);
    }

    #[test]
    fn prints_arrays_and_structs() {
        let before = live_objects();
        let ints = array_of(&INT_ARRAY, &[1, 2, 3]);
        assert_eq!(text_of(ints), "[1, 2, 3]");
        let empty = array_of(&INT_ARRAY, &[]);
        assert_eq!(text_of(empty), "[]");
        let nested = array_of(&NESTED_INTS, &[ints, empty]);
        assert_eq!(text_of(nested), "[[1, 2, 3], []]");
        let floats = array_of(
            &FLOATS,
            &[1.0f64.to_bits() as i64, 1e300f64.to_bits() as i64],
        );
        assert_eq!(text_of(floats), "[1.0, 1e300]");
        let strings = array_of(
            &STRING_ARRAY_DESC,
            &[
                new_string(b"a\n") as i64,
                new_string("q\"\\\t\u{1}é".as_bytes()) as i64,
            ],
        );
        assert_eq!(text_of(strings), r#"["a\n", "q\"\\\t\u{1}é"]"#);
        let p = point(1, 2.5);
        assert_eq!(text_of(p), "Point { x: 1, y: 2.5 }");
        // SAFETY: the struct type has no fields.
        let e = unsafe { keel_struct_alloc(&EMPTY) } as i64;
        assert_eq!(text_of(e), "E {}");
        // SAFETY: `Shape` has four fields, set here; the values are taken over.
        let shape = unsafe {
            let shape = keel_struct_alloc(&SHAPE);
            let fields = struct_fields(shape);
            *fields = new_string(b"tri") as i64;
            *fields.add(1) = array_of(&POINTS, &[p, point(-3, 0.1)]);
            *fields.add(2) = strings;
            *fields.add(3) = 1;
            shape as i64
        };
        assert_eq!(
            text_of(shape),
            r#"Shape { name: "tri", corners: [Point { x: 1, y: 2.5 }, Point { x: -3, y: 0.1 }], tags: ["a\n", "q\"\\\t\u{1}é"], closed: true }"#
        );
        // SAFETY: every object is released once; children went with their parents.
        unsafe {
            for obj in [nested, floats, e, shape] {
                release(obj as *mut ObjHeader);
            }
        }
        assert_eq!(live_objects(), before);
    }

    // `struct Node { [Node] kids, int tag }`: a type whose values nest to any depth.
    static NODE_FIELDS: [FieldDesc; 2] = [
        FieldDesc::new(b"kids", &NODES),
        FieldDesc::new(b"tag", &INT_DESC),
    ];
    static NODE: TypeDesc = TypeDesc::structure(b"Node", &NODE_FIELDS);
    static NODES: TypeDesc = TypeDesc::array(&NODE);

    /// A chain of `depth` nodes, each the only kid of the next, tagged `tag` at the bottom.
    fn chain(depth: usize, tag: i64) -> i64 {
        let mut node = 0i64;
        for level in 0..depth {
            let kids = if node == 0 {
                array_of(&NODES, &[])
            } else {
                array_of(&NODES, &[node])
            };
            // SAFETY: `Node` has two fields, set here; `kids` is taken over.
            node = unsafe {
                let n = keel_struct_alloc(&NODE);
                *struct_fields(n) = kids;
                *struct_fields(n).add(1) = if level == 0 { tag } else { 0 };
                n as i64
            };
        }
        node
    }

    #[test]
    fn values_nested_a_million_deep_print_compare_and_free_without_recursing() {
        // On a thread with a small stack: one recursion per level would overflow it at once.
        std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(|| {
                let before = live_objects();
                let small = chain(3, 7);
                assert_eq!(
                    text_of(small),
                    "Node { kids: [Node { kids: [Node { kids: [], tag: 7 }], tag: 0 }], tag: 0 }"
                );
                let depth = 1_000_000;
                let (a, b, c) = (chain(depth, 1), chain(depth, 1), chain(depth, 2));
                // SAFETY: all are live nodes; each is released once.
                unsafe {
                    let eq = |x: i64, y: i64| {
                        keel_value_eq(x as *const ObjHeader, y as *const ObjHeader)
                    };
                    assert_eq!(eq(a, b), 1);
                    assert_eq!(eq(a, c), 0);
                    let text = text_of(c);
                    assert_eq!(text.len(), depth * "Node { kids: [], tag: 0 }".len());
                    assert!(text.starts_with("Node { kids: [Node { kids: [Node"));
                    let middle = text.find("Node { kids: [], tag: 2 }");
                    assert_eq!(middle, Some((depth - 1) * "Node { kids: [".len()));
                    assert!(text.ends_with("], tag: 0 }], tag: 0 }"));
                    for obj in [small, a, b, c] {
                        release(obj as *mut ObjHeader);
                    }
                }
                assert_eq!(live_objects(), before);
            })
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn to_string_of_a_string_is_itself() {
        let s = new_string(b"plain");
        assert_eq!(text_of(s as i64), "plain");
        // SAFETY: `s` is still live (its count went back to 1).
        unsafe {
            assert_eq!((*s).rc, 1);
            release(s.cast());
        }
    }

    #[test]
    fn deep_equality() {
        let before = live_objects();
        let a = array_of(&POINTS, &[point(1, 2.0), point(3, 4.0)]);
        let b = array_of(&POINTS, &[point(1, 2.0), point(3, 4.0)]);
        let c = array_of(&POINTS, &[point(1, 2.0), point(3, 4.5)]);
        let d = array_of(&POINTS, &[point(1, 2.0)]);
        let nan = array_of(&FLOATS, &[f64::NAN.to_bits() as i64]);
        let zeros = array_of(&FLOATS, &[0.0f64.to_bits() as i64]);
        let negative_zeros = array_of(&FLOATS, &[(-0.0f64).to_bits() as i64]);
        // SAFETY: all objects are live arrays of one type per comparison.
        unsafe {
            let eq = |x: i64, y: i64| keel_value_eq(x as *const ObjHeader, y as *const ObjHeader);
            assert_eq!(eq(a, b), 1);
            assert_eq!(eq(a, a), 1);
            assert_eq!(eq(a, c), 0);
            assert_eq!(eq(a, d), 0);
            assert_eq!(eq(nan, nan), 0);
            assert_eq!(eq(zeros, negative_zeros), 1);
            let p = elements(a as *const ArrayHeader)[0];
            let q = elements(b as *const ArrayHeader)[0];
            assert_eq!(eq(p, q), 1);
            for obj in [a, b, c, d, nan, zeros, negative_zeros] {
                release(obj as *mut ObjHeader);
            }
        }
        assert_eq!(live_objects(), before);
    }

    #[test]
    fn quoting() {
        let mut out = Vec::new();
        write_quoted(&mut out, b"\0\x7f\r");
        assert_eq!(out, br#""\0\u{7f}\r""#);
    }
}
