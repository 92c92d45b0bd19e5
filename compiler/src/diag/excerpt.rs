//! Bounded source excerpts: the part of the file one diagnostic's snippet shows.
//!
//! The renderer (codespan-reporting) prints every line a label touches in full; for a generated
//! file with a megabyte on one line that would be a megabyte per diagnostic. An [`Excerpt`] is the
//! view of the file that one diagnostic is rendered against instead:
//!
//! - it holds only the lines the renderer can show: those the labels start and end on, the context
//!   lines it adds inside multi-line labels, and a line between two shown lines;
//! - a line of at most [`MAX_WHOLE_LINE_CHARS`] characters is shown whole; a longer line is cut
//!   to windows of [`CONTEXT_CHARS`] characters on each side of every label start and end on it
//!   (the first `2 * CONTEXT_CHARS` characters for a line that only gives context), and `…`
//!   stands for each stretch of text left out. A label longer than its windows keeps its start
//!   and end, and its underline runs through the `…` between them;
//! - line numbers and columns are those of the real file (computed by [`SourceFile::line_col`],
//!   so a byte-order mark is not counted), so only the snippet's text is ever shortened.
//!
//! A diagnostic whose labels are in several files of a program (a name defined in two files)
//! is rendered against one excerpt per file, gathered in [`Excerpts`], the renderer's file `i`
//! being the `i`-th.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use codespan_reporting::files::{Error, Files, Location};

use super::source::SourceFile;
use super::Span;

/// Lines up to this many characters are shown whole.
pub const MAX_WHOLE_LINE_CHARS: usize = 160;

/// Characters shown on each side of a label's start and end in a line that is cut.
pub const CONTEXT_CHARS: usize = 40;

/// What stands for text left out of a line.
const ELISION: &str = "…";

/// Windows of one line less than this many bytes apart are merged rather than separated by `…`.
const MERGE_GAP: usize = 8;

/// The view of a file that one diagnostic is rendered against (see the module doc).
pub struct Excerpt<'a> {
    file: &'a SourceFile,
    /// The shown lines' text, one after the other, each with its `\n` if the file has one.
    text: String,
    /// Sorted by line index.
    lines: Vec<ShownLine>,
}

/// One line of the file in the excerpt.
struct ShownLine {
    /// 0-based line index in the file.
    index: usize,
    /// Where the line is in the excerpt's text, with its `\n` if any.
    range: Range<usize>,
    /// The line's content in the file (without the `\n`).
    content: Range<usize>,
    /// Where the content ends in the excerpt (after a final `…`, before the `\n`).
    content_end: usize,
    /// The parts of the line kept, in order.
    pieces: Vec<Piece>,
}

/// A stretch of a line that is kept.
struct Piece {
    /// Byte range in the file.
    source: Range<usize>,
    /// Where it starts in the excerpt.
    at: usize,
}

impl Piece {
    fn view(&self) -> Range<usize> {
        self.at..self.at + self.source.len()
    }
}

impl<'a> Excerpt<'a> {
    /// The view of `file` for a diagnostic whose labels cover `spans`. `context` is the
    /// renderer's number of lines shown after the start and before the end of a multi-line label
    /// (`start_context_lines`, `end_context_lines` of its config).
    pub fn new(file: &'a SourceFile, spans: &[Span], context: (usize, usize)) -> Excerpt<'a> {
        let mut wanted = BTreeSet::new();
        let mut points: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for span in spans {
            let range = clamp(file, *span);
            let (first, last) = (file.line_index(range.start), file.line_index(range.end));
            points.entry(first).or_default().push(range.start);
            points.entry(last).or_default().push(range.end);
            wanted.insert(first);
            wanted.insert(last);
            // Context inside a multi-line label, one line more on each side than is shown.
            wanted.extend(first + 1..=(first + context.0 + 1).min(last));
            wanted.extend(last.saturating_sub(context.1 + 1).max(first)..last);
        }
        // The renderer shows a single line between two shown lines instead of a break.
        let sorted: Vec<usize> = wanted.iter().copied().collect();
        for pair in sorted.windows(2) {
            if pair[1] - pair[0] == 2 {
                wanted.insert(pair[0] + 1);
            }
        }
        let mut excerpt = Excerpt {
            file,
            text: String::new(),
            lines: Vec::with_capacity(wanted.len()),
        };
        for index in wanted {
            let windows = windows(
                file,
                index,
                points.get(&index).map_or(&[][..], Vec::as_slice),
            );
            excerpt.push_line(index, windows);
        }
        excerpt
    }

    fn push_line(&mut self, index: usize, windows: Vec<Range<usize>>) {
        let content = self.file.line_content(index);
        let start = self.text.len();
        let mut pieces = Vec::with_capacity(windows.len());
        let mut cursor = content.start;
        for window in windows {
            if window.start > cursor {
                self.text.push_str(ELISION);
            }
            pieces.push(Piece {
                source: window.clone(),
                at: self.text.len(),
            });
            self.text.push_str(&self.file.text[window.clone()]);
            cursor = window.end;
        }
        if cursor < content.end {
            self.text.push_str(ELISION);
        }
        let content_end = self.text.len();
        if content.end < self.file.text.len() {
            self.text.push('\n');
        }
        self.lines.push(ShownLine {
            index,
            range: start..self.text.len(),
            content,
            content_end,
            pieces,
        });
    }

    /// Where byte `offset` of the file is in the excerpt. An offset in text left out maps to the
    /// `…` standing for it; an offset on a line that is not shown, to the end.
    pub fn map(&self, span: Span) -> Range<usize> {
        let range = clamp(self.file, span);
        let start = self.map_offset(range.start);
        start..self.map_offset(range.end).max(start)
    }

    fn map_offset(&self, offset: usize) -> usize {
        let index = self.file.line_index(offset);
        let Ok(found) = self.lines.binary_search_by_key(&index, |line| line.index) else {
            return self.text.len();
        };
        let line = &self.lines[found];
        if offset >= line.content.end {
            return line.content_end + (offset - line.content.end);
        }
        if let Some(piece) = line
            .pieces
            .iter()
            .find(|piece| piece.source.start <= offset && offset <= piece.source.end)
        {
            return piece.at + (offset - piece.source.start);
        }
        // Left out: the `…` before the next piece, or the final one.
        line.pieces
            .iter()
            .find(|piece| piece.source.start > offset)
            .map_or(line.content_end - ELISION.len(), |piece| {
                piece.at - ELISION.len()
            })
    }

    /// The byte of the file at position `at` of the excerpt (the start of what a `…` stands for).
    fn unmap(&self, at: usize) -> usize {
        let found = self.lines.partition_point(|line| line.range.start <= at);
        let Some(line) = found.checked_sub(1).map(|i| &self.lines[i]) else {
            return 0;
        };
        if at >= line.content_end {
            return (line.content.end + (at - line.content_end)).min(self.file.text.len());
        }
        let mut source = line.content.start;
        for piece in &line.pieces {
            let view = piece.view();
            if at < view.start {
                break;
            }
            source = piece.source.start + (at.min(view.end) - view.start);
        }
        source
    }
}

/// A span within the file's text, on character boundaries, start before end.
fn clamp(file: &SourceFile, span: Span) -> Range<usize> {
    let text = &file.text;
    let floor = |mut at: usize| {
        at = at.min(text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    let start = floor(span.start as usize);
    start..floor(span.end as usize).max(start)
}

/// The parts of line `index` to show, given the label starts and ends on it.
fn windows(file: &SourceFile, index: usize, points: &[usize]) -> Vec<Range<usize>> {
    let content = file.line_content(index);
    let line = &file.text[content.clone()];
    if line.chars().nth(MAX_WHOLE_LINE_CHARS).is_none() {
        return vec![content];
    }
    if points.is_empty() {
        // Context only: the start of the line.
        let end = forward(
            &file.text,
            content.clone(),
            content.start,
            2 * CONTEXT_CHARS,
        );
        let window = content.start..end;
        return vec![window];
    }
    let mut windows: Vec<Range<usize>> = points
        .iter()
        .map(|&point| {
            let point = point.clamp(content.start, content.end);
            back(&file.text, content.clone(), point, CONTEXT_CHARS)
                ..forward(&file.text, content.clone(), point, CONTEXT_CHARS)
        })
        .collect();
    windows.sort_by_key(|window| window.start);
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(windows.len());
    for window in windows {
        match merged.last_mut() {
            Some(last) if window.start <= last.end + MERGE_GAP => {
                last.end = last.end.max(window.end);
            }
            _ => merged.push(window),
        }
    }
    merged
}

/// The offset `chars` characters before `at`, not before the start of `within`.
fn back(text: &str, within: Range<usize>, at: usize, chars: usize) -> usize {
    text[within.start..at]
        .char_indices()
        .rev()
        .nth(chars - 1)
        .map_or(within.start, |(i, _)| within.start + i)
}

/// The offset `chars` characters after `at`, not after the end of `within`.
fn forward(text: &str, within: Range<usize>, at: usize, chars: usize) -> usize {
    text[at..within.end]
        .char_indices()
        .nth(chars)
        .map_or(within.end, |(i, _)| at + i)
}

impl Excerpt<'_> {
    fn line_index_at(&self, byte_index: usize) -> usize {
        let found = self
            .lines
            .partition_point(|line| line.range.start <= byte_index);
        found.checked_sub(1).map_or(0, |i| self.lines[i].index)
    }

    fn line_range_of(&self, line_index: usize) -> Range<usize> {
        match self
            .lines
            .binary_search_by_key(&line_index, |line| line.index)
        {
            Ok(found) => self.lines[found].range.clone(),
            // A line inside a multi-line label that the renderer does not show.
            Err(next) => {
                let at = self
                    .lines
                    .get(next)
                    .map_or(self.text.len(), |line| line.range.start);
                at..at
            }
        }
    }

    fn location_of(&self, byte_index: usize) -> Location {
        let (line, column) = self.file.line_col(self.unmap(byte_index) as u32);
        Location {
            line_number: line as usize,
            column_number: column as usize,
        }
    }
}

/// The excerpts of the files one diagnostic's labels are in, as the renderer's files: file id
/// `i` is the `i`-th excerpt.
pub struct Excerpts<'a>(pub Vec<Excerpt<'a>>);

impl Excerpts<'_> {
    fn get(&self, id: usize) -> Result<&Excerpt<'_>, Error> {
        self.0.get(id).ok_or(Error::FileMissing)
    }
}

impl<'a> Files<'a> for Excerpts<'_> {
    type FileId = usize;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: usize) -> Result<&'a str, Error> {
        Ok(&self.get(id)?.file.name)
    }

    fn source(&'a self, id: usize) -> Result<&'a str, Error> {
        Ok(&self.get(id)?.text)
    }

    fn line_index(&'a self, id: usize, byte_index: usize) -> Result<usize, Error> {
        Ok(self.get(id)?.line_index_at(byte_index))
    }

    fn line_range(&'a self, id: usize, line_index: usize) -> Result<Range<usize>, Error> {
        Ok(self.get(id)?.line_range_of(line_index))
    }

    fn column_number(
        &'a self,
        id: usize,
        _line_index: usize,
        byte_index: usize,
    ) -> Result<usize, Error> {
        Ok(self.location(id, byte_index)?.column_number)
    }

    fn location(&'a self, id: usize, byte_index: usize) -> Result<Location, Error> {
        Ok(self.get(id)?.location_of(byte_index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(text: &str, spans: &[Span]) -> (String, Vec<Range<usize>>) {
        let file = SourceFile::new("t.kl", text);
        let excerpt = Excerpt::new(&file, spans, (3, 1));
        let ranges = spans.iter().map(|span| excerpt.map(*span)).collect();
        (excerpt.text.clone(), ranges)
    }

    #[test]
    fn short_lines_are_kept_whole_and_others_left_out() {
        let text = "a\nbb\nccc\nd\ne\n";
        let (shown, ranges) = view(text, &[Span::new(5, 6)]);
        assert_eq!(shown, "ccc\n");
        assert_eq!(ranges, vec![0..1]);
    }

    #[test]
    fn long_lines_are_cut_around_labels() {
        let line = format!("{}X{}", "a".repeat(1000), "b".repeat(1000));
        let (shown, ranges) = view(&line, &[Span::new(1000, 1001)]);
        let expected = format!("…{}X{}…", "a".repeat(40), "b".repeat(40));
        assert_eq!(shown, expected);
        let start = ELISION.len() + 40;
        assert_eq!(ranges, vec![start..start + 1]);
        assert_eq!(&shown[ranges[0].clone()], "X");
    }

    #[test]
    fn a_long_label_keeps_both_ends() {
        let line = "x".repeat(5000);
        let (shown, ranges) = view(&line, &[Span::new(100, 4900)]);
        assert_eq!(shown.matches(ELISION).count(), 3, "{shown}");
        assert!(shown.len() < 400);
        let underlined = &shown[ranges[0].clone()];
        assert!(underlined.starts_with(&"x".repeat(40)) && underlined.contains(ELISION));
    }

    #[test]
    fn locations_are_the_files() {
        let text = format!("\u{feff}{}\u{e9}Y\n", "a".repeat(500));
        let file = SourceFile::new("t.kl", text.as_str());
        let y = text.find('Y').unwrap();
        let excerpt = Excerpt::new(&file, &[Span::new(y, y + 1)], (3, 1));
        let at = excerpt.map(Span::new(y, y + 1)).start;
        assert_eq!(
            excerpt.location_of(at),
            Location {
                line_number: 1,
                column_number: 502
            }
        );
    }

    #[test]
    fn long_context_lines_show_their_start() {
        let text = format!("f({{\n{}\n}});\n", "x".repeat(1000));
        let end = text.len() - 3;
        let (shown, ranges) = view(&text, &[Span::new(2, end)]);
        assert_eq!(shown, format!("f({{\n{}…\n}});\n", "x".repeat(80)));
        assert_eq!(&shown[ranges[0].clone()], &shown[2..shown.len() - 3]);
    }

    #[test]
    fn far_apart_labels_on_one_line_get_their_own_windows() {
        let line = "z".repeat(10_000);
        let (shown, ranges) = view(&line, &[Span::new(10, 11), Span::new(9000, 9002)]);
        assert!(shown.chars().count() < 200, "{shown}");
        assert_eq!(&shown[ranges[1].clone()], "zz");
    }
}
