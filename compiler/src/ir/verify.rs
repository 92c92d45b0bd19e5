//! The IR verifier: checks the invariants every backend relies on.
//!
//! It checks that every block, local, function, string and site index is in range, that operand
//! types match what each instruction expects, that calls pass the right number and types of
//! arguments, and that returns match the function's result type. The front end's output must
//! always verify; the test suite runs the verifier on every program. It does not check that
//! locals are assigned before use (the front end guarantees it by construction).

use super::{BinaryOp, Function, Inst, Operand, Program, Term, Ty, UnaryOp};

/// Checks `program`, returning a description of every violation found.
pub fn verify(program: &Program) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    if program.entry.0 as usize >= program.functions.len() {
        errors.push(format!("entry fn#{} does not exist", program.entry.0));
    }
    for (index, func) in program.functions.iter().enumerate() {
        let mut checker = Checker {
            program,
            func,
            errors: &mut errors,
            where_: String::new(),
        };
        checker.function(index);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

struct Checker<'a> {
    program: &'a Program,
    func: &'a Function,
    errors: &'a mut Vec<String>,
    where_: String,
}

impl Checker<'_> {
    fn error(&mut self, message: String) {
        self.errors.push(format!("{}: {message}", self.where_));
    }

    fn function(&mut self, index: usize) {
        let func = self.func;
        if func.blocks.is_empty() {
            self.where_ = format!("fn#{index} {}", func.name);
            self.error("function has no blocks".into());
        }
        if func.param_count as usize > func.locals.len() {
            self.where_ = format!("fn#{index} {}", func.name);
            self.error("more parameters than locals".into());
        }
        for (b, block) in func.blocks.iter().enumerate() {
            for (i, inst) in block.insts.iter().enumerate() {
                self.where_ = format!("fn#{index} {} b{b} inst {i}", func.name);
                self.inst(inst);
            }
            self.where_ = format!("fn#{index} {} b{b} terminator", func.name);
            self.term(&block.term);
        }
    }

    fn operand_ty(&mut self, op: &Operand) -> Option<Ty> {
        match op {
            Operand::Local(l) => match self.func.locals.get(l.0 as usize) {
                Some(info) => Some(info.ty),
                None => {
                    self.error(format!("local %{} does not exist", l.0));
                    None
                }
            },
            Operand::Int(_) => Some(Ty::Int),
            Operand::Bool(_) => Some(Ty::Bool),
            Operand::Str(s) => {
                if s.0 as usize >= self.program.strings.len() {
                    self.error(format!("string str#{} does not exist", s.0));
                }
                Some(Ty::Str)
            }
        }
    }

    fn expect(&mut self, op: &Operand, want: Ty) {
        if let Some(got) = self.operand_ty(op) {
            if got != want {
                self.error(format!("expected {want} operand, found {got}"));
            }
        }
    }

    fn def(&mut self, dst: super::Local, want: Ty) {
        self.expect(&Operand::Local(dst), want);
    }

    fn site(&mut self, site: super::SiteId) {
        if site.0 as usize >= self.program.sites.len() {
            self.error(format!("site {} does not exist", site.0));
        }
    }

    fn inst(&mut self, inst: &Inst) {
        match inst {
            Inst::Copy { dst, src } => {
                if let Some(ty) = self.operand_ty(src) {
                    self.def(*dst, ty);
                }
            }
            Inst::Unary { dst, op, src, site } => {
                let ty = match op {
                    UnaryOp::NegInt => Ty::Int,
                    UnaryOp::Not => Ty::Bool,
                };
                self.site(*site);
                self.expect(src, ty);
                self.def(*dst, ty);
            }
            Inst::Binary {
                dst,
                op,
                lhs,
                rhs,
                site,
            } => {
                self.site(*site);
                match op {
                    BinaryOp::BitAnd | BinaryOp::BitOr | BinaryOp::BitXor => {
                        let ty = self.operand_ty(lhs).unwrap_or(Ty::Int);
                        if ty != Ty::Int && ty != Ty::Bool {
                            self.error(format!("bitwise op on {ty}"));
                        }
                        self.expect(rhs, ty);
                        self.def(*dst, ty);
                    }
                    BinaryOp::EqBool | BinaryOp::NeBool => {
                        self.expect(lhs, Ty::Bool);
                        self.expect(rhs, Ty::Bool);
                        self.def(*dst, Ty::Bool);
                    }
                    _ => {
                        self.expect(lhs, Ty::Int);
                        self.expect(rhs, Ty::Int);
                        let ty = if op.is_comparison() {
                            Ty::Bool
                        } else {
                            Ty::Int
                        };
                        self.def(*dst, ty);
                    }
                }
            }
            Inst::Call {
                dst,
                func,
                args,
                site,
            } => {
                self.site(*site);
                let Some(callee) = self.program.functions.get(func.0 as usize) else {
                    self.error(format!("callee fn#{} does not exist", func.0));
                    return;
                };
                if args.len() != callee.param_count as usize {
                    self.error(format!(
                        "{} takes {} arguments, given {}",
                        callee.name,
                        callee.param_count,
                        args.len()
                    ));
                }
                let param_tys: Vec<Ty> = callee.params().map(|p| callee.local_ty(p)).collect();
                for (arg, ty) in args.iter().zip(param_tys) {
                    self.expect(arg, ty);
                }
                match (dst, callee.ret) {
                    (None, _) => {}
                    (Some(_), Ty::Void) => self.error("void call assigned to a local".into()),
                    (Some(d), ret) => self.def(*d, ret),
                }
            }
            Inst::Print { value, ty, .. } => {
                if *ty == Ty::Void {
                    self.error("print of void".into());
                }
                self.expect(value, *ty);
            }
        }
    }

    fn term(&mut self, term: &Term) {
        for target in term.successors() {
            if target.0 as usize >= self.func.blocks.len() {
                self.error(format!("jump to missing block b{}", target.0));
            }
        }
        match term {
            Term::Branch { cond, .. } => self.expect(cond, Ty::Bool),
            Term::Return(value) => match (value, self.func.ret) {
                (None, Ty::Void) => {}
                (Some(v), ret) if ret != Ty::Void => self.expect(v, ret),
                _ => self.error(format!(
                    "return does not match result type {}",
                    self.func.ret
                )),
            },
            Term::Exit(code) => self.expect(code, Ty::Int),
            Term::Jump(_) => {}
        }
    }
}
