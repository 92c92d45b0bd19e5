//! `json_encode(x)`: the JSON text of a Keel value, walked by its type descriptor.
//!
//! ints and bools as themselves; floats by Keel's float text when finite (`1.5`, `1e300`), `null`
//! otherwise (JSON has no NaN or infinity); strings quoted with JSON's escapes (other control
//! characters as `\u00XX`, the rest as UTF-8); arrays, tuples and sets as arrays; structs as
//! objects of their fields in declaration order; maps with string keys as objects, other maps as
//! arrays of `[key, value]` pairs, in key order. An enum value is its variant's name as a string
//! when it has no payload, and `{"Name": payload}` when it has one (the payload itself for one
//! value, an array for several); `None` is `null` and `Some(x)` is `x`. The text is compact (no
//! spaces).
//!
//! The walk recurses, once per level of the value; a value nested more than [`MAX_DEPTH`] deep
//! is a fault rather than a stack overflow (the limit keeps the walk to a few hundred
//! kilobytes of stack, whatever depth of calls the program is at; Python's `json` stops at
//! about the same depth).
//!
//! What this module does not do: parse JSON.

use crate::desc::{
    TypeDesc, KIND_ARRAY, KIND_BOOL, KIND_FLOAT, KIND_INT, KIND_MAP, KIND_SET, KIND_STRING,
    KIND_STRUCT, KIND_VARIANT,
};
use crate::fault::fault_at;
use crate::float::FloatText;
use crate::layout::{ArrayHeader, ObjHeader, StrHeader};
use crate::object::struct_fields;
use crate::prelude::*;
use crate::string::{as_bytes, new_string};

/// How deeply a value `json_encode` writes may nest.
pub const MAX_DEPTH: usize = 1_000;

/// Appends the JSON text of `word`, of type `desc`; `Err` when it nests too deeply.
///
/// # Safety
/// `desc` must be a valid descriptor of a type without functions; heap words must be live
/// objects of that type.
unsafe fn write(
    out: &mut Vec<u8>,
    word: i64,
    desc: *const TypeDesc,
    depth: usize,
) -> Result<(), ()> {
    if depth > MAX_DEPTH {
        return Err(());
    }
    // SAFETY: the caller guarantees the descriptor and the object; the parts written are typed
    // by their containers' descriptors.
    unsafe {
        let desc = if (*desc).is_indirect() && word != 0 {
            (*(word as *const ObjHeader)).desc
        } else {
            desc
        };
        match (*desc).kind {
            KIND_INT => out.extend_from_slice(word.to_string().as_bytes()),
            KIND_BOOL => out.extend_from_slice(if word != 0 { b"true" } else { b"false" }),
            KIND_FLOAT => {
                let value = f64::from_bits(word as u64);
                if value.is_finite() {
                    out.extend_from_slice(FloatText::new(value).as_bytes());
                } else {
                    out.extend_from_slice(b"null");
                }
            }
            KIND_STRING => quote(out, as_bytes(word as *const StrHeader)),
            KIND_ARRAY => {
                let items = crate::array::elements(word as *const ArrayHeader);
                let elem = (*desc).elem;
                list(out, items.iter().map(|&item| (item, elem)), depth)?;
            }
            KIND_STRUCT => {
                let values = struct_fields(word as *mut ObjHeader);
                let fields = (*desc).field_descs();
                let parts = (0..fields.len()).map(|i| (*values.add(i), fields[i].ty));
                if (*desc).is_tuple() {
                    list(out, parts, depth)?;
                } else {
                    out.push(b'{');
                    for (i, (value, ty)) in parts.enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        quote(out, fields[i].name_bytes());
                        out.push(b':');
                        write(out, value, ty, depth + 1)?;
                    }
                    out.push(b'}');
                }
            }
            KIND_VARIANT => {
                let name = (*desc).name_bytes();
                let values = struct_fields(word as *mut ObjHeader);
                let fields = (*desc).field_descs();
                let payload: Vec<(i64, *const TypeDesc)> = (1..fields.len())
                    .map(|i| (*values.add(i), fields[i].ty))
                    .collect();
                match (name, payload.as_slice()) {
                    (b"None", []) => out.extend_from_slice(b"null"),
                    (b"Some", &[(value, ty)]) => write(out, value, ty, depth + 1)?,
                    (_, []) => quote(out, name),
                    (_, parts) => {
                        out.push(b'{');
                        quote(out, name);
                        out.push(b':');
                        match parts {
                            &[(value, ty)] => write(out, value, ty, depth + 1)?,
                            _ => list(out, parts.iter().copied(), depth)?,
                        }
                        out.push(b'}');
                    }
                }
            }
            KIND_SET => {
                let m = word as *const ObjHeader;
                crate::map::sort_map(m);
                let (key, _) = crate::map::part_descs(m);
                let items = crate::map::entries(m).iter().map(|entry| (entry.key, key));
                list(out, items, depth)?;
            }
            KIND_MAP => {
                let m = word as *const ObjHeader;
                crate::map::sort_map(m);
                let (key, value) = crate::map::part_descs(m);
                let entries = crate::map::entries(m);
                if (*key).kind == KIND_STRING {
                    out.push(b'{');
                    for (i, entry) in entries.iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        quote(out, as_bytes(entry.key as *const StrHeader));
                        out.push(b':');
                        write(out, entry.value, value, depth + 1)?;
                    }
                    out.push(b'}');
                } else {
                    out.push(b'[');
                    for (i, entry) in entries.iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        let pair = [(entry.key, key), (entry.value, value)];
                        list(out, pair.into_iter(), depth + 1)?;
                    }
                    out.push(b']');
                }
            }
            _ => out.extend_from_slice(b"null"),
        }
        Ok(())
    }
}

/// Appends `[a,b,...]` of the typed words `parts`, one level below `depth`.
///
/// # Safety
/// As for [`write`], for every part.
unsafe fn list(
    out: &mut Vec<u8>,
    parts: impl Iterator<Item = (i64, *const TypeDesc)>,
    depth: usize,
) -> Result<(), ()> {
    out.push(b'[');
    for (i, (word, desc)) in parts.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // SAFETY: forwarded from the caller.
        unsafe { write(out, word, desc, depth + 1)? };
    }
    out.push(b']');
    Ok(())
}

/// Appends `text` as a JSON string.
fn quote(out: &mut Vec<u8>, text: &[u8]) {
    out.push(b'"');
    for &byte in text {
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            0x00..=0x1f => out.extend_from_slice(format!("\\u{byte:04x}").as_bytes()),
            _ => out.push(byte),
        }
    }
    out.push(b'"');
}

/// `json_encode(x)`: the JSON text of the value `word` of type `desc` (see the module
/// documentation); faults for a value nested more than [`MAX_DEPTH`] deep.
///
/// # Safety
/// `desc` must be a valid descriptor of a type without functions; `word` a live value of it;
/// `site` a valid site.
#[no_mangle]
pub unsafe extern "C" fn keel_json_encode(
    desc: *const TypeDesc,
    word: i64,
    site: *const u8,
    site_len: usize,
) -> *mut StrHeader {
    let mut out = Vec::new();
    // SAFETY: forwarded from the caller.
    match unsafe { write(&mut out, word, desc, 0) } {
        Ok(()) => new_string(&out),
        Err(()) => {
            let message = format!(
                "invalid argument: json_encode of a value nested more than {MAX_DEPTH} deep"
            );
            // SAFETY: forwarded from the caller.
            unsafe { fault_at(site, site_len, &message) };
            core::ptr::null_mut()
        }
    }
}
