//! Name resolution and type checking: the AST to the typed tree.
//!
//! Function signatures are collected first, so functions may be called before they are declared.
//! A function without a written return type gets one inferred from its `return`s and tail
//! expression, on demand and at most once; a recursive call met while inferring counts as
//! "unknown" and the other returns decide. Bodies are then checked in source order, each with
//! its own scopes and variables. Every problem becomes a diagnostic; checking goes on with the
//! `Error` type so one mistake is reported once. The result is lowered only if nothing was reported.
//!
//! Contract clauses are checked after their function's body, each in a scope of its own holding
//! the parameters (and `result` in `ensures`); they may contain no statements, because callers
//! evaluate them. A `live` block records which outer variables its body assigns: those a retry
//! restores.
//!
//! Tuple types are interned by their elements ([`TypeTable::tuple_of`]); a pattern in `let` or
//! `for` becomes one assignment per name it binds, from the elements of the value (held in a
//! hidden variable when it is not one already, see `BodyChecker::bind_pattern`).
//!
//! Here: the declarations (structs, signatures, result inference, functions, contracts, the
//! top-level body) and the state a body is checked with ([`BodyChecker`]). Checking a body is
//! split along what it checks: `body` (scopes, variables, shared diagnostics), `stmt`,
//! `patterns`, `places` (assignable paths, fields and elements), `expr`, `calls` (builtins and
//! user functions) and `divergence` (whether control gets past a statement).

use std::collections::HashMap;

use super::builtins::{self, BuiltinError};
use super::types::*;
use crate::diag::{Diagnostic, Span};
use crate::ir::{self, StructKind};
use crate::syntax::ast::*;

mod body;
mod calls;
mod divergence;
mod exhaustive;
mod expr;
mod matching;
mod patterns;
mod places;
mod stmt;

use divergence::*;

/// Checks a parsed file. Returns the typed program (meaningful only if `diags` stayed empty).
pub fn check_file(file: &File, diags: &mut Vec<Diagnostic>) -> TProgram {
    let decls: Vec<&FnDecl> = file
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Fn(decl) => Some(decl),
            _ => None,
        })
        .collect();
    let top_level: Vec<&Stmt> = file
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Stmt(stmt) => Some(stmt),
            _ => None,
        })
        .collect();
    let top_level_vars = top_level
        .iter()
        .filter_map(|stmt| match &stmt.kind {
            StmtKind::Let { pattern, .. } => Some(pattern.names()),
            _ => None,
        })
        .flatten()
        .map(|name| name.name.clone())
        .collect();

    let structs: Vec<&StructDecl> = file
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Struct(decl) => Some(decl),
            _ => None,
        })
        .collect();
    let enums: Vec<&EnumDecl> = file
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Enum(decl) => Some(decl),
            _ => None,
        })
        .collect();

    let mut checker = Checker {
        decls: &decls,
        sigs: Vec::new(),
        by_name: HashMap::new(),
        top_level_vars,
        types: TypeTable::default(),
        struct_ids: HashMap::new(),
        enum_ids: HashMap::new(),
        ambiguous: Vec::new(),
    };
    checker.collect_types(&structs, &enums, diags);
    checker.collect_signatures(diags);

    let mut funcs = Vec::new();
    for (index, decl) in decls.iter().enumerate() {
        let ret = checker.ret_type(index as u32);
        if ret == Type::Error && decl.ret.is_none() && checker.sigs[index].inferred_cleanly {
            diags.push(
                Diagnostic::new(
                    "E0408",
                    decl.name.span,
                    format!("cannot infer the return type of `{}`", decl.name.name),
                )
                .label("every returned value depends on a recursive call")
                .note("write the return type after the parameters, e.g. `-> int`"),
            );
        }
        let mut func = checker.check_function(index, RetMode::Declared(ret), diags);
        (func.requires, func.ensures) = checker.check_contracts(index, ret, diags);
        funcs.push(func);
    }
    let main = checker.check_top_level(&top_level, diags);
    TProgram {
        funcs,
        main,
        types: checker.types,
    }
}

/// A function's signature as the checker knows it.
struct Sig {
    params: Vec<Type>,
    ret: RetState,
    /// Whether inferring the result type reported nothing (so an unknown result is the
    /// inference's own failure, not the echo of another error).
    inferred_cleanly: bool,
}

#[derive(Copy, Clone, PartialEq, Eq)]
enum RetState {
    Known(Type),
    /// Not written; not inferred yet.
    Pending,
    /// Being inferred right now (a recursive call sees this).
    Inferring,
}

struct Checker<'a> {
    decls: &'a [&'a FnDecl],
    sigs: Vec<Sig>,
    by_name: HashMap<String, u32>,
    /// Names of top-level `let`s, to explain why functions cannot see them.
    top_level_vars: Vec<String>,
    types: TypeTable,
    struct_ids: HashMap<String, u32>,
    /// Declared enums by name: their entries in the type table.
    enum_ids: HashMap<String, u32>,
    /// Names defined more than once: calls to them are not checked further.
    ambiguous: Vec<String>,
}

impl<'a> Checker<'a> {
    /// Declares every struct and enum (names first, so fields and payloads may name any of
    /// them), then the structs' fields and the variants' payloads. An enum takes one entry of
    /// the type table for itself and one per variant, right after it.
    fn collect_types(
        &mut self,
        structs: &[&StructDecl],
        enums: &[&EnumDecl],
        diags: &mut Vec<Diagnostic>,
    ) {
        let mut struct_entries = Vec::with_capacity(structs.len());
        for decl in structs {
            let id = self.types.structs.len() as u32;
            if self.declare_type_name(&decl.name, diags) {
                self.struct_ids.insert(decl.name.name.clone(), id);
            }
            self.types
                .structs
                .push(StructInfo::new(decl.name.name.clone(), decl.name.span));
            struct_entries.push(id);
        }
        let mut enum_entries = Vec::with_capacity(enums.len());
        for decl in enums {
            let id = self.types.structs.len() as u32;
            if self.declare_type_name(&decl.name, diags) {
                self.enum_ids.insert(decl.name.name.clone(), id);
            }
            let mut info = StructInfo::new(decl.name.name.clone(), decl.name.span);
            info.kind = StructKind::Enum;
            info.set_fields(vec![("tag".to_string(), Type::Int)]);
            self.types.structs.push(info);
            let mut seen: HashMap<&str, Span> = HashMap::new();
            for (tag, variant) in decl.variants.iter().enumerate() {
                if let Some(first) = seen.insert(&variant.name.name, variant.name.span) {
                    diags.push(
                        Diagnostic::new(
                            "E0304",
                            variant.name.span,
                            format!("variant `{}` is declared twice", variant.name.name),
                        )
                        .label("declared again")
                        .secondary(first, "first declared here"),
                    );
                }
                let entry = self.types.structs.len() as u32;
                let mut info = StructInfo::new(variant.name.name.clone(), variant.name.span);
                info.kind = StructKind::Variant {
                    of: ir::StructId(id),
                    tag: tag as u32,
                };
                self.types.structs.push(info);
                self.types.structs[id as usize].variants.push(entry);
            }
            enum_entries.push(id);
        }
        for (decl, &entry) in structs.iter().zip(&struct_entries) {
            let mut fields: Vec<(String, Type)> = Vec::new();
            let mut seen: HashMap<&str, Span> = HashMap::new();
            for field in &decl.fields {
                let ty = self.resolve_type(&field.ty, false, diags);
                if let Some(first) = seen.insert(&field.name.name, field.name.span) {
                    diags.push(
                        Diagnostic::new(
                            "E0304",
                            field.name.span,
                            format!("field `{}` is declared twice", field.name.name),
                        )
                        .label("declared again")
                        .secondary(first, "first declared here"),
                    );
                }
                fields.push((field.name.name.clone(), ty));
            }
            self.types.structs[entry as usize].set_fields(fields);
        }
        for (decl, &entry) in enums.iter().zip(&enum_entries) {
            for (tag, variant) in decl.variants.iter().enumerate() {
                let mut fields = vec![("tag".to_string(), Type::Int)];
                for (index, ty) in variant.payload.iter().enumerate() {
                    let ty = self.resolve_type(ty, false, diags);
                    fields.push((index.to_string(), ty));
                }
                let variant_entry = self.types.structs[entry as usize].variants[tag];
                self.types.structs[variant_entry as usize].set_fields(fields);
            }
        }
    }

    /// Claims `name` for a declared struct or enum; false (reported) when it is taken.
    fn declare_type_name(&mut self, name: &Ident, diags: &mut Vec<Diagnostic>) -> bool {
        let first = (self.struct_ids.get(&name.name))
            .or_else(|| self.enum_ids.get(&name.name))
            .copied();
        if let Some(first) = first {
            diags.push(
                Diagnostic::new(
                    "E0303",
                    name.span,
                    format!("type `{}` is defined twice", name.name),
                )
                .label("second definition")
                .secondary(
                    self.types.structs[first as usize].span,
                    "first defined here",
                ),
            );
            false
        } else if is_builtin_type(&name.name) {
            diags.push(
                Diagnostic::new(
                    "E0303",
                    name.span,
                    format!("`{}` is a builtin type", name.name),
                )
                .label("choose another name"),
            );
            false
        } else {
            true
        }
    }

    /// Resolves a written type. `void` is allowed only as a result type.
    fn resolve_type(&mut self, ty: &TypeExpr, result: bool, diags: &mut Vec<Diagnostic>) -> Type {
        match ty {
            TypeExpr::Named(ident) => match ident.name.as_str() {
                "int" => Type::Int,
                "bool" => Type::Bool,
                "float" => Type::Float,
                "string" => Type::Str,
                "void" if result => Type::Void,
                "void" => {
                    diags.push(
                        Diagnostic::new("E0305", ident.span, "`void` is not a value type")
                            .label("a parameter, field or element needs a value type"),
                    );
                    Type::Error
                }
                other => match self.struct_ids.get(other) {
                    Some(&id) => Type::Struct(id),
                    None if self.enum_ids.contains_key(other) => Type::Enum(self.enum_ids[other]),
                    None => {
                        diags.push(
                            Diagnostic::new("E0305", ident.span, format!("unknown type `{other}`"))
                                .label("not a type")
                                .note("the types are `int`, `float`, `bool`, `string`, `[T]`, tuples, `void` and declared structs and enums"),
                        );
                        Type::Error
                    }
                },
            },
            TypeExpr::Array(elem, _) => match self.resolve_type(elem, false, diags) {
                Type::Error => Type::Error,
                elem => self.types.array_of(elem),
            },
            TypeExpr::Tuple(elems, _) => {
                let elems: Vec<Type> = elems
                    .iter()
                    .map(|elem| self.resolve_type(elem, false, diags))
                    .collect();
                if elems.contains(&Type::Error) {
                    Type::Error
                } else {
                    self.types.tuple_of(elems)
                }
            }
        }
    }

    fn collect_signatures(&mut self, diags: &mut Vec<Diagnostic>) {
        for (index, decl) in self.decls.iter().enumerate() {
            let name = &decl.name;
            if BUILTIN_NAMES.contains(&name.name.as_str()) {
                diags.push(
                    Diagnostic::new(
                        "E0303",
                        name.span,
                        format!(
                            "`{}` is a builtin function and cannot be redefined",
                            name.name
                        ),
                    )
                    .label("builtin name")
                    .note("choose another name for this function"),
                );
            } else if let Some(&first) = self.by_name.get(&name.name) {
                diags.push(
                    Diagnostic::new(
                        "E0303",
                        name.span,
                        format!("function `{}` is defined twice", name.name),
                    )
                    .label("second definition")
                    .secondary(self.decls[first as usize].name.span, "first defined here"),
                );
                self.ambiguous.push(name.name.clone());
            } else {
                self.by_name.insert(name.name.clone(), index as u32);
            }
            let params = decl
                .params
                .iter()
                .map(|p| self.resolve_type(&p.ty, false, diags))
                .collect();
            let ret = match &decl.ret {
                Some(ty) => RetState::Known(self.resolve_type(ty, true, diags)),
                None => RetState::Pending,
            };
            self.sigs.push(Sig {
                params,
                ret,
                inferred_cleanly: true,
            });
        }
    }

    /// The result type of function `index`, inferring it first if needed.
    fn ret_type(&mut self, index: u32) -> Type {
        match self.sigs[index as usize].ret {
            RetState::Known(ty) => ty,
            RetState::Inferring => Type::Error,
            RetState::Pending => {
                self.sigs[index as usize].ret = RetState::Inferring;
                let mut scratch = Vec::new();
                let func =
                    self.check_function(index as usize, RetMode::Infer(Vec::new()), &mut scratch);
                let sig = &mut self.sigs[index as usize];
                sig.ret = RetState::Known(func.ret);
                sig.inferred_cleanly = scratch.is_empty();
                func.ret
            }
        }
    }

    /// Checks one function's body, with returns checked against or collected by `mode`. The
    /// returned function's `ret` is the declared or inferred result type.
    fn check_function(
        &mut self,
        index: usize,
        mode: RetMode,
        diags: &mut Vec<Diagnostic>,
    ) -> TFunc {
        let decl = self.decls[index];
        let params = self.sigs[index].params.clone();
        let mut body = BodyChecker::new(self, diags, mode);
        body.push_scope();
        for (param, ty) in decl.params.iter().zip(params) {
            body.declare(&param.name, ty);
        }
        let block = body.block(&decl.body, true);
        let tail_ty = block.tail.as_ref().map(|t| t.ty);
        let diverges = block_diverges(&block) || body.saw_broken_stmt;
        let vars = std::mem::take(&mut body.vars);
        let mode = std::mem::replace(&mut body.ret, RetMode::TopLevel);

        let ret = match mode {
            RetMode::Declared(ret) => {
                if let Some(tail) = block.tail.as_ref().filter(|t| t.ty != Type::Void) {
                    if !tail.ty.fits(ret) && ret != Type::Void {
                        diags.push(mismatch(
                            &self.types,
                            tail.span,
                            ret,
                            tail.ty,
                            "the value of the function's last expression",
                        ));
                    }
                } else if ret != Type::Void && ret != Type::Error && !diverges {
                    diags.push(
                        Diagnostic::new(
                            "E0407",
                            decl.name.span,
                            format!(
                                "function `{}` may end without returning a value",
                                decl.name.name
                            ),
                        )
                        .label(format!("declared to return `{}`", self.types.name(ret)))
                        .secondary(
                            Span::new(decl.body.span.end as usize - 1, decl.body.span.end as usize),
                            "control can reach the end here",
                        ),
                    );
                }
                ret
            }
            RetMode::Infer(mut returns) => {
                if let Some(ty) = tail_ty {
                    if ty != Type::Void {
                        returns.push(ty);
                    }
                }
                let known = returns.iter().copied().find(|&t| t != Type::Error);
                match known {
                    Some(ty) => ty,
                    None if returns.is_empty() => Type::Void,
                    None => Type::Error,
                }
            }
            RetMode::TopLevel => Type::Void,
        };
        TFunc {
            name: decl.name.name.clone(),
            param_count: decl.params.len() as u32,
            vars,
            ret,
            body: block,
            requires: Vec::new(),
            ensures: Vec::new(),
        }
    }

    /// Checks function `index`'s `requires` and `ensures` clauses (its result type is `ret`).
    /// Each sees the parameters and, in `ensures` of a function with a result, `result`.
    fn check_contracts(
        &mut self,
        index: usize,
        ret: Type,
        diags: &mut Vec<Diagnostic>,
    ) -> (Vec<TClause>, Vec<TClause>) {
        let decl = self.decls[index];
        let params = self.sigs[index].params.clone();
        let (mut requires, mut ensures) = (Vec::new(), Vec::new());
        for contract in &decl.contracts {
            let mut body = BodyChecker::new(self, diags, RetMode::Declared(ret));
            body.clause = Some(contract.kind);
            body.push_scope();
            for (param, ty) in decl.params.iter().zip(&params) {
                body.declare(&param.name, *ty);
            }
            if contract.kind == ContractKind::Ensures && ret != Type::Void {
                // An inner scope: `result` shadows a parameter of that name.
                body.push_scope();
                let result = Ident {
                    name: "result".into(),
                    span: contract.cond.span,
                };
                body.declare(&result, ret);
            }
            let cond = body.expr(&contract.cond, true, None);
            if !cond.ty.fits(Type::Bool) {
                let found = body.name(cond.ty);
                let keyword = contract.kind.keyword();
                body.diags.push(
                    Diagnostic::new(
                        "E0504",
                        cond.span,
                        format!("`{keyword}` clause is not a `bool`"),
                    )
                    .label(format!("expected `bool`, found `{found}`"))
                    .note("a contract clause is a condition, e.g. `requires n >= 0`"),
                );
            }
            let clause = TClause {
                cond,
                text: contract.text.clone(),
            };
            match contract.kind {
                ContractKind::Requires => requires.push(clause),
                ContractKind::Ensures => ensures.push(clause),
            }
        }
        (requires, ensures)
    }

    fn check_top_level(&mut self, stmts: &[&Stmt], diags: &mut Vec<Diagnostic>) -> TFunc {
        let mut body = BodyChecker::new(self, diags, RetMode::TopLevel);
        body.push_scope();
        let stmts = body.stmts(stmts.iter().copied());
        let vars = std::mem::take(&mut body.vars);
        TFunc {
            name: "<main>".into(),
            param_count: 0,
            vars,
            ret: Type::Void,
            body: TBlock { stmts, tail: None },
            requires: Vec::new(),
            ensures: Vec::new(),
        }
    }
}

fn is_builtin_type(name: &str) -> bool {
    matches!(name, "int" | "bool" | "float" | "string" | "void")
}

fn mismatch(types: &TypeTable, span: Span, expected: Type, found: Type, what: &str) -> Diagnostic {
    let (expected, found) = (types.name(expected), types.name(found));
    Diagnostic::new("E0401", span, "mismatched types")
        .label(format!("expected `{expected}`, found `{found}`"))
        .note(format!("{what} must be `{expected}`"))
}

/// How `return` statements are checked in the current body.
enum RetMode {
    /// Against a written (or already inferred) type.
    Declared(Type),
    /// Collecting the types returned, to infer the result type.
    Infer(Vec<Type>),
    /// In the program's top-level statements, where `return` is not allowed.
    TopLevel,
}

/// Checks one function body (or the top-level statements).
struct BodyChecker<'c, 'a> {
    cx: &'c mut Checker<'a>,
    diags: &'c mut Vec<Diagnostic>,
    ret: RetMode,
    scopes: Vec<HashMap<String, (VarId, Span)>>,
    vars: Vec<(String, Type)>,
    loop_depth: u32,
    /// Whether a statement of this body failed to parse (its control flow is unknown).
    saw_broken_stmt: bool,
    /// The kind of contract clause being checked, if this checks one rather than a body.
    clause: Option<ContractKind>,
    /// Statements that follow the one [`BodyChecker::stmt`] returned (a `let` that takes a
    /// tuple apart is one assignment per name); [`BodyChecker::stmts`] places them.
    following: Vec<TStmt>,
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
