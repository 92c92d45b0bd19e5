//! Generics by monomorphization: a generic struct, enum or function is checked, and later
//! lowered, once per list of type arguments it is used with, so nothing after the checker ever
//! sees a type parameter.
//!
//! - A generic struct or enum declaration is kept aside ([`GenericType`]); `Name<A, B>` in a
//!   type makes, once per argument list, a type-table entry for that instance (the entry's
//!   `args` say which), its fields or payloads resolved with the parameters standing for the
//!   arguments (`Checker::type_env`).
//! - A generic function gets one signature and one typed body per instance (the `Sig` says
//!   which declaration and arguments). At a call, the type arguments are inferred from the
//!   arguments' types and from the type the context expects ([`Binding`]); the instances are
//!   checked from a worklist after the rest of the program.
//! - Instantiation is bounded: a type argument nested deeper than [`MAX_TYPE_DEPTH`], which
//!   polymorphic recursion (`f<T>` calling `f<[T]>`, `enum E<T> { A(E<[T]>) }`) reaches, or an
//!   instance chain longer than [`MAX_INSTANCE_DEPTH`], is one diagnostic (E0427), never a hang.
//!
//! Each instance is checked with its types, and a mistake found in several instances is
//! reported once; a generic function nothing instantiates is checked once with opaque types
//! for its parameters, for the mistakes no type could mend ([`Checker::check_unused_generics`]).
//! Bounds are checked where a generic is instantiated (`traits`).

use super::*;

/// How deeply a type argument may nest (`[[[int]]]` is 4 deep).
pub(super) const MAX_TYPE_DEPTH: u32 = 24;

/// How long a chain of generic instances may be, each requested while checking the one
/// before it.
pub(super) const MAX_INSTANCE_DEPTH: u32 = 64;

/// A generic struct or enum declaration and its instances so far.
pub(super) struct GenericType<'a> {
    pub decl: TypeDecl<'a>,
    pub params: Vec<String>,
    /// The type-table entry of each instance, by its type arguments.
    pub instances: HashMap<Vec<Type>, u32>,
    /// Declared in the prelude: its variants are written bare (`Some(3)`).
    pub prelude: bool,
}

#[derive(Copy, Clone)]
pub(super) enum TypeDecl<'a> {
    Struct(&'a StructDecl),
    Enum(&'a EnumDecl),
}

impl TypeDecl<'_> {
    pub fn name(&self) -> &Ident {
        match self {
            TypeDecl::Struct(decl) => &decl.name,
            TypeDecl::Enum(decl) => &decl.name,
        }
    }
}

/// The type parameters of one generic declaration and what is known of each so far, while
/// inferring them at a use.
pub(super) struct Binding {
    pub params: Vec<String>,
    pub found: Vec<Option<Type>>,
}

impl Binding {
    pub fn new(params: &[TypeParam]) -> Binding {
        Binding {
            params: params.iter().map(|p| p.name.name.clone()).collect(),
            found: vec![None; params.len()],
        }
    }

    fn param(&self, name: &str) -> Option<usize> {
        self.params.iter().position(|p| p == name)
    }

    /// The first parameter not inferred yet.
    pub fn missing(&self) -> Option<&str> {
        (self.params.iter().zip(&self.found))
            .find(|(_, found)| found.is_none())
            .map(|(name, _)| name.as_str())
    }

    /// The arguments, once all are known.
    pub fn args(&self) -> Option<Vec<Type>> {
        self.found.iter().copied().collect()
    }

    /// The parameters as a type environment (those not known yet stand for `Error`).
    pub fn env(&self) -> Vec<(String, Type)> {
        (self.params.iter().zip(&self.found))
            .map(|(name, found)| (name.clone(), found.unwrap_or(Type::Error)))
            .collect()
    }

    /// Whether every parameter that `written` mentions is known.
    pub fn covers(&self, written: &TypeExpr) -> bool {
        match written {
            TypeExpr::Named(ident) => self
                .param(&ident.name)
                .is_none_or(|p| self.found[p].is_some()),
            _ => written.children().into_iter().all(|e| self.covers(e)),
        }
    }

    /// Learns parameters by matching the written type `written` with the type `ty` of a value
    /// given for it. What does not match teaches nothing (the caller reports the mismatch).
    pub fn unify(&mut self, written: &TypeExpr, ty: Type, types: &TypeTable) {
        match written {
            TypeExpr::Named(ident) => {
                if let Some(p) = self.param(&ident.name) {
                    if self.found[p].is_none() && ty != Type::Error && ty != Type::Void {
                        self.found[p] = Some(ty);
                    }
                }
            }
            TypeExpr::Array(elem, _) => {
                if let Some(ty) = types.elem(ty) {
                    self.unify(elem, ty, types);
                }
            }
            TypeExpr::Tuple(elems, _) => {
                if let Some(tys) = types.tuple_elems(ty).filter(|t| t.len() == elems.len()) {
                    for (elem, ty) in elems.iter().zip(tys) {
                        self.unify(elem, ty, types);
                    }
                }
            }
            TypeExpr::Applied { name, args, .. } if matches!(name.name.as_str(), "map" | "set") => {
                let Some(info) = types.map_info(ty) else {
                    return;
                };
                let is_set = info.value == Type::Void;
                match args.as_slice() {
                    [key, value] if name.name == "map" && !is_set => {
                        self.unify(key, info.key, types);
                        self.unify(value, info.value, types);
                    }
                    [item] if name.name == "set" && is_set => self.unify(item, info.key, types),
                    _ => {}
                }
            }
            TypeExpr::Applied { name, args, .. } => {
                if let Type::Struct(id) | Type::Enum(id) = ty {
                    let info = &types.structs[id as usize];
                    if info.name == name.name && info.args.len() == args.len() {
                        for (arg, &ty) in args.iter().zip(&info.args) {
                            self.unify(arg, ty, types);
                        }
                    }
                }
            }
            TypeExpr::Fn { params, ret, .. } => {
                let Some((tys, result)) = types.fn_sig(ty).filter(|(t, _)| t.len() == params.len())
                else {
                    return;
                };
                for (param, ty) in params.iter().zip(tys) {
                    self.unify(param, ty, types);
                }
                if let Some(ret) = ret {
                    self.unify(ret, result, types);
                }
            }
        }
    }
}

/// How deeply a type nests: 1 for a scalar, one more for each array, tuple or instance around.
pub(super) fn type_depth(types: &TypeTable, ty: Type) -> u32 {
    match ty {
        Type::Array(_) => 1 + types.elem(ty).map_or(0, |elem| type_depth(types, elem)),
        Type::Tuple(id) => {
            let info = &types.structs[id as usize];
            1 + (info.fields().iter())
                .map(|&(_, ty)| type_depth(types, ty))
                .max()
                .unwrap_or(0)
        }
        Type::Map(_) | Type::Set(_) => {
            let info = types.map_info(ty).expect("a map type");
            1 + type_depth(types, info.key).max(type_depth(types, info.value))
        }
        Type::Struct(id) | Type::Enum(id) => {
            let info = &types.structs[id as usize];
            1 + (info.args.iter())
                .map(|&ty| type_depth(types, ty))
                .max()
                .unwrap_or(0)
        }
        _ => 1,
    }
}

impl<'a> Checker<'a> {
    /// Reports a type parameter declared twice, or named like a type.
    pub(super) fn check_param_names(&mut self, params: &[TypeParam], diags: &mut Vec<Diagnostic>) {
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for param in params {
            if let Some(first) = seen.insert(&param.name.name, param.name.span) {
                diags.push(declared_twice("type parameter", &param.name, first));
            } else if is_builtin_type(&param.name.name) {
                diags.push(
                    Diagnostic::new(
                        "E0303",
                        param.name.span,
                        format!("`{}` is a builtin type", param.name.name),
                    )
                    .label("choose another name for the type parameter"),
                );
            }
        }
    }

    /// The instance of generic type `name` for `args` (made the first time), or `Error` when
    /// the arguments nest too deeply (reported once, at `span`).
    pub(super) fn instantiate_type(
        &mut self,
        name: &str,
        args: Vec<Type>,
        span: Span,
        diags: &mut Vec<Diagnostic>,
    ) -> Type {
        let generic = &self.generic_types[name];
        let kind_of = |decl: TypeDecl, id: u32| match decl {
            TypeDecl::Struct(_) => Type::Struct(id),
            TypeDecl::Enum(_) => Type::Enum(id),
        };
        if let Some(&id) = generic.instances.get(&args) {
            return kind_of(generic.decl, id);
        }
        let (decl, prelude) = (generic.decl, generic.prelude);
        let params = match decl {
            TypeDecl::Struct(d) => &d.type_params,
            TypeDecl::Enum(d) => &d.type_params,
        };
        if !self.bounds_hold(name, params, &args, span, diags) {
            return Type::Error;
        }
        let depth = args.iter().map(|&a| type_depth(&self.types, a)).max();
        if depth.unwrap_or(0) >= MAX_TYPE_DEPTH {
            self.too_deep(name, span, diags);
            return Type::Error;
        }
        let env: Vec<(String, Type)> = generic.params.iter().cloned().zip(args.clone()).collect();
        let mut info = StructInfo::new(name.to_string(), decl.name().span);
        info.args = args.clone();
        info.bare_variants = prelude;
        let id = match decl {
            TypeDecl::Struct(_) => {
                self.types.structs.push(info);
                self.types.structs.len() as u32 - 1
            }
            TypeDecl::Enum(d) => self.push_enum(d, info),
        };
        (self.generic_types.get_mut(name))
            .expect("looked up above")
            .instances
            .insert(args, id);
        // The declaration's types were checked once (`collect_types`): what resolving them
        // again would report is said already, except running out of depth.
        let saved = std::mem::replace(&mut self.type_env, env);
        let mut scratch = Vec::new();
        match decl {
            TypeDecl::Struct(d) => {
                let fields = self.field_types(d, &mut scratch);
                self.types.structs[id as usize].set_fields(fields);
            }
            TypeDecl::Enum(d) => self.set_payloads(d, id, &mut scratch),
        }
        self.type_env = saved;
        diags.extend(scratch.into_iter().filter(|d| d.code == "E0427"));
        kind_of(decl, id)
    }

    /// Reports (once per program) that instantiating `name` does not end.
    pub(super) fn too_deep(&mut self, name: &str, span: Span, diags: &mut Vec<Diagnostic>) {
        if self.too_deep_reported {
            return;
        }
        self.too_deep_reported = true;
        diags.push(
            Diagnostic::new(
                "E0427",
                span,
                format!("instantiating `{name}` never ends"),
            )
            .label("each use asks for an instance with a larger type")
            .note(format!(
                "a generic may not use itself with ever larger type arguments (polymorphic recursion); \
                 type arguments nest at most {MAX_TYPE_DEPTH} deep"
            )),
        );
    }

    /// The signature index of function `decl`'s instance for `args`, made (and queued for
    /// checking) the first time; `None` when instantiation would not end (reported at `span`).
    pub(super) fn instantiate_fn(
        &mut self,
        decl: u32,
        args: Vec<Type>,
        span: Span,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<u32> {
        if let Some(&sig) = self.fn_instances.get(&(decl, args.clone())) {
            return Some(sig);
        }
        let fn_decl = self.decls[decl as usize];
        if !self.bounds_hold(&fn_decl.name.name, &fn_decl.type_params, &args, span, diags) {
            return None;
        }
        let depth = self.current_depth + 1;
        let type_depth = args.iter().map(|&a| type_depth(&self.types, a)).max();
        if depth > MAX_INSTANCE_DEPTH || type_depth.unwrap_or(0) >= MAX_TYPE_DEPTH {
            self.too_deep(&fn_decl.name.name, span, diags);
            return None;
        }
        let env: Vec<(String, Type)> = (fn_decl.type_params.iter())
            .map(|p| p.name.name.clone())
            .zip(args.clone())
            .collect();
        let saved = std::mem::replace(&mut self.type_env, env);
        let mut scratch = Vec::new();
        let params = (fn_decl.params.iter())
            .map(|p| self.resolve_type(&p.ty, false, &mut scratch))
            .collect();
        let ret = match &fn_decl.ret {
            Some(ty) => RetState::Known(self.resolve_type(ty, true, &mut scratch)),
            None => RetState::Pending,
        };
        self.type_env = saved;
        diags.extend(scratch.into_iter().filter(|d| d.code == "E0427"));
        let index = self.sigs.len() as u32;
        self.sigs.push(Sig {
            decl,
            args: args.clone(),
            depth,
            params,
            ret,
            inferred_cleanly: true,
        });
        self.fn_instances.insert((decl, args), index);
        Some(index)
    }

    /// Runs `f` with the type environment and instance depth of signature `index`.
    pub(super) fn in_instance<T>(&mut self, index: usize, f: impl FnOnce(&mut Self) -> T) -> T {
        let decl = self.decls[self.sigs[index].decl as usize];
        let env = (decl.type_params.iter())
            .map(|p| p.name.name.clone())
            .zip(self.sigs[index].args.iter().copied())
            .collect();
        let saved_env = std::mem::replace(&mut self.type_env, env);
        if let Some(target) = &decl.self_type {
            // `Self` in the body of an `impl` block's function.
            let ty = self.resolve_type(target, false, &mut Vec::new());
            self.type_env.push(("Self".to_string(), ty));
        }
        let saved_depth = std::mem::replace(&mut self.current_depth, self.sigs[index].depth);
        let result = f(self);
        self.type_env = saved_env;
        self.current_depth = saved_depth;
        result
    }

    /// Checks, once, the body of every generic function of the program that nothing
    /// instantiated, with each type parameter standing for a type of its own that has no
    /// operations, and reports only the mistakes that no type argument could mend: unknown
    /// variables, types and functions. Then forgets everything that check made (its
    /// signatures, bodies and types), so nothing of it is lowered.
    pub(super) fn check_unused_generics(&mut self, diags: &mut Vec<Diagnostic>) {
        let unused: Vec<u32> = (0..self.prelude_from as u32)
            .filter(|&decl| !self.decls[decl as usize].type_params.is_empty())
            .filter(|&decl| !self.fn_instances.keys().any(|(d, _)| *d == decl))
            .collect();
        if unused.is_empty() {
            return;
        }
        let (sigs, types) = (self.sigs.len(), self.types.mark());
        let mut found = Vec::new();
        for decl in unused {
            let fn_decl = self.decls[decl as usize];
            let args: Vec<Type> = (fn_decl.type_params.iter())
                .map(|param| {
                    let id = self.types.structs.len() as u32;
                    let info = StructInfo::new(param.name.name.clone(), param.name.span);
                    self.types.structs.push(info);
                    Type::Struct(id)
                })
                .collect();
            // Its bounds hold: the opaque types stand for types that meet them.
            let saved = std::mem::take(&mut self.trait_impls);
            let mut with_bounds = saved.clone();
            for (param, arg) in fn_decl.type_params.iter().zip(&args) {
                for bound in &param.bounds {
                    with_bounds.insert((bound.name.clone(), self.types.name(*arg)));
                }
            }
            self.trait_impls = with_bounds;
            if let Some(index) = self.instantiate_fn(decl, args, fn_decl.name.span, &mut found) {
                self.check_instance(index as usize, &mut found);
            }
            self.trait_impls = saved;
        }
        let mendable = |d: &Diagnostic| match d.code {
            "E0301" | "E0305" => true,
            "E0302" => d.message.starts_with("unknown function"),
            _ => false,
        };
        merge_new(diags, found.into_iter().filter(mendable).collect());
        self.sigs.truncate(sigs);
        self.fn_instances
            .retain(|_, &mut index| (index as usize) < sigs);
        self.types.truncate(types);
        for generic in self.generic_types.values_mut() {
            generic
                .instances
                .retain(|_, &mut id| (id as usize) < types.0);
        }
    }

    /// How an instance is named in the IR and in messages: `first<int>`.
    pub(super) fn instance_name(&self, index: usize) -> String {
        let sig = &self.sigs[index];
        let name = &self.decls[sig.decl as usize].name.name;
        if sig.args.is_empty() {
            return name.clone();
        }
        let args: Vec<String> = sig.args.iter().map(|&a| self.types.name(a)).collect();
        format!("{name}<{}>", args.join(", "))
    }
}

/// Adds the diagnostics of `found` that `diags` does not hold already (an instance of a
/// generic function reports what another instance did once).
pub(super) fn merge_new(diags: &mut Vec<Diagnostic>, found: Vec<Diagnostic>) {
    for diag in found {
        let seen = diags
            .iter()
            .any(|d| d.code == diag.code && d.span == diag.span && d.message == diag.message);
        if !seen {
            diags.push(diag);
        }
    }
}
