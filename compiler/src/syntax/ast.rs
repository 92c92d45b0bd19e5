//! The abstract syntax tree: what the parser produces and the checker consumes.
//!
//! Every node keeps its [`Span`] so that later stages can point at the source. The tree is
//! untyped and unresolved: names are strings, types are as written. Backends never see it.
//!
//! Expressions and blocks also keep their *height* (how many levels of the tree they span, 1 for
//! a leaf), computed from their children's when they are made ([`Expr::new`], [`Block::new`]):
//! later stages recurse once per level, so the parser bounds it (`parser::MAX_DEPTH`).

use crate::diag::Span;

/// A parsed source file: its items and top-level statements in source order, and the files it
/// imports.
#[derive(Clone, Debug, Default)]
pub struct File {
    pub items: Vec<Item>,
    /// Its `use "path";` declarations, in source order (the loader follows them; the checker
    /// never sees them).
    pub uses: Vec<Use>,
}

/// `use "lib/words.kl";`: another file's items, brought in.
#[derive(Clone, Debug)]
pub struct Use {
    /// The path as written, escapes decoded.
    pub path: String,
    /// The string literal.
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum Item {
    Fn(FnDecl),
    Struct(StructDecl),
    Enum(EnumDecl),
    Impl(ImplDecl),
    /// `trait Name { fn f(self) -> T; fn g(self) -> U { ... } }`.
    Trait(TraitDecl),
    /// `type Name = T;` or `type Name<A> = T;`: another name for a type (structural).
    TypeAlias(TypeAlias),
    /// `const NAME: T = value;` at the top level: a value every function sees.
    Const(ConstDecl),
    Stmt(Stmt),
}

/// A trait: the functions a type implementing it has. A function without a body must be
/// given by every `impl`; one with a body (a default) may be.
#[derive(Clone, Debug)]
pub struct TraitDecl {
    pub name: Ident,
    pub methods: Vec<TraitMethod>,
}

#[derive(Clone, Debug)]
pub struct TraitMethod {
    /// The signature; the body is empty when `has_body` is false.
    pub decl: FnDecl,
    pub has_body: bool,
}

#[derive(Clone, Debug)]
pub struct TypeAlias {
    pub name: Ident,
    pub type_params: Vec<TypeParam>,
    pub ty: TypeExpr,
}

#[derive(Clone, Debug)]
pub struct ConstDecl {
    pub name: Ident,
    pub ty: TypeExpr,
    pub value: Expr,
}

/// `impl Type { fn ... }` or `impl<T> Stack<T> { fn ... }`: methods (with a first parameter
/// `self`) and associated functions (without) of a struct or enum.
#[derive(Clone, Debug)]
pub struct ImplDecl {
    pub type_params: Vec<TypeParam>,
    /// `impl Trait for Type`: the trait.
    pub trait_name: Option<Ident>,
    /// The type the functions belong to, as written (`Stack<T>`).
    pub target: TypeExpr,
    pub methods: Vec<FnDecl>,
}

/// `enum Name { Variant, Variant(T, ...), ... }`.
#[derive(Clone, Debug)]
pub struct EnumDecl {
    pub name: Ident,
    /// `<T, U>` after the name: the enum is generic.
    pub type_params: Vec<TypeParam>,
    pub variants: Vec<VariantDecl>,
}

/// One variant of an enum: its name and its payload's types (none for a unit variant).
#[derive(Clone, Debug)]
pub struct VariantDecl {
    pub name: Ident,
    pub payload: Vec<TypeExpr>,
}

/// `struct Name { T field, ... }`.
#[derive(Clone, Debug)]
pub struct StructDecl {
    pub name: Ident,
    pub type_params: Vec<TypeParam>,
    pub fields: Vec<Param>,
}

/// A type parameter of a generic declaration: `T`, or `T: Display + Ord` with bounds (read
/// now, checked by nothing yet: traits come later).
#[derive(Clone, Debug)]
pub struct TypeParam {
    pub name: Ident,
    pub bounds: Vec<Ident>,
}

/// A name and where it is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// `fn name(T a, ...) -> R requires e ensures e { body }`.
#[derive(Clone, Debug)]
pub struct FnDecl {
    pub name: Ident,
    pub type_params: Vec<TypeParam>,
    pub params: Vec<Param>,
    /// `None` when the return type is to be inferred from the body.
    pub ret: Option<TypeExpr>,
    /// For a function of an `impl` block, the block's type (what `Self` and `self` are).
    pub self_type: Option<TypeExpr>,
    /// The `requires` and `ensures` clauses, in source order.
    pub contracts: Vec<Contract>,
    pub body: Block,
}

/// Whether a contract clause is checked before (`requires`) or after (`ensures`) a call.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ContractKind {
    Requires,
    Ensures,
}

impl ContractKind {
    /// The keyword, as fault messages name it.
    pub fn keyword(self) -> &'static str {
        match self {
            ContractKind::Requires => "requires",
            ContractKind::Ensures => "ensures",
        }
    }
}

/// One `requires e` or `ensures e` clause.
#[derive(Clone, Debug)]
pub struct Contract {
    pub kind: ContractKind,
    pub cond: Expr,
    /// The condition's source text exactly as written, for fault messages.
    pub text: String,
}

/// `live [backoff(...)] [within N ms|s] [invariant e] { body }`.
#[derive(Clone, Debug)]
pub struct LiveBlock {
    /// The `live` keyword, where the block's own fault is reported.
    pub keyword: Span,
    /// `backoff(...)` with every omitted argument at its default; `None` without `backoff`.
    pub backoff: Option<Backoff>,
    /// `within`, converted to milliseconds.
    pub within_ms: Option<i64>,
    pub invariant: Option<Invariant>,
    pub body: Block,
}

/// The arguments of `backoff(base_ms=.., factor=.., max_ms=..)`, all non-negative literals.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub base_ms: i64,
    pub factor: i64,
    pub max_ms: i64,
}

impl Backoff {
    /// The values of arguments left out: `backoff()` is `backoff(base_ms=2, factor=2, max_ms=20)`.
    pub const DEFAULT: Backoff = Backoff {
        base_ms: 2,
        factor: 2,
        max_ms: 20,
    };
}

/// `invariant e` of a `live` block.
#[derive(Clone, Debug)]
pub struct Invariant {
    pub cond: Expr,
    /// The condition's source text exactly as written, for the fault message.
    pub text: String,
}

#[derive(Clone, Debug)]
pub struct Param {
    pub ty: TypeExpr,
    pub name: Ident,
}

/// A type as written.
#[derive(Clone, Debug)]
pub enum TypeExpr {
    /// `int`, `bool`, `string`, `void`, or a user type name.
    Named(Ident),
    /// `[T]`.
    Array(Box<TypeExpr>, Span),
    /// `(A, B, ...)`: two or more element types.
    Tuple(Vec<TypeExpr>, Span),
    /// `Name<A, B>`: a generic type given its type arguments; `span` covers it all.
    Applied {
        name: Ident,
        args: Vec<TypeExpr>,
        span: Span,
    },
    /// `fn(A, B) -> R`: a function type (`ret` `None` for a function without a result).
    Fn {
        params: Vec<TypeExpr>,
        ret: Option<Box<TypeExpr>>,
        span: Span,
    },
}

impl TypeExpr {
    /// The types written inside this one: an array's element, a tuple's elements, a generic
    /// type's arguments, a function type's parameters and result.
    pub fn children_mut(&mut self) -> Vec<&mut TypeExpr> {
        match self {
            TypeExpr::Named(_) => Vec::new(),
            TypeExpr::Array(elem, _) => vec![&mut **elem],
            TypeExpr::Tuple(elems, _) | TypeExpr::Applied { args: elems, .. } => {
                elems.iter_mut().collect()
            }
            TypeExpr::Fn { params, ret, .. } => {
                params.iter_mut().chain(ret.as_deref_mut()).collect()
            }
        }
    }

    /// The types written inside this one (see [`TypeExpr::children_mut`]).
    pub fn children(&self) -> Vec<&TypeExpr> {
        match self {
            TypeExpr::Named(_) => Vec::new(),
            TypeExpr::Array(elem, _) => vec![&**elem],
            TypeExpr::Tuple(elems, _) | TypeExpr::Applied { args: elems, .. } => {
                elems.iter().collect()
            }
            TypeExpr::Fn { params, ret, .. } => params.iter().chain(ret.as_deref()).collect(),
        }
    }

    pub fn span(&self) -> Span {
        match self {
            TypeExpr::Named(ident) => ident.span,
            TypeExpr::Array(_, span)
            | TypeExpr::Tuple(_, span)
            | TypeExpr::Applied { span, .. }
            | TypeExpr::Fn { span, .. } => *span,
        }
    }
}

/// A pattern: what `let`, `for` and `match` arms match a value against. `let` and `for` take
/// only the patterns that match every value of their type (the checker says so otherwise).
#[derive(Clone, Debug)]
pub enum Pattern {
    /// A name, bound to the whole value (or a unit variant of the prelude, such as `None`: the
    /// checker tells them apart).
    Bind(Ident),
    /// `_`: matches anything and binds nothing.
    Wildcard(Span),
    /// `(p, q, ...)`: a tuple of two or more elements, each matched by its pattern.
    Tuple(Vec<Pattern>, Span),
    /// An int, bool or string literal (an int may be negative).
    Literal(Literal, Span),
    /// `Enum::Variant`, `Enum::Variant(p, ...)`, or without the enum (`Some(x)`) for the
    /// prelude's variants.
    Variant {
        enum_name: Option<Ident>,
        variant: Ident,
        /// The payload's patterns; `None` when no parentheses are written.
        args: Option<Vec<Pattern>>,
        span: Span,
    },
    /// `p | q | ...`: matches what any of them matches.
    Or(Vec<Pattern>, Span),
}

/// A literal in a pattern.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Int(i64),
    Bool(bool),
    Str(String),
}

impl Pattern {
    pub fn span(&self) -> Span {
        match self {
            Pattern::Bind(ident) => ident.span,
            Pattern::Wildcard(span)
            | Pattern::Tuple(_, span)
            | Pattern::Literal(_, span)
            | Pattern::Variant { span, .. }
            | Pattern::Or(_, span) => *span,
        }
    }

    /// The names the pattern binds, in order (for `p | q`, those of `p`).
    pub fn names(&self) -> Vec<&Ident> {
        let mut names = Vec::new();
        let mut pending = vec![self];
        while let Some(pattern) = pending.pop() {
            match pattern {
                Pattern::Bind(ident) => names.push(ident),
                Pattern::Wildcard(_) | Pattern::Literal(..) => {}
                Pattern::Tuple(parts, _) => pending.extend(parts.iter().rev()),
                Pattern::Variant { args, .. } => {
                    pending.extend(args.iter().flatten().rev());
                }
                Pattern::Or(alternatives, _) => pending.extend(alternatives.first()),
            }
        }
        names
    }
}

/// One arm of a `match`: `pattern (if guard)? => body`.
#[derive(Clone, Debug)]
pub struct Arm {
    pub pattern: Pattern,
    pub guard: Option<Expr>,
    pub body: Expr,
    /// The `=>` token.
    pub arrow: Span,
    /// Whether the parser wrote the arm (the `_ => ...` of `if let` and `while let`), so that
    /// it is never reported as unreachable.
    pub synthetic: bool,
}

/// `{ stmt* tail? }`: a scope, whose value is its tail expression (if any).
#[derive(Clone, Debug)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    /// A final expression without `;`, giving the block its value.
    pub tail: Option<Box<Expr>>,
    pub span: Span,
    /// Levels of the tree from here down.
    pub height: u32,
}

impl Block {
    pub fn new(stmts: Vec<Stmt>, tail: Option<Box<Expr>>, span: Span) -> Block {
        let height = stmts
            .iter()
            .map(|stmt| stmt.kind.height())
            .chain(tail.iter().map(|tail| tail.height))
            .max()
            .unwrap_or(0)
            .saturating_add(1);
        Block {
            stmts,
            tail,
            span,
            height,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum StmtKind {
    /// `let pattern: ty = value;`
    Let {
        pattern: Box<Pattern>,
        ty: Option<Box<TypeExpr>>,
        value: Expr,
    },
    /// `static let name: T = value;` in a function: one variable for all its calls, set to
    /// `value` the first time the statement runs.
    StaticLet {
        name: Ident,
        ty: Option<Box<TypeExpr>>,
        value: Box<Expr>,
    },
    /// `target = value;` or, with `op`, `target op= value;`.
    Assign {
        target: Box<Expr>,
        op: Option<(BinOp, Span)>,
        value: Box<Expr>,
    },
    /// An expression used as a statement.
    Expr(Expr),
    While {
        cond: Expr,
        body: Box<Block>,
    },
    /// `for pattern in array { body }`.
    ForEach {
        pattern: Box<Pattern>,
        array: Expr,
        body: Box<Block>,
    },
    /// `for var in start..end { body }`.
    ForRange {
        var: Ident,
        start: Box<Expr>,
        end: Box<Expr>,
        body: Box<Block>,
    },
    Break,
    Continue,
    Return(Option<Expr>),
    /// `assert(cond)` or `assert(cond, message)`; `keyword` is where a failure is reported and
    /// `text` the condition's source text.
    Assert {
        keyword: Span,
        cond: Box<Expr>,
        message: Option<Box<Expr>>,
        text: String,
    },
    Live(Box<LiveBlock>),
    /// A statement the parser recognised but could not read; already reported.
    Error,
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
    /// Levels of the tree from here down (1 for a leaf).
    pub height: u32,
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        let height = kind.height();
        Expr { kind, span, height }
    }
}

/// One more than the greatest of `heights` (1 for none).
fn above(heights: impl IntoIterator<Item = u32>) -> u32 {
    heights.into_iter().max().unwrap_or(0).saturating_add(1)
}

impl ExprKind {
    /// The height of a node of this kind, from its children's.
    fn height(&self) -> u32 {
        match self {
            ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Bool(_)
            | ExprKind::Str(_)
            | ExprKind::Var(_)
            | ExprKind::Error => 1,
            ExprKind::Array(items) | ExprKind::Tuple(items) => {
                above(items.iter().map(|e| e.height))
            }
            ExprKind::New { fields, .. } => above(fields.iter().map(|(_, e)| e.height)),
            ExprKind::Call { args, .. } | ExprKind::MethodCall { args, .. } => {
                above(args.iter().map(|e| e.height))
            }
            ExprKind::CallValue { callee, args } => {
                above(std::iter::once(callee.height).chain(args.iter().map(|e| e.height)))
            }
            // A closure's body is a function of its own: checked from its own depth.
            ExprKind::Closure { .. } => 1,
            ExprKind::Index { base, index, .. } => above([base.height, index.height]),
            ExprKind::Slice {
                base, start, end, ..
            } => above([base.height, start.height, end.height]),
            ExprKind::Field { base, .. } => above([base.height]),
            ExprKind::Binary { lhs, rhs, .. } => above([lhs.height, rhs.height]),
            ExprKind::Unary { operand, .. } | ExprKind::Try { operand, .. } => {
                above([operand.height])
            }
            ExprKind::If { cond, then, else_ } => above(
                [cond.height, then.height]
                    .into_iter()
                    .chain(else_.iter().map(|e| e.height)),
            ),
            ExprKind::Block(block) => above([block.height]),
            ExprKind::Variant { args, .. } => above(args.iter().flatten().map(|e| e.height)),
            ExprKind::Match { scrutinee, arms } => above(std::iter::once(scrutinee.height).chain(
                arms.iter().flat_map(|arm| {
                    std::iter::once(arm.body.height).chain(arm.guard.iter().map(|g| g.height))
                }),
            )),
        }
    }
}

impl StmtKind {
    /// The height of a statement of this kind, from its children's.
    fn height(&self) -> u32 {
        match self {
            StmtKind::Let { value, .. } => above([value.height]),
            StmtKind::StaticLet { value, .. } => above([value.height]),
            StmtKind::Assign { target, value, .. } => above([target.height, value.height]),
            StmtKind::Expr(expr) => above([expr.height]),
            StmtKind::While { cond, body } => above([cond.height, body.height]),
            StmtKind::ForEach { array, body, .. } => above([array.height, body.height]),
            StmtKind::ForRange {
                start, end, body, ..
            } => above([start.height, end.height, body.height]),
            StmtKind::Return(value) => above(value.iter().map(|e| e.height)),
            StmtKind::Assert { cond, message, .. } => {
                above(std::iter::once(cond.height).chain(message.iter().map(|e| e.height)))
            }
            StmtKind::Live(live) => above(
                std::iter::once(live.body.height)
                    .chain(live.invariant.iter().map(|i| i.cond.height)),
            ),
            StmtKind::Break | StmtKind::Continue | StmtKind::Error => 1,
        }
    }
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    Var(String),
    /// `[a, b, c]`.
    Array(Vec<Expr>),
    /// `(a, b, ...)`: two or more elements.
    Tuple(Vec<Expr>),
    /// `new Name { field: value, ... }` (shorthand `field` means `field: field`).
    New {
        name: Box<Ident>,
        /// `new Pair<int, string> { ... }`: type arguments written out (else inferred).
        type_args: Vec<TypeExpr>,
        fields: Vec<(Ident, Expr)>,
    },
    /// `base[index]`; `bracket` is the `[` token, where bounds faults are reported.
    Index {
        base: Box<Expr>,
        index: Box<Expr>,
        bracket: Span,
    },
    /// `base[start..end]`.
    Slice {
        base: Box<Expr>,
        start: Box<Expr>,
        end: Box<Expr>,
        bracket: Span,
    },
    /// `base.field`.
    Field {
        base: Box<Expr>,
        field: Ident,
    },
    /// `lhs op rhs`; `op_span` is the operator token, where faults are reported.
    Binary {
        op: BinOp,
        op_span: Span,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `op operand`; the operator is at the start of the expression's span.
    Unary {
        op: UnOp,
        operand: Box<Expr>,
    },
    Call {
        callee: Ident,
        args: Vec<Expr>,
    },
    /// `callee(args)` where the callee is an expression other than a name: a call of a
    /// function value (`make_adder(1)(2)`, `(s.op)(x)`).
    CallValue {
        callee: Box<Expr>,
        args: Vec<Expr>,
    },
    /// `fn(int x) -> int { ... }`: a closure, which copies the outer variables it uses when it
    /// is created. Without `-> T`, its result type is inferred from its body.
    Closure {
        params: Vec<Param>,
        ret: Option<Box<TypeExpr>>,
        body: Box<Block>,
    },
    /// `receiver.method(args)`: `args` starts with the receiver. A method of the receiver's
    /// type if it has one, else the function `method` called with the receiver first.
    MethodCall {
        method: Ident,
        args: Vec<Expr>,
    },
    /// `Enum::Variant`, or `Enum::Variant(args)` with `args`.
    Variant {
        enum_name: Box<Ident>,
        variant: Box<Ident>,
        args: Option<Vec<Expr>>,
    },
    /// `operand?`: the `Some`/`Ok` payload of an Option or Result, or an early return of the
    /// `None`/`Err`; `question` is the `?` token.
    Try {
        operand: Box<Expr>,
        question: Span,
    },
    /// `match scrutinee { arms }`; also what `if let` and `while let` are read as.
    Match {
        scrutinee: Box<Expr>,
        arms: Vec<Arm>,
    },
    /// `if cond { then } else else_`; `else_` is a block or another `if` expression.
    If {
        cond: Box<Expr>,
        then: Box<Block>,
        else_: Option<Box<Expr>>,
    },
    Block(Block),
    /// An expression the parser could not read; already reported.
    Error,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    BitOr,
    BitXor,
    BitAnd,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Shl,
    Shr,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "||",
            BinOp::And => "&&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
            BinOp::BitAnd => "&",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Gt => ">",
            BinOp::Le => "<=",
            BinOp::Ge => ">=",
            BinOp::Shl => "<<",
            BinOp::Shr => ">>",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Not,
}
// The tree's nodes stay small: they are moved and stored by value, and a 100k-line program holds
// hundreds of thousands of them. A variant that would make every node bigger keeps its large
// parts in boxes (a statement was 392 bytes and an expression 152 before that rule).
const _: () = assert!(std::mem::size_of::<Expr>() <= 80);
const _: () = assert!(std::mem::size_of::<Stmt>() <= 112);
