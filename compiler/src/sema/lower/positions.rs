//! Line and column of byte offsets, for the sites lowering records, in time linear in the
//! distance from the previous offset.
//!
//! `SourceFile::line_col` counts the characters from the start of the line, so the sites of one
//! long line (a generated expression of thousands of terms) would cost the square of its length.
//! Sites mostly come in source order, so [`Positions`] counts from the last offset it was asked
//! about when both are on the same line (forwards or backwards), and asks the file otherwise.
//!
//! What this module does not do: render positions (`diag` does) or change what they are: the
//! results are exactly `SourceFile::line_col`'s.

use crate::diag::SourceFile;

/// The positions of offsets in one source file, remembering the last one.
pub(super) struct Positions<'s> {
    source: &'s SourceFile,
    /// The last offset asked about, with its line and column.
    last: Option<(usize, u32, u32)>,
}

impl<'s> Positions<'s> {
    pub(super) fn new(source: &'s SourceFile) -> Positions<'s> {
        Positions { source, last: None }
    }

    /// 1-based line and column (in Unicode scalar values) of byte offset `offset`.
    pub(super) fn line_col(&mut self, offset: u32) -> (u32, u32) {
        let offset = (offset as usize).min(self.source.text.len());
        let position = self
            .counted_from_last(offset)
            .unwrap_or_else(|| self.source.line_col(offset as u32));
        self.last = Some((offset, position.0, position.1));
        position
    }

    /// The position of `offset` counted from the last one, when both are on one line.
    fn counted_from_last(&self, offset: usize) -> Option<(u32, u32)> {
        let (last, line, col) = self.last?;
        let between = self.source.text.get(offset.min(last)..offset.max(last))?;
        if between.contains('\n') {
            return None;
        }
        let chars = u32::try_from(between.chars().count()).ok()?;
        Some(if offset >= last {
            (line, col + chars)
        } else {
            (line, col - chars)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_match_the_file_in_any_order() {
        let file = SourceFile::new("t.kl", "ab\nçé + x\n\nlast é line");
        let offsets: Vec<u32> = (0..=file.text.len() as u32 + 2)
            .filter(|&o| {
                file.text
                    .is_char_boundary((o as usize).min(file.text.len()))
            })
            .collect();
        let mut forwards = Positions::new(&file);
        let mut backwards = Positions::new(&file);
        for (&o, &back) in offsets.iter().zip(offsets.iter().rev()) {
            assert_eq!(forwards.line_col(o), file.line_col(o), "offset {o}");
            assert_eq!(
                backwards.line_col(back),
                file.line_col(back),
                "offset {back}"
            );
        }
        let mut zigzag = Positions::new(&file);
        for &o in offsets
            .iter()
            .step_by(3)
            .chain(offsets.iter().rev().step_by(2))
        {
            assert_eq!(zigzag.line_col(o), file.line_col(o), "offset {o}");
        }
    }
}
