//! Patterns in `let` and `for`: the names they bind and the assignments that give them their
//! parts.

use super::*;

impl BodyChecker<'_, '_> {
    /// Binds `pattern` to `value`: declares the names it binds (in the current scope) and
    /// appends to `out` the statements that give them their parts, in order. A tuple pattern
    /// reads the elements of a variable: the value's own when it is one, else a hidden one that
    /// `value` is assigned to first. `_` evaluates a value it is given whole and drops it.
    pub(super) fn bind_pattern(&mut self, pattern: &Pattern, value: TExpr, out: &mut Vec<TStmt>) {
        match pattern {
            Pattern::Bind(name) => {
                let var = self.declare(name, value.ty);
                out.push(TStmt::Assign {
                    place: Place {
                        var,
                        path: Vec::new(),
                    },
                    value,
                });
            }
            Pattern::Wildcard(_) => {
                // An element of a tuple taken apart is only read when something binds it.
                if !matches!(value.kind, TExprKind::Field { .. }) {
                    out.push(TStmt::Expr(value));
                }
            }
            Pattern::Literal(_, span) | Pattern::Variant { span, .. } | Pattern::Or(_, span) => {
                self.diags.push(
                    Diagnostic::new(
                        "E0417",
                        *span,
                        "a pattern that can fail to match, where every value must",
                    )
                    .label("some values do not match this")
                    .note("use `match`, `if let` or `while let` to test a value against it"),
                );
                out.push(TStmt::Expr(value));
                for name in pattern.names() {
                    self.declare(name, Type::Error);
                }
            }
            Pattern::Tuple(parts, span) => {
                let elems = match self.cx.types.tuple_elems(value.ty) {
                    Some(elems) if elems.len() == parts.len() => elems,
                    found => {
                        if value.ty != Type::Error {
                            let name = self.name(value.ty);
                            let label = match found {
                                Some(elems) => format!("a tuple of {} elements", elems.len()),
                                None => "not a tuple".to_string(),
                            };
                            let mut diag = Diagnostic::new(
                                "E0417",
                                *span,
                                format!(
                                    "a pattern of {} elements cannot take apart `{name}`",
                                    parts.len()
                                ),
                            )
                            .label(format!("the value is {label}"));
                            // A loop's element has no span of its own (it is the pattern's).
                            if value.span != *span {
                                diag = diag.secondary(value.span, format!("`{name}`"));
                            }
                            self.diags.push(diag);
                        }
                        for name in pattern.names() {
                            self.declare(name, Type::Error);
                        }
                        return;
                    }
                };
                let holder = match value.kind {
                    TExprKind::Var(var) => var,
                    _ => {
                        let holder = self.hidden(value.ty);
                        out.push(TStmt::Assign {
                            place: Place {
                                var: holder,
                                path: Vec::new(),
                            },
                            value: TExpr {
                                kind: value.kind,
                                ty: value.ty,
                                span: value.span,
                            },
                        });
                        holder
                    }
                };
                for (index, (part, ty)) in parts.iter().zip(elems).enumerate() {
                    let element = TExpr {
                        kind: TExprKind::Field {
                            base: Box::new(TExpr {
                                kind: TExprKind::Var(holder),
                                ty: value.ty,
                                span: value.span,
                            }),
                            index: index as u32,
                        },
                        ty,
                        span: part.span(),
                    };
                    self.bind_pattern(part, element, out);
                }
            }
        }
    }
}
