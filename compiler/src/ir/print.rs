//! The textual form of the IR, as `keel emit ir` shows it.
//!
//! One function per paragraph: a signature line, then each block as a label followed by its
//! instructions, one per line. Locals print as `%n` (with the source name after a colon when there
//! is one, on the signature and local list), string literals as `str#n`, sites as `@line:col`.
//! The format is for people and snapshot tests; nothing parses it back.

use std::fmt::Write;

use super::{BinaryOp, Function, Inst, Operand, Program, SiteId, Stream, Term, UnaryOp};

/// Renders a whole program.
pub fn program_to_string(program: &Program) -> String {
    let mut out = String::new();
    for (i, text) in program.strings.iter().enumerate() {
        let _ = writeln!(out, "str#{i} = {text:?}");
    }
    if !program.strings.is_empty() {
        out.push('\n');
    }
    for (i, func) in program.functions.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let entry = if program.entry.0 as usize == i {
            " (entry)"
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
        let _ = writeln!(out, "b{b}:");
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
        Operand::Str(s) => format!("str#{}", s.0),
    }
}

fn site(program: &Program, id: SiteId) -> String {
    let s = program.site(id);
    format!("@{}:{}", s.line, s.col)
}

fn binary_name(op: BinaryOp) -> &'static str {
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
            dst, func, args, ..
        } => {
            let args: Vec<String> = args.iter().map(operand).collect();
            let callee = &program.function(*func).name;
            match dst {
                Some(d) => format!("%{} = call {callee}({})", d.0, args.join(", ")),
                None => format!("call {callee}({})", args.join(", ")),
            }
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
    }
}
