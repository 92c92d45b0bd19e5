//! Differential testing: random well-typed, terminating programs must behave identically on the
//! bytecode VM (`keel run --vm`), the JIT (`keel run --jit`), native executables (`keel build`,
//! then run) and the `cross` backend: static executables for the other supported architecture
//! (`keel build --static --target`, aarch64 on an x86_64 host), run under qemu-user, as in the
//! program suite (`compiler/tests/programs.rs`).
//!
//! [`Generator`] writes programs of the language as implemented:
//! - values of type `int`, `float`, `bool`, `string`, arrays `[T]` of any of them (nested too),
//!   structs, declared at random with fields of those types and of earlier structs (so no
//!   recursive structs), and tuples `(A, B)`, `(A, B, C)` of any of them: literals, element
//!   reads `t.0` (`t.1.0`), element assignment, and patterns that take them apart in `let` and
//!   `for` (nested, with `_`);
//! - enums, declared at random with unit and payload variants (payloads of the types above and
//!   of earlier enums; recursive enums are left to the program suite): variant values, `==`, printing,
//!   and `match` (statement and value, on enums, tuples, ints, bools and strings: literal,
//!   variant, tuple, binding and `_` patterns, nested, `|` alternatives, guards), `if let`
//!   (with `else`) and `while let`; arms are planned so that every `match` is exhaustive and
//!   every arm reachable;
//! - the prelude's `Option<T>` and `Result<T, E>` as enums of the program (of any of the types
//!   above, nested too): bare variants (`Some(x)`; the others through an annotated `let` when
//!   the value does not tell every type argument), patterns with and without `Option::`, the
//!   helpers; generic functions, from a few every program declares (`g_pick`, `g_wrap`,
//!   `g_second`, instantiated with the program's types); closures over a parameter and the
//!   variables around them (which they capture), called at once, through a generic function
//!   taking a function value (`g_apply`, `g_twice`) or the prelude's `map`; `g_count`, whose
//!   `static let` counts its calls; methods: every struct has an `impl`
//!   block (`get_f`, `with_f`, `make`) and implements the trait `Weighed`, used through
//!   `g_weigh<T: Weighed>`;
//! - functions with parameters and results of those types (result declared or inferred), calling
//!   only functions generated before them, plus bounded self-recursion through a `depth`
//!   parameter, and often changing a parameter first;
//! - `let` (annotated or not, shadowing), assignment to variables, fields and elements, nested
//!   (`v.f[i].g = e`), compound assignment on ints, floats and strings; `if`/`else` as statements
//!   and as values, block expressions; `while`, `for i in a..b` and `for x in array` loops whose
//!   trip counts are bounded by construction; `break`, `continue`, `return`; `live` blocks (whose
//!   bodies fault and retry) and `assert` (with and without a message); `print`, `println`,
//!   `eprintln` of every type, `exit(n)`;
//! - every int and bool operator; float arithmetic, comparisons (NaN, infinities, `-0.0`),
//!   `to_float`, `to_int`, `parse_int` and `parse_float` (their Results taken apart by
//!   `unwrap`, `expect`, `unwrap_or`, `match` and `if let`), the math builtins, float literals in every
//!   written form and float text through printing, `to_string` and `+`; strings by `+` (which
//!   renders ints, floats and bools), comparisons and the string builtins; array literals,
//!   indexing, slices, `push`, `pop`, `concat`, `reverse`, `sort`, `slice`, `array_fill`,
//!   `contains`, `index_of`, `len`, `split`, `join`; struct literals (also by shorthand), field
//!   reads; `==` and `!=` on every type; method-call sugar (`a.len()`, `v.f(x)`);
//! - value semantics under aliasing: statements that copy a variable (an array, struct or
//!   string) or a field of one, change the copy and the original (whole, a field, an element, by
//!   `push`/`pop`/`concat`/`+=`/... in place), pass it to a function that may change its
//!   parameter, and print both; `a = push(a, x)` and the other updates of a place by a function
//!   of itself, which the lowering does in place;
//! - maps and sets (`map<K, V>`, `set<K>` with keys of ints, strings, bools and `(int, string)`,
//!   values of any type above) built in a block by `insert` (method and function), copied,
//!   changed by `remove`, printed, compared, queried (`get_or`, `contains_key`, `has`, `len`,
//!   `keys`, `values`, set algebra) and iterated in key order;
//! - the prelude's integer functions of the runtime (`factorial`, `fibonacci`, `binomial`,
//!   `int_sqrt`, `int_log2`, `modulo`, `next_multiple_of`, `next_prime`, `abs_diff`) and its
//!   array position functions (`array_insert_at`, `array_remove_at`, `array_swap`,
//!   `array_set_at`), whose faults name the caller's line, and `json_encode` of every type.
//!
//! Faults are allowed, and must be identical everywhere: int overflow, division by zero, shifts
//! out of range, and in some programs (the hazardous ones) indices, slices, `pop`, `to_int`,
//! `parse_*`, `array_fill` and `pow` arguments that may be out of range. Everything else is
//! guarded (`if len(a) > 0 { ... }`). Programs stay fast and terminating: a static cost estimate
//! (statements executed, with loop trip counts and callee costs multiplied in, printing charged by
//! the size of the value) bounds the work, and every array and string has a static bound on its
//! length (see [`Generator::sized`]), so no loop can grow a value without limit. Each program must
//! pass the front end and the IR verifier in-process; then the `keel` binary runs it on each
//! backend as in the program suite (`support/mod.rs`), and stdout, stderr and the exit status
//! must agree. Every program runs with `KEEL_LEAK_CHECK=1`, which checks at normal program end,
//! also after `live` blocks recovered from faults (a recovered fault releases what the frames it
//! leaves own, docs/faults.md); a leak, or a compiler crash, is a failure even when every backend
//! agrees on it.
//!
//! A backend that cannot run here (no C compiler driver for native; for cross, no runtime library
//! for the other target in this `keel`, no cross linker, no static libc for it, or no qemu-user)
//! is skipped with a note on stderr saying why; with `CI` set (`true` or `1`) that is a failure.
//!
//! A known disagreement not fixed yet would be kept out of generation, naming its finding (a
//! minimised program under `tests/programs/regressions/`); there is none now. The findings so far,
//! fixed: `min`/`max` of two zeros (`float_min_max_signed_zero.kl`), `sort` of floats with NaNs
//! (`sort_nan_sign.kl`), a call through a function value inside another call's arguments on
//! the VM (`vm_argument_slot_and_closure_call.kl`).
//!
//! A failure is minimised by deleting statements (and unwrapping compound statements) while the
//! program still compiles and still fails the same way (the same backends disagree, or it still
//! crashes or leaks); the failure message holds the original and the minimised program; the
//! minimised programs and the whole report are also written under `CARGO_TARGET_TMPDIR`
//! (`target/tmp/`). Shrinking is done here rather than by proptest because a generated program's
//! validity depends on context (scopes, types, loop nesting) that value-level shrinking would
//! break.
//!
//! The run is deterministic: `KEEL_DIFF_SEED=<n>` picks another set of programs and
//! `KEEL_DIFF_CASES=<n>` another count (the default, [`DEFAULT_CASES`], takes about two minutes on
//! two cores); `KEEL_DIFF_KEEP=<dir>` writes every generated program. A long run, with its summary
//! line (`differential: N of N programs ... agreed on ...`, on stderr):
//! `KEEL_DIFF_CASES=10000 cargo test --release --test differential -- --nocapture`.
//!
//! What this file does not do: check that the agreed behaviour is *correct* (the program suite
//! does that, with hand-derived expectations), or generate what the language does not implement
//! yet (closures, methods, traits, maps, imports), generic type declarations of its own, input (`input()`, `args()`), time (`clock_ms()`, `within`, `backoff`) or
//! contracts (`requires`, `ensures`).

mod support;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use support::{every_backend_required, run_command_within, Backend, Launch, Machine, Outcome};

/// Programs per run unless `KEEL_DIFF_CASES` says otherwise.
const DEFAULT_CASES: usize = 400;
/// The seed of the first program unless `KEEL_DIFF_SEED` says otherwise.
const DEFAULT_SEED: u64 = 0x6b65_656c_0001;
/// How long one program may run on one backend (building an executable has the shared limit).
const TIME_LIMIT: Duration = Duration::from_secs(20);
/// Worker threads running programs.
const WORKERS: usize = 2;
/// Most statements executed by one function body (callees and loop trips included).
const FUNCTION_BUDGET: u64 = 2_000;
/// Most statements executed by the whole program.
const PROGRAM_BUDGET: u64 = 20_000;

// ---- random numbers ------------------------------------------------------------------------------

/// SplitMix64: tiny, fast and good enough to pick program shapes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `percent`%.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn range(&mut self, low: i64, high_inclusive: i64) -> i64 {
        low + self.below((high_inclusive - low + 1) as u64) as i64
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// `items` in a random order.
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i as u64 + 1) as usize);
        }
    }

    /// An index chosen with the given weights (at least one non-zero).
    fn weighted(&mut self, weights: &[u64]) -> usize {
        let total: u64 = weights.iter().sum();
        let mut roll = self.below(total);
        for (index, weight) in weights.iter().enumerate() {
            if roll < *weight {
                return index;
            }
            roll -= weight;
        }
        weights.len() - 1
    }
}

// ---- program text as a tree ----------------------------------------------------------------------

/// A statement of a generated program, kept as a tree so the minimiser can delete statements.
#[derive(Clone, Debug)]
enum Node {
    /// A simple statement (or a function's closing text), one line.
    Line(String),
    /// A statement with blocks: each part is the text opening a block and the block's statements
    /// (`if c {` / `} else {`), then the text closing the last block.
    Compound {
        parts: Vec<(String, Vec<Node>)>,
        end: String,
    },
}

fn render(nodes: &[Node]) -> String {
    let mut out = String::new();
    render_into(&mut out, nodes, 0);
    out
}

fn render_into(out: &mut String, nodes: &[Node], indent: usize) {
    let pad = "    ".repeat(indent);
    for node in nodes {
        match node {
            Node::Line(text) => {
                let _ = writeln!(out, "{pad}{text}");
            }
            Node::Compound { parts, end } => {
                for (open, body) in parts {
                    let _ = writeln!(out, "{pad}{open}");
                    render_into(out, body, indent + 1);
                }
                let _ = writeln!(out, "{pad}{end}");
            }
        }
    }
}

/// Statements on one line, for blocks inside expressions.
fn render_inline(nodes: &[Node]) -> String {
    let mut out = String::new();
    for node in nodes {
        match node {
            Node::Line(text) => out.push_str(text),
            Node::Compound { parts, end } => {
                for (open, body) in parts {
                    out.push_str(open);
                    out.push(' ');
                    out.push_str(&render_inline(body));
                }
                out.push_str(end);
            }
        }
        out.push(' ');
    }
    out
}

// ---- the generator -------------------------------------------------------------------------------

/// Most elements of any array a generated program makes (see "Sizes" at [`Generator::sized`]).
const ARRAY_LIMIT: u64 = 6;
/// Most Unicode scalar values of any string a generated program makes.
const STRING_LIMIT: u64 = 32;
/// Largest [`Generator::size`] of the type of a variable, parameter or result.
const TYPE_SIZE_LIMIT: u64 = 48;
/// Largest [`Generator::size`] of the type of a struct field.
const FIELD_SIZE_LIMIT: u64 = 16;
/// Longest text of an int (`-9223372036854775808`), as `+` and `to_string` render it.
const INT_TEXT: u64 = 20;
/// Longest text of a float by the float text rule (`-2.2250738585072014e-308`).
const FLOAT_TEXT: u64 = 24;
/// Longest text of a bool.
const BOOL_TEXT: u64 = 5;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Ty {
    Int,
    Float,
    Bool,
    Str,
    Array(Box<Ty>),
    /// `S<n>`, declared by `Generator::structs[n]`.
    Struct(usize),
    /// `(A, B)` or `(A, B, C)`.
    Tuple(Vec<Ty>),
    /// `E<n>`, declared by `Generator::enums[n]`.
    Enum(usize),
}

impl Ty {
    fn array(elem: Ty) -> Ty {
        Ty::Array(Box::new(elem))
    }

    fn name(&self, enums: &[EnumDef]) -> String {
        match self {
            Ty::Int => "int".into(),
            Ty::Float => "float".into(),
            Ty::Bool => "bool".into(),
            Ty::Str => "string".into(),
            Ty::Array(elem) => format!("[{}]", elem.name(enums)),
            Ty::Struct(index) => format!("S{index}"),
            Ty::Tuple(elems) => {
                let names: Vec<String> = elems.iter().map(|e| e.name(enums)).collect();
                format!("({})", names.join(", "))
            }
            Ty::Enum(index) => match &enums[*index].prelude {
                Some((_, written)) => written.clone(),
                None => format!("E{index}"),
            },
        }
    }

    fn elem(&self) -> Option<&Ty> {
        match self {
            Ty::Array(elem) => Some(elem),
            _ => None,
        }
    }

    /// The length no value of the type exceeds: elements of an array, scalars of a string; 0 for
    /// the other types, whose values have a fixed size.
    fn bound(&self) -> u64 {
        match self {
            Ty::Str => STRING_LIMIT,
            Ty::Array(_) => ARRAY_LIMIT,
            _ => 0,
        }
    }

    /// Whether arrays of the type can be sorted: ints, floats and strings.
    fn is_sortable(&self) -> bool {
        matches!(self, Ty::Int | Ty::Float | Ty::Str)
    }

    /// Arrays, structs and tuples: values with parts that can be assigned (an enum value's
    /// payload is read only through patterns).
    fn is_composite(&self) -> bool {
        matches!(self, Ty::Array(_) | Ty::Struct(_) | Ty::Tuple(_))
    }

    /// Values on the heap, shared by copies until one changes (strings too: `+=` may append in
    /// place).
    fn is_shared(&self) -> bool {
        matches!(
            self,
            Ty::Str | Ty::Array(_) | Ty::Struct(_) | Ty::Tuple(_) | Ty::Enum(_)
        )
    }

    /// Whether `+` renders a value of the type (or appends it, a string).
    fn is_renderable(&self) -> bool {
        matches!(self, Ty::Int | Ty::Float | Ty::Bool | Ty::Str)
    }
}

/// A generated struct declaration: its fields in declaration order.
#[derive(Clone, Debug)]
struct StructDef {
    fields: Vec<(String, Ty)>,
}

/// A generated enum declaration, or an instance of the prelude's `Option` or `Result`: its
/// variants in declaration order, each with its payload types (none for a unit variant).
#[derive(Clone, Debug)]
struct EnumDef {
    variants: Vec<(String, Vec<Ty>)>,
    /// For a prelude instance: the enum's name (`Option`) and the type as written
    /// (`Option<int>`). Its variants are written bare, and it is not declared.
    prelude: Option<(String, String)>,
}

#[derive(Clone, Debug)]
struct Var {
    name: String,
    ty: Ty,
    /// Loop guards and recursion depths are read-only so that loops and recursion stay bounded.
    assignable: bool,
}

/// One step from a value to a part of it.
#[derive(Clone, Debug)]
enum Step {
    Field(String),
    Element,
}

/// What a generated pattern must match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    /// Anything the type allows.
    Any,
    /// Every value (`_`, a name, a tuple of those): irrefutable.
    All,
    /// Not every value: a literal, a variant, a tuple with such an element. Only for types
    /// [`Generator::refutable`] allows.
    Some,
}

/// Where a pattern is generated.
#[derive(Clone, Copy, Debug)]
struct PatternContext {
    /// Whether it may bind names (not inside `|`).
    binds: bool,
    /// Whether a unit variant may be written without its enum (`Empty` for `E0::Empty`).
    bare_units: bool,
}

impl PatternContext {
    const ARM: PatternContext = PatternContext {
        binds: true,
        bare_units: true,
    };
}

/// One arm of a `match` to generate: which values its pattern matches and whether it has a
/// guard. [`Generator::arm_plans`] orders them so that every arm is reachable and the arms are
/// exhaustive.
#[derive(Clone, Debug)]
enum ArmPlan {
    /// Variant `variant` of the matched enum, its payload patterns what `payload` says.
    Variant {
        variant: usize,
        payload: Want,
        guarded: bool,
    },
    /// Whole variants as alternatives (`E0::Red(_) | E0::Leaf`).
    Variants(Vec<usize>),
    /// Literals as alternatives (`1 | -3`), each used by no other arm.
    Literals(Vec<String>, bool),
    /// A pattern of the matched type.
    Pattern(Want, bool),
}

/// A place a statement assigns: a variable or a part of one (`v.f[i].g`).
struct Place {
    text: String,
    ty: Ty,
    /// Conditions, in order, under which every index in `text` is in bounds (empty when the
    /// place has no index, or when an index was left to fault).
    guard: Vec<String>,
}

#[derive(Clone, Debug)]
struct FnSig {
    name: String,
    params: Vec<Ty>,
    /// `None` for a function without a result.
    ret: Option<Ty>,
    /// Whether the first parameter is a recursion depth, passed as `e & 3` by other callers.
    recursive: bool,
    /// Statements one call executes at most (estimated).
    cost: u64,
}

/// What the function being generated allows.
struct FnContext {
    ret: Option<Ty>,
    /// Whether the result type is written, so that `return []` has a type.
    ret_written: bool,
    /// The function's own signature, once it may call itself.
    self_sig: Option<FnSig>,
    /// Self-call sites generated so far.
    self_calls: u32,
}

struct Generator {
    rng: Rng,
    structs: Vec<StructDef>,
    enums: Vec<EnumDef>,
    functions: Vec<FnSig>,
    scopes: Vec<Vec<Var>>,
    next_name: u32,
    function: Option<FnContext>,
    loop_depth: u32,
    /// How often the statement being generated can run per call of its body (loop trip counts).
    multiplier: u64,
    /// Cost of the body being generated so far.
    cost: u64,
    budget: u64,
    /// Statements still allowed in the body being generated (keeps programs readable).
    statements_left: u32,
    /// Percent chance of choosing a fault-prone form (huge literals, unmasked shift amounts,
    /// unrestricted divisors and indices, unguarded `pop`, raw `to_int`, `exit`) where there is
    /// a choice; differs between programs so that some run to completion and some fault.
    hazard: u64,
    /// Whether the program has `live` blocks. Half of them do not, so that programs compiled
    /// without any recovery (no handlers, no pending-flag tests) are covered as much.
    live_blocks: bool,
}

const STRING_LITERALS: &[&str] = &[
    "\"\"",
    "\"a\"",
    "\"hello\"",
    "\" \"",
    "\", \"",
    "\"x=\"",
    "\"a,b,,c\"",
    "\"  pad \"",
    "\"tab\\there\"",
    "\"line\\n\"",
    "\"quote\\\"q\\\"\"",
    "\"back\\\\slash\"",
    "\"nul\\0byte\"",
    "\"esc\\u{1b}[0m\"",
    "\"caf\\u{e9}\"",
    "\"\\u{1F600}\"",
    "\"日本\"",
    "\"cr\\r\"",
    "\"Mixed Case\"",
];

const ENCODING_LIMITS: &[&str] = &[
    "127",
    "128",
    "-128",
    "-129",
    "255",
    "256",
    "32767",
    "32768",
    "-32768",
    "-32769",
    "65535",
    "65536",
    "2147483647",
    "2147483648",
    "-2147483648",
    "-2147483649",
    "4294967295",
    "4294967296",
];

const EXIT_CODES: &[&str] = &[
    "0", "1", "2", "3", "7", "42", "127", "255", "256", "-1", "300",
];

/// Float literals in every written form (see `tests/programs/values/float_literals.kl`).
const FLOAT_LITERALS: &[&str] = &[
    "0.0",
    "0.1",
    "0.2",
    "0.5",
    "1.0",
    "1.5",
    "3.0",
    "100.0",
    "2.0e-3",
    "2.5E3",
    "1e+2",
    "1_000.25",
    "1e15",
    "1e16",
    "123456.789",
    "0.30000000000000004",
    "4.35",
    "1e-7",
    "0.000123",
    "6.02e23",
    "3.141592653589793",
];

/// Floats at the edges: NaN, infinities, extremes, subnormals, both zeros, 2^53 + 1.
const FLOAT_EDGES: &[&str] = &[
    "0.0",
    "(0.0 / 0.0)",
    "(1.0 / 0.0)",
    "(-1.0 / 0.0)",
    "(-0.0)",
    "1e300",
    "1.7976931348623157e308",
    "2.2250738585072014e-308",
    "5e-324",
    "9007199254740993.0",
    "9223372036854775807.0",
];

const MATH_FUNCTIONS: &[&str] = &[
    "sqrt", "floor", "ceil", "round", "sin", "cos", "tan", "exp", "ln", "abs", "asin", "acos",
    "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "log10", "log2", "exp2", "cbrt",
];

/// Texts `parse_int` accepts, and (for hazardous programs) texts it rejects.
const INT_TEXTS: &[&str] = &[
    "\"0\"",
    "\"-12\"",
    "\"+7\"",
    "\"0x1F\"",
    "\"0b101\"",
    "\"1_000\"",
    "\"9223372036854775807\"",
];
const BAD_INT_TEXTS: &[&str] = &[
    "\"12x\"",
    "\"\"",
    "\" 1\"",
    "\"1.5\"",
    "\"99999999999999999999\"",
    "\"-9223372036854775808\"",
    "\"0x\"",
];

/// Texts `parse_float` accepts, and (for hazardous programs) texts it rejects.
const FLOAT_TEXTS: &[&str] = &[
    "\"1.5\"",
    "\"-0.0\"",
    "\"2.0e-3\"",
    "\"1e9\"",
    "\"12\"",
    "\"+3.25\"",
    "\"1e-320\"",
    "\"0.1\"",
];
const BAD_FLOAT_TEXTS: &[&str] = &[
    "\"x\"",
    "\"1e400\"",
    "\"inf\"",
    "\"NaN\"",
    "\"\"",
    "\" 1.0\"",
    "\".5\"",
];

const SEPARATORS: &[&str] = &["\"\"", "\",\"", "\", \"", "\" \"", "\"a\"", "\"l\""];
const REPLACED: &[&str] = &[
    "\"a\"",
    "\"\"",
    "\"l\"",
    "\" \"",
    "\"\\u{e9}\"",
    "\"ab\"",
    "\"日\"",
];
const REPLACEMENTS: &[&str] = &["\"\"", "\"-\"", "\"xy\"", "\"\\n\""];

/// Generic functions every program declares, called by [`Generator::through_generic`]: each
/// program instantiates them with its own types.
const GENERIC_HELPERS: &str = "trait Weighed { fn weight(self) -> int; fn doubled(self) -> int { return self.weight() * 2; } }\n\
fn g_weigh<T: Weighed>(T x) -> int { return x.doubled() + x.weight(); }\n\
fn g_pick<T>(bool c, T a, T b) -> T { if c { return a; } return b; }\n\
fn g_wrap<T>(T x) -> Option<T> { return Some(x); }\n\
fn g_second<A, B>((A, B) p) -> B { return p.1; }\n\
fn g_apply<T>(fn(T) -> T f, T x) -> T { return f(x); }\n\
fn g_twice<T>(fn(T) -> T f, T x) -> T { let g = f; return g(f(x)); }\n\
fn g_count() -> int { static let calls = 0; calls += 1; return calls; }";

/// Field names: none of them a builtin, keyword or generated variable name.
const FIELD_NAMES: &[&str] = &["x", "y", "z", "n", "w", "name", "tag", "items"];

/// Variant names: capitalised, so never a generated variable name (a name pattern that is a unit
/// variant of the matched enum is that variant, not a binding).
const VARIANT_NAMES: &[&str] = &[
    "Red", "Green", "Blue", "Leaf", "Node", "Pair", "Num", "Word", "Flag", "Nothing",
];

/// Ints for literal patterns: small ones, which generated ints often are, and a few edges.
const PATTERN_INT_EDGES: &[i64] = &[63, 127, 128, 255, -128, 1000, i64::MAX, i64::MIN];

impl Generator {
    fn new(seed: u64) -> Generator {
        let mut rng = Rng(seed);
        let hazard = *rng.pick(&[0, 2, 5, 10]);
        let live_blocks = rng.chance(50);
        Generator {
            hazard,
            live_blocks,
            rng,
            structs: Vec::new(),
            enums: Vec::new(),
            functions: Vec::new(),
            scopes: Vec::new(),
            next_name: 0,
            function: None,
            loop_depth: 0,
            multiplier: 1,
            cost: 0,
            budget: PROGRAM_BUDGET,
            statements_left: 0,
        }
    }

    /// A whole program: structs, enums, functions and top-level statements, interleaved.
    fn program(&mut self) -> Vec<Node> {
        let mut items = vec![Node::Line(GENERIC_HELPERS.to_string())];
        // Structs and enums in a random order: each may use the ones declared before it.
        let struct_count = *self.rng.pick(&[0, 1, 1, 2, 2, 3, 4]);
        let enum_count = *self.rng.pick(&[0, 1, 1, 2, 2, 3]);
        let mut kinds = vec![false; struct_count];
        kinds.extend(vec![true; enum_count]);
        for i in (1..kinds.len()).rev() {
            kinds.swap(i, self.rng.below(i as u64 + 1) as usize);
        }
        for is_enum in kinds {
            items.push(if is_enum {
                self.enum_item()
            } else {
                self.struct_item()
            });
        }
        let function_count = self.rng.below(6) as usize;
        for _ in 0..function_count {
            items.push(self.function_item());
        }
        self.scopes = vec![Vec::new()];
        self.function = None;
        self.cost = 0;
        self.budget = PROGRAM_BUDGET;
        self.multiplier = 1;
        self.statements_left = 10 + self.rng.below(40) as u32;
        let mut top = Vec::new();
        // Call every function at least once from the top level, in a random order.
        let mut order: Vec<usize> = (0..self.functions.len()).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, self.rng.below(i as u64 + 1) as usize);
        }
        for index in order {
            while self.rng.chance(40) && self.statements_left > 0 {
                top.extend(self.statement());
            }
            let sig = self.functions[index].clone();
            if let Some(call) = self.call(&sig, 2) {
                top.push(match sig.ret {
                    Some(_) if self.rng.chance(70) => {
                        let print = *self.rng.pick(&["print", "println", "eprintln"]);
                        Node::Line(format!("{print}({call});"))
                    }
                    _ => Node::Line(format!("{call};")),
                });
            }
        }
        while self.statements_left > 0 {
            top.extend(self.statement());
        }
        if self.rng.chance(10) {
            top.push(Node::Line(format!("exit({});", self.rng.pick(EXIT_CODES))));
        }
        // Items are visible in the whole file: scatter them among the top-level statements.
        for item in items {
            let at = self.rng.below(top.len() as u64 + 1) as usize;
            top.insert(at, item);
        }
        top
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.next_name += 1;
        format!("{prefix}{}", self.next_name)
    }

    fn declare(&mut self, name: String, ty: Ty, assignable: bool) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.push(Var {
                name,
                ty,
                assignable,
            });
        }
    }

    /// Variables visible now (innermost declaration of each name), filtered.
    fn visible(&self, keep: impl Fn(&Var) -> bool) -> Vec<Var> {
        let mut seen = std::collections::HashSet::new();
        let mut found = Vec::new();
        for scope in self.scopes.iter().rev() {
            for var in scope.iter().rev() {
                if seen.insert(var.name.clone()) && keep(var) {
                    found.push(var.clone());
                }
            }
        }
        found
    }

    // ---- types ---------------------------------------------------------------------------------

    /// How many scalars a value of type `ty` holds at most (a string counts as one).
    fn size(&self, ty: &Ty) -> u64 {
        match ty {
            Ty::Array(elem) => ARRAY_LIMIT * self.size(elem),
            Ty::Struct(index) => {
                1 + self.structs[*index]
                    .fields
                    .iter()
                    .map(|(_, field)| self.size(field))
                    .sum::<u64>()
            }
            Ty::Tuple(elems) => 1 + elems.iter().map(|elem| self.size(elem)).sum::<u64>(),
            // The tag and the largest payload.
            Ty::Enum(index) => {
                1 + (self.enums[*index].variants.iter())
                    .map(|(_, payload)| payload.iter().map(|ty| self.size(ty)).sum::<u64>())
                    .max()
                    .unwrap_or(0)
            }
            _ => 1,
        }
    }

    /// A type whose values hold at most `max_size` scalars: mostly scalars, sometimes arrays
    /// (nested too), tuples and declared structs and enums.
    fn random_type(&mut self, max_size: u64) -> Ty {
        let structs: Vec<usize> = (0..self.structs.len())
            .filter(|&index| self.size(&Ty::Struct(index)) <= max_size)
            .collect();
        let enums: Vec<usize> = (0..self.enums.len())
            .filter(|&index| self.size(&Ty::Enum(index)) <= max_size)
            .collect();
        let weights = [
            6,                                           // int
            3,                                           // bool
            4,                                           // string
            4,                                           // float
            if max_size >= ARRAY_LIMIT { 3 } else { 0 }, // array
            if structs.is_empty() { 0 } else { 3 },      // struct
            if max_size >= 3 { 2 } else { 0 },           // tuple
            if enums.is_empty() { 0 } else { 3 },        // enum
            if max_size >= 3 { 2 } else { 0 },           // Option or Result
        ];
        match self.rng.weighted(&weights) {
            0 => Ty::Int,
            1 => Ty::Bool,
            2 => Ty::Str,
            3 => Ty::Float,
            4 => Ty::array(self.random_type(max_size / ARRAY_LIMIT)),
            5 => Ty::Struct(*self.rng.pick(&structs)),
            7 => Ty::Enum(*self.rng.pick(&enums)),
            8 if self.rng.chance(60) => {
                let value = self.random_type(max_size - 1);
                Ty::Enum(self.prelude_enum("Option", vec![value]))
            }
            8 => {
                let each = (max_size - 1) / 2;
                let value = self.random_type(each);
                let error = self.random_type(each);
                Ty::Enum(self.prelude_enum("Result", vec![value, error]))
            }
            _ => {
                let count = 2 + self.rng.below(2);
                let each = (max_size - 1) / count;
                Ty::Tuple((0..count).map(|_| self.random_type(each)).collect())
            }
        }
    }

    /// A type for a new value: often the type of a visible variable, so that values meet.
    fn interesting_type(&mut self) -> Ty {
        let vars = self.visible(|_| true);
        if !vars.is_empty() && self.rng.chance(40) {
            return self.rng.pick(&vars).ty.clone();
        }
        self.random_type(TYPE_SIZE_LIMIT)
    }

    /// An array type, often that of a visible array variable.
    fn array_type(&mut self) -> Ty {
        let arrays = self.visible(|v| matches!(v.ty, Ty::Array(_)));
        if !arrays.is_empty() && self.rng.chance(50) {
            return self.rng.pick(&arrays).ty.clone();
        }
        Ty::array(self.random_type(TYPE_SIZE_LIMIT / ARRAY_LIMIT))
    }

    // ---- items ---------------------------------------------------------------------------------

    /// `struct S<n> { ... }` with fields of scalar, array and earlier struct types (so structs
    /// are never recursive and every value has a bounded size).
    fn struct_item(&mut self) -> Node {
        let index = self.structs.len();
        let count = if self.rng.chance(8) {
            0
        } else {
            1 + self.rng.below(4) as usize
        };
        let mut names = FIELD_NAMES.to_vec();
        let mut fields = Vec::new();
        for _ in 0..count {
            let name = names.remove(self.rng.below(names.len() as u64) as usize);
            fields.push((name.to_string(), self.random_type(FIELD_SIZE_LIMIT)));
        }
        let declared: Vec<String> = fields
            .iter()
            .map(|(name, ty)| format!("{} {name}", ty.name(&self.enums)))
            .collect();
        let body = if declared.is_empty() {
            String::new()
        } else {
            let trailing = if self.rng.chance(50) { "," } else { "" };
            format!(" {}{trailing} ", declared.join(", "))
        };
        let methods = self.struct_methods(index, &fields);
        self.structs.push(StructDef { fields });
        Node::Line(format!(
            "struct {} {{{body}}}\n{methods}",
            Ty::Struct(index).name(&self.enums)
        ))
    }

    /// The `impl` blocks every struct `S<n>` gets: per field `f`, `get_f(self)` and
    /// `with_f(self, v)` (which changes its copy); `make(...)` taking the fields in
    /// declaration order; and `impl Weighed for S<n>` (the trait of [`GENERIC_HELPERS`]).
    fn struct_methods(&mut self, index: usize, fields: &[(String, Ty)]) -> String {
        let name = Ty::Struct(index).name(&self.enums);
        let mut functions = Vec::new();
        for (field, ty) in fields {
            let ty = ty.name(&self.enums);
            functions.push(format!(
                "fn get_{field}(self) -> {ty} {{ return self.{field}; }}"
            ));
            functions.push(format!(
                "fn with_{field}(self, {ty} v) -> Self {{ self.{field} = v; return self; }}"
            ));
        }
        let params: Vec<String> = (fields.iter())
            .map(|(field, ty)| format!("{} {field}", ty.name(&self.enums)))
            .collect();
        let inits: Vec<String> = fields.iter().map(|(field, _)| field.clone()).collect();
        functions.push(format!(
            "fn make({}) -> {name} {{ return new {name} {{ {} }}; }}",
            params.join(", "),
            inits.join(", ")
        ));
        let weight = self.rng.below(100);
        format!(
            "impl {name} {{ {} }}\nimpl Weighed for {name} {{ fn weight(self) -> int {{ return {weight}; }} }}",
            functions.join(" ")
        )
    }

    /// `enum E<n> { ... }` with 2 to 4 variants, some without a payload, the others with one or
    /// two payload values of scalar, array, tuple and earlier struct and enum types (so enums are
    /// never recursive and every value has a bounded size).
    fn enum_item(&mut self) -> Node {
        let count = 2 + self.rng.below(3) as usize;
        let mut names = VARIANT_NAMES.to_vec();
        let mut variants = Vec::new();
        for _ in 0..count {
            let name = names.remove(self.rng.below(names.len() as u64) as usize);
            let payload_count = if self.rng.chance(35) {
                0
            } else {
                1 + self.rng.below(2)
            };
            let payload: Vec<Ty> = (0..payload_count)
                .map(|_| self.random_type(FIELD_SIZE_LIMIT))
                .collect();
            variants.push((name.to_string(), payload));
        }
        let declared: Vec<String> = (variants.iter())
            .map(|(name, payload)| {
                if payload.is_empty() {
                    name.clone()
                } else {
                    let types: Vec<String> =
                        payload.iter().map(|ty| ty.name(&self.enums)).collect();
                    format!("{name}({})", types.join(", "))
                }
            })
            .collect();
        let trailing = if self.rng.chance(50) { "," } else { "" };
        // After the payloads' types, which may have added instances of Option and Result.
        let index = self.enums.len();
        self.enums.push(EnumDef {
            variants,
            prelude: None,
        });
        Node::Line(format!(
            "enum {} {{ {}{trailing} }}",
            Ty::Enum(index).name(&self.enums),
            declared.join(", ")
        ))
    }

    fn function_item(&mut self) -> Node {
        let name = self.fresh("f");
        let recursive = self.rng.chance(25);
        let param_count = if self.rng.chance(10) {
            5 + self.rng.below(5)
        } else {
            self.rng.below(4)
        } as usize;
        let mut params: Vec<Ty> = (0..param_count)
            .map(|_| self.random_type(TYPE_SIZE_LIMIT))
            .collect();
        let ret = if self.rng.chance(25) {
            None
        } else {
            Some(self.random_type(TYPE_SIZE_LIMIT))
        };
        self.scopes = vec![Vec::new()];
        let mut param_text = Vec::new();
        if recursive {
            params.insert(0, Ty::Int);
            param_text.push("int depth".to_string());
            self.declare("depth".into(), Ty::Int, false);
        }
        for ty in params.iter().skip(usize::from(recursive)) {
            let param = self.fresh("p");
            param_text.push(format!("{} {param}", ty.name(&self.enums)));
            self.declare(param, ty.clone(), true);
        }
        let explicit = recursive || self.rng.chance(70);
        let ret_text = match (&ret, explicit) {
            (Some(ty), true) => format!(" -> {}", ty.name(&self.enums)),
            (None, true) if self.rng.chance(30) => " -> void".to_string(),
            _ => String::new(),
        };
        let sig = FnSig {
            name: name.clone(),
            params,
            ret: ret.clone(),
            recursive,
            cost: 0,
        };
        // The recursion guard's result must not recurse: the function may call itself only once
        // the guard is generated.
        self.function = Some(FnContext {
            ret: ret.clone(),
            ret_written: explicit,
            self_sig: None,
            self_calls: 0,
        });
        self.cost = 1;
        self.budget = FUNCTION_BUDGET;
        self.multiplier = 1;
        self.loop_depth = 0;
        self.statements_left = 3 + self.rng.below(14) as u32;

        let mut header = format!("fn {name}({}){ret_text} {{", param_text.join(", "));
        if recursive {
            // The guard is part of the header so that the minimiser cannot delete it.
            let base = match &ret {
                Some(ty) => format!("return {};", self.returned(ty, 1)),
                None => "return;".to_string(),
            };
            let _ = write!(header, "\n    if depth <= 0 {{ {base} }}");
        }
        if let Some(context) = self.function.as_mut() {
            context.self_sig = recursive.then(|| sig.clone());
        }
        let mut body = Vec::new();
        // Often start by changing a parameter, which must not change the caller's value.
        let shared = self.visible(|v| v.assignable && v.ty.is_shared());
        if !shared.is_empty() && self.rng.chance(60) && self.afford(1) {
            let param = self.rng.pick(&shared).clone();
            body.extend(self.mutation(&param));
        }
        while self.statements_left > 0 {
            body.extend(self.statement());
        }
        if let Some(ty) = &ret {
            body.push(match self.rng.below(3) {
                0 => Node::Line(tail_expression(self.expr(ty, 3))),
                1 => {
                    let cond = self.expr(&Ty::Bool, 2);
                    let (a, b) = (self.returned(ty, 2), self.returned(ty, 2));
                    Node::Line(format!(
                        "if {cond} {{ return {a}; }} else {{ return {b}; }}"
                    ))
                }
                _ => Node::Line(format!("return {};", self.returned(ty, 3))),
            });
        } else if self.rng.chance(20) {
            body.push(Node::Line("return;".into()));
        }
        let context = self.function.take();
        let self_calls = context.map_or(0, |c| u64::from(c.self_calls));
        // Depth is at most 3 and each activation makes at most `self_calls` recursive calls.
        let cost = if recursive {
            self.cost * (1 + self_calls + self_calls.pow(2) + self_calls.pow(3))
        } else {
            self.cost
        };
        self.functions.push(FnSig { cost, ..sig });
        Node::Compound {
            parts: vec![(header, body)],
            end: "}".into(),
        }
    }

    /// A value for `return` in the current function (`[]` only when the result type is written).
    fn returned(&mut self, ty: &Ty, depth: u32) -> String {
        let written = self.function.as_ref().is_some_and(|f| f.ret_written);
        if written {
            self.value_of(ty, depth)
        } else {
            self.expr(ty, depth)
        }
    }

    // ---- statements ----------------------------------------------------------------------------

    /// Whether to choose a fault-prone form of a value operation (an index or bounds that may be
    /// out of range, an unguarded `pop`, a raw `to_int`, a text `parse_int` rejects): rarer than
    /// the int hazards, since each program has many of these sites.
    fn risky(&mut self) -> bool {
        self.rng.chance(self.hazard)
    }

    /// Charges `amount` (times the loop multiplier) to the current body if the budget allows.
    fn afford(&mut self, amount: u64) -> bool {
        let charge = amount.saturating_mul(self.multiplier);
        if self.cost.saturating_add(charge) > self.budget {
            return false;
        }
        self.cost += charge;
        true
    }

    /// A statement (sometimes several lines: a loop guard's `let` and the loop, an aliasing
    /// scenario).
    fn statement(&mut self) -> Vec<Node> {
        self.statements_left = self.statements_left.saturating_sub(1);
        if !self.afford(1) {
            self.statements_left = 0;
            return Vec::new();
        }
        let in_loop = self.loop_depth > 0;
        let in_function = self.function.is_some();
        let has_var = !self.visible(|v| v.assignable).is_empty();
        let has_composite = !self
            .visible(|v| v.assignable && v.ty.is_composite())
            .is_empty();
        let has_shared = !self
            .visible(|v| v.assignable && v.ty.is_shared())
            .is_empty();
        let can_nest = self.loop_depth < 3 && self.scopes.len() < 6;
        let weights = [
            5,                                             // let
            if has_var { 4 } else { 0 },                   // assignment
            if has_var { 3 } else { 0 },                   // compound assignment
            5,                                             // print
            if can_nest { 3 } else { 0 },                  // if
            if can_nest { 2 } else { 0 },                  // while
            if can_nest { 2 } else { 0 },                  // for over a range
            if in_loop { 2 } else { 0 },                   // break / continue
            if in_function { 1 } else { 0 },               // return
            u64::from(self.rng.chance(self.hazard * 3)),   // exit
            if self.functions.is_empty() { 0 } else { 2 }, // call statement
            if can_nest { 1 } else { 0 },                  // block
            u64::from(can_nest && self.live_blocks),       // live block
            u64::from(self.rng.chance(self.hazard * 3)),   // assert
            if can_nest { 2 } else { 0 },                  // for over an array
            if has_composite { 4 } else { 0 },             // array update
            if has_shared { 2 } else { 0 },                // aliasing scenario
            if can_nest { 3 } else { 0 },                  // match
            if can_nest { 2 } else { 0 },                  // if let
            if can_nest { 1 } else { 0 },                  // while let
            if can_nest { 2 } else { 0 },                  // maps and sets
        ];
        match self.rng.weighted(&weights) {
            0 => vec![self.let_statement()],
            1 => match self.random_place(&|_| true) {
                Some(place) => self.assignment(place),
                None => Vec::new(),
            },
            2 => {
                let scalar = |ty: &Ty| matches!(ty, Ty::Int | Ty::Float | Ty::Str);
                match self.random_place(&scalar) {
                    Some(place) => self.compound_assignment(place),
                    None => Vec::new(),
                }
            }
            3 => self.print_statement(),
            4 => vec![self.if_statement()],
            5 => self.while_loop(),
            6 => vec![self.for_loop()],
            7 => {
                let jump = if self.rng.chance(50) {
                    "break;"
                } else {
                    "continue;"
                };
                if self.rng.chance(80) {
                    let cond = self.expr(&Ty::Bool, 2);
                    vec![Node::Line(format!("if {cond} {{ {jump} }}"))]
                } else {
                    vec![Node::Line(jump.into())]
                }
            }
            8 => {
                let ret = self.function.as_ref().and_then(|f| f.ret.clone());
                let value = match ret {
                    Some(ty) => format!(" {}", self.returned(&ty, 2)),
                    None => String::new(),
                };
                if self.rng.chance(80) {
                    let cond = self.expr(&Ty::Bool, 2);
                    vec![Node::Line(format!("if {cond} {{ return{value}; }}"))]
                } else {
                    vec![Node::Line(format!("return{value};"))]
                }
            }
            9 => {
                let code = if self.rng.chance(70) {
                    self.rng.pick(EXIT_CODES).to_string()
                } else {
                    self.expr(&Ty::Int, 2)
                };
                let cond = self.expr(&Ty::Bool, 2);
                vec![Node::Line(format!("if {cond} {{ exit({code}); }}"))]
            }
            10 => {
                let candidates: Vec<FnSig> = self.functions.clone();
                let sig = self.rng.pick(&candidates).clone();
                match self.call(&sig, 2) {
                    Some(call) => vec![Node::Line(format!("{call};"))],
                    None => Vec::new(),
                }
            }
            11 => {
                self.scopes.push(Vec::new());
                let count = 1 + self.rng.below(3) as u32;
                let body = self.statements(count);
                self.scopes.pop();
                vec![Node::Compound {
                    parts: vec![("{".into(), body)],
                    end: "}".into(),
                }]
            }
            12 => vec![self.live_block()],
            13 => vec![self.assert_statement()],
            14 => vec![self.for_in_loop()],
            15 => match self.random_place(&|ty| matches!(ty, Ty::Array(_))) {
                Some(place) => self.array_update(place),
                None => Vec::new(),
            },
            16 => self.aliasing_scenario(),
            17 => self.match_statement(),
            18 => vec![self.if_let_statement()],
            19 => self.while_let_loop(),
            _ => self.map_scenario(),
        }
    }

    /// A map (or a set) built from random keys and values in a block of its own, then changed,
    /// queried, compared, iterated and printed: the keys are ints, strings, bools or tuples of
    /// them, the values of any type.
    fn map_scenario(&mut self) -> Vec<Node> {
        let key = match self.rng.below(4) {
            0 => Ty::Int,
            1 => Ty::Str,
            2 => Ty::Bool,
            _ => Ty::Tuple(vec![Ty::Int, Ty::Str]),
        };
        let key_name = key.name(&self.enums);
        let set = self.rng.chance(30);
        let value = if set {
            Ty::Bool
        } else {
            self.random_type(FIELD_SIZE_LIMIT)
        };
        let value_name = value.name(&self.enums);
        let entries = 1 + self.rng.below(5);
        // Each entry is printed at most a few times.
        if !self.afford(4 * entries * (self.size(&key) + self.size(&value))) {
            return Vec::new();
        }
        self.scopes.push(Vec::new());
        let (map, copy) = (self.fresh("m"), self.fresh("m"));
        let mut body = Vec::new();
        let kind = if set {
            format!("set<{key_name}>")
        } else {
            format!("map<{key_name}, {value_name}>")
        };
        body.push(Node::Line(format!(
            "let {map}: {kind} = {}_new();",
            if set { "set" } else { "map" }
        )));
        // A few keys, some of them repeated, so that inserts replace and removes find.
        let keys: Vec<String> = (0..entries).map(|_| self.expr(&key, 1)).collect();
        for _ in 0..entries {
            let k = self.rng.pick(&keys).clone();
            let line = if set {
                format!("{map} = {map}.insert({k});")
            } else {
                let v = self.value_of(&value, 2);
                match self.rng.below(3) {
                    0 => format!("{map} = map_insert({map}, {k}, {v});"),
                    _ => format!("{map} = {map}.insert({k}, {v});"),
                }
            };
            body.push(Node::Line(line));
        }
        body.push(Node::Line(format!("let {copy} = {map};")));
        if self.rng.chance(60) {
            let k = self.rng.pick(&keys).clone();
            body.push(Node::Line(format!("{map} = {map}.remove({k});")));
        }
        let probe = self.rng.pick(&keys).clone();
        body.push(Node::Line(format!("println({map});")));
        body.push(Node::Line(format!("println({copy} == {map});")));
        body.push(Node::Line(format!("println(len({map}) + len({copy}));")));
        if set {
            body.push(Node::Line(format!("println({map}.has({probe}));")));
            body.push(Node::Line(format!(
                "println(set_union({map}, {copy}) == set_from_array(concat({map}.items(), {copy}.items())));"
            )));
            body.push(Node::Line(format!("println({copy}.difference({map}));")));
        } else {
            let fallback = self.value_of(&value, 1);
            body.push(Node::Line(format!(
                "println({map}.get_or({probe}, {fallback}));"
            )));
            body.push(Node::Line(format!("println({map}.contains_key({probe}));")));
            body.push(Node::Line(format!("println({copy}.keys());")));
            body.push(Node::Line(format!("println(to_string({copy}.values()));")));
        }
        let item = self.fresh("x");
        let each = if set {
            format!("for {item} in {map} {{ println({item}); }}")
        } else {
            let other = self.fresh("x");
            format!("for ({item}, {other}) in {copy} {{ println({item}); println({other}); }}")
        };
        body.push(Node::Line(each));
        self.scopes.pop();
        vec![Node::Compound {
            parts: vec![("{".into(), body)],
            end: "}".into(),
        }]
    }

    /// `live { ... }`: its body may run three times (a fault inside it is retried), so it is
    /// charged three times; it often ends with an assertion that fails on the first attempts.
    fn live_block(&mut self) -> Node {
        let saved = self.multiplier;
        self.multiplier = self.multiplier.saturating_mul(3);
        self.scopes.push(Vec::new());
        let count = 1 + self.rng.below(3) as u32;
        let mut body = self.statements(count);
        if self.rng.chance(60) {
            let at = self.rng.below(body.len() as u64 + 1) as usize;
            let attempts = self.rng.below(4);
            body.insert(
                at,
                Node::Line(format!("assert(live_retries() >= {attempts});")),
            );
        }
        self.scopes.pop();
        self.multiplier = saved;
        Node::Compound {
            parts: vec![("live {".into(), body)],
            end: "}".into(),
        }
    }

    /// `assert(c)`, sometimes with a message (evaluated only when the assertion fails).
    fn assert_statement(&mut self) -> Node {
        let cond = self.expr(&Ty::Bool, 2);
        if self.rng.chance(30) {
            let message = self.sized(&Ty::Str, 2, STRING_LIMIT);
            Node::Line(format!("assert({cond}, {message});"))
        } else {
            Node::Line(format!("assert({cond});"))
        }
    }

    /// Up to `count` statements (fewer when the body's statement allowance runs out).
    fn statements(&mut self, count: u32) -> Vec<Node> {
        let mut nodes = Vec::new();
        for _ in 0..count {
            if self.statements_left == 0 {
                break;
            }
            nodes.extend(self.statement());
        }
        nodes
    }

    fn let_statement(&mut self) -> Node {
        let mut ty = self.interesting_type();
        if let Ty::Tuple(elems) = &ty {
            if self.rng.chance(50) {
                return self.destructuring_let(elems.clone());
            }
        }
        // Sometimes shadow a variable of an outer scope, possibly with another type.
        let (outer, current): (Vec<Var>, Vec<String>) = match self.scopes.split_last() {
            Some((current, outer)) => (
                outer
                    .iter()
                    .flatten()
                    .filter(|v| v.assignable && !current.iter().any(|c| c.name == v.name))
                    .cloned()
                    .collect(),
                current.iter().map(|v| v.name.clone()).collect(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        // Sometimes name it after a struct field of its type, for the shorthand `new S { x }`.
        let fields: Vec<(String, Ty)> = self
            .structs
            .iter()
            .flat_map(|s| s.fields.iter().cloned())
            .filter(|(name, _)| !current.contains(name))
            .collect();
        let name = if !fields.is_empty() && self.rng.chance(15) {
            let (name, field_ty) = self.rng.pick(&fields).clone();
            ty = field_ty;
            name
        } else if !outer.is_empty() && self.rng.chance(25) {
            self.rng.pick(&outer).name.clone()
        } else {
            self.fresh("v")
        };
        let (annotation, value) = if self.rng.chance(30) {
            (format!(": {}", ty.name(&self.enums)), self.value_of(&ty, 3))
        } else {
            (String::new(), self.value_expr(&ty))
        };
        self.declare(name.clone(), ty, true);
        Node::Line(format!("let {name}{annotation} = {value};"))
    }

    /// `let (a, _, c) = e;`: fresh names for the elements (or `_`), declared with their types.
    fn destructuring_let(&mut self, elems: Vec<Ty>) -> Node {
        let value = self.value_expr(&Ty::Tuple(elems.clone()));
        let pattern = self.tuple_pattern(&elems);
        Node::Line(format!("let {pattern} = {value};"))
    }

    /// A pattern for a tuple of `elems`: fresh names (declared assignable) or `_`, nested for
    /// elements that are tuples themselves.
    fn tuple_pattern(&mut self, elems: &[Ty]) -> String {
        let mut parts = Vec::new();
        for elem in elems {
            parts.push(match elem {
                Ty::Tuple(inner) if self.rng.chance(50) => self.tuple_pattern(inner),
                _ if self.rng.chance(15) => "_".to_string(),
                _ => {
                    let name = self.fresh("v");
                    self.declare(name.clone(), elem.clone(), true);
                    name
                }
            });
        }
        format!("({})", parts.join(", "))
    }

    /// `print`, `println` or `eprintln` of a value of any type, sometimes through `to_string`,
    /// `join` or `+`.
    fn print_statement(&mut self) -> Vec<Node> {
        let print = *self
            .rng
            .pick(&["print", "print", "println", "println", "eprintln"]);
        let ty = self.interesting_type();
        // Printing a big value costs more than a statement.
        if !self.afford(self.size(&ty)) {
            return Vec::new();
        }
        let value = self.value_expr(&ty);
        let value = match self.rng.below(9) {
            0 => self.builtin("to_string", vec![value]),
            8 => self.builtin("json_encode", vec![value]),
            1 if ty.is_renderable() => {
                let label = self.string_literal(8);
                format!("{label} + {value}")
            }
            2 if ty == Ty::array(Ty::Str) => {
                let separator = self.rng.pick(SEPARATORS).to_string();
                self.builtin("join", vec![value, separator])
            }
            _ => value,
        };
        vec![Node::Line(format!("{print}({value});"))]
    }

    fn if_statement(&mut self) -> Node {
        let mut parts = Vec::new();
        let cond = self.expr(&Ty::Bool, 3);
        parts.push((format!("if {cond} {{"), self.scoped_block()));
        while self.rng.chance(30) {
            let cond = self.expr(&Ty::Bool, 2);
            parts.push((format!("}} else if {cond} {{"), self.scoped_block()));
        }
        if self.rng.chance(50) {
            parts.push(("} else {".into(), self.scoped_block()));
        }
        Node::Compound {
            parts,
            end: "}".into(),
        }
    }

    fn scoped_block(&mut self) -> Vec<Node> {
        self.scopes.push(Vec::new());
        let count = 1 + self.rng.below(3) as u32;
        let body = self.statements(count);
        self.scopes.pop();
        body
    }

    /// A loop body run at most `trips` times.
    fn loop_body(&mut self, trips: u64, declare: Option<(String, Ty, bool)>) -> Vec<Node> {
        self.loop_body_with(trips, |this| {
            if let Some((name, ty, assignable)) = declare {
                this.declare(name, ty, assignable);
            }
        })
    }

    /// [`Generator::loop_body`] whose scope starts with what `declare` declares.
    fn loop_body_with(&mut self, trips: u64, declare: impl FnOnce(&mut Generator)) -> Vec<Node> {
        let saved = self.multiplier;
        self.multiplier = self.multiplier.saturating_mul(trips.max(1));
        self.loop_depth += 1;
        self.scopes.push(Vec::new());
        declare(self);
        let count = 1 + self.rng.below(5) as u32;
        let body = self.statements(count);
        self.scopes.pop();
        self.loop_depth -= 1;
        self.multiplier = saved;
        body
    }

    /// `let w = 0;` and a `while` loop that increments `w` first and stops after a few trips.
    fn while_loop(&mut self) -> Vec<Node> {
        let guard = self.fresh("w");
        let trips = self.rng.range(0, 5);
        let header = if self.rng.chance(50) {
            let cond = self.loop_header(|this| this.expr(&Ty::Bool, 2));
            format!("while {guard} < {trips} && {cond} {{ {guard} += 1;")
        } else {
            format!("while true {{ {guard} += 1; if {guard} > {trips} {{ break; }}")
        };
        self.declare(guard.clone(), Ty::Int, false);
        let body = self.loop_body(trips as u64 + 1, None);
        vec![
            Node::Line(format!("let {guard} = 0;")),
            Node::Compound {
                parts: vec![(header, body)],
                end: "}".into(),
            },
        ]
    }

    /// A `for` loop over a range of at most 11 values.
    fn for_loop(&mut self) -> Node {
        let var = self.fresh("i");
        let (start, end) = match self.rng.below(4) {
            0 => {
                let low = self.rng.range(-3, 3);
                (low.to_string(), (low + self.rng.range(-1, 6)).to_string())
            }
            1 => (
                format!("({} & 7) - 3", self.expr(&Ty::Int, 1)),
                format!("{} & 7", self.expr(&Ty::Int, 1)),
            ),
            2 => (
                self.rng.range(0, 2).to_string(),
                format!("{} % 5", self.expr(&Ty::Int, 1)),
            ),
            // Over the indices of an array (at most ARRAY_LIMIT trips).
            _ => {
                let ty = self.array_type();
                let array = self.expr(&ty, 1);
                (self.rng.range(0, 1).to_string(), format!("len({array})"))
            }
        };
        let body = self.loop_body(11, Some((var.clone(), Ty::Int, true)));
        Node::Compound {
            parts: vec![(format!("for {var} in {start}..{end} {{"), body)],
            end: "}".into(),
        }
    }

    /// `for x in a { ... }` over an array (at most [`ARRAY_LIMIT`] trips), often a variable the
    /// body may change: the loop walks the value the array had when it started.
    fn for_in_loop(&mut self) -> Node {
        let arrays = self.visible(|v| matches!(v.ty, Ty::Array(_)));
        let (array, elem) = if !arrays.is_empty() && self.rng.chance(70) {
            let var = self.rng.pick(&arrays).clone();
            (var.name, var.ty.elem().cloned().unwrap_or(Ty::Int))
        } else {
            let elem = self.random_type(TYPE_SIZE_LIMIT / ARRAY_LIMIT);
            (self.expr(&Ty::array(elem.clone()), 2), elem)
        };
        let mut var = self.fresh("x");
        let body = match elem {
            // Elements that are tuples are often taken apart by the loop's pattern.
            Ty::Tuple(elems) if self.rng.chance(60) => self.loop_body_with(ARRAY_LIMIT, |this| {
                var = this.tuple_pattern(&elems);
            }),
            elem => self.loop_body(ARRAY_LIMIT, Some((var.clone(), elem, true))),
        };
        Node::Compound {
            parts: vec![(format!("for {var} in {array} {{"), body)],
            end: "}".into(),
        }
    }

    // ---- places and updates --------------------------------------------------------------------

    /// The places inside a value of type `ty` whose types satisfy `want`, as steps from the value
    /// (the value itself first), at most three steps deep.
    fn place_shapes(
        &self,
        ty: &Ty,
        depth: u32,
        want: &dyn Fn(&Ty) -> bool,
        prefix: &mut Vec<Step>,
        found: &mut Vec<(Vec<Step>, Ty)>,
    ) {
        if want(ty) {
            found.push((prefix.clone(), ty.clone()));
        }
        if depth == 0 {
            return;
        }
        match ty {
            Ty::Array(elem) => {
                prefix.push(Step::Element);
                self.place_shapes(elem, depth - 1, want, prefix, found);
                prefix.pop();
            }
            Ty::Struct(index) => {
                for (name, field) in &self.structs[*index].fields {
                    prefix.push(Step::Field(name.clone()));
                    self.place_shapes(field, depth - 1, want, prefix, found);
                    prefix.pop();
                }
            }
            Ty::Tuple(elems) => {
                for (index, elem) in elems.iter().enumerate() {
                    prefix.push(Step::Field(index.to_string()));
                    self.place_shapes(elem, depth - 1, want, prefix, found);
                    prefix.pop();
                }
            }
            _ => {}
        }
    }

    /// A place of a type satisfying `want` in some assignable variable, with its indices chosen.
    fn random_place(&mut self, want: &dyn Fn(&Ty) -> bool) -> Option<Place> {
        let mut all = Vec::new();
        for var in self.visible(|v| v.assignable) {
            let mut shapes = Vec::new();
            self.place_shapes(&var.ty, 3, want, &mut Vec::new(), &mut shapes);
            all.extend(
                shapes
                    .into_iter()
                    .map(|(steps, ty)| (var.clone(), steps, ty)),
            );
        }
        if all.is_empty() {
            return None;
        }
        let (var, steps, ty) = self.rng.pick(&all).clone();
        Some(self.place(&var, &steps, ty))
    }

    /// The place `steps` inside `var`, with an index chosen for each element step.
    fn place(&mut self, var: &Var, steps: &[Step], ty: Ty) -> Place {
        let mut text = var.name.clone();
        let mut guard = Vec::new();
        for step in steps {
            match step {
                Step::Field(name) => text = format!("{text}.{name}"),
                Step::Element => {
                    let index = self.place_index(&text, &mut guard);
                    text = format!("{text}[{index}]");
                }
            }
        }
        Place { text, ty, guard }
    }

    /// An index into the array at `container` without side effects (it may be evaluated twice),
    /// adding the condition that keeps it in bounds to `guard`; in hazardous programs, sometimes
    /// any int expression, unguarded.
    fn place_index(&mut self, container: &str, guard: &mut Vec<String>) -> String {
        if self.risky() {
            return self.expr(&Ty::Int, 1);
        }
        let ints = self.visible(|v| v.ty == Ty::Int);
        match self.rng.below(5) {
            // A variable or a literal on both sides of `a[i] = push(a[i], x)` makes the update
            // in place (`sema::lower::in_place_update`).
            0 | 1 if !ints.is_empty() => {
                let var = self.rng.pick(&ints).name.clone();
                guard.push(format!("{var} >= 0 && {var} < len({container})"));
                var
            }
            2 if !ints.is_empty() => {
                let var = self.rng.pick(&ints).name.clone();
                guard.push(format!("len({container}) > 0"));
                format!("({var} & 7) % len({container})")
            }
            _ => {
                let index = self.rng.below(3);
                guard.push(format!("len({container}) > {index}"));
                index.to_string()
            }
        }
    }

    /// Some update of `var` or of a part of it.
    fn mutation(&mut self, var: &Var) -> Vec<Node> {
        let mut shapes = Vec::new();
        self.place_shapes(&var.ty, 3, &|_| true, &mut Vec::new(), &mut shapes);
        let (steps, ty) = self.rng.pick(&shapes).clone();
        let place = self.place(var, &steps, ty);
        match place.ty {
            Ty::Array(_) if self.rng.chance(60) => self.array_update(place),
            Ty::Int | Ty::Float | Ty::Str if self.rng.chance(50) => self.compound_assignment(place),
            _ => self.assignment(place),
        }
    }

    /// `place = value;`
    fn assignment(&mut self, place: Place) -> Vec<Node> {
        let value = self.value_of(&place.ty, 3);
        vec![guarded(&place.guard, format!("{} = {value};", place.text))]
    }

    /// `place op= value;` on an int, float or string place (`+=` on a string only while the
    /// result stays within [`STRING_LIMIT`]).
    fn compound_assignment(&mut self, place: Place) -> Vec<Node> {
        let Place {
            text,
            ty,
            mut guard,
        } = place;
        let (op, value) = match ty {
            Ty::Int => {
                let op = *self.rng.pick(&["+=", "-=", "*=", "/=", "%="]);
                let value = if matches!(op, "/=" | "%=") {
                    self.divisor()
                } else if op == "*=" {
                    self.factor(2)
                } else {
                    self.expr(&Ty::Int, 2)
                };
                (op, value)
            }
            Ty::Float => {
                let op = *self.rng.pick(&["+=", "-=", "*=", "/="]);
                (op, self.expr(&Ty::Float, 2))
            }
            _ => {
                let max = *self.rng.pick(&[1, 2, 4, 8, INT_TEXT, FLOAT_TEXT]);
                guard.push(format!("len({text}) <= {}", STRING_LIMIT - max));
                ("+=", self.rendered(2, max))
            }
        };
        vec![guarded(&guard, format!("{text} {op} {value};"))]
    }

    /// `a = push(a, x);` and the other ways of replacing an array by a function of itself, which
    /// the lowering turns into in-place updates of fields and elements; guarded so that the array
    /// stays within [`ARRAY_LIMIT`] (and, unless the program is hazardous, `pop` has something to
    /// remove).
    fn array_update(&mut self, place: Place) -> Vec<Node> {
        let Place {
            text: a,
            ty,
            mut guard,
        } = place;
        let elem = ty.elem().cloned().unwrap_or(Ty::Int);
        let statement = match self.rng.below(8) {
            0..=2 => {
                guard.push(format!("len({a}) < {ARRAY_LIMIT}"));
                let value = self.value_of(&elem, 2);
                format!("{a} = push({a}, {value});")
            }
            3 => {
                if !self.risky() {
                    guard.push(format!("len({a}) > 0"));
                }
                format!("{a} = pop({a});")
            }
            4 => {
                let more = 1 + self.rng.below(3);
                guard.push(format!("len({a}) <= {}", ARRAY_LIMIT - more));
                let value = self.value_sized(&ty, 2, more);
                format!("{a} = concat({a}, {value});")
            }
            5 => format!("{a} = reverse({a});"),
            6 if elem.is_sortable() => format!("{a} = sort({a});"),
            _ => match self.rng.below(3) {
                0 => format!("{a} = slice({a}, 0, len({a}) / 2);"),
                1 => format!("{a} = {a}[len({a}) / 2..len({a})];"),
                _ => {
                    guard.push(format!("len({a}) > 0"));
                    format!("{a} = slice({a}, 1, len({a}));")
                }
            },
        };
        vec![guarded(&guard, statement)]
    }

    /// Value semantics under aliasing: copy a variable (or a field of one), change the copy, the
    /// original or both (in either order), pass the original to a function (which may change its
    /// parameter), and print both, so that a missing or misplaced copy-on-write shows as
    /// different output.
    fn aliasing_scenario(&mut self) -> Vec<Node> {
        let vars = self.visible(|v| v.assignable && v.ty.is_shared());
        let original = self.rng.pick(&vars).clone();
        if !self.afford(4 + 3 * self.size(&original.ty)) {
            return Vec::new();
        }
        // The copied value: the variable, or a field (at any depth) holding a heap value.
        let mut shapes = Vec::new();
        let shared_field = |ty: &Ty| ty.is_shared();
        self.place_shapes(&original.ty, 3, &shared_field, &mut Vec::new(), &mut shapes);
        shapes.retain(|(steps, _)| steps.iter().all(|s| matches!(s, Step::Field(_))));
        let (steps, ty) = if self.rng.chance(30) {
            self.rng.pick(&shapes).clone()
        } else {
            (Vec::new(), original.ty.clone())
        };
        let source = self.place(&original, &steps, ty);
        let copy = Var {
            name: self.fresh("c"),
            ty: source.ty.clone(),
            assignable: true,
        };
        let mut nodes = vec![Node::Line(format!("let {} = {};", copy.name, &source.text))];
        self.declare(copy.name.clone(), copy.ty.clone(), true);
        let mut changed = vec![copy.clone(), original.clone()];
        if self.rng.chance(50) {
            changed.swap(0, 1);
        }
        if self.rng.chance(30) {
            changed.pop();
        }
        for var in &changed {
            nodes.extend(self.mutation(var));
        }
        if let Some((call, ret)) = self.call_passing(&original) {
            nodes.push(Node::Line(match ret {
                Some(_) => format!("println({call});"),
                None => format!("{call};"),
            }));
        }
        nodes.push(Node::Line(format!("println({});", original.name)));
        nodes.push(Node::Line(format!("println({});", copy.name)));
        if self.rng.chance(40) {
            nodes.push(Node::Line(format!(
                "println({} == {});",
                source.text, copy.name
            )));
        }
        nodes
    }

    // ---- expressions ---------------------------------------------------------------------------

    /// A printed or stored value: usually a small expression, sometimes a deep one.
    fn value_expr(&mut self, ty: &Ty) -> String {
        let depth = if self.rng.chance(10) { 6 } else { 3 };
        self.expr(ty, depth)
    }

    /// An expression of type `ty`, nested at most `depth` deep.
    fn expr(&mut self, ty: &Ty, depth: u32) -> String {
        self.sized(ty, depth, ty.bound())
    }

    /// [`Generator::expr`] where the type is known from the context (a `let` annotation, the
    /// place assigned, a parameter, a field, a written result type, the array pushed into,
    /// concatenated to or compared with), so an empty array may be written `[]`.
    fn value_of(&mut self, ty: &Ty, depth: u32) -> String {
        self.value_sized(ty, depth, ty.bound())
    }

    /// [`Generator::sized`] where the type is known from the context (see [`Generator::value_of`]).
    fn value_sized(&mut self, ty: &Ty, depth: u32, max: u64) -> String {
        if matches!(ty, Ty::Array(_)) && self.rng.chance(10) {
            return "[]".into();
        }
        self.sized(ty, depth, max)
    }

    /// An expression of type `ty`, nested at most `depth` deep, whose value, when a string or an
    /// array, is at most `max` long (scalars or elements).
    ///
    /// Sizes: every string and array a program stores (in a variable, field, element, parameter
    /// or result) is at most [`STRING_LIMIT`] / [`ARRAY_LIMIT`] long, so variables, fields,
    /// elements and call results may appear only where `max` allows that much; the operations
    /// split `max` among their operands (`concat(a, b)`: `a` and `b` share it), and statements
    /// that grow a stored value are guarded (`if len(a) < 6 { a = push(a, x); }`). With types
    /// of bounded size (no recursive structs), every value is small, whatever the loops do.
    fn sized(&mut self, ty: &Ty, depth: u32, max: u64) -> String {
        if depth == 0 {
            return self.leaf(ty, max);
        }
        let any_length = ty.bound() <= max;
        let callable = any_length && self.callable(ty);
        let fields = if any_length {
            self.fields_of_type(ty)
        } else {
            Vec::new()
        };
        let element_ok = any_length && self.size(&Ty::array(ty.clone())) <= 2 * TYPE_SIZE_LIMIT;
        let tuple_parts = if any_length {
            self.tuple_parts_of_type(ty)
        } else {
            Vec::new()
        };
        let block_ok = depth >= 2 && self.scopes.len() < 7;
        let weights = [
            3,                                          // leaf
            6,                                          // an operation of the type
            if callable { 2 } else { 0 },               // call
            1,                                          // if expression
            if block_ok { 1 } else { 0 },               // block expression
            if element_ok { 1 } else { 0 },             // element of an array
            if fields.is_empty() { 0 } else { 1 },      // field of a struct
            if tuple_parts.is_empty() { 0 } else { 1 }, // element of a tuple
            if block_ok { 1 } else { 0 },               // match or if let
            1,                                          // through a generic helper
        ];
        match self.rng.weighted(&weights) {
            0 => self.leaf(ty, max),
            1 => self.operation(ty, depth - 1, max),
            2 => self.call_returning(ty, depth - 1),
            3 => {
                let cond = self.expr(&Ty::Bool, depth - 1);
                let then = self.sized(ty, depth - 1, max);
                let other = self.sized(ty, depth - 1, max);
                format!("(if {cond} {{ {then} }} else {{ {other} }})")
            }
            4 => self.block_expression(ty, depth - 1, max),
            5 => self.element_read(ty, depth - 1),
            6 => self.field_read(&fields, depth - 1),
            7 => self.rng.pick(&tuple_parts).clone(),
            8 => self.match_expression(ty, depth - 1, max),
            _ => self.through_generic(ty, depth - 1, max),
        }
    }

    /// A value of type `ty` through the generic helpers every program declares
    /// ([`GENERIC_HELPERS`]), each called with the type arguments its arguments tell.
    fn through_generic(&mut self, ty: &Ty, depth: u32, max: u64) -> String {
        match self.rng.below(8) {
            5 | 6 => self.through_closure(ty, depth, max),
            // How often `g_count` ran so far, through its `static let`.
            7 if *ty == Ty::Int => "g_count()".to_string(),
            0 => {
                let cond = self.expr(&Ty::Bool, depth);
                let a = self.sized(ty, depth, max);
                let b = self.sized(ty, depth, max);
                format!("g_pick({cond}, {a}, {b})")
            }
            1 => {
                let a = self.sized(ty, depth, max);
                self.builtin("unwrap", vec![format!("g_wrap({a})")])
            }
            2 => {
                let other = self.random_type(TYPE_SIZE_LIMIT / 2);
                let first = self.expr(&other, depth);
                let a = self.sized(ty, depth, max);
                format!("g_second(({first}, {a}))")
            }
            // Through a trait bound: every struct is `Weighed`.
            3 if *ty == Ty::Int && !self.structs.is_empty() => {
                let index = self.rng.below(self.structs.len() as u64) as usize;
                let value = self.expr(&Ty::Struct(index), depth);
                format!("g_weigh({value})")
            }
            _ => {
                let option = Ty::Enum(self.prelude_enum("Option", vec![ty.clone()]));
                let held = self.variant_value_of(&option, depth);
                let fallback = self.sized(ty, depth, max);
                self.builtin("unwrap_or", vec![held, fallback])
            }
        }
    }

    /// A value of type `ty` computed by a closure over an argument of that type: called at once,
    /// or passed to `g_apply` or `g_twice` ([`GENERIC_HELPERS`]), or to `map` over a one-element
    /// array. Its body is one expression without statements (so it assigns nothing it
    /// captures), reading the parameter and the variables around it, which it captures.
    fn through_closure(&mut self, ty: &Ty, depth: u32, max: u64) -> String {
        let param = self.fresh("cv");
        let type_name = ty.name(&self.enums);
        let argument = self.sized(ty, depth, max);
        self.scopes.push(Vec::new());
        self.declare(param.clone(), ty.clone(), false);
        let body = self.sized(ty, depth.min(1), max);
        self.scopes.pop();
        let closure = format!("fn({type_name} {param}) -> {type_name} {{ return {body}; }}");
        match self.rng.below(5) {
            0 => format!("({closure})({argument})"),
            1 => format!("g_apply({closure}, {argument})"),
            // Twice: the closure's result is its argument again, so only when that fits.
            2 if ty.bound() <= max => format!("g_twice({closure}, {argument})"),
            3 => self.pipeline(ty, depth, max, &closure, argument),
            _ => format!("[{argument}].map({closure})[0]"),
        }
    }

    /// `[a, b].map(closure).filter(...).fold(init, ...)`: a chain the compiler fuses into one
    /// loop when its closures have no effect (`sema::fuse`), and runs as written otherwise
    /// (a closure calling `g_count`, say); either way every backend must agree, faults included.
    fn pipeline(&mut self, ty: &Ty, depth: u32, max: u64, closure: &str, first: String) -> String {
        let type_name = ty.name(&self.enums);
        let second = self.sized(ty, depth, max);
        let init = self.leaf(ty, max);
        let kept = self.fresh("cv");
        self.scopes.push(Vec::new());
        self.declare(kept.clone(), ty.clone(), false);
        let keep = self.expr(&Ty::Bool, depth.min(1));
        self.scopes.pop();
        let (acc, item) = (self.fresh("cv"), self.fresh("cv"));
        self.scopes.push(Vec::new());
        self.declare(acc.clone(), ty.clone(), false);
        self.declare(item.clone(), ty.clone(), false);
        let combined = self.sized(ty, depth.min(1), max);
        self.scopes.pop();
        format!(
            "[{first}, {second}].map({closure}).filter(fn({type_name} {kept}) -> bool {{ return {keep}; }})\
             .fold({init}, fn({type_name} {acc}, {type_name} {item}) -> {type_name} {{ return {combined}; }})"
        )
    }

    /// A value of the enum type `ty` (a variant of it).
    fn variant_value_of(&mut self, ty: &Ty, depth: u32) -> String {
        match ty {
            Ty::Enum(index) => self.variant_value(*index, depth),
            _ => self.expr(ty, depth),
        }
    }

    /// `({ statements; tail })`.
    fn block_expression(&mut self, ty: &Ty, depth: u32, max: u64) -> String {
        self.scopes.push(Vec::new());
        let saved = self.statements_left;
        self.statements_left = 1 + self.rng.below(3) as u32;
        let body = self.statements(self.statements_left);
        self.statements_left = saved;
        let tail = tail_expression(self.sized(ty, depth, max));
        self.scopes.pop();
        format!("({{ {}{tail} }})", render_inline(&body))
    }

    /// An operation whose result has type `ty`.
    fn operation(&mut self, ty: &Ty, depth: u32, max: u64) -> String {
        match ty {
            Ty::Int if self.rng.chance(25) => self.int_builtin(depth),
            Ty::Int => self.int_operator(depth),
            Ty::Float => self.float_operation(depth),
            Ty::Bool => self.bool_operation(depth),
            Ty::Str => self.string_operation(depth, max),
            Ty::Array(elem) => self.array_operation(elem, depth, max),
            Ty::Struct(index) => self.struct_literal(*index, depth),
            Ty::Tuple(elems) => self.tuple_literal(elems, depth),
            Ty::Enum(index) => self.variant_value(*index, depth),
        }
    }

    fn leaf(&mut self, ty: &Ty, max: u64) -> String {
        if ty.bound() <= max {
            let vars = self.visible(|v| v.ty == *ty);
            if !vars.is_empty() && self.rng.chance(60) {
                return self.rng.pick(&vars).name.clone();
            }
        }
        match ty {
            Ty::Int => self.int_literal(),
            Ty::Float => self.float_literal(),
            Ty::Bool => self.rng.pick(&["true", "false"]).to_string(),
            Ty::Str => self.string_literal(max),
            Ty::Array(elem) => self.array_literal(elem, 0, max),
            Ty::Struct(index) => self.struct_literal(*index, 0),
            Ty::Tuple(elems) => self.tuple_literal(elems, 0),
            Ty::Enum(index) => self.variant_value(*index, 0),
        }
    }

    /// The number in `parsed`, a `parse_int`/`parse_float` Result: by `unwrap` or `expect`,
    /// which fault on an `Err` (only in hazardous programs when the text `may_fail`), else by
    /// `unwrap_or`, `result_unwrap_or` or a `match` with `fallback`.
    fn parsed_number(&mut self, parsed: String, may_fail: bool, fallback: &str) -> String {
        let faulting = !may_fail || self.risky();
        match self.rng.below(5) {
            0 if faulting => self.builtin("unwrap", vec![parsed]),
            1 if faulting => self.builtin("expect", vec![parsed, "\"a number\"".to_string()]),
            0 | 1 => self.builtin("unwrap_or", vec![parsed, fallback.to_string()]),
            2 => self.builtin("result_unwrap_or", vec![parsed, fallback.to_string()]),
            3 => format!("(match {parsed} {{ Ok(n) => n, Err(_) => {fallback} }})"),
            _ => format!("(if let Ok(n) = {parsed} {{ n }} else {{ {fallback} }})"),
        }
    }

    /// A builtin call, sometimes in method form (`a.len()` for `len(a)`).
    fn builtin(&mut self, name: &str, args: Vec<String>) -> String {
        match args.split_first() {
            Some((receiver, rest)) if self.rng.chance(15) => {
                format!("{}.{name}({})", postfix(receiver), rest.join(", "))
            }
            _ => format!("{name}({})", args.join(", ")),
        }
    }

    /// `body` applied to a name for the value of `value`: `value` itself when it is a variable,
    /// else a variable bound to it by a block expression around the result.
    fn with_name(
        &mut self,
        value: String,
        body: impl FnOnce(&mut Generator, &str) -> String,
    ) -> String {
        if is_name(&value) {
            return body(self, &value);
        }
        let name = self.fresh("t");
        let inner = body(self, &name);
        format!("({{ let {name} = {value}; {inner} }})")
    }

    /// A small non-negative index (to be reduced modulo a length).
    fn index_expr(&mut self) -> String {
        if self.rng.chance(50) {
            self.rng.below(4).to_string()
        } else {
            format!("({} & 7)", self.expr(&Ty::Int, 1))
        }
    }

    /// An element of an array of `ty`: guarded by the array's length (a fallback value for an
    /// empty one), or in hazardous programs any index, which may be out of bounds.
    fn element_read(&mut self, ty: &Ty, depth: u32) -> String {
        let array = self.expr(&Ty::array(ty.clone()), depth);
        if self.risky() {
            let index = if self.rng.chance(60) {
                self.rng.range(-1, 6).to_string()
            } else {
                self.expr(&Ty::Int, 1)
            };
            return format!("{}[{index}]", postfix(&array));
        }
        let fallback = self.expr(ty, 0);
        self.with_name(array, |g, a| {
            let index = g.index_expr();
            format!("(if len({a}) > 0 {{ {a}[{index} % len({a})] }} else {{ {fallback} }})")
        })
    }

    /// The struct fields of type `ty`, as (struct, field name).
    fn fields_of_type(&self, ty: &Ty) -> Vec<(usize, String)> {
        let mut found = Vec::new();
        for (index, def) in self.structs.iter().enumerate() {
            for (name, field) in &def.fields {
                if field == ty {
                    found.push((index, name.clone()));
                }
            }
        }
        found
    }

    /// `t.i` (or `t.i.j`) for every element of type `ty` of a visible tuple variable `t`.
    fn tuple_parts_of_type(&self, ty: &Ty) -> Vec<String> {
        fn parts(path: String, of: &Ty, want: &Ty, found: &mut Vec<String>) {
            if let Ty::Tuple(elems) = of {
                for (index, elem) in elems.iter().enumerate() {
                    let path = format!("{path}.{index}");
                    if elem == want {
                        found.push(path.clone());
                    }
                    parts(path, elem, want, found);
                }
            }
        }
        let mut found = Vec::new();
        for var in self.visible(|v| matches!(v.ty, Ty::Tuple(_))) {
            parts(var.name.clone(), &var.ty, ty, &mut found);
        }
        found
    }

    /// `(a, b)` with elements of types `elems`.
    fn tuple_literal(&mut self, elems: &[Ty], depth: u32) -> String {
        let values: Vec<String> = elems
            .iter()
            .map(|elem| self.expr(elem, depth.min(2)))
            .collect();
        format!("({})", values.join(", "))
    }

    /// `s.f` for one of `fields`.
    fn field_read(&mut self, fields: &[(usize, String)], depth: u32) -> String {
        let (index, name) = self.rng.pick(fields).clone();
        let value = self.expr(&Ty::Struct(index), depth);
        match self.rng.below(10) {
            0..=2 => format!("{}.get_{name}()", postfix(&value)),
            3 => format!(
                "{}::get_{name}({value})",
                Ty::Struct(index).name(&self.enums)
            ),
            _ => format!("{}.{name}", postfix(&value)),
        }
    }

    /// `new S { f: v, ... }` with the fields in any order, sometimes by shorthand (`new S { x }`
    /// when a variable `x` of the field's type is visible).
    fn struct_literal(&mut self, index: usize, depth: u32) -> String {
        let mut fields = self.structs[index].fields.clone();
        for i in (1..fields.len()).rev() {
            fields.swap(i, self.rng.below(i as u64 + 1) as usize);
        }
        let mut parts = Vec::new();
        for (name, ty) in &fields {
            let shorthand = self
                .visible(|v| v.name == *name)
                .first()
                .is_some_and(|v| v.ty == *ty);
            if shorthand && self.rng.chance(50) {
                parts.push(name.clone());
            } else {
                let value = self.value_of(ty, depth.min(2));
                parts.push(format!("{name}: {value}"));
            }
        }
        let name = Ty::Struct(index).name(&self.enums);
        let literal = if parts.is_empty() {
            format!("new {name} {{}}")
        } else {
            format!("new {name} {{ {} }}", parts.join(", "))
        };
        let declared = self.structs[index].fields.clone();
        match self.rng.below(10) {
            // The constructor of its `impl` block, the fields in declaration order.
            0 | 1 => {
                let values: Vec<String> = (declared.iter())
                    .map(|(_, ty)| self.value_of(ty, depth.min(2)))
                    .collect();
                format!("{name}::make({})", values.join(", "))
            }
            // A copy with one field changed.
            2 if !declared.is_empty() => {
                let (field, ty) = self.rng.pick(&declared).clone();
                let value = self.value_of(&ty, depth.min(2));
                format!("({literal}).with_{field}({value})")
            }
            _ => literal,
        }
    }

    // ---- enums and match -----------------------------------------------------------------------

    /// `E<n>::V(a, b)` or `E<n>::V` for a random variant, its payload values at most `depth`
    /// deep (the payload types are known, so an empty array may be written `[]`).
    ///
    /// A variant of the prelude's `Option` or `Result` is written bare; when its value does not
    /// tell all the type arguments (`None`, `Ok(1)`, `Err("e")`, but not `Some(1)`), it is
    /// given them by an annotated `let`: `({ let t: Option<int> = None; t })`.
    fn variant_value(&mut self, index: usize, depth: u32) -> String {
        let variants = self.enums[index].variants.clone();
        let (name, payload) = self.rng.pick(&variants).clone();
        // A bare `Some(x)` is typed by `x` alone: no `[]` there.
        let bare_some = self.enums[index].prelude.is_some() && name == "Some";
        let values: Vec<String> = (payload.iter())
            .map(|ty| {
                if bare_some {
                    self.expr(ty, depth.min(2))
                } else {
                    self.value_of(ty, depth.min(2))
                }
            })
            .collect();
        let arguments = if values.is_empty() {
            String::new()
        } else {
            format!("({})", values.join(", "))
        };
        let written = Ty::Enum(index).name(&self.enums);
        match &self.enums[index].prelude {
            None => format!("{written}::{name}{arguments}"),
            Some((enum_name, _)) if enum_name == "Option" && name == "Some" => {
                format!("{name}{arguments}")
            }
            Some(_) => {
                let temp = self.fresh("t");
                format!("({{ let {temp}: {written} = {name}{arguments}; {temp} }})")
            }
        }
    }

    /// The instance of the prelude's `Option` (one type argument) or `Result` (two) for
    /// `args`, added to the enums the first time.
    fn prelude_enum(&mut self, enum_name: &str, args: Vec<Ty>) -> usize {
        let names: Vec<String> = args.iter().map(|ty| ty.name(&self.enums)).collect();
        let written = format!("{enum_name}<{}>", names.join(", "));
        let found = (self.enums.iter())
            .position(|e| e.prelude.as_ref().is_some_and(|(_, w)| *w == written));
        if let Some(index) = found {
            return index;
        }
        let variants = match (enum_name, args.as_slice()) {
            ("Option", [value]) => vec![
                ("None".to_string(), Vec::new()),
                ("Some".to_string(), vec![value.clone()]),
            ],
            (_, [value, error]) => vec![
                ("Ok".to_string(), vec![value.clone()]),
                ("Err".to_string(), vec![error.clone()]),
            ],
            _ => unreachable!("Option takes one type argument, Result two"),
        };
        self.enums.push(EnumDef {
            variants,
            prelude: Some((enum_name.to_string(), written)),
        });
        self.enums.len() - 1
    }

    /// Whether a pattern can match some but not all values of `ty`: literals of ints, bools and
    /// strings, variants of enums (which have at least two), tuples with such an element. Floats,
    /// arrays and structs are matched only by `_` and names.
    fn refutable(&self, ty: &Ty) -> bool {
        match ty {
            Ty::Int | Ty::Bool | Ty::Str | Ty::Enum(_) => true,
            Ty::Tuple(elems) => elems.iter().any(|elem| self.refutable(elem)),
            _ => false,
        }
    }

    /// At most `count` literal patterns of an int or string type, all of different values.
    fn pattern_literals(&mut self, ty: &Ty, count: usize) -> Vec<String> {
        let mut found: Vec<String> = Vec::new();
        for _ in 0..count * 3 {
            if found.len() == count {
                break;
            }
            let literal = match ty {
                Ty::Str => self.rng.pick(STRING_LITERALS).to_string(),
                _ if self.rng.chance(15) => self.rng.pick(PATTERN_INT_EDGES).to_string(),
                _ => self.rng.range(-3, 12).to_string(),
            };
            if !found.contains(&literal) {
                found.push(literal);
            }
        }
        found
    }

    /// A pattern for a value of type `ty` that matches what `want` says (`Want::Some` only where
    /// [`Generator::refutable`] allows, else it matches everything), binding fresh names
    /// (declared in the current scope, assignable) where `cx` allows: nested for payloads and
    /// tuple elements, with literals, variants (with or without the enum's name) and
    /// alternatives.
    fn pattern(&mut self, ty: &Ty, want: Want, cx: PatternContext) -> String {
        let refutable = self.refutable(ty);
        let want = match want {
            Want::Any if refutable && self.rng.chance(35) => Want::Some,
            Want::Some if refutable => Want::Some,
            _ => Want::All,
        };
        if want == Want::All {
            return match ty {
                Ty::Tuple(elems) if self.rng.chance(35) => {
                    let parts: Vec<String> = (elems.iter())
                        .map(|elem| self.pattern(elem, Want::All, cx))
                        .collect();
                    format!("({})", parts.join(", "))
                }
                _ if cx.binds && self.rng.chance(60) => {
                    let name = self.fresh("m");
                    self.declare(name.clone(), ty.clone(), true);
                    name
                }
                _ => "_".into(),
            };
        }
        match ty {
            Ty::Bool => self.rng.pick(&["true", "false"]).to_string(),
            Ty::Int | Ty::Str => {
                let count = if self.rng.chance(25) {
                    2 + self.rng.below(2) as usize
                } else {
                    1
                };
                self.pattern_literals(ty, count).join(" | ")
            }
            Ty::Enum(index) => {
                let count = self.enums[*index].variants.len();
                if count >= 3 && self.rng.chance(20) {
                    // Some variants, not all (the pattern must reject some value).
                    let mut variants: Vec<usize> = (0..count).collect();
                    self.rng.shuffle(&mut variants);
                    variants.truncate(2 + self.rng.below(count as u64 - 2) as usize);
                    self.alternatives(*index, &variants, Want::Any, cx)
                } else {
                    let variant = self.rng.below(count as u64) as usize;
                    self.variant_pattern(*index, variant, Want::Any, cx)
                }
            }
            Ty::Tuple(elems) => {
                let refutable: Vec<usize> = (0..elems.len())
                    .filter(|&i| self.refutable(&elems[i]))
                    .collect();
                let forced = *self.rng.pick(&refutable);
                let parts: Vec<String> = (elems.iter().enumerate())
                    .map(|(i, elem)| {
                        let want = if i == forced { Want::Some } else { Want::Any };
                        self.pattern(elem, want, cx)
                    })
                    .collect();
                format!("({})", parts.join(", "))
            }
            _ => "_".into(),
        }
    }

    /// A pattern for variant `variant` of enum `E<index>`, its payload patterns as `payload`
    /// says (for `Want::Some`, one of them rejects some value when the payload allows), often
    /// without the enum's name.
    fn variant_pattern(
        &mut self,
        index: usize,
        variant: usize,
        payload: Want,
        cx: PatternContext,
    ) -> String {
        let (name, types) = self.enums[index].variants[variant].clone();
        let bare = (cx.bare_units || !types.is_empty())
            && (self.enums[index].prelude.is_some() || self.rng.chance(25));
        let bare = bare && !(self.enums[index].prelude.is_some() && self.rng.chance(15));
        let prefix = if bare {
            String::new()
        } else {
            match &self.enums[index].prelude {
                Some((enum_name, _)) => format!("{enum_name}::"),
                None => format!("{}::", Ty::Enum(index).name(&self.enums)),
            }
        };
        if types.is_empty() {
            return format!("{prefix}{name}");
        }
        let refutable: Vec<usize> = (0..types.len())
            .filter(|&i| self.refutable(&types[i]))
            .collect();
        let forced = match payload {
            Want::Some if !refutable.is_empty() => Some(*self.rng.pick(&refutable)),
            _ => None,
        };
        let parts: Vec<String> = (types.iter().enumerate())
            .map(|(i, ty)| {
                let want = match payload {
                    _ if forced == Some(i) => Want::Some,
                    Want::All => Want::All,
                    _ => Want::Any,
                };
                self.pattern(ty, want, cx)
            })
            .collect();
        format!("{prefix}{name}({})", parts.join(", "))
    }

    /// `p | q | ...`: a pattern for each of `variants` of enum `E<index>`, binding nothing. The
    /// first alternative writes every unit variant with its enum's name: the check that `|`
    /// binds no names reads the first alternative's names, and a bare unit variant there is
    /// taken for a name (E0901 for `Empty | Circle(_)`, while `Circle(_) | Empty` is accepted).
    fn alternatives(
        &mut self,
        index: usize,
        variants: &[usize],
        payload: Want,
        cx: PatternContext,
    ) -> String {
        let parts: Vec<String> = (variants.iter().enumerate())
            .map(|(i, &variant)| {
                let cx = PatternContext {
                    binds: false,
                    bare_units: cx.bare_units && i > 0,
                };
                self.variant_pattern(index, variant, payload, cx)
            })
            .collect();
        parts.join(" | ")
    }

    /// The arms of a `match` on a value of type `ty`, in order. Arms for different variants
    /// or literals are disjoint; for one variant the guarded arms come first, then at most one
    /// arm matching some of its values, then perhaps one matching all of them; and a last arm
    /// matching everything (`_`, a name) is there exactly when the others leave some value
    /// unmatched. So every arm is reachable (no E0422) and the match is exhaustive (no E0423).
    fn arm_plans(&mut self, ty: &Ty) -> Vec<ArmPlan> {
        let mut plans = Vec::new();
        match ty {
            Ty::Enum(index) => {
                let variants = self.enums[*index].variants.clone();
                let mut sequences = Vec::new();
                // Variants without an arm matching all of their values.
                let mut open = Vec::new();
                for (variant, (_, payload)) in variants.iter().enumerate() {
                    let mut arms = Vec::new();
                    if self.rng.chance(30) {
                        arms.push(ArmPlan::Variant {
                            variant,
                            payload: Want::Any,
                            guarded: true,
                        });
                    }
                    if payload.iter().any(|ty| self.refutable(ty)) && self.rng.chance(40) {
                        arms.push(ArmPlan::Variant {
                            variant,
                            payload: Want::Some,
                            guarded: false,
                        });
                    }
                    if self.rng.chance(55) {
                        arms.push(ArmPlan::Variant {
                            variant,
                            payload: Want::All,
                            guarded: false,
                        });
                    } else {
                        open.push(variant);
                    }
                    sequences.push(arms);
                }
                plans = self.interleave(sequences);
                if open.len() >= 2 && self.rng.chance(30) {
                    let take = 2 + self.rng.below(open.len() as u64 - 1) as usize;
                    plans.push(ArmPlan::Variants(open.drain(..take).collect()));
                }
                if !open.is_empty() {
                    plans.push(ArmPlan::Pattern(Want::All, false));
                }
            }
            Ty::Bool => {
                if self.rng.chance(30) {
                    plans.push(ArmPlan::Pattern(Want::Any, true));
                }
                let first = self.rng.chance(50);
                plans.push(ArmPlan::Literals(vec![first.to_string()], false));
                if self.rng.chance(50) {
                    plans.push(ArmPlan::Literals(vec![(!first).to_string()], false));
                } else {
                    plans.push(ArmPlan::Pattern(Want::All, false));
                }
            }
            Ty::Int | Ty::Str => {
                let count = 1 + self.rng.below(4) as usize;
                let mut literals = self.pattern_literals(ty, count);
                while !literals.is_empty() {
                    let take = if literals.len() >= 2 && self.rng.chance(30) {
                        2
                    } else {
                        1
                    };
                    let guarded = self.rng.chance(25);
                    plans.push(ArmPlan::Literals(literals.drain(..take).collect(), guarded));
                    if self.rng.chance(20) {
                        plans.push(ArmPlan::Pattern(Want::All, true));
                    }
                }
                plans.push(ArmPlan::Pattern(Want::All, false));
            }
            _ => {
                for _ in 0..self.rng.below(3) {
                    plans.push(ArmPlan::Pattern(Want::Any, true));
                }
                if self.refutable(ty) && self.rng.chance(70) {
                    plans.push(ArmPlan::Pattern(Want::Some, false));
                }
                plans.push(ArmPlan::Pattern(Want::All, false));
            }
        }
        plans
    }

    /// The arms of `sequences` merged in a random order that keeps the order of each.
    fn interleave(&mut self, mut sequences: Vec<Vec<ArmPlan>>) -> Vec<ArmPlan> {
        for sequence in &mut sequences {
            sequence.reverse();
        }
        let mut merged = Vec::new();
        loop {
            let left: Vec<usize> = (0..sequences.len())
                .filter(|&i| !sequences[i].is_empty())
                .collect();
            if left.is_empty() {
                return merged;
            }
            let pick = *self.rng.pick(&left);
            merged.extend(sequences[pick].pop());
        }
    }

    /// The pattern (and guard) of an arm planned as `plan` in a match on a value of type `ty`,
    /// declaring what it binds in the current scope.
    fn arm_head(&mut self, ty: &Ty, plan: &ArmPlan) -> String {
        let index = match ty {
            Ty::Enum(index) => *index,
            _ => 0,
        };
        let cx = PatternContext::ARM;
        let (pattern, guarded) = match plan {
            ArmPlan::Variant {
                variant,
                payload,
                guarded,
            } => (
                self.variant_pattern(index, *variant, *payload, cx),
                *guarded,
            ),
            ArmPlan::Variants(variants) => {
                (self.alternatives(index, variants, Want::All, cx), false)
            }
            ArmPlan::Literals(literals, guarded) => (literals.join(" | "), *guarded),
            ArmPlan::Pattern(want, guarded) => (self.pattern(ty, *want, cx), *guarded),
        };
        if guarded {
            format!("{pattern} if {}", self.guard())
        } else {
            pattern
        }
    }

    /// An arm's guard: often a test of a name its pattern bound (in the current scope), else
    /// any condition.
    fn guard(&mut self) -> String {
        let bound = self.scopes.last().cloned().unwrap_or_default();
        if !bound.is_empty() && self.rng.chance(70) {
            let var = self.rng.pick(&bound).clone();
            let name = var.name;
            let test = match &var.ty {
                Ty::Int => Some(match self.rng.below(3) {
                    0 => format!("{name} > {}", self.rng.range(-3, 10)),
                    1 => format!("({name} % 2) == 0"),
                    _ => format!("{name} != {}", self.rng.range(-3, 10)),
                }),
                Ty::Float => Some(format!("{name} < {}", self.float_literal())),
                Ty::Bool if self.rng.chance(50) => Some(name),
                Ty::Bool => Some(format!("!{name}")),
                Ty::Str | Ty::Array(_) => Some(format!("len({name}) > {}", self.rng.below(3))),
                ty @ Ty::Enum(_) => Some(format!("{name} != {}", self.value_of(ty, 1))),
                _ => None,
            };
            if let Some(test) = test {
                return test;
            }
        }
        self.expr(&Ty::Bool, 1)
    }

    /// The type of a matched value: mostly an enum, often that of a visible variable; else an
    /// int, a string, a bool or a tuple.
    fn scrutinee_type(&mut self) -> Ty {
        let enum_vars = self.visible(|v| matches!(v.ty, Ty::Enum(_)));
        if !enum_vars.is_empty() && self.rng.chance(50) {
            return self.rng.pick(&enum_vars).ty.clone();
        }
        if !self.enums.is_empty() && self.rng.chance(75) {
            return Ty::Enum(self.rng.below(self.enums.len() as u64) as usize);
        }
        let tuples = self.visible(|v| matches!(v.ty, Ty::Tuple(_)));
        match self.rng.below(5) {
            0 | 1 => Ty::Int,
            2 => Ty::Str,
            3 => Ty::Bool,
            _ if !tuples.is_empty() && self.rng.chance(50) => self.rng.pick(&tuples).ty.clone(),
            _ => Ty::Tuple(vec![self.random_type(8), self.random_type(8)]),
        }
    }

    /// `(match e { ... })` whose arms give values of type `ty` (strings and arrays at most `max`
    /// long), often computed from what the patterns bind; or `(if let P = e { a } else { b })`.
    fn match_expression(&mut self, ty: &Ty, depth: u32, max: u64) -> String {
        let depth = depth.min(2);
        let matched = self.scrutinee_type();
        let scrutinee = self.expr(&matched, depth);
        if self.rng.chance(25) {
            self.scopes.push(Vec::new());
            let pattern = self.pattern(&matched, Want::Some, PatternContext::ARM);
            let then = self.sized(ty, depth, max);
            self.scopes.pop();
            let other = self.sized(ty, depth, max);
            return format!("(if let {pattern} = {scrutinee} {{ {then} }} else {{ {other} }})");
        }
        format!(
            "({})",
            self.match_text(&matched, &scrutinee, ty, depth, max)
        )
    }

    /// `match e { ... }` on `scrutinee` (of type `matched`) whose arms give values of type `ty`,
    /// sometimes blocks (`P => { s; v }`, with or without a comma after).
    fn match_text(
        &mut self,
        matched: &Ty,
        scrutinee: &str,
        ty: &Ty,
        depth: u32,
        max: u64,
    ) -> String {
        let mut text = format!("match {scrutinee} {{");
        let plans = self.arm_plans(matched);
        for (at, plan) in plans.iter().enumerate() {
            self.scopes.push(Vec::new());
            let head = self.arm_head(matched, plan);
            if self.rng.chance(15) && self.scopes.len() < 7 {
                let saved = self.statements_left;
                self.statements_left = 1 + self.rng.below(2) as u32;
                let body = self.statements(self.statements_left);
                self.statements_left = saved;
                let tail = tail_expression(self.sized(ty, depth, max));
                let comma = if self.rng.chance(50) { "," } else { "" };
                let body = render_inline(&body);
                let _ = write!(text, " {head} => {{ {body}{tail} }}{comma}");
            } else {
                let value = self.sized(ty, depth, max);
                let last = at + 1 == plans.len();
                let comma = if last && self.rng.chance(50) { "" } else { "," };
                let _ = write!(text, " {head} => {value}{comma}");
            }
            self.scopes.pop();
        }
        text.push_str(" }");
        text
    }

    /// `match e { ... }` as a statement, its arms blocks of statements (often changing first
    /// what the pattern bound, which must not change the matched value, printed after) or
    /// calls of `println`; or `let v = match e { ... };`.
    fn match_statement(&mut self) -> Vec<Node> {
        let matched = self.scrutinee_type();
        let scrutinee = self.expr(&matched, 2);
        if self.rng.chance(25) {
            let ty = self.interesting_type();
            let value = self.match_text(&matched, &scrutinee, &ty, 2, ty.bound());
            let name = self.fresh("v");
            self.declare(name.clone(), ty, true);
            return vec![Node::Line(format!("let {name} = {value};"))];
        }
        let mut parts = Vec::new();
        let mut pending = format!("match {scrutinee} {{");
        for plan in self.arm_plans(&matched) {
            self.scopes.push(Vec::new());
            let head = self.arm_head(&matched, &plan);
            if self.rng.chance(60) {
                let mut body = Vec::new();
                let shared: Vec<Var> = (self.scopes.last().into_iter().flatten())
                    .filter(|v| v.ty.is_shared())
                    .cloned()
                    .collect();
                if !shared.is_empty() && self.rng.chance(40) {
                    let var = self.rng.pick(&shared).clone();
                    if self.afford(1 + self.size(&var.ty)) {
                        body.extend(self.mutation(&var));
                        body.push(Node::Line(format!("println({});", var.name)));
                    }
                }
                let count = 1 + self.rng.below(3) as u32;
                body.extend(self.statements(count));
                parts.push((format!("{pending} {head} => {{"), body));
                pending = if self.rng.chance(30) { "}," } else { "}" }.to_string();
            } else {
                let value = self.arm_print();
                let _ = write!(pending, " {head} => {value},");
            }
            self.scopes.pop();
        }
        pending.push_str(" }");
        let mut nodes = vec![if parts.is_empty() {
            Node::Line(pending)
        } else {
            Node::Compound {
                parts,
                end: pending,
            }
        }];
        let is_var = is_name(&scrutinee) && !matches!(scrutinee.as_str(), "true" | "false");
        if is_var && self.rng.chance(40) && self.afford(self.size(&matched)) {
            nodes.push(Node::Line(format!("println({scrutinee});")));
        }
        nodes
    }

    /// `println(x)` (or `print`, `eprintln`) of a name the arm's pattern bound or of another
    /// value, as an arm's expression; `{}` when the budget is spent.
    fn arm_print(&mut self) -> String {
        let print = *self.rng.pick(&["print", "println", "eprintln"]);
        let bound = self.scopes.last().cloned().unwrap_or_default();
        let (value, ty) = if !bound.is_empty() && self.rng.chance(70) {
            let var = self.rng.pick(&bound).clone();
            (var.name, var.ty)
        } else {
            let ty = self.interesting_type();
            (self.value_expr(&ty), ty)
        };
        if !self.afford(self.size(&ty)) {
            return "{}".into();
        }
        format!("{print}({value})")
    }

    /// `if let P = e { ... }`, sometimes followed by `else if let`, `else if` and `else`.
    fn if_let_statement(&mut self) -> Node {
        let mut parts = Vec::new();
        let mut keyword = "if";
        loop {
            let matched = self.scrutinee_type();
            let scrutinee = self.expr(&matched, 2);
            self.scopes.push(Vec::new());
            // Mostly a pattern some values fail, but any pattern is allowed.
            let want = if self.rng.chance(90) {
                Want::Some
            } else {
                Want::Any
            };
            let pattern = self.pattern(&matched, want, PatternContext::ARM);
            let count = 1 + self.rng.below(3) as u32;
            let body = self.statements(count);
            self.scopes.pop();
            parts.push((format!("{keyword} let {pattern} = {scrutinee} {{"), body));
            keyword = "} else if";
            if !self.rng.chance(15) {
                break;
            }
        }
        if self.rng.chance(20) {
            let cond = self.expr(&Ty::Bool, 2);
            parts.push((format!("}} else if {cond} {{"), self.scoped_block()));
        }
        if self.rng.chance(65) {
            parts.push(("} else {".into(), self.scoped_block()));
        }
        Node::Compound {
            parts,
            end: "}".into(),
        }
    }

    /// `let w = 0;` and `while let P = e { w += 1; if w > n { break; } ... }`, `e` often a
    /// variable the body may change.
    /// What `header` generates for a loop's condition or `while let` value, without `break`
    /// or `continue`: there they would belong to the new loop, before its guard counts the
    /// trip, and could loop forever.
    fn loop_header(&mut self, header: impl FnOnce(&mut Self) -> String) -> String {
        let saved = std::mem::replace(&mut self.loop_depth, 0);
        let text = header(self);
        self.loop_depth = saved;
        text
    }

    fn while_let_loop(&mut self) -> Vec<Node> {
        let guard = self.fresh("w");
        let trips = self.rng.range(0, 4);
        let enum_vars = self.visible(|v| v.assignable && matches!(v.ty, Ty::Enum(_)));
        let (matched, scrutinee) = if !enum_vars.is_empty() && self.rng.chance(60) {
            let var = self.rng.pick(&enum_vars).clone();
            (var.ty, var.name)
        } else {
            let matched = self.scrutinee_type();
            let scrutinee = self.loop_header(|this| this.expr(&matched, 2));
            (matched, scrutinee)
        };
        self.declare(guard.clone(), Ty::Int, false);
        let mut pattern = String::new();
        let body = self.loop_body_with(trips as u64 + 1, |this| {
            pattern = this.pattern(&matched, Want::Some, PatternContext::ARM);
        });
        let header = format!(
            "while let {pattern} = {scrutinee} {{ {guard} += 1; if {guard} > {trips} {{ break; }}"
        );
        vec![
            Node::Line(format!("let {guard} = 0;")),
            Node::Compound {
                parts: vec![(header, body)],
                end: "}".into(),
            },
        ]
    }

    // ---- ints ----------------------------------------------------------------------------------

    fn int_literal(&mut self) -> String {
        if self.rng.chance(self.hazard * 2) {
            return match self.rng.below(5) {
                0 => "9223372036854775807".into(),
                1 => "(-9223372036854775807 - 1)".into(),
                2 => "0x7fff_ffff_ffff_fff0".into(),
                3 => "3037000500".into(),
                _ => match self.rng.next() as i64 >> self.rng.below(64) {
                    i64::MIN => "(-9223372036854775807 - 1)".into(),
                    value => value.to_string(),
                },
            };
        }
        match self.rng.below(14) {
            0 => "0b1010".into(),
            1 => "0x1F".into(),
            2 => "63".into(),
            3 => "1_000".into(),
            // Around the limits of 8-, 16- and 32-bit immediate encodings.
            4 => self.rng.pick(ENCODING_LIMITS).to_string(),
            _ => self.rng.range(-10, 30).to_string(),
        }
    }

    /// A right operand for `*`: small unless the program is hazardous.
    fn factor(&mut self, depth: u32) -> String {
        if self.rng.chance(self.hazard * 2) {
            return self.expr(&Ty::Int, depth);
        }
        if self.rng.chance(60) {
            self.rng.range(-10, 10).to_string()
        } else {
            format!("({} & 15)", self.expr(&Ty::Int, depth))
        }
    }

    /// A right operand for `/` or `%`: usually non-zero.
    fn divisor(&mut self) -> String {
        if self.rng.chance(self.hazard * 2) {
            return self.expr(&Ty::Int, 1);
        }
        if self.rng.chance(60) {
            let value = self.rng.range(1, 9) * if self.rng.chance(30) { -1 } else { 1 };
            value.to_string()
        } else {
            format!("({} | 1)", self.expr(&Ty::Int, 1))
        }
    }

    fn int_operator(&mut self, depth: u32) -> String {
        let op = *self
            .rng
            .pick(&["+", "-", "*", "/", "%", "<<", ">>", "&", "|", "^", "neg"]);
        let lhs = self.expr(&Ty::Int, depth);
        let rhs = match op {
            "neg" => return format!("-{lhs}"),
            "/" | "%" => self.divisor(),
            "<<" | ">>" if self.rng.chance(self.hazard * 2) => self.expr(&Ty::Int, depth),
            "<<" | ">>" if self.rng.chance(60) => self.rng.range(0, 63).to_string(),
            "<<" | ">>" => format!("({} & 63)", self.expr(&Ty::Int, depth)),
            "*" => self.factor(depth),
            _ => self.expr(&Ty::Int, depth),
        };
        format!("({lhs} {op} {rhs})")
    }

    /// The int builtins: lengths, searches, `abs`, `min`, `max`, `pow`, `to_int`, `parse_int`.
    fn int_builtin(&mut self, depth: u32) -> String {
        match self.rng.below(10) {
            9 => self.int_function(depth),
            0 => {
                let ty = self.array_type();
                let array = self.expr(&ty, depth);
                self.builtin("len", vec![array])
            }
            1 => {
                let text = self.expr(&Ty::Str, depth);
                self.builtin("len", vec![text])
            }
            2 => {
                let ty = self.array_type();
                let elem = ty.elem().cloned().unwrap_or(Ty::Int);
                let array = self.expr(&ty, depth);
                let value = self.value_of(&elem, depth);
                self.builtin("index_of", vec![array, value])
            }
            3 => {
                let (text, part) = (self.expr(&Ty::Str, depth), self.expr(&Ty::Str, depth));
                self.builtin("index_of", vec![text, part])
            }
            4 => {
                let value = self.expr(&Ty::Int, depth);
                let name = *self.rng.pick(&[
                    "abs",
                    "count_ones",
                    "count_zeros",
                    "leading_zeros",
                    "trailing_zeros",
                ]);
                self.builtin(name, vec![value])
            }
            5 => {
                let name = *self.rng.pick(&["min", "max"]);
                let (a, b) = (self.expr(&Ty::Int, depth), self.expr(&Ty::Int, depth));
                self.builtin(name, vec![a, b])
            }
            6 => {
                let args = if self.risky() {
                    vec![self.expr(&Ty::Int, depth), self.expr(&Ty::Int, depth)]
                } else {
                    let base = format!("({} % 7)", self.expr(&Ty::Int, depth));
                    vec![base, self.rng.below(5).to_string()]
                };
                self.builtin("pow", args)
            }
            7 => {
                let value = self.expr(&Ty::Float, depth);
                let value = if self.risky() {
                    value
                } else {
                    // Clamped into range; `max` and `min` turn NaN into the other operand.
                    format!("min(max({value}, -1e18), 1e18)")
                };
                self.builtin("to_int", vec![value])
            }
            _ => {
                let (text, may_fail) = match self.rng.below(4) {
                    0 if self.risky() => (self.rng.pick(BAD_INT_TEXTS).to_string(), true),
                    0 => (self.rng.pick(INT_TEXTS).to_string(), false),
                    // A rejected text with a default: the Err path, never a fault.
                    1 => (self.rng.pick(BAD_INT_TEXTS).to_string(), true),
                    _ => {
                        let value = self.expr(&Ty::Int, depth);
                        (self.builtin("to_string", vec![value]), false)
                    }
                };
                let parsed = self.builtin("parse_int", vec![text]);
                self.parsed_number(parsed, may_fail, "0")
            }
        }
    }

    // ---- floats --------------------------------------------------------------------------------

    fn float_literal(&mut self) -> String {
        // Edges never fault by themselves (only a raw `to_int` of them does), so every program
        // gets plenty.
        if self.rng.chance(15) {
            return self.rng.pick(FLOAT_EDGES).to_string();
        }
        match self.rng.below(10) {
            0..=3 => self.rng.pick(FLOAT_LITERALS).to_string(),
            // Quarters are exact, so sums of them print short.
            4..=7 => float_text(self.rng.range(-40, 40) as f64 / 4.0),
            _ => match f64::from_bits(self.rng.next()) {
                value if value.is_finite() => float_text(value),
                _ => "2.5".into(),
            },
        }
    }

    /// An operand of the float builtin `name`: for `min` and `max` often a zero of either sign or
    /// a NaN, where machines differ unless the runtime decides (`float_min_max_signed_zero.kl`).
    fn min_max_operand(&mut self, name: &str, depth: u32) -> String {
        if matches!(name, "min" | "max") && self.rng.chance(30) {
            self.rng.pick(&["0.0", "(-0.0)", "(0.0 / 0.0)"]).to_string()
        } else {
            self.expr(&Ty::Float, depth)
        }
    }

    /// Float arithmetic (never a fault), conversions, the math builtins and `parse_float`.
    fn float_operation(&mut self, depth: u32) -> String {
        match self.rng.below(12) {
            0..=4 => {
                let op = *self.rng.pick(&["+", "-", "*", "/"]);
                let (lhs, rhs) = (self.expr(&Ty::Float, depth), self.expr(&Ty::Float, depth));
                format!("({lhs} {op} {rhs})")
            }
            5 => format!("-{}", self.expr(&Ty::Float, depth)),
            6 | 7 => {
                let value = self.expr(&Ty::Int, depth);
                self.builtin("to_float", vec![value])
            }
            8 | 9 => {
                let name = *self.rng.pick(MATH_FUNCTIONS);
                let value = self.expr(&Ty::Float, depth);
                self.builtin(name, vec![value])
            }
            10 => {
                let name = *self
                    .rng
                    .pick(&["min", "max", "pow", "atan2", "hypot", "copysign"]);
                let a = self.min_max_operand(name, depth);
                let b = self.min_max_operand(name, depth);
                self.builtin(name, vec![a, b])
            }
            _ => {
                let (text, may_fail) = match self.rng.below(4) {
                    0 if self.risky() => (self.rng.pick(BAD_FLOAT_TEXTS).to_string(), true),
                    0 => (self.rng.pick(FLOAT_TEXTS).to_string(), false),
                    // Every float's text reads back, except NaN's and the infinities'.
                    1 if self.risky() => {
                        let value = self.expr(&Ty::Float, depth);
                        (self.builtin("to_string", vec![value]), true)
                    }
                    1 => (self.rng.pick(BAD_FLOAT_TEXTS).to_string(), true),
                    _ => {
                        let value = self.expr(&Ty::Int, depth);
                        (self.builtin("to_string", vec![value]), false)
                    }
                };
                let parsed = self.builtin("parse_float", vec![text]);
                self.parsed_number(parsed, may_fail, "0.5")
            }
        }
    }

    // ---- bools ---------------------------------------------------------------------------------

    fn bool_operation(&mut self, depth: u32) -> String {
        match self.rng.below(10) {
            0 | 1 => {
                let op = *self.rng.pick(&["==", "!=", "<", "<=", ">", ">="]);
                let (lhs, rhs) = (self.expr(&Ty::Int, depth), self.expr(&Ty::Int, depth));
                format!("({lhs} {op} {rhs})")
            }
            2 => {
                let op = *self.rng.pick(&["&&", "||", "&", "|", "^", "==", "!="]);
                let (lhs, rhs) = (self.expr(&Ty::Bool, depth), self.expr(&Ty::Bool, depth));
                format!("({lhs} {op} {rhs})")
            }
            3 => format!("!{}", self.expr(&Ty::Bool, depth)),
            4 | 5 => {
                // Floats (NaN and -0.0 included) and strings (byte order).
                let ty = if self.rng.chance(65) {
                    Ty::Float
                } else {
                    Ty::Str
                };
                let op = *self.rng.pick(&["==", "!=", "<", "<=", ">", ">="]);
                let (lhs, rhs) = (self.expr(&ty, depth), self.expr(&ty, depth));
                format!("({lhs} {op} {rhs})")
            }
            6 => {
                // `==` compares every type by value, deeply (enums too, often).
                let ty = if !self.enums.is_empty() && self.rng.chance(30) {
                    Ty::Enum(self.rng.below(self.enums.len() as u64) as usize)
                } else {
                    self.interesting_type()
                };
                let op = *self.rng.pick(&["==", "!="]);
                let (lhs, rhs) = (self.expr(&ty, depth), self.value_of(&ty, depth));
                format!("({lhs} {op} {rhs})")
            }
            7 => {
                let ty = self.array_type();
                let elem = ty.elem().cloned().unwrap_or(Ty::Int);
                let array = self.expr(&ty, depth);
                let value = self.value_of(&elem, depth);
                self.builtin("contains", vec![array, value])
            }
            _ => {
                let name = *self.rng.pick(&["contains", "starts_with", "ends_with"]);
                let (text, part) = (self.expr(&Ty::Str, depth), self.expr(&Ty::Str, depth));
                self.builtin(name, vec![text, part])
            }
        }
    }

    // ---- strings -------------------------------------------------------------------------------

    /// A string literal of at most `max` scalars.
    fn string_literal(&mut self, max: u64) -> String {
        let fitting: Vec<&str> = STRING_LITERALS
            .iter()
            .copied()
            .filter(|literal| literal_len(literal) <= max)
            .collect();
        if fitting.is_empty() {
            "\"\"".into()
        } else {
            self.rng.pick(&fitting).to_string()
        }
    }

    /// A string operation whose result has at most `max` scalars.
    fn string_operation(&mut self, depth: u32, max: u64) -> String {
        match self.rng.below(9) {
            0..=2 => self.string_concat(depth, max),
            3 => self.rendering_call(depth, max),
            4 => {
                // Case changes keep the length of every scalar the generated strings contain.
                let name = *self.rng.pick(&["trim", "to_upper", "to_lower"]);
                let text = self.sized(&Ty::Str, depth, max);
                self.builtin(name, vec![text])
            }
            5 => self.replace_call(depth, max),
            6 => self.substring(depth, max),
            7 => self.char_at(depth, max),
            _ => self.join_call(depth, max),
        }
    }

    /// An operand `+` renders into at most `max` scalars: a string, or an int, float or bool
    /// whose text always fits.
    fn rendered(&mut self, depth: u32, max: u64) -> String {
        let mut types = vec![Ty::Str];
        for (ty, text) in [
            (Ty::Int, INT_TEXT),
            (Ty::Float, FLOAT_TEXT),
            (Ty::Bool, BOOL_TEXT),
        ] {
            if max >= text {
                types.push(ty);
            }
        }
        let ty = self.rng.pick(&types).clone();
        self.sized(&ty, depth, max)
    }

    /// `a + b`: one side a string, the other a string or a rendered int, float or bool.
    fn string_concat(&mut self, depth: u32, max: u64) -> String {
        let (left, right) = (max / 2, max - max / 2);
        let text = self.sized(&Ty::Str, depth, left);
        let other = self.rendered(depth, right);
        if self.rng.chance(50) {
            format!("({text} + {other})")
        } else {
            format!("({other} + {text})")
        }
    }

    /// `to_string(x)` of a value whose text fits in `max` scalars.
    fn rendering_call(&mut self, depth: u32, max: u64) -> String {
        let value = self.rendered(depth, max);
        self.builtin("to_string", vec![value])
    }

    /// `replace(s, from, to)`, with `s` short enough that the result fits even when `from` is
    /// empty (`to` before every scalar and at the end).
    fn replace_call(&mut self, depth: u32, max: u64) -> String {
        let to = *self.rng.pick(REPLACEMENTS);
        let to_len = literal_len(to);
        if max < to_len {
            return self.string_literal(max);
        }
        let source_max = (max - to_len) / (to_len + 1);
        let text = self.sized(&Ty::Str, depth, source_max);
        let from = self.rng.pick(REPLACED).to_string();
        self.builtin("replace", vec![text, from, to.to_string()])
    }

    /// `substring(s, i, j)` or `s[i..j]`: a half, or a prefix capped at `max`, of some string;
    /// in hazardous programs any small bounds, which may be out of range.
    fn substring(&mut self, depth: u32, max: u64) -> String {
        if self.risky() {
            let text = self.sized(&Ty::Str, depth, max);
            let (start, end) = (self.rng.range(-1, 4), self.rng.range(0, 6));
            return if self.rng.chance(50) {
                self.builtin("substring", vec![text, start.to_string(), end.to_string()])
            } else {
                format!("{}[{start}..{end}]", postfix(&text))
            };
        }
        match self.rng.below(3) {
            0 => {
                let text = self.sized(&Ty::Str, depth, max.saturating_mul(2));
                self.with_name(text, |g, s| {
                    g.builtin(
                        "substring",
                        vec![s.to_string(), "0".into(), format!("len({s}) / 2")],
                    )
                })
            }
            1 => {
                let text = self.sized(&Ty::Str, depth, max.saturating_mul(2));
                self.with_name(text, |_, s| format!("{s}[len({s}) / 2..len({s})]"))
            }
            _ => {
                let text = self.expr(&Ty::Str, depth);
                self.with_name(text, |g, s| {
                    g.builtin(
                        "substring",
                        vec![s.to_string(), "0".into(), format!("min(len({s}), {max})")],
                    )
                })
            }
        }
    }

    /// `char_at(s, i)`: guarded by the length (`""` for an empty string), or in hazardous
    /// programs any small index.
    fn char_at(&mut self, depth: u32, max: u64) -> String {
        if max == 0 {
            return "\"\"".into();
        }
        let text = self.expr(&Ty::Str, depth);
        if self.risky() {
            let index = self.rng.range(-1, 6).to_string();
            return self.builtin("char_at", vec![text, index]);
        }
        self.with_name(text, |g, s| {
            let index = format!("{} % len({s})", g.index_expr());
            let call = g.builtin("char_at", vec![s.to_string(), index]);
            format!("(if len({s}) > 0 {{ {call} }} else {{ \"\" }})")
        })
    }

    /// `join([a, b, ...], sep)` of strings short enough for the result to fit.
    fn join_call(&mut self, depth: u32, max: u64) -> String {
        let separator = *self.rng.pick(SEPARATORS);
        let separator_len = literal_len(separator);
        let mut count = 1 + self.rng.below(3);
        if (count - 1) * separator_len > max {
            count = 1;
        }
        let each = (max - (count - 1) * separator_len) / count;
        let parts: Vec<String> = (0..count)
            .map(|_| self.sized(&Ty::Str, depth, each))
            .collect();
        let array = format!("[{}]", parts.join(", "));
        self.builtin("join", vec![array, separator.to_string()])
    }

    // ---- arrays --------------------------------------------------------------------------------

    /// `[a, b, ...]` with at most `max` (and at most 4) elements; an empty one written so that it
    /// has a type without context.
    fn array_literal(&mut self, elem: &Ty, depth: u32, max: u64) -> String {
        let count = self.rng.below(max.min(4) + 1);
        if count == 0 {
            let value = self.expr(elem, 0);
            return match self.rng.below(2) {
                0 => format!("array_fill(0, {value})"),
                _ => format!("slice([{value}], 0, 0)"),
            };
        }
        let mut items = Vec::new();
        for index in 0..count {
            // Later elements take their type from the first.
            items.push(if index == 0 {
                self.expr(elem, depth.min(2))
            } else {
                self.value_of(elem, depth.min(2))
            });
        }
        format!("[{}]", items.join(", "))
    }

    /// An array operation whose result has at most `max` elements.
    fn array_operation(&mut self, elem: &Ty, depth: u32, max: u64) -> String {
        let ty = Ty::array(elem.clone());
        match self.rng.below(12) {
            11 if max >= 1 => self.position_call(&ty, elem, depth, max),
            0 | 1 => self.array_literal(elem, depth, max),
            2 if max >= 1 => {
                let array = self.sized(&ty, depth, max - 1);
                let value = self.value_of(elem, depth);
                self.builtin("push", vec![array, value])
            }
            3 => {
                let first = self.sized(&ty, depth, max / 2);
                let second = self.value_sized(&ty, depth, max - max / 2);
                self.builtin("concat", vec![first, second])
            }
            4 => {
                let array = self.sized(&ty, depth, max);
                self.builtin("reverse", vec![array])
            }
            5 if elem.is_sortable() => {
                let array = self.sized(&ty, depth, max);
                self.builtin("sort", vec![array])
            }
            6 => self.pop_call(&ty, depth, max),
            7 => self.array_slice(&ty, depth, max),
            8 => {
                let count = if self.risky() {
                    self.rng.range(-2, 0).to_string()
                } else {
                    self.rng.below(max.min(4) + 1).to_string()
                };
                let value = self.expr(elem, depth);
                self.builtin("array_fill", vec![count, value])
            }
            9 if *elem == Ty::Str && max >= 1 => {
                // At most one piece per scalar, plus one.
                let text = self.sized(&Ty::Str, depth, max - 1);
                let separator = self.rng.pick(SEPARATORS).to_string();
                self.builtin("split", vec![text, separator])
            }
            _ => self.array_literal(elem, depth, max),
        }
    }

    /// One of the prelude's integer functions of the runtime (`factorial`, `binomial`, ...): in
    /// safe programs with arguments where it has an answer (overflow and a zero divisor are
    /// always allowed faults), in hazardous ones with any.
    fn int_function(&mut self, depth: u32) -> String {
        let (a, b) = (self.expr(&Ty::Int, depth), self.expr(&Ty::Int, depth));
        let risky = self.risky();
        let within = |a: &str, n: u32| {
            if risky {
                a.to_string()
            } else {
                format!("(({a}) % {n} + {n}) % {n}")
            }
        };
        let (name, args) = match self.rng.below(9) {
            0 => ("factorial", vec![within(&a, 21)]),
            1 => ("fibonacci", vec![within(&a, 93)]),
            2 => ("binomial", vec![within(&a, 60), b]),
            3 => ("int_sqrt", vec![within(&a, 1_000_000_007)]),
            4 => (
                "int_log2",
                vec![format!("{} + 1", within(&a, 1_000_000_007))],
            ),
            5 => ("modulo", vec![a, b]),
            6 => (
                "next_multiple_of",
                vec![a, format!("{} + 1", within(&b, 100))],
            ),
            7 => ("next_prime", vec![within(&a, 100_000)]),
            _ => ("abs_diff", vec![a, b]),
        };
        self.builtin(name, args)
    }

    /// `array_insert_at`, `array_remove_at`, `array_swap` or `array_set_at` of some array: at
    /// positions inside it (the array is not empty, or the call is guarded by its length), or in
    /// hazardous programs at any small position, which may fault.
    fn position_call(&mut self, ty: &Ty, elem: &Ty, depth: u32, max: u64) -> String {
        let array = self.sized(ty, depth, max - 1);
        let value = self.value_of(elem, depth);
        let name = *self.rng.pick(&[
            "array_insert_at",
            "array_remove_at",
            "array_swap",
            "array_set_at",
        ]);
        if self.risky() {
            let (i, j) = (
                self.rng.range(-1, 3).to_string(),
                self.rng.range(0, 3).to_string(),
            );
            let args = match name {
                "array_remove_at" => vec![array, i],
                "array_swap" => vec![array, i, j],
                _ => vec![array, i, value],
            };
            return self.builtin(name, args);
        }
        let position = self.rng.below(3).to_string();
        self.with_name(array, |g, a| {
            let i = format!("{position} % (len({a}) + 1)");
            if name == "array_insert_at" {
                return g.builtin(name, vec![a.to_string(), i, value.clone()]);
            }
            let i = format!("{position} % max(len({a}), 1)");
            let call = match name {
                "array_remove_at" => g.builtin(name, vec![a.to_string(), i]),
                "array_swap" => g.builtin(name, vec![a.to_string(), i, format!("len({a}) - 1")]),
                _ => g.builtin(name, vec![a.to_string(), i, value.clone()]),
            };
            format!("(if len({a}) > 0 {{ {call} }} else {{ {a} }})")
        })
    }

    /// `pop(a)`, guarded by the length (an empty array stays empty), or in hazardous programs
    /// unguarded, which may fault.
    fn pop_call(&mut self, ty: &Ty, depth: u32, max: u64) -> String {
        let array = self.sized(ty, depth, max + 1);
        if self.risky() {
            return self.builtin("pop", vec![array]);
        }
        self.with_name(array, |g, a| {
            let call = g.builtin("pop", vec![a.to_string()]);
            format!("(if len({a}) > 0 {{ {call} }} else {{ {a} }})")
        })
    }

    /// `slice(a, i, j)` or `a[i..j]`: a half, or a prefix capped at `max`, of some array; in
    /// hazardous programs any small bounds, which may be out of range.
    fn array_slice(&mut self, ty: &Ty, depth: u32, max: u64) -> String {
        if self.risky() {
            let array = self.sized(ty, depth, max);
            let (start, end) = (self.rng.range(-1, 3), self.rng.range(0, 5));
            return if self.rng.chance(50) {
                self.builtin("slice", vec![array, start.to_string(), end.to_string()])
            } else {
                format!("{}[{start}..{end}]", postfix(&array))
            };
        }
        match self.rng.below(3) {
            0 => {
                let array = self.sized(ty, depth, max.saturating_mul(2));
                self.with_name(array, |g, a| {
                    g.builtin(
                        "slice",
                        vec![a.to_string(), "0".into(), format!("len({a}) / 2")],
                    )
                })
            }
            1 => {
                let array = self.sized(ty, depth, max.saturating_mul(2));
                self.with_name(array, |_, a| format!("{a}[len({a}) / 2..len({a})]"))
            }
            _ => {
                let array = self.expr(ty, depth);
                self.with_name(array, |g, a| {
                    g.builtin(
                        "slice",
                        vec![a.to_string(), "0".into(), format!("min(len({a}), {max})")],
                    )
                })
            }
        }
    }

    // ---- calls ---------------------------------------------------------------------------------

    /// Whether some function (the current one included, once it may recurse) returns `ty`.
    fn callable(&self, ty: &Ty) -> bool {
        self.functions.iter().any(|f| f.ret.as_ref() == Some(ty))
            || self
                .function
                .as_ref()
                .and_then(|f| f.self_sig.as_ref())
                .is_some_and(|s| s.ret.as_ref() == Some(ty))
    }

    fn call_returning(&mut self, ty: &Ty, depth: u32) -> String {
        let mut candidates: Vec<FnSig> = self
            .functions
            .iter()
            .filter(|f| f.ret.as_ref() == Some(ty))
            .cloned()
            .collect();
        let self_sig = self.function.as_ref().and_then(|f| f.self_sig.clone());
        if let Some(sig) = self_sig.filter(|s| s.ret.as_ref() == Some(ty)) {
            candidates.push(sig);
        }
        if candidates.is_empty() {
            return self.leaf(ty, ty.bound());
        }
        let sig = self.rng.pick(&candidates).clone();
        self.call(&sig, depth)
            .unwrap_or_else(|| self.leaf(ty, ty.bound()))
    }

    /// A call of an earlier function passing `var` for one of its parameters (which the callee
    /// may change), with the callee's result type.
    fn call_passing(&mut self, var: &Var) -> Option<(String, Option<Ty>)> {
        let mut choices = Vec::new();
        for sig in &self.functions {
            for (index, param) in sig.params.iter().enumerate() {
                if *param == var.ty && !(index == 0 && sig.recursive) {
                    choices.push((sig.clone(), index));
                }
            }
        }
        if choices.is_empty() {
            return None;
        }
        let (sig, index) = self.rng.pick(&choices).clone();
        let call = self.call_with(&sig, 2, Some((index, var.name.clone())))?;
        Some((call, sig.ret))
    }

    /// A call of `sig` with generated arguments, or `None` when it would exceed the budget.
    fn call(&mut self, sig: &FnSig, depth: u32) -> Option<String> {
        self.call_with(sig, depth, None)
    }

    /// [`Generator::call`] with argument `fixed.0` given as `fixed.1`.
    fn call_with(
        &mut self,
        sig: &FnSig,
        depth: u32,
        fixed: Option<(usize, String)>,
    ) -> Option<String> {
        let is_self = self
            .function
            .as_ref()
            .and_then(|f| f.self_sig.as_ref())
            .is_some_and(|s| s.name == sig.name);
        if is_self {
            // Only outside loops, and at most two sites, so recursion stays small.
            let context = self.function.as_mut()?;
            if self.multiplier != 1 || context.self_calls >= 2 {
                return None;
            }
            context.self_calls += 1;
        } else if !self.afford(sig.cost) {
            return None;
        }
        let mut args = Vec::new();
        for (index, ty) in sig.params.iter().enumerate() {
            args.push(match &fixed {
                Some((at, value)) if *at == index => value.clone(),
                _ if index == 0 && sig.recursive => {
                    if is_self {
                        "depth - 1".to_string()
                    } else {
                        format!("{} & 3", self.expr(&Ty::Int, depth.min(1)))
                    }
                }
                _ => self.value_of(ty, depth),
            });
        }
        // Method-call sugar: `a.f(b)` is `f(a, b)`.
        if !sig.recursive && !is_self && self.rng.chance(10) {
            if let Some((receiver, rest)) = args.split_first() {
                return Some(format!(
                    "{}.{}({})",
                    postfix(receiver),
                    sig.name,
                    rest.join(", ")
                ));
            }
        }
        Some(format!("{}({})", sig.name, args.join(", ")))
    }
}

/// `statement` run only when every condition of `guard` holds (in order, short-circuiting).
fn guarded(guard: &[String], statement: String) -> Node {
    if guard.is_empty() {
        Node::Line(statement)
    } else {
        Node::Line(format!("if {} {{ {statement} }}", guard.join(" && ")))
    }
}

/// `expr` made safe to follow a block-like statement: Keel, unlike Rust, continues an `if`
/// statement with a binary operator, so `if c { } -1` would parse as a subtraction.
fn tail_expression(expr: String) -> String {
    if expr.starts_with('-') {
        format!("({expr})")
    } else {
        expr
    }
}

/// Whether `text` is a plain identifier (or `true`/`false`).
fn is_name(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `expr` ready for a postfix operator (`.f`, `[i]`, `.m()`): parenthesised unless a name.
fn postfix(expr: &str) -> String {
    if is_name(expr) {
        expr.to_string()
    } else {
        format!("({expr})")
    }
}

/// The number of Unicode scalar values of a string literal's value (`"a\n"` has 2).
fn literal_len(literal: &str) -> u64 {
    let inner = &literal[1..literal.len() - 1];
    let mut count = 0;
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.next() == Some('u') {
            for c in chars.by_ref() {
                if c == '}' {
                    break;
                }
            }
        }
        count += 1;
    }
    count
}

/// A Keel literal for a finite float: Rust's shortest round-trip digits (`0.25`, `1e-7`,
/// `1.5e300`), a negative value as a parenthesised negation.
fn float_text(value: f64) -> String {
    let digits = format!("{:?}", value.abs());
    if value.is_sign_negative() {
        format!("(-{digits})")
    } else {
        digits
    }
}

// ---- running the backends ------------------------------------------------------------------------

/// How to run one program: `f.kl` in `dir`.
struct Run<'a> {
    dir: &'a Path,
    machine: &'a Machine,
}

impl Run<'_> {
    /// Runs `f.kl` on `backend` (as the program suite does, [`Launch::prepare`]), with the
    /// harness's own `KEEL_*` variables removed from the program's environment (a `KEEL_TRACE`
    /// in the developer's shell must not change the results) and the leak check on.
    fn on(&self, backend: Backend) -> Result<Outcome, String> {
        let program = self.dir.join("f.kl");
        let no_args: &[&str] = &[];
        let mut launch = match Launch::prepare(self.machine, backend, &program, &[], no_args)? {
            Ok(launch) => launch,
            Err(diagnostics) => return Ok(diagnostics),
        };
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("KEEL_") {
                launch.command.env_remove(key);
            }
        }
        launch.command.env("KEEL_LEAK_CHECK", "1");
        run_command_within(launch.command, &[], TIME_LIMIT)
    }
}

/// The program's front-end diagnostics or IR-verifier errors, if any.
fn front_end_problem(source: &str) -> Option<String> {
    let file = keel::diag::SourceFile::new("f.kl", source);
    match keel::sema::compile(&file) {
        Err(diags) => Some(keel::diag::render(&file, &diags, false)),
        Ok(program) => keel::ir::verify::verify(&program)
            .err()
            .map(|errors| errors.join("\n")),
    }
}

/// What in an outcome is a bug whatever the backends agree on: a compiler crash or a leak.
fn bug_in(outcome: &Outcome) -> Option<&'static str> {
    if outcome.stderr.contains("the Keel compiler crashed") || outcome.stderr.contains("panicked") {
        Some("the compiler crashed")
    } else if outcome.stderr.contains("leak check:") {
        Some("the leak check failed")
    } else {
        None
    }
}

/// Runs `source` on `backends`; `Ok` when they all agree (with the shared outcome) and that
/// outcome is neither a compiler crash nor a leak.
fn compare(source: &str, backends: &[Backend], machine: &Machine) -> Result<Outcome, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("no temporary directory: {e}"))?;
    std::fs::write(dir.path().join("f.kl"), source).map_err(|e| e.to_string())?;
    let run = Run {
        dir: dir.path(),
        machine,
    };
    let results: Vec<(Backend, Result<Outcome, String>)> = backends
        .iter()
        .map(|&backend| (backend, run.on(backend)))
        .collect();
    let (first_backend, first) = &results[0];
    let mut report = String::new();
    for (backend, result) in &results[1..] {
        if result != first {
            let _ = writeln!(
                report,
                "{} and {} disagree:\n{}",
                first_backend.name(),
                backend.name(),
                describe_difference(first, result)
            );
        }
    }
    match first {
        Err(error) => {
            let _ = writeln!(report, "{}: {error}", first_backend.name());
        }
        Ok(outcome) if report.is_empty() => {
            if let Some(bug) = bug_in(outcome) {
                let _ = writeln!(
                    report,
                    "every backend agrees, but {bug}:\n{}",
                    outcome.stderr
                );
            }
        }
        Ok(_) => {}
    }
    if !report.is_empty() {
        return Err(report);
    }
    match results.into_iter().next() {
        Some((_, Ok(outcome))) => Ok(outcome),
        _ => Err(report),
    }
}

fn describe_difference(a: &Result<Outcome, String>, b: &Result<Outcome, String>) -> String {
    match (a, b) {
        (Ok(a), Ok(b)) => {
            let mut text = String::new();
            if a.status != b.status {
                let _ = writeln!(text, "  exit status {} vs {}", a.status, b.status);
            }
            for (what, x, y) in [
                ("stdout", &a.stdout, &b.stdout),
                ("stderr", &a.stderr, &b.stderr),
            ] {
                if x != y {
                    let _ = writeln!(text, "  {what}:\n{}", first_difference(x, y));
                }
            }
            text
        }
        _ => format!("  {a:?}\n  vs\n  {b:?}\n"),
    }
}

/// The lines around the first place two outputs differ.
fn first_difference(a: &str, b: &str) -> String {
    let (a_lines, b_lines): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let at = a_lines
        .iter()
        .zip(&b_lines)
        .position(|(x, y)| x != y)
        .unwrap_or(a_lines.len().min(b_lines.len()));
    let from = at.saturating_sub(2);
    let show = |lines: &[&str]| {
        lines
            .iter()
            .skip(from)
            .take(5)
            .map(|l| format!("    |{l}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    format!(
        "   first difference at line {} ({} vs {} lines)\n{}\n    ---- vs ----\n{}",
        at + 1,
        a_lines.len(),
        b_lines.len(),
        show(&a_lines),
        show(&b_lines)
    )
}

// ---- minimising a failure ------------------------------------------------------------------------

/// Every program obtained by deleting one node or replacing a compound node by one of its blocks.
fn candidates(nodes: &[Node]) -> Vec<Vec<Node>> {
    let mut found = Vec::new();
    for (index, node) in nodes.iter().enumerate() {
        let mut without = nodes.to_vec();
        without.remove(index);
        found.push(without);
        if let Node::Compound { parts, end } = node {
            for (part, (_, body)) in parts.iter().enumerate() {
                let mut flattened = nodes[..index].to_vec();
                flattened.extend(body.iter().cloned());
                flattened.extend(nodes[index + 1..].iter().cloned());
                found.push(flattened);
                for smaller in candidates(body) {
                    let mut parts = parts.clone();
                    parts[part].1 = smaller;
                    let mut replaced = nodes.to_vec();
                    replaced[index] = Node::Compound {
                        parts,
                        end: end.clone(),
                    };
                    found.push(replaced);
                }
            }
        }
    }
    found
}

/// Greedily deletes statements while the program compiles and still fails the same way on
/// `backends` (they disagree, or agree on a crash or a leak).
fn minimise(mut nodes: Vec<Node>, backends: &[Backend], machine: &Machine) -> Vec<Node> {
    let deadline = Instant::now() + Duration::from_secs(240);
    let mut improved = true;
    while improved && Instant::now() < deadline {
        improved = false;
        for candidate in candidates(&nodes) {
            if Instant::now() > deadline {
                break;
            }
            let source = render(&candidate);
            if front_end_problem(&source).is_some() {
                continue;
            }
            if compare(&source, backends, machine).is_err() {
                nodes = candidate;
                improved = true;
                break;
            }
        }
    }
    nodes
}

/// The cheapest set of backends that shows the failure: the VM and the first other one that
/// differs from it, or the VM alone when it crashes or leaks by itself.
fn failing_backends(source: &str, backends: &[Backend], machine: &Machine) -> Vec<Backend> {
    for &other in &backends[1..] {
        if compare(source, &[Backend::Vm, other], machine).is_err() {
            return vec![Backend::Vm, other];
        }
    }
    if compare(source, &[Backend::Vm], machine).is_err() {
        return vec![Backend::Vm];
    }
    backends.to_vec()
}

// ---- the test ------------------------------------------------------------------------------------

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// The seed of program `index`.
fn program_seed(base: u64, index: usize) -> u64 {
    Rng(base ^ (index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)).next()
}

#[derive(Default)]
struct Stats {
    programs: usize,
    lines: usize,
    faulted: usize,
    exited: usize,
    /// Programs that ended normally, where the leak check runs.
    leak_checked: usize,
    /// Of those, programs with `live` blocks.
    leak_checked_live: usize,
}

/// The backends to compare: all that can run here. One that cannot is skipped with a note,
/// unless CI is set, where that is a failure.
fn backends_here(machine: &Machine) -> Vec<Backend> {
    let mut backends = Vec::new();
    for backend in Backend::ALL {
        match machine.require(backend) {
            Ok(()) => backends.push(backend),
            Err(why) => {
                assert!(!every_backend_required(), "{why} (and CI is set)");
                eprintln!(
                    "differential: note: skipped, {}",
                    why.replace('\n', "\n      ")
                );
            }
        }
    }
    backends
}

/// Generates, checks and runs program `index`; `Err` holds the failure report.
fn check_program(
    base: u64,
    index: usize,
    backends: &[Backend],
    machine: &Machine,
    stats: &Mutex<Stats>,
) -> Result<(), String> {
    let seed = program_seed(base, index);
    let nodes = Generator::new(seed).program();
    let source = render(&nodes);
    if let Some(keep) = std::env::var_os("KEEL_DIFF_KEEP") {
        let _ = std::fs::create_dir_all(&keep);
        let _ = std::fs::write(PathBuf::from(keep).join(format!("p{index}.kl")), &source);
    }
    if let Some(problem) = front_end_problem(&source) {
        return Err(format!(
            "program {index} (seed {seed:#x}) was generated ill-typed or fails the IR verifier \
             (a generator bug, or a front-end bug):\n{problem}\n--- program\n{source}"
        ));
    }
    match compare(&source, backends, machine) {
        Ok(outcome) => {
            if let Ok(mut stats) = stats.lock() {
                stats.programs += 1;
                stats.lines += source.lines().count();
                if outcome.status == 1 && !outcome.stderr.is_empty() {
                    stats.faulted += 1;
                } else if outcome.status != 0 {
                    stats.exited += 1;
                }
                if outcome.status == 0 {
                    stats.leak_checked += 1;
                    stats.leak_checked_live += usize::from(source.contains("live {"));
                }
            }
            Ok(())
        }
        Err(report) => {
            let failing = failing_backends(&source, backends, machine);
            let minimal = render(&minimise(nodes, &failing, machine));
            let saved =
                Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("differential-{index}.kl"));
            let _ = std::fs::write(&saved, &minimal);
            let minimal_report = compare(&minimal, backends, machine)
                .err()
                .unwrap_or_default();
            Err(format!(
                "program {index} (seed {seed:#x}) fails:\n{report}\n--- program\n{source}\n\
                 --- minimised ({}, saved as {})\n{minimal}\n\
                 --- minimised program's failure\n{minimal_report}",
                failing
                    .iter()
                    .map(|b| b.name())
                    .collect::<Vec<_>>()
                    .join(" vs "),
                saved.display()
            ))
        }
    }
}

#[test]
fn backends_agree_on_random_programs() {
    let cases = env_number("KEEL_DIFF_CASES").map_or(DEFAULT_CASES, |n| n as usize);
    let base = env_number("KEEL_DIFF_SEED").unwrap_or(DEFAULT_SEED);
    let machine = Machine::survey();
    let backends = backends_here(&machine);
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let stats = Mutex::new(Stats::default());
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= cases {
                    break;
                }
                if let Err(report) = check_program(base, index, &backends, &machine, &stats) {
                    if let Ok(mut failures) = failures.lock() {
                        failures.push(report);
                    }
                }
            });
        }
    });
    let stats = stats.into_inner().unwrap_or_default();
    eprintln!(
        "differential: {} of {cases} programs (seed {base:#x}) agreed on {} ({} lines on \
         average; {} faulted, {} called exit, {} leak-checked, {} of them with live blocks) \
         in {:.1?}",
        stats.programs,
        backends
            .iter()
            .map(|b| b.name())
            .collect::<Vec<_>>()
            .join(", "),
        stats.lines / stats.programs.max(1),
        stats.faulted,
        stats.exited,
        stats.leak_checked,
        stats.leak_checked_live,
        started.elapsed()
    );
    let failures = failures.into_inner().unwrap_or_default();
    let report_file = Path::new(env!("CARGO_TARGET_TMPDIR")).join("differential-failures.txt");
    if failures.is_empty() {
        let _ = std::fs::remove_file(&report_file);
    } else {
        let _ = std::fs::write(&report_file, failures.join("\n\n========\n\n"));
        eprintln!(
            "differential: failures written to {}",
            report_file.display()
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} programs failed:\n\n{}",
        failures.len(),
        failures.join("\n\n========\n\n")
    );
}

#[test]
fn generated_programs_are_deterministic_and_well_typed() {
    for index in 0..1000 {
        let seed = program_seed(DEFAULT_SEED ^ 0xabc, index);
        let first = render(&Generator::new(seed).program());
        let second = render(&Generator::new(seed).program());
        assert_eq!(first, second, "seed {seed:#x} is not deterministic");
        if let Some(problem) = front_end_problem(&first) {
            panic!("seed {seed:#x} produced an invalid program:\n{problem}\n--- program\n{first}");
        }
    }
}

#[test]
fn generated_programs_use_the_value_types() {
    // Every construct family appears somewhere in a few dozen programs.
    let mut all = String::new();
    for index in 0..60 {
        all.push_str(&render(
            &Generator::new(program_seed(DEFAULT_SEED, index)).program(),
        ));
    }
    for needle in [
        "struct S0 {",
        "new S",
        "push(",
        "pop(",
        "concat(",
        "reverse(",
        "sort(",
        "array_fill(",
        "slice(",
        "for x",
        "let c",
        "to_float(",
        "to_int(",
        "sqrt(",
        "parse_float(",
        "parse_int(",
        "split(",
        "join(",
        "replace(",
        "char_at(",
        "substring(",
        "contains(",
        "index_of(",
        "] = ",
        "+= ",
        "enum E0 {",
        "match ",
        "if let ",
        "while let ",
        " if ",
        " | ",
        "::",
        " == E",
        "g_pick(",
        "g_wrap(",
        "g_second(",
        "g_weigh(",
        "g_count()",
        "g_apply(fn(",
        "g_twice(fn(",
        "].map(fn(",
        "::make(",
        ".with_",
        ".get_",
        "Option<",
        "Result<",
        "Some(",
    ] {
        assert!(
            all.contains(needle),
            "no generated program contains `{needle}`"
        );
    }
}

#[test]
fn literal_lengths_count_scalars() {
    assert_eq!(literal_len("\"\""), 0);
    assert_eq!(literal_len("\"a\\n\""), 2);
    assert_eq!(literal_len("\"\\u{1F600}x\""), 2);
    assert_eq!(literal_len("\"quote\\\"q\\\"\""), 8);
    assert_eq!(literal_len("\"日本\""), 2);
}

#[test]
fn minimiser_candidates_delete_and_unwrap() {
    let nodes = vec![
        Node::Line("a;".into()),
        Node::Compound {
            parts: vec![("if c {".into(), vec![Node::Line("b;".into())])],
            end: "}".into(),
        },
    ];
    let rendered: Vec<String> = candidates(&nodes).iter().map(|c| render(c)).collect();
    assert!(
        rendered.contains(&"if c {\n    b;\n}\n".to_string()),
        "{rendered:?}"
    );
    assert!(rendered.contains(&"a;\n".to_string()), "{rendered:?}");
    assert!(rendered.contains(&"a;\nb;\n".to_string()), "{rendered:?}");
    assert!(
        rendered.contains(&"a;\nif c {\n}\n".to_string()),
        "{rendered:?}"
    );
}
