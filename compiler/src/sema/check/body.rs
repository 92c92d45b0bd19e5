//! What every part of body checking shares: scopes and variables, the diagnostics of unknown
//! variables, mismatched and missing values.

use super::*;

impl<'c, 'a> BodyChecker<'c, 'a> {
    pub(super) fn new(
        cx: &'c mut Checker<'a>,
        diags: &'c mut Vec<Diagnostic>,
        ret: RetMode,
    ) -> Self {
        BodyChecker {
            cx,
            diags,
            ret,
            scopes: Vec::new(),
            vars: Vec::new(),
            loop_depth: 0,
            saw_broken_stmt: false,
            clause: None,
            following: Vec::new(),
            frames: Vec::new(),
            captures: Vec::new(),
            lets: Vec::new(),
            read: std::collections::HashSet::new(),
        }
    }

    /// Notes that the value of `var` is read.
    pub(super) fn mark_read(&mut self, var: VarId) {
        self.read.insert(var.0);
    }

    /// W0003 for each variable this body's `let`s declared and nothing read, but for those
    /// named with a leading `_`, the prelude's and the REPL session's own.
    pub(super) fn report_unused_lets(&mut self) {
        for (var, name) in std::mem::take(&mut self.lets) {
            let generated =
                name.span.start >= crate::sema::PRELUDE_BASE || self.cx.in_session_code(name.span);
            if self.read.contains(&var.0) || name.name.starts_with('_') || generated {
                continue;
            }
            let warning = Diagnostic::warning(
                "W0003",
                name.span,
                format!("unused variable `{}`", name.name),
            )
            .label("its value is never read")
            .note(format!(
                "remove it, or name it `_{}` if it is there on purpose",
                name.name
            ));
            if !self.cx.warnings.contains(&warning) {
                self.cx.warnings.push(warning);
            }
        }
    }

    pub(super) fn name(&self, ty: Type) -> String {
        self.cx.types.name(ty)
    }

    pub(super) fn mismatch(&mut self, span: Span, expected: Type, found: Type, what: &str) {
        let diag = mismatch(&self.cx.types, span, expected, found, what);
        self.diags.push(diag);
    }

    pub(super) fn push_scope(&mut self) {
        self.scopes.push(HashMap::new());
    }

    pub(super) fn pop_scope(&mut self) {
        self.scopes.pop();
    }

    pub(super) fn declare(&mut self, name: &Ident, ty: Type) -> VarId {
        let id = VarId(self.vars.len() as u32);
        self.vars.push((name.name.clone(), ty));
        let scope = self
            .scopes
            .last_mut()
            .expect("a scope is always open while checking");
        let first = scope.insert(name.name.clone(), (id, name.span));
        // A clause redeclares the parameters, whose duplicates the body has reported; a REPL
        // entry may declare again a variable the session gave it (its `let x = ...` makes a new
        // `x`, as a new variable would in the next entry).
        if let Some((_, first)) =
            first.filter(|(_, first)| self.clause.is_none() && !self.cx.in_session_code(*first))
        {
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

    /// A variable no name reaches: it holds a value that a pattern takes apart.
    pub(super) fn hidden(&mut self, ty: Type) -> VarId {
        let id = VarId(self.vars.len() as u32);
        self.vars.push((String::new(), ty));
        id
    }

    /// The variable `name` refers to here: of this body, or of an enclosing one (when checking
    /// a closure), which the closure then captures.
    pub(super) fn lookup(&mut self, name: &str) -> Option<VarId> {
        self.lookup_here(name)
            .or_else(|| self.capture(name, Span::default()))
    }

    /// The variable `name` of this body (of the closure being checked, if any), if it has one.
    pub(super) fn lookup_here(&self, name: &str) -> Option<VarId> {
        self.scopes
            .iter()
            .rev()
            .find_map(|scope| scope.get(name).map(|(id, _)| *id))
    }

    pub(super) fn var_type(&self, id: VarId) -> Type {
        self.vars[id.0 as usize].1
    }

    pub(super) fn unknown_variable(&mut self, name: &str, span: Span) {
        if name == "result" {
            let diag = if self.clause == Some(ContractKind::Ensures) {
                Diagnostic::new(
                    "E0506",
                    span,
                    "`result` in a function that returns no value",
                )
                .label("this function has no result")
                .note("declare the result type with `-> T`, or drop the clause")
            } else {
                Diagnostic::new(
                    "E0505",
                    span,
                    "`result` is only defined in `ensures` clauses",
                )
                .label("not declared in this scope")
                .note("`result` names the value a function returns, in its `ensures` clauses")
            };
            self.diags.push(diag);
            return;
        }
        let mut diag = Diagnostic::new("E0301", span, format!("unknown variable `{name}`"))
            .label("not declared in this scope");
        let visible: Vec<&str> = (self.scopes.iter())
            .flat_map(|scope| scope.keys().map(String::as_str))
            .collect();
        if let Some(hint) = suggest::did_you_mean(name, visible) {
            diag = diag.note(hint);
        } else if self.cx.function_named(name).is_some() {
            diag = diag.note(format!(
                "`{name}` is a function; call it with `{name}(...)`"
            ));
        } else if !matches!(self.ret, RetMode::TopLevel)
            && self.cx.top_level_vars.iter().any(|v| v == name)
        {
            diag = diag.note(
                "variables declared at the top level belong to the program body and are not visible inside functions; pass the value as a parameter",
            );
        }
        self.diags.push(diag);
    }

    /// A `void` value where a value is needed.
    pub(super) fn require_value(&mut self, expr: &TExpr) {
        if expr.ty == Type::Void {
            self.diags.push(
                Diagnostic::new("E0406", expr.span, "this expression has no value")
                    .label("its type is `void`"),
            );
        }
    }

    pub(super) fn condition(&mut self, cond: &Expr) -> TExpr {
        let cond = self.expr(cond, true, None);
        if !cond.ty.fits(Type::Bool) {
            self.diags.push(
                Diagnostic::new("E0404", cond.span, "condition is not a `bool`")
                    .label(format!("expected `bool`, found `{}`", self.name(cond.ty)))
                    .note("there are no implicit conversions to `bool`; compare explicitly, e.g. `n != 0`"),
            );
        }
        cond
    }
}
