//! The VM's instruction set and the compiled [`Module`] the interpreter runs.
//!
//! # Machine model
//! One contiguous *register file* of untagged 64-bit slots (`i64`): an `int` is its value, a `bool`
//! is 0 or 1, a `float` is its IEEE bits (`f64::to_bits`), and a `string`, array or struct is the
//! address of a heap object (docs/values.md; string literals are static objects owned by the
//! [`Module`], type descriptors too). Each active call owns a *frame window* of the register file
//! starting at its base; `r5` means "slot 5 of the current window". A function's window is laid
//! out as
//!
//! ```text
//!   r0 .. rP-1        parameters        (= IR locals 0..P)
//!   rP .. rL-1        other IR locals   (IR local n is register n)
//!   rL, rL+1          two scratch registers for constants an instruction needs in a register
//!   rL+2 ..           registers for the constant operands of register lists (see below)
//!   .. rA-1           constants without an immediate form (floats; ints stored into or
//!                     indexing arrays), loaded once on entry
//!   rA ..             outgoing arguments: the callee's window starts here, so arguments are
//!                     computed or moved into place and the call itself copies nothing
//! ```
//!
//! Instructions are specialised by static type (no tag checks) and have immediate forms for the
//! IR's constant operands. Comparisons feeding a branch are fused into one compare-and-jump, and
//! a loop's `i = i + 1` followed by its `<`/`<=` test into one loop-step instruction.
//!
//! # Encoding
//! An instruction is one [`Instr`] value of 16 bytes (checked by a test): a one-byte opcode and
//! up to three 32-bit fields, or one register and one 64-bit constant:
//!
//! ```text
//!   byte  0        4          8          12         16
//!         +--------+----------+----------+----------+
//!         | opcode |   dst    |    a     |  b / imm |   three-operand forms (imm: i32)
//!         | opcode |    a     | b / imm  |  target  |   compare-and-jump, loop-step forms
//!         | opcode |   func   |   base   |   dst    |   call
//!         | opcode |   dst    |   desc   |   list   |   new_array, new_struct
//!         | op|fn  |   dst    |   list   |          |   call_rt (fn: the runtime function)
//!         | opcode |   dst    |      value (i64)    |   load_int
//!         +--------+----------+----------+----------+
//! ```
//!
//! (The byte offsets are what rustc chooses today; nothing depends on them.) Registers are `u32`
//! indices into the frame window; jump targets are absolute indices into [`Module`]'s single code
//! array; immediates are `i32` (wider constants are loaded into a scratch register first). Rare
//! wide data stays out of the instruction: the source site of each instruction that can fault,
//! and where a recovered fault of it continues (its *handler*), live in a side table indexed by
//! code position ([`FaultSite`]), so that the happy path never reads them; call arguments need no list
//! because the caller writes them straight into the callee's window. The operands of
//! `new_array`, `new_struct` and `call_rt` (any number of registers) are a [`RegList`] in another
//! side table; the instruction holds its index. `call_rt` holds its [`RtFunc`] directly.
//!
//! # Invariants
//! [`Module::new`] checks everything the interpreter's unchecked accesses rely on (see
//! [`Module::new`]); a `Module` cannot be built any other way, so the interpreter may trust it.
//!
//! What this module does not do: translate IR (that is `compile`), execute (`interp`) or render
//! text (`disasm`).

use keel_runtime::string::OwnedStaticStr;

pub use super::descs::TypeDescs;
use crate::ir::{RtFunc, Site};

/// A register: an index into the current frame window.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reg(pub u32);

impl Reg {
    #[inline(always)]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One instruction. Each line below is the opcode's whole meaning. An instruction with a `Fault`
/// note reports the fault through the runtime when its check fails (see `vm::ops`), which ends the
/// process, or inside a `live` block records it; execution then continues at the instruction's
/// handler or leaves the function (see [`FaultSite::handler`] and `interp`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Instr {
    // --- moves and constants ---
    /// `dst = src`.
    Mov { dst: Reg, src: Reg },
    /// `dst = value` (an int, or a bool as 0/1).
    LoadInt { dst: Reg, value: i64 },
    /// `dst = ` the address of string literal `string`.
    LoadStr { dst: Reg, string: u32 },
    /// `dst = ` the float whose bits are `bits`.
    LoadFloat { dst: Reg, bits: u64 },
    /// `dst = ` the address of type descriptor `desc` of the module's [`TypeDescs`].
    LoadDesc { dst: Reg, desc: u32 },
    /// `dst = ` the static value of the variant without payload whose descriptor is `desc`
    /// (`new_struct` of such a variant; [`TypeDescs::unit`]).
    LoadUnit { dst: Reg, desc: u32 },

    // --- checked integer arithmetic (Fault: see `vm::ops`) ---
    /// `dst = a + b`. Fault: overflow.
    AddInt { dst: Reg, a: Reg, b: Reg },
    /// `dst = a + imm`. Fault: overflow.
    AddIntImm { dst: Reg, a: Reg, imm: i32 },
    /// `dst = a - b`. Fault: overflow.
    SubInt { dst: Reg, a: Reg, b: Reg },
    /// `dst = a - imm`. Fault: overflow.
    SubIntImm { dst: Reg, a: Reg, imm: i32 },
    /// `dst = a * b`. Fault: overflow.
    MulInt { dst: Reg, a: Reg, b: Reg },
    /// `dst = a * imm`. Fault: overflow.
    MulIntImm { dst: Reg, a: Reg, imm: i32 },
    /// `dst = a / b`, truncating. Fault: `b == 0`, `MIN / -1`.
    DivInt { dst: Reg, a: Reg, b: Reg },
    /// `dst = a / imm`, truncating. Fault: `imm == 0`, `MIN / -1`.
    DivIntImm { dst: Reg, a: Reg, imm: i32 },
    /// `dst = a % b`; `MIN % -1 == 0`. Fault: `b == 0`.
    RemInt { dst: Reg, a: Reg, b: Reg },
    /// `dst = a % imm`; `MIN % -1 == 0`. Fault: `imm == 0`.
    RemIntImm { dst: Reg, a: Reg, imm: i32 },
    /// `dst = a << b`. Fault: `b` outside `0..=63`.
    ShlInt { dst: Reg, a: Reg, b: Reg },
    /// `dst = a << imm`. Fault: `imm` outside `0..=63`.
    ShlIntImm { dst: Reg, a: Reg, imm: i32 },
    /// `dst = a >> b`, arithmetic. Fault: `b` outside `0..=63`.
    ShrInt { dst: Reg, a: Reg, b: Reg },
    /// `dst = a >> imm`, arithmetic. Fault: `imm` outside `0..=63`.
    ShrIntImm { dst: Reg, a: Reg, imm: i32 },
    /// `dst = -src`. Fault: `src == MIN`.
    NegInt { dst: Reg, src: Reg },

    // --- bitwise, on ints and on bools (0/1) ---
    /// `dst = a & b`.
    BitAnd { dst: Reg, a: Reg, b: Reg },
    /// `dst = a & imm`.
    BitAndImm { dst: Reg, a: Reg, imm: i32 },
    /// `dst = a | b`.
    BitOr { dst: Reg, a: Reg, b: Reg },
    /// `dst = a | imm`.
    BitOrImm { dst: Reg, a: Reg, imm: i32 },
    /// `dst = a ^ b`.
    BitXor { dst: Reg, a: Reg, b: Reg },
    /// `dst = a ^ imm`.
    BitXorImm { dst: Reg, a: Reg, imm: i32 },
    /// `dst = !src` on a bool (`src ^ 1`).
    Not { dst: Reg, src: Reg },

    // --- comparisons yielding a bool (also used for bool ==, != on 0/1) ---
    /// `dst = a == b`.
    EqInt { dst: Reg, a: Reg, b: Reg },
    /// `dst = a != b`.
    NeInt { dst: Reg, a: Reg, b: Reg },
    /// `dst = a < b` (`>` is emitted with the operands swapped).
    LtInt { dst: Reg, a: Reg, b: Reg },
    /// `dst = a <= b` (`>=` is emitted with the operands swapped).
    LeInt { dst: Reg, a: Reg, b: Reg },
    /// `dst = a == imm`.
    EqIntImm { dst: Reg, a: Reg, imm: i32 },
    /// `dst = a != imm`.
    NeIntImm { dst: Reg, a: Reg, imm: i32 },
    /// `dst = a < imm`.
    LtIntImm { dst: Reg, a: Reg, imm: i32 },
    /// `dst = a <= imm`.
    LeIntImm { dst: Reg, a: Reg, imm: i32 },
    /// `dst = a > imm`.
    GtIntImm { dst: Reg, a: Reg, imm: i32 },
    /// `dst = a >= imm`.
    GeIntImm { dst: Reg, a: Reg, imm: i32 },

    // --- floats (registers hold `f64::to_bits`; IEEE semantics, nothing faults but `to_int`) ---
    /// `dst = a + b`.
    AddFloat { dst: Reg, a: Reg, b: Reg },
    /// `dst = a - b`.
    SubFloat { dst: Reg, a: Reg, b: Reg },
    /// `dst = a * b`.
    MulFloat { dst: Reg, a: Reg, b: Reg },
    /// `dst = a / b`.
    DivFloat { dst: Reg, a: Reg, b: Reg },
    /// `dst = -src` (flips the sign bit).
    NegFloat { dst: Reg, src: Reg },
    /// `dst = to_float(src)`, rounding to nearest even.
    IntToFloat { dst: Reg, src: Reg },
    /// `dst = to_int(src)`, truncating. Fault: NaN, infinite or outside `int`.
    FloatToInt { dst: Reg, src: Reg },
    /// `dst = a == b` (false when either is NaN).
    EqFloat { dst: Reg, a: Reg, b: Reg },
    /// `dst = a != b` (true when either is NaN).
    NeFloat { dst: Reg, a: Reg, b: Reg },
    /// `dst = a < b` (`>` is emitted with the operands swapped).
    LtFloat { dst: Reg, a: Reg, b: Reg },
    /// `dst = a <= b` (`>=` is emitted with the operands swapped).
    LeFloat { dst: Reg, a: Reg, b: Reg },

    // --- control flow within a function ---
    /// `goto target`.
    Jump { target: u32 },
    /// `if cond != 0 goto target`.
    JumpIfTrue { cond: Reg, target: u32 },
    /// `if cond == 0 goto target`.
    JumpIfFalse { cond: Reg, target: u32 },
    /// `if a == b goto target`.
    EqIntJump { a: Reg, b: Reg, target: u32 },
    /// `if a != b goto target`.
    NeIntJump { a: Reg, b: Reg, target: u32 },
    /// `if a < b goto target` (`>` swaps the operands).
    LtIntJump { a: Reg, b: Reg, target: u32 },
    /// `if a <= b goto target` (`>=` swaps the operands).
    LeIntJump { a: Reg, b: Reg, target: u32 },
    /// `if a == imm goto target`.
    EqIntImmJump { a: Reg, imm: i32, target: u32 },
    /// `if a != imm goto target`.
    NeIntImmJump { a: Reg, imm: i32, target: u32 },
    /// `if a < imm goto target`.
    LtIntImmJump { a: Reg, imm: i32, target: u32 },
    /// `if a <= imm goto target`.
    LeIntImmJump { a: Reg, imm: i32, target: u32 },
    /// `if a > imm goto target`.
    GtIntImmJump { a: Reg, imm: i32, target: u32 },
    /// `if a >= imm goto target`.
    GeIntImmJump { a: Reg, imm: i32, target: u32 },

    /// `if a == b goto target` on floats.
    EqFloatJump { a: Reg, b: Reg, target: u32 },
    /// `if a != b goto target` on floats (taken when either is NaN).
    NeFloatJump { a: Reg, b: Reg, target: u32 },
    /// `if a < b goto target` on floats (`>` swaps the operands).
    LtFloatJump { a: Reg, b: Reg, target: u32 },
    /// `if a <= b goto target` on floats (`>=` swaps the operands).
    LeFloatJump { a: Reg, b: Reg, target: u32 },
    /// `if !(a < b) goto target` on floats (taken when either is NaN, unlike `a >= b`).
    NotLtFloatJump { a: Reg, b: Reg, target: u32 },
    /// `if !(a <= b) goto target` on floats (taken when either is NaN).
    NotLeFloatJump { a: Reg, b: Reg, target: u32 },

    // --- loop steps: a counter increment fused with the loop's compare-and-jump ---
    /// `a = a + 1; if a < b goto target`. Fault: overflow of the increment.
    IncLtIntJump { a: Reg, b: Reg, target: u32 },
    /// `a = a + 1; if a <= b goto target`. Fault: overflow of the increment.
    IncLeIntJump { a: Reg, b: Reg, target: u32 },
    /// `a = a + 1; if a < imm goto target`. Fault: overflow of the increment.
    IncLtIntImmJump { a: Reg, imm: i32, target: u32 },
    /// `a = a + 1; if a <= imm goto target`. Fault: overflow of the increment.
    IncLeIntImmJump { a: Reg, imm: i32, target: u32 },

    // --- reference counting (null and static objects, rc == -1, are left alone) ---
    /// Adds one reference to the object in `src`.
    Retain { src: Reg },
    /// Drops one reference to the object in `src`, freeing it (`keel_free`) at 0.
    Release { src: Reg },

    // --- heap values (layouts in docs/values.md; `list` names a [`RegList`]) ---
    /// `dst = ` a new array of type descriptor `desc` holding the registers of `items`, which
    /// it consumes.
    NewArray { dst: Reg, desc: u32, items: u32 },
    /// `dst = ` a new struct of type descriptor `desc` with the registers of `fields`, which it
    /// consumes.
    NewStruct { dst: Reg, desc: u32, fields: u32 },
    /// `dst = len(array)`.
    ArrayLen { dst: Reg, array: Reg },
    /// `dst = array[index]`, a scalar element. Fault: out of bounds.
    ArrayGet { dst: Reg, array: Reg, index: Reg },
    /// `dst = array[index]`, a heap element, retained. Fault: out of bounds.
    ArrayGetRc { dst: Reg, array: Reg, index: Reg },
    /// `array[index] = value`, a scalar, after making `array` unique. Fault: out of bounds.
    ArraySet { array: Reg, index: Reg, value: Reg },
    /// `array[index] = value`, a heap value it consumes, after making `array` unique; the old
    /// element is released. Fault: out of bounds.
    ArraySetRc { array: Reg, index: Reg, value: Reg },
    /// Moves heap element `array[index]` into `dst`, leaving null, after making `array` unique.
    /// Fault: out of bounds.
    ArrayTake { dst: Reg, array: Reg, index: Reg },
    /// `dst = array[index].field`, a scalar field of a struct element (neither retained nor
    /// released). Fault: out of bounds.
    ArrayGetField {
        dst: Reg,
        array: Reg,
        index: Reg,
        field: u16,
    },
    /// `dst = array[index].field`, a heap field of a struct element, retained. Fault: out of
    /// bounds.
    ArrayGetFieldRc {
        dst: Reg,
        array: Reg,
        index: Reg,
        field: u16,
    },
    /// Makes `array` unique, then its element `array[index]` unique in place, and borrows it
    /// into `dst` (it stays in the array; the update it starts writes into it directly).
    /// Fault: out of bounds.
    ArrayElemMut { dst: Reg, array: Reg, index: Reg },
    /// `dst = object.field`, a scalar field.
    FieldGet { dst: Reg, object: Reg, field: u32 },
    /// `dst = object.field`, a heap field, retained.
    FieldGetRc { dst: Reg, object: Reg, field: u32 },
    /// `object.field = value`, a scalar, after making `object` unique.
    FieldSet { object: Reg, field: u32, value: Reg },
    /// `object.field = value`, a heap value it consumes, after making `object` unique; the old
    /// field is released.
    FieldSetRc { object: Reg, field: u32, value: Reg },
    /// Moves heap field `object.field` into `dst`, leaving null, after making `object` unique.
    FieldTake { dst: Reg, object: Reg, field: u32 },
    /// Makes `object` unique, then its heap field `object.field` unique in place, and borrows
    /// it into `dst` (it stays in the object).
    FieldMut { dst: Reg, object: Reg, field: u32 },
    /// `dst = func(args...)`: calls a runtime function with the registers of list `args` (and
    /// the instruction's fault site when the function takes one); void results leave `dst`
    /// alone. Fault: whatever the function reports; with `checks_fault` (a function that may
    /// fault, in a program with `live` blocks) a fault it recorded is raised here.
    CallRt {
        func: RtFunc,
        dst: Reg,
        args: u32,
        checks_fault: bool,
    },

    // --- calls ---
    /// Calls function `func` with its window at `base` (its arguments already there); its result
    /// goes to `dst` (ignored for void functions). Fault: stack overflow.
    Call { func: u32, base: Reg, dst: Reg },
    /// `call` in a module where some function takes more than one stack unit: also counts the
    /// callee's units (in the return records) against `keel_runtime::MAX_STACK_UNITS`, where
    /// `call` only counts the calls. Fault: stack overflow.
    CallCounted { func: u32, base: Reg, dst: Reg },
    /// `call` of the function a function value points to: the value is in `callee` (one of
    /// the arguments in the window), and its object's field 0 holds the function's number.
    /// Fault: stack overflow.
    CallValue { callee: Reg, base: Reg, dst: Reg },
    /// `call_counted` of a function value, as `call_value`. Fault: stack overflow.
    CallValueCounted { callee: Reg, base: Reg, dst: Reg },
    /// Returns `src` to the caller.
    Ret { src: Reg },
    /// Returns from a void function.
    RetVoid,
    /// Ends the process with status `src` (`keel_exit`).
    Exit { src: Reg },
    /// A fault was just recorded (`keel_fault`): leaves the function without a result, as if its
    /// caller's `call` had faulted (IR `unwind` in a block without a handler; with a handler it
    /// is a `jump` there).
    Unwind,

    // --- output (`flags`: `keel_runtime::PRINT_NEWLINE` | `PRINT_STDERR`) ---
    /// Prints int `src`.
    PrintInt { src: Reg, flags: u32 },
    /// Prints bool `src` as `true`/`false`.
    PrintBool { src: Reg, flags: u32 },
    /// Prints string `src`.
    PrintStr { src: Reg, flags: u32 },
    /// Prints float `src` (its bits) by the float text rule.
    PrintFloat { src: Reg, flags: u32 },
    /// Prints the array or struct `src` (`keel_print_value`).
    PrintValue { src: Reg, flags: u32 },
}

impl Instr {
    /// Whether control never continues with the next instruction.
    pub fn is_unconditional_transfer(&self) -> bool {
        matches!(
            self,
            Instr::Jump { .. }
                | Instr::Ret { .. }
                | Instr::RetVoid
                | Instr::Exit { .. }
                | Instr::Unwind
        )
    }

    /// The jump target, for jumps and compare-and-jumps.
    pub fn target(&self) -> Option<u32> {
        use Instr::*;
        match *self {
            Jump { target } | JumpIfTrue { target, .. } | JumpIfFalse { target, .. } => {
                Some(target)
            }
            EqIntJump { target, .. }
            | NeIntJump { target, .. }
            | LtIntJump { target, .. }
            | LeIntJump { target, .. } => Some(target),
            EqIntImmJump { target, .. }
            | NeIntImmJump { target, .. }
            | LtIntImmJump { target, .. }
            | LeIntImmJump { target, .. }
            | GtIntImmJump { target, .. }
            | GeIntImmJump { target, .. } => Some(target),
            EqFloatJump { target, .. }
            | NeFloatJump { target, .. }
            | LtFloatJump { target, .. }
            | LeFloatJump { target, .. }
            | NotLtFloatJump { target, .. }
            | NotLeFloatJump { target, .. } => Some(target),
            IncLtIntJump { target, .. }
            | IncLeIntJump { target, .. }
            | IncLtIntImmJump { target, .. }
            | IncLeIntImmJump { target, .. } => Some(target),
            _ => None,
        }
    }

    /// Replaces the jump target (the compiler patches forward jumps once blocks are placed).
    pub fn set_target(&mut self, new_target: u32) {
        use Instr::*;
        match self {
            Jump { target } | JumpIfTrue { target, .. } | JumpIfFalse { target, .. } => {
                *target = new_target
            }
            EqIntJump { target, .. }
            | NeIntJump { target, .. }
            | LtIntJump { target, .. }
            | LeIntJump { target, .. } => *target = new_target,
            EqIntImmJump { target, .. }
            | NeIntImmJump { target, .. }
            | LtIntImmJump { target, .. }
            | LeIntImmJump { target, .. }
            | GtIntImmJump { target, .. }
            | GeIntImmJump { target, .. } => *target = new_target,
            EqFloatJump { target, .. }
            | NeFloatJump { target, .. }
            | LtFloatJump { target, .. }
            | LeFloatJump { target, .. }
            | NotLtFloatJump { target, .. }
            | NotLeFloatJump { target, .. } => *target = new_target,
            IncLtIntJump { target, .. }
            | IncLeIntJump { target, .. }
            | IncLtIntImmJump { target, .. }
            | IncLeIntImmJump { target, .. } => *target = new_target,
            _ => {}
        }
    }

    /// The register written, if any (a call's `dst` counts; its window is checked separately).
    /// Containers updated in place (`array_set`, ...) count as read, not written.
    pub fn written(&self) -> Option<Reg> {
        use Instr::*;
        match *self {
            Mov { dst, .. }
            | LoadInt { dst, .. }
            | LoadStr { dst, .. }
            | LoadFloat { dst, .. }
            | LoadDesc { dst, .. }
            | LoadUnit { dst, .. } => Some(dst),
            AddInt { dst, .. }
            | AddIntImm { dst, .. }
            | SubInt { dst, .. }
            | SubIntImm { dst, .. }
            | MulInt { dst, .. }
            | MulIntImm { dst, .. }
            | DivInt { dst, .. }
            | DivIntImm { dst, .. }
            | RemInt { dst, .. }
            | RemIntImm { dst, .. }
            | ShlInt { dst, .. }
            | ShlIntImm { dst, .. }
            | ShrInt { dst, .. }
            | ShrIntImm { dst, .. }
            | NegInt { dst, .. } => Some(dst),
            BitAnd { dst, .. }
            | BitAndImm { dst, .. }
            | BitOr { dst, .. }
            | BitOrImm { dst, .. }
            | BitXor { dst, .. }
            | BitXorImm { dst, .. }
            | Not { dst, .. } => Some(dst),
            EqInt { dst, .. }
            | NeInt { dst, .. }
            | LtInt { dst, .. }
            | LeInt { dst, .. }
            | EqIntImm { dst, .. }
            | NeIntImm { dst, .. }
            | LtIntImm { dst, .. }
            | LeIntImm { dst, .. }
            | GtIntImm { dst, .. }
            | GeIntImm { dst, .. } => Some(dst),
            AddFloat { dst, .. }
            | SubFloat { dst, .. }
            | MulFloat { dst, .. }
            | DivFloat { dst, .. }
            | NegFloat { dst, .. }
            | IntToFloat { dst, .. }
            | FloatToInt { dst, .. } => Some(dst),
            EqFloat { dst, .. }
            | NeFloat { dst, .. }
            | LtFloat { dst, .. }
            | LeFloat { dst, .. } => Some(dst),
            IncLtIntJump { a, .. }
            | IncLeIntJump { a, .. }
            | IncLtIntImmJump { a, .. }
            | IncLeIntImmJump { a, .. } => Some(a),
            NewArray { dst, .. }
            | NewStruct { dst, .. }
            | ArrayLen { dst, .. }
            | ArrayGet { dst, .. }
            | ArrayGetRc { dst, .. }
            | ArrayTake { dst, .. }
            | ArrayGetField { dst, .. }
            | ArrayGetFieldRc { dst, .. }
            | ArrayElemMut { dst, .. }
            | FieldMut { dst, .. }
            | FieldGet { dst, .. }
            | FieldGetRc { dst, .. }
            | FieldTake { dst, .. }
            | CallRt { dst, .. } => Some(dst),
            Call { dst, .. }
            | CallCounted { dst, .. }
            | CallValue { dst, .. }
            | CallValueCounted { dst, .. } => Some(dst),
            Jump { .. } | JumpIfTrue { .. } | JumpIfFalse { .. } => None,
            EqIntJump { .. } | NeIntJump { .. } | LtIntJump { .. } | LeIntJump { .. } => None,
            EqIntImmJump { .. } | NeIntImmJump { .. } | LtIntImmJump { .. } => None,
            LeIntImmJump { .. } | GtIntImmJump { .. } | GeIntImmJump { .. } => None,
            EqFloatJump { .. } | NeFloatJump { .. } | LtFloatJump { .. } => None,
            LeFloatJump { .. } | NotLtFloatJump { .. } | NotLeFloatJump { .. } => None,
            Retain { .. } | Release { .. } => None,
            ArraySet { .. } | ArraySetRc { .. } | FieldSet { .. } | FieldSetRc { .. } => None,
            Ret { .. } | RetVoid | Exit { .. } | Unwind => None,
            PrintInt { .. } | PrintBool { .. } | PrintStr { .. } => None,
            PrintFloat { .. } | PrintValue { .. } => None,
        }
    }

    /// The registers read (up to three), in operand order. Registers named by a [`RegList`]
    /// (`new_array`, `new_struct`, `call_rt`) are not included.
    pub fn read(&self) -> ([Reg; 3], usize) {
        use Instr::*;
        const NONE: Reg = Reg(0);
        let one = |a: Reg| ([a, NONE, NONE], 1);
        let two = |a: Reg, b: Reg| ([a, b, NONE], 2);
        match *self {
            Mov { src, .. } | NegInt { src, .. } | Not { src, .. } => one(src),
            NegFloat { src, .. } | IntToFloat { src, .. } | FloatToInt { src, .. } => one(src),
            AddInt { a, b, .. }
            | SubInt { a, b, .. }
            | MulInt { a, b, .. }
            | DivInt { a, b, .. }
            | RemInt { a, b, .. }
            | ShlInt { a, b, .. }
            | ShrInt { a, b, .. } => two(a, b),
            BitAnd { a, b, .. } | BitOr { a, b, .. } | BitXor { a, b, .. } => two(a, b),
            EqInt { a, b, .. } | NeInt { a, b, .. } | LtInt { a, b, .. } | LeInt { a, b, .. } => {
                two(a, b)
            }
            AddFloat { a, b, .. }
            | SubFloat { a, b, .. }
            | MulFloat { a, b, .. }
            | DivFloat { a, b, .. } => two(a, b),
            EqFloat { a, b, .. }
            | NeFloat { a, b, .. }
            | LtFloat { a, b, .. }
            | LeFloat { a, b, .. } => two(a, b),
            EqIntJump { a, b, .. }
            | NeIntJump { a, b, .. }
            | LtIntJump { a, b, .. }
            | LeIntJump { a, b, .. } => two(a, b),
            EqFloatJump { a, b, .. }
            | NeFloatJump { a, b, .. }
            | LtFloatJump { a, b, .. }
            | LeFloatJump { a, b, .. }
            | NotLtFloatJump { a, b, .. }
            | NotLeFloatJump { a, b, .. } => two(a, b),
            IncLtIntJump { a, b, .. } | IncLeIntJump { a, b, .. } => two(a, b),
            IncLtIntImmJump { a, .. } | IncLeIntImmJump { a, .. } => one(a),
            AddIntImm { a, .. }
            | SubIntImm { a, .. }
            | MulIntImm { a, .. }
            | DivIntImm { a, .. }
            | RemIntImm { a, .. }
            | ShlIntImm { a, .. }
            | ShrIntImm { a, .. } => one(a),
            BitAndImm { a, .. } | BitOrImm { a, .. } | BitXorImm { a, .. } => one(a),
            EqIntImm { a, .. }
            | NeIntImm { a, .. }
            | LtIntImm { a, .. }
            | LeIntImm { a, .. }
            | GtIntImm { a, .. }
            | GeIntImm { a, .. } => one(a),
            EqIntImmJump { a, .. }
            | NeIntImmJump { a, .. }
            | LtIntImmJump { a, .. }
            | LeIntImmJump { a, .. }
            | GtIntImmJump { a, .. }
            | GeIntImmJump { a, .. } => one(a),
            JumpIfTrue { cond, .. } | JumpIfFalse { cond, .. } => one(cond),
            Ret { src } | Exit { src } | Retain { src } | Release { src } => one(src),
            PrintInt { src, .. } | PrintBool { src, .. } | PrintStr { src, .. } => one(src),
            PrintFloat { src, .. } | PrintValue { src, .. } => one(src),
            ArrayLen { array, .. } => one(array),
            ArrayGet { array, index, .. }
            | ArrayGetRc { array, index, .. }
            | ArrayTake { array, index, .. }
            | ArrayGetField { array, index, .. }
            | ArrayGetFieldRc { array, index, .. }
            | ArrayElemMut { array, index, .. } => two(array, index),
            ArraySet {
                array,
                index,
                value,
            }
            | ArraySetRc {
                array,
                index,
                value,
            } => ([array, index, value], 3),
            FieldGet { object, .. }
            | FieldGetRc { object, .. }
            | FieldTake { object, .. }
            | FieldMut { object, .. } => one(object),
            FieldSet { object, value, .. } | FieldSetRc { object, value, .. } => two(object, value),
            LoadInt { .. }
            | LoadStr { .. }
            | LoadFloat { .. }
            | LoadDesc { .. }
            | LoadUnit { .. } => ([NONE; 3], 0),
            NewArray { .. } | NewStruct { .. } | CallRt { .. } => ([NONE; 3], 0),
            CallValue { callee, .. } | CallValueCounted { callee, .. } => one(callee),
            Jump { .. } | Call { .. } | CallCounted { .. } | RetVoid | Unwind => ([NONE; 3], 0),
        }
    }

    /// The register list the instruction reads, if any.
    pub fn list(&self) -> Option<u32> {
        match *self {
            Instr::NewArray { items: list, .. }
            | Instr::NewStruct { fields: list, .. }
            | Instr::CallRt { args: list, .. } => Some(list),
            _ => None,
        }
    }
}

/// A run of registers in [`Module::list_regs`]: the operands of one `new_array`, `new_struct`
/// or `call_rt`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct RegList {
    /// Index of the first register in the module's flat register array.
    pub start: u32,
    pub len: u32,
}

/// What the interpreter needs to enter a function: where its code starts and its window size.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FrameInfo {
    /// Index of the function's first instruction in [`Module::code`].
    pub entry: u32,
    /// Registers in the function's window (locals, scratch and outgoing arguments).
    pub frame_size: u32,
}

/// A compiled function: its place in the code array and its frame layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuncInfo {
    /// The IR function's name (`<main>` for the entry).
    pub name: String,
    /// Where its code starts and how many registers its window holds.
    pub frame: FrameInfo,
    /// One past its last instruction.
    pub end: u32,
    /// Number of parameters (registers `0..param_count`).
    pub param_count: u32,
    /// Number of IR locals (registers `0..local_count`); scratch registers follow.
    pub local_count: u32,
    /// The first outgoing-argument register (after the scratch registers).
    pub arg_base: u32,
    /// Whether it returns a value (its calls write their `dst`).
    pub has_result: bool,
}

/// How an instruction that can fault reports and recovers, as recorded in the side table.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FaultSite {
    /// Index into the module's sites, or [`FaultSite::NONE`]'s value for instructions that
    /// cannot fault.
    pub site: u32,
    /// The immediate form was emitted with the IR operands swapped (`2 * x` as `x * 2`); the
    /// fault message swaps them back.
    pub swapped: bool,
    /// Where a recovered fault of this instruction continues: the code index of its IR block's
    /// handler (a `live` block's recovery code, in the same function), or `None` to leave the
    /// function, after which the caller's `call` counts as the faulting instruction. For a
    /// `call` this also covers faults its callee did not handle.
    pub handler: Option<u32>,
    /// The register list (an index into the module's lists) of the heap values a recovered
    /// fault of this instruction releases before it goes on (see `crate::ir::fault_releases`);
    /// `None` when there are none. A register may be listed twice: it owns two references.
    pub releases: Option<u32>,
}

impl FaultSite {
    /// The entry of an instruction that cannot fault.
    pub const NONE: FaultSite = FaultSite {
        site: u32::MAX,
        swapped: false,
        handler: None,
        releases: None,
    };
}

/// The string literal pool: the objects the `string` registers point to.
pub struct Literals {
    texts: Vec<String>,
    objects: Vec<OwnedStaticStr>,
    /// `objects[i].as_ptr()` as a register value, so `load_str` is one load.
    values: Vec<i64>,
}

impl Literals {
    pub fn new(texts: Vec<String>) -> Literals {
        let objects: Vec<OwnedStaticStr> = texts.iter().map(|t| OwnedStaticStr::new(t)).collect();
        let values = objects.iter().map(|o| o.as_ptr() as i64).collect();
        Literals {
            texts,
            objects,
            values,
        }
    }

    pub fn texts(&self) -> &[String] {
        &self.texts
    }

    /// Register values of the literals, valid while `self` lives (the boxes never move).
    pub fn values(&self) -> &[i64] {
        debug_assert_eq!(self.values.len(), self.objects.len());
        &self.values
    }
}

/// The parts of a module, as the compiler produces them, before validation.
pub struct ModuleParts {
    pub code: Vec<Instr>,
    /// One entry per instruction of `code`.
    pub fault_sites: Vec<FaultSite>,
    pub functions: Vec<FuncInfo>,
    pub entry: u32,
    pub literals: Literals,
    pub sites: Vec<Site>,
    /// The register lists of `new_array`, `new_struct` and `call_rt`, indexed by their `list`.
    pub lists: Vec<RegList>,
    /// The registers of all lists, back to back.
    pub list_regs: Vec<Reg>,
    /// The type descriptors `load_desc`, `new_array` and `new_struct` name.
    pub descs: TypeDescs,
}

/// A whole program in bytecode, validated. It owns the string literals its code points to.
pub struct Module {
    code: Vec<Instr>,
    fault_sites: Vec<FaultSite>,
    functions: Vec<FuncInfo>,
    /// `functions[i].frame`, densely, for the interpreter's calls.
    frames: Vec<FrameInfo>,
    /// The stack units a call of `functions[i]` takes (see [`Module::stack_units`]).
    stack_units: Vec<u32>,
    /// The most registers the register file may grow to (see [`Module::max_registers`]).
    max_registers: usize,
    entry: u32,
    literals: Literals,
    sites: Vec<Site>,
    /// `sites[i].to_string()` (`file:line:col`), precomputed for fault reports.
    site_texts: Vec<String>,
    lists: Vec<RegList>,
    list_regs: Vec<Reg>,
    descs: TypeDescs,
}

/// See [`Module::stack_units`].
fn stack_units_of(func: &FuncInfo) -> u32 {
    let units =
        keel_runtime::stack_units(func.local_count as usize).min(keel_runtime::MAX_STACK_UNITS + 1);
    units as u32
}

/// See [`Module::max_registers`].
fn register_limit(frames: &[FrameInfo], stack_units: &[u32]) -> usize {
    let per_unit = frames
        .iter()
        .zip(stack_units)
        .map(|(f, &units)| (f.frame_size as usize).div_ceil(units.max(1) as usize))
        .max()
        .unwrap_or(0);
    let largest = frames
        .iter()
        .map(|f| f.frame_size as usize)
        .max()
        .unwrap_or(0);
    (keel_runtime::MAX_STACK_UNITS as usize)
        .saturating_mul(per_unit)
        .saturating_add(largest)
        .min(u32::MAX as usize)
}

/// The most registers one frame may have; keeps every register index arithmetic in `u32`.
pub const MAX_FRAME_SIZE: u32 = 1 << 24;

impl Module {
    /// Validates `parts` and builds the module.
    ///
    /// Checked here, relied on by the interpreter's unchecked accesses:
    /// - `entry` names a function; each function's code range `entry..end` is non-empty and
    ///   inside `code`, and its frame holds at most [`MAX_FRAME_SIZE`] registers;
    /// - every register an instruction reads or writes is below its function's frame size;
    /// - every jump target lies inside the jumping instruction's function;
    /// - the last instruction of each function is an unconditional transfer (`jump`, `ret`,
    ///   `ret_void`, `exit`), so execution never runs past a function's end, and an instruction
    ///   after a `call` (its return address) always exists;
    /// - a call names an existing function, its window `base` plus the callee's parameters fit in
    ///   the caller's frame (arguments are written there before the call);
    /// - every `load_str` names an existing literal; there is one fault-site entry per
    ///   instruction and each names an existing site or none; a fault handler belongs to an
    ///   instruction with a site and lies inside its function;
    /// - every `load_desc`, `new_array` and `new_struct` names an existing descriptor of the
    ///   right kind (a struct's with as many fields as its list has registers), and every
    ///   `load_unit` one with a static value;
    /// - every register list exists, lies inside the list registers, and names registers of
    ///   its function's frame; a `call_rt` list has one register per parameter of its function.
    ///
    /// What it cannot check is what a register holds: the interpreter trusts that registers
    /// of heap type hold live objects of the type verified IR says (as the other backends do).
    pub fn new(parts: ModuleParts) -> Result<Module, String> {
        let ModuleParts {
            code,
            fault_sites,
            functions,
            entry,
            literals,
            sites,
            lists,
            list_regs,
            descs,
        } = parts;
        for (index, list) in lists.iter().enumerate() {
            let end = u64::from(list.start) + u64::from(list.len);
            if end > list_regs.len() as u64 {
                return Err(format!(
                    "register list {index} lies outside the list registers"
                ));
            }
        }
        if entry as usize >= functions.len() {
            return Err(format!("entry function {entry} does not exist"));
        }
        if fault_sites.len() != code.len() {
            return Err("fault-site table does not match the code".into());
        }
        for (ip, fault) in fault_sites.iter().enumerate() {
            if *fault != FaultSite::NONE && fault.site as usize >= sites.len() {
                return Err(format!(
                    "instruction {ip} names missing site {}",
                    fault.site
                ));
            }
        }
        let tables = Tables {
            fault_sites: &fault_sites,
            functions: &functions,
            literal_count: literals.texts.len(),
            lists: &lists,
            list_regs: &list_regs,
            descs: &descs,
        };
        for func in &functions {
            validate_function(func, &code, &tables)
                .map_err(|e| format!("fn {}: {e}", func.name))?;
        }
        let frames: Vec<FrameInfo> = functions.iter().map(|f| f.frame).collect();
        let stack_units: Vec<u32> = functions.iter().map(stack_units_of).collect();
        let max_registers = register_limit(&frames, &stack_units);
        let site_texts = sites.iter().map(|s| s.to_string()).collect();
        Ok(Module {
            code,
            fault_sites,
            functions,
            frames,
            stack_units,
            max_registers,
            entry,
            literals,
            sites,
            site_texts,
            lists,
            list_regs,
            descs,
        })
    }

    /// The registers of list `list` (empty if it does not exist).
    #[inline(always)]
    pub fn list(&self, list: u32) -> &[Reg] {
        match self.lists.get(list as usize) {
            Some(l) => &self.list_regs[l.start as usize..(l.start + l.len) as usize],
            None => &[],
        }
    }

    /// The module's type descriptors.
    pub fn descs(&self) -> &TypeDescs {
        &self.descs
    }

    pub fn code(&self) -> &[Instr] {
        &self.code
    }

    pub fn functions(&self) -> &[FuncInfo] {
        &self.functions
    }

    /// Frame information of every function, indexed like [`Module::functions`].
    pub fn frames(&self) -> &[FrameInfo] {
        &self.frames
    }

    /// The stack units a call of each function takes against `keel_runtime::MAX_STACK_UNITS`,
    /// indexed like [`Module::functions`]: computed from its IR locals, as compiled code
    /// computes them, and clamped just beyond the limit (any call of such a function
    /// overflows) so that adding one to a count within the limit cannot overflow a `u32`.
    pub fn stack_units(&self) -> &[u32] {
        &self.stack_units
    }

    /// The register file's limit: [`keel_runtime::MAX_STACK_UNITS`] units of the largest window
    /// per stack unit of any function, plus the largest window (the entry's frame, which counts
    /// no units), at most `u32::MAX` (register indices are `u32`). Calls reach the stack-unit
    /// limit first, so a program's deepest recursion faults at the same call as in compiled
    /// code, whatever its frames.
    pub fn max_registers(&self) -> usize {
        self.max_registers
    }

    /// Index of the function that runs the program.
    pub fn entry(&self) -> u32 {
        self.entry
    }

    pub fn literals(&self) -> &Literals {
        &self.literals
    }

    /// The side-table entry of the instruction at `ip`.
    pub fn fault_site(&self, ip: usize) -> FaultSite {
        self.fault_sites.get(ip).copied().unwrap_or(FaultSite::NONE)
    }

    /// Where a recovered fault of the instruction at `ip` continues (see
    /// [`FaultSite::handler`]); validated to lie inside the instruction's function.
    pub fn handler(&self, ip: usize) -> Option<u32> {
        self.fault_site(ip).handler
    }

    /// The source site with index `site`, if it exists.
    pub fn site(&self, site: u32) -> Option<&Site> {
        self.sites.get(site as usize)
    }

    /// `file:line:col` of site `site`, as fault messages print it.
    pub fn site_text(&self, site: u32) -> &str {
        self.site_texts
            .get(site as usize)
            .map_or("<unknown>", |s| s.as_str())
    }

    /// The function whose code contains `ip`.
    pub fn function_at(&self, ip: usize) -> Option<&FuncInfo> {
        // The compiler lays functions out in order, so their entries ascend.
        let after = self
            .functions
            .partition_point(|f| f.frame.entry as usize <= ip);
        let func = &self.functions[after.checked_sub(1)?];
        (ip < func.end as usize).then_some(func)
    }
}

/// The module tables instructions refer to, for validation.
struct Tables<'a> {
    fault_sites: &'a [FaultSite],
    functions: &'a [FuncInfo],
    literal_count: usize,
    lists: &'a [RegList],
    list_regs: &'a [Reg],
    descs: &'a TypeDescs,
}

impl Tables<'_> {
    fn list(&self, list: u32) -> Option<&[Reg]> {
        let l = self.lists.get(list as usize)?;
        self.list_regs
            .get(l.start as usize..(l.start as usize + l.len as usize))
    }
}

fn validate_function(func: &FuncInfo, code: &[Instr], tables: &Tables) -> Result<(), String> {
    let functions = tables.functions;
    let (start, end) = (func.frame.entry, func.end);
    if start >= end || end as usize > code.len() {
        return Err(format!("bad code range {start}..{end}"));
    }
    let size = func.frame.frame_size;
    if size > MAX_FRAME_SIZE {
        return Err(format!("frame of {size} registers is too large"));
    }
    if func.param_count > size || func.local_count > size {
        return Err("frame smaller than its locals".into());
    }
    let in_frame = |r: Reg| r.0 < size;
    for ip in start..end {
        let instr = &code[ip as usize];
        let (read, count) = instr.read();
        if !read[..count].iter().all(|r| in_frame(*r)) || !instr.written().is_none_or(in_frame) {
            return Err(format!(
                "instruction {ip} uses a register outside the frame"
            ));
        }
        if let Some(list) = instr.list() {
            let Some(regs) = tables.list(list) else {
                return Err(format!("instruction {ip} names missing list {list}"));
            };
            if !regs.iter().all(|r| in_frame(*r)) {
                return Err(format!(
                    "instruction {ip} lists a register outside the frame"
                ));
            }
            let expected = match *instr {
                Instr::CallRt { func, .. } => Some(func.sig().params.len()),
                Instr::NewStruct { desc, .. } => {
                    tables.descs.struct_field_count(desc).map(|n| n as usize)
                }
                _ => None,
            };
            if expected.is_some_and(|n| n != regs.len()) {
                return Err(format!(
                    "instruction {ip} lists the wrong number of registers"
                ));
            }
        }
        if let Some(target) = instr.target() {
            if !(start..end).contains(&target) {
                return Err(format!("instruction {ip} jumps outside its function"));
            }
        }
        if let Some(handler) = tables.fault_sites[ip as usize].handler {
            if !(start..end).contains(&handler) {
                return Err(format!(
                    "instruction {ip} has a fault handler outside its function"
                ));
            }
        }
        if let Some(list) = tables.fault_sites[ip as usize].releases {
            match tables.list(list) {
                Some(regs) if regs.iter().all(|r| in_frame(*r)) => {}
                _ => {
                    return Err(format!(
                        "instruction {ip} releases registers outside the frame on a fault"
                    ))
                }
            }
        }
        match *instr {
            Instr::Call {
                func: callee, base, ..
            }
            | Instr::CallCounted {
                func: callee, base, ..
            } => {
                let Some(callee) = functions.get(callee as usize) else {
                    return Err(format!("instruction {ip} calls missing function {callee}"));
                };
                if u64::from(base.0) + u64::from(callee.param_count) > u64::from(size) {
                    return Err(format!(
                        "instruction {ip} passes arguments outside the frame"
                    ));
                }
            }
            Instr::LoadStr { string, .. } if string as usize >= tables.literal_count => {
                return Err(format!("instruction {ip} loads missing literal {string}"));
            }
            Instr::LoadDesc { desc, .. } if !tables.descs.contains(desc) => {
                return Err(format!("instruction {ip} loads missing descriptor {desc}"));
            }
            Instr::LoadUnit { desc, .. } if tables.descs.unit(desc).is_none() => {
                return Err(format!(
                    "instruction {ip} loads the static value of {desc}, which has none"
                ));
            }
            Instr::NewArray { desc, .. } if !tables.descs.is_array(desc) => {
                return Err(format!("instruction {ip} needs an array descriptor"));
            }
            Instr::NewStruct { desc, .. } if tables.descs.struct_field_count(desc).is_none() => {
                return Err(format!("instruction {ip} needs a struct descriptor"));
            }
            _ => {}
        }
    }
    if !code[end as usize - 1].is_unconditional_transfer() {
        return Err("code can run past the function's end".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_are_16_bytes() {
        assert_eq!(std::mem::size_of::<Instr>(), 16);
    }

    fn parts(code: Vec<Instr>, frame_size: u32) -> ModuleParts {
        let len = code.len() as u32;
        ModuleParts {
            fault_sites: vec![FaultSite::NONE; code.len()],
            code,
            functions: vec![FuncInfo {
                name: "f".into(),
                frame: FrameInfo {
                    entry: 0,
                    frame_size,
                },
                end: len,
                param_count: 0,
                local_count: 0,
                arg_base: 2,
                has_result: false,
            }],
            entry: 0,
            literals: Literals::new(vec!["hi".into()]),
            sites: vec![],
            lists: vec![RegList { start: 0, len: 2 }, RegList { start: 0, len: 1 }],
            list_regs: vec![Reg(0), Reg(5)],
            descs: TypeDescs::new(&empty_program()),
        }
    }

    fn empty_program() -> crate::ir::Program {
        crate::ir::Program {
            functions: Vec::new(),
            entry: crate::ir::FuncId(0),
            strings: Vec::new(),
            sites: Vec::new(),
            arrays: vec![crate::ir::Ty::Int],
            structs: Vec::new(),
            maps: Vec::new(),
        }
    }

    #[test]
    fn fault_handlers_must_stay_in_their_function_and_need_a_site() {
        let code = || {
            vec![
                Instr::DivInt {
                    dst: Reg(0),
                    a: Reg(0),
                    b: Reg(1),
                },
                Instr::RetVoid,
            ]
        };
        let with_handler = |site: u32, handler: u32| {
            let mut parts = parts(code(), 2);
            parts.sites = vec![Site {
                file: "t.kl".into(),
                line: 1,
                col: 1,
            }];
            parts.fault_sites[0] = FaultSite {
                site,
                swapped: false,
                handler: Some(handler),
                releases: None,
            };
            Module::new(parts)
        };
        let module = with_handler(0, 1).expect("a handler inside the function");
        assert_eq!(module.handler(0), Some(1));
        assert_eq!(module.handler(1), None);
        match with_handler(0, 2) {
            Ok(_) => panic!("accepted a handler outside the function"),
            Err(e) => assert!(e.contains("fault handler outside"), "{e}"),
        }
        match with_handler(u32::MAX, 1) {
            Ok(_) => panic!("accepted a handler without a site"),
            Err(e) => assert!(e.contains("missing site"), "{e}"),
        }
    }

    #[test]
    fn accepts_a_well_formed_function() {
        let code = vec![
            Instr::LoadInt {
                dst: Reg(0),
                value: 1,
            },
            Instr::JumpIfTrue {
                cond: Reg(0),
                target: 0,
            },
            Instr::LoadStr {
                dst: Reg(1),
                string: 0,
            },
            Instr::RetVoid,
        ];
        assert!(Module::new(parts(code, 2)).is_ok());
    }

    #[test]
    fn rejects_what_the_interpreter_cannot_trust() {
        let bad: Vec<(Vec<Instr>, &str)> = vec![
            (
                vec![
                    Instr::Mov {
                        dst: Reg(0),
                        src: Reg(2),
                    },
                    Instr::RetVoid,
                ],
                "register",
            ),
            (vec![Instr::Jump { target: 5 }], "jumps outside"),
            (
                vec![Instr::LoadInt {
                    dst: Reg(0),
                    value: 0,
                }],
                "past the function's end",
            ),
            (
                vec![
                    Instr::LoadStr {
                        dst: Reg(0),
                        string: 1,
                    },
                    Instr::RetVoid,
                ],
                "missing literal",
            ),
            (
                vec![
                    Instr::Call {
                        func: 3,
                        base: Reg(0),
                        dst: Reg(0),
                    },
                    Instr::RetVoid,
                ],
                "missing function",
            ),
            (
                vec![
                    Instr::LoadDesc {
                        dst: Reg(0),
                        desc: 9,
                    },
                    Instr::RetVoid,
                ],
                "missing descriptor",
            ),
            (
                vec![
                    Instr::NewArray {
                        dst: Reg(0),
                        desc: 0,
                        items: 1,
                    },
                    Instr::RetVoid,
                ],
                "array descriptor",
            ),
            (
                vec![
                    Instr::NewArray {
                        dst: Reg(0),
                        desc: 4,
                        items: 2,
                    },
                    Instr::RetVoid,
                ],
                "missing list",
            ),
            (
                vec![
                    Instr::NewArray {
                        dst: Reg(0),
                        desc: 4,
                        items: 0,
                    },
                    Instr::RetVoid,
                ],
                "lists a register outside",
            ),
            (
                vec![
                    Instr::CallRt {
                        func: RtFunc::IntMin,
                        dst: Reg(0),
                        args: 1,
                        checks_fault: false,
                    },
                    Instr::RetVoid,
                ],
                "wrong number of registers",
            ),
        ];
        for (code, why) in bad {
            match Module::new(parts(code, 2)) {
                Ok(_) => panic!("accepted code with a bad {why}"),
                Err(e) => assert!(e.contains(why), "{e} should mention {why}"),
            }
        }
    }
}
