//! What debug information needs from code generation, collected only when asked for
//! (`lower_program_with`, for `keel build -g`): where each function's machine code came from in
//! the source, and how to unwind its frames.
//!
//! The IR's [`ir::Inst::Line`] markers say where the code of each statement begins. A function is
//! lowered from its IR *without* them ([`without_markers`]), so that every analysis and every
//! instruction is exactly what it is without debug information, and the machine code is the same
//! bytes; the markers only set the Cranelift source location of the instructions that follow.
//! A [`SourceLoc`] is an index into [`DebugTables::locs`]: a site of the IR, and, for code copied
//! into a caller by the inliner, which inlined call it belongs to ([`DebugTables::inlined`]).
//! After compiling each function, its source ranges and unwind information are kept
//! ([`FunctionCode`]).
//!
//! What this module does not do: write DWARF, or know about files and object sections (that is
//! `aot::debuginfo`).

use cranelift_codegen::ir::SourceLoc;
use cranelift_codegen::isa::unwind::UnwindInfo;
use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::CompiledCode;

use crate::ir::{self, SiteId};

/// The source locations the code of a program carries, and what was compiled for each function.
#[derive(Clone, Debug, Default)]
pub struct DebugTables {
    /// `SourceLoc::new(n)` stands for `locs[n]`.
    pub locs: Vec<Loc>,
    /// The calls the inliner replaced by a copy of their callee's body.
    pub inlined: Vec<InlinedCall>,
    /// The compiled code of each IR function, by `ir::FuncId`.
    pub functions: Vec<FunctionCode>,
}

/// Where some machine code came from.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Loc {
    /// The statement (or function declaration) in the IR.
    pub site: SiteId,
    /// The index in [`DebugTables::inlined`] of the inlined call whose copy of its callee's body
    /// the code is in; `None` for the code of the function itself.
    pub inlined: Option<u32>,
}

/// A call replaced by a copy of its callee's body.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct InlinedCall {
    /// The IR function called.
    pub callee: ir::FuncId,
    /// The caller's location of the call (a [`DebugTables::locs`] index), if it has one.
    pub call: Option<u32>,
}

/// One function's machine code, as debug information needs it.
#[derive(Clone, Debug)]
pub struct FunctionCode {
    /// The size of its code in bytes.
    pub size: u32,
    /// Its source ranges in ascending order: code offsets `start..end` and the
    /// [`DebugTables::locs`] index of their location. Code in no range has none.
    pub ranges: Vec<(u32, u32, u32)>,
    /// How to find its caller's frame (System V call frame information), when Cranelift gives it.
    pub unwind: Option<UnwindInfo>,
}

impl FunctionCode {
    /// What debug information needs of `code`, compiled by `isa`.
    pub(super) fn of(code: &CompiledCode, isa: &dyn TargetIsa) -> Result<FunctionCode, String> {
        let buffer = &code.buffer;
        let ranges = (buffer.get_srclocs_sorted().iter())
            .filter(|range| !range.loc.is_default() && range.start < range.end)
            .map(|range| (range.start, range.end, range.loc.bits()))
            .collect();
        let unwind = code
            .create_unwind_info(isa)
            .map_err(|e| format!("unwind information: {e:?}"))?;
        Ok(FunctionCode {
            size: buffer.data().len() as u32,
            ranges,
            unwind,
        })
    }
}

impl DebugTables {
    /// The source location of the code of the function itself at `site`.
    pub(super) fn loc(&mut self, site: SiteId) -> SourceLoc {
        self.push(Loc {
            site,
            inlined: None,
        })
    }

    /// Records a call inlined at the caller's location `call` (default: none), of `callee`;
    /// returns its number.
    pub(super) fn inlined_call(&mut self, callee: ir::FuncId, call: SourceLoc) -> u32 {
        self.inlined.push(InlinedCall {
            callee,
            call: self.index(call),
        });
        self.inlined.len() as u32 - 1
    }

    /// The location, in the copy of its body for inlined call `call`, of callee code at `loc`
    /// (code without a location stands for the call itself).
    pub(super) fn inlined_loc(&mut self, loc: SourceLoc, call: u32) -> SourceLoc {
        match self.index(loc) {
            Some(index) => {
                let site = self.locs[index as usize].site;
                self.push(Loc {
                    site,
                    inlined: Some(call),
                })
            }
            None => self.inlined[call as usize]
                .call
                .map_or_else(SourceLoc::default, SourceLoc::new),
        }
    }

    fn push(&mut self, loc: Loc) -> SourceLoc {
        self.locs.push(loc);
        SourceLoc::new(self.locs.len() as u32 - 1)
    }

    fn index(&self, loc: SourceLoc) -> Option<u32> {
        (!loc.is_default() && (loc.bits() as usize) < self.locs.len()).then(|| loc.bits())
    }
}

/// The markers of one function: for each block, each marker's site with the index, among the
/// block's other instructions, of the instruction it comes before.
pub(super) type Markers = Vec<Vec<(usize, SiteId)>>;

/// `func` without its [`ir::Inst::Line`] markers, and where they were.
pub(super) fn without_markers(func: &ir::Function) -> (ir::Function, Markers) {
    let mut stripped = func.clone();
    let mut markers = Vec::with_capacity(func.blocks.len());
    for block in &mut stripped.blocks {
        let mut here = Vec::new();
        let mut kept = 0;
        block.insts.retain(|inst| match *inst {
            ir::Inst::Line { site } => {
                here.push((kept, site));
                false
            }
            _ => {
                kept += 1;
                true
            }
        });
        markers.push(here);
    }
    (stripped, markers)
}

/// The first marker of `func`'s entry block: its declaration, where its prologue belongs.
pub(super) fn declaration(markers: &Markers) -> Option<SiteId> {
    markers.first()?.first().map(|&(_, site)| site)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::print::program_to_string;

    #[test]
    fn stripping_markers_leaves_the_other_instructions_and_says_where_they_were() {
        let program = crate::ir::testing::main_program(
            &[],
            "%0: int",
            "line @1:1
             %0 = 1
             line @2:1
             line @3:1
             println.int %0
             return",
        );
        let (stripped, markers) = without_markers(&program.functions[0]);
        let sites: Vec<(usize, u32)> = markers[0]
            .iter()
            .map(|&(at, site)| (at, program.site(site).line))
            .collect();
        assert_eq!(sites, [(0, 1), (1, 2), (1, 3)]);
        assert_eq!(declaration(&markers).map(|s| program.site(s).line), Some(1));
        let mut expected = program.clone();
        expected.functions[0].blocks[0]
            .insts
            .retain(|inst| !matches!(inst, ir::Inst::Line { .. }));
        let mut actual = program.clone();
        actual.functions[0] = stripped;
        assert_eq!(program_to_string(&actual), program_to_string(&expected));
        assert!(!program_to_string(&actual).contains("line @"));
    }
}
