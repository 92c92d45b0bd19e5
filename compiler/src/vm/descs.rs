//! The VM's type descriptors: the runtime's `TypeDesc`/`FieldDesc` structs, built in memory
//! for every type of a program.
//!
//! Native code gets its descriptors as read-only data from the compiler; the VM builds the same
//! `#[repr(C)]` structs here, once per module, at addresses that never change while the module
//! lives. They are what `Operand::Desc` loads and what every array and struct the VM allocates
//! points to, so the runtime (printing, equality, copying, freeing) reads them exactly as it
//! reads the native backends' descriptors.
//!
//! Layout of the table: the four scalar kinds (`int`, `float`, `bool`, `string`) first, then one
//! descriptor per array type (`Program::arrays`, in order), then one per struct type
//! (`Program::structs`). Struct types may be recursive through arrays, so descriptors point at
//! each other in cycles; they are allocated first and linked afterwards, all inside two boxed
//! slices that are never resized.
//!
//! A variant without payload (`Tree::Leaf`) has one value, a static object (`rc` = `STATIC_RC`,
//! its descriptor, its tag) built here next to the descriptors, as the native backends keep it
//! in their descriptor data: `load_unit` yields it where `new_struct` would allocate
//! (docs/values.md).
//!
//! What this module does not do: interpret descriptors (the runtime does) or choose which ones
//! an instruction uses (`compile` does, through [`TypeDescs::index`]).

use keel_runtime::desc::{
    FieldDesc, TypeDesc, KIND_ARRAY, KIND_BOOL, KIND_FLOAT, KIND_INT, KIND_MAP, KIND_SET,
    KIND_STRING, KIND_STRUCT,
};

use keel_runtime::layout::STATIC_RC;

use crate::ir::{ArrayId, MapId, Program, StructId, StructKind, Ty};

/// Index of the first array descriptor: after the four scalar kinds.
const FIRST_ARRAY: usize = 4;

/// Every type descriptor of one program, at stable addresses.
pub struct TypeDescs {
    /// The descriptors; pointers into this buffer (and into `fields`) are handed out, so
    /// neither vector is resized or mutably borrowed after [`TypeDescs::new`].
    descs: Vec<TypeDesc>,
    /// The fields of every struct, back to back.
    fields: Vec<FieldDesc>,
    /// Struct and field names the descriptors point to.
    names: Vec<String>,
    /// Number of array types (the struct descriptors follow them).
    array_count: usize,
    struct_count: usize,
    /// `descs[i]` as a register value, so `load_desc` is one load.
    values: Vec<i64>,
    /// The source form of each type (`[int]`, `Point`), for listings.
    type_names: Vec<String>,
    /// The static values of the variants without payload (`rc`, descriptor, tag); pointers
    /// into this buffer are handed out, so it is not resized after [`TypeDescs::new`].
    units: Vec<[i64; 3]>,
    /// The address of the static value of descriptor `i`'s type, or 0 when it has none.
    unit_values: Vec<i64>,
}

/// A descriptor with no links yet.
fn unlinked(kind: u32) -> TypeDesc {
    TypeDesc {
        kind,
        field_count: 0,
        elem: std::ptr::null(),
        name: std::ptr::null(),
        name_len: 0,
        fields: std::ptr::null(),
    }
}

impl TypeDescs {
    /// Builds the descriptors of every type `program` declares.
    pub fn new(program: &Program) -> TypeDescs {
        let array_count = program.arrays.len();
        let mut descs: Vec<TypeDesc> = [KIND_INT, KIND_FLOAT, KIND_BOOL, KIND_STRING]
            .into_iter()
            .map(unlinked)
            .collect();
        descs.extend((0..array_count).map(|_| unlinked(KIND_ARRAY)));
        descs.extend(program.structs.iter().map(|_| unlinked(KIND_STRUCT)));
        descs.extend(program.maps.iter().map(|_| unlinked(KIND_MAP)));
        let field_total: usize = program.structs.iter().map(|s| s.fields.len()).sum();
        let fields: Vec<FieldDesc> = (0..field_total)
            .map(|_| FieldDesc {
                name: std::ptr::null(),
                name_len: 0,
                ty: std::ptr::null(),
            })
            .collect();
        let mut table = TypeDescs {
            descs,
            fields,
            names: Vec::new(),
            array_count,
            struct_count: program.structs.len(),
            values: Vec::new(),
            type_names: Vec::new(),
            units: Vec::new(),
            unit_values: Vec::new(),
        };
        let scalars = [Ty::Int, Ty::Float, Ty::Bool, Ty::Str];
        let arrays = (0..array_count as u32).map(|id| Ty::Array(ArrayId(id)));
        let structs = (0..program.structs.len() as u32).map(|id| Ty::Struct(StructId(id)));
        let maps = (0..program.maps.len() as u32).map(|id| Ty::Map(MapId(id)));
        table.type_names = scalars
            .into_iter()
            .chain(arrays)
            .chain(structs)
            .chain(maps)
            .map(|ty| program.type_name(ty))
            .collect();
        table.link(program);
        table.values = (0..table.descs.len())
            .map(|i| table.pointer(i) as i64)
            .collect();
        let units: Vec<(usize, i64)> = (program.structs.iter().enumerate())
            .filter_map(|(id, def)| match (def.kind, def.fields.len()) {
                (StructKind::Variant { tag, .. }, 1) => {
                    Some((FIRST_ARRAY + array_count + id, i64::from(tag)))
                }
                _ => None,
            })
            .collect();
        table.units = (units.iter())
            .map(|&(index, tag)| [STATIC_RC, table.values[index], tag])
            .collect();
        table.unit_values = vec![0; table.descs.len()];
        for (unit, &(index, _)) in table.units.iter().zip(&units) {
            table.unit_values[index] = unit.as_ptr() as i64;
        }
        table
    }

    /// Fills in the pointers between descriptors, fields and names. Every write goes through
    /// the two base pointers taken here, so the pointers stored in the descriptors (derived
    /// from the same bases) stay valid as long as `self` lives.
    fn link(&mut self, program: &Program) {
        let desc_base: *mut TypeDesc = self.descs.as_mut_ptr();
        let field_base: *mut FieldDesc = self.fields.as_mut_ptr();
        let (desc_count, field_count) = (self.descs.len(), self.fields.len());
        let (array_count, struct_count) = (self.array_count, self.struct_count);
        let desc_of = |ty: Ty| -> *const TypeDesc {
            let index = Self::index_in(array_count, struct_count, ty).unwrap_or(0);
            assert!(index < desc_count, "type {ty} has no descriptor");
            // SAFETY: `index` is in bounds of the descriptor buffer.
            unsafe { desc_base.add(index) }
        };
        let mut links: Vec<(usize, TypeDesc)> = Vec::new();
        let mut field_links: Vec<FieldDesc> = Vec::with_capacity(field_count);
        for (id, &elem) in program.arrays.iter().enumerate() {
            let mut desc = unlinked(KIND_ARRAY);
            desc.elem = desc_of(elem);
            links.push((FIRST_ARRAY + id, desc));
        }
        for (id, def) in program.structs.iter().enumerate() {
            let name = def.printed_name().to_string();
            let mut desc = unlinked(def.desc_kind());
            desc.name = name.as_ptr();
            desc.name_len = name.len() as u64;
            desc.field_count = def.fields.len() as u32;
            // SAFETY: at most one past the last field, as the struct's fields follow.
            desc.fields = unsafe { field_base.add(field_links.len()) };
            self.names.push(name);
            for field in &def.fields {
                let name = field.name.clone();
                field_links.push(FieldDesc {
                    name: name.as_ptr(),
                    name_len: name.len() as u64,
                    ty: desc_of(field.ty),
                });
                self.names.push(name);
            }
            links.push((FIRST_ARRAY + array_count + id, desc));
        }
        for (id, def) in program.maps.iter().enumerate() {
            // A map points to its entry tuple's descriptor, a set to its item's.
            let (kind, inner) = match def.entry {
                Some(entry) => (KIND_MAP, Ty::Struct(entry)),
                None => (KIND_SET, def.key),
            };
            let mut desc = unlinked(kind);
            desc.elem = desc_of(inner);
            links.push((FIRST_ARRAY + array_count + struct_count + id, desc));
        }
        assert_eq!(field_links.len(), field_count);
        for (index, desc) in links {
            assert!(index < desc_count);
            // SAFETY: `index` is in bounds; the buffer is initialised, and `TypeDesc` has no
            // destructor, so overwriting is a plain store.
            unsafe { desc_base.add(index).write(desc) };
        }
        for (index, field) in field_links.into_iter().enumerate() {
            // SAFETY: as above, for the field buffer (`index < field_count`).
            unsafe { field_base.add(index).write(field) };
        }
    }

    fn index_in(array_count: usize, struct_count: usize, ty: Ty) -> Option<usize> {
        Some(match ty {
            Ty::Int => 0,
            Ty::Float => 1,
            Ty::Bool => 2,
            Ty::Str => 3,
            Ty::Array(id) => FIRST_ARRAY + id.0 as usize,
            Ty::Struct(id) => FIRST_ARRAY + array_count + id.0 as usize,
            Ty::Map(id) => FIRST_ARRAY + array_count + struct_count + id.0 as usize,
            Ty::Void => return None,
        })
    }

    /// The index of `ty`'s descriptor (`None` for `void`, which has none).
    pub fn index(&self, ty: Ty) -> Option<u32> {
        Self::index_in(self.array_count, self.struct_count, ty)
            .filter(|&i| i < self.descs.len())
            .map(|i| i as u32)
    }

    /// The number of descriptors.
    pub fn len(&self) -> usize {
        self.descs.len()
    }

    /// Whether there are none (never: the scalar kinds are always present).
    pub fn is_empty(&self) -> bool {
        self.descs.is_empty()
    }

    /// Whether descriptor `index` exists.
    pub fn contains(&self, index: u32) -> bool {
        (index as usize) < self.descs.len()
    }

    /// Whether descriptor `index` exists and describes an array type.
    pub fn is_array(&self, index: u32) -> bool {
        self.descs
            .get(index as usize)
            .is_some_and(|d| d.kind == KIND_ARRAY)
    }

    /// The field count of descriptor `index`, if it exists and describes a struct type.
    pub fn struct_field_count(&self, index: u32) -> Option<u32> {
        self.descs
            .get(index as usize)
            .filter(|d| d.has_fields())
            .map(|d| d.field_count)
    }

    /// The address of descriptor `index` (which must exist), valid while `self` lives.
    pub fn pointer(&self, index: usize) -> *const TypeDesc {
        assert!(index < self.descs.len(), "no descriptor {index}");
        self.descs.as_ptr().wrapping_add(index)
    }

    /// The source form of descriptor `index`'s type, for listings.
    pub fn type_name(&self, index: u32) -> &str {
        self.type_names
            .get(index as usize)
            .map_or("?", |s| s.as_str())
    }

    /// The address of the static value of descriptor `index`'s type, a variant without payload;
    /// `None` for any other type.
    pub fn unit(&self, index: u32) -> Option<i64> {
        self.unit_values
            .get(index as usize)
            .copied()
            .filter(|&value| value != 0)
    }

    /// The addresses of the static values of the variants without payload, indexed like the
    /// table (0 for the other types).
    pub fn unit_values(&self) -> &[i64] {
        &self.unit_values
    }

    /// The addresses of all descriptors as register values, indexed like the table.
    pub fn values(&self) -> &[i64] {
        &self.values
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{FieldDef, StructDef};

    /// `struct Node { name: string, kids: [Node], weight: float }` with `[Node]` and `[int]`.
    fn recursive_program() -> Program {
        Program {
            functions: Vec::new(),
            entry: crate::ir::FuncId(0),
            strings: Vec::new(),
            sites: Vec::new(),
            arrays: vec![Ty::Struct(StructId(0)), Ty::Int],
            structs: vec![StructDef {
                kind: crate::ir::StructKind::Plain,
                name: "Node".into(),
                fields: vec![
                    FieldDef {
                        name: "name".into(),
                        ty: Ty::Str,
                    },
                    FieldDef {
                        name: "kids".into(),
                        ty: Ty::Array(ArrayId(0)),
                    },
                    FieldDef {
                        name: "weight".into(),
                        ty: Ty::Float,
                    },
                ],
            }],
            maps: Vec::new(),
        }
    }

    /// Reads `len` bytes at `ptr` as text.
    fn text(ptr: *const u8, len: u64) -> String {
        // SAFETY: the test passes name pointers of a live table, with their lengths.
        let bytes = unsafe { std::slice::from_raw_parts(ptr, len as usize) };
        String::from_utf8_lossy(bytes).into_owned()
    }

    #[test]
    fn recursive_types_link_into_a_cycle() {
        let program = recursive_program();
        let table = TypeDescs::new(&program);
        assert_eq!(table.len(), 4 + 2 + 1);
        let node = table.index(Ty::Struct(StructId(0))).unwrap();
        let nodes = table.index(Ty::Array(ArrayId(0))).unwrap();
        let ints = table.index(Ty::Array(ArrayId(1))).unwrap();
        assert_eq!(table.struct_field_count(node), Some(3));
        assert!(table.is_array(nodes) && !table.is_array(node));
        // SAFETY: every pointer read here points into `table`, which outlives the reads.
        unsafe {
            let node_desc = &*table.pointer(node as usize);
            assert_eq!(text(node_desc.name, node_desc.name_len), "Node");
            let fields = std::slice::from_raw_parts(node_desc.fields, 3);
            assert_eq!(text(fields[1].name, fields[1].name_len), "kids");
            assert_eq!((*fields[0].ty).kind, KIND_STRING);
            assert_eq!((*fields[2].ty).kind, KIND_FLOAT);
            let kids = &*fields[1].ty;
            assert_eq!(kids.kind, KIND_ARRAY);
            assert!(std::ptr::eq(kids.elem, table.pointer(node as usize)));
            assert_eq!((*(*table.pointer(ints as usize)).elem).kind, KIND_INT);
        }
        assert_eq!(
            table.values()[node as usize],
            table.pointer(node as usize) as i64
        );
    }

    #[test]
    fn addresses_survive_moving_the_table() {
        let program = recursive_program();
        let table = TypeDescs::new(&program);
        let before = table.values().to_vec();
        let moved = Box::new(table);
        assert_eq!(moved.values(), &before[..]);
        assert_eq!(moved.pointer(4) as i64, before[4]);
    }
}
