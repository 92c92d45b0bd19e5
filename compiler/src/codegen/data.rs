//! Read-only data: string literals and fault-site texts, each kind pooled in one data object.
//!
//! A string literal becomes a static string object laid out exactly as
//! `keel_runtime::string::static_string_bytes` writes it (header, then UTF-8 bytes), at an
//! 8-byte aligned offset of the string pool; a Keel string value is that object's address. A
//! fault site becomes its `file:line:col` text (no terminator; its length travels as an
//! argument) in the site pool. Each literal and site is added once, on first use, and each pool
//! is declared on first use (`Linkage::Local`) and defined by [`DataObjects::finish`] once every
//! function has been lowered.
//!
//! Why pools: position-independent arm64 code reaches every symbol through the GOT, one entry
//! per symbol, and glibc's static `-fpic` objects cannot reach past a GOT of 32 KiB (4,096
//! entries), so a program with thousands of fault sites, one symbol each, did not link
//! statically. Two pools need two entries.
//!
//! What this module does not do: emit the instructions that take an address (that is
//! `function`, which caches one `GlobalValue` per address per function).

use std::collections::HashMap;

use cranelift_module::{DataDescription, DataId, Linkage, Module};

use super::describe_module_error;

use crate::ir::{Program, SiteId, StrId};

/// Alignment of static string objects: their header holds `i64`s.
const STRING_ALIGN: usize = 8;

/// An address in a pool: the pool's object and the offset in it.
pub(super) type PoolAddress = (DataId, u32);

/// The data defined in one module so far.
#[derive(Default)]
pub(super) struct DataObjects {
    strings: Pool,
    sites: Pool,
    string_offsets: HashMap<StrId, u32>,
    /// Each site's offset and its text's length in bytes.
    site_offsets: HashMap<SiteId, (u32, usize)>,
}

/// One pooled data object under construction.
#[derive(Default)]
struct Pool {
    id: Option<DataId>,
    bytes: Vec<u8>,
}

impl Pool {
    /// Appends `bytes` at the next multiple of `align`, declaring the pool's object as `name` on
    /// first use; returns where they went.
    fn add<M: Module>(
        &mut self,
        module: &mut M,
        name: &str,
        bytes: &[u8],
        align: usize,
    ) -> Result<PoolAddress, String> {
        let id = match self.id {
            Some(id) => id,
            None => {
                let id = module
                    .declare_data(name, Linkage::Local, false, false)
                    .map_err(|e| describe_module_error(&e))?;
                *self.id.insert(id)
            }
        };
        let offset = self
            .append(bytes, align)
            .ok_or_else(|| format!("{name} exceeds 4 GiB"))?;
        Ok((id, offset))
    }

    /// Appends `bytes` at the next multiple of `align`; returns their offset.
    fn append(&mut self, bytes: &[u8], align: usize) -> Option<u32> {
        let start = self.bytes.len().next_multiple_of(align);
        let offset = u32::try_from(start).ok()?;
        self.bytes.resize(start, 0);
        self.bytes.extend_from_slice(bytes);
        Some(offset)
    }

    fn define<M: Module>(&mut self, module: &mut M, align: usize) -> Result<(), String> {
        let Some(id) = self.id else { return Ok(()) };
        let mut description = DataDescription::new();
        description.define(std::mem::take(&mut self.bytes).into_boxed_slice());
        description.set_align(align as u64);
        module
            .define_data(id, &description)
            .map_err(|e| describe_module_error(&e))
    }
}

impl DataObjects {
    /// The address of the static string object of literal `id`.
    pub(super) fn string<M: Module>(
        &mut self,
        module: &mut M,
        program: &Program,
        id: StrId,
    ) -> Result<PoolAddress, String> {
        if let Some(&offset) = self.string_offsets.get(&id) {
            return Ok((self.strings.id.ok_or("string pool not declared")?, offset));
        }
        let bytes = keel_runtime::string::static_string_bytes(program.string(id));
        let address = self
            .strings
            .add(module, "keel.strings", &bytes, STRING_ALIGN)?;
        self.string_offsets.insert(id, address.1);
        Ok(address)
    }

    /// The address of the `file:line:col` text of site `id`, and its length.
    pub(super) fn site<M: Module>(
        &mut self,
        module: &mut M,
        program: &Program,
        id: SiteId,
    ) -> Result<(PoolAddress, usize), String> {
        if let Some(&(offset, len)) = self.site_offsets.get(&id) {
            return Ok((
                (self.sites.id.ok_or("site pool not declared")?, offset),
                len,
            ));
        }
        let text = program.site(id).to_string().into_bytes();
        let address = self.sites.add(module, "keel.sites", &text, 1)?;
        self.site_offsets.insert(id, (address.1, text.len()));
        Ok((address, text.len()))
    }

    /// Defines the pools used (call once, after every function is lowered).
    pub(super) fn finish<M: Module>(&mut self, module: &mut M) -> Result<(), String> {
        self.strings.define(module, STRING_ALIGN)?;
        self.sites.define(module, 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooled_items_are_aligned() {
        let mut pool = Pool::default();
        assert_eq!(pool.append(&[1, 2, 3], STRING_ALIGN), Some(0));
        assert_eq!(pool.append(b"abc", STRING_ALIGN), Some(8));
        assert_eq!(pool.append(b"d", 1), Some(11));
        assert_eq!(pool.bytes, [1, 2, 3, 0, 0, 0, 0, 0, b'a', b'b', b'c', b'd']);
    }
}
