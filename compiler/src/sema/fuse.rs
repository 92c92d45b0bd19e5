//! Pipeline fusion: a chain of the prelude's array helpers as one loop.
//!
//! `xs.map(f).filter(g).fold(0, h)` is, as written, three loops and two intermediate arrays.
//! This pass, on the typed tree between checking and lowering, rewrites such a chain into one
//! loop over `xs` that applies each stage to an element before going to the next element:
//!
//! ```text
//! { let s = xs; let f1 = f; let g1 = g; let z = 0; let h1 = h;
//!   speculate { acc = z; for x in s { let y = f1(x); if g1(y) { acc = h1(acc, y); } } }
//!   else      { acc = fold(filter(map(s, f1), g1), z, h1); }
//!   acc }
//! ```
//!
//! The fused loop runs the stages in another order than the chain does: all of `f` before any
//! of `g` there, interleaved here. That order is unobservable when no stage has an effect and
//! every stage finishes, which is what this pass checks, and the loop calls no function: each
//! stage is a closure or a named function (without contracts) whose body is one `return e;` of
//! an expression without statements, or a variant constructor, and the loop has that expression
//! inlined. It prints nothing, reads no input, clock or static, and calls no Keel function (so
//! it cannot recurse, and the loop takes no stack units); every argument other than the source
//! array is a literal, a variable or such a function. A fault in a stage is the one effect
//! left, and its order does matter (which of two faulting stages faults first): so the fused
//! loop is a *speculation* (`TStmt::Speculate`). A fault there is caught and forgotten, and the
//! chain then runs as written, from the same values, raising the fault it raises. Nothing the
//! program can see differs (docs/language.md).
//!
//! Fused: `map` and `filter` stages, ending in `fold`, `count`, `sum`, `product`,
//! `sum_float`, `product_float`, or in a `map`/`filter` (the result is the array; two stages at
//! least). Only the prelude's functions are recognized, never a program's own of the same name.
//! A stage that does not qualify ends the chain: what is below it is the fused loop's source.
//!
//! The same walk replaces the calls of the prelude's one-line wrappers of builtins by the
//! builtins (`wrappers`).

use super::types::*;
use crate::diag::Span;
use crate::ir::RtFunc;
use crate::syntax::ast::BinOp;

/// Fuses every qualifying pipeline in `program`'s functions, closures and top level.
pub fn fuse_program(program: &mut TProgram) {
    let helpers: Vec<Option<Helper>> = program.funcs.iter().map(Helper::of).collect();
    let named: Vec<Option<TExpr>> = program.funcs.iter().map(named_body).collect();
    let wrappers: Vec<Option<Builtin>> = (program.funcs.iter())
        .map(super::wrappers::wrapped_builtin)
        .collect();
    let TProgram {
        funcs, main, types, ..
    } = program;
    let fuser = Fuser {
        helpers: &helpers,
        named: &named,
        wrappers: &wrappers,
        types,
    };
    for func in funcs.iter_mut() {
        fuser.func(func);
    }
    fuser.func(main);
}

/// A function of the prelude that this pass knows.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Helper {
    Map,
    Filter,
    Fold,
    Count,
    /// `sum`, `sum_float` (with `+`), `product`, `product_float` (with `*`).
    Reduce(BinOp),
}

impl Helper {
    fn of(func: &TFunc) -> Option<Helper> {
        if !func.prelude {
            return None;
        }
        let base = func.name.split('<').next().unwrap_or_default();
        Some(match base {
            "map" => Helper::Map,
            "filter" => Helper::Filter,
            "fold" => Helper::Fold,
            "count" => Helper::Count,
            "sum" | "sum_float" => Helper::Reduce(BinOp::Add),
            "product" | "product_float" => Helper::Reduce(BinOp::Mul),
            _ => return None,
        })
    }
}

struct Fuser<'p> {
    helpers: &'p [Option<Helper>],
    /// For each function that a stage can inline, its body's expression (see [`named_body`]).
    named: &'p [Option<TExpr>],
    /// For each function that wraps a builtin, the builtin (see `wrappers`).
    wrappers: &'p [Option<Builtin>],
    types: &'p TypeTable,
}

impl Fuser<'_> {
    fn func(&self, func: &mut TFunc) {
        self.block(&mut func.body, &mut func.vars);
    }

    fn block(&self, block: &mut TBlock, vars: &mut Vars) {
        for stmt in &mut block.stmts {
            self.stmt(stmt, vars);
        }
        if let Some(tail) = &mut block.tail {
            self.expr(tail, vars);
        }
    }

    fn stmt(&self, stmt: &mut TStmt, vars: &mut Vars) {
        match stmt {
            TStmt::Assign { place, value } => {
                for step in &mut place.path {
                    if let PathStep::Index { index, .. } = step {
                        self.expr(index, vars);
                    }
                }
                self.expr(value, vars);
            }
            TStmt::Expr(e) | TStmt::Return(Some(e)) | TStmt::StaticLet { value: e, .. } => {
                self.expr(e, vars)
            }
            TStmt::Fault { message: e, .. } => self.expr(e, vars),
            TStmt::While { cond, body } => {
                self.expr(cond, vars);
                self.block(body, vars);
            }
            TStmt::ForRange {
                start, end, body, ..
            } => {
                self.expr(start, vars);
                self.expr(end, vars);
                self.block(body, vars);
            }
            TStmt::ForEach { array, body, .. } => {
                self.expr(array, vars);
                self.block(body, vars);
            }
            TStmt::Assert { cond, message, .. } => {
                self.expr(cond, vars);
                if let Some(message) = message {
                    self.expr(message, vars);
                }
            }
            TStmt::Live(live) => {
                if let Some((cond, _)) = &mut live.invariant {
                    self.expr(cond, vars);
                }
                self.block(&mut live.body, vars);
            }
            // What this pass made: the slow path's chain must not be fused again, and neither
            // path has anything else to fuse (the stages' bodies and a fold's initial value
            // call nothing; the source was evaluated before, in a statement of its own).
            TStmt::Speculate { .. } => {}
            TStmt::Break | TStmt::Continue | TStmt::Return(None) => {}
        }
    }

    /// Fuses `e` if it ends a chain (the longest chain first), then what is inside it: the
    /// source of a chain, a chain under a stage that did not qualify, closure bodies.
    fn expr(&self, e: &mut TExpr, vars: &mut Vars) {
        self.unhold(e);
        super::wrappers::inline(e, self.wrappers);
        if let Some(fused) = self.fuse(e, vars) {
            *e = fused;
        }
        match &mut e.kind {
            TExprKind::Int(_)
            | TExprKind::Float(_)
            | TExprKind::Bool(_)
            | TExprKind::Str(_)
            | TExprKind::Var(_)
            | TExprKind::Current
            | TExprKind::FuncRef(_)
            | TExprKind::VariantRef { .. }
            | TExprKind::Error => {}
            TExprKind::Array(items)
            | TExprKind::New { fields: items, .. }
            | TExprKind::Variant { args: items, .. }
            | TExprKind::Call { args: items, .. }
            | TExprKind::Builtin { args: items, .. } => {
                for item in items {
                    self.expr(item, vars);
                }
            }
            TExprKind::Index { base, index, .. } => {
                self.expr(base, vars);
                self.expr(index, vars);
            }
            TExprKind::Slice {
                base, start, end, ..
            } => {
                self.expr(base, vars);
                self.expr(start, vars);
                self.expr(end, vars);
            }
            TExprKind::Field { base, .. } | TExprKind::Payload { base, .. } => {
                self.expr(base, vars)
            }
            TExprKind::Binary { lhs, rhs, .. } | TExprKind::Logic { lhs, rhs, .. } => {
                self.expr(lhs, vars);
                self.expr(rhs, vars);
            }
            TExprKind::Unary { operand, .. } => self.expr(operand, vars),
            TExprKind::If {
                cond, then, else_, ..
            } => {
                self.expr(cond, vars);
                self.block(then, vars);
                if let Some(else_) = else_ {
                    self.expr(else_, vars);
                }
            }
            TExprKind::Block(block) => self.block(block, vars),
            TExprKind::Closure(closure) => self.func(&mut closure.func),
            TExprKind::CallValue { callee, args, .. } => {
                self.expr(callee, vars);
                for arg in args {
                    self.expr(arg, vars);
                }
            }
        }
    }

    /// Undoes the checker's hold of a method call's receiver along a chain of helper calls:
    /// `{ r = a.map(f); filter(r, g) }` (`r` hidden, read only there) is `filter(a.map(f), g)`,
    /// which evaluates the same in the same order.
    fn unhold(&self, e: &mut TExpr) {
        if let TExprKind::Block(block) = &mut e.kind {
            let held = match (block.stmts.as_slice(), block.tail.as_deref()) {
                (
                    [TStmt::Assign { place, .. }],
                    Some(
                        tail @ TExpr {
                            kind: TExprKind::Call { args, .. },
                            ..
                        },
                    ),
                ) => {
                    self.helper(tail).is_some()
                        && place.path.is_empty()
                        && matches!(args[0].kind, TExprKind::Var(v) if v == place.var)
                }
                _ => false,
            };
            if held {
                let Some(TStmt::Assign { value, .. }) = block.stmts.pop() else {
                    unreachable!("checked above")
                };
                let mut call = *block.tail.take().expect("checked above");
                if let TExprKind::Call { args, .. } = &mut call.kind {
                    args[0] = value;
                }
                *e = call;
            }
        }
        if self.helper(e).is_some() {
            if let TExprKind::Call { args, .. } = &mut e.kind {
                self.unhold(&mut args[0]);
            }
        }
    }

    /// The helper `e` calls, if it is a call of one.
    fn helper(&self, e: &TExpr) -> Option<Helper> {
        match &e.kind {
            TExprKind::Call { func, .. } => self.helpers[*func as usize],
            _ => None,
        }
    }

    /// Whether `e`, as a function argument of a stage or sink, qualifies: the fast loop can
    /// inline it (see the module).
    fn pure_function(&self, e: &TExpr) -> bool {
        match self.stage_fn(e) {
            Some(StageFn::Body {
                body,
                params,
                vars,
                captures,
            }) => {
                let mut map = vec![None; vars];
                for slot in map.iter_mut().take(params.len()) {
                    *slot = Some(VarId(0));
                }
                for &(_, inner) in captures {
                    map[inner.0 as usize] = Some(VarId(0));
                }
                copy_reading(body, &map).is_some()
            }
            Some(StageFn::Variant { .. }) => true,
            None => false,
        }
    }

    /// What the function value `e` computes, if it is a closure or a named function whose
    /// body is one `return`, or a variant constructor.
    fn stage_fn<'e>(&'e self, e: &'e TExpr) -> Option<StageFn<'e>> {
        match &e.kind {
            TExprKind::Closure(closure) => {
                let func = &closure.func;
                let ([TStmt::Return(Some(body))], None) =
                    (func.body.stmts.as_slice(), &func.body.tail)
                else {
                    return None;
                };
                // The parameters, then the closure object and the site text.
                let count = (func.param_count as usize).checked_sub(2)?;
                Some(StageFn::Body {
                    body,
                    params: func.vars[..count].iter().map(|(_, ty)| *ty).collect(),
                    vars: func.vars.len(),
                    captures: &closure.captures,
                })
            }
            TExprKind::FuncRef(func) => {
                let body = self.named[*func as usize].as_ref()?;
                let (params, _) = self.types.fn_sig(e.ty)?;
                Some(StageFn::Body {
                    body,
                    vars: params.len(),
                    params,
                    captures: &[],
                })
            }
            TExprKind::VariantRef { variant, tag } => {
                let (payload, ty) = self.types.fn_sig(e.ty)?;
                Some(StageFn::Variant {
                    variant: *variant,
                    tag: *tag,
                    payload,
                    ty,
                })
            }
            _ => None,
        }
    }

    /// How many stages below the sink `e` (its source argument first) qualify.
    fn qualifying_stages(&self, mut e: &TExpr) -> usize {
        let mut stages = 0;
        while let Some(Helper::Map | Helper::Filter) = self.helper(e) {
            let TExprKind::Call { args, .. } = &e.kind else {
                break;
            };
            if !self.pure_function(&args[1]) {
                break;
            }
            stages += 1;
            e = &args[0];
        }
        stages
    }

    /// The fused form of `e`, if it ends a chain that qualifies.
    fn fuse(&self, e: &mut TExpr, vars: &mut Vars) -> Option<TExpr> {
        let sink = self.helper(e)?;
        let TExprKind::Call { args, .. } = &e.kind else {
            return None;
        };
        let (source_stages, minimum) = match sink {
            Helper::Map | Helper::Filter => (self.qualifying_stages(e), 2),
            Helper::Fold => {
                // The fast loop evaluates its own copy of the initial value first, which is
                // fine for an expression without effects (a fault there sends it to the slow
                // path, which evaluates the chain in its order).
                let simple = copy_reading(&args[1], &identity(vars.len())).is_some();
                if !simple || !self.pure_function(&args[2]) {
                    return None;
                }
                (self.qualifying_stages(&args[0]), 1)
            }
            Helper::Count => {
                if !self.pure_function(&args[1]) {
                    return None;
                }
                (self.qualifying_stages(&args[0]), 1)
            }
            Helper::Reduce(_) => (self.qualifying_stages(&args[0]), 1),
        };
        if source_stages < minimum {
            return None;
        }
        let span = e.span;
        let whole = std::mem::replace(e, TExpr::error(span));
        Some(Pipeline::new(self, vars, span).build(whole, sink, source_stages))
    }
}

type Vars = Vec<(String, Type)>;

/// One fused pipeline under construction, in the function whose variables are `vars`.
struct Pipeline<'f, 'p> {
    fuser: &'f Fuser<'p>,
    vars: &'f mut Vars,
    span: Span,
}

/// What a stage's function computes, as [`Fuser::stage_fn`] finds it.
enum StageFn<'e> {
    /// `return body;` of a closure or a named function, reading its parameters (the first
    /// variables, of types `params`), and for a closure its captured copies; `vars` variables
    /// in all.
    Body {
        body: &'e TExpr,
        params: Vec<Type>,
        vars: usize,
        captures: &'e [(VarId, VarId)],
    },
    /// The constructor of a variant with a payload, giving a value of `ty`.
    Variant {
        variant: u32,
        tag: u32,
        payload: Vec<Type>,
        ty: Type,
    },
}

/// A stage's function inlined: `body` computes its result from `params` (new variables of the
/// enclosing function, which the fast loop sets first) and, for a closure's captures, the
/// enclosing function's own variables (which cannot change between the closure's creation and
/// the fast loop, which assigns only variables of its own).
struct Inline {
    params: Vec<VarId>,
    body: TExpr,
}

/// One call of a chain, taken apart: its helper, its call (its source argument taken out), and
/// its function argument inlined (none for `sum` and the like).
struct Link {
    helper: Helper,
    call: TExpr,
    inline: Option<Inline>,
}

impl<'f, 'p> Pipeline<'f, 'p> {
    fn new(fuser: &'f Fuser<'p>, vars: &'f mut Vars, span: Span) -> Pipeline<'f, 'p> {
        Pipeline { fuser, vars, span }
    }

    fn var(&mut self, ty: Type) -> VarId {
        self.vars.push((String::new(), ty));
        VarId(self.vars.len() as u32 - 1)
    }

    fn read(&self, var: VarId) -> TExpr {
        TExpr {
            kind: TExprKind::Var(var),
            ty: self.vars[var.0 as usize].1,
            span: self.span,
        }
    }

    /// The function argument `e` of a stage that qualified, inlined. Qualifying
    /// ([`Fuser::pure_function`]) copied the same body with the same variables mapped, so this
    /// cannot fail.
    fn inline(&mut self, e: &TExpr) -> Inline {
        let stage = self.fuser.stage_fn(e);
        match stage.expect("a qualifying stage's function is known") {
            StageFn::Body {
                body,
                params,
                vars,
                captures,
            } => {
                let params: Vec<VarId> = params.into_iter().map(|ty| self.var(ty)).collect();
                let mut map: Vec<Option<VarId>> = vec![None; vars];
                for (slot, &param) in map.iter_mut().zip(&params) {
                    *slot = Some(param);
                }
                for &(outer, inner) in captures {
                    map[inner.0 as usize] = Some(outer);
                }
                let body = copy_reading(body, &map).expect("a qualifying body copies");
                Inline { params, body }
            }
            StageFn::Variant {
                variant,
                tag,
                payload,
                ty,
            } => {
                let params: Vec<VarId> = payload.into_iter().map(|ty| self.var(ty)).collect();
                let args = params.iter().map(|&param| self.read(param)).collect();
                let body = TExpr {
                    kind: TExprKind::Variant { variant, tag, args },
                    ty,
                    span: self.span,
                };
                Inline { params, body }
            }
        }
    }

    /// An inlined function applied to `args`: the statements setting its parameters, and its
    /// value.
    fn apply(&self, inline: Inline, args: &[VarId]) -> (Vec<TStmt>, TExpr) {
        let stmts = (inline.params.into_iter().zip(args))
            .map(|(param, &arg)| TStmt::assign(param, self.read(arg)))
            .collect();
        (stmts, inline.body)
    }

    fn binary(&self, op: BinOp, lhs: TExpr, rhs: TExpr) -> TExpr {
        TExpr {
            ty: lhs.ty,
            kind: TExprKind::Binary {
                op,
                op_span: self.span,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            },
            span: self.span,
        }
    }

    /// `if cond { then }` as a statement.
    fn when(&self, cond: TExpr, then: Vec<TStmt>) -> TStmt {
        TStmt::Expr(TExpr {
            kind: TExprKind::If {
                cond: Box::new(cond),
                then: TBlock {
                    stmts: then,
                    tail: None,
                },
                else_: None,
                diverges: false,
            },
            ty: Type::Void,
            span: self.span,
        })
    }

    /// The fused form of the call `whole` of `sink` whose source has `stages` qualifying
    /// stages below it.
    ///
    /// Only the source is evaluated before the speculation. The other arguments stay where they
    /// are, in the slow path's calls: they have no effect (literals, variables, function values),
    /// and nothing before the slow path assigns a variable they read, so evaluating them there
    /// gives what evaluating them first would. The fast loop reads its own copies of them.
    fn build(mut self, whole: TExpr, sink: Helper, stages: usize) -> TExpr {
        let result_ty = whole.ty;
        let sink_is_stage = matches!(sink, Helper::Map | Helper::Filter);
        // Take the chain apart: its calls, innermost first.
        let mut links: Vec<Link> = Vec::new();
        let mut current = whole;
        for _ in 0..stages + usize::from(!sink_is_stage) {
            let helper = self.fuser.helper(&current).unwrap_or(Helper::Map);
            let TExprKind::Call { args, .. } = &mut current.kind else {
                unreachable!("a qualifying chain is made of calls")
            };
            let source = std::mem::replace(&mut args[0], TExpr::error(self.span));
            let function = match helper {
                Helper::Map | Helper::Filter | Helper::Count => Some(1),
                Helper::Fold => Some(2),
                Helper::Reduce(_) => None,
            };
            let inline = function.map(|k| self.inline(&args[k]));
            links.push(Link {
                helper,
                call: current,
                inline,
            });
            current = source;
        }
        links.reverse();
        let source_ty = current.ty;
        let source = self.var(source_ty);
        let setup = TStmt::assign(source, current);
        let result = self.var(result_ty);
        let init = match (sink, links.last().map(|link| &link.call.kind)) {
            (Helper::Fold, Some(TExprKind::Call { args, .. })) => Some(self.init_copy(&args[1])),
            _ => None,
        };
        let sink_link = if sink_is_stage { None } else { links.pop() };

        // The fast path: one loop over the source. Each stage reads its input variable; a map
        // writes a new one, which the stages after it read.
        let x = self.var(self.fuser.types.elem(source_ty).unwrap_or(Type::Error));
        let mut plan: Vec<(Helper, Inline, VarId, VarId)> = Vec::new();
        let mut slow_calls: Vec<TExpr> = Vec::new();
        let mut input = x;
        for link in links {
            let inline = link.inline.expect("a stage has a function");
            if link.helper == Helper::Map {
                let output = self.var(inline.body.ty);
                plan.push((link.helper, inline, input, output));
                input = output;
            } else {
                plan.push((link.helper, inline, input, input));
            }
            slow_calls.push(link.call);
        }
        let (start, mut body) = match sink_link {
            Some(link) => {
                slow_calls.push(link.call);
                self.sink(link.helper, result, input, link.inline, init)
            }
            None => self.array_sink(result, input),
        };
        for (helper, inline, input, output) in plan.into_iter().rev() {
            let (mut stmts, value) = self.apply(inline, &[input]);
            if helper == Helper::Map {
                stmts.push(TStmt::assign(output, value));
                stmts.extend(body);
            } else {
                stmts.push(self.when(value, body));
            }
            body = stmts;
        }
        let fast = TBlock {
            stmts: vec![
                TStmt::assign(result, start),
                TStmt::ForEach {
                    var: x,
                    array: self.read(source),
                    span: self.span,
                    body: TBlock {
                        stmts: body,
                        tail: None,
                    },
                },
            ],
            tail: None,
        };

        // The slow path: the chain as written, from the source's value.
        let mut chain = self.read(source);
        for mut call in slow_calls {
            if let TExprKind::Call { args, .. } = &mut call.kind {
                args[0] = chain;
            }
            chain = call;
        }
        let slow = TBlock {
            stmts: vec![TStmt::assign(result, chain)],
            tail: None,
        };
        TExpr {
            kind: TExprKind::Block(TBlock {
                stmts: vec![
                    setup,
                    TStmt::Speculate {
                        at: self.span,
                        fast,
                        slow,
                    },
                ],
                tail: Some(Box::new(self.read(result))),
            }),
            ty: result_ty,
            span: self.span,
        }
    }

    /// The fast loop's copy of a `fold`'s initial value, which [`Fuser::fuse`] copied the same
    /// way to qualify it.
    fn init_copy(&mut self, init: &TExpr) -> TExpr {
        copy_reading(init, &identity(self.vars.len())).expect("a qualifying initial value copies")
    }

    /// What the fast loop starts the result `acc` of an array sink with, and what it does with
    /// an element `y` that got through the stages.
    fn array_sink(&self, acc: VarId, y: VarId) -> (TExpr, Vec<TStmt>) {
        let acc_ty = self.vars[acc.0 as usize].1;
        let empty = TExpr {
            kind: TExprKind::Array(Vec::new()),
            ty: acc_ty,
            span: self.span,
        };
        let pushed = TExpr {
            kind: TExprKind::Builtin {
                builtin: Builtin::Rt(RtFunc::ArrayPush),
                args: vec![self.read(acc), self.read(y)],
            },
            ty: acc_ty,
            span: self.span,
        };
        (empty, vec![TStmt::assign(acc, pushed)])
    }

    /// What the fast loop's `sink` starts `acc` with, and what it does with an element `y` that
    /// got through the stages; `function` is the sink's inlined function, `init` a fold's
    /// initial value.
    fn sink(
        &mut self,
        sink: Helper,
        acc: VarId,
        y: VarId,
        function: Option<Inline>,
        init: Option<TExpr>,
    ) -> (TExpr, Vec<TStmt>) {
        let acc_ty = self.vars[acc.0 as usize].1;
        match (sink, function, init) {
            (Helper::Fold, Some(function), Some(init)) => {
                let (mut body, folded) = self.apply(function, &[acc, y]);
                body.push(TStmt::assign(acc, folded));
                (init, body)
            }
            (Helper::Count, Some(function), _) => {
                let (mut body, tested) = self.apply(function, &[y]);
                let counted = self.binary(BinOp::Add, self.read(acc), int(1, self.span));
                body.push(self.when(tested, vec![TStmt::assign(acc, counted)]));
                (int(0, self.span), body)
            }
            (Helper::Reduce(op), _, _) => {
                let unit = match (op, acc_ty) {
                    (BinOp::Add, Type::Float) => float(0.0, self.span),
                    (_, Type::Float) => float(1.0, self.span),
                    (BinOp::Add, _) => int(0, self.span),
                    _ => int(1, self.span),
                };
                let combined = self.binary(op, self.read(acc), self.read(y));
                (unit, vec![TStmt::assign(acc, combined)])
            }
            _ => unreachable!("a chain ends in a fold with its function, a count, or a sum"),
        }
    }
}

/// A copy of `e`, an expression without statements, reading variable `map[v]` wherever it reads
/// `v`; `None` if it has statements, calls a Keel function or a builtin with an effect
/// ([`builtin_is_pure`]), or reads a variable `map` has none for. So what it copies has no
/// effect but faults and always finishes.
fn copy_reading(e: &TExpr, map: &[Option<VarId>]) -> Option<TExpr> {
    let copy = |e: &TExpr| copy_reading(e, map).map(Box::new);
    let all = |items: &[TExpr]| -> Option<Vec<TExpr>> {
        items.iter().map(|item| copy_reading(item, map)).collect()
    };
    let kind = match &e.kind {
        TExprKind::Int(v) => TExprKind::Int(*v),
        TExprKind::Float(v) => TExprKind::Float(*v),
        TExprKind::Bool(v) => TExprKind::Bool(*v),
        TExprKind::Str(v) => TExprKind::Str(v.clone()),
        TExprKind::Var(v) => TExprKind::Var((*map.get(v.0 as usize)?)?),
        TExprKind::FuncRef(func) => TExprKind::FuncRef(*func),
        TExprKind::VariantRef { variant, tag } => TExprKind::VariantRef {
            variant: *variant,
            tag: *tag,
        },
        TExprKind::Array(items) => TExprKind::Array(all(items)?),
        TExprKind::New { id, fields, order } => TExprKind::New {
            id: *id,
            fields: all(fields)?,
            order: order.clone(),
        },
        TExprKind::Variant { variant, tag, args } => TExprKind::Variant {
            variant: *variant,
            tag: *tag,
            args: all(args)?,
        },
        TExprKind::Builtin { builtin, args } if builtin_is_pure(*builtin) => TExprKind::Builtin {
            builtin: *builtin,
            args: all(args)?,
        },
        TExprKind::Index {
            base,
            index,
            bracket,
        } => TExprKind::Index {
            base: copy(base)?,
            index: copy(index)?,
            bracket: *bracket,
        },
        TExprKind::Slice {
            base,
            start,
            end,
            bracket,
        } => TExprKind::Slice {
            base: copy(base)?,
            start: copy(start)?,
            end: copy(end)?,
            bracket: *bracket,
        },
        TExprKind::Field { base, index } => TExprKind::Field {
            base: copy(base)?,
            index: *index,
        },
        TExprKind::Payload {
            base,
            variant,
            field,
        } => TExprKind::Payload {
            base: copy(base)?,
            variant: *variant,
            field: *field,
        },
        TExprKind::Binary {
            op,
            op_span,
            lhs,
            rhs,
        } => TExprKind::Binary {
            op: *op,
            op_span: *op_span,
            lhs: copy(lhs)?,
            rhs: copy(rhs)?,
        },
        TExprKind::Logic { is_and, lhs, rhs } => TExprKind::Logic {
            is_and: *is_and,
            lhs: copy(lhs)?,
            rhs: copy(rhs)?,
        },
        TExprKind::Unary { op, operand } => TExprKind::Unary {
            op: *op,
            operand: copy(operand)?,
        },
        TExprKind::Current
        | TExprKind::Builtin { .. }
        | TExprKind::Call { .. }
        | TExprKind::CallValue { .. }
        | TExprKind::Closure(_)
        | TExprKind::If { .. }
        | TExprKind::Block(_)
        | TExprKind::Error => return None,
    };
    Some(TExpr {
        kind,
        ty: e.ty,
        span: e.span,
    })
}

/// The map for [`copy_reading`] that keeps each of `count` variables.
fn identity(count: usize) -> Vec<Option<VarId>> {
    (0..count as u32).map(|v| Some(VarId(v))).collect()
}

fn int(value: i64, span: Span) -> TExpr {
    TExpr {
        kind: TExprKind::Int(value),
        ty: Type::Int,
        span,
    }
}

fn float(value: f64, span: Span) -> TExpr {
    TExpr {
        kind: TExprKind::Float(value),
        ty: Type::Float,
        span,
    }
}

/// The expression of `func`'s body if a stage can inline it: one `return e;` of a pure
/// expression (see [`copy_reading`]) reading only the parameters, and no contracts (a call
/// through a value checks them; the inlined copy would not).
fn named_body(func: &TFunc) -> Option<TExpr> {
    if !func.requires.is_empty() || !func.ensures.is_empty() {
        return None;
    }
    let ([TStmt::Return(Some(body))], None) = (func.body.stmts.as_slice(), &func.body.tail) else {
        return None;
    };
    let map: Vec<Option<VarId>> = (0..func.param_count).map(|k| Some(VarId(k))).collect();
    copy_reading(body, &map)
}

pub(super) fn builtin_is_pure(builtin: Builtin) -> bool {
    use RtFunc::*;
    match builtin {
        Builtin::Print
        | Builtin::Println
        | Builtin::Eprintln
        | Builtin::Exit
        | Builtin::SessionSet => false,
        Builtin::ArrayLen
        | Builtin::ToString
        | Builtin::ToFloat
        | Builtin::ToInt
        | Builtin::ArrayFill
        | Builtin::MapNew
        | Builtin::SetInsert
        | Builtin::MapArray(_)
        | Builtin::JsonEncode => true,
        Builtin::RtCoded(func, _) | Builtin::Rt(func) => matches!(
            func,
            StrConcat
                | StrEq
                | StrCmp
                | StrLen
                | IntToStr
                | FloatToStr
                | BoolToStr
                | ValueToStr
                | StrSplit
                | StrTrim
                | StrToUpper
                | StrToLower
                | StrContains
                | StrStartsWith
                | StrEndsWith
                | StrReplace
                | StrSubstring
                | StrCharAt
                | StrIndexOf
                | StrJoin
                | ParseInt
                | ParseFloat
                | ParseIntError
                | ParseFloatError
                | ArrayPush
                | ArrayPop
                | ArraySlice
                | ArrayConcat
                | ArrayReverse
                | ArraySort
                | ArrayContains
                | ArrayIndexOf
                | ArrayFill
                | ValueEq
                | IntPow
                | IntAbs
                | IntMin
                | IntMax
                | FloatAbs
                | FloatSqrt
                | FloatFloor
                | FloatCeil
                | FloatRound
                | FloatSin
                | FloatCos
                | FloatTan
                | FloatExp
                | FloatLn
                | FloatMin
                | FloatMax
                | FloatPow
                | FloatAtan2
                | FloatMath
                | FloatMath2
                | IntBits
                | StrWords
                | StrBytes
                | StrToBytes
                | JsonEncode
                | IntMath
                | ArrayInsertAt
                | ArrayRemoveAt
                | ArraySwap
                | ArraySetAt
                | MapNew
                | MapInsert
                | MapRemove
                | MapFind
                | MapKey
                | MapValue
                | MapLen
                | MapKeys
                | MapValues
                | StrChr
                | StrOrd
        ),
    }
}
