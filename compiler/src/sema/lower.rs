//! Lowering: the typed tree to the IR.
//!
//! Each function becomes a control-flow graph. Variables become IR locals (parameters first, in
//! order); intermediate values become fresh temporary locals. `&&`, `||`, `if` and loops become
//! branches; `for i in a..b` evaluates both bounds once and counts in a hidden local, so assigning
//! the loop variable in the body does not change the iteration. Every instruction that can fault
//! gets the site of its operator (or callee) token. Code after `return`, `break`, `continue` or
//! `exit` lands in fresh blocks that `ir::passes::simplify_cfg` removes at the end, so every block
//! in the output is reachable from the entry.
//!
//! Lowering assumes the program checked without errors; it does not re-check anything.

use std::collections::HashMap;

use super::types::*;
use crate::diag::{SourceFile, Span};
use crate::ir::{
    self, BinaryOp, BlockId, FuncId, Inst, Local, LocalInfo, Operand, SiteId, Stream, Term, Ty,
    UnaryOp,
};
use crate::syntax::ast::{BinOp, UnOp};

/// Lowers a checked program. User functions keep their indices; the top-level body comes last.
pub fn lower_program(program: &TProgram, source: &SourceFile) -> ir::Program {
    let mut out = ir::Program {
        functions: Vec::new(),
        entry: FuncId(program.funcs.len() as u32),
        strings: Vec::new(),
        sites: Vec::new(),
        arrays: Vec::new(),
        structs: Vec::new(),
    };
    let mut pools = Pools {
        source,
        strings: HashMap::new(),
    };
    let signatures: Vec<Ty> = program.funcs.iter().map(|f| f.ret.to_ir()).collect();
    for func in program.funcs.iter().chain(std::iter::once(&program.main)) {
        let lowered = FnLowerer::lower(func, &signatures, &mut pools, &mut out);
        out.functions.push(lowered);
    }
    out
}

/// Program-wide tables filled while lowering.
struct Pools<'s> {
    source: &'s SourceFile,
    strings: HashMap<String, ir::StrId>,
}

impl Pools<'_> {
    fn string(&mut self, text: &str, out: &mut ir::Program) -> ir::StrId {
        if let Some(&id) = self.strings.get(text) {
            return id;
        }
        let id = ir::StrId(out.strings.len() as u32);
        out.strings.push(text.to_string());
        self.strings.insert(text.to_string(), id);
        id
    }

    fn site(&mut self, span: Span, out: &mut ir::Program) -> SiteId {
        let (line, col) = self.source.line_col(span.start);
        let site = ir::Site {
            file: self.source.name.clone(),
            line,
            col,
        };
        if out.sites.last() == Some(&site) {
            return SiteId(out.sites.len() as u32 - 1);
        }
        out.sites.push(site);
        SiteId(out.sites.len() as u32 - 1)
    }
}

/// Where `break` and `continue` go in the innermost loop.
struct LoopTargets {
    break_to: BlockId,
    continue_to: BlockId,
}

struct FnLowerer<'p, 's> {
    signatures: &'p [Ty],
    pools: &'p mut Pools<'s>,
    out: &'p mut ir::Program,
    locals: Vec<LocalInfo>,
    blocks: Vec<ir::Block>,
    /// The block being filled; `None` right after a terminator.
    current: BlockId,
    loops: Vec<LoopTargets>,
    ret: Ty,
}

impl<'p, 's> FnLowerer<'p, 's> {
    fn lower(
        func: &TFunc,
        signatures: &'p [Ty],
        pools: &'p mut Pools<'s>,
        out: &'p mut ir::Program,
    ) -> ir::Function {
        let locals = func
            .vars
            .iter()
            .map(|(name, ty)| LocalInfo {
                ty: ty.to_ir(),
                name: Some(name.clone()),
            })
            .collect();
        let ret = func.ret.to_ir();
        let mut lowerer = FnLowerer {
            signatures,
            pools,
            out,
            locals,
            blocks: Vec::new(),
            current: BlockId(0),
            loops: Vec::new(),
            ret,
        };
        lowerer.current = lowerer.new_block();
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
        };
        ir::passes::simplify_cfg::simplify(&mut lowered);
        lowered
    }

    // ---- building blocks ------------------------------------------------------------------------

    fn new_block(&mut self) -> BlockId {
        self.blocks.push(ir::Block {
            insts: Vec::new(),
            term: Term::Return(None),
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

    fn default_value(&mut self, ty: Ty) -> Operand {
        match ty {
            Ty::Bool => Operand::Bool(false),
            Ty::Str => Operand::Str(self.pools.string("", self.out)),
            Ty::Float => Operand::Float(0),
            Ty::Int | Ty::Void => Operand::Int(0),
            Ty::Array(_) | Ty::Struct(_) => unreachable!("no array or struct types yet"),
        }
    }

    // ---- statements ----------------------------------------------------------------------------

    /// Lowers a block's statements, returning its tail's value (if it has one).
    fn block(&mut self, block: &TBlock) -> Option<Operand> {
        for stmt in &block.stmts {
            self.stmt(stmt);
        }
        block.tail.as_ref().and_then(|tail| self.expr(tail))
    }

    fn stmt(&mut self, stmt: &TStmt) {
        match stmt {
            TStmt::Assign { var, value } => self.expr_into(value, Local(var.0)),
            TStmt::Expr(expr) => {
                self.expr(expr);
            }
            TStmt::While { cond, body } => {
                let header = self.new_block();
                let body_block = self.new_block();
                let exit = self.new_block();
                self.terminate(Term::Jump(header));
                self.switch_to(header);
                self.branch_on(cond, body_block, exit);
                self.switch_to(body_block);
                self.loops.push(LoopTargets {
                    break_to: exit,
                    continue_to: header,
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
                    Operand::Local(end_value),
                    site,
                ));
                self.terminate(Term::Branch {
                    cond: Operand::Local(more),
                    then_to: body_block,
                    else_to: exit,
                });

                self.switch_to(body_block);
                self.emit(Inst::Copy {
                    dst: Local(var.0),
                    src: Operand::Local(counter),
                });
                self.loops.push(LoopTargets {
                    break_to: exit,
                    continue_to: step,
                });
                self.block(body);
                self.loops.pop();
                self.terminate(Term::Jump(step));

                // `counter < end` held, so `counter + 1` cannot overflow.
                self.switch_to(step);
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
            TStmt::Break => {
                let target = self
                    .loops
                    .last()
                    .expect("checked: break is inside a loop")
                    .break_to;
                self.terminate(Term::Jump(target));
            }
            TStmt::Continue => {
                let target = self
                    .loops
                    .last()
                    .expect("checked: continue is inside a loop")
                    .continue_to;
                self.terminate(Term::Jump(target));
            }
            TStmt::Return(value) => {
                let value = value.as_ref().and_then(|v| self.expr(v));
                let value = if self.ret == Ty::Void { None } else { value };
                self.terminate(Term::Return(value));
            }
        }
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
                if let Some(src) = self.expr(expr) {
                    if src != Operand::Local(dst) {
                        self.emit(Inst::Copy { dst, src });
                    }
                }
            }
        }
    }

    /// Lowers an expression, returning its value (`None` for `void`).
    fn expr(&mut self, expr: &TExpr) -> Option<Operand> {
        match &expr.kind {
            TExprKind::Int(v) => Some(Operand::Int(*v)),
            TExprKind::Bool(b) => Some(Operand::Bool(*b)),
            TExprKind::Str(s) => Some(Operand::Str(self.pools.string(s, self.out))),
            TExprKind::Var(var) => Some(Operand::Local(Local(var.0))),
            TExprKind::Binary { .. } | TExprKind::Unary { .. } | TExprKind::Call { .. } => {
                self.compute(expr, None)
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
            TExprKind::Builtin { builtin, args } => {
                self.builtin(*builtin, args);
                None
            }
            TExprKind::If { cond, then, else_ } => {
                let ty = expr.ty.to_ir();
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
            let copy = self.temp(expr.ty.to_ir());
            self.emit(Inst::Copy {
                dst: copy,
                src: value,
            });
            return Operand::Local(copy);
        }
        value
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
                let site = self.site(*op_span);
                let dst = dst.unwrap_or_else(|| self.temp(ty));
                self.emit(binary(dst, binary_op(*op, lhs.ty), a, b, site));
                Some(Operand::Local(dst))
            }
            TExprKind::Unary { op, operand } => {
                let src = self.value(operand);
                let site = self.site(expr.span);
                let dst = dst.unwrap_or_else(|| self.temp(ty));
                let op = match op {
                    UnOp::Neg => UnaryOp::NegInt,
                    UnOp::Not => UnaryOp::Not,
                };
                self.emit(Inst::Unary { dst, op, src, site });
                Some(Operand::Local(dst))
            }
            TExprKind::Call {
                func,
                args,
                callee_span,
            } => {
                let mut values = Vec::with_capacity(args.len());
                for (i, arg) in args.iter().enumerate() {
                    let later: Vec<&TExpr> = args[i + 1..].iter().collect();
                    values.push(self.stable_operand(arg, &later));
                }
                let site = self.site(*callee_span);
                let ret = self.signatures[*func as usize];
                let dst = if ret == Ty::Void {
                    None
                } else {
                    Some(dst.unwrap_or_else(|| self.temp(ret)))
                };
                self.emit(Inst::Call {
                    dst,
                    func: FuncId(*func),
                    args: values,
                    site,
                });
                dst.map(Operand::Local)
            }
            _ => unreachable!("compute handles only operations and calls"),
        }
    }

    fn builtin(&mut self, builtin: Builtin, args: &[TExpr]) {
        let value = self.value(&args[0]);
        match builtin {
            Builtin::Exit => self.terminate(Term::Exit(value)),
            Builtin::Print | Builtin::Println | Builtin::Eprintln => {
                let stream = if builtin == Builtin::Eprintln {
                    Stream::Stderr
                } else {
                    Stream::Stdout
                };
                let newline = builtin != Builtin::Print;
                self.emit(Inst::Print {
                    value,
                    ty: args[0].ty.to_ir(),
                    newline,
                    stream,
                });
            }
        }
    }
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

/// The IR operation for a checked binary operator whose left operand has type `operand`.
fn binary_op(op: BinOp, operand: Type) -> BinaryOp {
    let on_bool = operand == Type::Bool;
    match op {
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
