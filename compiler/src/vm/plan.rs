//! Per-function decisions the bytecode compiler makes before emitting anything.
//!
//! - **Fused branches.** A block ending in `branch %t` where `%t` is computed by the block's last
//!   instruction, a comparison used nowhere else, becomes one compare-and-jump; a `not` in
//!   between is folded by swapping the targets.
//! - **Copy forwarding.** `%t = <op>; %x = %t` with `%t` used only by that copy writes `%x`
//!   directly and drops the copy.
//! - **Arguments in place.** An argument temporary used only by a call and computed in the same
//!   block after the previous call is written straight into the callee's window.
//! - **Element fields.** `%t = a[i]; %x = %t.f; release %t` (reading one field of an array
//!   element, `ps[i].x`) is one instruction that neither retains nor releases the element.
//! - **Updates in place.** A nested update `take %t = a[i]; ...; a[i] = %t`, where the
//!   instructions between only read or update `%t` as a container and never touch `a`, makes
//!   `a` and its element unique and works on the element where it is, without moving it out
//!   and back (the same for `take %t = o.f; ...; o.f = %t`).
//! - **Jump threading and layout.** Jumps through empty blocks go to their final target;
//!   unreachable blocks are dropped (a block's fault handler counts as reachable from it);
//!   blocks are ordered in chains so that most jumps become fallthroughs.
//! - **Unwinding.** `unwind` in a block with a fault handler is a jump to the handler; without
//!   one it leaves the function ([`Ending::Unwind`]).
//!
//! Everything here is a plan over IR indices; `compile` turns it into instructions. Nothing here
//! changes what a program does.

mod jumps;

use crate::ir::{BinaryOp, Block, BlockId, Function, Inst, Local, Operand, Term, UnaryOp};
use jumps::thread_jumps;

/// An integer (or bool) comparison relation.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Rel {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Rel {
    /// The relation an IR comparison tests, or `None` for other ops.
    pub fn of(op: BinaryOp) -> Option<Rel> {
        Some(match op {
            BinaryOp::EqInt | BinaryOp::EqBool => Rel::Eq,
            BinaryOp::NeInt | BinaryOp::NeBool => Rel::Ne,
            BinaryOp::LtInt => Rel::Lt,
            BinaryOp::LeInt => Rel::Le,
            BinaryOp::GtInt => Rel::Gt,
            BinaryOp::GeInt => Rel::Ge,
            _ => return None,
        })
    }

    /// The relation an IR float comparison tests, or `None` for other ops.
    pub fn of_float(op: BinaryOp) -> Option<Rel> {
        Some(match op {
            BinaryOp::EqFloat => Rel::Eq,
            BinaryOp::NeFloat => Rel::Ne,
            BinaryOp::LtFloat => Rel::Lt,
            BinaryOp::LeFloat => Rel::Le,
            BinaryOp::GtFloat => Rel::Gt,
            BinaryOp::GeFloat => Rel::Ge,
            _ => return None,
        })
    }

    /// `!(a rel b)` is `a rel.negate() b` (on ints and bools; not on floats, because of NaN).
    pub fn negate(self) -> Rel {
        match self {
            Rel::Eq => Rel::Ne,
            Rel::Ne => Rel::Eq,
            Rel::Lt => Rel::Ge,
            Rel::Le => Rel::Gt,
            Rel::Gt => Rel::Le,
            Rel::Ge => Rel::Lt,
        }
    }

    /// `a rel b` is `b rel.swap() a`.
    pub fn swap(self) -> Rel {
        match self {
            Rel::Eq => Rel::Eq,
            Rel::Ne => Rel::Ne,
            Rel::Lt => Rel::Gt,
            Rel::Le => Rel::Ge,
            Rel::Gt => Rel::Lt,
            Rel::Ge => Rel::Le,
        }
    }

    pub fn holds(self, a: i64, b: i64) -> bool {
        match self {
            Rel::Eq => a == b,
            Rel::Ne => a != b,
            Rel::Lt => a < b,
            Rel::Le => a <= b,
            Rel::Gt => a > b,
            Rel::Ge => a >= b,
        }
    }
}

/// The condition of a planned branch.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Cond {
    /// A bool operand.
    Value(Operand),
    /// `lhs rel rhs` on ints or bools, computed by the jump itself.
    Compare {
        rel: Rel,
        lhs: Operand,
        rhs: Operand,
    },
    /// `lhs rel rhs` on floats (IEEE: false when either is NaN, except `Ne`).
    CompareFloat {
        rel: Rel,
        lhs: Operand,
        rhs: Operand,
    },
}

/// How a planned block ends (its IR terminator, with targets threaded and fusion applied).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    Jump(BlockId),
    Branch {
        cond: Cond,
        then_to: BlockId,
        else_to: BlockId,
    },
    Return(Option<Operand>),
    Exit(Operand),
    /// `unwind` in a block without a fault handler: leave the function with the fault pending.
    Unwind,
}

/// Where an instruction's result goes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Dest {
    /// A local's register (the instruction's own destination, or a copy's that was forwarded).
    Local(Local),
    /// Argument slot `k` of the next call's window.
    Argument(usize),
}

/// What to do with one IR instruction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InstPlan {
    /// Its result's destination (`None`: it has no result).
    pub dest: Option<Dest>,
    /// A copy folded into the previous instruction: emit nothing.
    pub skip: bool,
    /// For calls: which arguments an earlier instruction already wrote into place.
    pub args_in_place: Vec<bool>,
    /// For an `ArrayGet` of a struct element: the field read from it (the `FieldGet` and the
    /// `Release` that follow are skipped; `dest` is the field's destination).
    pub element_field: Option<u32>,
    /// For an `ArrayTake` or `FieldTake`: borrow the element in place instead of moving it out
    /// (its `ArraySet`/`FieldSet` back is skipped).
    pub take_in_place: bool,
}

/// What to emit for one block.
#[derive(Clone, Debug)]
pub struct BlockPlan {
    /// Emit `insts[..kept]`; the ones after were folded into the ending.
    pub kept: usize,
    pub insts: Vec<InstPlan>,
    pub ending: Ending,
    /// Where a recovered fault of one of the block's instructions continues (the IR block's
    /// handler, threaded like a jump target), or `None` to leave the function.
    pub handler: Option<BlockId>,
}

/// The whole plan of a function.
pub struct FunctionPlan {
    /// Indexed by IR block id (plans of unreachable blocks are present but never emitted).
    pub blocks: Vec<BlockPlan>,
    /// Reachable blocks in emission order; the entry block first.
    pub order: Vec<BlockId>,
}

impl FunctionPlan {
    pub fn block(&self, id: BlockId) -> &BlockPlan {
        &self.blocks[id.0 as usize]
    }

    /// Whether a jump to `id` may be replaced by a copy of its ending (it has no instructions
    /// and ends in a branch, a return, an exit or an unwind, each one or two instructions long).
    pub fn is_inlinable(&self, id: BlockId) -> bool {
        let plan = self.block(id);
        plan.kept == 0 && !matches!(plan.ending, Ending::Jump(_))
    }
}

/// Plans `func` (which must verify).
pub fn plan_function(func: &Function) -> FunctionPlan {
    let uses = count_uses(func);
    let mut blocks: Vec<BlockPlan> = func.blocks.iter().map(|b| plan_block(b, &uses)).collect();
    thread_jumps(&mut blocks);
    let order = layout(&blocks);
    FunctionPlan { blocks, order }
}

/// How many times each local is read (as an operand anywhere in the function).
fn count_uses(func: &Function) -> Vec<u32> {
    let mut uses = vec![0u32; func.locals.len()];
    let mut read = |op: &Operand| {
        if let Operand::Local(l) = op {
            uses[l.0 as usize] += 1;
        }
    };
    for block in &func.blocks {
        for inst in &block.insts {
            inst.for_each_use(&mut read);
        }
        block.term.operand().into_iter().for_each(&mut read);
    }
    uses
}

/// The local an instruction assigns, if any.
pub fn defined(inst: &Inst) -> Option<Local> {
    inst.def()
}

fn used_once(uses: &[u32], local: Local) -> bool {
    uses[local.0 as usize] == 1
}

fn plan_block(block: &Block, uses: &[u32]) -> BlockPlan {
    let mut kept = block.insts.len();
    let ending = match block.term {
        Term::Jump(to) => Ending::Jump(to),
        Term::Return(value) => Ending::Return(value),
        Term::Exit(code) => Ending::Exit(code),
        Term::Unwind => match block.handler {
            Some(handler) => Ending::Jump(handler),
            None => Ending::Unwind,
        },
        Term::Branch {
            cond,
            mut then_to,
            mut else_to,
        } => {
            let mut cond = Cond::Value(cond);
            // Peel the instructions that only compute the condition off the block's end.
            while let Cond::Value(Operand::Local(t)) = cond {
                if kept == 0 || !used_once(uses, t) {
                    break;
                }
                match block.insts[kept - 1] {
                    Inst::Binary {
                        dst, op, lhs, rhs, ..
                    } if dst == t => {
                        cond = if let Some(rel) = Rel::of(op) {
                            Cond::Compare { rel, lhs, rhs }
                        } else if let Some(rel) = Rel::of_float(op) {
                            Cond::CompareFloat { rel, lhs, rhs }
                        } else {
                            break;
                        };
                        kept -= 1;
                    }
                    Inst::Unary {
                        dst,
                        op: UnaryOp::Not,
                        src,
                        ..
                    } if dst == t => {
                        cond = Cond::Value(src);
                        std::mem::swap(&mut then_to, &mut else_to);
                        kept -= 1;
                    }
                    _ => break,
                }
            }
            Ending::Branch {
                cond,
                then_to,
                else_to,
            }
        }
    };
    let insts = plan_insts(&block.insts[..kept], uses);
    BlockPlan {
        kept,
        insts,
        ending,
        handler: block.handler,
    }
}

fn plan_insts(insts: &[Inst], uses: &[u32]) -> Vec<InstPlan> {
    let mut plans: Vec<InstPlan> = insts
        .iter()
        .map(|inst| InstPlan {
            dest: defined(inst).map(Dest::Local),
            ..InstPlan::default()
        })
        .collect();

    // Copy forwarding: `%t = op; %x = %t` → `%x = op`.
    for i in 1..insts.len() {
        if plans[i - 1].skip {
            continue;
        }
        let Inst::Copy {
            dst: x,
            src: Operand::Local(t),
        } = insts[i]
        else {
            continue;
        };
        if plans[i - 1].dest == Some(Dest::Local(t)) && used_once(uses, t) {
            plans[i - 1].dest = Some(Dest::Local(x));
            plans[i].skip = true;
        }
    }

    // Arguments in place: the last write of a single-use argument temporary since the previous
    // call (direct or through a value) goes straight into the argument slot. Slots are written only by these instructions and
    // by the call's own argument moves, and nothing between the write and the call reads them.
    for c in 0..insts.len() {
        let Inst::Call { args, .. } = &insts[c] else {
            continue;
        };
        let mut in_place = vec![false; args.len()];
        for (k, arg) in args.iter().enumerate() {
            let Operand::Local(t) = *arg else { continue };
            if !used_once(uses, t) {
                continue;
            }
            for j in (0..c).rev() {
                if plans[j].skip {
                    continue;
                }
                if plans[j].dest == Some(Dest::Local(t)) {
                    plans[j].dest = Some(Dest::Argument(k));
                    in_place[k] = true;
                    break;
                }
                // A call before this one (of a function or of a function value) fills the
                // same argument slots.
                if matches!(insts[j], Inst::Call { .. } | Inst::CallIndirect { .. }) {
                    break;
                }
            }
        }
        plans[c].args_in_place = in_place;
    }

    fuse_element_fields(insts, uses, &mut plans);
    borrow_updates_in_place(insts, uses, &mut plans);
    plans
}

/// `%t = a[i]; %x = %t.f; release %t` with `%t` used nowhere else → one element-field read.
/// Releases of other locals may come between (the RC pass often drops `a` right after its last
/// use); they stay where they are, after the fused read.
fn fuse_element_fields(insts: &[Inst], uses: &[u32], plans: &mut [InstPlan]) {
    for i in 0..insts.len() {
        let Inst::ArrayGet { dst: t, .. } = insts[i] else {
            continue;
        };
        if plans[i].skip || plans[i].dest != Some(Dest::Local(t)) || uses[t.0 as usize] != 2 {
            continue;
        }
        // The next instruction after `from` that is not a release of a local other than `t`
        // and those in `written`.
        let next = |from: usize, written: &[Local]| {
            (from + 1..insts.len()).find(|&k| match insts[k] {
                Inst::Release { value } => value == t || written.contains(&value) || plans[k].skip,
                _ => true,
            })
        };
        let Some(j) = next(i, &[]) else { continue };
        let Inst::FieldGet {
            dst: x,
            object: Operand::Local(object),
            field,
        } = insts[j]
        else {
            continue;
        };
        // The field is written early, at `i`: the releases it moves before must not touch its
        // local (nor the local a forwarded copy writes instead).
        let mut written = vec![x];
        if let Some(Dest::Local(d)) = plans[j].dest {
            written.push(d);
        }
        if next(i, &written) != Some(j) {
            continue;
        }
        let Some(k) = next(j, &written) else { continue };
        let released = matches!(insts[k], Inst::Release { value } if value == t);
        if object == t
            && field <= u32::from(u16::MAX)
            && released
            && !plans[j].skip
            && !plans[k].skip
        {
            plans[i].dest = plans[j].dest;
            plans[i].element_field = Some(field);
            plans[j].skip = true;
            plans[k].skip = true;
        }
    }
}

/// How `inst` uses `t`: `Some(true)` only as the container or object it reads or updates,
/// `Some(false)` not at all, `None` some other way (as a value, consumed or released).
fn uses_only_as_container(inst: &Inst, t: Local) -> Option<bool> {
    let mut total = 0;
    inst.for_each_use(|op| total += u32::from(*op == Operand::Local(t)));
    if inst.def() == Some(t) {
        return None;
    }
    let container = match *inst {
        Inst::ArrayLen {
            array: Operand::Local(a),
            ..
        }
        | Inst::ArrayGet {
            array: Operand::Local(a),
            ..
        }
        | Inst::FieldGet {
            object: Operand::Local(a),
            ..
        } => Some(a),
        Inst::ArraySet { array: a, .. }
        | Inst::ArrayTake { array: a, .. }
        | Inst::FieldSet { object: a, .. }
        | Inst::FieldTake { object: a, .. } => Some(a),
        _ => None,
    };
    match (total, container == Some(t)) {
        (0, _) => Some(false),
        (1, true) => Some(true),
        _ => None,
    }
}

/// Finds `take %t = c[k]; ...; c[k] = %t` (or the field form) that can work in place: between
/// the two, `c` is not mentioned and the index local (if any) not reassigned, and `%t` is used
/// only as a container; `%t` is used nowhere else in the function.
fn borrow_updates_in_place(insts: &[Inst], uses: &[u32], plans: &mut [InstPlan]) {
    for i in 0..insts.len() {
        if plans[i].skip || plans[i].dest != defined(&insts[i]).map(Dest::Local) {
            continue;
        }
        let (t, container, index_local) = match insts[i] {
            Inst::ArrayTake {
                dst, array, index, ..
            } => (
                dst,
                array,
                match index {
                    Operand::Local(l) => Some(l),
                    _ => None,
                },
            ),
            Inst::FieldTake { dst, object, .. } => (dst, object, None),
            _ => continue,
        };
        let mut container_uses = 0;
        for j in i + 1..insts.len() {
            let set_back = match (&insts[i], &insts[j]) {
                (
                    Inst::ArrayTake { index, .. },
                    Inst::ArraySet {
                        array,
                        index: set_index,
                        value,
                        ..
                    },
                ) => *array == container && set_index == index && *value == Operand::Local(t),
                (
                    Inst::FieldTake { field, .. },
                    Inst::FieldSet {
                        object,
                        field: set_field,
                        value,
                    },
                ) => *object == container && set_field == field && *value == Operand::Local(t),
                _ => false,
            };
            if set_back {
                if uses[t.0 as usize] == container_uses + 1 && !plans[j].skip {
                    plans[i].take_in_place = true;
                    plans[j].skip = true;
                }
                break;
            }
            let inst = &insts[j];
            let mut mentions_container = false;
            inst.for_each_use(|op| mentions_container |= *op == Operand::Local(container));
            let redefines =
                |l: Option<Local>| l.is_some() && (inst.def() == l || inst.updated_in_place() == l);
            if mentions_container || redefines(Some(container)) || redefines(index_local) {
                break;
            }
            match uses_only_as_container(inst, t) {
                Some(true) => container_uses += 1,
                Some(false) => {}
                None => break,
            }
        }
    }
}

fn successors(ending: &Ending) -> Vec<BlockId> {
    match *ending {
        Ending::Jump(to) => vec![to],
        Ending::Branch {
            then_to, else_to, ..
        } => vec![then_to, else_to],
        Ending::Return(_) | Ending::Exit(_) | Ending::Unwind => vec![],
    }
}

/// Orders the reachable blocks in chains: after each block comes its preferred unplaced
/// successor (a jump's target; a branch's `then` side, else its `else` side), so that edge
/// needs no jump. A jump to an already placed inlinable block prefers that block's successors,
/// because the jump will be replaced by a copy of its branch. Fault handlers are reachable but
/// never preferred, so recovery code starts chains of its own, off the normal path.
fn layout(blocks: &[BlockPlan]) -> Vec<BlockId> {
    let count = blocks.len();
    let mut reachable = vec![false; count];
    let mut stack = vec![BlockId(0)];
    while let Some(b) = stack.pop() {
        if !std::mem::replace(&mut reachable[b.0 as usize], true) {
            let block = &blocks[b.0 as usize];
            stack.extend(successors(&block.ending));
            stack.extend(block.handler);
        }
    }
    let mut placed = vec![false; count];
    let mut order = Vec::new();
    for start in 0..count {
        if !reachable[start] || placed[start] {
            continue;
        }
        let mut current = Some(BlockId(start as u32));
        while let Some(b) = current {
            placed[b.0 as usize] = true;
            order.push(b);
            let mut preferred = successors(&blocks[b.0 as usize].ending);
            if let Ending::Jump(to) = blocks[b.0 as usize].ending {
                let target = &blocks[to.0 as usize];
                if placed[to.0 as usize] && target.kept == 0 {
                    preferred = successors(&target.ending);
                }
            }
            current = preferred.into_iter().find(|s| !placed[s.0 as usize]);
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{LocalInfo, SiteId, Ty};

    fn func(locals: &[Ty], blocks: Vec<Block>) -> Function {
        Function {
            name: "f".into(),
            env: false,
            param_count: 0,
            ret: Ty::Void,
            locals: locals
                .iter()
                .map(|&ty| LocalInfo { ty, name: None })
                .collect(),
            blocks,
        }
    }

    fn local(n: u32) -> Operand {
        Operand::Local(Local(n))
    }

    #[test]
    fn comparison_and_not_fuse_into_the_branch() {
        // b0: %1 = lt %0, 10; %2 = not %1; branch %2, b1, b2
        let f = func(
            &[Ty::Int, Ty::Bool, Ty::Bool],
            vec![
                Block {
                    insts: vec![
                        Inst::Copy {
                            dst: Local(0),
                            src: Operand::Int(3),
                        },
                        Inst::Binary {
                            dst: Local(1),
                            op: BinaryOp::LtInt,
                            lhs: local(0),
                            rhs: Operand::Int(10),
                            site: SiteId(0),
                        },
                        Inst::Unary {
                            dst: Local(2),
                            op: UnaryOp::Not,
                            src: local(1),
                            site: SiteId(0),
                        },
                    ],
                    term: Term::Branch {
                        cond: local(2),
                        then_to: BlockId(1),
                        else_to: BlockId(2),
                    },
                    handler: None,
                },
                Block {
                    insts: vec![],
                    term: Term::Return(None),
                    handler: None,
                },
                Block {
                    insts: vec![],
                    term: Term::Return(None),
                    handler: None,
                },
            ],
        );
        let plan = plan_function(&f);
        assert_eq!(plan.blocks[0].kept, 1);
        assert_eq!(
            plan.blocks[0].ending,
            Ending::Branch {
                cond: Cond::Compare {
                    rel: Rel::Lt,
                    lhs: local(0),
                    rhs: Operand::Int(10)
                },
                then_to: BlockId(2),
                else_to: BlockId(1),
            }
        );
    }

    #[test]
    fn comparison_used_twice_is_not_fused() {
        let f = func(
            &[Ty::Bool],
            vec![
                Block {
                    insts: vec![Inst::Binary {
                        dst: Local(0),
                        op: BinaryOp::EqInt,
                        lhs: Operand::Int(1),
                        rhs: Operand::Int(2),
                        site: SiteId(0),
                    }],
                    term: Term::Branch {
                        cond: local(0),
                        then_to: BlockId(1),
                        else_to: BlockId(1),
                    },
                    handler: None,
                },
                Block {
                    insts: vec![],
                    term: Term::Return(None),
                    handler: None,
                },
                Block {
                    insts: vec![Inst::Copy {
                        dst: Local(0),
                        src: local(0),
                    }],
                    term: Term::Return(None),
                    handler: None,
                },
            ],
        );
        let plan = plan_function(&f);
        assert_eq!(plan.blocks[0].kept, 1);
        // Block 2 is unreachable and not laid out.
        assert_eq!(plan.order, vec![BlockId(0), BlockId(1)]);
    }

    #[test]
    fn copies_forward_and_arguments_go_in_place() {
        // %1 = sub %0, 1; %2 = call g(%1); %3 = %2; %4 = add %0, 1; %5 = %4; call g(%5)
        let call = |dst: Option<u32>, arg: u32| Inst::Call {
            dst: dst.map(Local),
            func: crate::ir::FuncId(0),
            args: vec![local(arg)],
            site: SiteId(0),
        };
        let bin = |dst: u32, op: BinaryOp| Inst::Binary {
            dst: Local(dst),
            op,
            lhs: local(0),
            rhs: Operand::Int(1),
            site: SiteId(0),
        };
        let insts = vec![
            bin(1, BinaryOp::SubInt),
            call(Some(2), 1),
            Inst::Copy {
                dst: Local(3),
                src: local(2),
            },
            bin(4, BinaryOp::AddInt),
            Inst::Copy {
                dst: Local(5),
                src: local(4),
            },
            call(None, 5),
        ];
        let f = func(
            &[Ty::Int; 6],
            vec![Block {
                insts,
                term: Term::Return(None),
                handler: None,
            }],
        );
        let plan = plan_function(&f);
        let p = &plan.blocks[0].insts;
        assert_eq!(p[0].dest, Some(Dest::Argument(0)));
        assert_eq!(p[1].dest, Some(Dest::Local(Local(3))));
        assert!(p[2].skip);
        assert_eq!(p[1].args_in_place, vec![true]);
        // The add was forwarded into %5, which is then the argument: it goes in place.
        assert_eq!(p[3].dest, Some(Dest::Argument(0)));
        assert!(p[4].skip);
        assert_eq!(p[5].args_in_place, vec![true]);
    }

    #[test]
    fn argument_defined_before_another_call_is_moved() {
        // %1 = add %0, 1; %2 = call g(%0); call h(%1, %2)
        let insts = vec![
            Inst::Binary {
                dst: Local(1),
                op: BinaryOp::AddInt,
                lhs: local(0),
                rhs: Operand::Int(1),
                site: SiteId(0),
            },
            Inst::Call {
                dst: Some(Local(2)),
                func: crate::ir::FuncId(0),
                args: vec![local(0)],
                site: SiteId(0),
            },
            Inst::Call {
                dst: None,
                func: crate::ir::FuncId(1),
                args: vec![local(1), local(2)],
                site: SiteId(0),
            },
        ];
        let f = func(
            &[Ty::Int; 3],
            vec![Block {
                insts,
                term: Term::Return(None),
                handler: None,
            }],
        );
        let plan = plan_function(&f);
        let p = &plan.blocks[0].insts;
        assert_eq!(p[0].dest, Some(Dest::Local(Local(1))));
        assert_eq!(p[1].dest, Some(Dest::Argument(1)));
        assert_eq!(p[2].args_in_place, vec![false, true]);
    }

    #[test]
    fn jumps_thread_through_empty_blocks_and_loops_chain() {
        // b0: jump b3; b3: jump b1; b1: branch %0, b2, b4; b2: jump b3; b4: return
        let f = func(
            &[Ty::Bool],
            vec![
                Block {
                    insts: vec![],
                    term: Term::Jump(BlockId(3)),
                    handler: None,
                },
                Block {
                    insts: vec![],
                    term: Term::Branch {
                        cond: local(0),
                        then_to: BlockId(2),
                        else_to: BlockId(4),
                    },
                    handler: None,
                },
                Block {
                    insts: vec![Inst::Copy {
                        dst: Local(0),
                        src: Operand::Bool(false),
                    }],
                    term: Term::Jump(BlockId(3)),
                    handler: None,
                },
                Block {
                    insts: vec![],
                    term: Term::Jump(BlockId(1)),
                    handler: None,
                },
                Block {
                    insts: vec![],
                    term: Term::Return(None),
                    handler: None,
                },
            ],
        );
        let plan = plan_function(&f);
        assert_eq!(plan.blocks[2].ending, Ending::Jump(BlockId(1)));
        assert_eq!(
            plan.order,
            vec![BlockId(0), BlockId(1), BlockId(2), BlockId(4)]
        );
        assert!(plan.is_inlinable(BlockId(1)));
    }

    #[test]
    fn handlers_are_laid_out_and_unwind_ends_blocks() {
        // b0 (handler b2): branch %0, b1, b3; b1 (handler b2): unwind; b2: %0 = false; jump b0
        // (reached only as a handler); b3: unwind (no handler)
        let block = |term: Term, handler: Option<u32>| Block {
            insts: vec![],
            term,
            handler: handler.map(BlockId),
        };
        let f = func(
            &[Ty::Bool],
            vec![
                block(
                    Term::Branch {
                        cond: local(0),
                        then_to: BlockId(1),
                        else_to: BlockId(3),
                    },
                    Some(2),
                ),
                block(Term::Unwind, Some(2)),
                Block {
                    insts: vec![Inst::Copy {
                        dst: Local(0),
                        src: Operand::Bool(false),
                    }],
                    term: Term::Jump(BlockId(0)),
                    handler: None,
                },
                block(Term::Unwind, None),
            ],
        );
        let plan = plan_function(&f);
        assert_eq!(plan.blocks[1].ending, Ending::Jump(BlockId(2)));
        assert_eq!(plan.blocks[3].ending, Ending::Unwind);
        assert_eq!(plan.blocks[0].handler, Some(BlockId(2)));
        assert!(plan.order.contains(&BlockId(2)), "{:?}", plan.order);
        assert_eq!(plan.order[0], BlockId(0));
    }

    /// `%t = %a[0]; [release %r;] %x = %t.f; release %t` in one block.
    fn element_field_block(between: Option<Local>) -> Vec<InstPlan> {
        // locals: %0 array, %1 element, %2 field value, %3 another heap local
        let mut insts = vec![Inst::ArrayGet {
            dst: Local(1),
            array: local(0),
            index: Operand::Int(0),
            site: SiteId(0),
        }];
        if let Some(r) = between {
            insts.push(Inst::Release { value: r });
        }
        insts.push(Inst::FieldGet {
            dst: Local(2),
            object: local(1),
            field: 1,
        });
        insts.push(Inst::Release { value: Local(1) });
        let array = Ty::Array(crate::ir::ArrayId(0));
        let point = Ty::Struct(crate::ir::StructId(0));
        let f = func(
            &[array, point, Ty::Str, Ty::Str],
            vec![Block {
                insts,
                term: Term::Return(None),
                handler: None,
            }],
        );
        plan_function(&f).blocks[0].insts.clone()
    }

    #[test]
    fn element_field_reads_fuse_across_unrelated_releases_only() {
        for between in [None, Some(Local(0)), Some(Local(3))] {
            let p = element_field_block(between);
            assert_eq!(p[0].element_field, Some(1), "{between:?}");
            assert_eq!(p[0].dest, Some(Dest::Local(Local(2))));
            let n = p.len();
            assert!(p[n - 2].skip && p[n - 1].skip);
            assert!(between.is_none() || !p[1].skip);
        }
        // The field's local is written early by the fused read; a release of its old value
        // between would release the new one, so that does not fuse.
        let p = element_field_block(Some(Local(2)));
        assert_eq!(p[0].element_field, None);
        assert!(p.iter().all(|p| !p.skip));
    }
}
