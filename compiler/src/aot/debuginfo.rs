//! DWARF debug information for native executables (`keel build -g`), written with `gimli` into
//! the object file `cranelift-object` made.
//!
//! One compilation unit holds the whole program (its files, the imported ones and the prelude's
//! `stdlib/` files, are the line table's files):
//! - `.debug_line`: one sequence per Keel function, a row wherever the source location of its
//!   code changes (from the code generator's [`DebugTables`]: the IR's `line` markers, one per
//!   statement and one per function declaration, which its prologue belongs to);
//! - `.debug_info` (with `.debug_abbrev`, `.debug_str`, `.debug_ranges`): a `DW_TAG_subprogram`
//!   per Keel function with its Keel name (`fib`, `Point::norm`, `<main>`), code range and
//!   declaration, and a `DW_TAG_inlined_subroutine` for each call the inliner replaced by the
//!   callee's body, so that debuggers show the inlined function as a frame of its own;
//! - `.debug_frame`: Cranelift's call frame information for each function, so that a debugger
//!   walks from a Keel frame to its callers. It is not `.eh_frame`: nothing unwinds through Keel
//!   code at run time, and `.debug_frame` is not loaded, so the executable's loaded image (and
//!   its relocations) stay as they are without `-g`.
//!
//! The language is given as C (`DW_LANG_C99`), for which debuggers show names and lines, all this
//! information has: there are no variables or types. Every address is a relocation against the
//! function's symbol, every offset into another debug section one against that section.
//!
//! What this module does not do: describe variables, types or the runtime (the runtime library
//! carries what its own build gives it), or emit `.eh_frame`.

use std::collections::HashMap;
use std::path::Path;

use cranelift_codegen::isa::unwind::UnwindInfo;
use cranelift_codegen::isa::TargetIsa;
use cranelift_object::object::write::{Object, Relocation as ObjectRelocation, SymbolId};
use cranelift_object::object::{RelocationEncoding, RelocationFlags, RelocationKind, SectionKind};
use cranelift_object::ObjectProduct;
use gimli::write::{
    Address, AttributeValue, DwarfUnit, EndianVec, FileId, FrameTable, LineProgram, LineString,
    Range, RangeList, RelocateWriter, Relocation, RelocationTarget, Sections, UnitEntryId,
};
use gimli::{constants, Encoding, Format, LineEncoding, RunTimeEndian, SectionId};

use crate::codegen::debug::{DebugTables, FunctionCode, Loc};
use crate::codegen::LoweredProgram;
use crate::ir::{self, Program, Site};

/// The DWARF version written: 4, which every debugger, `perf` and binutils read.
const DWARF_VERSION: u16 = 4;

/// Adds the debug sections of `program`, compiled into `product` as `lowered` (with its debug
/// tables) for `isa`, to the object; file names that are not absolute are relative to
/// `comp_dir`.
pub fn add_debug_sections(
    product: &mut ObjectProduct,
    program: &Program,
    lowered: &LoweredProgram,
    isa: &dyn TargetIsa,
    comp_dir: &Path,
) -> Result<(), String> {
    let tables = lowered
        .debug_tables()
        .ok_or("the program was compiled without debug information")?;
    // Address::Symbol's `symbol` is the IR function index.
    let symbols: Vec<SymbolId> = (0..program.functions.len())
        .map(|index| product.function_symbol(lowered.function(ir::FuncId(index as u32))))
        .collect();
    let mut sections = Sections::new(Section::default());
    let mut dwarf = compilation_unit(program, tables, comp_dir);
    dwarf
        .write(&mut sections)
        .map_err(|e| format!("writing DWARF: {e}"))?;
    call_frames(tables, isa)?
        .write_debug_frame(&mut sections.debug_frame)
        .map_err(|e| format!("writing call frame information: {e}"))?;
    add_sections(&mut product.object, &sections, &symbols)
}

/// The compilation unit: line table, functions and inlined calls.
fn compilation_unit(program: &Program, tables: &DebugTables, comp_dir: &Path) -> DwarfUnit {
    let encoding = Encoding {
        format: Format::Dwarf32,
        version: DWARF_VERSION,
        address_size: 8,
    };
    let mut dwarf = DwarfUnit::new(encoding);
    let main_file = main_file(program);
    let comp_dir = comp_dir.to_string_lossy().into_owned();
    dwarf.unit.line_program = LineProgram::new(
        encoding,
        LineEncoding::default(),
        LineString::String(comp_dir.clone().into_bytes()),
        None,
        LineString::String(main_file.clone().into_bytes()),
        None,
    );
    let mut files = Files::default();

    let root = dwarf.unit.root();
    let mut unit_ranges = Vec::new();
    let producer = format!("keel {}", env!("CARGO_PKG_VERSION"));
    let entry = dwarf.unit.get_mut(root);
    entry.set(
        constants::DW_AT_producer,
        AttributeValue::String(producer.into_bytes()),
    );
    entry.set(
        constants::DW_AT_language,
        AttributeValue::Language(constants::DW_LANG_C99),
    );
    entry.set(
        constants::DW_AT_name,
        AttributeValue::String(main_file.into_bytes()),
    );
    entry.set(
        constants::DW_AT_comp_dir,
        AttributeValue::String(comp_dir.into_bytes()),
    );
    entry.set(
        constants::DW_AT_low_pc,
        AttributeValue::Address(Address::Constant(0)),
    );

    // Every function's entry first: inlined calls refer to their callees'. A function inlined
    // somewhere is described once without code (its abstract instance, which its inlined copies
    // and its own code refer to), as DWARF asks: a debugger looks up what an inlined copy lacks,
    // its code range included, in the entry it refers to.
    let mut inlined = vec![false; program.functions.len()];
    for call in &tables.inlined {
        inlined[call.callee.0 as usize] = true;
    }
    let mut subprograms = Vec::with_capacity(program.functions.len());
    for (index, (func, code)) in program.functions.iter().zip(&tables.functions).enumerate() {
        let start = Address::Symbol {
            symbol: index,
            addend: 0,
        };
        unit_ranges.push(Range::StartLength {
            begin: start,
            length: u64::from(code.size),
        });
        let name = dwarf.strings.add(func.name.as_str());
        let declared = declaration(func).map(|site| program.site(site));
        let declared = declared.map(|site| (files.id(&mut dwarf.unit.line_program, site), site));
        let described = dwarf.unit.add(root, constants::DW_TAG_subprogram);
        let entry = dwarf.unit.get_mut(described);
        entry.set(constants::DW_AT_name, AttributeValue::StringRef(name));
        if let Some((file, site)) = declared {
            entry.set(
                constants::DW_AT_decl_file,
                AttributeValue::FileIndex(Some(file)),
            );
            entry.set(
                constants::DW_AT_decl_line,
                AttributeValue::Udata(u64::from(site.line)),
            );
        }
        let concrete = if inlined[index] {
            entry.set(
                constants::DW_AT_inline,
                AttributeValue::Inline(constants::DW_INL_inlined),
            );
            let concrete = dwarf.unit.add(root, constants::DW_TAG_subprogram);
            dwarf.unit.get_mut(concrete).set(
                constants::DW_AT_abstract_origin,
                AttributeValue::UnitRef(described),
            );
            concrete
        } else {
            described
        };
        let entry = dwarf.unit.get_mut(concrete);
        entry.set(constants::DW_AT_low_pc, AttributeValue::Address(start));
        entry.set(
            constants::DW_AT_high_pc,
            AttributeValue::Udata(u64::from(code.size)),
        );
        subprograms.push(Subprogram {
            described,
            concrete,
        });
    }
    for (index, code) in tables.functions.iter().enumerate() {
        line_sequence(&mut dwarf, &mut files, program, tables, index, code);
        inlined_calls(
            &mut dwarf,
            &mut files,
            program,
            tables,
            &subprograms,
            index,
            code,
        );
    }
    let ranges = dwarf.unit.ranges.add(RangeList(unit_ranges));
    dwarf.unit.get_mut(root).set(
        constants::DW_AT_ranges,
        AttributeValue::RangeListRef(ranges),
    );
    dwarf
}

/// A function's entries: the one that describes it and the one of its own code (the same one
/// unless it is inlined somewhere).
#[derive(Copy, Clone)]
struct Subprogram {
    described: UnitEntryId,
    concrete: UnitEntryId,
}

/// The rows of function `index`'s line sequence. The first, at its start, is its declaration
/// (or, without one, its first location): the prologue, whose code has no location. Then a row
/// wherever the location changes, the first marked as the end of the prologue (where debuggers
/// put a breakpoint on the function); code in no range keeps the location before it.
fn line_sequence(
    dwarf: &mut DwarfUnit,
    files: &mut Files,
    program: &Program,
    tables: &DebugTables,
    index: usize,
    code: &FunctionCode,
) {
    let sites: Vec<(u32, &Site)> = (code.ranges.iter())
        .map(|&(start, _, loc)| (start, program.site(tables.locs[loc as usize].site)))
        .collect();
    let declared = declaration(program.function(ir::FuncId(index as u32)));
    let Some(first) = declared
        .map(|site| program.site(site))
        .or(sites.first().map(|&(_, site)| site))
    else {
        return;
    };
    let lines = &mut dwarf.unit.line_program;
    lines.begin_sequence(Some(Address::Symbol {
        symbol: index,
        addend: 0,
    }));
    let mut row = |lines: &mut LineProgram, offset: u32, site: &Site, prologue_end: bool| {
        let file = files.id(lines, site);
        let row = lines.row();
        row.address_offset = u64::from(offset);
        row.file = file;
        row.line = u64::from(site.line);
        row.column = u64::from(site.col);
        row.prologue_end = prologue_end;
        lines.generate_row();
    };
    row(lines, 0, first, false);
    let mut previous: Option<&Site> = None;
    for &(start, site) in &sites {
        if previous != Some(site) {
            row(lines, start, site, previous.is_none());
            previous = Some(site);
        }
    }
    lines.end_sequence(u64::from(code.size));
}

/// A `DW_TAG_inlined_subroutine` in function `index`'s entry for each inlined call whose code is
/// in it, covering that code.
fn inlined_calls(
    dwarf: &mut DwarfUnit,
    files: &mut Files,
    program: &Program,
    tables: &DebugTables,
    subprograms: &[Subprogram],
    index: usize,
    code: &FunctionCode,
) {
    // The code ranges of each inlined call, in order, adjacent ones joined.
    let mut calls: Vec<(u32, Vec<(u32, u32)>)> = Vec::new();
    for &(start, end, loc) in &code.ranges {
        let Loc {
            inlined: Some(call),
            ..
        } = tables.locs[loc as usize]
        else {
            continue;
        };
        let ranges = match calls.iter_mut().find(|(c, _)| *c == call) {
            Some((_, ranges)) => ranges,
            None => {
                calls.push((call, Vec::new()));
                &mut calls.last_mut().expect("just pushed").1
            }
        };
        match ranges.last_mut() {
            Some(last) if last.1 == start => last.1 = end,
            _ => ranges.push((start, end)),
        }
    }
    for (call, ranges) in calls {
        let inlined = tables.inlined[call as usize];
        let list = ranges
            .iter()
            .map(|&(start, end)| Range::StartLength {
                begin: Address::Symbol {
                    symbol: index,
                    addend: i64::from(start),
                },
                length: u64::from(end - start),
            })
            .collect();
        let ranges = dwarf.unit.ranges.add(RangeList(list));
        let id = dwarf.unit.add(
            subprograms[index].concrete,
            constants::DW_TAG_inlined_subroutine,
        );
        let origin = subprograms[inlined.callee.0 as usize].described;
        let call_site = inlined
            .call
            .map(|loc| program.site(tables.locs[loc as usize].site));
        let file = call_site.map(|site| files.id(&mut dwarf.unit.line_program, site));
        let entry = dwarf.unit.get_mut(id);
        entry.set(
            constants::DW_AT_abstract_origin,
            AttributeValue::UnitRef(origin),
        );
        entry.set(
            constants::DW_AT_ranges,
            AttributeValue::RangeListRef(ranges),
        );
        if let (Some(site), Some(file)) = (call_site, file) {
            entry.set(
                constants::DW_AT_call_file,
                AttributeValue::FileIndex(Some(file)),
            );
            entry.set(
                constants::DW_AT_call_line,
                AttributeValue::Udata(u64::from(site.line)),
            );
            entry.set(
                constants::DW_AT_call_column,
                AttributeValue::Udata(u64::from(site.col)),
            );
        }
    }
}

/// The call frame information of every function that has some.
fn call_frames(tables: &DebugTables, isa: &dyn TargetIsa) -> Result<FrameTable, String> {
    let mut frames = FrameTable::default();
    let cie = isa
        .create_systemv_cie()
        .ok_or_else(|| format!("no call frame information for {}", isa.triple()))?;
    let cie = frames.add_cie(cie);
    for (index, code) in tables.functions.iter().enumerate() {
        if let Some(UnwindInfo::SystemV(info)) = &code.unwind {
            frames.add_fde(
                cie,
                info.to_fde(Address::Symbol {
                    symbol: index,
                    addend: 0,
                }),
            );
        }
    }
    Ok(frames)
}

/// The first `line` marker of `func`'s entry block: its declaration.
fn declaration(func: &ir::Function) -> Option<ir::SiteId> {
    func.blocks
        .first()?
        .insts
        .iter()
        .find_map(|inst| match inst {
            ir::Inst::Line { site } => Some(*site),
            _ => None,
        })
}

/// The name of the program's main file: the file of the entry function's first statement (or
/// of the program's first site).
fn main_file(program: &Program) -> String {
    let entry = program.function(program.entry);
    let first = (entry.blocks.iter().flat_map(|block| &block.insts)).find_map(|inst| match inst {
        ir::Inst::Line { site } => Some(*site),
        _ => None,
    });
    match first
        .map(|site| program.site(site))
        .or(program.sites.first())
    {
        Some(site) if !site.file.is_empty() => site.file.clone(),
        _ => "program".to_string(),
    }
}

/// The line table's file of each source file name.
#[derive(Default)]
struct Files {
    ids: HashMap<String, FileId>,
}

impl Files {
    /// The file `site` is in, added to `lines` when first seen: a relative name in the
    /// compilation directory, an absolute one in its own directory.
    fn id(&mut self, lines: &mut LineProgram, site: &Site) -> FileId {
        if let Some(&id) = self.ids.get(&site.file) {
            return id;
        }
        let path = Path::new(&site.file);
        let (directory, name) = match (path.parent(), path.file_name()) {
            (Some(parent), Some(name)) if path.is_absolute() => {
                let directory = parent.to_string_lossy().into_owned().into_bytes();
                (
                    lines.add_directory(LineString::String(directory)),
                    name.to_string_lossy().into_owned(),
                )
            }
            _ => (lines.default_directory(), site.file.clone()),
        };
        let name = if name.is_empty() { "?".into() } else { name };
        let id = lines.add_file(LineString::String(name.into_bytes()), directory, None);
        self.ids.insert(site.file.clone(), id);
        id
    }
}

/// A debug section's bytes and the relocations they need.
#[derive(Clone)]
struct Section {
    data: EndianVec<RunTimeEndian>,
    relocations: Vec<Relocation>,
}

impl Default for Section {
    fn default() -> Section {
        // Both supported targets are little-endian.
        Section {
            data: EndianVec::new(RunTimeEndian::Little),
            relocations: Vec::new(),
        }
    }
}

impl RelocateWriter for Section {
    type Writer = EndianVec<RunTimeEndian>;

    fn writer(&self) -> &Self::Writer {
        &self.data
    }

    fn writer_mut(&mut self) -> &mut Self::Writer {
        &mut self.data
    }

    fn relocate(&mut self, relocation: Relocation) {
        self.relocations.push(relocation);
    }
}

/// Adds the non-empty `sections` to `object`, with their relocations (`symbols`: the symbol of
/// each IR function).
fn add_sections(
    object: &mut Object<'static>,
    sections: &Sections<Section>,
    symbols: &[SymbolId],
) -> Result<(), String> {
    let mut ids = HashMap::new();
    sections.for_each(|id, section| -> Result<(), String> {
        if !section.data.slice().is_empty() {
            let added = object.add_section(
                Vec::new(),
                id.name().as_bytes().to_vec(),
                SectionKind::Debug,
            );
            object.set_section_data(added, section.data.slice().to_vec(), 1);
            ids.insert(id, added);
        }
        Ok(())
    })?;
    sections.for_each(|id, section| -> Result<(), String> {
        let Some(&added) = ids.get(&id) else {
            return Ok(());
        };
        for relocation in &section.relocations {
            let symbol = match relocation.target {
                RelocationTarget::Symbol(index) => *symbols
                    .get(index)
                    .ok_or("a debug relocation names no function")?,
                RelocationTarget::Section(target) => {
                    let target: SectionId = target;
                    let section = *ids.get(&target).ok_or_else(|| {
                        format!("{} refers to an empty {}", id.name(), target.name())
                    })?;
                    object.section_symbol(section)
                }
            };
            object
                .add_relocation(
                    added,
                    ObjectRelocation {
                        offset: relocation.offset as u64,
                        symbol,
                        addend: relocation.addend,
                        flags: RelocationFlags::Generic {
                            kind: RelocationKind::Absolute,
                            encoding: RelocationEncoding::Generic,
                            size: relocation.size * 8,
                        },
                    },
                )
                .map_err(|e| format!("relocating {}: {e}", id.name()))?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use cranelift_object::object::read::elf::ElfFile64;
    use cranelift_object::object::{Endianness, Object, ObjectSection};

    use super::super::object::emit_debug_object;
    use super::super::target::{Target, SUPPORTED};
    use crate::diag::SourceFile;

    #[test]
    fn objects_for_every_target_carry_the_debug_sections() {
        let source = "fn twice(int x) -> int {\n    x * 2\n}\nprintln(twice(21));\n";
        let options = crate::sema::Options {
            debug_info: true,
            ..crate::sema::Options::default()
        };
        let program = crate::sema::compile_with(&SourceFile::new("t.kl", source), options)
            .unwrap_or_else(|d| panic!("{d:#?}"));
        for name in SUPPORTED {
            let target = Target::parse(name).expect("supported");
            let bytes = emit_debug_object(&program, &target, std::path::Path::new("/src"))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let file = ElfFile64::<Endianness>::parse(&*bytes).expect("an ELF object");
            let names: Vec<&str> = file.sections().filter_map(|s| s.name().ok()).collect();
            for wanted in [
                ".debug_info",
                ".debug_abbrev",
                ".debug_line",
                ".debug_str",
                ".debug_frame",
            ] {
                assert!(names.contains(&wanted), "{name}: no {wanted} in {names:?}");
            }
        }
    }
}
