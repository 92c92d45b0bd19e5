//! What codegen may assume about heap values within one IR block, to skip redundant work.
//!
//! Three facts, each local to one IR block (nothing is assumed at a block's start):
//! - **Borrowed reads** ([`elided_borrows`]): `t = a[i]` or `t = a.f` followed in the same block
//!   by `release t`, where in between `t` and `a` are only read (never consumed, updated,
//!   retained, released or reassigned). The element stays referenced by its container for the
//!   whole window, so `t` may borrow it: the retain at the read and the release are both
//!   skipped. Reference counts are not observable, so the program cannot tell. Inside the
//!   window `t` owns nothing, so a fault there does not release it ([`Borrows::borrowed_at`]).
//! - **Moved reads** (`Borrows::moves`): `t = a.f` (a heap field of a struct or enum value)
//!   followed in the same block by `release a`, where in between `t` and `a` are only read, and
//!   `t` is not released there (that would be a borrowed read). Up to the release, `t` borrows
//!   as above; at the release, a unique `a` (count 1) hands its reference to `t` (the object is
//!   freed without releasing the fields moved out of it), and a shared one is decremented and
//!   `t` retained then. This is what `match` on an enum value that dies at once compiles to:
//!   the retain of each payload and its release when the value is freed are both skipped. Only
//!   the first read of a field moves; a second read of it is retained as usual.
//! - **Unique containers** ([`BlockFacts::is_unique`]): after an in-place update made a local's
//!   container unique (count 1), it stays unique until the local is mentioned in a way that could
//!   share or replace it: no other reference to a count-1 object exists, so nothing else can
//!   share it. Later updates of the same local skip the count check.
//! - **Taken slots** ([`BlockFacts::is_taken`]): after `x = take a[i]` (or `a.f`), the slot holds
//!   null, so the `a[i] = x` that puts the value back needs no release of the old element.
//! - **Checked indexes** ([`BlockFacts::is_checked`]): after an access to `a[i]`, later accesses
//!   with the same index operand to the same array local need no bounds check.
//! - **Unique slots**: after `a[i] = x` (or `a.f = x`) with `x` unique, taking that slot again
//!   yields a unique value (unless the slot was read, which shares its value, in between), so
//!   a chain of nested updates (`ps[i].x = ...; ps[i].y = ...;`) checks each count once.
//!
//! What this module does not do: emit code (see `function` and `heap`); it only reads the IR.

use std::collections::{HashMap, HashSet};

use crate::ir::{Block, Inst, Local, Operand, RtFunc, StructId, Ty};

/// A slot of a container, as named by an instruction.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum SlotKey {
    /// `a[index]` with this index operand.
    Index(Operand),
    /// `a.field`.
    Field(u32),
}

/// A field read whose reference the container hands over when it is released (see the module
/// documentation).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) struct Move {
    /// The local the field was read into.
    pub(super) value: Local,
    /// The struct type whose layout the read used (the variant, for `VariantField`).
    pub(super) layout: StructId,
    pub(super) field: u32,
}

/// The instructions of one block whose reference counting is skipped.
#[derive(Default, Debug, PartialEq, Eq)]
pub(super) struct Borrows {
    /// Indexes of `ArrayGet`/`FieldGet`s whose result borrows instead of being retained (also
    /// the moved reads).
    pub(super) reads: HashSet<usize>,
    /// Indexes of the `Release`s that end those borrows (emitted as nothing).
    pub(super) releases: HashSet<usize>,
    /// For each `Release` of a container that moved reads take fields out of, the moves.
    pub(super) moves: HashMap<usize, Vec<Move>>,
    /// Each borrow: the index of its read, of its release, and its local.
    windows: Vec<(usize, usize, Local)>,
}

impl Borrows {
    /// Whether `local` borrows at instruction `index` (strictly between its read and its
    /// release): it owns nothing there, whatever the IR says.
    pub(super) fn borrowed_at(&self, local: Local, index: usize) -> bool {
        self.windows
            .iter()
            .any(|&(read, release, l)| l == local && read < index && index < release)
    }
}

/// How far after a read its release is looked for (releases follow the last use closely; the
/// bound keeps long blocks linear to compile).
const MAX_BORROW_WINDOW: usize = 256;

/// Finds the borrowed reads of `block`, whose locals have `types` (see the module
/// documentation).
pub(super) fn elided_borrows(types: &[Ty], block: &Block) -> Borrows {
    let mut borrows = Borrows::default();
    for (read, inst) in block.insts.iter().enumerate() {
        let (value, container) = match *inst {
            Inst::ArrayGet {
                dst,
                array: Operand::Local(array),
                ..
            } => (dst, array),
            Inst::FieldGet {
                dst,
                object: Operand::Local(object),
                ..
            }
            | Inst::VariantField {
                dst,
                object: Operand::Local(object),
                ..
            } => (dst, object),
            _ => continue,
        };
        if value == container || !types[value.0 as usize].is_heap() {
            continue;
        }
        let window = block.insts[read + 1..].iter().take(MAX_BORROW_WINDOW);
        for (offset, later) in window.enumerate() {
            if matches!(*later, Inst::Release { value: released } if released == value) {
                borrows.reads.insert(read);
                borrows.releases.insert(read + 1 + offset);
                borrows.windows.push((read, read + 1 + offset, value));
                break;
            }
            if !only_reads(later, &[value, container]) {
                break;
            }
        }
    }
    find_moves(types, block, &mut borrows);
    borrows
}

/// Adds the moved reads of `block` to `borrows` (see the module documentation).
fn find_moves(types: &[Ty], block: &Block, borrows: &mut Borrows) {
    for (read, inst) in block.insts.iter().enumerate() {
        let (value, container, layout, field) = match *inst {
            Inst::FieldGet {
                dst,
                object: Operand::Local(object),
                field,
            } => match types[object.0 as usize] {
                Ty::Struct(layout) => (dst, object, layout, field),
                _ => continue,
            },
            Inst::VariantField {
                dst,
                object: Operand::Local(object),
                variant,
                field,
            } => (dst, object, variant, field),
            _ => continue,
        };
        if value == container || !types[value.0 as usize].is_heap() || borrows.reads.contains(&read)
        {
            continue;
        }
        let window = block.insts[read + 1..].iter().take(MAX_BORROW_WINDOW);
        for (offset, later) in window.enumerate() {
            if matches!(*later, Inst::Release { value: released } if released == container) {
                let release = read + 1 + offset;
                // A container that itself borrows owns no reference to hand over.
                if borrows.releases.contains(&release) {
                    break;
                }
                let moves = borrows.moves.entry(release).or_default();
                if moves.iter().any(|m| m.field == field) {
                    break;
                }
                moves.push(Move {
                    value,
                    layout,
                    field,
                });
                borrows.reads.insert(read);
                borrows.windows.push((read, release, value));
                break;
            }
            if !only_reads(later, &[value, container]) {
                break;
            }
        }
    }
}

/// Whether `inst` at most reads the values of `locals`: it neither assigns them nor consumes,
/// retains, releases or updates them.
fn only_reads(inst: &Inst, locals: &[Local]) -> bool {
    let mentions = |operand: &Operand| matches!(operand, Operand::Local(l) if locals.contains(l));
    if inst.def().is_some_and(|def| locals.contains(&def))
        || inst
            .updated_in_place()
            .is_some_and(|container| locals.contains(&container))
    {
        return false;
    }
    match inst {
        Inst::ArrayGet { .. }
        | Inst::FieldGet { .. }
        | Inst::VariantField { .. }
        | Inst::ArrayLen { .. }
        | Inst::Print { .. }
        | Inst::Unary { .. }
        | Inst::Binary { .. } => true,
        Inst::CallRt { func, args, .. } => borrows_args(*func, args, &mentions),
        Inst::Retain { value } | Inst::Release { value } => !locals.contains(value),
        Inst::Copy { src, .. } => !mentions(src),
        Inst::Call { args, .. } | Inst::CallIndirect { args, .. } => !args.iter().any(mentions),
        Inst::NewArray { items, .. } => !items.iter().any(mentions),
        Inst::NewStruct { fields, .. } => !fields.iter().any(mentions),
        Inst::ArraySet { index, value, .. } => !mentions(index) && !mentions(value),
        Inst::ArrayTake { index, .. } => !mentions(index),
        Inst::FieldSet { value, .. } => !mentions(value),
        Inst::FieldTake { .. } | Inst::Line { .. } => true,
    }
}

/// Whether a runtime call only borrows the arguments `mentions` picks out.
fn borrows_args(func: RtFunc, args: &[Operand], mentions: &impl Fn(&Operand) -> bool) -> bool {
    let owned = func.sig().owned;
    args.iter()
        .enumerate()
        .all(|(index, arg)| !mentions(arg) || !owned.get(index).copied().unwrap_or(true))
}

/// What is known about containers at the current point of a block.
#[derive(Default, Debug)]
pub(super) struct BlockFacts {
    /// Locals whose container has count 1.
    unique: HashSet<Local>,
    /// The slot of each local's container that a take emptied.
    taken: HashMap<Local, SlotKey>,
    /// Array locals and index operands already checked in bounds (few: a linear set).
    checked: Vec<(Local, Operand)>,
    /// Slots that hold a value with count 1 (set from a unique local).
    unique_slots: Vec<(Local, SlotKey)>,
}

impl BlockFacts {
    /// Forgets everything (at the start of a block).
    pub(super) fn clear(&mut self) {
        self.unique.clear();
        self.taken.clear();
        self.checked.clear();
        self.unique_slots.clear();
    }

    /// Whether `local`'s container is known to have count 1.
    pub(super) fn is_unique(&self, local: Local) -> bool {
        self.unique.contains(&local)
    }

    /// Whether slot `key` of `local`'s container is known to hold null after a take.
    pub(super) fn is_taken(&self, local: Local, key: SlotKey) -> bool {
        self.taken.get(&local) == Some(&key)
    }

    /// Whether `index` is known to be in bounds of the array in `local`: an earlier access
    /// checked the same index operand on the same array (the length of an array does not
    /// change while a local holds it, and copy-on-write keeps it).
    pub(super) fn is_checked(&self, local: Local, index: Operand) -> bool {
        self.checked.contains(&(local, index))
    }

    /// Updates the facts for the effect of `inst`, which has just been lowered.
    pub(super) fn after(&mut self, inst: &Inst) {
        // The container an update made unique, and the slot it names.
        let (updated, slot) = match *inst {
            Inst::ArrayTake { array, index, .. } | Inst::ArraySet { array, index, .. } => {
                (Some(array), Some(SlotKey::Index(index)))
            }
            Inst::FieldTake { object, field, .. } | Inst::FieldSet { object, field, .. } => {
                (Some(object), Some(SlotKey::Field(field)))
            }
            _ => (None, None),
        };
        // Uniqueness flowing into or out of a slot, decided before anything is forgotten.
        let (stored_unique, taken_unique) = match (inst, updated, slot) {
            (
                Inst::ArraySet {
                    value: Operand::Local(value),
                    ..
                }
                | Inst::FieldSet {
                    value: Operand::Local(value),
                    ..
                },
                _,
                _,
            ) => (self.unique.contains(value), false),
            (Inst::ArrayTake { .. } | Inst::FieldTake { .. }, Some(container), Some(key)) => {
                (false, self.unique_slots.contains(&(container, key)))
            }
            _ => (false, false),
        };

        let mut forget = Vec::new();
        inst.for_each_use(|operand| {
            if let Operand::Local(local) = *operand {
                if Some(local) != updated && !is_plain_read(inst, local) {
                    forget.push(local);
                }
            }
        });
        forget.extend(inst.def());
        for local in forget {
            self.forget(local);
        }
        match *inst {
            // A read of a heap element shares it: no slot of that container is unique any more.
            Inst::ArrayGet {
                dst,
                array: Operand::Local(array),
                index,
                ..
            } => {
                self.unique_slots
                    .retain(|(container, _)| *container != array);
                // `i = a[i]` checked the old `i`, not the new one.
                if index != Operand::Local(dst) {
                    insert(&mut self.checked, (array, index));
                }
            }
            Inst::FieldGet {
                object: Operand::Local(object),
                ..
            } => self
                .unique_slots
                .retain(|(container, _)| *container != object),
            _ => {}
        }

        let (Some(container), Some(key)) = (updated, slot) else {
            return;
        };
        self.unique.insert(container);
        if let SlotKey::Index(index) = key {
            insert(&mut self.checked, (container, index));
        }
        match inst {
            Inst::ArrayTake { dst, .. } | Inst::FieldTake { dst, .. } => {
                self.taken.insert(container, key);
                self.unique_slots.retain(|slot| *slot != (container, key));
                if taken_unique {
                    self.unique.insert(*dst);
                }
            }
            _ => {
                self.taken.remove(&container);
                if let SlotKey::Index(_) = key {
                    // Another index operand may name the same slot at run time.
                    self.unique_slots.retain(|(other, other_key)| {
                        *other != container || !matches!(other_key, SlotKey::Index(_))
                    });
                }
                if stored_unique {
                    insert(&mut self.unique_slots, (container, key));
                } else {
                    self.unique_slots.retain(|slot| *slot != (container, key));
                }
            }
        }
    }

    /// Drops every fact about `local`, as a container or as an index.
    fn forget(&mut self, local: Local) {
        let index = SlotKey::Index(Operand::Local(local));
        self.unique.remove(&local);
        self.taken.remove(&local);
        self.taken.retain(|_, key| *key != index);
        self.checked
            .retain(|(array, i)| *array != local && *i != Operand::Local(local));
        self.unique_slots
            .retain(|(container, key)| *container != local && *key != index);
    }
}

/// How many checked indexes or unique slots are remembered: enough for the accesses of one
/// statement or loop body, and it keeps huge straight-line blocks linear to compile.
const MAX_REMEMBERED: usize = 32;

/// Adds `item` to a set kept as a short vector, forgetting the oldest item when it is full.
fn insert<T: PartialEq>(set: &mut Vec<T>, item: T) {
    if set.contains(&item) {
        return;
    }
    if set.len() == MAX_REMEMBERED {
        set.remove(0);
    }
    set.push(item);
}

/// Whether `inst` mentions `local` only as a container it reads or an index (which cannot share
/// or replace the container `local` holds).
fn is_plain_read(inst: &Inst, local: Local) -> bool {
    let is = |operand: &Operand| *operand == Operand::Local(local);
    match inst {
        Inst::ArrayGet { array, .. } | Inst::ArrayLen { array, .. } => is(array),
        Inst::FieldGet { object, .. } | Inst::VariantField { object, .. } => is(object),
        Inst::Print { .. } => true,
        Inst::ArraySet { index, value, .. } => is(index) && !is(value),
        Inst::ArrayTake { index, .. } => is(index),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{ArrayId, BlockId, SiteId, StructId, Term};

    const A: Local = Local(0);
    const T: Local = Local(1);
    const I: Local = Local(2);
    const F: Local = Local(3);

    /// The types of the locals: `[Point]` in `a` (%0), a `Point` temporary (%1), an int (%2), a
    /// float (%3), another `Point` (%4).
    fn types() -> Vec<Ty> {
        let point = Ty::Struct(StructId(0));
        vec![Ty::Array(ArrayId(0)), point, Ty::Int, Ty::Float, point]
    }

    fn block(insts: Vec<Inst>) -> Block {
        Block {
            insts,
            term: Term::Jump(BlockId(0)),
            handler: None,
        }
    }

    fn get(index: Operand) -> Inst {
        Inst::ArrayGet {
            dst: T,
            array: Operand::Local(A),
            index,
            site: SiteId(0),
        }
    }

    fn field_x() -> Inst {
        Inst::FieldGet {
            dst: F,
            object: Operand::Local(T),
            field: 0,
        }
    }

    #[test]
    fn a_read_then_release_borrows() {
        let types = types();
        let insts = vec![
            get(Operand::Local(I)),
            field_x(),
            Inst::ArrayLen {
                dst: I,
                array: Operand::Local(A),
            },
            Inst::Release { value: T },
        ];
        let borrows = elided_borrows(&types, &block(insts));
        assert_eq!(borrows.reads, HashSet::from([0]));
        assert_eq!(borrows.releases, HashSet::from([3]));
    }

    #[test]
    fn touching_the_container_or_consuming_the_value_keeps_the_counts() {
        let types = types();
        let release_a = vec![
            get(Operand::Int(0)),
            Inst::Release { value: A },
            Inst::Release { value: T },
        ];
        let set_a = vec![
            get(Operand::Int(0)),
            Inst::ArraySet {
                array: A,
                index: Operand::Int(1),
                value: Operand::Local(Local(4)),
                site: SiteId(0),
            },
            Inst::Release { value: T },
        ];
        let consume_t = vec![
            get(Operand::Int(0)),
            Inst::Copy {
                dst: Local(4),
                src: Operand::Local(T),
            },
            Inst::Release { value: T },
        ];
        for insts in [release_a, set_a, consume_t] {
            let borrows = elided_borrows(&types, &block(insts));
            assert_eq!(borrows, Borrows::default());
        }
    }

    #[test]
    fn scalar_reads_and_other_blocks_are_not_borrows() {
        let types = types();
        let scalar = vec![field_x(), Inst::Release { value: F }];
        assert_eq!(elided_borrows(&types, &block(scalar)), Borrows::default());
        let no_release = vec![get(Operand::Int(0))];
        assert_eq!(
            elided_borrows(&types, &block(no_release)),
            Borrows::default()
        );
    }

    /// `%5 = %1.field` (a string: the types of [`types`] and two string locals, %5 and %6).
    fn string_field(dst: u32, field: u32) -> Inst {
        Inst::FieldGet {
            dst: Local(dst),
            object: Operand::Local(T),
            field,
        }
    }

    #[test]
    fn fields_read_before_their_container_dies_move() {
        let mut types = types();
        types.extend([Ty::Str, Ty::Str]);
        let insts = vec![
            string_field(5, 1),
            string_field(6, 1),
            Inst::Print {
                value: Operand::Local(Local(5)),
                ty: Ty::Str,
                newline: false,
                stream: crate::ir::Stream::Stdout,
            },
            Inst::Release { value: T },
            Inst::Release { value: Local(6) },
        ];
        let borrows = elided_borrows(&types, &block(insts));
        // Only the first read of field 1 moves; the second keeps its retain (and is no borrow:
        // `T` is released before it).
        assert_eq!(borrows.reads, HashSet::from([0]));
        assert!(borrows.releases.is_empty());
        let moved = Move {
            value: Local(5),
            layout: StructId(0),
            field: 1,
        };
        assert_eq!(borrows.moves, HashMap::from([(3, vec![moved])]));
        assert!(borrows.borrowed_at(Local(5), 2));
        assert!(!borrows.borrowed_at(Local(5), 4));

        // Consuming the value or sharing the container before the release moves nothing.
        let consumed = vec![
            string_field(5, 1),
            Inst::Call {
                dst: None,
                func: crate::ir::FuncId(0),
                args: vec![Operand::Local(Local(5))],
                site: SiteId(0),
            },
            Inst::Release { value: T },
        ];
        let shared = vec![
            string_field(5, 1),
            Inst::Copy {
                dst: Local(4),
                src: Operand::Local(T),
            },
            Inst::Release { value: T },
        ];
        for insts in [consumed, shared] {
            assert_eq!(elided_borrows(&types, &block(insts)), Borrows::default());
        }
    }

    #[test]
    fn updates_make_unique_until_shared() {
        let mut facts = BlockFacts::default();
        let take = Inst::ArrayTake {
            dst: T,
            array: A,
            index: Operand::Local(I),
            site: SiteId(0),
        };
        facts.after(&take);
        assert!(facts.is_unique(A));
        assert!(facts.is_taken(A, SlotKey::Index(Operand::Local(I))));
        assert!(!facts.is_taken(A, SlotKey::Index(Operand::Int(0))));
        facts.after(&Inst::FieldSet {
            object: T,
            field: 0,
            value: Operand::Float(0),
        });
        assert!(facts.is_unique(T));
        facts.after(&Inst::ArraySet {
            array: A,
            index: Operand::Local(I),
            value: Operand::Local(T),
            site: SiteId(0),
        });
        assert!(facts.is_unique(A));
        assert!(!facts.is_unique(T), "consumed");
        assert!(!facts.is_taken(A, SlotKey::Index(Operand::Local(I))));
        facts.after(&Inst::Retain { value: A });
        assert!(!facts.is_unique(A));
    }

    fn take(index: Operand) -> Inst {
        Inst::ArrayTake {
            dst: T,
            array: A,
            index,
            site: SiteId(0),
        }
    }

    fn set(index: Operand, value: Local) -> Inst {
        Inst::ArraySet {
            array: A,
            index,
            value: Operand::Local(value),
            site: SiteId(0),
        }
    }

    fn set_x(object: Local) -> Inst {
        Inst::FieldSet {
            object,
            field: 0,
            value: Operand::Float(0),
        }
    }

    #[test]
    fn indexes_stay_checked_until_the_array_or_index_changes() {
        let i = Operand::Local(I);
        let mut facts = BlockFacts::default();
        facts.after(&get(i));
        assert!(facts.is_checked(A, i));
        assert!(!facts.is_checked(A, Operand::Int(0)));
        facts.after(&take(Operand::Int(0)));
        assert!(facts.is_checked(A, i), "copy-on-write keeps the length");
        assert!(facts.is_checked(A, Operand::Int(0)));
        facts.after(&Inst::Copy {
            dst: I,
            src: Operand::Int(5),
        });
        assert!(!facts.is_checked(A, i));
        assert!(facts.is_checked(A, Operand::Int(0)));
        facts.after(&Inst::Call {
            dst: None,
            func: crate::ir::FuncId(0),
            args: vec![Operand::Local(A)],
            site: SiteId(0),
        });
        assert!(!facts.is_checked(A, Operand::Int(0)));
    }

    #[test]
    fn an_index_overwritten_by_its_own_read_is_not_checked() {
        let mut facts = BlockFacts::default();
        facts.after(&Inst::ArrayGet {
            dst: I,
            array: Operand::Local(A),
            index: Operand::Local(I),
            site: SiteId(0),
        });
        assert!(!facts.is_checked(A, Operand::Local(I)));
    }

    #[test]
    fn a_slot_set_from_a_unique_value_gives_it_back_unique() {
        let i = Operand::Local(I);
        let mut facts = BlockFacts::default();
        facts.after(&take(i));
        assert!(!facts.is_unique(T), "the element may be shared");
        facts.after(&set_x(T));
        facts.after(&set(i, T));
        facts.after(&take(i));
        assert!(
            facts.is_unique(T),
            "the slot holds the value made unique above"
        );
        facts.after(&set(i, T));
        facts.after(&get(Operand::Int(3)));
        facts.after(&Inst::Release { value: T });
        facts.after(&take(i));
        assert!(
            !facts.is_unique(T),
            "a read of the array may have shared the element"
        );
    }

    #[test]
    fn setting_another_index_forgets_unique_slots() {
        let i = Operand::Local(I);
        let mut facts = BlockFacts::default();
        facts.after(&take(i));
        facts.after(&set_x(T));
        facts.after(&set(i, T));
        // `a[0] = shared`: index 0 may be `i`.
        facts.after(&set(Operand::Int(0), Local(4)));
        facts.after(&take(i));
        assert!(!facts.is_unique(T));
    }

    #[test]
    fn a_new_index_value_names_another_slot() {
        let mut facts = BlockFacts::default();
        facts.after(&Inst::ArrayTake {
            dst: T,
            array: A,
            index: Operand::Local(I),
            site: SiteId(0),
        });
        facts.after(&Inst::Binary {
            dst: I,
            op: crate::ir::BinaryOp::AddInt,
            lhs: Operand::Local(I),
            rhs: Operand::Int(1),
            site: SiteId(0),
        });
        assert!(!facts.is_taken(A, SlotKey::Index(Operand::Local(I))));
        assert!(facts.is_unique(A));
        facts.clear();
        assert!(!facts.is_unique(A));
    }
}
