//! What the checker builds in for the prelude's `Option` and `Result`: `unwrap`, `expect`,
//! `unwrap_or`, `unwrap_err`, postfix `?`, and the `Result`s of `parse_int` and `parse_float`.
//!
//! They work on both enums, which a Keel function cannot do yet (no traits), and their faults
//! are reported at the caller's `file:line:col`: each becomes a small typed tree at the call,
//! `{ hidden = value; if hidden.tag == Some { payload } else { fault } }`, so the fault's site
//! is the call's. A program's own function of the same name takes precedence.
//!
//! Fault messages (docs/language.md): `unwrap of None`, `unwrap of Err(<error printed>)`,
//! `unwrap_err of Ok(<value printed>)`; `expect(v, m)` faults with `m`, followed by `: ` and the
//! error printed for an `Err`.

use super::*;
use crate::ir::RtFunc;

/// Which of the prelude's enums a value is.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Which {
    Option,
    Result,
}

impl BodyChecker<'_, '_> {
    /// Whether `ty` is an instance of the prelude's `Option` or `Result`.
    fn which(&self, ty: Type) -> Option<Which> {
        let prelude = |name: &str| {
            self.cx.generic_types.get(name).is_some_and(|g| g.prelude)
                && self.instance_args(Some(ty), name).is_some()
        };
        if prelude("Option") {
            Some(Which::Option)
        } else if prelude("Result") {
            Some(Which::Result)
        } else {
            None
        }
    }

    /// The entry of the variant of enum type `ty` named `name`.
    fn variant_named(&self, ty: Type, name: &str) -> u32 {
        let types = &self.cx.types;
        (types.variants(ty).iter())
            .copied()
            .find(|&entry| types.structs[entry as usize].name == name)
            .expect("the prelude declares the variant")
    }

    /// `unwrap(v)`, `expect(v, m)`, `unwrap_or(v, d)`, `unwrap_err(r)`; `None` for another
    /// name.
    pub(super) fn option_result_call(
        &mut self,
        callee: &Ident,
        args: &[Expr],
        expected: Option<Type>,
        span: Span,
    ) -> Option<TExpr> {
        let name = callee.name.as_str();
        let arity = match name {
            "unwrap" | "unwrap_err" => 1,
            "expect" | "unwrap_or" => 2,
            _ => return None,
        };
        if args.len() != arity {
            for arg in args {
                self.expr(arg, true, None);
            }
            self.diags.push(
                Diagnostic::new(
                    "E0402",
                    callee.span,
                    format!("wrong number of arguments to `{name}`"),
                )
                .label(format!("given {}", args.len()))
                .note(format!("`{name}` takes {arity} argument{}", plural(arity))),
            );
            return Some(TExpr::error(span));
        }
        let value = self.expr(&args[0], true, None);
        let which = self.which(value.ty);
        let fits = match name {
            "unwrap_err" => which == Some(Which::Result),
            _ => which.is_some(),
        };
        if !fits {
            let second = (arity == 2).then(|| self.expr(&args[1], true, None));
            if value.ty != Type::Error && second.is_none_or(|s| s.ty != Type::Error) {
                let want = if name == "unwrap_err" {
                    "a `Result`"
                } else {
                    "an `Option` or a `Result`"
                };
                let found = self.name(value.ty);
                self.diags.push(
                    Diagnostic::new("E0401", value.span, "mismatched types")
                        .label(format!("expected {want}, found `{found}`"))
                        .note(format!("`{name}` takes {want}")),
                );
            }
            return Some(TExpr::error(span));
        }
        let ty = value.ty;
        let which = which.unwrap_or(Which::Option);
        let (good, bad) = match (name, which) {
            ("unwrap_err", _) => ("Err", "Ok"),
            (_, Which::Option) => ("Some", "None"),
            (_, Which::Result) => ("Ok", "Err"),
        };
        let good = self.variant_named(ty, good);
        let bad = self.variant_named(ty, bad);
        let result_ty = self.cx.types.payload(good)[0];
        let holder = self.hidden(ty);
        let mut stmts = vec![TStmt::assign(holder, value)];
        let var = |span| TExpr {
            kind: TExprKind::Var(holder),
            ty,
            span,
        };
        let otherwise = match name {
            "unwrap_or" => {
                let default = self.expr(&args[1], true, Some(result_ty).or(expected));
                self.require_value(&default);
                if !default.ty.fits(result_ty) {
                    self.mismatch(default.span, result_ty, default.ty, "the default value");
                }
                let default_holder = self.hidden(result_ty);
                stmts.push(TStmt::assign(default_holder, default));
                TExpr {
                    kind: TExprKind::Var(default_holder),
                    ty: result_ty,
                    span,
                }
            }
            _ => {
                let message = if name == "expect" {
                    let message = self.expr(&args[1], true, Some(Type::Str));
                    if !message.ty.fits(Type::Str) {
                        self.mismatch(
                            message.span,
                            Type::Str,
                            message.ty,
                            "the message of `expect`",
                        );
                    }
                    let holder = self.hidden(Type::Str);
                    stmts.push(TStmt::assign(holder, message));
                    let message = TExpr {
                        kind: TExprKind::Var(holder),
                        ty: Type::Str,
                        span,
                    };
                    match which {
                        Which::Option => message,
                        Which::Result => {
                            let error = payload(var(span), bad, self.cx.types.payload(bad)[0]);
                            let error = render(error, span);
                            concat(concat(message, string(": ", span), span), error, span)
                        }
                    }
                } else if which == Which::Option {
                    string("unwrap of None", span)
                } else {
                    concat(
                        string(&format!("{name} of "), span),
                        render(var(span), span),
                        span,
                    )
                };
                fault_block(span, message)
            }
        };
        let test = matching::equals(
            TExpr {
                kind: TExprKind::Field {
                    base: Box::new(var(span)),
                    index: 0,
                },
                ty: Type::Int,
                span,
            },
            tag_of(&self.cx.types, good, span),
        );
        let chosen = TExpr {
            kind: TExprKind::If {
                cond: Box::new(test),
                then: TBlock {
                    stmts: Vec::new(),
                    tail: Some(Box::new(payload(var(span), good, result_ty))),
                },
                else_: Some(Box::new(otherwise)),
                diverges: false,
            },
            ty: result_ty,
            span,
        };
        Some(matching::block_expr(stmts, chosen, result_ty))
    }

    /// `parse_int(s)` / `parse_float(s)`: `Ok(n)`, or `Err` saying why the text is not a
    /// number: `{ text = s; why = parse_int_error(text); if len(why) == 0 { Ok(parse_int(text)) }
    /// else { Err(why) } }`. `None` for another call.
    pub(super) fn parse_call(
        &mut self,
        callee: &Ident,
        args: &[Expr],
        span: Span,
    ) -> Option<TExpr> {
        let (number, parse, why) = match callee.name.as_str() {
            "parse_int" => (Type::Int, RtFunc::ParseInt, RtFunc::ParseIntError),
            "parse_float" => (Type::Float, RtFunc::ParseFloat, RtFunc::ParseFloatError),
            _ => return None,
        };
        if args.len() != 1 {
            // The builtin's own arity message.
            return None;
        }
        let text = self.expr(&args[0], true, Some(Type::Str));
        if text.ty != Type::Str {
            if text.ty != Type::Error {
                let found = self.name(text.ty);
                self.diags.push(
                    Diagnostic::new("E0401", text.span, "mismatched types")
                        .label(format!("found `{found}`"))
                        .note(format!("`{}` takes a `string`", callee.name)),
                );
            }
            return Some(TExpr::error(span));
        }
        let ty = self
            .cx
            .instantiate_type("Result", vec![number, Type::Str], span, self.diags);
        if ty == Type::Error {
            return Some(TExpr::error(span));
        }
        let text_holder = self.hidden(Type::Str);
        let why_holder = self.hidden(Type::Str);
        let var = |var, ty| TExpr {
            kind: TExprKind::Var(var),
            ty,
            span,
        };
        let call = |func, arg, ty| TExpr {
            kind: TExprKind::Builtin {
                builtin: Builtin::Rt(func),
                args: vec![arg],
            },
            ty,
            span,
        };
        let ok = self.variant_named(ty, "Ok");
        let err = self.variant_named(ty, "Err");
        let variant = |variant, value| TExpr {
            kind: TExprKind::Variant {
                variant,
                tag: tag_number(&self.cx.types, variant),
                args: vec![value],
            },
            ty,
            span,
        };
        let test = matching::equals(
            call(RtFunc::StrLen, var(why_holder, Type::Str), Type::Int),
            TExpr {
                kind: TExprKind::Int(0),
                ty: Type::Int,
                span,
            },
        );
        let parsed = variant(ok, call(parse, var(text_holder, Type::Str), number));
        let failed = variant(err, var(why_holder, Type::Str));
        let stmts = vec![
            TStmt::assign(text_holder, text),
            TStmt::assign(
                why_holder,
                call(why, var(text_holder, Type::Str), Type::Str),
            ),
        ];
        let chosen = TExpr {
            kind: TExprKind::If {
                cond: Box::new(test),
                then: TBlock {
                    stmts: Vec::new(),
                    tail: Some(Box::new(parsed)),
                },
                else_: Some(Box::new(failed)),
                diverges: false,
            },
            ty,
            span,
        };
        Some(matching::block_expr(stmts, chosen, ty))
    }

    /// `operand?`: the payload of `Some`/`Ok`, or a return of `None`/`Err` from the function,
    /// which must return an Option (for an Option operand) or a Result with the same error type.
    pub(super) fn try_expr(&mut self, operand: &Expr, question: Span, span: Span) -> TExpr {
        let value = self.expr(operand, true, None);
        if value.ty == Type::Error {
            return TExpr::error(span);
        }
        let Some(which) = self.which(value.ty) else {
            let found = self.name(value.ty);
            self.diags.push(
                Diagnostic::new(
                    "E0425",
                    question,
                    format!("`?` applied to a value of type `{found}`"),
                )
                .label("`?` takes an `Option` or a `Result`")
                .note("`?` gives the value of a `Some` or `Ok`, and returns a `None` or `Err`"),
            );
            return TExpr::error(span);
        };
        let ret = match (&self.ret, self.clause) {
            (RetMode::Declared(ret), None) => Some(*ret),
            _ => None,
        };
        let ty = value.ty;
        let (good_name, bad_name) = match which {
            Which::Option => ("Some", "None"),
            Which::Result => ("Ok", "Err"),
        };
        let good = self.variant_named(ty, good_name);
        let bad = self.variant_named(ty, bad_name);
        let bad_payload = self.cx.types.payload(bad);
        let fits = ret.is_some_and(|ret| {
            ret == Type::Error
                || self.which(ret) == Some(which)
                    && (which == Which::Option
                        || self.cx.types.payload(self.variant_named(ret, "Err")) == bad_payload)
        });
        if !fits {
            let what = match which {
                Which::Option => "an `Option`".to_string(),
                Which::Result => format!(
                    "a `Result` with the error type `{}`",
                    self.name(bad_payload[0])
                ),
            };
            let context = match (&self.ret, self.clause) {
                (_, Some(_)) => "in a contract clause".to_string(),
                (RetMode::TopLevel, _) => "outside a function".to_string(),
                (RetMode::Infer(_), _) => {
                    "in a function whose result type is not written".to_string()
                }
                (RetMode::Declared(ret), _) => {
                    format!("in a function returning `{}`", self.name(*ret))
                }
            };
            self.diags.push(
                Diagnostic::new("E0425", question, format!("`?` {context}"))
                    .label(format!("`?` returns {what} from the function"))
                    .note(format!(
                        "`?` may be used in a function declared to return {what}"
                    )),
            );
            return TExpr::error(span);
        }
        let ret = ret.unwrap_or(Type::Error);
        if ret == Type::Error {
            return TExpr::error(span);
        }
        let holder = self.hidden(ty);
        let var = |span| TExpr {
            kind: TExprKind::Var(holder),
            ty,
            span,
        };
        let ret_bad = self.variant_named(ret, bad_name);
        let early = TExpr {
            kind: TExprKind::Variant {
                variant: ret_bad,
                tag: tag_number(&self.cx.types, ret_bad),
                args: bad_payload
                    .iter()
                    .map(|&ty| payload(var(question), bad, ty))
                    .collect(),
            },
            ty: ret,
            span: question,
        };
        let test = matching::equals(
            TExpr {
                kind: TExprKind::Field {
                    base: Box::new(var(question)),
                    index: 0,
                },
                ty: Type::Int,
                span: question,
            },
            tag_of(&self.cx.types, bad, question),
        );
        let leave = TExpr {
            kind: TExprKind::If {
                cond: Box::new(test),
                then: TBlock {
                    stmts: vec![TStmt::Return(Some(early))],
                    tail: None,
                },
                else_: None,
                diverges: false,
            },
            ty: Type::Void,
            span: question,
        };
        let result_ty = self.cx.types.payload(good)[0];
        matching::block_expr(
            vec![TStmt::assign(holder, value), TStmt::Expr(leave)],
            payload(var(span), good, result_ty),
            result_ty,
        )
    }
}

fn tag_number(types: &TypeTable, variant: u32) -> u32 {
    match types.structs[variant as usize].kind {
        StructKind::Variant { tag, .. } => tag,
        _ => 0,
    }
}

fn tag_of(types: &TypeTable, variant: u32, span: Span) -> TExpr {
    TExpr {
        kind: TExprKind::Int(i64::from(tag_number(types, variant))),
        ty: Type::Int,
        span,
    }
}

/// The first payload value of `variant`, read from `base` (which holds that variant).
fn payload(base: TExpr, variant: u32, ty: Type) -> TExpr {
    let span = base.span;
    TExpr {
        kind: TExprKind::Payload {
            base: Box::new(base),
            variant,
            field: 1,
        },
        ty,
        span,
    }
}

fn string(text: &str, span: Span) -> TExpr {
    TExpr {
        kind: TExprKind::Str(text.to_string()),
        ty: Type::Str,
        span,
    }
}

/// A value as `println` prints it.
fn render(value: TExpr, span: Span) -> TExpr {
    TExpr {
        kind: TExprKind::Builtin {
            builtin: Builtin::ToString,
            args: vec![value],
        },
        ty: Type::Str,
        span,
    }
}

fn concat(lhs: TExpr, rhs: TExpr, span: Span) -> TExpr {
    TExpr {
        kind: TExprKind::Binary {
            op: BinOp::Add,
            op_span: span,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        },
        ty: Type::Str,
        span,
    }
}

/// `{ fault(message) }`: a block that never ends normally.
fn fault_block(at: Span, message: TExpr) -> TExpr {
    TExpr {
        kind: TExprKind::Block(TBlock {
            stmts: vec![TStmt::Fault { at, message }],
            tail: None,
        }),
        ty: Type::Void,
        span: at,
    }
}
