//! Other names for types and values: type aliases (`type Celsius = float;`, `type Grid<T> =
//! [[T]];`) and top-level constants (`const LIMIT: int = 10;`).
//!
//! An alias is structural: `Celsius` is `float`, written another way. Its type is checked once
//! where it is declared (an alias that names itself, directly or through others, is E0430);
//! each use resolves it again with its arguments, saying nothing more.
//!
//! A constant's value is built from literals, operators, array and tuple literals and other
//! constants only (E0431 otherwise), so it has no effects: it is checked once where it is
//! declared, and each use (in any function, or at the top level; a variable of the same name
//! hides it) is that value again, typed as declared. A constant defined in terms of itself is
//! E0430. What this module does not do: evaluate constants ahead of time (the IR's constant
//! folding does what it can).

use super::*;

impl<'a> Checker<'a> {
    /// Declares every type alias (before the structs' fields, which may use them).
    pub(super) fn declare_aliases(
        &mut self,
        aliases: &[&'a TypeAlias],
        diags: &mut Vec<Diagnostic>,
    ) {
        for &alias in aliases {
            if self.declare_type_name(&alias.name, diags) {
                self.aliases.insert(alias.name.name.clone(), alias);
            }
        }
    }

    /// Checks what each type alias names (once).
    pub(super) fn check_aliases(&mut self, aliases: &[&'a TypeAlias], diags: &mut Vec<Diagnostic>) {
        for &alias in aliases {
            if self
                .aliases
                .get(&alias.name.name)
                .is_some_and(|a| std::ptr::eq(*a, alias))
            {
                self.check_param_names(&alias.type_params, diags);
                let args = vec![Type::Error; alias.type_params.len()];
                self.resolve_alias(alias, args, diags);
            }
        }
    }

    /// The type alias `name` stands for with `args`, at a use at `span` (the alias's own
    /// mistakes were reported where it is declared).
    pub(super) fn alias_use(
        &mut self,
        name: &str,
        args: Vec<Type>,
        span: Span,
        diags: &mut Vec<Diagnostic>,
    ) -> Type {
        let alias = self.aliases[name];
        let count = alias.type_params.len();
        if args.len() != count {
            diags.push(type_argument_count(name, count, args.len(), span));
            return Type::Error;
        }
        let mut scratch = Vec::new();
        let ty = self.resolve_alias(alias, args, &mut scratch);
        diags.extend(
            scratch
                .into_iter()
                .filter(|d| matches!(d.code, "E0427" | "E0430")),
        );
        ty
    }

    /// What `alias` names with its parameters standing for `args`.
    fn resolve_alias(
        &mut self,
        alias: &TypeAlias,
        args: Vec<Type>,
        diags: &mut Vec<Diagnostic>,
    ) -> Type {
        let name = &alias.name.name;
        if self.cyclic.contains(name) {
            return Type::Error;
        }
        if let Some(start) = self.alias_stack.iter().position(|n| n == name) {
            // Every alias of the cycle is broken; it is reported once.
            let cycle: Vec<String> = self.alias_stack[start..].to_vec();
            self.cyclic.extend(cycle);
            diags.push(
                Diagnostic::new(
                    "E0430",
                    alias.name.span,
                    format!("type alias `{name}` names itself"),
                )
                .label("its type uses the alias, directly or through other aliases")
                .note("an alias is another name for a type; declare a struct or enum for a recursive type"),
            );
            return Type::Error;
        }
        let env = (alias.type_params.iter())
            .map(|p| p.name.name.clone())
            .zip(args)
            .collect();
        let saved = std::mem::replace(&mut self.type_env, env);
        self.alias_stack.push(name.clone());
        let ty = self.resolve_type(&alias.ty, false, diags);
        self.alias_stack.pop();
        self.type_env = saved;
        ty
    }

    /// Declares every constant, then checks each value once (after the functions' signatures,
    /// which a constant's value never calls).
    pub(super) fn collect_consts(&mut self, consts: &[&'a ConstDecl], diags: &mut Vec<Diagnostic>) {
        for &decl in consts {
            if let Some(first) = self.consts.get(&decl.name.name) {
                diags.push(
                    Diagnostic::new(
                        "E0303",
                        decl.name.span,
                        format!("constant `{}` is defined twice", decl.name.name),
                    )
                    .label("second definition")
                    .secondary(first.name.span, "first defined here"),
                );
            } else {
                self.consts.insert(decl.name.name.clone(), decl);
            }
        }
        let cyclic: Vec<&ConstDecl> = (consts.iter())
            .copied()
            .filter(|decl| {
                self.consts
                    .get(&decl.name.name)
                    .is_some_and(|d| std::ptr::eq(*d, *decl))
            })
            .filter(|decl| self.refers_to(decl, &decl.name.name, &mut Vec::new()))
            .collect();
        // One diagnostic per cycle: for its first constant.
        for (index, decl) in cyclic.iter().enumerate() {
            let reported = cyclic[..index]
                .iter()
                .any(|earlier| self.refers_to(earlier, &decl.name.name, &mut Vec::new()));
            if !reported {
                diags.push(
                    Diagnostic::new(
                        "E0430",
                        decl.name.span,
                        format!(
                            "constant `{}` is defined in terms of itself",
                            decl.name.name
                        ),
                    )
                    .label("its value uses it, directly or through other constants"),
                );
            }
        }
        for decl in &cyclic {
            self.cyclic.insert(decl.name.name.clone());
        }
        for &decl in consts {
            let own = self
                .consts
                .get(&decl.name.name)
                .is_some_and(|d| std::ptr::eq(*d, decl));
            if own && !self.cyclic.contains(&decl.name.name) {
                self.check_const(decl, diags);
            }
        }
    }

    /// Whether the value of `decl` uses the constant `name`, through other constants too
    /// (`seen` holds the ones already followed).
    fn refers_to(&self, decl: &ConstDecl, name: &str, seen: &mut Vec<String>) -> bool {
        let mut used = Vec::new();
        const_names(&decl.value, &mut used);
        used.into_iter().any(|used| {
            if used == name {
                return true;
            }
            if seen.contains(&used) {
                return false;
            }
            seen.push(used.clone());
            self.consts
                .get(&used)
                .is_some_and(|next| self.refers_to(next, name, seen))
        })
    }

    /// Checks a constant's value where it is declared: of its type, and constant.
    fn check_const(&mut self, decl: &ConstDecl, diags: &mut Vec<Diagnostic>) {
        if let Some(span) = non_constant(&decl.value) {
            diags.push(
                Diagnostic::new("E0431", span, "a constant's value must be constant")
                    .label("not a literal, an operator or another constant")
                    .note("a constant is built from literals, operators, `[...]`, `(...)` and other constants"),
            );
            return;
        }
        let ty = self.resolve_type(&decl.ty, false, diags);
        let mut body = BodyChecker::new(self, diags, RetMode::TopLevel);
        body.push_scope();
        let value = body.expr(&decl.value, true, Some(ty));
        if !value.ty.fits(ty) {
            body.mismatch(value.span, ty, value.ty, "the constant's value");
        }
    }
}

impl BodyChecker<'_, '_> {
    /// A use of the constant `name`: its value, checked again here (its mistakes were said
    /// where it is declared), of its declared type.
    pub(super) fn const_value(&mut self, name: &str, span: Span) -> TExpr {
        let decl = self.cx.consts[name];
        if self.cx.const_stack.iter().any(|n| n == name)
            || self.cx.cyclic.contains(name)
            || non_constant(&decl.value).is_some()
        {
            return TExpr::error(span);
        }
        let ty = self.cx.resolve_type(&decl.ty, false, &mut Vec::new());
        self.cx.const_stack.push(name.to_string());
        let saved = std::mem::take(&mut *self.diags);
        // The value's own scope: the constant sees no variable of the place it is used in.
        let scopes = std::mem::take(&mut self.scopes);
        self.push_scope();
        let value = self.expr(&decl.value, true, Some(ty));
        self.scopes = scopes;
        let found = std::mem::replace(&mut *self.diags, saved);
        self.cx.const_stack.pop();
        if !found.is_empty() || !value.ty.fits(ty) {
            return TExpr::error(span);
        }
        value
    }
}

/// The names a constant's value reads (all of them constants, if the value is constant).
fn const_names(expr: &Expr, out: &mut Vec<String>) {
    match &expr.kind {
        ExprKind::Var(name) => out.push(name.clone()),
        ExprKind::Unary { operand, .. } => const_names(operand, out),
        ExprKind::Binary { lhs, rhs, .. } => {
            const_names(lhs, out);
            const_names(rhs, out);
        }
        ExprKind::Array(items) | ExprKind::Tuple(items) => {
            items.iter().for_each(|item| const_names(item, out))
        }
        _ => {}
    }
}

/// The first part of `expr` that is not constant, if any.
fn non_constant(expr: &Expr) -> Option<Span> {
    match &expr.kind {
        ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Bool(_)
        | ExprKind::Str(_)
        | ExprKind::Var(_) => None,
        ExprKind::Unary { operand, .. } => non_constant(operand),
        ExprKind::Binary { lhs, rhs, .. } => non_constant(lhs).or_else(|| non_constant(rhs)),
        ExprKind::Array(items) | ExprKind::Tuple(items) => items.iter().find_map(non_constant),
        _ => Some(expr.span),
    }
}
