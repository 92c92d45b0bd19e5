//! Calls: of builtins (resolved by argument types, see `builtins`) and of user functions.

use super::*;

impl BodyChecker<'_, '_> {
    pub(super) fn call(
        &mut self,
        callee: &Ident,
        args: &[Expr],
        expected: Option<Type>,
        span: Span,
    ) -> TExpr {
        if self.cx.ambiguous.contains(&callee.name) {
            for arg in args {
                self.expr(arg, true, None);
            }
            return TExpr::error(span);
        }
        if let Some(&decl) = self.cx.by_name.get(&callee.name) {
            if !self.cx.decls[decl as usize].type_params.is_empty() {
                return self.generic_call(decl, callee, args, expected, span);
            }
            let func = self.cx.decl_sigs[&decl];
            return self.user_call(func, callee, args, span);
        }
        if let Some(checked) = self.option_result_call(callee, args, expected, span) {
            return checked;
        }
        if let Some(checked) = self.parse_call(callee, args, span) {
            return checked;
        }
        if self.bare_variant_of(&callee.name).is_some() {
            return self.generic_variant(None, callee, Some(args), expected, span);
        }
        // Builtins: the first argument is checked alone so that the second can expect its
        // element type (`push(a, [])`).
        let mut typed: Vec<TExpr> = Vec::with_capacity(args.len());
        for (i, arg) in args.iter().enumerate() {
            let expected = match (i, typed.first().map(|a| a.ty)) {
                (1, Some(first))
                    if matches!(callee.name.as_str(), "push" | "contains" | "index_of") =>
                {
                    self.cx.types.elem(first)
                }
                (1, Some(first)) if callee.name == "concat" => Some(first),
                (0, _) if callee.name == "join" => Some(self.cx.types.array_of(Type::Str)),
                _ => None,
            };
            typed.push(self.expr(arg, true, expected));
        }
        let tys: Vec<Type> = typed.iter().map(|a| a.ty).collect();
        match builtins::resolve(&callee.name, &tys, &mut self.cx.types) {
            Some(Ok((builtin, ty))) => TExpr {
                kind: TExprKind::Builtin {
                    builtin,
                    args: typed,
                },
                ty,
                span,
            },
            Some(Err(BuiltinError::Arity(message))) => {
                self.diags.push(
                    Diagnostic::new(
                        "E0402",
                        callee.span,
                        format!("wrong number of arguments to `{}`", callee.name),
                    )
                    .label(format!("given {}", typed.len()))
                    .note(message),
                );
                TExpr::error(span)
            }
            Some(Err(BuiltinError::Arg(i, message))) => {
                if typed[i].ty != Type::Error {
                    let found = self.name(typed[i].ty);
                    self.diags.push(
                        Diagnostic::new("E0401", typed[i].span, "mismatched types")
                            .label(format!("found `{found}`"))
                            .note(message),
                    );
                }
                TExpr::error(span)
            }
            None => {
                let variable = self.lookup(&callee.name);
                // A variable whose value was already reported as broken (such as a closure, which
                // is not supported) may have been meant as a function: nothing more to say.
                if variable.is_some_and(|id| self.var_type(id) == Type::Error) {
                    return TExpr::error(span);
                }
                let mut diag = Diagnostic::new(
                    "E0302",
                    callee.span,
                    format!("unknown function `{}`", callee.name),
                )
                .label("not defined");
                if variable.is_some() {
                    diag = diag.note(format!("`{}` is a variable, not a function", callee.name));
                }
                self.diags.push(diag);
                TExpr::error(span)
            }
        }
    }

    pub(super) fn user_call(
        &mut self,
        func: u32,
        callee: &Ident,
        args: &[Expr],
        span: Span,
    ) -> TExpr {
        let params = self.cx.sigs[func as usize].params.clone();
        let args: Vec<TExpr> = args
            .iter()
            .enumerate()
            .map(|(i, a)| self.expr(a, true, params.get(i).copied()))
            .collect();
        if params.len() != args.len() {
            let decl = self.cx.sigs[func as usize].decl;
            self.arity_error(decl, callee, params.len(), args.len());
        }
        self.user_call_typed(func, callee, args, span)
    }

    /// Reports a call of function declaration `decl` with `given` arguments instead of `want`.
    pub(super) fn arity_error(&mut self, decl: u32, callee: &Ident, want: usize, given: usize) {
        let mut diag = Diagnostic::new(
            "E0402",
            callee.span,
            format!(
                "`{}` takes {} argument{}, but {} {} given",
                callee.name,
                want,
                plural(want),
                given,
                if given == 1 { "was" } else { "were" }
            ),
        )
        .label("wrong number of arguments");
        if !self.cx.in_prelude(decl) {
            diag = diag.secondary(self.cx.decls[decl as usize].name.span, "defined here");
        }
        self.diags.push(diag);
    }

    /// A call of the function of signature `func` with arguments already checked.
    pub(super) fn user_call_typed(
        &mut self,
        func: u32,
        callee: &Ident,
        args: Vec<TExpr>,
        span: Span,
    ) -> TExpr {
        let params = self.cx.sigs[func as usize].params.clone();
        if params.len() == args.len() {
            for (arg, param) in args.iter().zip(&params) {
                self.require_value(arg);
                if !arg.ty.fits(*param) {
                    self.mismatch(
                        arg.span,
                        *param,
                        arg.ty,
                        &format!("this argument of `{}`", callee.name),
                    );
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
}
