//! Calls: of builtins (resolved by argument types, see `builtins`) and of user functions.

use super::*;

impl BodyChecker<'_, '_> {
    /// `__map_new()`: an empty map or set of the type the context expects.
    fn map_new(&mut self, expected: Option<Type>, span: Span) -> TExpr {
        match expected {
            Some(ty @ (Type::Map(_) | Type::Set(_))) => TExpr {
                kind: TExprKind::Builtin {
                    builtin: Builtin::MapNew,
                    args: Vec::new(),
                },
                ty,
                span,
            },
            Some(Type::Error) => TExpr::error(span),
            _ => {
                self.diags.push(
                    Diagnostic::new("E0424", span, "the type of this map is not known")
                        .label("a map or set of what?")
                        .note("give it with a type, e.g. `let m: map<string, int> = map_new();`"),
                );
                TExpr::error(span)
            }
        }
    }

    /// `__session_get(slot)` in a REPL entry's own code: the value of the session's variable
    /// in slot `slot`, of the type its `let` gives.
    fn session_get(&mut self, args: &[Expr], expected: Option<Type>, span: Span) -> TExpr {
        let [slot] = args else {
            return TExpr::error(span);
        };
        let slot = self.expr(slot, true, Some(Type::Int));
        match expected {
            Some(ty) if ty != Type::Void => TExpr {
                kind: TExprKind::Builtin {
                    builtin: Builtin::Rt(crate::ir::RtFunc::SessionGet),
                    args: vec![slot],
                },
                ty,
                span,
            },
            _ => TExpr::error(span),
        }
    }

    /// `__session_set(slot, value)` in a REPL entry's own code: keeps `value` in the session's
    /// slot `slot` (a `void` value is only evaluated), and records what was kept.
    fn session_set(&mut self, args: &[Expr], span: Span) -> TExpr {
        let (Some(ExprKind::Int(slot)), Some(value)) = (args.first().map(|a| &a.kind), args.get(1))
        else {
            return TExpr::error(span);
        };
        let Ok(slot_number) = u32::try_from(*slot) else {
            return TExpr::error(span);
        };
        let slot = self.expr(&args[0], true, Some(Type::Int));
        let value = self.expr(value, true, None);
        let ty = value.ty;
        let kept = (ty != Type::Void && ty != Type::Error).then(|| self.name(ty));
        self.cx.session.push(SessionKept {
            slot: slot_number,
            holds_function: self.cx.types.holds_function(ty),
            ty: kept.clone(),
        });
        if kept.is_none() {
            return value;
        }
        TExpr {
            kind: TExprKind::Builtin {
                builtin: Builtin::SessionSet,
                args: vec![slot, value],
            },
            ty: Type::Void,
            span,
        }
    }

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
        // A variable holding a function value shadows the functions of its name.
        if let Some(var) = self.lookup_function_variable(&callee.name) {
            self.mark_read(var);
            let value = TExpr {
                kind: TExprKind::Var(var),
                ty: self.var_type(var),
                span: callee.span,
            };
            return self.value_call(value, args, callee.span, span);
        }
        if let Some(decl) = self.cx.function_named(&callee.name) {
            return self.decl_call(decl, callee, args, expected, span);
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
        let in_session_code = self.cx.in_session_code(callee.span);
        if in_session_code && callee.name == "__session_get" {
            return self.session_get(args, expected, span);
        }
        if in_session_code && callee.name == "__session_set" {
            return self.session_set(args, span);
        }
        if callee.name.starts_with("__")
            && BUILTIN_NAMES.contains(&callee.name.as_str())
            && (callee.span.start < crate::sema::PRELUDE_BASE
                || callee.name.starts_with("__session"))
        {
            // The primitives under the prelude (`__map_find`, ...) are not for programs: some
            // take positions only the prelude knows to be valid.
            for arg in args {
                self.expr(arg, true, None);
            }
            self.diags.push(
                Diagnostic::new(
                    "E0302",
                    callee.span,
                    format!("`{}` is internal to the standard library", callee.name),
                )
                .label("not callable from a program")
                .note("call the prelude's function instead (docs/language.md)"),
            );
            return TExpr::error(span);
        }
        if callee.name == "__map_new" && args.is_empty() {
            return self.map_new(expected, span);
        }
        // Builtins: the first argument is checked alone so that the second can expect its
        // element type (`push(a, [])`), a map's key or value type.
        let mut typed: Vec<TExpr> = Vec::with_capacity(args.len());
        for (i, arg) in args.iter().enumerate() {
            let expected = match (i, typed.first().map(|a| a.ty)) {
                (1, Some(first))
                    if matches!(callee.name.as_str(), "push" | "contains" | "index_of") =>
                {
                    self.cx.types.elem(first)
                }
                (1, Some(first)) if callee.name == "concat" => Some(first),
                (1 | 2, Some(first)) if callee.name.starts_with("__map_") => {
                    let info = self.cx.types.map_info(first);
                    info.map(|info| if i == 1 { info.key } else { info.value })
                }
                (1, Some(first)) if callee.name == "__set_insert" => {
                    self.cx.types.map_info(first).map(|info| info.key)
                }
                (0, _) if callee.name == "join" => Some(self.cx.types.array_of(Type::Str)),
                _ => None,
            };
            let value = self.expr(arg, true, expected);
            // A type with `impl Display` prints (and converts) through its `fmt`.
            let value = match callee.name.as_str() {
                "print" | "println" | "eprintln" | "to_string" => self.displayed(value),
                _ => value,
            };
            typed.push(value);
        }
        // `type_of(value)`: the value's static type as Keel writes it, after evaluating it.
        if callee.name == "type_of" && typed.len() == 1 && !matches!(typed[0].ty, Type::Void) {
            if typed[0].ty == Type::Error {
                return TExpr::error(span);
            }
            let name = self.name(typed[0].ty);
            let value = typed.pop().expect("one argument");
            let text = TExpr {
                kind: TExprKind::Str(name),
                ty: Type::Str,
                span,
            };
            return matching::block_expr(vec![TStmt::Expr(value)], text, Type::Str);
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
                } else {
                    let known = self
                        .cx
                        .function_names()
                        .chain(BUILTIN_NAMES.iter().copied());
                    if let Some(hint) = suggest::did_you_mean(&callee.name, known) {
                        diag = diag.note(hint);
                    }
                }
                self.diags.push(diag);
                TExpr::error(span)
            }
        }
    }

    /// `receiver.method(args)` (`args` starting with the receiver): the receiver type's
    /// function `method` if it has one, else the function `method` with the receiver first.
    /// The receiver is checked once: unless it is a variable, its value is held in a hidden
    /// variable that the call then reads (so `a = a.push(x)` still updates `a` in place).
    pub(super) fn method_call(
        &mut self,
        method: &Ident,
        args: &[Expr],
        expected: Option<Type>,
        span: Span,
    ) -> TExpr {
        let receiver = &args[0];
        let known = match &receiver.kind {
            ExprKind::Var(name) => self.lookup(name).map(|var| self.var_type(var)),
            // `[].f()`: only the function's parameter can type it, and an array has no
            // methods: the function, as it was written `f([])`.
            ExprKind::Array(items) if items.is_empty() => {
                return self.call(method, args, expected, span);
            }
            _ => None,
        };
        let (ty, held) = match known {
            Some(ty) => (ty, None),
            None => {
                let value = self.expr(receiver, true, None);
                self.require_value(&value);
                if value.ty == Type::Error {
                    for arg in &args[1..] {
                        self.expr(arg, true, None);
                    }
                    return TExpr::error(span);
                }
                let name = Ident {
                    name: format!("%receiver{}", self.vars.len()),
                    span: receiver.span,
                };
                let var = self.declare(&name, value.ty);
                let mut rewritten = Vec::with_capacity(args.len());
                rewritten.push(Expr::new(ExprKind::Var(name.name), receiver.span));
                rewritten.extend(args[1..].iter().cloned());
                (value.ty, Some((var, value, rewritten)))
            }
        };
        let args = held
            .as_ref()
            .map_or(args, |(_, _, rewritten)| rewritten.as_slice());
        // A map's methods are the prelude's `map_*` functions, a set's its `set_*` ones.
        let collection = match ty {
            Type::Map(_) => Some("map"),
            Type::Set(_) => Some("set"),
            _ => None,
        };
        let prefixed = (collection.map(|kind| Ident {
            name: format!("{kind}_{}", method.name),
            span: method.span,
        }))
        .filter(|prefixed| self.cx.function_named(&prefixed.name).is_some());
        let found = self.cx.method_of(ty, &method.name);
        let call = if let Some(prefixed) = &prefixed {
            self.call(prefixed, args, expected, span)
        } else {
            match found {
                None if collection.is_some() && self.no_function_named(&method.name) => {
                    for arg in &args[1..] {
                        self.expr(arg, true, None);
                    }
                    let kind = collection.unwrap_or_default();
                    self.diags.push(
                        Diagnostic::new(
                            "E0302",
                            method.span,
                            format!("no method `{}` for `{}`", method.name, self.name(ty)),
                        )
                        .label(format!("no function `{kind}_{}` either", method.name))
                        .note(
                            suggest::did_you_mean(
                                &method.name,
                                (self.cx.function_names())
                                    .filter_map(|name| name.strip_prefix(kind)?.strip_prefix('_')),
                            )
                            .unwrap_or_else(|| {
                                format!(
                                    "the methods of a {kind} are the prelude's `{kind}_*` functions (docs/language.md)"
                                )
                            }),
                        ),
                    );
                    TExpr::error(span)
                }
                Some(decl) if self.cx.decls[decl as usize].params.len() != args.len() => {
                    // Counted without the receiver, as written.
                    let want = self.cx.decls[decl as usize].params.len().saturating_sub(1);
                    for arg in &args[1..] {
                        self.expr(arg, true, None);
                    }
                    let given = args.len() - 1;
                    let type_name = self.name(ty);
                    self.diags.push(
                        Diagnostic::new(
                            "E0402",
                            method.span,
                            format!(
                                "`{type_name}::{}` takes {want} argument{} after `self`, but {given} {} given",
                                method.name,
                                plural(want),
                                if given == 1 { "was" } else { "were" }
                            ),
                        )
                        .label("wrong number of arguments")
                        .secondary(self.cx.decls[decl as usize].name.span, "defined here"),
                    );
                    TExpr::error(span)
                }
                Some(decl) => self.decl_call(decl, method, args, expected, span),
                None if self.no_function_named(&method.name)
                    && matches!(ty, Type::Struct(_) | Type::Enum(_)) =>
                {
                    for arg in &args[1..] {
                        self.expr(arg, true, None);
                    }
                    let type_name = self.name(ty);
                    let base = type_name
                        .split('<')
                        .next()
                        .unwrap_or(&type_name)
                        .to_string();
                    self.diags.push(
                        Diagnostic::new(
                            "E0302",
                            method.span,
                            format!("no method `{}` for `{type_name}`", method.name),
                        )
                        .label("not a method of this value's type, nor a function")
                        .note(format!(
                            "methods are declared in `impl {base} {{ fn {}(self, ...) ... }}`",
                            method.name
                        )),
                    );
                    TExpr::error(span)
                }
                None => self.call(method, args, expected, span),
            }
        };
        let Some((var, value, _)) = held else {
            return call;
        };
        let ty = call.ty;
        let hold = TStmt::Assign {
            place: Place {
                var,
                path: Vec::new(),
            },
            value,
        };
        TExpr {
            kind: TExprKind::Block(TBlock {
                stmts: vec![hold],
                tail: Some(Box::new(call)),
            }),
            ty,
            span,
        }
    }

    /// Whether no function, builtin or prelude variant is named `name` (a call of it could
    /// only fail).
    fn no_function_named(&self, name: &str) -> bool {
        self.cx.function_named(name).is_none()
            && !BUILTIN_NAMES.contains(&name)
            && !matches!(name, "unwrap" | "expect" | "unwrap_or" | "unwrap_err")
            && self.bare_variant_of(name).is_none()
    }

    /// A call of function declaration `decl` (generic or not) with `args`.
    pub(super) fn decl_call(
        &mut self,
        decl: u32,
        callee: &Ident,
        args: &[Expr],
        expected: Option<Type>,
        span: Span,
    ) -> TExpr {
        if !self.cx.decls[decl as usize].type_params.is_empty() {
            return self.generic_call(decl, callee, args, expected, span);
        }
        match self.cx.plain_sig(decl, callee.span, self.diags) {
            Some(func) => self.user_call(func, callee, args, span),
            None => {
                for arg in args {
                    self.expr(arg, true, None);
                }
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
