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

use std::collections::HashMap;

use super::builtins::{self, BuiltinError};
use super::types::*;
use crate::diag::{Diagnostic, Span};
use crate::syntax::ast::*;

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

    let mut checker = Checker {
        decls: &decls,
        sigs: Vec::new(),
        by_name: HashMap::new(),
        top_level_vars,
        types: TypeTable::default(),
        struct_ids: HashMap::new(),
        ambiguous: Vec::new(),
    };
    checker.collect_structs(&structs, diags);
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
    /// Names defined more than once: calls to them are not checked further.
    ambiguous: Vec<String>,
}

impl<'a> Checker<'a> {
    /// Declares every struct (names first, so fields may name any struct), then its fields.
    fn collect_structs(&mut self, decls: &[&StructDecl], diags: &mut Vec<Diagnostic>) {
        for decl in decls {
            let name = &decl.name;
            if let Some(&first) = self.struct_ids.get(&name.name) {
                diags.push(
                    Diagnostic::new(
                        "E0303",
                        name.span,
                        format!("struct `{}` is defined twice", name.name),
                    )
                    .label("second definition")
                    .secondary(
                        self.types.structs[first as usize].span,
                        "first defined here",
                    ),
                );
            } else if is_builtin_type(&name.name) {
                diags.push(
                    Diagnostic::new(
                        "E0303",
                        name.span,
                        format!("`{}` is a builtin type", name.name),
                    )
                    .label("choose another name"),
                );
            } else {
                self.struct_ids
                    .insert(name.name.clone(), self.types.structs.len() as u32);
            }
            self.types
                .structs
                .push(StructInfo::new(name.name.clone(), name.span));
        }
        for (index, decl) in decls.iter().enumerate() {
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
            self.types.structs[index].set_fields(fields);
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
                    None => {
                        diags.push(
                            Diagnostic::new("E0305", ident.span, format!("unknown type `{other}`"))
                                .label("not a type")
                                .note("the types are `int`, `float`, `bool`, `string`, `[T]`, `void` and declared structs"),
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

impl<'c, 'a> BodyChecker<'c, 'a> {
    fn new(cx: &'c mut Checker<'a>, diags: &'c mut Vec<Diagnostic>, ret: RetMode) -> Self {
        BodyChecker {
            cx,
            diags,
            ret,
            scopes: Vec::new(),
            vars: Vec::new(),
            loop_depth: 0,
            saw_broken_stmt: false,
            clause: None,
            following: Vec::new(),
        }
    }

    fn name(&self, ty: Type) -> String {
        self.cx.types.name(ty)
    }

    fn mismatch(&mut self, span: Span, expected: Type, found: Type, what: &str) {
        let diag = mismatch(&self.cx.types, span, expected, found, what);
        self.diags.push(diag);
    }

    fn push_scope(&mut self) {
        self.scopes.push(HashMap::new());
    }

    fn pop_scope(&mut self) {
        self.scopes.pop();
    }

    fn declare(&mut self, name: &Ident, ty: Type) -> VarId {
        let id = VarId(self.vars.len() as u32);
        self.vars.push((name.name.clone(), ty));
        let scope = self
            .scopes
            .last_mut()
            .expect("a scope is always open while checking");
        let first = scope.insert(name.name.clone(), (id, name.span));
        // A clause redeclares the parameters, whose duplicates the body has reported.
        if let Some((_, first)) = first.filter(|_| self.clause.is_none()) {
            self.diags.push(
                Diagnostic::new(
                    "E0304",
                    name.span,
                    format!("`{}` is already declared in this scope", name.name),
                )
                .label("declared again")
                .secondary(first, "first declared here")
                .note("assign to it with `=`, or declare the new variable in an inner block"),
            );
        }
        id
    }

    /// A variable no name reaches: it holds a value that a pattern takes apart.
    fn hidden(&mut self, ty: Type) -> VarId {
        let id = VarId(self.vars.len() as u32);
        self.vars.push((String::new(), ty));
        id
    }

    /// Binds `pattern` to `value`: declares the names it binds (in the current scope) and
    /// appends to `out` the statements that give them their parts, in order. A tuple pattern
    /// reads the elements of a variable: the value's own when it is one, else a hidden one that
    /// `value` is assigned to first. `_` evaluates a value it is given whole and drops it.
    fn bind_pattern(&mut self, pattern: &Pattern, value: TExpr, out: &mut Vec<TStmt>) {
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
                            self.diags.push(
                                Diagnostic::new(
                                    "E0417",
                                    *span,
                                    format!(
                                        "a pattern of {} elements cannot take apart `{name}`",
                                        parts.len()
                                    ),
                                )
                                .label(format!("the value is {label}"))
                                .secondary(value.span, format!("`{name}`")),
                            );
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

    fn lookup(&self, name: &str) -> Option<VarId> {
        self.scopes
            .iter()
            .rev()
            .find_map(|scope| scope.get(name).map(|(id, _)| *id))
    }

    fn var_type(&self, id: VarId) -> Type {
        self.vars[id.0 as usize].1
    }

    fn unknown_variable(&mut self, name: &str, span: Span) {
        if name == "result" {
            let diag = if self.clause == Some(ContractKind::Ensures) {
                Diagnostic::new(
                    "E0506",
                    span,
                    "`result` in a function that returns no value",
                )
                .label("this function has no result")
                .note("declare the result type with `-> T`, or drop the clause")
            } else {
                Diagnostic::new(
                    "E0505",
                    span,
                    "`result` is only defined in `ensures` clauses",
                )
                .label("not declared in this scope")
                .note("`result` names the value a function returns, in its `ensures` clauses")
            };
            self.diags.push(diag);
            return;
        }
        let mut diag = Diagnostic::new("E0301", span, format!("unknown variable `{name}`"))
            .label("not declared in this scope");
        if self.cx.by_name.contains_key(name) {
            diag = diag.note(format!(
                "`{name}` is a function; call it with `{name}(...)`"
            ));
        } else if !matches!(self.ret, RetMode::TopLevel)
            && self.cx.top_level_vars.iter().any(|v| v == name)
        {
            diag = diag.note(
                "variables declared at the top level belong to the program body and are not visible inside functions; pass the value as a parameter",
            );
        }
        self.diags.push(diag);
    }

    // ---- statements ----------------------------------------------------------------------------

    /// Checks `stmts` in order: each statement's result, then those that follow it.
    fn stmts<'s>(&mut self, stmts: impl IntoIterator<Item = &'s Stmt>) -> Vec<TStmt> {
        let mut checked = Vec::new();
        for stmt in stmts {
            checked.extend(self.stmt(stmt));
            checked.append(&mut self.following);
        }
        checked
    }

    fn block(&mut self, block: &Block, want_value: bool) -> TBlock {
        self.push_scope();
        let stmts = self.stmts(&block.stmts);
        let tail = block
            .tail
            .as_ref()
            .map(|e| Box::new(self.expr(e, want_value, None)));
        self.pop_scope();
        TBlock { stmts, tail }
    }

    fn stmt(&mut self, stmt: &Stmt) -> Option<TStmt> {
        if let Some(kind) = self.clause {
            self.diags.push(
                Diagnostic::new(
                    "E0507",
                    stmt.span,
                    format!("statement in a `{}` clause", kind.keyword()),
                )
                .label("contract clauses are expressions without statements")
                .note("move the computation into a function and call it from the clause"),
            );
        }
        Some(match &stmt.kind {
            StmtKind::Let { pattern, ty, value } => {
                let declared = ty
                    .as_ref()
                    .map(|t| self.cx.resolve_type(t, false, self.diags));
                let mut value = self.expr(value, true, declared);
                self.require_value(&value);
                let ty = match declared {
                    Some(declared) => {
                        if !value.ty.fits(declared) {
                            let what = match pattern {
                                Pattern::Bind(name) => format!("the value of `{}`", name.name),
                                _ => "the value".to_string(),
                            };
                            self.mismatch(value.span, declared, value.ty, &what);
                        }
                        declared
                    }
                    None if value.ty == Type::Void => Type::Error,
                    None => value.ty,
                };
                value.ty = ty;
                let mut stmts = Vec::new();
                self.bind_pattern(pattern, value, &mut stmts);
                // The first statement is the result; the rest follow it (see `stmts`).
                let mut stmts = stmts.into_iter();
                let first = stmts.next();
                self.following.extend(stmts);
                return first;
            }
            StmtKind::Assign { target, op, value } => {
                let (place, place_ty) = self.place(target)?;
                let value = match op {
                    Some((op, op_span)) => {
                        let rhs = self.expr(value, true, None);
                        let current = TExpr {
                            kind: TExprKind::Current,
                            ty: place_ty,
                            span: target.span,
                        };
                        self.binary(*op, *op_span, current, rhs, stmt.span)
                    }
                    None => self.expr(value, true, Some(place_ty)),
                };
                self.require_value(&value);
                if !value.ty.fits(place_ty) {
                    self.mismatch(value.span, place_ty, value.ty, "the assigned value");
                }
                TStmt::Assign { place, value }
            }
            StmtKind::Expr(expr) => TStmt::Expr(self.expr(expr, false, None)),
            StmtKind::While { cond, body } => {
                let cond = self.condition(cond);
                self.loop_depth += 1;
                let body = self.block(body, false);
                self.loop_depth -= 1;
                TStmt::While { cond, body }
            }
            StmtKind::ForRange {
                var,
                start,
                end,
                body,
            } => {
                let start = self.expr(start, true, None);
                let end = self.expr(end, true, None);
                for bound in [&start, &end] {
                    if !bound.ty.fits(Type::Int) {
                        self.mismatch(bound.span, Type::Int, bound.ty, "a range bound");
                    }
                }
                self.push_scope();
                let var = self.declare(var, Type::Int);
                self.loop_depth += 1;
                let body = self.block(body, false);
                self.loop_depth -= 1;
                self.pop_scope();
                TStmt::ForRange {
                    var,
                    span: stmt.span,
                    start,
                    end,
                    body,
                }
            }
            StmtKind::ForEach {
                pattern,
                array,
                body,
            } => {
                let array = self.expr(array, true, None);
                let elem = match array.ty {
                    Type::Array(_) => self.cx.types.elem(array.ty).unwrap_or(Type::Error),
                    Type::Error => Type::Error,
                    other => {
                        self.diags.push(
                            Diagnostic::new(
                                "E0413",
                                array.span,
                                format!("cannot iterate over `{}`", self.name(other)),
                            )
                            .label("not an array")
                            .note("`for x in a` needs an array; for numbers write `for i in 0..n`"),
                        );
                        Type::Error
                    }
                };
                self.push_scope();
                let (var, prefix) = match pattern {
                    Pattern::Bind(name) => (self.declare(name, elem), Vec::new()),
                    _ => {
                        // Each element goes in a hidden variable, which the pattern takes apart
                        // at the start of every round.
                        let holder = self.hidden(elem);
                        let element = TExpr {
                            kind: TExprKind::Var(holder),
                            ty: elem,
                            span: pattern.span(),
                        };
                        let mut prefix = Vec::new();
                        self.bind_pattern(pattern, element, &mut prefix);
                        (holder, prefix)
                    }
                };
                self.loop_depth += 1;
                let mut body = self.block(body, false);
                self.loop_depth -= 1;
                self.pop_scope();
                body.stmts.splice(0..0, prefix);
                TStmt::ForEach {
                    var,
                    array,
                    span: stmt.span,
                    body,
                }
            }
            StmtKind::Break | StmtKind::Continue => {
                let is_break = matches!(stmt.kind, StmtKind::Break);
                if self.loop_depth == 0 {
                    let word = if is_break { "break" } else { "continue" };
                    self.diags.push(
                        Diagnostic::new("E0409", stmt.span, format!("`{word}` outside of a loop"))
                            .label(format!("`{word}` must be inside `while` or `for`")),
                    );
                    return None;
                }
                if is_break {
                    TStmt::Break
                } else {
                    TStmt::Continue
                }
            }
            StmtKind::Return(value) => self.return_stmt(stmt.span, value.as_ref())?,
            StmtKind::Assert {
                keyword,
                cond,
                message,
                text,
            } => self.assert_stmt(*keyword, cond, message.as_ref(), text),
            StmtKind::Live(live) => TStmt::Live(Box::new(self.live_block(live))),
            StmtKind::Error => {
                self.saw_broken_stmt = true;
                return None;
            }
        })
    }

    fn assert_stmt(
        &mut self,
        keyword: Span,
        cond: &Expr,
        message: Option<&Expr>,
        text: &str,
    ) -> TStmt {
        let cond = self.expr(cond, true, None);
        if !cond.ty.fits(Type::Bool) {
            let found = self.name(cond.ty);
            self.diags.push(
                Diagnostic::new("E0502", cond.span, "assertion condition is not a `bool`")
                    .label(format!("expected `bool`, found `{found}`"))
                    .note("there are no implicit conversions to `bool`; compare explicitly, e.g. `n != 0`"),
            );
        }
        let message = message.map(|message| {
            let message = self.expr(message, true, None);
            if !message.ty.fits(Type::Str) {
                let found = self.name(message.ty);
                self.diags.push(
                    Diagnostic::new("E0503", message.span, "assertion message is not a `string`")
                        .label(format!("expected `string`, found `{found}`"))
                        .note("build the text with `+`, e.g. `assert(n > 0, \"n = \" + n)`"),
                );
            }
            message
        });
        TStmt::Assert {
            keyword,
            cond,
            message,
            text: text.to_string(),
        }
    }

    fn live_block(&mut self, live: &LiveBlock) -> TLive {
        let invariant = live.invariant.as_ref().map(|invariant| {
            let cond = self.expr(&invariant.cond, true, None);
            if !cond.ty.fits(Type::Bool) {
                let found = self.name(cond.ty);
                self.diags.push(
                    Diagnostic::new("E0512", cond.span, "`invariant` is not a `bool`")
                        .label(format!("expected `bool`, found `{found}`"))
                        .note("an invariant is a condition checked after the body, e.g. `invariant x >= 0`"),
                );
            }
            (cond, invariant.text.clone())
        });
        // Variables declared from here on belong to the body; older ones are outside it.
        let first_inner = self.vars.len() as u32;
        let body = self.block(&live.body, false);
        let mut restored = Vec::new();
        body.for_each_assigned(&mut |var| {
            if var.0 < first_inner && !restored.contains(&var) {
                restored.push(var);
            }
        });
        restored.sort_by_key(|var| var.0);
        TLive {
            keyword: live.keyword,
            within_ms: live.within_ms,
            backoff: live.backoff,
            invariant,
            body,
            restored,
        }
    }

    /// Resolves an assignment target: a variable followed by indexing and fields.
    fn place(&mut self, target: &Expr) -> Option<(Place, Type)> {
        match &target.kind {
            ExprKind::Var(name) => match self.lookup(name) {
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
    fn field(&mut self, ty: Type, field: &Ident) -> Option<(u32, Type)> {
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

    fn not_indexable(&mut self, span: Span, ty: Type) {
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

    fn return_stmt(&mut self, span: Span, value: Option<&Expr>) -> Option<TStmt> {
        let expected = match self.ret {
            RetMode::Declared(ty) => Some(ty),
            _ => None,
        };
        let value = value.map(|v| self.expr(v, true, expected));
        match &mut self.ret {
            RetMode::TopLevel => {
                self.diags.push(
                    Diagnostic::new("E0410", span, "`return` outside of a function")
                        .label("top-level statements are not a function")
                        .note("use `exit(n)` to end the program early"),
                );
                return None;
            }
            RetMode::Infer(returns) => {
                if let Some(v) = &value {
                    returns.push(v.ty);
                }
            }
            RetMode::Declared(ret) => {
                let ret = *ret;
                match (&value, ret) {
                    (None, Type::Void | Type::Error) => {}
                    (None, _) => {
                        let label = format!("this function returns `{}`", self.name(ret));
                        self.diags.push(
                            Diagnostic::new("E0405", span, "missing return value").label(label),
                        );
                    }
                    (Some(v), Type::Void) if v.ty != Type::Void => self.diags.push(
                        Diagnostic::new("E0405", v.span, "this function returns no value")
                            .label("unexpected value")
                            .note("declare the result type with `-> T` after the parameters"),
                    ),
                    (Some(v), _) if !v.ty.fits(ret) => {
                        let (s, t) = (v.span, v.ty);
                        self.mismatch(s, ret, t, "the returned value");
                    }
                    _ => {}
                }
            }
        }
        Some(TStmt::Return(value))
    }

    /// A `void` value where a value is needed.
    fn require_value(&mut self, expr: &TExpr) {
        if expr.ty == Type::Void {
            self.diags.push(
                Diagnostic::new("E0406", expr.span, "this expression has no value")
                    .label("its type is `void`"),
            );
        }
    }

    fn condition(&mut self, cond: &Expr) -> TExpr {
        let cond = self.expr(cond, true, None);
        if !cond.ty.fits(Type::Bool) {
            self.diags.push(
                Diagnostic::new("E0404", cond.span, "condition is not a `bool`")
                    .label(format!("expected `bool`, found `{}`", self.name(cond.ty)))
                    .note("there are no implicit conversions to `bool`; compare explicitly, e.g. `n != 0`"),
            );
        }
        cond
    }

    // ---- expressions ---------------------------------------------------------------------------

    /// Checks an expression. `want_value` is false where the value is discarded (statements),
    /// which lets `if` without `else` and branches of different types stand. `expected` is the
    /// type the context wants, if it knows (it gives `[]` its element type).
    fn expr(&mut self, expr: &Expr, want_value: bool, expected: Option<Type>) -> TExpr {
        let span = expr.span;
        let (kind, ty) = match &expr.kind {
            ExprKind::Int(v) => (TExprKind::Int(*v), Type::Int),
            ExprKind::Float(v) => (TExprKind::Float(*v), Type::Float),
            ExprKind::Bool(b) => (TExprKind::Bool(*b), Type::Bool),
            ExprKind::Str(s) => (TExprKind::Str(s.clone()), Type::Str),
            ExprKind::Var(name) => match self.lookup(name) {
                Some(var) => (TExprKind::Var(var), self.var_type(var)),
                None => {
                    self.unknown_variable(name, span);
                    return TExpr::error(span);
                }
            },
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
            ExprKind::Call { callee, args } => return self.call(callee, args, span),
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
            ExprKind::New { name, fields } => return self.new_struct(name, fields, span),
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

    fn if_expr(
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
    fn block_expecting(
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

    fn new_struct(&mut self, name: &Ident, fields: &[(Ident, Expr)], span: Span) -> TExpr {
        let Some(&id) = self.cx.struct_ids.get(&name.name) else {
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
        for ((field, value), &position) in fields.iter().zip(&positions) {
            let expected = position.map(|i| declared[i].1);
            let value = self.expr(value, true, expected);
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

    fn binary(&mut self, op: BinOp, op_span: Span, lhs: TExpr, rhs: TExpr, span: Span) -> TExpr {
        use BinOp::*;
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

    fn call(&mut self, callee: &Ident, args: &[Expr], span: Span) -> TExpr {
        if self.cx.ambiguous.contains(&callee.name) {
            for arg in args {
                self.expr(arg, true, None);
            }
            return TExpr::error(span);
        }
        if let Some(&func) = self.cx.by_name.get(&callee.name) {
            return self.user_call(func, callee, args, span);
        }
        // Builtins: the first argument is checked alone so that the second can expect its
        // element type (`push(a, [])`).
        let mut typed: Vec<TExpr> = Vec::with_capacity(args.len());
        for (i, arg) in args.iter().enumerate() {
            let expected = match (i, typed.first().map(|a| a.ty)) {
                (1, Some(first))
                    if matches!(callee.name.as_str(), "push" | "contains" | "index_of") =>
                {
                    self.cx.types.elem(first)
                }
                (1, Some(first)) if callee.name == "concat" => Some(first),
                (0, _) if callee.name == "join" => Some(self.cx.types.array_of(Type::Str)),
                _ => None,
            };
            typed.push(self.expr(arg, true, expected));
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
                }
                self.diags.push(diag);
                TExpr::error(span)
            }
        }
    }

    fn user_call(&mut self, func: u32, callee: &Ident, args: &[Expr], span: Span) -> TExpr {
        let params = self.cx.sigs[func as usize].params.clone();
        let args: Vec<TExpr> = args
            .iter()
            .enumerate()
            .map(|(i, a)| self.expr(a, true, params.get(i).copied()))
            .collect();
        if params.len() != args.len() {
            let decl = self.cx.decls[func as usize];
            self.diags.push(
                Diagnostic::new(
                    "E0402",
                    callee.span,
                    format!(
                        "`{}` takes {} argument{}, but {} {} given",
                        callee.name,
                        params.len(),
                        plural(params.len()),
                        args.len(),
                        if args.len() == 1 { "was" } else { "were" }
                    ),
                )
                .label("wrong number of arguments")
                .secondary(decl.name.span, "defined here"),
            );
        } else {
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

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Whether control can never reach the end of the block.
fn block_diverges(block: &TBlock) -> bool {
    block.stmts.iter().any(stmt_diverges) || block.tail.as_ref().is_some_and(|t| expr_diverges(t))
}

fn stmt_diverges(stmt: &TStmt) -> bool {
    match stmt {
        TStmt::Return(_) => true,
        TStmt::Expr(e) => expr_diverges(e),
        TStmt::Assign { value, .. } => expr_diverges(value),
        TStmt::While { cond, body } => {
            matches!(cond.kind, TExprKind::Bool(true)) && !breaks_out(body)
        }
        TStmt::Live(live) => block_diverges(&live.body),
        TStmt::ForRange { .. }
        | TStmt::ForEach { .. }
        | TStmt::Break
        | TStmt::Continue
        | TStmt::Assert { .. } => false,
    }
}

fn expr_diverges(expr: &TExpr) -> bool {
    match &expr.kind {
        TExprKind::Builtin {
            builtin: Builtin::Exit,
            ..
        } => true,
        TExprKind::If { diverges, .. } => *diverges,
        TExprKind::Block(block) => block_diverges(block),
        _ => false,
    }
}

/// Whether a `break` in this loop body (not in a nested loop) leaves the loop.
fn breaks_out(block: &TBlock) -> bool {
    fn stmt(s: &TStmt) -> bool {
        match s {
            TStmt::Break => true,
            TStmt::Expr(e) | TStmt::Assign { value: e, .. } => expr(e),
            TStmt::Return(Some(e)) => expr(e),
            TStmt::Live(live) => breaks_out(&live.body),
            _ => false,
        }
    }
    fn expr(e: &TExpr) -> bool {
        match &e.kind {
            TExprKind::If { then, else_, .. } => {
                breaks_out(then) || else_.as_ref().is_some_and(|e| expr(e))
            }
            TExprKind::Block(b) => breaks_out(b),
            _ => false,
        }
    }
    block.stmts.iter().any(stmt) || block.tail.as_ref().is_some_and(|t| expr(t))
}
