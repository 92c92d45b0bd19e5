//! IR → bytecode: emits each function's planned blocks as specialised register instructions.
//!
//! IR local `n` is register `n`; two scratch registers follow the locals (for constants an
//! instruction needs in a register), then the outgoing-argument slots where callees' windows
//! start (see `bytecode`). Operands that are constants use immediate forms where one exists and
//! the value fits in `i32`; commutative ops and comparisons swap their operands to get one.
//! Which instructions fuse, forward or move is decided by `plan`; this module only emits.
//!
//! What this module does not do: optimise beyond those local rewrites, or execute anything. It
//! expects verified IR (it verifies again and treats a failure as a compiler bug).

use keel_runtime::{PRINT_NEWLINE, PRINT_STDERR};

use super::bytecode::{FaultSite, FrameInfo, FuncInfo, Instr, Literals, Module, ModuleParts, Reg};
use super::plan::{defined, plan_function, Cond, Dest, Ending, FunctionPlan, InstPlan, Rel};
use crate::ir::{
    verify::verify, BinaryOp, BlockId, Function, Inst, Local, Operand, Program, SiteId, Stream, Ty,
    UnaryOp,
};

/// Compiles a verified program. Panics (a compiler bug) if the IR does not verify or the emitted
/// bytecode breaks an invariant of [`Module::new`].
pub fn compile(program: &Program) -> Module {
    if let Err(errors) = verify(program) {
        panic!(
            "internal compiler error: the VM was given IR that does not verify:\n  {}",
            errors.join("\n  ")
        );
    }
    let mut literal_texts = program.strings.clone();
    let empty_literal = needs_string_init(program).then(|| {
        let index = literal_texts
            .iter()
            .position(|s| s.is_empty())
            .unwrap_or_else(|| {
                literal_texts.push(String::new());
                literal_texts.len() - 1
            });
        index as u32
    });
    let mut out = Output {
        code: Vec::new(),
        fault_sites: Vec::new(),
    };
    let mut functions = Vec::with_capacity(program.functions.len());
    for func in &program.functions {
        let entry = code_index(out.code.len());
        let frame_size = FunctionCompiler::new(func, &mut out, empty_literal).compile();
        functions.push(FuncInfo {
            name: func.name.clone(),
            frame: FrameInfo { entry, frame_size },
            end: code_index(out.code.len()),
            param_count: func.param_count,
            local_count: func.locals.len() as u32,
            has_result: func.ret != Ty::Void,
        });
    }
    let parts = ModuleParts {
        code: out.code,
        fault_sites: out.fault_sites,
        functions,
        entry: program.entry.0,
        literals: Literals::new(literal_texts),
        sites: program.sites.clone(),
    };
    Module::new(parts)
        .unwrap_or_else(|e| panic!("internal compiler error: invalid VM bytecode: {e}"))
}

/// Whether some function needs string locals set to `""` on entry.
fn needs_string_init(program: &Program) -> bool {
    program
        .functions
        .iter()
        .any(|f| !string_locals_to_initialise(f).is_empty())
}

/// The `string` locals (not parameters) that the entry block may read before assigning. They are
/// set to the empty string on entry, so that a `string` register always points to a live literal
/// even if the IR read one unassigned (the front end never does; this keeps the interpreter's
/// `print_str` memory-safe without trusting that).
fn string_locals_to_initialise(func: &Function) -> Vec<u32> {
    let entry = &func.blocks[0];
    (func.param_count..func.locals.len() as u32)
        .filter(|&l| func.locals[l as usize].ty == Ty::Str)
        .filter(|&l| {
            let local = Local(l);
            let reads = |op: &Operand| *op == Operand::Local(local);
            for inst in &entry.insts {
                let mut read = false;
                inst.for_each_use(|op| read |= reads(op));
                if read {
                    return true;
                }
                if defined(inst) == Some(local) {
                    return false;
                }
            }
            true
        })
        .collect()
}

fn code_index(len: usize) -> u32 {
    u32::try_from(len)
        .unwrap_or_else(|_| panic!("program too large for the VM: {len} instructions"))
}

/// The code and fault-site side table being built.
struct Output {
    code: Vec<Instr>,
    fault_sites: Vec<FaultSite>,
}

/// A value an instruction reads: a register, or a constant not yet placed in one.
#[derive(Copy, Clone)]
enum Val {
    Reg(Reg),
    Imm(i64),
}

/// The binary ops that compute a value (comparisons are handled apart).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Shl,
    Shr,
    And,
    Or,
    Xor,
}

impl Arith {
    fn of(op: BinaryOp) -> Option<Arith> {
        Some(match op {
            BinaryOp::AddInt => Arith::Add,
            BinaryOp::SubInt => Arith::Sub,
            BinaryOp::MulInt => Arith::Mul,
            BinaryOp::DivInt => Arith::Div,
            BinaryOp::RemInt => Arith::Rem,
            BinaryOp::Shl => Arith::Shl,
            BinaryOp::Shr => Arith::Shr,
            BinaryOp::BitAnd => Arith::And,
            BinaryOp::BitOr => Arith::Or,
            BinaryOp::BitXor => Arith::Xor,
            _ => return None,
        })
    }

    fn commutative(self) -> bool {
        matches!(
            self,
            Arith::Add | Arith::Mul | Arith::And | Arith::Or | Arith::Xor
        )
    }

    fn regs(self, dst: Reg, a: Reg, b: Reg) -> Instr {
        match self {
            Arith::Add => Instr::AddInt { dst, a, b },
            Arith::Sub => Instr::SubInt { dst, a, b },
            Arith::Mul => Instr::MulInt { dst, a, b },
            Arith::Div => Instr::DivInt { dst, a, b },
            Arith::Rem => Instr::RemInt { dst, a, b },
            Arith::Shl => Instr::ShlInt { dst, a, b },
            Arith::Shr => Instr::ShrInt { dst, a, b },
            Arith::And => Instr::BitAnd { dst, a, b },
            Arith::Or => Instr::BitOr { dst, a, b },
            Arith::Xor => Instr::BitXor { dst, a, b },
        }
    }

    fn imm(self, dst: Reg, a: Reg, imm: i32) -> Instr {
        match self {
            Arith::Add => Instr::AddIntImm { dst, a, imm },
            Arith::Sub => Instr::SubIntImm { dst, a, imm },
            Arith::Mul => Instr::MulIntImm { dst, a, imm },
            Arith::Div => Instr::DivIntImm { dst, a, imm },
            Arith::Rem => Instr::RemIntImm { dst, a, imm },
            Arith::Shl => Instr::ShlIntImm { dst, a, imm },
            Arith::Shr => Instr::ShrIntImm { dst, a, imm },
            Arith::And => Instr::BitAndImm { dst, a, imm },
            Arith::Or => Instr::BitOrImm { dst, a, imm },
            Arith::Xor => Instr::BitXorImm { dst, a, imm },
        }
    }
}

/// `dst = a rel b` on two registers.
fn compare_regs(rel: Rel, dst: Reg, a: Reg, b: Reg) -> Instr {
    match rel {
        Rel::Eq => Instr::EqInt { dst, a, b },
        Rel::Ne => Instr::NeInt { dst, a, b },
        Rel::Lt => Instr::LtInt { dst, a, b },
        Rel::Le => Instr::LeInt { dst, a, b },
        Rel::Gt => Instr::LtInt { dst, a: b, b: a },
        Rel::Ge => Instr::LeInt { dst, a: b, b: a },
    }
}

/// `dst = a rel imm`.
fn compare_imm(rel: Rel, dst: Reg, a: Reg, imm: i32) -> Instr {
    match rel {
        Rel::Eq => Instr::EqIntImm { dst, a, imm },
        Rel::Ne => Instr::NeIntImm { dst, a, imm },
        Rel::Lt => Instr::LtIntImm { dst, a, imm },
        Rel::Le => Instr::LeIntImm { dst, a, imm },
        Rel::Gt => Instr::GtIntImm { dst, a, imm },
        Rel::Ge => Instr::GeIntImm { dst, a, imm },
    }
}

/// `if a rel b goto target` on two registers.
fn jump_regs(rel: Rel, a: Reg, b: Reg, target: u32) -> Instr {
    match rel {
        Rel::Eq => Instr::EqIntJump { a, b, target },
        Rel::Ne => Instr::NeIntJump { a, b, target },
        Rel::Lt => Instr::LtIntJump { a, b, target },
        Rel::Le => Instr::LeIntJump { a, b, target },
        Rel::Gt => Instr::LtIntJump { a: b, b: a, target },
        Rel::Ge => Instr::LeIntJump { a: b, b: a, target },
    }
}

/// `if a rel imm goto target`.
fn jump_imm(rel: Rel, a: Reg, imm: i32, target: u32) -> Instr {
    match rel {
        Rel::Eq => Instr::EqIntImmJump { a, imm, target },
        Rel::Ne => Instr::NeIntImmJump { a, imm, target },
        Rel::Lt => Instr::LtIntImmJump { a, imm, target },
        Rel::Le => Instr::LeIntImmJump { a, imm, target },
        Rel::Gt => Instr::GtIntImmJump { a, imm, target },
        Rel::Ge => Instr::GeIntImmJump { a, imm, target },
    }
}

fn small(value: i64) -> Option<i32> {
    i32::try_from(value).ok()
}

struct FunctionCompiler<'a> {
    func: &'a Function,
    out: &'a mut Output,
    plan: FunctionPlan,
    /// Literal index of `""`, when this program has string locals to initialise.
    empty_literal: Option<u32>,
    /// The two scratch registers.
    scratch: [Reg; 2],
    /// The first outgoing-argument slot: where callees' windows start.
    arg_base: u32,
    /// Code index where each block starts, once emitted.
    block_start: Vec<Option<u32>>,
    /// Jumps to patch once every block is placed: (instruction index, target block).
    fixups: Vec<(usize, BlockId)>,
    /// Code index where the block being emitted starts (no jump lands after it within it).
    block_begin: usize,
}

impl<'a> FunctionCompiler<'a> {
    fn new(func: &'a Function, out: &'a mut Output, empty_literal: Option<u32>) -> Self {
        let locals = func.locals.len() as u32;
        FunctionCompiler {
            func,
            out,
            plan: plan_function(func),
            empty_literal,
            scratch: [Reg(locals), Reg(locals + 1)],
            arg_base: locals + 2,
            block_start: vec![None; func.blocks.len()],
            fixups: Vec::new(),
            block_begin: 0,
        }
    }

    /// Emits the function; returns its frame size.
    fn compile(mut self) -> u32 {
        let max_args = self
            .func
            .blocks
            .iter()
            .flat_map(|b| &b.insts)
            .map(|inst| match inst {
                Inst::Call { args, .. } => args.len(),
                _ => 0,
            });
        let frame_size = u64::from(self.arg_base) + max_args.max().unwrap_or(0) as u64;
        let frame_size = u32::try_from(frame_size)
            .unwrap_or_else(|_| panic!("function {} has too many locals", self.func.name));

        if let Some(empty) = self.empty_literal {
            for local in string_locals_to_initialise(self.func) {
                self.emit(Instr::LoadStr {
                    dst: Reg(local),
                    string: empty,
                });
            }
        }
        let order = self.plan.order.clone();
        for (position, &block) in order.iter().enumerate() {
            let next = order.get(position + 1).copied();
            self.block_begin = self.out.code.len();
            self.block_start[block.0 as usize] = Some(code_index(self.block_begin));
            let plan = self.plan.block(block).clone();
            let insts = &self.func.block(block).insts[..plan.kept];
            for (inst, inst_plan) in insts.iter().zip(&plan.insts) {
                self.inst(inst, inst_plan);
            }
            match plan.ending {
                Ending::Jump(to) if Some(to) == next => {}
                Ending::Jump(to) if self.plan.is_inlinable(to) => {
                    let ending = self.plan.block(to).ending;
                    self.ending(ending, next);
                }
                ending => self.ending(ending, next),
            }
        }
        for (at, block) in std::mem::take(&mut self.fixups) {
            let Some(start) = self.block_start[block.0 as usize] else {
                panic!(
                    "internal compiler error: jump to unplaced block b{}",
                    block.0
                );
            };
            self.out.code[at].set_target(start);
        }
        frame_size
    }

    fn emit(&mut self, instr: Instr) {
        self.out.code.push(instr);
        self.out.fault_sites.push(FaultSite::NONE);
    }

    fn emit_faulting(&mut self, instr: Instr, site: SiteId, swapped: bool) {
        self.out.code.push(instr);
        self.out.fault_sites.push(FaultSite {
            site: site.0,
            swapped,
        });
    }

    /// Emits a jump-type instruction to `block`; its target is patched at the end.
    fn emit_jump(&mut self, instr: Instr, block: BlockId) {
        self.fixups.push((self.out.code.len(), block));
        self.emit(instr);
    }

    fn reg_of(&self, dest: Dest) -> Reg {
        match dest {
            Dest::Local(local) => Reg(local.0),
            Dest::Argument(k) => self.argument(k),
        }
    }

    fn argument(&self, k: usize) -> Reg {
        Reg(self.arg_base + k as u32)
    }

    fn val(op: Operand) -> Val {
        match op {
            Operand::Local(l) => Val::Reg(Reg(l.0)),
            Operand::Int(v) => Val::Imm(v),
            Operand::Bool(b) => Val::Imm(i64::from(b)),
            Operand::Str(_) => unreachable!("string operands are only loaded"),
            // VALUES-TODO: floats and descriptors arrive with the values work.
            Operand::Float(_) | Operand::Desc(_) => unreachable!("not produced by the front end yet"),
        }
    }

    /// `dst = op` for any operand.
    fn load(&mut self, dst: Reg, op: Operand) {
        match op {
            Operand::Local(src) if Reg(src.0) == dst => {}
            Operand::Local(src) => self.emit(Instr::Mov {
                dst,
                src: Reg(src.0),
            }),
            Operand::Int(value) => self.emit(Instr::LoadInt { dst, value }),
            Operand::Bool(b) => self.emit(Instr::LoadInt {
                dst,
                value: i64::from(b),
            }),
            Operand::Str(s) => self.emit(Instr::LoadStr { dst, string: s.0 }),
            // VALUES-TODO: floats and descriptors arrive with the values work.
            Operand::Float(_) | Operand::Desc(_) => unreachable!("not produced by the front end yet"),
        }
    }

    /// The register holding `op`, loading a constant into scratch register `which` if needed.
    fn in_reg(&mut self, op: Operand, which: usize) -> Reg {
        match op {
            Operand::Local(l) => Reg(l.0),
            _ => {
                let scratch = self.scratch[which];
                self.load(scratch, op);
                scratch
            }
        }
    }

    fn imm_in_reg(&mut self, value: i64, which: usize) -> Reg {
        self.in_reg(Operand::Int(value), which)
    }

    fn inst(&mut self, inst: &Inst, plan: &InstPlan) {
        if plan.skip {
            return;
        }
        let dst = plan.dest.map(|d| self.reg_of(d));
        let need_dst = || dst.unwrap_or_else(|| unreachable!("value instruction without a result"));
        match *inst {
            Inst::Copy { src, .. } => self.load(need_dst(), src),
            Inst::Unary {
                op: UnaryOp::NegInt,
                src,
                site,
                ..
            } => {
                let src = self.in_reg(src, 0);
                self.emit_faulting(
                    Instr::NegInt {
                        dst: need_dst(),
                        src,
                    },
                    site,
                    false,
                );
            }
            Inst::Unary {
                op: UnaryOp::Not,
                src,
                ..
            } => match src {
                Operand::Bool(b) => self.emit(Instr::LoadInt {
                    dst: need_dst(),
                    value: i64::from(!b),
                }),
                _ => {
                    let src = self.in_reg(src, 0);
                    self.emit(Instr::Not {
                        dst: need_dst(),
                        src,
                    });
                }
            },
            Inst::Binary {
                op, lhs, rhs, site, ..
            } => match Rel::of(op) {
                Some(rel) => self.compare_value(need_dst(), rel, lhs, rhs),
                None => {
                    let arith =
                        Arith::of(op).unwrap_or_else(|| unreachable!("{op:?} is arithmetic"));
                    self.arith(need_dst(), arith, lhs, rhs, site, op.can_fault());
                }
            },
            Inst::Call {
                func,
                ref args,
                site,
                ..
            } => {
                for (k, &arg) in args.iter().enumerate() {
                    if !plan.args_in_place.get(k).copied().unwrap_or(false) {
                        self.load(self.argument(k), arg);
                    }
                }
                // A discarded result (or a void call's nothing) goes to a scratch register, which
                // holds nothing live across an instruction.
                let call = Instr::Call {
                    func: func.0,
                    base: Reg(self.arg_base),
                    dst: dst.unwrap_or(self.scratch[0]),
                };
                self.emit_faulting(call, site, false);
            }
            Inst::Print {
                value,
                ty,
                newline,
                stream,
            } => {
                let src = self.in_reg(value, 0);
                let mut flags = if newline { PRINT_NEWLINE } else { 0 };
                if stream == Stream::Stderr {
                    flags |= PRINT_STDERR;
                }
                self.emit(match ty {
                    Ty::Int => Instr::PrintInt { src, flags },
                    Ty::Bool => Instr::PrintBool { src, flags },
                    Ty::Str => Instr::PrintStr { src, flags },
                    Ty::Void => unreachable!("verified IR prints no void"),
                    // VALUES-TODO
                    Ty::Float | Ty::Array(_) | Ty::Struct(_) => unreachable!("not produced by the front end yet"),
                });
            }
            // VALUES-TODO: the values work adds these.
            _ => unreachable!("not produced by the front end yet"),
        }
    }

    fn arith(
        &mut self,
        dst: Reg,
        arith: Arith,
        lhs: Operand,
        rhs: Operand,
        site: SiteId,
        faults: bool,
    ) {
        let emit = |this: &mut Self, instr: Instr, swapped: bool| {
            if faults {
                this.emit_faulting(instr, site, swapped);
            } else {
                this.emit(instr);
            }
        };
        match (Self::val(lhs), Self::val(rhs)) {
            (Val::Reg(a), Val::Reg(b)) => emit(self, arith.regs(dst, a, b), false),
            (Val::Reg(a), Val::Imm(k)) if small(k).is_some() => {
                emit(self, arith.imm(dst, a, k as i32), false)
            }
            (Val::Imm(k), Val::Reg(b)) if arith.commutative() && small(k).is_some() => {
                emit(self, arith.imm(dst, b, k as i32), true)
            }
            (a, b) => {
                let a = match a {
                    Val::Reg(r) => r,
                    Val::Imm(k) => self.imm_in_reg(k, 0),
                };
                match b {
                    Val::Imm(k) if small(k).is_some() => {
                        emit(self, arith.imm(dst, a, k as i32), false)
                    }
                    Val::Imm(k) => {
                        let b = self.imm_in_reg(k, 1);
                        emit(self, arith.regs(dst, a, b), false)
                    }
                    Val::Reg(b) => emit(self, arith.regs(dst, a, b), false),
                }
            }
        }
    }

    fn compare_value(&mut self, dst: Reg, rel: Rel, lhs: Operand, rhs: Operand) {
        match (Self::val(lhs), Self::val(rhs)) {
            (Val::Imm(x), Val::Imm(y)) => self.emit(Instr::LoadInt {
                dst,
                value: i64::from(rel.holds(x, y)),
            }),
            (Val::Reg(a), Val::Reg(b)) => self.emit(compare_regs(rel, dst, a, b)),
            (Val::Reg(a), Val::Imm(k)) => match small(k) {
                Some(imm) => self.emit(compare_imm(rel, dst, a, imm)),
                None => {
                    let b = self.imm_in_reg(k, 1);
                    self.emit(compare_regs(rel, dst, a, b));
                }
            },
            (Val::Imm(k), Val::Reg(b)) => match small(k) {
                Some(imm) => self.emit(compare_imm(rel.swap(), dst, b, imm)),
                None => {
                    let a = self.imm_in_reg(k, 0);
                    self.emit(compare_regs(rel, dst, a, b));
                }
            },
        }
    }

    fn ending(&mut self, ending: Ending, next: Option<BlockId>) {
        match ending {
            Ending::Jump(to) => self.goto(to, next),
            Ending::Branch {
                cond,
                then_to,
                else_to,
            } => self.branch(cond, then_to, else_to, next),
            Ending::Return(None) => self.emit(Instr::RetVoid),
            Ending::Return(Some(value)) => {
                let src = self.in_reg(value, 0);
                self.emit(Instr::Ret { src });
            }
            Ending::Exit(code) => {
                let src = self.in_reg(code, 0);
                self.emit(Instr::Exit { src });
            }
        }
    }

    /// Continues at `to`: nothing if it is laid out next, else a jump.
    fn goto(&mut self, to: BlockId, next: Option<BlockId>) {
        if Some(to) != next {
            self.emit_jump(Instr::Jump { target: 0 }, to);
        }
    }

    fn branch(&mut self, cond: Cond, then_to: BlockId, else_to: BlockId, next: Option<BlockId>) {
        let constant = match cond {
            Cond::Value(Operand::Bool(b)) => Some(b),
            Cond::Compare { rel, lhs, rhs } => match (Self::val(lhs), Self::val(rhs)) {
                (Val::Imm(x), Val::Imm(y)) => Some(rel.holds(x, y)),
                _ => None,
            },
            Cond::Value(_) => None,
        };
        if let Some(taken) = constant {
            return self.goto(if taken { then_to } else { else_to }, next);
        }
        if then_to == else_to {
            return self.goto(then_to, next);
        }
        if Some(then_to) == next {
            self.jump_if(cond, true, else_to);
        } else {
            self.jump_if(cond, false, then_to);
            self.goto(else_to, next);
        }
    }

    /// The loop-step form of `jump` (a `<`/`<=` compare-and-jump on `x`) when the instruction
    /// just emitted, in the same block, is `x = x + 1`.
    fn fused_with_increment(&self, jump: Instr) -> Option<Instr> {
        if self.out.code.len() <= self.block_begin {
            return None;
        }
        let Some(&Instr::AddIntImm {
            dst,
            a: counter,
            imm: 1,
        }) = self.out.code.last()
        else {
            return None;
        };
        if dst != counter {
            return None;
        }
        Some(match jump {
            Instr::LtIntJump { a, b, target } if a == counter => {
                Instr::IncLtIntJump { a, b, target }
            }
            Instr::LeIntJump { a, b, target } if a == counter => {
                Instr::IncLeIntJump { a, b, target }
            }
            Instr::LtIntImmJump { a, imm, target } if a == counter => {
                Instr::IncLtIntImmJump { a, imm, target }
            }
            Instr::LeIntImmJump { a, imm, target } if a == counter => {
                Instr::IncLeIntImmJump { a, imm, target }
            }
            _ => return None,
        })
    }

    /// Jumps to `to` when `cond` holds (when it does not, if `negate`). `cond` is not constant.
    fn jump_if(&mut self, cond: Cond, negate: bool, to: BlockId) {
        match cond {
            Cond::Value(value) => {
                let cond = self.in_reg(value, 0);
                let instr = if negate {
                    Instr::JumpIfFalse { cond, target: 0 }
                } else {
                    Instr::JumpIfTrue { cond, target: 0 }
                };
                self.emit_jump(instr, to);
            }
            Cond::Compare { rel, lhs, rhs } => {
                let rel = if negate { rel.negate() } else { rel };
                let instr = match (Self::val(lhs), Self::val(rhs)) {
                    (Val::Reg(a), Val::Reg(b)) => jump_regs(rel, a, b, 0),
                    (Val::Reg(a), Val::Imm(k)) => match small(k) {
                        Some(imm) => jump_imm(rel, a, imm, 0),
                        None => jump_regs(rel, a, self.imm_in_reg(k, 1), 0),
                    },
                    (Val::Imm(k), Val::Reg(b)) => match small(k) {
                        Some(imm) => jump_imm(rel.swap(), b, imm, 0),
                        None => jump_regs(rel, self.imm_in_reg(k, 0), b, 0),
                    },
                    (Val::Imm(x), Val::Imm(y)) => {
                        let a = self.imm_in_reg(x, 0);
                        jump_regs(rel, a, self.imm_in_reg(y, 1), 0)
                    }
                };
                match self.fused_with_increment(instr) {
                    Some(fused) => {
                        // The fused instruction replaces the increment and keeps its fault site.
                        let at = self.out.code.len() - 1;
                        self.out.code[at] = fused;
                        self.fixups.push((at, to));
                    }
                    None => self.emit_jump(instr, to),
                }
            }
        }
    }
}
