//! Heap values in generated code: reference counting, arrays, structs and copy-on-write, inline.
//!
//! Objects are laid out as `keel_runtime::layout` says (its constants are the only offsets used
//! here). Everything on the happy path is inline:
//! - `Retain`: skip null and static objects (`rc == -1`), else `rc += 1`;
//! - `Release`: skip null; when `rc > 1`, `rc -= 1`; otherwise (a cold block) free the object
//!   with `keel_free` when `rc == 1` and do nothing for a static one; a `Release` that ends
//!   moved reads (see `facts`) frees a unique struct without the fields read out of it
//!   (`keel_free_shell` when those are all its heap fields), or else drops the count and
//!   retains what was read;
//! - `NewStruct` of a variant without payload: the address of its static value (see
//!   `codegen::descriptors`), no allocation;
//! - element and field access: a bounds check (one unsigned compare of the index against the
//!   length, which also rejects negative indexes) branching to a cold `keel_fault_bounds` call,
//!   then a load or store; a heap value read out of a container is retained inline;
//! - in-place updates first check `rc == 1` and otherwise call `keel_make_unique` (cold), which
//!   replaces the container in its local with a copy; the old heap element is released inline.
//!
//! Within one IR block, what `facts` knows removes redundant work: a read whose result is
//! released before its container changes borrows (no retain, no release), a container already
//! made unique is not checked again, an index already checked is not checked again, and the
//! slot a take emptied needs no release when it is refilled. Values known to be objects (just
//! allocated, read, or returned by the runtime) skip the null test of `Release`.
//!
//! `keel_make_unique` is called through a register-preserving trampoline (`codegen::helpers`), so
//! that slow path does not make values spill on the fast one. So is `keel_free` in functions with
//! float locals: x86-64 has no callee-saved float registers, so a float live across a plain call
//! is spilled, and the register allocator places such spills at the definitions, inside loops.
//! Elsewhere `keel_free` is called directly: the trampoline saves every register, which costs a
//! fifth of the time of a free-heavy loop, and integers and pointers have callee-saved registers.
//!
//! Every load and store is tagged with an alias [`Region`] (type-based alias analysis): counts,
//! array lengths, the elements of each array type and each field of each struct type are
//! disjoint memory, so Cranelift may reuse a loaded length or field across stores to other
//! regions. Runtime calls clobber every region. A function gets at most [`MAX_ALIAS_REGIONS`]
//! regions (Cranelift allows 65,535 sets of memory flags per function): classes beyond that, as
//! the fields of a struct with 100,000 fields, share one, which only makes Cranelift assume they
//! may alias.
//!
//! What this module does not do: decide where references are counted (the IR's RC pass does;
//! this module implements each instruction exactly as `ir/mod.rs` documents it).

use std::borrow::Cow;

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    types, AliasRegionData, InstBuilder, MemFlagsData, StackSlot, StackSlotData, StackSlotKind,
    Type, Value,
};
use cranelift_module::Module;
use keel_runtime::layout::{
    ARRAY_CAP_OFFSET, ARRAY_ELEMS_OFFSET, ARRAY_LEN_OFFSET, RC_OFFSET, SLOT_SIZE, STATIC_RC,
    STRUCT_FIELDS_OFFSET,
};

use super::facts::{Move, SlotKey};
use super::{FunctionLowering, Result};
use crate::codegen::helpers::Helper;
use crate::codegen::runtime::RuntimeFn;
use crate::ir::{self, ArrayId, Operand, SiteId, StructId, StructKind, Ty};

/// A class of memory that no access of another class can touch.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum Region {
    /// Every class a function has no region of its own left for (see [`MAX_ALIAS_REGIONS`]):
    /// accesses here may alias each other, which is always sound.
    Shared,
    /// Reference counts of every object.
    Rc,
    /// Lengths of arrays (only the runtime writes them).
    ArrayLen,
    /// Elements of arrays of one type.
    Elements(ArrayId),
    /// One field of one struct type.
    Field(StructId, u32),
}

/// The most alias regions one function's own accesses use (one is [`Region::Shared`]).
pub(crate) const MAX_ALIAS_REGIONS: usize = 4096;

/// `log2(SLOT_SIZE)`: element `i` is `i << SLOT_SHIFT` bytes after the first.
const SLOT_SHIFT: i64 = SLOT_SIZE.trailing_zeros() as i64;
const _: () = assert!(1 << SLOT_SHIFT == SLOT_SIZE);

/// A slot being replaced: its region, its offset from the base address, its type, and whether
/// it is known to hold null (after a take).
struct Slot {
    holds_null: bool,
    region: Region,
    /// The slot's address is `base + offset` (base: the object, or the element's address less
    /// the array's header).
    offset: i32,
    ty: Ty,
}

impl<M: Module> FunctionLowering<'_, '_, '_, M> {
    /// Memory flags for an access to `region`: never traps, aligned, and disjoint from every
    /// other region.
    ///
    /// A region's `user_id` is the same in every function of the module (inlining merges
    /// regions by it).
    fn flags(&mut self, region: Region) -> MemFlagsData {
        let region =
            if self.regions.len() >= MAX_ALIAS_REGIONS - 1 && !self.regions.contains_key(&region) {
                Region::Shared
            } else {
                region
            };
        let alias = match self.regions.get(&region) {
            Some(&alias) => alias,
            None => {
                let description = format!("{region:?}");
                let ids = &mut self.env.region_ids;
                let next_id = ids.len() as u32;
                let user_id = *ids.entry(description.clone()).or_insert(next_id);
                let alias = self.builder.func.dfg.alias_regions.insert(AliasRegionData {
                    user_id,
                    description: Cow::Owned(description),
                });
                self.regions.insert(region, alias);
                alias
            }
        };
        MemFlagsData::trusted().with_alias_region(Some(alias))
    }

    /// The region of field `field` of struct type `ty`. Every variant of an enum keeps its tag
    /// where the enum type's own field 0 is, so the tags of all of them are one region.
    fn field_region(&self, ty: StructId, field: u32) -> Region {
        match self.env.program.struct_def(ty).kind {
            StructKind::Variant { of, .. } if field == 0 => Region::Field(of, 0),
            _ => Region::Field(ty, field),
        }
    }

    fn load(&mut self, ty: Type, region: Region, address: Value, offset: i32) -> Value {
        let flags = self.flags(region);
        self.builder.ins().load(ty, flags, address, offset)
    }

    fn store(&mut self, region: Region, value: Value, address: Value, offset: i32) {
        let flags = self.flags(region);
        self.builder.ins().store(flags, value, address, offset);
    }

    /// Adds one reference to `object` unless it is static (or null, when `may_be_null`).
    pub(super) fn retain(&mut self, object: Value, may_be_null: bool) {
        let done = self.builder.create_block();
        if may_be_null {
            self.skip_if_null(object, done);
        }
        let rc = self.load(types::I64, Region::Rc, object, RC_OFFSET);
        let is_static = self.builder.ins().icmp_imm_s(IntCC::Equal, rc, STATIC_RC);
        let count = self.builder.create_block();
        self.builder.ins().brif(is_static, done, &[], count, &[]);
        self.builder.seal_block(count);

        self.builder.switch_to_block(count);
        let incremented = self.builder.ins().iadd_imm_s(rc, 1);
        self.store(Region::Rc, incremented, object, RC_OFFSET);
        self.builder.ins().jump(done, &[]);
        self.builder.seal_block(done);
        self.builder.switch_to_block(done);
    }

    /// Drops one reference to `object` (null only when `may_be_null`), freeing it on the last
    /// one.
    pub(super) fn release(&mut self, object: Value, may_be_null: bool) -> Result<()> {
        let done = self.new_block();
        if may_be_null {
            self.skip_if_null(object, done);
        }
        let rc = self.load(types::I64, Region::Rc, object, RC_OFFSET);
        // `rc <= 1` is the last reference (1) or a static object (-1): both leave the hot path.
        let last_or_static = self
            .builder
            .ins()
            .icmp_imm_s(IntCC::SignedLessThanOrEqual, rc, 1);
        let slow = self.builder.create_block();
        self.builder.set_cold_block(slow);
        let count = self.new_block();
        self.builder
            .ins()
            .brif(last_or_static, slow, &[], count, &[]);
        self.builder.seal_block(slow);
        self.builder.seal_block(count);

        self.builder.switch_to_block(count);
        let decremented = self.builder.ins().iadd_imm_s(rc, -1);
        self.store(Region::Rc, decremented, object, RC_OFFSET);
        self.builder.ins().jump(done, &[]);

        self.builder.switch_to_block(slow);
        let free = self.builder.create_block();
        self.builder.set_cold_block(free);
        let is_static = self.builder.ins().icmp_imm_s(IntCC::Equal, rc, STATIC_RC);
        self.builder.ins().brif(is_static, done, &[], free, &[]);
        self.builder.seal_block(free);

        self.builder.switch_to_block(free);
        if self.preserve_floats {
            self.call_helper(Helper::Free, &[object])?;
        } else {
            self.call_runtime(RuntimeFn::Free, &[object])?;
        }
        self.builder.ins().jump(done, &[]);
        self.builder.seal_block(done);
        self.builder.switch_to_block(done);
        Ok(())
    }

    /// Drops the reference to the struct `object` whose fields `moves` were read out of it
    /// without a retain (see `facts`): when it is the last one, the object is freed without
    /// releasing those fields, whose references go to the locals that read them; otherwise the
    /// count drops (a static object's stays) and each of those locals is retained.
    pub(super) fn release_moving(&mut self, object: Value, moves: &[Move]) -> Result<()> {
        let done = self.new_block();
        let rc = self.load(types::I64, Region::Rc, object, RC_OFFSET);
        let last = self.builder.ins().icmp_imm_s(IntCC::Equal, rc, 1);
        let free = self.new_block();
        let shared = self.new_block();
        self.builder.ins().brif(last, free, &[], shared, &[]);
        self.builder.seal_block(free);
        self.builder.seal_block(shared);

        self.builder.switch_to_block(free);
        let layout = moves[0].layout;
        let same_layout = moves.iter().all(|m| m.layout == layout);
        let def = self.env.program.struct_def(layout);
        let all_heap_fields_moved = same_layout
            && def.fields.iter().enumerate().all(|(index, f)| {
                !f.ty.is_heap() || moves.iter().any(|m| m.field as usize == index)
            });
        if all_heap_fields_moved && !self.preserve_floats {
            self.call_runtime(RuntimeFn::FreeShell, &[object])?;
        } else {
            // The moved fields become null, which freeing skips.
            let pointer = self.env.pointer;
            for m in moves {
                let null = self.builder.ins().iconst(pointer, 0);
                let offset = slot_offset(STRUCT_FIELDS_OFFSET, m.field as usize)?;
                let region = self.field_region(m.layout, m.field);
                self.store(region, null, object, offset);
            }
            if self.preserve_floats {
                self.call_helper(Helper::Free, &[object])?;
            } else {
                self.call_runtime(RuntimeFn::Free, &[object])?;
            }
        }
        self.builder.ins().jump(done, &[]);

        self.builder.switch_to_block(shared);
        let is_static = self.builder.ins().icmp_imm_s(IntCC::Equal, rc, STATIC_RC);
        let count = self.new_block();
        let retains = self.new_block();
        self.builder.ins().brif(is_static, retains, &[], count, &[]);
        self.builder.seal_block(count);
        self.builder.switch_to_block(count);
        let decremented = self.builder.ins().iadd_imm_s(rc, -1);
        self.store(Region::Rc, decremented, object, RC_OFFSET);
        self.builder.ins().jump(retains, &[]);
        self.builder.seal_block(retains);
        self.builder.switch_to_block(retains);
        for m in moves {
            let value = self.use_local(m.value)?;
            self.retain(value, false);
        }
        self.builder.ins().jump(done, &[]);
        self.builder.seal_block(done);
        self.builder.switch_to_block(done);
        Ok(())
    }

    /// Jumps to `done` when `object` is null; continues in a new block otherwise.
    fn skip_if_null(&mut self, object: Value, done: cranelift_codegen::ir::Block) {
        let live = self.new_block();
        self.builder.ins().brif(object, live, &[], done, &[]);
        self.builder.seal_block(live);
        self.builder.switch_to_block(live);
    }

    /// The length of the array `array`.
    ///
    /// Only the runtime writes lengths, so length loads have a region of their own that no
    /// store of generated code touches: Cranelift reuses a dominating load of the same array's
    /// length until a call intervenes. (Marking the load `readonly` and `can_move` would make it
    /// a pure expression that Cranelift also hoists out of loops, but it may then sink it past
    /// the `Release` that frees the array, as in `println(len(f()))`.)
    pub(super) fn array_len(&mut self, array: Value) -> Value {
        self.load(types::I64, Region::ArrayLen, array, ARRAY_LEN_OFFSET)
    }

    /// `dst = push(array, value)` (both consumed): when the array is unique and has room, the
    /// value is stored after its last element and its length grows, in line; otherwise (shared,
    /// full, or static) `keel_array_push` copies or grows it. Either way the result is what the
    /// runtime function gives, so nothing can tell the two apart.
    pub(super) fn array_push(
        &mut self,
        dst: ir::Local,
        array: Operand,
        value: Operand,
    ) -> Result<()> {
        let Ty::Array(ty) = self.operand_ty(array) else {
            return Err("push onto a value that is not an array".into());
        };
        let elem = self.program_elem(ty);
        let array = self.operand(array)?;
        let value = self.operand(value)?;
        let word = self.slot_word(value, elem);
        let rc = self.load(types::I64, Region::Rc, array, RC_OFFSET);
        let len = self.array_len(array);
        let cap = self.load(types::I64, Region::ArrayLen, array, ARRAY_CAP_OFFSET);
        let unique = self.builder.ins().icmp_imm_s(IntCC::Equal, rc, 1);
        let room = self.builder.ins().icmp(IntCC::SignedLessThan, len, cap);
        let fast = self.builder.ins().band(unique, room);
        let (in_place, slow, done) = (
            self.builder.create_block(),
            self.builder.create_block(),
            self.builder.create_block(),
        );
        let pointer = self.env.pointer;
        self.builder.append_block_param(done, pointer);
        self.builder.ins().brif(fast, in_place, &[], slow, &[]);
        self.builder.set_cold_block(slow);

        self.builder.switch_to_block(in_place);
        self.builder.seal_block(in_place);
        let offset = self.builder.ins().ishl_imm_s(len, SLOT_SHIFT);
        let slot = self.builder.ins().iadd(array, offset);
        self.store(Region::Elements(ty), word, slot, ARRAY_ELEMS_OFFSET);
        let grown = self.builder.ins().iadd_imm_s(len, 1);
        self.store(Region::ArrayLen, grown, array, ARRAY_LEN_OFFSET);
        self.builder.ins().jump(done, &[array.into()]);

        self.builder.switch_to_block(slow);
        self.builder.seal_block(slow);
        let argument = self.runtime_arg(value, elem, crate::ir::RtType::Any);
        let env = &mut *self.env;
        let id = env
            .imports
            .get_rt(env.module, crate::ir::RtFunc::ArrayPush)?;
        let callee = self.func_ref(id);
        let call = self.builder.ins().call(callee, &[array, argument]);
        let pushed = *self
            .builder
            .inst_results(call)
            .first()
            .ok_or("keel_array_push returns nothing")?;
        self.builder.ins().jump(done, &[pushed.into()]);

        self.builder.switch_to_block(done);
        self.builder.seal_block(done);
        let result = self.builder.block_params(done)[0];
        self.non_null.insert(result);
        self.def_local(dst, result);
        Ok(())
    }

    /// `dst = [items...]`: allocates the array (elements zeroed) and stores the items.
    pub(super) fn new_array(
        &mut self,
        dst: ir::Local,
        ty: ArrayId,
        items: &[Operand],
    ) -> Result<()> {
        let desc = self.descriptor(Ty::Array(ty))?;
        let len = self.builder.ins().iconst(types::I64, items.len() as i64);
        let array = self.call_runtime_value(RuntimeFn::ArrayAlloc, &[desc, len])?;
        self.non_null.insert(array);
        for (index, &item) in items.iter().enumerate() {
            let value = self.operand(item)?;
            let value = self.slot_word(value, self.program_elem(ty));
            let offset = slot_offset(ARRAY_ELEMS_OFFSET, index)?;
            self.store(Region::Elements(ty), value, array, offset);
        }
        self.def_local(dst, array);
        Ok(())
    }

    /// `dst = new S { fields... }`: allocates the struct (fields zeroed) and stores the fields;
    /// a variant without payload is its static value instead (see `codegen::descriptors`).
    pub(super) fn new_struct(
        &mut self,
        dst: ir::Local,
        ty: StructId,
        fields: &[Operand],
    ) -> Result<()> {
        let env = &mut *self.env;
        if let Some(unit) = env.descriptors.unit(env.module, env.program, ty)? {
            let object = self.pool_address(unit);
            self.non_null.insert(object);
            self.def_local(dst, object);
            return Ok(());
        }
        let desc = self.descriptor(Ty::Struct(ty))?;
        let object = self.call_runtime_value(RuntimeFn::StructAlloc, &[desc])?;
        self.non_null.insert(object);
        // A closure's object starts with its function's code and stack units.
        let mut first = 0;
        if let StructKind::Closure { func, .. } = self.env.program.struct_def(ty).kind {
            let id = *(self.env.functions.get(func.0 as usize))
                .ok_or_else(|| format!("closure of fn#{} which does not exist", func.0))?;
            let callee = self.func_ref(id);
            let code = self.builder.ins().func_addr(self.env.pointer, callee);
            let units = self.env.program.function(func).stack_units();
            let units = self.builder.ins().iconst(types::I64, units);
            for (index, value) in [code, units].into_iter().enumerate() {
                let offset = slot_offset(STRUCT_FIELDS_OFFSET, index)?;
                let region = self.field_region(ty, index as u32);
                self.store(region, value, object, offset);
            }
            first = ir::StructDef::CLOSURE_HEADER_FIELDS as usize;
        }
        for (index, &field) in (first..).zip(fields) {
            let field_ty = self.field_ty(ty, index as u32)?;
            let value = self.operand(field)?;
            let value = self.slot_word(value, field_ty);
            let offset = slot_offset(STRUCT_FIELDS_OFFSET, index)?;
            let region = self.field_region(ty, index as u32);
            self.store(region, value, object, offset);
        }
        self.def_local(dst, object);
        Ok(())
    }

    /// `dst = array[index]`, retaining a heap element.
    pub(super) fn array_get(
        &mut self,
        dst: ir::Local,
        array: Operand,
        index: Operand,
        site: SiteId,
    ) -> Result<()> {
        let ty = self.array_type(self.operand_ty(array))?;
        let elem = self.program_elem(ty);
        let checked = match array {
            Operand::Local(local) => self.facts.is_checked(local, index),
            _ => false,
        };
        let array = self.operand(array)?;
        let index = self.operand(index)?;
        if !checked {
            self.check_index(array, index, site)?;
        }
        let base = self.element_base(array, index);
        let value = self.load_slot(Region::Elements(ty), base, ARRAY_ELEMS_OFFSET, elem);
        self.read_heap_value(value, elem);
        self.def_local(dst, value);
        Ok(())
    }

    /// `array[index] = value`: bounds check, make unique, release the old element, store.
    pub(super) fn array_set(
        &mut self,
        array: ir::Local,
        index: Operand,
        value: Operand,
        site: SiteId,
    ) -> Result<()> {
        let ty = self.array_type(self.types[array.0 as usize])?;
        let elem = self.program_elem(ty);
        // After `take array[index]`, the slot holds null.
        let taken = self.facts.is_taken(array, SlotKey::Index(index));
        let checked = self.facts.is_checked(array, index);
        let index = self.operand(index)?;
        let value = self.operand(value)?;
        let object = self.use_local(array)?;
        if !checked {
            self.check_index(object, index, site)?;
        }
        let object = self.make_unique(array, object)?;
        let base = self.element_base(object, index);
        let slot = Slot {
            region: Region::Elements(ty),
            offset: ARRAY_ELEMS_OFFSET,
            ty: elem,
            holds_null: taken,
        };
        self.replace_slot(&slot, base, value)
    }

    /// `dst = array[index]`, moving a heap element out and leaving null, after making `array`
    /// unique.
    pub(super) fn array_take(
        &mut self,
        dst: ir::Local,
        array: ir::Local,
        index: Operand,
        site: SiteId,
    ) -> Result<()> {
        let ty = self.array_type(self.types[array.0 as usize])?;
        let checked = self.facts.is_checked(array, index);
        let index = self.operand(index)?;
        let object = self.use_local(array)?;
        if !checked {
            self.check_index(object, index, site)?;
        }
        let object = self.make_unique(array, object)?;
        let base = self.element_base(object, index);
        let value = self.take_slot(Region::Elements(ty), base, ARRAY_ELEMS_OFFSET);
        self.non_null.insert(value);
        self.def_local(dst, value);
        Ok(())
    }

    /// `dst = object.field`, retaining a heap field.
    pub(super) fn field_get(&mut self, dst: ir::Local, object: Operand, field: u32) -> Result<()> {
        let ty = self.struct_type(self.operand_ty(object))?;
        let field_ty = self.field_ty(ty, field)?;
        let object = self.operand(object)?;
        let offset = slot_offset(STRUCT_FIELDS_OFFSET, field as usize)?;
        let value = self.load_slot(Region::Field(ty, field), object, offset, field_ty);
        self.read_heap_value(value, field_ty);
        self.def_local(dst, value);
        Ok(())
    }

    /// `object.field` of an enum value known to be of variant `variant`: a read like
    /// [`Self::field_get`]'s, typed by the variant.
    pub(super) fn variant_field(
        &mut self,
        dst: ir::Local,
        object: Operand,
        variant: StructId,
        field: u32,
    ) -> Result<()> {
        let field_ty = self.field_ty(variant, field)?;
        let object = self.operand(object)?;
        let offset = slot_offset(STRUCT_FIELDS_OFFSET, field as usize)?;
        let region = self.field_region(variant, field);
        let value = self.load_slot(region, object, offset, field_ty);
        self.read_heap_value(value, field_ty);
        self.def_local(dst, value);
        Ok(())
    }

    /// `object.field = value`: make unique, release the old field, store.
    pub(super) fn field_set(
        &mut self,
        object: ir::Local,
        field: u32,
        value: Operand,
    ) -> Result<()> {
        let ty = self.struct_type(self.types[object.0 as usize])?;
        let field_ty = self.field_ty(ty, field)?;
        let value = self.operand(value)?;
        let current = self.use_local(object)?;
        let unique = self.make_unique(object, current)?;
        let slot = Slot {
            region: Region::Field(ty, field),
            offset: slot_offset(STRUCT_FIELDS_OFFSET, field as usize)?,
            ty: field_ty,
            holds_null: self.facts.is_taken(object, SlotKey::Field(field)),
        };
        self.replace_slot(&slot, unique, value)
    }

    /// `dst = object.field`, moving a heap field out and leaving null, after making `object`
    /// unique.
    pub(super) fn field_take(
        &mut self,
        dst: ir::Local,
        object: ir::Local,
        field: u32,
    ) -> Result<()> {
        let ty = self.struct_type(self.types[object.0 as usize])?;
        let current = self.use_local(object)?;
        let unique = self.make_unique(object, current)?;
        let offset = slot_offset(STRUCT_FIELDS_OFFSET, field as usize)?;
        let value = self.take_slot(Region::Field(ty, field), unique, offset);
        self.non_null.insert(value);
        self.def_local(dst, value);
        Ok(())
    }

    /// A value of type `ty` just read out of a container: a heap value is retained, unless the
    /// read is a borrow (see `facts`), and is known not to be null.
    fn read_heap_value(&mut self, value: Value, ty: Ty) {
        if !ty.is_heap() {
            return;
        }
        if !self.borrows.reads.contains(&self.inst_index) {
            self.retain(value, false);
        }
        self.non_null.insert(value);
    }

    /// Faults at `site` unless `0 <= index < len(array)`: one unsigned compare.
    fn check_index(&mut self, array: Value, index: Value, site: SiteId) -> Result<()> {
        let len = self.array_len(array);
        let outside = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index, len);
        self.fault_if_with(outside, |this| {
            let [site_ptr, site_len] = this.site_args(site)?;
            this.call_runtime(RuntimeFn::FaultBounds, &[site_ptr, site_len, index, len])
        })
    }

    /// `array + index * SLOT_SIZE`: element `index` is at this plus `ARRAY_ELEMS_OFFSET`.
    fn element_base(&mut self, array: Value, index: Value) -> Value {
        let scaled = self.builder.ins().ishl_imm_s(index, SLOT_SHIFT);
        self.builder.ins().iadd(array, scaled)
    }

    /// Makes the container in `local` (whose current value is `object`) unique: when its count
    /// is not 1, `keel_make_unique` replaces it with a copy (releasing one reference of the
    /// original). Returns the unique container. Nothing to do when an earlier update in this
    /// block already made it unique (see `facts`).
    fn make_unique(&mut self, local: ir::Local, object: Value) -> Result<Value> {
        if self.facts.is_unique(local) {
            return Ok(object);
        }
        let rc = self.load(types::I64, Region::Rc, object, RC_OFFSET);
        let shared = self.builder.ins().icmp_imm_s(IntCC::NotEqual, rc, 1);
        let copy = self.builder.create_block();
        self.builder.set_cold_block(copy);
        let done = self.builder.create_block();
        self.builder.append_block_param(done, self.env.pointer);
        self.builder
            .ins()
            .brif(shared, copy, &[], done, &[object.into()]);
        self.builder.seal_block(copy);

        self.builder.switch_to_block(copy);
        let slot = self.unique_slot();
        let pointer = self.env.pointer;
        let out = self.builder.ins().stack_addr(pointer, slot, 0);
        self.call_helper(Helper::MakeUnique, &[object, out])?;
        let unique = self.builder.ins().stack_load(pointer, pointer, slot, 0);
        self.builder.ins().jump(done, &[unique.into()]);
        self.builder.seal_block(done);
        self.builder.switch_to_block(done);
        let unique = self.builder.block_params(done)[0];
        self.def_local(local, unique);
        self.non_null.insert(unique);
        Ok(unique)
    }

    /// Calls a register-preserving trampoline (see `codegen::helpers`).
    fn call_helper(&mut self, helper: Helper, args: &[Value]) -> Result<()> {
        let env = &mut *self.env;
        let id = env.helpers.get(env.module, &mut env.imports, helper)?;
        let callee = self.func_ref(id);
        self.builder.ins().call(callee, args);
        Ok(())
    }

    /// The stack slot `keel_make_unique`'s trampoline writes its result to (one per function).
    fn unique_slot(&mut self) -> StackSlot {
        if let Some(slot) = self.unique_slot {
            return slot;
        }
        let size = self.env.pointer.bytes();
        let align_shift = self.env.pointer.bytes().trailing_zeros() as u8;
        let slot = self.builder.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            size,
            align_shift,
        ));
        self.unique_slot = Some(slot);
        slot
    }

    /// Releases the heap value in a slot (null after a take), then stores `value` (consumed).
    fn replace_slot(&mut self, slot: &Slot, base: Value, value: Value) -> Result<()> {
        if slot.ty.is_heap() && !slot.holds_null {
            let old = self.load(types::I64, slot.region, base, slot.offset);
            self.release(old, true)?;
        }
        let value = self.slot_word(value, slot.ty);
        self.store(slot.region, value, base, slot.offset);
        Ok(())
    }

    /// Loads a heap value out of a slot and leaves null behind.
    fn take_slot(&mut self, region: Region, base: Value, offset: i32) -> Value {
        let pointer = self.env.pointer;
        let value = self.load(pointer, region, base, offset);
        let null = self.builder.ins().iconst(pointer, 0);
        self.store(region, null, base, offset);
        value
    }

    /// Loads a slot holding a value of `ty` (a `bool` slot holds a whole word of 0 or 1).
    fn load_slot(&mut self, region: Region, base: Value, offset: i32, ty: Ty) -> Value {
        match ty {
            Ty::Float => self.load(types::F64, region, base, offset),
            Ty::Bool => {
                let word = self.load(types::I64, region, base, offset);
                self.builder.ins().ireduce(types::I8, word)
            }
            _ => {
                let pointer = self.env.pointer;
                let word_ty = if ty.is_heap() { pointer } else { types::I64 };
                self.load(word_ty, region, base, offset)
            }
        }
    }

    /// The word a slot stores for `value` of `ty`: bools widen to a whole word.
    fn slot_word(&mut self, value: Value, ty: Ty) -> Value {
        if ty == Ty::Bool {
            self.builder.ins().uextend(types::I64, value)
        } else {
            value
        }
    }

    fn program_elem(&self, ty: ArrayId) -> Ty {
        self.env.program.elem(ty)
    }

    fn field_ty(&self, ty: StructId, field: u32) -> Result<Ty> {
        let def = self.env.program.struct_def(ty);
        def.fields
            .get(field as usize)
            .map(|f| f.ty)
            .ok_or_else(|| format!("struct {} has no field #{field}", def.name))
    }

    fn array_type(&self, ty: Ty) -> Result<ArrayId> {
        match ty {
            Ty::Array(id) => Ok(id),
            other => Err(format!("array operation on a value of type {other}")),
        }
    }

    fn struct_type(&self, ty: Ty) -> Result<StructId> {
        match ty {
            Ty::Struct(id) => Ok(id),
            other => Err(format!("field operation on a value of type {other}")),
        }
    }
}

/// The offset of slot `index` after a header of `header` bytes.
fn slot_offset(header: i32, index: usize) -> Result<i32> {
    i32::try_from(index)
        .ok()
        .and_then(|i| i.checked_mul(SLOT_SIZE))
        .and_then(|bytes| bytes.checked_add(header))
        .ok_or_else(|| format!("slot {index} is too far into its object"))
}
