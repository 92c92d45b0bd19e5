//! The IR's text, read back: the inverse of [`super::print`], so that IR programs can be written
//! by hand (`tests/ir/*.kir`) and every `keel emit ir` output can be run again.
//!
//! [`parse`] reads what the printer writes, line by line, and rebuilds a [`Program`] that prints
//! back to the same text; the grammar is in `docs/ir.md`. Sites (`@line:col`) are placed in the
//! file the caller names, and instructions whose site the text does not show get line 0,
//! column 0. Errors name the line and column of the first thing that could not be read. The
//! parser checks the syntax and resolves names (functions, types, strings); whether the program
//! is well formed is for [`super::verify`] to say.
//!
//! Blank lines and lines starting with `//` are skipped wherever they are (IR file tests keep
//! their expectations in such comments).
//!
//! What this module does not do: verify, or accept other spellings than the printer's.

use std::collections::HashMap;
use std::fmt;

use super::{
    ArrayId, BinaryOp, Block, BlockId, FieldDef, FuncId, Function, Inst, Local, LocalInfo, MapDef,
    MapId, Operand, Program, RtFunc, Site, SiteId, StrId, Stream, StructDef, StructId, StructKind,
    Term, Ty, UnaryOp,
};

/// Why a text is not IR: where (1-based line and column, in characters) and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.col, self.message)
    }
}

impl std::error::Error for ParseError {}

impl ParseError {
    /// The byte offset of the error's line and column in `text` (the end of the text when it
    /// lies beyond).
    pub fn offset_in(&self, text: &str) -> usize {
        let mut offset = 0;
        for (index, line) in text.split_inclusive('\n').enumerate() {
            if index + 1 == self.line {
                let within = line
                    .char_indices()
                    .nth(self.col.saturating_sub(1))
                    .map_or(line.trim_end_matches('\n').len(), |(at, _)| at);
                return offset + within;
            }
            offset += line.len();
        }
        text.len()
    }
}

type Result<T> = std::result::Result<T, ParseError>;

/// Reads the IR text `text`, as `keel emit ir` prints it; its sites are in the file `file`.
pub fn parse(text: &str, file: &str) -> Result<Program> {
    // Blank lines and `//` comments (expectations of IR file tests) carry nothing.
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line))
        .filter(|(_, line)| !(line.trim().is_empty() || line.trim_start().starts_with("//")))
        .collect();
    let mut reader = Reader {
        lines: &lines,
        end: text.lines().count() + 1,
        next: 0,
        file: file.to_string(),
        program: Program {
            functions: Vec::new(),
            entry: FuncId(0),
            strings: Vec::new(),
            sites: Vec::new(),
            arrays: Vec::new(),
            structs: Vec::new(),
            maps: Vec::new(),
        },
        sites: HashMap::new(),
        functions: HashMap::new(),
        tuples: HashMap::new(),
        maps: HashMap::new(),
    };
    reader.declarations()?;
    reader.function_names()?;
    reader.functions()?;
    Ok(reader.program)
}

/// The program being read and where the reading is.
struct Reader<'a> {
    /// The lines that hold IR, with their 1-based numbers.
    lines: &'a [(usize, &'a str)],
    /// The number of the line after the last.
    end: usize,
    /// The index of the next line to read.
    next: usize,
    file: String,
    program: Program,
    /// Each site already made, by line and column.
    sites: HashMap<(u32, u32), SiteId>,
    /// Each function's id, by name.
    functions: HashMap<String, FuncId>,
    /// Each tuple type's id, by its text (`(int, [string])`).
    tuples: HashMap<String, StructId>,
    /// Each map or set type's id, by its text (`map<string, int>`, `set<int>`).
    maps: HashMap<String, MapId>,
}

/// How deeply a type written in a declaration may nest (`[[(int, [T])]]`).
const MAX_TYPE_DEPTH: usize = 256;

/// The element types of a tuple type's text `(A, B, ...)` (which `Cursor::source_type` read, so
/// it is well formed): split at the commas outside brackets.
fn tuple_elements(text: &str) -> Vec<&str> {
    let inner = &text[1..text.len() - 1];
    let mut elems = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    let mut previous = ' ';
    for (index, c) in inner.char_indices() {
        let arrow = previous == '-';
        previous = c;
        match c {
            '(' | '[' | '<' => depth += 1,
            // The `>` of `->` closes nothing.
            '>' if arrow => {}
            ')' | ']' | '>' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                elems.push(inner[start..index].trim());
                start = index + 1;
            }
            _ => {}
        }
    }
    elems.push(inner[start..].trim());
    elems
}

/// The parameter types and the result type (if any) of a function type's text
/// `fn(A, B) -> R` (which `Cursor::source_type` read, so it is well formed).
fn fn_type_parts(text: &str) -> (Vec<&str>, Option<&str>) {
    // The `)` that closes the `(` after `fn`: parentheses alone tell (types have no others).
    let mut depth = 0usize;
    let mut close = text.len() - 1;
    for (index, c) in text.char_indices().skip(2) {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    close = index;
                    break;
                }
            }
            _ => {}
        }
    }
    let params_text = &text[2..=close];
    let params = if params_text == "()" {
        Vec::new()
    } else {
        tuple_elements(params_text)
    };
    let ret = text[close + 1..].strip_prefix(" -> ");
    (params, ret)
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<&'a str> {
        self.lines.get(self.next).map(|&(_, text)| text)
    }

    /// The next line as a cursor, or an error at the end of the text.
    fn line(&mut self, expected: &str) -> Result<Cursor<'a>> {
        match self.lines.get(self.next) {
            Some(&(row, text)) => {
                self.next += 1;
                Ok(Cursor::new(text, row))
            }
            None => Err(ParseError {
                line: self.end,
                col: 1,
                message: format!("expected {expected}, found the end of the text"),
            }),
        }
    }

    /// `struct#`, `array#`, `map#` and `str#` lines, then the blank line after them.
    fn declarations(&mut self) -> Result<()> {
        // Struct fields and array elements are written as in Keel source (`[int]`, `Point`):
        // their types are resolved once every declaration is read.
        let mut fields: Vec<Vec<(String, String, usize, usize)>> = Vec::new();
        let mut elements: Vec<(String, usize, usize)> = Vec::new();
        // Each `map#i`'s key and value (none for a set) as written.
        let mut map_parts: Vec<(String, Option<String>, usize, usize)> = Vec::new();
        while let Some(text) = self.peek() {
            if text.starts_with("struct#") {
                let mut line = self.line("a declaration")?;
                line.expect("struct#")?;
                line.index(self.program.structs.len(), "struct")?;
                line.expect(" ")?;
                if line.rest().starts_with('(') {
                    // A tuple type: `(T, U, ...)`, named by that text where types are written.
                    let (row, col) = (line.row, line.col());
                    let text = line.source_type()?.to_string();
                    line.end()?;
                    let id = StructId(self.program.structs.len() as u32);
                    if self.tuples.insert(text.clone(), id).is_some() {
                        return Err(error(row, col, format!("a second tuple type `{text}`")));
                    }
                    let mut these = Vec::new();
                    for (index, elem) in tuple_elements(&text).into_iter().enumerate() {
                        these.push((index.to_string(), elem.to_string(), row, col));
                    }
                    self.program.structs.push(StructDef::tuple([]));
                    fields.push(these);
                    continue;
                }
                if line.eat("enum ") {
                    let name = line.source_type()?.to_string();
                    line.end()?;
                    self.program.structs.push(StructDef::enumeration(name));
                    fields.push(Vec::new());
                    continue;
                }
                if line.rest().starts_with("fn(") {
                    // A function type, named by its text; its fields are its signature.
                    let (row, col) = (line.row, line.col());
                    let text = line.source_type()?.to_string();
                    line.end()?;
                    if (self.program.structs.iter()).any(|s| s.name == text) {
                        return Err(error(row, col, format!("a second function type `{text}`")));
                    }
                    let (params, ret) = fn_type_parts(&text);
                    let mut these: Vec<(String, String, usize, usize)> = (params.into_iter())
                        .enumerate()
                        .map(|(index, param)| (index.to_string(), param.to_string(), row, col))
                        .collect();
                    if let Some(ret) = ret {
                        these.push(("ret".into(), ret.to_string(), row, col));
                    }
                    self.program
                        .structs
                        .push(StructDef::function(text, &[], Ty::Void));
                    fields.push(these);
                    continue;
                }
                let closure = if line.eat("closure fn#") {
                    // `closure fn#K of fn(..) -> T "name" { code: int, units: int, ... }`.
                    let func = FuncId(line.number()?);
                    line.expect(" of ")?;
                    let (row, col) = (line.row, line.col());
                    let of = line.source_type()?;
                    let of = (self.program.structs.iter())
                        .position(|s| s.kind == StructKind::FnType && s.name == of)
                        .ok_or_else(|| {
                            error(
                                row,
                                col,
                                format!("no function type `{of}` is declared before"),
                            )
                        })?;
                    line.expect(" ")?;
                    let name = line.string_literal()?;
                    Some((
                        name,
                        StructKind::Closure {
                            of: StructId(of as u32),
                            func,
                        },
                    ))
                } else {
                    None
                };
                let (row, col) = (line.row, line.col());
                let (name, kind) = match closure {
                    Some(closure) => closure,
                    None => {
                        let name = line.until(" {")?.to_string();
                        self.variant_of(&name).map_err(|m| error(row, col, m))?
                    }
                };
                line.expect(" {")?;
                let mut these = Vec::new();
                if !line.eat("  }") {
                    line.expect(" ")?;
                    loop {
                        let field = line.until(": ")?.to_string();
                        line.expect(": ")?;
                        let (row, col) = (line.row, line.col());
                        let ty = line.source_type()?.to_string();
                        these.push((field, ty, row, col));
                        if line.eat(" }") {
                            break;
                        }
                        line.expect(", ")?;
                    }
                }
                line.end()?;
                self.program.structs.push(StructDef {
                    name,
                    fields: Vec::new(),
                    kind,
                });
                fields.push(these);
            } else if text.starts_with("array#") {
                let mut line = self.line("a declaration")?;
                line.expect("array#")?;
                line.index(elements.len(), "array")?;
                line.expect(" = ")?;
                let (row, col) = (line.row, line.col());
                let ty = line.source_type()?;
                let inner = ty
                    .strip_prefix('[')
                    .and_then(|t| t.strip_suffix(']'))
                    .ok_or_else(|| line.error_at(col, "expected an array type `[T]`"))?;
                elements.push((inner.to_string(), row, col + 1));
                line.end()?;
            } else if text.starts_with("map#") {
                let mut line = self.line("a declaration")?;
                line.expect("map#")?;
                let id = MapId(line.index(map_parts.len(), "map")? as u32);
                line.expect(" = ")?;
                let (row, col) = (line.row, line.col());
                let ty = line.source_type()?;
                line.end()?;
                let parts = if let Some(args) =
                    ty.strip_prefix("map<").and_then(|t| t.strip_suffix('>'))
                {
                    match tuple_elements(&format!("({args})")).as_slice() {
                        [key, value] => (key.to_string(), Some(value.to_string())),
                        _ => return Err(error(row, col, "expected `map<K, V>`")),
                    }
                } else if let Some(item) = ty.strip_prefix("set<").and_then(|t| t.strip_suffix('>'))
                {
                    (item.to_string(), None)
                } else {
                    return Err(error(row, col, "expected `map<K, V>` or `set<T>`"));
                };
                if self.maps.insert(ty.to_string(), id).is_some() {
                    return Err(error(row, col, format!("a second map type `{ty}`")));
                }
                map_parts.push((parts.0, parts.1, row, col));
            } else if text.starts_with("str#") {
                let mut line = self.line("a declaration")?;
                line.expect("str#")?;
                line.index(self.program.strings.len(), "string")?;
                line.expect(" = ")?;
                let text = line.string_literal()?;
                line.end()?;
                self.program.strings.push(text);
            } else {
                break;
            }
        }
        self.resolve_arrays(&elements)?;
        for (key, value, row, col) in map_parts {
            let resolve = |text: &str| {
                self.source_ty(text)
                    .ok_or_else(|| error(row, col, format!("unknown type `{text}`")))
            };
            let key_ty = resolve(&key)?;
            let (value_ty, entry) = match value {
                Some(value) => {
                    let entry = (self.tuples.get(&format!("({key}, {value})")).copied())
                        .ok_or_else(|| {
                            error(
                                row,
                                col,
                                format!("no tuple type `({key}, {value})` is declared"),
                            )
                        })?;
                    (resolve(&value)?, Some(entry))
                }
                None => (Ty::Void, None),
            };
            self.program.maps.push(MapDef {
                key: key_ty,
                value: value_ty,
                entry,
            });
        }
        for (index, these) in fields.into_iter().enumerate() {
            let mut defs = Vec::with_capacity(these.len());
            for (name, ty, row, col) in these {
                let ty = self
                    .source_ty(&ty)
                    .ok_or_else(|| error(row, col, format!("unknown type `{ty}`")))?;
                defs.push(FieldDef { name, ty });
            }
            if self.program.structs[index].kind != StructKind::Enum {
                self.program.structs[index].fields = defs;
            }
        }
        Ok(())
    }

    /// The name and kind of a struct declared as `name`: a variant when it is `ENUM::VARIANT`
    /// with `ENUM` an enum declared before (the variant's tag is the number of variants of it
    /// declared so far), a plain struct otherwise.
    fn variant_of(&self, name: &str) -> std::result::Result<(String, StructKind), String> {
        let Some((enum_name, variant)) = name.rsplit_once("::") else {
            return Ok((name.to_string(), StructKind::Plain));
        };
        let structs = &self.program.structs;
        let of = structs
            .iter()
            .position(|s| s.kind == StructKind::Enum && s.name == enum_name)
            .ok_or_else(|| format!("no enum `{enum_name}` is declared before `{name}`"))?;
        let of = StructId(of as u32);
        let tag = structs
            .iter()
            .filter(|s| matches!(s.kind, StructKind::Variant { of: o, .. } if o == of))
            .count() as u32;
        Ok((variant.to_string(), StructKind::Variant { of, tag }))
    }

    /// Gives every `array#i` its element type. An element may name an array declared later,
    /// so the declarations are resolved in rounds until none is left.
    fn resolve_arrays(&mut self, elements: &[(String, usize, usize)]) -> Result<()> {
        let mut resolved: Vec<Option<Ty>> = vec![None; elements.len()];
        loop {
            let mut progress = false;
            for (index, (text, _, _)) in elements.iter().enumerate() {
                if resolved[index].is_none() {
                    self.program.arrays = resolved.iter().map(|t| t.unwrap_or(Ty::Void)).collect();
                    if let Some(ty) = self.source_ty_with(text, &resolved) {
                        resolved[index] = Some(ty);
                        progress = true;
                    }
                }
            }
            if !progress {
                break;
            }
        }
        if let Some(index) = resolved.iter().position(Option::is_none) {
            let (text, row, col) = &elements[index];
            return Err(error(*row, *col, format!("unknown type `{text}`")));
        }
        self.program.arrays = resolved.into_iter().flatten().collect();
        Ok(())
    }

    /// The type a Keel source type names, with the arrays resolved so far.
    fn source_ty_with(&self, text: &str, arrays: &[Option<Ty>]) -> Option<Ty> {
        if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            let elem = self.source_ty_with(inner, arrays)?;
            let index = arrays.iter().position(|a| *a == Some(elem))?;
            return Some(Ty::Array(ArrayId(index as u32)));
        }
        if text.starts_with('(') {
            return self.tuples.get(text).map(|&id| Ty::Struct(id));
        }
        if text.starts_with("map<") || text.starts_with("set<") {
            return self.maps.get(text).map(|&id| Ty::Map(id));
        }
        if text.starts_with("fn(") {
            let index = (self.program.structs.iter())
                .position(|s| s.kind == StructKind::FnType && s.name == text)?;
            return Some(Ty::Struct(StructId(index as u32)));
        }
        Some(match text {
            "int" => Ty::Int,
            "bool" => Ty::Bool,
            "float" => Ty::Float,
            "string" => Ty::Str,
            name => {
                let index = (self.program.structs.iter()).position(|s| {
                    s.name == name && !matches!(s.kind, StructKind::Variant { .. })
                })?;
                Ty::Struct(StructId(index as u32))
            }
        })
    }

    fn source_ty(&self, text: &str) -> Option<Ty> {
        let arrays: Vec<Option<Ty>> = self.program.arrays.iter().copied().map(Some).collect();
        self.source_ty_with(text, &arrays)
    }

    /// Finds every function's header first, so that calls may name functions printed later.
    fn function_names(&mut self) -> Result<()> {
        for &(row, text) in &self.lines[self.next..] {
            if !text.starts_with("fn#") {
                continue;
            }
            let mut line = Cursor::new(text, row);
            line.expect("fn#")?;
            let id = FuncId(line.index(self.functions.len(), "function")? as u32);
            if line.eat(" (entry)") {
                self.program.entry = id;
            }
            line.eat(" (closure)");
            line.expect(" ")?;
            let col = line.col();
            let name = line.function_name()?.to_string();
            if self.functions.insert(name.clone(), id).is_some() {
                return Err(line.error_at(col, &format!("a second function `{name}`")));
            }
        }
        Ok(())
    }

    fn functions(&mut self) -> Result<()> {
        while self.peek().is_some() {
            let function = self.function()?;
            self.program.functions.push(function);
        }
        if self.program.functions.is_empty() {
            return Err(error(self.end, 1, "expected a function `fn#0 ...`"));
        }
        Ok(())
    }

    /// `fn#i [(entry)] name(params) -> ty {`, `locals ...`, the blocks, `}`.
    fn function(&mut self) -> Result<Function> {
        let mut line = self.line("a function")?;
        line.expect("fn#")?;
        line.index(self.program.functions.len(), "function")?;
        let env = !line.eat(" (entry)") && line.eat(" (closure)");
        line.expect(" ")?;
        let name = line.function_name()?.to_string();
        line.expect("(")?;
        let mut locals = Vec::new();
        if !line.eat(")") {
            loop {
                locals.push(line.local_decl(locals.len())?);
                if line.eat(")") {
                    break;
                }
                line.expect(", ")?;
            }
        }
        let param_count = locals.len() as u32;
        line.expect(" -> ")?;
        let ret = line.short_type(true)?;
        line.expect(" {")?;
        line.end()?;
        if self.peek().is_some_and(|t| t.starts_with("  locals ")) {
            let mut line = self.line("locals")?;
            line.expect("  locals ")?;
            loop {
                locals.push(line.local_decl(locals.len())?);
                if line.at_end() {
                    break;
                }
                line.expect(", ")?;
            }
        }
        let mut function = Function {
            name,
            param_count,
            ret,
            locals,
            blocks: Vec::new(),
            env,
        };
        loop {
            let mut line = self.line("a block or `}`")?;
            if line.eat("}") {
                line.end()?;
                break;
            }
            function
                .blocks
                .push(self.block(&mut line, function.blocks.len())?);
        }
        Ok(function)
    }

    /// A block from its label line `line` to its terminator.
    fn block(&mut self, line: &mut Cursor, index: usize) -> Result<Block> {
        line.expect("b")?;
        line.index(index, "block")?;
        line.expect(":")?;
        let handler = if line.eat(" (faults to b") {
            let handler = line.number()?;
            line.expect(")")?;
            Some(BlockId(handler))
        } else {
            None
        };
        line.end()?;
        let mut insts = Vec::new();
        loop {
            let mut line = self.line("an instruction")?;
            line.expect("    ")?;
            if let Some(term) = self.terminator(&mut line)? {
                line.end()?;
                return Ok(Block {
                    insts,
                    term,
                    handler,
                });
            }
            insts.push(self.instruction(&mut line)?);
            line.end()?;
        }
    }

    fn terminator(&mut self, line: &mut Cursor) -> Result<Option<Term>> {
        let term = if line.eat("jump b") {
            Term::Jump(BlockId(line.number()?))
        } else if line.eat("branch ") {
            let cond = line.operand()?;
            line.expect(", b")?;
            let then_to = BlockId(line.number()?);
            line.expect(", b")?;
            let else_to = BlockId(line.number()?);
            Term::Branch {
                cond,
                then_to,
                else_to,
            }
        } else if line.eat("return ") {
            Term::Return(Some(line.operand()?))
        } else if line.rest() == "return" {
            line.expect("return")?;
            Term::Return(None)
        } else if line.eat("exit ") {
            Term::Exit(line.operand()?)
        } else if line.rest() == "unwind" {
            line.expect("unwind")?;
            Term::Unwind
        } else {
            return Ok(None);
        };
        Ok(Some(term))
    }

    fn instruction(&mut self, line: &mut Cursor) -> Result<Inst> {
        if line.rest().starts_with('%') {
            let dst = line.local()?;
            line.expect(" = ")?;
            return self.defining(line, dst);
        }
        let col = line.col();
        let word = line.word();
        Ok(match word {
            "call" => {
                let (func, args) = self.call(line)?;
                let site = self.optional_site(line)?;
                Inst::Call {
                    dst: None,
                    func,
                    args,
                    site,
                }
            }
            "call_indirect" => {
                let (known, args) = self.indirect_call(line)?;
                let site = self.site(line)?;
                Inst::CallIndirect {
                    dst: None,
                    args,
                    site,
                    known,
                }
            }
            "call_rt" => {
                let (func, args) = line.runtime_call()?;
                let site = self.runtime_site(line, func)?;
                Inst::CallRt {
                    dst: None,
                    func,
                    args,
                    site,
                }
            }
            "line" => Inst::Line {
                site: self.site(line)?,
            },
            "retain" => {
                line.expect(" ")?;
                Inst::Retain {
                    value: line.local()?,
                }
            }
            "release" => {
                line.expect(" ")?;
                Inst::Release {
                    value: line.local()?,
                }
            }
            "array_set" => {
                line.expect(" ")?;
                let array = line.local()?;
                line.expect("[")?;
                let index = line.operand()?;
                line.expect("] = ")?;
                let value = line.operand()?;
                let site = self.site(line)?;
                Inst::ArraySet {
                    array,
                    index,
                    value,
                    site,
                }
            }
            "field_set" => {
                line.expect(" ")?;
                let object = line.local()?;
                line.expect(".")?;
                let field = line.number()?;
                line.expect(" = ")?;
                let value = line.operand()?;
                Inst::FieldSet {
                    object,
                    field,
                    value,
                }
            }
            _ => match word.split_once('.') {
                Some((name, ty)) => {
                    let (stream, newline) = match name {
                        "print" => (Stream::Stdout, false),
                        "println" => (Stream::Stdout, true),
                        "eprint" => (Stream::Stderr, false),
                        "eprintln" => (Stream::Stderr, true),
                        _ => {
                            return Err(line.error_at(col, &format!("unknown instruction `{word}`")))
                        }
                    };
                    let ty = Cursor::new(ty, line.row)
                        .short_type(false)
                        .map_err(|mut e| {
                            e.col += col + name.len();
                            e
                        })?;
                    line.expect(" ")?;
                    Inst::Print {
                        value: line.operand()?,
                        ty,
                        newline,
                        stream,
                    }
                }
                None => return Err(line.error_at(col, &format!("unknown instruction `{word}`"))),
            },
        })
    }

    /// The right-hand side of `%dst = ...`.
    fn defining(&mut self, line: &mut Cursor, dst: Local) -> Result<Inst> {
        if line.starts_operand() {
            return Ok(Inst::Copy {
                dst,
                src: line.operand()?,
            });
        }
        let col = line.col();
        let word = line.word();
        if let Some(op) = binary_op(word) {
            line.expect(" ")?;
            let lhs = line.operand()?;
            line.expect(", ")?;
            let rhs = line.operand()?;
            let site = if op.can_fault() {
                self.site(line)?
            } else {
                self.no_site()
            };
            return Ok(Inst::Binary {
                dst,
                op,
                lhs,
                rhs,
                site,
            });
        }
        if let Some(op) = unary_op(word) {
            line.expect(" ")?;
            let src = line.operand()?;
            let site = if matches!(op, UnaryOp::NegInt | UnaryOp::FloatToInt) {
                self.site(line)?
            } else {
                self.no_site()
            };
            return Ok(Inst::Unary { dst, op, src, site });
        }
        Ok(match word {
            "call" => {
                let (func, args) = self.call(line)?;
                let site = self.optional_site(line)?;
                Inst::Call {
                    dst: Some(dst),
                    func,
                    args,
                    site,
                }
            }
            "call_indirect" => {
                let (known, args) = self.indirect_call(line)?;
                let site = self.site(line)?;
                Inst::CallIndirect {
                    dst: Some(dst),
                    args,
                    site,
                    known,
                }
            }
            "call_rt" => {
                let (func, args) = line.runtime_call()?;
                let site = self.runtime_site(line, func)?;
                Inst::CallRt {
                    dst: Some(dst),
                    func,
                    args,
                    site,
                }
            }
            "new_array" => {
                line.expect(" array#")?;
                let ty = ArrayId(line.number()?);
                line.expect(" [")?;
                let items = line.operands("]")?;
                Inst::NewArray { dst, ty, items }
            }
            "new_struct" => {
                line.expect(" struct#")?;
                let ty = StructId(line.number()?);
                line.expect(" {")?;
                let fields = line.operands("}")?;
                Inst::NewStruct { dst, ty, fields }
            }
            "array_len" => {
                line.expect(" ")?;
                Inst::ArrayLen {
                    dst,
                    array: line.operand()?,
                }
            }
            "array_get" => {
                line.expect(" ")?;
                let array = line.operand()?;
                line.expect("[")?;
                let index = line.operand()?;
                line.expect("]")?;
                let site = self.site(line)?;
                Inst::ArrayGet {
                    dst,
                    array,
                    index,
                    site,
                }
            }
            "array_take" => {
                line.expect(" ")?;
                let array = line.local()?;
                line.expect("[")?;
                let index = line.operand()?;
                line.expect("]")?;
                let site = self.site(line)?;
                Inst::ArrayTake {
                    dst,
                    array,
                    index,
                    site,
                }
            }
            "field_get" => {
                line.expect(" ")?;
                let object = line.operand()?;
                line.expect(".")?;
                Inst::FieldGet {
                    dst,
                    object,
                    field: line.number()?,
                }
            }
            "variant_field" => {
                line.expect(" ")?;
                let object = line.operand()?;
                line.expect(" as struct#")?;
                let variant = StructId(line.number()?);
                line.expect(".")?;
                Inst::VariantField {
                    dst,
                    object,
                    variant,
                    field: line.number()?,
                }
            }
            "field_take" => {
                line.expect(" ")?;
                let object = line.local()?;
                line.expect(".")?;
                Inst::FieldTake {
                    dst,
                    object,
                    field: line.number()?,
                }
            }
            _ => return Err(line.error_at(col, &format!("unknown instruction `{word}`"))),
        })
    }

    /// ` name(args)` of a Keel call.
    fn call(&mut self, line: &mut Cursor) -> Result<(FuncId, Vec<Operand>)> {
        line.expect(" ")?;
        let col = line.col();
        let name = line.function_name()?;
        let func = *self
            .functions
            .get(name)
            .ok_or_else(|| line.error_at(col, &format!("unknown function `{name}`")))?;
        line.expect("(")?;
        Ok((func, line.operands(")")?))
    }

    /// `(args)` or ` NAME(args)` of a `call_indirect`, with the known callee `NAME`.
    fn indirect_call(&mut self, line: &mut Cursor) -> Result<(Option<FuncId>, Vec<Operand>)> {
        if line.eat("(") {
            return Ok((None, line.operands(")")?));
        }
        let (func, args) = self.call(line)?;
        Ok((Some(func), args))
    }

    /// ` @line:col`: the site, made on first use.
    fn site(&mut self, line: &mut Cursor) -> Result<SiteId> {
        if !line.eat(" @") {
            return Err(line.error(&format!(
                "expected the site ` @line:col`, found {}",
                line.found()
            )));
        }
        let at = line.number()?;
        line.expect(":")?;
        let col = line.number()?;
        Ok(self.site_at(at, col))
    }

    /// A site the text may leave out (a call's).
    fn optional_site(&mut self, line: &mut Cursor) -> Result<SiteId> {
        if line.rest().starts_with(" @") {
            self.site(line)
        } else {
            Ok(self.no_site())
        }
    }

    /// The site of a runtime call: shown when the function takes one.
    fn runtime_site(&mut self, line: &mut Cursor, func: RtFunc) -> Result<SiteId> {
        if func.sig().takes_site {
            self.site(line)
        } else {
            Ok(self.no_site())
        }
    }

    /// The site of instructions the text shows none for.
    fn no_site(&mut self) -> SiteId {
        self.site_at(0, 0)
    }

    fn site_at(&mut self, line: u32, col: u32) -> SiteId {
        let sites = &mut self.program.sites;
        let file = &self.file;
        *self.sites.entry((line, col)).or_insert_with(|| {
            sites.push(Site {
                file: file.clone(),
                line,
                col,
            });
            SiteId(sites.len() as u32 - 1)
        })
    }
}

fn error(line: usize, col: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        line,
        col,
        message: message.into(),
    }
}

fn binary_op(name: &str) -> Option<BinaryOp> {
    use BinaryOp::*;
    Some(match name {
        "add.int" => AddInt,
        "sub.int" => SubInt,
        "mul.int" => MulInt,
        "div.int" => DivInt,
        "rem.int" => RemInt,
        "shl" => Shl,
        "shr" => Shr,
        "and" => BitAnd,
        "or" => BitOr,
        "xor" => BitXor,
        "eq.int" => EqInt,
        "ne.int" => NeInt,
        "lt.int" => LtInt,
        "le.int" => LeInt,
        "gt.int" => GtInt,
        "ge.int" => GeInt,
        "eq.bool" => EqBool,
        "ne.bool" => NeBool,
        "add.float" => AddFloat,
        "sub.float" => SubFloat,
        "mul.float" => MulFloat,
        "div.float" => DivFloat,
        "eq.float" => EqFloat,
        "ne.float" => NeFloat,
        "lt.float" => LtFloat,
        "le.float" => LeFloat,
        "gt.float" => GtFloat,
        "ge.float" => GeFloat,
        _ => return None,
    })
}

fn unary_op(name: &str) -> Option<UnaryOp> {
    Some(match name {
        "neg.int" => UnaryOp::NegInt,
        "not" => UnaryOp::Not,
        "neg.float" => UnaryOp::NegFloat,
        "int_to_float" => UnaryOp::IntToFloat,
        "float_to_int" => UnaryOp::FloatToInt,
        _ => return None,
    })
}

/// One line being read: its text, its number and the byte position reached.
struct Cursor<'a> {
    text: &'a str,
    /// The 1-based line number.
    row: usize,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str, row: usize) -> Cursor<'a> {
        Cursor { text, row, pos: 0 }
    }

    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn at_end(&self) -> bool {
        self.pos == self.text.len()
    }

    /// The 1-based column (in characters) of the position reached.
    fn col(&self) -> usize {
        self.text[..self.pos].chars().count() + 1
    }

    fn error(&self, message: &str) -> ParseError {
        self.error_at(self.col(), message)
    }

    fn error_at(&self, col: usize, message: &str) -> ParseError {
        error(self.row, col, message)
    }

    fn found(&self) -> String {
        match self.rest().chars().next() {
            None => "the end of the line".to_string(),
            Some(_) => {
                let shown: String = self.rest().chars().take(12).collect();
                format!("`{shown}`")
            }
        }
    }

    /// Takes `token` if the line continues with it.
    fn eat(&mut self, token: &str) -> bool {
        if self.rest().starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: &str) -> Result<()> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(self.error(&format!("expected `{token}`, found {}", self.found())))
        }
    }

    fn end(&self) -> Result<()> {
        if self.at_end() {
            Ok(())
        } else {
            Err(self.error(&format!(
                "expected the end of the line, found {}",
                self.found()
            )))
        }
    }

    /// The text up to (not including) `stop`, which must follow on this line.
    /// A function's name, up to the `(` of its parameters: an instance's type arguments may hold
    /// parentheses of their own (`pick<(int, int)>`, `apply<fn(int) -> int>`).
    fn function_name(&mut self) -> Result<&'a str> {
        let rest = self.rest();
        let (mut depth, mut previous) = (0usize, ' ');
        for (index, c) in rest.char_indices() {
            match c {
                '<' => depth += 1,
                '>' if previous != '-' => depth = depth.saturating_sub(1),
                '(' if depth == 0 && index > 0 => {
                    self.pos += index;
                    return Ok(&rest[..index]);
                }
                _ => {}
            }
            previous = c;
        }
        Err(self.error("expected a name followed by `(`"))
    }

    fn until(&mut self, stop: &str) -> Result<&'a str> {
        match self.rest().find(stop) {
            Some(len) if len > 0 => {
                let taken = &self.rest()[..len];
                self.pos += len;
                Ok(taken)
            }
            _ => Err(self.error(&format!("expected a name followed by `{stop}`"))),
        }
    }

    /// A run of letters, digits, `_` and `.` (an instruction's name).
    fn word(&mut self) -> &'a str {
        let len = self
            .rest()
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '#'))
            .unwrap_or(self.rest().len());
        let taken = &self.rest()[..len];
        self.pos += len;
        taken
    }

    fn number(&mut self) -> Result<u32> {
        let len = self
            .rest()
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(self.rest().len());
        let digits = &self.rest()[..len];
        let value = digits
            .parse()
            .map_err(|_| self.error(&format!("expected a number, found {}", self.found())))?;
        self.pos += len;
        Ok(value)
    }

    /// A declaration's number, which must be `expected` (the printer numbers them in order).
    fn index(&mut self, expected: usize, what: &str) -> Result<usize> {
        let col = self.col();
        let index = self.number()? as usize;
        if index != expected {
            return Err(self.error_at(
                col,
                &format!("expected {what} number {expected}, found {index}"),
            ));
        }
        Ok(index)
    }

    fn local(&mut self) -> Result<Local> {
        self.expect("%")?;
        Ok(Local(self.number()?))
    }

    /// `%n: ty` or `%n:name: ty`, which must declare local `expected`.
    fn local_decl(&mut self, expected: usize) -> Result<LocalInfo> {
        self.expect("%")?;
        self.index(expected, "local")?;
        self.expect(":")?;
        let name = if self.eat(" ") {
            None
        } else {
            let name = self.until(": ")?.to_string();
            self.expect(": ")?;
            Some(name)
        };
        let ty = self.short_type(false)?;
        Ok(LocalInfo { ty, name })
    }

    /// A type as `emit ir` writes it in signatures: `int`, `array#3`, `struct#0` (`void` only
    /// when `void_allowed`).
    fn short_type(&mut self, void_allowed: bool) -> Result<Ty> {
        let col = self.col();
        let ty = if self.eat("array#") {
            Ty::Array(ArrayId(self.number()?))
        } else if self.eat("struct#") {
            Ty::Struct(StructId(self.number()?))
        } else if self.eat("map#") {
            Ty::Map(MapId(self.number()?))
        } else {
            match self.word() {
                "int" => Ty::Int,
                "bool" => Ty::Bool,
                "float" => Ty::Float,
                "string" => Ty::Str,
                "void" if void_allowed => Ty::Void,
                other => {
                    return Err(self.error_at(col, &format!("expected a type, found `{other}`")))
                }
            }
        };
        Ok(ty)
    }

    /// A type as Keel source writes it (`[[int]]`, `Point`), as text.
    /// A type as Keel source writes it: `int`, `Point`, `[T]`, `(T, U)`; nested at most
    /// [`MAX_TYPE_DEPTH`] deep.
    fn source_type(&mut self) -> Result<&'a str> {
        let start = self.pos;
        self.skip_source_type(0)?;
        Ok(&self.text[start..self.pos])
    }

    fn skip_source_type(&mut self, depth: usize) -> Result<()> {
        if depth > MAX_TYPE_DEPTH {
            return Err(self.error("type nested too deeply"));
        }
        if self.eat("[") {
            self.skip_source_type(depth + 1)?;
            return self.expect("]");
        }
        if self.eat("(") {
            loop {
                self.skip_source_type(depth + 1)?;
                if self.eat(")") {
                    return Ok(());
                }
                self.expect(", ")?;
            }
        }
        // A function type: `fn(int, string) -> bool`, `fn()`.
        if self.eat("fn(") {
            if !self.eat(")") {
                loop {
                    self.skip_source_type(depth + 1)?;
                    if self.eat(")") {
                        break;
                    }
                    self.expect(", ")?;
                }
            }
            if self.eat(" -> ") {
                self.skip_source_type(depth + 1)?;
            }
            return Ok(());
        }
        if self.word().is_empty() {
            return Err(self.error(&format!("expected a type, found {}", self.found())));
        }
        // The type arguments of a generic type's instance: `Option<int>`, `Pair<int, [string]>`.
        if self.eat("<") {
            loop {
                self.skip_source_type(depth + 1)?;
                if self.eat(">") {
                    return Ok(());
                }
                self.expect(", ")?;
            }
        }
        Ok(())
    }

    /// Whether an operand (rather than an instruction's name) comes next.
    fn starts_operand(&self) -> bool {
        let rest = self.rest();
        rest.starts_with(['%', '-'])
            || rest.starts_with(|c: char| c.is_ascii_digit())
            || ["true", "false", "str#", "desc(", "NaN", "inf"]
                .iter()
                .any(|word| rest.starts_with(word))
    }

    fn operand(&mut self) -> Result<Operand> {
        let col = self.col();
        if self.rest().starts_with('%') {
            return Ok(Operand::Local(self.local()?));
        }
        if self.eat("str#") {
            return Ok(Operand::Str(StrId(self.number()?)));
        }
        if self.eat("desc(") {
            let ty = self.short_type(false)?;
            self.expect(")")?;
            return Ok(Operand::Desc(ty));
        }
        let len = self
            .rest()
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.')))
            .unwrap_or(self.rest().len());
        let token = &self.rest()[..len];
        let operand = match token {
            "true" => Operand::Bool(true),
            "false" => Operand::Bool(false),
            _ if token.contains(['.', 'e', 'N', 'i']) => match token.parse::<f64>() {
                Ok(value) => Operand::Float(value.to_bits()),
                Err(_) => {
                    return Err(self.error_at(col, &format!("expected an operand, found `{token}`")))
                }
            },
            _ => match token.parse::<i64>() {
                Ok(value) => Operand::Int(value),
                Err(_) => {
                    return Err(self.error_at(col, &format!("expected an operand, found `{token}`")))
                }
            },
        };
        self.pos += len;
        Ok(operand)
    }

    /// Operands separated by `, ` up to `close`.
    fn operands(&mut self, close: &str) -> Result<Vec<Operand>> {
        let mut operands = Vec::new();
        if self.eat(close) {
            return Ok(operands);
        }
        loop {
            operands.push(self.operand()?);
            if self.eat(close) {
                return Ok(operands);
            }
            self.expect(", ")?;
        }
    }

    /// ` symbol(args)` of a runtime call.
    fn runtime_call(&mut self) -> Result<(RtFunc, Vec<Operand>)> {
        self.expect(" ")?;
        let col = self.col();
        let symbol = self.until("(")?;
        let func = RtFunc::ALL
            .iter()
            .copied()
            .find(|f| f.sig().symbol == symbol)
            .ok_or_else(|| self.error_at(col, &format!("unknown runtime function `{symbol}`")))?;
        self.expect("(")?;
        Ok((func, self.operands(")")?))
    }

    /// A string literal as Rust's `{:?}` writes it, unescaped.
    fn string_literal(&mut self) -> Result<String> {
        self.expect("\"")?;
        let mut text = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((offset, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += offset + 1;
                    return Ok(text);
                }
                '\\' => {
                    let escape_col = self.col() + self.rest()[..offset].chars().count();
                    let bad = |cursor: &Cursor| cursor.error_at(escape_col, "unknown escape");
                    match chars.next().map(|(_, c)| c) {
                        Some('n') => text.push('\n'),
                        Some('r') => text.push('\r'),
                        Some('t') => text.push('\t'),
                        Some('0') => text.push('\0'),
                        Some('\\') => text.push('\\'),
                        Some('"') => text.push('"'),
                        Some('\'') => text.push('\''),
                        Some('u') => {
                            if chars.next().map(|(_, c)| c) != Some('{') {
                                return Err(bad(self));
                            }
                            let mut hex = String::new();
                            loop {
                                match chars.next().map(|(_, c)| c) {
                                    Some('}') => break,
                                    Some(h) if h.is_ascii_hexdigit() && hex.len() < 6 => {
                                        hex.push(h)
                                    }
                                    _ => return Err(bad(self)),
                                }
                            }
                            let scalar = u32::from_str_radix(&hex, 16)
                                .ok()
                                .and_then(char::from_u32)
                                .ok_or_else(|| bad(self))?;
                            text.push(scalar);
                        }
                        _ => return Err(bad(self)),
                    }
                }
                c => text.push(c),
            }
        }
        Err(self.error("unterminated string literal"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::print::program_to_string;

    fn round_trip(text: &str) {
        let program = parse(text, "t.kir").unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(program_to_string(&program), text);
    }

    #[test]
    fn a_program_with_every_kind_of_declaration_round_trips() {
        round_trip(concat!(
            "struct#0 Point { x: int, tags: [string], next: [Point] }\n",
            "array#0 = [string]\n",
            "array#1 = [Point]\n",
            "str#0 = \"a \\\"q\\\" \\\\ \\n\\t\\r\\0 \\u{7f} é\"\n",
            "\n",
            "fn#0 (entry) <main>() -> void {\n",
            "  locals %0:p: struct#0, %1: array#0, %2: int, %3: float, %4: bool\n",
            "b0:\n",
            "    %1 = new_array array#0 [str#0]\n",
            "    %0 = new_struct struct#0 {1, %1, %1}\n",
            "    %2 = field_get %0.0\n",
            "    %2 = add.int %2, -7 @3:9\n",
            "    %3 = 1e300\n",
            "    %3 = mul.float %3, -0.0\n",
            "    %4 = lt.float %3, NaN\n",
            "    %4 = not %4\n",
            "    println.struct#0 %0\n",
            "    branch %4, b1, b2\n",
            "b1: (faults to b2)\n",
            "    %2 = call f(%2, 3) @4:1\n",
            "    %1 = call_rt keel_str_substring(str#0, 0, %2) @5:2\n",
            "    call_rt keel_str_len(str#0)\n",
            "    unwind\n",
            "b2:\n",
            "    release %0\n",
            "    return\n",
            "}\n",
            "\n",
            "fn#1 f(%0:n: int, %1: int) -> int {\n",
            "b0:\n",
            "    return %0\n",
            "}\n",
        ));
    }

    #[test]
    fn an_empty_struct_and_comments_round_trip() {
        round_trip("struct#0 Unit {  }\n\nfn#0 (entry) <main>() -> void {\nb0:\n    return\n}\n");
        let commented =
            "// a comment\nfn#0 (entry) <main>() -> void {\n    // inside\nb0:\n\n    return\n}\n";
        let program = parse(commented, "t.kir").expect("parses");
        assert_eq!(
            program_to_string(&program),
            "fn#0 (entry) <main>() -> void {\nb0:\n    return\n}\n"
        );
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let text = "fn#0 (entry) <main>() -> void {\nb0:\n    %0 = frobnicate 1\n    return\n}\n";
        let error = parse(text, "t.kir").unwrap_err();
        assert_eq!(
            (error.line, error.col, error.message.as_str()),
            (3, 10, "unknown instruction `frobnicate`")
        );
        let error = parse(
            "fn#0 f() -> void {\nb0:\n    call g()\n    return\n}\n",
            "t.kir",
        )
        .unwrap_err();
        assert_eq!(error.to_string(), "3:10: unknown function `g`");
        let error = parse("fn#0 f() -> void {\nb0:\n", "t.kir").unwrap_err();
        assert_eq!(
            error.to_string(),
            "3:1: expected an instruction, found the end of the text"
        );
        let error = parse("fn#1 f() -> void {\n", "t.kir").unwrap_err();
        assert_eq!(
            error.to_string(),
            "1:4: expected function number 0, found 1"
        );
    }
}
