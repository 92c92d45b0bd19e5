//! Exhaustiveness and reachability of `match` arms, by the usefulness of pattern rows (the
//! algorithm of Maranget, "Warnings for pattern matching", 2007).
//!
//! Patterns arrive here already checked and reduced to [`Pat`]: constructors (an enum's variant,
//! `true`/`false`, a tuple, an int or string literal) applied to sub-patterns, wildcards (`_`
//! and bindings) and alternatives. An arm is unreachable when its pattern is not *useful* after
//! the earlier arms without a guard (no value it matches is left for it); a match is exhaustive
//! when `_` is not useful after all of them, and otherwise a witness, a value no arm matches, is
//! built to name in the diagnostic (`Shape::Empty`, `Some(_)`, `(true, _)`).
//!
//! What this module does not do: check pattern types or bind names (`matching` does).

use super::*;

/// A checked pattern, as far as matching goes.
#[derive(Clone, Debug)]
pub(super) enum Pat {
    /// Matches everything: `_`, a binding, or a pattern that already failed to check.
    Wild,
    /// A constructor and one sub-pattern per field of it.
    Ctor(Ctor, Vec<Pat>),
    /// Matches what any alternative matches.
    Or(Vec<Pat>),
}

/// A constructor of values.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Ctor {
    /// Variant number `tag` of an enum.
    Variant(u32),
    Bool(bool),
    /// The only constructor of a tuple type.
    Tuple,
    Int(i64),
    Str(String),
}

/// The constructors of `ty` with the types of their fields, when they are finitely many (an
/// enum's variants, `true` and `false`, a tuple's one); `None` for types with infinitely many
/// values or none that patterns take apart (ints, strings, floats, arrays, structs).
fn signature(types: &TypeTable, ty: Type) -> Option<Vec<(Ctor, Vec<Type>)>> {
    match ty {
        Type::Enum(_) => Some(
            (types.variants(ty).iter().enumerate())
                .map(|(tag, &variant)| (Ctor::Variant(tag as u32), types.payload(variant)))
                .collect(),
        ),
        Type::Bool => Some(vec![
            (Ctor::Bool(false), Vec::new()),
            (Ctor::Bool(true), Vec::new()),
        ]),
        Type::Tuple(_) => Some(vec![(
            Ctor::Tuple,
            types.tuple_elems(ty).unwrap_or_default(),
        )]),
        _ => None,
    }
}

/// The field types of constructor `ctor` of `ty`.
fn fields_of(types: &TypeTable, ty: Type, ctor: &Ctor) -> Vec<Type> {
    match (ctor, ty) {
        (Ctor::Variant(tag), Type::Enum(_)) => (types.variants(ty).get(*tag as usize))
            .map(|&variant| types.payload(variant))
            .unwrap_or_default(),
        (Ctor::Tuple, _) => types.tuple_elems(ty).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// A row of patterns, one per column still to match.
type Row = Vec<Pat>;

/// The rows of `rows` with their first pattern's alternatives spread into rows of their own.
fn expand_or(rows: &[Row]) -> Vec<Row> {
    let mut out = Vec::with_capacity(rows.len());
    let mut pending: Vec<Row> = rows.iter().rev().cloned().collect();
    while let Some(row) = pending.pop() {
        match row.first() {
            Some(Pat::Or(alternatives)) => {
                for alternative in alternatives.iter().rev() {
                    let mut spread = vec![alternative.clone()];
                    spread.extend_from_slice(&row[1..]);
                    pending.push(spread);
                }
            }
            _ => out.push(row),
        }
    }
    out
}

/// The rows that match constructor `ctor` (of `arity` fields) in the first column, with that
/// column replaced by the constructor's fields.
fn specialize(rows: &[Row], ctor: &Ctor, arity: usize) -> Vec<Row> {
    let mut out = Vec::new();
    for row in expand_or(rows) {
        let mut spread = match &row[0] {
            Pat::Wild => vec![Pat::Wild; arity],
            Pat::Ctor(c, args) if c == ctor => args.clone(),
            _ => continue,
        };
        spread.extend_from_slice(&row[1..]);
        out.push(spread);
    }
    out
}

/// The rows whose first pattern matches everything, without that column.
fn default_rows(rows: &[Row]) -> Vec<Row> {
    expand_or(rows)
        .into_iter()
        .filter(|row| matches!(row[0], Pat::Wild))
        .map(|row| row[1..].to_vec())
        .collect()
}

/// The constructors the rows' first column names.
fn heads(rows: &[Row]) -> Vec<Ctor> {
    let mut seen = Vec::new();
    for row in expand_or(rows) {
        if let Pat::Ctor(ctor, _) = &row[0] {
            if !seen.contains(ctor) {
                seen.push(ctor.clone());
            }
        }
    }
    seen
}

/// Whether some value matched by `row` (of column types `tys`) is matched by none of `rows`.
pub(super) fn useful(types: &TypeTable, rows: &[Row], row: &[Pat], tys: &[Type]) -> bool {
    let Some((first, rest)) = row.split_first() else {
        return rows.is_empty();
    };
    let (ty, rest_tys) = (tys[0], &tys[1..]);
    let with_fields = |fields: Vec<Type>| -> Vec<Type> {
        fields.into_iter().chain(rest_tys.iter().copied()).collect()
    };
    match first {
        Pat::Or(alternatives) => alternatives.iter().any(|alternative| {
            let mut spread = vec![alternative.clone()];
            spread.extend_from_slice(rest);
            useful(types, rows, &spread, tys)
        }),
        Pat::Ctor(ctor, args) => {
            let fields = fields_of(types, ty, ctor);
            let mut spread = args.clone();
            spread.extend_from_slice(rest);
            useful(
                types,
                &specialize(rows, ctor, args.len()),
                &spread,
                &with_fields(fields),
            )
        }
        Pat::Wild => match complete_signature(types, rows, ty) {
            Some(signature) => signature.into_iter().any(|(ctor, fields)| {
                let mut spread = vec![Pat::Wild; fields.len()];
                spread.extend_from_slice(rest);
                useful(
                    types,
                    &specialize(rows, &ctor, fields.len()),
                    &spread,
                    &with_fields(fields),
                )
            }),
            None => useful(types, &default_rows(rows), rest, rest_tys),
        },
    }
}

/// The signature of `ty` when the rows' first column names every constructor of it.
fn complete_signature(types: &TypeTable, rows: &[Row], ty: Type) -> Option<Vec<(Ctor, Vec<Type>)>> {
    let signature = signature(types, ty)?;
    let named = heads(rows);
    signature
        .iter()
        .all(|(ctor, _)| named.contains(ctor))
        .then_some(signature)
}

/// A value (as patterns, one per column) that none of `rows` matches, if there is one.
pub(super) fn missing(types: &TypeTable, rows: &[Row], tys: &[Type]) -> Option<Vec<Witness>> {
    let Some((&ty, rest_tys)) = tys.split_first() else {
        return rows.is_empty().then(Vec::new);
    };
    if let Some(signature) = complete_signature(types, rows, ty) {
        for (ctor, fields) in signature {
            let arity = fields.len();
            let field_tys: Vec<Type> = fields.into_iter().chain(rest_tys.iter().copied()).collect();
            if let Some(mut found) = missing(types, &specialize(rows, &ctor, arity), &field_tys) {
                let args: Vec<Witness> = found.drain(..arity).collect();
                found.insert(0, Witness::Ctor(ty, ctor, args));
                return Some(found);
            }
        }
        return None;
    }
    let mut found = missing(types, &default_rows(rows), rest_tys)?;
    // A constructor no row names stands for the missing values; for types without a finite
    // signature (ints, strings), `_`.
    let named = heads(rows);
    let head = signature(types, ty)
        .and_then(|signature| {
            signature
                .into_iter()
                .find(|(ctor, _)| !named.contains(ctor))
        })
        .map_or(Witness::Any, |(ctor, fields)| {
            Witness::Ctor(ty, ctor, vec![Witness::Any; fields.len()])
        });
    found.insert(0, head);
    Some(found)
}

/// A value no arm matches, to name in a diagnostic.
#[derive(Clone, Debug)]
pub(super) enum Witness {
    Any,
    Ctor(Type, Ctor, Vec<Witness>),
}

impl Witness {
    /// How the value is written as a pattern: `Shape::Circle(_)`, `(true, _)`, `_`.
    pub(super) fn text(&self, types: &TypeTable) -> String {
        let list = |args: &[Witness]| -> String {
            let parts: Vec<String> = args.iter().map(|arg| arg.text(types)).collect();
            parts.join(", ")
        };
        match self {
            Witness::Any => "_".into(),
            Witness::Ctor(_, Ctor::Bool(b), _) => b.to_string(),
            Witness::Ctor(_, Ctor::Int(v), _) => v.to_string(),
            Witness::Ctor(_, Ctor::Str(s), _) => format!("{s:?}"),
            Witness::Ctor(_, Ctor::Tuple, args) => format!("({})", list(args)),
            Witness::Ctor(ty, Ctor::Variant(tag), args) => {
                let name = (types.variants(*ty).get(*tag as usize))
                    .map_or_else(|| "_".to_string(), |&variant| types.variant_name(variant));
                if args.is_empty() {
                    name
                } else {
                    format!("{name}({})", list(args))
                }
            }
        }
    }
}
