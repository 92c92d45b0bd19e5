//! Keel's typed intermediate representation: the only input of every backend.
//!
//! A [`Program`] is a set of [`Function`]s. Each function is a control-flow graph of [`Block`]s
//! holding three-address [`Inst`]ructions over numbered, typed, mutable [`Local`] slots, and ending
//! in one [`Term`]inator. Locals are *not* SSA: a local may be assigned many times. That maps
//! directly onto registers in the bytecode VM and onto `cranelift_frontend::Variable`s in codegen.
//!
//! Everything a backend needs is explicit here: types are resolved, names are gone (functions are
//! [`FuncId`]s, variables are [`Local`]s), `&&`/`||`/`if`/loops are control flow, and every
//! instruction that can fault carries the [`SiteId`] of the source location it reports.
//!
//! What this module does not do: it holds no source text, does no type inference and performs no
//! optimisation. The front end (`sema::lower`) builds it; `ir::print` renders it; `ir::verify`
//! checks its invariants.
//!
//! # Semantics every backend implements identically
//! - `int` is a 64-bit two's-complement integer; `bool` is `false`/`true` (0/1); `string` is a
//!   pointer to an immutable string object (see `keel_runtime::string`).
//! - `AddInt`, `SubInt`, `MulInt` and `NegInt` fault on signed overflow (`keel_fault_int`).
//! - `DivInt` and `RemInt` fault when the divisor is 0; `DivInt` faults on `i64::MIN / -1`;
//!   `RemInt` of `i64::MIN % -1` is 0. Both truncate toward zero.
//! - `Shl`/`Shr` fault when the shift amount is outside `0..=63`; `Shr` is arithmetic
//!   (sign-propagating). Bits shifted out by `Shl` are discarded.
//! - `BitAnd`, `BitOr`, `BitXor` work on ints and on bools (where they are the eager logical
//!   operators).
//! - `float` is an IEEE-754 `f64`; float arithmetic never faults (it gives `inf`/`NaN`).
//!   `FloatToInt` truncates toward zero and faults on NaN, infinities and values outside `int`.
//! - Heap values (`string`, arrays, structs), their layout, and which operands are *borrowed* or
//!   *consumed* are specified in `docs/values.md`; each instruction below repeats its own rule.
//!
//! # Faults and recovery (`live` blocks; docs/faults.md)
//! A fault raised while no `live` block is active ends the process inside the runtime. While one
//! is active, the runtime records the fault and *returns* (`keel_runtime::recover`), and control
//! leaves the faulting instruction (whose result, if any, is meaningless) for its block's
//! [`Block::handler`]:
//! - `Some(h)`: block `h` of this function, the recovery block of the innermost `live` block
//!   around the instruction;
//! - `None`: the function returns at once with a meaningless result, and its caller handles the
//!   fault at the `Call`, which counts as a faulting instruction of the caller.
//!
//! Instructions that can raise: the faulting `Unary`/`Binary` ops, `ArrayGet`, `ArraySet`,
//! `ArrayTake`, every `Call` and `CallIndirect`, and the `CallRt`s whose [`RtFunc::may_fault`] holds (the backends
//! test the runtime's pending flag after those calls). [`Term::Unwind`] goes to the handler
//! explicitly, right after a `CallRt` of [`RtFunc::Fault`]. Before going on, a backend releases
//! what the faulting instruction's frame owns and the handler does not take over
//! ([`fault_releases`]; docs/faults.md), so a recovered fault leaks nothing.
//! A program without any handler ([`Program::recovers`] is false) never recovers, so backends
//! may treat every fault as ending the process; so may they in the blocks without a handler of
//! the functions no handler's block calls, even indirectly ([`Program::runs_in_live_blocks`]).

pub mod fault_releases;
pub mod parse;
pub mod passes;
pub mod print;
#[cfg(test)]
pub mod testing;
pub mod verify;

use std::fmt;

/// Index of a function in [`Program::functions`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FuncId(pub u32);

/// Index of a basic block in [`Function::blocks`]. Block 0 is the entry block.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlockId(pub u32);

/// Index of a local slot in [`Function::locals`]. Parameters are locals `0..params.len()`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Local(pub u32);

/// Index of a string literal in [`Program::strings`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StrId(pub u32);

/// Index of a source location in [`Program::sites`], attached to every instruction that can fault.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SiteId(pub u32);

/// The type of a local, a parameter or a function result.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    Int,
    Bool,
    Float,
    Str,
    /// `[T]`; the element type is `Program::arrays[id]`.
    Array(ArrayId),
    /// A struct declared in `Program::structs`.
    Struct(StructId),
    /// `map<K, V>` or `set<T>`: `Program::maps[id]` says which and of what.
    Map(MapId),
    /// Only as a function result: the function returns no value.
    Void,
}

impl Ty {
    /// Whether values of this type are pointers to reference-counted heap objects.
    pub fn is_heap(self) -> bool {
        matches!(self, Ty::Str | Ty::Array(_) | Ty::Struct(_) | Ty::Map(_))
    }
}

impl fmt::Display for Ty {
    /// The short form used by `emit ir` (`Program::type_name` gives the source form).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Int => f.write_str("int"),
            Ty::Bool => f.write_str("bool"),
            Ty::Float => f.write_str("float"),
            Ty::Str => f.write_str("string"),
            Ty::Array(id) => write!(f, "array#{}", id.0),
            Ty::Struct(id) => write!(f, "struct#{}", id.0),
            Ty::Map(id) => write!(f, "map#{}", id.0),
            Ty::Void => f.write_str("void"),
        }
    }
}

/// Index of an array type in [`Program::arrays`] (which holds its element type).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ArrayId(pub u32);

/// Index of a map or set type in [`Program::maps`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MapId(pub u32);

/// A map or set type. A map's keys and values are words like array elements; the runtime keeps
/// the object's inside to itself (`keel_runtime::map`) and the backends only call it. The
/// descriptor of a map points to the one of its entry type, the tuple `(K, V)`; a set's to its
/// item type.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct MapDef {
    pub key: Ty,
    /// The value type of a map; for a set, [`Ty::Void`].
    pub value: Ty,
    /// A map's entry type, the tuple `(K, V)` (`None` for a set).
    pub entry: Option<StructId>,
}

impl MapDef {
    pub fn is_set(&self) -> bool {
        self.value == Ty::Void
    }
}

/// Index of a struct type in [`Program::structs`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StructId(pub u32);

/// A struct type: its name and its fields in declaration (and memory) order. A tuple type is a
/// struct type without a name whose fields are named `0`, `1`, ... ([`StructDef::tuple`]).
///
/// Enums are struct types too ([`StructKind`]): an enum type `E` is a struct with the one field
/// `tag: int`, and each of its variants a struct of its own whose field 0 is the same `tag`
/// (the variant's position in `E`) followed by the payload, named `0`, `1`, .... A value of type
/// `E` points to an object of one of its variant types, so reading `tag` is a `FieldGet` of
/// field 0 on `E` and the payload is read with [`Inst::VariantField`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StructDef {
    /// Unique among the program's structs (an instance of a generic struct or enum is named
    /// with its type arguments, `Pair<int, string>`); empty for a tuple.
    pub name: String,
    pub fields: Vec<FieldDef>,
    pub kind: StructKind,
}

impl StructDef {
    /// The name values of this type print with: the name without type arguments (`Pair`); for
    /// a closure type, without the `#` suffix.
    pub fn printed_name(&self) -> &str {
        let end = match self.kind {
            StructKind::Closure { .. } => '#',
            StructKind::FnType => return &self.name,
            _ => '<',
        };
        self.name.split(end).next().unwrap_or(&self.name)
    }

    /// The fields of a closure type before its captured values: the code and the stack units.
    pub const CLOSURE_HEADER_FIELDS: u32 = 2;

    /// The function type `fn(params) -> ret`, named `name` (the type as written).
    pub fn function(name: impl Into<String>, params: &[Ty], ret: Ty) -> StructDef {
        let mut fields: Vec<FieldDef> = (params.iter().enumerate())
            .map(|(index, &ty)| FieldDef {
                name: index.to_string(),
                ty,
            })
            .collect();
        if ret != Ty::Void {
            fields.push(FieldDef {
                name: "ret".into(),
                ty: ret,
            });
        }
        StructDef {
            name: name.into(),
            fields,
            kind: StructKind::FnType,
        }
    }

    /// The position in [`Inst::CallIndirect`]'s arguments of the function value, for a call
    /// with `arg_count` arguments in all.
    pub fn callee_position(arg_count: usize) -> usize {
        arg_count.saturating_sub(2)
    }

    /// A closure type of the function type `of` calling `func`, printed as `<name>`, with
    /// captured values of types `captures` (named as given).
    pub fn closure(
        of: StructId,
        func: FuncId,
        name: impl Into<String>,
        captures: impl IntoIterator<Item = (String, Ty)>,
    ) -> StructDef {
        let header = ["code", "units"].map(|name| FieldDef {
            name: name.into(),
            ty: Ty::Int,
        });
        let captures = (captures.into_iter()).map(|(name, ty)| FieldDef { name, ty });
        StructDef {
            name: name.into(),
            fields: header.into_iter().chain(captures).collect(),
            kind: StructKind::Closure { of, func },
        }
    }

    /// A function type's parameter and result types.
    pub fn signature(&self) -> (Vec<Ty>, Ty) {
        let mut params: Vec<Ty> = self.fields.iter().map(|f| f.ty).collect();
        let ret = match self.fields.last() {
            Some(field) if field.name == "ret" => params.pop().unwrap_or(Ty::Void),
            _ => Ty::Void,
        };
        (params, ret)
    }
}

/// What a [`StructDef`] stands for.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum StructKind {
    /// A declared struct, or a tuple (no name).
    #[default]
    Plain,
    /// An enum type: one field, `tag: int`; its variants are the structs that name it.
    Enum,
    /// Variant number `tag` of the enum type `of`: `name` is the variant's name, field 0 the tag.
    Variant { of: StructId, tag: u32 },
    /// A function type, `fn(A, B) -> R` (its `name`): never the type of an object, its fields
    /// are the signature, the parameter types as `0`, `1`, ... and the result type as `ret`
    /// (none for `void`; [`StructDef::signature`]). A value of it points to an object of one of
    /// its closure types.
    FnType,
    /// A closure type of the function type `of`, whose objects call function `func`: field 0
    /// is the code (`code: int`, set by the backend: an address or a function number), field 1
    /// the stack units a call of `func` takes (`units: int`, also set by the backend), then the
    /// captured values. `name` is what its values print as between `<` and `>`, up to any `#`
    /// (which keeps names unique). `func` takes the function type's parameters, then the closure
    /// object (borrowed, [`Function::env`]), then the text of the call's site (a string, `""`
    /// for a call that checks no contracts), as [`Inst::CallIndirect`] passes them.
    Closure { of: StructId, func: FuncId },
}

impl StructDef {
    /// The tuple type with elements of types `elems`.
    pub fn tuple(elems: impl IntoIterator<Item = Ty>) -> StructDef {
        StructDef {
            kind: StructKind::Plain,
            name: String::new(),
            fields: elems
                .into_iter()
                .enumerate()
                .map(|(index, ty)| FieldDef {
                    name: index.to_string(),
                    ty,
                })
                .collect(),
        }
    }

    /// Whether this is a tuple type.
    pub fn is_tuple(&self) -> bool {
        self.name.is_empty() && self.kind == StructKind::Plain
    }

    /// The enum type `name` (its variants are declared separately).
    pub fn enumeration(name: impl Into<String>) -> StructDef {
        StructDef {
            name: name.into(),
            fields: vec![FieldDef {
                name: "tag".into(),
                ty: Ty::Int,
            }],
            kind: StructKind::Enum,
        }
    }

    /// Variant number `tag` of the enum `of`, named `name`, with a payload of types `payload`.
    pub fn variant(
        of: StructId,
        tag: u32,
        name: impl Into<String>,
        payload: impl IntoIterator<Item = Ty>,
    ) -> StructDef {
        let tag_field = FieldDef {
            name: "tag".into(),
            ty: Ty::Int,
        };
        let payload = payload.into_iter().enumerate().map(|(index, ty)| FieldDef {
            name: index.to_string(),
            ty,
        });
        StructDef {
            name: name.into(),
            fields: std::iter::once(tag_field).chain(payload).collect(),
            kind: StructKind::Variant { of, tag },
        }
    }

    /// The runtime descriptor kind of this type (`keel_runtime::desc::KIND_*`).
    pub fn desc_kind(&self) -> u32 {
        match self.kind {
            StructKind::Plain => keel_runtime::desc::KIND_STRUCT,
            StructKind::Enum => keel_runtime::desc::KIND_ENUM,
            StructKind::Variant { .. } => keel_runtime::desc::KIND_VARIANT,
            StructKind::FnType => keel_runtime::desc::KIND_FN,
            StructKind::Closure { .. } => keel_runtime::desc::KIND_CLOSURE,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldDef {
    pub name: String,
    pub ty: Ty,
}

/// A whole program, ready for any backend.
#[derive(Clone, Debug)]
pub struct Program {
    /// All functions; `entry` among them.
    pub functions: Vec<Function>,
    /// The program's top-level statements as a function `fn() -> void`; running it runs the program.
    pub entry: FuncId,
    /// String literals, deduplicated.
    pub strings: Vec<String>,
    /// Source locations of fault sites.
    pub sites: Vec<Site>,
    /// Array types, interned: `arrays[id]` is the element type of `Ty::Array(id)`.
    pub arrays: Vec<Ty>,
    /// Struct types.
    pub structs: Vec<StructDef>,
    /// Map and set types.
    pub maps: Vec<MapDef>,
}

/// A source location that a fault message names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// The file name as the user gave it on the command line.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in Unicode scalar values.
    pub col: u32,
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

impl Program {
    pub fn function(&self, id: FuncId) -> &Function {
        &self.functions[id.0 as usize]
    }

    pub fn string(&self, id: StrId) -> &str {
        &self.strings[id.0 as usize]
    }

    pub fn site(&self, id: SiteId) -> &Site {
        &self.sites[id.0 as usize]
    }

    /// Whether any function has an [`Inst::Line`] marker (`sema::Options::debug_info`).
    pub fn has_line_markers(&self) -> bool {
        (self.functions.iter().flat_map(|f| &f.blocks))
            .any(|b| b.insts.iter().any(|inst| matches!(inst, Inst::Line { .. })))
    }

    /// Takes out every [`Inst::Line`] marker: the program as compiled without debug
    /// information (its sites aside).
    pub fn remove_line_markers(&mut self) {
        for block in self.functions.iter_mut().flat_map(|f| &mut f.blocks) {
            block
                .insts
                .retain(|inst| !matches!(inst, Inst::Line { .. }));
        }
    }

    /// Whether any function has a `live` block, so that a fault may be recovered from. When not,
    /// backends need no pending-fault tests: every fault ends the process.
    pub fn recovers(&self) -> bool {
        self.functions
            .iter()
            .any(|f| f.blocks.iter().any(|b| b.handler.is_some()))
    }

    /// For each function, whether it may run while a `live` block is active: whether a block
    /// with a handler calls it, directly or through other calls. A fault can be recovered from
    /// only in a block with a handler or in such a function; everywhere else it ends the
    /// process, and backends need neither pending-fault tests nor recovery paths there.
    ///
    /// A `CallIndirect` may call the function of any closure type, so it counts as a call of
    /// each of them.
    pub fn runs_in_live_blocks(&self) -> Vec<bool> {
        let closures: Vec<FuncId> = (self.structs.iter())
            .filter_map(|def| match def.kind {
                StructKind::Closure { func, .. } => Some(func),
                _ => None,
            })
            .collect();
        let callees = |blocks: &mut dyn Iterator<Item = &Block>| -> Vec<FuncId> {
            let mut callees = Vec::new();
            for inst in blocks.flat_map(|block| &block.insts) {
                match inst {
                    Inst::Call { func, .. } => callees.push(*func),
                    Inst::CallIndirect {
                        known: Some(func), ..
                    } => callees.push(*func),
                    Inst::CallIndirect { known: None, .. } => callees.extend_from_slice(&closures),
                    _ => {}
                }
            }
            callees
        };
        let mut runs = vec![false; self.functions.len()];
        let mut pending: Vec<FuncId> = self
            .functions
            .iter()
            .flat_map(|f| callees(&mut f.blocks.iter().filter(|b| b.handler.is_some())))
            .collect();
        while let Some(FuncId(f)) = pending.pop() {
            if !std::mem::replace(&mut runs[f as usize], true) {
                pending.extend(callees(&mut self.functions[f as usize].blocks.iter()));
            }
        }
        runs
    }

    /// The element type of an array type.
    pub fn elem(&self, id: ArrayId) -> Ty {
        self.arrays[id.0 as usize]
    }

    pub fn struct_def(&self, id: StructId) -> &StructDef {
        &self.structs[id.0 as usize]
    }

    pub fn map_def(&self, id: MapId) -> MapDef {
        self.maps[id.0 as usize]
    }

    /// How a type is written in Keel source (`[int]`, `Point`).
    pub fn type_name(&self, ty: Ty) -> String {
        match ty {
            Ty::Array(id) => format!("[{}]", self.type_name(self.elem(id))),
            Ty::Map(id) => {
                let def = self.map_def(id);
                if def.is_set() {
                    format!("set<{}>", self.type_name(def.key))
                } else {
                    let (key, value) = (self.type_name(def.key), self.type_name(def.value));
                    format!("map<{key}, {value}>")
                }
            }
            Ty::Struct(id) if self.struct_def(id).is_tuple() => {
                let elems: Vec<String> = (self.struct_def(id).fields.iter())
                    .map(|field| self.type_name(field.ty))
                    .collect();
                format!("({})", elems.join(", "))
            }
            Ty::Struct(id) => match self.struct_def(id).kind {
                StructKind::Variant { of, .. } => {
                    format!("{}::{}", self.struct_def(of).name, self.struct_def(id).name)
                }
                _ => self.struct_def(id).name.clone(),
            },
            other => other.to_string(),
        }
    }
}

/// One function: a control-flow graph over typed local slots.
#[derive(Clone, Debug)]
pub struct Function {
    /// Source name (unique within a program); the entry function is called `<main>`.
    pub name: String,
    /// Number of parameters; they are locals `0..param_count`.
    pub param_count: u32,
    /// Result type (`Ty::Void` for none).
    pub ret: Ty,
    /// Every local slot: parameters first, then variables and temporaries.
    pub locals: Vec<LocalInfo>,
    /// Basic blocks; `blocks[0]` is the entry.
    pub blocks: Vec<Block>,
    /// Whether this is the function of a closure type: its last two parameters are the closure
    /// object, *borrowed* from the caller (every other parameter is owned), which the function
    /// only reads captured values from (`FieldGet`) and never releases, and the call's site
    /// text (owned; a static string).
    pub env: bool,
}

impl Function {
    pub fn local_ty(&self, local: Local) -> Ty {
        self.locals[local.0 as usize].ty
    }

    pub fn params(&self) -> impl Iterator<Item = Local> {
        (0..self.param_count).map(Local)
    }

    pub fn block(&self, id: BlockId) -> &Block {
        &self.blocks[id.0 as usize]
    }

    /// The closure object parameter of a closure's function ([`Function::env`]).
    pub fn env_param(&self) -> Option<Local> {
        (self.env && self.param_count >= 2).then(|| Local(self.param_count - 2))
    }

    /// For each local, whether it holds a heap value the function owns: every heap local but
    /// the borrowed closure object of a closure's function ([`Function::env`]).
    pub fn owned_heap(&self) -> Vec<bool> {
        let mut heap: Vec<bool> = self.locals.iter().map(|l| l.ty.is_heap()).collect();
        if let Some(env) = self.env_param() {
            heap[env.0 as usize] = false;
        }
        heap
    }

    /// The stack units a call of this function takes against the limit every backend enforces
    /// (`keel_runtime::stack`): a measure of its frame that all of them compute alike.
    pub fn stack_units(&self) -> i64 {
        keel_runtime::stack_units(self.locals.len())
    }
}

/// A local slot's type and, for user variables, its source name (for `emit ir` and debugging).
#[derive(Clone, Debug)]
pub struct LocalInfo {
    pub ty: Ty,
    pub name: Option<String>,
}

/// A straight-line sequence of instructions ending in one terminator.
#[derive(Clone, Debug)]
pub struct Block {
    pub insts: Vec<Inst>,
    pub term: Term,
    /// Where a recovered fault of one of this block's instructions goes: the recovery block of
    /// the innermost enclosing `live` block, or `None` to return from the function (see the
    /// module documentation). Analyses treat it as one more successor of the block.
    pub handler: Option<BlockId>,
}

impl Block {
    /// A block outside any `live` block.
    pub fn new(insts: Vec<Inst>, term: Term) -> Block {
        Block {
            insts,
            term,
            handler: None,
        }
    }

    /// The blocks control may go to next: the terminator's targets, then the handler.
    pub fn successors(&self) -> Vec<BlockId> {
        let mut successors = self.term.successors();
        successors.extend(self.handler);
        successors
    }
}

/// An instruction input: a local or an immediate constant.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Operand {
    Local(Local),
    Int(i64),
    Bool(bool),
    /// A float constant, as the bits of its `f64` (`f64::from_bits`).
    Float(u64),
    /// A string literal: the address of its static string object (never freed; consuming it is free).
    Str(StrId),
    /// The address of the type descriptor of a type (for runtime functions that build values).
    Desc(Ty),
}

/// Unary operations.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    /// `-x` on int; faults on overflow (`-i64::MIN`).
    NegInt,
    /// `!b` on bool.
    Not,
    /// `-x` on float (flips the sign, also of zero and NaN).
    NegFloat,
    /// `to_float(i)`: the nearest `f64` (round to nearest even).
    IntToFloat,
    /// `to_int(f)`: truncates toward zero; faults (`keel_fault_to_int`) on NaN, ±inf and values
    /// outside `int` (valid: `-9223372036854775808.0 <= f < 9223372036854775808.0`).
    FloatToInt,
}

/// Binary operations. Operand types are given by the op (`*Int` take ints, `*Bool` take bools,
/// bitwise ops take two ints or two bools and yield the same type).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    AddInt,
    SubInt,
    MulInt,
    DivInt,
    RemInt,
    Shl,
    Shr,
    BitAnd,
    BitOr,
    BitXor,
    EqInt,
    NeInt,
    LtInt,
    LeInt,
    GtInt,
    GeInt,
    EqBool,
    NeBool,
    /// IEEE arithmetic on floats; never faults.
    AddFloat,
    SubFloat,
    MulFloat,
    DivFloat,
    /// IEEE comparisons (every comparison with NaN is false, except `NeFloat`, which is true).
    EqFloat,
    NeFloat,
    LtFloat,
    LeFloat,
    GtFloat,
    GeFloat,
}

impl BinaryOp {
    /// Whether the op can fault (and so needs its site).
    pub fn can_fault(self) -> bool {
        matches!(
            self,
            BinaryOp::AddInt
                | BinaryOp::SubInt
                | BinaryOp::MulInt
                | BinaryOp::DivInt
                | BinaryOp::RemInt
                | BinaryOp::Shl
                | BinaryOp::Shr
        )
    }

    /// Whether the result is a bool regardless of operand types.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::EqInt
                | BinaryOp::NeInt
                | BinaryOp::LtInt
                | BinaryOp::LeInt
                | BinaryOp::GtInt
                | BinaryOp::GeInt
                | BinaryOp::EqBool
                | BinaryOp::NeBool
                | BinaryOp::EqFloat
                | BinaryOp::NeFloat
                | BinaryOp::LtFloat
                | BinaryOp::LeFloat
                | BinaryOp::GtFloat
                | BinaryOp::GeFloat
        )
    }

    /// Whether the operands are floats.
    pub fn on_floats(self) -> bool {
        matches!(
            self,
            BinaryOp::AddFloat
                | BinaryOp::SubFloat
                | BinaryOp::MulFloat
                | BinaryOp::DivFloat
                | BinaryOp::EqFloat
                | BinaryOp::NeFloat
                | BinaryOp::LtFloat
                | BinaryOp::LeFloat
                | BinaryOp::GtFloat
                | BinaryOp::GeFloat
        )
    }

    /// The operator code passed to `keel_fault_int` for faulting ops.
    pub fn fault_code(self) -> Option<keel_runtime::IntOp> {
        use keel_runtime::IntOp;
        Some(match self {
            BinaryOp::AddInt => IntOp::Add,
            BinaryOp::SubInt => IntOp::Sub,
            BinaryOp::MulInt => IntOp::Mul,
            BinaryOp::DivInt => IntOp::Div,
            BinaryOp::RemInt => IntOp::Rem,
            BinaryOp::Shl => IntOp::Shl,
            BinaryOp::Shr => IntOp::Shr,
            _ => return None,
        })
    }
}

/// A three-address instruction.
///
/// Heap operands are *borrowed* unless the instruction says it *consumes* them; every `dst` of heap
/// type receives an *owned* reference (see `docs/values.md`). Instructions that modify a container
/// in place take it as a `Local` and first make it unique (copy-on-write: if its count is not 1,
/// the local is replaced by a shallow copy and one reference of the original is released).
#[derive(Clone, Debug)]
pub enum Inst {
    /// `dst = src`; consumes `src` (the RC pass retains it first if it is used again).
    Copy { dst: Local, src: Operand },
    /// `dst = op src`; `site` is used when the op faults.
    Unary {
        dst: Local,
        op: UnaryOp,
        src: Operand,
        site: SiteId,
    },
    /// `dst = lhs op rhs`; `site` is used when the op faults.
    Binary {
        dst: Local,
        op: BinaryOp,
        lhs: Operand,
        rhs: Operand,
        site: SiteId,
    },
    /// Calls a Keel function, consuming the arguments; `dst` receives the result unless the callee
    /// returns `void`. `site` is the call's location, reported if the call overflows the stack.
    Call {
        dst: Option<Local>,
        func: FuncId,
        args: Vec<Operand>,
        site: SiteId,
    },
    /// Calls the function a function value points to: `args` are the function type's
    /// arguments (consumed), then the value (of the function type, *borrowed*), then the text of
    /// the call's site (a string, for the callee's contract faults), passed in that order to
    /// the function of the value's closure type ([`StructKind::Closure`]), whose code is field
    /// 0 of the object. `dst` receives the result unless the function type's result is `void`.
    /// Counts the callee's stack units (field 1) like `Call`, reporting a stack overflow at
    /// `site`. With `known`, the value is known to be of the closure type whose function that
    /// is (`passes::specialize`), so backends call it directly (and may inline it); a value of
    /// another closure type there is undefined, like a `VariantField` of another variant.
    CallIndirect {
        dst: Option<Local>,
        args: Vec<Operand>,
        site: SiteId,
        known: Option<FuncId>,
    },
    /// Calls a runtime function (see [`RtFunc`] for its signature, which arguments it consumes
    /// and whether it takes the fault site).
    CallRt {
        dst: Option<Local>,
        func: RtFunc,
        args: Vec<Operand>,
        site: SiteId,
    },
    /// Writes `value` (of type `ty`) to `stream`, followed by a newline when `newline` is set.
    Print {
        value: Operand,
        ty: Ty,
        newline: bool,
        stream: Stream,
    },
    /// Adds one reference to the heap value in `value` (nothing for static objects or null).
    Retain { value: Local },
    /// Drops one reference to the heap value in `value`, freeing it (and releasing its children)
    /// when the count reaches 0 (nothing for static objects or null). The local is dead after.
    Release { value: Local },
    /// `dst = [items...]` of array type `ty`; consumes the items.
    NewArray {
        dst: Local,
        ty: ArrayId,
        items: Vec<Operand>,
    },
    /// `dst = new S { fields... }` with the fields in declaration order; consumes them. When `S`
    /// is a variant of an enum type `E`, `dst` has type `E` and field 0 is the variant's tag; a
    /// variant without payload (only the tag) has one value, a static object (count -1, never
    /// freed), which every backend gives instead of allocating (docs/values.md).
    NewStruct {
        dst: Local,
        ty: StructId,
        fields: Vec<Operand>,
    },
    /// `dst = len(array)`.
    ArrayLen { dst: Local, array: Operand },
    /// `dst = array[index]` (a new reference for heap elements); faults when out of bounds.
    ArrayGet {
        dst: Local,
        array: Operand,
        index: Operand,
        site: SiteId,
    },
    /// `array[index] = value`: makes `array` unique, releases the old element, stores `value`
    /// (consumed). Faults when out of bounds (before changing anything).
    ArraySet {
        array: Local,
        index: Operand,
        value: Operand,
        site: SiteId,
    },
    /// Moves `array[index]` (heap elements only) into `dst`, leaving null in the slot, after
    /// making `array` unique. Faults when out of bounds. Always followed by an `ArraySet` of the
    /// same slot.
    ArrayTake {
        dst: Local,
        array: Local,
        index: Operand,
        site: SiteId,
    },
    /// `dst = object.field` (a new reference for heap fields).
    FieldGet {
        dst: Local,
        object: Operand,
        field: u32,
    },
    /// `dst = object.field` where `object` is a value of an enum type known to be of its
    /// variant `variant` (field 0 is the tag, the payload follows); a new reference for heap
    /// fields. Reading a variant the value is not of is undefined: the front end tests the tag
    /// first.
    VariantField {
        dst: Local,
        object: Operand,
        variant: StructId,
        field: u32,
    },
    /// `object.field = value`: makes `object` unique, releases the old field, stores `value`
    /// (consumed).
    FieldSet {
        object: Local,
        field: u32,
        value: Operand,
    },
    /// Moves `object.field` (heap fields only) into `dst`, leaving null, after making `object`
    /// unique. Always followed by a `FieldSet` of the same field.
    FieldTake {
        dst: Local,
        object: Local,
        field: u32,
    },
    /// Does nothing: marks where the code of the source statement at `site` begins, for debug
    /// information (`sema::Options::debug_info`). The code of the instructions after it, up to
    /// the next marker, belongs to that statement; a function's first marker, first in its
    /// entry block, is its declaration. Passes keep markers in place, the VM ignores them, and
    /// native code with them is the same machine code (`keel build -g`, `aot::debuginfo`).
    Line { site: SiteId },
}

impl Inst {
    /// Calls `f` on every operand the instruction reads, in evaluation order. Containers updated
    /// in place (`ArraySet`, `ArrayTake`, `FieldSet`, `FieldTake`) are read too.
    pub fn for_each_use(&self, mut f: impl FnMut(&Operand)) {
        match self {
            Inst::Copy { src, .. } | Inst::Unary { src, .. } => f(src),
            Inst::Binary { lhs, rhs, .. } => {
                f(lhs);
                f(rhs);
            }
            Inst::Call { args, .. }
            | Inst::CallIndirect { args, .. }
            | Inst::CallRt { args, .. } => args.iter().for_each(f),
            Inst::Print { value, .. } => f(value),
            Inst::Retain { value } | Inst::Release { value } => f(&Operand::Local(*value)),
            Inst::NewArray { items, .. } => items.iter().for_each(f),
            Inst::NewStruct { fields, .. } => fields.iter().for_each(f),
            Inst::ArrayLen { array, .. } => f(array),
            Inst::ArrayGet { array, index, .. } => {
                f(array);
                f(index);
            }
            Inst::ArraySet {
                array,
                index,
                value,
                ..
            } => {
                f(&Operand::Local(*array));
                f(index);
                f(value);
            }
            Inst::ArrayTake { array, index, .. } => {
                f(&Operand::Local(*array));
                f(index);
            }
            Inst::FieldGet { object, .. } | Inst::VariantField { object, .. } => f(object),
            Inst::FieldSet { object, value, .. } => {
                f(&Operand::Local(*object));
                f(value);
            }
            Inst::FieldTake { object, .. } => f(&Operand::Local(*object)),
            Inst::Line { .. } => {}
        }
    }

    /// The local the instruction assigns a new value to, if any (not counting containers
    /// updated in place; see [`Inst::updated_in_place`]).
    pub fn def(&self) -> Option<Local> {
        match self {
            Inst::Copy { dst, .. }
            | Inst::Unary { dst, .. }
            | Inst::Binary { dst, .. }
            | Inst::NewArray { dst, .. }
            | Inst::NewStruct { dst, .. }
            | Inst::ArrayLen { dst, .. }
            | Inst::ArrayGet { dst, .. }
            | Inst::ArrayTake { dst, .. }
            | Inst::FieldGet { dst, .. }
            | Inst::VariantField { dst, .. }
            | Inst::FieldTake { dst, .. } => Some(*dst),
            Inst::Call { dst, .. } | Inst::CallIndirect { dst, .. } | Inst::CallRt { dst, .. } => {
                *dst
            }
            Inst::Print { .. }
            | Inst::Retain { .. }
            | Inst::Release { .. }
            | Inst::ArraySet { .. }
            | Inst::FieldSet { .. }
            | Inst::Line { .. } => None,
        }
    }

    /// Redirects the instruction's result into `to` (it must have one).
    pub fn set_def(&mut self, to: Local) {
        match self {
            Inst::Copy { dst, .. }
            | Inst::Unary { dst, .. }
            | Inst::Binary { dst, .. }
            | Inst::NewArray { dst, .. }
            | Inst::NewStruct { dst, .. }
            | Inst::ArrayLen { dst, .. }
            | Inst::ArrayGet { dst, .. }
            | Inst::ArrayTake { dst, .. }
            | Inst::FieldGet { dst, .. }
            | Inst::VariantField { dst, .. }
            | Inst::FieldTake { dst, .. } => *dst = to,
            Inst::Call { dst, .. } | Inst::CallIndirect { dst, .. } | Inst::CallRt { dst, .. } => {
                *dst = Some(to)
            }
            _ => unreachable!("only instructions with a result are redirected"),
        }
    }

    /// Whether the instruction can raise a fault that a `live` block may recover from: the
    /// faulting `Unary`/`Binary` ops, `ArrayGet`, `ArraySet`, `ArrayTake`, every `Call` and
    /// `CallIndirect`, and the `CallRt`s whose [`RtFunc::may_fault`] holds.
    pub fn can_fault(&self) -> bool {
        match self {
            Inst::Unary { op, .. } => matches!(op, UnaryOp::NegInt | UnaryOp::FloatToInt),
            Inst::Binary { op, .. } => op.can_fault(),
            Inst::ArrayGet { .. }
            | Inst::ArraySet { .. }
            | Inst::ArrayTake { .. }
            | Inst::Call { .. }
            | Inst::CallIndirect { .. } => true,
            Inst::CallRt { func, .. } => func.may_fault(),
            _ => false,
        }
    }

    /// The function the instruction calls by name: a `Call`'s, or a `CallIndirect`'s known
    /// callee.
    pub fn direct_callee(&self) -> Option<FuncId> {
        match self {
            Inst::Call { func, .. }
            | Inst::CallIndirect {
                known: Some(func), ..
            } => Some(*func),
            _ => None,
        }
    }

    /// [`Inst::direct_callee`], to renumber it.
    pub fn direct_callee_mut(&mut self) -> Option<&mut FuncId> {
        match self {
            Inst::Call { func, .. }
            | Inst::CallIndirect {
                known: Some(func), ..
            } => Some(func),
            _ => None,
        }
    }

    /// The container local the instruction may replace (copy-on-write) and modify in place.
    pub fn updated_in_place(&self) -> Option<Local> {
        match self {
            Inst::ArraySet { array, .. } | Inst::ArrayTake { array, .. } => Some(*array),
            Inst::FieldSet { object, .. } | Inst::FieldTake { object, .. } => Some(*object),
            _ => None,
        }
    }
}

/// The runtime functions generated code calls through [`Inst::CallRt`], with the symbols and
/// signatures of `docs/values.md`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum RtFunc {
    StrConcat,
    StrEq,
    StrCmp,
    StrLen,
    IntToStr,
    FloatToStr,
    BoolToStr,
    ValueToStr,
    StrSplit,
    StrTrim,
    StrToUpper,
    StrToLower,
    StrContains,
    StrStartsWith,
    StrEndsWith,
    StrReplace,
    StrSubstring,
    StrCharAt,
    StrIndexOf,
    StrJoin,
    ParseInt,
    ParseFloat,
    /// `keel_parse_int_error(s)`: why `s` is not an int, or `""` (never faults).
    ParseIntError,
    /// `keel_parse_float_error(s)`: why `s` is not a float, or `""` (never faults).
    ParseFloatError,
    Input,
    Args,
    ArrayPush,
    ArrayPop,
    ArraySlice,
    ArrayConcat,
    ArrayReverse,
    ArraySort,
    ArrayContains,
    ArrayIndexOf,
    ArrayFill,
    ValueEq,
    IntPow,
    IntAbs,
    IntMin,
    IntMax,
    FloatAbs,
    FloatSqrt,
    FloatFloor,
    FloatCeil,
    FloatRound,
    FloatSin,
    FloatCos,
    FloatTan,
    FloatExp,
    FloatLn,
    FloatMin,
    FloatMax,
    FloatPow,
    FloatAtan2,
    ClockMs,
    /// `keel_fault(message)`: raises the fault whose whole `<kind>: <message>` text is the string
    /// argument (failed `assert`, contract or `invariant`), which it consumes, so that nothing
    /// is left to release on the fault path. Always followed by [`Term::Unwind`].
    Fault,
    /// `keel_fault_at(message, site)`: as [`RtFunc::Fault`], at the site whose text is the
    /// string `site` (borrowed): the contracts of a function called through a value, checked
    /// in the function of its closure type, which is given its caller's site. Always followed
    /// by [`Term::Unwind`].
    FaultAt,
    /// `keel_static_is_set(slot)`: whether the `static let` of slot `slot` has been set
    /// (`keel_runtime::statics`).
    StaticIsSet,
    /// `keel_static_get(slot)`: the value of a `static let` (a new reference for heap values).
    StaticGet,
    /// `keel_static_set(slot, value, desc)`: sets a `static let` to `value` (consumed) of the
    /// type `desc`, releasing the value it held.
    StaticSet,
    /// `keel_session_get(slot)`: the value a REPL session keeps in slot `slot` (a new reference
    /// for heap values; `keel_runtime::session`).
    SessionGet,
    /// `keel_session_set(slot, value, desc)`: keeps `value` (consumed) of the type `desc` in the
    /// session's slot `slot`, releasing the value it held.
    SessionSet,
    /// `keel_live_enter(within_ms)`: enters a `live` block (`within_ms` -1 for none).
    LiveEnter,
    /// `keel_live_backoff(base_ms, factor, max_ms)`: sets the backoff of the `live` block just
    /// entered (the front end accepts only non-negative literals).
    LiveBackoff,
    /// `keel_live_exit()`: leaves the innermost `live` block normally.
    LiveExit,
    /// `keel_live_retry()`: first instruction of a recovery block; returns to retry the body or
    /// raises the block's own fault (exhausted or timed out).
    LiveRetry,
    /// `keel_live_retries()`: `live_retries()`.
    LiveRetries,
    /// `keel_str_chr(code)`: `chr`; faults for a code that is no Unicode scalar value.
    StrChr,
    /// `keel_str_ord(s)`: `ord`; faults for `""`.
    StrOrd,
    /// `keel_float_math(op, x)`: `asin`, `acos`, ... by their position in
    /// `keel_runtime::math::FLOAT_MATH_NAMES`.
    FloatMath,
    /// `keel_float_math2(op, a, b)`: `hypot` (0) and `copysign` (1).
    FloatMath2,
    /// `keel_int_bits(op, x)`: `count_ones` (0), `count_zeros` (1), `leading_zeros` (2),
    /// `trailing_zeros` (3).
    IntBits,
    /// `keel_file_read(path)`: a file's text, or `""` with the reason kept for `IoError`.
    FileRead,
    /// `keel_file_write(path, content)`: the bytes written (the whole content), or 0 with the
    /// reason kept.
    FileWrite,
    /// `keel_file_append(path, content)`: as `FileWrite`, at the file's end.
    FileAppend,
    /// `keel_file_exists(path)`: a bool.
    FileExists,
    /// `keel_file_remove(path)`: removes a file, or keeps the reason.
    FileRemove,
    /// `keel_env_var(name)`: an environment variable's value, or `""` with `not set` kept.
    EnvVar,
    /// `keel_read_line()`: the next line of standard input, or `""` with `end of input` kept.
    ReadLine,
    /// `keel_io_error()`: why the last of the operations above failed (`""`: it did not).
    IoError,
    /// `keel_sleep_ms(ms)`: flushes standard output and sleeps.
    SleepMs,
    /// `keel_speculate_enter()`: enters a speculation (a fused pipeline's fast path, whose
    /// blocks have a handler like a `live` body); left by `LiveExit` when it succeeds.
    SpecEnter,
    /// `keel_str_words(s)`: the words of `s` (between spaces, tabs, `\n` and `\r`).
    StrWords,
    /// `keel_str_bytes(op, s, i)`: `string_bytes_len` (0), `string_byte_at` (1, faults).
    StrBytes,
    /// `keel_str_to_bytes(s)`: the UTF-8 bytes as `[int]`.
    StrToBytes,
    /// `keel_json_encode(desc, x)`: the JSON text of `x`, of the type `desc` describes.
    JsonEncode,
    /// `keel_int_math(op, a, b)`: `factorial`, `fibonacci`, ... by their position in
    /// `keel_runtime::math::INT_MATH_NAMES` (`b` 0 for those of one argument); faults.
    IntMath,
    /// `keel_array_insert_at(a, i, x)`: `x` inserted before position `i`; faults.
    ArrayInsertAt,
    /// `keel_array_remove_at(a, i)`: without element `i`; faults.
    ArrayRemoveAt,
    /// `keel_array_swap(a, i, j)`: elements `i` and `j` exchanged; faults.
    ArraySwap,
    /// `keel_array_set_at(a, i, x)`: `x` at position `i`; faults.
    ArraySetAt,
    /// `keel_map_new(desc)`: an empty map or set of the type `desc` describes.
    MapNew,
    /// `keel_map_insert(m, key, value)`: inserts or replaces (consumes all three; a set's
    /// value is 0).
    MapInsert,
    /// `keel_map_remove(m, key)`: without `key` (consumes `m`).
    MapRemove,
    /// `keel_map_find(m, key)`: the entry index of `key`, or -1.
    MapFind,
    /// `keel_map_key(m, i)`: the key of entry `i`.
    MapKey,
    /// `keel_map_value(m, i)`: the value of entry `i`.
    MapValue,
    /// `keel_map_sort(m)`: orders the entries by ascending key (entry `i` is the `i`-th key).
    MapSort,
    /// `keel_map_len(m)`: the number of entries.
    MapLen,
    /// `keel_map_keys(m, desc)`: the keys (a set's items) in ascending order, an array of type
    /// `desc`.
    MapKeys,
    /// `keel_map_values(m, desc)`: the values in ascending key order, an array of type `desc`.
    MapValues,
    /// `keel_speculate_abort()`: first instruction of a speculation's handler: leaves it and
    /// forgets the fault, before the slow path runs.
    SpecAbort,
}

impl RtFunc {
    /// Every runtime function, for tables and tests that must cover them all.
    pub const ALL: [RtFunc; 102] = [
        RtFunc::StrConcat,
        RtFunc::StrEq,
        RtFunc::StrCmp,
        RtFunc::StrLen,
        RtFunc::IntToStr,
        RtFunc::FloatToStr,
        RtFunc::BoolToStr,
        RtFunc::ValueToStr,
        RtFunc::StrSplit,
        RtFunc::StrTrim,
        RtFunc::StrToUpper,
        RtFunc::StrToLower,
        RtFunc::StrContains,
        RtFunc::StrStartsWith,
        RtFunc::StrEndsWith,
        RtFunc::StrReplace,
        RtFunc::StrSubstring,
        RtFunc::StrCharAt,
        RtFunc::StrIndexOf,
        RtFunc::StrJoin,
        RtFunc::ParseInt,
        RtFunc::ParseFloat,
        RtFunc::ParseIntError,
        RtFunc::ParseFloatError,
        RtFunc::Input,
        RtFunc::Args,
        RtFunc::ArrayPush,
        RtFunc::ArrayPop,
        RtFunc::ArraySlice,
        RtFunc::ArrayConcat,
        RtFunc::ArrayReverse,
        RtFunc::ArraySort,
        RtFunc::ArrayContains,
        RtFunc::ArrayIndexOf,
        RtFunc::ArrayFill,
        RtFunc::ValueEq,
        RtFunc::IntPow,
        RtFunc::IntAbs,
        RtFunc::IntMin,
        RtFunc::IntMax,
        RtFunc::FloatAbs,
        RtFunc::FloatSqrt,
        RtFunc::FloatFloor,
        RtFunc::FloatCeil,
        RtFunc::FloatRound,
        RtFunc::FloatSin,
        RtFunc::FloatCos,
        RtFunc::FloatTan,
        RtFunc::FloatExp,
        RtFunc::FloatLn,
        RtFunc::FloatMin,
        RtFunc::FloatMax,
        RtFunc::FloatPow,
        RtFunc::FloatAtan2,
        RtFunc::ClockMs,
        RtFunc::Fault,
        RtFunc::FaultAt,
        RtFunc::StaticIsSet,
        RtFunc::StaticGet,
        RtFunc::StaticSet,
        RtFunc::SessionGet,
        RtFunc::SessionSet,
        RtFunc::LiveEnter,
        RtFunc::LiveBackoff,
        RtFunc::LiveExit,
        RtFunc::LiveRetry,
        RtFunc::LiveRetries,
        RtFunc::SpecEnter,
        RtFunc::SpecAbort,
        RtFunc::FileRead,
        RtFunc::FileWrite,
        RtFunc::FileAppend,
        RtFunc::FileExists,
        RtFunc::FileRemove,
        RtFunc::EnvVar,
        RtFunc::ReadLine,
        RtFunc::IoError,
        RtFunc::SleepMs,
        RtFunc::FloatMath,
        RtFunc::FloatMath2,
        RtFunc::IntBits,
        RtFunc::StrChr,
        RtFunc::StrOrd,
        RtFunc::StrWords,
        RtFunc::StrBytes,
        RtFunc::StrToBytes,
        RtFunc::JsonEncode,
        RtFunc::IntMath,
        RtFunc::ArrayInsertAt,
        RtFunc::ArrayRemoveAt,
        RtFunc::ArraySwap,
        RtFunc::ArraySetAt,
        RtFunc::MapNew,
        RtFunc::MapInsert,
        RtFunc::MapRemove,
        RtFunc::MapFind,
        RtFunc::MapKey,
        RtFunc::MapValue,
        RtFunc::MapSort,
        RtFunc::MapLen,
        RtFunc::MapKeys,
        RtFunc::MapValues,
    ];

    /// Whether the function can raise a fault that a `live` block recovers from, so that the
    /// caller must test the pending flag after it: exactly those that take the fault site.
    pub fn may_fault(self) -> bool {
        self.sig().takes_site
    }
}

/// The machine-level kind of a runtime function's argument or result.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RtType {
    I64,
    F64,
    /// A pointer (an object or a type descriptor).
    Ptr,
    /// An element value of any type passed in an integer register as its 64 bits: an `int`, the
    /// bits of a `float`, a `bool` as 0/1, or a pointer.
    Any,
}

/// A runtime function's signature, as the backends need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtSig {
    /// The C symbol.
    pub symbol: &'static str,
    /// Parameter kinds, without the trailing site arguments.
    pub params: &'static [RtType],
    /// Which parameters are consumed (the rest are borrowed).
    pub owned: &'static [bool],
    pub ret: Option<RtType>,
    /// Whether two trailing arguments (site text pointer and length) follow the parameters.
    pub takes_site: bool,
}

impl RtFunc {
    /// The function's symbol, parameters, ownership and result.
    pub fn sig(self) -> RtSig {
        use RtFunc::*;
        use RtType::{Any, Ptr, F64, I64};
        let (symbol, params, owned, ret, takes_site): (
            _,
            &'static [RtType],
            &'static [bool],
            _,
            _,
        ) = match self {
            StrConcat => (
                "keel_str_concat",
                &[Ptr, Ptr],
                &[true, false],
                Some(Ptr),
                false,
            ),
            StrEq => (
                "keel_str_eq",
                &[Ptr, Ptr],
                &[false, false],
                Some(I64),
                false,
            ),
            StrCmp => (
                "keel_str_cmp",
                &[Ptr, Ptr],
                &[false, false],
                Some(I64),
                false,
            ),
            StrLen => ("keel_str_len", &[Ptr], &[false], Some(I64), false),
            IntToStr => ("keel_str_from_int", &[I64], &[false], Some(Ptr), false),
            FloatToStr => ("keel_str_from_float", &[F64], &[false], Some(Ptr), false),
            BoolToStr => ("keel_str_from_bool", &[I64], &[false], Some(Ptr), false),
            ValueToStr => ("keel_value_to_str", &[Ptr], &[false], Some(Ptr), false),
            StrSplit => (
                "keel_str_split",
                &[Ptr, Ptr],
                &[false, false],
                Some(Ptr),
                false,
            ),
            StrTrim => ("keel_str_trim", &[Ptr], &[false], Some(Ptr), false),
            StrToUpper => ("keel_str_to_upper", &[Ptr], &[false], Some(Ptr), false),
            StrToLower => ("keel_str_to_lower", &[Ptr], &[false], Some(Ptr), false),
            StrContains => (
                "keel_str_contains",
                &[Ptr, Ptr],
                &[false, false],
                Some(I64),
                false,
            ),
            StrStartsWith => (
                "keel_str_starts_with",
                &[Ptr, Ptr],
                &[false, false],
                Some(I64),
                false,
            ),
            StrEndsWith => (
                "keel_str_ends_with",
                &[Ptr, Ptr],
                &[false, false],
                Some(I64),
                false,
            ),
            StrReplace => (
                "keel_str_replace",
                &[Ptr, Ptr, Ptr],
                &[false, false, false],
                Some(Ptr),
                false,
            ),
            StrSubstring => (
                "keel_str_substring",
                &[Ptr, I64, I64],
                &[false, false, false],
                Some(Ptr),
                true,
            ),
            StrCharAt => (
                "keel_str_char_at",
                &[Ptr, I64],
                &[false, false],
                Some(Ptr),
                true,
            ),
            StrIndexOf => (
                "keel_str_index_of",
                &[Ptr, Ptr],
                &[false, false],
                Some(I64),
                false,
            ),
            StrJoin => (
                "keel_str_join",
                &[Ptr, Ptr],
                &[false, false],
                Some(Ptr),
                false,
            ),
            ParseInt => ("keel_parse_int", &[Ptr], &[false], Some(I64), true),
            ParseFloat => ("keel_parse_float", &[Ptr], &[false], Some(F64), true),
            ParseIntError => ("keel_parse_int_error", &[Ptr], &[false], Some(Ptr), false),
            ParseFloatError => ("keel_parse_float_error", &[Ptr], &[false], Some(Ptr), false),
            Input => ("keel_input", &[], &[], Some(Ptr), false),
            Args => ("keel_args", &[], &[], Some(Ptr), false),
            ArrayPush => (
                "keel_array_push",
                &[Ptr, Any],
                &[true, true],
                Some(Ptr),
                false,
            ),
            ArrayPop => ("keel_array_pop", &[Ptr], &[true], Some(Ptr), true),
            ArraySlice => (
                "keel_array_slice",
                &[Ptr, I64, I64],
                &[false, false, false],
                Some(Ptr),
                true,
            ),
            ArrayConcat => (
                "keel_array_concat",
                &[Ptr, Ptr],
                &[true, false],
                Some(Ptr),
                false,
            ),
            ArrayReverse => ("keel_array_reverse", &[Ptr], &[true], Some(Ptr), false),
            ArraySort => ("keel_array_sort", &[Ptr], &[true], Some(Ptr), false),
            ArrayContains => (
                "keel_array_contains",
                &[Ptr, Any],
                &[false, false],
                Some(I64),
                false,
            ),
            ArrayIndexOf => (
                "keel_array_index_of",
                &[Ptr, Any],
                &[false, false],
                Some(I64),
                false,
            ),
            ArrayFill => (
                "keel_array_fill",
                &[Ptr, I64, Any],
                &[false, false, true],
                Some(Ptr),
                true,
            ),
            ValueEq => (
                "keel_value_eq",
                &[Ptr, Ptr],
                &[false, false],
                Some(I64),
                false,
            ),
            IntPow => (
                "keel_int_pow",
                &[I64, I64],
                &[false, false],
                Some(I64),
                true,
            ),
            IntAbs => ("keel_int_abs", &[I64], &[false], Some(I64), true),
            IntMin => (
                "keel_int_min",
                &[I64, I64],
                &[false, false],
                Some(I64),
                false,
            ),
            IntMax => (
                "keel_int_max",
                &[I64, I64],
                &[false, false],
                Some(I64),
                false,
            ),
            FloatAbs => ("keel_float_abs", &[F64], &[false], Some(F64), false),
            FloatSqrt => ("keel_float_sqrt", &[F64], &[false], Some(F64), false),
            FloatFloor => ("keel_float_floor", &[F64], &[false], Some(F64), false),
            FloatCeil => ("keel_float_ceil", &[F64], &[false], Some(F64), false),
            FloatRound => ("keel_float_round", &[F64], &[false], Some(F64), false),
            FloatSin => ("keel_float_sin", &[F64], &[false], Some(F64), false),
            FloatCos => ("keel_float_cos", &[F64], &[false], Some(F64), false),
            FloatTan => ("keel_float_tan", &[F64], &[false], Some(F64), false),
            FloatExp => ("keel_float_exp", &[F64], &[false], Some(F64), false),
            FloatLn => ("keel_float_ln", &[F64], &[false], Some(F64), false),
            FloatMin => (
                "keel_float_min",
                &[F64, F64],
                &[false, false],
                Some(F64),
                false,
            ),
            FloatMax => (
                "keel_float_max",
                &[F64, F64],
                &[false, false],
                Some(F64),
                false,
            ),
            FloatPow => (
                "keel_float_pow",
                &[F64, F64],
                &[false, false],
                Some(F64),
                false,
            ),
            FloatAtan2 => (
                "keel_float_atan2",
                &[F64, F64],
                &[false, false],
                Some(F64),
                false,
            ),
            ClockMs => ("keel_clock_ms", &[], &[], Some(I64), false),
            StrChr => ("keel_str_chr", &[I64], &[false], Some(Ptr), true),
            StrOrd => ("keel_str_ord", &[Ptr], &[false], Some(I64), true),
            FloatMath => (
                "keel_float_math",
                &[I64, F64],
                &[false, false],
                Some(F64),
                false,
            ),
            FloatMath2 => (
                "keel_float_math2",
                &[I64, F64, F64],
                &[false, false, false],
                Some(F64),
                false,
            ),
            IntBits => (
                "keel_int_bits",
                &[I64, I64],
                &[false, false],
                Some(I64),
                false,
            ),
            Fault => ("keel_fault", &[Ptr], &[true], None, true),
            FaultAt => ("keel_fault_at", &[Ptr, Ptr], &[true, false], None, false),
            StaticIsSet => ("keel_static_is_set", &[I64], &[false], Some(I64), false),
            StaticGet => ("keel_static_get", &[I64], &[false], Some(Any), false),
            StaticSet => (
                "keel_static_set",
                &[I64, Any, Ptr],
                &[false, true, false],
                None,
                false,
            ),
            SessionGet => ("keel_session_get", &[I64], &[false], Some(Any), false),
            SessionSet => (
                "keel_session_set",
                &[I64, Any, Ptr],
                &[false, true, false],
                None,
                false,
            ),
            LiveEnter => ("keel_live_enter", &[I64], &[false], None, false),
            LiveBackoff => (
                "keel_live_backoff",
                &[I64, I64, I64],
                &[false, false, false],
                None,
                false,
            ),
            LiveExit => ("keel_live_exit", &[], &[], None, false),
            LiveRetry => ("keel_live_retry", &[], &[], None, true),
            LiveRetries => ("keel_live_retries", &[], &[], Some(I64), false),
            SpecEnter => ("keel_speculate_enter", &[], &[], None, false),
            FileRead => ("keel_file_read", &[Ptr], &[false], Some(Ptr), false),
            FileWrite => (
                "keel_file_write",
                &[Ptr, Ptr],
                &[false, false],
                Some(I64),
                false,
            ),
            FileAppend => (
                "keel_file_append",
                &[Ptr, Ptr],
                &[false, false],
                Some(I64),
                false,
            ),
            FileExists => ("keel_file_exists", &[Ptr], &[false], Some(I64), false),
            FileRemove => ("keel_file_remove", &[Ptr], &[false], None, false),
            EnvVar => ("keel_env_var", &[Ptr], &[false], Some(Ptr), false),
            ReadLine => ("keel_read_line", &[], &[], Some(Ptr), false),
            IoError => ("keel_io_error", &[], &[], Some(Ptr), false),
            SleepMs => ("keel_sleep_ms", &[I64], &[false], None, false),
            SpecAbort => ("keel_speculate_abort", &[], &[], None, false),
            StrWords => ("keel_str_words", &[Ptr], &[false], Some(Ptr), false),
            StrBytes => (
                "keel_str_bytes",
                &[I64, Ptr, I64],
                &[false, false, false],
                Some(I64),
                true,
            ),
            StrToBytes => ("keel_str_to_bytes", &[Ptr], &[false], Some(Ptr), false),
            JsonEncode => (
                "keel_json_encode",
                &[Ptr, Any],
                &[false, false],
                Some(Ptr),
                true,
            ),
            IntMath => (
                "keel_int_math",
                &[I64, I64, I64],
                &[false, false, false],
                Some(I64),
                true,
            ),
            ArrayInsertAt => (
                "keel_array_insert_at",
                &[Ptr, I64, Any],
                &[true, false, true],
                Some(Ptr),
                true,
            ),
            ArrayRemoveAt => (
                "keel_array_remove_at",
                &[Ptr, I64],
                &[true, false],
                Some(Ptr),
                true,
            ),
            ArraySwap => (
                "keel_array_swap",
                &[Ptr, I64, I64],
                &[true, false, false],
                Some(Ptr),
                true,
            ),
            ArraySetAt => (
                "keel_array_set_at",
                &[Ptr, I64, Any],
                &[true, false, true],
                Some(Ptr),
                true,
            ),
            MapNew => ("keel_map_new", &[Ptr], &[false], Some(Ptr), false),
            MapInsert => (
                "keel_map_insert",
                &[Ptr, Any, Any],
                &[true, true, true],
                Some(Ptr),
                false,
            ),
            MapRemove => (
                "keel_map_remove",
                &[Ptr, Any],
                &[true, false],
                Some(Ptr),
                false,
            ),
            MapFind => (
                "keel_map_find",
                &[Ptr, Any],
                &[false, false],
                Some(I64),
                false,
            ),
            MapKey => (
                "keel_map_key",
                &[Ptr, I64],
                &[false, false],
                Some(Any),
                false,
            ),
            MapValue => (
                "keel_map_value",
                &[Ptr, I64],
                &[false, false],
                Some(Any),
                false,
            ),
            MapSort => ("keel_map_sort", &[Ptr], &[false], None, false),
            MapLen => ("keel_map_len", &[Ptr], &[false], Some(I64), false),
            MapKeys => (
                "keel_map_keys",
                &[Ptr, Ptr],
                &[false, false],
                Some(Ptr),
                false,
            ),
            MapValues => (
                "keel_map_values",
                &[Ptr, Ptr],
                &[false, false],
                Some(Ptr),
                false,
            ),
        };
        RtSig {
            symbol,
            params,
            owned,
            ret,
            takes_site,
        }
    }
}

/// Where `print`/`println`/`eprintln` write.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// How a block ends.
#[derive(Clone, Debug)]
pub enum Term {
    Jump(BlockId),
    /// Goes to `then_to` when the bool `cond` is true, else to `else_to`.
    Branch {
        cond: Operand,
        then_to: BlockId,
        else_to: BlockId,
    },
    /// Returns from the function, with a value unless it returns `void`.
    Return(Option<Operand>),
    /// Ends the process with the given int status (flushing output first).
    Exit(Operand),
    /// Continues a fault just raised (by `CallRt` of [`RtFunc::Fault`] or [`RtFunc::LiveRetry`])
    /// at the block's handler, or returns from the function when it has none. Reached only when
    /// the fault was recorded for a `live` block; otherwise the process has ended already.
    Unwind,
}

impl Term {
    /// The blocks this terminator may transfer control to.
    pub fn successors(&self) -> Vec<BlockId> {
        match self {
            Term::Jump(b) => vec![*b],
            Term::Branch {
                then_to, else_to, ..
            } => vec![*then_to, *else_to],
            Term::Return(_) | Term::Exit(_) | Term::Unwind => vec![],
        }
    }

    /// The value the terminator reads, if any: a branch's condition, the returned value, the
    /// exit status.
    pub fn operand(&self) -> Option<&Operand> {
        match self {
            Term::Branch { cond, .. } => Some(cond),
            Term::Return(Some(value)) | Term::Exit(value) => Some(value),
            Term::Jump(_) | Term::Return(None) | Term::Unwind => None,
        }
    }
}
