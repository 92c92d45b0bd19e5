//! Constant folding inside blocks: what lets contract checks on constant arguments disappear.
//!
//! Within each block, in order, the pass
//! - remembers the locals assigned a constant `int`, `bool` or `float` (until the block assigns
//!   them again) and puts the constant in place of every later read of them in the block, and
//!   in the blocks that only this block's terminator reaches (so a value known before a
//!   contract check is still known at the call after it);
//! - replaces a `Unary` or `Binary` whose operands are all constants by a copy of its result,
//!   but only when the operation cannot fault on them (a constant `i64::MAX + 1` stays, so the
//!   fault still happens at run time, at its site) and the result is not a float NaN (whose
//!   bits differ between machines);
//! - turns `branch <constant>` into `jump`.
//!
//! Afterwards, copies of a constant into a temporary that nothing reads are dropped.
//! `simplify_cfg`, run next, removes the blocks no longer reached (such as the fault block of a
//! contract clause that holds for constant arguments, as in `fib(30)` of a
//! `fn fib(int n) requires n >= 0`) and merges the rest.
//!
//! What it does not do: propagate into a block with several predecessors, or one reached by a
//! fault handler edge (locals are not SSA, so a value known at the end of one predecessor says
//! nothing there), fold runtime calls, or remove any instruction that can fault.

use crate::ir::{BinaryOp, Block, BlockId, Function, Inst, Local, Operand, Term, UnaryOp};

/// Folds constants in every block of `func`.
///
/// A block starts with what its sole predecessor knows at its end, so the blocks are folded in
/// depth-first order of that relation (each block inherits from an earlier one, so it is a
/// forest) with one table of what is known, undoing a block's changes when leaving it: the cost
/// is the size of the function, however long the chains of inheriting blocks are.
pub fn fold(func: &mut Function) {
    let inherits = sole_predecessors(func);
    let mut heirs: Vec<Vec<usize>> = vec![Vec::new(); func.blocks.len()];
    for (b, pred) in inherits.iter().enumerate() {
        if let Some(pred) = pred {
            heirs[pred.0 as usize].push(b);
        }
    }
    let mut known = Known {
        values: vec![None; func.locals.len()],
        undo: Vec::new(),
    };
    let mut steps = Vec::new();
    for root in (0..func.blocks.len()).filter(|&b| inherits[b].is_none()) {
        steps.push(Step::Enter(root));
        while let Some(step) = steps.pop() {
            match step {
                Step::Enter(b) => {
                    steps.push(Step::Leave(known.undo.len()));
                    fold_block(&mut func.blocks[b], &mut known);
                    steps.extend(heirs[b].iter().rev().map(|&heir| Step::Enter(heir)));
                }
                Step::Leave(mark) => known.undo_to(mark),
            }
        }
    }
    drop_unread_constant_temps(func);
}

/// One step of the depth-first walk of [`fold`].
enum Step {
    /// Fold this block, then its heirs.
    Enter(usize),
    /// Leave a block, undoing what it made known down to this length of the undo log.
    Leave(usize),
}

/// The constant each local is known to hold at the current point, with a log of the changes so
/// that they can be undone.
struct Known {
    values: Vec<Option<Operand>>,
    /// Each change: the local and what was known before.
    undo: Vec<(Local, Option<Operand>)>,
}

impl Known {
    fn get(&self, local: Local) -> Option<Operand> {
        self.values[local.0 as usize]
    }

    fn set(&mut self, local: Local, value: Option<Operand>) {
        let slot = &mut self.values[local.0 as usize];
        if *slot != value {
            self.undo.push((local, *slot));
            *slot = value;
        }
    }

    /// Undoes the changes made since the undo log had length `mark`.
    fn undo_to(&mut self, mark: usize) {
        for (local, before) in self.undo.drain(mark..).rev() {
            self.values[local.0 as usize] = before;
        }
    }
}

/// For each block, the earlier block whose terminator is its only way in (no other terminator
/// or fault handler leads there, and it is not the entry), if there is one.
fn sole_predecessors(func: &Function) -> Vec<Option<BlockId>> {
    let mut entries = vec![0u32; func.blocks.len()];
    let mut by_term: Vec<Option<BlockId>> = vec![None; func.blocks.len()];
    for (b, block) in func.blocks.iter().enumerate() {
        for target in block.term.successors() {
            entries[target.0 as usize] += 1;
            by_term[target.0 as usize] = Some(BlockId(b as u32));
        }
        if let Some(handler) = block.handler {
            entries[handler.0 as usize] += 1;
            by_term[handler.0 as usize] = None;
        }
    }
    entries[0] += 1;
    by_term
        .into_iter()
        .enumerate()
        .map(|(b, pred)| pred.filter(|p| entries[b] == 1 && (p.0 as usize) < b))
        .collect()
}

/// Whether the operand is a constant this pass propagates.
fn is_constant(op: &Operand) -> bool {
    matches!(op, Operand::Int(_) | Operand::Bool(_) | Operand::Float(_))
}

fn fold_block(block: &mut Block, known: &mut Known) {
    for inst in &mut block.insts {
        for_each_operand_mut(inst, |op| substitute(op, known));
        if let Some(value) = folded(inst) {
            let dst = inst.def().expect("only instructions with a result fold");
            *inst = Inst::Copy { dst, src: value };
        }
        if let Some(dst) = inst.def() {
            let value = match inst {
                Inst::Copy { src, .. } if is_constant(src) => Some(*src),
                _ => None,
            };
            known.set(dst, value);
        }
        if let Some(container) = inst.updated_in_place() {
            known.set(container, None);
        }
    }
    match &mut block.term {
        Term::Branch {
            cond,
            then_to,
            else_to,
        } => {
            substitute(cond, known);
            if let Operand::Bool(value) = *cond {
                block.term = Term::Jump(if value { *then_to } else { *else_to });
            }
        }
        Term::Return(Some(value)) | Term::Exit(value) => substitute(value, known),
        Term::Jump(_) | Term::Return(None) | Term::Unwind => {}
    }
}

fn substitute(op: &mut Operand, known: &Known) {
    if let Operand::Local(local) = *op {
        if let Some(value) = known.get(local) {
            *op = value;
        }
    }
}

/// Calls `f` on every operand the instruction reads that may be a constant (containers updated
/// in place, and `Retain`/`Release`, take locals and are left alone).
fn for_each_operand_mut(inst: &mut Inst, mut f: impl FnMut(&mut Operand)) {
    match inst {
        Inst::Copy { src, .. } | Inst::Unary { src, .. } => f(src),
        Inst::Binary { lhs, rhs, .. } => {
            f(lhs);
            f(rhs);
        }
        Inst::Call { args, .. } | Inst::CallIndirect { args, .. } | Inst::CallRt { args, .. } => {
            args.iter_mut().for_each(f)
        }
        Inst::Print { value, .. } => f(value),
        Inst::NewArray { items, .. } => items.iter_mut().for_each(f),
        Inst::NewStruct { fields, .. } => fields.iter_mut().for_each(f),
        Inst::ArrayGet { index, .. } | Inst::ArrayTake { index, .. } => f(index),
        Inst::ArraySet { index, value, .. } => {
            f(index);
            f(value);
        }
        Inst::FieldSet { value, .. } => f(value),
        Inst::ArrayLen { .. }
        | Inst::FieldGet { .. }
        | Inst::VariantField { .. }
        | Inst::FieldTake { .. }
        | Inst::Retain { .. }
        | Inst::Release { .. }
        | Inst::Line { .. } => {}
    }
}

/// The constant result of an operation on constants, when computing it cannot fault.
fn folded(inst: &Inst) -> Option<Operand> {
    let value = match *inst {
        Inst::Unary { op, src, .. } => unary(op, src)?,
        Inst::Binary { op, lhs, rhs, .. } => binary(op, lhs, rhs)?,
        _ => return None,
    };
    match value {
        Operand::Float(bits) if f64::from_bits(bits).is_nan() => None,
        _ => Some(value),
    }
}

fn unary(op: UnaryOp, src: Operand) -> Option<Operand> {
    use Operand::{Bool, Float, Int};
    Some(match (op, src) {
        (UnaryOp::NegInt, Int(x)) => Int(x.checked_neg()?),
        (UnaryOp::Not, Bool(b)) => Bool(!b),
        (UnaryOp::NegFloat, Float(bits)) => Float((-f64::from_bits(bits)).to_bits()),
        (UnaryOp::IntToFloat, Int(x)) => Float((x as f64).to_bits()),
        (UnaryOp::FloatToInt, Float(bits)) => {
            let x = f64::from_bits(bits);
            // The range `FloatToInt` accepts without faulting (see `ir::UnaryOp`).
            if !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&x) {
                return None;
            }
            Int(x as i64)
        }
        _ => return None,
    })
}

fn binary(op: BinaryOp, lhs: Operand, rhs: Operand) -> Option<Operand> {
    use BinaryOp::*;
    use Operand::{Bool, Float, Int};
    Some(match (op, lhs, rhs) {
        (AddInt, Int(a), Int(b)) => Int(a.checked_add(b)?),
        (SubInt, Int(a), Int(b)) => Int(a.checked_sub(b)?),
        (MulInt, Int(a), Int(b)) => Int(a.checked_mul(b)?),
        // `checked_div` is `None` for a zero divisor and for `i64::MIN / -1`, both faults.
        (DivInt, Int(a), Int(b)) => Int(a.checked_div(b)?),
        // `i64::MIN % -1` is 0 in Keel, not a fault.
        (RemInt, Int(a), Int(b)) if b != 0 => Int(a.wrapping_rem(b)),
        (Shl, Int(a), Int(b)) if (0..=63).contains(&b) => Int(a.wrapping_shl(b as u32)),
        (Shr, Int(a), Int(b)) if (0..=63).contains(&b) => Int(a >> b),
        (BitAnd, Int(a), Int(b)) => Int(a & b),
        (BitOr, Int(a), Int(b)) => Int(a | b),
        (BitXor, Int(a), Int(b)) => Int(a ^ b),
        (BitAnd, Bool(a), Bool(b)) => Bool(a & b),
        (BitOr, Bool(a), Bool(b)) => Bool(a | b),
        (BitXor, Bool(a), Bool(b)) => Bool(a ^ b),
        (EqInt, Int(a), Int(b)) => Bool(a == b),
        (NeInt, Int(a), Int(b)) => Bool(a != b),
        (LtInt, Int(a), Int(b)) => Bool(a < b),
        (LeInt, Int(a), Int(b)) => Bool(a <= b),
        (GtInt, Int(a), Int(b)) => Bool(a > b),
        (GeInt, Int(a), Int(b)) => Bool(a >= b),
        (EqBool, Bool(a), Bool(b)) => Bool(a == b),
        (NeBool, Bool(a), Bool(b)) => Bool(a != b),
        (op, Float(a), Float(b)) if op.on_floats() => {
            let (a, b) = (f64::from_bits(a), f64::from_bits(b));
            match op {
                AddFloat => Float((a + b).to_bits()),
                SubFloat => Float((a - b).to_bits()),
                MulFloat => Float((a * b).to_bits()),
                DivFloat => Float((a / b).to_bits()),
                EqFloat => Bool(a == b),
                NeFloat => Bool(a != b),
                LtFloat => Bool(a < b),
                LeFloat => Bool(a <= b),
                GtFloat => Bool(a > b),
                GeFloat => Bool(a >= b),
                _ => return None,
            }
        }
        _ => return None,
    })
}

/// Drops `temp = constant` where no instruction or terminator of the function reads `temp`
/// (user variables are kept, for `emit ir` and debugging).
fn drop_unread_constant_temps(func: &mut Function) {
    let mut reads = vec![0u32; func.locals.len()];
    let mut count = |op: &Operand| {
        if let Operand::Local(local) = op {
            reads[local.0 as usize] += 1;
        }
    };
    for block in &func.blocks {
        for inst in &block.insts {
            inst.for_each_use(&mut count);
        }
        block.term.operand().into_iter().for_each(&mut count);
    }
    let unread = |local: Local| {
        local.0 >= func.param_count
            && func.locals[local.0 as usize].name.is_none()
            && reads[local.0 as usize] == 0
    };
    for block in &mut func.blocks {
        block.insts.retain(
            |inst| !matches!(inst, Inst::Copy { dst, src } if is_constant(src) && unread(*dst)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::print::program_to_string;
    use crate::ir::{BlockId, FuncId, LocalInfo, Program, RtFunc, Site, SiteId, Ty};

    /// The function as `emit ir` prints it, in a program of its own.
    fn function_to_string(func: &Function) -> String {
        let program = Program {
            functions: vec![func.clone()],
            entry: FuncId(0),
            strings: vec!["boom".into()],
            sites: vec![Site {
                file: "t.kl".into(),
                line: 1,
                col: 1,
            }],
            arrays: Vec::new(),
            structs: Vec::new(),
            maps: Vec::new(),
        };
        program_to_string(&program)
    }

    fn function(locals: &[(Ty, Option<&str>)], param_count: u32, blocks: Vec<Block>) -> Function {
        Function {
            name: "f".into(),
            env: false,
            param_count,
            ret: Ty::Int,
            locals: locals
                .iter()
                .map(|&(ty, name)| LocalInfo {
                    ty,
                    name: name.map(str::to_string),
                })
                .collect(),
            blocks,
        }
    }

    fn binary_inst(dst: u32, op: BinaryOp, lhs: Operand, rhs: Operand) -> Inst {
        Inst::Binary {
            dst: Local(dst),
            op,
            lhs,
            rhs,
            site: SiteId(0),
        }
    }

    fn local(n: u32) -> Operand {
        Operand::Local(Local(n))
    }

    /// `n >= 0` on the constant argument 30, then the call of the checked function.
    fn checked_call(argument: Operand) -> Function {
        function(
            &[(Ty::Int, Some("n")), (Ty::Bool, None), (Ty::Int, None)],
            0,
            vec![
                Block::new(
                    vec![
                        Inst::Copy {
                            dst: Local(0),
                            src: argument,
                        },
                        binary_inst(1, BinaryOp::GeInt, local(0), Operand::Int(0)),
                    ],
                    Term::Branch {
                        cond: local(1),
                        then_to: BlockId(1),
                        else_to: BlockId(2),
                    },
                ),
                Block::new(
                    vec![Inst::Call {
                        dst: Some(Local(2)),
                        func: FuncId(0),
                        args: vec![local(0)],
                        site: SiteId(0),
                    }],
                    Term::Return(Some(local(2))),
                ),
                Block::new(
                    vec![Inst::CallRt {
                        dst: None,
                        func: RtFunc::Fault,
                        args: vec![Operand::Str(crate::ir::StrId(0))],
                        site: SiteId(0),
                    }],
                    Term::Unwind,
                ),
            ],
        )
    }

    #[test]
    fn a_check_on_a_constant_becomes_a_jump() {
        let mut func = checked_call(Operand::Int(30));
        fold(&mut func);
        assert_eq!(
            function_to_string(&func),
            "str#0 = \"boom\"\n\n\
             fn#0 (entry) f() -> int {\n  locals %0:n: int, %1: bool, %2: int\n\
             b0:\n    %0 = 30\n    jump b1\n\
             b1:\n    %2 = call f(30) @1:1\n    return %2\n\
             b2:\n    call_rt keel_fault(str#0) @1:1\n    unwind\n}\n"
        );
        crate::ir::passes::simplify_cfg::simplify(&mut func);
        assert_eq!(func.blocks.len(), 1, "{}", function_to_string(&func));
    }

    #[test]
    fn a_check_on_an_unknown_value_stays() {
        let mut func = checked_call(Operand::Int(30));
        func.blocks[0].insts.remove(0);
        func.param_count = 1;
        let before = function_to_string(&func);
        fold(&mut func);
        assert_eq!(function_to_string(&func), before);
    }

    #[test]
    fn operations_that_fault_are_kept() {
        let cases = [
            (BinaryOp::AddInt, i64::MAX, 1),
            (BinaryOp::SubInt, i64::MIN, 1),
            (BinaryOp::MulInt, i64::MAX, 2),
            (BinaryOp::DivInt, 1, 0),
            (BinaryOp::DivInt, i64::MIN, -1),
            (BinaryOp::RemInt, 1, 0),
            (BinaryOp::Shl, 1, 64),
            (BinaryOp::Shr, 1, -1),
        ];
        for (op, a, b) in cases {
            let inst = binary_inst(0, op, Operand::Int(a), Operand::Int(b));
            assert!(folded(&inst).is_none(), "{op:?} {a} {b}");
        }
        let neg = Inst::Unary {
            dst: Local(0),
            op: UnaryOp::NegInt,
            src: Operand::Int(i64::MIN),
            site: SiteId(0),
        };
        assert!(folded(&neg).is_none());
        let to_int = Inst::Unary {
            dst: Local(0),
            op: UnaryOp::FloatToInt,
            src: Operand::Float(f64::INFINITY.to_bits()),
            site: SiteId(0),
        };
        assert!(folded(&to_int).is_none());
    }

    #[test]
    fn operations_that_cannot_fault_fold() {
        let int = |op, a, b| folded(&binary_inst(0, op, Operand::Int(a), Operand::Int(b)));
        assert_eq!(int(BinaryOp::AddInt, 2, 3), Some(Operand::Int(5)));
        assert_eq!(int(BinaryOp::DivInt, -7, 2), Some(Operand::Int(-3)));
        assert_eq!(int(BinaryOp::RemInt, i64::MIN, -1), Some(Operand::Int(0)));
        assert_eq!(int(BinaryOp::Shl, 1, 63), Some(Operand::Int(i64::MIN)));
        assert_eq!(int(BinaryOp::Shr, -8, 1), Some(Operand::Int(-4)));
        assert_eq!(int(BinaryOp::LtInt, 1, 2), Some(Operand::Bool(true)));
        let float = |op, a: f64, b: f64| {
            folded(&binary_inst(
                0,
                op,
                Operand::Float(a.to_bits()),
                Operand::Float(b.to_bits()),
            ))
        };
        assert_eq!(
            float(BinaryOp::DivFloat, 1.0, 4.0),
            Some(Operand::Float(0.25f64.to_bits()))
        );
        assert_eq!(
            float(BinaryOp::DivFloat, 0.0, 0.0),
            None,
            "NaN is not folded"
        );
        assert_eq!(
            float(BinaryOp::NeFloat, f64::NAN, f64::NAN),
            Some(Operand::Bool(true))
        );
    }

    #[test]
    fn a_reassigned_local_is_no_longer_known() {
        // %0 = 1; %0 = call; %1 = %0 + 1: the addition reads the call's result.
        let mut func = function(
            &[(Ty::Int, Some("x")), (Ty::Int, None)],
            0,
            vec![Block::new(
                vec![
                    Inst::Copy {
                        dst: Local(0),
                        src: Operand::Int(1),
                    },
                    Inst::CallRt {
                        dst: Some(Local(0)),
                        func: RtFunc::ClockMs,
                        args: vec![],
                        site: SiteId(0),
                    },
                    binary_inst(1, BinaryOp::AddInt, local(0), Operand::Int(1)),
                ],
                Term::Return(Some(local(1))),
            )],
        );
        let before = function_to_string(&func);
        fold(&mut func);
        assert_eq!(function_to_string(&func), before);
    }

    #[test]
    fn knowledge_does_not_cross_blocks() {
        let mut func = function(
            &[(Ty::Bool, Some("b"))],
            0,
            vec![
                Block::new(
                    vec![Inst::Copy {
                        dst: Local(0),
                        src: Operand::Bool(true),
                    }],
                    Term::Jump(BlockId(1)),
                ),
                Block::new(
                    vec![],
                    Term::Branch {
                        cond: local(0),
                        then_to: BlockId(1),
                        else_to: BlockId(0),
                    },
                ),
            ],
        );
        fold(&mut func);
        assert!(matches!(func.blocks[1].term, Term::Branch { .. }));
    }
}
