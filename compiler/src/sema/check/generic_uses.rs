//! Uses of generic declarations in bodies: calls of generic functions, variants of generic
//! enums (`Some(3)`, `Either::Left(1)`, `None`) and literals of generic structs, each of which
//! picks (or makes) an instance (`generics`).
//!
//! The type arguments come from the type the context expects when it is an instance of the
//! same declaration (`let x: Option<int> = None;`), else from the values given, matched with
//! the declared types one by one: a value's expected type is its declared type once the
//! parameters it mentions are known (`f([1], [])` types the `[]`). For a function, the
//! expected type of the call's result is tried last. A parameter still unknown then is E0424.

use super::generics::{Binding, TypeDecl};
use super::*;

impl BodyChecker<'_, '_> {
    /// The generic enum of the prelude that has a variant `name` written bare (`Some`, `None`,
    /// `Ok`, `Err`).
    pub(super) fn bare_variant_of(&self, name: &str) -> Option<String> {
        (self.cx.generic_types.iter())
            .filter(|(_, generic)| generic.prelude)
            .find(|(_, generic)| match generic.decl {
                TypeDecl::Enum(decl) => decl.variants.iter().any(|v| v.name.name == name),
                TypeDecl::Struct(_) => false,
            })
            .map(|(enum_name, _)| enum_name.clone())
    }

    /// The type arguments of `ty` if it is an instance of the generic declaration `name`.
    pub(super) fn instance_args(&self, ty: Option<Type>, name: &str) -> Option<Vec<Type>> {
        match ty? {
            Type::Struct(id) | Type::Enum(id) => {
                let info = &self.cx.types.structs[id as usize];
                let generic = self.cx.generic_types.get(name)?;
                (info.name == name && generic.instances.get(&info.args) == Some(&id))
                    .then(|| info.args.clone())
            }
            _ => None,
        }
    }

    /// Checks `values` against the declared types `written` of a generic declaration, in
    /// order, learning its parameters into `binding`. A value that only its context can type
    /// (`[]`, `None`) is checked after the others when its declared type is not known yet,
    /// so `f([], 1)` types the `[]` from the `1`. The values come back in their order.
    fn infer_from_values<'e>(
        &mut self,
        binding: &mut Binding,
        values: impl IntoIterator<Item = (Option<&'e TypeExpr>, &'e Expr)>,
    ) -> Vec<TExpr> {
        let values: Vec<(Option<&TypeExpr>, &Expr)> = values.into_iter().collect();
        let mut typed: Vec<Option<TExpr>> = values.iter().map(|_| None).collect();
        let needs_context = |value: &Expr| match &value.kind {
            ExprKind::Array(items) => items.is_empty(),
            ExprKind::Var(name) => name == "None",
            _ => false,
        };
        for pass in 0..2 {
            for (index, &(written, value)) in values.iter().enumerate() {
                let known = written.is_some_and(|w| binding.covers(w));
                if typed[index].is_some() || (pass == 0 && !known && needs_context(value)) {
                    continue;
                }
                let expected = match written {
                    Some(written) if binding.covers(written) => {
                        let env = binding.env();
                        let saved = std::mem::replace(&mut self.cx.type_env, env);
                        let mut scratch = Vec::new();
                        let ty = self.cx.resolve_type(written, false, &mut scratch);
                        self.cx.type_env = saved;
                        Some(ty)
                    }
                    _ => None,
                };
                let value = self.expr(value, true, expected);
                self.require_value(&value);
                if let Some(written) = written {
                    binding.unify(written, value.ty, &self.cx.types);
                }
                typed[index] = Some(value);
            }
        }
        typed.into_iter().flatten().collect()
    }

    /// Reports a type parameter of `what` that nothing tells (E0424).
    fn cannot_infer(&mut self, param: &str, what: &str, span: Span, hint: &str) {
        self.diags.push(
            Diagnostic::new(
                "E0424",
                span,
                format!("cannot infer the type `{param}` of `{what}`"),
            )
            .label(format!("`{param}` is not known here"))
            .note(hint.to_string()),
        );
    }

    /// A call of the generic function declared as `decl`: its instance for the inferred type
    /// arguments, called.
    pub(super) fn generic_call(
        &mut self,
        decl: u32,
        callee: &Ident,
        args: &[Expr],
        expected: Option<Type>,
        span: Span,
    ) -> TExpr {
        let fn_decl = self.cx.decls[decl as usize];
        if fn_decl.params.len() != args.len() {
            for arg in args {
                self.expr(arg, true, None);
            }
            self.arity_error(decl, callee, fn_decl.params.len(), args.len());
            return TExpr::error(span);
        }
        let mut binding = Binding::new(&fn_decl.type_params);
        let values = fn_decl.params.iter().map(|p| Some(&p.ty)).zip(args);
        let typed = self.infer_from_values(&mut binding, values);
        if let (Some(ret), Some(expected)) = (&fn_decl.ret, expected) {
            binding.unify(ret, expected, &self.cx.types);
        }
        if typed.iter().any(|arg| arg.ty == Type::Error) {
            return TExpr::error(span);
        }
        let Some(type_args) = binding.args() else {
            if expected == Some(Type::Error) {
                // The type the context wanted was reported broken already.
                return TExpr::error(span);
            }
            let param = binding.missing().unwrap_or("?").to_string();
            let hint = match &fn_decl.ret {
                Some(ret) => {
                    // The written result with `int` for the parameters, as an example.
                    let mut example = ret.clone();
                    for p in &fn_decl.type_params {
                        replace_named(&mut example, &p.name.name, "int");
                    }
                    format!(
                        "no argument's type tells it: give the result a type, e.g. `let x: {} = {}(...);`",
                        super::traits::written_text(&example),
                        callee.name
                    )
                }
                None => "no argument's type tells it".to_string(),
            };
            self.cannot_infer(&param, &callee.name, callee.span, &hint);
            return TExpr::error(span);
        };
        let Some(func) = self
            .cx
            .instantiate_fn(decl, type_args, callee.span, self.diags)
        else {
            return TExpr::error(span);
        };
        self.user_call_typed(func, callee, typed, span)
    }

    /// A variant of a generic enum: `Option::Some(3)`, or bare (`enum_name` `None`) one of
    /// the prelude's, `Some(3)`, `None`.
    pub(super) fn generic_variant(
        &mut self,
        enum_name: Option<&Ident>,
        variant: &Ident,
        args: Option<&[Expr]>,
        expected: Option<Type>,
        span: Span,
    ) -> TExpr {
        let name = match enum_name {
            Some(name) => name.name.clone(),
            None => self.bare_variant_of(&variant.name).unwrap_or_default(),
        };
        let generic = &self.cx.generic_types[&name];
        let TypeDecl::Enum(decl) = generic.decl else {
            return self.not_an_enum(enum_name, args, span);
        };
        let Some(tag) = (decl.variants.iter()).position(|v| v.name.name == variant.name) else {
            let names: Vec<&str> = decl.variants.iter().map(|v| v.name.name.as_str()).collect();
            self.diags.push(
                Diagnostic::new(
                    "E0419",
                    variant.span,
                    format!("enum `{name}` has no variant `{}`", variant.name),
                )
                .label("unknown variant")
                .note(format!("its variants are {}", names.join(", "))),
            );
            for arg in args.into_iter().flatten() {
                self.expr(arg, true, None);
            }
            return TExpr::error(span);
        };
        let written = &decl.variants[tag].payload;
        let (type_args, typed) = match self.instance_args(expected, &name) {
            Some(type_args) => (type_args, None),
            None => {
                let mut binding = Binding::new(&decl.type_params);
                let values = (args.into_iter().flatten())
                    .enumerate()
                    .map(|(i, arg)| (written.get(i), arg));
                let typed = self.infer_from_values(&mut binding, values);
                if typed.iter().any(|arg| arg.ty == Type::Error) {
                    return TExpr::error(span);
                }
                match binding.args() {
                    Some(type_args) => (type_args, Some(typed)),
                    None if written.len() != typed.len()
                        || args.is_some() == written.is_empty() =>
                    {
                        // Wrong arity: reported against any instance.
                        let count = decl.type_params.len();
                        (vec![Type::Error; count], Some(typed))
                    }
                    None if expected == Some(Type::Error) => return TExpr::error(span),
                    None => {
                        let param = binding.missing().unwrap_or("?").to_string();
                        let shown = if generic_bare(self, &name) {
                            variant.name.clone()
                        } else {
                            format!("{name}::{}", variant.name)
                        };
                        self.cannot_infer(
                            &param,
                            &shown,
                            span,
                            &format!(
                                "give the value a type: `let x: {name}<{}> = ...;` with the types written out",
                                decl.type_params
                                    .iter()
                                    .map(|p| p.name.name.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        );
                        return TExpr::error(span);
                    }
                }
            }
        };
        let ty = if type_args.contains(&Type::Error) {
            // Only to report the arity against: never lowered.
            match self.cx.generic_types[&name].instances.get(&type_args) {
                Some(&id) => Type::Enum(id),
                None => self.cx.instantiate_type(&name, type_args, span, self.diags),
            }
        } else {
            self.cx.instantiate_type(&name, type_args, span, self.diags)
        };
        let Type::Enum(id) = ty else {
            return TExpr::error(span);
        };
        let entry = self.cx.types.structs[id as usize].variants[tag];
        self.variant_value(entry, args, typed, span)
    }

    fn not_an_enum(
        &mut self,
        enum_name: Option<&Ident>,
        args: Option<&[Expr]>,
        span: Span,
    ) -> TExpr {
        if let Some(name) = enum_name {
            self.diags.push(
                Diagnostic::new("E0418", name.span, format!("unknown enum `{}`", name.name))
                    .label("a struct, not an enum"),
            );
        }
        for arg in args.into_iter().flatten() {
            self.expr(arg, true, None);
        }
        TExpr::error(span)
    }

    /// The instance of generic struct `name` a literal builds, and the field values if they
    /// were checked to infer it (in the order written).
    pub(super) fn generic_struct(
        &mut self,
        name: &Ident,
        type_args: &[TypeExpr],
        fields: &[(Ident, Expr)],
        expected: Option<Type>,
        span: Span,
    ) -> Option<(Type, Option<Vec<TExpr>>)> {
        let generic = &self.cx.generic_types[&name.name];
        let TypeDecl::Struct(decl) = generic.decl else {
            self.diags.push(
                Diagnostic::new(
                    "E0305",
                    name.span,
                    format!("unknown struct `{}`", name.name),
                )
                .label("an enum, not a struct"),
            );
            for (_, value) in fields {
                self.expr(value, true, None);
            }
            return None;
        };
        if !type_args.is_empty() {
            let written = TypeExpr::Applied {
                name: name.clone(),
                args: type_args.to_vec(),
                span: name.span.to(type_args[type_args.len() - 1].span()),
            };
            let ty = self.cx.resolve_type(&written, false, self.diags);
            return (ty != Type::Error).then_some((ty, None));
        }
        if let Some(args) = self.instance_args(expected, &name.name) {
            let ty = self.cx.instantiate_type(&name.name, args, span, self.diags);
            return Some((ty, None));
        }
        let mut binding = Binding::new(&decl.type_params);
        let values = fields.iter().map(|(field, value)| {
            let written = decl.fields.iter().find(|f| f.name.name == field.name);
            (written.map(|f| &f.ty), value)
        });
        let typed = self.infer_from_values(&mut binding, values);
        let Some(args) = binding.args() else {
            if expected != Some(Type::Error) && typed.iter().all(|value| value.ty != Type::Error) {
                let param = binding.missing().unwrap_or("?").to_string();
                self.cannot_infer(
                    &param,
                    &name.name,
                    name.span,
                    &format!(
                        "write the type arguments: `new {}<int> {{ ... }}`",
                        name.name
                    ),
                );
            }
            return None;
        };
        let ty = self.cx.instantiate_type(&name.name, args, span, self.diags);
        (ty != Type::Error).then_some((ty, Some(typed)))
    }
}

/// Whether the variants of generic enum `name` are written bare.
fn generic_bare(body: &BodyChecker, name: &str) -> bool {
    body.cx.generic_types.get(name).is_some_and(|g| g.prelude)
}

/// Replaces the type name `name` in a written type by `by`.
fn replace_named(ty: &mut TypeExpr, name: &str, by: &str) {
    match ty {
        TypeExpr::Named(ident) if ident.name == name => ident.name = by.to_string(),
        _ => (ty.children_mut().into_iter()).for_each(|elem| replace_named(elem, name, by)),
    }
}
