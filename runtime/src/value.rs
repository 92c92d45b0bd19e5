//! Whole values, walked by their type descriptors: deep equality and the printed text of arrays
//! and structs.
//!
//! Equality follows `==` on each part: ints, bools and strings by value, floats by IEEE (so an
//! array holding NaN is not equal to itself, like NaN), arrays element by element, structs field
//! by field. The text is what `print` shows: `[1, 2, 3]`, `["a\n", "b"]` (strings inside quoted
//! with escapes), floats by the float rule, `Point { x: 1, y: 2.5 }`, `[]`, `E {}`.
//!
//! What this module does not do: write the text anywhere (see `output`) or compare descriptors
//! (values of one static type are compared; their descriptors are not).

use crate::desc::{
    TypeDesc, KIND_ARRAY, KIND_BOOL, KIND_FLOAT, KIND_INT, KIND_STRING, KIND_STRUCT,
};
use crate::float::FloatText;
use crate::layout::{ArrayHeader, ObjHeader, StrHeader};
use crate::object::{retain, struct_fields};
use crate::string::{as_bytes, new_string};

/// Whether the value words `a` and `b` of type `desc` are equal by `==`.
///
/// # Safety
/// `desc` must be a valid descriptor; heap words must be null or live objects of that type.
pub unsafe fn word_eq(a: i64, b: i64, desc: *const TypeDesc) -> bool {
    // SAFETY: the caller guarantees the descriptor and the objects are valid.
    unsafe {
        let kind = (*desc).kind;
        match kind {
            KIND_FLOAT => f64::from_bits(a as u64) == f64::from_bits(b as u64),
            KIND_STRING | KIND_ARRAY | KIND_STRUCT if a == 0 || b == 0 => a == b,
            KIND_STRING => {
                a == b || as_bytes(a as *const StrHeader) == as_bytes(b as *const StrHeader)
            }
            KIND_ARRAY => arrays_eq(a as *const ArrayHeader, b as *const ArrayHeader, desc),
            KIND_STRUCT => structs_eq(a as *mut ObjHeader, b as *mut ObjHeader, desc),
            _ => a == b,
        }
    }
}

/// # Safety
/// `a` and `b` must be live arrays of the array type `desc`.
unsafe fn arrays_eq(a: *const ArrayHeader, b: *const ArrayHeader, desc: *const TypeDesc) -> bool {
    // SAFETY: the caller guarantees both arrays and the descriptor are valid.
    unsafe {
        let elem = (*desc).elem;
        let (xs, ys) = (crate::array::elements(a), crate::array::elements(b));
        xs.len() == ys.len() && xs.iter().zip(ys).all(|(&x, &y)| word_eq(x, y, elem))
    }
}

/// # Safety
/// `a` and `b` must be live structs of the struct type `desc`.
unsafe fn structs_eq(a: *mut ObjHeader, b: *mut ObjHeader, desc: *const TypeDesc) -> bool {
    // SAFETY: the caller guarantees both structs and the descriptor are valid.
    unsafe {
        let (xs, ys) = (struct_fields(a), struct_fields(b));
        (*desc)
            .field_descs()
            .iter()
            .enumerate()
            .all(|(i, field)| word_eq(*xs.add(i), *ys.add(i), field.ty))
    }
}

/// `a == b` for two arrays or two structs of the same type (deep), as 0 or 1.
///
/// # Safety
/// `a` and `b` must be live arrays or structs of one type, with valid descriptors.
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
/// # Safety
/// `desc` must be a valid descriptor; a heap word must be null or a live object of that type.
pub unsafe fn write_value(out: &mut Vec<u8>, word: i64, desc: *const TypeDesc) {
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
            KIND_ARRAY => write_array(out, word as *const ArrayHeader, desc),
            KIND_STRUCT => write_struct(out, word as *mut ObjHeader, desc),
            kind => out.extend_from_slice(format!("<kind {kind}>").as_bytes()),
        }
    }
}

/// Appends the text `print` shows for the object `obj`: an array or struct by its descriptor, a
/// string (no descriptor) as its raw text.
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

/// # Safety
/// `a` must be a live array of type `desc`.
unsafe fn write_array(out: &mut Vec<u8>, a: *const ArrayHeader, desc: *const TypeDesc) {
    // SAFETY: the caller guarantees the array and descriptor are valid.
    unsafe {
        let elem = (*desc).elem;
        out.push(b'[');
        for (index, &item) in crate::array::elements(a).iter().enumerate() {
            if index > 0 {
                out.extend_from_slice(b", ");
            }
            write_value(out, item, elem);
        }
        out.push(b']');
    }
}

/// # Safety
/// `obj` must be a live struct of type `desc`.
unsafe fn write_struct(out: &mut Vec<u8>, obj: *mut ObjHeader, desc: *const TypeDesc) {
    // SAFETY: the caller guarantees the struct and descriptor are valid.
    unsafe {
        if (*desc).is_tuple() {
            return write_tuple(out, obj, desc);
        }
        out.extend_from_slice((*desc).name_bytes());
        let fields = (*desc).field_descs();
        if fields.is_empty() {
            out.extend_from_slice(b" {}");
            return;
        }
        out.extend_from_slice(b" { ");
        let values = struct_fields(obj);
        for (index, field) in fields.iter().enumerate() {
            if index > 0 {
                out.extend_from_slice(b", ");
            }
            out.extend_from_slice(field.name_bytes());
            out.extend_from_slice(b": ");
            write_value(out, *values.add(index), field.ty);
        }
        out.extend_from_slice(b" }");
    }
}

/// A tuple: its elements in parentheses, `(1, "a")`.
///
/// # Safety
/// `obj` must be a live tuple of type `desc`.
unsafe fn write_tuple(out: &mut Vec<u8>, obj: *mut ObjHeader, desc: *const TypeDesc) {
    // SAFETY: the caller guarantees the tuple and descriptor are valid.
    unsafe {
        out.push(b'(');
        let values = struct_fields(obj);
        for (index, field) in (*desc).field_descs().iter().enumerate() {
            if index > 0 {
                out.extend_from_slice(b", ");
            }
            write_value(out, *values.add(index), field.ty);
        }
        out.push(b')');
    }
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

/// `to_string(v)` of an array or struct: the text `print` shows. A string comes back as itself.
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
            std::ptr::copy_nonoverlapping(items.as_ptr(), slots(a), items.len());
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
