//! Diagnostics: the one error type of every front-end stage, and its rendering.
//!
//! Each stage reports problems as [`Diagnostic`] values (a stable code such as `E0401`, a message,
//! a primary span with a label, optional secondary spans and notes). Nothing is printed where a
//! problem is found: the driver renders all of a run's diagnostics at once with [`render`], as
//! `error[CODE]: message` followed by `file:line:col` and a source snippet. Codes are listed with
//! explanations in `docs/errors.md`; a code never changes meaning.
//!
//! [`source`] holds a file and its line table, [`source_map`] the files of a program of several
//! (`use`) in one span space, [`render`](mod@render) turns diagnostics into text (at most
//! [`MAX_SHOWN`] of them), and [`excerpt`] bounds how much of a file one diagnostic's snippet
//! shows.

mod excerpt;
mod render;
mod source;
mod source_map;

pub use excerpt::{CONTEXT_CHARS, MAX_WHOLE_LINE_CHARS};
pub use render::{render, render_warnings, render_without_summary, MAX_MESSAGE_CHARS, MAX_SHOWN};
pub use source::{SourceFile, BOM};
pub use source_map::{Location, Placed, SourceMap, Sources, SpanSpaceFull, SPAN_SPACE_END};

/// A byte range in the program's span space: in its source file, or, for a program of several
/// files, in the one [`SourceMap`] places them in.
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

    /// The span `by` bytes further on (a file's span moved to the file's base).
    pub fn shifted(self, by: u32) -> Span {
        Span {
            start: self.start + by,
            end: self.end + by,
        }
    }
}

/// Whether a diagnostic stops the program from compiling.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum Severity {
    #[default]
    Error,
    /// Something that compiles but is most likely a mistake (`W` codes); it fails a build only
    /// with `--deny-warnings`.
    Warning,
}

/// One problem found in the program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable code: `E` (an error) or `W` (a warning) and four digits.
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
            severity: Severity::Error,
            code,
            message: message.into(),
            span,
            label: String::new(),
            secondary: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// A warning: like [`Diagnostic::new`], of [`Severity::Warning`].
    pub fn warning(code: &'static str, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::new(code, span, message)
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

    /// Moves every span of the diagnostic `by` bytes further on.
    pub fn shift(&mut self, by: u32) {
        self.span = self.span.shifted(by);
        for (span, _) in &mut self.secondary {
            *span = span.shifted(by);
        }
    }
}
