//! Rendering a run's diagnostics as text, with codespan-reporting.
//!
//! Output stays small whatever the input: at most [`MAX_SHOWN`] diagnostics are rendered (the
//! first ones in the order given, which is source order), followed by a line saying how many
//! more there are; each is rendered against an [`Excerpt`] of each file its labels are in (a
//! program of several files has its spans in one space, [`Sources`] says which file each is
//! in), so a snippet never echoes a huge line and every label shows its own file's name; and a message, label or note longer than [`MAX_MESSAGE_CHARS`] characters
//! (one quoting a huge identifier or literal) keeps its start and end around a `…`. The last line
//! says how many errors there were in all.

use codespan_reporting::diagnostic::{Diagnostic as Rendered, Label};
use codespan_reporting::term;

use super::excerpt::{Excerpt, Excerpts};
use super::source_map::Sources;
use super::{Diagnostic, Span};

/// How many diagnostics one run prints at most.
pub const MAX_SHOWN: usize = 50;

/// Messages, labels and notes longer than this many characters are shortened.
pub const MAX_MESSAGE_CHARS: usize = 240;

/// Renders diagnostics as text, optionally with ANSI colours, followed by a summary line.
pub fn render(sources: &dyn Sources, diagnostics: &[Diagnostic], color: bool) -> String {
    let mut text = render_without_summary(sources, diagnostics, color);
    let count = diagnostics.len();
    if count > 0 {
        text.push_str(&format!(
            "error: could not compile `{}` due to {count} error{}\n",
            sources.main_file().name,
            plural(count)
        ));
    }
    text
}

/// Renders warnings as text, followed by a summary line (nothing when there are none).
pub fn render_warnings(sources: &dyn Sources, warnings: &[Diagnostic], color: bool) -> String {
    let mut text = render_without_summary(sources, warnings, color);
    let count = warnings.len();
    if count > 0 {
        text.push_str(&format!(
            "warning: `{}` generated {count} warning{}\n",
            sources.main_file().name,
            plural(count)
        ));
    }
    text
}

/// [`render`] without the summary line (the REPL's entries are not programs to "compile").
pub fn render_without_summary(
    sources: &dyn Sources,
    diagnostics: &[Diagnostic],
    color: bool,
) -> String {
    let config = term::Config::default();
    let context = (config.start_context_lines, config.end_context_lines);
    let mut out = Vec::new();
    for diagnostic in diagnostics.iter().take(MAX_SHOWN) {
        let (excerpts, rendered) = to_codespan(sources, diagnostic, context);
        let result = if color {
            let mut writer = term::termcolor::Ansi::new(&mut out);
            term::emit_to_write_style(&mut writer, &config, &excerpts, &rendered)
        } else {
            term::emit_to_io_write(&mut out, &config, &excerpts, &rendered)
        };
        if let Err(error) = result {
            out.extend_from_slice(
                format!("error: could not render a diagnostic: {error}\n").as_bytes(),
            );
        }
    }
    let mut text = String::from_utf8_lossy(&out).into_owned();
    let count = diagnostics.len();
    let hidden = count.saturating_sub(MAX_SHOWN);
    if hidden > 0 {
        text.push_str(&format!(
            "{what}: and {hidden} more {what}{} (only the first {MAX_SHOWN} are shown)\n",
            plural(hidden),
            what = match diagnostics.first().map(|d| d.severity) {
                Some(super::Severity::Warning) => "warning",
                _ => "error",
            }
        ));
    }
    text
}

fn plural(count: usize) -> &'static str {
    if count == 1 {
        ""
    } else {
        "s"
    }
}

/// The diagnostic as codespan-reporting's, with the excerpts of its files (the primary
/// label's first) that its labels point into.
fn to_codespan<'a>(
    sources: &'a dyn Sources,
    diagnostic: &Diagnostic,
    context: (usize, usize),
) -> (Excerpts<'a>, Rendered<usize>) {
    let labelled: Vec<(Span, &str)> = std::iter::once((diagnostic.span, diagnostic.label.as_str()))
        .chain((diagnostic.secondary.iter()).map(|(span, label)| (*span, label.as_str())))
        .collect();
    // Each label's file (an index into `files`) and its span in that file.
    let mut files = Vec::new();
    let mut local = Vec::with_capacity(labelled.len());
    for (span, _) in &labelled {
        let placed = sources.placed(span.start);
        let id = match files
            .iter()
            .position(|(index, _, _)| *index == placed.index)
        {
            Some(id) => id,
            None => {
                files.push((placed.index, placed.file, Vec::new()));
                files.len() - 1
            }
        };
        files[id].2.push(placed.local(*span));
        local.push((id, placed.local(*span)));
    }
    let excerpts = Excerpts(
        (files.into_iter())
            .map(|(_, file, spans)| Excerpt::new(file, &spans, context))
            .collect(),
    );
    let labels = (labelled.iter().zip(local))
        .enumerate()
        .map(|(i, ((_, text), (id, span)))| {
            let range = excerpts.0[id].map(span);
            let label = if i == 0 {
                Label::primary(id, range)
            } else {
                Label::secondary(id, range)
            };
            label.with_message(bounded(text))
        })
        .collect();
    let rendered = match diagnostic.severity {
        super::Severity::Error => Rendered::error(),
        super::Severity::Warning => Rendered::warning(),
    }
    .with_code(diagnostic.code)
    .with_message(bounded(&diagnostic.message))
    .with_labels(labels)
    .with_notes(diagnostic.notes.iter().map(|note| bounded(note)).collect());
    (excerpts, rendered)
}

/// `text`, or its first two thirds and last quarter of [`MAX_MESSAGE_CHARS`] characters around
/// a `…` if it is longer.
fn bounded(text: &str) -> String {
    if text.chars().nth(MAX_MESSAGE_CHARS).is_none() {
        return text.to_string();
    }
    let head: String = text.chars().take(MAX_MESSAGE_CHARS * 2 / 3).collect();
    let tail_chars = MAX_MESSAGE_CHARS / 4;
    let tail_start = text
        .char_indices()
        .rev()
        .nth(tail_chars - 1)
        .map_or(0, |(i, _)| i);
    format!("{head}…{}", &text[tail_start..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{SourceFile, SourceMap};

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

    #[test]
    fn at_most_max_shown_are_rendered() {
        let file = SourceFile::new("t.kl", "x;\n");
        let d = Diagnostic::new("E0301", Span::new(0, 1), "unknown variable `x`");
        let text = render(&file, &vec![d; MAX_SHOWN + 3], false);
        assert_eq!(text.matches("error[E0301]").count(), MAX_SHOWN);
        assert!(
            text.ends_with(
                "error: and 3 more errors (only the first 50 are shown)\n\
                 error: could not compile `t.kl` due to 53 errors\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn long_messages_keep_both_ends() {
        let name = "n".repeat(10_000);
        let message = format!("unknown variable `{name}`");
        let short = bounded(&message);
        assert!(short.starts_with("unknown variable `nnn"));
        assert!(short.ends_with("nnn`"));
        assert_eq!(
            short.chars().count(),
            MAX_MESSAGE_CHARS * 2 / 3 + 1 + MAX_MESSAGE_CHARS / 4
        );
        assert_eq!(bounded("short"), "short");
    }

    #[test]
    fn each_label_is_shown_in_its_own_file() {
        let mut map = SourceMap::new(SourceFile::new("main.kl", "use \"lib/a.kl\";\nfn f() {}\n"));
        let base = map
            .add(SourceFile::new("lib/a.kl", "\n\nfn f() {}\n"))
            .unwrap()
            .base;
        let d = Diagnostic::new(
            "E0303",
            Span::new(5, 6).shifted(base),
            "function `f` is defined twice",
        )
        .label("second definition")
        .secondary(Span::new(19, 20), "first defined here");
        let text = render(&map, &[d], false);
        let lib = text.find("┌─ lib/a.kl:3:4\n").expect(&text);
        let main = text.find("┌─ main.kl:2:4\n").expect(&text);
        assert!(lib < main, "{text}");
        assert!(
            text.contains("3 │ fn f() {}\n  │    ^ second definition"),
            "{text}"
        );
        assert!(
            text.contains("2 │ fn f() {}\n  │    - first defined here"),
            "{text}"
        );
        assert!(
            text.ends_with("could not compile `main.kl` due to 1 error\n"),
            "{text}"
        );
    }

    #[test]
    fn a_byte_order_mark_is_not_shown_or_counted() {
        let file = SourceFile::new("t.kl", "\u{feff}let x = y;\n");
        let d = Diagnostic::new("E0301", Span::new(11, 12), "unknown variable `y`").label("here");
        let text = render(&file, &[d], false);
        assert!(text.contains("t.kl:1:9\n"), "{text}");
        assert!(text.contains("1 │ let x = y;\n"), "{text}");
        assert!(!text.contains('\u{feff}'), "{text}");
    }
}
