//! Statements and blocks: `let` (and `static let`), assignment, loops, `return`, `assert` and
//! `live` blocks.

use super::*;

impl BodyChecker<'_, '_> {
    /// Checks `stmts` in order: each statement's result, then those that follow it.
    pub(super) fn stmts<'s>(&mut self, stmts: impl IntoIterator<Item = &'s Stmt>) -> Vec<TStmt> {
        let mut checked = Vec::new();
        for stmt in stmts {
            checked.extend(self.stmt(stmt));
            checked.append(&mut self.following);
        }
        checked
    }

    pub(super) fn block(&mut self, block: &Block, want_value: bool) -> TBlock {
        self.push_scope();
        let stmts = self.stmts(&block.stmts);
        let tail = block
            .tail
            .as_ref()
            .map(|e| Box::new(self.expr(e, want_value, None)));
        self.pop_scope();
        TBlock { stmts, tail }
    }

    pub(super) fn stmt(&mut self, stmt: &Stmt) -> Option<TStmt> {
        if let Some(kind) = self.clause {
            self.diags.push(
                Diagnostic::new(
                    "E0507",
                    stmt.span,
                    format!("statement in a `{}` clause", kind.keyword()),
                )
                .label("contract clauses are expressions without statements")
                .note("move the computation into a function and call it from the clause"),
            );
        }
        Some(match &stmt.kind {
            StmtKind::Let { pattern, ty, value } => {
                let name = match &**pattern {
                    Pattern::Bind(name) => Some(name),
                    _ => None,
                };
                let value = self.let_value(ty.as_deref(), value, name);
                let mut stmts = Vec::new();
                self.bind_pattern(pattern, value, &mut stmts);
                for name in pattern.names() {
                    if let Some(var) = self.lookup_here(&name.name) {
                        self.lets.push((var, name.clone()));
                    }
                }
                // The first statement is the result; the rest follow it (see `stmts`).
                let mut stmts = stmts.into_iter();
                let first = stmts.next();
                self.following.extend(stmts);
                return first;
            }
            StmtKind::StaticLet { name, ty, value } => {
                return self.static_let(name, ty.as_deref(), value, stmt.span)
            }
            StmtKind::Assign { target, op, value } => {
                let (place, place_ty) = self.place(target)?;
                let value = match op {
                    Some((op, op_span)) => {
                        let rhs = self.expr(value, true, None);
                        let current = TExpr {
                            kind: TExprKind::Current,
                            ty: place_ty,
                            span: target.span,
                        };
                        self.binary(*op, *op_span, current, rhs, stmt.span)
                    }
                    None => self.expr(value, true, Some(place_ty)),
                };
                self.require_value(&value);
                if !value.ty.fits(place_ty) {
                    self.mismatch(value.span, place_ty, value.ty, "the assigned value");
                }
                TStmt::Assign { place, value }
            }
            StmtKind::Expr(expr) => TStmt::Expr(self.expr(expr, false, None)),
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
                let start = self.expr(start, true, None);
                let end = self.expr(end, true, None);
                for bound in [&start, &end] {
                    if !bound.ty.fits(Type::Int) {
                        self.mismatch(bound.span, Type::Int, bound.ty, "a range bound");
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
                    start: Box::new(start),
                    end: Box::new(end),
                    body,
                }
            }
            StmtKind::ForEach {
                pattern,
                array,
                body,
            } => {
                let array = self.expr(array, true, None);
                let elem = match array.ty {
                    Type::Array(_) => self.cx.types.elem(array.ty).unwrap_or(Type::Error),
                    // A map's entries as `(key, value)` tuples, a set's items.
                    Type::Map(_) | Type::Set(_) => (self.cx.types.map_info(array.ty))
                        .map_or(Type::Error, |info| info.entry.unwrap_or(info.key)),
                    Type::Error => Type::Error,
                    other => {
                        self.diags.push(
                            Diagnostic::new(
                                "E0413",
                                array.span,
                                format!("cannot iterate over `{}`", self.name(other)),
                            )
                            .label("not an array, map or set")
                            .note("`for x in a` needs an array, a map or a set; for numbers write `for i in 0..n`"),
                        );
                        Type::Error
                    }
                };
                self.push_scope();
                let (var, prefix) = match &**pattern {
                    Pattern::Bind(name) => (self.declare(name, elem), Vec::new()),
                    _ => {
                        // Each element goes in a hidden variable, which the pattern takes apart
                        // at the start of every round.
                        let holder = self.hidden(elem);
                        let element = TExpr {
                            kind: TExprKind::Var(holder),
                            ty: elem,
                            span: pattern.span(),
                        };
                        let mut prefix = Vec::new();
                        self.bind_pattern(pattern, element, &mut prefix);
                        (holder, prefix)
                    }
                };
                self.loop_depth += 1;
                let mut body = self.block(body, false);
                self.loop_depth -= 1;
                self.pop_scope();
                body.stmts.splice(0..0, prefix);
                TStmt::ForEach {
                    var,
                    array,
                    span: stmt.span,
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
            StmtKind::Assert {
                keyword,
                cond,
                message,
                text,
            } => self.assert_stmt(*keyword, cond, message.as_deref(), text),
            StmtKind::Live(live) => TStmt::Live(Box::new(self.live_block(live))),
            StmtKind::Error => {
                self.saw_broken_stmt = true;
                return None;
            }
        })
    }

    pub(super) fn assert_stmt(
        &mut self,
        keyword: Span,
        cond: &Expr,
        message: Option<&Expr>,
        text: &str,
    ) -> TStmt {
        let cond = self.expr(cond, true, None);
        if !cond.ty.fits(Type::Bool) {
            let found = self.name(cond.ty);
            self.diags.push(
                Diagnostic::new("E0502", cond.span, "assertion condition is not a `bool`")
                    .label(format!("expected `bool`, found `{found}`"))
                    .note("there are no implicit conversions to `bool`; compare explicitly, e.g. `n != 0`"),
            );
        }
        let message = message.map(|message| {
            let message = self.expr(message, true, None);
            if !message.ty.fits(Type::Str) {
                let found = self.name(message.ty);
                self.diags.push(
                    Diagnostic::new("E0503", message.span, "assertion message is not a `string`")
                        .label(format!("expected `string`, found `{found}`"))
                        .note("build the text with `+`, e.g. `assert(n > 0, \"n = \" + n)`"),
                );
            }
            message
        });
        TStmt::Assert {
            keyword,
            cond: Box::new(cond),
            message: message.map(Box::new),
            text: text.to_string(),
        }
    }

    pub(super) fn live_block(&mut self, live: &LiveBlock) -> TLive {
        let invariant = live.invariant.as_ref().map(|invariant| {
            let cond = self.expr(&invariant.cond, true, None);
            if !cond.ty.fits(Type::Bool) {
                let found = self.name(cond.ty);
                self.diags.push(
                    Diagnostic::new("E0512", cond.span, "`invariant` is not a `bool`")
                        .label(format!("expected `bool`, found `{found}`"))
                        .note("an invariant is a condition checked after the body, e.g. `invariant x >= 0`"),
                );
            }
            (cond, invariant.text.clone())
        });
        // Variables declared from here on belong to the body; older ones are outside it.
        let first_inner = self.vars.len() as u32;
        let body = self.block(&live.body, false);
        let mut restored = Vec::new();
        body.for_each_assigned(&mut |var| {
            if var.0 < first_inner && !restored.contains(&var) {
                restored.push(var);
            }
        });
        restored.sort_by_key(|var| var.0);
        TLive {
            keyword: live.keyword,
            within_ms: live.within_ms,
            backoff: live.backoff,
            invariant,
            body,
            restored,
        }
    }

    pub(super) fn return_stmt(&mut self, span: Span, value: Option<&Expr>) -> Option<TStmt> {
        let expected = match self.ret {
            RetMode::Declared(ty) => Some(ty),
            _ => None,
        };
        let value = value.map(|v| self.expr(v, true, expected));
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
                    (None, _) => {
                        let label = format!("this function returns `{}`", self.name(ret));
                        self.diags.push(
                            Diagnostic::new("E0405", span, "missing return value").label(label),
                        );
                    }
                    (Some(v), Type::Void) if v.ty != Type::Void => self.diags.push(
                        Diagnostic::new("E0405", v.span, "this function returns no value")
                            .label("unexpected value")
                            .note("declare the result type with `-> T` after the parameters"),
                    ),
                    (Some(v), _) if !v.ty.fits(ret) => {
                        let (s, t) = (v.span, v.ty);
                        self.mismatch(s, ret, t, "the returned value");
                    }
                    _ => {}
                }
            }
        }
        Some(TStmt::Return(value))
    }

    /// `static let name: T = value;`: allowed in functions and closures, not in the program's
    /// top-level statements, which run once anyway (E0442).
    fn static_let(
        &mut self,
        name: &Ident,
        ty: Option<&TypeExpr>,
        value: &Expr,
        span: Span,
    ) -> Option<TStmt> {
        let value = self.let_value(ty, value, Some(name));
        if matches!(self.ret, RetMode::TopLevel) {
            self.diags.push(
                Diagnostic::new("E0442", span, "`static let` outside a function")
                    .label("the program's top-level statements run once")
                    .note(format!(
                        "write `let {}` here, or move the `static let` into a function",
                        name.name
                    )),
            );
        }
        let var = self.declare(name, value.ty);
        Some(TStmt::StaticLet { var, value })
    }

    /// The value of a `let` or `static let` (of the variable `name`, if it declares one), of
    /// the type written (`ty`) or else its own, `Error` for no value.
    fn let_value(&mut self, ty: Option<&TypeExpr>, value: &Expr, name: Option<&Ident>) -> TExpr {
        let declared = ty.map(|t| self.cx.resolve_type(t, false, self.diags));
        let mut value = self.expr(value, true, declared);
        self.require_value(&value);
        value.ty = match declared {
            Some(declared) => {
                if !value.ty.fits(declared) {
                    let what = match name {
                        Some(name) => format!("the value of `{}`", name.name),
                        None => "the value".to_string(),
                    };
                    self.mismatch(value.span, declared, value.ty, &what);
                }
                declared
            }
            None if value.ty == Type::Void => Type::Error,
            None => value.ty,
        };
        value
    }
}
