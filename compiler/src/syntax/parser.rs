//! The parser: tokens to an [`ast::File`], by recursive descent with precedence climbing.
//!
//! Parsing never fails as a whole: a syntax error becomes a diagnostic, the parser skips to a
//! likely statement boundary (`;`, `}` or a statement keyword) and goes on, so one run reports
//! several errors. Literal values are decoded here (integer ranges, string escapes). Constructs
//! of the language that this version of Keel does not implement yet are recognised, reported
//! as such (`E0901`) and skipped whole, never misparsed.
//!
//! One mistake gives one diagnostic:
//! - code nested past [`MAX_NESTING`] (or a chain longer than [`MAX_CHAIN`]) is reported once per
//!   file, and only the construct that is too deep is skipped;
//! - right after an unterminated string (which swallows the rest of its line) or inside an
//!   unterminated comment (which swallows the rest of the file), a missing `)`, `;`, `}` ... is
//!   taken to be in the swallowed text: it is assumed, not reported; right after unknown
//!   characters, a syntax error is not reported either (they were probably meant as what is
//!   missing), only recovered from;
//! - the blocks still open at the end of the file get one `E0203` together, and none if the end
//!   was already reported (a syntax error at the end of the file, a skipped construct or a
//!   comment running to it).

use super::ast::*;
use super::lexer::{Tok, Token};
use crate::diag::{Diagnostic, Span};

/// Parses a whole file.
pub fn parse(source: &str, tokens: &[Token], diags: &mut Vec<Diagnostic>) -> File {
    parse_at(source, 0, tokens, diags)
}

/// Parses a whole file whose tokens' spans are offsets into `source` plus `base` (the file's
/// place among a program's files, `diag::SourceMap`).
pub fn parse_at(source: &str, base: u32, tokens: &[Token], diags: &mut Vec<Diagnostic>) -> File {
    let mut parser = Parser {
        source,
        base,
        tokens,
        pos: 0,
        diags,
        depth: 0,
        limit_reported: false,
        end_explained: false,
        unclosed: Vec::new(),
        half_shr: None,
    };
    let file = parser.file();
    parser.report_unclosed();
    file
}

struct Parser<'a> {
    source: &'a str,
    /// What the tokens' spans add to offsets into `source`.
    base: u32,
    tokens: &'a [Token],
    pos: usize,
    diags: &'a mut Vec<Diagnostic>,
    /// Current nesting of expressions and blocks, bounded by [`MAX_NESTING`].
    depth: usize,
    /// An `E0204` (nesting or chain limit) has been reported; later ones are not.
    limit_reported: bool,
    /// The end of the file has been accounted for by a diagnostic already, so blocks open there
    /// are not reported.
    end_explained: bool,
    /// The `{` of each block found open at the end of the file, innermost first.
    unclosed: Vec<Span>,
    /// The position of a `>>` token whose first `>` closed a type list (`Option<Option<int>>`):
    /// the next list's close consumes it.
    half_shr: Option<usize>,
}

/// How deeply expressions and blocks may nest. Later stages recurse once per level.
pub const MAX_NESTING: usize = 1_000;

/// How many binary operators one chain (`a + b + c ...`) may have: each makes the tree one level
/// deeper on the left.
pub const MAX_CHAIN: usize = 100_000;

/// How many levels deep an expression tree may be, counting every node. Chains (binary
/// operators, `a[i][j]...`, `x.f.g...`, `else if`) are read in loops, so only this bounds the
/// tree they make; later stages recurse once per level, on a stack sized for it
/// (`sema::FRONT_END_STACK`). Larger than [`MAX_CHAIN`] plus [`MAX_NESTING`], so a chain that
/// is short enough is never too deep by itself.
pub const MAX_DEPTH: usize = 102_000;

/// A syntax error has been reported; the caller recovers.
struct Reported;

type PResult<T> = Result<T, Reported>;

/// Binding power of each binary operator token, loosest first (LANGUAGE.md).
fn binary_op(tok: Tok) -> Option<(BinOp, u8)> {
    Some(match tok {
        Tok::OrOr => (BinOp::Or, 1),
        Tok::AndAnd => (BinOp::And, 2),
        Tok::Pipe => (BinOp::BitOr, 3),
        Tok::Caret => (BinOp::BitXor, 4),
        Tok::Amp => (BinOp::BitAnd, 5),
        Tok::EqEq => (BinOp::Eq, 6),
        Tok::NotEq => (BinOp::Ne, 6),
        Tok::Lt => (BinOp::Lt, 7),
        Tok::Gt => (BinOp::Gt, 7),
        Tok::Le => (BinOp::Le, 7),
        Tok::Ge => (BinOp::Ge, 7),
        Tok::Shl => (BinOp::Shl, 8),
        Tok::Shr => (BinOp::Shr, 8),
        Tok::Plus => (BinOp::Add, 9),
        Tok::Minus => (BinOp::Sub, 9),
        Tok::Star => (BinOp::Mul, 10),
        Tok::Slash => (BinOp::Div, 10),
        Tok::Percent => (BinOp::Rem, 10),
        _ => return None,
    })
}

/// Tokens that [`Parser::expect`] assumes when they are missing right after swallowed text.
fn is_punctuation(tok: Tok) -> bool {
    matches!(
        tok,
        Tok::LParen
            | Tok::RParen
            | Tok::LBrace
            | Tok::RBrace
            | Tok::LBracket
            | Tok::RBracket
            | Tok::Comma
            | Tok::Semi
            | Tok::Colon
    )
}

/// What an `if` tests: a condition, or for `if let` a pattern and the value it matches.
enum IfHead {
    Cond(Box<Expr>),
    Let(Pattern, Box<Expr>),
}

fn compound_op(tok: Tok) -> Option<BinOp> {
    Some(match tok {
        Tok::PlusEq => BinOp::Add,
        Tok::MinusEq => BinOp::Sub,
        Tok::StarEq => BinOp::Mul,
        Tok::SlashEq => BinOp::Div,
        Tok::PercentEq => BinOp::Rem,
        _ => return None,
    })
}

impl<'a> Parser<'a> {
    // ---- token helpers -------------------------------------------------------------------------

    /// The kind of token `index`; an unterminated comment, which runs to the end, is the end.
    fn kind_at(&self, index: usize) -> Tok {
        match self.tokens[index.min(self.tokens.len() - 1)].kind {
            Tok::UnterminatedComment => Tok::Eof,
            kind => kind,
        }
    }

    fn peek(&self) -> Tok {
        self.kind_at(self.pos)
    }

    fn peek_at(&self, ahead: usize) -> Tok {
        self.kind_at(self.pos + ahead)
    }

    /// Whether the current token comes right after text that an unterminated string or comment
    /// swallowed (and that was reported with it).
    fn after_swallowed_text(&self) -> bool {
        self.tokens[self.pos].kind == Tok::UnterminatedComment
            || (self.pos > 0 && self.tokens[self.pos - 1].kind == Tok::UnterminatedStr)
    }

    fn span(&self) -> Span {
        self.tokens[self.pos].span
    }

    fn prev_span(&self) -> Span {
        self.tokens[self.pos.saturating_sub(1)].span
    }

    fn text(&self, span: Span) -> &'a str {
        &self.source[(span.start - self.base) as usize..(span.end - self.base) as usize]
    }

    fn bump(&mut self) -> Token {
        let token = self.tokens[self.pos];
        if self.peek() != Tok::Eof {
            self.pos += 1;
        }
        token
    }

    fn eat(&mut self, kind: Tok) -> bool {
        if self.peek() == kind {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, kind: Tok, context: &str) -> PResult<Token> {
        if self.peek() == kind {
            return Ok(self.bump());
        }
        if self.after_swallowed_text() && is_punctuation(kind) {
            // Most likely it was in the swallowed text: assume it, as an empty token there.
            let at = self.prev_span().end as usize;
            return Ok(Token {
                kind,
                span: Span::new(at, at),
                after_unknown: false,
            });
        }
        Err(self.error_expected(kind.describe(), context))
    }

    /// Reports that `what` was expected here, unless right after swallowed text or unknown
    /// characters (what was expected was most likely in it, or meant by them) or at an end of the
    /// file already accounted for. A syntax error at the end of the file accounts for it, and for
    /// the blocks still open there.
    fn error_expected(&mut self, what: &str, context: &str) -> Reported {
        let found = self.peek();
        if self.after_swallowed_text()
            || self.tokens[self.pos].after_unknown
            || (found == Tok::Eof && self.end_explained)
        {
            return Reported;
        }
        if found == Tok::Eof {
            self.end_explained = true;
        }
        let span = self.span();
        let mut diag = Diagnostic::new(
            "E0201",
            span,
            if context.is_empty() {
                format!("expected {what}, found {}", found.describe())
            } else {
                format!("expected {what} {context}, found {}", found.describe())
            },
        )
        .label(format!("expected {what}"));
        if what == "`;`" && self.pos > 0 {
            let prev = self.prev_span();
            diag = Diagnostic::new(
                "E0201",
                Span::new(prev.end as usize, prev.end as usize),
                diag.message.clone(),
            )
            .label("add `;` here")
            .secondary(span, format!("found {}", found.describe()));
        }
        self.diags.push(diag);
        Reported
    }

    /// An identifier, or the keyword `new` (the usual name of an `impl` block's constructor:
    /// `fn new(...)`, `Counter::new(...)`).
    fn name_or_new(&mut self, context: &str) -> PResult<Ident> {
        if self.peek() == Tok::New {
            let span = self.bump().span;
            return Ok(Ident {
                name: "new".into(),
                span,
            });
        }
        self.ident(context)
    }

    fn ident(&mut self, context: &str) -> PResult<Ident> {
        let token = self.expect(Tok::Ident, context)?;
        Ok(Ident {
            name: self.text(token.span).to_string(),
            span: token.span,
        })
    }

    /// Reports a construct of the language that Keel does not implement yet.
    fn unsupported(&mut self, span: Span, what: &str) {
        self.diags.push(
            Diagnostic::new("E0901", span, format!("{what} not supported yet"))
                .label("not supported by this version of Keel")
                .note("see docs/language.md for what this version implements"),
        );
    }

    /// Skips the construct starting at the current token without looking inside it: up to a `;`,
    /// `,` or closing bracket of the enclosing level, or past a `{ }` group not followed by
    /// `else`. Reaching the end of the file this way accounts for the blocks still open there.
    fn skip_construct(&mut self) {
        let mut depth = 0usize;
        loop {
            match self.peek() {
                Tok::Eof => {
                    self.end_explained = true;
                    return;
                }
                Tok::LBrace | Tok::LParen | Tok::LBracket => depth += 1,
                Tok::RBrace | Tok::RParen | Tok::RBracket if depth == 0 => return,
                Tok::RBrace if depth == 1 => {
                    self.bump();
                    if self.peek() == Tok::Else {
                        depth = 0;
                        continue;
                    }
                    return;
                }
                Tok::RBrace | Tok::RParen | Tok::RBracket => depth -= 1,
                Tok::Semi | Tok::Comma if depth == 0 => return,
                _ => {}
            }
            self.bump();
        }
    }

    /// Reports the first construct of the file that exceeds a size limit (`E0204`); the caller
    /// skips it.
    fn limit_exceeded(&mut self, diag: Diagnostic) {
        if !self.limit_reported {
            self.limit_reported = true;
            self.diags.push(diag);
        }
    }

    /// Reports the blocks left open at the end of the file, all in one diagnostic.
    fn report_unclosed(&mut self) {
        let (Some(&innermost), Some(&outermost)) = (self.unclosed.first(), self.unclosed.last())
        else {
            return;
        };
        let mut diag = Diagnostic::new("E0203", innermost, "unclosed block")
            .label("this `{` has no matching `}`");
        if self.unclosed.len() > 1 {
            diag = diag
                .secondary(outermost, "the outermost block left open")
                .note(format!(
                    "{} blocks are open at the end of the file; each needs a `}}`",
                    self.unclosed.len()
                ));
        }
        self.diags.push(diag);
    }

    /// Skips tokens to the end of the current statement: past a `;` at this nesting depth, or past
    /// a balanced `{ }` group, or up to a `}` that closes an enclosing block.
    fn recover_statement(&mut self) {
        let mut depth = 0usize;
        loop {
            match self.peek() {
                Tok::Eof => return,
                Tok::Semi if depth == 0 => {
                    self.bump();
                    return;
                }
                Tok::LBrace | Tok::LParen | Tok::LBracket => depth += 1,
                Tok::RBrace if depth == 0 => return,
                Tok::RBrace => {
                    depth -= 1;
                    if depth == 0 {
                        self.bump();
                        match self.peek() {
                            Tok::Else => continue,
                            // `let y = <bad block-like expression> { ... };`
                            Tok::Semi => {
                                self.bump();
                                return;
                            }
                            _ => return,
                        }
                    }
                }
                Tok::RParen | Tok::RBracket => depth = depth.saturating_sub(1),
                Tok::Fn | Tok::Let | Tok::While | Tok::For | Tok::Return if depth == 0 => return,
                _ => {}
            }
            self.bump();
        }
    }

    // ---- items ---------------------------------------------------------------------------------

    /// file := (item | use_decl)* EOF
    fn file(&mut self) -> File {
        let mut file = File::default();
        while self.peek() != Tok::Eof {
            let start = self.pos;
            match self.peek() {
                Tok::Fn if self.peek_at(1) == Tok::Ident => match self.fn_decl() {
                    Ok(decl) => file.items.push(Item::Fn(decl)),
                    Err(Reported) => self.recover_statement(),
                },
                Tok::Struct => match self.struct_decl() {
                    Ok(decl) => file.items.push(Item::Struct(decl)),
                    Err(Reported) => self.recover_statement(),
                },
                Tok::Enum => match self.enum_decl() {
                    Ok(decl) => file.items.push(Item::Enum(decl)),
                    Err(Reported) => self.recover_statement(),
                },
                Tok::Impl => match self.impl_decl() {
                    Ok(Some(decl)) => file.items.push(Item::Impl(decl)),
                    Ok(None) => {}
                    Err(Reported) => self.recover_statement(),
                },
                Tok::Type => match self.type_alias() {
                    Ok(alias) => file.items.push(Item::TypeAlias(alias)),
                    Err(Reported) => self.recover_statement(),
                },
                // `const` is a word with a meaning only here, before a name and a `:`.
                Tok::Ident
                    if self.text(self.span()) == "const"
                        && self.peek_at(1) == Tok::Ident
                        && self.peek_at(2) == Tok::Colon =>
                {
                    match self.const_decl() {
                        Ok(decl) => file.items.push(Item::Const(decl)),
                        Err(Reported) => self.recover_statement(),
                    }
                }
                Tok::Trait => match self.trait_decl() {
                    Ok(decl) => file.items.push(Item::Trait(decl)),
                    Err(Reported) => self.recover_statement(),
                },
                Tok::Use => {
                    if let Some(decl) = self.use_decl() {
                        file.uses.push(decl);
                    }
                }
                Tok::RBrace => {
                    let span = self.span();
                    self.diags.push(
                        Diagnostic::new("E0202", span, "unmatched `}`")
                            .label("no block is open here"),
                    );
                    self.bump();
                }
                _ => {
                    let stmt = self.stmt(false);
                    file.items.push(Item::Stmt(stmt));
                }
            }
            if self.pos == start {
                // Defensive: never loop without progress.
                self.bump();
            }
        }
        file
    }

    /// use_decl := 'use' STRING ';'
    ///
    /// `None` when the path was not a usable string literal (reported, and skipped).
    fn use_decl(&mut self) -> Option<Use> {
        self.bump();
        let token = self.tokens[self.pos];
        match token.kind {
            Tok::Str => {
                self.bump();
                let path = self.string_literal(token.span);
                // A missing `;` is reported, but the declaration stands.
                if !self.eat(Tok::Semi) {
                    self.error_expected("`;`", "after the `use` declaration");
                }
                path.map(|path| Use {
                    path,
                    span: token.span,
                })
            }
            // Already reported by the lexer.
            Tok::UnterminatedStr => {
                self.recover_statement();
                None
            }
            _ => {
                if token.kind == Tok::Eof {
                    self.end_explained = true;
                }
                if !token.after_unknown && !self.after_swallowed_text() {
                    self.diags.push(
                        Diagnostic::new(
                            "E0604",
                            token.span,
                            format!(
                                "expected a file path in quotes after `use`, found {}",
                                token.kind.describe()
                            ),
                        )
                        .label("expected a string literal")
                        .note("a `use` declaration names a file: `use \"lib/words.kl\";`"),
                    );
                }
                self.recover_statement();
                None
            }
        }
    }

    /// fn_decl := 'fn' IDENT '(' (type IDENT (',' type IDENT)* ','?)? ')' ('->' type)? contract* block
    /// contract := ('requires' | 'ensures') expr
    fn fn_decl(&mut self) -> PResult<FnDecl> {
        Ok(self.fn_decl_with(false)?.0)
    }

    /// A function of a trait: its body may be left out (`fn area(self) -> float;`). Also says
    /// whether there is one.
    fn fn_decl_maybe_body(&mut self) -> PResult<(FnDecl, bool)> {
        self.fn_decl_with(true)
    }

    fn fn_decl_with(&mut self, body_optional: bool) -> PResult<(FnDecl, bool)> {
        self.expect(Tok::Fn, "")?;
        let name = self.name_or_new("after `fn`")?;
        let type_params = self.type_params()?;
        self.expect(Tok::LParen, "after the function name")?;
        let params = self.param_list()?;
        let ret = if self.eat(Tok::Arrow) {
            Some(self.type_expr("after `->`")?)
        } else {
            None
        };
        let mut contracts = Vec::new();
        loop {
            let kind = match self.peek() {
                Tok::Requires => ContractKind::Requires,
                Tok::Ensures => ContractKind::Ensures,
                _ => break,
            };
            self.bump();
            let cond = self.expr()?;
            let text = self.text(cond.span).to_string();
            contracts.push(Contract { kind, cond, text });
        }
        let (body, has_body) = if body_optional && self.peek() == Tok::Semi {
            let span = self.bump().span;
            (Block::new(Vec::new(), None, span), false)
        } else {
            (self.block()?, true)
        };
        let decl = FnDecl {
            name,
            type_params,
            params,
            ret,
            self_type: None,
            contracts,
            body,
        };
        Ok((decl, has_body))
    }

    /// params := (param (',' param)* ','?)? ')' with param := type IDENT | 'self' (first);
    /// the opening `(` is already read.
    fn param_list(&mut self) -> PResult<Vec<Param>> {
        let mut params = Vec::new();
        while self.peek() != Tok::RParen {
            // `self` first, without a type: a method's receiver, of the type `Self`.
            if params.is_empty()
                && self.peek() == Tok::Ident
                && self.text(self.span()) == "self"
                && matches!(self.peek_at(1), Tok::Comma | Tok::RParen)
            {
                let name = self.ident("")?;
                let ty = TypeExpr::Named(Ident {
                    name: "Self".into(),
                    span: name.span,
                });
                params.push(Param { ty, name });
                if !self.eat(Tok::Comma) {
                    break;
                }
                continue;
            }
            let ty = self.type_expr("for a parameter")?;
            let pname = self.ident("as the parameter name (parameters are written `int n`)")?;
            params.push(Param { ty, name: pname });
            if !self.eat(Tok::Comma) {
                break;
            }
        }
        self.expect(Tok::RParen, "to close the parameter list")?;
        Ok(params)
    }

    /// trait_decl := 'trait' IDENT '{' (fn_header (';' | block))* '}'
    fn trait_decl(&mut self) -> PResult<TraitDecl> {
        self.expect(Tok::Trait, "")?;
        let name = self.ident("after `trait`")?;
        if self.peek() == Tok::Lt {
            let span = self.span();
            self.unsupported(span, "generic traits are");
            return Err(Reported);
        }
        self.expect(Tok::LBrace, "after the trait's name")?;
        let mut methods = Vec::new();
        while self.peek() != Tok::RBrace {
            if self.peek() != Tok::Fn {
                return Err(self.error_expected("`fn` or `}`", "in a trait"));
            }
            let (decl, has_body) = self.fn_decl_maybe_body()?;
            methods.push(TraitMethod { decl, has_body });
        }
        self.expect(Tok::RBrace, "to close the trait")?;
        Ok(TraitDecl { name, methods })
    }

    /// type_alias := 'type' IDENT type_params '=' type ';'
    fn type_alias(&mut self) -> PResult<TypeAlias> {
        self.expect(Tok::Type, "")?;
        let name = self.ident("after `type` (the alias's name)")?;
        let type_params = self.type_params()?;
        self.expect(Tok::Eq, "after the alias's name")?;
        let ty = self.type_expr("after `=` (the type the alias names)")?;
        self.expect(Tok::Semi, "after the type alias")?;
        Ok(TypeAlias {
            name,
            type_params,
            ty,
        })
    }

    /// const_decl := 'const' IDENT ':' type '=' expr ';'
    fn const_decl(&mut self) -> PResult<ConstDecl> {
        self.bump();
        let name = self.ident("after `const`")?;
        self.expect(Tok::Colon, "after the constant's name")?;
        let ty = self.type_expr("for the constant")?;
        self.expect(Tok::Eq, "after the constant's type")?;
        let value = self.expr()?;
        self.expect(Tok::Semi, "after the constant's value")?;
        Ok(ConstDecl { name, ty, value })
    }

    /// impl_decl := 'impl' type_params type '{' fn_decl* '}'
    ///
    /// `impl Trait for Type` is reported as not supported yet (and skipped): `None`.
    fn impl_decl(&mut self) -> PResult<Option<ImplDecl>> {
        self.expect(Tok::Impl, "")?;
        let type_params = self.type_params()?;
        let mut target = self.type_expr("after `impl` (the type the functions are for)")?;
        let mut trait_name = None;
        if self.eat(Tok::For) {
            // `impl Trait for Type`: what was read is the trait.
            let TypeExpr::Named(name) = target else {
                let span = target.span();
                self.diags.push(
                    Diagnostic::new("E0201", span, "expected a trait name before `for`")
                        .label("not a trait name"),
                );
                return Err(Reported);
            };
            trait_name = Some(name);
            target = self.type_expr("after `for` (the type the trait is implemented for)")?;
        }
        self.expect(Tok::LBrace, "to start the `impl` block")?;
        let mut methods = Vec::new();
        while self.peek() != Tok::RBrace {
            if self.peek() != Tok::Fn {
                return Err(self.error_expected("`fn` or `}`", "in an `impl` block"));
            }
            let mut method = self.fn_decl()?;
            method.self_type = Some(target.clone());
            methods.push(method);
        }
        self.expect(Tok::RBrace, "to close the `impl` block")?;
        Ok(Some(ImplDecl {
            type_params,
            trait_name,
            target,
            methods,
        }))
    }

    /// struct_decl := 'struct' IDENT '{' (type IDENT (',' type IDENT)* ','?)? '}'
    fn struct_decl(&mut self) -> PResult<StructDecl> {
        self.expect(Tok::Struct, "")?;
        let name = self.ident("after `struct`")?;
        let type_params = self.type_params()?;
        self.expect(Tok::LBrace, "after the struct name")?;
        let mut fields = Vec::new();
        while self.peek() != Tok::RBrace {
            let ty = self.type_expr("for a field")?;
            let fname = self.ident("as the field name (fields are written `int x`)")?;
            fields.push(Param { ty, name: fname });
            if !self.eat(Tok::Comma) {
                break;
            }
        }
        self.expect(Tok::RBrace, "to close the struct")?;
        Ok(StructDecl {
            name,
            type_params,
            fields,
        })
    }

    /// enum_decl := 'enum' IDENT '{' (variant (',' variant)* ','?)? '}'
    /// variant := IDENT ('(' type (',' type)* ','? ')')?
    fn enum_decl(&mut self) -> PResult<EnumDecl> {
        self.expect(Tok::Enum, "")?;
        let name = self.ident("after `enum`")?;
        let type_params = self.type_params()?;
        self.expect(Tok::LBrace, "after the enum name")?;
        let mut variants = Vec::new();
        while self.peek() != Tok::RBrace {
            let vname = self.ident("as a variant name")?;
            let mut payload = Vec::new();
            if self.eat(Tok::LParen) {
                while self.peek() != Tok::RParen {
                    payload.push(self.type_expr("in the variant's payload")?);
                    if !self.eat(Tok::Comma) {
                        break;
                    }
                }
                self.expect(Tok::RParen, "to close the variant's payload")?;
            }
            variants.push(VariantDecl {
                name: vname,
                payload,
            });
            if !self.eat(Tok::Comma) {
                break;
            }
        }
        self.expect(Tok::RBrace, "to close the enum")?;
        Ok(EnumDecl {
            name,
            type_params,
            variants,
        })
    }

    /// type := IDENT | '[' type ']'
    fn type_expr(&mut self, context: &str) -> PResult<TypeExpr> {
        if self.peek() == Tok::LParen {
            return self.nested(|this| {
                let (mut types, span) =
                    this.tuple_of(|this| this.type_expr(context), "the tuple type")?;
                Ok(match types.len() {
                    // `(T)` is `T`.
                    1 => types.pop().unwrap_or(TypeExpr::Tuple(Vec::new(), span)),
                    _ => TypeExpr::Tuple(types, span),
                })
            });
        }
        if self.peek() == Tok::Fn {
            return self.nested(|this| this.fn_type());
        }
        if self.peek() == Tok::LBracket {
            let start = self.bump().span;
            let inner = self.type_expr(context)?;
            let end = self.expect(Tok::RBracket, "to close the array type")?.span;
            return Ok(TypeExpr::Array(Box::new(inner), start.to(end)));
        }
        if self.peek() != Tok::Ident {
            return Err(self.error_expected("a type", context));
        }
        let name = self.ident(context)?;
        if self.peek() != Tok::Lt {
            return Ok(TypeExpr::Named(name));
        }
        let args = self.nested(|this| this.type_args())?;
        let span = name.span.to(self.prev_span());
        Ok(TypeExpr::Applied { name, args, span })
    }

    /// fn_type := 'fn' '(' (type (',' type)* ','?)? ')' ('->' type)?; without `->` the function
    /// returns no value.
    fn fn_type(&mut self) -> PResult<TypeExpr> {
        let start = self.expect(Tok::Fn, "")?.span;
        self.expect(Tok::LParen, "after `fn` in a function type")?;
        let mut params = Vec::new();
        while self.peek() != Tok::RParen {
            params.push(self.type_expr("as a parameter type")?);
            if !self.eat(Tok::Comma) {
                break;
            }
        }
        self.expect(Tok::RParen, "to close the parameter types")?;
        let ret = if self.eat(Tok::Arrow) {
            Some(Box::new(self.type_expr("after `->`")?))
        } else {
            None
        };
        let span = start.to(self.prev_span());
        Ok(TypeExpr::Fn { params, ret, span })
    }

    /// type_args := '<' type (',' type)* ','? '>'. The closing `>` may be half of a `>>`
    /// (`Option<Option<int>>`).
    fn type_args(&mut self) -> PResult<Vec<TypeExpr>> {
        self.expect(Tok::Lt, "")?;
        let mut args = Vec::new();
        loop {
            args.push(self.type_expr("as a type argument")?);
            if !self.eat(Tok::Comma) || self.closes_type_list() {
                break;
            }
        }
        self.close_type_list("to close the type arguments")?;
        Ok(args)
    }

    /// type_params := ('<' IDENT (':' IDENT ('+' IDENT)*)? (',' ...)* ','? '>')?
    fn type_params(&mut self) -> PResult<Vec<TypeParam>> {
        if !self.eat(Tok::Lt) {
            return Ok(Vec::new());
        }
        let mut params = Vec::new();
        loop {
            let name = self.ident("as a type parameter (a name such as `T`)")?;
            let mut bounds = Vec::new();
            if self.eat(Tok::Colon) {
                loop {
                    bounds.push(self.ident("as a bound (a trait name)")?);
                    if !self.eat(Tok::Plus) {
                        break;
                    }
                }
            }
            params.push(TypeParam { name, bounds });
            if !self.eat(Tok::Comma) || self.closes_type_list() {
                break;
            }
        }
        self.close_type_list("to close the type parameters")?;
        Ok(params)
    }

    /// Whether the current token closes a list of type arguments or parameters.
    fn closes_type_list(&self) -> bool {
        matches!(self.peek(), Tok::Gt | Tok::Shr)
    }

    /// Consumes the `>` closing a type list: a `>` token, or one half of a `>>` (the first
    /// half leaves the token in place, marked, for the enclosing list).
    fn close_type_list(&mut self, context: &str) -> PResult<()> {
        match self.peek() {
            Tok::Gt => {
                self.bump();
                Ok(())
            }
            Tok::Shr if self.half_shr != Some(self.pos) => {
                self.half_shr = Some(self.pos);
                Ok(())
            }
            Tok::Shr => {
                self.bump();
                Ok(())
            }
            _ => Err(self.error_expected("`>`", context)),
        }
    }

    /// `'(' item (',' item)* ','? ')'` for a tuple type, literal or pattern (`what`): the items
    /// and the whole span. One item without a comma is a parenthesized one (returned alone); one
    /// with a trailing comma, or none, is reported (E0205): tuples have two elements or more.
    fn tuple_of<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> PResult<T>,
        what: &str,
    ) -> PResult<(Vec<T>, Span)> {
        let open = self.expect(Tok::LParen, "")?.span;
        let mut items = Vec::new();
        let mut commas = 0;
        while self.peek() != Tok::RParen || items.is_empty() {
            items.push(item(self)?);
            if !self.eat(Tok::Comma) {
                break;
            }
            commas += 1;
        }
        let close = self.expect(Tok::RParen, &format!("to close {what}"))?.span;
        let span = open.to(close);
        if items.len() == 1 && commas > 0 {
            self.diags.push(
                Diagnostic::new("E0205", span, "a tuple with one element")
                    .label("a tuple needs two elements or more")
                    .note("write the element without parentheses, or add elements"),
            );
            return Err(Reported);
        }
        Ok((items, span))
    }

    /// pattern := alternative ('|' alternative)*
    fn pattern(&mut self, context: &str) -> PResult<Pattern> {
        let first = self.alternative(context)?;
        if self.peek() != Tok::Pipe {
            return Ok(first);
        }
        let mut alternatives = vec![first];
        while self.eat(Tok::Pipe) {
            alternatives.push(self.alternative(context)?);
        }
        let span = alternatives[0]
            .span()
            .to(alternatives[alternatives.len() - 1].span());
        Ok(Pattern::Or(alternatives, span))
    }

    /// alternative := IDENT | '_' | literal | '-' INT | '(' pattern (',' pattern)+ ','? ')'
    ///              | (IDENT '::')? IDENT '(' (pattern (',' pattern)* ','?)? ')' | IDENT '::' IDENT
    fn alternative(&mut self, context: &str) -> PResult<Pattern> {
        let span = self.span();
        match self.peek() {
            Tok::LParen => {
                return self.nested(|this| {
                    let (mut parts, span) =
                        this.tuple_of(|this| this.pattern(context), "the tuple pattern")?;
                    Ok(match parts.len() {
                        1 => parts.pop().unwrap_or(Pattern::Wildcard(span)),
                        _ => Pattern::Tuple(parts, span),
                    })
                });
            }
            Tok::Int => {
                self.bump();
                return Ok(match self.int_literal(span) {
                    Some(value) => Pattern::Literal(Literal::Int(value), span),
                    None => Pattern::Wildcard(span),
                });
            }
            Tok::Minus if self.peek_at(1) == Tok::Int => {
                self.bump();
                let digits = self.bump().span;
                let span = span.to(digits);
                // `-9223372036854775808` is read whole: its digits alone do not fit in an int.
                let text: String = self.text(digits).chars().filter(|&c| c != '_').collect();
                return Ok(match format!("-{text}").parse::<i64>() {
                    Ok(value) => Pattern::Literal(Literal::Int(value), span),
                    Err(_) => {
                        self.int_literal(digits);
                        Pattern::Wildcard(span)
                    }
                });
            }
            Tok::Str => {
                self.bump();
                return Ok(match self.string_literal(span) {
                    Some(text) => Pattern::Literal(Literal::Str(text), span),
                    None => Pattern::Wildcard(span),
                });
            }
            Tok::True | Tok::False => {
                let value = self.bump().kind == Tok::True;
                return Ok(Pattern::Literal(Literal::Bool(value), span));
            }
            Tok::Ident => {}
            _ => return Err(self.error_expected("a pattern", context)),
        }
        let name = self.ident(context)?;
        if name.name == "_" {
            return Ok(Pattern::Wildcard(name.span));
        }
        let (enum_name, variant) = if self.eat(Tok::ColonColon) {
            (Some(name), self.ident("after `::` (a variant name)")?)
        } else if self.peek() == Tok::LParen {
            (None, name)
        } else {
            return Ok(Pattern::Bind(name));
        };
        let args = if self.peek() == Tok::LParen {
            self.bump();
            let mut args = Vec::new();
            while self.peek() != Tok::RParen {
                args.push(self.nested(|this| this.pattern(context))?);
                if !self.eat(Tok::Comma) {
                    break;
                }
            }
            self.expect(Tok::RParen, "to close the variant's patterns")?;
            Some(args)
        } else {
            None
        };
        Ok(Pattern::Variant {
            enum_name,
            variant,
            args,
            span: span.to(self.prev_span()),
        })
    }

    /// match := 'match' expr '{' (arm (',' arm)* ','?)? '}'
    /// arm := pattern ('if' expr)? '=>' expr      (no `,` needed after a block)
    fn match_expr(&mut self) -> PResult<Expr> {
        let start = self.expect(Tok::Match, "")?.span;
        let scrutinee = Box::new(self.expr()?);
        self.expect(Tok::LBrace, "after the value to match")?;
        let mut arms = Vec::new();
        while self.peek() != Tok::RBrace {
            let pattern = self.pattern("for a `match` arm")?;
            let guard = if self.eat(Tok::If) {
                Some(self.expr()?)
            } else {
                None
            };
            let arrow = self.expect(Tok::FatArrow, "after the arm's pattern")?.span;
            // A block, `if` or `match` body ends the arm (as in Rust), so the next arm may follow
            // without a comma: `A => { } -1 => ...` is two arms, not a subtraction.
            let block_like = matches!(self.peek(), Tok::LBrace | Tok::If | Tok::Match);
            let body = if block_like {
                self.primary()?
            } else {
                self.expr()?
            };
            arms.push(Arm {
                pattern,
                guard,
                body,
                arrow,
                synthetic: false,
            });
            if !(self.eat(Tok::Comma) || block_like || self.peek() == Tok::RBrace) {
                return Err(self.error_expected("`,` or `}`", "after a `match` arm"));
            }
        }
        let close = self.expect(Tok::RBrace, "to close the `match`")?.span;
        Ok(self.node(ExprKind::Match { scrutinee, arms }, start.to(close)))
    }

    /// `match value { pattern => then, _ => otherwise }`: what `if let` and `while let` are.
    fn pattern_test(
        &mut self,
        pattern: Pattern,
        value: Expr,
        then: Expr,
        otherwise: Expr,
        span: Span,
    ) -> Expr {
        let arrow = pattern.span();
        let rest = Arm {
            pattern: Pattern::Wildcard(otherwise.span),
            guard: None,
            body: otherwise,
            arrow,
            synthetic: true,
        };
        let first = Arm {
            pattern,
            guard: None,
            body: then,
            arrow,
            synthetic: false,
        };
        let kind = ExprKind::Match {
            scrutinee: Box::new(value),
            arms: vec![first, rest],
        };
        self.node(kind, span)
    }

    // ---- statements ----------------------------------------------------------------------------

    /// block := '{' stmt* expr? '}'
    fn block(&mut self) -> PResult<Block> {
        self.nested(|this| this.block_inner())
    }

    fn block_inner(&mut self) -> PResult<Block> {
        let open = self.expect(Tok::LBrace, "to start a block")?.span;
        let mut stmts = Vec::new();
        let mut tail = None;
        loop {
            match self.peek() {
                Tok::RBrace => break,
                Tok::Eof => {
                    // Reported all together at the end, unless the end is explained already.
                    if !self.end_explained && !self.after_swallowed_text() {
                        self.unclosed.push(open);
                    }
                    return Err(Reported);
                }
                Tok::Fn if self.peek_at(1) == Tok::Ident => {
                    let span = self.span();
                    self.unsupported(span, "functions declared inside blocks are");
                    self.bump();
                    self.recover_statement();
                }
                Tok::Use => {
                    let span = self.span();
                    self.diags.push(
                        Diagnostic::new("E0604", span, "`use` inside a block")
                            .label("`use` declarations belong at the top level of a file")
                            .note(
                                "move it out of the block: a file's imports are seen by all of it",
                            ),
                    );
                    self.bump();
                    self.recover_statement();
                }
                _ => {
                    let start = self.pos;
                    let stmt = self.stmt(true);
                    let is_tail = matches!(stmt.kind, StmtKind::Expr(_))
                        && self.peek() == Tok::RBrace
                        && self.tokens[self.pos - 1].kind != Tok::Semi;
                    if is_tail {
                        // Moved out of its statement: a clone would copy the whole subtree at
                        // every enclosing block, quadratic in the nesting depth.
                        if let StmtKind::Expr(expr) = stmt.kind {
                            tail = Some(Box::new(expr));
                        }
                        break;
                    }
                    stmts.push(stmt);
                    if self.pos == start {
                        self.bump();
                    }
                }
            }
        }
        let close = self.expect(Tok::RBrace, "to close the block")?.span;
        Ok(Block::new(stmts, tail, open.to(close)))
    }

    /// Parses one statement, recovering from errors inside it. `in_block` allows a tail
    /// expression (one not followed by `;` before the closing `}`).
    fn stmt(&mut self, in_block: bool) -> Stmt {
        let start = self.span();
        match self.stmt_inner(in_block) {
            Ok(kind) => Stmt {
                kind,
                span: start.to(self.prev_span()),
            },
            Err(Reported) => {
                self.recover_statement();
                Stmt {
                    kind: StmtKind::Error,
                    span: start.to(self.prev_span()),
                }
            }
        }
    }

    fn stmt_inner(&mut self, in_block: bool) -> PResult<StmtKind> {
        match self.peek() {
            Tok::Let => {
                self.bump();
                let pattern = self.pattern("after `let`")?;
                match self.let_rest() {
                    Ok((ty, value)) => {
                        // A missing `;` is reported, but the statement stands.
                        if !self.eat(Tok::Semi) {
                            self.error_expected("`;`", "after the `let` statement");
                        }
                        Ok(StmtKind::Let {
                            pattern: Box::new(pattern),
                            ty: ty.map(Box::new),
                            value,
                        })
                    }
                    Err(Reported) => {
                        // Keep the variables declared, so later uses do not cascade into errors.
                        self.recover_statement();
                        let span = pattern.span();
                        Ok(StmtKind::Let {
                            pattern: Box::new(pattern),
                            ty: None,
                            value: self.node(ExprKind::Error, span),
                        })
                    }
                }
            }
            Tok::While if self.peek_at(1) == Tok::Let => {
                // `while let P = e { body }` is `while true { match e { P => body, _ => break } }`.
                let start = self.bump().span;
                self.bump();
                let pattern = self.pattern("after `while let`")?;
                self.expect(Tok::Eq, "after the pattern")?;
                let value = self.expr()?;
                let body = self.block()?;
                let span = start.to(body.span.to(self.prev_span()));
                let body_span = body.span;
                let then = self.node(ExprKind::Block(body), body_span);
                let exit = Stmt {
                    kind: StmtKind::Break,
                    span: body_span,
                };
                let exit = Block::new(vec![exit], None, body_span);
                let otherwise = self.node(ExprKind::Block(exit), body_span);
                let test = self.pattern_test(pattern, value, then, otherwise, span);
                let stmt = Stmt {
                    kind: StmtKind::Expr(test),
                    span,
                };
                let cond = self.node(ExprKind::Bool(true), start);
                Ok(StmtKind::While {
                    cond,
                    body: Box::new(Block::new(vec![stmt], None, span)),
                })
            }
            Tok::While => {
                self.bump();
                let cond = self.expr()?;
                let body = self.block()?;
                Ok(StmtKind::While {
                    cond,
                    body: Box::new(body),
                })
            }
            Tok::For => {
                self.bump();
                let pattern = self.pattern("after `for`")?;
                self.expect(Tok::In, "after the loop variable")?;
                let start = self.expr()?;
                if !self.eat(Tok::DotDot) {
                    let body = self.block()?;
                    return Ok(StmtKind::ForEach {
                        pattern: Box::new(pattern),
                        array: start,
                        body: Box::new(body),
                    });
                }
                let var = match pattern {
                    Pattern::Bind(name) => name,
                    // `for _ in 0..n` counts without a name to use.
                    Pattern::Wildcard(span) => Ident {
                        name: "_".into(),
                        span,
                    },
                    other => {
                        let span = other.span();
                        self.diags.push(
                            Diagnostic::new("E0417", span, "a pattern over a range")
                                .label("a range yields ints, matched by a name or `_`")
                                .note("name the loop variable: `for i in a..b`"),
                        );
                        return Err(Reported);
                    }
                };
                let end = self.expr()?;
                let body = self.block()?;
                Ok(StmtKind::ForRange {
                    var,
                    start: Box::new(start),
                    end: Box::new(end),
                    body: Box::new(body),
                })
            }
            Tok::Break => {
                self.bump();
                self.expect(Tok::Semi, "after `break`")?;
                Ok(StmtKind::Break)
            }
            Tok::Continue => {
                self.bump();
                self.expect(Tok::Semi, "after `continue`")?;
                Ok(StmtKind::Continue)
            }
            Tok::Return => {
                self.bump();
                let value = if matches!(self.peek(), Tok::Semi | Tok::RBrace) {
                    None
                } else {
                    Some(self.expr()?)
                };
                self.expect(Tok::Semi, "after the `return` statement")?;
                Ok(StmtKind::Return(value))
            }
            Tok::Static => {
                self.bump();
                self.expect(Tok::Let, "after `static` (`static let name = value;`)")?;
                let name = self.ident("after `static let` (a variable name)")?;
                let (ty, value) = self.let_rest()?;
                self.expect(Tok::Semi, "after the `static let` statement")?;
                Ok(StmtKind::StaticLet {
                    name,
                    ty: ty.map(Box::new),
                    value: Box::new(value),
                })
            }
            Tok::Assert => {
                let kind = self.assert_stmt()?;
                if !(in_block && self.peek() == Tok::RBrace) {
                    self.expect(Tok::Semi, "after `assert(...)`")?;
                }
                Ok(kind)
            }
            Tok::Live => {
                let kind = self.nested(|this| this.live_stmt())?;
                // Like other block statements, it needs no `;`, but one is allowed.
                self.eat(Tok::Semi);
                Ok(kind)
            }
            Tok::If | Tok::LBrace | Tok::Match => {
                // A statement that starts with `if`, `match` or `{` ends at its closing `}` (as
                // in Rust): `if c { return; } -1` is two statements, not a subtraction.
                let expr = self.nested(|this| {
                    if this.peek() == Tok::If {
                        this.if_expr()
                    } else if this.peek() == Tok::Match {
                        this.match_expr()
                    } else {
                        let block = this.block()?;
                        let span = block.span;
                        Ok(this.node(ExprKind::Block(block), span))
                    }
                })?;
                // Block-like statements need no `;`, but one is allowed.
                self.eat(Tok::Semi);
                Ok(StmtKind::Expr(expr))
            }
            _ => {
                let target = self.expr()?;
                if self.peek() == Tok::Eq || compound_op(self.peek()).is_some() {
                    let op_token = self.bump();
                    let op = compound_op(op_token.kind).map(|op| (op, op_token.span));
                    let value = self.expr()?;
                    self.expect(Tok::Semi, "after the assignment")?;
                    return Ok(StmtKind::Assign {
                        target: Box::new(target),
                        op,
                        value: Box::new(value),
                    });
                }
                if in_block && self.peek() == Tok::RBrace {
                    return Ok(StmtKind::Expr(target));
                }
                self.expect(Tok::Semi, "after the expression")?;
                Ok(StmtKind::Expr(target))
            }
        }
    }

    /// assert := 'assert' '(' expr (',' expr)? ','? ')'
    fn assert_stmt(&mut self) -> PResult<StmtKind> {
        let keyword = self.expect(Tok::Assert, "")?.span;
        let mut args = self.call_args()?.into_iter();
        let (cond, message) = match (args.next(), args.next(), args.len()) {
            (Some(cond), message, 0) => (cond, message),
            (first, second, more) => {
                let given = usize::from(first.is_some()) + usize::from(second.is_some()) + more;
                self.diags.push(
                    Diagnostic::new(
                        "E0501",
                        keyword.to(self.prev_span()),
                        "`assert` takes a condition and an optional message",
                    )
                    .label(format!(
                        "given {given} argument{}",
                        if given == 1 { "" } else { "s" }
                    ))
                    .note("write `assert(condition)` or `assert(condition, \"message\")`"),
                );
                return Ok(StmtKind::Error);
            }
        };
        let text = self.text(cond.span).to_string();
        Ok(StmtKind::Assert {
            keyword,
            cond: Box::new(cond),
            message: message.map(Box::new),
            text,
        })
    }

    /// live := 'live' live_clause* block
    /// live_clause := 'backoff' backoff_args | 'within' INT ('ms' | 's') | 'invariant' expr
    ///
    /// `backoff` and `within` are not keywords; each clause may come once, in any order.
    fn live_stmt(&mut self) -> PResult<StmtKind> {
        let keyword = self.expect(Tok::Live, "")?.span;
        let mut backoff = None;
        let mut within_ms = None;
        let mut invariant = None;
        let mut seen: Vec<(&'static str, Span)> = Vec::new();
        loop {
            let span = self.span();
            let clause = match self.peek() {
                Tok::Ident if self.text(span) == "backoff" => "backoff",
                Tok::Ident if self.text(span) == "within" => "within",
                Tok::Invariant => "invariant",
                Tok::LBrace => break,
                _ => {
                    return Err(self
                        .error_expected("`backoff`, `within`, `invariant` or `{`", "after `live`"))
                }
            };
            if let Some(&(_, first)) = seen.iter().find(|(name, _)| *name == clause) {
                self.diags.push(
                    Diagnostic::new(
                        "E0513",
                        span,
                        format!("`{clause}` is given twice for one `live` block"),
                    )
                    .label("given again")
                    .secondary(first, "first given here"),
                );
            }
            seen.push((clause, span));
            self.bump();
            match clause {
                "backoff" => backoff = Some(self.backoff_args()?),
                "within" => within_ms = self.within_duration(),
                _ => {
                    let cond = self.expr()?;
                    let text = self.text(cond.span).to_string();
                    invariant = Some(Invariant { cond, text });
                }
            }
        }
        let body = self.block()?;
        Ok(StmtKind::Live(Box::new(LiveBlock {
            keyword,
            backoff,
            within_ms,
            invariant,
            body,
        })))
    }

    /// backoff_args := '(' (IDENT '=' expr (',' IDENT '=' expr)* ','?)? ')'
    ///
    /// Each value must be a non-negative integer literal; arguments left out keep their default.
    fn backoff_args(&mut self) -> PResult<Backoff> {
        self.expect(Tok::LParen, "after `backoff`")?;
        let mut backoff = Backoff::DEFAULT;
        let mut given: Vec<(String, Span)> = Vec::new();
        while self.peek() != Tok::RParen {
            let name = self.ident("as a backoff argument (`base_ms`, `factor` or `max_ms`)")?;
            self.expect(
                Tok::Eq,
                "after the backoff argument's name (they are written `factor=2`)",
            )?;
            let value = self.expr()?;
            let literal = match value.kind {
                ExprKind::Int(v) if v >= 0 => Some(v),
                // Already reported (an integer literal out of range).
                ExprKind::Error => None,
                _ => {
                    self.diags.push(
                        Diagnostic::new(
                            "E0509",
                            value.span,
                            format!(
                                "backoff argument `{}` must be a non-negative integer literal",
                                name.name
                            ),
                        )
                        .label("not a non-negative integer literal")
                        .note("backoff values are fixed when the program is compiled, e.g. `backoff(base_ms=5)`"),
                    );
                    None
                }
            };
            if let Some((_, first)) = given.iter().find(|(n, _)| *n == name.name) {
                let first = *first;
                self.diags.push(
                    Diagnostic::new(
                        "E0510",
                        name.span,
                        format!("backoff argument `{}` is given twice", name.name),
                    )
                    .label("given again")
                    .secondary(first, "first given here"),
                );
            }
            given.push((name.name.clone(), name.span));
            let slot = match name.name.as_str() {
                "base_ms" => Some(&mut backoff.base_ms),
                "factor" => Some(&mut backoff.factor),
                "max_ms" => Some(&mut backoff.max_ms),
                _ => {
                    self.diags.push(
                        Diagnostic::new(
                            "E0508",
                            name.span,
                            format!("`backoff` has no argument `{}`", name.name),
                        )
                        .label("unknown backoff argument")
                        .note("the arguments are `base_ms` (default 2), `factor` (default 2) and `max_ms` (default 20)"),
                    );
                    None
                }
            };
            if let (Some(slot), Some(value)) = (slot, literal) {
                *slot = value;
            }
            if !self.eat(Tok::Comma) {
                break;
            }
        }
        self.expect(Tok::RParen, "to close the backoff arguments")?;
        Ok(backoff)
    }

    /// within_duration := INT ('ms' | 's'), after `within`: the duration in milliseconds, or
    /// `None` after reporting what is wrong with it.
    fn within_duration(&mut self) -> Option<i64> {
        let value_span = self.span();
        if self.peek() != Tok::Int {
            self.diags.push(
                Diagnostic::new(
                    "E0511",
                    value_span,
                    "`within` needs a duration such as `50ms` or `2s`",
                )
                .label("expected an integer literal followed by `ms` or `s`"),
            );
            // Skip a wrong duration (`1.5s`, `x`), not the next clause.
            let word = self.text(value_span);
            if self.peek() == Tok::Float || (self.peek() == Tok::Ident && word != "backoff") {
                self.bump();
                if self.peek() == Tok::Ident && matches!(self.text(self.span()), "ms" | "s") {
                    self.bump();
                }
            }
            return None;
        }
        self.bump();
        let value = self.int_literal(value_span);
        let unit_span = self.span();
        let unit = if self.peek() == Tok::Ident {
            self.bump();
            self.text(unit_span)
        } else {
            ""
        };
        let scale = match unit {
            "ms" => 1,
            "s" => 1000,
            _ => {
                let (span, label) = if unit.is_empty() {
                    (value_span, "this duration has no unit".to_string())
                } else {
                    (unit_span, format!("`{unit}` is not a unit of time here"))
                };
                self.diags.push(
                    Diagnostic::new(
                        "E0511",
                        span,
                        "`within` takes milliseconds (`ms`) or seconds (`s`)",
                    )
                    .label(label)
                    .note("write the duration as `50ms` or `2s`"),
                );
                return None;
            }
        };
        let value = value?;
        match value.checked_mul(scale) {
            Some(ms) => Some(ms),
            None => {
                self.diags.push(
                    Diagnostic::new(
                        "E0511",
                        value_span.to(unit_span),
                        "`within` duration too long",
                    )
                    .label("more milliseconds than an `int` holds"),
                );
                None
            }
        }
    }

    /// let_rest := (':' type)? '=' expr   (after `let NAME`)
    fn let_rest(&mut self) -> PResult<(Option<TypeExpr>, Expr)> {
        let ty = if self.eat(Tok::Colon) {
            Some(self.type_expr("after `:`")?)
        } else {
            None
        };
        self.expect(Tok::Eq, "in a `let` (every variable starts with a value)")?;
        let value = self.expr()?;
        Ok((ty, value))
    }

    // ---- expressions ---------------------------------------------------------------------------

    fn expr(&mut self) -> PResult<Expr> {
        self.nested(|this| this.binary(1))
    }

    /// A new expression node that the last token read completes; see [`Parser::node_at`].
    fn node(&mut self, kind: ExprKind, span: Span) -> Expr {
        let at = self.prev_span();
        self.node_at(kind, span, at)
    }

    /// A new expression node, unless it would make the tree deeper than [`MAX_DEPTH`]: then the
    /// first such node of the file is reported at `at`, and an error node stands for it.
    fn node_at(&mut self, kind: ExprKind, span: Span, at: Span) -> Expr {
        let expr = Expr::new(kind, span);
        if expr.height as usize <= MAX_DEPTH {
            return expr;
        }
        self.limit_exceeded(
            Diagnostic::new("E0204", at, "expression nested too deeply")
                .label(format!(
                    "the expression is more than {MAX_DEPTH} levels deep here"
                ))
                .note("split the expression with intermediate variables"),
        );
        Expr::new(ExprKind::Error, span)
    }

    /// Runs `parse` one nesting level deeper, refusing to go past [`MAX_NESTING`]: then the
    /// construct is reported (if it is the first of the file) and skipped.
    fn nested<T>(&mut self, parse: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        if self.depth >= MAX_NESTING {
            let span = self.span();
            self.limit_exceeded(
                Diagnostic::new("E0204", span, "code nested too deeply")
                    .label(format!(
                        "more than {MAX_NESTING} levels of nested expressions or blocks"
                    ))
                    .note("split the code into functions or intermediate variables"),
            );
            self.skip_construct();
            return Err(Reported);
        }
        self.depth += 1;
        let result = parse(self);
        self.depth -= 1;
        result
    }

    /// binary := unary (OP binary)*, by precedence climbing; all operators are left-associative.
    fn binary(&mut self, min_prec: u8) -> PResult<Expr> {
        let mut lhs = self.unary()?;
        let mut chain = 0;
        while let Some((op, prec)) = binary_op(self.peek()) {
            if prec < min_prec {
                break;
            }
            chain += 1;
            if chain > MAX_CHAIN {
                let span = self.span();
                self.limit_exceeded(
                    Diagnostic::new("E0204", span, "expression too long")
                        .label(format!("more than {MAX_CHAIN} operators in one expression"))
                        .note("split the expression with intermediate variables"),
                );
                self.skip_construct();
                return Err(Reported);
            }
            let op_span = self.bump().span;
            let rhs = self.binary(prec + 1)?;
            let span = lhs.span.to(rhs.span);
            lhs = self.node(
                ExprKind::Binary {
                    op,
                    op_span,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
                span,
            );
        }
        Ok(lhs)
    }

    /// unary := ('-' | '!') unary | postfix
    fn unary(&mut self) -> PResult<Expr> {
        if matches!(self.peek(), Tok::Minus | Tok::Bang) {
            return self.nested(|this| this.unary_inner());
        }
        self.unary_inner()
    }

    fn unary_inner(&mut self) -> PResult<Expr> {
        let op = match self.peek() {
            Tok::Minus => UnOp::Neg,
            Tok::Bang => UnOp::Not,
            _ => return self.postfix(),
        };
        let op_span = self.bump().span;
        if op == UnOp::Neg && self.peek() == Tok::Int {
            let literal = self.span();
            if self.text(literal).replace('_', "") == "9223372036854775808" {
                self.bump();
                self.diags.push(
                    Diagnostic::new("E0104", literal, "integer literal out of range for `int`")
                        .label("the largest int is 9223372036854775807")
                        .note("`-` applies to the literal after it; write `-9223372036854775807 - 1` for the smallest int"),
                );
                return Ok(self.node(ExprKind::Error, op_span.to(literal)));
            }
        }
        let operand = self.unary()?;
        let span = op_span.to(operand.span);
        Ok(self.node(
            ExprKind::Unary {
                op,
                operand: Box::new(operand),
            },
            span,
        ))
    }

    /// postfix := primary ( '.' IDENT '(' args ')' | '.' IDENT | '[' expr ']' | '[' expr '..' expr ']' )*
    fn postfix(&mut self) -> PResult<Expr> {
        let mut expr = self.primary()?;
        loop {
            match self.peek() {
                Tok::Dot if self.peek_at(1) == Tok::Ident && self.peek_at(2) == Tok::LParen => {
                    // A method call, or sugar for `f(x, a, b)` (the checker decides).
                    self.bump();
                    let method = self.ident("after `.`")?;
                    let mut args = vec![expr];
                    args.extend(self.call_args()?);
                    let span = args[0].span.to(self.prev_span());
                    expr = self.node(ExprKind::MethodCall { method, args }, span);
                }
                Tok::Dot if matches!(self.peek_at(1), Tok::Int | Tok::Float) => {
                    self.bump();
                    let token = self.bump();
                    // `t.0.1` reads its two indices as one float literal, `0.1`.
                    let mut at = token.span.start as usize;
                    for part in self.text(token.span).split('.') {
                        let span = Span::new(at, at + part.len());
                        at += part.len() + 1;
                        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                            self.diags.push(
                                Diagnostic::new("E0201", span, format!("expected a field name or tuple index after `.`, found `{part}`"))
                                    .label("not a field")
                                    .note("tuple elements are numbered from 0: `t.0`, `t.1`"),
                            );
                            return Err(Reported);
                        }
                        let field = Ident {
                            name: part.to_string(),
                            span,
                        };
                        let span = expr.span.to(span);
                        expr = self.node(
                            ExprKind::Field {
                                base: Box::new(expr),
                                field,
                            },
                            span,
                        );
                    }
                }
                Tok::Dot => {
                    self.bump();
                    let field = self.ident("after `.` (a field name)")?;
                    let span = expr.span.to(field.span);
                    expr = self.node(
                        ExprKind::Field {
                            base: Box::new(expr),
                            field,
                        },
                        span,
                    );
                }
                Tok::LBracket => {
                    let bracket = self.bump().span;
                    let index = self.expr()?;
                    let base = Box::new(expr);
                    let kind = if self.eat(Tok::DotDot) {
                        let end = Box::new(self.expr()?);
                        ExprKind::Slice {
                            base,
                            start: Box::new(index),
                            end,
                            bracket,
                        }
                    } else {
                        ExprKind::Index {
                            base,
                            index: Box::new(index),
                            bracket,
                        }
                    };
                    let close = self.expect(Tok::RBracket, "to close the index")?.span;
                    let start = match &kind {
                        ExprKind::Slice { base, .. } | ExprKind::Index { base, .. } => base.span,
                        _ => bracket,
                    };
                    expr = self.node(kind, start.to(close));
                }
                // A call of a function value: `make(1)(2)`, `(s.op)(x)`, `fs[0](x)`. Not after a
                // block-like expression, which ends its statement.
                Tok::LParen
                    if !matches!(
                        expr.kind,
                        ExprKind::If { .. } | ExprKind::Block(_) | ExprKind::Match { .. }
                    ) =>
                {
                    let args = self.call_args()?;
                    let span = expr.span.to(self.prev_span());
                    let kind = ExprKind::CallValue {
                        callee: Box::new(expr),
                        args,
                    };
                    expr = self.node(kind, span);
                }
                Tok::Question => {
                    let question = self.bump().span;
                    let span = expr.span.to(question);
                    let kind = ExprKind::Try {
                        operand: Box::new(expr),
                        question,
                    };
                    expr = self.node(kind, span);
                }
                _ => return Ok(expr),
            }
        }
    }

    /// args := '(' (expr (',' expr)* ','?)? ')'
    fn call_args(&mut self) -> PResult<Vec<Expr>> {
        self.expect(Tok::LParen, "to start the arguments")?;
        let mut args = Vec::new();
        while self.peek() != Tok::RParen {
            args.push(self.expr()?);
            if !self.eat(Tok::Comma) {
                break;
            }
        }
        self.expect(Tok::RParen, "to close the arguments")?;
        Ok(args)
    }

    /// primary := INT | FLOAT | STRING | 'true' | 'false' | IDENT | IDENT args | '(' expr ')'
    ///          | '(' expr (',' expr)+ ','? ')' | if | block
    ///          | '[' (expr (',' expr)* ','?)? ']' | 'new' IDENT '{' (IDENT (':' expr)? ,)* '}'
    fn primary(&mut self) -> PResult<Expr> {
        let span = self.span();
        match self.peek() {
            Tok::Int => {
                self.bump();
                let kind = match self.int_literal(span) {
                    Some(value) => ExprKind::Int(value),
                    None => ExprKind::Error,
                };
                Ok(self.node(kind, span))
            }
            Tok::UnterminatedStr => {
                // Reported by the lexer.
                self.bump();
                Ok(self.node(ExprKind::Error, span))
            }
            Tok::Str => {
                self.bump();
                let kind = match self.string_literal(span) {
                    Some(text) => ExprKind::Str(text),
                    None => ExprKind::Error,
                };
                Ok(self.node(kind, span))
            }
            Tok::True | Tok::False => {
                let value = self.bump().kind == Tok::True;
                Ok(self.node(ExprKind::Bool(value), span))
            }
            Tok::Ident => {
                let name = self.ident("")?;
                if self.eat(Tok::ColonColon) {
                    let variant = self.name_or_new("after `::` (a variant or function name)")?;
                    let args = if self.peek() == Tok::LParen {
                        Some(self.call_args()?)
                    } else {
                        None
                    };
                    let kind = ExprKind::Variant {
                        enum_name: Box::new(name),
                        variant: Box::new(variant),
                        args,
                    };
                    return Ok(self.node(kind, span.to(self.prev_span())));
                }
                if self.peek() == Tok::LParen {
                    let args = self.call_args()?;
                    let span = span.to(self.prev_span());
                    return Ok(self.node(ExprKind::Call { callee: name, args }, span));
                }
                Ok(self.node(ExprKind::Var(name.name), span))
            }
            Tok::Assert | Tok::Live => {
                let what = if self.peek() == Tok::Assert {
                    "`assert(...)`"
                } else {
                    "a `live` block"
                };
                let found = self.peek().describe();
                self.diags.push(
                    Diagnostic::new(
                        "E0201",
                        span,
                        format!("expected an expression, found {found}"),
                    )
                    .label("expected an expression")
                    .note(format!("{what} is a statement, not an expression")),
                );
                Err(Reported)
            }
            Tok::LParen => {
                let (mut items, span) = self.tuple_of(|this| this.expr(), "the parenthesis")?;
                if items.len() == 1 {
                    let inner = items
                        .pop()
                        .unwrap_or_else(|| Expr::new(ExprKind::Error, span));
                    return Ok(Expr { span, ..inner });
                }
                Ok(self.node(ExprKind::Tuple(items), span))
            }
            Tok::If => self.if_expr(),
            Tok::LBrace => {
                let block = self.block()?;
                let span = block.span;
                Ok(self.node(ExprKind::Block(block), span))
            }
            Tok::Float => {
                self.bump();
                let text: String = self.text(span).chars().filter(|&c| c != '_').collect();
                let kind = match text.parse::<f64>() {
                    Ok(value) if value.is_finite() => ExprKind::Float(value),
                    _ => {
                        self.diags.push(
                            Diagnostic::new("E0108", span, "float literal out of range")
                                .label("too large for a 64-bit float"),
                        );
                        ExprKind::Error
                    }
                };
                Ok(self.node(kind, span))
            }
            Tok::LBracket => {
                self.bump();
                let mut items = Vec::new();
                while self.peek() != Tok::RBracket {
                    items.push(self.expr()?);
                    if !self.eat(Tok::Comma) {
                        break;
                    }
                }
                let close = self
                    .expect(Tok::RBracket, "to close the array literal")?
                    .span;
                Ok(self.node(ExprKind::Array(items), span.to(close)))
            }
            Tok::New => {
                self.bump();
                let name = self.ident("after `new` (a struct name)")?;
                let type_args = if self.peek() == Tok::Lt {
                    self.nested(|this| this.type_args())?
                } else {
                    Vec::new()
                };
                self.expect(Tok::LBrace, "after the struct name")?;
                let mut fields = Vec::new();
                while self.peek() != Tok::RBrace {
                    let field = self.ident("(a field name)")?;
                    let value = if self.eat(Tok::Colon) {
                        self.expr()?
                    } else {
                        self.node(ExprKind::Var(field.name.clone()), field.span)
                    };
                    fields.push((field, value));
                    if !self.eat(Tok::Comma) {
                        break;
                    }
                }
                let close = self
                    .expect(Tok::RBrace, "to close the struct literal")?
                    .span;
                let kind = ExprKind::New {
                    name: Box::new(name),
                    type_args,
                    fields,
                };
                Ok(self.node(kind, span.to(close)))
            }
            Tok::Fn => self.nested(|this| this.closure()),
            Tok::Match => self.nested(|this| this.match_expr()),
            _ => Err(self.error_expected("an expression", "")),
        }
    }

    /// closure := 'fn' '(' params ')' ('->' type)? block
    fn closure(&mut self) -> PResult<Expr> {
        let start = self.expect(Tok::Fn, "")?.span;
        if self.peek() == Tok::Ident {
            let span = self.span();
            self.diags.push(
                Diagnostic::new("E0201", span, "a function declared inside a body")
                    .label("functions are declared at the top level")
                    .note("declare it at the top level, or write a closure: `let f = fn(int x) -> int { ... };`"),
            );
            self.skip_construct();
            return Err(Reported);
        }
        let after_fn = self.pos;
        match self.closure_rest() {
            Ok((params, ret, body)) => {
                let span = start.to(body.span);
                Ok(self.node(
                    ExprKind::Closure {
                        params,
                        ret: ret.map(Box::new),
                        body: Box::new(body),
                    },
                    span,
                ))
            }
            // Reported: the whole closure is skipped from its parameters on, so that the rest
            // of it causes nothing more and the expression around it goes on.
            Err(Reported) => {
                self.pos = after_fn;
                self.skip_construct();
                Ok(self.node(ExprKind::Error, start.to(self.prev_span())))
            }
        }
    }

    /// A closure after `fn`: its parameters, result type and body.
    fn closure_rest(&mut self) -> PResult<(Vec<Param>, Option<TypeExpr>, Block)> {
        self.expect(Tok::LParen, "after `fn` (a closure's parameters)")?;
        let params = self.param_list()?;
        let ret = if self.eat(Tok::Arrow) {
            Some(self.type_expr("after `->`")?)
        } else {
            None
        };
        Ok((params, ret, self.block()?))
    }

    /// if := 'if' expr block ('else' (if | block))?
    ///
    /// An `else if` chain is read in a loop, not by recursion, however long it is; the tree is
    /// then built from its last link up.
    fn if_expr(&mut self) -> PResult<Expr> {
        let first = self.if_link()?;
        let mut links = Vec::new();
        let mut else_ = None;
        while self.eat(Tok::Else) {
            if self.peek() == Tok::If {
                links.push(self.if_link()?);
            } else {
                let block = self.block()?;
                let span = block.span;
                else_ = Some(Box::new(self.node(ExprKind::Block(block), span)));
                break;
            }
        }
        let end = self.prev_span();
        for (start, head, then) in links.into_iter().rev() {
            let link = self.if_node(head, then, else_, start.to(end));
            else_ = Some(Box::new(link));
        }
        let (start, head, then) = first;
        Ok(self.if_node(head, then, else_, start.to(end)))
    }

    /// One link of an `if` chain as a node: an `if`, or for `if let` a `match` whose second arm
    /// is the `else` (an empty block without one).
    fn if_node(&mut self, head: IfHead, then: Block, else_: Option<Box<Expr>>, span: Span) -> Expr {
        match head {
            IfHead::Cond(cond) => {
                let kind = ExprKind::If {
                    cond,
                    then: Box::new(then),
                    else_,
                };
                self.node_at(kind, span, span)
            }
            IfHead::Let(pattern, value) => {
                let then_span = then.span;
                let then = self.node(ExprKind::Block(then), then_span);
                let otherwise = match else_ {
                    Some(else_) => *else_,
                    None => {
                        let empty = Block::new(Vec::new(), None, then_span);
                        self.node(ExprKind::Block(empty), then_span)
                    }
                };
                self.pattern_test(pattern, *value, then, otherwise, span)
            }
        }
    }

    /// One `if cond { then }` or `if let P = e { then }` of an `if` chain, and where it starts.
    fn if_link(&mut self) -> PResult<(Span, IfHead, Block)> {
        let start = self.expect(Tok::If, "")?.span;
        let head = if self.eat(Tok::Let) {
            let pattern = self.pattern("after `if let`")?;
            self.expect(Tok::Eq, "after the pattern")?;
            IfHead::Let(pattern, Box::new(self.expr()?))
        } else {
            IfHead::Cond(Box::new(self.expr()?))
        };
        let then = self.block()?;
        Ok((start, head, then))
    }

    // ---- literals ------------------------------------------------------------------------------

    /// Decodes a decimal, `0x` or `0b` integer literal with `_` separators.
    fn int_literal(&mut self, span: Span) -> Option<i64> {
        let text = self.text(span);
        let (digits, radix) = match text.get(..2) {
            Some("0x" | "0X") => (&text[2..], 16),
            Some("0b" | "0B") => (&text[2..], 2),
            _ => (text, 10),
        };
        let digits: String = digits.chars().filter(|&c| c != '_').collect();
        let valid = !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix));
        if !valid {
            self.diags.push(
                Diagnostic::new("E0107", span, format!("invalid integer literal `{text}`"))
                    .label(format!("not a base-{radix} number")),
            );
            return None;
        }
        match i64::from_str_radix(&digits, radix) {
            Ok(value) => Some(value),
            Err(_) => {
                self.diags.push(
                    Diagnostic::new("E0104", span, "integer literal out of range for `int`")
                        .label("does not fit in 64 bits")
                        .note("ints range from -9223372036854775808 to 9223372036854775807"),
                );
                None
            }
        }
    }

    /// Decodes a string literal's escapes; reports each bad escape.
    fn string_literal(&mut self, span: Span) -> Option<String> {
        let raw = self.text(span);
        let body = &raw[1..raw.len() - 1];
        let body_start = span.start as usize + 1;
        let mut out = String::with_capacity(body.len());
        let mut ok = true;
        let mut chars = body.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some((_, esc)) = chars.next() else { break };
            let decoded = match esc {
                'n' => Some('\n'),
                't' => Some('\t'),
                'r' => Some('\r'),
                '\\' => Some('\\'),
                '"' => Some('"'),
                '0' => Some('\0'),
                'u' => {
                    let rest = &body[i + 2..];
                    let decoded = rest
                        .strip_prefix('{')
                        .and_then(|r| r.find('}').map(|end| &r[..end]))
                        .filter(|hex| !hex.is_empty() && hex.len() <= 6)
                        .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                        .and_then(char::from_u32);
                    match decoded {
                        Some(ch) => {
                            let consumed = rest.find('}').map_or(0, |end| end + 1);
                            while chars.peek().is_some_and(|&(j, _)| j < i + 2 + consumed) {
                                chars.next();
                            }
                            Some(ch)
                        }
                        None => {
                            self.diags.push(
                                Diagnostic::new("E0103", Span::new(body_start + i, body_start + i + 2), "invalid unicode escape")
                                    .label("expected `\\u{...}` with 1 to 6 hex digits naming a Unicode scalar value"),
                            );
                            ok = false;
                            continue;
                        }
                    }
                }
                _ => None,
            };
            match decoded {
                Some(ch) => out.push(ch),
                None => {
                    let end = body_start + i + 1 + esc.len_utf8();
                    self.diags.push(
                        Diagnostic::new(
                            "E0103",
                            Span::new(body_start + i, end),
                            format!("unknown escape `\\{}`", esc.escape_default()),
                        )
                        .label("unknown escape")
                        .note("the escapes are \\n \\t \\r \\\\ \\\" \\0 and \\u{...}"),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::lexer::lex;

    fn parse_ok(source: &str) -> File {
        let mut diags = Vec::new();
        let tokens = lex(source, &mut diags);
        let file = parse(source, &tokens, &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        file
    }

    fn codes(source: &str) -> Vec<&'static str> {
        let mut diags = Vec::new();
        let tokens = lex(source, &mut diags);
        parse(source, &tokens, &mut diags);
        diags.iter().map(|d| d.code).collect()
    }

    /// [`codes`] on a thread with the front end's large stack, for deeply nested input (parsing
    /// recurses per nesting level, and dropping the tree per level of its height).
    fn deep_codes(source: String) -> Vec<&'static str> {
        std::thread::Builder::new()
            .stack_size(1 << 30)
            .spawn(move || codes(&source))
            .expect("a thread for the test")
            .join()
            .expect("no panic")
    }

    fn first_expr(file: &File) -> &Expr {
        match &file.items[0] {
            Item::Stmt(Stmt {
                kind: StmtKind::Expr(e),
                ..
            }) => e,
            other => panic!("not an expression statement: {other:?}"),
        }
    }

    fn shape(expr: &Expr) -> String {
        match &expr.kind {
            ExprKind::Int(v) => v.to_string(),
            ExprKind::Var(n) => n.clone(),
            ExprKind::Binary { op, lhs, rhs, .. } => {
                format!("({} {} {})", shape(lhs), op.symbol(), shape(rhs))
            }
            ExprKind::Unary { op, operand } => format!("({op:?} {})", shape(operand)),
            ExprKind::Call { callee, args } => {
                format!(
                    "{}({})",
                    callee.name,
                    args.iter().map(shape).collect::<Vec<_>>().join(", ")
                )
            }
            ExprKind::MethodCall { method, args } => {
                format!(
                    "{}.{}({})",
                    shape(&args[0]),
                    method.name,
                    args[1..].iter().map(shape).collect::<Vec<_>>().join(", ")
                )
            }
            ExprKind::Tuple(items) => {
                format!(
                    "<{}>",
                    items.iter().map(shape).collect::<Vec<_>>().join(", ")
                )
            }
            ExprKind::Field { base, field } => format!("{}.{}", shape(base), field.name),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn a_block_ends_in_its_tail_expression_at_any_depth() {
        // Each block's tail is the block inside it (moved, not copied, so this is linear).
        let depth = 450;
        let source = format!("let x = {}1{};", "{".repeat(depth), "}".repeat(depth));
        std::thread::Builder::new()
            .stack_size(1 << 30)
            .spawn(move || {
                let file = parse_ok(&source);
                let Item::Stmt(Stmt {
                    kind: StmtKind::Let { value, .. },
                    ..
                }) = &file.items[0]
                else {
                    panic!("not a let: {:?}", file.items[0]);
                };
                let mut expr = value;
                let mut blocks = 0;
                while let ExprKind::Block(block) = &expr.kind {
                    assert!(block.stmts.is_empty());
                    expr = block.tail.as_ref().expect("a tail");
                    blocks += 1;
                }
                assert_eq!(shape(expr), "1");
                assert_eq!(blocks, depth);
            })
            .expect("a thread for the test")
            .join()
            .expect("no panic");
    }

    #[test]
    fn precedence_follows_the_spec() {
        let cases = [
            ("1 + 2 * 3;", "(1 + (2 * 3))"),
            ("1 - 2 - 3;", "((1 - 2) - 3)"),
            ("a || b && c;", "(a || (b && c))"),
            ("a | b ^ c & d;", "(a | (b ^ (c & d)))"),
            ("a == b < c;", "(a == (b < c))"),
            ("1 << 2 + 3;", "(1 << (2 + 3))"),
            ("-a * b;", "((Neg a) * b)"),
            ("x.f(1).g();", "x.f(1).g()"),
            ("0x1F + 0b101 + 1_000;", "((31 + 5) + 1000)"),
            ("(1 + 2) * 3;", "((1 + 2) * 3)"),
            ("(1, (a, 2),);", "<1, <a, 2>>"),
            ("t.0.1.2 + t.10;", "(t.0.1.2 + t.10)"),
            ("(t).1;", "t.1"),
        ];
        for (source, expected) in cases {
            assert_eq!(shape(first_expr(&parse_ok(source))), expected, "{source}");
        }
    }

    #[test]
    fn tail_expressions_end_blocks() {
        let file = parse_ok("fn f() -> int { let x = 1; x + 1 }");
        let Item::Fn(f) = &file.items[0] else {
            panic!()
        };
        assert_eq!(f.body.stmts.len(), 1);
        assert!(f.body.tail.is_some());
    }

    #[test]
    fn several_errors_are_reported() {
        assert_eq!(
            codes("let = 1;\nlet y = ;\nprintln(1)"),
            vec!["E0201", "E0201", "E0201"]
        );
    }

    #[test]
    fn literal_errors() {
        assert_eq!(codes("9223372036854775808;"), vec!["E0104"]);
        assert_eq!(codes("-9223372036854775808;"), vec!["E0104"]);
        assert_eq!(codes("0x;"), vec!["E0107"]);
        assert_eq!(codes(r#""a\qb";"#), vec!["E0103"]);
        assert_eq!(codes(r#""\u{110000}";"#), vec!["E0103"]);
        assert!(codes(r#""\u{e9}\n";"#).is_empty());
    }

    fn first_stmt(file: &File) -> &StmtKind {
        match &file.items[0] {
            Item::Stmt(stmt) => &stmt.kind,
            other => panic!("not a statement: {other:?}"),
        }
    }

    #[test]
    fn live_clauses_come_in_any_order_with_defaults() {
        let file = parse_ok("live invariant x > 0 within 2s backoff(max_ms=7,) { x = 1; }");
        let StmtKind::Live(live) = first_stmt(&file) else {
            panic!("not a live block")
        };
        assert_eq!(live.within_ms, Some(2000));
        assert_eq!(
            live.backoff,
            Some(Backoff {
                base_ms: 2,
                factor: 2,
                max_ms: 7
            })
        );
        assert_eq!(
            live.invariant.as_ref().map(|i| i.text.as_str()),
            Some("x > 0")
        );
        assert_eq!(live.body.stmts.len(), 1);

        let file = parse_ok("live within 50ms { }");
        let StmtKind::Live(live) = first_stmt(&file) else {
            panic!("not a live block")
        };
        assert_eq!((live.within_ms, live.backoff), (Some(50), None));
        assert!(live.invariant.is_none());
    }

    #[test]
    fn contracts_keep_their_source_text() {
        let file = parse_ok("fn f(int n) -> int requires n >= 0\n  ensures result  ==  (n) { n }");
        let Item::Fn(f) = &file.items[0] else {
            panic!("not a function")
        };
        let clauses: Vec<(ContractKind, &str)> = f
            .contracts
            .iter()
            .map(|c| (c.kind, c.text.as_str()))
            .collect();
        assert_eq!(
            clauses,
            [
                (ContractKind::Requires, "n >= 0"),
                (ContractKind::Ensures, "result  ==  (n)")
            ]
        );
    }

    #[test]
    fn asserts_are_statements() {
        let file = parse_ok("assert(a && b, \"m\");");
        let StmtKind::Assert { text, message, .. } = first_stmt(&file) else {
            panic!("not an assert")
        };
        assert_eq!(text, "a && b");
        assert!(message.is_some());
        assert!(parse_ok("fn f() { assert(true) }").items.len() == 1);
        assert_eq!(codes("let x = assert(true);"), vec!["E0201"]);
        assert_eq!(codes("assert();"), vec!["E0501"]);
    }

    #[test]
    fn live_clause_errors() {
        assert_eq!(codes("live backoff(base=1) { }"), vec!["E0508"]);
        assert_eq!(
            codes("live backoff(factor=1.5, max_ms=-1) { }"),
            vec!["E0509", "E0509"]
        );
        assert_eq!(codes("live backoff(factor=1, factor=2) { }"), vec!["E0510"]);
        assert_eq!(codes("live within 5 { }"), vec!["E0511"]);
        assert_eq!(codes("live within 5h { }"), vec!["E0511"]);
        assert_eq!(codes("live within x { }"), vec!["E0511"]);
        assert_eq!(codes("live within 1.5s { }"), vec!["E0511"]);
        assert_eq!(codes("live within 9223372036854775807s { }"), vec!["E0511"]);
        assert_eq!(codes("live invariant a invariant b { }"), vec!["E0513"]);
        assert_eq!(codes("live forever { }"), vec!["E0201"]);
        assert_eq!(codes("let y = live { };"), vec!["E0201"]);
    }

    #[test]
    fn unsupported_constructs_say_so() {
        assert_eq!(
            codes("trait P<T> { }\nfn f() { static let x = 1; }"),
            vec!["E0901"]
        );
        assert_eq!(codes("fn f() { static x = 1; }"), vec!["E0201"]);
        assert_eq!(
            codes("trait P { fn f(self); fn g(self) { } }"),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn generic_declarations_and_types_parse() {
        assert_eq!(codes("enum P<T> { A(T) }"), Vec::<&str>::new());
        assert_eq!(
            codes("struct Pair<A, B: Ord + Eq,> { A a, B b }"),
            Vec::<&str>::new()
        );
        assert_eq!(
            codes("fn f<T>(Option<Option<[T]>> x) -> Result<T, (int, string)> { }"),
            Vec::<&str>::new()
        );
        assert_eq!(
            codes("let x = new Pair<int, int> { a: 1, b: 2 };"),
            Vec::<&str>::new()
        );
        assert_eq!(codes("let x = y?.z? + 1;"), Vec::<&str>::new());
        assert_eq!(codes("fn f<>() { }"), vec!["E0201"]);
        assert_eq!(codes("let x: Option<int = 1;"), vec!["E0201"]);
    }

    #[test]
    fn closures_and_function_types_parse() {
        assert_eq!(
            codes("let f = fn(int x) -> int { x + 1 };\nf(1);"),
            Vec::<&str>::new()
        );
        assert_eq!(
            codes("fn f(fn(int, [string]) -> fn() g) -> fn(int) { return g(1, []); }"),
            Vec::<&str>::new()
        );
        assert_eq!(codes("let x = make(1)(2)((3));"), Vec::<&str>::new());
        // Parameters are typed; one mistake, one diagnostic.
        assert_eq!(codes("g(fn(x) { x }, 2);"), vec!["E0201"]);
        assert_eq!(codes("let f = fn(int x) { x"), vec!["E0201"]);
        assert_eq!(codes("let f = fn named() { };"), vec!["E0201"]);
    }

    #[test]
    fn text_swallowed_by_an_unterminated_string_is_not_missed() {
        for source in [
            "let s = \"abc;\nlet t = 1;",
            "println(\"oops);\nprintln(\"next\");",
            "fn f() {\n    if x {\n        println(\"a);\n    }\n}\nf();",
            "let v = [1, \"two];\nlet w = v;",
            "fn f() {\n    println(\"a); }",
            "fn f() {\n    let s = \"abc",
            "if x == \"y {\n    f();\n}",
        ] {
            assert_eq!(codes(source), vec!["E0102"], "{source}");
        }
    }

    #[test]
    fn unknown_characters_cause_nothing_more() {
        assert_eq!(codes("let x = 1 @ 2;\nlet y = x;"), vec!["E0101"]);
        assert_eq!(
            codes("println(a $ b);\nx = 1 ## 2 + y;"),
            vec!["E0101", "E0101"]
        );
    }

    #[test]
    fn an_unterminated_comment_explains_the_end_of_the_file() {
        assert_eq!(codes("fn f() {\n  let x = 1 + /* }"), vec!["E0106"]);
        assert_eq!(codes("fn f() {\n  g(1, /* )\n}"), vec!["E0106"]);
    }

    #[test]
    fn blocks_open_at_the_end_are_one_error() {
        let mut diags = Vec::new();
        let source = "fn f() {\n  while true {\n    if x {";
        parse(source, &lex(source, &mut diags), &mut diags);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!((diags[0].code, diags[0].span), ("E0203", Span::new(33, 34)));
        assert_eq!(diags[0].secondary[0].0, Span::new(7, 8));
        assert_eq!(
            diags[0].notes,
            ["3 blocks are open at the end of the file; each needs a `}`"]
        );
        // A syntax error at the end of the file is the one report of it.
        assert_eq!(codes("fn f() {\n  let x = 1 +"), vec!["E0201"]);
    }

    #[test]
    fn code_nested_too_deeply_is_one_error_and_is_skipped() {
        // Each `{` is two levels: the statement and its block.
        let deep = |n: usize| format!("{}{}", "{".repeat(n), "}".repeat(n));
        assert!(deep_codes(deep(MAX_NESTING / 2)).is_empty());
        assert_eq!(deep_codes(deep(MAX_NESTING / 2 + 1)), vec!["E0204"]);
        // Parsing goes on after the construct, and a second one is not reported again.
        let source = format!("{}\nlet x = ;\n{}", deep(600), deep(600));
        assert_eq!(deep_codes(source), vec!["E0204", "E0201"]);
        // Unclosed too: the skipped construct runs to the end of the file.
        assert_eq!(deep_codes("{".repeat(MAX_NESTING)), vec!["E0204"]);
        let parens = format!(
            "f({}1{});",
            "(".repeat(MAX_NESTING),
            ")".repeat(MAX_NESTING)
        );
        assert_eq!(deep_codes(parens), vec!["E0204"]);
    }

    #[test]
    fn chains_are_read_in_loops_and_bounded_by_depth() {
        let links = |n: usize| format!("if x {{ }}{}", " else if x { }".repeat(n));
        let file = parse_ok(&links(1000));
        let Item::Stmt(stmt) = &file.items[0] else {
            panic!("not a statement")
        };
        let StmtKind::Expr(chain) = &stmt.kind else {
            panic!("not an expression")
        };
        // The last `if` has height 2 (above its condition and block); each link adds one.
        assert_eq!(chain.height, 1002);
        assert!(deep_codes(links(MAX_DEPTH - 10)).is_empty());
        assert_eq!(deep_codes(links(MAX_DEPTH + 10)), vec!["E0204"]);
        assert_eq!(
            deep_codes(format!("a{};", "[0]".repeat(MAX_DEPTH))),
            vec!["E0204"]
        );
        assert_eq!(
            deep_codes(format!("a{};", ".f".repeat(MAX_DEPTH))),
            vec!["E0204"]
        );
        // Chains each short enough, but nested: the tree is as deep as they are long together.
        let sums = |n: usize| {
            let link = format!("{})", " + 1".repeat(n));
            format!("{}1{};", "(".repeat(3), link.repeat(3))
        };
        assert!(deep_codes(sums(MAX_DEPTH / 3 - 10)).is_empty());
        assert_eq!(deep_codes(sums(MAX_DEPTH / 3 + 10)), vec!["E0204"]);
    }
}
