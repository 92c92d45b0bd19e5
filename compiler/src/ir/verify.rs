//! The IR verifier: checks the invariants every backend relies on.
//!
//! It checks that every block, local, function, string, site, array-type, struct-type and field
//! index is in range, that operand types match what each instruction expects, that calls pass the
//! right number and types of arguments, and that returns match the function's result type. The
//! front end's output must always verify; the test suite runs the verifier on every program. It
//! does not check that locals are assigned before use, nor that reference counts balance (the
//! front end and the RC pass guarantee both by construction).

use super::{
    ArrayId, BinaryOp, Function, Inst, Local, Operand, Program, RtType, SiteId, StructDef,
    StructId, StructKind, Term, Ty, UnaryOp,
};

/// Checks `program`, returning a description of every violation found.
pub fn verify(program: &Program) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    if program.entry.0 as usize >= program.functions.len() {
        errors.push(format!("entry fn#{} does not exist", program.entry.0));
    }
    let types_ok = |ty: Ty| match ty {
        Ty::Array(id) => (id.0 as usize) < program.arrays.len(),
        Ty::Struct(id) => (id.0 as usize) < program.structs.len(),
        Ty::Map(id) => (id.0 as usize) < program.maps.len(),
        _ => true,
    };
    for (i, def) in program.maps.iter().enumerate() {
        let entry_ok = match def.entry {
            None => def.value == Ty::Void,
            Some(entry) => {
                let fields = program.structs.get(entry.0 as usize).map(|s| &s.fields);
                fields.is_some_and(|f| f.len() == 2 && f[0].ty == def.key && f[1].ty == def.value)
            }
        };
        if !types_ok(def.key) || def.key == Ty::Void || !types_ok(def.value) || !entry_ok {
            errors.push(format!("map#{i} has an invalid key, value or entry type"));
        }
    }
    for (i, elem) in program.arrays.iter().enumerate() {
        if !types_ok(*elem) || *elem == Ty::Void {
            errors.push(format!("array#{i} has an invalid element type"));
        }
    }
    for (i, def) in program.structs.iter().enumerate() {
        if def
            .fields
            .iter()
            .any(|f| !types_ok(f.ty) || f.ty == Ty::Void)
        {
            errors.push(format!(
                "struct#{i} {} has a field of invalid type",
                def.name
            ));
        }
    }
    for (i, def) in program.structs.iter().enumerate() {
        if let StructKind::Closure { of, func } = def.kind {
            if let Err(message) = closure_type_ok(program, StructId(i as u32), of, func) {
                errors.push(format!("struct#{i} {:?}: {message}", def.name));
            }
        }
    }
    for (index, func) in program.functions.iter().enumerate() {
        if func
            .locals
            .iter()
            .any(|l| !types_ok(l.ty) || l.ty == Ty::Void)
        {
            errors.push(format!(
                "fn#{index} {} has a local of invalid type",
                func.name
            ));
            continue;
        }
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

/// Checks closure type `id` of function type `of`, calling `func`: `func` takes the closure
/// object (borrowed) and the function type's parameters, and returns its result.
fn closure_type_ok(
    program: &Program,
    id: StructId,
    of: StructId,
    func: crate::ir::FuncId,
) -> Result<(), String> {
    let fn_type = (program.structs.get(of.0 as usize))
        .filter(|def| def.kind == StructKind::FnType)
        .ok_or_else(|| format!("struct#{} is not a function type", of.0))?;
    let def = program.struct_def(id);
    let header_ok = def.fields.len() >= 2 && def.fields[..2].iter().all(|f| f.ty == Ty::Int);
    if !header_ok {
        return Err("a closure type starts with the fields `code: int, units: int`".into());
    }
    let callee = (program.functions.get(func.0 as usize))
        .ok_or_else(|| format!("fn#{} does not exist", func.0))?;
    let (params, ret) = fn_type.signature();
    let callee_params: Vec<Ty> = callee.params().map(|p| callee.local_ty(p)).collect();
    let mut expected = params;
    expected.extend([Ty::Struct(id), Ty::Str]);
    if !callee.env || callee_params != expected || callee.ret != ret {
        return Err(format!(
            "fn#{} {} is not a closure function of {} (it must be marked `(closure)`, take the parameters, the closure object and the site text, and return the result)",
            func.0, callee.name, fn_type.name
        ));
    }
    Ok(())
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
        self.where_ = format!("fn#{index} {}", func.name);
        if func.blocks.is_empty() {
            self.error("function has no blocks".into());
        }
        if func.param_count as usize > func.locals.len() {
            self.error("more parameters than locals".into());
        }
        if func.env {
            self.borrowed_env();
        }
        for (b, block) in func.blocks.iter().enumerate() {
            for (i, inst) in block.insts.iter().enumerate() {
                self.where_ = format!("fn#{index} {} b{b} inst {i}", func.name);
                self.inst(inst);
            }
            self.where_ = format!("fn#{index} {} b{b} terminator", func.name);
            self.term(&block.term);
            if let Some(h) = block.handler {
                if h.0 as usize >= func.blocks.len() || h.0 == 0 {
                    self.error(format!("fault handler b{} is not a block", h.0));
                }
            }
        }
    }

    /// Checks that a closure's function only reads captured values from its closure object
    /// (borrowed): never assigns it, consumes it or releases it.
    fn borrowed_env(&mut self) {
        let func = self.func;
        let is_closure = |ty: Ty| match ty {
            Ty::Struct(id) => (self.program.structs.get(id.0 as usize))
                .is_some_and(|def| matches!(def.kind, StructKind::Closure { .. })),
            _ => false,
        };
        let Some(env) = func
            .env_param()
            .filter(|&env| is_closure(func.local_ty(env)))
        else {
            self.error(
                "a closure function's last parameters are its closure object and a string".into(),
            );
            return;
        };
        for block in &func.blocks {
            for inst in &block.insts {
                let mut misused = inst.def() == Some(env);
                if !matches!(inst, Inst::FieldGet { object: Operand::Local(o), .. } if *o == env) {
                    inst.for_each_use(|op| misused |= *op == Operand::Local(env));
                }
                if misused {
                    self.error("a closure function's object is only read with field_get".into());
                    return;
                }
            }
            if block.term.operand() == Some(&Operand::Local(env)) {
                self.error("a closure function's object is only read with field_get".into());
                return;
            }
        }
    }

    fn local_ty(&mut self, local: Local) -> Option<Ty> {
        match self.func.locals.get(local.0 as usize) {
            Some(info) => Some(info.ty),
            None => {
                self.error(format!("local %{} does not exist", local.0));
                None
            }
        }
    }

    fn operand_ty(&mut self, op: &Operand) -> Option<Ty> {
        match op {
            Operand::Local(l) => self.local_ty(*l),
            Operand::Int(_) => Some(Ty::Int),
            Operand::Bool(_) => Some(Ty::Bool),
            Operand::Float(_) => Some(Ty::Float),
            Operand::Str(s) => {
                if s.0 as usize >= self.program.strings.len() {
                    self.error(format!("string str#{} does not exist", s.0));
                }
                Some(Ty::Str)
            }
            // A descriptor is a pointer, not a Keel value; only runtime calls take it.
            Operand::Desc(_) => None,
        }
    }

    fn expect(&mut self, op: &Operand, want: Ty) {
        if let Some(got) = self.operand_ty(op) {
            if got != want {
                self.error(format!("expected {want} operand, found {got}"));
            }
        }
    }

    fn def(&mut self, dst: Local, want: Ty) {
        self.expect(&Operand::Local(dst), want);
    }

    fn site(&mut self, site: SiteId) {
        if site.0 as usize >= self.program.sites.len() {
            self.error(format!("site {} does not exist", site.0));
        }
    }

    /// The element type of an array-typed operand.
    fn array_elem(&mut self, op: &Operand) -> Option<Ty> {
        match self.operand_ty(op) {
            Some(Ty::Array(id)) => Some(self.program.elem(id)),
            Some(other) => {
                self.error(format!("expected an array operand, found {other}"));
                None
            }
            None => None,
        }
    }

    /// The type of field `field` of a struct-typed operand.
    fn field_ty(&mut self, op: &Operand, field: u32) -> Option<Ty> {
        match self.operand_ty(op) {
            Some(Ty::Struct(id)) => {
                let def = self.program.struct_def(id);
                if def.kind == StructKind::FnType {
                    self.error(format!("a value of {} has no fields", def.name));
                    return None;
                }
                match def.fields.get(field as usize) {
                    Some(f) => Some(f.ty),
                    None => {
                        self.error(format!("{} has no field {field}", def.name));
                        None
                    }
                }
            }
            Some(other) => {
                self.error(format!("expected a struct operand, found {other}"));
                None
            }
            None => None,
        }
    }

    /// Checks that the struct `object` may be changed in place: enum values never are.
    fn mutable(&mut self, object: Local) {
        if let Some(Ty::Struct(id)) = self.operand_ty(&Operand::Local(object)) {
            if (id.0 as usize) < self.program.structs.len()
                && self.program.struct_def(id).kind != StructKind::Plain
            {
                self.error(format!(
                    "{} is an enum or a function and cannot change",
                    self.program.type_name(Ty::Struct(id))
                ));
            }
        }
    }

    fn array_id(&mut self, id: ArrayId) -> bool {
        let ok = (id.0 as usize) < self.program.arrays.len();
        if !ok {
            self.error(format!("array#{} does not exist", id.0));
        }
        ok
    }

    fn struct_id(&mut self, id: StructId) -> bool {
        let ok = (id.0 as usize) < self.program.structs.len();
        if !ok {
            self.error(format!("struct#{} does not exist", id.0));
        }
        ok
    }

    fn inst(&mut self, inst: &Inst) {
        match inst {
            Inst::Copy { dst, src } => {
                if let Some(ty) = self.operand_ty(src) {
                    self.def(*dst, ty);
                }
            }
            Inst::Unary { dst, op, src, site } => {
                let (from, to) = match op {
                    UnaryOp::NegInt => (Ty::Int, Ty::Int),
                    UnaryOp::Not => (Ty::Bool, Ty::Bool),
                    UnaryOp::NegFloat => (Ty::Float, Ty::Float),
                    UnaryOp::IntToFloat => (Ty::Int, Ty::Float),
                    UnaryOp::FloatToInt => (Ty::Float, Ty::Int),
                };
                self.site(*site);
                self.expect(src, from);
                self.def(*dst, to);
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
                    op => {
                        let operand = if op.on_floats() { Ty::Float } else { Ty::Int };
                        self.expect(lhs, operand);
                        self.expect(rhs, operand);
                        let ty = if op.is_comparison() {
                            Ty::Bool
                        } else {
                            operand
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
            Inst::CallIndirect {
                dst,
                args,
                site,
                known,
            } => {
                self.site(*site);
                let position = StructDef::callee_position(args.len());
                let callee = args.get(position).and_then(|arg| self.operand_ty(arg));
                let fn_type = match callee {
                    Some(Ty::Struct(id)) if self.struct_id(id) => {
                        let def = self.program.struct_def(id);
                        (def.kind == StructKind::FnType).then_some(def)
                    }
                    _ => None,
                };
                let Some(fn_type) = fn_type else {
                    self.error("call_indirect of something that is not a function value".into());
                    return;
                };
                let of = match callee {
                    Some(Ty::Struct(id)) => id,
                    _ => unreachable!("a function type was found above"),
                };
                let known_ok = known.is_none_or(|func| {
                    (self.program.structs.iter())
                        .any(|def| def.kind == StructKind::Closure { of, func })
                });
                if !known_ok {
                    self.error(format!(
                        "call_indirect of fn#{}, which is not the function of a closure type of {}",
                        known.map_or(0, |f| f.0),
                        fn_type.name
                    ));
                }
                let (params, ret) = fn_type.signature();
                if args.len() != params.len() + 2 {
                    self.error(format!(
                        "{} takes {} arguments, given {} (then the function value and the site text)",
                        fn_type.name,
                        params.len(),
                        position
                    ));
                }
                for (arg, ty) in args[..position].iter().zip(params) {
                    self.expect(arg, ty);
                }
                self.expect(&args[position + 1], Ty::Str);
                match (dst, ret) {
                    (None, _) => {}
                    (Some(_), Ty::Void) => self.error("void call assigned to a local".into()),
                    (Some(d), ret) => self.def(*d, ret),
                }
            }
            Inst::CallRt {
                dst,
                func,
                args,
                site,
            } => {
                self.site(*site);
                let sig = func.sig();
                if args.len() != sig.params.len() {
                    self.error(format!(
                        "{} takes {} arguments, given {}",
                        sig.symbol,
                        sig.params.len(),
                        args.len()
                    ));
                }
                for (arg, kind) in args.iter().zip(sig.params) {
                    let ok = match (kind, arg) {
                        (RtType::Ptr, Operand::Desc(_)) => true,
                        (_, Operand::Desc(_)) => false,
                        (RtType::I64, _) => {
                            matches!(self.operand_ty(arg), Some(Ty::Int | Ty::Bool))
                        }
                        (RtType::F64, _) => self.operand_ty(arg) == Some(Ty::Float),
                        (RtType::Ptr, _) => self.operand_ty(arg).is_some_and(Ty::is_heap),
                        (RtType::Any, _) => self.operand_ty(arg).is_some(),
                    };
                    if !ok {
                        self.error(format!(
                            "argument {arg:?} does not fit {kind:?} of {}",
                            sig.symbol
                        ));
                    }
                }
                if let Some(d) = dst {
                    let ty = self.local_ty(*d);
                    let ok = match (sig.ret, ty) {
                        (None, _) | (_, None) => sig.ret.is_some(),
                        (Some(RtType::I64), Some(t)) => matches!(t, Ty::Int | Ty::Bool),
                        (Some(RtType::F64), Some(t)) => t == Ty::Float,
                        (Some(RtType::Ptr), Some(t)) => t.is_heap(),
                        (Some(RtType::Any), Some(_)) => true,
                    };
                    if !ok {
                        self.error(format!("result of {} does not fit %{}", sig.symbol, d.0));
                    }
                }
            }
            Inst::Print { value, ty, .. } => {
                if *ty == Ty::Void {
                    self.error("print of void".into());
                }
                self.expect(value, *ty);
            }
            Inst::Retain { value } | Inst::Release { value } => {
                if self.local_ty(*value).is_some_and(|t| !t.is_heap()) {
                    self.error(format!("reference counting of non-heap local %{}", value.0));
                }
            }
            Inst::NewArray { dst, ty, items } => {
                if self.array_id(*ty) {
                    let elem = self.program.elem(*ty);
                    for item in items {
                        self.expect(item, elem);
                    }
                    self.def(*dst, Ty::Array(*ty));
                }
            }
            Inst::NewStruct { dst, ty, fields } => {
                if self.struct_id(*ty) {
                    let def = self.program.struct_def(*ty);
                    // A variant's value has its enum's type; an enum type has no values of its own.
                    // The fields given: all of them, but a closure's code and stack units,
                    // which the backend fills in.
                    let mut given = &def.fields[..];
                    let result = match def.kind {
                        StructKind::Plain => Ty::Struct(*ty),
                        StructKind::Variant { of, .. } => Ty::Struct(of),
                        StructKind::Closure { of, .. } => {
                            given = &def.fields[StructDef::CLOSURE_HEADER_FIELDS as usize..];
                            Ty::Struct(of)
                        }
                        StructKind::Enum | StructKind::FnType => {
                            self.error(format!(
                                "new_struct of the type {}, which has no values of its own",
                                def.name
                            ));
                            Ty::Struct(*ty)
                        }
                    };
                    if given.len() != fields.len() {
                        self.error(format!(
                            "{} takes {} fields, given {}",
                            def.name,
                            given.len(),
                            fields.len()
                        ));
                    }
                    let tys: Vec<Ty> = given.iter().map(|f| f.ty).collect();
                    for (value, ty) in fields.iter().zip(tys) {
                        self.expect(value, ty);
                    }
                    if let (StructKind::Variant { tag, .. }, Some(first)) =
                        (def.kind, fields.first())
                    {
                        if *first != Operand::Int(i64::from(tag)) {
                            self.error(format!("the tag of {} is {tag}", def.name));
                        }
                    }
                    self.def(*dst, result);
                }
            }
            Inst::ArrayLen { dst, array } => {
                self.array_elem(array);
                self.def(*dst, Ty::Int);
            }
            Inst::ArrayGet {
                dst,
                array,
                index,
                site,
            } => {
                self.site(*site);
                self.expect(index, Ty::Int);
                if let Some(elem) = self.array_elem(array) {
                    self.def(*dst, elem);
                }
            }
            Inst::ArraySet {
                array,
                index,
                value,
                site,
            } => {
                self.site(*site);
                self.expect(index, Ty::Int);
                if let Some(elem) = self.array_elem(&Operand::Local(*array)) {
                    self.expect(value, elem);
                }
            }
            Inst::ArrayTake {
                dst,
                array,
                index,
                site,
            } => {
                self.site(*site);
                self.expect(index, Ty::Int);
                if let Some(elem) = self.array_elem(&Operand::Local(*array)) {
                    if !elem.is_heap() {
                        self.error("array_take of a scalar element".into());
                    }
                    self.def(*dst, elem);
                }
            }
            Inst::FieldGet { dst, object, field } => {
                if let Some(ty) = self.field_ty(object, *field) {
                    self.def(*dst, ty);
                }
            }
            Inst::VariantField {
                dst,
                object,
                variant,
                field,
            } => {
                if !self.struct_id(*variant) {
                    return;
                }
                let def = self.program.struct_def(*variant);
                let StructKind::Variant { of, .. } = def.kind else {
                    self.error(format!("variant_field of {}, not a variant", def.name));
                    return;
                };
                self.expect(object, Ty::Struct(of));
                match def.fields.get(*field as usize) {
                    Some(f) => {
                        let ty = f.ty;
                        self.def(*dst, ty);
                    }
                    None => self.error(format!("{} has no field {field}", def.name)),
                }
            }
            Inst::FieldSet {
                object,
                field,
                value,
            } => {
                self.mutable(*object);
                if let Some(ty) = self.field_ty(&Operand::Local(*object), *field) {
                    self.expect(value, ty);
                }
            }
            Inst::FieldTake { dst, object, field } => {
                self.mutable(*object);
                if let Some(ty) = self.field_ty(&Operand::Local(*object), *field) {
                    if !ty.is_heap() {
                        self.error("field_take of a scalar field".into());
                    }
                    self.def(*dst, ty);
                }
            }
            Inst::Line { site } => self.site(*site),
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
            Term::Jump(_) | Term::Unwind => {}
        }
    }
}
