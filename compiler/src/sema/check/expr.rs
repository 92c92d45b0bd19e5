//! Expressions: literals, variables, operators, `if` and blocks as values, struct and tuple
//! literals, indexing and slicing.

use super::*;

impl BodyChecker<'_, '_> {
    /// Checks an expression. `want_value` is false where the value is discarded (statements),
    /// which lets `if` without `else` and branches of different types stand. `expected` is the
    /// type the context wants, if it knows (it gives `[]` its element type).
    pub(super) fn expr(&mut self, expr: &Expr, want_value: bool, expected: Option<Type>) -> TExpr {
        let span = expr.span;
        let (kind, ty) = match &expr.kind {
            ExprKind::Int(v) => (TExprKind::Int(*v), Type::Int),
            ExprKind::Float(v) => (TExprKind::Float(*v), Type::Float),
            ExprKind::Bool(b) => (TExprKind::Bool(*b), Type::Bool),
            ExprKind::Str(s) => (TExprKind::Str(s.clone()), Type::Str),
            ExprKind::Var(name) => match self.lookup(name) {
                Some(var) => {
                    self.mark_read(var);
                    (TExprKind::Var(var), self.var_type(var))
                }
                None if self.cx.consts.contains_key(name) => return self.const_value(name, span),
                // `None`: a variant of the prelude, written bare.
                None if self.bare_variant_of(name).is_some() => {
                    let ident = Ident {
                        name: name.clone(),
                        span,
                    };
                    return self.generic_variant(None, &ident, None, expected, span);
                }
                None => match self.function_value(name, span) {
                    Some(value) => return value,
                    None => {
                        self.unknown_variable(name, span);
                        return TExpr::error(span);
                    }
                },
            },
            ExprKind::Closure { params, ret, body } => {
                return self.closure(params, ret.as_deref(), body, span)
            }
            ExprKind::CallValue { callee, args } => {
                let value = self.expr(callee, true, None);
                return self.value_call(value, args, callee.span, span);
            }
            ExprKind::Binary {
                op,
                op_span,
                lhs,
                rhs,
            } => {
                let lhs = self.expr(lhs, true, None);
                let rhs_expected = if lhs.ty.is_heap() { Some(lhs.ty) } else { None };
                let rhs = self.expr(rhs, true, rhs_expected);
                return self.binary(*op, *op_span, lhs, rhs, span);
            }
            ExprKind::Unary { op, operand } => {
                let operand = self.expr(operand, true, None);
                let ok = match op {
                    UnOp::Neg => matches!(operand.ty, Type::Int | Type::Float),
                    UnOp::Not => operand.ty == Type::Bool,
                };
                if operand.ty == Type::Error {
                    return TExpr::error(span);
                }
                if !ok {
                    let (symbol, want) = if *op == UnOp::Neg {
                        ("-", "`int` or `float`")
                    } else {
                        ("!", "`bool`")
                    };
                    self.diags.push(
                        Diagnostic::new(
                            "E0403",
                            span,
                            format!(
                                "operator `{symbol}` cannot be applied to `{}`",
                                self.name(operand.ty)
                            ),
                        )
                        .label(format!("expected {want}")),
                    );
                    return TExpr::error(span);
                }
                let ty = operand.ty;
                (
                    TExprKind::Unary {
                        op: *op,
                        operand: Box::new(operand),
                    },
                    ty,
                )
            }
            ExprKind::Call { callee, args } => return self.call(callee, args, expected, span),
            ExprKind::MethodCall { method, args } => {
                return self.method_call(method, args, expected, span)
            }
            ExprKind::Variant {
                enum_name,
                variant,
                args,
            } => return self.variant_expr(enum_name, variant, args.as_deref(), expected, span),
            ExprKind::Try { operand, question } => return self.try_expr(operand, *question, span),
            ExprKind::Match { scrutinee, arms } => {
                return self.match_expr(scrutinee, arms, want_value, expected, span)
            }
            ExprKind::If { cond, then, else_ } => {
                return self.if_expr(cond, then, else_.as_deref(), want_value, expected, span)
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
            ExprKind::Array(items) => {
                let expected_elem = expected.and_then(|t| self.cx.types.elem(t));
                let mut typed = Vec::with_capacity(items.len());
                // The elements decide the type (the context only types an empty literal, and is
                // passed down for nested ones), so `join([1], ",")` is one mismatch, not one per
                // element.
                let mut elem = if items.is_empty() {
                    expected_elem
                } else {
                    None
                };
                for item in items {
                    let value = self.expr(item, true, elem.or(expected_elem));
                    self.require_value(&value);
                    match elem {
                        None if value.ty != Type::Error && value.ty != Type::Void => {
                            elem = Some(value.ty)
                        }
                        Some(want) if !value.ty.fits(want) => {
                            self.mismatch(value.span, want, value.ty, "every element of an array")
                        }
                        _ => {}
                    }
                    typed.push(value);
                }
                let ty = match elem {
                    Some(elem) => self.cx.types.array_of(elem),
                    // The type the context wanted was reported broken already.
                    None if expected == Some(Type::Error) => Type::Error,
                    None if items.is_empty() => {
                        self.diags.push(
                            Diagnostic::new(
                                "E0415",
                                span,
                                "cannot tell the element type of this empty array",
                            )
                            .label("type unknown")
                            .note("give it a type, e.g. `let a: [int] = [];`"),
                        );
                        Type::Error
                    }
                    None => Type::Error,
                };
                (TExprKind::Array(typed), ty)
            }
            ExprKind::New {
                name,
                type_args,
                fields,
            } => return self.new_struct(name, type_args, fields, expected, span),
            ExprKind::Tuple(items) => {
                let expected_elems = expected.and_then(|t| self.cx.types.tuple_elems(t));
                let mut typed = Vec::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    let want = expected_elems
                        .as_ref()
                        .filter(|elems| elems.len() == items.len())
                        .map(|elems| elems[index]);
                    let value = self.expr(item, true, want);
                    self.require_value(&value);
                    typed.push(value);
                }
                let elems: Vec<Type> = typed.iter().map(|value| value.ty).collect();
                if elems
                    .iter()
                    .any(|&ty| matches!(ty, Type::Error | Type::Void))
                {
                    return TExpr::error(span);
                }
                let Type::Tuple(id) = self.cx.types.tuple_of(elems) else {
                    return TExpr::error(span);
                };
                let order = (0..typed.len()).collect();
                (
                    TExprKind::New {
                        id,
                        fields: typed,
                        order,
                    },
                    Type::Tuple(id),
                )
            }
            ExprKind::Index {
                base,
                index,
                bracket,
            } => {
                let base = self.expr(base, true, None);
                let index = self.expr(index, true, None);
                if !index.ty.fits(Type::Int) {
                    self.mismatch(index.span, Type::Int, index.ty, "an index");
                }
                let elem = match base.ty {
                    Type::Array(_) => self.cx.types.elem(base.ty).unwrap_or(Type::Error),
                    Type::Error => return TExpr::error(span),
                    other => {
                        self.not_indexable(base.span, other);
                        return TExpr::error(span);
                    }
                };
                (
                    TExprKind::Index {
                        base: Box::new(base),
                        index: Box::new(index),
                        bracket: *bracket,
                    },
                    elem,
                )
            }
            ExprKind::Slice {
                base,
                start,
                end,
                bracket,
            } => {
                let base = self.expr(base, true, None);
                let start = self.expr(start, true, None);
                let end = self.expr(end, true, None);
                for bound in [&start, &end] {
                    if !bound.ty.fits(Type::Int) {
                        self.mismatch(bound.span, Type::Int, bound.ty, "a slice bound");
                    }
                }
                match base.ty {
                    Type::Array(_) | Type::Str => {}
                    Type::Error => return TExpr::error(span),
                    other => {
                        self.not_indexable(base.span, other);
                        return TExpr::error(span);
                    }
                }
                let ty = base.ty;
                (
                    TExprKind::Slice {
                        base: Box::new(base),
                        start: Box::new(start),
                        end: Box::new(end),
                        bracket: *bracket,
                    },
                    ty,
                )
            }
            ExprKind::Field { base, field } => {
                let base = self.expr(base, true, None);
                let Some((index, ty)) = self.field(base.ty, field) else {
                    return TExpr::error(span);
                };
                (
                    TExprKind::Field {
                        base: Box::new(base),
                        index,
                    },
                    ty,
                )
            }
            ExprKind::Error => return TExpr::error(span),
        };
        TExpr { kind, ty, span }
    }

    pub(super) fn if_expr(
        &mut self,
        cond: &Expr,
        then: &Block,
        else_: Option<&Expr>,
        want_value: bool,
        expected: Option<Type>,
        span: Span,
    ) -> TExpr {
        let cond = self.condition(cond);
        let then = self.block_expecting(then, want_value, expected);
        let else_ = else_.map(|e| Box::new(self.expr(e, want_value, expected)));
        // A branch that never finishes (it returns, breaks or exits) takes the other's type.
        let then_diverges = block_diverges(&then);
        let else_diverges = else_.as_deref().is_some_and(expr_diverges);
        let diverges =
            else_.is_some() && (expr_diverges(&cond) || (then_diverges && else_diverges));
        let then_ty = if then_diverges && else_.is_some() {
            else_.as_ref().map_or(Type::Void, |e| e.ty)
        } else {
            then.tail.as_ref().map_or(Type::Void, |t| t.ty)
        };
        let else_ = match else_ {
            Some(e) if else_diverges && then_ty != Type::Void => {
                Some(Box::new(TExpr { ty: then_ty, ..*e }))
            }
            other => other,
        };
        let ty = match &else_ {
            _ if !want_value => Type::Void,
            None => {
                if then_ty != Type::Void && then_ty != Type::Error {
                    self.diags.push(
                        Diagnostic::new("E0411", span, "`if` without `else` has no value")
                            .label(format!("the `then` branch gives `{}`", self.name(then_ty)))
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
                    let diag = Diagnostic::new(
                        "E0401",
                        else_.span,
                        "`if` and `else` have different types",
                    )
                    .label(format!(
                        "expected `{}`, found `{}`",
                        self.name(then_ty),
                        self.name(else_.ty)
                    ))
                    .secondary(
                        then.tail.as_ref().map_or(span, |t| t.span),
                        format!("this is `{}`", self.name(then_ty)),
                    );
                    self.diags.push(diag);
                    Type::Error
                }
            }
        };
        TExpr {
            kind: TExprKind::If {
                cond: Box::new(cond),
                then,
                else_,
                diverges,
            },
            ty,
            span,
        }
    }

    /// A block whose tail is checked against an expected type (for `[]` in `if` branches).
    pub(super) fn block_expecting(
        &mut self,
        block: &Block,
        want_value: bool,
        expected: Option<Type>,
    ) -> TBlock {
        self.push_scope();
        let stmts = self.stmts(&block.stmts);
        let tail = block
            .tail
            .as_ref()
            .map(|e| Box::new(self.expr(e, want_value, expected)));
        self.pop_scope();
        TBlock { stmts, tail }
    }

    pub(super) fn new_struct(
        &mut self,
        name: &Ident,
        type_args: &[TypeExpr],
        fields: &[(Ident, Expr)],
        expected: Option<Type>,
        span: Span,
    ) -> TExpr {
        let mut typed: Option<Vec<TExpr>> = None;
        let found = if self.cx.generic_types.contains_key(&name.name) {
            match self.generic_struct(name, type_args, fields, expected, span) {
                Some((Type::Struct(id), values)) => {
                    typed = values;
                    Some(id)
                }
                _ => return TExpr::error(span),
            }
        } else {
            if let Some(first) = type_args.first() {
                let written = first.span().to(type_args[type_args.len() - 1].span());
                self.diags.push(
                    Diagnostic::new(
                        "E0426",
                        written,
                        format!("`{}` takes no type arguments", name.name),
                    )
                    .label("not a generic struct"),
                );
            }
            self.cx.struct_ids.get(&name.name).copied()
        };
        let Some(id) = found else {
            self.diags.push(
                Diagnostic::new(
                    "E0305",
                    name.span,
                    format!("unknown struct `{}`", name.name),
                )
                .label("not a declared struct"),
            );
            for (_, value) in fields {
                self.expr(value, true, None);
            }
            return TExpr::error(span);
        };
        let info = &self.cx.types.structs[id as usize];
        let declared = info.fields().to_vec();
        let positions: Vec<Option<usize>> = fields
            .iter()
            .map(|(field, _)| info.position(&field.name))
            .collect();
        let mut values: Vec<Option<TExpr>> = declared.iter().map(|_| None).collect();
        let mut order = Vec::new();
        let mut ok = true;
        let mut typed = typed.map(Vec::into_iter);
        for ((field, value), &position) in fields.iter().zip(&positions) {
            let expected = position.map(|i| declared[i].1);
            let value = match typed.as_mut().and_then(Iterator::next) {
                Some(value) => value,
                None => self.expr(value, true, expected),
            };
            match position {
                None => {
                    ok = false;
                    self.field(Type::Struct(id), field);
                }
                Some(i) if values[i].is_some() => {
                    ok = false;
                    self.diags.push(
                        Diagnostic::new(
                            "E0304",
                            field.span,
                            format!("field `{}` is given twice", field.name),
                        )
                        .label("given again"),
                    );
                }
                Some(i) => {
                    if !value.ty.fits(declared[i].1) {
                        self.mismatch(
                            value.span,
                            declared[i].1,
                            value.ty,
                            &format!("field `{}`", field.name),
                        );
                    }
                    values[i] = Some(value);
                    order.push(i);
                }
            }
        }
        let missing: Vec<String> = declared
            .iter()
            .zip(&values)
            .filter(|(_, v)| v.is_none())
            .map(|((n, _), _)| format!("`{n}`"))
            .collect();
        if ok && !missing.is_empty() {
            self.diags.push(
                Diagnostic::new(
                    "E0416",
                    span,
                    format!(
                        "missing field{} {} in `{}`",
                        plural(missing.len()),
                        missing.join(", "),
                        name.name
                    ),
                )
                .label("every field must be given")
                .secondary(self.cx.types.structs[id as usize].span, "declared here"),
            );
            return TExpr::error(span);
        }
        if !ok {
            return TExpr::error(span);
        }
        let fields = values
            .into_iter()
            .map(|v| v.expect("every field was checked present"))
            .collect();
        TExpr {
            kind: TExprKind::New { id, fields, order },
            ty: Type::Struct(id),
            span,
        }
    }

    pub(super) fn binary(
        &mut self,
        op: BinOp,
        op_span: Span,
        lhs: TExpr,
        rhs: TExpr,
        span: Span,
    ) -> TExpr {
        use BinOp::*;
        // `"text " + value` of a type with `impl Display` renders it through its `fmt`.
        let (lhs, rhs) = if op == Add && (lhs.ty == Type::Str || rhs.ty == Type::Str) {
            (self.displayed(lhs), self.displayed(rhs))
        } else {
            (lhs, rhs)
        };
        let (l, r) = (lhs.ty, rhs.ty);
        if l == Type::Error || r == Type::Error {
            return TExpr::error(span);
        }
        let renderable = |t: Type| matches!(t, Type::Int | Type::Float | Type::Bool | Type::Str);
        let ty = match op {
            Add if (l == Type::Str && renderable(r)) || (r == Type::Str && renderable(l)) => {
                Type::Str
            }
            Add | Sub | Mul | Div | Rem | Shl | Shr if l == Type::Int && r == Type::Int => {
                Type::Int
            }
            Add | Sub | Mul | Div if l == Type::Float && r == Type::Float => Type::Float,
            Lt | Gt | Le | Ge if l == r && matches!(l, Type::Int | Type::Float | Type::Str) => {
                Type::Bool
            }
            Eq | Ne if l == r && l != Type::Void && !self.cx.types.comparable(l) => {
                let name = self.name(l);
                let inside = self
                    .cx
                    .types
                    .function_inside(l, &mut Vec::new())
                    .map(|f| self.name(f))
                    .unwrap_or_default();
                let mut diag = Diagnostic::new(
                    "E0441",
                    op_span,
                    format!("`{name}` values cannot be compared with `{}`", op.symbol()),
                )
                .label("functions have no equality");
                if inside != name {
                    diag = diag.note(format!("`{name}` holds a function, of type `{inside}`"));
                }
                self.diags
                    .push(diag.note("compare what the functions compute instead"));
                return TExpr::error(span);
            }
            Eq | Ne if l == r && l != Type::Void => Type::Bool,
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
                let (ln, rn) = (self.name(l), self.name(r));
                let mut diag = Diagnostic::new(
                    "E0403",
                    op_span,
                    format!(
                        "operator `{}` cannot be applied to `{ln}` and `{rn}`",
                        op.symbol()
                    ),
                )
                .label(format!("`{ln}` {} `{rn}`", op.symbol()))
                .secondary(lhs.span, format!("`{ln}`"))
                .secondary(rhs.span, format!("`{rn}`"));
                if l != r
                    && matches!(l, Type::Int | Type::Float)
                    && matches!(r, Type::Int | Type::Float)
                {
                    diag = diag.note("there are no implicit conversions between `int` and `float`; use `to_float` or `to_int`");
                } else if op == Rem && l == Type::Float {
                    diag = diag.note("`%` works on ints only");
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
}
