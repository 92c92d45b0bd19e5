//! The lexer: source text to a vector of [`Token`]s with spans, built on `logos`.
//!
//! It never fails: characters it cannot use become diagnostics (unknown character, non-ASCII
//! identifier, unterminated string or comment) and are skipped, so the parser always gets a token
//! stream ending in [`Tok::Eof`]. Literal *values* (integers, escapes) are decoded by the parser,
//! which knows the context; the lexer only classifies.

use logos::Logos;

use crate::diag::{Diagnostic, Span};

/// Token kinds.
#[derive(Logos, Copy, Clone, Debug, PartialEq, Eq)]
#[logos(skip r"[ \t\r\n\f]+")]
#[logos(skip(r"//[^\n]*", allow_greedy = true))]
#[logos(skip r"/\*([^*]|\*+[^*/])*\*+/")]
pub enum Tok {
    // Keywords.
    #[token("fn")]
    Fn,
    #[token("let")]
    Let,
    #[token("static")]
    Static,
    #[token("if")]
    If,
    #[token("else")]
    Else,
    #[token("while")]
    While,
    #[token("for")]
    For,
    #[token("in")]
    In,
    #[token("return")]
    Return,
    #[token("break")]
    Break,
    #[token("continue")]
    Continue,
    #[token("struct")]
    Struct,
    #[token("enum")]
    Enum,
    #[token("new")]
    New,
    #[token("match")]
    Match,
    #[token("live")]
    Live,
    #[token("requires")]
    Requires,
    #[token("ensures")]
    Ensures,
    #[token("invariant")]
    Invariant,
    #[token("assert")]
    Assert,
    #[token("type")]
    Type,
    #[token("use")]
    Use,
    #[token("impl")]
    Impl,
    #[token("trait")]
    Trait,
    #[token("true")]
    True,
    #[token("false")]
    False,

    // Literals and names.
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*")]
    Ident,
    /// An identifier-like word with non-ASCII letters: reported, then parsed as an identifier.
    #[regex(r"[\p{L}_][\p{L}\p{N}_]*", priority = 1)]
    NonAsciiIdent,
    #[regex(r"[0-9][0-9_]*")]
    #[regex(r"0[xX][0-9A-Za-z_]*")]
    #[regex(r"0[bB][0-9A-Za-z_]*")]
    Int,
    #[regex(r"[0-9][0-9_]*\.[0-9][0-9_]*([eE][+-]?[0-9_]+)?")]
    #[regex(r"[0-9][0-9_]*[eE][+-]?[0-9_]+")]
    Float,
    #[regex(r#""([^"\\\n]|\\.)*""#)]
    Str,
    /// A string literal missing its closing quote on its line (strings cannot span lines).
    #[regex(r#""([^"\\\n]|\\.)*"#)]
    UnterminatedStr,
    /// A block comment missing its `*/`.
    #[regex(r"/\*([^*]|\*+[^*/])*\**")]
    UnterminatedComment,

    // Punctuation.
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token(",")]
    Comma,
    #[token(";")]
    Semi,
    #[token(":")]
    Colon,
    #[token(".")]
    Dot,
    #[token("..")]
    DotDot,
    #[token("->")]
    Arrow,
    #[token("?")]
    Question,

    // Operators.
    #[token("=")]
    Eq,
    #[token("+=")]
    PlusEq,
    #[token("-=")]
    MinusEq,
    #[token("*=")]
    StarEq,
    #[token("/=")]
    SlashEq,
    #[token("%=")]
    PercentEq,
    #[token("||")]
    OrOr,
    #[token("&&")]
    AndAnd,
    #[token("|")]
    Pipe,
    #[token("^")]
    Caret,
    #[token("&")]
    Amp,
    #[token("==")]
    EqEq,
    #[token("!=")]
    NotEq,
    #[token("<")]
    Lt,
    #[token(">")]
    Gt,
    #[token("<=")]
    Le,
    #[token(">=")]
    Ge,
    #[token("<<")]
    Shl,
    #[token(">>")]
    Shr,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("%")]
    Percent,
    #[token("!")]
    Bang,

    /// End of input; always the last token.
    Eof,
}

impl Tok {
    /// How the token is named in "expected ..., found ..." messages.
    pub fn describe(self) -> &'static str {
        match self {
            Tok::Fn => "`fn`",
            Tok::Let => "`let`",
            Tok::Static => "`static`",
            Tok::If => "`if`",
            Tok::Else => "`else`",
            Tok::While => "`while`",
            Tok::For => "`for`",
            Tok::In => "`in`",
            Tok::Return => "`return`",
            Tok::Break => "`break`",
            Tok::Continue => "`continue`",
            Tok::Struct => "`struct`",
            Tok::Enum => "`enum`",
            Tok::New => "`new`",
            Tok::Match => "`match`",
            Tok::Live => "`live`",
            Tok::Requires => "`requires`",
            Tok::Ensures => "`ensures`",
            Tok::Invariant => "`invariant`",
            Tok::Assert => "`assert`",
            Tok::Type => "`type`",
            Tok::Use => "`use`",
            Tok::Impl => "`impl`",
            Tok::Trait => "`trait`",
            Tok::True => "`true`",
            Tok::False => "`false`",
            Tok::Ident | Tok::NonAsciiIdent => "an identifier",
            Tok::Int => "an integer literal",
            Tok::Float => "a float literal",
            Tok::Str | Tok::UnterminatedStr => "a string literal",
            Tok::UnterminatedComment => "a comment",
            Tok::LParen => "`(`",
            Tok::RParen => "`)`",
            Tok::LBrace => "`{`",
            Tok::RBrace => "`}`",
            Tok::LBracket => "`[`",
            Tok::RBracket => "`]`",
            Tok::Comma => "`,`",
            Tok::Semi => "`;`",
            Tok::Colon => "`:`",
            Tok::Dot => "`.`",
            Tok::DotDot => "`..`",
            Tok::Arrow => "`->`",
            Tok::Question => "`?`",
            Tok::Eq => "`=`",
            Tok::PlusEq => "`+=`",
            Tok::MinusEq => "`-=`",
            Tok::StarEq => "`*=`",
            Tok::SlashEq => "`/=`",
            Tok::PercentEq => "`%=`",
            Tok::OrOr => "`||`",
            Tok::AndAnd => "`&&`",
            Tok::Pipe => "`|`",
            Tok::Caret => "`^`",
            Tok::Amp => "`&`",
            Tok::EqEq => "`==`",
            Tok::NotEq => "`!=`",
            Tok::Lt => "`<`",
            Tok::Gt => "`>`",
            Tok::Le => "`<=`",
            Tok::Ge => "`>=`",
            Tok::Shl => "`<<`",
            Tok::Shr => "`>>`",
            Tok::Plus => "`+`",
            Tok::Minus => "`-`",
            Tok::Star => "`*`",
            Tok::Slash => "`/`",
            Tok::Percent => "`%`",
            Tok::Bang => "`!`",
            Tok::Eof => "end of file",
        }
    }
}

/// A token and where it is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: Tok,
    pub span: Span,
}

/// Splits `source` into tokens (ending with [`Tok::Eof`]), reporting unusable text in `diags`.
pub fn lex(source: &str, diags: &mut Vec<Diagnostic>) -> Vec<Token> {
    let mut tokens = Vec::new();
    let body_start = shebang_len(source);
    let mut lexer = Tok::lexer(&source[body_start..]);
    while let Some(result) = lexer.next() {
        let range = lexer.span();
        let span = Span::new(range.start + body_start, range.end + body_start);
        match result {
            Ok(Tok::UnterminatedStr) => {
                diags.push(
                    Diagnostic::new(
                        "E0102",
                        Span::new(span.start as usize, span.start as usize + 1),
                        "unterminated string literal",
                    )
                    .label("this string has no closing `\"` on its line")
                    .note("strings cannot span lines; write `\\n` for a line break"),
                );
            }
            Ok(Tok::UnterminatedComment) => {
                diags.push(
                    Diagnostic::new(
                        "E0106",
                        Span::new(span.start as usize, span.start as usize + 2),
                        "unterminated block comment",
                    )
                    .label("this comment has no closing `*/`")
                    .note("block comments do not nest"),
                );
            }
            Ok(Tok::NonAsciiIdent) => {
                diags.push(non_ascii_identifier(lexer.slice(), span));
                tokens.push(Token {
                    kind: Tok::Ident,
                    span,
                });
            }
            Ok(kind) => tokens.push(Token { kind, span }),
            Err(()) => diags.push(unknown_text(lexer.slice(), span)),
        }
    }
    let end = source.len();
    tokens.push(Token {
        kind: Tok::Eof,
        span: Span::new(end, end),
    });
    tokens
}

/// Length of a leading `#!` line, which is skipped.
fn shebang_len(source: &str) -> usize {
    if source.starts_with("#!") {
        source.find('\n').unwrap_or(source.len())
    } else {
        0
    }
}

fn non_ascii_identifier(word: &str, span: Span) -> Diagnostic {
    let ch = word.chars().find(|c| !c.is_ascii()).unwrap_or('?');
    Diagnostic::new(
        "E0105",
        span,
        format!("identifiers must be ASCII: `{word}` contains `{ch}`"),
    )
    .label("non-ASCII identifier")
    .note("identifiers are `[A-Za-z_][A-Za-z0-9_]*`; non-ASCII text belongs in string literals")
}

fn unknown_text(slice: &str, span: Span) -> Diagnostic {
    let ch = slice.chars().next().unwrap_or('?');
    Diagnostic::new(
        "E0101",
        span,
        format!("unexpected character `{}`", ch.escape_default()),
    )
    .label("not part of any token")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(source: &str) -> Vec<Tok> {
        let mut diags = Vec::new();
        let toks = lex(source, &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        toks.into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn ranges_are_not_floats() {
        assert_eq!(
            kinds("0..10"),
            vec![Tok::Int, Tok::DotDot, Tok::Int, Tok::Eof]
        );
        assert_eq!(kinds("1.5e3"), vec![Tok::Float, Tok::Eof]);
    }

    #[test]
    fn durations_are_an_int_then_a_unit() {
        assert_eq!(
            kinds("50ms 2s"),
            vec![Tok::Int, Tok::Ident, Tok::Int, Tok::Ident, Tok::Eof]
        );
    }

    #[test]
    fn keywords_and_identifiers() {
        assert_eq!(kinds("fn fnord"), vec![Tok::Fn, Tok::Ident, Tok::Eof]);
    }

    #[test]
    fn comments_and_shebang_are_skipped() {
        assert_eq!(
            kinds("#!/usr/bin/keel\n1 // x\n/* y\n */ 2"),
            vec![Tok::Int, Tok::Int, Tok::Eof]
        );
    }

    #[test]
    fn strings_with_escaped_quotes() {
        assert_eq!(kinds(r#""a\"b" "c""#), vec![Tok::Str, Tok::Str, Tok::Eof]);
    }

    #[test]
    fn bad_input_becomes_diagnostics() {
        let mut diags = Vec::new();
        let toks = lex("let na\u{ef}ve = # \"abc", &mut diags);
        let codes: Vec<&str> = diags.iter().map(|d| d.code).collect();
        assert_eq!(codes, vec!["E0105", "E0101", "E0102"]);
        assert_eq!(
            toks.iter().map(|t| t.kind).collect::<Vec<_>>(),
            vec![Tok::Let, Tok::Ident, Tok::Eq, Tok::Eof]
        );
        assert_eq!(toks.last().map(|t| t.kind), Some(Tok::Eof));
    }
}
