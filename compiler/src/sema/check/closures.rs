//! Functions as values: closures (`fn(int x) -> int { return x + k; }`) and what they capture,
//! named functions and variant constructors used as values, and calls of function values.
//!
//! A closure's body is checked as a function of its own, in a *frame* stacked on the enclosing
//! function's (its scopes and variables are set aside meanwhile). A name the closure's scopes do
//! not know is looked for in the enclosing frames, innermost first; found there, it becomes a
//! *capture*: a variable of the closure's own, holding a copy of the outer value taken when the
//! closure is created (and likewise of each frame in between, so a closure inside a closure
//! copies through its parent). Assigning a captured variable is an error (E0438): the copy
//! could never be seen outside.
//!
//! What this module does not do: lower closures (`sema::lower` makes a function of each, and
//! its closure type) or check calls of named functions (`calls`).

use super::*;

/// What a body's checker sets aside while it checks a closure inside it.
pub(super) struct Frame {
    scopes: Vec<HashMap<String, (VarId, Span)>>,
    vars: Vec<(String, Type)>,
    ret: RetMode,
    loop_depth: u32,
    saw_broken_stmt: bool,
    following: Vec<TStmt>,
    captures: Vec<(VarId, VarId)>,
    lets: Vec<(VarId, Ident)>,
    read: std::collections::HashSet<u32>,
}

/// What checking a closure's body gave: its variables, its captures (the enclosing variable,
/// then the closure's own) and how its returns were checked.
type FrameEnd = (Vec<(String, Type)>, Vec<(VarId, VarId)>, RetMode);

impl Frame {
    fn lookup(&self, name: &str) -> Option<VarId> {
        self.scopes
            .iter()
            .rev()
            .find_map(|scope| scope.get(name).map(|(id, _)| *id))
    }
}

impl BodyChecker<'_, '_> {
    /// The variable `name` of an enclosing frame, captured into every frame from there to the
    /// current one; `None` if no enclosing frame has it.
    pub(super) fn capture(&mut self, name: &str, span: Span) -> Option<VarId> {
        let (from, mut outer) = self.enclosing(name)?;
        let ty = self.frames[from].vars[outer.0 as usize].1;
        // Capturing reads the outer value.
        self.frames[from].read.insert(outer.0);
        for k in from + 1..self.frames.len() {
            let frame = &mut self.frames[k];
            let inner = VarId(frame.vars.len() as u32);
            frame.vars.push((name.to_string(), ty));
            frame.scopes[0].insert(name.to_string(), (inner, span));
            frame.captures.push((outer, inner));
            outer = inner;
        }
        let inner = VarId(self.vars.len() as u32);
        self.vars.push((name.to_string(), ty));
        self.scopes[0].insert(name.to_string(), (inner, span));
        self.captures.push((outer, inner));
        Some(inner)
    }

    /// The variable `name` if it holds a function value (captured if it is an enclosing
    /// body's); nothing is captured otherwise.
    pub(super) fn lookup_function_variable(&mut self, name: &str) -> Option<VarId> {
        let ty = match self.lookup_here(name) {
            Some(var) => self.var_type(var),
            None => {
                let (frame, var) = self.enclosing(name)?;
                self.frames[frame].vars[var.0 as usize].1
            }
        };
        if !matches!(ty, Type::Fn(_)) {
            return None;
        }
        self.lookup(name)
    }

    /// The innermost enclosing frame (its index in `frames`) with a variable `name`, and that
    /// variable.
    fn enclosing(&self, name: &str) -> Option<(usize, VarId)> {
        (0..self.frames.len())
            .rev()
            .find_map(|k| self.frames[k].lookup(name).map(|var| (k, var)))
    }

    /// Whether `var` holds a captured copy in the current frame.
    pub(super) fn is_captured(&self, var: VarId) -> bool {
        self.captures.iter().any(|&(_, inner)| inner == var)
    }

    /// E0438: an assignment to the captured variable `name`.
    pub(super) fn assigned_capture(&mut self, name: &str, span: Span) {
        self.diags.push(
            Diagnostic::new(
                "E0438",
                span,
                format!("cannot assign to `{name}`, which this closure captured"),
            )
            .label("a captured variable")
            .note("a closure captures a copy of each outer variable when it is created; assigning the copy would change nothing outside. Declare a variable of the closure's own: `let mine = name;`"),
        );
    }

    /// `fn(params) -> ret { body }`.
    pub(super) fn closure(
        &mut self,
        params: &[Param],
        ret: Option<&TypeExpr>,
        body: &Block,
        span: Span,
    ) -> TExpr {
        if self.clause.is_some() {
            self.diags.push(
                Diagnostic::new("E0507", span, "a closure in a contract clause")
                    .label("clauses are expressions without statements")
                    .note("put the computation in a function and call it from the clause"),
            );
            return TExpr::error(span);
        }
        let mut param_tys = Vec::with_capacity(params.len());
        for param in params {
            if param.name.name == "self" {
                self.diags.push(
                    Diagnostic::new("E0428", param.name.span, "a closure has no `self`")
                        .label("`self` is the receiver of a method")
                        .note("give the parameter a type and another name"),
                );
                return TExpr::error(span);
            }
            param_tys.push(self.cx.resolve_type(&param.ty, false, self.diags));
        }
        let declared = ret.map(|ret| self.cx.resolve_type(ret, true, self.diags));
        let mode = match declared {
            Some(ret) => RetMode::Declared(ret),
            None => RetMode::Infer(Vec::new()),
        };
        let saved = self.enter_frame(mode);
        // The captures' scope, under the parameters' (which shadow them).
        self.push_scope();
        self.push_scope();
        for (param, &ty) in params.iter().zip(&param_tys) {
            self.declare(&param.name, ty);
        }
        // The closure object and the call's site text, which its function takes after the
        // parameters (`ir::StructKind::Closure`); the object's type is its closure type, which
        // lowering makes (a string stands in for it here).
        self.hidden(Type::Str);
        self.hidden(Type::Str);
        let block = self.block(body, true);
        let diverges = block_diverges(&block) || self.saw_broken_stmt;
        let (vars, captures, mode) = self.leave_frame(saved);
        let tail_ty = block.tail.as_ref().map(|t| t.ty);
        let ret = match mode {
            RetMode::Declared(ret) => {
                if let Some(tail) = block.tail.as_ref().filter(|t| t.ty != Type::Void) {
                    if !tail.ty.fits(ret) && ret != Type::Void {
                        self.mismatch(tail.span, ret, tail.ty, "the closure's last expression");
                    }
                } else if ret != Type::Void && ret != Type::Error && !diverges {
                    let name = self.name(ret);
                    self.diags.push(
                        Diagnostic::new("E0407", span, "closure may end without returning a value")
                            .label(format!("declared to return `{name}`"))
                            .secondary(
                                Span::new(body.span.end as usize - 1, body.span.end as usize),
                                "control can reach the end here",
                            ),
                    );
                }
                ret
            }
            RetMode::Infer(returns) => inferred_result(returns, tail_ty),
            RetMode::TopLevel => Type::Void,
        };
        if param_tys.contains(&Type::Error) || ret == Type::Error {
            return TExpr::error(span);
        }
        let ty = self.cx.types.fn_of(param_tys, ret);
        let func = TFunc {
            name: "closure".into(),
            prelude: false,
            param_count: params.len() as u32 + 2,
            vars,
            ret,
            body: block,
            span: Some(span),
            requires: Vec::new(),
            ensures: Vec::new(),
        };
        TExpr {
            kind: TExprKind::Closure(Box::new(TClosure { func, captures })),
            ty,
            span,
        }
    }

    /// Starts checking a closure's body: sets the enclosing body's state aside.
    fn enter_frame(&mut self, ret: RetMode) -> usize {
        let frame = Frame {
            scopes: std::mem::take(&mut self.scopes),
            vars: std::mem::take(&mut self.vars),
            ret: std::mem::replace(&mut self.ret, ret),
            loop_depth: std::mem::take(&mut self.loop_depth),
            saw_broken_stmt: std::mem::take(&mut self.saw_broken_stmt),
            following: std::mem::take(&mut self.following),
            captures: std::mem::take(&mut self.captures),
            lets: std::mem::take(&mut self.lets),
            read: std::mem::take(&mut self.read),
        };
        self.frames.push(frame);
        self.frames.len()
    }

    /// Ends a closure's body: gives back its variables, captures and result mode, and restores
    /// the enclosing body's state.
    fn leave_frame(&mut self, depth: usize) -> FrameEnd {
        debug_assert_eq!(depth, self.frames.len());
        self.report_unused_lets();
        let Some(frame) = self.frames.pop() else {
            unreachable!("a frame is entered before it is left");
        };
        self.lets = frame.lets;
        self.read = frame.read;
        self.scopes = frame.scopes;
        self.loop_depth = frame.loop_depth;
        self.saw_broken_stmt = frame.saw_broken_stmt;
        self.following = frame.following;
        let vars = std::mem::replace(&mut self.vars, frame.vars);
        let captures = std::mem::replace(&mut self.captures, frame.captures);
        let ret = std::mem::replace(&mut self.ret, frame.ret);
        (vars, captures, ret)
    }

    /// A named function as a value, if `name` is one (an error expression, reported, for a
    /// generic function or a builtin, which cannot be values).
    pub(super) fn function_value(&mut self, name: &str, span: Span) -> Option<TExpr> {
        if let Some(decl) = self.cx.function_named(name) {
            return Some(self.decl_value(decl, name, span));
        }
        if BUILTIN_NAMES.contains(&name)
            || matches!(name, "unwrap" | "expect" | "unwrap_or" | "unwrap_err")
        {
            self.diags.push(
                Diagnostic::new(
                    "E0439",
                    span,
                    format!("the builtin `{name}` is not a function value"),
                )
                .label("builtins can only be called")
                .note(format!(
                    "wrap a call of it in a closure with the types written: `fn(...) -> ... {{ return {name}(...); }}`"
                )),
            );
            return Some(TExpr::error(span));
        }
        None
    }

    /// Function declaration `decl` (called `name` where it is used) as a value.
    pub(super) fn decl_value(&mut self, decl: u32, name: &str, span: Span) -> TExpr {
        let generic = !self.cx.decls[decl as usize].type_params.is_empty();
        let sig = if generic {
            None
        } else {
            self.cx.plain_sig(decl, span, self.diags)
        };
        let Some(func) = sig else {
            if generic {
                self.diags.push(
                    Diagnostic::new(
                        "E0439",
                        span,
                        format!("the generic function `{name}` is not a function value"),
                    )
                    .label("its type arguments cannot be known here")
                    .note("wrap a call of it in a closure with the types written, e.g. `fn(int x) -> int { return f(x); }`"),
                );
            }
            return TExpr::error(span);
        };
        let params = self.cx.sigs[func as usize].params.clone();
        let ret = self.cx.ret_type(func);
        if ret == Type::Error || params.contains(&Type::Error) {
            return TExpr::error(span);
        }
        TExpr {
            kind: TExprKind::FuncRef(func),
            ty: self.cx.types.fn_of(params, ret),
            span,
        }
    }

    /// The constructor of variant entry `entry` (which has a payload) as a value.
    pub(super) fn variant_constructor(&mut self, entry: u32, span: Span) -> TExpr {
        let params = self.cx.types.payload(entry);
        let ret = self.enum_of(entry);
        let tag = match self.cx.types.structs[entry as usize].kind {
            StructKind::Variant { tag, .. } => tag,
            _ => 0,
        };
        TExpr {
            kind: TExprKind::VariantRef {
                variant: entry,
                tag,
            },
            ty: self.cx.types.fn_of(params, ret),
            span,
        }
    }

    /// `callee(args)` where the callee is a function value (already checked).
    pub(super) fn value_call(
        &mut self,
        callee: TExpr,
        args: &[Expr],
        callee_span: Span,
        span: Span,
    ) -> TExpr {
        let Some((params, ret)) = self.cx.types.fn_sig(callee.ty) else {
            for arg in args {
                self.expr(arg, true, None);
            }
            if callee.ty != Type::Error {
                let found = self.name(callee.ty);
                self.diags.push(
                    Diagnostic::new("E0440", callee_span, format!("`{found}` is not a function"))
                        .label("called here")
                        .note("only functions and function values (of types such as `fn(int) -> int`) can be called"),
                );
            }
            return TExpr::error(span);
        };
        let typed: Vec<TExpr> = (args.iter().enumerate())
            .map(|(i, arg)| self.expr(arg, true, params.get(i).copied()))
            .collect();
        if typed.len() != params.len() {
            let want = params.len();
            let name = self.name(callee.ty);
            self.diags.push(
                Diagnostic::new(
                    "E0402",
                    callee_span,
                    format!(
                        "this `{name}` takes {want} argument{}, but {} {} given",
                        plural(want),
                        typed.len(),
                        if typed.len() == 1 { "was" } else { "were" }
                    ),
                )
                .label("wrong number of arguments"),
            );
            return TExpr::error(span);
        }
        for (arg, &param) in typed.iter().zip(&params) {
            self.require_value(arg);
            if !arg.ty.fits(param) {
                self.mismatch(
                    arg.span,
                    param,
                    arg.ty,
                    "this argument of the function value",
                );
            }
        }
        TExpr {
            kind: TExprKind::CallValue {
                callee: Box::new(callee),
                args: typed,
                callee_span,
            },
            ty: ret,
            span,
        }
    }
}
