//! Type descriptors as read-only data objects, laid out as `keel_runtime::desc::TypeDesc`.
//!
//! Each Keel type that a value needs described (the operand of `Operand::Desc`, the type of an
//! array or struct the generated code allocates, and, transitively, every type those refer to)
//! gets one data object, declared and defined on first use with `Linkage::Local`:
//! - `int`, `float`, `bool`, `string`: a bare `TypeDesc` of that kind;
//! - `[T]`: a `TypeDesc` whose `elem` points (by relocation) to `T`'s descriptor;
//! - `map<K, V>` and `set<T>`: a `TypeDesc` whose `elem` points to the descriptor of the
//!   map's entry tuple `(K, V)`, or of the set's item type `T`;
//! - a struct: its `TypeDesc`, then its `FieldDesc` table, then the struct's and fields' names,
//!   all in one object, pointing into itself and to the fields' descriptors.
//!
//! A variant without payload (`Tree::Leaf`) has one value, and it is static: its descriptor
//! object also holds, at [`Descriptors::unit`]'s offset after the names, a static object of the
//! variant (`rc` [`STATIC_RC`], its descriptor, its tag), which `new_struct` of the variant
//! yields instead of allocating (docs/values.md). Retain, release and free ignore it, so a unit
//! variant costs no allocation and releasing one costs nothing.
//!
//! Struct types may be recursive through arrays (`struct Node { [Node] kids, }`), so descriptors
//! may form cycles: an object is declared (and remembered) before the descriptors it refers to
//! are requested, so a cycle ends at an already declared symbol. Objects that hold relocations
//! land in `.data.rel.ro` in executables, which is fine for a PIE (the dynamic loader fills them
//! in before making them read-only).
//!
//! What this module does not do: emit instructions that take a descriptor's address (that is
//! `function`), or decide what the runtime does with a descriptor.

use std::collections::HashMap;

use cranelift_codegen::ir::Endianness;
use cranelift_module::{DataDescription, DataId, Linkage, Module};
use keel_runtime::desc::{
    DESC_ELEM_OFFSET, DESC_FIELDS_OFFSET, DESC_FIELD_COUNT_OFFSET, DESC_KIND_OFFSET,
    DESC_NAME_LEN_OFFSET, DESC_NAME_OFFSET, FIELD_DESC_SIZE, FIELD_NAME_LEN_OFFSET,
    FIELD_NAME_OFFSET, FIELD_TY_OFFSET, KIND_ARRAY, KIND_BOOL, KIND_FLOAT, KIND_INT, KIND_MAP,
    KIND_SET, KIND_STRING, TYPE_DESC_SIZE,
};
use keel_runtime::layout::{DESC_OFFSET, OBJECT_ALIGN, RC_OFFSET, STATIC_RC, STRUCT_FIELDS_OFFSET};

use super::data::PoolAddress;
use super::describe_module_error;
use crate::ir::{Program, StructId, StructKind, Ty};

/// The descriptor objects defined in one module so far.
#[derive(Default)]
pub(super) struct Descriptors {
    objects: HashMap<Ty, DataId>,
    /// Where in its descriptor object each payload-free variant's static value is.
    units: HashMap<StructId, u32>,
}

impl Descriptors {
    /// The address of the static value of `variant`, a variant without payload (see the module
    /// documentation); `None` for any other struct type.
    pub(super) fn unit<M: Module>(
        &mut self,
        module: &mut M,
        program: &Program,
        variant: StructId,
    ) -> Result<Option<PoolAddress>, String> {
        if !is_unit_variant(program, variant) {
            return Ok(None);
        }
        let id = self.get(module, program, Ty::Struct(variant))?;
        let offset = self
            .units
            .get(&variant)
            .ok_or("unit variant without a static value")?;
        Ok(Some((id, *offset)))
    }

    /// The descriptor object of `ty`, defining it (and every descriptor it refers to) on first
    /// use.
    pub(super) fn get<M: Module>(
        &mut self,
        module: &mut M,
        program: &Program,
        ty: Ty,
    ) -> Result<DataId, String> {
        if let Some(&id) = self.objects.get(&ty) {
            return Ok(id);
        }
        if module.target_config().pointer_bytes() != 8 {
            return Err("type descriptors need a 64-bit target".into());
        }
        let name = match ty {
            Ty::Int => "keel.desc.int".to_string(),
            Ty::Float => "keel.desc.float".to_string(),
            Ty::Bool => "keel.desc.bool".to_string(),
            Ty::Str => "keel.desc.string".to_string(),
            Ty::Array(id) => format!("keel.desc.array{}", id.0),
            Ty::Struct(id) => format!("keel.desc.struct{}", id.0),
            Ty::Map(id) => format!("keel.desc.map{}", id.0),
            Ty::Void => return Err("the type void has no descriptor".into()),
        };
        let id = module
            .declare_data(&name, Linkage::Local, false, false)
            .map_err(|e| describe_module_error(&e))?;
        self.objects.insert(ty, id);

        let endianness = module.isa().endianness();
        let mut object = DescriptorObject::new(endianness);
        let mut description = DataDescription::new();
        match ty {
            Ty::Int => object.put_u32(DESC_KIND_OFFSET, KIND_INT),
            Ty::Float => object.put_u32(DESC_KIND_OFFSET, KIND_FLOAT),
            Ty::Bool => object.put_u32(DESC_KIND_OFFSET, KIND_BOOL),
            Ty::Str => object.put_u32(DESC_KIND_OFFSET, KIND_STRING),
            Ty::Array(array) => {
                object.put_u32(DESC_KIND_OFFSET, KIND_ARRAY);
                let elem = self.get(module, program, program.elem(array))?;
                let elem = module.declare_data_in_data(elem, &mut description);
                description.write_data_addr(DESC_ELEM_OFFSET as u32, elem, 0);
            }
            Ty::Map(map) => {
                // A map points to its entry tuple's descriptor, a set to its item's.
                let def = program.map_def(map);
                let (kind, inner) = match def.entry {
                    Some(entry) => (KIND_MAP, Ty::Struct(entry)),
                    None => (KIND_SET, def.key),
                };
                object.put_u32(DESC_KIND_OFFSET, kind);
                let inner = self.get(module, program, inner)?;
                let inner = module.declare_data_in_data(inner, &mut description);
                description.write_data_addr(DESC_ELEM_OFFSET as u32, inner, 0);
            }
            Ty::Struct(structure) => {
                let def = program.struct_def(structure);
                let field_count = u32::try_from(def.fields.len())
                    .map_err(|_| format!("struct {} has too many fields", def.name))?;
                object.put_u32(DESC_KIND_OFFSET, def.desc_kind());
                object.put_u32(DESC_FIELD_COUNT_OFFSET, field_count);
                let own = module.declare_data_in_data(id, &mut description);
                let table = TYPE_DESC_SIZE;
                let mut names = table + FIELD_DESC_SIZE * def.fields.len();
                let printed = def.printed_name();
                let name_at = object.append(names, printed.as_bytes());
                description.write_data_addr(DESC_NAME_OFFSET as u32, own, name_at as i64);
                object.put_u64(DESC_NAME_LEN_OFFSET, printed.len() as u64);
                names = name_at + printed.len();
                if !def.fields.is_empty() {
                    description.write_data_addr(DESC_FIELDS_OFFSET as u32, own, table as i64);
                }
                for (index, field) in def.fields.iter().enumerate() {
                    let entry = (table + FIELD_DESC_SIZE * index) as i32;
                    let field_name_at = object.append(names, field.name.as_bytes());
                    names = field_name_at + field.name.len();
                    description.write_data_addr(
                        (entry + FIELD_NAME_OFFSET) as u32,
                        own,
                        field_name_at as i64,
                    );
                    object.put_u64(entry + FIELD_NAME_LEN_OFFSET, field.name.len() as u64);
                    let field_desc = self.get(module, program, field.ty)?;
                    let field_desc = module.declare_data_in_data(field_desc, &mut description);
                    description.write_data_addr((entry + FIELD_TY_OFFSET) as u32, field_desc, 0);
                }
                if let StructKind::Variant { tag, .. } = def.kind {
                    if is_unit_variant(program, structure) {
                        let at = names.next_multiple_of(OBJECT_ALIGN);
                        let at32 = i32::try_from(at)
                            .map_err(|_| format!("descriptor of {} is too large", def.name))?;
                        object.put_u64(at32 + RC_OFFSET, STATIC_RC as u64);
                        description.write_data_addr((at32 + DESC_OFFSET) as u32, own, 0);
                        object.put_u64(at32 + STRUCT_FIELDS_OFFSET, u64::from(tag));
                        self.units.insert(structure, at32 as u32);
                    }
                }
            }
            Ty::Void => unreachable!("rejected above"),
        }
        description.define(object.bytes.into_boxed_slice());
        description.set_align(OBJECT_ALIGN as u64);
        module
            .define_data(id, &description)
            .map_err(|e| describe_module_error(&e))?;
        Ok(id)
    }
}

/// Whether `id` is a variant without payload (its only field is the tag).
pub(super) fn is_unit_variant(program: &Program, id: StructId) -> bool {
    let def = program.struct_def(id);
    matches!(def.kind, StructKind::Variant { .. }) && def.fields.len() == 1
}

/// The bytes of one descriptor object under construction (pointer fields stay zero: their
/// values come from relocations).
struct DescriptorObject {
    bytes: Vec<u8>,
    endianness: Endianness,
}

impl DescriptorObject {
    fn new(endianness: Endianness) -> DescriptorObject {
        DescriptorObject {
            bytes: vec![0; TYPE_DESC_SIZE],
            endianness,
        }
    }

    fn put(&mut self, offset: i32, value: &[u8]) {
        let start = offset as usize;
        let end = start + value.len();
        if self.bytes.len() < end {
            self.bytes.resize(end, 0);
        }
        self.bytes[start..end].copy_from_slice(value);
    }

    fn put_u32(&mut self, offset: i32, value: u32) {
        let bytes = match self.endianness {
            Endianness::Little => value.to_le_bytes(),
            Endianness::Big => value.to_be_bytes(),
        };
        self.put(offset, &bytes);
    }

    fn put_u64(&mut self, offset: i32, value: u64) {
        let bytes = match self.endianness {
            Endianness::Little => value.to_le_bytes(),
            Endianness::Big => value.to_be_bytes(),
        };
        self.put(offset, &bytes);
    }

    /// Writes `text` at `at` (at least the current end of the fixed part) and returns `at`.
    fn append(&mut self, at: usize, text: &[u8]) -> usize {
        if self.bytes.len() < at {
            self.bytes.resize(at, 0);
        }
        self.put(at as i32, text);
        at
    }
}
