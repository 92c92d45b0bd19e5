//! Calls of the prelude's one-line wrappers of builtins, replaced by the builtin itself.
//!
//! Many prelude functions only give a builtin a name a program can use and redefine:
//! `fn factorial(int n) -> int { return __factorial(n); }`, `fn map_insert<K: Hash, V>(...)
//! { return __map_insert(m, key, value); }`. A call of one is rewritten, on the typed tree
//! between checking and lowering, into the builtin applied to the call's own arguments, with
//! the call's span. So a fault it raises names the program's line, not the wrapper's (in a file
//! the program does not have), and the call costs nothing. A wrapper is a function of the
//! prelude without contracts whose body is exactly `return BUILTIN(p0, p1, ...);`, its
//! parameters each passed once, in order: the rewrite evaluates the same arguments in the same
//! order. A program's own function of the same name is never a wrapper.
//!
//! What this module does not do: walk the tree (`fuse` does, and calls [`inline`] on every
//! expression).

use super::types::*;

/// The builtin `func` wraps, if it is a wrapper (see the module documentation).
pub(super) fn wrapped_builtin(func: &TFunc) -> Option<Builtin> {
    if !func.prelude || !func.requires.is_empty() || !func.ensures.is_empty() {
        return None;
    }
    let ([TStmt::Return(Some(body))], None) = (func.body.stmts.as_slice(), &func.body.tail) else {
        return None;
    };
    let TExprKind::Builtin { builtin, args } = &body.kind else {
        return None;
    };
    let passes_params = args.len() == func.param_count as usize
        && (args.iter().enumerate())
            .all(|(i, arg)| matches!(arg.kind, TExprKind::Var(VarId(v)) if v == i as u32));
    passes_params.then_some(*builtin)
}

/// Rewrites `e` when it is a call of a wrapper (`wrappers[f]` is the builtin function `f`
/// wraps, if it is one).
pub(super) fn inline(e: &mut TExpr, wrappers: &[Option<Builtin>]) {
    let TExprKind::Call { func, args, .. } = &mut e.kind else {
        return;
    };
    let Some(&Some(builtin)) = wrappers.get(*func as usize) else {
        return;
    };
    let args = std::mem::take(args);
    e.kind = TExprKind::Builtin { builtin, args };
}
