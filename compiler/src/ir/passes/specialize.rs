//! Specialization of functions on the closures they are passed, so that calls through function
//! values become direct calls.
//!
//! `xs.map(fn(int x) -> int { return x * k; })` calls the prelude's `map` with a closure built
//! right there; inside `map`, every `f(x)` is a `call_indirect` of a value that, on this call,
//! is always of that closure's type. When a caller passes a function a local that only ever
//! holds values of one closure type (every definition of it is a `new_struct` of that type), and
//! the callee only calls its parameter (or retains and releases it), the call goes to a copy of
//! the callee made for that closure type, whose `call_indirect`s of the parameter name their
//! callee (`known`): backends call it directly, and Cranelift's inliner can then inline a small
//! closure body into the loop. One copy is made per (function, parameter, closure type) and
//! reused; copies are specialized again for their other parameters, one at a time. A
//! `call_indirect` of such a local in the function itself names its callee the same way.
//!
//! Nothing changes meaning: the copy's instructions, types and reference counting are the
//! original's, and the value passed is the same object. What this pass does not do: follow
//! values through copies, fields or arrays, specialize recursive calls that pass the parameter
//! on (those keep calling the original), or inline anything itself.

use std::collections::HashMap;

use crate::ir::{FuncId, Function, Inst, Local, Operand, Program, StructDef, StructId, StructKind};

/// A call (block and instruction index) of `callee` whose arguments at the positions of `known`
/// only ever hold values of the closure type given there.
struct ClosureCall {
    at: (usize, usize),
    callee: FuncId,
    known: Vec<(usize, StructId)>,
}

/// Specializes the calls of every function of `program` (and of the copies it makes).
/// `origin[f]`, for each function, is extended with the function each copy was made from.
pub fn specialize_closure_calls(program: &mut Program, origin: &mut Vec<FuncId>) {
    let mut made: HashMap<(FuncId, usize, StructId), FuncId> = HashMap::new();
    let mut f = 0;
    while f < program.functions.len() {
        let closures = single_closure_locals(&program.functions[f], program);
        name_local_callees(program, f, &closures);
        let mut calls: Vec<ClosureCall> = Vec::new();
        for (b, block) in program.functions[f].blocks.iter().enumerate() {
            for (i, inst) in block.insts.iter().enumerate() {
                let Inst::Call { func, args, .. } = inst else {
                    continue;
                };
                let known: Vec<(usize, StructId)> = (args.iter().enumerate())
                    .filter_map(|(k, arg)| match arg {
                        Operand::Local(l) => closures.get(l).map(|&c| (k, c)),
                        _ => None,
                    })
                    .collect();
                if !known.is_empty() {
                    calls.push(ClosureCall {
                        at: (b, i),
                        callee: *func,
                        known,
                    });
                }
            }
        }
        for ClosureCall {
            at: (b, i),
            callee,
            known,
        } in calls
        {
            let mut target = callee;
            for (k, closure) in known {
                if let Some(copy) = specialized(program, origin, &mut made, target, k, closure) {
                    target = copy;
                }
            }
            if let Inst::Call { func, .. } = &mut program.functions[f].blocks[b].insts[i] {
                *func = target;
            }
        }
        f += 1;
    }
}

/// Names the callee of each `call_indirect` in function `f` whose function value is a local
/// of `closures` (one that only ever holds values of one closure type): `let g = fn ...; g(x)`,
/// and the loops of fused pipelines (`sema::fuse`).
fn name_local_callees(program: &mut Program, f: usize, closures: &HashMap<Local, StructId>) {
    let targets: HashMap<Local, FuncId> = (closures.iter())
        .filter_map(
            |(&local, &closure)| match program.struct_def(closure).kind {
                StructKind::Closure { func, .. } => Some((local, func)),
                _ => None,
            },
        )
        .collect();
    for inst in program.functions[f]
        .blocks
        .iter_mut()
        .flat_map(|b| &mut b.insts)
    {
        if let Inst::CallIndirect {
            args,
            known: known @ None,
            ..
        } = inst
        {
            if let Operand::Local(callee) = args[StructDef::callee_position(args.len())] {
                *known = targets.get(&callee).copied();
            }
        }
    }
}

/// The locals of `func` that only ever hold values of one closure type: every instruction
/// that defines one is a `new_struct` of that type. Parameters never qualify.
fn single_closure_locals(func: &Function, program: &Program) -> HashMap<Local, StructId> {
    let mut found: HashMap<Local, Option<StructId>> = HashMap::new();
    for inst in func.blocks.iter().flat_map(|b| &b.insts) {
        let Some(dst) = inst.def() else { continue };
        let closure = match inst {
            Inst::NewStruct { ty, .. }
                if matches!(program.struct_def(*ty).kind, StructKind::Closure { .. }) =>
            {
                Some(*ty)
            }
            _ => None,
        };
        let entry = found.entry(dst).or_insert(closure);
        if *entry != closure {
            *entry = None;
        }
    }
    found
        .into_iter()
        .filter(|(local, _)| local.0 >= func.param_count)
        .filter_map(|(local, closure)| closure.map(|c| (local, c)))
        .collect()
}

/// The copy of function `func` for parameter `k` holding values of closure type `closure`
/// (made now if it is new), or `None` when `func` does more with the parameter than call it.
fn specialized(
    program: &mut Program,
    origin: &mut Vec<FuncId>,
    made: &mut HashMap<(FuncId, usize, StructId), FuncId>,
    func: FuncId,
    k: usize,
    closure: StructId,
) -> Option<FuncId> {
    if let Some(&copy) = made.get(&(func, k, closure)) {
        return Some(copy);
    }
    let StructKind::Closure { of, func: target } = program.struct_def(closure).kind else {
        return None;
    };
    let original = program.function(func);
    let param = Local(k as u32);
    let only_called = k < original.param_count as usize
        && original.env_param() != Some(param)
        && original.local_ty(param) == crate::ir::Ty::Struct(of)
        && only_called_in(original, param);
    if !only_called {
        return None;
    }
    let mut copy = original.clone();
    copy.name = format!(
        "{} with %{k} {}",
        original.name,
        program.struct_def(closure).name
    );
    for inst in copy.blocks.iter_mut().flat_map(|b| &mut b.insts) {
        if let Inst::CallIndirect { args, known, .. } = inst {
            if args[StructDef::callee_position(args.len())] == Operand::Local(param) {
                *known = Some(target);
            }
        }
    }
    let id = FuncId(program.functions.len() as u32);
    program.functions.push(copy);
    origin.push(origin[func.0 as usize]);
    made.insert((func, k, closure), id);
    Some(id)
}

/// Whether `func` only calls the value of `param` (as the function value of `call_indirect`s),
/// retains and releases it, and never assigns it.
fn only_called_in(func: &Function, param: Local) -> bool {
    let here = Operand::Local(param);
    func.blocks.iter().all(|block| {
        block.term.operand() != Some(&here)
            && block.insts.iter().all(|inst| match inst {
                Inst::Retain { .. } | Inst::Release { .. } => true,
                Inst::CallIndirect { args, dst, .. } => {
                    let position = StructDef::callee_position(args.len());
                    *dst != Some(param)
                        && (args.iter().enumerate()).all(|(k, arg)| k == position || *arg != here)
                }
                _ => {
                    let mut uses = false;
                    inst.for_each_use(|op| uses |= *op == here);
                    !uses && inst.def() != Some(param)
                }
            })
    })
}
