//! The lexer: source text to a vector of [`Token`]s with spans, built on `logos`.
//!
//! It never fails: characters it cannot use become diagnostics (unknown character, non-ASCII
//! identifier, unterminated string or comment), so the parser always gets a token stream ending
//! in [`Tok::Eof`]. A run of adjacent unknown characters is one diagnostic. Unterminated strings
//! and comments stay in the stream as [`Tok::UnterminatedStr`] and [`Tok::UnterminatedComment`]
//! (the latter always last before `Eof`, since it runs to the end of the file): the parser then
//! knows that text it might have expected was swallowed and does not report its absence again.
//! An unterminated string is taken to end before the closing brackets, `{`, `,` and `;` that end
//! its line (`println("oops);` is most likely missing its `"` before `);`), and those are lexed
//! as tokens.
//! A token right after unknown characters says so ([`Token::after_unknown`]), so that the
//! parser does not report as missing what those characters may have been meant to be.
//! A leading byte-order mark and `#!` line are skipped. Literal *values* (integers, escapes) are
//! decoded by the parser, which knows the context; the lexer only classifies.

use logos::Logos;

use crate::diag::{Diagnostic, Span, BOM};

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
    #[token("::")]
    ColonColon,
    #[token("=>")]
    FatArrow,
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
            Tok::ColonColon => "`::`",
            Tok::FatArrow => "`=>`",
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
    /// Unknown characters (reported) come between this token and the one before it.
    pub after_unknown: bool,
}

/// Splits `source` into tokens (ending with [`Tok::Eof`]), reporting unusable text in `diags`.
pub fn lex(source: &str, diags: &mut Vec<Diagnostic>) -> Vec<Token> {
    let mut tokens = Vec::new();
    let body_start = prelude_len(source);
    let mut lexer = Tok::lexer(&source[body_start..]);
    // The last run of unknown characters: its diagnostic's index and its extent so far.
    let mut unknown_run: Option<(usize, Span)> = None;
    let mut after_unknown = false;
    while let Some(result) = lexer.next() {
        let range = lexer.span();
        let span = Span::new(range.start + body_start, range.end + body_start);
        let kind = match result {
            Ok(kind) => kind,
            Err(()) => {
                after_unknown = true;
                match &mut unknown_run {
                    Some((_, run)) if run.end == span.start => run.end = span.end,
                    _ => {
                        finish_run(source, unknown_run, diags);
                        unknown_run = Some((diags.len(), span));
                        diags.push(unknown_text(lexer.slice(), span));
                    }
                }
                continue;
            }
        };
        match kind {
            Tok::UnterminatedStr => {
                diags.push(
                    Diagnostic::new(
                        "E0102",
                        Span::new(span.start as usize, span.start as usize + 1),
                        "unterminated string literal",
                    )
                    .label("this string has no closing `\"` on its line")
                    .note("strings cannot span lines; write `\\n` for a line break"),
                );
                let text = &source[span.range()];
                let cut = span.start as usize + text.trim_end_matches(ends_a_line).len().max(1);
                tokens.push(Token {
                    kind,
                    span: Span::new(span.start as usize, cut),
                    after_unknown: std::mem::take(&mut after_unknown),
                });
                // The closing brackets and `;` ending the line are most likely code: the `"`
                // was forgotten before them.
                let mut rest = Tok::lexer(&source[cut..span.end as usize]);
                while let Some(Ok(kind)) = rest.next() {
                    let range = rest.span();
                    tokens.push(Token {
                        kind,
                        span: Span::new(cut + range.start, cut + range.end),
                        after_unknown: false,
                    });
                }
                continue;
            }
            Tok::UnterminatedComment => diags.push(
                Diagnostic::new(
                    "E0106",
                    Span::new(span.start as usize, span.start as usize + 2),
                    "unterminated block comment",
                )
                .label("this comment has no closing `*/`")
                .note("block comments do not nest"),
            ),
            Tok::NonAsciiIdent => {
                diags.push(non_ascii_identifier(lexer.slice(), span));
                tokens.push(Token {
                    kind: Tok::Ident,
                    span,
                    after_unknown: std::mem::take(&mut after_unknown),
                });
                continue;
            }
            _ => {}
        }
        tokens.push(Token {
            kind,
            span,
            after_unknown: std::mem::take(&mut after_unknown),
        });
    }
    finish_run(source, unknown_run, diags);
    let end = source.len();
    tokens.push(Token {
        kind: Tok::Eof,
        span: Span::new(end, end),
        after_unknown,
    });
    tokens
}

/// Characters that, at the end of a line an unterminated string runs to, are taken to be code.
fn ends_a_line(c: char) -> bool {
    matches!(c, ')' | ']' | '}' | '{' | ';' | ',' | ' ' | '\t' | '\r')
}

/// Length of what is skipped before the first token: a byte-order mark, then a `#!` line.
fn prelude_len(source: &str) -> usize {
    let bom = if source.starts_with(BOM) {
        BOM.len_utf8()
    } else {
        0
    };
    let rest = &source[bom..];
    let shebang = if rest.starts_with("#!") {
        rest.find('\n').unwrap_or(rest.len())
    } else {
        0
    };
    bom + shebang
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

/// Makes the diagnostic of a run of unknown characters cover all of it.
fn finish_run(source: &str, run: Option<(usize, Span)>, diags: &mut [Diagnostic]) {
    if let Some((index, span)) = run {
        if diags[index].span != span {
            diags[index] = unknown_text(&source[span.range()], span);
        }
    }
}

/// An unknown character, or a run of them.
fn unknown_text(slice: &str, span: Span) -> Diagnostic {
    let mut chars = slice.chars();
    let first = chars.next().unwrap_or('?');
    if chars.next().is_none() {
        return Diagnostic::new(
            "E0101",
            span,
            format!("unexpected character `{}`", first.escape_default()),
        )
        .label("not part of any token");
    }
    Diagnostic::new(
        "E0101",
        span,
        format!("unexpected characters `{}`", slice.escape_default()),
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
            vec![
                Tok::Let,
                Tok::Ident,
                Tok::Eq,
                Tok::UnterminatedStr,
                Tok::Eof
            ]
        );
    }

    #[test]
    fn an_unterminated_string_leaves_the_closers_ending_its_line() {
        let mut diags = Vec::new();
        let toks = lex("f(\"a; b); }\nx", &mut diags);
        let found: Vec<(Tok, Span)> = toks.iter().map(|t| (t.kind, t.span)).collect();
        assert_eq!(
            found,
            vec![
                (Tok::Ident, Span::new(0, 1)),
                (Tok::LParen, Span::new(1, 2)),
                (Tok::UnterminatedStr, Span::new(2, 7)),
                (Tok::RParen, Span::new(7, 8)),
                (Tok::Semi, Span::new(8, 9)),
                (Tok::RBrace, Span::new(10, 11)),
                (Tok::Ident, Span::new(12, 13)),
                (Tok::Eof, Span::new(13, 13)),
            ]
        );
        assert_eq!(diags.len(), 1);
        let toks = lex("\"));", &mut diags);
        assert_eq!(toks[0].span, Span::new(0, 1));
        assert_eq!(toks.len(), 5);
    }

    #[test]
    fn a_run_of_unknown_characters_is_one_diagnostic() {
        let mut diags = Vec::new();
        let toks = lex("x ### y @", &mut diags);
        assert_eq!(toks.len(), 3);
        let found: Vec<(&str, Span)> = diags.iter().map(|d| (d.message.as_str(), d.span)).collect();
        assert_eq!(
            found,
            vec![
                ("unexpected characters `###`", Span::new(2, 5)),
                ("unexpected character `@`", Span::new(8, 9)),
            ]
        );
    }

    #[test]
    fn an_unterminated_comment_is_the_last_token() {
        let mut diags = Vec::new();
        let toks = lex("1 /* 2\n3", &mut diags);
        let kinds: Vec<Tok> = toks.iter().map(|t| t.kind).collect();
        assert_eq!(kinds, vec![Tok::Int, Tok::UnterminatedComment, Tok::Eof]);
        assert_eq!(diags.len(), 1);
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let mut diags = Vec::new();
        let toks = lex("\u{feff}#!/bin/keel\nlet", &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(toks[0].kind, Tok::Let);
        assert_eq!(toks[0].span, Span::new(15, 18));
        assert_eq!(kinds("\u{feff}fn"), vec![Tok::Fn, Tok::Eof]);
    }
}
