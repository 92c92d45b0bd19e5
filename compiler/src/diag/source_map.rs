//! The files of one program in one span space, so that a [`Span`] stays two `u32`s.
//!
//! A program made of several files (`use "lib/words.kl";`) gives each file a *base*: its spans
//! are byte offsets into its own text plus the base. The first file (the main one, named on the
//! command line) has base 0, and each further file starts one byte after the end of the one
//! before it (`base + len + 1`), so the offset just past a file's end (where its end-of-file
//! token is) still belongs to it. Finding the file of a span is a binary search over the bases.
//!
//! Everything that turns spans into text (diagnostics, the `file:line:col` of fault sites)
//! takes a [`Sources`]: either a [`SourceMap`] or a single [`SourceFile`], which is a program
//! of one file at base 0.

use super::source::SourceFile;
use super::Span;

/// What turns a program's spans back into files, lines and columns.
pub trait Sources: Sync {
    /// The file named on the command line: the one whose name the summary line shows.
    fn main_file(&self) -> &SourceFile;

    /// The file holding byte `offset` of the span space (the last one for offsets past the end).
    fn placed(&self, offset: u32) -> Placed<'_>;

    /// The file name, 1-based line and 1-based column of `offset`, as `file:line:col` shows it.
    fn locate(&self, offset: u32) -> Location<'_> {
        let placed = self.placed(offset);
        let (line, col) = placed.file.line_col(offset.saturating_sub(placed.base));
        Location {
            file: &placed.file.name,
            line,
            col,
        }
    }
}

/// One file of a program, where it is in the span space.
#[derive(Copy, Clone, Debug)]
pub struct Placed<'a> {
    /// Its position among the program's files: 0 for the main file.
    pub index: usize,
    /// The offset of its first byte in the span space.
    pub base: u32,
    pub file: &'a SourceFile,
}

impl Placed<'_> {
    /// `span` as byte offsets into this file's text.
    pub fn local(&self, span: Span) -> Span {
        Span {
            start: span.start.saturating_sub(self.base),
            end: span.end.saturating_sub(self.base),
        }
    }
}

/// The end of the offsets a program's files may take; the prelude comes after it
/// (`sema::PRELUDE_BASE`), in the last 16 MiB of the `u32` span space.
pub const SPAN_SPACE_END: u32 = u32::MAX - (1 << 24);

/// A position as messages show it: `file:line:col`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Location<'a> {
    pub file: &'a str,
    pub line: u32,
    pub col: u32,
}

impl std::fmt::Display for Location<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

impl Sources for SourceFile {
    fn main_file(&self) -> &SourceFile {
        self
    }

    fn placed(&self, _offset: u32) -> Placed<'_> {
        Placed {
            index: 0,
            base: 0,
            file: self,
        }
    }
}

/// The files of a program, the main file first, each at its base (see the module doc).
#[derive(Clone, Debug)]
pub struct SourceMap {
    files: Vec<SourceFile>,
    /// `bases[i]` is the base of `files[i]`: increasing, the first 0.
    bases: Vec<u32>,
}

/// The files of a program do not fit in the span space (4 GiB together).
#[derive(Debug, PartialEq, Eq)]
pub struct SpanSpaceFull;

impl SourceMap {
    /// A program whose main file is `main`.
    pub fn new(main: SourceFile) -> SourceMap {
        SourceMap {
            files: vec![main],
            bases: vec![0],
        }
    }

    /// Adds a file after the others and returns where it is placed, or [`SpanSpaceFull`] when
    /// its offsets would not fit in a `u32`.
    pub fn add(&mut self, file: SourceFile) -> Result<Placed<'_>, SpanSpaceFull> {
        let last = self.files.len() - 1;
        let base = (self.bases[last] as usize)
            .checked_add(self.files[last].text.len() + 1)
            .filter(|base| base.saturating_add(file.text.len()) <= SPAN_SPACE_END as usize)
            .ok_or(SpanSpaceFull)?;
        self.files.push(file);
        self.bases.push(base as u32);
        Ok(self.get(last + 1))
    }

    /// File number `index` (0 is the main file).
    pub fn get(&self, index: usize) -> Placed<'_> {
        Placed {
            index,
            base: self.bases[index],
            file: &self.files[index],
        }
    }

    /// How many files the program has.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Never true: a program has its main file.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

impl Sources for SourceMap {
    fn main_file(&self) -> &SourceFile {
        &self.files[0]
    }

    fn placed(&self, offset: u32) -> Placed<'_> {
        let index = self.bases.partition_point(|&base| base <= offset) - 1;
        self.get(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> SourceMap {
        let mut map = SourceMap::new(SourceFile::new("main.kl", "use \"a.kl\";\nf();\n"));
        map.add(SourceFile::new("lib/a.kl", "fn f() {}\n")).unwrap();
        map.add(SourceFile::new("lib/b.kl", "")).unwrap();
        map.add(SourceFile::new("lib/c.kl", "x\ny")).unwrap();
        map
    }

    #[test]
    fn each_file_starts_one_byte_after_the_one_before() {
        let map = map();
        let bases: Vec<u32> = (0..map.len()).map(|i| map.get(i).base).collect();
        assert_eq!(bases, [0, 18, 29, 30]);
    }

    #[test]
    fn offsets_find_their_file_line_and_column() {
        let map = map();
        let at = |offset| map.locate(offset).to_string();
        assert_eq!(at(0), "main.kl:1:1");
        assert_eq!(at(12), "main.kl:2:1");
        // The offset just past a file's end (its end-of-file token) is still that file's.
        assert_eq!(at(17), "main.kl:3:1");
        assert_eq!(at(18), "lib/a.kl:1:1");
        assert_eq!(at(21), "lib/a.kl:1:4");
        assert_eq!(at(28), "lib/a.kl:2:1");
        assert_eq!(at(29), "lib/b.kl:1:1");
        assert_eq!(at(32), "lib/c.kl:2:1");
        // Past the end of the last file: its end.
        assert_eq!(at(1000), "lib/c.kl:2:2");
        assert_eq!(map.placed(21).local(Span::new(21, 22)), Span::new(3, 4));
        assert_eq!(map.main_file().name, "main.kl");
    }

    #[test]
    fn one_file_is_a_program_at_base_zero() {
        let file = SourceFile::new("t.kl", "a\nb");
        assert_eq!(file.locate(2).to_string(), "t.kl:2:1");
        assert_eq!(file.placed(2).base, 0);
    }

    #[test]
    fn the_span_space_is_bounded() {
        let mut map = SourceMap::new(SourceFile::new("main.kl", "x"));
        let big = "y".repeat(1 << 20);
        for _ in 0..10 {
            map.add(SourceFile::new("big.kl", big.as_str())).unwrap();
        }
        // Bases stay exact, and adding refuses before an offset would wrap around.
        let last = map.get(map.len() - 1);
        assert_eq!(last.base as usize, 2 + 9 * ((1 << 20) + 1));
        assert_eq!(map.locate(last.base + 5).file, "big.kl");
        let mut small = SourceMap::new(SourceFile::new("m.kl", "x"));
        small.bases[0] = SPAN_SPACE_END - 4;
        assert_eq!(
            small.add(SourceFile::new("b.kl", "abc")).err(),
            Some(SpanSpaceFull)
        );
        assert!(small.add(SourceFile::new("b.kl", "ab")).is_ok());
    }
}
