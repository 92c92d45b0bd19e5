//! Keel as a library: compile a program or an expression once, run it as often as you like on
//! the bytecode VM or the JIT, and get an expression's value back as a Rust [`Value`].
//!
//! ```
//! use keel::embed::{Engine, Value};
//!
//! let engine = Engine::new();
//! assert_eq!(engine.eval("(2 * 3) + ((4 * 5) - (10 / 2))")?, Value::Int(21));
//!
//! let squares = engine.compile_expression("map([1, 2, 3], fn(int x) -> int { return x * x; })")?;
//! let expected = Value::Array(vec![Value::Int(1), Value::Int(4), Value::Int(9)]);
//! assert_eq!(squares.eval_vm(), expected);
//! assert_eq!(squares.eval_jit()?, expected);
//! # Ok::<(), keel::embed::Error>(())
//! ```
//!
//! A whole program runs as `keel run` runs it, printing to this process's standard output:
//!
//! ```
//! let program = keel::embed::Engine::new().compile("println(6 * 7);")?;
//! assert_eq!(program.run_vm(), 0);
//! assert_eq!(program.run_jit()?, 0);
//! # Ok::<(), keel::embed::Error>(())
//! ```
//!
//! An [`Engine`] holds only its options: nothing is registered globally, and engines, programs
//! and expressions may be used from any thread (one run at a time per thread: output buffers
//! and `static let` slots are per thread, as for every Keel program). Nothing here starts a
//! thread for a run; a source of more than [`INLINE_SOURCE_BYTES`] bytes is compiled on a
//! thread with the front end's large stack (`sema::FRONT_END_STACK`), since checking recurses
//! once per level of nesting.
//!
//! What this module does not do: contain faults. A Keel fault or `exit(n)` ends the process,
//! as it ends a `keel run`, on every backend (`keel repl` isolates entries in child processes
//! for that reason; see `repl::isolate`).

use std::fmt;
use std::sync::OnceLock;

use crate::diag::{Diagnostic, SourceFile, SourceMap};
use crate::ir::{self, FuncId, StructKind, Ty};
use crate::syntax::ast::{Item, StmtKind};
use crate::{jit, sema, syntax, vm};

/// Sources up to this many bytes are compiled on the calling thread: they cannot nest deeper
/// than this many levels, which any thread's stack holds.
pub const INLINE_SOURCE_BYTES: usize = 256;

/// The name the expression's function has in its program.
const VALUE_FUNCTION: &str = "value_of_expression";

/// Compiles Keel source with a set of options.
#[derive(Clone, Debug, Default)]
pub struct Engine {
    options: sema::Options,
}

/// Why a source does not compile: its diagnostics, rendered as `keel` prints them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    message: String,
}

impl Error {
    fn new(message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message.trim_end())
    }
}

impl std::error::Error for Error {}

/// A value of a Keel expression, in Rust terms.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    Array(Vec<Value>),
    Tuple(Vec<Value>),
    /// A struct: its name (without type arguments) and its fields in declaration order.
    Struct {
        name: String,
        fields: Vec<(String, Value)>,
    },
    /// An enum value (`Some(1)`, `Shape::Circle(2.0)`): its variant's name and payload.
    Variant {
        name: String,
        payload: Vec<Value>,
    },
    /// A map's entries, or a set's items (each with [`Value::Void`] as its value), in ascending
    /// key order.
    Map(Vec<(Value, Value)>),
    /// A function value, by the name Keel prints it with (`<closure>`, `<fn twice>`).
    Function(String),
    /// The value of an expression of type `void`.
    Void,
}

/// A compiled program, ready to run on the VM (its bytecode is made once) or the JIT (its
/// machine code is made on the first JIT run and kept).
pub struct Program {
    ir: ir::Program,
    bytecode: vm::Module,
    machine_code: OnceLock<Result<jit::JitProgram, Error>>,
}

/// A compiled expression, ready to evaluate on the VM or the JIT.
pub struct Expression {
    program: Program,
    function: FuncId,
}

impl Engine {
    /// An engine with the default options (contracts checked).
    pub fn new() -> Engine {
        Engine::default()
    }

    /// An engine with `options` (`sema::Options { contracts: false }` skips `requires` and
    /// `ensures` checks).
    pub fn with_options(options: sema::Options) -> Engine {
        Engine { options }
    }

    /// Compiles a whole program (named `<embedded>` in its diagnostics and faults), which cannot
    /// `use` files.
    pub fn compile(&self, source: &str) -> Result<Program, Error> {
        let file = SourceFile::new("<embedded>", source);
        let options = self.options;
        let ir = if source.len() <= INLINE_SOURCE_BYTES {
            sema::compile_on_this_thread(&file, options)
        } else {
            sema::compile_with(&file, options)
        }
        .map_err(|diags| Error::new(crate::diag::render(&file, &diags, false)))?;
        Ok(Program::new(ir))
    }

    /// Compiles an expression (named `<expr>` in its diagnostics and faults) to evaluate later.
    pub fn compile_expression(&self, expr: &str) -> Result<Expression, Error> {
        // The text ends in a line break, so that a `;` after it is still in the file.
        let text = format!("{expr}\n");
        let mut sources = SourceMap::new(SourceFile::new("<expr>", text.clone()));
        // Parsed as the statement `expr;`: one expression statement is what an expression is.
        // Anything else is parsed again as written, for its own diagnostics (or E0206, when it
        // is statements or definitions, which need no `;` added).
        let mut diags = Vec::new();
        let mut parsed = syntax::parse_source(&format!("{text};"), &mut diags);
        let value = match (diags.is_empty(), parsed.items.pop()) {
            (true, Some(Item::Stmt(stmt))) if parsed.items.is_empty() => match stmt.kind {
                StmtKind::Expr(value) => Some(value),
                _ => None,
            },
            _ => None,
        };
        let Some(value) = value else {
            diags.clear();
            let written = syntax::parse_source(&text, &mut diags);
            if !diags.is_empty() && !syntax::only_final_semicolon_missing(&diags, &text, 0) {
                return Err(Error::new(crate::diag::render(&sources, &diags, false)));
            }
            let span = (written.items.first()).map_or(crate::diag::Span::new(0, 0), item_span);
            return Err(not_an_expression(&sources, span));
        };
        // The expression becomes the result of a function of its own (its type inferred).
        let wrapper_text = format!("fn {VALUE_FUNCTION}() {{ return 0; }}\n");
        let base = sources
            .add(SourceFile::new("<expression>", wrapper_text.clone()))
            .map(|placed| placed.base)
            .map_err(|_| Error::new("error: the expression is too long"))?;
        let mut wrapper = syntax::parse_source_at(&wrapper_text, base, &mut diags);
        if let Some(Item::Fn(decl)) = wrapper.items.first_mut() {
            if let Some(StmtKind::Return(Some(result))) =
                decl.body.stmts.first_mut().map(|stmt| &mut stmt.kind)
            {
                *result = value;
            }
        }
        let options = self.options;
        let compile = || {
            sema::compile_parsed(&sources, wrapper.clone(), diags.clone(), options)
                .map_err(|diags| Error::new(crate::diag::render(&sources, &diags, false)))
        };
        let ir = if expr.len() <= INLINE_SOURCE_BYTES {
            compile()
        } else {
            sema::on_front_end_thread(compile)
        }?;
        let function = (ir.functions.iter())
            .position(|func| func.name == VALUE_FUNCTION)
            .map(|index| FuncId(index as u32))
            .ok_or_else(|| Error::new("error: the expression's function was not compiled"))?;
        Ok(Expression {
            program: Program::new(ir),
            function,
        })
    }

    /// Compiles `expr` and evaluates it on the VM.
    pub fn eval(&self, expr: &str) -> Result<Value, Error> {
        Ok(self.compile_expression(expr)?.eval_vm())
    }
}

impl Program {
    fn new(ir: ir::Program) -> Program {
        let bytecode = vm::compile(&ir);
        Program {
            ir,
            bytecode,
            machine_code: OnceLock::new(),
        }
    }

    /// The program's IR (`keel emit ir` prints it with `ir::print::program_to_string`).
    pub fn ir(&self) -> &ir::Program {
        &self.ir
    }

    /// Runs the program on the VM; returns its exit status (0; or 1 with the leak check on and
    /// objects left).
    pub fn run_vm(&self) -> i32 {
        vm::run_module(&self.bytecode, Vec::new())
    }

    /// Runs the program with the JIT (compiling it the first time), on a stack of its own mapped
    /// for the run; returns its exit status.
    pub fn run_jit(&self) -> Result<i32, Error> {
        let code = self.machine_code()?;
        Ok(on_body_stack(code, || code.run_here(Vec::new())))
    }

    fn machine_code(&self) -> Result<&jit::JitProgram, Error> {
        let compiled = self.machine_code.get_or_init(|| {
            jit::JitProgram::compile(&self.ir).map_err(|e| Error::new(format!("error: {e}")))
        });
        compiled.as_ref().map_err(Clone::clone)
    }
}

impl Expression {
    /// The program the expression is the result of a function of.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// Evaluates the expression on the VM.
    pub fn eval_vm(&self) -> Value {
        let program = &self.program;
        keel_runtime::process::set_args(Vec::new());
        let word = vm::call(&program.bytecode, self.function.0, &[]);
        keel_runtime::output::flush_stdout();
        self.take_value(word)
    }

    /// Evaluates the expression with the JIT (compiling its program the first time), on a stack
    /// of its own mapped for the call.
    pub fn eval_jit(&self) -> Result<Value, Error> {
        let code = self.program.machine_code()?;
        let address = code.function_address(self.function);
        let ret = self.result_type();
        let word = on_body_stack(code, || {
            keel_runtime::process::set_args(Vec::new());
            // SAFETY: the function takes no argument and returns a value of type `ret`, with
            // the host's C calling convention; its code lives as long as `code`.
            let word = unsafe {
                match ret {
                    Ty::Void => {
                        std::mem::transmute::<*const u8, extern "C" fn()>(address)();
                        0
                    }
                    Ty::Float => {
                        let f = std::mem::transmute::<*const u8, extern "C" fn() -> f64>(address);
                        f().to_bits() as i64
                    }
                    Ty::Bool => {
                        let f = std::mem::transmute::<*const u8, extern "C" fn() -> u8>(address);
                        i64::from(f() != 0)
                    }
                    _ => std::mem::transmute::<*const u8, extern "C" fn() -> i64>(address)(),
                }
            };
            keel_runtime::output::flush_stdout();
            word
        });
        Ok(self.take_value(word))
    }

    fn result_type(&self) -> Ty {
        self.program.ir.functions[self.function.0 as usize].ret
    }

    /// The value of the result word, which this releases.
    fn take_value(&self, word: i64) -> Value {
        let ty = self.result_type();
        // SAFETY: `word` is the function's result, a value of type `ty` owned here; its
        // descriptors belong to the program, which is alive.
        unsafe {
            let value = read_value(&self.program.ir, word, ty);
            if ty.is_heap() {
                keel_runtime::object::release_word(word);
            }
            value
        }
    }
}

/// Runs `body` on a stack mapped for it, as large as `code`'s frames need for the stack-unit
/// limit (or on this thread's stack, where no stack can be mapped).
fn on_body_stack<T>(code: &jit::JitProgram, body: impl FnOnce() -> T) -> T {
    match keel_runtime::own_stack::on_own_stack(code.body_stack_bytes(), body) {
        Ok(result) => result,
        Err(body) => body(),
    }
}

/// The Rust value of the Keel value `word` of type `ty`.
///
/// # Safety
/// `word` must be a live value of type `ty` of `program`.
unsafe fn read_value(program: &ir::Program, word: i64, ty: Ty) -> Value {
    use keel_runtime::layout::{ArrayHeader, ObjHeader, StrHeader};
    // SAFETY: the caller guarantees `word` is a live value of `ty`; the parts read are its
    // elements, fields and entries, typed by the program's definitions.
    unsafe {
        match ty {
            Ty::Int => Value::Int(word),
            Ty::Float => Value::Float(f64::from_bits(word as u64)),
            Ty::Bool => Value::Bool(word != 0),
            Ty::Void => Value::Void,
            Ty::Str => {
                let bytes = keel_runtime::string::as_bytes(word as *const StrHeader);
                Value::Str(String::from_utf8_lossy(bytes).into_owned())
            }
            Ty::Array(id) => {
                let elem = program.arrays[id.0 as usize];
                let items = keel_runtime::array::elements(word as *const ArrayHeader);
                Value::Array(
                    items
                        .iter()
                        .map(|&w| read_value(program, w, elem))
                        .collect(),
                )
            }
            Ty::Map(id) => {
                let def = &program.maps[id.0 as usize];
                let map = word as *const ObjHeader;
                keel_runtime::map::keel_map_sort(map);
                let entries = keel_runtime::map::entries(map);
                Value::Map(
                    (entries.iter())
                        .map(|entry| {
                            let key = read_value(program, entry.key, def.key);
                            let value = if def.is_set() {
                                Value::Void
                            } else {
                                read_value(program, entry.value, def.value)
                            };
                            (key, value)
                        })
                        .collect(),
                )
            }
            Ty::Struct(id) => read_object(program, word as *mut ObjHeader, id),
        }
    }
}

/// The Rust value of the object `obj` of the struct type `id` (a struct, tuple, enum or
/// function type).
///
/// # Safety
/// `obj` must be a live object of type `id` of `program`.
unsafe fn read_object(
    program: &ir::Program,
    obj: *mut keel_runtime::layout::ObjHeader,
    id: ir::StructId,
) -> Value {
    // SAFETY: forwarded from the caller.
    unsafe {
        let fields = keel_runtime::object::struct_fields(obj);
        let def = &program.structs[id.0 as usize];
        match def.kind {
            StructKind::Enum => {
                // The object is one of the variants: field 0 is its tag.
                let tag = *fields as u32;
                let variant = (program.structs.iter()).position(|s| {
                    matches!(s.kind, StructKind::Variant { of, tag: t } if of == id && t == tag)
                });
                match variant {
                    Some(variant) => read_object(program, obj, ir::StructId(variant as u32)),
                    None => Value::Void,
                }
            }
            StructKind::Variant { .. } => Value::Variant {
                name: def.printed_name().to_string(),
                payload: (def.fields.iter().enumerate().skip(1))
                    .map(|(i, field)| read_value(program, *fields.add(i), field.ty))
                    .collect(),
            },
            StructKind::FnType | StructKind::Closure { .. } => {
                let mut text = Vec::new();
                keel_runtime::value::write_object(&mut text, obj);
                Value::Function(String::from_utf8_lossy(&text).into_owned())
            }
            StructKind::Plain if def.name.is_empty() => Value::Tuple(
                (def.fields.iter().enumerate())
                    .map(|(i, field)| read_value(program, *fields.add(i), field.ty))
                    .collect(),
            ),
            StructKind::Plain => Value::Struct {
                name: def.printed_name().to_string(),
                fields: (def.fields.iter().enumerate())
                    .map(|(i, field)| {
                        let value = read_value(program, *fields.add(i), field.ty);
                        (field.name.clone(), value)
                    })
                    .collect(),
            },
        }
    }
}

/// E0206: an input to [`Engine::compile_expression`] that is not one expression.
fn not_an_expression(sources: &SourceMap, span: crate::diag::Span) -> Error {
    let diag = Diagnostic::new("E0206", span, "expected one expression")
        .label("this is not an expression")
        .note("give a program to `Engine::compile` instead");
    Error::new(crate::diag::render(sources, &[diag], false))
}

/// Where an item starts (for a diagnostic about it).
fn item_span(item: &Item) -> crate::diag::Span {
    match item {
        Item::Stmt(stmt) => stmt.span,
        Item::Fn(decl) => decl.name.span,
        Item::Struct(decl) => decl.name.span,
        Item::Enum(decl) => decl.name.span,
        Item::Trait(decl) => decl.name.span,
        Item::TypeAlias(decl) => decl.name.span,
        Item::Const(decl) => decl.name.span,
        Item::Impl(decl) => decl
            .methods
            .first()
            .map_or(crate::diag::Span::new(0, 0), |m| m.name.span),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval_both(expr: &str) -> Value {
        let compiled = Engine::new().compile_expression(expr).expect("compiles");
        let on_vm = compiled.eval_vm();
        assert_eq!(compiled.eval_jit().expect("JIT"), on_vm, "{expr}");
        on_vm
    }

    #[test]
    fn values_of_every_kind_come_back() {
        assert_eq!(eval_both("42"), Value::Int(42));
        assert_eq!(eval_both("1.5 * 2.0"), Value::Float(3.0));
        assert_eq!(eval_both("1 < 2"), Value::Bool(true));
        assert_eq!(eval_both("\"a\" + \"b\""), Value::Str("ab".into()));
        assert_eq!(
            eval_both("(1, [true])"),
            Value::Tuple(vec![Value::Int(1), Value::Array(vec![Value::Bool(true)])])
        );
        assert_eq!(
            eval_both("Some(\"x\")"),
            Value::Variant {
                name: "Some".into(),
                payload: vec![Value::Str("x".into())]
            }
        );
        assert_eq!(
            eval_both("set_from_array([2, 1, 2])"),
            Value::Map(vec![
                (Value::Int(1), Value::Void),
                (Value::Int(2), Value::Void)
            ])
        );
        assert_eq!(eval_both("println(\"\")"), Value::Void);
    }

    #[test]
    fn an_expression_runs_many_times() {
        let compiled = Engine::new()
            .compile_expression("[1, 2, 3, 4, 5]")
            .expect("compiles");
        for _ in 0..3 {
            assert_eq!(compiled.eval_vm(), eval_both("[1, 2, 3, 4, 5]"));
        }
    }

    #[test]
    fn errors_are_diagnostics() {
        let error = Engine::new()
            .compile_expression("1 +")
            .err()
            .expect("an error");
        assert!(error.to_string().contains("┌─ <expr>:"), "{error}");
        let error = Engine::new()
            .compile_expression("let x = 1;")
            .err()
            .expect("an error");
        assert!(error.to_string().contains("E0206"), "{error}");
        let error = Engine::new()
            .compile_expression("nope")
            .err()
            .expect("an error");
        assert!(error.to_string().contains("E0301"), "{error}");
        let error = Engine::new().compile("println(1)").err().expect("an error");
        assert!(error.to_string().contains("<embedded>:1:"), "{error}");
    }
}
