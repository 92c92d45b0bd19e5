//! A source file as the front end sees it: its name, its text and where its lines start.
//!
//! Spans are byte offsets into the text exactly as read, so a UTF-8 byte-order mark at the start
//! stays in the text: the lexer skips it, and columns of the first line are counted from after
//! it, so the mark is invisible in every `file:line:col` and snippet.
//!
//! Columns count characters, and lowering asks for the column of every site, in any order
//! (a call's site, then a contract clause's elsewhere), so counting from the start of the line
//! would cost the square of a long line's length. The file also records how many characters
//! come before every [`CHUNK`]-th byte: a position costs a binary search over the lines and a
//! count within one chunk, whatever the length of its line.

use std::ops::Range;

/// The byte-order mark that some editors put at the start of UTF-8 files.
pub const BOM: char = '\u{feff}';

/// The bytes between two offsets whose character counts [`SourceFile`] records.
const CHUNK: usize = 64;

/// A source file: its name as given by the user and its text.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
    line_starts: Vec<usize>,
    /// How many characters start before byte `k * CHUNK`, for each `k`.
    chars_before_chunk: Vec<usize>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> SourceFile {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let chars_before_chunk = std::iter::once(0)
            .chain(text.as_bytes().chunks(CHUNK).scan(0, |before, chunk| {
                *before += char_starts(chunk);
                Some(*before)
            }))
            .collect();
        SourceFile {
            name: name.into(),
            text,
            line_starts,
            chars_before_chunk,
        }
    }

    /// How many characters start before byte `offset` (at most the text's length).
    fn chars_before(&self, offset: usize) -> usize {
        let chunk = offset / CHUNK;
        self.chars_before_chunk[chunk] + char_starts(&self.text.as_bytes()[chunk * CHUNK..offset])
    }

    /// Length in bytes of a leading byte-order mark (0 or 3).
    pub fn bom_len(&self) -> usize {
        if self.text.starts_with(BOM) {
            BOM.len_utf8()
        } else {
            0
        }
    }

    /// 0-based index of the line holding a byte offset (offsets past the end are on the last
    /// line). A `\n` belongs to the line it ends.
    pub fn line_index(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        self.line_starts.partition_point(|&start| start <= offset) - 1
    }

    /// How many lines there are: one more than there are `\n`s.
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The text of line `index` without its `\n` (and without a leading byte-order mark).
    pub fn line_content(&self, index: usize) -> Range<usize> {
        let start = if index == 0 {
            self.bom_len()
        } else {
            self.line_starts[index]
        };
        let end = self
            .line_starts
            .get(index + 1)
            .map_or(self.text.len(), |&next| next - 1);
        start.min(end)..end
    }

    /// 1-based line and column (in Unicode scalar values) of a byte offset (an offset inside
    /// a character counts bytes from the start of the line instead).
    pub fn line_col(&self, offset: u32) -> (u32, u32) {
        let offset = (offset as usize).min(self.text.len());
        let line = self.line_index(offset);
        let start = self.line_content(line).start.min(offset);
        let col = if self.text.is_char_boundary(offset) {
            self.chars_before(offset) - self.chars_before(start)
        } else {
            offset - start
        };
        (line as u32 + 1, col as u32 + 1)
    }
}

/// How many characters start in `bytes` (the bytes that are not UTF-8 continuation bytes).
fn char_starts(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count()
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
    fn a_byte_order_mark_takes_no_column() {
        let file = SourceFile::new("t.kl", "\u{feff}let x\nab");
        assert_eq!(file.bom_len(), 3);
        assert_eq!(file.line_col(3), (1, 1));
        assert_eq!(file.line_col(7), (1, 5));
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_content(0), 3..8);
        assert_eq!(file.line_col(10), (2, 2));
    }

    #[test]
    fn columns_count_characters_on_long_lines() {
        // Characters of 1 to 4 bytes, across many chunks, on three lines.
        let line = "a\u{e9}\u{20ac}\u{1f600}".repeat(100);
        let text = format!("{line}\n{line}\n\u{feff}{line}");
        let file = SourceFile::new("t.kl", text.as_str());
        for (offset, _) in text.char_indices().chain([(text.len(), ' ')]) {
            let line = text[..offset].matches('\n').count();
            let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
            let col = text[start..offset].chars().count();
            assert_eq!(
                file.line_col(offset as u32),
                (line as u32 + 1, col as u32 + 1),
                "offset {offset}"
            );
        }
        // Inside a character, bytes are counted.
        assert_eq!(file.line_col(2), (1, 3));
    }

    #[test]
    fn lines_and_their_content() {
        let file = SourceFile::new("t.kl", "a\r\nbc\n");
        assert_eq!(file.line_count(), 3);
        assert_eq!(file.line_content(0), 0..2);
        assert_eq!(file.line_content(1), 3..5);
        assert_eq!(file.line_content(2), 6..6);
        assert_eq!(file.line_index(2), 0);
        assert_eq!(file.line_index(3), 1);
        assert_eq!(file.line_index(6), 2);
        assert_eq!(file.line_index(99), 2);
    }
}
