//! IR → bytecode: emits each function's planned blocks as specialised register instructions.
//!
//! IR local `n` is register `n`; two scratch registers follow the locals (for constants an
//! instruction needs in a register), then registers for the constant operands of register lists,
//! then registers holding the function's frequent constants without an immediate form (floats,
//! ints stored into arrays; loaded once on entry), then the outgoing-argument slots where
//! callees' windows start (see `bytecode`). Operands that are constants use immediate forms where
//! one exists and the value fits in `i32`; commutative ops and comparisons swap their operands to
//! get one. Heap values are addresses; the type descriptors `new_array`, `new_struct` and
//! `load_desc` name are built by `descs`. Which instructions fuse, forward or move is decided by
//! `plan`; this module only emits.
//!
//! Fault recovery costs the emitted code nothing: each instruction that can fault gets, in the
//! fault-site side table, the code index of its IR block's handler (if the block has one) and
//! the register list of what its recovered fault releases (see `releases`), and `unwind` becomes
//! a `jump` to the handler or an `unwind` instruction. A program without handlers compiles
//! exactly as it would without recovery.
//!
//! What this module does not do: optimise beyond those local rewrites, or execute anything. It
//! expects verified IR (it verifies again and treats a failure as a compiler bug).

use keel_runtime::{PRINT_NEWLINE, PRINT_STDERR};

use super::bytecode::{
    FaultSite, FrameInfo, FuncInfo, Instr, Literals, Module, ModuleParts, Reg, RegList,
};
use super::descs::TypeDescs;
use super::plan::{plan_function, Cond, Dest, Ending, FunctionPlan, InstPlan, Rel};
use super::releases::BlockReleases;
use crate::ir::fault_releases::FaultReleases;
use crate::ir::{
    verify::verify, BinaryOp, BlockId, Function, Inst, Operand, Program, SiteId, Stream, StructDef,
    StructKind, Ty, UnaryOp,
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
    let descs = TypeDescs::new(program);
    let mut out = Output {
        code: Vec::new(),
        fault_sites: Vec::new(),
        lists: Vec::new(),
        list_regs: Vec::new(),
    };
    let mut functions = Vec::with_capacity(program.functions.len());
    let runs_in_live_blocks = program.runs_in_live_blocks();
    // With every function taking one stack unit, the number of return records is the count.
    let counted_calls = program.functions.iter().any(|f| f.stack_units() > 1);
    for (func, &in_live) in program.functions.iter().zip(&runs_in_live_blocks) {
        let entry = code_index(out.code.len());
        let mut compiler = FunctionCompiler::new(program, func, &descs, in_live, &mut out);
        compiler.counted_calls = counted_calls;
        let arg_base = compiler.arg_base;
        let frame_size = compiler.compile();
        functions.push(FuncInfo {
            name: func.name.clone(),
            frame: FrameInfo { entry, frame_size },
            end: code_index(out.code.len()),
            param_count: func.param_count,
            local_count: func.locals.len() as u32,
            arg_base,
            has_result: func.ret != Ty::Void,
        });
    }
    let parts = ModuleParts {
        code: out.code,
        fault_sites: out.fault_sites,
        functions,
        entry: program.entry.0,
        literals: Literals::new(program.strings.clone()),
        sites: program.sites.clone(),
        lists: out.lists,
        list_regs: out.list_regs,
        descs,
    };
    Module::new(parts)
        .unwrap_or_else(|e| panic!("internal compiler error: invalid VM bytecode: {e}"))
}

fn code_index(len: usize) -> u32 {
    u32::try_from(len)
        .unwrap_or_else(|_| panic!("program too large for the VM: {len} instructions"))
}

/// The code and side tables being built.
struct Output {
    code: Vec<Instr>,
    fault_sites: Vec<FaultSite>,
    lists: Vec<RegList>,
    list_regs: Vec<Reg>,
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

/// `dst = a rel b` on two float registers.
fn compare_floats(rel: Rel, dst: Reg, a: Reg, b: Reg) -> Instr {
    match rel {
        Rel::Eq => Instr::EqFloat { dst, a, b },
        Rel::Ne => Instr::NeFloat { dst, a, b },
        Rel::Lt => Instr::LtFloat { dst, a, b },
        Rel::Le => Instr::LeFloat { dst, a, b },
        Rel::Gt => Instr::LtFloat { dst, a: b, b: a },
        Rel::Ge => Instr::LeFloat { dst, a: b, b: a },
    }
}

/// `if a rel b goto target` on floats, or with `negate`, `if !(a rel b) goto target` (which
/// differs from the negated relation when an operand is NaN).
fn jump_floats(rel: Rel, negate: bool, a: Reg, b: Reg, target: u32) -> Instr {
    match (rel, negate) {
        (Rel::Eq, false) | (Rel::Ne, true) => Instr::EqFloatJump { a, b, target },
        (Rel::Ne, false) | (Rel::Eq, true) => Instr::NeFloatJump { a, b, target },
        (Rel::Lt, false) => Instr::LtFloatJump { a, b, target },
        (Rel::Lt, true) => Instr::NotLtFloatJump { a, b, target },
        (Rel::Le, false) => Instr::LeFloatJump { a, b, target },
        (Rel::Le, true) => Instr::NotLeFloatJump { a, b, target },
        (Rel::Gt, false) => Instr::LtFloatJump { a: b, b: a, target },
        (Rel::Gt, true) => Instr::NotLtFloatJump { a: b, b: a, target },
        (Rel::Ge, false) => Instr::LeFloatJump { a: b, b: a, target },
        (Rel::Ge, true) => Instr::NotLeFloatJump { a: b, b: a, target },
    }
}

/// `x rel y` on two float constants (given as bits), as the IR defines it.
fn floats_hold(rel: Rel, x: u64, y: u64) -> bool {
    let (x, y) = (f64::from_bits(x), f64::from_bits(y));
    match rel {
        Rel::Eq => x == y,
        Rel::Ne => x != y,
        Rel::Lt => x < y,
        Rel::Le => x <= y,
        Rel::Gt => x > y,
        Rel::Ge => x >= y,
    }
}

fn small(value: i64) -> Option<i32> {
    i32::try_from(value).ok()
}

/// The most constants a function keeps in registers; others are loaded where used.
const MAX_REGISTER_CONSTANTS: usize = 64;

/// The distinct constants `func` uses that have no immediate form, in order of first use (at
/// most [`MAX_REGISTER_CONSTANTS`]): every float, and ints and bools used as an array index or
/// as a value stored into an array or struct. Each gets a register loaded on entry instead of a
/// load before every use, which would add an instruction to loops like `x = x * 0.5` or
/// `flags[j] = true`.
fn register_constants(func: &Function) -> Vec<Operand> {
    let mut found: Vec<Operand> = Vec::new();
    let mut note = |op: &Operand, any_kind: bool| {
        let wanted = match op {
            Operand::Float(_) => true,
            Operand::Int(_) | Operand::Bool(_) => any_kind,
            _ => false,
        };
        if wanted && !found.contains(op) && found.len() < MAX_REGISTER_CONSTANTS {
            found.push(*op);
        }
    };
    for block in &func.blocks {
        for inst in &block.insts {
            match inst {
                Inst::ArrayGet { index, .. } | Inst::ArrayTake { index, .. } => note(index, true),
                Inst::ArraySet { index, value, .. } => {
                    note(index, true);
                    note(value, true);
                }
                Inst::FieldSet { value, .. } => note(value, true),
                _ => inst.for_each_use(|op| note(op, false)),
            }
        }
        if let Some(value) = block.term.operand() {
            note(value, false);
        }
    }
    found
}

/// The operand lists of an instruction that reads a [`RegList`].
fn list_operands(inst: &Inst) -> Option<&[Operand]> {
    match inst {
        Inst::CallRt { args, .. } => Some(args),
        Inst::NewArray { items, .. } => Some(items),
        Inst::NewStruct { fields, .. } => Some(fields),
        _ => None,
    }
}

struct FunctionCompiler<'a> {
    program: &'a Program,
    func: &'a Function,
    descs: &'a TypeDescs,
    out: &'a mut Output,
    plan: FunctionPlan,
    /// The two scratch registers.
    scratch: [Reg; 2],
    /// The first of the registers that hold the constant operands of a register list.
    list_scratch: u32,
    /// Constants held in registers of their own, loaded once on entry.
    constants: Vec<(Operand, Reg)>,
    /// The first outgoing-argument slot: where callees' windows start.
    arg_base: u32,
    /// Code index where each block starts, once emitted.
    block_start: Vec<Option<u32>>,
    /// Jumps to patch once every block is placed: (instruction index, target block).
    fixups: Vec<(usize, BlockId)>,
    /// Code index where the block being emitted starts (no jump lands after it within it).
    block_begin: usize,
    /// Whether the function may run while a `live` block is active, so that runtime calls that
    /// may fault must test for a recorded fault (in every block; else only in blocks with a
    /// handler).
    runs_in_live_blocks: bool,
    /// Whether calls are `call_counted`: some function of the program takes more than one stack
    /// unit.
    counted_calls: bool,
    /// The fault handler of the block being emitted.
    handler: Option<BlockId>,
    /// Fault handlers to patch once every block is placed: (instruction index, handler block).
    handler_fixups: Vec<(usize, BlockId)>,
    /// What each IR instruction's recovered fault releases (see `releases`).
    fault_releases: FaultReleases,
    /// Where the block being emitted keeps values away from their registers.
    block_releases: BlockReleases,
    /// The IR block and instruction index being emitted.
    at: (BlockId, usize),
}

impl<'a> FunctionCompiler<'a> {
    fn new(
        program: &'a Program,
        func: &'a Function,
        descs: &'a TypeDescs,
        runs_in_live_blocks: bool,
        out: &'a mut Output,
    ) -> Self {
        let locals = func.locals.len() as u32;
        // Constant operands of lists get registers of their own, apart from the argument
        // slots: an argument written in place may be waiting there for its call.
        // A closure's `new_struct` also lists its function's number and stack units.
        let closure_header = |inst: &Inst| match inst {
            Inst::NewStruct { ty, .. }
                if matches!(program.struct_def(*ty).kind, StructKind::Closure { .. }) =>
            {
                StructDef::CLOSURE_HEADER_FIELDS as usize
            }
            _ => 0,
        };
        let list_constants = func
            .blocks
            .iter()
            .flat_map(|b| &b.insts)
            .filter_map(|inst| list_operands(inst).map(|ops| (inst, ops)))
            .map(|(inst, ops)| {
                ops.iter()
                    .filter(|op| !matches!(op, Operand::Local(_)))
                    .count()
                    + closure_header(inst)
            })
            .max()
            .unwrap_or(0) as u32;
        let constants_base = locals + 2 + list_constants;
        let constants: Vec<(Operand, Reg)> = register_constants(func)
            .into_iter()
            .zip(constants_base..)
            .map(|(op, reg)| (op, Reg(reg)))
            .collect();
        FunctionCompiler {
            program,
            func,
            descs,
            out,
            plan: plan_function(func),
            scratch: [Reg(locals), Reg(locals + 1)],
            list_scratch: locals + 2,
            arg_base: constants_base + constants.len() as u32,
            constants,
            block_start: vec![None; func.blocks.len()],
            fixups: Vec::new(),
            block_begin: 0,
            runs_in_live_blocks,
            counted_calls: false,
            handler: None,
            handler_fixups: Vec::new(),
            fault_releases: FaultReleases::of(func, runs_in_live_blocks),
            block_releases: BlockReleases::default(),
            at: (BlockId(0), 0),
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
                Inst::Call { args, .. } | Inst::CallIndirect { args, .. } => args.len(),
                _ => 0,
            });
        let frame_size = u64::from(self.arg_base) + max_args.max().unwrap_or(0) as u64;
        let frame_size = u32::try_from(frame_size)
            .unwrap_or_else(|_| panic!("function {} has too many locals", self.func.name));

        for (op, dst) in self.constants.clone() {
            self.load(dst, op);
        }
        let order = self.plan.order.clone();
        for (position, &block) in order.iter().enumerate() {
            let next = order.get(position + 1).copied();
            self.block_begin = self.out.code.len();
            self.block_start[block.0 as usize] = Some(code_index(self.block_begin));
            let plan = self.plan.block(block).clone();
            self.handler = plan.handler;
            let insts = &self.func.block(block).insts[..plan.kept];
            self.block_releases = if self.fault_releases.is_empty() {
                BlockReleases::default()
            } else {
                BlockReleases::of(insts, &plan.insts)
            };
            for (index, (inst, inst_plan)) in insts.iter().zip(&plan.insts).enumerate() {
                self.at = (block, index);
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
            let start = self.placed(block);
            self.out.code[at].set_target(start);
        }
        for (at, block) in std::mem::take(&mut self.handler_fixups) {
            self.out.fault_sites[at].handler = Some(self.placed(block));
        }
        frame_size
    }

    /// The code index where `block` starts (it must have been laid out).
    fn placed(&self, block: BlockId) -> u32 {
        self.block_start[block.0 as usize].unwrap_or_else(|| {
            panic!(
                "internal compiler error: jump to unplaced block b{}",
                block.0
            )
        })
    }

    fn emit(&mut self, instr: Instr) {
        self.out.code.push(instr);
        self.out.fault_sites.push(FaultSite::NONE);
    }

    /// Emits an instruction that can fault at `site`; a recovered fault continues at the current
    /// block's handler (patched in at the end).
    fn emit_faulting(&mut self, instr: Instr, site: SiteId, swapped: bool) {
        if let Some(handler) = self.handler {
            self.handler_fixups.push((self.out.code.len(), handler));
        }
        let releases = self.fault_release_list();
        self.out.code.push(instr);
        self.out.fault_sites.push(FaultSite {
            site: site.0,
            swapped,
            handler: None,
            releases,
        });
    }

    /// The register list of what a recovered fault of the current IR instruction releases, if
    /// it releases anything.
    fn fault_release_list(&mut self) -> Option<u32> {
        let (block, index) = self.at;
        let locals = self.fault_releases.at(block, index);
        if locals.is_empty() {
            return None;
        }
        let arg_base = self.arg_base;
        let regs = self
            .block_releases
            .registers(locals, index, |k| Reg(arg_base + k as u32));
        if regs.is_empty() {
            return None;
        }
        let start = code_index(self.out.list_regs.len());
        self.out.list_regs.extend(&regs);
        self.out.lists.push(RegList {
            start,
            len: regs.len() as u32,
        });
        Some(code_index(self.out.lists.len() - 1))
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

    /// An int or bool operand (verified IR gives integer instructions no other kind).
    fn val(op: Operand) -> Val {
        match op {
            Operand::Local(l) => Val::Reg(Reg(l.0)),
            Operand::Int(v) => Val::Imm(v),
            Operand::Bool(b) => Val::Imm(i64::from(b)),
            Operand::Str(_) | Operand::Float(_) | Operand::Desc(_) => {
                unreachable!("{op:?} in an integer instruction")
            }
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
            Operand::Float(bits) => self.emit(Instr::LoadFloat { dst, bits }),
            Operand::Desc(ty) => {
                let desc = self.desc(ty);
                self.emit(Instr::LoadDesc { dst, desc });
            }
        }
    }

    /// The register that holds constant `op` for the whole function, if there is one.
    fn constant_reg(&self, op: Operand) -> Option<Reg> {
        self.constants
            .iter()
            .find(|(constant, _)| *constant == op)
            .map(|&(_, reg)| reg)
    }

    /// The index of `ty`'s type descriptor.
    fn desc(&self, ty: Ty) -> u32 {
        self.descs
            .index(ty)
            .unwrap_or_else(|| unreachable!("verified IR has no descriptor of {ty}"))
    }

    /// Records a register list for `operands`: locals are named directly, constants are
    /// loaded into the list's own scratch registers first.
    fn list(&mut self, operands: &[Operand]) -> u32 {
        let mut regs = Vec::with_capacity(operands.len());
        let mut constants = 0;
        for &op in operands {
            let reg = match op {
                Operand::Local(l) => Reg(l.0),
                _ if self.constant_reg(op).is_some() => self.in_reg(op, 0),
                _ => {
                    let reg = Reg(self.list_scratch + constants);
                    constants += 1;
                    self.load(reg, op);
                    reg
                }
            };
            regs.push(reg);
        }
        let start = code_index(self.out.list_regs.len());
        self.out.list_regs.extend(regs);
        self.out.lists.push(RegList {
            start,
            len: operands.len() as u32,
        });
        code_index(self.out.lists.len() - 1)
    }

    /// The type of an operand of this function.
    fn operand_ty(&self, op: Operand) -> Ty {
        match op {
            Operand::Local(l) => self.func.local_ty(l),
            Operand::Int(_) => Ty::Int,
            Operand::Bool(_) => Ty::Bool,
            Operand::Float(_) => Ty::Float,
            Operand::Str(_) => Ty::Str,
            Operand::Desc(_) => unreachable!("a descriptor has no Keel type"),
        }
    }

    /// Whether the elements of array operand `array` are heap values.
    fn heap_elements(&self, array: Operand) -> bool {
        match self.operand_ty(array) {
            Ty::Array(id) => self.program.elem(id).is_heap(),
            ty => unreachable!("indexing a {ty}"),
        }
    }

    /// Whether field `field` of the struct elements of array operand `array` is a heap value.
    fn heap_field_of_element(&self, array: Operand, field: u32) -> bool {
        let elem = match self.operand_ty(array) {
            Ty::Array(id) => self.program.elem(id),
            ty => unreachable!("indexing a {ty}"),
        };
        match elem {
            Ty::Struct(id) => self.program.struct_def(id).fields[field as usize]
                .ty
                .is_heap(),
            ty => unreachable!("field of a {ty}"),
        }
    }

    /// Whether field `field` of struct operand `object` holds a heap value.
    fn heap_field(&self, object: Operand, field: u32) -> bool {
        match self.operand_ty(object) {
            Ty::Struct(id) => self.program.struct_def(id).fields[field as usize]
                .ty
                .is_heap(),
            ty => unreachable!("field of a {ty}"),
        }
    }

    /// The register holding `op`, loading a constant into scratch register `which` if needed.
    fn in_reg(&mut self, op: Operand, which: usize) -> Reg {
        if let Some(reg) = self.constant_reg(op) {
            return reg;
        }
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
            Inst::Unary {
                op: op @ (UnaryOp::NegFloat | UnaryOp::IntToFloat | UnaryOp::FloatToInt),
                src,
                site,
                ..
            } => {
                let (dst, src) = (need_dst(), self.in_reg(src, 0));
                match op {
                    UnaryOp::NegFloat => self.emit(Instr::NegFloat { dst, src }),
                    UnaryOp::IntToFloat => self.emit(Instr::IntToFloat { dst, src }),
                    _ => self.emit_faulting(Instr::FloatToInt { dst, src }, site, false),
                }
            }
            Inst::Binary { op, lhs, rhs, .. } if op.on_floats() => {
                let dst = need_dst();
                if let Some(rel) = Rel::of_float(op) {
                    if let (Operand::Float(x), Operand::Float(y)) = (lhs, rhs) {
                        let value = i64::from(floats_hold(rel, x, y));
                        return self.emit(Instr::LoadInt { dst, value });
                    }
                }
                // Float arithmetic never faults: no site.
                let (a, b) = (self.in_reg(lhs, 0), self.in_reg(rhs, 1));
                self.emit(match op {
                    BinaryOp::AddFloat => Instr::AddFloat { dst, a, b },
                    BinaryOp::SubFloat => Instr::SubFloat { dst, a, b },
                    BinaryOp::MulFloat => Instr::MulFloat { dst, a, b },
                    BinaryOp::DivFloat => Instr::DivFloat { dst, a, b },
                    _ => match Rel::of_float(op) {
                        Some(rel) => compare_floats(rel, dst, a, b),
                        None => unreachable!("{op:?} is a float op"),
                    },
                });
            }
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
                let (func, base, dst) =
                    (func.0, Reg(self.arg_base), dst.unwrap_or(self.scratch[0]));
                let call = if self.counted_calls {
                    Instr::CallCounted { func, base, dst }
                } else {
                    Instr::Call { func, base, dst }
                };
                self.emit_faulting(call, site, false);
            }
            Inst::CallIndirect {
                ref args,
                site,
                known,
                ..
            } => {
                for (k, &arg) in args.iter().enumerate() {
                    self.load(self.argument(k), arg);
                }
                let callee = self.argument(StructDef::callee_position(args.len()));
                let (base, dst) = (Reg(self.arg_base), dst.unwrap_or(self.scratch[0]));
                let call = match (known, self.counted_calls) {
                    // A known callee is called directly.
                    (Some(func), false) => Instr::Call {
                        func: func.0,
                        base,
                        dst,
                    },
                    (Some(func), true) => Instr::CallCounted {
                        func: func.0,
                        base,
                        dst,
                    },
                    (None, false) => Instr::CallValue { callee, base, dst },
                    (None, true) => Instr::CallValueCounted { callee, base, dst },
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
                    Ty::Float => Instr::PrintFloat { src, flags },
                    Ty::Array(_) | Ty::Struct(_) | Ty::Map(_) => Instr::PrintValue { src, flags },
                    Ty::Void => unreachable!("verified IR prints no void"),
                });
            }
            Inst::CallRt {
                func,
                ref args,
                site,
                ..
            } => {
                let args = self.list(args);
                // A discarded result goes to a scratch register, like a call's.
                let instr = Instr::CallRt {
                    func,
                    dst: dst.unwrap_or(self.scratch[0]),
                    args,
                    checks_fault: (self.runs_in_live_blocks || self.handler.is_some())
                        && func.may_fault(),
                };
                if func.sig().takes_site {
                    self.emit_faulting(instr, site, false);
                } else {
                    self.emit(instr);
                }
            }
            Inst::Retain { value } => self.emit(Instr::Retain { src: Reg(value.0) }),
            Inst::Release { value } => self.emit(Instr::Release { src: Reg(value.0) }),
            Inst::NewArray { ty, ref items, .. } => {
                let desc = self.desc(Ty::Array(ty));
                let items = self.list(items);
                self.emit(Instr::NewArray {
                    dst: need_dst(),
                    desc,
                    items,
                });
            }
            Inst::NewStruct { ty, .. } if self.descs.unit(self.desc(Ty::Struct(ty))).is_some() => {
                let desc = self.desc(Ty::Struct(ty));
                self.emit(Instr::LoadUnit {
                    dst: need_dst(),
                    desc,
                });
            }
            Inst::NewStruct { ty, ref fields, .. } => {
                let desc = self.desc(Ty::Struct(ty));
                // A closure's object starts with its function's number and stack units.
                let with_code;
                let fields = match self.program.struct_def(ty).kind {
                    StructKind::Closure { func, .. } => {
                        let units = self.program.function(func).stack_units();
                        with_code = [Operand::Int(i64::from(func.0)), Operand::Int(units)]
                            .into_iter()
                            .chain(fields.iter().copied())
                            .collect::<Vec<_>>();
                        &with_code
                    }
                    _ => fields,
                };
                let fields = self.list(fields);
                self.emit(Instr::NewStruct {
                    dst: need_dst(),
                    desc,
                    fields,
                });
            }
            Inst::ArrayLen { array, .. } => {
                let array = self.in_reg(array, 0);
                self.emit(Instr::ArrayLen {
                    dst: need_dst(),
                    array,
                });
            }
            Inst::ArrayGet {
                array, index, site, ..
            } if plan.element_field.is_some() => {
                let field = plan.element_field.unwrap_or_default();
                let heap = self.heap_field_of_element(array, field);
                let (array, index) = (self.in_reg(array, 0), self.in_reg(index, 1));
                let dst = need_dst();
                let field = u16::try_from(field)
                    .unwrap_or_else(|_| unreachable!("only narrow fields are fused"));
                let instr = if heap {
                    Instr::ArrayGetFieldRc {
                        dst,
                        array,
                        index,
                        field,
                    }
                } else {
                    Instr::ArrayGetField {
                        dst,
                        array,
                        index,
                        field,
                    }
                };
                self.emit_faulting(instr, site, false);
            }
            Inst::ArrayGet {
                array, index, site, ..
            } => {
                let heap = self.heap_elements(array);
                let (array, index) = (self.in_reg(array, 0), self.in_reg(index, 1));
                let dst = need_dst();
                let instr = if heap {
                    Instr::ArrayGetRc { dst, array, index }
                } else {
                    Instr::ArrayGet { dst, array, index }
                };
                self.emit_faulting(instr, site, false);
            }
            Inst::ArraySet {
                array,
                index,
                value,
                site,
            } => {
                let heap = self.heap_elements(Operand::Local(array));
                let (index, value) = (self.in_reg(index, 0), self.in_reg(value, 1));
                let array = Reg(array.0);
                let instr = if heap {
                    Instr::ArraySetRc {
                        array,
                        index,
                        value,
                    }
                } else {
                    Instr::ArraySet {
                        array,
                        index,
                        value,
                    }
                };
                self.emit_faulting(instr, site, false);
            }
            Inst::ArrayTake {
                array, index, site, ..
            } => {
                let (dst, index, array) = (need_dst(), self.in_reg(index, 0), Reg(array.0));
                let instr = if plan.take_in_place {
                    Instr::ArrayElemMut { dst, array, index }
                } else {
                    Instr::ArrayTake { dst, array, index }
                };
                self.emit_faulting(instr, site, false);
            }
            Inst::FieldGet { object, field, .. } => {
                let heap = self.heap_field(object, field);
                let (dst, object) = (need_dst(), self.in_reg(object, 0));
                self.emit(if heap {
                    Instr::FieldGetRc { dst, object, field }
                } else {
                    Instr::FieldGet { dst, object, field }
                });
            }
            Inst::VariantField {
                object,
                variant,
                field,
                ..
            } => {
                let heap = self.program.struct_def(variant).fields[field as usize]
                    .ty
                    .is_heap();
                let (dst, object) = (need_dst(), self.in_reg(object, 0));
                self.emit(if heap {
                    Instr::FieldGetRc { dst, object, field }
                } else {
                    Instr::FieldGet { dst, object, field }
                });
            }
            Inst::FieldSet {
                object,
                field,
                value,
            } => {
                let heap = self.heap_field(Operand::Local(object), field);
                let (object, value) = (Reg(object.0), self.in_reg(value, 0));
                self.emit(if heap {
                    Instr::FieldSetRc {
                        object,
                        field,
                        value,
                    }
                } else {
                    Instr::FieldSet {
                        object,
                        field,
                        value,
                    }
                });
            }
            Inst::FieldTake { object, field, .. } => {
                let (dst, object) = (need_dst(), Reg(object.0));
                self.emit(if plan.take_in_place {
                    Instr::FieldMut { dst, object, field }
                } else {
                    Instr::FieldTake { dst, object, field }
                });
            }
            // A debug-information marker: no bytecode.
            Inst::Line { .. } => {}
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
            Ending::Unwind => self.emit(Instr::Unwind),
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
            Cond::CompareFloat {
                rel,
                lhs: Operand::Float(x),
                rhs: Operand::Float(y),
            } => Some(floats_hold(rel, x, y)),
            Cond::CompareFloat { .. } | Cond::Value(_) => None,
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
            Cond::CompareFloat { rel, lhs, rhs } => {
                let (a, b) = (self.in_reg(lhs, 0), self.in_reg(rhs, 1));
                self.emit_jump(jump_floats(rel, negate, a, b, 0), to);
            }
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
