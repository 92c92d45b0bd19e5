//! What can be assigned (variables and paths of elements and fields inside them), and field and
//! element lookup.

use super::*;

impl BodyChecker<'_, '_> {
    /// Resolves an assignment target: a variable followed by indexing and fields.
    pub(super) fn place(&mut self, target: &Expr) -> Option<(Place, Type)> {
        match &target.kind {
            ExprKind::Var(name) => match self.lookup(name) {
                Some(var) if self.is_captured(var) => {
                    self.assigned_capture(name, target.span);
                    None
                }
                Some(var) => Some((
                    Place {
                        var,
                        path: Vec::new(),
                    },
                    self.var_type(var),
                )),
                None => {
                    self.unknown_variable(name, target.span);
                    None
                }
            },
            ExprKind::Index {
                base,
                index,
                bracket,
            } => {
                let (mut place, ty) = self.place(base)?;
                let index = self.expr(index, true, None);
                if !index.ty.fits(Type::Int) {
                    self.mismatch(index.span, Type::Int, index.ty, "an index");
                }
                let elem = match ty {
                    Type::Array(_) => self.cx.types.elem(ty)?,
                    Type::Error => return None,
                    other => {
                        self.not_indexable(base.span, other);
                        return None;
                    }
                };
                place.path.push(PathStep::Index {
                    index,
                    bracket: *bracket,
                });
                Some((place, elem))
            }
            ExprKind::Field { base, field } => {
                let (mut place, ty) = self.place(base)?;
                let (index, fty) = self.field(ty, field)?;
                place.path.push(PathStep::Field(index));
                Some((place, fty))
            }
            _ => {
                self.diags.push(
                    Diagnostic::new("E0412", target.span, "cannot assign to this expression")
                        .label("only variables, their elements and their fields can be assigned"),
                );
                None
            }
        }
    }

    /// Looks up a field of a struct type, or an element of a tuple type (`t.0`): its position
    /// and type.
    pub(super) fn field(&mut self, ty: Type, field: &Ident) -> Option<(u32, Type)> {
        match ty {
            Type::Tuple(id) => {
                let info = &self.cx.types.structs[id as usize];
                let count = info.fields().len();
                match info.position(&field.name) {
                    Some(i) => Some((i as u32, info.fields()[i].1)),
                    None => {
                        let name = self.name(ty);
                        let diag = Diagnostic::new(
                            "E0414",
                            field.span,
                            format!("`{name}` has no element `{}`", field.name),
                        )
                        .label("no such element")
                        .note(format!(
                            "a tuple of {count} elements has the elements `0` to `{}`",
                            count - 1
                        ));
                        self.diags.push(diag);
                        None
                    }
                }
            }
            Type::Struct(id) => {
                let info = &self.cx.types.structs[id as usize];
                match info.position(&field.name) {
                    Some(i) => Some((i as u32, info.fields()[i].1)),
                    None => {
                        let names: Vec<String> = info
                            .fields()
                            .iter()
                            .map(|(n, _)| format!("`{n}`"))
                            .collect();
                        let diag = Diagnostic::new(
                            "E0414",
                            field.span,
                            format!("`{}` has no field `{}`", info.name, field.name),
                        )
                        .label("unknown field")
                        .note(if names.is_empty() {
                            format!("`{}` has no fields", info.name)
                        } else {
                            format!("the fields of `{}` are {}", info.name, names.join(", "))
                        });
                        let fields = info.fields().iter().map(|(n, _)| n.as_str());
                        let diag = match suggest::did_you_mean(&field.name, fields) {
                            Some(hint) => diag.note(hint),
                            None => diag,
                        };
                        self.diags.push(diag);
                        None
                    }
                }
            }
            Type::Error => None,
            other => {
                self.diags.push(
                    Diagnostic::new(
                        "E0414",
                        field.span,
                        format!("`{}` has no fields", self.name(other)),
                    )
                    .label("not a struct"),
                );
                None
            }
        }
    }

    pub(super) fn not_indexable(&mut self, span: Span, ty: Type) {
        let mut diag = Diagnostic::new(
            "E0413",
            span,
            format!("cannot index into `{}`", self.name(ty)),
        )
        .label("not an array");
        if ty == Type::Str {
            diag = diag.note("use `char_at(s, i)` for one character or `s[i..j]` for a substring");
        }
        self.diags.push(diag);
    }
}
