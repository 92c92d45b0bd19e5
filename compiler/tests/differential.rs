//! Differential testing: random well-typed, terminating programs must behave identically on the
//! bytecode VM (`keel run --vm`), the JIT (`keel run --jit`) and native executables (`keel build`,
//! then run).
//!
//! [`Generator`] writes programs of the current language slice: `int`, `bool` and string values;
//! functions with parameters and results (declared or inferred), calling only functions generated
//! before them, plus bounded self-recursion through a `depth` parameter; `let`, shadowing,
//! assignment and compound assignment; `if`/`else` as statements and as values, block
//! expressions; `while` and `for` loops whose trip counts are bounded by construction; `break`,
//! `continue`, `return`; `live` blocks (whose bodies fault and retry) and `assert`; every int
//! and bool operator (faults of `+ - * / % << >>` and unary `-`
//! are allowed: a program that faults must fault identically everywhere); `print`, `println`,
//! `eprintln` and `exit(n)`. A static cost estimate (statements executed, with loop trip counts
//! and callee costs multiplied in) keeps every program fast. Each program must pass the front
//! end and the IR verifier in-process; then the `keel` binary runs it on each backend, from a
//! temporary directory, and stdout, stderr and the exit status must agree.
//!
//! A disagreement is minimised by deleting statements (and unwrapping compound statements) while
//! the program still compiles and the same backends still disagree; the failure message holds the
//! original and the minimised program; the minimised programs and the whole report are also
//! written under `CARGO_TARGET_TMPDIR` (`target/tmp/`).
//! Shrinking is done here rather than by proptest because a generated program's validity depends
//! on context (scopes, types, loop nesting) that value-level shrinking would break.
//!
//! The run is deterministic: `KEEL_DIFF_SEED=<n>` picks another set of programs and
//! `KEEL_DIFF_CASES=<n>` another count; `KEEL_DIFF_KEEP=<dir>` writes every generated program.
//!
//! What this file does not do: check that the agreed behaviour is *correct* (the program suite
//! does that, with hand-derived expectations), or generate programs outside the current slice.

use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Programs per run unless `KEEL_DIFF_CASES` says otherwise.
const DEFAULT_CASES: usize = 150;
/// The seed of the first program unless `KEEL_DIFF_SEED` says otherwise.
const DEFAULT_SEED: u64 = 0x6b65_656c_0001;
/// How long one backend may run one program.
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

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Ty {
    Int,
    Bool,
    Str,
}

impl Ty {
    const ALL: [Ty; 3] = [Ty::Int, Ty::Bool, Ty::Str];

    fn name(self) -> &'static str {
        match self {
            Ty::Int => "int",
            Ty::Bool => "bool",
            Ty::Str => "string",
        }
    }
}

#[derive(Clone, Debug)]
struct Var {
    name: String,
    ty: Ty,
    /// Loop guards and recursion depths are read-only so that loops and recursion stay bounded.
    assignable: bool,
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
    /// Index in `Generator::functions` the function will get, when it may call itself.
    self_sig: Option<FnSig>,
    /// Self-call sites generated so far.
    self_calls: u32,
}

struct Generator {
    rng: Rng,
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
    /// unrestricted divisors, `exit`) where there is a choice; differs between programs so that
    /// some run to completion and some fault.
    hazard: u64,
}

const STRING_LITERALS: &[&str] = &[
    "\"\"",
    "\"a\"",
    "\"hello\"",
    "\" \"",
    "\", \"",
    "\"x=\"",
    "\"tab\\there\"",
    "\"line\\n\"",
    "\"quote\\\"q\\\"\"",
    "\"back\\\\slash\"",
    "\"nul\\0byte\"",
    "\"caf\\u{e9}\"",
    "\"\\u{1F600}\"",
    "\"日本\"",
    "\"cr\\r\"",
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

impl Generator {
    fn new(seed: u64) -> Generator {
        let mut rng = Rng(seed);
        let hazard = *rng.pick(&[0, 2, 5, 10]);
        Generator {
            hazard,
            rng,
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

    /// A whole program: functions and top-level statements, interleaved.
    fn program(&mut self) -> Vec<Node> {
        let function_count = self.rng.below(6) as usize;
        let mut items = Vec::new();
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

    fn function_item(&mut self) -> Node {
        let name = self.fresh("f");
        let recursive = self.rng.chance(25);
        let param_count = if self.rng.chance(10) {
            5 + self.rng.below(5)
        } else {
            self.rng.below(4)
        } as usize;
        let mut params: Vec<Ty> = (0..param_count).map(|_| *self.rng.pick(&Ty::ALL)).collect();
        let ret = if self.rng.chance(25) {
            None
        } else {
            Some(*self.rng.pick(&Ty::ALL))
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
            param_text.push(format!("{} {param}", ty.name()));
            self.declare(param, *ty, true);
        }
        let explicit = recursive || self.rng.chance(70);
        let ret_text = match (ret, explicit) {
            (Some(ty), true) => format!(" -> {}", ty.name()),
            (None, true) if self.rng.chance(30) => " -> void".to_string(),
            _ => String::new(),
        };
        let sig = FnSig {
            name: name.clone(),
            params,
            ret,
            recursive,
            cost: 0,
        };
        // The recursion guard's result must not recurse: the function may call itself only once
        // the guard is generated.
        self.function = Some(FnContext {
            ret,
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
            let base = match ret {
                Some(ty) => format!("return {};", self.expr(ty, 1)),
                None => "return;".to_string(),
            };
            let _ = write!(header, "\n    if depth <= 0 {{ {base} }}");
        }
        if let Some(context) = self.function.as_mut() {
            context.self_sig = recursive.then(|| sig.clone());
        }
        let mut body = Vec::new();
        while self.statements_left > 0 {
            body.extend(self.statement());
        }
        if let Some(ty) = ret {
            body.push(match self.rng.below(3) {
                0 => Node::Line(tail_expression(self.expr(ty, 3))),
                1 => {
                    let cond = self.expr(Ty::Bool, 2);
                    let (a, b) = (self.expr(ty, 2), self.expr(ty, 2));
                    Node::Line(format!(
                        "if {cond} {{ return {a}; }} else {{ return {b}; }}"
                    ))
                }
                _ => Node::Line(format!("return {};", self.expr(ty, 3))),
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

    /// Charges `amount` (times the loop multiplier) to the current body if the budget allows.
    fn afford(&mut self, amount: u64) -> bool {
        let charge = amount.saturating_mul(self.multiplier);
        if self.cost.saturating_add(charge) > self.budget {
            return false;
        }
        self.cost += charge;
        true
    }

    /// A statement (sometimes two lines: a loop guard's `let` and the loop).
    fn statement(&mut self) -> Vec<Node> {
        self.statements_left = self.statements_left.saturating_sub(1);
        if !self.afford(1) {
            self.statements_left = 0;
            return Vec::new();
        }
        let in_loop = self.loop_depth > 0;
        let in_function = self.function.is_some();
        let has_int_var = !self.visible(|v| v.assignable && v.ty == Ty::Int).is_empty();
        let has_var = !self.visible(|v| v.assignable).is_empty();
        let can_nest = self.loop_depth < 3 && self.scopes.len() < 6;
        let weights = [
            5,                                             // let
            if has_var { 4 } else { 0 },                   // assignment
            if has_int_var { 3 } else { 0 },               // compound assignment
            5,                                             // print
            if can_nest { 3 } else { 0 },                  // if
            if can_nest { 2 } else { 0 },                  // while
            if can_nest { 2 } else { 0 },                  // for
            if in_loop { 2 } else { 0 },                   // break / continue
            if in_function { 1 } else { 0 },               // return
            u64::from(self.rng.chance(self.hazard * 3)),   // exit
            if self.functions.is_empty() { 0 } else { 2 }, // call statement
            if can_nest { 1 } else { 0 },                  // block
            if can_nest { 1 } else { 0 },                  // live block
            u64::from(self.rng.chance(self.hazard * 3)),   // assert
        ];
        match self.rng.weighted(&weights) {
            0 => vec![self.let_statement()],
            1 => {
                let vars = self.visible(|v| v.assignable);
                let var = self.rng.pick(&vars).clone();
                let value = self.expr(var.ty, 3);
                vec![Node::Line(format!("{} = {value};", var.name))]
            }
            2 => {
                let vars = self.visible(|v| v.assignable && v.ty == Ty::Int);
                let var = self.rng.pick(&vars).clone();
                let op = *self.rng.pick(&["+=", "-=", "*=", "/=", "%="]);
                let value = if matches!(op, "/=" | "%=") {
                    self.divisor()
                } else if op == "*=" {
                    self.factor(2)
                } else {
                    self.expr(Ty::Int, 2)
                };
                vec![Node::Line(format!("{} {op} {value};", var.name))]
            }
            3 => {
                let print = *self
                    .rng
                    .pick(&["print", "print", "println", "println", "eprintln"]);
                let ty = *self.rng.pick(&Ty::ALL);
                let value = self.value_expr(ty);
                vec![Node::Line(format!("{print}({value});"))]
            }
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
                    let cond = self.expr(Ty::Bool, 2);
                    vec![Node::Line(format!("if {cond} {{ {jump} }}"))]
                } else {
                    vec![Node::Line(jump.into())]
                }
            }
            8 => {
                let ret = self.function.as_ref().and_then(|f| f.ret);
                let value = match ret {
                    Some(ty) => format!(" {}", self.expr(ty, 2)),
                    None => String::new(),
                };
                if self.rng.chance(80) {
                    let cond = self.expr(Ty::Bool, 2);
                    vec![Node::Line(format!("if {cond} {{ return{value}; }}"))]
                } else {
                    vec![Node::Line(format!("return{value};"))]
                }
            }
            9 => {
                let code = if self.rng.chance(70) {
                    self.rng.pick(EXIT_CODES).to_string()
                } else {
                    self.expr(Ty::Int, 2)
                };
                let cond = self.expr(Ty::Bool, 2);
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
            _ => {
                let cond = self.expr(Ty::Bool, 2);
                vec![Node::Line(format!("assert({cond});"))]
            }
        }
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
        let ty = *self.rng.pick(&Ty::ALL);
        let value = self.value_expr(ty);
        // Sometimes shadow a variable of an outer scope, possibly with another type.
        let outer: Vec<Var> = match self.scopes.split_last() {
            Some((current, outer)) => outer
                .iter()
                .flatten()
                .filter(|v| v.assignable && !current.iter().any(|c| c.name == v.name))
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        let name = if !outer.is_empty() && self.rng.chance(25) {
            self.rng.pick(&outer).name.clone()
        } else {
            self.fresh("v")
        };
        let annotation = if self.rng.chance(30) {
            format!(": {}", ty.name())
        } else {
            String::new()
        };
        self.declare(name.clone(), ty, true);
        Node::Line(format!("let {name}{annotation} = {value};"))
    }

    fn if_statement(&mut self) -> Node {
        let mut parts = Vec::new();
        let cond = self.expr(Ty::Bool, 3);
        parts.push((format!("if {cond} {{"), self.scoped_block()));
        while self.rng.chance(30) {
            let cond = self.expr(Ty::Bool, 2);
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
        let saved = self.multiplier;
        self.multiplier = self.multiplier.saturating_mul(trips.max(1));
        self.loop_depth += 1;
        self.scopes.push(Vec::new());
        if let Some((name, ty, assignable)) = declare {
            self.declare(name, ty, assignable);
        }
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
            let cond = self.expr(Ty::Bool, 2);
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
        let (start, end) = match self.rng.below(3) {
            0 => {
                let low = self.rng.range(-3, 3);
                (low.to_string(), (low + self.rng.range(-1, 6)).to_string())
            }
            1 => (
                format!("({} & 7) - 3", self.expr(Ty::Int, 1)),
                format!("{} & 7", self.expr(Ty::Int, 1)),
            ),
            _ => (
                self.rng.range(0, 2).to_string(),
                format!("{} % 5", self.expr(Ty::Int, 1)),
            ),
        };
        let body = self.loop_body(11, Some((var.clone(), Ty::Int, true)));
        Node::Compound {
            parts: vec![(format!("for {var} in {start}..{end} {{"), body)],
            end: "}".into(),
        }
    }

    // ---- expressions ---------------------------------------------------------------------------

    /// A printed or stored value: usually a small expression, sometimes a deep one.
    fn value_expr(&mut self, ty: Ty) -> String {
        let depth = if self.rng.chance(10) { 6 } else { 3 };
        self.expr(ty, depth)
    }

    /// An expression of type `ty`, nested at most `depth` deep.
    fn expr(&mut self, ty: Ty, depth: u32) -> String {
        if depth == 0 {
            return self.leaf(ty);
        }
        let callable = self.functions.iter().any(|f| f.ret == Some(ty))
            || self
                .function
                .as_ref()
                .and_then(|f| f.self_sig.as_ref())
                .is_some_and(|s| s.ret == Some(ty));
        let block_ok = depth >= 2 && self.scopes.len() < 7;
        let operator_weight = match ty {
            Ty::Int | Ty::Bool => 6,
            Ty::Str => 0,
        };
        let weights = [
            3,                            // leaf
            operator_weight,              // operator
            if callable { 2 } else { 0 }, // call
            1,                            // if expression
            if block_ok { 1 } else { 0 }, // block expression
        ];
        match self.rng.weighted(&weights) {
            0 => self.leaf(ty),
            1 => match ty {
                Ty::Int => self.int_operator(depth - 1),
                _ => self.bool_operator(depth - 1),
            },
            2 => self.call_returning(ty, depth - 1),
            3 => {
                let cond = self.expr(Ty::Bool, depth - 1);
                let then = self.expr(ty, depth - 1);
                let other = self.expr(ty, depth - 1);
                format!("(if {cond} {{ {then} }} else {{ {other} }})")
            }
            _ => {
                self.scopes.push(Vec::new());
                let saved = self.statements_left;
                self.statements_left = 1 + self.rng.below(3) as u32;
                let body = self.statements(self.statements_left);
                self.statements_left = saved;
                let tail = tail_expression(self.expr(ty, depth - 1));
                self.scopes.pop();
                format!("({{ {}{tail} }})", render_inline(&body))
            }
        }
    }

    fn leaf(&mut self, ty: Ty) -> String {
        let vars = self.visible(|v| v.ty == ty);
        if !vars.is_empty() && self.rng.chance(60) {
            return self.rng.pick(&vars).name.clone();
        }
        match ty {
            Ty::Int => self.int_literal(),
            Ty::Bool => self.rng.pick(&["true", "false"]).to_string(),
            Ty::Str => self.rng.pick(STRING_LITERALS).to_string(),
        }
    }

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
            return self.expr(Ty::Int, depth);
        }
        if self.rng.chance(60) {
            self.rng.range(-10, 10).to_string()
        } else {
            format!("({} & 15)", self.expr(Ty::Int, depth))
        }
    }

    /// A right operand for `/` or `%`: usually non-zero.
    fn divisor(&mut self) -> String {
        if self.rng.chance(self.hazard * 2) {
            return self.expr(Ty::Int, 1);
        }
        if self.rng.chance(60) {
            let value = self.rng.range(1, 9) * if self.rng.chance(30) { -1 } else { 1 };
            value.to_string()
        } else {
            format!("({} | 1)", self.expr(Ty::Int, 1))
        }
    }

    fn int_operator(&mut self, depth: u32) -> String {
        let op = *self
            .rng
            .pick(&["+", "-", "*", "/", "%", "<<", ">>", "&", "|", "^", "neg"]);
        let lhs = self.expr(Ty::Int, depth);
        let rhs = match op {
            "neg" => return format!("-{lhs}"),
            "/" | "%" => self.divisor(),
            "<<" | ">>" if self.rng.chance(self.hazard * 2) => self.expr(Ty::Int, depth),
            "<<" | ">>" if self.rng.chance(60) => self.rng.range(0, 63).to_string(),
            "<<" | ">>" => format!("({} & 63)", self.expr(Ty::Int, depth)),
            "*" => self.factor(depth),
            _ => self.expr(Ty::Int, depth),
        };
        format!("({lhs} {op} {rhs})")
    }

    fn bool_operator(&mut self, depth: u32) -> String {
        match self.rng.below(4) {
            0 | 1 => {
                let op = *self.rng.pick(&["==", "!=", "<", "<=", ">", ">="]);
                let (lhs, rhs) = (self.expr(Ty::Int, depth), self.expr(Ty::Int, depth));
                format!("({lhs} {op} {rhs})")
            }
            2 => {
                let op = *self.rng.pick(&["&&", "||", "&", "|", "^", "==", "!="]);
                let (lhs, rhs) = (self.expr(Ty::Bool, depth), self.expr(Ty::Bool, depth));
                format!("({lhs} {op} {rhs})")
            }
            _ => format!("!{}", self.expr(Ty::Bool, depth)),
        }
    }

    fn call_returning(&mut self, ty: Ty, depth: u32) -> String {
        let mut candidates: Vec<FnSig> = self
            .functions
            .iter()
            .filter(|f| f.ret == Some(ty))
            .cloned()
            .collect();
        let self_sig = self.function.as_ref().and_then(|f| f.self_sig.clone());
        if let Some(sig) = self_sig.filter(|s| s.ret == Some(ty)) {
            candidates.push(sig);
        }
        if candidates.is_empty() {
            return self.leaf(ty);
        }
        let sig = self.rng.pick(&candidates).clone();
        self.call(&sig, depth).unwrap_or_else(|| self.leaf(ty))
    }

    /// A call of `sig` with generated arguments, or `None` when it would exceed the budget.
    fn call(&mut self, sig: &FnSig, depth: u32) -> Option<String> {
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
            args.push(if index == 0 && sig.recursive {
                if is_self {
                    "depth - 1".to_string()
                } else {
                    format!("{} & 3", self.expr(Ty::Int, depth.min(1)))
                }
            } else {
                self.expr(*ty, depth)
            });
        }
        Some(format!("{}({})", sig.name, args.join(", ")))
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

// ---- running the backends ------------------------------------------------------------------------

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Backend {
    Vm,
    Jit,
    Native,
}

impl Backend {
    const ALL: [Backend; 3] = [Backend::Vm, Backend::Jit, Backend::Native];

    fn name(self) -> &'static str {
        match self {
            Backend::Vm => "vm",
            Backend::Jit => "jit",
            Backend::Native => "native",
        }
    }
}

/// What a program did.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Outcome {
    stdout: String,
    stderr: String,
    status: i32,
}

fn keel() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keel"));
    cmd.env("NO_COLOR", "1");
    cmd
}

/// Runs `f.kl` in `dir` on `backend`.
fn run_on(dir: &Path, backend: Backend) -> Result<Outcome, String> {
    match backend {
        Backend::Vm | Backend::Jit => {
            let mut cmd = keel();
            cmd.arg("run")
                .arg(format!("--{}", backend.name()))
                .arg("f.kl")
                .current_dir(dir);
            run_command(cmd)
        }
        Backend::Native => {
            let exe = dir.join("f.exe");
            let mut build = keel();
            build
                .arg("build")
                .arg("f.kl")
                .arg("-o")
                .arg(&exe)
                .current_dir(dir);
            let built = run_command(build)?;
            if built.status != 0 {
                return Ok(built);
            }
            let mut cmd = Command::new(&exe);
            cmd.current_dir(dir);
            run_command(cmd)
        }
    }
}

/// Runs a command with no input to completion, or fails after [`TIME_LIMIT`].
fn run_command(mut cmd: Command) -> Result<Outcome, String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    let mut out_pipe = child.stdout.take().ok_or("no stdout pipe")?;
    let mut err_pipe = child.stderr.take().ok_or("no stderr pipe")?;
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out_pipe.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        buf
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("did not finish within {TIME_LIMIT:?}"));
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let stdout = out_reader.join().map_err(|_| "stdout reader failed")?;
    let stderr = err_reader.join().map_err(|_| "stderr reader failed")?;
    use std::os::unix::process::ExitStatusExt;
    let status = status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
    Ok(Outcome {
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        status,
    })
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

/// Runs `source` on `backends`; `Ok` when they all agree (with the shared outcome).
fn compare(source: &str, backends: &[Backend]) -> Result<Outcome, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("no temporary directory: {e}"))?;
    std::fs::write(dir.path().join("f.kl"), source).map_err(|e| e.to_string())?;
    let mut results = Vec::new();
    for &backend in backends {
        results.push((backend, run_on(dir.path(), backend)));
    }
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
    if let Err(error) = first {
        let _ = writeln!(report, "{}: {error}", first_backend.name());
    }
    match (report.is_empty(), first) {
        (true, Ok(outcome)) => Ok(outcome.clone()),
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

/// Greedily deletes statements while the program compiles and `backends` still disagree.
fn minimise(mut nodes: Vec<Node>, backends: &[Backend]) -> Vec<Node> {
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
            if compare(&source, backends).is_err() {
                nodes = candidate;
                improved = true;
                break;
            }
        }
    }
    nodes
}

/// The two backends that disagree (the VM and the first other one that differs).
fn disagreeing_backends(source: &str) -> Vec<Backend> {
    for other in [Backend::Jit, Backend::Native] {
        if compare(source, &[Backend::Vm, other]).is_err() {
            return vec![Backend::Vm, other];
        }
    }
    Backend::ALL.to_vec()
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
}

/// Generates, checks and runs program `index`; `Err` holds the failure report.
fn check_program(base: u64, index: usize, stats: &Mutex<Stats>) -> Result<(), String> {
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
    match compare(&source, &Backend::ALL) {
        Ok(outcome) => {
            if let Ok(mut stats) = stats.lock() {
                stats.programs += 1;
                stats.lines += source.lines().count();
                if outcome.status == 1 && !outcome.stderr.is_empty() {
                    stats.faulted += 1;
                } else if outcome.status != 0 {
                    stats.exited += 1;
                }
            }
            Ok(())
        }
        Err(report) => {
            let backends = disagreeing_backends(&source);
            let minimal = render(&minimise(nodes, &backends));
            let saved =
                Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("differential-{index}.kl"));
            let _ = std::fs::write(&saved, &minimal);
            let minimal_report = compare(&minimal, &Backend::ALL).err().unwrap_or_default();
            Err(format!(
                "program {index} (seed {seed:#x}) behaves differently on different backends:\n\
                 {report}\n--- program\n{source}\n--- minimised ({}, saved as {})\n{minimal}\n\
                 --- minimised program's difference\n{minimal_report}",
                backends
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
                if let Err(report) = check_program(base, index, &stats) {
                    if let Ok(mut failures) = failures.lock() {
                        failures.push(report);
                    }
                }
            });
        }
    });
    let stats = stats.into_inner().unwrap_or_default();
    eprintln!(
        "differential: {} of {cases} programs agreed ({} lines on average; {} faulted, {} called \
         exit) in {:.1?}",
        stats.programs,
        stats.lines / stats.programs.max(1),
        stats.faulted,
        stats.exited,
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
    for index in 0..200 {
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
