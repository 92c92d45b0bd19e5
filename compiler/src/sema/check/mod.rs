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
mod closures;
mod divergence;
mod exhaustive;
mod expr;
mod generic_uses;
mod generics;
mod matching;
mod names;
mod option_result;
mod patterns;
mod places;
mod stmt;
mod suggest;
mod traits;

use divergence::*;
use generics::TypeDecl;

/// Checks a parsed file, with the prelude's declarations (`stdlib/prelude.kl`) visible in it.
/// Returns the typed program (meaningful only if `diags` stayed empty).
pub fn check_file(file: &File, prelude: &File, diags: &mut Vec<Diagnostic>) -> TProgram {
    check_session_file(file, prelude, None, diags)
}

/// [`check_file`] for an entry of a REPL session (`crate::repl`): the session's own code, which
/// alone may call `__session_get` and `__session_set`, is the part of the span space
/// `session_code` covers. What the entry keeps in the session's slots is
/// [`TProgram::session`].
pub fn check_session_file(
    file: &File,
    prelude: &File,
    session_code: Option<Span>,
    diags: &mut Vec<Diagnostic>,
) -> TProgram {
    // The functions of `impl` blocks, as functions of their own: `Counter::bump`, generic
    // over the block's type parameters and their own, `Self` standing for the block's type.
    let mut methods: Vec<FnDecl> = (file.items.iter())
        .filter_map(|item| match item {
            Item::Impl(decl) if decl.trait_name.is_none() => Some(decl),
            _ => None,
        })
        .flat_map(|decl| decl.methods.iter().map(move |m| method_decl(decl, m)))
        .collect();
    let (trait_functions, trait_impls) = traits::trait_impl_functions(file, diags);
    methods.extend(trait_functions);
    let user_fns = fns(file);
    let methods_from = user_fns.len();
    let prelude_from = methods_from + methods.len();
    let decls: Vec<&FnDecl> = (user_fns.into_iter())
        .chain(methods.iter())
        .chain(fns(prelude))
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

    // The prelude's types first: they are declared before the user's.
    let type_decls: Vec<(TypeDecl, bool)> = type_decls_of(prelude, true)
        .chain(type_decls_of(file, false))
        .collect();

    let aliases: Vec<&TypeAlias> = (file.items.iter())
        .filter_map(|item| match item {
            Item::TypeAlias(alias) => Some(alias),
            _ => None,
        })
        .collect();
    let consts: Vec<&ConstDecl> = (file.items.iter())
        .filter_map(|item| match item {
            Item::Const(decl) => Some(decl),
            _ => None,
        })
        .collect();

    let mut checker = Checker {
        decls: &decls,
        aliases: HashMap::new(),
        alias_stack: Vec::new(),
        trait_names: std::collections::HashSet::new(),
        trait_impls: trait_impls.into_iter().collect(),
        consts: HashMap::new(),
        const_stack: Vec::new(),
        cyclic: std::collections::HashSet::new(),
        methods_from,
        prelude_from,
        methods: HashMap::new(),
        sigs: Vec::new(),
        by_name: HashMap::new(),
        prelude_names: prelude_functions(prelude),
        decl_sigs: HashMap::new(),
        top_level_vars,
        types: TypeTable::default(),
        struct_ids: HashMap::new(),
        enum_ids: HashMap::new(),
        generic_types: HashMap::new(),
        type_env: Vec::new(),
        fn_instances: HashMap::new(),
        current_depth: 0,
        too_deep_reported: false,
        ambiguous: Vec::new(),
        session_code,
        session: Vec::new(),
        warnings: Vec::new(),
    };
    checker.declare_traits(file, diags);
    checker.declare_aliases(&aliases, diags);
    checker.collect_types(&type_decls, diags);
    checker.check_aliases(&aliases, diags);
    checker.collect_signatures(diags);
    checker.collect_consts(&consts, diags);

    // The non-generic functions (their signatures come first, in declaration order), the
    // top-level statements, then every generic instance they asked for, and those asked for
    // by instances, until no new one is asked for.
    let plain = checker.sigs.len();
    let mut funcs = Vec::new();
    for index in 0..plain {
        funcs.push(checker.check_instance(index, diags));
    }
    let main = checker.check_top_level(&top_level, diags);
    while funcs.len() < checker.sigs.len() {
        let mut found = Vec::new();
        let func = checker.check_instance(funcs.len(), &mut found);
        generics::merge_new(diags, found);
        funcs.push(func);
    }
    checker.check_unused_generics(diags);
    TProgram {
        funcs,
        main,
        types: checker.types,
        session: checker.session,
        warnings: checker.warnings,
    }
}

/// The functions of `prelude` by name, with their positions among its declarations: made once
/// per process for the prelude every program is checked with (`sema::prelude`), and once per
/// call for another.
fn prelude_functions(prelude: &File) -> std::borrow::Cow<'static, HashMap<String, u32>> {
    static INDEX: std::sync::OnceLock<HashMap<String, u32>> = std::sync::OnceLock::new();
    let index = |file: &File| {
        let mut names = HashMap::new();
        for (k, decl) in fns(file).into_iter().enumerate() {
            names.entry(decl.name.name.clone()).or_insert(k as u32);
        }
        names
    };
    if std::ptr::eq(prelude, crate::sema::prelude()) {
        std::borrow::Cow::Borrowed(INDEX.get_or_init(|| index(prelude)))
    } else {
        std::borrow::Cow::Owned(index(prelude))
    }
}

/// The function declarations of a file, in order.
fn fns(file: &File) -> Vec<&FnDecl> {
    (file.items.iter())
        .filter_map(|item| match item {
            Item::Fn(decl) => Some(decl),
            _ => None,
        })
        .collect()
}

/// A function of `impl` block `block` as a function of its own: named `Type::name`, generic
/// over the block's type parameters and then its own, `Self` in its signature replaced by the
/// block's type.
fn method_decl(block: &ImplDecl, method: &FnDecl) -> FnDecl {
    let mut decl = method.clone();
    decl.name.name = format!("{}::{}", type_expr_name(&block.target), method.name.name);
    decl.type_params = (block.type_params.iter())
        .chain(&method.type_params)
        .cloned()
        .collect();
    for param in &mut decl.params {
        replace_self(&mut param.ty, &block.target);
    }
    if let Some(ret) = &mut decl.ret {
        replace_self(ret, &block.target);
    }
    decl.self_type = Some(block.target.clone());
    decl
}

/// The name a written type starts with (`Stack` of `Stack<T>`; `[..]` and tuples have none).
fn type_expr_name(ty: &TypeExpr) -> &str {
    match ty {
        TypeExpr::Named(name) | TypeExpr::Applied { name, .. } => &name.name,
        TypeExpr::Array(..) | TypeExpr::Tuple(..) | TypeExpr::Fn { .. } => "",
    }
}

/// Replaces `Self` in a written type by `target`.
fn replace_self(ty: &mut TypeExpr, target: &TypeExpr) {
    match ty {
        TypeExpr::Named(name) if name.name == "Self" => *ty = target.clone(),
        _ => (ty.children_mut().into_iter()).for_each(|elem| replace_self(elem, target)),
    }
}

/// The struct and enum declarations of a file, in order, each with `prelude`.
fn type_decls_of(file: &File, prelude: bool) -> impl Iterator<Item = (TypeDecl<'_>, bool)> {
    (file.items.iter()).filter_map(move |item| match item {
        Item::Struct(decl) => Some((TypeDecl::Struct(decl), prelude)),
        Item::Enum(decl) => Some((TypeDecl::Enum(decl), prelude)),
        _ => None,
    })
}

/// A function's signature as the checker knows it: of a declared function, or of one instance
/// of a generic one.
struct Sig {
    /// The declaration (an index into `Checker::decls`).
    decl: u32,
    /// The type arguments of a generic function's instance (none otherwise).
    args: Vec<Type>,
    /// How many generic instances led to this one being asked for (0 for a declared function).
    depth: u32,
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
    /// Every function declaration: the program's, its `impl` blocks' (from `methods_from`),
    /// then the prelude's (from `prelude_from`).
    decls: &'a [&'a FnDecl],
    methods_from: usize,
    prelude_from: usize,
    /// The program's traits, and which (trait, type name) pairs an `impl` block gives.
    trait_names: std::collections::HashSet<String>,
    trait_impls: std::collections::HashSet<(String, String)>,
    /// Type aliases by name, and the ones being resolved (to catch an alias naming itself).
    aliases: HashMap<String, &'a TypeAlias>,
    alias_stack: Vec<String>,
    /// Constants by name (those defined in terms of themselves left out), and the ones whose
    /// values are being checked at a use.
    consts: HashMap<String, &'a ConstDecl>,
    const_stack: Vec<String>,
    /// The aliases and constants found defined in terms of themselves (reported once).
    cyclic: std::collections::HashSet<String>,
    /// The functions of `impl` blocks by type name (`Stack`, without type arguments) and
    /// function name: their declarations.
    methods: HashMap<(String, String), u32>,
    /// The signatures: of the non-generic functions in declaration order, then of generic
    /// instances as they are asked for. A signature's index is its function's in the IR.
    sigs: Vec<Sig>,
    /// The program's functions by name: their declarations (the prelude's are in
    /// `prelude_names`; see [`Checker::function_named`]).
    by_name: HashMap<String, u32>,
    /// The prelude's functions by name: their positions among the prelude's declarations
    /// (`decls[prelude_from..]`).
    prelude_names: std::borrow::Cow<'a, HashMap<String, u32>>,
    /// The signature of each non-generic function declaration.
    decl_sigs: HashMap<u32, u32>,
    /// Names of top-level `let`s, to explain why functions cannot see them.
    top_level_vars: Vec<String>,
    types: TypeTable,
    struct_ids: HashMap<String, u32>,
    /// Declared enums by name: their entries in the type table.
    enum_ids: HashMap<String, u32>,
    /// Generic structs and enums by name, with their instances.
    generic_types: HashMap<String, generics::GenericType<'a>>,
    /// What the type parameters in scope stand for (in a generic instance's declaration).
    type_env: Vec<(String, Type)>,
    /// Generic function instances: their signatures, by declaration and type arguments.
    fn_instances: HashMap<(u32, Vec<Type>), u32>,
    /// The `depth` of the instance being checked.
    current_depth: u32,
    /// Whether E0427 (instantiation that does not end) was reported.
    too_deep_reported: bool,
    /// Names defined more than once: calls to them are not checked further.
    ambiguous: Vec<String>,
    /// In a REPL entry, the span of the session's own code (see [`check_session_file`]).
    session_code: Option<Span>,
    /// What the entry keeps in the session's slots, in the order of its `__session_set`s.
    session: Vec<SessionKept>,
    /// Warnings found while checking (W0003), each once (a generic function's body is checked
    /// once per instance).
    warnings: Vec<Diagnostic>,
}

impl<'a> Checker<'a> {
    /// Declares every struct and enum (names first, so fields and payloads may name any of
    /// them), then the structs' fields and the variants' payloads. An enum takes one entry of
    /// the type table for itself and one per variant, right after it. A generic one takes
    /// entries per instance, when used (`generics`).
    fn collect_types(&mut self, decls: &[(TypeDecl<'a>, bool)], diags: &mut Vec<Diagnostic>) {
        // Generic declarations by name first, so that any type may use them.
        for &(decl, prelude) in decls {
            let params = match decl {
                TypeDecl::Struct(d) => &d.type_params,
                TypeDecl::Enum(d) => &d.type_params,
            };
            if !params.is_empty() && self.declare_type_name(decl.name(), diags) {
                self.generic_types.insert(
                    decl.name().name.clone(),
                    generics::GenericType {
                        decl,
                        params: params.iter().map(|p| p.name.name.clone()).collect(),
                        instances: HashMap::new(),
                        prelude,
                    },
                );
            }
        }
        let structs: Vec<&StructDecl> = (decls.iter())
            .filter_map(|(decl, _)| match decl {
                TypeDecl::Struct(d) if d.type_params.is_empty() => Some(*d),
                _ => None,
            })
            .collect();
        let enums: Vec<&EnumDecl> = (decls.iter())
            .filter_map(|(decl, _)| match decl {
                TypeDecl::Enum(d) if d.type_params.is_empty() => Some(*d),
                _ => None,
            })
            .collect();
        let mut struct_entries = Vec::with_capacity(structs.len());
        for decl in &structs {
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
        for decl in &enums {
            let id = self.types.structs.len() as u32;
            if self.declare_type_name(&decl.name, diags) {
                self.enum_ids.insert(decl.name.name.clone(), id);
            }
            let info = StructInfo::new(decl.name.name.clone(), decl.name.span);
            self.push_enum(decl, info);
            self.check_variant_names(decl, diags);
            enum_entries.push(id);
        }
        for (decl, &entry) in structs.iter().zip(&struct_entries) {
            let fields = self.field_types(decl, diags);
            self.types.structs[entry as usize].set_fields(fields);
        }
        for (decl, &entry) in enums.iter().zip(&enum_entries) {
            self.set_payloads(decl, entry, diags);
        }
        // A generic declaration's own types, once, with its parameters standing for `Error`:
        // a mistake in them is reported here, not once per instance.
        for &(decl, _) in decls {
            let params = match decl {
                TypeDecl::Struct(d) => &d.type_params,
                TypeDecl::Enum(d) => &d.type_params,
            };
            if params.is_empty() {
                continue;
            }
            self.check_param_names(params, diags);
            self.check_bound_names(params, diags);
            let env = (params.iter())
                .map(|p| (p.name.name.clone(), Type::Error))
                .collect();
            let saved = std::mem::replace(&mut self.type_env, env);
            match decl {
                TypeDecl::Struct(d) => {
                    self.field_types(d, diags);
                }
                TypeDecl::Enum(d) => {
                    self.check_variant_names(d, diags);
                    for ty in d.variants.iter().flat_map(|v| &v.payload) {
                        self.resolve_type(ty, false, diags);
                    }
                }
            }
            self.type_env = saved;
        }
    }

    /// Adds enum `decl`'s entry (`info`, made an enum type with its `tag` field) to the type
    /// table, and one entry per variant right after it (their payloads are set by
    /// [`Checker::set_payloads`]). Returns the enum's entry.
    fn push_enum(&mut self, decl: &EnumDecl, mut info: StructInfo) -> u32 {
        let id = self.types.structs.len() as u32;
        info.kind = StructKind::Enum;
        info.set_fields(vec![("tag".to_string(), Type::Int)]);
        self.types.structs.push(info);
        for (tag, variant) in decl.variants.iter().enumerate() {
            let entry = self.types.structs.len() as u32;
            let mut info = StructInfo::new(variant.name.name.clone(), variant.name.span);
            info.kind = StructKind::Variant {
                of: ir::StructId(id),
                tag: tag as u32,
            };
            self.types.structs.push(info);
            self.types.structs[id as usize].variants.push(entry);
        }
        id
    }

    /// Resolves the payload types of enum `decl`'s variants, whose entries follow `id`.
    fn set_payloads(&mut self, decl: &EnumDecl, id: u32, diags: &mut Vec<Diagnostic>) {
        for (tag, variant) in decl.variants.iter().enumerate() {
            let mut fields = vec![("tag".to_string(), Type::Int)];
            for (index, ty) in variant.payload.iter().enumerate() {
                let ty = self.resolve_type(ty, false, diags);
                fields.push((index.to_string(), ty));
            }
            let entry = self.types.structs[id as usize].variants[tag];
            self.types.structs[entry as usize].set_fields(fields);
        }
    }

    /// A struct's field names and types (reporting a field declared twice).
    fn field_types(
        &mut self,
        decl: &StructDecl,
        diags: &mut Vec<Diagnostic>,
    ) -> Vec<(String, Type)> {
        let mut fields: Vec<(String, Type)> = Vec::new();
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for field in &decl.fields {
            let ty = self.resolve_type(&field.ty, false, diags);
            if let Some(first) = seen.insert(&field.name.name, field.name.span) {
                diags.push(declared_twice("field", &field.name, first));
            }
            fields.push((field.name.name.clone(), ty));
        }
        fields
    }

    /// Reports a variant declared twice in one enum.
    fn check_variant_names(&mut self, decl: &EnumDecl, diags: &mut Vec<Diagnostic>) {
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for variant in &decl.variants {
            if let Some(first) = seen.insert(&variant.name.name, variant.name.span) {
                diags.push(declared_twice("variant", &variant.name, first));
            }
        }
    }

    /// Claims `name` for a declared struct or enum; false (reported) when it is taken.
    fn declare_type_name(&mut self, name: &Ident, diags: &mut Vec<Diagnostic>) -> bool {
        let first = (self.struct_ids.get(&name.name))
            .or_else(|| self.enum_ids.get(&name.name))
            .copied();
        if let Some(alias) = self.aliases.get(&name.name) {
            diags.push(
                Diagnostic::new(
                    "E0303",
                    name.span,
                    format!("type `{}` is defined twice", name.name),
                )
                .label("second definition")
                .secondary(alias.name.span, "first defined here"),
            );
            false
        } else if let Some(generic) = self.generic_types.get(&name.name) {
            let diag = Diagnostic::new(
                "E0303",
                name.span,
                format!("type `{}` is defined twice", name.name),
            )
            .label("second definition");
            diags.push(if generic.prelude {
                diag.note(format!(
                    "`{}` is declared in the prelude, which every program sees",
                    name.name
                ))
            } else {
                diag.secondary(generic.decl.name().span, "first defined here")
            });
            false
        } else if let Some(first) = first {
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
                "map" | "set" if !self.struct_ids.contains_key(&ident.name) => {
                    let count = if ident.name == "map" { 2 } else { 1 };
                    let example = if count == 2 {
                        "map<string, int>"
                    } else {
                        "set<int>"
                    };
                    diags.push(
                        Diagnostic::new(
                            "E0426",
                            ident.span,
                            format!("`{}` needs type arguments", ident.name),
                        )
                        .label(format!(
                            "`{}` takes {count} type argument{}",
                            ident.name,
                            plural(count)
                        ))
                        .note(format!("write them after the name, e.g. `{example}`")),
                    );
                    Type::Error
                }
                "void" => {
                    diags.push(
                        Diagnostic::new("E0305", ident.span, "`void` is not a value type")
                            .label("a parameter, field or element needs a value type"),
                    );
                    Type::Error
                }
                other => match self.struct_ids.get(other) {
                    _ if self.type_param(other).is_some() => {
                        self.type_param(other).unwrap_or(Type::Error)
                    }
                    _ if self.aliases.contains_key(other) => {
                        self.alias_use(other, Vec::new(), ident.span, diags)
                    }
                    Some(&id) => Type::Struct(id),
                    None if self.enum_ids.contains_key(other) => Type::Enum(self.enum_ids[other]),
                    None if self.generic_types.contains_key(other) => {
                        let count = self.generic_types[other].params.len();
                        diags.push(
                            Diagnostic::new(
                                "E0426",
                                ident.span,
                                format!("`{other}` needs type arguments"),
                            )
                            .label(format!(
                                "`{other}` takes {count} type argument{}",
                                plural(count)
                            ))
                            .note(format!("write them after the name, e.g. `{other}<int>`")),
                        );
                        Type::Error
                    }
                    None => {
                        let known = (self.struct_ids.keys().chain(self.enum_ids.keys()))
                            .chain(self.aliases.keys())
                            .chain(self.generic_types.keys())
                            .map(String::as_str)
                            .chain(["int", "float", "bool", "string", "map", "set"]);
                        let note = suggest::did_you_mean(other, known).unwrap_or_else(|| {
                            "the types are `int`, `float`, `bool`, `string`, `[T]`, tuples, `map<K, V>`, `set<T>`, `void` and declared structs and enums".into()
                        });
                        diags.push(
                            Diagnostic::new("E0305", ident.span, format!("unknown type `{other}`"))
                                .label("not a type")
                                .note(note),
                        );
                        Type::Error
                    }
                },
            },
            TypeExpr::Applied { name, args, span } if self.aliases.contains_key(&name.name) => {
                let args: Vec<Type> = (args.iter())
                    .map(|arg| self.resolve_type(arg, false, diags))
                    .collect();
                if args.contains(&Type::Error) {
                    return Type::Error;
                }
                self.alias_use(&name.name, args, *span, diags)
            }
            TypeExpr::Applied { name, args, span }
                if matches!(name.name.as_str(), "map" | "set") =>
            {
                let is_map = name.name == "map";
                let count = if is_map { 2 } else { 1 };
                let Some(types) = self.type_args(&name.name, args, count, *span, diags) else {
                    return Type::Error;
                };
                if let Some(problem) = self.types.key_problem(types[0]) {
                    diags.push(key_type_error(&name.name, &problem, args[0].span()));
                    return Type::Error;
                }
                let value = if is_map { types[1] } else { Type::Void };
                self.types.map_of(types[0], value)
            }
            TypeExpr::Applied { name, args, span } => {
                let Some(count) = self.generic_types.get(&name.name).map(|g| g.params.len()) else {
                    let known = self.struct_ids.contains_key(&name.name)
                        || self.enum_ids.contains_key(&name.name)
                        || is_builtin_type(&name.name);
                    let diag = if known {
                        Diagnostic::new(
                            "E0426",
                            *span,
                            format!("`{}` takes no type arguments", name.name),
                        )
                        .label("not a generic type")
                        .note(format!("write `{}` alone", name.name))
                    } else {
                        Diagnostic::new("E0305", name.span, format!("unknown type `{}`", name.name))
                            .label("not a type")
                    };
                    diags.push(diag);
                    return Type::Error;
                };
                match self.type_args(&name.name, args, count, *span, diags) {
                    Some(args) => self.instantiate_type(&name.name, args, *span, diags),
                    None => Type::Error,
                }
            }
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
            TypeExpr::Fn { params, ret, .. } => {
                let params: Vec<Type> = (params.iter())
                    .map(|param| self.resolve_type(param, false, diags))
                    .collect();
                let ret = match ret {
                    Some(ret) => self.resolve_type(ret, true, diags),
                    None => Type::Void,
                };
                if params.contains(&Type::Error) || ret == Type::Error {
                    Type::Error
                } else {
                    self.types.fn_of(params, ret)
                }
            }
        }
    }

    /// The types of the type arguments `args` given to `name`, which takes `count`: none when
    /// their number is wrong (reported) or one of them is in error.
    fn type_args(
        &mut self,
        name: &str,
        args: &[TypeExpr],
        count: usize,
        span: Span,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Vec<Type>> {
        let types: Vec<Type> = (args.iter())
            .map(|arg| self.resolve_type(arg, false, diags))
            .collect();
        if types.len() != count {
            diags.push(type_argument_count(name, count, types.len(), span));
            return None;
        }
        (!types.contains(&Type::Error)).then_some(types)
    }

    /// What type parameter `name` stands for here, if it is one.
    fn type_param(&self, name: &str) -> Option<Type> {
        (self.type_env.iter().rev())
            .find(|(param, _)| param == name)
            .map(|&(_, ty)| ty)
    }

    /// Whether function declaration `decl` is the prelude's.
    fn in_prelude(&self, decl: u32) -> bool {
        decl as usize >= self.prelude_from
    }

    /// Whether `span` is in a REPL session's own code (see [`check_session_file`]).
    fn in_session_code(&self, span: Span) -> bool {
        (self.session_code).is_some_and(|code| code.start <= span.start && span.end <= code.end)
    }

    /// The declaration of the function `name`: the program's, else the prelude's (a program's
    /// function shadows the prelude's of its name).
    fn function_named(&self, name: &str) -> Option<u32> {
        (self.by_name.get(name).copied())
            .or_else(|| (self.prelude_names.get(name)).map(|&k| self.prelude_from as u32 + k))
    }

    /// The names of every function [`Checker::function_named`] finds (some twice).
    fn function_names(&self) -> impl Iterator<Item = &str> {
        (self.by_name.keys().chain(self.prelude_names.keys())).map(String::as_str)
    }

    /// Names every function and makes the signatures of the non-generic ones. A generic
    /// function's parameter and result types are checked once here, its parameters standing
    /// for `Error`; its signatures come with its instances. A program's function may reuse a
    /// prelude function's name: the program's is the one called.
    fn collect_signatures(&mut self, diags: &mut Vec<Diagnostic>) {
        // The prelude's functions are named once per process (`prelude_functions`); their
        // signatures are made when they are first called (`Checker::plain_sig`), so an unused
        // one costs nothing.
        for (index, decl) in self.decls.iter().enumerate().take(self.prelude_from) {
            let name = &decl.name;
            if index < self.methods_from && decl.params.first().is_some_and(is_self_param) {
                diags.push(
                    Diagnostic::new(
                        "E0428",
                        decl.params[0].name.span,
                        "`self` outside an `impl` block",
                    )
                    .label("only the functions of an `impl` block take `self`")
                    .note(format!(
                        "put `{}` in `impl Type {{ ... }}`, or give the parameter a type and a name",
                        name.name
                    )),
                );
            }
            if (self.methods_from..self.prelude_from).contains(&index) {
                if !self.declare_method(index as u32, diags) {
                    // Of a type that is not declared (reported): never called.
                    continue;
                }
            } else if BUILTIN_NAMES.contains(&name.name.as_str()) {
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
            if !decl.type_params.is_empty() {
                self.check_param_names(&decl.type_params, diags);
                self.check_bound_names(&decl.type_params, diags);
                let env = (decl.type_params.iter())
                    .map(|p| (p.name.name.clone(), Type::Error))
                    .collect();
                let saved = std::mem::replace(&mut self.type_env, env);
                for param in &decl.params {
                    self.resolve_type(&param.ty, false, diags);
                }
                if let Some(ty) = &decl.ret {
                    self.resolve_type(ty, true, diags);
                }
                self.type_env = saved;
                continue;
            }
            let free = index < self.methods_from;
            let params = decl
                .params
                .iter()
                .map(|p| {
                    if free && is_self_param(p) {
                        // Reported above (E0428).
                        Type::Error
                    } else {
                        self.resolve_type(&p.ty, false, diags)
                    }
                })
                .collect();
            let ret = match &decl.ret {
                Some(ty) => RetState::Known(self.resolve_type(ty, true, diags)),
                None => RetState::Pending,
            };
            self.decl_sigs.insert(index as u32, self.sigs.len() as u32);
            self.sigs.push(Sig {
                decl: index as u32,
                args: Vec::new(),
                depth: 0,
                params,
                ret,
                inferred_cleanly: true,
            });
        }
    }

    /// Declares the program's traits (a name declared twice is reported).
    fn declare_traits(&mut self, file: &File, diags: &mut Vec<Diagnostic>) {
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for item in &file.items {
            let Item::Trait(decl) = item else { continue };
            let name = &decl.name;
            if let Some(first) = seen.insert(&name.name, name.span) {
                diags.push(
                    Diagnostic::new(
                        "E0303",
                        name.span,
                        format!("trait `{}` is defined twice", name.name),
                    )
                    .label("second definition")
                    .secondary(first, "first defined here"),
                );
            } else if traits::BUILTIN_TRAITS.contains(&name.name.as_str()) {
                diags.push(
                    Diagnostic::new(
                        "E0303",
                        name.span,
                        format!("`{}` is a built-in trait", name.name),
                    )
                    .label("choose another name"),
                );
            } else {
                self.trait_names.insert(name.name.clone());
            }
        }
    }

    /// Enters the `impl` block function `decl` into the table of methods, reporting a block
    /// for a type that is not a declared struct or enum, and a name declared twice for a type
    /// (or that is a variant of the enum).
    fn declare_method(&mut self, decl: u32, diags: &mut Vec<Diagnostic>) -> bool {
        let fn_decl = self.decls[decl as usize];
        let Some(target) = &fn_decl.self_type else {
            return false;
        };
        let type_name = type_expr_name(target).to_string();
        let (_, method) = fn_decl.name.name.split_once("::").unwrap_or(("", ""));
        let declared = self.struct_ids.contains_key(&type_name)
            || self.enum_ids.contains_key(&type_name)
            || self.generic_types.contains_key(&type_name);
        if !declared {
            // Reported once per block, at its first function.
            let first = self.decls[self.methods_from..self.prelude_from]
                .iter()
                .position(|d| d.self_type.as_ref().map(TypeExpr::span) == Some(target.span()));
            if first == Some(decl as usize - self.methods_from) {
                diags.push(
                    Diagnostic::new(
                        "E0429",
                        target.span(),
                        "an `impl` block for a type that is not a declared struct or enum",
                    )
                    .label("functions may be declared for the program's structs and enums")
                    .note("declare the type first, or make the functions free functions"),
                );
            }
            return false;
        }
        let key = (type_name.clone(), method.to_string());
        let variant = self.enum_ids.get(&type_name).is_some_and(|&id| {
            let types = &self.types;
            (types.structs[id as usize].variants.iter())
                .any(|&v| types.structs[v as usize].name == method)
        });
        if let Some(&first) = self.methods.get(&key) {
            diags.push(
                Diagnostic::new(
                    "E0303",
                    fn_decl.name.span,
                    format!("`{type_name}` has two functions named `{method}`"),
                )
                .label("second definition")
                .secondary(self.decls[first as usize].name.span, "first defined here"),
            );
        } else if variant {
            diags.push(
                Diagnostic::new(
                    "E0303",
                    fn_decl.name.span,
                    format!("`{type_name}::{method}` is a variant of `{type_name}`"),
                )
                .label("a function of the same name as a variant")
                .note("choose another name for the function"),
            );
        } else {
            self.methods.insert(key, decl);
        }
        true
    }

    /// The signature of the function declaration `decl`, which has no type parameters: made
    /// now, on first use, for one of the prelude's.
    fn plain_sig(&mut self, decl: u32, span: Span, diags: &mut Vec<Diagnostic>) -> Option<u32> {
        if let Some(&sig) = self.decl_sigs.get(&decl) {
            return Some(sig);
        }
        if !self.in_prelude(decl) || !self.decls[decl as usize].type_params.is_empty() {
            return None;
        }
        let sig = self.instantiate_fn(decl, Vec::new(), span, diags)?;
        self.decl_sigs.insert(decl, sig);
        Some(sig)
    }

    /// The `impl` block function `name` of the type `ty` (a struct or enum), if it has one.
    fn method_of(&self, ty: Type, name: &str) -> Option<u32> {
        let (Type::Struct(id) | Type::Enum(id)) = ty else {
            return None;
        };
        let type_name = &self.types.structs[id as usize].name;
        self.methods
            .get(&(type_name.clone(), name.to_string()))
            .copied()
    }

    /// Checks the function of signature `index` (its body and contracts), reporting a result
    /// type that cannot be inferred.
    fn check_instance(&mut self, index: usize, diags: &mut Vec<Diagnostic>) -> TFunc {
        let ret = self.ret_type(index as u32);
        let decl = self.decls[self.sigs[index].decl as usize];
        if ret == Type::Error && decl.ret.is_none() && self.sigs[index].inferred_cleanly {
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
        let mut func = self.check_function(index, RetMode::Declared(ret), diags);
        (func.requires, func.ensures) = self.check_contracts(index, ret, diags);
        func
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
        self.in_instance(index, |this| this.check_function_here(index, mode, diags))
    }

    /// [`Checker::check_function`] in the instance's type environment.
    fn check_function_here(
        &mut self,
        index: usize,
        mode: RetMode,
        diags: &mut Vec<Diagnostic>,
    ) -> TFunc {
        let decl = self.decls[self.sigs[index].decl as usize];
        let params = self.sigs[index].params.clone();
        let mut body = BodyChecker::new(self, diags, mode);
        body.push_scope();
        for (param, ty) in decl.params.iter().zip(params) {
            body.declare(&param.name, ty);
        }
        let block = body.block(&decl.body, true);
        body.report_unused_lets();
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
            RetMode::Infer(returns) => inferred_result(returns, tail_ty),
            RetMode::TopLevel => Type::Void,
        };
        TFunc {
            name: self.instance_name(index),
            prelude: self.in_prelude(self.sigs[index].decl),
            param_count: decl.params.len() as u32,
            vars,
            ret,
            body: block,
            span: Some(decl.name.span),
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
        self.in_instance(index, |this| this.check_contracts_here(index, ret, diags))
    }

    fn check_contracts_here(
        &mut self,
        index: usize,
        ret: Type,
        diags: &mut Vec<Diagnostic>,
    ) -> (Vec<TClause>, Vec<TClause>) {
        let decl = self.decls[self.sigs[index].decl as usize];
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
        body.report_unused_lets();
        let vars = std::mem::take(&mut body.vars);
        TFunc {
            name: "<main>".into(),
            prelude: false,
            param_count: 0,
            vars,
            ret: Type::Void,
            body: TBlock { stmts, tail: None },
            span: None,
            requires: Vec::new(),
            ensures: Vec::new(),
        }
    }
}

/// Whether a parameter is a method's `self` (written without a type).
fn is_self_param(param: &Param) -> bool {
    param.name.name == "self"
        && matches!(&param.ty, TypeExpr::Named(ty) if ty.name == "Self" && ty.span == param.name.span)
}

/// E0426: generic `name` given `given` type arguments instead of `count`.
fn type_argument_count(name: &str, count: usize, given: usize, span: Span) -> Diagnostic {
    Diagnostic::new(
        "E0426",
        span,
        format!(
            "`{name}` takes {count} type argument{}, given {given}",
            plural(count)
        ),
    )
    .label("wrong number of type arguments")
}

/// E0304: `what` `name` declared again, first at `first`.
fn declared_twice(what: &str, name: &Ident, first: Span) -> Diagnostic {
    Diagnostic::new(
        "E0304",
        name.span,
        format!("{what} `{}` is declared twice", name.name),
    )
    .label("declared again")
    .secondary(first, "first declared here")
}

/// `map<float, int>`: a key type the runtime cannot hash and order.
pub(super) fn key_type_error(kind: &str, problem: &str, span: Span) -> Diagnostic {
    let what = if kind == "map" {
        "a map key"
    } else {
        "a set item"
    };
    Diagnostic::new("E0443", span, format!("this type cannot be {what}"))
        .label(problem.to_string())
        .note(
            "keys are ints, bools, strings, and tuples, structs and enums of them (not recursive)",
        )
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

/// The result type of a body whose returns gave `returns` and whose last expression (if it has
/// a value) is of type `tail`: the first known one, `void` when there is none, `Error` when all
/// are unknown.
fn inferred_result(mut returns: Vec<Type>, tail: Option<Type>) -> Type {
    returns.extend(tail.filter(|&ty| ty != Type::Void));
    let known = returns.iter().copied().find(|&t| t != Type::Error);
    match known {
        Some(ty) => ty,
        None if returns.is_empty() => Type::Void,
        None => Type::Error,
    }
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
    /// The bodies enclosing the closure being checked, outermost first (`closures`).
    frames: Vec<closures::Frame>,
    /// The captured variables of the closure being checked: (the enclosing frame's variable,
    /// the closure's copy).
    captures: Vec<(VarId, VarId)>,
    /// The variables declared by `let` in this body (of the closure being checked, if any),
    /// for W0003.
    lets: Vec<(VarId, Ident)>,
    /// The variables of this body whose value is read somewhere.
    read: std::collections::HashSet<u32>,
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
