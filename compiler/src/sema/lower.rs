//! Lowering: the typed tree to the IR.
//!
//! Each function becomes a control-flow graph. Variables become IR locals (parameters first, in
//! order); intermediate values become fresh temporary locals. `&&`, `||`, `if` and loops become
//! branches; `for i in a..b` evaluates both bounds once and counts in a hidden local, so assigning
//! the loop variable in the body does not change the iteration; `for x in a` iterates over the
//! array as it was when the loop began. Every instruction that can fault gets the site of its
//! operator, bracket or call. Assignments into elements and fields (`ps[i].x = v`) take each
//! container out of its parent, update it and put it back, so every level stays uniquely owned
//! and is updated in place.
//!
//! Run-time checks: `assert` branches to a block that raises `Fault` and unwinds. Contracts are
//! checked at each call site, not in the callee: the `requires` clauses are lowered between the
//! arguments and the `Call` with the parameters bound to the argument values, the `ensures`
//! clauses after it with `result` bound to the call's result (calls inside a clause check no
//! contracts, so lowering terminates). A `live` block snapshots the outer variables its body
//! assigns, gives the body's blocks its recovery block as fault handler, and leaves through
//! `LiveExit` (also before a `return`, `break` or `continue` that leaves it).
//!
//! The IR produced here has no reference counting: operands are used as values, and the RC pass
//! (`ir::passes::rc`) then adds the retains and releases. Constants are folded within blocks
//! (`ir::passes::fold_constants`), which removes the checks that hold for constant arguments.
//! Code after `return`, `break`, `continue` or `exit`, and fault blocks no longer reached, land
//! in blocks that `ir::passes::simplify_cfg` removes.
//!
//! Lowering assumes the program checked without errors; it does not re-check anything.

use std::collections::HashMap;

use super::types::*;
use crate::diag::{Sources, Span};
use crate::ir::{
    self, BinaryOp, BlockId, FuncId, Inst, Local, LocalInfo, Operand, RtFunc, SiteId, Stream, Term,
    Ty, UnaryOp,
};
use crate::syntax::ast::{BinOp, ContractKind, UnOp};

/// What lowering may leave out, or add.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Whether calls check their callee's `requires` and `ensures` clauses (`--no-contracts`
    /// turns this off; `assert` and `invariant` are always checked).
    pub contracts: bool,
    /// Whether each function and statement starts with an [`Inst::Line`] marker, for debug
    /// information (`keel build -g`). Off, the IR is exactly what it is without markers.
    pub debug_info: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            contracts: true,
            debug_info: false,
        }
    }
}

/// Lowers a checked program. User functions keep their indices; the top-level body comes last.
pub fn lower_program(program: &TProgram, source: &dyn Sources, options: Options) -> ir::Program {
    let (arrays, structs) = program.types.to_ir();
    let mut out = ir::Program {
        functions: Vec::new(),
        entry: FuncId(program.funcs.len() as u32),
        strings: Vec::new(),
        sites: Vec::new(),
        arrays,
        structs,
        maps: program.types.maps_to_ir(),
    };
    let mut pools = Pools {
        source,
        debug_info: options.debug_info,
        last_site: None,
        strings: HashMap::new(),
        lifted: Vec::new(),
        first_lifted: program.funcs.len() as u32 + 1,
        value_types: HashMap::new(),
        next_static: 0,
    };
    let signatures: Vec<Ty> = program.funcs.iter().map(|f| f.ret.to_ir()).collect();
    for func in program.funcs.iter().chain(std::iter::once(&program.main)) {
        let lowered = FnLowerer::lower(
            func,
            Callees {
                funcs: &program.funcs,
                signatures: &signatures,
                contracts: options.contracts,
            },
            &mut pools,
            &mut out,
        );
        out.functions.push(lowered);
    }
    for lifted in pools.lifted {
        out.functions
            .push(lifted.expect("every function made while lowering is lowered"));
    }
    let mut origin: Vec<FuncId> = (0..out.functions.len() as u32).map(FuncId).collect();
    ir::passes::specialize::specialize_closure_calls(&mut out, &mut origin);
    let droppable: Vec<bool> = (origin.iter())
        .map(|f| {
            program
                .funcs
                .get(f.0 as usize)
                .is_some_and(|func| func.prelude)
        })
        .collect();
    drop_unused(&mut out, &droppable);
    out
}

/// Removes the functions `droppable` marks that nothing the program runs calls (the prelude's
/// functions and their instances and copies), renumbering the others. Every function of a closure type
/// counts as called.
fn drop_unused(out: &mut ir::Program, droppable: &[bool]) {
    if !droppable.iter().any(|&d| d) {
        return;
    }
    let mut used = vec![false; out.functions.len()];
    let mut pending = vec![out.entry];
    pending.extend((out.structs.iter()).filter_map(|def| match def.kind {
        ir::StructKind::Closure { func, .. } => Some(func),
        _ => None,
    }));
    pending.extend(
        (0..out.functions.len())
            .filter(|&f| !droppable[f])
            .map(|f| FuncId(f as u32)),
    );
    while let Some(FuncId(f)) = pending.pop() {
        if std::mem::replace(&mut used[f as usize], true) {
            continue;
        }
        for inst in out.functions[f as usize]
            .blocks
            .iter()
            .flat_map(|b| &b.insts)
        {
            pending.extend(inst.direct_callee());
        }
    }
    if used.iter().all(|&u| u) {
        return;
    }
    let mut renumbered = vec![FuncId(u32::MAX); used.len()];
    let mut next = 0;
    for (f, &keep) in used.iter().enumerate() {
        if keep {
            renumbered[f] = FuncId(next);
            next += 1;
        }
    }
    let functions = std::mem::take(&mut out.functions);
    out.functions = (functions.into_iter().zip(&used))
        .filter(|(_, &keep)| keep)
        .map(|(function, _)| function)
        .collect();
    for inst in
        (out.functions.iter_mut()).flat_map(|f| f.blocks.iter_mut().flat_map(|b| &mut b.insts))
    {
        if let Some(func) = inst.direct_callee_mut() {
            *func = renumbered[func.0 as usize];
        }
    }
    for def in &mut out.structs {
        if let ir::StructKind::Closure { func, .. } = &mut def.kind {
            *func = renumbered[func.0 as usize];
        }
    }
    out.entry = renumbered[out.entry.0 as usize];
}

/// A function value made without a closure expression: what its closure type calls.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
enum ValueFn {
    /// Named function `n` (an index into the program's functions).
    Func(u32),
    /// The constructor of variant entry `variant`, whose tag is `tag`.
    Variant { variant: u32, tag: u32 },
    /// Some function of the function type: for places the checker proved unreachable.
    Default(ir::StructId),
}

/// Where a contract fault is reported: a site of the program, or (in the function of a
/// function value's closure type) the site text its caller passed.
#[derive(Copy, Clone)]
enum FaultAt {
    Site(SiteId),
    /// The local holding the text, and the site of the function value (which the `call_rt`
    /// instruction carries, unused).
    Text(Local, SiteId),
}

/// Program-wide tables filled while lowering.
struct Pools<'s> {
    /// The program's files: a site names the file its span is in.
    source: &'s dyn Sources,
    /// Whether functions and statements get [`Inst::Line`] markers.
    debug_info: bool,
    /// The site [`Pools::site`] made last.
    last_site: Option<SiteId>,
    strings: HashMap<String, ir::StrId>,
    /// The functions made while lowering (of closures, and the ones that call named functions
    /// and variant constructors used as values), numbered from `first_lifted`, after the
    /// program's own; `None` while one is being lowered.
    lifted: Vec<Option<ir::Function>>,
    first_lifted: u32,
    /// The closure type of each function value made without a closure expression, made once.
    value_types: HashMap<ValueFn, ir::StructId>,
    /// The slot the next `static let` gets (`keel_runtime::statics`).
    next_static: u32,
}

impl Pools<'_> {
    /// The number of a function to be made while lowering, which its caller then lowers.
    fn reserve_function(&mut self) -> FuncId {
        self.lifted.push(None);
        FuncId(self.first_lifted + self.lifted.len() as u32 - 1)
    }

    fn fill_function(&mut self, id: FuncId, function: ir::Function) {
        self.lifted[(id.0 - self.first_lifted) as usize] = Some(function);
    }

    /// The text of a site, as fault messages start: `prog.kl:3:9`.
    fn site_text(&self, span: Span) -> String {
        locate(self.source, span.start).to_string()
    }

    fn string(&mut self, text: &str, out: &mut ir::Program) -> ir::StrId {
        if let Some(&id) = self.strings.get(text) {
            return id;
        }
        let id = ir::StrId(out.strings.len() as u32);
        out.strings.push(text.to_string());
        self.strings.insert(text.to_string(), id);
        id
    }

    /// The site of an instruction at `span`: the last one made again when it is at the same
    /// place.
    fn site(&mut self, span: Span, out: &mut ir::Program) -> SiteId {
        let site = self.place(span);
        if let Some(last) = self.last_site.filter(|&last| *out.site(last) == site) {
            return last;
        }
        let id = push_site(out, site);
        self.last_site = Some(id);
        id
    }

    /// The site of an [`Inst::Line`] marker at `span`, always a new one: the instructions'
    /// sites are made as they are without markers, and so share a site when they do without
    /// them (the code generator's pool of site texts is the same).
    fn marker_site(&mut self, span: Span, out: &mut ir::Program) -> SiteId {
        let site = self.place(span);
        push_site(out, site)
    }

    fn place(&self, span: Span) -> ir::Site {
        let at = locate(self.source, span.start);
        ir::Site {
            file: at.file.to_string(),
            line: at.line,
            col: at.col,
        }
    }
}

fn push_site(out: &mut ir::Program, site: ir::Site) -> SiteId {
    out.sites.push(site);
    SiteId(out.sites.len() as u32 - 1)
}

/// Where `break` and `continue` go in the innermost loop.
struct LoopTargets {
    break_to: BlockId,
    continue_to: BlockId,
    /// How many `live` blocks of the function were open when the loop began: leaving the loop
    /// leaves those opened since.
    lives: usize,
    /// The fault handler around the loop.
    handler: Option<BlockId>,
}

/// What lowering a call needs to know about the functions it may call.
#[derive(Copy, Clone)]
struct Callees<'p> {
    funcs: &'p [TFunc],
    /// Result type of each function.
    signatures: &'p [Ty],
    /// Whether calls check their callee's contracts.
    contracts: bool,
}

/// One step of an assignment path, with its index already evaluated.
#[derive(Copy, Clone)]
enum Step {
    Index(Operand, SiteId),
    Field(u32),
}

struct FnLowerer<'p, 's> {
    callees: Callees<'p>,
    pools: &'p mut Pools<'s>,
    out: &'p mut ir::Program,
    locals: Vec<LocalInfo>,
    blocks: Vec<ir::Block>,
    /// The block being filled.
    current: BlockId,
    loops: Vec<LoopTargets>,
    ret: Ty,
    /// The value `TExprKind::Current` stands for, while lowering a compound assignment.
    current_value: Option<Operand>,
    /// The fault handler of the blocks being created: the recovery block of the innermost
    /// `live` block being lowered.
    handler: Option<BlockId>,
    /// The `live` blocks being lowered, innermost last, as the sites of their keywords.
    lives: Vec<SiteId>,
    /// While lowering a contract clause at a call site: the values its variables stand for
    /// (the arguments, then the result). Calls inside a clause check no contracts.
    bindings: Option<Vec<Operand>>,
    /// The first local that is a temporary of the lowering: the ones before it are the
    /// checker's variables, hidden ones (what a pattern takes apart) included, which may be
    /// read many times.
    first_temp: u32,
    /// The slot of each `static let` variable declared so far (by variable number).
    statics: HashMap<u32, u32>,
}

impl<'p, 's> FnLowerer<'p, 's> {
    fn lower(
        func: &TFunc,
        callees: Callees<'p>,
        pools: &'p mut Pools<'s>,
        out: &'p mut ir::Program,
    ) -> ir::Function {
        FnLowerer::lower_with(func, None, callees, pools, out)
    }

    /// A lowerer of a function whose variables are `locals` (every later local is one of its
    /// temporaries) and whose result type is `ret`, in its entry block.
    fn start(
        locals: Vec<LocalInfo>,
        ret: Ty,
        callees: Callees<'p>,
        pools: &'p mut Pools<'s>,
        out: &'p mut ir::Program,
    ) -> Self {
        let first_temp = locals.len() as u32;
        let mut lowerer = FnLowerer {
            callees,
            pools,
            out,
            locals,
            blocks: Vec::new(),
            current: BlockId(0),
            loops: Vec::new(),
            ret,
            current_value: None,
            handler: None,
            lives: Vec::new(),
            bindings: None,
            first_temp,
            statics: HashMap::new(),
        };
        lowerer.current = lowerer.new_block();
        lowerer
    }

    /// Lowers `func`; with `closure`, as the function of that closure type, whose captured
    /// values the function's variables (`captures`: the enclosing variable, then the own one)
    /// take from the closure object at its entry.
    fn lower_with(
        func: &TFunc,
        closure: Option<(ir::StructId, &[(VarId, VarId)])>,
        callees: Callees<'p>,
        pools: &'p mut Pools<'s>,
        out: &'p mut ir::Program,
    ) -> ir::Function {
        let mut locals = func
            .vars
            .iter()
            .map(|(name, ty)| LocalInfo {
                ty: ty.to_ir(),
                // Hidden variables (what a pattern takes apart) have no name.
                name: (!name.is_empty()).then(|| name.clone()),
            })
            .collect::<Vec<_>>();
        let env = closure.map(|(env, _)| {
            let param = Local(func.param_count - 2);
            locals[param.0 as usize].ty = Ty::Struct(env);
            param
        });
        let ret = func.ret.to_ir();
        let mut lowerer = FnLowerer::start(locals, ret, callees, pools, out);
        if let Some(span) = func.span {
            lowerer.mark(span);
        }
        if let (Some(env), Some((_, captures))) = (env, closure) {
            for (k, &(_, own)) in captures.iter().enumerate() {
                lowerer.emit(Inst::FieldGet {
                    dst: Local(own.0),
                    object: Operand::Local(env),
                    field: ir::StructDef::CLOSURE_HEADER_FIELDS + k as u32,
                });
            }
        }
        let tail = lowerer.block(&func.body);
        let value = match (ret, tail) {
            (Ty::Void, _) => None,
            (_, Some(value)) => Some(value),
            // The checker proved this point unreachable; any value of the right type will do.
            (_, None) => Some(lowerer.default_value(ret)),
        };
        lowerer.terminate(Term::Return(value));
        let mut lowered = ir::Function {
            name: func.name.clone(),
            param_count: func.param_count,
            ret,
            locals: lowerer.locals,
            blocks: lowerer.blocks,
            env: env.is_some(),
        };
        ir::passes::run_on_function(&mut lowered);
        lowered
    }

    // ---- building blocks ------------------------------------------------------------------------

    fn new_block(&mut self) -> BlockId {
        self.blocks.push(ir::Block {
            insts: Vec::new(),
            term: Term::Return(None),
            handler: self.handler,
        });
        BlockId(self.blocks.len() as u32 - 1)
    }

    fn emit(&mut self, inst: Inst) {
        self.blocks[self.current.0 as usize].insts.push(inst);
    }

    /// Ends the current block and continues in a fresh (so far unreachable) one.
    fn terminate(&mut self, term: Term) {
        self.blocks[self.current.0 as usize].term = term;
        self.current = self.new_block();
    }

    fn switch_to(&mut self, block: BlockId) {
        self.current = block;
    }

    fn temp(&mut self, ty: Ty) -> Local {
        self.locals.push(LocalInfo { ty, name: None });
        Local(self.locals.len() as u32 - 1)
    }

    fn site(&mut self, span: Span) -> SiteId {
        self.pools.site(span, self.out)
    }

    fn string(&mut self, text: &str) -> Operand {
        Operand::Str(self.pools.string(text, self.out))
    }

    /// A value of type `ty`, for places the checker proved unreachable.
    fn default_value(&mut self, ty: Ty) -> Operand {
        match ty {
            Ty::Bool => Operand::Bool(false),
            Ty::Str => self.string(""),
            Ty::Float => Operand::Float(0),
            Ty::Int | Ty::Void => Operand::Int(0),
            Ty::Array(id) => {
                let dst = self.temp(ty);
                self.emit(Inst::NewArray {
                    dst,
                    ty: id,
                    items: Vec::new(),
                });
                Operand::Local(dst)
            }
            Ty::Map(_) => {
                let site = self.site(Span::default());
                self.call_rt(RtFunc::MapNew, vec![Operand::Desc(ty)], ty, site)
            }
            Ty::Struct(id) if self.out.struct_def(id).kind == ir::StructKind::FnType => {
                self.function_value(ValueFn::Default(id), ty, Span::default())
            }
            Ty::Struct(id) => {
                let field_tys: Vec<Ty> = self
                    .out
                    .struct_def(id)
                    .fields
                    .iter()
                    .map(|f| f.ty)
                    .collect();
                let fields = field_tys
                    .into_iter()
                    .map(|t| self.default_value(t))
                    .collect();
                let dst = self.temp(ty);
                self.emit(Inst::NewStruct {
                    dst,
                    ty: id,
                    fields,
                });
                Operand::Local(dst)
            }
        }
    }

    /// Runs a runtime function into a fresh temporary of type `ty`.
    fn call_rt(&mut self, func: RtFunc, args: Vec<Operand>, ty: Ty, site: SiteId) -> Operand {
        let dst = self.temp(ty);
        self.emit(Inst::CallRt {
            dst: Some(dst),
            func,
            args,
            site,
        });
        Operand::Local(dst)
    }

    // ---- statements ----------------------------------------------------------------------------

    /// Lowers a block's statements, returning its tail's value (if it has one).
    fn block(&mut self, block: &TBlock) -> Option<Operand> {
        for stmt in &block.stmts {
            self.stmt(stmt);
        }
        let tail = block.tail.as_ref()?;
        self.mark(tail.span);
        self.expr(tail)
    }

    /// With [`Options::debug_info`], marks where the code of the statement or function at
    /// `span` begins.
    fn mark(&mut self, span: Span) {
        if self.pools.debug_info {
            let site = self.pools.marker_site(span, self.out);
            self.emit(Inst::Line { site });
        }
    }

    /// [`Self::mark`] at a site already made.
    fn mark_site(&mut self, site: SiteId) {
        if self.pools.debug_info {
            self.emit(Inst::Line { site });
        }
    }

    fn stmt(&mut self, stmt: &TStmt) {
        if let Some(span) = statement_start(stmt) {
            self.mark(span);
        }
        match stmt {
            TStmt::Assign { place, value } => self.assign(place, value),
            TStmt::StaticLet { var, value } => self.static_let(*var, value),
            TStmt::Expr(expr) => {
                self.expr(expr);
            }
            TStmt::While { cond, body } => {
                let header = self.new_block();
                let body_block = self.new_block();
                let exit = self.new_block();
                self.terminate(Term::Jump(header));
                self.switch_to(header);
                // Every round tests the condition: the `while` line, each time.
                self.mark(cond.span);
                self.branch_on(cond, body_block, exit);
                self.switch_to(body_block);
                self.loops.push(LoopTargets {
                    break_to: exit,
                    continue_to: header,
                    lives: self.lives.len(),
                    handler: self.handler,
                });
                self.block(body);
                self.loops.pop();
                self.terminate(Term::Jump(header));
                self.switch_to(exit);
            }
            TStmt::ForRange {
                var,
                span,
                start,
                end,
                body,
            } => {
                // The loop's own instructions cannot fault; they name the `for` statement.
                let site = self.site(*span);
                let counter = self.temp(Ty::Int);
                self.expr_into(start, counter);
                let end_value = self.temp(Ty::Int);
                self.expr_into(end, end_value);
                self.counted_loop(counter, Operand::Local(end_value), site, |this| {
                    this.emit(Inst::Copy {
                        dst: Local(var.0),
                        src: Operand::Local(counter),
                    });
                    this.block(body);
                });
            }
            TStmt::ForEach {
                var,
                array,
                span,
                body,
            } => {
                let site = self.site(*span);
                let snapshot = self.temp(array.ty.to_ir());
                self.expr_into(array, snapshot);
                if let Ty::Map(map) = array.ty.to_ir() {
                    self.for_each_entry(snapshot, map, Local(var.0), body, site);
                    return;
                }
                let len = self.temp(Ty::Int);
                self.emit(Inst::ArrayLen {
                    dst: len,
                    array: Operand::Local(snapshot),
                });
                let counter = self.temp(Ty::Int);
                self.emit(Inst::Copy {
                    dst: counter,
                    src: Operand::Int(0),
                });
                self.counted_loop(counter, Operand::Local(len), site, |this| {
                    this.emit(Inst::ArrayGet {
                        dst: Local(var.0),
                        array: Operand::Local(snapshot),
                        index: Operand::Local(counter),
                        site,
                    });
                    this.block(body);
                });
            }
            TStmt::Break | TStmt::Continue => {
                let innermost = self
                    .loops
                    .last()
                    .expect("checked: break and continue are inside a loop");
                let target = if matches!(stmt, TStmt::Break) {
                    innermost.break_to
                } else {
                    innermost.continue_to
                };
                self.leave_lives(innermost.lives, innermost.handler);
                self.terminate(Term::Jump(target));
            }
            TStmt::Return(value) => {
                let value = value.as_ref().and_then(|v| self.expr(v));
                let value = if self.ret == Ty::Void { None } else { value };
                self.leave_lives(0, None);
                self.terminate(Term::Return(value));
            }
            TStmt::Assert {
                keyword,
                cond,
                message,
                text,
            } => self.assert(*keyword, cond, message.as_deref(), text),
            TStmt::Live(live) => self.live(live),
            TStmt::Speculate { at, fast, slow } => self.speculate(*at, fast, slow),
            TStmt::Fault { at, message } => {
                let site = self.site(*at);
                let message = self.value(message);
                self.raise(message, site);
            }
        }
    }

    /// Leaves the `live` blocks opened after the first `keep` ones (by `return`, `break` or
    /// `continue`), innermost first, in a block of its own whose fault handler is `outside`,
    /// the one around the outermost block left: from there on, the code is outside them.
    fn leave_lives(&mut self, keep: usize, outside: Option<BlockId>) {
        if self.lives.len() <= keep {
            return;
        }
        let inside = std::mem::replace(&mut self.handler, outside);
        let exit = self.new_block();
        self.handler = inside;
        self.terminate(Term::Jump(exit));
        self.switch_to(exit);
        for k in (keep..self.lives.len()).rev() {
            let site = self.lives[k];
            self.call_rt_only(RtFunc::LiveExit, site);
        }
    }

    /// The rounds of `for x in m` over the map or set in `snapshot`, in ascending key order:
    /// `var` is the set's item, or the map's entry as a tuple `(key, value)`.
    fn for_each_entry(
        &mut self,
        snapshot: Local,
        map: ir::MapId,
        var: Local,
        body: &TBlock,
        site: SiteId,
    ) {
        let def = self.out.map_def(map);
        let whole = Operand::Local(snapshot);
        self.emit(Inst::CallRt {
            dst: None,
            func: RtFunc::MapSort,
            args: vec![whole],
            site,
        });
        let len = self.call_rt(RtFunc::MapLen, vec![whole], Ty::Int, site);
        let counter = self.temp(Ty::Int);
        self.emit(Inst::Copy {
            dst: counter,
            src: Operand::Int(0),
        });
        self.counted_loop(counter, len, site, |this| {
            let index = Operand::Local(counter);
            let Some(entry) = def.entry else {
                this.emit(Inst::CallRt {
                    dst: Some(var),
                    func: RtFunc::MapKey,
                    args: vec![whole, index],
                    site,
                });
                this.block(body);
                return;
            };
            let key = this.call_rt(RtFunc::MapKey, vec![whole, index], def.key, site);
            let value = this.call_rt(RtFunc::MapValue, vec![whole, index], def.value, site);
            this.emit(Inst::NewStruct {
                dst: var,
                ty: entry,
                fields: vec![key, value],
            });
            this.block(body);
        });
    }

    /// A call of the runtime function `func`, which takes no arguments and returns nothing.
    fn call_rt_only(&mut self, func: RtFunc, site: SiteId) {
        self.emit(Inst::CallRt {
            dst: None,
            func,
            args: Vec::new(),
            site,
        });
    }

    /// Raises a fault whose whole text is the string `message`, at `site`, and leaves for the
    /// handler. Lowering continues in a fresh, unreachable block.
    fn raise(&mut self, message: Operand, site: SiteId) {
        self.emit(Inst::CallRt {
            dst: None,
            func: RtFunc::Fault,
            args: vec![message],
            site,
        });
        self.terminate(Term::Unwind);
    }

    /// `assert(cond)` / `assert(cond, message)`: the message is evaluated only on failure.
    fn assert(&mut self, keyword: Span, cond: &TExpr, message: Option<&TExpr>, text: &str) {
        const PREFIX: &str = "assertion failed: ";
        let site = self.site(keyword);
        let (ok, fail) = (self.new_block(), self.new_block());
        self.branch_on(cond, ok, fail);
        self.switch_to(fail);
        let text = match message {
            None => self.string(&format!("{PREFIX}{}", one_line(text))),
            Some(TExpr {
                kind: TExprKind::Str(literal),
                ..
            }) => self.string(&format!("{PREFIX}{literal}")),
            Some(message) => {
                let message = self.value(message);
                let prefix = self.string(PREFIX);
                self.call_rt(RtFunc::StrConcat, vec![prefix, message], Ty::Str, site)
            }
        };
        self.raise(text, site);
        self.switch_to(ok);
    }

    /// A `live` block (see `docs/language.md`):
    /// ```text
    /// pre:   snap = x ...; callrt LiveEnter(within); [callrt LiveBackoff(..)]; jump start
    /// start: (handler rec) body; [branch invariant, done, fail]
    /// fail:  (handler rec) callrt Fault("invariant failed: .."); unwind
    /// done:  callrt LiveExit(); ...the code after the block
    /// rec:   (handler: the enclosing one) callrt LiveRetry(); x = snap ...; jump start
    /// ```
    fn live(&mut self, live: &TLive) {
        let site = self.site(live.keyword);
        // A static keeps what the failed attempt gave it (docs/language.md).
        let restored: Vec<VarId> = (live.restored.iter().copied())
            .filter(|var| !self.statics.contains_key(&var.0))
            .collect();
        let snapshots: Vec<(Local, Local)> = restored
            .iter()
            .map(|var| {
                let variable = Local(var.0);
                let snapshot = self.temp(self.locals[var.0 as usize].ty);
                self.emit(Inst::Copy {
                    dst: snapshot,
                    src: Operand::Local(variable),
                });
                (variable, snapshot)
            })
            .collect();
        self.emit(Inst::CallRt {
            dst: None,
            func: RtFunc::LiveEnter,
            args: vec![Operand::Int(live.within_ms.unwrap_or(-1))],
            site,
        });
        if let Some(backoff) = live.backoff {
            self.emit(Inst::CallRt {
                dst: None,
                func: RtFunc::LiveBackoff,
                args: vec![
                    Operand::Int(backoff.base_ms),
                    Operand::Int(backoff.factor),
                    Operand::Int(backoff.max_ms),
                ],
                site,
            });
        }
        let (outer, recovery, start) = self.start_guarded();
        self.lives.push(site);
        self.block(&live.body);
        if let Some((cond, text)) = &live.invariant {
            let (ok, fail) = (self.new_block(), self.new_block());
            self.branch_on(cond, ok, fail);
            self.switch_to(fail);
            let message = self.string(&format!("invariant failed: {}", one_line(text)));
            let invariant_site = self.site(cond.span);
            self.raise(message, invariant_site);
            self.switch_to(ok);
        }
        self.lives.pop();
        self.handler = outer;
        let done = self.new_block();
        self.terminate(Term::Jump(done));

        self.switch_to(recovery);
        self.call_rt_only(RtFunc::LiveRetry, site);
        for (variable, snapshot) in snapshots {
            self.emit(Inst::Copy {
                dst: variable,
                src: Operand::Local(snapshot),
            });
        }
        self.blocks[recovery.0 as usize].term = Term::Jump(start);

        self.switch_to(done);
        self.call_rt_only(RtFunc::LiveExit, site);
    }

    /// Starts a region whose faults go to a new recovery block, continuing in the region's first
    /// block: the handler around the region, the recovery block (empty, its handler that one)
    /// and the first block.
    fn start_guarded(&mut self) -> (Option<BlockId>, BlockId, BlockId) {
        let outer = self.handler;
        let recovery = self.new_block();
        self.handler = Some(recovery);
        let start = self.new_block();
        self.terminate(Term::Jump(start));
        self.switch_to(start);
        (outer, recovery, start)
    }

    /// A speculation (`sema::fuse`):
    /// ```text
    /// pre:   callrt SpecEnter(); jump start
    /// start: (handler rec) fast; jump done
    /// done:  callrt LiveExit(); jump after
    /// rec:   (handler: the enclosing one) callrt SpecAbort(); slow; jump after
    /// ```
    fn speculate(&mut self, at: Span, fast: &TBlock, slow: &TBlock) {
        let site = self.site(at);
        self.call_rt_only(RtFunc::SpecEnter, site);
        let (outer, recovery, _) = self.start_guarded();
        self.block(fast);
        self.handler = outer;
        let done = self.new_block();
        let after = self.new_block();
        self.terminate(Term::Jump(done));
        self.switch_to(done);
        self.call_rt_only(RtFunc::LiveExit, site);
        self.terminate(Term::Jump(after));
        self.switch_to(recovery);
        self.call_rt_only(RtFunc::SpecAbort, site);
        self.block(slow);
        self.terminate(Term::Jump(after));
        self.switch_to(after);
    }

    /// Checks one contract clause of `callee` at a call (`site`), with the clause's variables
    /// standing for `bindings`: on failure, a fault naming the function and the clause.
    fn check_clause(
        &mut self,
        callee: &TFunc,
        kind: ContractKind,
        clause: &TClause,
        bindings: Vec<Operand>,
        at: FaultAt,
    ) {
        let text = format!(
            "contract violated: {} {} {} (clause at {})",
            callee.name,
            kind.keyword(),
            one_line(&clause.text),
            locate(self.pools.source, clause.cond.span.start)
        );
        let (ok, fail) = (self.new_block(), self.new_block());
        let outside = self.bindings.replace(bindings);
        self.branch_on(&clause.cond, ok, fail);
        self.bindings = outside;
        self.switch_to(fail);
        let message = self.string(&text);
        match at {
            FaultAt::Site(site) => self.raise(message, site),
            FaultAt::Text(site_text, site) => {
                self.emit(Inst::CallRt {
                    dst: None,
                    func: RtFunc::FaultAt,
                    args: vec![message, Operand::Local(site_text)],
                    site,
                });
                self.terminate(Term::Unwind);
            }
        }
        self.switch_to(ok);
    }

    /// `while counter < end { body; counter += 1 }`, with `continue` going to the increment.
    fn counted_loop(
        &mut self,
        counter: Local,
        end: Operand,
        site: SiteId,
        body: impl FnOnce(&mut Self),
    ) {
        let header = self.new_block();
        let body_block = self.new_block();
        let step = self.new_block();
        let exit = self.new_block();
        self.terminate(Term::Jump(header));

        self.switch_to(header);
        let more = self.temp(Ty::Bool);
        self.emit(binary(
            more,
            BinaryOp::LtInt,
            Operand::Local(counter),
            end,
            site,
        ));
        self.terminate(Term::Branch {
            cond: Operand::Local(more),
            then_to: body_block,
            else_to: exit,
        });

        self.switch_to(body_block);
        self.loops.push(LoopTargets {
            break_to: exit,
            continue_to: step,
            lives: self.lives.len(),
            handler: self.handler,
        });
        body(self);
        self.loops.pop();
        self.terminate(Term::Jump(step));

        // `counter < end` held, so `counter + 1` cannot overflow.
        self.switch_to(step);
        self.mark_site(site);
        self.emit(binary(
            counter,
            BinaryOp::AddInt,
            Operand::Local(counter),
            Operand::Int(1),
            site,
        ));
        self.terminate(Term::Jump(header));
        self.switch_to(exit);
    }

    // ---- static variables -----------------------------------------------------------------

    /// The variable `var`'s current value: its local, loaded from its slot first for a
    /// `static let` (which another call may have changed since).
    /// `span` is where it is read (the runtime call names it, though it cannot fault).
    fn variable(&mut self, var: VarId, span: Span) -> Operand {
        let local = Local(var.0);
        if let Some(&slot) = self.statics.get(&var.0) {
            let site = self.site(span);
            self.emit(Inst::CallRt {
                dst: Some(local),
                func: RtFunc::StaticGet,
                args: vec![Operand::Int(i64::from(slot))],
                site,
            });
        }
        Operand::Local(local)
    }

    /// `static let var = value;`: the variable gets a slot of the program's, set to `value`
    /// the first time the statement runs; from here on every read of it reads the slot and
    /// every assignment writes it.
    fn static_let(&mut self, var: VarId, value: &TExpr) {
        let slot = self.pools.next_static;
        self.pools.next_static += 1;
        self.statics.insert(var.0, slot);
        let set = self.temp(Ty::Bool);
        let site = self.site(value.span);
        self.emit(Inst::CallRt {
            dst: Some(set),
            func: RtFunc::StaticIsSet,
            args: vec![Operand::Int(i64::from(slot))],
            site,
        });
        let (init, done) = (self.new_block(), self.new_block());
        self.terminate(Term::Branch {
            cond: Operand::Local(set),
            then_to: done,
            else_to: init,
        });
        self.switch_to(init);
        let local = Local(var.0);
        self.expr_into(value, local);
        self.store_static(var, site);
        self.terminate(Term::Jump(done));
        self.switch_to(done);
    }

    /// Writes the local of the `static let` `var` (moved) to its slot; `site` names the
    /// statement that does.
    fn store_static(&mut self, var: VarId, site: SiteId) {
        let Some(&slot) = self.statics.get(&var.0) else {
            return;
        };
        let local = Local(var.0);
        let ty = self.locals[var.0 as usize].ty;
        self.emit(Inst::CallRt {
            dst: None,
            func: RtFunc::StaticSet,
            args: vec![
                Operand::Int(i64::from(slot)),
                Operand::Local(local),
                Operand::Desc(ty),
            ],
            site,
        });
    }

    /// `place = value` (or `place op= rhs`, when `value` reads `Current`); for a `static let`,
    /// on its current value, then written back.
    fn assign(&mut self, place: &Place, value: &TExpr) {
        if self.statics.contains_key(&place.var.0) {
            self.variable(place.var, value.span);
            self.assign_local(place, value);
            let site = self.site(value.span);
            self.store_static(place.var, site);
            return;
        }
        self.assign_local(place, value);
    }

    /// `place = value` on the place's local.
    fn assign_local(&mut self, place: &Place, value: &TExpr) {
        let root = Local(place.var.0);
        if place.path.is_empty() {
            if let TExprKind::Binary { lhs, .. } = &value.kind {
                if matches!(lhs.kind, TExprKind::Current) {
                    self.current_value = Some(Operand::Local(root));
                }
            }
            self.expr_into(value, root);
            self.current_value = None;
            return;
        }
        // Indices first, left to right, then the value (or the right-hand side of a compound
        // assignment), all before any container is taken apart.
        let mut steps = Vec::with_capacity(place.path.len());
        let mut tys = vec![self.locals[root.0 as usize].ty];
        for step in &place.path {
            let container = *tys.last().expect("the root type is always there");
            match step {
                PathStep::Index { index, bracket } => {
                    let index = self.stable_operand(index, &[value]);
                    let site = self.site(*bracket);
                    steps.push(Step::Index(index, site));
                    let Ty::Array(id) = container else {
                        unreachable!("checked: indexing an array")
                    };
                    tys.push(self.out.elem(id));
                }
                PathStep::Field(i) => {
                    steps.push(Step::Field(*i));
                    let Ty::Struct(id) = container else {
                        unreachable!("checked: a field of a struct")
                    };
                    tys.push(self.out.struct_def(id).fields[*i as usize].ty);
                }
            }
        }
        let compound = match &value.kind {
            TExprKind::Binary {
                op,
                op_span,
                lhs,
                rhs,
            } if matches!(lhs.kind, TExprKind::Current) => {
                Some((*op, *op_span, lhs.ty, self.value(rhs)))
            }
            _ => None,
        };
        let update = match compound {
            None => in_place_update(place, value),
            Some(_) => None,
        };
        if let Some((_, _, brackets)) = &update {
            // Bounds faults name the right-hand side's brackets, read first without the rewrite.
            let mut brackets = brackets.iter().rev();
            for step in &mut steps {
                if let Step::Index(_, site) = step {
                    if let Some(bracket) = brackets.next() {
                        *site = self.site(*bracket);
                    }
                }
            }
        }
        let plain = match (compound, &update) {
            (None, None) => {
                let v = self.value(value);
                // The root is about to change in place: keep the value's own reference.
                Some(if v == Operand::Local(root) {
                    self.copied(v)
                } else {
                    v
                })
            }
            _ => None,
        };
        let mut containers = vec![root];
        for (k, step) in steps[..steps.len() - 1].iter().enumerate() {
            let parent = *containers.last().expect("non-empty");
            let child = self.temp(tys[k + 1]);
            self.emit(match *step {
                Step::Index(index, site) => Inst::ArrayTake {
                    dst: child,
                    array: parent,
                    index,
                    site,
                },
                Step::Field(field) => Inst::FieldTake {
                    dst: child,
                    object: parent,
                    field,
                },
            });
            containers.push(child);
        }
        let last = *containers.last().expect("non-empty");
        let last_step = steps[steps.len() - 1];
        let new_value = match (plain, compound, update) {
            (Some(v), _, _) => v,
            (None, None, Some((func, rest, _))) => {
                // `place = push(place, x)`: the old value moves out of its container into the
                // call, which then finds it unique and grows it in place.
                let current = self.current_of(last, last_step, tys[tys.len() - 1]);
                let rest: Vec<&TExpr> = rest.iter().collect();
                let mut args = vec![Operand::Local(current)];
                args.extend(self.operands_in_order(&rest));
                let site = self.site(value.span);
                self.call_rt(func, args, value.ty.to_ir(), site)
            }
            (None, Some((op, op_span, lhs_ty, rhs)), _) => {
                let current = self.current_of(last, last_step, tys[tys.len() - 1]);
                self.binary_values(
                    op,
                    op_span,
                    lhs_ty,
                    value.ty,
                    Operand::Local(current),
                    rhs,
                    None,
                )
            }
            (None, None, None) => unreachable!("a plain, compound or in-place assignment"),
        };
        self.set(last, last_step, new_value);
        for k in (1..containers.len()).rev() {
            self.set(
                containers[k - 1],
                steps[k - 1],
                Operand::Local(containers[k]),
            );
        }
    }

    /// The current value of the place `step` of `container`, about to be replaced by a value
    /// computed from it: a heap value is moved out (its slot left empty until the `set` that
    /// follows), so that the computation finds it unique and can update it in place instead of
    /// copying it; a scalar is read.
    fn current_of(&mut self, container: Local, step: Step, ty: Ty) -> Local {
        let current = self.temp(ty);
        self.emit(match (step, ty.is_heap()) {
            (Step::Index(index, site), true) => Inst::ArrayTake {
                dst: current,
                array: container,
                index,
                site,
            },
            (Step::Index(index, site), false) => Inst::ArrayGet {
                dst: current,
                array: Operand::Local(container),
                index,
                site,
            },
            (Step::Field(field), true) => Inst::FieldTake {
                dst: current,
                object: container,
                field,
            },
            (Step::Field(field), false) => Inst::FieldGet {
                dst: current,
                object: Operand::Local(container),
                field,
            },
        });
        current
    }

    fn set(&mut self, container: Local, step: Step, value: Operand) {
        self.emit(match step {
            Step::Index(index, site) => Inst::ArraySet {
                array: container,
                index,
                value,
                site,
            },
            Step::Field(field) => Inst::FieldSet {
                object: container,
                field,
                value,
            },
        });
    }

    /// Copies an operand into a fresh temporary.
    fn copied(&mut self, value: Operand) -> Operand {
        let ty = match value {
            Operand::Local(l) => self.locals[l.0 as usize].ty,
            _ => return value,
        };
        let copy = self.temp(ty);
        self.emit(Inst::Copy {
            dst: copy,
            src: value,
        });
        Operand::Local(copy)
    }

    /// Lowers a condition straight into a branch, short-circuiting `&&`, `||` and `!`.
    fn branch_on(&mut self, cond: &TExpr, then_to: BlockId, else_to: BlockId) {
        match &cond.kind {
            TExprKind::Logic { is_and, lhs, rhs } => {
                let rhs_block = self.new_block();
                if *is_and {
                    self.branch_on(lhs, rhs_block, else_to);
                } else {
                    self.branch_on(lhs, then_to, rhs_block);
                }
                self.switch_to(rhs_block);
                self.branch_on(rhs, then_to, else_to);
            }
            TExprKind::Unary {
                op: UnOp::Not,
                operand,
            } => self.branch_on(operand, else_to, then_to),
            _ => {
                let value = self.value(cond);
                self.terminate(Term::Branch {
                    cond: value,
                    then_to,
                    else_to,
                });
            }
        }
    }

    // ---- expressions ---------------------------------------------------------------------------

    /// Lowers an expression that has a value.
    fn value(&mut self, expr: &TExpr) -> Operand {
        match self.expr(expr) {
            Some(op) => op,
            None => self.default_value(expr.ty.to_ir()),
        }
    }

    /// Lowers an expression and stores its value in `dst`, computing straight into it when it can.
    fn expr_into(&mut self, expr: &TExpr, dst: Local) {
        match &expr.kind {
            TExprKind::Binary { .. } | TExprKind::Unary { .. } | TExprKind::Call { .. } => {
                self.compute(expr, Some(dst));
            }
            _ => {
                let Some(src) = self.expr(expr) else { return };
                if src == Operand::Local(dst) {
                    return;
                }
                // A fresh temporary just computed by the last instruction: compute into `dst`.
                if let Operand::Local(t) = src {
                    let fresh = t.0 >= self.first_temp;
                    let insts = &mut self.blocks[self.current.0 as usize].insts;
                    if let Some(last) = insts.last_mut().filter(|i| fresh && i.def() == Some(t)) {
                        last.set_def(dst);
                        return;
                    }
                }
                self.emit(Inst::Copy { dst, src });
            }
        }
    }

    /// Lowers an expression, returning its value (`None` for `void`).
    fn expr(&mut self, expr: &TExpr) -> Option<Operand> {
        let ty = expr.ty.to_ir();
        match &expr.kind {
            TExprKind::Int(v) => Some(Operand::Int(*v)),
            TExprKind::Float(v) => Some(Operand::Float(v.to_bits())),
            TExprKind::Bool(b) => Some(Operand::Bool(*b)),
            TExprKind::Str(s) => Some(self.string(s)),
            TExprKind::Var(var) => Some(match &self.bindings {
                Some(bindings) => bindings[var.0 as usize],
                None => self.variable(*var, expr.span),
            }),
            TExprKind::Current => Some(
                self.current_value
                    .expect("Current appears only in compound assignments"),
            ),
            TExprKind::Binary { .. } | TExprKind::Unary { .. } | TExprKind::Call { .. } => {
                self.compute(expr, None)
            }
            TExprKind::Closure(closure) => Some(self.closure(closure, ty, expr.span)),
            TExprKind::FuncRef(func) => {
                Some(self.function_value(ValueFn::Func(*func), ty, expr.span))
            }
            TExprKind::VariantRef { variant, tag } => Some(self.function_value(
                ValueFn::Variant {
                    variant: *variant,
                    tag: *tag,
                },
                ty,
                expr.span,
            )),
            TExprKind::CallValue {
                callee,
                args,
                callee_span,
            } => {
                let mut exprs: Vec<&TExpr> = vec![callee];
                exprs.extend(args);
                let mut values = self.operands_in_order(&exprs);
                let callee = values.remove(0);
                // Calls inside a contract clause check no contracts (`--no-contracts`: none).
                let text = if self.bindings.is_none() && self.callees.contracts {
                    self.pools.site_text(*callee_span)
                } else {
                    String::new()
                };
                let text = self.string(&text);
                values.extend([callee, text]);
                let site = self.site(*callee_span);
                let dst = (ty != Ty::Void).then(|| self.temp(ty));
                self.emit(Inst::CallIndirect {
                    dst,
                    args: values,
                    site,
                    known: None,
                });
                dst.map(Operand::Local)
            }
            TExprKind::Logic { .. } => {
                let result = self.temp(Ty::Bool);
                let (yes, no, join) = (self.new_block(), self.new_block(), self.new_block());
                self.branch_on(expr, yes, no);
                for (block, value) in [(yes, true), (no, false)] {
                    self.switch_to(block);
                    self.emit(Inst::Copy {
                        dst: result,
                        src: Operand::Bool(value),
                    });
                    self.terminate(Term::Jump(join));
                }
                self.switch_to(join);
                Some(Operand::Local(result))
            }
            TExprKind::Builtin { builtin, args } => self.builtin(*builtin, args, ty, expr.span),
            TExprKind::If {
                cond, then, else_, ..
            } => {
                let result = (ty != Ty::Void).then(|| self.temp(ty));
                let (then_block, else_block, join) =
                    (self.new_block(), self.new_block(), self.new_block());
                self.branch_on(cond, then_block, else_block);
                self.switch_to(then_block);
                let then_value = self.block(then);
                self.store_branch(result, then_value);
                self.terminate(Term::Jump(join));
                self.switch_to(else_block);
                if let Some(else_) = else_ {
                    let else_value = self.expr(else_);
                    self.store_branch(result, else_value);
                }
                self.terminate(Term::Jump(join));
                self.switch_to(join);
                result.map(Operand::Local)
            }
            TExprKind::Block(block) => {
                let value = self.block(block);
                if expr.ty == Type::Void {
                    None
                } else {
                    value
                }
            }
            TExprKind::Array(items) => {
                let Ty::Array(id) = ty else {
                    unreachable!("checked: an array literal has an array type")
                };
                let refs: Vec<&TExpr> = items.iter().collect();
                let values = self.operands_in_order(&refs);
                let dst = self.temp(ty);
                self.emit(Inst::NewArray {
                    dst,
                    ty: id,
                    items: values,
                });
                Some(Operand::Local(dst))
            }
            TExprKind::New { id, fields, order } => {
                // Evaluate in the order written, store in declaration order.
                let written: Vec<&TExpr> = order.iter().map(|&i| &fields[i]).collect();
                let values = self.operands_in_order(&written);
                let mut by_field = vec![Operand::Int(0); fields.len()];
                for (&i, value) in order.iter().zip(values) {
                    by_field[i] = value;
                }
                let dst = self.temp(ty);
                self.emit(Inst::NewStruct {
                    dst,
                    ty: ir::StructId(*id),
                    fields: by_field,
                });
                Some(Operand::Local(dst))
            }
            TExprKind::Index {
                base,
                index,
                bracket,
            } => {
                let array = self.stable_operand(base, &[index]);
                let index = self.value(index);
                let site = self.site(*bracket);
                let dst = self.temp(ty);
                self.emit(Inst::ArrayGet {
                    dst,
                    array,
                    index,
                    site,
                });
                Some(Operand::Local(dst))
            }
            TExprKind::Slice {
                base,
                start,
                end,
                bracket,
            } => {
                let values = self.operands_in_order(&[base, start, end]);
                let site = self.site(*bracket);
                let func = if base.ty == Type::Str {
                    RtFunc::StrSubstring
                } else {
                    RtFunc::ArraySlice
                };
                Some(self.call_rt(func, values, ty, site))
            }
            TExprKind::Field { base, index } => {
                let object = self.value(base);
                let dst = self.temp(ty);
                self.emit(Inst::FieldGet {
                    dst,
                    object,
                    field: *index,
                });
                Some(Operand::Local(dst))
            }
            TExprKind::Variant { variant, tag, args } => {
                let written: Vec<&TExpr> = args.iter().collect();
                let mut fields = vec![Operand::Int(i64::from(*tag))];
                fields.extend(self.operands_in_order(&written));
                let dst = self.temp(ty);
                self.emit(Inst::NewStruct {
                    dst,
                    ty: ir::StructId(*variant),
                    fields,
                });
                Some(Operand::Local(dst))
            }
            TExprKind::Payload {
                base,
                variant,
                field,
            } => {
                let object = self.value(base);
                let dst = self.temp(ty);
                self.emit(Inst::VariantField {
                    dst,
                    object,
                    variant: ir::StructId(*variant),
                    field: *field,
                });
                Some(Operand::Local(dst))
            }
            TExprKind::Error => unreachable!("lowering runs only on programs that checked"),
        }
    }

    fn store_branch(&mut self, result: Option<Local>, value: Option<Operand>) {
        if let (Some(dst), Some(src)) = (result, value) {
            self.emit(Inst::Copy { dst, src });
        }
    }

    /// Lowers an operand that a later sibling expression could change: a variable read is copied
    /// into a temporary when `later` may assign variables, keeping left-to-right evaluation.
    fn stable_operand(&mut self, expr: &TExpr, later: &[&TExpr]) -> Operand {
        let value = self.value(expr);
        if matches!(value, Operand::Local(l) if self.locals[l.0 as usize].name.is_some())
            && later.iter().any(|e| e.may_assign())
        {
            return self.copied(value);
        }
        value
    }

    // ---- function values ------------------------------------------------------------------------

    /// A closure's value: its function is lowered now (as a function of the program's), its
    /// closure type made, and the object built from the captured variables' current values.
    fn closure(&mut self, closure: &TClosure, ty: Ty, span: Span) -> Operand {
        let func = self.pools.reserve_function();
        let captures: Vec<(String, Ty)> = (closure.captures.iter())
            .map(|&(_, own)| {
                let (name, ty) = &closure.func.vars[own.0 as usize];
                (name.clone(), ty.to_ir())
            })
            .collect();
        let name = format!("closure#{}", func.0 - self.pools.first_lifted);
        let env = self.closure_type(ty, func, name.clone(), captures);
        let lowered = FnLowerer::lower_with(
            &closure.func,
            Some((env, &closure.captures)),
            self.callees,
            self.pools,
            self.out,
        );
        let lowered = ir::Function { name, ..lowered };
        self.pools.fill_function(func, lowered);
        let fields = (closure.captures.iter())
            .map(|&(outer, _)| self.variable(outer, span))
            .collect();
        let dst = self.temp(ty);
        self.emit(Inst::NewStruct {
            dst,
            ty: env,
            fields,
        });
        Operand::Local(dst)
    }

    /// A new closure type of function type `fn_type`, calling `func`, printed as `<name>`.
    fn closure_type(
        &mut self,
        fn_type: Ty,
        func: FuncId,
        name: String,
        captures: Vec<(String, Ty)>,
    ) -> ir::StructId {
        let Ty::Struct(of) = fn_type else {
            unreachable!("checked: a function value has a function type")
        };
        let id = ir::StructId(self.out.structs.len() as u32);
        (self.out.structs).push(ir::StructDef::closure(of, func, name, captures));
        id
    }

    /// A function value without captures for `what`, of type `fn_type` (written at `span`): an
    /// object of its closure type, whose function is made on first use.
    fn function_value(&mut self, what: ValueFn, fn_type: Ty, span: Span) -> Operand {
        let env = match self.pools.value_types.get(&what) {
            Some(&env) => env,
            None => {
                let func = self.pools.reserve_function();
                let name = match what {
                    ValueFn::Func(f) => format!("fn {}", self.callees.funcs[f as usize].name),
                    ValueFn::Variant { variant, .. } => {
                        format!("fn {}", self.variant_name(variant))
                    }
                    ValueFn::Default(id) => format!("fn default#{}", id.0),
                };
                let env = self.closure_type(fn_type, func, name.clone(), Vec::new());
                self.pools.value_types.insert(what, env);
                let site = self.site(span);
                let lowered = FnLowerer::value_function(
                    what,
                    env,
                    name,
                    site,
                    self.callees,
                    self.pools,
                    self.out,
                );
                self.pools.fill_function(func, lowered);
                env
            }
        };
        let dst = self.temp(fn_type);
        self.emit(Inst::NewStruct {
            dst,
            ty: env,
            fields: Vec::new(),
        });
        Operand::Local(dst)
    }

    /// How variant struct `variant` is written: `Color::Rgb` (`Some` for the prelude's).
    fn variant_name(&self, variant: u32) -> String {
        let def = self.out.struct_def(ir::StructId(variant));
        match def.kind {
            ir::StructKind::Variant { of, .. } => {
                let enum_name = self.out.struct_def(of).printed_name();
                if matches!(enum_name, "Option" | "Result") {
                    def.name.clone()
                } else {
                    format!("{enum_name}::{}", def.name)
                }
            }
            _ => def.name.clone(),
        }
    }

    /// The function of closure type `env` (of a function value made for `what`): it calls the
    /// named function (checking its contracts at the site text it is passed), builds the
    /// variant, or returns a default value.
    #[allow(clippy::too_many_arguments)]
    fn value_function(
        what: ValueFn,
        env: ir::StructId,
        name: String,
        site: SiteId,
        callees: Callees<'p>,
        pools: &'p mut Pools<'s>,
        out: &'p mut ir::Program,
    ) -> ir::Function {
        let ir::StructKind::Closure { of, .. } = out.struct_def(env).kind else {
            unreachable!("a function value's type is a closure type")
        };
        let (params, ret) = out.struct_def(of).signature();
        let mut locals: Vec<LocalInfo> = (params.iter())
            .map(|&ty| LocalInfo { ty, name: None })
            .collect();
        locals.push(LocalInfo {
            ty: Ty::Struct(env),
            name: None,
        });
        locals.push(LocalInfo {
            ty: Ty::Str,
            name: None,
        });
        let param_count = locals.len() as u32;
        let mut lowerer = FnLowerer::start(locals, ret, callees, pools, out);
        let args: Vec<Operand> = (0..params.len())
            .map(|p| Operand::Local(Local(p as u32)))
            .collect();
        let site_text = Local(param_count - 1);
        let value = match what {
            ValueFn::Func(f) => {
                let callee = &callees.funcs[f as usize];
                let checked = callees.contracts;
                if checked {
                    for clause in &callee.requires {
                        let at = FaultAt::Text(site_text, site);
                        let kind = ContractKind::Requires;
                        lowerer.check_clause(callee, kind, clause, args.clone(), at);
                    }
                }
                let result = (ret != Ty::Void).then(|| lowerer.temp(ret));
                lowerer.emit(Inst::Call {
                    dst: result,
                    func: FuncId(f),
                    args: args.clone(),
                    site,
                });
                if checked {
                    for clause in &callee.ensures {
                        let mut bindings = args.clone();
                        bindings.extend(result.map(Operand::Local));
                        let at = FaultAt::Text(site_text, site);
                        let kind = ContractKind::Ensures;
                        lowerer.check_clause(callee, kind, clause, bindings, at);
                    }
                }
                result.map(Operand::Local)
            }
            ValueFn::Variant { variant, tag } => {
                let mut fields = vec![Operand::Int(i64::from(tag))];
                fields.extend(args);
                let dst = lowerer.temp(ret);
                lowerer.emit(Inst::NewStruct {
                    dst,
                    ty: ir::StructId(variant),
                    fields,
                });
                Some(Operand::Local(dst))
            }
            ValueFn::Default(_) => (ret != Ty::Void).then(|| lowerer.default_value(ret)),
        };
        lowerer.terminate(Term::Return(value));
        let mut lowered = ir::Function {
            name,
            param_count,
            ret,
            locals: lowerer.locals,
            blocks: lowerer.blocks,
            env: true,
        };
        ir::passes::run_on_function(&mut lowered);
        lowered
    }

    /// Lowers several expressions left to right.
    fn operands_in_order(&mut self, exprs: &[&TExpr]) -> Vec<Operand> {
        let mut values = Vec::with_capacity(exprs.len());
        for (i, expr) in exprs.iter().enumerate() {
            values.push(self.stable_operand(expr, &exprs[i + 1..]));
        }
        values
    }

    /// Lowers a unary op, binary op or call, into `dst` or a fresh temporary.
    fn compute(&mut self, expr: &TExpr, dst: Option<Local>) -> Option<Operand> {
        let ty = expr.ty.to_ir();
        match &expr.kind {
            TExprKind::Binary {
                op,
                op_span,
                lhs,
                rhs,
            } => {
                let a = self.stable_operand(lhs, &[rhs]);
                let b = self.value(rhs);
                Some(self.binary_values(*op, *op_span, lhs.ty, expr.ty, a, b, dst))
            }
            TExprKind::Unary { op, operand } => {
                let src = self.value(operand);
                let site = self.site(expr.span);
                let dst = dst.unwrap_or_else(|| self.temp(ty));
                let op = match (op, operand.ty) {
                    (UnOp::Neg, Type::Float) => UnaryOp::NegFloat,
                    (UnOp::Neg, _) => UnaryOp::NegInt,
                    (UnOp::Not, _) => UnaryOp::Not,
                };
                self.emit(Inst::Unary { dst, op, src, site });
                Some(Operand::Local(dst))
            }
            TExprKind::Call {
                func,
                args,
                callee_span,
            } => {
                let refs: Vec<&TExpr> = args.iter().collect();
                let values = self.operands_in_order(&refs);
                let site = self.site(*callee_span);
                let callees = self.callees;
                let ret = callees.signatures[*func as usize];
                let callee = &callees.funcs[*func as usize];
                let checked = callees.contracts && self.bindings.is_none();
                if checked {
                    for clause in &callee.requires {
                        self.check_clause(
                            callee,
                            ContractKind::Requires,
                            clause,
                            values.clone(),
                            FaultAt::Site(site),
                        );
                    }
                }
                let ensures = if checked { &callee.ensures[..] } else { &[] };
                // `ensures` reads the arguments after the call: the result must not overwrite
                // one of them (`x = f(x)`).
                let into =
                    dst.filter(|&d| ensures.is_empty() || !values.contains(&Operand::Local(d)));
                let result = if ret == Ty::Void {
                    None
                } else {
                    Some(into.unwrap_or_else(|| self.temp(ret)))
                };
                self.emit(Inst::Call {
                    dst: result,
                    func: FuncId(*func),
                    args: values.clone(),
                    site,
                });
                for clause in ensures {
                    let mut bindings = values.clone();
                    bindings.extend(result.map(Operand::Local));
                    self.check_clause(
                        callee,
                        ContractKind::Ensures,
                        clause,
                        bindings,
                        FaultAt::Site(site),
                    );
                }
                match (dst, result) {
                    (Some(dst), Some(result)) if dst != result => {
                        self.emit(Inst::Copy {
                            dst,
                            src: Operand::Local(result),
                        });
                        Some(Operand::Local(dst))
                    }
                    _ => result.map(Operand::Local),
                }
            }
            _ => unreachable!("compute handles only operations and calls"),
        }
    }

    /// `a op b` for operands already evaluated; `operand` is the type of `a`, `result` of the
    /// whole expression. The result goes to `dst` when given.
    #[allow(clippy::too_many_arguments)]
    fn binary_values(
        &mut self,
        op: BinOp,
        op_span: Span,
        operand: Type,
        result: Type,
        a: Operand,
        b: Operand,
        dst: Option<Local>,
    ) -> Operand {
        let site = self.site(op_span);
        let ty = result.to_ir();
        let dst = dst.unwrap_or_else(|| self.temp(ty));
        let rhs_ty = match b {
            Operand::Local(l) => self.locals[l.0 as usize].ty,
            Operand::Int(_) => Ty::Int,
            Operand::Bool(_) => Ty::Bool,
            Operand::Float(_) => Ty::Float,
            Operand::Str(_) => Ty::Str,
            Operand::Desc(_) => unreachable!("descriptors are not values"),
        };
        if op == BinOp::Add && result == Type::Str {
            let a = self.render(a, operand.to_ir(), site);
            let b = self.render(b, rhs_ty, site);
            self.emit(Inst::CallRt {
                dst: Some(dst),
                func: RtFunc::StrConcat,
                args: vec![a, b],
                site,
            });
            return Operand::Local(dst);
        }
        if operand.is_heap() {
            // Comparisons of strings, arrays and structs go through the runtime.
            match op {
                BinOp::Eq | BinOp::Ne => {
                    let func = if operand == Type::Str {
                        RtFunc::StrEq
                    } else {
                        RtFunc::ValueEq
                    };
                    if op == BinOp::Eq {
                        self.emit(Inst::CallRt {
                            dst: Some(dst),
                            func,
                            args: vec![a, b],
                            site,
                        });
                    } else {
                        let eq = self.call_rt(func, vec![a, b], Ty::Bool, site);
                        self.emit(Inst::Unary {
                            dst,
                            op: UnaryOp::Not,
                            src: eq,
                            site,
                        });
                    }
                }
                _ => {
                    let order = self.call_rt(RtFunc::StrCmp, vec![a, b], Ty::Int, site);
                    let cmp = binary_op(op, Type::Int);
                    self.emit(binary(dst, cmp, order, Operand::Int(0), site));
                }
            }
            return Operand::Local(dst);
        }
        self.emit(binary(dst, binary_op(op, operand), a, b, site));
        Operand::Local(dst)
    }

    /// A string with the text of `value` (of type `ty`), for `+` and `to_string`.
    fn render(&mut self, value: Operand, ty: Ty, site: SiteId) -> Operand {
        let func = match ty {
            Ty::Str => return value,
            Ty::Int => RtFunc::IntToStr,
            Ty::Float => RtFunc::FloatToStr,
            Ty::Bool => RtFunc::BoolToStr,
            Ty::Array(_) | Ty::Struct(_) | Ty::Map(_) => RtFunc::ValueToStr,
            Ty::Void => unreachable!("checked: void is never rendered"),
        };
        self.call_rt(func, vec![value], Ty::Str, site)
    }

    fn builtin(&mut self, builtin: Builtin, args: &[TExpr], ty: Ty, span: Span) -> Option<Operand> {
        let refs: Vec<&TExpr> = args.iter().collect();
        let values = self.operands_in_order(&refs);
        let site = self.site(span);
        match builtin {
            Builtin::Exit => {
                self.terminate(Term::Exit(values[0]));
                None
            }
            Builtin::Print | Builtin::Println | Builtin::Eprintln => {
                let stream = if builtin == Builtin::Eprintln {
                    Stream::Stderr
                } else {
                    Stream::Stdout
                };
                let newline = builtin != Builtin::Print;
                self.emit(Inst::Print {
                    value: values[0],
                    ty: args[0].ty.to_ir(),
                    newline,
                    stream,
                });
                None
            }
            Builtin::ArrayLen => {
                let dst = self.temp(Ty::Int);
                self.emit(Inst::ArrayLen {
                    dst,
                    array: values[0],
                });
                Some(Operand::Local(dst))
            }
            Builtin::ToString => Some(self.render(values[0], args[0].ty.to_ir(), site)),
            Builtin::ToFloat | Builtin::ToInt => {
                let op = if builtin == Builtin::ToFloat {
                    UnaryOp::IntToFloat
                } else {
                    UnaryOp::FloatToInt
                };
                let dst = self.temp(ty);
                self.emit(Inst::Unary {
                    dst,
                    op,
                    src: values[0],
                    site,
                });
                Some(Operand::Local(dst))
            }
            Builtin::ArrayFill => {
                let args = vec![Operand::Desc(ty), values[0], values[1]];
                Some(self.call_rt(RtFunc::ArrayFill, args, ty, site))
            }
            Builtin::Rt(func) if ty == Ty::Void => {
                self.emit(Inst::CallRt {
                    dst: None,
                    func,
                    args: values,
                    site,
                });
                None
            }
            Builtin::Rt(func) => Some(self.call_rt(func, values, ty, site)),
            Builtin::RtCoded(func, code) => {
                let mut args: Vec<Operand> =
                    std::iter::once(Operand::Int(code)).chain(values).collect();
                // A code's function of fewer arguments than the runtime's takes 0 for the rest.
                args.resize(func.sig().params.len().max(args.len()), Operand::Int(0));
                Some(self.call_rt(func, args, ty, site))
            }
            Builtin::MapNew => {
                Some(self.call_rt(RtFunc::MapNew, vec![Operand::Desc(ty)], ty, site))
            }
            Builtin::SetInsert => {
                let args = vec![values[0], values[1], Operand::Int(0)];
                Some(self.call_rt(RtFunc::MapInsert, args, ty, site))
            }
            Builtin::SessionSet => {
                self.emit(Inst::CallRt {
                    dst: None,
                    func: RtFunc::SessionSet,
                    args: vec![values[0], values[1], Operand::Desc(args[1].ty.to_ir())],
                    site,
                });
                None
            }
            Builtin::JsonEncode => {
                let args = vec![Operand::Desc(args[0].ty.to_ir()), values[0]];
                Some(self.call_rt(RtFunc::JsonEncode, args, ty, site))
            }
            Builtin::MapArray(func) => {
                let args = vec![values[0], Operand::Desc(ty)];
                Some(self.call_rt(func, args, ty, site))
            }
        }
    }
}

/// Where `offset` of the span space is: in one of the program's files, or in the prelude's
/// (a fault inside a prelude function names its `stdlib/` file).
fn locate(source: &dyn Sources, offset: u32) -> crate::diag::Location<'_> {
    super::prelude_location(offset).unwrap_or_else(|| source.locate(offset))
}

fn binary(dst: Local, op: BinaryOp, lhs: Operand, rhs: Operand, site: SiteId) -> Inst {
    Inst::Binary {
        dst,
        op,
        lhs,
        rhs,
        site,
    }
}

/// The IR operation for a checked binary operator on scalars whose left operand has type `operand`.
fn binary_op(op: BinOp, operand: Type) -> BinaryOp {
    let on_bool = operand == Type::Bool;
    let on_float = operand == Type::Float;
    match op {
        BinOp::Add if on_float => BinaryOp::AddFloat,
        BinOp::Sub if on_float => BinaryOp::SubFloat,
        BinOp::Mul if on_float => BinaryOp::MulFloat,
        BinOp::Div if on_float => BinaryOp::DivFloat,
        BinOp::Eq if on_float => BinaryOp::EqFloat,
        BinOp::Ne if on_float => BinaryOp::NeFloat,
        BinOp::Lt if on_float => BinaryOp::LtFloat,
        BinOp::Le if on_float => BinaryOp::LeFloat,
        BinOp::Gt if on_float => BinaryOp::GtFloat,
        BinOp::Ge if on_float => BinaryOp::GeFloat,
        BinOp::Add => BinaryOp::AddInt,
        BinOp::Sub => BinaryOp::SubInt,
        BinOp::Mul => BinaryOp::MulInt,
        BinOp::Div => BinaryOp::DivInt,
        BinOp::Rem => BinaryOp::RemInt,
        BinOp::Shl => BinaryOp::Shl,
        BinOp::Shr => BinaryOp::Shr,
        BinOp::BitAnd => BinaryOp::BitAnd,
        BinOp::BitOr => BinaryOp::BitOr,
        BinOp::BitXor => BinaryOp::BitXor,
        BinOp::Eq if on_bool => BinaryOp::EqBool,
        BinOp::Ne if on_bool => BinaryOp::NeBool,
        BinOp::Eq => BinaryOp::EqInt,
        BinOp::Ne => BinaryOp::NeInt,
        BinOp::Lt => BinaryOp::LtInt,
        BinOp::Le => BinaryOp::LeInt,
        BinOp::Gt => BinaryOp::GtInt,
        BinOp::Ge => BinaryOp::GeInt,
        BinOp::And | BinOp::Or => unreachable!("`&&` and `||` are lowered as control flow"),
    }
}

/// Where the code of `stmt` begins, for its [`Inst::Line`] marker: the span of its first
/// expression or keyword; `None` for the statements without one (`break`, `continue`, a bare
/// `return`: their code belongs to the statement before) and for `while`, whose marker is in
/// its loop header, where the condition is tested every round.
fn statement_start(stmt: &TStmt) -> Option<Span> {
    match stmt {
        TStmt::Assign { value, .. } | TStmt::StaticLet { value, .. } => Some(value.span),
        TStmt::Expr(expr) | TStmt::Return(Some(expr)) => Some(expr.span),
        TStmt::ForRange { span, .. } | TStmt::ForEach { span, .. } => Some(*span),
        TStmt::Assert { keyword, .. } => Some(*keyword),
        TStmt::Live(live) => Some(live.keyword),
        TStmt::Speculate { at, .. } | TStmt::Fault { at, .. } => Some(*at),
        TStmt::While { .. } | TStmt::Break | TStmt::Continue | TStmt::Return(None) => None,
    }
}

/// Source text quoted in a fault message, on one line: each line break, with the indentation
/// around it, becomes one space (`requires a > 0\n        && b > 0` reads `a > 0 && b > 0`).
fn one_line(text: &str) -> String {
    let mut lines = text.lines().map(str::trim);
    let first = lines.next().unwrap_or_default();
    lines.fold(first.to_string(), |mut joined, line| {
        if !line.is_empty() {
            joined.push(' ');
            joined.push_str(line);
        }
        joined
    })
}

/// Recognises `place = f(place, rest...)` for a runtime function `f` that consumes its first
/// argument (`push`, `pop`, `concat`, `reverse`, `sort`), where `place` has a path (`s.f`,
/// `a[i]`): returns `f` and `rest`. Then the old value can move from its container into `f`
/// instead of being copied, which keeps `s.items = push(s.items, x)` in a loop linear. Only when
/// nothing else in the assignment could observe the emptied place: each index of `place` is the
/// same variable or literal on both sides, and `rest` neither reads the root variable nor
/// contains statements. Also returns the brackets of the indices read on the right-hand side
/// (innermost first), whose sites a bounds fault reports, as it would without the rewrite.
fn in_place_update<'v>(
    place: &Place,
    value: &'v TExpr,
) -> Option<(RtFunc, &'v [TExpr], Vec<Span>)> {
    let TExprKind::Builtin {
        builtin: Builtin::Rt(func),
        args,
    } = &value.kind
    else {
        return None;
    };
    let (first, rest) = args.split_first()?;
    if place.path.is_empty() || func.sig().owned.first() != Some(&true) {
        return None;
    }
    let mut read = first;
    let mut brackets = Vec::new();
    for step in place.path.iter().rev() {
        read = match (step, &read.kind) {
            (PathStep::Field(i), TExprKind::Field { base, index }) if i == index => base,
            (
                PathStep::Index { index: written, .. },
                TExprKind::Index {
                    base,
                    index,
                    bracket,
                },
            ) if same_simple_operand(written, index) => {
                brackets.push(*bracket);
                base
            }
            _ => return None,
        };
    }
    let same_root = matches!(read.kind, TExprKind::Var(v) if v == place.var);
    let rest_is_independent = rest
        .iter()
        .all(|arg| !arg.may_assign() && !arg.may_read(place.var));
    (same_root && rest_is_independent).then_some((*func, rest, brackets))
}

/// Whether two index expressions are the same variable or the same integer literal.
fn same_simple_operand(a: &TExpr, b: &TExpr) -> bool {
    match (&a.kind, &b.kind) {
        (TExprKind::Var(x), TExprKind::Var(y)) => x == y,
        (TExprKind::Int(x), TExprKind::Int(y)) => x == y,
        _ => false,
    }
}
