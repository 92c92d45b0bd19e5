//! Traits with static dispatch: `trait Shape { fn area(self) -> float; fn name(self) -> string
//! { ... } }`, `impl Shape for Circle { ... }`, bounds `fn f<T: Shape + Display>(T x)`, and
//! `Display` (a type's `fmt` prints it).
//!
//! An `impl Trait for Type` block is an `impl` block of `Type` (its functions become `Type::f`)
//! that must give every function of the trait without a body, may replace the ones with a body
//! (the defaults, which are copied into the type otherwise), gives no other function, and
//! repeats each signature with `Self` for the type. Dispatch is static: a generic body calling
//! `x.area()` is checked per instance, where `x` has a concrete type with its own `area`, so a
//! bound is a promise checked where a generic is instantiated (E0435), not needed to find the
//! function.
//!
//! The built-in traits: `Display`, `Clone` and `Debug`, which every type has, `Eq`, which every
//! type has but functions and the values holding one, and `Ord` (`int`, `float`, `string`: the
//! types `<` takes). A program may `impl Display for T` with
//! `fn fmt(self) -> string`; then `print`, `println`, `eprintln`, `to_string` and string `+` of
//! a `T` use it. What this module does not do: `fmt` for a `T` inside an array, tuple or other
//! value (those print as always), traits with type parameters, or calls `Trait::f(x)`.

use super::*;

/// The traits every program has.
pub(super) const BUILTIN_TRAITS: &[&str] = &["Display", "Eq", "Ord", "Clone", "Debug", "Hash"];

/// The functions of every `impl Trait for Type` block as functions of their own (see
/// [`method_decl`]), the defaults the block does not replace included, and the blocks' trait
/// and type names. Reports blocks that do not fit their trait.
pub(super) fn trait_impl_functions(
    file: &File,
    diags: &mut Vec<Diagnostic>,
) -> (Vec<FnDecl>, Vec<(String, String)>) {
    let traits: HashMap<&str, &TraitDecl> = (file.items.iter())
        .filter_map(|item| match item {
            Item::Trait(decl) => Some((decl.name.name.as_str(), decl)),
            _ => None,
        })
        .collect();
    let mut functions = Vec::new();
    let mut implemented = Vec::new();
    for item in &file.items {
        let Item::Impl(block) = item else { continue };
        let Some(trait_name) = &block.trait_name else {
            continue;
        };
        let type_name = type_expr_name(&block.target).to_string();
        if BUILTIN_TRAITS.contains(&trait_name.name.as_str()) {
            // `impl Display for T`: a `fmt(self) -> string`, and nothing else.
            if trait_name.name == "Display" {
                check_display(block, trait_name, diags);
            }
            functions.extend(block.methods.iter().map(|m| method_decl(block, m)));
            implemented.push((trait_name.name.clone(), type_name));
            continue;
        }
        let Some(trait_decl) = traits.get(trait_name.name.as_str()) else {
            diags.push(unknown_trait(trait_name));
            continue;
        };
        for method in &block.methods {
            let wanted = (trait_decl.methods.iter()).find(|t| t.decl.name.name == method.name.name);
            match wanted {
                None => diags.push(
                    Diagnostic::new(
                        "E0433",
                        method.name.span,
                        format!(
                            "`{}` is not a function of trait `{}`",
                            method.name.name, trait_name.name
                        ),
                    )
                    .label("not in the trait")
                    .secondary(trait_decl.name.span, "the trait is declared here")
                    .note("put it in an `impl` block of the type alone, or add it to the trait"),
                ),
                Some(wanted) if !same_signature(&wanted.decl, method, &block.target) => diags.push(
                    Diagnostic::new(
                        "E0434",
                        method.name.span,
                        format!(
                            "`{}` does not have the signature trait `{}` gives it",
                            method.name.name, trait_name.name
                        ),
                    )
                    .label("parameters or result differ from the trait's")
                    .secondary(wanted.decl.name.span, "the trait's signature"),
                ),
                Some(_) => {}
            }
            functions.push(method_decl(block, method));
        }
        for wanted in &trait_decl.methods {
            let given = (block.methods.iter()).any(|m| m.name.name == wanted.decl.name.name);
            if given {
                continue;
            }
            if wanted.has_body {
                functions.push(method_decl(block, &wanted.decl));
            } else {
                diags.push(
                    Diagnostic::new(
                        "E0432",
                        block.target.span(),
                        format!(
                            "`impl {} for {type_name}` does not give `{}`",
                            trait_name.name, wanted.decl.name.name
                        ),
                    )
                    .label(format!("`{}` missing", wanted.decl.name.name))
                    .secondary(wanted.decl.name.span, "the trait's function without a body"),
                );
            }
        }
        implemented.push((trait_name.name.clone(), type_name));
    }
    (functions, implemented)
}

fn unknown_trait(name: &Ident) -> Diagnostic {
    Diagnostic::new("E0436", name.span, format!("unknown trait `{}`", name.name))
        .label("not a declared trait")
        .note("the built-in traits are Display, Eq, Ord, Clone and Debug")
}

/// Reports an `impl Display` block without exactly `fn fmt(self) -> string`.
fn check_display(block: &ImplDecl, trait_name: &Ident, diags: &mut Vec<Diagnostic>) {
    let fits = |m: &FnDecl| {
        m.name.name == "fmt"
            && m.params.len() == 1
            && m.params[0].name.name == "self"
            && matches!(&m.ret, Some(TypeExpr::Named(t)) if t.name == "string")
    };
    if block.methods.len() != 1 || !fits(&block.methods[0]) {
        diags.push(
            Diagnostic::new(
                "E0434",
                trait_name.span,
                "`impl Display` gives exactly `fn fmt(self) -> string`",
            )
            .label("not the functions `Display` has")
            .note("`fmt` returns the text the value prints as"),
        );
    }
}

/// Whether `given` has the parameters and result `wanted` (a trait's function) has, `Self`
/// standing for `target` in both.
fn same_signature(wanted: &FnDecl, given: &FnDecl, target: &TypeExpr) -> bool {
    let types = |decl: &FnDecl| -> Vec<String> {
        let mut written: Vec<TypeExpr> = decl.params.iter().map(|p| p.ty.clone()).collect();
        written.extend(decl.ret.clone());
        written
            .iter_mut()
            .map(|ty| {
                replace_self(ty, target);
                written_text(ty)
            })
            .collect()
    };
    wanted.params.len() == given.params.len()
        && wanted.ret.is_some() == given.ret.is_some()
        && types(wanted) == types(given)
        && wanted.params.first().is_some_and(is_self_param)
            == given.params.first().is_some_and(is_self_param)
}

/// A written type as text, for comparing two of them (and for messages).
pub(super) fn written_text(ty: &TypeExpr) -> String {
    match ty {
        TypeExpr::Named(name) => name.name.clone(),
        TypeExpr::Array(elem, _) => format!("[{}]", written_text(elem)),
        TypeExpr::Tuple(elems, _) => {
            let elems: Vec<String> = elems.iter().map(written_text).collect();
            format!("({})", elems.join(", "))
        }
        TypeExpr::Applied { name, args, .. } => {
            let args: Vec<String> = args.iter().map(written_text).collect();
            format!("{}<{}>", name.name, args.join(", "))
        }
        TypeExpr::Fn { params, ret, .. } => {
            let params: Vec<String> = params.iter().map(written_text).collect();
            match ret {
                Some(ret) => format!("fn({}) -> {}", params.join(", "), written_text(ret)),
                None => format!("fn({})", params.join(", ")),
            }
        }
    }
}

impl Checker<'_> {
    /// Reports bounds naming no trait, in every declaration's type parameters.
    pub(super) fn check_bound_names(&self, params: &[TypeParam], diags: &mut Vec<Diagnostic>) {
        for bound in params.iter().flat_map(|p| &p.bounds) {
            if !self.trait_names.contains(&bound.name)
                && !BUILTIN_TRAITS.contains(&bound.name.as_str())
            {
                diags.push(unknown_trait(bound));
            }
        }
    }

    /// Whether a value of type `ty` has trait `name`.
    fn has_trait(&self, ty: Type, name: &str) -> bool {
        match name {
            "Display" | "Clone" | "Debug" => true,
            // Functions have no equality (E0441), nor do values that hold one.
            "Eq" => self.types.comparable(ty),
            "Ord" => matches!(ty, Type::Int | Type::Float | Type::Str | Type::Error),
            // What a map key or set item may be.
            "Hash" => self.types.key_problem(ty).is_none(),
            _ => match ty {
                Type::Struct(id) | Type::Enum(id) => {
                    let type_name = &self.types.structs[id as usize].name;
                    self.trait_impls
                        .contains(&(name.to_string(), type_name.clone()))
                }
                Type::Error => true,
                _ => false,
            },
        }
    }

    /// Reports (E0435) a type argument that lacks a trait its parameter's bounds ask for:
    /// `params` of generic `what`, given `args`, at a use at `span`. True when all are met.
    pub(super) fn bounds_hold(
        &self,
        what: &str,
        params: &[TypeParam],
        args: &[Type],
        span: Span,
        diags: &mut Vec<Diagnostic>,
    ) -> bool {
        for (param, &arg) in params.iter().zip(args) {
            for bound in &param.bounds {
                let known = self.trait_names.contains(&bound.name)
                    || BUILTIN_TRAITS.contains(&bound.name.as_str());
                if known && !self.has_trait(arg, &bound.name) {
                    let found = self.types.name(arg);
                    diags.push(
                        Diagnostic::new(
                            "E0435",
                            span,
                            format!("`{found}` does not implement `{}`", bound.name),
                        )
                        .label(format!(
                            "`{what}` needs `{}: {}`, and here `{}` is `{found}`",
                            param.name.name, bound.name, param.name.name
                        ))
                        .note(match arg {
                            _ if bound.name == "Hash" => "map keys and set items are `Hash`: ints, bools, strings, and tuples, structs and enums of them (not recursive)".to_string(),
                            Type::Struct(_) | Type::Enum(_) => {
                                format!("implement it: `impl {} for {found} {{ ... }}`", bound.name)
                            }
                            _ => "only the program's structs and enums implement its traits"
                                .to_string(),
                        }),
                    );
                    return false;
                }
            }
        }
        true
    }

    /// The `fmt` of an `impl Display` block of the type `ty`, if it has one.
    pub(super) fn display_fmt(&self, ty: Type) -> Option<u32> {
        let (Type::Struct(id) | Type::Enum(id)) = ty else {
            return None;
        };
        let type_name = self.types.structs[id as usize].name.clone();
        if !self
            .trait_impls
            .contains(&("Display".to_string(), type_name))
        {
            return None;
        }
        self.method_of(ty, "fmt")
    }
}

impl BodyChecker<'_, '_> {
    /// `value` as its `impl Display` block's `fmt` renders it, when its type has one; else
    /// `value` itself.
    pub(super) fn displayed(&mut self, value: TExpr) -> TExpr {
        let Some(decl) = self.cx.display_fmt(value.ty) else {
            return value;
        };
        let span = value.span;
        let fn_decl = self.cx.decls[decl as usize];
        let callee = Ident {
            name: fn_decl.name.name.clone(),
            span,
        };
        let func = if fn_decl.type_params.is_empty() {
            self.cx.plain_sig(decl, span, self.diags)
        } else {
            let mut binding = generics::Binding::new(&fn_decl.type_params);
            binding.unify(&fn_decl.params[0].ty, value.ty, &self.cx.types);
            match binding.args() {
                Some(args) => self.cx.instantiate_fn(decl, args, span, self.diags),
                None => None,
            }
        };
        match func {
            Some(func) => self.user_call_typed(func, &callee, vec![value], span),
            None => TExpr::error(span),
        }
    }
}
