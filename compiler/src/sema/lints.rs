//! Warnings: code that compiles but most likely does not do what was meant. They never stop a
//! program from compiling (the driver's `--deny-warnings` makes them do so).
//!
//! - **W0001, a discarded result of a call without side effects**: `push(a, 3);` computes a new
//!   array and throws it away, leaving `a` as it was; values are copied, not shared, so a call
//!   like that does nothing. A function has side effects when its body prints, reads input,
//!   touches files or the environment, calls `exit`, sleeps, sets a `static let`, may fault on
//!   purpose (`assert`, a failed `unwrap`, a `requires` or `ensures` clause), or calls a function
//!   value or a function that has side effects (followed through every function it may call,
//!   recursion included, only for the calls whose results are thrown away).
//! - **W0002, unreachable code**: a statement after `return`, `break`, `continue` or `exit(...)`
//!   in the same block.
//!
//! Only the program's own code is looked at, never the prelude's. The analysis runs on the typed
//! tree, after checking has found no error and before `fuse` rewrites it.
//!
//! What this module does not do: report unused variables (W0003: the checker does, as it knows
//! which names reach which variables).

use super::types::{
    Builtin, PathStep, TBlock, TExpr, TExprKind, TFunc, TPart, TProgram, TStmt, Type,
};
use crate::diag::{Diagnostic, Sources, Span};

/// The warnings about `program` (the caller puts them in source order with the checker's).
pub fn lint(program: &TProgram, sources: &dyn Sources) -> Vec<Diagnostic> {
    let mut linter = Linter {
        program,
        sources,
        effects: std::collections::HashMap::new(),
        warnings: Vec::new(),
    };
    for func in program.funcs.iter().filter(|f| !f.prelude) {
        linter.func(func);
    }
    linter.func(&program.main);
    linter.warnings
}

/// Whether calling function `func` of `program` may have a side effect: whether it, or a
/// function it may call (directly or through others), has one of its own. Asked only for the
/// calls whose results are thrown away, so nothing is computed for programs without them.
fn may_have_effect(program: &TProgram, func: u32) -> bool {
    let mut seen = std::collections::HashSet::from([func]);
    let mut pending = vec![func];
    while let Some(next) = pending.pop() {
        let Some(body) = program.funcs.get(next as usize) else {
            return true;
        };
        let mut effects = Effects::default();
        effects.func(body);
        if effects.direct {
            return true;
        }
        pending.extend(
            effects
                .callees
                .into_iter()
                .filter(|&callee| seen.insert(callee)),
        );
    }
    false
}

/// What a function's body does by itself, and the functions it calls.
#[derive(Default)]
struct Effects {
    direct: bool,
    callees: Vec<u32>,
}

impl Effects {
    fn func(&mut self, func: &TFunc) {
        self.direct |= !func.requires.is_empty() || !func.ensures.is_empty();
        self.block(&func.body);
    }

    fn block(&mut self, block: &TBlock) {
        for stmt in &block.stmts {
            self.stmt(stmt);
        }
        if let Some(tail) = &block.tail {
            self.expr(tail);
        }
    }

    fn stmt(&mut self, stmt: &TStmt) {
        match stmt {
            TStmt::StaticLet { .. } | TStmt::Assert { .. } | TStmt::Fault { .. } => {
                self.direct = true
            }
            TStmt::Assign { place, value } => {
                self.expr(value);
                for step in &place.path {
                    if let PathStep::Index { index, .. } = step {
                        self.expr(index);
                    }
                }
            }
            TStmt::Expr(e) | TStmt::Return(Some(e)) => self.expr(e),
            TStmt::While { cond, body } => {
                self.expr(cond);
                self.block(body);
            }
            TStmt::ForRange {
                start, end, body, ..
            } => {
                self.expr(start);
                self.expr(end);
                self.block(body);
            }
            TStmt::ForEach { array, body, .. } => {
                self.expr(array);
                self.block(body);
            }
            TStmt::Break | TStmt::Continue | TStmt::Return(None) => {}
            TStmt::Live(live) => {
                self.block(&live.body);
                if let Some((cond, _)) = &live.invariant {
                    self.expr(cond);
                }
            }
            TStmt::Speculate { fast, slow, .. } => {
                self.block(fast);
                self.block(slow);
            }
        }
    }

    fn expr(&mut self, e: &TExpr) {
        match &e.kind {
            TExprKind::Builtin { builtin, .. } if !super::fuse::builtin_is_pure(*builtin) => {
                self.direct = true
            }
            TExprKind::Call { func, .. } => self.callees.push(*func),
            // What a function value does is not known here.
            TExprKind::CallValue { .. } => self.direct = true,
            _ => {}
        }
        for part in e.parts() {
            match part {
                TPart::Expr(inner) => self.expr(inner),
                TPart::Block(block) => self.block(block),
            }
        }
    }
}

struct Linter<'p> {
    program: &'p TProgram,
    sources: &'p dyn Sources,
    /// [`may_have_effect`] of the functions asked about so far (each answer is final: it is
    /// about everything the function may call).
    effects: std::collections::HashMap<u32, bool>,
    warnings: Vec<Diagnostic>,
}

impl Linter<'_> {
    fn func(&mut self, func: &TFunc) {
        self.block(func, &func.body);
    }

    fn block(&mut self, func: &TFunc, block: &TBlock) {
        let mut ended: Option<&str> = None;
        for stmt in &block.stmts {
            if let Some(how) = ended.take() {
                if let Some(span) = stmt_span(stmt) {
                    self.unreachable(span, how);
                }
                // One warning per block: what follows is unreachable too.
                ended = None;
                break;
            }
            self.stmt(func, stmt);
            ended = ends_block(stmt);
        }
        if let (Some(how), Some(tail)) = (ended, &block.tail) {
            self.unreachable(tail.span, how);
        }
        if let Some(tail) = &block.tail {
            self.expr(func, tail);
        }
    }

    fn stmt(&mut self, func: &TFunc, stmt: &TStmt) {
        match stmt {
            TStmt::Expr(e) => {
                self.discarded(func, e);
                self.expr(func, e);
            }
            TStmt::Assign { value, .. }
            | TStmt::StaticLet { value, .. }
            | TStmt::Return(Some(value))
            | TStmt::Fault { message: value, .. } => self.expr(func, value),
            TStmt::While { cond, body } => {
                self.expr(func, cond);
                self.block(func, body);
            }
            TStmt::ForRange {
                start, end, body, ..
            } => {
                self.expr(func, start);
                self.expr(func, end);
                self.block(func, body);
            }
            TStmt::ForEach { array, body, .. } => {
                self.expr(func, array);
                self.block(func, body);
            }
            TStmt::Assert { cond, message, .. } => {
                self.expr(func, cond);
                if let Some(message) = message {
                    self.expr(func, message);
                }
            }
            TStmt::Live(live) => self.block(func, &live.body),
            TStmt::Speculate { fast, .. } => self.block(func, fast),
            TStmt::Break | TStmt::Continue | TStmt::Return(None) => {}
        }
    }

    /// Looks into the blocks and closures inside `e`.
    fn expr(&mut self, func: &TFunc, e: &TExpr) {
        if let TExprKind::Closure(closure) = &e.kind {
            self.func(&closure.func);
            return;
        }
        for part in e.parts() {
            match part {
                TPart::Expr(inner) => self.expr(func, inner),
                TPart::Block(block) => self.block(func, block),
            }
        }
    }

    /// W0001 for `e`, an expression statement, when it is a call with no effect but its result.
    fn discarded(&mut self, func: &TFunc, e: &TExpr) {
        if matches!(e.ty, Type::Void | Type::Error) {
            return;
        }
        let (args, callee) = match &e.kind {
            TExprKind::Builtin { builtin, args } if super::fuse::builtin_is_pure(*builtin) => {
                (args, None)
            }
            TExprKind::Builtin { .. } => return,
            TExprKind::Call {
                func: called,
                args,
                callee_span,
            } if !self.may_have_effect(*called) => (args, Some(*callee_span)),
            _ => return,
        };
        let text = self.text(e.span);
        // `push(a, 3)`, or the method of `m.insert(k, v)`.
        let written = match callee {
            Some(span) => self.text(span),
            None => text.split('(').next().unwrap_or("").to_string(),
        };
        let name = written.rsplit('.').next().unwrap_or("").trim().to_string();
        if name.is_empty() || name.starts_with("__") {
            return;
        }
        let mut warning = Diagnostic::warning(
            "W0001",
            e.span,
            format!("the result of `{name}` is not used"),
        )
        .label("this call does nothing else");
        let reassign = match args.first().map(|a| (&a.kind, a.ty)) {
            Some((TExprKind::Var(var), ty)) if ty == e.ty => {
                func.vars.get(var.0 as usize).map(|(n, _)| n.clone())
            }
            _ => None,
        };
        warning = match reassign {
            Some(var) => warning.note(format!(
                "values are copied, not shared: `{name}` returns a new value and leaves `{var}` \
                 as it was; to keep the result, write `{var} = {text};`"
            )),
            None => warning.note(format!(
                "`{name}` has no effect but its result: use it, or remove the call"
            )),
        };
        self.warnings.push(warning);
    }

    fn may_have_effect(&mut self, func: u32) -> bool {
        let program = self.program;
        *(self.effects)
            .entry(func)
            .or_insert_with(|| may_have_effect(program, func))
    }

    fn unreachable(&mut self, span: Span, how: &str) {
        self.warnings.push(
            Diagnostic::warning("W0002", span, "unreachable code").label(format!(
                "this never runs: the block ends at the `{how}` before it"
            )),
        );
    }

    /// The source text of `span` (empty outside the program's files).
    fn text(&self, span: Span) -> String {
        let placed = self.sources.placed(span.start);
        let local = placed.local(span);
        placed
            .file
            .text
            .get(local.range())
            .unwrap_or("")
            .to_string()
    }
}

/// How `stmt` ends its block, if it always does: `return`, `break`, `continue` or `exit`.
fn ends_block(stmt: &TStmt) -> Option<&'static str> {
    match stmt {
        TStmt::Return(_) => Some("return"),
        TStmt::Break => Some("break"),
        TStmt::Continue => Some("continue"),
        TStmt::Expr(TExpr {
            kind:
                TExprKind::Builtin {
                    builtin: Builtin::Exit,
                    ..
                },
            ..
        }) => Some("exit"),
        _ => None,
    }
}

/// Where a statement is shown in a warning: its first expression's span.
fn stmt_span(stmt: &TStmt) -> Option<Span> {
    match stmt {
        TStmt::Assign { value, .. } | TStmt::StaticLet { value, .. } => Some(value.span),
        TStmt::Expr(e) | TStmt::Return(Some(e)) => Some(e.span),
        TStmt::While { cond, .. } => Some(cond.span),
        TStmt::ForRange { span, .. } | TStmt::ForEach { span, .. } => Some(*span),
        TStmt::Assert { keyword, .. } => Some(*keyword),
        TStmt::Live(live) => Some(live.keyword),
        TStmt::Speculate { at, .. } | TStmt::Fault { at, .. } => Some(*at),
        TStmt::Break | TStmt::Continue | TStmt::Return(None) => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::diag::SourceFile;

    /// The codes of `source`'s warnings, in source order.
    fn warnings(source: &str) -> Vec<&'static str> {
        let compiled =
            crate::sema::compile_text(&SourceFile::new("t.kl", source), Default::default())
                .unwrap_or_else(|d| panic!("{d:#?}"));
        compiled.warnings.iter().map(|w| w.code).collect()
    }

    #[test]
    fn effects_are_followed_through_calls_and_recursion() {
        let pure = "fn down(int n) -> int { if n == 0 { return 0; } return down(n - 1); }\n";
        assert_eq!(warnings(&format!("{pure}down(3);")), ["W0001"]);
        let printing =
            "fn say(int n) -> int { if n > 0 { return say(n - 1); } println(n); return n; }\n";
        assert_eq!(warnings(&format!("{printing}say(3);")), Vec::<&str>::new());
        let through = "fn log(int n) -> int { println(n); return n; }\nfn f(int n) -> int { return log(n); }\n";
        assert_eq!(warnings(&format!("{through}f(1);")), Vec::<&str>::new());
        // Used results, and calls of void functions, are fine.
        assert_eq!(
            warnings(&format!("{pure}let x = down(3); println(x);")),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn statements_after_the_end_of_a_block_are_unreachable() {
        assert_eq!(
            warnings("fn f() -> int { return 1; println(2); }\nprintln(f());"),
            ["W0002"]
        );
        assert_eq!(
            warnings("let i = 0; while i < 1 { i = i + 1; }"),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn the_prelude_is_not_linted() {
        assert_eq!(warnings(""), Vec::<&str>::new());
    }
}
