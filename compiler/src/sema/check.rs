//! Name resolution and type checking: the AST to the typed tree.
//!
//! Function signatures are collected first, so functions may be called before they are declared.
//! A function without a written return type gets one inferred from its `return`s and tail
//! expression, on demand and at most once; a recursive call met while inferring counts as
//! "unknown" and the other returns decide. Bodies are then checked in source order, each with
//! its own scopes and variables. Every problem becomes a diagnostic; checking goes on with the
//! `Error` type so one mistake is reported once. The result is lowered only if nothing was reported.

use std::collections::HashMap;

use super::types::*;
use crate::diag::{Diagnostic, Span};
use crate::syntax::ast::*;

/// Checks a parsed file. Returns the typed program (meaningful only if `diags` stayed empty).
pub fn check_file(file: &File, diags: &mut Vec<Diagnostic>) -> TProgram {
    let decls: Vec<&FnDecl> = file
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Fn(decl) => Some(decl),
            Item::Stmt(_) => None,
        })
        .collect();
    let top_level: Vec<&Stmt> = file
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Stmt(stmt) => Some(stmt),
            Item::Fn(_) => None,
        })
        .collect();
    let top_level_vars = top_level
        .iter()
        .filter_map(|stmt| match &stmt.kind {
            StmtKind::Let { name, .. } => Some(name.name.clone()),
            _ => None,
        })
        .collect();

    let mut checker = Checker {
        decls: &decls,
        sigs: Vec::new(),
        by_name: HashMap::new(),
        top_level_vars,
    };
    checker.collect_signatures(diags);

    let mut funcs = Vec::new();
    for (index, decl) in decls.iter().enumerate() {
        let ret = checker.ret_type(index as u32);
        if ret == Type::Error && decl.ret.is_none() && checker.sigs[index].inferred_cleanly {
            diags.push(
                Diagnostic::new(
                    "E0408",
                    decl.name.span,
                    format!("cannot infer the return type of `{}`", decl.name.name),
                )
                .label("every returned value depends on a recursive call")
                .note("write the return type after the parameters, e.g. `-> int`"),
            );
        }
        let func = checker.check_function(index, RetMode::Declared(ret), diags);
        funcs.push(func);
    }
    let main = checker.check_top_level(&top_level, diags);
    TProgram { funcs, main }
}

/// A function's signature as the checker knows it.
struct Sig {
    params: Vec<Type>,
    ret: RetState,
    /// Whether inferring the result type reported nothing (so an unknown result is the
    /// inference's own failure, not the echo of another error).
    inferred_cleanly: bool,
}

#[derive(Copy, Clone, PartialEq, Eq)]
enum RetState {
    Known(Type),
    /// Not written; not inferred yet.
    Pending,
    /// Being inferred right now (a recursive call sees this).
    Inferring,
}

struct Checker<'a> {
    decls: &'a [&'a FnDecl],
    sigs: Vec<Sig>,
    by_name: HashMap<String, u32>,
    /// Names of top-level `let`s, to explain why functions cannot see them.
    top_level_vars: Vec<String>,
}

impl<'a> Checker<'a> {
    fn collect_signatures(&mut self, diags: &mut Vec<Diagnostic>) {
        for (index, decl) in self.decls.iter().enumerate() {
            let name = &decl.name;
            if Builtin::from_name(&name.name).is_some() {
                diags.push(
                    Diagnostic::new(
                        "E0303",
                        name.span,
                        format!(
                            "`{}` is a builtin function and cannot be redefined",
                            name.name
                        ),
                    )
                    .label("builtin name")
                    .note("choose another name for this function"),
                );
            } else if let Some(&first) = self.by_name.get(&name.name) {
                diags.push(
                    Diagnostic::new(
                        "E0303",
                        name.span,
                        format!("function `{}` is defined twice", name.name),
                    )
                    .label("second definition")
                    .secondary(self.decls[first as usize].name.span, "first defined here"),
                );
            } else {
                self.by_name.insert(name.name.clone(), index as u32);
            }
            let params = decl
                .params
                .iter()
                .map(|p| resolve_type(&p.ty, false, diags))
                .collect();
            let ret = match &decl.ret {
                Some(ty) => RetState::Known(resolve_type(ty, true, diags)),
                None => RetState::Pending,
            };
            self.sigs.push(Sig {
                params,
                ret,
                inferred_cleanly: true,
            });
        }
    }

    /// The result type of function `index`, inferring it first if needed.
    fn ret_type(&mut self, index: u32) -> Type {
        match self.sigs[index as usize].ret {
            RetState::Known(ty) => ty,
            RetState::Inferring => Type::Error,
            RetState::Pending => {
                self.sigs[index as usize].ret = RetState::Inferring;
                let mut scratch = Vec::new();
                let func =
                    self.check_function(index as usize, RetMode::Infer(Vec::new()), &mut scratch);
                let sig = &mut self.sigs[index as usize];
                sig.ret = RetState::Known(func.ret);
                sig.inferred_cleanly = scratch.is_empty();
                func.ret
            }
        }
    }

    /// Checks one function's body, with returns checked against or collected by `mode`. The
    /// returned function's `ret` is the declared or inferred result type.
    fn check_function(
        &mut self,
        index: usize,
        mode: RetMode,
        diags: &mut Vec<Diagnostic>,
    ) -> TFunc {
        let decl = self.decls[index];
        let params = self.sigs[index].params.clone();
        let mut body = BodyChecker::new(self, diags, mode);
        body.push_scope();
        for (param, ty) in decl.params.iter().zip(params) {
            body.declare(&param.name, ty);
        }
        let block = body.block(&decl.body, true);
        let tail_ty = block.tail.as_ref().map(|t| t.ty);
        let diverges = block_diverges(&block);
        let vars = std::mem::take(&mut body.vars);
        let mode = std::mem::replace(&mut body.ret, RetMode::TopLevel);

        let ret = match mode {
            RetMode::Declared(ret) => {
                if let Some(tail) = block.tail.as_ref().filter(|t| t.ty != Type::Void) {
                    if !tail.ty.fits(ret) && ret != Type::Void {
                        diags.push(mismatch(
                            tail.span,
                            ret,
                            tail.ty,
                            "the value of the function's last expression",
                        ));
                    }
                } else if ret != Type::Void && ret != Type::Error && !diverges {
                    diags.push(
                        Diagnostic::new(
                            "E0407",
                            decl.name.span,
                            format!(
                                "function `{}` may end without returning a value",
                                decl.name.name
                            ),
                        )
                        .label(format!("declared to return `{ret}`"))
                        .secondary(
                            Span::new(decl.body.span.end as usize - 1, decl.body.span.end as usize),
                            "control can reach the end here",
                        ),
                    );
                }
                ret
            }
            RetMode::Infer(mut returns) => {
                if let Some(ty) = tail_ty {
                    if ty != Type::Void {
                        returns.push(ty);
                    }
                }
                let known = returns.iter().copied().find(|&t| t != Type::Error);
                match known {
                    Some(ty) => ty,
                    None if returns.is_empty() => Type::Void,
                    None => Type::Error,
                }
            }
            RetMode::TopLevel => Type::Void,
        };
        TFunc {
            name: decl.name.name.clone(),
            param_count: decl.params.len() as u32,
            vars,
            ret,
            body: block,
        }
    }

    fn check_top_level(&mut self, stmts: &[&Stmt], diags: &mut Vec<Diagnostic>) -> TFunc {
        let mut body = BodyChecker::new(self, diags, RetMode::TopLevel);
        body.push_scope();
        let stmts = stmts.iter().filter_map(|s| body.stmt(s)).collect();
        let vars = std::mem::take(&mut body.vars);
        TFunc {
            name: "<main>".into(),
            param_count: 0,
            vars,
            ret: Type::Void,
            body: TBlock { stmts, tail: None },
        }
    }
}

/// Resolves a written type. `void` is allowed only as a result type.
fn resolve_type(ty: &TypeExpr, result: bool, diags: &mut Vec<Diagnostic>) -> Type {
    match ty {
        TypeExpr::Named(ident) => match ident.name.as_str() {
            "int" => Type::Int,
            "bool" => Type::Bool,
            "string" => Type::Str,
            "void" if result => Type::Void,
            "void" => {
                diags.push(
                    Diagnostic::new("E0305", ident.span, "`void` is not a parameter type")
                        .label("a parameter needs a value type"),
                );
                Type::Error
            }
            "float" => {
                diags.push(unsupported(ident.span, "the `float` type is"));
                Type::Error
            }
            other => {
                diags.push(
                    Diagnostic::new("E0305", ident.span, format!("unknown type `{other}`"))
                        .label("not a type")
                        .note("the types are `int`, `bool`, `string` and `void`"),
                );
                Type::Error
            }
        },
        TypeExpr::Array(_, span) => {
            diags.push(unsupported(*span, "array types are"));
            Type::Error
        }
    }
}

fn unsupported(span: Span, what: &str) -> Diagnostic {
    Diagnostic::new("E0901", span, format!("{what} not supported yet"))
        .label("not supported by this version of Keel")
        .note("see docs/language.md for what this version implements")
}

fn mismatch(span: Span, expected: Type, found: Type, what: &str) -> Diagnostic {
    Diagnostic::new("E0401", span, "mismatched types")
        .label(format!("expected `{expected}`, found `{found}`"))
        .note(format!("{what} must be `{expected}`"))
}

/// How `return` statements are checked in the current body.
enum RetMode {
    /// Against a written (or already inferred) type.
    Declared(Type),
    /// Collecting the types returned, to infer the result type.
    Infer(Vec<Type>),
    /// In the program's top-level statements, where `return` is not allowed.
    TopLevel,
}

/// Checks one function body (or the top-level statements).
struct BodyChecker<'c, 'a> {
    cx: &'c mut Checker<'a>,
    diags: &'c mut Vec<Diagnostic>,
    ret: RetMode,
    scopes: Vec<HashMap<String, (VarId, Span)>>,
    vars: Vec<(String, Type)>,
    loop_depth: u32,
}

impl<'c, 'a> BodyChecker<'c, 'a> {
    fn new(cx: &'c mut Checker<'a>, diags: &'c mut Vec<Diagnostic>, ret: RetMode) -> Self {
        BodyChecker {
            cx,
            diags,
            ret,
            scopes: Vec::new(),
            vars: Vec::new(),
            loop_depth: 0,
        }
    }

    fn push_scope(&mut self) {
        self.scopes.push(HashMap::new());
    }

    fn pop_scope(&mut self) {
        self.scopes.pop();
    }

    fn declare(&mut self, name: &Ident, ty: Type) -> VarId {
        let id = VarId(self.vars.len() as u32);
        self.vars.push((name.name.clone(), ty));
        let scope = self
            .scopes
            .last_mut()
            .expect("a scope is always open while checking");
        if let Some((_, first)) = scope.insert(name.name.clone(), (id, name.span)) {
            self.diags.push(
                Diagnostic::new(
                    "E0304",
                    name.span,
                    format!("`{}` is already declared in this scope", name.name),
                )
                .label("declared again")
                .secondary(first, "first declared here")
                .note("assign to it with `=`, or declare the new variable in an inner block"),
            );
        }
        id
    }

    fn lookup(&self, name: &str) -> Option<VarId> {
        self.scopes
            .iter()
            .rev()
            .find_map(|scope| scope.get(name).map(|(id, _)| *id))
    }

    fn var_type(&self, id: VarId) -> Type {
        self.vars[id.0 as usize].1
    }

    fn unknown_variable(&mut self, name: &str, span: Span) {
        let mut diag = Diagnostic::new("E0301", span, format!("unknown variable `{name}`"))
            .label("not declared in this scope");
        if self.cx.by_name.contains_key(name) {
            diag = diag.note(format!(
                "`{name}` is a function; call it with `{name}(...)`"
            ));
        } else if !matches!(self.ret, RetMode::TopLevel)
            && self.cx.top_level_vars.iter().any(|v| v == name)
        {
            diag = diag.note("variables declared at the top level belong to the program body and are not visible inside functions; pass the value as a parameter");
        }
        self.diags.push(diag);
    }

    // ---- statements ----------------------------------------------------------------------------

    fn block(&mut self, block: &Block, want_value: bool) -> TBlock {
        self.push_scope();
        let stmts = block.stmts.iter().filter_map(|s| self.stmt(s)).collect();
        let tail = block
            .tail
            .as_ref()
            .map(|e| Box::new(self.expr(e, want_value)));
        self.pop_scope();
        TBlock { stmts, tail }
    }

    fn stmt(&mut self, stmt: &Stmt) -> Option<TStmt> {
        Some(match &stmt.kind {
            StmtKind::Let { name, ty, value } => {
                let declared = ty.as_ref().map(|t| resolve_type(t, false, self.diags));
                let value = self.expr(value, true);
                self.require_value(&value);
                let ty = match declared {
                    Some(declared) => {
                        if !value.ty.fits(declared) {
                            self.diags.push(mismatch(
                                value.span,
                                declared,
                                value.ty,
                                &format!("the value of `{}`", name.name),
                            ));
                        }
                        declared
                    }
                    None if value.ty == Type::Void => Type::Error,
                    None => value.ty,
                };
                let var = self.declare(name, ty);
                TStmt::Assign { var, value }
            }
            StmtKind::Assign { target, op, value } => {
                let ExprKind::Var(name) = &target.kind else {
                    self.diags.push(
                        Diagnostic::new("E0412", target.span, "cannot assign to this expression")
                            .label("only variables can be assigned"),
                    );
                    return None;
                };
                let Some(var) = self.lookup(name) else {
                    self.unknown_variable(name, target.span);
                    self.expr(value, true);
                    return None;
                };
                let var_ty = self.var_type(var);
                let rhs = self.expr(value, true);
                let value = match op {
                    Some((op, op_span)) => {
                        let lhs = TExpr {
                            kind: TExprKind::Var(var),
                            ty: var_ty,
                            span: target.span,
                        };
                        self.binary(*op, *op_span, lhs, rhs, stmt.span)
                    }
                    None => rhs,
                };
                self.require_value(&value);
                if !value.ty.fits(var_ty) {
                    self.diags.push(mismatch(
                        value.span,
                        var_ty,
                        value.ty,
                        &format!("a value assigned to `{name}`"),
                    ));
                }
                TStmt::Assign { var, value }
            }
            StmtKind::Expr(expr) => TStmt::Expr(self.expr(expr, false)),
            StmtKind::While { cond, body } => {
                let cond = self.condition(cond);
                self.loop_depth += 1;
                let body = self.block(body, false);
                self.loop_depth -= 1;
                TStmt::While { cond, body }
            }
            StmtKind::ForRange {
                var,
                start,
                end,
                body,
            } => {
                let start = self.expr(start, true);
                let end = self.expr(end, true);
                for bound in [&start, &end] {
                    if !bound.ty.fits(Type::Int) {
                        self.diags
                            .push(mismatch(bound.span, Type::Int, bound.ty, "a range bound"));
                    }
                }
                self.push_scope();
                let var = self.declare(var, Type::Int);
                self.loop_depth += 1;
                let body = self.block(body, false);
                self.loop_depth -= 1;
                self.pop_scope();
                TStmt::ForRange {
                    var,
                    span: stmt.span,
                    start,
                    end,
                    body,
                }
            }
            StmtKind::Break | StmtKind::Continue => {
                let is_break = matches!(stmt.kind, StmtKind::Break);
                if self.loop_depth == 0 {
                    let word = if is_break { "break" } else { "continue" };
                    self.diags.push(
                        Diagnostic::new("E0409", stmt.span, format!("`{word}` outside of a loop"))
                            .label(format!("`{word}` must be inside `while` or `for`")),
                    );
                    return None;
                }
                if is_break {
                    TStmt::Break
                } else {
                    TStmt::Continue
                }
            }
            StmtKind::Return(value) => self.return_stmt(stmt.span, value.as_ref())?,
            StmtKind::Error => return None,
        })
    }

    fn return_stmt(&mut self, span: Span, value: Option<&Expr>) -> Option<TStmt> {
        let value = value.map(|v| self.expr(v, true));
        match &mut self.ret {
            RetMode::TopLevel => {
                self.diags.push(
                    Diagnostic::new("E0410", span, "`return` outside of a function")
                        .label("top-level statements are not a function")
                        .note("use `exit(n)` to end the program early"),
                );
                return None;
            }
            RetMode::Infer(returns) => {
                if let Some(v) = &value {
                    returns.push(v.ty);
                }
            }
            RetMode::Declared(ret) => {
                let ret = *ret;
                match (&value, ret) {
                    (None, Type::Void | Type::Error) => {}
                    (None, _) => self.diags.push(
                        Diagnostic::new("E0405", span, "missing return value")
                            .label(format!("this function returns `{ret}`")),
                    ),
                    (Some(v), Type::Void) if v.ty != Type::Void => self.diags.push(
                        Diagnostic::new("E0405", v.span, "this function returns no value")
                            .label("unexpected value")
                            .note("declare the result type with `-> T` after the parameters"),
                    ),
                    (Some(v), _) if !v.ty.fits(ret) => {
                        self.diags
                            .push(mismatch(v.span, ret, v.ty, "the returned value"))
                    }
                    _ => {}
                }
            }
        }
        Some(TStmt::Return(value))
    }

    /// A `void` value where a value is needed.
    fn require_value(&mut self, expr: &TExpr) {
        if expr.ty == Type::Void {
            self.diags.push(
                Diagnostic::new("E0406", expr.span, "this expression has no value")
                    .label("its type is `void`"),
            );
        }
    }

    fn condition(&mut self, cond: &Expr) -> TExpr {
        let cond = self.expr(cond, true);
        if !cond.ty.fits(Type::Bool) {
            self.diags.push(
                Diagnostic::new("E0404", cond.span, "condition is not a `bool`")
                    .label(format!("expected `bool`, found `{}`", cond.ty))
                    .note("there are no implicit conversions to `bool`; compare explicitly, e.g. `n != 0`"),
            );
        }
        cond
    }

    // ---- expressions ---------------------------------------------------------------------------

    /// Checks an expression. `want_value` is false where the value is discarded (statements), which
    /// lets `if` without `else` and branches of different types stand.
    fn expr(&mut self, expr: &Expr, want_value: bool) -> TExpr {
        let span = expr.span;
        let (kind, ty) = match &expr.kind {
            ExprKind::Int(v) => (TExprKind::Int(*v), Type::Int),
            ExprKind::Bool(b) => (TExprKind::Bool(*b), Type::Bool),
            ExprKind::Str(s) => (TExprKind::Str(s.clone()), Type::Str),
            ExprKind::Var(name) => match self.lookup(name) {
                Some(var) => (TExprKind::Var(var), self.var_type(var)),
                None => {
                    self.unknown_variable(name, span);
                    return TExpr::error(span);
                }
            },
            ExprKind::Binary {
                op,
                op_span,
                lhs,
                rhs,
            } => {
                let lhs = self.expr(lhs, true);
                let rhs = self.expr(rhs, true);
                return self.binary(*op, *op_span, lhs, rhs, span);
            }
            ExprKind::Unary { op, operand } => {
                let operand = self.expr(operand, true);
                let want = if *op == UnOp::Neg {
                    Type::Int
                } else {
                    Type::Bool
                };
                if !operand.ty.fits(want) {
                    let symbol = if *op == UnOp::Neg { "-" } else { "!" };
                    self.diags.push(
                        Diagnostic::new(
                            "E0403",
                            span,
                            format!("operator `{symbol}` cannot be applied to `{}`", operand.ty),
                        )
                        .label(format!("expected `{want}`")),
                    );
                    return TExpr::error(span);
                }
                (
                    TExprKind::Unary {
                        op: *op,
                        operand: Box::new(operand),
                    },
                    want,
                )
            }
            ExprKind::Call { callee, args } => return self.call(callee, args, span),
            ExprKind::If { cond, then, else_ } => {
                let cond = self.condition(cond);
                let then = self.block(then, want_value);
                let else_ = else_.as_ref().map(|e| Box::new(self.expr(e, want_value)));
                let then_ty = then.tail.as_ref().map_or(Type::Void, |t| t.ty);
                let ty = match &else_ {
                    _ if !want_value => Type::Void,
                    None => {
                        if then_ty != Type::Void && then_ty != Type::Error {
                            self.diags.push(
                                Diagnostic::new("E0411", span, "`if` without `else` has no value")
                                    .label(format!("the `then` branch gives `{then_ty}`"))
                                    .note("add an `else` branch giving the same type"),
                            );
                            Type::Error
                        } else {
                            Type::Void
                        }
                    }
                    Some(else_) => {
                        if then_ty.fits(else_.ty) {
                            if then_ty == Type::Error {
                                else_.ty
                            } else {
                                then_ty
                            }
                        } else {
                            self.diags.push(
                                Diagnostic::new(
                                    "E0401",
                                    else_.span,
                                    "`if` and `else` have different types",
                                )
                                .label(format!("expected `{then_ty}`, found `{}`", else_.ty))
                                .secondary(
                                    then.tail.as_ref().map_or(span, |t| t.span),
                                    format!("this is `{then_ty}`"),
                                ),
                            );
                            Type::Error
                        }
                    }
                };
                (
                    TExprKind::If {
                        cond: Box::new(cond),
                        then,
                        else_,
                    },
                    ty,
                )
            }
            ExprKind::Block(block) => {
                let block = self.block(block, want_value);
                let ty = if want_value {
                    block.tail.as_ref().map_or(Type::Void, |t| t.ty)
                } else {
                    Type::Void
                };
                (TExprKind::Block(block), ty)
            }
            ExprKind::Error => return TExpr::error(span),
        };
        TExpr { kind, ty, span }
    }

    fn binary(&mut self, op: BinOp, op_span: Span, lhs: TExpr, rhs: TExpr, span: Span) -> TExpr {
        use BinOp::*;
        let (l, r) = (lhs.ty, rhs.ty);
        if l == Type::Error || r == Type::Error {
            return TExpr::error(span);
        }
        let ty = match op {
            Add | Sub | Mul | Div | Rem | Shl | Shr if l == Type::Int && r == Type::Int => {
                Type::Int
            }
            Lt | Gt | Le | Ge if l == Type::Int && r == Type::Int => Type::Bool,
            Eq | Ne if l == r && matches!(l, Type::Int | Type::Bool) => Type::Bool,
            BitAnd | BitOr | BitXor if l == r && matches!(l, Type::Int | Type::Bool) => l,
            And | Or if l == Type::Bool && r == Type::Bool => {
                let kind = TExprKind::Logic {
                    is_and: op == And,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                };
                return TExpr {
                    kind,
                    ty: Type::Bool,
                    span,
                };
            }
            _ => {
                let mut diag = Diagnostic::new(
                    "E0403",
                    op_span,
                    format!(
                        "operator `{}` cannot be applied to `{l}` and `{r}`",
                        op.symbol()
                    ),
                )
                .label(format!("`{l}` {} `{r}`", op.symbol()))
                .secondary(lhs.span, format!("`{l}`"))
                .secondary(rhs.span, format!("`{r}`"));
                if (l == Type::Str || r == Type::Str)
                    && matches!(op, Add | Eq | Ne | Lt | Gt | Le | Ge)
                {
                    diag = diag.note(
                        "string operations are not supported yet: strings can only be printed",
                    );
                } else if l != r {
                    diag = diag.note("there are no implicit conversions between types");
                }
                self.diags.push(diag);
                return TExpr::error(span);
            }
        };
        TExpr {
            kind: TExprKind::Binary {
                op,
                op_span,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            },
            ty,
            span,
        }
    }

    fn call(&mut self, callee: &Ident, args: &[Expr], span: Span) -> TExpr {
        let args: Vec<TExpr> = args.iter().map(|a| self.expr(a, true)).collect();
        if let Some(builtin) = Builtin::from_name(&callee.name) {
            return self.builtin_call(builtin, callee, args, span);
        }
        let Some(&func) = self.cx.by_name.get(&callee.name) else {
            let mut diag = Diagnostic::new(
                "E0302",
                callee.span,
                format!("unknown function `{}`", callee.name),
            )
            .label("not defined");
            if self.lookup(&callee.name).is_some() {
                diag = diag.note(format!("`{}` is a variable, not a function", callee.name));
            }
            self.diags.push(diag);
            return TExpr::error(span);
        };
        let params = self.cx.sigs[func as usize].params.clone();
        if params.len() != args.len() {
            let decl = self.cx.decls[func as usize];
            self.diags.push(
                Diagnostic::new(
                    "E0402",
                    callee.span,
                    format!(
                        "`{}` takes {} argument{}, but {} {} given",
                        callee.name,
                        params.len(),
                        plural(params.len()),
                        args.len(),
                        if args.len() == 1 { "was" } else { "were" }
                    ),
                )
                .label("wrong number of arguments")
                .secondary(decl.name.span, "defined here"),
            );
        } else {
            for (arg, param) in args.iter().zip(&params) {
                self.require_value(arg);
                if !arg.ty.fits(*param) {
                    self.diags.push(mismatch(
                        arg.span,
                        *param,
                        arg.ty,
                        &format!("this argument of `{}`", callee.name),
                    ));
                }
            }
        }
        let ty = self.cx.ret_type(func);
        TExpr {
            kind: TExprKind::Call {
                func,
                args,
                callee_span: callee.span,
            },
            ty,
            span,
        }
    }

    fn builtin_call(
        &mut self,
        builtin: Builtin,
        callee: &Ident,
        args: Vec<TExpr>,
        span: Span,
    ) -> TExpr {
        if args.len() != 1 {
            self.diags.push(
                Diagnostic::new(
                    "E0402",
                    callee.span,
                    format!(
                        "`{}` takes 1 argument, but {} were given",
                        callee.name,
                        args.len()
                    ),
                )
                .label("wrong number of arguments"),
            );
            return TExpr::error(span);
        }
        let arg = &args[0];
        match builtin {
            Builtin::Exit => {
                if !arg.ty.fits(Type::Int) {
                    self.diags
                        .push(mismatch(arg.span, Type::Int, arg.ty, "the exit status"));
                }
            }
            Builtin::Print | Builtin::Println | Builtin::Eprintln => self.require_value(arg),
        }
        TExpr {
            kind: TExprKind::Builtin { builtin, args },
            ty: Type::Void,
            span,
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Whether control can never reach the end of the block.
fn block_diverges(block: &TBlock) -> bool {
    block.stmts.iter().any(stmt_diverges) || block.tail.as_ref().is_some_and(|t| expr_diverges(t))
}

fn stmt_diverges(stmt: &TStmt) -> bool {
    match stmt {
        TStmt::Return(_) => true,
        TStmt::Expr(e) => expr_diverges(e),
        TStmt::Assign { value, .. } => expr_diverges(value),
        TStmt::While { cond, body } => {
            matches!(cond.kind, TExprKind::Bool(true)) && !breaks_out(body)
        }
        TStmt::ForRange { .. } | TStmt::Break | TStmt::Continue => false,
    }
}

fn expr_diverges(expr: &TExpr) -> bool {
    match &expr.kind {
        TExprKind::Builtin {
            builtin: Builtin::Exit,
            ..
        } => true,
        TExprKind::If {
            cond,
            then,
            else_: Some(else_),
        } => expr_diverges(cond) || (block_diverges(then) && expr_diverges(else_)),
        TExprKind::Block(block) => block_diverges(block),
        _ => false,
    }
}

/// Whether a `break` in this loop body (not in a nested loop) leaves the loop.
fn breaks_out(block: &TBlock) -> bool {
    fn stmt(s: &TStmt) -> bool {
        match s {
            TStmt::Break => true,
            TStmt::Expr(e) | TStmt::Assign { value: e, .. } => expr(e),
            TStmt::Return(Some(e)) => expr(e),
            _ => false,
        }
    }
    fn expr(e: &TExpr) -> bool {
        match &e.kind {
            TExprKind::If { then, else_, .. } => {
                breaks_out(then) || else_.as_ref().is_some_and(|e| expr(e))
            }
            TExprKind::Block(b) => breaks_out(b),
            _ => false,
        }
    }
    block.stmts.iter().any(stmt) || block.tail.as_ref().is_some_and(|t| expr(t))
}
