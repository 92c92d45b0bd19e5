//! Enum values and `match`: variant construction, patterns in arms, and the lowering of a
//! `match` into the typed tree's `if` chain.
//!
//! A `match` becomes `{ hidden = scrutinee; if test1 { binds1; body1 } else if ... else {
//! bindsN; bodyN } }`: each arm's test reads parts of the hidden variable (a tag is field 0 of
//! an enum value, a payload field is [`TExprKind::Payload`], a tuple element a field), and its
//! bindings are assignments from the same parts. A guard is evaluated after the bindings, inside
//! the test (`test && { binds; guard }`). The last arm needs no test: the match is exhaustive
//! (`exhaustive`), so when control reaches it, its pattern matches.
//!
//! What this module does not do: decide exhaustiveness (`exhaustive`) or bind `let` and `for`
//! patterns (`patterns`).

use super::exhaustive::{self, Ctor, Pat};
use super::*;

/// One step from a matched value to a part of it.
#[derive(Copy, Clone, Debug)]
enum Access {
    /// Element `index` of a tuple, of type `ty`.
    Element { index: u32, ty: Type },
    /// Payload field `field` (from 1) of variant entry `variant`, of type `ty`.
    Payload { variant: u32, field: u32, ty: Type },
}

/// What checking one arm's pattern gives: the conditions for it to match (all must hold) and
/// the assignments of the names it binds.
#[derive(Default)]
struct Parts {
    tests: Vec<TExpr>,
    binds: Vec<TStmt>,
}

impl BodyChecker<'_, '_> {
    /// `Enum::Variant` or `Enum::Variant(args)`.
    pub(super) fn variant_expr(
        &mut self,
        enum_name: &Ident,
        variant: &Ident,
        args: Option<&[Expr]>,
        expected: Option<Type>,
        span: Span,
    ) -> TExpr {
        let key = (enum_name.name.clone(), variant.name.clone());
        if let Some(&decl) = self.cx.methods.get(&key) {
            // `Type::function(args)`: a function of an `impl` block; without arguments, the
            // function as a value.
            let Some(args) = args else {
                let name = format!("{}::{}", enum_name.name, variant.name);
                return self.decl_value(decl, &name, span);
            };
            let callee = Ident {
                name: format!("{}::{}", enum_name.name, variant.name),
                span: enum_name.span.to(variant.span),
            };
            return self.decl_call(decl, &callee, args, expected, span);
        }
        if self.cx.generic_types.contains_key(&enum_name.name) {
            return self.generic_variant(Some(enum_name), variant, args, expected, span);
        }
        let Some(entry) = self.find_variant(Some(enum_name), variant, None) else {
            for arg in args.into_iter().flatten() {
                self.expr(arg, true, None);
            }
            return TExpr::error(span);
        };
        if args.is_none() && !self.cx.types.payload(entry).is_empty() {
            return self.variant_constructor(entry, span);
        }
        self.variant_value(entry, args, None, span)
    }

    /// The value of variant entry `entry` with payload `args` (already checked as `typed`,
    /// when the variant's type arguments were inferred from them).
    pub(super) fn variant_value(
        &mut self,
        entry: u32,
        args: Option<&[Expr]>,
        typed: Option<Vec<TExpr>>,
        span: Span,
    ) -> TExpr {
        let payload = self.cx.types.payload(entry);
        let given = args.map(<[Expr]>::len);
        if !self.payload_fits(entry, given, span, false) {
            if typed.is_none() {
                for arg in args.into_iter().flatten() {
                    self.expr(arg, true, None);
                }
            }
            return TExpr::error(span);
        }
        let mut values = Vec::with_capacity(payload.len());
        let mut typed = typed.map(Vec::into_iter);
        for (arg, want) in args.into_iter().flatten().zip(payload) {
            let value = match typed.as_mut().and_then(Iterator::next) {
                Some(value) => value,
                None => {
                    let value = self.expr(arg, true, Some(want));
                    self.require_value(&value);
                    value
                }
            };
            if !value.ty.fits(want) && value.ty != Type::Void {
                self.mismatch(value.span, want, value.ty, "the variant's payload");
            }
            values.push(value);
        }
        let tag = match self.cx.types.structs[entry as usize].kind {
            StructKind::Variant { tag, .. } => tag,
            _ => 0,
        };
        TExpr {
            kind: TExprKind::Variant {
                variant: entry,
                tag,
                args: values,
            },
            ty: self.enum_of(entry),
            span,
        }
    }

    /// Whether `given` payload values (`None`: no parentheses) fit variant entry `entry`, in a
    /// value (`Shape::Circle(1.0)`) or a pattern; reports E0420 when not.
    fn payload_fits(
        &mut self,
        entry: u32,
        given: Option<usize>,
        span: Span,
        pattern: bool,
    ) -> bool {
        let count = self.cx.types.payload(entry).len();
        if given.unwrap_or(0) == count && !(given.is_some() && count == 0) {
            return true;
        }
        let name = self.cx.types.variant_name(entry);
        let plural = if count == 1 { "" } else { "s" };
        let given = given.unwrap_or(0);
        let (message, label, note) = if pattern {
            (
                format!("`{name}` has {count} payload value{plural}, the pattern gives {given}"),
                "wrong number of patterns",
                "write one pattern per payload value, `_` for those not used".to_string(),
            )
        } else {
            (
                format!("`{name}` takes {count} payload value{plural}, given {given}"),
                "wrong number of values",
                format!("write `{name}(...)` with one value per payload type"),
            )
        };
        let note = if count == 0 {
            format!("write `{name}` without parentheses")
        } else {
            note
        };
        self.diags.push(
            Diagnostic::new("E0420", span, message)
                .label(label)
                .note(note),
        );
        false
    }

    /// The enum type a variant entry belongs to.
    pub(super) fn enum_of(&self, variant: u32) -> Type {
        match self.cx.types.structs[variant as usize].kind {
            StructKind::Variant { of, .. } => Type::Enum(of.0),
            _ => Type::Error,
        }
    }

    /// The variant entry `variant` names, of the enum `enum_name` names (or, without one, of
    /// `ty`, the type being matched). Reports what is unknown.
    fn find_variant(
        &mut self,
        enum_name: Option<&Ident>,
        variant: &Ident,
        ty: Option<Type>,
    ) -> Option<u32> {
        let enum_ty = match enum_name {
            // `Option::Some(x)` matching an `Option<int>`.
            Some(name) if self.instance_args(ty, &name.name).is_some() => ty.unwrap_or(Type::Error),
            Some(name) if self.cx.generic_types.contains_key(&name.name) => {
                if ty.is_some_and(|ty| ty != Type::Error) {
                    let found = self.name(ty.unwrap_or(Type::Error));
                    self.diags.push(
                        Diagnostic::new("E0401", name.span, "mismatched types")
                            .label(format!("expected `{found}`, found `{}`", name.name))
                            .note("a pattern must be of the matched value's type"),
                    );
                }
                return None;
            }
            Some(name) => match self.cx.enum_ids.get(&name.name) {
                Some(&id) => Type::Enum(id),
                None => {
                    let label = if self.cx.struct_ids.contains_key(&name.name) {
                        "a struct, not an enum"
                    } else {
                        "not a declared enum"
                    };
                    self.diags.push(
                        Diagnostic::new(
                            "E0418",
                            name.span,
                            format!("unknown enum `{}`", name.name),
                        )
                        .label(label),
                    );
                    return None;
                }
            },
            None => match ty {
                Some(ty @ Type::Enum(_)) => ty,
                Some(Type::Error) => return None,
                _ => {
                    self.diags.push(
                        Diagnostic::new(
                            "E0418",
                            variant.span,
                            format!("unknown variant `{}`", variant.name),
                        )
                        .label("not a variant of the matched value's type")
                        .note("write the enum's name before the variant: `Shape::Circle(r)`"),
                    );
                    return None;
                }
            },
        };
        let found = (self.cx.types.variants(enum_ty).iter())
            .copied()
            .find(|&entry| self.cx.types.structs[entry as usize].name == variant.name);
        if found.is_none() {
            let enum_name = self.name(enum_ty);
            let names: Vec<String> = (self.cx.types.variants(enum_ty).iter())
                .map(|&entry| self.cx.types.structs[entry as usize].name.clone())
                .collect();
            self.diags.push(
                Diagnostic::new(
                    "E0419",
                    variant.span,
                    format!("enum `{enum_name}` has no variant `{}`", variant.name),
                )
                .label("unknown variant")
                .note(format!("its variants are {}", names.join(", "))),
            );
        }
        found
    }

    /// Checks `match scrutinee { arms }` (also what `if let` and `while let` are).
    pub(super) fn match_expr(
        &mut self,
        scrutinee: &Expr,
        arms: &[Arm],
        want_value: bool,
        expected: Option<Type>,
        span: Span,
    ) -> TExpr {
        let value = self.expr(scrutinee, true, None);
        self.require_value(&value);
        let ty = value.ty;
        let holder = self.hidden(ty);
        let mut rows: Vec<Vec<Pat>> = Vec::new();
        let mut checked = Vec::with_capacity(arms.len());
        let mut result: Option<Type> = None;
        let mut first_body: Option<Span> = None;
        let mut diverging: Option<Type> = None;
        // A pattern that failed to check matches as `_`, which would make later arms look
        // unreachable: after one, reachability and exhaustiveness are not judged.
        let mut patterns_ok = true;
        for arm in arms {
            self.push_scope();
            let mut parts = Parts::default();
            let reported = self.diags.len();
            let pat = self.arm_pattern(&arm.pattern, ty, holder, &[], &mut parts);
            patterns_ok &= self.diags.len() == reported;
            let guard = arm.guard.as_ref().map(|guard| self.condition(guard));
            let body = self.expr(&arm.body, want_value, expected.or(result));
            self.pop_scope();
            if ty != Type::Error
                && patterns_ok
                && !arm.synthetic
                && !exhaustive::useful(&self.cx.types, &rows, std::slice::from_ref(&pat), &[ty])
            {
                self.diags.push(
                    Diagnostic::new("E0422", arm.pattern.span(), "unreachable `match` arm")
                        .label("every value this matches is matched by an earlier arm")
                        .note("remove the arm, or move it before the arms that cover it"),
                );
            }
            if guard.is_none() {
                rows.push(vec![pat]);
            }
            if want_value && expr_diverges(&body) && !matches!(body.ty, Type::Void | Type::Error) {
                diverging.get_or_insert(body.ty);
            }
            if want_value && !expr_diverges(&body) && body.ty != Type::Error {
                match result {
                    None => {
                        result = Some(body.ty);
                        first_body = Some(body.span);
                    }
                    Some(want) if !body.ty.fits(want) => {
                        let diag = Diagnostic::new(
                            "E0421",
                            body.span,
                            "`match` arms have different types",
                        )
                        .label(format!(
                            "expected `{}`, found `{}`",
                            self.name(want),
                            self.name(body.ty)
                        ))
                        .secondary(
                            first_body.unwrap_or(span),
                            format!("the first arm gives `{}`", self.name(want)),
                        );
                        self.diags.push(diag);
                        result = Some(Type::Error);
                    }
                    Some(_) => {}
                }
            }
            checked.push((parts, guard, body));
        }
        if ty != Type::Error && patterns_ok {
            if let Some(witness) = exhaustive::missing(&self.cx.types, &rows, &[ty]) {
                let text = witness[0].text(&self.cx.types);
                self.diags.push(
                    Diagnostic::new(
                        "E0423",
                        scrutinee.span,
                        format!("non-exhaustive `match`: `{text}` not covered"),
                    )
                    .label(format!("`{text}` is not matched by any arm"))
                    .note("add an arm for it, or a `_ => ...` arm for every value left"),
                );
            }
        }
        let ty = if want_value {
            // Arms that never finish give no value; when no arm finishes, the match still has
            // the type its arms were written with (as an `if` does), which no one reads.
            result.or(diverging).or(expected).unwrap_or(Type::Void)
        } else {
            Type::Void
        };
        let chain = self.arm_chain(checked, ty, span);
        let init = TStmt::Assign {
            place: Place {
                var: holder,
                path: Vec::new(),
            },
            value,
        };
        TExpr {
            kind: TExprKind::Block(TBlock {
                stmts: vec![init],
                tail: Some(Box::new(chain)),
            }),
            ty,
            span,
        }
    }

    /// The `if` chain of checked arms (see the module documentation).
    fn arm_chain(
        &mut self,
        arms: Vec<(Parts, Option<TExpr>, TExpr)>,
        ty: Type,
        span: Span,
    ) -> TExpr {
        let mut arms = arms.into_iter().rev();
        let Some((last, _, body)) = arms.next() else {
            // No arm: only a value of a type without values gets here (none exist yet).
            return TExpr {
                kind: TExprKind::Block(TBlock {
                    stmts: Vec::new(),
                    tail: None,
                }),
                ty: Type::Void,
                span,
            };
        };
        let mut chain = block_expr(last.binds, body, ty);
        for (parts, guard, body) in arms {
            let mut test = conjunction(parts.tests, span);
            let then = match guard {
                Some(guard) => {
                    let bound = block_expr(parts.binds, guard, Type::Bool);
                    test = Some(match test {
                        Some(test) => logic_and(test, bound),
                        None => bound,
                    });
                    TBlock {
                        stmts: Vec::new(),
                        tail: Some(Box::new(body)),
                    }
                }
                None => TBlock {
                    stmts: parts.binds,
                    tail: Some(Box::new(body)),
                },
            };
            let cond = test.unwrap_or(TExpr {
                kind: TExprKind::Bool(true),
                ty: Type::Bool,
                span,
            });
            let diverges = expr_diverges(&cond) || (block_diverges(&then) && expr_diverges(&chain));
            chain = TExpr {
                kind: TExprKind::If {
                    cond: Box::new(cond),
                    then,
                    else_: Some(Box::new(chain)),
                    diverges,
                },
                ty,
                span,
            };
        }
        chain
    }

    /// The part of the matched value (held in `holder`) that `path` leads to.
    fn part(&self, holder: VarId, path: &[Access]) -> TExpr {
        let span = Span::default();
        let mut expr = TExpr {
            kind: TExprKind::Var(holder),
            ty: self.var_type(holder),
            span,
        };
        for access in path {
            expr = match *access {
                Access::Element { index, ty } => TExpr {
                    kind: TExprKind::Field {
                        base: Box::new(expr),
                        index,
                    },
                    ty,
                    span,
                },
                Access::Payload { variant, field, ty } => TExpr {
                    kind: TExprKind::Payload {
                        base: Box::new(expr),
                        variant,
                        field,
                    },
                    ty,
                    span,
                },
            };
        }
        expr
    }

    /// Checks an arm's pattern against the type `ty` of the part `path` of the matched value:
    /// declares the names it binds and adds its tests and bindings to `parts`.
    fn arm_pattern(
        &mut self,
        pattern: &Pattern,
        ty: Type,
        holder: VarId,
        path: &[Access],
        parts: &mut Parts,
    ) -> Pat {
        match pattern {
            Pattern::Wildcard(_) => Pat::Wild,
            // A name that is a unit variant of the matched enum is that variant (`None`,
            // `Empty`), not a binding that would match everything.
            Pattern::Bind(name) if self.unit_variant_named(ty, &name.name) => {
                let variant = Pattern::Variant {
                    enum_name: None,
                    variant: name.clone(),
                    args: None,
                    span: name.span,
                };
                self.arm_pattern(&variant, ty, holder, path, parts)
            }
            Pattern::Bind(name) => {
                let var = self.declare(name, ty);
                let value = self.part(holder, path);
                parts.binds.push(TStmt::Assign {
                    place: Place {
                        var,
                        path: Vec::new(),
                    },
                    value,
                });
                Pat::Wild
            }
            Pattern::Literal(literal, span) => {
                let (lit_ty, kind, ctor) = match literal {
                    Literal::Int(v) => (Type::Int, TExprKind::Int(*v), Ctor::Int(*v)),
                    Literal::Bool(b) => (Type::Bool, TExprKind::Bool(*b), Ctor::Bool(*b)),
                    Literal::Str(s) => (Type::Str, TExprKind::Str(s.clone()), Ctor::Str(s.clone())),
                };
                if !lit_ty.fits(ty) {
                    self.mismatch(*span, ty, lit_ty, "a pattern for this value");
                    return Pat::Wild;
                }
                let literal = TExpr {
                    kind,
                    ty: lit_ty,
                    span: *span,
                };
                parts.tests.push(equals(self.part(holder, path), literal));
                Pat::Ctor(ctor, Vec::new())
            }
            Pattern::Tuple(items, span) => {
                let elems = match self.cx.types.tuple_elems(ty) {
                    Some(elems) if elems.len() == items.len() => elems,
                    found => {
                        if ty != Type::Error {
                            let label = match found {
                                Some(elems) => format!("a tuple of {} elements", elems.len()),
                                None => "not a tuple".to_string(),
                            };
                            let name = self.name(ty);
                            self.diags.push(
                                Diagnostic::new(
                                    "E0417",
                                    *span,
                                    format!(
                                        "a pattern of {} elements cannot take apart `{name}`",
                                        items.len()
                                    ),
                                )
                                .label(format!("the value is {label}")),
                            );
                        }
                        self.declare_all(pattern);
                        return Pat::Wild;
                    }
                };
                let mut subs = Vec::with_capacity(items.len());
                for (index, (item, elem)) in items.iter().zip(elems).enumerate() {
                    let mut inner = path.to_vec();
                    inner.push(Access::Element {
                        index: index as u32,
                        ty: elem,
                    });
                    subs.push(self.arm_pattern(item, elem, holder, &inner, parts));
                }
                Pat::Ctor(Ctor::Tuple, subs)
            }
            Pattern::Variant {
                enum_name,
                variant,
                args,
                span,
            } => {
                let Some(entry) = self.find_variant(enum_name.as_ref(), variant, Some(ty)) else {
                    self.declare_all(pattern);
                    return Pat::Wild;
                };
                let of = self.enum_of(entry);
                if !of.fits(ty) {
                    self.mismatch(*span, ty, of, "a pattern for this value");
                    self.declare_all(pattern);
                    return Pat::Wild;
                }
                let payload = self.cx.types.payload(entry);
                if !self.payload_fits(entry, args.as_ref().map(Vec::len), *span, true) {
                    self.declare_all(pattern);
                    return Pat::Wild;
                }
                let tag = match self.cx.types.structs[entry as usize].kind {
                    StructKind::Variant { tag, .. } => tag,
                    _ => 0,
                };
                let tag_of = TExpr {
                    kind: TExprKind::Field {
                        base: Box::new(self.part(holder, path)),
                        index: 0,
                    },
                    ty: Type::Int,
                    span: *span,
                };
                let tag_value = TExpr {
                    kind: TExprKind::Int(i64::from(tag)),
                    ty: Type::Int,
                    span: *span,
                };
                parts.tests.push(equals(tag_of, tag_value));
                let mut subs = Vec::with_capacity(payload.len());
                for (index, (item, field_ty)) in args.iter().flatten().zip(payload).enumerate() {
                    let mut inner = path.to_vec();
                    inner.push(Access::Payload {
                        variant: entry,
                        field: index as u32 + 1,
                        ty: field_ty,
                    });
                    subs.push(self.arm_pattern(item, field_ty, holder, &inner, parts));
                }
                Pat::Ctor(Ctor::Variant(tag), subs)
            }
            Pattern::Or(alternatives, span) => {
                self.alternatives(alternatives, *span, ty, holder, path, parts)
            }
        }
    }

    /// `a | b | ...`: matches when one alternative does. Alternatives that bind names must all
    /// bind the same names, of the same types (E0437, E0401): each is checked in a scope of its
    /// own, the arm's names are declared once, and a hidden `which` records the alternative
    /// that matched, `(test1 && { which = 1; true }) || ...`, so that the bindings are
    /// `if which == 1 { binds1 } else if ...`, each retargeted to the arm's names.
    fn alternatives(
        &mut self,
        alternatives: &[Pattern],
        span: Span,
        ty: Type,
        holder: VarId,
        path: &[Access],
        parts: &mut Parts,
    ) -> Pat {
        let mut pats = Vec::with_capacity(alternatives.len());
        let mut checked: Vec<(Option<TExpr>, Vec<TStmt>, BoundNames)> =
            Vec::with_capacity(alternatives.len());
        for alternative in alternatives {
            self.push_scope();
            let mut inner = Parts::default();
            pats.push(self.arm_pattern(alternative, ty, holder, path, &mut inner));
            let scope = self.scopes.last().expect("pushed above");
            let mut names: BoundNames = (scope.iter())
                .map(|(name, &(var, span))| (name.clone(), var, span))
                .collect();
            names.sort_by(|a, b| a.0.cmp(&b.0));
            self.pop_scope();
            checked.push((conjunction(inner.tests, span), inner.binds, names));
        }
        let binds_names = checked.iter().any(|(_, _, names)| !names.is_empty());
        if !binds_names {
            let tests: Vec<TExpr> = checked
                .into_iter()
                .filter_map(|(test, _, _)| test)
                .collect();
            // An alternative without a test matches everything: so does the whole.
            if tests.len() == alternatives.len() {
                parts.tests.extend(disjunction(tests, span));
            }
            return Pat::Or(pats);
        }
        // The arm's names: the first alternative's, declared once.
        let first: BoundNames = checked[0].2.clone();
        let mut finals: HashMap<String, VarId> = HashMap::new();
        for (name, var, at) in &first {
            let ident = Ident {
                name: name.clone(),
                span: *at,
            };
            finals.insert(name.clone(), self.declare(&ident, self.var_type(*var)));
        }
        for (_, _, names) in &checked[1..] {
            let same =
                names.len() == first.len() && names.iter().zip(&first).all(|(a, b)| a.0 == b.0);
            if !same {
                let want: Vec<String> = first.iter().map(|(n, _, _)| format!("`{n}`")).collect();
                self.diags.push(
                    Diagnostic::new(
                        "E0437",
                        span,
                        "the alternatives of a `|` pattern bind different names",
                    )
                    .label("every alternative must bind the same names")
                    .note(if want.is_empty() {
                        "the first alternative binds none".to_string()
                    } else {
                        format!("the first alternative binds {}", want.join(", "))
                    }),
                );
                return Pat::Or(pats);
            }
            for ((_, var, at), (_, first_var, _)) in names.iter().zip(&first) {
                let (found, want) = (self.var_type(*var), self.var_type(*first_var));
                if !found.fits(want) {
                    self.mismatch(*at, want, found, "a name bound by every alternative");
                    return Pat::Or(pats);
                }
            }
        }
        let which = self.hidden(Type::Int);
        let int = |value: i64| TExpr {
            kind: TExprKind::Int(value),
            ty: Type::Int,
            span,
        };
        let mut tests = Vec::with_capacity(checked.len());
        let mut chain: Option<TExpr> = None;
        for (index, (test, mut binds, names)) in checked.into_iter().enumerate().rev() {
            let number = index as i64 + 1;
            let map: HashMap<u32, VarId> = (names.iter())
                .map(|(name, var, _)| (var.0, finals[name]))
                .collect();
            retarget(&mut binds, &map);
            let mark = TExpr {
                kind: TExprKind::Block(TBlock {
                    stmts: vec![TStmt::Assign {
                        place: Place {
                            var: which,
                            path: Vec::new(),
                        },
                        value: int(number),
                    }],
                    tail: Some(Box::new(TExpr {
                        kind: TExprKind::Bool(true),
                        ty: Type::Bool,
                        span,
                    })),
                }),
                ty: Type::Bool,
                span,
            };
            tests.push(match test {
                Some(test) => logic_and(test, mark),
                None => mark,
            });
            let chosen = TExpr {
                kind: TExprKind::Var(which),
                ty: Type::Int,
                span,
            };
            chain = Some(TExpr {
                kind: TExprKind::If {
                    cond: Box::new(equals(chosen, int(number))),
                    then: TBlock {
                        stmts: binds,
                        tail: None,
                    },
                    else_: chain.map(Box::new),
                    diverges: false,
                },
                ty: Type::Void,
                span,
            });
        }
        tests.reverse();
        parts.tests.extend(disjunction(tests, span));
        parts.binds.extend(chain.map(TStmt::Expr));
        Pat::Or(pats)
    }

    /// Whether `ty` is an enum with a payload-free variant called `name`.
    fn unit_variant_named(&self, ty: Type, name: &str) -> bool {
        let types = &self.cx.types;
        (types.variants(ty).iter()).any(|&entry| {
            types.structs[entry as usize].name == name && types.payload(entry).is_empty()
        })
    }

    /// Declares every name `pattern` binds with the error type (after a reported mistake, so
    /// that uses of them cause nothing more).
    fn declare_all(&mut self, pattern: &Pattern) {
        for name in pattern.names() {
            self.declare(name, Type::Error);
        }
    }
}

/// `lhs == rhs` (of one scalar or string type).
pub(super) fn equals(lhs: TExpr, rhs: TExpr) -> TExpr {
    let span = rhs.span;
    TExpr {
        kind: TExprKind::Binary {
            op: BinOp::Eq,
            op_span: span,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        },
        ty: Type::Bool,
        span,
    }
}

fn logic_and(lhs: TExpr, rhs: TExpr) -> TExpr {
    let span = lhs.span;
    TExpr {
        kind: TExprKind::Logic {
            is_and: true,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        },
        ty: Type::Bool,
        span,
    }
}

/// All of `tests` (`None` for none: the pattern matches every value).
fn conjunction(tests: Vec<TExpr>, _span: Span) -> Option<TExpr> {
    tests.into_iter().reduce(logic_and)
}

/// `{ stmts; tail }` as an expression of type `ty`.
pub(super) fn block_expr(stmts: Vec<TStmt>, tail: TExpr, ty: Type) -> TExpr {
    let span = tail.span;
    TExpr {
        kind: TExprKind::Block(TBlock {
            stmts,
            tail: Some(Box::new(tail)),
        }),
        ty,
        span,
    }
}

/// The names an alternative of a `|` pattern binds, in name order, each with the variable it
/// declared and where.
type BoundNames = Vec<(String, VarId, Span)>;

/// `a || b || ...` of `tests` (none for no tests).
fn disjunction(tests: Vec<TExpr>, span: Span) -> Option<TExpr> {
    tests.into_iter().reduce(|lhs, rhs| TExpr {
        kind: TExprKind::Logic {
            is_and: false,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        },
        ty: Type::Bool,
        span,
    })
}

/// Makes the assignments of `binds` (also those nested in the `if` chains of inner `|`
/// patterns) assign the variables `map` gives for theirs.
fn retarget(binds: &mut [TStmt], map: &HashMap<u32, VarId>) {
    for bind in binds {
        match bind {
            TStmt::Assign { place, .. } => {
                if let Some(&var) = map.get(&place.var.0) {
                    place.var = var;
                }
            }
            TStmt::Expr(TExpr {
                kind: TExprKind::If { then, else_, .. },
                ..
            }) => {
                retarget(&mut then.stmts, map);
                let mut next = else_.as_deref_mut();
                while let Some(TExpr {
                    kind: TExprKind::If { then, else_, .. },
                    ..
                }) = next
                {
                    retarget(&mut then.stmts, map);
                    next = else_.as_deref_mut();
                }
            }
            _ => {}
        }
    }
}
