//! The textual form of the IR, as `keel emit ir` shows it.
//!
//! One function per paragraph: a signature line, then each block as a label followed by its
//! instructions, one per line. Locals print as `%n` (with the source name after a colon when there
//! is one, on the signature and local list), string literals as `str#n`, sites as `@line:col`
//! (on every instruction that can fault, and on calls, whose site a stack overflow names).
//! `ir::parse` reads it back: the format is a contract, written down in `docs/ir.md`.

use std::fmt::Write;

use super::{
    BinaryOp, Function, Inst, MapId, Operand, Program, SiteId, Stream, StructId, StructKind, Term,
    Ty, UnaryOp,
};

/// Renders a whole program.
pub fn program_to_string(program: &Program) -> String {
    let mut out = String::new();
    for (i, def) in program.structs.iter().enumerate() {
        if def.is_tuple() {
            let _ = writeln!(
                out,
                "struct#{i} {}",
                program.type_name(Ty::Struct(StructId(i as u32)))
            );
            continue;
        }
        if def.kind == StructKind::Enum {
            let _ = writeln!(out, "struct#{i} enum {}", def.name);
            continue;
        }
        if def.kind == StructKind::FnType {
            let _ = writeln!(out, "struct#{i} {}", def.name);
            continue;
        }
        let name = match def.kind {
            StructKind::Closure { of, func } => format!(
                "closure fn#{} of {} {:?}",
                func.0,
                program.struct_def(of).name,
                def.name
            ),
            _ => program.type_name(Ty::Struct(StructId(i as u32))),
        };
        let fields: Vec<String> = def
            .fields
            .iter()
            .map(|f| format!("{}: {}", f.name, program.type_name(f.ty)))
            .collect();
        let _ = writeln!(out, "struct#{i} {name} {{ {} }}", fields.join(", "));
    }
    for (i, elem) in program.arrays.iter().enumerate() {
        let _ = writeln!(out, "array#{i} = [{}]", program.type_name(*elem));
    }
    for i in 0..program.maps.len() {
        let _ = writeln!(
            out,
            "map#{i} = {}",
            program.type_name(Ty::Map(MapId(i as u32)))
        );
    }
    for (i, text) in program.strings.iter().enumerate() {
        let _ = writeln!(out, "str#{i} = {text:?}");
    }
    if !(program.strings.is_empty()
        && program.structs.is_empty()
        && program.arrays.is_empty()
        && program.maps.is_empty())
    {
        out.push('\n');
    }
    for (i, func) in program.functions.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let entry = if program.entry.0 as usize == i {
            " (entry)"
        } else if func.env {
            " (closure)"
        } else {
            ""
        };
        let _ = writeln!(out, "fn#{i}{entry} {}", function_to_string(program, func));
    }
    out
}

fn function_to_string(program: &Program, func: &Function) -> String {
    let mut out = String::new();
    let params: Vec<String> = func
        .params()
        .map(|p| local_decl(func, p.0 as usize))
        .collect();
    let _ = writeln!(
        out,
        "{}({}) -> {} {{",
        func.name,
        params.join(", "),
        func.ret
    );
    let others: Vec<String> = (func.param_count as usize..func.locals.len())
        .map(|i| local_decl(func, i))
        .collect();
    if !others.is_empty() {
        let _ = writeln!(out, "  locals {}", others.join(", "));
    }
    for (b, block) in func.blocks.iter().enumerate() {
        match block.handler {
            Some(h) => {
                let _ = writeln!(out, "b{b}: (faults to b{})", h.0);
            }
            None => {
                let _ = writeln!(out, "b{b}:");
            }
        }
        for inst in &block.insts {
            let _ = writeln!(out, "    {}", inst_to_string(program, inst));
        }
        let _ = writeln!(out, "    {}", term_to_string(&block.term));
    }
    out.push('}');
    out
}

fn local_decl(func: &Function, index: usize) -> String {
    let info = &func.locals[index];
    match &info.name {
        Some(name) => format!("%{index}:{name}: {}", info.ty),
        None => format!("%{index}: {}", info.ty),
    }
}

fn operand(op: &Operand) -> String {
    match op {
        Operand::Local(l) => format!("%{}", l.0),
        Operand::Int(v) => v.to_string(),
        Operand::Bool(b) => b.to_string(),
        Operand::Float(bits) => format!("{:?}", f64::from_bits(*bits)),
        Operand::Str(s) => format!("str#{}", s.0),
        Operand::Desc(ty) => format!("desc({ty})"),
    }
}

fn site(program: &Program, id: SiteId) -> String {
    let s = program.site(id);
    format!("@{}:{}", s.line, s.col)
}

/// The mnemonic of `op` in the IR text (`add.int`, `lt.float`, ...).
pub(crate) fn binary_name(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::AddInt => "add.int",
        BinaryOp::SubInt => "sub.int",
        BinaryOp::MulInt => "mul.int",
        BinaryOp::DivInt => "div.int",
        BinaryOp::RemInt => "rem.int",
        BinaryOp::Shl => "shl",
        BinaryOp::Shr => "shr",
        BinaryOp::BitAnd => "and",
        BinaryOp::BitOr => "or",
        BinaryOp::BitXor => "xor",
        BinaryOp::EqInt => "eq.int",
        BinaryOp::NeInt => "ne.int",
        BinaryOp::LtInt => "lt.int",
        BinaryOp::LeInt => "le.int",
        BinaryOp::GtInt => "gt.int",
        BinaryOp::GeInt => "ge.int",
        BinaryOp::EqBool => "eq.bool",
        BinaryOp::NeBool => "ne.bool",
        BinaryOp::AddFloat => "add.float",
        BinaryOp::SubFloat => "sub.float",
        BinaryOp::MulFloat => "mul.float",
        BinaryOp::DivFloat => "div.float",
        BinaryOp::EqFloat => "eq.float",
        BinaryOp::NeFloat => "ne.float",
        BinaryOp::LtFloat => "lt.float",
        BinaryOp::LeFloat => "le.float",
        BinaryOp::GtFloat => "gt.float",
        BinaryOp::GeFloat => "ge.float",
    }
}

fn inst_to_string(program: &Program, inst: &Inst) -> String {
    match inst {
        Inst::Copy { dst, src } => format!("%{} = {}", dst.0, operand(src)),
        Inst::Unary {
            dst,
            op,
            src,
            site: s,
        } => match op {
            UnaryOp::NegInt => format!(
                "%{} = neg.int {} {}",
                dst.0,
                operand(src),
                site(program, *s)
            ),
            UnaryOp::Not => format!("%{} = not {}", dst.0, operand(src)),
            UnaryOp::NegFloat => format!("%{} = neg.float {}", dst.0, operand(src)),
            UnaryOp::IntToFloat => format!("%{} = int_to_float {}", dst.0, operand(src)),
            UnaryOp::FloatToInt => format!(
                "%{} = float_to_int {} {}",
                dst.0,
                operand(src),
                site(program, *s)
            ),
        },
        Inst::Binary {
            dst,
            op,
            lhs,
            rhs,
            site: s,
        } => {
            let at = if op.can_fault() {
                format!(" {}", site(program, *s))
            } else {
                String::new()
            };
            format!(
                "%{} = {} {}, {}{at}",
                dst.0,
                binary_name(*op),
                operand(lhs),
                operand(rhs)
            )
        }
        Inst::Call {
            dst,
            func,
            args,
            site: s,
        } => {
            let args: Vec<String> = args.iter().map(operand).collect();
            let callee = &program.function(*func).name;
            let at = site(program, *s);
            match dst {
                Some(d) => format!("%{} = call {callee}({}) {at}", d.0, args.join(", ")),
                None => format!("call {callee}({}) {at}", args.join(", ")),
            }
        }
        Inst::CallIndirect {
            dst,
            args,
            site: s,
            known,
        } => {
            let args: Vec<String> = args.iter().map(operand).collect();
            let at = site(program, *s);
            // A known callee is named before the arguments: `call_indirect closure#0(...)`.
            let callee = known.map_or(String::new(), |f| format!(" {}", program.function(f).name));
            let call = format!("call_indirect{callee}({}) {at}", args.join(", "));
            match dst {
                Some(d) => format!("%{} = {call}", d.0),
                None => call,
            }
        }
        Inst::CallRt {
            dst,
            func,
            args,
            site: s,
        } => {
            let args: Vec<String> = args.iter().map(operand).collect();
            let sig = func.sig();
            let at = if sig.takes_site {
                format!(" {}", site(program, *s))
            } else {
                String::new()
            };
            match dst {
                Some(d) => format!("%{} = call_rt {}({}){at}", d.0, sig.symbol, args.join(", ")),
                None => format!("call_rt {}({}){at}", sig.symbol, args.join(", ")),
            }
        }
        Inst::Retain { value } => format!("retain %{}", value.0),
        Inst::Line { site: s } => format!("line {}", site(program, *s)),
        Inst::Release { value } => format!("release %{}", value.0),
        Inst::NewArray { dst, ty, items } => {
            let items: Vec<String> = items.iter().map(operand).collect();
            format!(
                "%{} = new_array array#{} [{}]",
                dst.0,
                ty.0,
                items.join(", ")
            )
        }
        Inst::NewStruct { dst, ty, fields } => {
            let fields: Vec<String> = fields.iter().map(operand).collect();
            format!(
                "%{} = new_struct struct#{} {{{}}}",
                dst.0,
                ty.0,
                fields.join(", ")
            )
        }
        Inst::ArrayLen { dst, array } => format!("%{} = array_len {}", dst.0, operand(array)),
        Inst::ArrayGet {
            dst,
            array,
            index,
            site: s,
        } => format!(
            "%{} = array_get {}[{}] {}",
            dst.0,
            operand(array),
            operand(index),
            site(program, *s)
        ),
        Inst::ArraySet {
            array,
            index,
            value,
            site: s,
        } => format!(
            "array_set %{}[{}] = {} {}",
            array.0,
            operand(index),
            operand(value),
            site(program, *s)
        ),
        Inst::ArrayTake {
            dst,
            array,
            index,
            site: s,
        } => format!(
            "%{} = array_take %{}[{}] {}",
            dst.0,
            array.0,
            operand(index),
            site(program, *s)
        ),
        Inst::FieldGet { dst, object, field } => {
            format!("%{} = field_get {}.{field}", dst.0, operand(object))
        }
        Inst::VariantField {
            dst,
            object,
            variant,
            field,
        } => format!(
            "%{} = variant_field {} as struct#{}.{field}",
            dst.0,
            operand(object),
            variant.0
        ),
        Inst::FieldSet {
            object,
            field,
            value,
        } => {
            format!("field_set %{}.{field} = {}", object.0, operand(value))
        }
        Inst::FieldTake { dst, object, field } => {
            format!("%{} = field_take %{}.{field}", dst.0, object.0)
        }
        Inst::Print {
            value,
            ty,
            newline,
            stream,
        } => {
            let name = match (stream, newline) {
                (Stream::Stdout, false) => "print",
                (Stream::Stdout, true) => "println",
                (Stream::Stderr, false) => "eprint",
                (Stream::Stderr, true) => "eprintln",
            };
            format!("{name}.{ty} {}", operand(value))
        }
    }
}

fn term_to_string(term: &Term) -> String {
    match term {
        Term::Jump(b) => format!("jump b{}", b.0),
        Term::Branch {
            cond,
            then_to,
            else_to,
        } => {
            format!("branch {}, b{}, b{}", operand(cond), then_to.0, else_to.0)
        }
        Term::Return(None) => "return".to_string(),
        Term::Return(Some(v)) => format!("return {}", operand(v)),
        Term::Exit(code) => format!("exit {}", operand(code)),
        Term::Unwind => "unwind".to_string(),
    }
}
