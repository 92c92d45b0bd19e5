//! The types the checker works with, and the typed tree it hands to the lowering.
//!
//! The typed tree mirrors the AST with every name resolved (variables are [`VarId`]s local to
//! their function, callees are function indices or [`Builtin`]s) and every expression typed.
//! It exists only between `check` and `lower`; no backend sees it.

use std::fmt;

use crate::diag::Span;
use crate::ir::Ty;
use crate::syntax::ast::{BinOp, UnOp};

/// A type during checking. `Error` stands for "already reported": it is compatible with
/// everything, so one mistake produces one diagnostic.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Type {
    Int,
    Bool,
    Str,
    Void,
    Error,
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
            Type::Str => Ty::Str,
            Type::Void => Ty::Void,
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Type::Int => "int",
            Type::Bool => "bool",
            Type::Str => "string",
            Type::Void => "void",
            Type::Error => "{unknown}",
        })
    }
}

/// A variable of one function, numbered from 0 (parameters first).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct VarId(pub u32);

/// The functions the language provides.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Builtin {
    Print,
    Println,
    Eprintln,
    Exit,
}

impl Builtin {
    pub const ALL: [Builtin; 4] = [
        Builtin::Print,
        Builtin::Println,
        Builtin::Eprintln,
        Builtin::Exit,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Builtin::Print => "print",
            Builtin::Println => "println",
            Builtin::Eprintln => "eprintln",
            Builtin::Exit => "exit",
        }
    }

    pub fn from_name(name: &str) -> Option<Builtin> {
        Builtin::ALL.into_iter().find(|b| b.name() == name)
    }
}

/// The checked program: user functions (indexed as declared) and the top-level body.
#[derive(Debug)]
pub struct TProgram {
    pub funcs: Vec<TFunc>,
    pub main: TFunc,
}

#[derive(Debug)]
pub struct TFunc {
    pub name: String,
    pub param_count: u32,
    /// Every variable (parameters first) with its name and type.
    pub vars: Vec<(String, Type)>,
    pub ret: Type,
    pub body: TBlock,
}

#[derive(Debug)]
pub struct TBlock {
    pub stmts: Vec<TStmt>,
    pub tail: Option<Box<TExpr>>,
}

#[derive(Debug)]
pub enum TStmt {
    /// `let` or plain assignment: `var = value`.
    Assign {
        var: VarId,
        value: TExpr,
    },
    Expr(TExpr),
    While {
        cond: TExpr,
        body: TBlock,
    },
    /// `for var in start..end`; `span` is the whole statement's, named by its instructions.
    ForRange {
        var: VarId,
        span: Span,
        start: TExpr,
        end: TExpr,
        body: TBlock,
    },
    Break,
    Continue,
    Return(Option<TExpr>),
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
    Bool(bool),
    Str(String),
    Var(VarId),
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
    If {
        cond: Box<TExpr>,
        then: TBlock,
        else_: Option<Box<TExpr>>,
    },
    Block(TBlock),
    /// An expression that failed to check; never lowered (lowering runs only without errors).
    Error,
}

impl TExpr {
    pub fn error(span: Span) -> TExpr {
        TExpr {
            kind: TExprKind::Error,
            ty: Type::Error,
            span,
        }
    }

    /// Whether evaluating this expression may assign a variable (it contains statements).
    pub fn may_assign(&self) -> bool {
        match &self.kind {
            TExprKind::Block(_) | TExprKind::If { .. } => true,
            TExprKind::Binary { lhs, rhs, .. } | TExprKind::Logic { lhs, rhs, .. } => {
                lhs.may_assign() || rhs.may_assign()
            }
            TExprKind::Unary { operand, .. } => operand.may_assign(),
            TExprKind::Call { args, .. } | TExprKind::Builtin { args, .. } => {
                args.iter().any(TExpr::may_assign)
            }
            _ => false,
        }
    }
}
