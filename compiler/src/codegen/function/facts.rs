//! What codegen may assume about heap values within one IR block, to skip redundant work.
//!
//! Three facts, each local to one IR block (nothing is assumed at a block's start):
//! - **Borrowed reads** ([`elided_borrows`]): `t = a[i]` or `t = a.f` followed in the same block
//!   by `release t`, where in between `t` and `a` are only read (never consumed, updated,
//!   retained, released or reassigned). The element stays referenced by its container for the
//!   whole window, so `t` may borrow it: the retain at the read and the release are both
//!   skipped. Reference counts are not observable, so the program cannot tell.
//! - **Unique containers** ([`BlockFacts::is_unique`]): after an in-place update made a local's
//!   container unique (count 1), it stays unique until the local is mentioned in a way that could
//!   share or replace it: no other reference to a count-1 object exists, so nothing else can
//!   share it. Later updates of the same local skip the count check.
//! - **Taken slots** ([`BlockFacts::is_taken`]): after `x = take a[i]` (or `a.f`), the slot holds
//!   null, so the `a[i] = x` that puts the value back needs neither a bounds check (the take
//!   checked the same index of the same, unchanged array) nor a release of the old element.
//!
//! What this module does not do: emit code (see `function` and `heap`); it only reads the IR.

use std::collections::{HashMap, HashSet};

use crate::ir::{Block, Inst, Local, Operand, Program, RtFunc, Ty};

/// A slot of a container, as named by an instruction.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum SlotKey {
    /// `a[index]` with this index operand.
    Index(Operand),
    /// `a.field`.
    Field(u32),
}

/// The instructions of one block whose reference counting is skipped.
#[derive(Default, Debug, PartialEq, Eq)]
pub(super) struct Borrows {
    /// Indexes of `ArrayGet`/`FieldGet`s whose result borrows instead of being retained.
    pub(super) reads: HashSet<usize>,
    /// Indexes of the `Release`s that end those borrows (emitted as nothing).
    pub(super) releases: HashSet<usize>,
}

/// Finds the borrowed reads of `block` (see the module documentation).
pub(super) fn elided_borrows(program: &Program, types: &[Ty], block: &Block) -> Borrows {
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
            } => (dst, object),
            _ => continue,
        };
        if value == container || !types[value.0 as usize].is_heap() {
            continue;
        }
        for (offset, later) in block.insts[read + 1..].iter().enumerate() {
            if matches!(*later, Inst::Release { value: released } if released == value) {
                borrows.reads.insert(read);
                borrows.releases.insert(read + 1 + offset);
                break;
            }
            if !only_reads(program, later, &[value, container]) {
                break;
            }
        }
    }
    borrows
}

/// Whether `inst` at most reads the values of `locals`: it neither assigns them nor consumes,
/// retains, releases or updates them.
fn only_reads(program: &Program, inst: &Inst, locals: &[Local]) -> bool {
    let _ = program;
    let mentions = |operand: &Operand| matches!(operand, Operand::Local(l) if locals.contains(l));
    if inst.def().is_some_and(|def| locals.contains(&def))
        || inst
            .updated_in_place()
            .is_some_and(|container| locals.contains(&container))
    {
        return false;
    }
    match inst {
        Inst::ArrayGet { index, .. } => !mentions(index),
        Inst::FieldGet { .. } | Inst::ArrayLen { .. } | Inst::Print { .. } => true,
        Inst::Unary { src, .. } => !mentions(src),
        Inst::Binary { .. } => true,
        Inst::CallRt { func, args, .. } => borrows_args(*func, args, &mentions),
        Inst::Retain { value } | Inst::Release { value } => !locals.contains(value),
        Inst::Copy { src, .. } => !mentions(src),
        Inst::Call { args, .. } => !args.iter().any(mentions),
        Inst::NewArray { items, .. } => !items.iter().any(mentions),
        Inst::NewStruct { fields, .. } => !fields.iter().any(mentions),
        Inst::ArraySet { index, value, .. } => !mentions(index) && !mentions(value),
        Inst::ArrayTake { index, .. } => !mentions(index),
        Inst::FieldSet { value, .. } => !mentions(value),
        Inst::FieldTake { .. } => true,
    }
}

/// Whether a runtime call only borrows the arguments `mentions` picks out.
fn borrows_args(func: RtFunc, args: &[Operand], mentions: &impl Fn(&Operand) -> bool) -> bool {
    let owned = func.sig().owned;
    args.iter()
        .enumerate()
        .all(|(index, arg)| !mentions(arg) || !owned.get(index).copied().unwrap_or(true))
}

/// The unique containers and taken slots known at the current point of a block.
#[derive(Default, Debug)]
pub(super) struct BlockFacts {
    unique: HashSet<Local>,
    taken: HashMap<Local, SlotKey>,
}

impl BlockFacts {
    /// Forgets everything (at the start of a block).
    pub(super) fn clear(&mut self) {
        self.unique.clear();
        self.taken.clear();
    }

    /// Whether `local`'s container is known to have count 1.
    pub(super) fn is_unique(&self, local: Local) -> bool {
        self.unique.contains(&local)
    }

    /// Whether slot `key` of `local`'s container is known to hold null after a take.
    pub(super) fn is_taken(&self, local: Local, key: SlotKey) -> bool {
        self.taken.get(&local) == Some(&key)
    }

    /// Updates the facts for the effect of `inst`, which has just been lowered.
    pub(super) fn after(&mut self, inst: &Inst) {
        // The container an update made unique, and the slot a take emptied.
        let (updated, taken) = match *inst {
            Inst::ArrayTake { array, index, .. } => (Some(array), Some(SlotKey::Index(index))),
            Inst::FieldTake { object, field, .. } => (Some(object), Some(SlotKey::Field(field))),
            Inst::ArraySet { array, .. } => (Some(array), None),
            Inst::FieldSet { object, .. } => (Some(object), None),
            _ => (None, None),
        };
        let mut forget = Vec::new();
        inst.for_each_use(|operand| {
            if let Operand::Local(local) = *operand {
                if Some(local) != updated && !is_plain_read(inst, local) {
                    forget.push(local);
                }
            }
        });
        if let Some(def) = inst.def() {
            forget.push(def);
            // A take's slot is named by its index: a new index value names another slot.
            self.taken
                .retain(|_, key| *key != SlotKey::Index(Operand::Local(def)));
        }
        for local in forget {
            self.unique.remove(&local);
            self.taken.remove(&local);
        }
        if let Some(container) = updated {
            self.unique.insert(container);
            match taken {
                Some(key) => {
                    self.taken.insert(container, key);
                }
                None => {
                    self.taken.remove(&container);
                }
            }
        }
    }
}

/// Whether `inst` mentions `local` only as a container it reads or an index (which cannot share
/// or replace the container `local` holds).
fn is_plain_read(inst: &Inst, local: Local) -> bool {
    let is = |operand: &Operand| *operand == Operand::Local(local);
    match inst {
        Inst::ArrayGet { array, .. } | Inst::ArrayLen { array, .. } => is(array),
        Inst::FieldGet { object, .. } => is(object),
        Inst::Print { .. } => true,
        Inst::ArraySet { index, value, .. } => is(index) && !is(value),
        Inst::ArrayTake { index, .. } => is(index),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{ArrayId, BlockId, FieldDef, SiteId, StructDef, StructId, Term};

    const A: Local = Local(0);
    const T: Local = Local(1);
    const I: Local = Local(2);
    const F: Local = Local(3);

    /// `[Point]` in `a` (%0), a `Point` temporary (%1), an int (%2), a float (%3).
    fn program() -> (Program, Vec<Ty>) {
        let point = Ty::Struct(StructId(0));
        let program = Program {
            functions: vec![],
            entry: crate::ir::FuncId(0),
            strings: vec![],
            sites: vec![],
            arrays: vec![point],
            structs: vec![StructDef {
                name: "Point".into(),
                fields: vec![FieldDef {
                    name: "x".into(),
                    ty: Ty::Float,
                }],
            }],
        };
        (program, vec![Ty::Array(ArrayId(0)), point, Ty::Int, Ty::Float])
    }

    fn block(insts: Vec<Inst>) -> Block {
        Block {
            insts,
            term: Term::Jump(BlockId(0)),
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
        let (program, types) = program();
        let insts = vec![
            get(Operand::Local(I)),
            field_x(),
            Inst::ArrayLen {
                dst: I,
                array: Operand::Local(A),
            },
            Inst::Release { value: T },
        ];
        let borrows = elided_borrows(&program, &types, &block(insts));
        assert_eq!(borrows.reads, HashSet::from([0]));
        assert_eq!(borrows.releases, HashSet::from([3]));
    }

    #[test]
    fn touching_the_container_or_consuming_the_value_keeps_the_counts() {
        let (program, types) = program();
        let release_a = vec![get(Operand::Int(0)), Inst::Release { value: A }, Inst::Release { value: T }];
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
            let borrows = elided_borrows(&program, &types, &block(insts));
            assert_eq!(borrows, Borrows::default());
        }
    }

    #[test]
    fn scalar_reads_and_other_blocks_are_not_borrows() {
        let (program, types) = program();
        let scalar = vec![field_x(), Inst::Release { value: F }];
        assert_eq!(
            elided_borrows(&program, &types, &block(scalar)),
            Borrows::default()
        );
        let no_release = vec![get(Operand::Int(0))];
        assert_eq!(
            elided_borrows(&program, &types, &block(no_release)),
            Borrows::default()
        );
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
