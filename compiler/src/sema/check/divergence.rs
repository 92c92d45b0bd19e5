//! Whether control can get past a statement or expression: for missing-return checks and
//! `if` without `else`.

use super::*;

/// Whether control can never reach the end of the block.
pub(super) fn block_diverges(block: &TBlock) -> bool {
    block.stmts.iter().any(stmt_diverges) || block.tail.as_ref().is_some_and(|t| expr_diverges(t))
}

pub(super) fn stmt_diverges(stmt: &TStmt) -> bool {
    match stmt {
        TStmt::Return(_) | TStmt::Fault { .. } => true,
        TStmt::Expr(e) => expr_diverges(e),
        TStmt::Assign { value, .. } => expr_diverges(value),
        TStmt::While { cond, body } => {
            matches!(cond.kind, TExprKind::Bool(true)) && !breaks_out(body)
        }
        TStmt::Live(live) => block_diverges(&live.body),
        TStmt::Speculate { slow, .. } => block_diverges(slow),
        // Its value is computed once, the first time: later runs go straight past it.
        TStmt::StaticLet { .. }
        | TStmt::ForRange { .. }
        | TStmt::ForEach { .. }
        | TStmt::Break
        | TStmt::Continue
        | TStmt::Assert { .. } => false,
    }
}

pub(super) fn expr_diverges(expr: &TExpr) -> bool {
    match &expr.kind {
        TExprKind::Builtin {
            builtin: Builtin::Exit,
            ..
        } => true,
        TExprKind::If { diverges, .. } => *diverges,
        TExprKind::Block(block) => block_diverges(block),
        _ => false,
    }
}

/// Whether a `break` in this loop body (not in a nested loop) leaves the loop.
pub(super) fn breaks_out(block: &TBlock) -> bool {
    fn stmt(s: &TStmt) -> bool {
        match s {
            TStmt::Break => true,
            TStmt::Expr(e) | TStmt::Assign { value: e, .. } => expr(e),
            TStmt::Return(Some(e)) => expr(e),
            TStmt::Live(live) => breaks_out(&live.body),
            _ => false,
        }
    }
    fn expr(e: &TExpr) -> bool {
        match &e.kind {
            TExprKind::If { then, else_, .. } => {
                breaks_out(then) || else_.as_ref().is_some_and(|e| expr(e))
            }
            TExprKind::Block(b) => breaks_out(b),
            _ => false,
        }
    }
    block.stmts.iter().any(stmt) || block.tail.as_ref().is_some_and(|t| expr(t))
}
