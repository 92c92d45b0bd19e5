//! Keel maps and sets (`map<K, V>`, `set<T>`): the object, the hashing and ordering of keys, and
//! the functions generated code calls on them (`keel_map_*`).
//!
//! A map or set value is a pointer to a `MapObject`: the common [`ObjHeader`] (its `desc` the
//! map or set type, `KIND_MAP` or `KIND_SET`), then a part private to this module, which no
//! backend reads. A set is a map whose values are all 0 (never released).
//!
//! The entries (`{key, value, hash}`) sit in one `Vec`, found through an open-addressing index: a
//! power-of-two table of 16-byte `Slot`s with linear probing, each holding the high 24 bits of
//! the key's hash, a short string key's length and the entry's position + 1 (all 0: an empty
//! slot), and the key: a string of up to 8 bytes as the word of its bytes, any other key as its
//! word. A probe compares hashes, then keys, without touching the entries, and a short string
//! key without reading the stored string either: in a big map a lookup that misses the cache
//! then waits for the slot alone, and the entry (its value) after it (in a word count of 2.6
//! million words, 50,000 distinct, the probe's share of the run fell from 37% to 21% when short
//! keys stopped being read; slots of 8 bytes, which sent every key comparison through the
//! entry, were slower still, see `examples/map_structures.rs`). The table is at most 80% full;
//! a removal moves the last entry into the hole (`swap_remove`) and closes the gap in the table
//! by shifting the slots after it back (no tombstones). Inserting into an unshared map is
//! amortised O(1) expected.
//!
//! Iteration order is ascending key order. New entries go at the end of the `Vec`, and a flag
//! says whether the entries are in key order (it stays set while keys are inserted in ascending
//! order, and a removal of anything but the last entry clears it); the functions where order
//! shows (`keel_map_sort`, `keel_map_keys`, `keel_map_values`, and printing in `value`) sort the
//! entries first when they are not, with a stable merge sort that takes linear time when they
//! are sorted but for a few, and rebuild the table from the cached hashes. A sort after a change
//! is thus O(n), like the iteration it precedes. Sorting changes no value, only where its
//! entries are, so it is done through borrowed (even shared) pointers.
//!
//! Maps have value semantics: `keel_map_insert` and `keel_map_remove` take the map owned and change
//! it in place when it is unique, else copy it first (every heap key and value retained) and
//! release one reference of the original.
//!
//! Key types are int, bool, string, and tuples, structs and enums of key types (the compiler
//! checks it): never floats, arrays, maps or functions, and never recursive. They are ordered
//! ints ascending, false before true, strings by their bytes, tuples and structs field by field,
//! enums by tag then payload; equal when they are equal by value. Hashing and comparing walk a
//! composite key with an explicit stack, like the rest of the runtime.
//!
//! What this module does not do: free maps (see `object`, which releases the entries of a dead
//! map through its pending list), compare or print whole maps (see `value`), or check key types.

use core::cell::Cell;
use core::cmp::Ordering;

use crate::array::{alloc_array, slots};
use crate::desc::{
    desc_is_heap, FieldDesc, TypeDesc, KIND_ENUM, KIND_MAP, KIND_SET, KIND_STRING, KIND_STRUCT,
    KIND_VARIANT,
};
use crate::fault::{fatal, out_of_memory};
use crate::layout::{ArrayHeader, ObjHeader, StrHeader, OBJECT_ALIGN};
use crate::object::{alloc_object, is_unique, release, release_word, retain_word, struct_fields};
use crate::prelude::*;
use crate::string::as_bytes;

/// One entry of a map: the key, its value (0 in a set) and the key's hash.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub key: i64,
    pub value: i64,
    pub hash: u64,
}

/// How keys of a map's key type are hashed and compared.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum KeyClass {
    /// Ints, bools: by the word.
    Word,
    /// Strings: by the bytes.
    Str,
    /// Tuples, structs, enums: part by part, by the key descriptor.
    Composite,
}

/// A map or set object. Only `header` is seen outside this module (and `object`, `value`
/// through the functions below).
#[repr(C)]
pub(crate) struct MapObject {
    header: ObjHeader,
    entries: Vec<Entry>,
    /// Empty, or a power of two of slots.
    index: Vec<Slot>,
    key: *const TypeDesc,
    /// Null for a set.
    value: *const TypeDesc,
    class: KeyClass,
    key_heap: bool,
    value_heap: bool,
    /// Whether `entries` are in ascending key order.
    sorted: bool,
    /// What the last `keel_map_find` found, while the table has not changed since, so that
    /// `keel_map_insert` of the same key (`m = m.insert(k, m.get_or(k, 0) + 1)`) needs neither
    /// the hash nor the probe again.
    found: Cell<Option<Found>>,
}

/// A key [`keel_map_find`] found: the key word it was given, its hash, its slot and its entry.
#[derive(Clone, Copy, Debug)]
struct Found {
    key: i64,
    hash: u64,
    pos: usize,
    entry: usize,
}

/// The size of a map object.
pub(crate) const MAP_SIZE: usize = core::mem::size_of::<MapObject>();

const _: () = assert!(core::mem::align_of::<MapObject>() <= OBJECT_ALIGN);

/// Whether objects of `kind` are map objects.
pub(crate) fn is_map_kind(kind: u32) -> bool {
    matches!(kind, KIND_MAP | KIND_SET)
}

/// Views a map object.
///
/// # Safety
/// `m` must be a live map object, not changed while the reference is used.
unsafe fn map_ref<'a>(m: *const ObjHeader) -> &'a MapObject {
    // SAFETY: the caller guarantees `m` is a map object.
    unsafe { &*m.cast::<MapObject>() }
}

/// Views a map object to change it.
///
/// # Safety
/// `m` must be a live map object, and no other view of it may be used while this one is.
unsafe fn map_mut<'a>(m: *mut ObjHeader) -> &'a mut MapObject {
    // SAFETY: the caller guarantees `m` is a map object, with exclusive access.
    unsafe { &mut *m.cast::<MapObject>() }
}

/// A map's entries, in their current order.
///
/// # Safety
/// `m` must be a live map object, not changed while the slice is used.
pub unsafe fn entries<'a>(m: *const ObjHeader) -> &'a [Entry] {
    // SAFETY: forwarded from the caller.
    unsafe { &map_ref(m).entries }
}

/// A map's key descriptor and value descriptor (null for a set).
///
/// # Safety
/// `m` must be a live map object.
pub unsafe fn part_descs(m: *const ObjHeader) -> (*const TypeDesc, *const TypeDesc) {
    // SAFETY: forwarded from the caller.
    let map = unsafe { map_ref(m) };
    (map.key, map.value)
}

/// Whether a map's keys and values are heap values (a set's values never are).
///
/// # Safety
/// `m` must be a live map object.
pub(crate) unsafe fn heap_parts(m: *const ObjHeader) -> (bool, bool) {
    // SAFETY: forwarded from the caller.
    let map = unsafe { map_ref(m) };
    (map.key_heap, map.value_heap)
}

/// Drops the storage of a dead map object (its entries, not what they refer to), leaving the
/// object's own [`MAP_SIZE`] bytes for the caller to free.
///
/// # Safety
/// `m` must be a map object nobody refers to any more, whose heap keys and values have been
/// released; it may not be used afterwards.
pub(crate) unsafe fn drop_storage(m: *mut ObjHeader) {
    // SAFETY: the caller guarantees `m` is a dead map object, dropped only once.
    unsafe {
        let map = m.cast::<MapObject>();
        core::ptr::drop_in_place(&mut (*map).entries);
        core::ptr::drop_in_place(&mut (*map).index);
    }
}

// ---- hashing ----

const SEED: u64 = 0x243F_6A88_85A3_08D3;
const MUL: u64 = 0xA076_1D64_78BD_642F;
const MUL2: u64 = 0xE703_7ED1_A0B4_28DB;

/// The 128-bit product of `a` and `b`, folded to 64 bits (wyhash's mix): every bit of the result
/// depends on every bit of both.
#[inline]
fn mix(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

/// `h` with one more word mixed in.
#[inline]
fn combine(h: u64, word: u64) -> u64 {
    mix(h ^ word, MUL)
}

#[inline]
fn read8(bytes: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(word)
}

#[inline]
fn read4(bytes: &[u8]) -> u64 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[..4]);
    u64::from(u32::from_le_bytes(word))
}

/// The hash of a string's bytes: 8 bytes at a time, the last 1 to 8 read as one word (by
/// overlapping reads, as wyhash does), the length mixed in first.
#[inline]
fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h = SEED ^ (bytes.len() as u64).wrapping_mul(MUL2);
    let mut rest = bytes;
    while rest.len() > 8 {
        h = combine(h, read8(rest));
        rest = &rest[8..];
    }
    mix(h ^ short_word(rest), MUL2)
}

/// Up to 8 bytes as one word, by overlapping reads as wyhash does: different for different
/// bytes of the same length (every byte is read), so two strings of up to 8 bytes are equal
/// exactly when their lengths and these words are.
#[inline]
fn short_word(bytes: &[u8]) -> u64 {
    let n = bytes.len();
    match n {
        8 => read8(bytes),
        4..=7 => (read4(bytes) << 32) | read4(&bytes[n - 4..]),
        1..=3 => {
            (u64::from(bytes[0]) << 16) | (u64::from(bytes[n / 2]) << 8) | u64::from(bytes[n - 1])
        }
        _ => 0,
    }
}

/// Whether two strings' bytes are equal: those of up to 16 bytes (most keys) by two
/// overlapping word reads each, without a call of `memcmp`.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        8..=16 => read8(a) == read8(b) && read8(&a[n - 8..]) == read8(&b[n - 8..]),
        4..=7 => read4(a) == read4(b) && read4(&a[n - 4..]) == read4(&b[n - 4..]),
        _ => a == b,
    }
}

/// The hash of an int or bool key.
#[inline]
fn hash_word(word: i64) -> u64 {
    mix(word as u64 ^ SEED, MUL)
}

/// The descriptor to walk the key word `word` of static type `desc` by: an enum value's variant,
/// from its header; `desc` itself otherwise.
///
/// # Safety
/// `desc` must be valid; a word of an enum type must be null or a live object.
#[inline]
unsafe fn resolve(word: i64, desc: *const TypeDesc) -> *const TypeDesc {
    // SAFETY: the caller guarantees both.
    unsafe {
        if (*desc).kind == KIND_ENUM && word != 0 {
            (*(word as *const ObjHeader)).desc
        } else {
            desc
        }
    }
}

/// Whether keys of `kind` are compared and hashed part by part.
fn is_composite(kind: u32) -> bool {
    matches!(kind, KIND_STRUCT | KIND_ENUM | KIND_VARIANT)
}

/// A struct (tuple, variant) inside a key being hashed: where its fields are, their types, and
/// the next field.
type HashFrame<'a> = (*const i64, &'a [FieldDesc], usize);

/// `h` with the part `word` of type `desc` mixed in when it is a scalar or a string; the frame to
/// walk when it is a struct, tuple or enum value.
///
/// # Safety
/// `desc` must be a valid key type descriptor and `word` a live value of it.
#[inline]
unsafe fn hash_part<'a>(h: u64, word: i64, desc: *const TypeDesc) -> Result<u64, HashFrame<'a>> {
    // SAFETY: forwarded from the caller.
    unsafe {
        let desc = resolve(word, desc);
        let kind = (*desc).kind;
        if word != 0 && kind == KIND_STRING {
            Ok(combine(h, hash_bytes(as_bytes(word as *const StrHeader))))
        } else if word != 0 && is_composite(kind) {
            Err((
                struct_fields(word as *mut ObjHeader),
                (*desc).field_descs(),
                0,
            ))
        } else {
            Ok(combine(h, word as u64))
        }
    }
}

/// The hash of the key `key` of type `desc`, a tuple, struct or enum: its scalars and strings
/// mixed in one after the other. The struct being walked is a local and only the ones around it
/// go on a stack, so a key without nested structs allocates nothing.
///
/// # Safety
/// `desc` must be a valid key type descriptor and `key` a live value of it.
unsafe fn hash_composite(key: i64, desc: *const TypeDesc) -> u64 {
    // SAFETY: the caller guarantees the key and its descriptor; the parts walked are fields of
    // it, typed by their structs' descriptors.
    unsafe {
        let mut top = match hash_part(SEED, key, desc) {
            Ok(h) => return h,
            Err(frame) => frame,
        };
        let mut outer: Vec<HashFrame<'_>> = Vec::new();
        let mut h = SEED;
        loop {
            let (values, fields, next) = &mut top;
            let Some(field) = fields.get(*next) else {
                match outer.pop() {
                    Some(frame) => top = frame,
                    None => return h,
                }
                continue;
            };
            let word = *values.add(*next);
            *next += 1;
            match hash_part(h, word, field.ty) {
                Ok(mixed) => h = mixed,
                Err(frame) => outer.push(core::mem::replace(&mut top, frame)),
            }
        }
    }
}

/// Two structs (tuples, variants of one enum with equal tags) inside keys being compared: where
/// their fields are, the fields' types, and the next field.
type CompareFrame<'a> = (*const i64, *const i64, &'a [FieldDesc], usize);

/// The order of the parts `x` and `y` of type `desc` when they are scalars or strings (or the
/// same object); the frame to walk when they are structs, tuples or enum values.
///
/// # Safety
/// `desc` must be a valid key type descriptor and `x`, `y` live values of it.
#[inline]
unsafe fn compare_part<'a>(
    x: i64,
    y: i64,
    desc: *const TypeDesc,
) -> Result<Ordering, CompareFrame<'a>> {
    // SAFETY: forwarded from the caller.
    unsafe {
        if x == y {
            return Ok(Ordering::Equal);
        }
        let desc = resolve(x, desc);
        let kind = (*desc).kind;
        if x == 0 || y == 0 {
            Ok(x.cmp(&y))
        } else if kind == KIND_STRING {
            Ok(as_bytes(x as *const StrHeader).cmp(as_bytes(y as *const StrHeader)))
        } else if is_composite(kind) {
            Err((
                struct_fields(x as *mut ObjHeader),
                struct_fields(y as *mut ObjHeader),
                (*desc).field_descs(),
                0,
            ))
        } else {
            Ok(x.cmp(&y))
        }
    }
}

/// The order of the keys `a` and `b` of type `desc`: ints ascending, false before true, strings
/// by bytes, tuples and structs field by field, enums by tag (field 0) then payload. Walks like
/// [`hash_composite`], allocating nothing for keys without nested structs.
///
/// # Safety
/// `desc` must be a valid key type descriptor and `a`, `b` live values of it.
unsafe fn compare_keys(a: i64, b: i64, desc: *const TypeDesc) -> Ordering {
    // SAFETY: the caller guarantees the keys and their descriptor; the parts compared are
    // fields of them, typed by their structs' descriptors. Two enum values reach their payloads
    // only with equal tags, so of one variant.
    unsafe {
        let mut top = match compare_part(a, b, desc) {
            Ok(order) => return order,
            Err(frame) => frame,
        };
        let mut outer: Vec<CompareFrame<'_>> = Vec::new();
        loop {
            let (xs, ys, fields, next) = &mut top;
            let Some(field) = fields.get(*next) else {
                match outer.pop() {
                    Some(frame) => top = frame,
                    None => return Ordering::Equal,
                }
                continue;
            };
            let (x, y) = (*xs.add(*next), *ys.add(*next));
            *next += 1;
            match compare_part(x, y, field.ty) {
                Ok(Ordering::Equal) => {}
                Ok(order) => return order,
                Err(frame) => outer.push(core::mem::replace(&mut top, frame)),
            }
        }
    }
}

impl MapObject {
    /// The hash of `key`, a key of this map's type.
    ///
    /// # Safety
    /// `key` must be a live value of the key type.
    #[inline]
    unsafe fn hash(&self, key: i64) -> u64 {
        // SAFETY: forwarded from the caller.
        unsafe {
            match self.class {
                KeyClass::Word => hash_word(key),
                KeyClass::Str => hash_bytes(as_bytes(key as *const StrHeader)),
                KeyClass::Composite => hash_composite(key, self.key),
            }
        }
    }

    /// The order of two keys of this map's type.
    ///
    /// # Safety
    /// `a` and `b` must be live values of the key type.
    #[inline]
    unsafe fn compare(&self, a: i64, b: i64) -> Ordering {
        // SAFETY: forwarded from the caller.
        unsafe {
            match self.class {
                KeyClass::Word => a.cmp(&b),
                KeyClass::Str => {
                    as_bytes(a as *const StrHeader).cmp(as_bytes(b as *const StrHeader))
                }
                KeyClass::Composite => compare_keys(a, b, self.key),
            }
        }
    }

    /// Whether two keys of this map's type are equal.
    ///
    /// # Safety
    /// `a` and `b` must be live values of the key type.
    #[inline]
    unsafe fn same_key(&self, a: i64, b: i64) -> bool {
        // SAFETY: forwarded from the caller.
        a == b
            || unsafe {
                match self.class {
                    KeyClass::Word => false,
                    KeyClass::Str => same_bytes(
                        as_bytes(a as *const StrHeader),
                        as_bytes(b as *const StrHeader),
                    ),
                    KeyClass::Composite => compare_keys(a, b, self.key) == Ordering::Equal,
                }
            }
    }

    /// Where `key` (whose hash is `hash`) is: its slot and entry, or the empty slot where it
    /// would go (`usize::MAX` when the table has no slots).
    ///
    /// # Safety
    /// `key` must be a live value of the key type.
    #[inline]
    unsafe fn probe(&self, key: i64, hash: u64) -> Probe {
        if self.index.is_empty() {
            return Probe::Vacant(usize::MAX);
        }
        let mask = self.index.len() - 1;
        // SAFETY: forwarded from the caller.
        let (short, word) = unsafe { self.slot_form(key) };
        let want = (hash & TAG_MASK) | short;
        let mut pos = hash as usize & mask;
        loop {
            let slot = self.index[pos];
            if slot.meta == 0 {
                return Probe::Vacant(pos);
            }
            if slot.meta & (TAG_MASK | SHORT_MASK) == want {
                let same = if short != 0 {
                    slot.key == word
                } else {
                    // SAFETY: forwarded from the caller; stored keys are live values of the
                    // type.
                    unsafe { self.same_key(slot.key, key) }
                };
                if same {
                    return Probe::Found {
                        pos,
                        entry: entry_of(slot.meta),
                    };
                }
            }
            pos = (pos + 1) & mask;
        }
    }

    /// How `key` appears in a slot: the [`SHORT_MASK`] bits of its `meta` and its `key` word.
    /// A string of up to [`SHORT_MAX`] bytes is kept as its length + 1 and its [`short_word`],
    /// so that finding it compares words and never reads the stored string (in a big map, a
    /// cache miss); any other key is kept as its word, with no short bits.
    ///
    /// # Safety
    /// `key` must be a live value of the key type.
    #[inline]
    unsafe fn slot_form(&self, key: i64) -> (u64, i64) {
        if self.class == KeyClass::Str {
            // SAFETY: forwarded from the caller: a string key is a live string.
            let bytes = unsafe { as_bytes(key as *const StrHeader) };
            if bytes.len() <= SHORT_MAX {
                return (
                    (bytes.len() as u64 + 1) << SHORT_SHIFT,
                    short_word(bytes) as i64,
                );
            }
        }
        (0, key)
    }

    /// The slot of entry `entry`, whose key `key` hashes to `hash`.
    ///
    /// # Safety
    /// `key` must be a live value of the key type.
    #[inline]
    unsafe fn slot_for(&self, key: i64, hash: u64, entry: usize) -> Slot {
        // SAFETY: forwarded from the caller.
        let (short, word) = unsafe { self.slot_form(key) };
        Slot {
            meta: (hash & TAG_MASK) | short | (entry as u64 + 1),
            key: word,
        }
    }

    /// The hash of `key` and where it is, when the last [`keel_map_find`] found this very key
    /// word in this table: checked against the key its slot holds, since the word of a heap key
    /// that was freed since may now be another key's.
    ///
    /// # Safety
    /// `key` must be a live value of the key type.
    #[inline]
    unsafe fn found_before(&self, key: i64) -> Option<(u64, Probe)> {
        let found = self.found.get().filter(|found| found.key == key)?;
        let slot = *self.index.get(found.pos)?;
        // SAFETY: forwarded from the caller; stored keys are live values of the type.
        let same = unsafe {
            match self.slot_form(key) {
                (0, _) => slot.meta & SHORT_MASK == 0 && self.same_key(slot.key, key),
                (short, word) => slot.meta & SHORT_MASK == short && slot.key == word,
            }
        };
        same.then_some((
            found.hash,
            Probe::Found {
                pos: found.pos,
                entry: found.entry,
            },
        ))
    }

    /// The entry holding `key`, whose hash is `hash`, if any.
    ///
    /// # Safety
    /// `key` must be a live value of the key type.
    #[inline]
    unsafe fn find_hashed(&self, key: i64, hash: u64) -> Option<usize> {
        // SAFETY: forwarded from the caller.
        match unsafe { self.probe(key, hash) } {
            Probe::Found { entry, .. } => Some(entry),
            Probe::Vacant(_) => None,
        }
    }

    /// Rebuilds the table with `slots` slots (a power of two, more than the entries) from the
    /// entries' cached hashes.
    ///
    /// # Safety
    /// The keys must be live values of the key type.
    unsafe fn rebuild_index(&mut self, slots: usize) {
        self.found.set(None);
        self.index.clear();
        self.index.resize(slots, EMPTY);
        let mask = slots - 1;
        for (entry, &Entry { hash, key, .. }) in self.entries.iter().enumerate() {
            let mut pos = hash as usize & mask;
            while self.index[pos].meta != 0 {
                pos = (pos + 1) & mask;
            }
            // SAFETY: forwarded from the caller.
            self.index[pos] = unsafe { self.slot_for(key, hash, entry) };
        }
    }

    /// The empty slot where a key of hash `hash`, known to be absent, goes.
    fn vacant_slot(&self, hash: u64) -> usize {
        let mask = self.index.len() - 1;
        let mut pos = hash as usize & mask;
        while self.index[pos].meta != 0 {
            pos = (pos + 1) & mask;
        }
        pos
    }

    /// Adds the entry `key: value`, whose key is absent and hashes to `hash`; `vacant` is the
    /// empty slot [`probe`](Self::probe) found for it.
    ///
    /// # Safety
    /// `key` must be a live value of the key type.
    unsafe fn push_entry(&mut self, key: i64, value: i64, hash: u64, vacant: usize) {
        self.found.set(None);
        let len = self.entries.len();
        if len >= MAX_ENTRIES {
            out_of_memory(usize::MAX);
        }
        let mut pos = vacant;
        if !fits(len + 1, self.index.len()) {
            let mut slots = (self.index.len() * 2).max(MIN_SLOTS);
            while !fits(len + 1, slots) {
                slots *= 2;
            }
            // SAFETY: forwarded from the caller; stored keys are live values of the type.
            unsafe { self.rebuild_index(slots) };
            pos = self.vacant_slot(hash);
        }
        if self.sorted {
            if let Some(last) = self.entries.last() {
                // SAFETY: forwarded from the caller; stored keys are live values of the type.
                self.sorted = unsafe { self.compare(last.key, key) } == Ordering::Less;
            }
        }
        self.entries.push(Entry { key, value, hash });
        // SAFETY: forwarded from the caller.
        self.index[pos] = unsafe { self.slot_for(key, hash, len) };
    }

    /// Removes the entry `entry`, whose slot is `pos`, without releasing its key or value.
    fn remove_at(&mut self, pos: usize, entry: usize) {
        self.found.set(None);
        // Close the gap: shift back every slot after `pos` in its run that may move there.
        let mask = self.index.len() - 1;
        let mut hole = pos;
        let mut next = (pos + 1) & mask;
        loop {
            let slot = self.index[next];
            if slot.meta == 0 {
                break;
            }
            let home = self.entries[entry_of(slot.meta)].hash as usize & mask;
            // The slot may fill the hole unless its home lies after the hole (cyclically).
            if next.wrapping_sub(home) & mask >= next.wrapping_sub(hole) & mask {
                self.index[hole] = slot;
                hole = next;
            }
            next = (next + 1) & mask;
        }
        self.index[hole] = EMPTY;
        // Move the last entry into the removed one's place, and its slot with it.
        let last = self.entries.len() - 1;
        self.entries.swap_remove(entry);
        if entry != last {
            let hash = self.entries[entry].hash;
            let mut pos = hash as usize & mask;
            while entry_of(self.index[pos].meta) != last {
                pos = (pos + 1) & mask;
            }
            let meta = &mut self.index[pos].meta;
            *meta = (*meta & !ENTRY_MASK) | (entry as u64 + 1);
            self.sorted = false;
        }
    }

    /// Puts the entries in ascending key order (nothing when they are).
    ///
    /// # Safety
    /// The keys must be live values of the key type.
    unsafe fn sort(&mut self) {
        if self.sorted {
            return;
        }
        // SAFETY: forwarded from the caller. A stable merge sort: linear when the entries are
        // sorted but for a few moved or appended since the last sort.
        unsafe {
            match self.class {
                KeyClass::Word => self.entries.sort_by_key(|entry| entry.key),
                KeyClass::Str => self.entries.sort_by(|x, y| {
                    as_bytes(x.key as *const StrHeader).cmp(as_bytes(y.key as *const StrHeader))
                }),
                KeyClass::Composite => {
                    let key = self.key;
                    self.entries.sort_by(|x, y| compare_keys(x.key, y.key, key));
                }
            }
        }
        let slots = self.index.len();
        if slots > 0 {
            // SAFETY: forwarded from the caller.
            unsafe { self.rebuild_index(slots) };
        }
        self.sorted = true;
    }
}

/// One slot of a map's index.
#[derive(Clone, Copy)]
struct Slot {
    /// 0 when the slot is empty; else the high 24 bits of the key's hash ([`TAG_MASK`]), a
    /// short string key's length + 1 ([`SHORT_MASK`], else 0) and the entry's position + 1
    /// ([`ENTRY_MASK`]).
    meta: u64,
    /// A short string key's [`short_word`]; any other key's word (a copy: the entry holds the
    /// reference). See [`MapObject::slot_form`].
    key: i64,
}

/// An empty slot.
const EMPTY: Slot = Slot { meta: 0, key: 0 };

/// What [`MapObject::probe`] found.
enum Probe {
    /// The key is in entry `entry`, whose slot is `pos`.
    Found { pos: usize, entry: usize },
    /// The key is absent; it would go in this empty slot.
    Vacant(usize),
}

/// The high 24 bits of a hash: the part a slot keeps (the low bits pick the slot).
const TAG_MASK: u64 = 0xFFFF_FF00_0000_0000;
/// The bits of a slot's `meta` that hold a short string key's length + 1.
const SHORT_MASK: u64 = 0x0000_00FF_0000_0000;
/// Where [`SHORT_MASK`] starts.
const SHORT_SHIFT: u32 = 32;
/// The bits of a slot's `meta` that hold its entry's position + 1.
const ENTRY_MASK: u64 = 0x0000_0000_FFFF_FFFF;
/// The longest string key a slot keeps in place of the string.
const SHORT_MAX: usize = 8;
/// The smallest table.
const MIN_SLOTS: usize = 8;
/// The most entries a map holds (a slot keeps an entry's position + 1 in 32 bits).
const MAX_ENTRIES: usize = u32::MAX as usize - 1;

/// The entry a full slot's `meta` refers to.
#[inline]
fn entry_of(meta: u64) -> usize {
    (meta as u32).wrapping_sub(1) as usize
}

/// Whether `len` entries fit a table of `slots` slots (at most 80% full).
#[inline]
fn fits(len: usize, slots: usize) -> bool {
    len * 5 <= slots * 4
}

/// A new empty map object of type `desc`; `rc` is 1.
///
/// # Safety
/// `desc` must be a valid map or set descriptor that outlives the object.
unsafe fn new_map(desc: *const TypeDesc) -> *mut ObjHeader {
    // SAFETY: the caller guarantees the descriptor; a map's entry type is a pair `(K, V)`.
    unsafe {
        let (key, value) = match (*desc).kind {
            KIND_MAP => {
                let entry = &*(*desc).elem;
                match entry.field_descs() {
                    [key, value] => (key.ty, value.ty),
                    _ => fatal("keel", "internal error: a map's entry type is not a pair"),
                }
            }
            KIND_SET => ((*desc).elem, core::ptr::null()),
            kind => fatal(
                "keel",
                &format!("internal error: a map of a type of kind {kind}"),
            ),
        };
        let class = match (*key).kind {
            KIND_STRING => KeyClass::Str,
            kind if is_composite(kind) => KeyClass::Composite,
            _ => KeyClass::Word,
        };
        let m = alloc_object(MAP_SIZE, false).cast::<MapObject>();
        m.write(MapObject {
            header: ObjHeader { rc: 1, desc },
            entries: Vec::new(),
            index: Vec::new(),
            key,
            value,
            class,
            key_heap: desc_is_heap(key),
            value_heap: desc_is_heap(value),
            sorted: true,
            found: Cell::new(None),
        });
        m.cast()
    }
}

/// A new map object (`rc` 1) with the entries of `m`, its heap keys and values retained, and
/// room for `extra` more entries.
///
/// # Safety
/// `m` must be a live map object.
pub(crate) unsafe fn copy_map(m: *const ObjHeader, extra: usize) -> *mut ObjHeader {
    // SAFETY: the caller guarantees `m` is live; the copy holds one more reference of each heap
    // key and value.
    unsafe {
        let map = map_ref(m);
        let mut entries = Vec::with_capacity(map.entries.len() + extra);
        entries.extend_from_slice(&map.entries);
        for entry in &entries {
            if map.key_heap {
                retain_word(entry.key);
            }
            if map.value_heap {
                retain_word(entry.value);
            }
        }
        let copy = alloc_object(MAP_SIZE, false).cast::<MapObject>();
        copy.write(MapObject {
            header: ObjHeader {
                rc: 1,
                desc: map.header.desc,
            },
            entries,
            index: map.index.clone(),
            key: map.key,
            value: map.value,
            class: map.class,
            key_heap: map.key_heap,
            value_heap: map.value_heap,
            sorted: map.sorted,
            found: Cell::new(map.found.get()),
        });
        copy.cast()
    }
}

/// The owned map `m`, unique: itself when it is, else a copy with room for `extra` more entries
/// (after releasing one reference of `m`).
///
/// # Safety
/// `m` must be a live map object the caller owns a reference to.
unsafe fn unique(m: *mut ObjHeader, extra: usize) -> *mut ObjHeader {
    // SAFETY: the caller guarantees `m` is live and owned.
    unsafe {
        if is_unique(m) {
            return m;
        }
        let copy = copy_map(m, extra);
        release(m);
        copy
    }
}

/// The entry of `key` in the map `m`, if any, given the key's hash (the entries of two maps of
/// one type cache the same hashes): for comparing maps.
///
/// # Safety
/// `m` must be a live map object and `key` a live value of its key type hashing to `hash`.
pub(crate) unsafe fn find_hashed(m: *const ObjHeader, key: i64, hash: u64) -> Option<usize> {
    // SAFETY: forwarded from the caller.
    unsafe { map_ref(m).find_hashed(key, hash) }
}

/// Puts the entries of `m` in ascending key order (cheap when they are): for printing.
///
/// # Safety
/// `m` must be a live map object whose entries no one is reading.
pub(crate) unsafe fn sort_map(m: *const ObjHeader) {
    // SAFETY: forwarded from the caller; sorting changes where entries are, not the value.
    unsafe { map_mut(m.cast_mut()).sort() }
}

/// Entry `index` of `m`, which must exist (a compiler bug otherwise).
///
/// # Safety
/// `m` must be a live map object.
unsafe fn entry_at<'a>(m: *const ObjHeader, index: i64) -> (Entry, &'a MapObject) {
    // SAFETY: the caller guarantees `m` is live.
    let map = unsafe { map_ref(m) };
    match usize::try_from(index).ok().and_then(|i| map.entries.get(i)) {
        Some(&entry) => (entry, map),
        None => fatal(
            "keel",
            &format!("internal error: map entry {index} of {}", map.entries.len()),
        ),
    }
}

/// A new empty map or set of type `desc` (`KIND_MAP` or `KIND_SET`); `rc` is 1.
///
/// # Safety
/// `desc` must be a valid map or set descriptor that outlives the map.
#[no_mangle]
pub unsafe extern "C" fn keel_map_new(desc: *const TypeDesc) -> *mut ObjHeader {
    // SAFETY: forwarded from the caller.
    unsafe { new_map(desc) }
}

/// `m` with `key` mapped to `value`: a present key's value is replaced (the old value and the
/// passed key released, the stored key kept); in a set, a present item's passed key is
/// released. Consumes all three; changes `m` in place when it is unique, else copies it.
///
/// # Safety
/// `m` must be a live map object the caller owns a reference to; `key` and `value` owned values
/// of its key and value types (`value` 0 for a set).
#[no_mangle]
pub unsafe extern "C" fn keel_map_insert(
    m: *mut ObjHeader,
    key: i64,
    value: i64,
) -> *mut ObjHeader {
    // SAFETY: the caller guarantees the map and the values; after `unique` the map is the
    // caller's alone, and its table is the original's (copied), so a probe result stays valid.
    unsafe {
        let map = map_ref(m);
        let (hash, probe) = match map.found_before(key) {
            Some(found) => found,
            None => {
                let hash = map.hash(key);
                (hash, map.probe(key, hash))
            }
        };
        match probe {
            Probe::Found { .. } if map.value.is_null() => {
                // A set already holding the item: nothing changes, not even a shared one.
                if map.key_heap {
                    release_word(key);
                }
                m
            }
            Probe::Found { entry, .. } => {
                let m = unique(m, 0);
                let map = map_mut(m);
                let old = core::mem::replace(&mut map.entries[entry].value, value);
                if map.key_heap {
                    release_word(key);
                }
                if map.value_heap {
                    release_word(old);
                }
                m
            }
            Probe::Vacant(vacant) => {
                let m = unique(m, 1);
                map_mut(m).push_entry(key, value, hash, vacant);
                m
            }
        }
    }
}

/// `m` without `key` (its stored key and value released); `m` itself, unchanged, when the key is
/// absent. Consumes `m` (changed in place when unique, else copied), borrows `key`.
///
/// # Safety
/// `m` must be a live map object the caller owns a reference to; `key` a live value of its key
/// type.
#[no_mangle]
pub unsafe extern "C" fn keel_map_remove(m: *mut ObjHeader, key: i64) -> *mut ObjHeader {
    // SAFETY: as for `keel_map_insert`: a copy's table and entries are the original's.
    unsafe {
        let map = map_ref(m);
        let Probe::Found { pos, entry } = map.probe(key, map.hash(key)) else {
            return m;
        };
        let m = unique(m, 0);
        let map = map_mut(m);
        let Entry { key, value, .. } = map.entries[entry];
        map.remove_at(pos, entry);
        if map.key_heap {
            release_word(key);
        }
        if map.value_heap {
            release_word(value);
        }
        m
    }
}

/// The index of the entry of `key` in `m` (`0..len`), or -1. Valid until the next insert, remove
/// or sort.
///
/// # Safety
/// `m` must be a live map object; `key` a live value of its key type.
#[no_mangle]
pub unsafe extern "C" fn keel_map_find(m: *const ObjHeader, key: i64) -> i64 {
    // SAFETY: forwarded from the caller.
    unsafe {
        let map = map_ref(m);
        let hash = map.hash(key);
        match map.probe(key, hash) {
            Probe::Found { pos, entry } => {
                map.found.set(Some(Found {
                    key,
                    hash,
                    pos,
                    entry,
                }));
                entry as i64
            }
            Probe::Vacant(_) => -1,
        }
    }
}

/// The key of entry `index` of `m`, a new reference.
///
/// # Safety
/// `m` must be a live map object with an entry `index`.
#[no_mangle]
pub unsafe extern "C" fn keel_map_key(m: *const ObjHeader, index: i64) -> i64 {
    // SAFETY: the caller guarantees `m`; its keys are live.
    unsafe {
        let (entry, map) = entry_at(m, index);
        if map.key_heap {
            retain_word(entry.key);
        }
        entry.key
    }
}

/// The value of entry `index` of `m`, a new reference (0 in a set).
///
/// # Safety
/// `m` must be a live map object with an entry `index`.
#[no_mangle]
pub unsafe extern "C" fn keel_map_value(m: *const ObjHeader, index: i64) -> i64 {
    // SAFETY: the caller guarantees `m`; its values are live.
    unsafe {
        let (entry, map) = entry_at(m, index);
        if map.value_heap {
            retain_word(entry.value);
        }
        entry.value
    }
}

/// Puts the entries of `m` in ascending key order, so that entry `i` holds the `i`-th smallest
/// key (cheap when they are already). Borrows `m`, which may be shared: its value is unchanged.
///
/// # Safety
/// `m` must be a live map object.
#[no_mangle]
pub unsafe extern "C" fn keel_map_sort(m: *const ObjHeader) {
    // SAFETY: forwarded from the caller.
    unsafe { sort_map(m) }
}

/// The number of entries of `m`.
///
/// # Safety
/// `m` must be a live map object.
#[no_mangle]
pub unsafe extern "C" fn keel_map_len(m: *const ObjHeader) -> i64 {
    // SAFETY: forwarded from the caller.
    unsafe { map_ref(m).entries.len() as i64 }
}

/// A new array of type `array_desc` of the words `part` picks from each entry of `m`, in
/// ascending key order, retained when `heap`.
///
/// # Safety
/// `m` must be a live map object, `array_desc` a valid array descriptor of the part's type.
unsafe fn collect(
    m: *const ObjHeader,
    array_desc: *const TypeDesc,
    part: fn(&Entry) -> i64,
    heap: bool,
) -> *mut ArrayHeader {
    // SAFETY: the caller guarantees both; the array has room for every entry.
    unsafe {
        sort_map(m);
        let entries = entries(m);
        let a = alloc_array(
            array_desc,
            entries.len() as i64,
            entries.len() as i64,
            false,
        );
        let out = slots(a);
        for (i, entry) in entries.iter().enumerate() {
            let word = part(entry);
            if heap {
                retain_word(word);
            }
            *out.add(i) = word;
        }
        a
    }
}

/// The keys (a set's items) of `m` in ascending order, retained, in a new array of type
/// `array_desc` (`[K]`).
///
/// # Safety
/// `m` must be a live map object, `array_desc` a valid descriptor of an array of its keys.
#[no_mangle]
pub unsafe extern "C" fn keel_map_keys(
    m: *const ObjHeader,
    array_desc: *const TypeDesc,
) -> *mut ArrayHeader {
    // SAFETY: forwarded from the caller.
    unsafe { collect(m, array_desc, |entry| entry.key, map_ref(m).key_heap) }
}

/// The values of `m` in ascending key order, retained, in a new array of type `array_desc`
/// (`[V]`).
///
/// # Safety
/// `m` must be a live map object, `array_desc` a valid descriptor of an array of its values.
#[no_mangle]
pub unsafe extern "C" fn keel_map_values(
    m: *const ObjHeader,
    array_desc: *const TypeDesc,
) -> *mut ArrayHeader {
    // SAFETY: forwarded from the caller.
    unsafe { collect(m, array_desc, |entry| entry.value, map_ref(m).value_heap) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::array::elements;
    use crate::desc::{BOOL_DESC, FLOAT_DESC, INT_DESC, STRING_ARRAY_DESC, STRING_DESC};
    use crate::object::{keel_make_unique, keel_struct_alloc, live_objects, retain};
    use crate::string::{as_str, new_string};
    use crate::value::{keel_value_eq, keel_value_to_str};

    /// The tuple `(K, V)` of a map's entries.
    const fn pair(key: &'static TypeDesc, value: &'static TypeDesc) -> [FieldDesc; 2] {
        [FieldDesc::new(b"0", key), FieldDesc::new(b"1", value)]
    }

    static INT_ARRAY: TypeDesc = TypeDesc::array(&INT_DESC);
    static BOOL_ARRAY: TypeDesc = TypeDesc::array(&BOOL_DESC);

    // map<int, string>
    static INT_STRING_FIELDS: [FieldDesc; 2] = pair(&INT_DESC, &STRING_DESC);
    static INT_STRING: TypeDesc = TypeDesc::structure(b"", &INT_STRING_FIELDS);
    static INT_STRING_MAP: TypeDesc = TypeDesc::map(&INT_STRING);
    // map<string, int>
    static STRING_INT_FIELDS: [FieldDesc; 2] = pair(&STRING_DESC, &INT_DESC);
    static STRING_INT: TypeDesc = TypeDesc::structure(b"", &STRING_INT_FIELDS);
    static STRING_INT_MAP: TypeDesc = TypeDesc::map(&STRING_INT);
    // map<int, int>
    static INT_INT_FIELDS: [FieldDesc; 2] = pair(&INT_DESC, &INT_DESC);
    static INT_INT: TypeDesc = TypeDesc::structure(b"", &INT_INT_FIELDS);
    static INT_INT_MAP: TypeDesc = TypeDesc::map(&INT_INT);
    // map<bool, int>
    static BOOL_INT_FIELDS: [FieldDesc; 2] = pair(&BOOL_DESC, &INT_DESC);
    static BOOL_INT: TypeDesc = TypeDesc::structure(b"", &BOOL_INT_FIELDS);
    static BOOL_INT_MAP: TypeDesc = TypeDesc::map(&BOOL_INT);
    // map<string, float>
    static STRING_FLOAT_FIELDS: [FieldDesc; 2] = pair(&STRING_DESC, &FLOAT_DESC);
    static STRING_FLOAT: TypeDesc = TypeDesc::structure(b"", &STRING_FLOAT_FIELDS);
    static STRING_FLOAT_MAP: TypeDesc = TypeDesc::map(&STRING_FLOAT);
    // set<int>, set<string>
    static INT_SET: TypeDesc = TypeDesc::set(&INT_DESC);
    static STRING_SET: TypeDesc = TypeDesc::set(&STRING_DESC);
    // map<(int, string), int>
    static KEY_TUPLE: TypeDesc = TypeDesc::structure(b"", &INT_STRING_FIELDS);
    static TUPLE_INT_FIELDS: [FieldDesc; 2] = pair(&KEY_TUPLE, &INT_DESC);
    static TUPLE_INT: TypeDesc = TypeDesc::structure(b"", &TUPLE_INT_FIELDS);
    static TUPLE_INT_MAP: TypeDesc = TypeDesc::map(&TUPLE_INT);
    static TUPLE_ARRAY: TypeDesc = TypeDesc::array(&KEY_TUPLE);
    // `enum Shape { Dot, Circle(int), Label(string) }` and `set<Shape>`.
    static SHAPE: TypeDesc = TypeDesc::enumeration(b"Shape");
    static DOT_FIELDS: [FieldDesc; 1] = [FieldDesc::new(b"tag", &INT_DESC)];
    static DOT: TypeDesc = TypeDesc::variant(b"Dot", &DOT_FIELDS);
    static CIRCLE_FIELDS: [FieldDesc; 2] = [
        FieldDesc::new(b"tag", &INT_DESC),
        FieldDesc::new(b"0", &INT_DESC),
    ];
    static CIRCLE: TypeDesc = TypeDesc::variant(b"Circle", &CIRCLE_FIELDS);
    static LABEL_FIELDS: [FieldDesc; 2] = [
        FieldDesc::new(b"tag", &INT_DESC),
        FieldDesc::new(b"0", &STRING_DESC),
    ];
    static LABEL: TypeDesc = TypeDesc::variant(b"Label", &LABEL_FIELDS);
    static SHAPE_SET: TypeDesc = TypeDesc::set(&SHAPE);
    // `set<((int, string), Shape)>`: keys with structs inside structs.
    static OUTER_FIELDS: [FieldDesc; 2] = [
        FieldDesc::new(b"0", &KEY_TUPLE),
        FieldDesc::new(b"1", &SHAPE),
    ];
    static OUTER_KEY: TypeDesc = TypeDesc::structure(b"", &OUTER_FIELDS);
    static OUTER_SET: TypeDesc = TypeDesc::set(&OUTER_KEY);
    static SHAPE_ARRAY: TypeDesc = TypeDesc::array(&SHAPE);
    // map<string, [int]> and map<int, map<string, [int]>>
    static STRING_INTS_FIELDS: [FieldDesc; 2] = pair(&STRING_DESC, &INT_ARRAY);
    static STRING_INTS: TypeDesc = TypeDesc::structure(b"", &STRING_INTS_FIELDS);
    static STRING_INTS_MAP: TypeDesc = TypeDesc::map(&STRING_INTS);
    static NESTED_FIELDS: [FieldDesc; 2] = pair(&INT_DESC, &STRING_INTS_MAP);
    static NESTED: TypeDesc = TypeDesc::structure(b"", &NESTED_FIELDS);
    static NESTED_MAP: TypeDesc = TypeDesc::map(&NESTED);
    // A map type holding itself: `map<int, map<int, ...>>`, for values nested to any depth.
    static DEEP_FIELDS: [FieldDesc; 2] = pair(&INT_DESC, &DEEP_MAP);
    static DEEP: TypeDesc = TypeDesc::structure(b"", &DEEP_FIELDS);
    static DEEP_MAP: TypeDesc = TypeDesc::map(&DEEP);

    fn string(text: &str) -> i64 {
        new_string(text.as_bytes()) as i64
    }

    fn new(desc: &TypeDesc) -> *mut ObjHeader {
        // SAFETY: the descriptors are statics.
        unsafe { keel_map_new(desc) }
    }

    fn insert(m: *mut ObjHeader, key: i64, value: i64) -> *mut ObjHeader {
        // SAFETY: the tests pass owned maps and values of their types.
        unsafe { keel_map_insert(m, key, value) }
    }

    /// `m` with the string key `key` removed (the key is released here).
    fn remove_string(m: *mut ObjHeader, key: &str) -> *mut ObjHeader {
        let key = string(key);
        // SAFETY: `m` is an owned map with string keys; `key` is live until released.
        unsafe {
            let m = keel_map_remove(m, key);
            release_word(key);
            m
        }
    }

    /// The index of the string key `key` in `m`, or -1.
    fn find_string(m: *const ObjHeader, key: &str) -> i64 {
        let key = string(key);
        // SAFETY: as above.
        unsafe {
            let found = keel_map_find(m, key);
            release_word(key);
            found
        }
    }

    /// The value of the int key `key` in `m`, if present.
    fn get_int(m: *const ObjHeader, key: i64) -> Option<i64> {
        // SAFETY: `m` is a map with int keys and values.
        unsafe {
            let found = keel_map_find(m, key);
            (found >= 0).then(|| keel_map_value(m, found))
        }
    }

    fn release_map(m: *mut ObjHeader) {
        // SAFETY: the test owns `m`.
        unsafe { release(m) }
    }

    /// The keys of `m` (ascending), read as ints.
    fn int_keys(m: *const ObjHeader, array_desc: &TypeDesc) -> Vec<i64> {
        // SAFETY: the array is new and released here.
        unsafe {
            let a = keel_map_keys(m, array_desc);
            let items = elements(a).to_vec();
            release(a.cast());
            items
        }
    }

    /// The keys of `m` (ascending), read as strings.
    fn string_keys(m: *const ObjHeader) -> Vec<String> {
        // SAFETY: as above, for a map with string keys.
        unsafe {
            let a = keel_map_keys(m, &STRING_ARRAY_DESC);
            let items = elements(a)
                .iter()
                .map(|&s| as_str(s as *const StrHeader).to_string())
                .collect();
            release(a.cast());
            items
        }
    }

    /// The values of `m` (by ascending key), read as ints.
    fn int_values(m: *const ObjHeader) -> Vec<i64> {
        // SAFETY: as above, for a map with int values.
        unsafe {
            let a = keel_map_values(m, &INT_ARRAY);
            let items = elements(a).to_vec();
            release(a.cast());
            items
        }
    }

    /// The text of a map (or array).
    fn text_of(m: *const ObjHeader) -> String {
        // SAFETY: `m` is a live map or array.
        unsafe {
            let s = keel_value_to_str(m);
            let text = as_str(s).to_string();
            release(s.cast());
            text
        }
    }

    fn eq(a: *const ObjHeader, b: *const ObjHeader) -> bool {
        // SAFETY: the tests compare live maps of one type.
        unsafe { keel_value_eq(a, b) == 1 }
    }

    fn len(m: *const ObjHeader) -> i64 {
        // SAFETY: `m` is a live map.
        unsafe { keel_map_len(m) }
    }

    #[test]
    fn insert_replace_find_remove() {
        let before = live_objects();
        // SAFETY: maps and values are built and released through the runtime.
        unsafe {
            let mut m = new(&STRING_INT_MAP);
            assert_eq!(live_objects(), before + 1);
            assert_eq!(len(m), 0);
            assert_eq!(find_string(m, "a"), -1);
            m = insert(m, string("b"), 2);
            m = insert(m, string("a"), 1);
            assert_eq!(len(m), 2);
            let a = find_string(m, "a");
            assert!(a >= 0);
            assert_eq!(keel_map_value(m, a), 1);
            // Replacing keeps the stored key and releases the passed one.
            let stored = keel_map_key(m, a);
            release_word(stored);
            m = insert(m, string("a"), 10);
            assert_eq!(len(m), 2);
            assert_eq!(keel_map_key(m, find_string(m, "a")), stored);
            release_word(stored);
            assert_eq!(keel_map_value(m, find_string(m, "a")), 10);
            assert_eq!(live_objects(), before + 3);
            // Absent keys are no change, even for a shared map.
            retain(m);
            let same = remove_string(m, "zz");
            assert_eq!(same, m);
            assert_eq!((*m).rc, 2);
            release(m);
            m = remove_string(m, "b");
            assert_eq!(len(m), 1);
            assert_eq!(find_string(m, "b"), -1);
            assert_eq!(live_objects(), before + 2);
            assert_eq!(string_keys(m), ["a"]);
            m = remove_string(m, "a");
            assert_eq!(len(m), 0);
            assert_eq!(text_of(m), "{}");
            release_map(m);

            // String values: replacing releases the old value.
            let mut m = new(&INT_STRING_MAP);
            let first = string("one");
            retain(first as *mut ObjHeader);
            m = insert(m, 1, first);
            m = insert(m, 1, string("uno"));
            assert_eq!((*(first as *mut ObjHeader)).rc, 1);
            release_word(first);
            let v = keel_map_value(m, 0);
            assert_eq!(as_str(v as *const StrHeader), "uno");
            assert_eq!((*(v as *mut ObjHeader)).rc, 2);
            // Removing releases the stored value.
            m = insert(m, 2, string("dos"));
            m = keel_map_remove(m, 1);
            assert_eq!((*(v as *mut ObjHeader)).rc, 1);
            release_word(v);
            assert_eq!(live_objects(), before + 2);
            assert_eq!(text_of(m), r#"{2: "dos"}"#);
            release_map(m);
        }
        assert_eq!(live_objects(), before);
    }

    #[test]
    fn an_insert_after_a_find_of_the_same_key_uses_what_the_find_found() {
        let before = live_objects();
        // SAFETY: as above; `key` is retained for each call that consumes it.
        unsafe {
            let mut m = new(&STRING_INT_MAP);
            for word in ["x", "y", "z"] {
                m = insert(m, string(word), 1);
            }
            // The counting pattern: find, then insert the same key word.
            let key = string("y");
            for round in 2..5 {
                let at = keel_map_find(m, key);
                assert_eq!(keel_map_value(m, at), round - 1);
                retain_word(key);
                m = insert(m, key, round);
            }
            assert_eq!(text_of(m), r#"{"x": 1, "y": 4, "z": 1}"#);
            // A change between the find and the insert forgets what the find found: the
            // removal moves `z` into `x`'s entry, so the entry found for `z` is gone.
            let z = string("z");
            assert!(keel_map_find(m, z) >= 0);
            m = remove_string(m, "x");
            retain_word(z);
            m = insert(m, z, 7);
            assert_eq!(text_of(m), r#"{"y": 4, "z": 7}"#);
            // The same word holding another key (freed and made again) is found afresh.
            assert!(keel_map_find(m, key) >= 0);
            *(key as *mut u8).add(crate::layout::STR_BYTES_OFFSET as usize) = b'w';
            retain_word(key);
            m = insert(m, key, 9);
            assert_eq!(text_of(m), r#"{"w": 9, "y": 4, "z": 7}"#);
            release_word(key);
            release_word(z);
            release_map(m);
        }
        assert_eq!(live_objects(), before);
    }

    #[test]
    fn a_shared_map_is_copied_and_the_original_unchanged() {
        let before = live_objects();
        // SAFETY: as above.
        unsafe {
            let mut m = new(&STRING_INT_MAP);
            let key = string("k");
            m = insert(m, key, 1);
            m = insert(m, string("j"), 2);
            retain(m);
            // Insert of a new key.
            let m2 = insert(m, string("x"), 3);
            assert_ne!(m2, m);
            assert_eq!((*m).rc, 1);
            assert_eq!((*m2).rc, 1);
            assert_eq!((*(key as *const ObjHeader)).rc, 2);
            assert_eq!(len(m), 2);
            assert_eq!(len(m2), 3);
            assert_eq!(string_keys(m), ["j", "k"]);
            assert_eq!(string_keys(m2), ["j", "k", "x"]);
            // Replace of a value.
            retain(m);
            let m3 = insert(m, string("k"), 5);
            assert_ne!(m3, m);
            assert_eq!(int_values(m), [2, 1]);
            assert_eq!(int_values(m3), [2, 5]);
            // Remove.
            retain(m);
            let m4 = remove_string(m, "k");
            assert_ne!(m4, m);
            assert_eq!(string_keys(m4), ["j"]);
            assert_eq!(string_keys(m), ["j", "k"]);
            assert_eq!((*(key as *const ObjHeader)).rc, 3);
            // make_unique copies a shared map too.
            retain(m);
            let m5 = keel_make_unique(m);
            assert_ne!(m5, m);
            assert!(eq(m5, m));
            assert_eq!((*(key as *const ObjHeader)).rc, 4);
            for map in [m, m2, m3, m4, m5] {
                release_map(map);
            }
        }
        assert_eq!(live_objects(), before);
    }

    #[test]
    fn sets_hold_each_item_once() {
        let before = live_objects();
        // SAFETY: as above.
        unsafe {
            let mut s = new(&STRING_SET);
            s = insert(s, string("b"), 0);
            s = insert(s, string("a"), 0);
            // A present item: the passed key is released, and a shared set is not copied.
            retain(s);
            let same = insert(s, string("b"), 0);
            assert_eq!(same, s);
            assert_eq!((*s).rc, 2);
            release(s);
            assert_eq!(len(s), 2);
            assert_eq!(string_keys(s), ["a", "b"]);
            assert_eq!(keel_map_value(s, 0), 0);
            assert_eq!(text_of(s), r#"{"a", "b"}"#);
            assert_eq!(live_objects(), before + 3);
            s = remove_string(s, "a");
            assert_eq!(text_of(s), r#"{"b"}"#);
            release_map(s);

            let mut ints = new(&INT_SET);
            for i in [3, -1, 3, 2, -1] {
                ints = insert(ints, i, 0);
            }
            assert_eq!(int_keys(ints, &INT_ARRAY), [-1, 2, 3]);
            assert_eq!(text_of(ints), "{-1, 2, 3}");
            release_map(ints);
            let empty = new(&INT_SET);
            assert_eq!(text_of(empty), "{}");
            release_map(empty);
        }
        assert_eq!(live_objects(), before);
    }

    #[test]
    fn keys_come_in_ascending_order() {
        let before = live_objects();
        // SAFETY: as above; the tuple and enum keys are built here and taken over by the maps.
        unsafe {
            // Ints, negative too.
            let mut m = new(&INT_INT_MAP);
            for k in [5, -3, 0, i64::MIN, 42, i64::MAX, -1, 7] {
                m = insert(m, k, k * 2 % 1000);
            }
            assert_eq!(
                int_keys(m, &INT_ARRAY),
                [i64::MIN, -3, -1, 0, 5, 7, 42, i64::MAX]
            );
            // Iterating as the compiler does: sort, then entries 0..len.
            keel_map_sort(m);
            let keys: Vec<i64> = (0..len(m)).map(|i| keel_map_key(m, i)).collect();
            assert_eq!(keys, int_keys(m, &INT_ARRAY));
            for i in 0..len(m) {
                assert_eq!(keel_map_find(m, keel_map_key(m, i)), i);
            }
            release_map(m);

            // Strings by their bytes: uppercase before lowercase, "é" after ASCII.
            let mut m = new(&STRING_INT_MAP);
            for (i, k) in ["pear", "é", "apple", "Apple", "", "a", "ab", "e\u{301}"]
                .iter()
                .enumerate()
            {
                m = insert(m, string(k), i as i64);
            }
            assert_eq!(
                string_keys(m),
                ["", "Apple", "a", "ab", "apple", "e\u{301}", "pear", "é"]
            );
            assert_eq!(
                text_of(m),
                "{\"\": 4, \"Apple\": 3, \"a\": 5, \"ab\": 6, \"apple\": 2, \"e\u{301}\": 7, \"pear\": 0, \"é\": 1}"
            );
            release_map(m);

            // Bools: false before true.
            let mut m = new(&BOOL_INT_MAP);
            m = insert(m, 1, 10);
            m = insert(m, 0, 20);
            assert_eq!(int_keys(m, &BOOL_ARRAY), [0, 1]);
            assert_eq!(text_of(m), "{false: 20, true: 10}");
            release_map(m);

            // Tuples, field by field.
            let tuple = |n: i64, s: &str| {
                let t = keel_struct_alloc(&KEY_TUPLE);
                *struct_fields(t) = n;
                *struct_fields(t).add(1) = string(s);
                t as i64
            };
            let mut m = new(&TUPLE_INT_MAP);
            for (i, (n, s)) in [(2, "a"), (1, "b"), (1, "a"), (-1, "z"), (2, "")]
                .into_iter()
                .enumerate()
            {
                m = insert(m, tuple(n, s), i as i64);
            }
            // A tuple key equal by value, not by address.
            m = insert(m, tuple(1, "b"), 100);
            assert_eq!(len(m), 5);
            assert_eq!(
                text_of(m),
                r#"{(-1, "z"): 3, (1, "a"): 2, (1, "b"): 100, (2, ""): 4, (2, "a"): 0}"#
            );
            let keys = keel_map_keys(m, &TUPLE_ARRAY);
            assert_eq!(
                text_of(keys.cast()),
                r#"[(-1, "z"), (1, "a"), (1, "b"), (2, ""), (2, "a")]"#
            );
            release(keys.cast());
            let probe = tuple(2, "");
            assert!(keel_map_find(m, probe) >= 0);
            m = keel_map_remove(m, probe);
            assert_eq!(keel_map_find(m, probe), -1);
            release_word(probe);
            release_map(m);

            // Enums: by tag, then payload.
            let dot = || keel_struct_alloc(&DOT) as i64;
            let circle = |r: i64| {
                let c = keel_struct_alloc(&CIRCLE);
                *struct_fields(c) = 1;
                *struct_fields(c).add(1) = r;
                c as i64
            };
            let label = |s: &str| {
                let l = keel_struct_alloc(&LABEL);
                *struct_fields(l) = 2;
                *struct_fields(l).add(1) = string(s);
                l as i64
            };
            let mut s = new(&SHAPE_SET);
            for shape in [
                label("b"),
                circle(3),
                dot(),
                circle(-2),
                label("a"),
                dot(),
                circle(3),
                label("b"),
            ] {
                s = insert(s, shape, 0);
            }
            assert_eq!(len(s), 5);
            assert_eq!(
                text_of(s),
                r#"{Dot, Circle(-2), Circle(3), Label("a"), Label("b")}"#
            );
            let shapes = keel_map_keys(s, &SHAPE_ARRAY);
            assert_eq!(elements(shapes).len(), 5);
            release(shapes.cast());
            let probe = circle(-2);
            assert!(keel_map_find(s, probe) >= 0);
            release_word(probe);
            let probe = circle(4);
            assert_eq!(keel_map_find(s, probe), -1);
            release_word(probe);
            release_map(s);
        }
        assert_eq!(live_objects(), before);
    }

    #[test]
    fn nested_composite_keys() {
        let before = live_objects();
        // SAFETY: the structs are built here with the fields their descriptors give, and taken
        // over by the set (or released).
        unsafe {
            let key = |n: i64, s: &str, tag: i64, payload: i64| {
                let inner = keel_struct_alloc(&KEY_TUPLE);
                *struct_fields(inner) = n;
                *struct_fields(inner).add(1) = string(s);
                let shape = if tag == 0 {
                    keel_struct_alloc(&DOT)
                } else {
                    let c = keel_struct_alloc(&CIRCLE);
                    *struct_fields(c) = 1;
                    *struct_fields(c).add(1) = payload;
                    c
                };
                let outer = keel_struct_alloc(&OUTER_KEY);
                *struct_fields(outer) = inner as i64;
                *struct_fields(outer).add(1) = shape as i64;
                outer as i64
            };
            let mut s = new(&OUTER_SET);
            for (n, text, tag, payload) in [
                (1, "b", 1, 5),
                (1, "a", 1, 9),
                (1, "b", 0, 0),
                (0, "z", 1, 1),
                (1, "b", 1, 4),
                (1, "a", 1, 9),
            ] {
                s = insert(s, key(n, text, tag, payload), 0);
            }
            assert_eq!(len(s), 5);
            assert_eq!(
                text_of(s),
                r#"{((0, "z"), Circle(1)), ((1, "a"), Circle(9)), ((1, "b"), Dot), ((1, "b"), Circle(4)), ((1, "b"), Circle(5))}"#
            );
            for (probe, found) in [(key(1, "b", 1, 4), true), (key(1, "b", 1, 6), false)] {
                assert_eq!(keel_map_find(s, probe) >= 0, found);
                release_word(probe);
            }
            release_map(s);
        }
        assert_eq!(live_objects(), before);
    }

    #[test]
    fn an_entry_out_of_range_is_an_internal_error() {
        use crate::test_support::{in_child, scenario};
        if let Some(case) = scenario() {
            let m = insert(new(&INT_INT_MAP), 1, 2);
            // SAFETY: `m` is live; the call ends the process.
            unsafe {
                match case.as_str() {
                    "key" => keel_map_key(m, 1),
                    _ => keel_map_value(m, -1),
                };
            }
            unreachable!("the process ended");
        }
        for (case, index) in [("key", "1"), ("value", "-1")] {
            let output = in_child(
                "map::tests::an_entry_out_of_range_is_an_internal_error",
                case,
                b"",
                &[],
            );
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(1), "{case}: {stderr}");
            assert!(
                stderr.contains(&format!("keel: internal error: map entry {index} of 1")),
                "{case}: {stderr}"
            );
        }
    }

    #[test]
    fn keys_and_values_arrays_are_retained() {
        let before = live_objects();
        // SAFETY: as above.
        unsafe {
            let mut m = new(&INT_STRING_MAP);
            for (k, v) in [(3, "c"), (1, "a"), (2, "b")] {
                m = insert(m, k, string(v));
            }
            let values = keel_map_values(m, &STRING_ARRAY_DESC);
            let texts: Vec<&str> = elements(values)
                .iter()
                .map(|&s| as_str(s as *const StrHeader))
                .collect();
            assert_eq!(texts, ["a", "b", "c"]);
            assert_eq!((*(elements(values)[0] as *const ObjHeader)).rc, 2);
            assert_eq!(int_keys(m, &INT_ARRAY), [1, 2, 3]);
            release_map(m);
            // The array keeps the values alive.
            assert_eq!(live_objects(), before + 4);
            release(values.cast());

            let empty = new(&INT_STRING_MAP);
            assert_eq!(int_keys(empty, &INT_ARRAY), Vec::<i64>::new());
            release_map(empty);
        }
        assert_eq!(live_objects(), before);
    }

    #[test]
    fn equality_is_by_entries_whatever_their_order() {
        let before = live_objects();
        let build = |pairs: &[(&str, i64)]| {
            let mut m = new(&STRING_INT_MAP);
            for &(k, v) in pairs {
                m = insert(m, string(k), v);
            }
            m
        };
        let a = build(&[("x", 1), ("y", 2), ("z", 3)]);
        let b = build(&[("z", 3), ("x", 1), ("y", 2)]);
        let c = build(&[("z", 3), ("x", 1), ("y", 4)]);
        let d = build(&[("x", 1), ("y", 2)]);
        let e = build(&[("x", 1), ("y", 2), ("w", 3)]);
        assert!(eq(a, b) && eq(b, a));
        assert!(eq(a, a));
        assert!(!eq(a, c) && !eq(c, a));
        assert!(!eq(a, d) && !eq(d, a));
        assert!(!eq(a, e) && !eq(e, a));
        // After a removal and a re-insert, in another order again.
        let b = remove_string(b, "x");
        let b = insert(b, string("x"), 1);
        assert!(eq(a, b));

        // Sets.
        let set = |items: &[i64]| {
            let mut s = new(&INT_SET);
            for &i in items {
                s = insert(s, i, 0);
            }
            s
        };
        let (s1, s2, s3) = (set(&[1, 2, 3]), set(&[3, 1, 2, 1]), set(&[1, 2, 4]));
        assert!(eq(s1, s2));
        assert!(!eq(s1, s3));
        let (empty1, empty2) = (set(&[]), set(&[]));
        assert!(eq(empty1, empty2));

        // Float values by IEEE: NaN is not equal to itself, -0.0 equals 0.0.
        let floats = |value: f64| {
            let m = new(&STRING_FLOAT_MAP);
            insert(m, string("f"), value.to_bits() as i64)
        };
        let (nan, zero, negative_zero) = (floats(f64::NAN), floats(0.0), floats(-0.0));
        assert!(!eq(nan, nan));
        assert!(eq(zero, negative_zero));
        assert_eq!(text_of(nan), r#"{"f": NaN}"#);
        for m in [
            a,
            b,
            c,
            d,
            e,
            s1,
            s2,
            s3,
            empty1,
            empty2,
            nan,
            zero,
            negative_zero,
        ] {
            release_map(m);
        }
        assert_eq!(live_objects(), before);
    }

    /// An int array of `items`.
    fn ints(items: &[i64]) -> i64 {
        // SAFETY: the array has room for the items.
        unsafe {
            let a = crate::array::keel_array_alloc(&INT_ARRAY, items.len() as i64);
            core::ptr::copy_nonoverlapping(items.as_ptr(), slots(a), items.len());
            a as i64
        }
    }

    #[test]
    fn nested_maps_print_compare_and_free() {
        let before = live_objects();
        let inner = |pairs: &[(&str, &[i64])]| {
            let mut m = new(&STRING_INTS_MAP);
            for &(k, v) in pairs {
                m = insert(m, string(k), ints(v));
            }
            m as i64
        };
        let outer = |second: i64| {
            let mut m = new(&NESTED_MAP);
            m = insert(m, 2, inner(&[("b", &[second]), ("a\n", &[])]));
            m = insert(m, 1, inner(&[]));
            m
        };
        let (a, b, c) = (outer(3), outer(3), outer(4));
        assert_eq!(text_of(a), r#"{1: {}, 2: {"a\n": [], "b": [3]}}"#);
        assert!(eq(a, b));
        assert!(!eq(a, c));
        // A shared inner map: copying the outer one retains it.
        // SAFETY: `a` is a live map; the copy is released below.
        let copy = unsafe { copy_map(a, 0) };
        assert!(eq(copy, a));
        for m in [a, b, c, copy] {
            release_map(m);
        }
        assert_eq!(live_objects(), before);
    }

    #[test]
    fn many_entries() {
        let before = live_objects();
        // SAFETY: as above.
        unsafe {
            let n = 100_000i64;
            // Keys in a scrambled order (multiplication by an odd constant permutes them).
            let key = |i: i64| (i.wrapping_mul(0x9E37_79B9) % 1_000_003) - 500_000;
            let mut m = new(&INT_INT_MAP);
            for i in 0..n {
                m = insert(m, key(i), i);
            }
            assert_eq!(len(m), n);
            for i in 0..n {
                assert_eq!(get_int(m, key(i)), Some(i));
            }
            for i in (0..n).step_by(2) {
                m = keel_map_remove(m, key(i));
            }
            assert_eq!(len(m), n / 2);
            for i in 0..n {
                assert_eq!(get_int(m, key(i)), (i % 2 == 1).then_some(i));
            }
            let mut expected: Vec<i64> = (1..n).step_by(2).map(key).collect();
            expected.sort_unstable();
            assert_eq!(int_keys(m, &INT_ARRAY), expected);
            // Still found after the sort moved every entry.
            for i in (1..n).step_by(2) {
                assert_eq!(get_int(m, key(i)), Some(i));
            }
            release_map(m);

            // Strings, with interleaved inserts, removes, sorts and finds.
            let mut m = new(&STRING_INT_MAP);
            let mut model = std::collections::BTreeMap::new();
            let mut state = 12345u64;
            for step in 0..20_000i64 {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let k = format!("k{}", (state >> 33) % 3000);
                match (state >> 20) % 8 {
                    0 => {
                        m = remove_string(m, &k);
                        model.remove(&k);
                    }
                    1 => {
                        keel_map_sort(m);
                        let at = (state >> 40) as i64 % len(m).max(1);
                        if len(m) > 0 {
                            let (mk, mv) = model.iter().nth(at as usize).unwrap();
                            let sk = keel_map_key(m, at);
                            assert_eq!(as_str(sk as *const StrHeader), mk);
                            release_word(sk);
                            assert_eq!(keel_map_value(m, at), *mv);
                        }
                    }
                    _ => {
                        m = insert(m, string(&k), step);
                        model.insert(k.clone(), step);
                    }
                }
                let found = find_string(m, &k);
                match model.get(&k) {
                    Some(&v) => assert_eq!(keel_map_value(m, found), v),
                    None => assert_eq!(found, -1),
                }
            }
            assert_eq!(len(m), model.len() as i64);
            assert_eq!(string_keys(m), model.keys().cloned().collect::<Vec<_>>());
            assert_eq!(int_values(m), model.values().copied().collect::<Vec<_>>());
            assert_eq!(live_objects(), before + 1 + model.len() as i64);
            release_map(m);
        }
        assert_eq!(live_objects(), before);
    }

    /// A chain of `depth` maps, each the only value (at key `level`) of the next, with `{tag: {}}`
    /// at the bottom.
    fn chain(depth: usize, tag: i64) -> *mut ObjHeader {
        let mut m = insert(new(&DEEP_MAP), tag, new(&DEEP_MAP) as i64);
        for _ in 1..depth {
            m = insert(new(&DEEP_MAP), 1, m as i64);
        }
        m
    }

    #[test]
    fn maps_nested_100_000_deep_print_compare_and_free_without_recursing() {
        // On a thread with a small stack: one recursion per level would overflow it at once.
        std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(|| {
                let before = live_objects();
                let small = chain(3, 7);
                assert_eq!(text_of(small), "{1: {1: {7: {}}}}");
                let depth = 100_000;
                let (a, b, c) = (chain(depth, 1), chain(depth, 1), chain(depth, 2));
                assert!(eq(a, b));
                assert!(!eq(a, c));
                let text = text_of(c);
                assert!(text.starts_with("{1: {1: {1: {"));
                assert_eq!(text.find("{2: {}}"), Some((depth - 1) * "{1: ".len()));
                assert!(text.ends_with(&"}".repeat(depth + 1)));
                assert_eq!(text.len(), (depth - 1) * "{1: }".len() + "{2: {}}".len());
                // SAFETY: `a` is live; the copy is released with the rest.
                let copy = unsafe {
                    keel_make_unique({
                        retain(a);
                        a
                    })
                };
                assert!(eq(copy, a));
                for m in [small, a, b, c, copy] {
                    release_map(m);
                }
                assert_eq!(live_objects(), before);
            })
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn hashes_spread_over_the_table() {
        // Sequential ints and similar short strings fill a table without long runs.
        for strings in [false, true] {
            let slots = 1 << 16;
            let mut used = vec![false; slots];
            let n = slots * 3 / 4;
            for i in 0..n {
                let hash = if strings {
                    hash_bytes(format!("w{i}").as_bytes())
                } else {
                    hash_word(i as i64)
                };
                used[hash as usize & (slots - 1)] = true;
            }
            let distinct = used.iter().filter(|&&u| u).count();
            // A random function hits about 1 - e^(-0.75) = 53% of the slots.
            assert!(distinct > slots / 2 - slots / 50, "{distinct} of {slots}");
        }
        // Every length up to 24 bytes, and the tails, reach the hash.
        let texts: Vec<Vec<u8>> = (0..25).map(|n| vec![b'a'; n]).collect();
        let mut hashes: Vec<u64> = texts.iter().map(|t| hash_bytes(t)).collect();
        hashes.extend([
            hash_bytes(b"abcdefgh"),
            hash_bytes(b"abcdefgi"),
            hash_bytes(b"bbc"),
        ]);
        let count = hashes.len();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), count);
    }
}
