//! The text form of bytecode: `keel emit bytecode` and the execution trace.
//!
//! A listing has the string literals, then one paragraph per function: a header with its frame
//! layout, then one line per instruction: its code index, mnemonic and operands, and for
//! instructions that can fault the `line:col` they report. Registers print as `r<n>`, jump
//! targets as `-> <index>`, literals as `str#<n>` with their text. Nothing parses it back.

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
            scratch + 2,
        );
        for ip in func.frame.entry..func.end {
            let instr = &module.code()[ip as usize];
            let _ = writeln!(out, "{}", instruction_line(module, ip as usize, instr));
        }
    }
    out
}

/// One listing line: index, instruction and, if it can fault, its site.
pub fn instruction_line(module: &Module, ip: usize, instr: &Instr) -> String {
    let text = instruction_text(module, instr);
    match module.site(module.fault_site(ip).site) {
        Some(site) => format!("{ip:>6}  {text:<34} @{}:{}", site.line, site.col),
        None => format!("{ip:>6}  {text}"),
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
        Call { func, base, dst } => {
            let callee = module.functions().get(*func as usize);
            let name = callee.map_or("?", |f| f.name.as_str());
            let window = format!("fn#{func} {name}, window r{}", base.0);
            match callee {
                Some(f) if !f.has_result => ("call", window),
                _ => ("call", format!("{window}, result r{}", dst.0)),
            }
        }
        Ret { src } => ("ret", reg(src)),
        RetVoid => ("ret_void", String::new()),
        Exit { src } => ("exit", reg(src)),
        PrintInt { src, flags } => (print_name(*flags, "int"), reg(src)),
        PrintBool { src, flags } => (print_name(*flags, "bool"), reg(src)),
        PrintStr { src, flags } => (print_name(*flags, "str"), reg(src)),
    }
}

fn print_name(flags: u32, ty: &str) -> &'static str {
    let newline = flags & PRINT_NEWLINE != 0;
    let stderr = flags & PRINT_STDERR != 0;
    match (ty, stderr, newline) {
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
