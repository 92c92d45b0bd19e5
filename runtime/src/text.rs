//! Messages assembled from pieces without `core::fmt`: text and decimal integers appended to a
//! `String`.
//!
//! The reports every program can reach (integer faults, bounds, the leak check, out of memory)
//! are built here rather than with `format!`, so that a freestanding executable that never
//! prints a float or formats anything else does not carry Rust's formatting machinery (a few
//! kilobytes of a hello world's code).
//!
//! What this module does not do: write anything (see `fd`, `output`).

use crate::prelude::*;

/// A message being assembled.
#[derive(Default)]
pub struct Text(String);

impl Text {
    pub fn new() -> Text {
        Text(String::new())
    }

    /// Appends `text`. (Not inlined, like the others: a message is many appends, and one copy
    /// of each is enough for the cold paths that build them.)
    #[inline(never)]
    pub fn str(&mut self, text: &str) -> &mut Text {
        self.0.push_str(text);
        self
    }

    /// Appends `value` in decimal.
    #[inline(never)]
    pub fn int(&mut self, value: i64) -> &mut Text {
        let mut digits = [0u8; 20];
        for &digit in crate::output::format_int(value, &mut digits) {
            // The digits and the sign are ASCII.
            self.0.push(char::from(digit));
        }
        self
    }

    /// Appends `value` in decimal.
    pub fn uint(&mut self, value: u64) -> &mut Text {
        match i64::try_from(value) {
            Ok(value) => self.int(value),
            // Beyond i64: the last digit apart, so what is left fits.
            Err(_) => self.int((value / 10) as i64).int((value % 10) as i64),
        }
    }

    /// The message.
    pub fn take(&mut self) -> String {
        core::mem::take(&mut self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_join_in_order() {
        let text = Text::new()
            .str("a ")
            .int(-42)
            .str(" b ")
            .uint(u64::MAX)
            .str(" ")
            .int(i64::MIN)
            .take();
        assert_eq!(text, format!("a -42 b {} {}", u64::MAX, i64::MIN));
    }
}
