//! Read-only data objects: string literals and fault-site texts.
//!
//! A string literal becomes a static string object laid out exactly as
//! `keel_runtime::string::static_string_bytes` writes it (header, then UTF-8 bytes), 8-byte
//! aligned; a Keel string value is that object's address. A fault site becomes its
//! `file:line:col` text (no terminator; its length travels as an argument). Each object is
//! declared and defined once, on first use, with `Linkage::Local`.
//!
//! What this module does not do: emit the instructions that take an object's address (that is
//! `function`, which caches one `GlobalValue` per object per function).

use std::collections::HashMap;

use cranelift_module::{DataDescription, DataId, Linkage, Module};

use super::describe_module_error;

use crate::ir::{Program, SiteId, StrId};

/// Alignment of static string objects: their header holds two `i64`s.
const STRING_ALIGN: u64 = 8;

/// The data objects defined in one module so far.
#[derive(Default)]
pub(super) struct DataObjects {
    strings: HashMap<StrId, DataId>,
    /// Each site's object and its text's length in bytes.
    sites: HashMap<SiteId, (DataId, usize)>,
}

impl DataObjects {
    /// The static string object for literal `id`.
    pub(super) fn string<M: Module>(
        &mut self,
        module: &mut M,
        program: &Program,
        id: StrId,
    ) -> Result<DataId, String> {
        if let Some(&data) = self.strings.get(&id) {
            return Ok(data);
        }
        let bytes = keel_runtime::string::static_string_bytes(program.string(id));
        let data = define_readonly(module, &format!("keel.str{}", id.0), bytes, STRING_ALIGN)?;
        self.strings.insert(id, data);
        Ok(data)
    }

    /// The `file:line:col` text of site `id` and its length.
    pub(super) fn site<M: Module>(
        &mut self,
        module: &mut M,
        program: &Program,
        id: SiteId,
    ) -> Result<(DataId, usize), String> {
        if let Some(&found) = self.sites.get(&id) {
            return Ok(found);
        }
        let text = program.site(id).to_string().into_bytes();
        let len = text.len();
        let data = define_readonly(module, &format!("keel.site{}", id.0), text, 1)?;
        self.sites.insert(id, (data, len));
        Ok((data, len))
    }
}

fn define_readonly<M: Module>(
    module: &mut M,
    name: &str,
    bytes: Vec<u8>,
    align: u64,
) -> Result<DataId, String> {
    let id = module
        .declare_data(name, Linkage::Local, false, false)
        .map_err(|e| describe_module_error(&e))?;
    let mut description = DataDescription::new();
    description.define(bytes.into_boxed_slice());
    description.set_align(align);
    module
        .define_data(id, &description)
        .map_err(|e| describe_module_error(&e))?;
    Ok(id)
}
