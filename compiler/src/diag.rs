//! Diagnostics: the one error type of every front-end stage, and its rendering.
//!
//! Each stage reports problems as [`Diagnostic`] values (a stable code such as `E0401`, a message,
//! a primary span with a label, optional secondary spans and notes). Nothing is printed where a
//! problem is found: the driver renders all of a run's diagnostics at once with
//! codespan-reporting, as `error[CODE]: message` followed by `file:line:col` and a source snippet.
//! Codes are listed with explanations in `docs/errors.md`; a code never changes meaning.

use codespan_reporting::diagnostic::{Diagnostic as Rendered, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term;

/// A byte range in the source file.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// One problem found in the program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable code, `E` and four digits.
    pub code: &'static str,
    pub message: String,
    pub span: Span,
    /// Text under the primary span.
    pub label: String,
    /// Other places worth showing, each with its own label.
    pub secondary: Vec<(Span, String)>,
    /// Extra lines: hints and explanations.
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn new(code: &'static str, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            message: message.into(),
            span,
            label: String::new(),
            secondary: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = label.into();
        self
    }

    pub fn secondary(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.secondary.push((span, label.into()));
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }
}

/// A source file: its name as given by the user and its text.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> SourceFile {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// 1-based line and column (in Unicode scalar values) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (u32, u32) {
        let offset = (offset as usize).min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let start = self.line_starts[line];
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line as u32 + 1, col as u32 + 1)
    }
}

/// Renders diagnostics as text, optionally with ANSI colours, followed by a summary line.
pub fn render(file: &SourceFile, diagnostics: &[Diagnostic], color: bool) -> String {
    let files = SimpleFile::new(file.name.as_str(), file.text.as_str());
    let config = term::Config::default();
    let mut out = Vec::new();
    for diagnostic in diagnostics {
        let rendered = to_codespan(diagnostic);
        let result = if color {
            let mut writer = term::termcolor::Ansi::new(&mut out);
            term::emit_to_write_style(&mut writer, &config, &files, &rendered)
        } else {
            term::emit_to_io_write(&mut out, &config, &files, &rendered)
        };
        if let Err(error) = result {
            out.extend_from_slice(
                format!("error: could not render a diagnostic: {error}\n").as_bytes(),
            );
        }
    }
    let mut text = String::from_utf8_lossy(&out).into_owned();
    let count = diagnostics.len();
    if count > 0 {
        let plural = if count == 1 { "" } else { "s" };
        text.push_str(&format!(
            "error: could not compile `{}` due to {count} error{plural}\n",
            file.name
        ));
    }
    text
}

fn to_codespan(diagnostic: &Diagnostic) -> Rendered<()> {
    let mut labels =
        vec![Label::primary((), diagnostic.span.range()).with_message(&diagnostic.label)];
    labels.extend(
        diagnostic
            .secondary
            .iter()
            .map(|(span, label)| Label::secondary((), span.range()).with_message(label)),
    );
    Rendered::error()
        .with_code(diagnostic.code)
        .with_message(&diagnostic.message)
        .with_labels(labels)
        .with_notes(diagnostic.notes.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let file = SourceFile::new("t.kl", "ab\n\u{e9}x = 1;\n");
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(3), (2, 1));
        assert_eq!(file.line_col(5), (2, 2));
        assert_eq!(file.line_col(100), (3, 1));
    }

    #[test]
    fn renders_code_location_and_snippet() {
        let file = SourceFile::new("t.kl", "let x: int = true;\n");
        let d =
            Diagnostic::new("E0401", Span::new(13, 17), "mismatched types").label("expected `int`");
        let text = render(&file, &[d], false);
        assert!(
            text.starts_with("error[E0401]: mismatched types\n"),
            "{text}"
        );
        assert!(text.contains("t.kl:1:14"), "{text}");
        assert!(text.contains("let x: int = true;"), "{text}");
        assert!(text.ends_with("due to 1 error\n"), "{text}");
    }
}
