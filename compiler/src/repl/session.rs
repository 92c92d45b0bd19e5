//! A REPL session's state, and how one entry becomes a program.
//!
//! Every entry is compiled as a program of its own, made of:
//! - the definitions (`fn`, `struct`, `enum`, `impl`, `trait`, `type`, `const`) of the entries
//!   before it, as they were parsed (their spans still point into their entries, so a fault or a
//!   diagnostic inside one names `<repl:N>`, the entry it came from);
//! - the session's own code (a file of its own in the source map, the only code that may call
//!   `__session_get` and `__session_set`): a `let` for each variable kept from earlier entries,
//!   read from its slot in `keel_runtime::session`;
//! - the entry itself, parsed as a file named `<repl:N>`;
//! - the session's code again: every top-level variable written back to its slot.
//!
//! An entry that ends in an expression without `;` shows its value: the expression is kept in
//! slot [`SHOW_SLOT`] and printed with its type after the run (`3 : int`). A definition with the
//! name of an earlier one replaces it (a struct, enum, alias or trait by its name, a function or
//! constant by its name, an `impl` block by its type, trait and method names); variables of a
//! replaced type are dropped, as their values have the old layout. A variable holding a
//! function value is not kept: on the VM a function value is the number of a function of its
//! entry's program, which means nothing to the next one.
//!
//! Nothing of an entry becomes part of the session until [`Session::commit`]: an entry that
//! does not compile, or faults, leaves the session as it was.
//!
//! What this module does not do: read input, fork, or print (see `repl` and `isolate`).

use crate::diag::{SourceFile, SourceMap, Span};
use crate::syntax::ast::{Expr, ExprKind, File, Ident, Item, StmtKind, TypeExpr};
use crate::{ir, jit, sema, syntax, vm};

/// The slot an entry's shown value is kept in until it is printed.
pub const SHOW_SLOT: u32 = 0;

/// Where an entry runs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    Jit,
    Vm,
}

/// What a session remembers between entries.
pub struct Session {
    backend: Backend,
    options: sema::Options,
    /// Every entry's text and session code, placed in one span space.
    sources: SourceMap,
    definitions: Vec<Definition>,
    variables: Vec<Variable>,
    next_slot: u32,
    /// How many entries were read (each names its file `<repl:N>`).
    entries: u32,
    /// The compiled code of every entry that ran: the values kept in slots point to its type
    /// descriptors and static objects, so it lives as long as the session.
    kept_code: Vec<Code>,
    /// The last entry run (or kept without a run), for `:ir` and `:bytecode` without an
    /// argument.
    pub last_program: Option<ir::Program>,
}

/// One definition kept from an earlier entry.
struct Definition {
    key: DefinitionKey,
    item: Item,
}

/// What a definition defines, to tell when a later one replaces it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum DefinitionKey {
    /// A function or a constant.
    Value(String),
    /// A struct, enum, type alias or trait.
    Type(String),
    Impl {
        target: String,
        trait_name: Option<String>,
        methods: Vec<String>,
    },
}

impl DefinitionKey {
    fn of(item: &Item) -> Option<DefinitionKey> {
        Some(match item {
            Item::Fn(decl) => DefinitionKey::Value(decl.name.name.clone()),
            Item::Const(decl) => DefinitionKey::Value(decl.name.name.clone()),
            Item::Struct(decl) => DefinitionKey::Type(decl.name.name.clone()),
            Item::Enum(decl) => DefinitionKey::Type(decl.name.name.clone()),
            Item::TypeAlias(decl) => DefinitionKey::Type(decl.name.name.clone()),
            Item::Trait(decl) => DefinitionKey::Type(decl.name.name.clone()),
            Item::Impl(decl) => DefinitionKey::Impl {
                target: match &decl.target {
                    TypeExpr::Named(name) | TypeExpr::Applied { name, .. } => name.name.clone(),
                    _ => String::new(),
                },
                trait_name: decl.trait_name.as_ref().map(|name| name.name.clone()),
                methods: decl.methods.iter().map(|m| m.name.name.clone()).collect(),
            },
            Item::Stmt(_) => return None,
        })
    }

    /// Whether a definition of `self` replaces one of `old`.
    fn replaces(&self, old: &DefinitionKey) -> bool {
        match (self, old) {
            (
                DefinitionKey::Impl {
                    target,
                    trait_name,
                    methods,
                },
                DefinitionKey::Impl {
                    target: old_target,
                    trait_name: old_trait,
                    methods: old_methods,
                },
            ) => {
                target == old_target
                    && trait_name == old_trait
                    && (trait_name.is_some() || methods.iter().any(|m| old_methods.contains(m)))
            }
            _ => self == old,
        }
    }
}

/// A variable kept from earlier entries.
#[derive(Clone, Debug)]
struct Variable {
    name: String,
    slot: u32,
    /// Its type as Keel writes it.
    ty: String,
}

/// The compiled code of an entry.
pub enum Code {
    Jit(jit::JitProgram),
    Vm(vm::Module),
}

impl Code {
    /// Runs the entry's program on this thread (the JIT's on a thread with its stack).
    pub fn run(&self) {
        match self {
            Code::Jit(program) => {
                program.run(Vec::new());
            }
            Code::Vm(module) => {
                vm::run_module(module, Vec::new());
            }
        }
    }
}

/// An entry compiled in a session, not yet part of it.
pub struct Entry {
    pub program: ir::Program,
    /// Its warnings, rendered (empty when it has none).
    pub warnings: String,
    /// Whether it has statements to run (an entry of definitions alone needs no run).
    pub runs: bool,
    /// The type of the value it shows, if it ends in an expression that has one.
    pub shows: Option<String>,
    /// Whether it ends in an expression (shown, or `void`).
    pub is_expression: bool,
    definitions: Vec<Definition>,
    /// The variables of the session after the entry (slot and type, as it kept them).
    variables: Vec<Variable>,
    /// Variables of the session the entry drops, with why.
    dropped: Vec<(Variable, String)>,
    /// Why each of its top-level variables that is not kept is not.
    not_kept: Vec<String>,
}

impl Session {
    pub fn new(backend: Backend, options: sema::Options) -> Session {
        Session {
            backend,
            options,
            sources: SourceMap::new(SourceFile::new("<repl>", "")),
            definitions: Vec::new(),
            variables: Vec::new(),
            next_slot: SHOW_SLOT + 1,
            entries: 0,
            kept_code: Vec::new(),
            last_program: None,
        }
    }

    /// Compiles `text` as the session's next entry: the entry, or its diagnostics rendered.
    pub fn prepare(&mut self, text: &str, color: bool) -> Result<Entry, String> {
        self.entries += 1;
        let name = format!("<repl:{}>", self.entries);
        let mut stored = text.to_string();
        if !stored.ends_with('\n') {
            stored.push('\n');
        }
        let (index, base) = self.place(SourceFile::new(name, stored.clone()))?;

        // An entry may end without the `;` of its last statement; if it ends in an expression,
        // its value is shown.
        let mut diags = Vec::new();
        let mut file = syntax::parse_source_at(&stored, base, &mut diags);
        let mut ends_in_expression = false;
        if syntax::only_final_semicolon_missing(&diags, &stored, base) {
            let mut again = Vec::new();
            let completed = syntax::parse_source_at(&format!("{stored};"), base, &mut again);
            if again.is_empty() {
                ends_in_expression = matches!(
                    completed.items.last(),
                    Some(Item::Stmt(stmt)) if matches!(stmt.kind, StmtKind::Expr(_))
                );
                file = completed;
                diags = again;
            }
        }
        // `use "lib.kl";` reads the file (again, if an earlier entry did: it may have changed)
        // relative to the current directory; its definitions become the entry's.
        if !file.uses.is_empty() && diags.is_empty() {
            let (main, imports) =
                crate::driver::loader::load_imports(&mut self.sources, index, file, &mut diags);
            let mut files = vec![main];
            if imports.complete {
                files.extend(imports.files);
            }
            file = syntax::imports::join(files, &mut diags);
        }
        if !diags.is_empty() {
            return Err(crate::diag::render_without_summary(
                &self.sources,
                &diags,
                color,
            ));
        }

        let definitions: Vec<Definition> = (file.items.iter())
            .filter_map(|item| {
                DefinitionKey::of(item).map(|key| Definition {
                    key,
                    item: item.clone(),
                })
            })
            .collect();
        let runs = file.items.iter().any(|item| matches!(item, Item::Stmt(_)));
        let redefined_types: Vec<&str> = (definitions.iter())
            .filter_map(|def| match &def.key {
                DefinitionKey::Type(name)
                    if self.definitions.iter().any(|old| old.key == def.key) =>
                {
                    Some(name.as_str())
                }
                _ => None,
            })
            .collect();
        let (read, dropped): (Vec<Variable>, Vec<Variable>) = (self.variables.iter().cloned())
            .partition(|var| !redefined_types.iter().any(|ty| mentions(&var.ty, ty)));
        let dropped = dropped
            .into_iter()
            .map(|var| {
                let why = format!(
                    "`{}` is dropped: its type `{}` was redefined",
                    var.name, var.ty
                );
                (var, why)
            })
            .collect();

        // The variables the entry writes back: the ones it read, then its own top-level ones.
        let mut written: Vec<(String, u32)> = read
            .iter()
            .map(|var| (var.name.clone(), var.slot))
            .collect();
        for item in &file.items {
            if let Item::Stmt(stmt) = item {
                if let StmtKind::Let { pattern, .. } = &stmt.kind {
                    for name in pattern.names() {
                        if !written.iter().any(|(known, _)| *known == name.name) {
                            let slot = (self.variables.iter())
                                .find(|var| var.name == name.name)
                                .map(|var| var.slot)
                                .unwrap_or_else(|| {
                                    self.next_slot += 1;
                                    self.next_slot - 1
                                });
                            written.push((name.name.clone(), slot));
                        }
                    }
                }
            }
        }
        let mut code = String::new();
        for var in &read {
            code.push_str(&format!(
                "let {}: {} = __session_get({});\n",
                var.name, var.ty, var.slot
            ));
        }
        let prologue_len = read.len();
        for (name, slot) in &written {
            code.push_str(&format!("__session_set({slot}, {name});\n"));
        }
        let (_, code_base) = self.place(SourceFile::new("<session>", code.clone()))?;
        let code_span = Span::new(code_base as usize, code_base as usize + code.len());
        let mut code_diags = Vec::new();
        let mut code_items = syntax::parse_source_at(&code, code_base, &mut code_diags).items;
        let epilogue = code_items.split_off(prologue_len.min(code_items.len()));

        let mut entry_items = file.items;
        if ends_in_expression {
            if let Some(Item::Stmt(stmt)) = entry_items.last_mut() {
                if let StmtKind::Expr(expr) = &mut stmt.kind {
                    let shown = std::mem::replace(expr, placeholder(code_span));
                    *expr = show_call(shown, Span::new(code_base as usize, code_base as usize));
                }
            }
        }
        let replaced = |old: &Definition| definitions.iter().any(|new| new.key.replaces(&old.key));
        let items: Vec<Item> = (self.definitions.iter())
            .filter(|old| !replaced(old))
            .map(|old| old.item.clone())
            .chain(code_items)
            .chain(entry_items)
            .chain(epilogue)
            .collect();
        let program = File {
            items,
            uses: Vec::new(),
        };
        let options = self.options;
        let sources = &self.sources;
        let compiled = sema::on_front_end_thread(|| {
            sema::compile_full(
                sources,
                program.clone(),
                code_diags.clone(),
                options,
                Some(code_span),
            )
        });
        let sema::Compiled {
            program,
            warnings,
            session: kept,
        } = compiled
            .map_err(|diags| crate::diag::render_without_summary(&self.sources, &diags, color))?;
        let warnings = crate::diag::render_without_summary(&self.sources, &warnings, color);

        let mut shows = None;
        let mut variables = Vec::new();
        let mut not_kept = Vec::new();
        for record in kept {
            if record.slot == SHOW_SLOT {
                shows = record.ty;
                continue;
            }
            let Some((name, _)) = written.iter().find(|(_, slot)| *slot == record.slot) else {
                continue;
            };
            match (record.ty, record.holds_function) {
                (Some(ty), false) => variables.push(Variable {
                    name: name.clone(),
                    slot: record.slot,
                    ty,
                }),
                (Some(ty), true) => not_kept.push(format!(
                    "`{name}` is not kept for the next entries: its type `{ty}` holds a \
                     function value, which lives only as long as its entry (declare a `fn` \
                     instead)"
                )),
                (None, _) => {}
            }
        }
        Ok(Entry {
            program,
            warnings,
            runs,
            shows,
            is_expression: ends_in_expression,
            definitions,
            variables,
            dropped,
            not_kept,
        })
    }

    /// Compiles an entry's IR for the session's backend.
    pub fn compile(&self, program: &ir::Program) -> Result<Code, String> {
        Ok(match self.backend {
            Backend::Jit => {
                Code::Jit(jit::JitProgram::compile(program).map_err(|e| e.to_string())?)
            }
            Backend::Vm => Code::Vm(vm::compile(program)),
        })
    }

    /// Makes `entry`, which ran to its end (or needed no run), part of the session; returns
    /// notes on what it did not keep.
    pub fn commit(&mut self, entry: Entry, code: Option<Code>) -> Vec<String> {
        let mut notes = Vec::new();
        for (var, why) in entry.dropped {
            // SAFETY: the slot's value is live (the slot owns it) and its code is kept.
            unsafe { keel_runtime::session::clear(var.slot as usize) };
            notes.push(why);
        }
        let defined = entry.definitions;
        self.definitions
            .retain(|old| !defined.iter().any(|new| new.key.replaces(&old.key)));
        self.definitions.extend(defined);
        if entry.runs {
            for var in &self.variables {
                if !entry.variables.iter().any(|kept| kept.name == var.name) {
                    // Shadowed by a value that is not kept.
                    // SAFETY: as above.
                    unsafe { keel_runtime::session::clear(var.slot as usize) };
                }
            }
            self.variables = entry.variables;
            notes.extend(entry.not_kept);
        } else {
            self.variables
                .retain(|var| entry.variables.iter().any(|kept| kept.name == var.name));
        }
        self.kept_code.extend(code);
        notes
    }

    /// The text of the value the entry just showed, and empties its slot.
    pub fn take_shown(&mut self) -> Option<String> {
        // SAFETY: the show slot holds a value of the entry that just ran, whose code is kept.
        unsafe {
            let text = keel_runtime::session::text_of(SHOW_SLOT as usize);
            keel_runtime::session::clear(SHOW_SLOT as usize);
            text
        }
    }

    /// Places `file` in the session's span space: its index and base.
    fn place(&mut self, file: SourceFile) -> Result<(usize, u32), String> {
        self.sources
            .add(file)
            .map(|placed| (placed.index, placed.base))
            .map_err(|_| "error: the session has no room for more entries; start a new one".into())
    }
}

/// Whether the written type `ty` names the type `name`.
fn mentions(ty: &str, name: &str) -> bool {
    ty.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|word| word == name)
}

/// `__session_set(SHOW_SLOT, shown)`, the call's name at `at` (in the session's code).
fn show_call(shown: Expr, at: Span) -> Expr {
    let span = shown.span;
    let height = shown.height + 1;
    let slot = Expr {
        kind: ExprKind::Int(i64::from(SHOW_SLOT)),
        span: at,
        height: 1,
    };
    Expr {
        kind: ExprKind::Call {
            callee: Ident {
                name: "__session_set".into(),
                span: at,
            },
            args: vec![slot, shown],
        },
        span,
        height,
    }
}

/// An expression to stand somewhere for a moment.
fn placeholder(span: Span) -> Expr {
    Expr {
        kind: ExprKind::Int(0),
        span,
        height: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_mentioned_by_whole_names() {
        assert!(mentions("Point", "Point"));
        assert!(mentions("[map<string, Point>]", "Point"));
        assert!(!mentions("Points", "Point"));
        assert!(!mentions("[int]", "Point"));
    }
}
