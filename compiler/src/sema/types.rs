//! The types the checker works with, and the typed tree it hands to the lowering.
//!
//! The typed tree mirrors the AST with every name resolved (variables are [`VarId`]s local to
//! their function, callees are function indices or [`Builtin`]s) and every expression typed.
//! It exists only between `check` and `lower`; no backend sees it.

use std::collections::HashMap;

use crate::diag::Span;
use crate::ir::{ArrayId, FieldDef, MapDef, MapId, RtFunc, StructDef, StructId, StructKind, Ty};
use crate::syntax::ast::{BinOp, UnOp};

/// A type during checking. `Error` stands for "already reported": it is compatible with
/// everything, so one mistake produces one diagnostic. Array, struct and tuple types are indices
/// into the program's [`TypeTable`] (arrays and tuples are interned, so equal types have equal
/// indices). A tuple is a struct without a name to the backends: its index is into the same
/// table as structs', and it lowers to an IR struct type whose fields are its elements.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    Int,
    Bool,
    Float,
    Str,
    Void,
    Error,
    Array(u32),
    Struct(u32),
    /// `(A, B, ...)`: an index into [`TypeTable::structs`], whose entry has no name.
    Tuple(u32),
    /// A declared enum: an index into [`TypeTable::structs`], whose entry is the enum type
    /// (kind `Enum`) and lists the entries of its variants.
    Enum(u32),
    /// `fn(A, B) -> R`: an index into [`TypeTable::structs`], whose entry (kind `FnType`) has
    /// the parameter types as its fields `0`, `1`, ... and the result type as `ret` (none for
    /// `void`); see [`TypeTable::fn_sig`].
    Fn(u32),
    /// `map<K, V>`: an index into [`TypeTable::maps`].
    Map(u32),
    /// `set<T>`: an index into [`TypeTable::maps`], whose entry has the value type `void`.
    Set(u32),
}

impl Type {
    /// Whether a value of type `self` may be used where `other` is expected.
    pub fn fits(self, other: Type) -> bool {
        self == other || self == Type::Error || other == Type::Error
    }

    pub fn to_ir(self) -> Ty {
        match self {
            Type::Int | Type::Error => Ty::Int,
            Type::Bool => Ty::Bool,
            Type::Float => Ty::Float,
            Type::Str => Ty::Str,
            Type::Void => Ty::Void,
            Type::Array(id) => Ty::Array(ArrayId(id)),
            Type::Struct(id) | Type::Tuple(id) | Type::Enum(id) | Type::Fn(id) => {
                Ty::Struct(StructId(id))
            }
            Type::Map(id) | Type::Set(id) => Ty::Map(MapId(id)),
        }
    }

    pub fn is_heap(self) -> bool {
        matches!(
            self,
            Type::Str
                | Type::Array(_)
                | Type::Struct(_)
                | Type::Tuple(_)
                | Type::Enum(_)
                | Type::Fn(_)
                | Type::Map(_)
                | Type::Set(_)
        )
    }
}

/// A declared struct: its name, where it is declared, and its fields in order.
#[derive(Clone, Debug)]
pub struct StructInfo {
    pub name: String,
    pub span: Span,
    /// A struct or tuple, an enum type, or one of an enum's variants (see `ir::StructKind`).
    pub kind: StructKind,
    /// For an enum type, the entries of its variants, in order (their tags).
    pub variants: Vec<u32>,
    /// For an instance of a generic struct or enum, its type arguments (`Pair<int, string>`);
    /// the name stays the declared one (`Pair`), which is what values print as.
    pub args: Vec<Type>,
    /// For an enum type: whether its variants are written without the enum's name (the
    /// prelude's `Some`, `None`, `Ok`, `Err`).
    pub bare_variants: bool,
    fields: Vec<(String, Type)>,
    /// The position of each field name in `fields` (the first, if declared twice).
    positions: HashMap<String, usize>,
}

impl StructInfo {
    /// A struct with no fields yet.
    pub fn new(name: String, span: Span) -> StructInfo {
        StructInfo {
            name,
            span,
            kind: StructKind::Plain,
            variants: Vec::new(),
            args: Vec::new(),
            bare_variants: false,
            fields: Vec::new(),
            positions: HashMap::new(),
        }
    }

    /// The fields, in declaration order.
    pub fn fields(&self) -> &[(String, Type)] {
        &self.fields
    }

    /// Sets the fields, in declaration order.
    pub fn set_fields(&mut self, fields: Vec<(String, Type)>) {
        self.positions.clear();
        for (index, (name, _)) in fields.iter().enumerate() {
            self.positions.entry(name.clone()).or_insert(index);
        }
        self.fields = fields;
    }

    /// The position of the field `name`, in constant time (structs may have very many fields).
    pub fn position(&self, name: &str) -> Option<usize> {
        self.positions.get(name).copied()
    }
}

/// Every array, struct and tuple type of the program.
#[derive(Clone, Debug, Default)]
pub struct TypeTable {
    /// `arrays[i]` is the element type of `Type::Array(i)`.
    pub arrays: Vec<Type>,
    array_ids: HashMap<Type, u32>,
    /// Declared structs (first, in declaration order) and tuple types (without a name, fields
    /// `0`, `1`, ...).
    pub structs: Vec<StructInfo>,
    tuple_ids: HashMap<Vec<Type>, u32>,
    fn_ids: HashMap<(Vec<Type>, Type), u32>,
    /// Map and set types: `maps[i]` is the key and value type of `Type::Map(i)`, or the item
    /// type and `void` of `Type::Set(i)`.
    pub maps: Vec<MapInfo>,
    map_ids: HashMap<(Type, Type), u32>,
}

/// A map or set type of [`TypeTable::maps`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct MapInfo {
    pub key: Type,
    /// `void` for a set.
    pub value: Type,
    /// A map's entry type, the tuple `(K, V)` its iteration yields (`None` for a set).
    pub entry: Option<Type>,
}

impl TypeTable {
    /// Whether a value of type `ty` may hold a function value anywhere inside it (in a field,
    /// an element, a payload, a key or a value).
    pub fn holds_function(&self, ty: Type) -> bool {
        let mut seen = std::collections::HashSet::new();
        let mut pending = vec![ty];
        while let Some(ty) = pending.pop() {
            if !seen.insert(ty) {
                continue;
            }
            match ty {
                Type::Fn(_) => return true,
                Type::Array(id) => pending.push(self.arrays[id as usize]),
                Type::Map(id) | Type::Set(id) => {
                    let info = self.maps[id as usize];
                    pending.extend([info.key, info.value]);
                }
                Type::Struct(id) | Type::Tuple(id) | Type::Enum(id) => {
                    let info = &self.structs[id as usize];
                    pending.extend(info.fields().iter().map(|(_, ty)| *ty));
                    pending.extend(info.variants.iter().map(|&v| Type::Struct(v)));
                }
                Type::Int | Type::Bool | Type::Float | Type::Str | Type::Void | Type::Error => {}
            }
        }
        false
    }

    /// The array type with elements of type `elem` (interned).
    pub fn array_of(&mut self, elem: Type) -> Type {
        if let Some(&id) = self.array_ids.get(&elem) {
            return Type::Array(id);
        }
        let id = self.arrays.len() as u32;
        self.arrays.push(elem);
        self.array_ids.insert(elem, id);
        Type::Array(id)
    }

    /// The map type `map<key, value>` (interned); with `value` void, the set type `set<key>`.
    pub fn map_of(&mut self, key: Type, value: Type) -> Type {
        let wrap = |id| {
            if value == Type::Void {
                Type::Set(id)
            } else {
                Type::Map(id)
            }
        };
        if let Some(&id) = self.map_ids.get(&(key, value)) {
            return wrap(id);
        }
        let entry = (value != Type::Void).then(|| self.tuple_of(vec![key, value]));
        let id = self.maps.len() as u32;
        self.maps.push(MapInfo { key, value, entry });
        self.map_ids.insert((key, value), id);
        wrap(id)
    }

    /// The map or set type of a `Type::Map` or `Type::Set`.
    pub fn map_info(&self, ty: Type) -> Option<MapInfo> {
        match ty {
            Type::Map(id) | Type::Set(id) => Some(self.maps[id as usize]),
            _ => None,
        }
    }

    /// Why `ty` cannot be the key type of a map or the item type of a set, if it cannot: keys
    /// are ints, bools, strings, and tuples, structs and enums made of keys, without recursion
    /// (the runtime hashes, compares and orders keys by recursion over their type). A type
    /// parameter of a generic checked on its own stands for a struct without fields, a key.
    pub fn key_problem(&self, ty: Type) -> Option<String> {
        self.key_problem_in(ty, &mut Vec::new())
    }

    fn key_problem_in(&self, ty: Type, open: &mut Vec<u32>) -> Option<String> {
        match ty {
            Type::Int | Type::Bool | Type::Str | Type::Error => None,
            Type::Tuple(id) | Type::Struct(id) | Type::Enum(id) => {
                if open.contains(&id) {
                    return Some(format!("`{}` is recursive", self.name(ty)));
                }
                open.push(id);
                let info = &self.structs[id as usize];
                let mut parts: Vec<Type> = info.fields().iter().map(|&(_, t)| t).collect();
                if let Type::Enum(_) = ty {
                    parts = (info.variants.iter())
                        .flat_map(|&v| self.payload(v))
                        .collect();
                }
                let problem = (parts.into_iter()).find_map(|p| self.key_problem_in(p, open));
                open.pop();
                problem
            }
            _ => Some(format!("`{}` cannot be a key", self.name(ty))),
        }
    }

    /// How many struct, array and map types there are: a mark for [`TypeTable::truncate`].
    pub fn mark(&self) -> (usize, usize, usize) {
        (self.structs.len(), self.arrays.len(), self.maps.len())
    }

    /// Forgets every struct, tuple, array and map type made after `mark` (types made only to
    /// check something, and not to be lowered).
    pub fn truncate(&mut self, (structs, arrays, maps): (usize, usize, usize)) {
        self.structs.truncate(structs);
        self.maps.truncate(maps);
        self.map_ids.retain(|_, &mut id| (id as usize) < maps);
        self.arrays.truncate(arrays);
        self.array_ids.retain(|_, &mut id| (id as usize) < arrays);
        self.tuple_ids.retain(|_, &mut id| (id as usize) < structs);
        self.fn_ids.retain(|_, &mut id| (id as usize) < structs);
    }

    /// The tuple type with elements of types `elems` (interned).
    pub fn tuple_of(&mut self, elems: Vec<Type>) -> Type {
        if let Some(&id) = self.tuple_ids.get(&elems) {
            return Type::Tuple(id);
        }
        let id = self.structs.len() as u32;
        let mut info = StructInfo::new(String::new(), Span::default());
        info.set_fields(
            elems
                .iter()
                .enumerate()
                .map(|(index, &ty)| (index.to_string(), ty))
                .collect(),
        );
        self.structs.push(info);
        self.tuple_ids.insert(elems, id);
        Type::Tuple(id)
    }

    /// The function type `fn(params) -> ret` (interned).
    pub fn fn_of(&mut self, params: Vec<Type>, ret: Type) -> Type {
        let key = (params, ret);
        if let Some(&id) = self.fn_ids.get(&key) {
            return Type::Fn(id);
        }
        let id = self.structs.len() as u32;
        let mut info = StructInfo::new(String::new(), Span::default());
        info.kind = StructKind::FnType;
        let mut fields: Vec<(String, Type)> = (key.0.iter().enumerate())
            .map(|(index, &ty)| (index.to_string(), ty))
            .collect();
        if ret != Type::Void {
            fields.push(("ret".into(), ret));
        }
        info.set_fields(fields);
        self.structs.push(info);
        self.fn_ids.insert(key, id);
        Type::Fn(id)
    }

    /// The parameter and result types of a function type.
    pub fn fn_sig(&self, ty: Type) -> Option<(Vec<Type>, Type)> {
        let Type::Fn(id) = ty else {
            return None;
        };
        let fields = self.structs[id as usize].fields();
        let mut params: Vec<Type> = fields.iter().map(|&(_, ty)| ty).collect();
        let ret = match fields.last() {
            Some((name, _)) if name == "ret" => params.pop().unwrap_or(Type::Void),
            _ => Type::Void,
        };
        Some((params, ret))
    }

    /// Whether values of `ty` can be compared with `==`: everything but functions, and
    /// arrays, structs, tuples and enums holding one.
    pub fn comparable(&self, ty: Type) -> bool {
        self.function_inside(ty, &mut Vec::new()).is_none()
    }

    /// A function type that `ty` is or holds (through arrays, fields and payloads), if any.
    pub fn function_inside(&self, ty: Type, seen: &mut Vec<u32>) -> Option<Type> {
        match ty {
            Type::Fn(_) => Some(ty),
            Type::Array(id) => self.function_inside(self.arrays[id as usize], seen),
            Type::Map(id) => self.function_inside(self.maps[id as usize].value, seen),
            Type::Struct(id) | Type::Tuple(id) | Type::Enum(id) => {
                if seen.contains(&id) {
                    return None;
                }
                seen.push(id);
                let info = &self.structs[id as usize];
                let fields = info.fields().iter().map(|&(_, ty)| ty);
                let payloads = (info.variants.iter())
                    .flat_map(|&v| self.structs[v as usize].fields().iter().map(|&(_, ty)| ty));
                let inside: Vec<Type> = fields.chain(payloads).collect();
                inside
                    .into_iter()
                    .find_map(|field| self.function_inside(field, seen))
            }
            _ => None,
        }
    }

    /// The element types of a tuple type.
    pub fn tuple_elems(&self, ty: Type) -> Option<Vec<Type>> {
        match ty {
            Type::Tuple(id) => Some(
                self.structs[id as usize]
                    .fields()
                    .iter()
                    .map(|&(_, ty)| ty)
                    .collect(),
            ),
            _ => None,
        }
    }

    /// The variants of an enum type, as entries of `structs` (whose position is the tag).
    pub fn variants(&self, ty: Type) -> &[u32] {
        match ty {
            Type::Enum(id) => &self.structs[id as usize].variants,
            _ => &[],
        }
    }

    /// The payload types of variant entry `variant` (its fields after the tag).
    pub fn payload(&self, variant: u32) -> Vec<Type> {
        (self.structs[variant as usize].fields.iter().skip(1))
            .map(|&(_, ty)| ty)
            .collect()
    }

    /// How a variant is written in source: `Shape::Circle`.
    pub fn variant_name(&self, variant: u32) -> String {
        let info = &self.structs[variant as usize];
        match info.kind {
            StructKind::Variant { of, .. } if !self.structs[of.0 as usize].bare_variants => {
                format!("{}::{}", self.structs[of.0 as usize].name, info.name)
            }
            _ => info.name.clone(),
        }
    }

    /// The element type of an array type.
    pub fn elem(&self, ty: Type) -> Option<Type> {
        match ty {
            Type::Array(id) => Some(self.arrays[id as usize]),
            _ => None,
        }
    }

    /// How the type is written in source, for messages: `int`, `[string]`, `Point`.
    pub fn name(&self, ty: Type) -> String {
        match ty {
            Type::Int => "int".into(),
            Type::Bool => "bool".into(),
            Type::Float => "float".into(),
            Type::Str => "string".into(),
            Type::Void => "void".into(),
            Type::Error => "{unknown}".into(),
            Type::Array(id) => format!("[{}]", self.name(self.arrays[id as usize])),
            Type::Map(id) => {
                let info = self.maps[id as usize];
                format!("map<{}, {}>", self.name(info.key), self.name(info.value))
            }
            Type::Set(id) => format!("set<{}>", self.name(self.maps[id as usize].key)),
            Type::Struct(id) | Type::Enum(id) => {
                let info = &self.structs[id as usize];
                if info.args.is_empty() {
                    info.name.clone()
                } else {
                    let args: Vec<String> = info.args.iter().map(|&arg| self.name(arg)).collect();
                    format!("{}<{}>", info.name, args.join(", "))
                }
            }
            Type::Tuple(id) => {
                let elems: Vec<String> = self.structs[id as usize]
                    .fields()
                    .iter()
                    .map(|&(_, ty)| self.name(ty))
                    .collect();
                format!("({})", elems.join(", "))
            }
            Type::Fn(_) => {
                let (params, ret) = self.fn_sig(ty).unwrap_or((Vec::new(), Type::Void));
                let params: Vec<String> = params.iter().map(|&p| self.name(p)).collect();
                match ret {
                    Type::Void => format!("fn({})", params.join(", ")),
                    ret => format!("fn({}) -> {}", params.join(", "), self.name(ret)),
                }
            }
        }
    }

    /// The IR's table of map and set types.
    pub fn maps_to_ir(&self) -> Vec<MapDef> {
        (self.maps.iter())
            .map(|info| MapDef {
                key: info.key.to_ir(),
                value: info.value.to_ir(),
                entry: info.entry.map(|entry| match entry.to_ir() {
                    Ty::Struct(id) => id,
                    _ => unreachable!("an entry type is a tuple"),
                }),
            })
            .collect()
    }

    /// The IR's tables for these types.
    pub fn to_ir(&self) -> (Vec<Ty>, Vec<StructDef>) {
        let arrays = self.arrays.iter().map(|t| t.to_ir()).collect();
        let structs = self
            .structs
            .iter()
            .enumerate()
            .map(|(id, s)| StructDef {
                kind: s.kind,
                // An instance is named with its type arguments (`Pair<int, string>`), so that
                // every struct of the IR has its own name; it prints as `Pair { ... }`.
                name: if s.kind == StructKind::FnType {
                    self.name(Type::Fn(id as u32))
                } else if s.args.is_empty() {
                    s.name.clone()
                } else {
                    self.name(Type::Struct(id as u32))
                },
                fields: s
                    .fields
                    .iter()
                    .map(|(name, ty)| FieldDef {
                        name: name.clone(),
                        ty: ty.to_ir(),
                    })
                    .collect(),
            })
            .collect();
        (arrays, structs)
    }
}

/// A variable of one function, numbered from 0 (parameters first).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct VarId(pub u32);

/// What a call of a builtin function does, once its argument types are known.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Builtin {
    Print,
    Println,
    Eprintln,
    Exit,
    /// `len` of an array (strings use `Rt(StrLen)`).
    ArrayLen,
    /// `to_string` (and the implicit rendering of `+`) of a value of the argument's type.
    ToString,
    ToFloat,
    ToInt,
    /// `array_fill(n, v)`: the runtime call, with the array's descriptor in front.
    ArrayFill,
    /// A runtime function taking exactly the call's arguments.
    Rt(RtFunc),
    /// A runtime function taking a constant code, which picks what it computes, before the
    /// call's arguments (`asin(x)` is `keel_float_math(0, x)`).
    RtCoded(RtFunc, i64),
    /// `__map_new()`: an empty map or set of the call's type (`keel_map_new(desc)`).
    MapNew,
    /// `__set_insert(s, x)`: `keel_map_insert(s, x, 0)`.
    SetInsert,
    /// `__map_keys(m)` or `__map_values(m)`: the runtime call with the result array's
    /// descriptor after the map.
    MapArray(RtFunc),
    /// `__session_set(slot, x)` (REPL entries only): `keel_session_set(slot, x, desc)`.
    SessionSet,
    /// `__json_encode(x)`: `keel_json_encode` with the descriptor of `x`'s type first.
    JsonEncode,
}

/// The names of the builtin functions, which user functions may not reuse.
pub const BUILTIN_NAMES: &[&str] = &[
    "print",
    "println",
    "eprintln",
    "exit",
    "len",
    "to_string",
    "to_float",
    "to_int",
    "abs",
    "min",
    "max",
    "pow",
    "sqrt",
    "floor",
    "ceil",
    "round",
    "sin",
    "cos",
    "tan",
    "atan2",
    "exp",
    "ln",
    "parse_int",
    "parse_float",
    "split",
    "trim",
    "contains",
    "starts_with",
    "ends_with",
    "to_upper",
    "to_lower",
    "replace",
    "substring",
    "char_at",
    "index_of",
    "join",
    "input",
    "args",
    "push",
    "pop",
    "slice",
    "concat",
    "reverse",
    "sort",
    "array_fill",
    "clock_ms",
    "live_retries",
    "__file_read",
    "__str_words",
    "__factorial",
    "__fibonacci",
    "__binomial",
    "__int_sqrt",
    "__int_log2",
    "__modulo",
    "__next_multiple_of",
    "__is_prime",
    "__next_prime",
    "__abs_diff",
    "__string_bytes_len",
    "__string_to_bytes",
    "__string_byte_at",
    "__json_encode",
    "__array_insert_at",
    "__array_remove_at",
    "__array_swap",
    "__array_set_at",
    "__map_new",
    "__session_get",
    "__session_set",
    "__map_insert",
    "__set_insert",
    "__map_remove",
    "__map_find",
    "__map_key",
    "__map_value",
    "__map_sort",
    "__map_keys",
    "__map_values",
    "__file_write",
    "__file_append",
    "file_exists",
    "__file_remove",
    "__env_var",
    "__read_line",
    "__io_error",
    "sleep_ms",
    "asin",
    "acos",
    "atan",
    "sinh",
    "cosh",
    "tanh",
    "asinh",
    "acosh",
    "atanh",
    "log10",
    "log2",
    "exp2",
    "cbrt",
    "hypot",
    "copysign",
    "count_ones",
    "count_zeros",
    "leading_zeros",
    "trailing_zeros",
    "type_of",
    "chr",
    "ord",
];

/// The checked program: user functions (indexed as declared) and the top-level body.
#[derive(Debug)]
pub struct TProgram {
    pub funcs: Vec<TFunc>,
    pub main: TFunc,
    pub types: TypeTable,
    /// For an entry of a REPL session, what it keeps in the session's slots.
    pub session: Vec<SessionKept>,
    /// The warnings checking found (W0003); `sema::lints` finds the others.
    pub warnings: Vec<crate::diag::Diagnostic>,
}

/// What an entry of a REPL session keeps in one of the session's slots (`__session_set`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionKept {
    pub slot: u32,
    /// The value's type as Keel writes it (`[int]`, `map<string, Point>`); `None` when the
    /// value is `void`, and nothing is kept.
    pub ty: Option<String>,
    /// Whether the value may hold a function value (which does not outlive its entry's code
    /// on the VM, so the REPL does not keep it).
    pub holds_function: bool,
}

#[derive(Debug)]
pub struct TFunc {
    pub name: String,
    /// Whether it is a function of the prelude's (or an instance of one): lowering drops it
    /// when nothing the program runs calls it.
    pub prelude: bool,
    pub param_count: u32,
    /// Every variable (parameters first) with its name and type.
    pub vars: Vec<(String, Type)>,
    pub ret: Type,
    pub body: TBlock,
    /// Where it is declared (its name, or the closure expression); `None` for the top level.
    pub span: Option<Span>,
    /// `requires` clauses, checked by every caller before the call (in source order).
    pub requires: Vec<TClause>,
    /// `ensures` clauses, checked by every caller after the call.
    pub ensures: Vec<TClause>,
}

/// A contract clause. Its variables are the function's parameters (`VarId`s `0..param_count`)
/// and, in `ensures`, `result` (`VarId(param_count)`); it contains no statements.
#[derive(Debug)]
pub struct TClause {
    pub cond: TExpr,
    /// The condition's source text.
    pub text: String,
}

/// A checked `live` block.
#[derive(Debug)]
pub struct TLive {
    /// The `live` keyword.
    pub keyword: Span,
    pub within_ms: Option<i64>,
    pub backoff: Option<crate::syntax::ast::Backoff>,
    /// `invariant e` with the condition's source text.
    pub invariant: Option<(TExpr, String)>,
    pub body: TBlock,
    /// The variables declared outside the block and assigned inside it (at any depth): what a
    /// retry restores.
    pub restored: Vec<VarId>,
}

#[derive(Debug)]
pub struct TBlock {
    pub stmts: Vec<TStmt>,
    pub tail: Option<Box<TExpr>>,
}

#[derive(Debug)]
pub enum TStmt {
    /// `let` or assignment: `place = value`. With `op`, a compound assignment whose `value`
    /// reads the place's current value through [`TExprKind::Current`].
    Assign {
        place: Place,
        value: TExpr,
    },
    Expr(TExpr),
    /// `static let`: `var` is one value for every call of the function, set to `value` the
    /// first time the statement runs.
    StaticLet {
        var: VarId,
        value: TExpr,
    },
    While {
        cond: TExpr,
        body: TBlock,
    },
    /// `for var in start..end`; `span` is the whole statement's, named by its instructions.
    ForRange {
        var: VarId,
        span: Span,
        start: Box<TExpr>,
        end: Box<TExpr>,
        body: TBlock,
    },
    /// `for var in array`: iterates over the array as it was when the loop started.
    ForEach {
        var: VarId,
        array: TExpr,
        span: Span,
        body: TBlock,
    },
    Break,
    Continue,
    Return(Option<TExpr>),
    /// `assert(cond)` / `assert(cond, message)`, failing at `keyword`; `text` is the
    /// condition's source text.
    Assert {
        keyword: Span,
        cond: Box<TExpr>,
        message: Option<Box<TExpr>>,
        text: String,
    },
    Live(Box<TLive>),
    /// Made only by `sema::fuse`, never by the checker: runs `fast`, and if a fault happens in
    /// it, forgets the fault and runs `slow` instead, which computes the same (and raises the
    /// fault where it belongs). `fast` has no effect but faults and always finishes.
    Speculate {
        /// The fused pipeline, named by its runtime calls.
        at: Span,
        fast: TBlock,
        slow: TBlock,
    },
    /// A fault whose whole text is `message` (a string), reported at `at`: what `unwrap` of
    /// `None` and the other prelude checks become.
    Fault {
        at: Span,
        message: TExpr,
    },
}

impl TStmt {
    /// `var = value`: a `let` or an assignment of the whole variable.
    pub fn assign(var: VarId, value: TExpr) -> TStmt {
        TStmt::Assign {
            place: Place {
                var,
                path: Vec::new(),
            },
            value,
        }
    }
}

/// Something that can be assigned: a variable, or a path of indexing and fields inside one.
#[derive(Debug)]
pub struct Place {
    pub var: VarId,
    pub path: Vec<PathStep>,
}

#[derive(Debug)]
pub enum PathStep {
    /// `[index]`, faulting at `bracket` when out of bounds.
    Index { index: TExpr, bracket: Span },
    /// `.field` (its position in the struct).
    Field(u32),
}

#[derive(Debug)]
pub struct TExpr {
    pub kind: TExprKind,
    pub ty: Type,
    pub span: Span,
}

#[derive(Debug)]
pub enum TExprKind {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    Var(VarId),
    /// In a compound assignment's value: the current value of the place being assigned.
    Current,
    /// `[items...]`.
    Array(Vec<TExpr>),
    /// `new S { ... }` with the field values in declaration order (evaluated in source order,
    /// given by `order`: `fields[order[k]]` is the k-th written).
    New {
        id: u32,
        fields: Vec<TExpr>,
        order: Vec<usize>,
    },
    Index {
        base: Box<TExpr>,
        index: Box<TExpr>,
        bracket: Span,
    },
    /// `base[start..end]` of an array or a string.
    Slice {
        base: Box<TExpr>,
        start: Box<TExpr>,
        end: Box<TExpr>,
        bracket: Span,
    },
    Field {
        base: Box<TExpr>,
        index: u32,
    },
    /// A non-short-circuit binary operation (`&&` and `||` are [`TExprKind::Logic`]).
    Binary {
        op: BinOp,
        op_span: Span,
        lhs: Box<TExpr>,
        rhs: Box<TExpr>,
    },
    /// `&&` (`is_and`) or `||`, evaluated lazily.
    Logic {
        is_and: bool,
        lhs: Box<TExpr>,
        rhs: Box<TExpr>,
    },
    Unary {
        op: UnOp,
        operand: Box<TExpr>,
    },
    Call {
        func: u32,
        args: Vec<TExpr>,
        callee_span: Span,
    },
    Builtin {
        builtin: Builtin,
        args: Vec<TExpr>,
    },
    /// A value of an enum: variant entry `variant` (in [`TypeTable::structs`]) with its
    /// payload, evaluated in order.
    Variant {
        variant: u32,
        /// The variant's position in its enum.
        tag: u32,
        args: Vec<TExpr>,
    },
    /// Payload field `field` (from 1: field 0 is the tag) of `base`, an enum value known to be
    /// of variant entry `variant` (a `match` tested its tag first). The tag itself is read as
    /// [`TExprKind::Field`] 0 of the enum value.
    Payload {
        base: Box<TExpr>,
        variant: u32,
        field: u32,
    },
    If {
        cond: Box<TExpr>,
        then: TBlock,
        else_: Option<Box<TExpr>>,
        /// Whether control can never get past the `if` (its condition never finishes, or both
        /// branches never do), computed once by the checker: an `else if` chain is as deep as
        /// it is long, so walking it for each link would cost the square of its length.
        diverges: bool,
    },
    Block(TBlock),
    /// Named function `func` (an index into the program's functions) as a function value.
    FuncRef(u32),
    /// The constructor of variant entry `variant` (with a payload) as a function value.
    VariantRef {
        variant: u32,
        tag: u32,
    },
    /// A closure: its function and the variables it copies when created.
    Closure(Box<TClosure>),
    /// A call of a function value (`callee`, of a function type).
    CallValue {
        callee: Box<TExpr>,
        args: Vec<TExpr>,
        callee_span: Span,
    },
    /// An expression that failed to check; never lowered (lowering runs only without errors).
    Error,
}

/// A checked closure expression.
#[derive(Debug)]
pub struct TClosure {
    /// Its body as a function: its parameters, then two hidden ones (the closure object and
    /// the call's site text: `param_count` counts them), then the variables of the body, which
    /// include the captured copies.
    pub func: TFunc,
    /// Each captured variable: the enclosing function's variable and the closure's own that
    /// holds the copy.
    pub captures: Vec<(VarId, VarId)>,
}

impl TExpr {
    pub fn error(span: Span) -> TExpr {
        TExpr {
            kind: TExprKind::Error,
            ty: Type::Error,
            span,
        }
    }

    /// Whether evaluating this expression may read variable `var` (conservatively: any
    /// expression with statements in it may).
    pub fn may_read(&self, var: VarId) -> bool {
        match &self.kind {
            TExprKind::Var(v) => *v == var,
            TExprKind::Current | TExprKind::Block(_) | TExprKind::If { .. } => true,
            TExprKind::Closure(closure) => closure.captures.iter().any(|&(outer, _)| outer == var),
            _ => self.any_operand(|operand| operand.may_read(var)),
        }
    }

    /// Whether evaluating this expression may assign a variable (it contains statements).
    pub fn may_assign(&self) -> bool {
        match &self.kind {
            TExprKind::Block(_) | TExprKind::If { .. } => true,
            _ => self.any_operand(TExpr::may_assign),
        }
    }

    /// Whether `f` holds for one of the expression's operands: its direct sub-expressions,
    /// outside statements (false for literals, variables, blocks and `if`s).
    fn any_operand(&self, mut f: impl FnMut(&TExpr) -> bool) -> bool {
        match &self.kind {
            TExprKind::Binary { lhs, rhs, .. } | TExprKind::Logic { lhs, rhs, .. } => {
                f(lhs) || f(rhs)
            }
            TExprKind::Unary { operand, .. } => f(operand),
            TExprKind::Field { base, .. } | TExprKind::Payload { base, .. } => f(base),
            TExprKind::Index { base, index, .. } => f(base) || f(index),
            TExprKind::Slice {
                base, start, end, ..
            } => f(base) || f(start) || f(end),
            TExprKind::Array(items)
            | TExprKind::New { fields: items, .. }
            | TExprKind::Variant { args: items, .. }
            | TExprKind::Call { args: items, .. }
            | TExprKind::Builtin { args: items, .. } => items.iter().any(f),
            TExprKind::CallValue { callee, args, .. } => f(callee) || args.iter().any(f),
            _ => false,
        }
    }
}

impl TBlock {
    /// Calls `f` with every variable the block assigns, at any depth: `let`s, assignments (also
    /// of elements and fields), loop variables, inside nested blocks, loops, `live` blocks and
    /// expressions.
    pub fn for_each_assigned(&self, f: &mut impl FnMut(VarId)) {
        for stmt in &self.stmts {
            stmt_assigns(stmt, f);
        }
        if let Some(tail) = &self.tail {
            expr_assigns(tail, f);
        }
    }
}

fn stmt_assigns(stmt: &TStmt, f: &mut impl FnMut(VarId)) {
    match stmt {
        TStmt::Assign { place, value } => {
            f(place.var);
            for step in &place.path {
                if let PathStep::Index { index, .. } = step {
                    expr_assigns(index, f);
                }
            }
            expr_assigns(value, f);
        }
        TStmt::Expr(e) | TStmt::Return(Some(e)) => expr_assigns(e, f),
        TStmt::StaticLet { var, value } => {
            f(*var);
            expr_assigns(value, f);
        }
        TStmt::While { cond, body } => {
            expr_assigns(cond, f);
            body.for_each_assigned(f);
        }
        TStmt::ForRange {
            var,
            start,
            end,
            body,
            ..
        } => {
            f(*var);
            expr_assigns(start, f);
            expr_assigns(end, f);
            body.for_each_assigned(f);
        }
        TStmt::ForEach {
            var, array, body, ..
        } => {
            f(*var);
            expr_assigns(array, f);
            body.for_each_assigned(f);
        }
        TStmt::Assert { cond, message, .. } => {
            expr_assigns(cond, f);
            if let Some(message) = message {
                expr_assigns(message, f);
            }
        }
        TStmt::Fault { message, .. } => expr_assigns(message, f),
        TStmt::Live(live) => {
            if let Some((cond, _)) = &live.invariant {
                expr_assigns(cond, f);
            }
            live.body.for_each_assigned(f);
        }
        TStmt::Speculate { fast, slow, .. } => {
            fast.for_each_assigned(f);
            slow.for_each_assigned(f);
        }
        TStmt::Break | TStmt::Continue | TStmt::Return(None) => {}
    }
}

fn expr_assigns(expr: &TExpr, f: &mut impl FnMut(VarId)) {
    match &expr.kind {
        TExprKind::Block(block) => block.for_each_assigned(f),
        TExprKind::If {
            cond, then, else_, ..
        } => {
            expr_assigns(cond, f);
            then.for_each_assigned(f);
            if let Some(else_) = else_ {
                expr_assigns(else_, f);
            }
        }
        TExprKind::Array(items)
        | TExprKind::New { fields: items, .. }
        | TExprKind::Variant { args: items, .. }
        | TExprKind::Call { args: items, .. }
        | TExprKind::Builtin { args: items, .. } => {
            items.iter().for_each(|item| expr_assigns(item, f))
        }
        TExprKind::Index { base, index, .. } => {
            expr_assigns(base, f);
            expr_assigns(index, f);
        }
        TExprKind::Slice {
            base, start, end, ..
        } => {
            expr_assigns(base, f);
            expr_assigns(start, f);
            expr_assigns(end, f);
        }
        TExprKind::Field { base, .. }
        | TExprKind::Payload { base, .. }
        | TExprKind::Unary { operand: base, .. } => expr_assigns(base, f),
        TExprKind::Binary { lhs, rhs, .. } | TExprKind::Logic { lhs, rhs, .. } => {
            expr_assigns(lhs, f);
            expr_assigns(rhs, f);
        }
        TExprKind::CallValue { callee, args, .. } => {
            expr_assigns(callee, f);
            args.iter().for_each(|arg| expr_assigns(arg, f));
        }
        // A closure's body assigns only its own variables (captures are copies).
        TExprKind::Int(_)
        | TExprKind::Float(_)
        | TExprKind::Bool(_)
        | TExprKind::Str(_)
        | TExprKind::Var(_)
        | TExprKind::Current
        | TExprKind::FuncRef(_)
        | TExprKind::VariantRef { .. }
        | TExprKind::Closure(_)
        | TExprKind::Error => {}
    }
}

/// A direct part of an expression ([`TExpr::parts`]).
pub enum TPart<'a> {
    Expr(&'a TExpr),
    Block(&'a TBlock),
}

impl TExpr {
    /// The expressions and blocks directly inside this one (not a closure's body), for the
    /// walks that look at every part of a tree alike.
    pub fn parts(&self) -> Vec<TPart<'_>> {
        use TPart::{Block, Expr};
        match &self.kind {
            TExprKind::Int(_)
            | TExprKind::Float(_)
            | TExprKind::Bool(_)
            | TExprKind::Str(_)
            | TExprKind::Var(_)
            | TExprKind::Current
            | TExprKind::FuncRef(_)
            | TExprKind::VariantRef { .. }
            | TExprKind::Closure(_)
            | TExprKind::Error => Vec::new(),
            TExprKind::Array(items)
            | TExprKind::New { fields: items, .. }
            | TExprKind::Call { args: items, .. }
            | TExprKind::Builtin { args: items, .. }
            | TExprKind::Variant { args: items, .. } => items.iter().map(Expr).collect(),
            TExprKind::Index { base, index, .. } => vec![Expr(base), Expr(index)],
            TExprKind::Slice {
                base, start, end, ..
            } => vec![Expr(base), Expr(start), Expr(end)],
            TExprKind::Field { base, .. } | TExprKind::Payload { base, .. } => vec![Expr(base)],
            TExprKind::Binary { lhs, rhs, .. } | TExprKind::Logic { lhs, rhs, .. } => {
                vec![Expr(lhs), Expr(rhs)]
            }
            TExprKind::Unary { operand, .. } => vec![Expr(operand)],
            TExprKind::If {
                cond, then, else_, ..
            } => {
                let mut parts = vec![Expr(cond), Block(then)];
                parts.extend(else_.iter().map(|e| Expr(e)));
                parts
            }
            TExprKind::Block(block) => vec![Block(block)],
            TExprKind::CallValue { callee, args, .. } => std::iter::once(Expr(callee))
                .chain(args.iter().map(Expr))
                .collect(),
        }
    }
}

// Typed statements stay small for the reason the syntax tree's do (`syntax::ast`): large parts
// of rare variants go in boxes (a statement was 192 bytes before).
const _: () = assert!(std::mem::size_of::<TExpr>() <= 72);
const _: () = assert!(std::mem::size_of::<TStmt>() <= 120);
