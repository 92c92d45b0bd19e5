//! The text form of bytecode: `keel emit bytecode` and the execution trace.
//!
//! A listing has the string literals, then one paragraph per function: a header with its frame
//! layout, then one line per instruction: its code index, mnemonic and operands, and for
//! instructions that can fault the `line:col` they report, the registers a recovered fault
//! releases (`releases (r1, r2)`) and, inside a `live` block, where it continues
//! (`on fault -> <index>`, the handler table; without it a fault leaves the function). Registers print as `r<n>`, jump
//! targets as `-> <index>`, literals as `str#<n>` with their text, float constants in Rust's
//! shortest form, type descriptors as `desc#<n>` with the type, register lists as `[r1, r2]`,
//! runtime functions by their symbol. Nothing parses it back.

use std::fmt::Write;

use super::bytecode::{Instr, Module};
use keel_runtime::{PRINT_NEWLINE, PRINT_STDERR};

/// Renders a whole module.
pub fn disassemble(module: &Module) -> String {
    let mut out = String::new();
    for (i, text) in module.literals().texts().iter().enumerate() {
        let _ = writeln!(out, "str#{i} = {text:?}");
    }
    for (index, func) in module.functions().iter().enumerate() {
        if index > 0 || !module.literals().texts().is_empty() {
            out.push('\n');
        }
        let entry = if index as u32 == module.entry() {
            " (entry)"
        } else {
            ""
        };
        let params = match func.param_count {
            1 => "1 param".to_string(),
            n => format!("{n} params"),
        };
        let scratch = func.local_count;
        let locals = match scratch {
            0 => "no locals".to_string(),
            n => format!("locals r0..r{}", n - 1),
        };
        let _ = writeln!(
            out,
            "fn#{index} {}{entry}: {params}, {} registers ({locals}, scratch r{scratch} r{}, arguments from r{})",
            func.name,
            func.frame.frame_size,
            scratch + 1,
            func.arg_base,
        );
        for ip in func.frame.entry..func.end {
            let instr = &module.code()[ip as usize];
            let _ = writeln!(out, "{}", instruction_line(module, ip as usize, instr));
        }
    }
    out
}

/// One listing line: index, instruction and, if it can fault, its site, what a recovered fault
/// releases and its handler.
pub fn instruction_line(module: &Module, ip: usize, instr: &Instr) -> String {
    let text = instruction_text(module, instr);
    let fault = module.fault_site(ip);
    let releases = match fault.releases {
        Some(list) => format!(" releases {}", list_text(module, list)),
        None => String::new(),
    };
    match (module.site(fault.site), fault.handler) {
        (Some(site), None) => format!("{ip:>6}  {text:<34} @{}:{}{releases}", site.line, site.col),
        (Some(site), Some(handler)) => format!(
            "{ip:>6}  {text:<34} @{}:{}{releases} on fault -> {handler}",
            site.line, site.col
        ),
        (None, _) => format!("{ip:>6}  {text}"),
    }
}

/// An instruction as `mnemonic operands`.
pub fn instruction_text(module: &Module, instr: &Instr) -> String {
    let (mnemonic, operands) = parts(module, instr);
    if operands.is_empty() {
        mnemonic.to_string()
    } else {
        format!("{mnemonic:<16} {operands}")
    }
}

fn parts(module: &Module, instr: &Instr) -> (&'static str, String) {
    use Instr::*;
    let three = |dst: &super::bytecode::Reg, a: &super::bytecode::Reg, b: String| {
        format!("r{}, r{}, {b}", dst.0, a.0)
    };
    let reg = |r: &super::bytecode::Reg| format!("r{}", r.0);
    match instr {
        Mov { dst, src } => ("mov", format!("r{}, r{}", dst.0, src.0)),
        LoadFloat { dst, bits } => (
            "load_float",
            format!("r{}, {:?}", dst.0, f64::from_bits(*bits)),
        ),
        LoadDesc { dst, desc } => (
            "load_desc",
            format!("r{}, {}", dst.0, desc_text(module, *desc)),
        ),
        LoadUnit { dst, desc } => (
            "load_unit",
            format!("r{}, {}", dst.0, desc_text(module, *desc)),
        ),
        LoadInt { dst, value } => ("load_int", format!("r{}, {value}", dst.0)),
        LoadStr { dst, string } => {
            let text = module.literals().texts().get(*string as usize);
            (
                "load_str",
                format!(
                    "r{}, str#{string} {:?}",
                    dst.0,
                    text.map_or("?", |t| t.as_str())
                ),
            )
        }
        AddInt { dst, a, b } => ("add_int", three(dst, a, reg(b))),
        AddIntImm { dst, a, imm } => ("add_int_imm", three(dst, a, imm.to_string())),
        SubInt { dst, a, b } => ("sub_int", three(dst, a, reg(b))),
        SubIntImm { dst, a, imm } => ("sub_int_imm", three(dst, a, imm.to_string())),
        MulInt { dst, a, b } => ("mul_int", three(dst, a, reg(b))),
        MulIntImm { dst, a, imm } => ("mul_int_imm", three(dst, a, imm.to_string())),
        DivInt { dst, a, b } => ("div_int", three(dst, a, reg(b))),
        DivIntImm { dst, a, imm } => ("div_int_imm", three(dst, a, imm.to_string())),
        RemInt { dst, a, b } => ("rem_int", three(dst, a, reg(b))),
        RemIntImm { dst, a, imm } => ("rem_int_imm", three(dst, a, imm.to_string())),
        ShlInt { dst, a, b } => ("shl_int", three(dst, a, reg(b))),
        ShlIntImm { dst, a, imm } => ("shl_int_imm", three(dst, a, imm.to_string())),
        ShrInt { dst, a, b } => ("shr_int", three(dst, a, reg(b))),
        ShrIntImm { dst, a, imm } => ("shr_int_imm", three(dst, a, imm.to_string())),
        NegInt { dst, src } => ("neg_int", format!("r{}, r{}", dst.0, src.0)),
        BitAnd { dst, a, b } => ("bit_and", three(dst, a, reg(b))),
        BitAndImm { dst, a, imm } => ("bit_and_imm", three(dst, a, imm.to_string())),
        BitOr { dst, a, b } => ("bit_or", three(dst, a, reg(b))),
        BitOrImm { dst, a, imm } => ("bit_or_imm", three(dst, a, imm.to_string())),
        BitXor { dst, a, b } => ("bit_xor", three(dst, a, reg(b))),
        BitXorImm { dst, a, imm } => ("bit_xor_imm", three(dst, a, imm.to_string())),
        Not { dst, src } => ("not", format!("r{}, r{}", dst.0, src.0)),
        AddFloat { dst, a, b } => ("add_float", three(dst, a, reg(b))),
        SubFloat { dst, a, b } => ("sub_float", three(dst, a, reg(b))),
        MulFloat { dst, a, b } => ("mul_float", three(dst, a, reg(b))),
        DivFloat { dst, a, b } => ("div_float", three(dst, a, reg(b))),
        NegFloat { dst, src } => ("neg_float", format!("r{}, r{}", dst.0, src.0)),
        IntToFloat { dst, src } => ("int_to_float", format!("r{}, r{}", dst.0, src.0)),
        FloatToInt { dst, src } => ("float_to_int", format!("r{}, r{}", dst.0, src.0)),
        EqFloat { dst, a, b } => ("eq_float", three(dst, a, reg(b))),
        NeFloat { dst, a, b } => ("ne_float", three(dst, a, reg(b))),
        LtFloat { dst, a, b } => ("lt_float", three(dst, a, reg(b))),
        LeFloat { dst, a, b } => ("le_float", three(dst, a, reg(b))),
        EqInt { dst, a, b } => ("eq_int", three(dst, a, reg(b))),
        NeInt { dst, a, b } => ("ne_int", three(dst, a, reg(b))),
        LtInt { dst, a, b } => ("lt_int", three(dst, a, reg(b))),
        LeInt { dst, a, b } => ("le_int", three(dst, a, reg(b))),
        EqIntImm { dst, a, imm } => ("eq_int_imm", three(dst, a, imm.to_string())),
        NeIntImm { dst, a, imm } => ("ne_int_imm", three(dst, a, imm.to_string())),
        LtIntImm { dst, a, imm } => ("lt_int_imm", three(dst, a, imm.to_string())),
        LeIntImm { dst, a, imm } => ("le_int_imm", three(dst, a, imm.to_string())),
        GtIntImm { dst, a, imm } => ("gt_int_imm", three(dst, a, imm.to_string())),
        GeIntImm { dst, a, imm } => ("ge_int_imm", three(dst, a, imm.to_string())),
        Jump { target } => ("jump", format!("-> {target}")),
        JumpIfTrue { cond, target } => ("jump_if_true", format!("r{}, -> {target}", cond.0)),
        JumpIfFalse { cond, target } => ("jump_if_false", format!("r{}, -> {target}", cond.0)),
        EqIntJump { a, b, target } => ("eq_int_jump", format!("r{}, r{}, -> {target}", a.0, b.0)),
        NeIntJump { a, b, target } => ("ne_int_jump", format!("r{}, r{}, -> {target}", a.0, b.0)),
        LtIntJump { a, b, target } => ("lt_int_jump", format!("r{}, r{}, -> {target}", a.0, b.0)),
        LeIntJump { a, b, target } => ("le_int_jump", format!("r{}, r{}, -> {target}", a.0, b.0)),
        EqIntImmJump { a, imm, target } => {
            ("eq_int_imm_jump", format!("r{}, {imm}, -> {target}", a.0))
        }
        NeIntImmJump { a, imm, target } => {
            ("ne_int_imm_jump", format!("r{}, {imm}, -> {target}", a.0))
        }
        LtIntImmJump { a, imm, target } => {
            ("lt_int_imm_jump", format!("r{}, {imm}, -> {target}", a.0))
        }
        LeIntImmJump { a, imm, target } => {
            ("le_int_imm_jump", format!("r{}, {imm}, -> {target}", a.0))
        }
        GtIntImmJump { a, imm, target } => {
            ("gt_int_imm_jump", format!("r{}, {imm}, -> {target}", a.0))
        }
        GeIntImmJump { a, imm, target } => {
            ("ge_int_imm_jump", format!("r{}, {imm}, -> {target}", a.0))
        }
        EqFloatJump { a, b, target } => ("eq_float_jump", jump2(a, b, *target)),
        NeFloatJump { a, b, target } => ("ne_float_jump", jump2(a, b, *target)),
        LtFloatJump { a, b, target } => ("lt_float_jump", jump2(a, b, *target)),
        LeFloatJump { a, b, target } => ("le_float_jump", jump2(a, b, *target)),
        NotLtFloatJump { a, b, target } => ("not_lt_float_jump", jump2(a, b, *target)),
        NotLeFloatJump { a, b, target } => ("not_le_float_jump", jump2(a, b, *target)),
        IncLtIntJump { a, b, target } => (
            "inc_lt_int_jump",
            format!("r{}, r{}, -> {target}", a.0, b.0),
        ),
        IncLeIntJump { a, b, target } => (
            "inc_le_int_jump",
            format!("r{}, r{}, -> {target}", a.0, b.0),
        ),
        IncLtIntImmJump { a, imm, target } => (
            "inc_lt_int_imm_jump",
            format!("r{}, {imm}, -> {target}", a.0),
        ),
        IncLeIntImmJump { a, imm, target } => (
            "inc_le_int_imm_jump",
            format!("r{}, {imm}, -> {target}", a.0),
        ),
        CallValue { callee, base, dst } | CallValueCounted { callee, base, dst } => {
            let mnemonic = if matches!(instr, CallValueCounted { .. }) {
                "call_value_counted"
            } else {
                "call_value"
            };
            (
                mnemonic,
                format!("r{}, window r{}, result r{}", callee.0, base.0, dst.0),
            )
        }
        Call { func, base, dst } | CallCounted { func, base, dst } => {
            let mnemonic = if matches!(instr, CallCounted { .. }) {
                "call_counted"
            } else {
                "call"
            };
            let callee = module.functions().get(*func as usize);
            let name = callee.map_or("?", |f| f.name.as_str());
            let window = format!("fn#{func} {name}, window r{}", base.0);
            match callee {
                Some(f) if !f.has_result => (mnemonic, window),
                _ => (mnemonic, format!("{window}, result r{}", dst.0)),
            }
        }
        Ret { src } => ("ret", reg(src)),
        RetVoid => ("ret_void", String::new()),
        Exit { src } => ("exit", reg(src)),
        Unwind => ("unwind", String::new()),
        PrintInt { src, flags } => (print_name(*flags, "int"), reg(src)),
        PrintBool { src, flags } => (print_name(*flags, "bool"), reg(src)),
        PrintStr { src, flags } => (print_name(*flags, "str"), reg(src)),
        PrintFloat { src, flags } => (print_name(*flags, "float"), reg(src)),
        PrintValue { src, flags } => (print_name(*flags, "value"), reg(src)),
        Retain { src } => ("retain", reg(src)),
        Release { src } => ("release", reg(src)),
        NewArray { dst, desc, items } => (
            "new_array",
            format!(
                "r{}, {}, {}",
                dst.0,
                desc_text(module, *desc),
                list_text(module, *items)
            ),
        ),
        NewStruct { dst, desc, fields } => (
            "new_struct",
            format!(
                "r{}, {}, {}",
                dst.0,
                desc_text(module, *desc),
                list_text(module, *fields)
            ),
        ),
        ArrayLen { dst, array } => ("array_len", format!("r{}, r{}", dst.0, array.0)),
        ArrayGet { dst, array, index } => ("array_get", three(dst, array, reg(index))),
        ArrayGetRc { dst, array, index } => ("array_get_rc", three(dst, array, reg(index))),
        ArraySet {
            array,
            index,
            value,
        } => ("array_set", three(array, index, reg(value))),
        ArraySetRc {
            array,
            index,
            value,
        } => ("array_set_rc", three(array, index, reg(value))),
        ArrayTake { dst, array, index } => ("array_take", three(dst, array, reg(index))),
        ArrayElemMut { dst, array, index } => ("array_elem_mut", three(dst, array, reg(index))),
        ArrayGetField {
            dst,
            array,
            index,
            field,
        } => (
            "array_get_field",
            format!("r{}, r{}[r{}].{field}", dst.0, array.0, index.0),
        ),
        ArrayGetFieldRc {
            dst,
            array,
            index,
            field,
        } => (
            "array_get_field_rc",
            format!("r{}, r{}[r{}].{field}", dst.0, array.0, index.0),
        ),
        FieldMut { dst, object, field } => ("field_mut", three(dst, object, format!(".{field}"))),
        FieldGet { dst, object, field } => ("field_get", three(dst, object, format!(".{field}"))),
        FieldGetRc { dst, object, field } => {
            ("field_get_rc", three(dst, object, format!(".{field}")))
        }
        FieldSet {
            object,
            field,
            value,
        } => ("field_set", format!("r{}.{field}, r{}", object.0, value.0)),
        FieldSetRc {
            object,
            field,
            value,
        } => (
            "field_set_rc",
            format!("r{}.{field}, r{}", object.0, value.0),
        ),
        FieldTake { dst, object, field } => ("field_take", three(dst, object, format!(".{field}"))),
        CallRt {
            func, dst, args, ..
        } => {
            let sig = func.sig();
            let call = format!("{}{}", sig.symbol, list_text(module, *args));
            match sig.ret {
                Some(_) => ("call_rt", format!("r{}, {call}", dst.0)),
                None => ("call_rt", call),
            }
        }
    }
}

fn jump2(a: &super::bytecode::Reg, b: &super::bytecode::Reg, target: u32) -> String {
    format!("r{}, r{}, -> {target}", a.0, b.0)
}

fn desc_text(module: &Module, desc: u32) -> String {
    format!("desc#{desc} {}", module.descs().type_name(desc))
}

fn list_text(module: &Module, list: u32) -> String {
    let regs: Vec<String> = module
        .list(list)
        .iter()
        .map(|r| format!("r{}", r.0))
        .collect();
    format!("({})", regs.join(", "))
}

fn print_name(flags: u32, ty: &str) -> &'static str {
    let newline = flags & PRINT_NEWLINE != 0;
    let stderr = flags & PRINT_STDERR != 0;
    match (ty, stderr, newline) {
        ("float", false, false) => "print_float",
        ("float", false, true) => "println_float",
        ("float", true, false) => "eprint_float",
        ("float", true, true) => "eprintln_float",
        ("value", false, false) => "print_value",
        ("value", false, true) => "println_value",
        ("value", true, false) => "eprint_value",
        ("value", true, true) => "eprintln_value",
        ("int", false, false) => "print_int",
        ("int", false, true) => "println_int",
        ("int", true, false) => "eprint_int",
        ("int", true, true) => "eprintln_int",
        ("bool", false, false) => "print_bool",
        ("bool", false, true) => "println_bool",
        ("bool", true, false) => "eprint_bool",
        ("bool", true, true) => "eprintln_bool",
        (_, false, false) => "print_str",
        (_, false, true) => "println_str",
        (_, true, false) => "eprint_str",
        (_, true, true) => "eprintln_str",
    }
}
