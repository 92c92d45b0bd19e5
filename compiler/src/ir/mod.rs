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

pub mod passes;
pub mod print;
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
    Str,
    /// Only as a function result: the function returns no value.
    Void,
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ty::Int => "int",
            Ty::Bool => "bool",
            Ty::Str => "string",
            Ty::Void => "void",
        })
    }
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
}

/// An instruction input: a local or an immediate constant.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Operand {
    Local(Local),
    Int(i64),
    Bool(bool),
    Str(StrId),
}

/// Unary operations.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    /// `-x` on int; faults on overflow (`-i64::MIN`).
    NegInt,
    /// `!b` on bool.
    Not,
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

/// Where `print`/`println`/`eprintln` write.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// A three-address instruction.
#[derive(Clone, Debug)]
pub enum Inst {
    /// `dst = src`.
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
    /// Calls a Keel function; `dst` receives the result unless the callee returns `void`. `site`
    /// is the call's location, reported if the call overflows the stack.
    Call {
        dst: Option<Local>,
        func: FuncId,
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
}

impl Term {
    /// The blocks this terminator may transfer control to.
    pub fn successors(&self) -> Vec<BlockId> {
        match self {
            Term::Jump(b) => vec![*b],
            Term::Branch {
                then_to, else_to, ..
            } => vec![*then_to, *else_to],
            Term::Return(_) | Term::Exit(_) => vec![],
        }
    }
}
