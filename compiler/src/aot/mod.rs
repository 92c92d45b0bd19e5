//! The ahead-of-time backend (`keel build FILE -o OUT`): the IR as a native executable.
//!
//! [`build`] resolves the target ([`target`]), compiles the program with the shared Cranelift
//! lowering into an object file that also defines C `main` ([`object`]), writes it and the
//! target's runtime static library (built into `keel` by `build.rs`, see [`runtime_lib`]) to a
//! temporary directory, and links them with the target's C compiler driver ([`link`]). The
//! executable needs nothing but the system C library, or nothing at all with
//! [`LinkMode::Static`]. [`readiness`] says what this machine can build and run for each target
//! (`keel targets`).
//!
//! What this module does not do: run the executable, or run foreign-architecture executables
//! under an emulator (the test harness does).

pub mod link;
pub mod object;
pub mod readiness;
pub mod runtime_lib;
pub mod target;

use std::fs;
use std::path::{Path, PathBuf};

use crate::ir::Program;

pub use link::LinkMode;
pub use object::emit_object;
pub use target::Target;

/// What `keel build` was asked to produce.
pub struct BuildOptions {
    /// Where the executable goes.
    pub output: PathBuf,
    /// Target triple; `None` means the host.
    pub target: Option<String>,
    /// How the C library comes in.
    pub link_mode: LinkMode,
}

/// Compiles `program` to a native executable.
pub fn build(program: &Program, options: &BuildOptions) -> Result<(), String> {
    let target = Target::resolve(options.target.as_deref())?;
    let runtime = runtime_lib::for_target(&target)?;
    check_output_directory(&options.output)?;
    let object = emit_object(program, &target).map_err(|e| e.to_string())?;

    let dir = tempfile::Builder::new()
        .prefix("keel-build-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let object_path = dir.path().join("program.o");
    let runtime_path = dir.path().join("libkeel_runtime.a");
    fs::write(&object_path, object)
        .map_err(|e| format!("cannot write {}: {e}", object_path.display()))?;
    fs::write(&runtime_path, runtime)
        .map_err(|e| format!("cannot write {}: {e}", runtime_path.display()))?;
    // Linked beside the destination (in a directory of its own, so the linker creates the file
    // with the usual permissions), then renamed over it: a failed link leaves an existing file
    // as it was, and nobody sees a half-written executable.
    let cannot_write = |e: std::io::Error| {
        format!(
            "cannot write the executable `{}`: {e}",
            options.output.display()
        )
    };
    let staging = tempfile::Builder::new()
        .prefix(".keel-link-")
        .tempdir_in(output_directory(&options.output))
        .map_err(cannot_write)?;
    let linked = staging.path().join("executable");
    link::link(
        &target,
        options.link_mode,
        &object_path,
        &runtime_path,
        &linked,
    )?;
    fs::rename(&linked, &options.output).map_err(cannot_write)
}

/// The directory `output` goes into.
fn output_directory(output: &Path) -> &Path {
    match output.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Fails early, with a plain message, when the executable's directory does not exist (the
/// linker would say so in its own words, after all the work).
fn check_output_directory(output: &Path) -> Result<(), String> {
    let directory = output_directory(output);
    if directory.is_dir() {
        Ok(())
    } else {
        Err(format!(
            "cannot write the executable `{}`: the directory `{}` does not exist",
            output.display(),
            directory.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::process::{Command, Output};
    use std::sync::OnceLock;

    use super::*;
    use crate::ir::{
        BinaryOp, Block, BlockId, FuncId, Function, Inst, Local, LocalInfo, Operand, Site, SiteId,
        StrId, Stream, Term, Ty,
    };

    fn local(ty: Ty) -> LocalInfo {
        LocalInfo { ty, name: None }
    }

    fn main_function(locals: Vec<LocalInfo>, blocks: Vec<Block>) -> Function {
        Function {
            name: "<main>".into(),
            param_count: 0,
            ret: Ty::Void,
            locals,
            blocks,
        }
    }

    fn print(value: Operand, ty: Ty) -> Inst {
        Inst::Print {
            value,
            ty,
            newline: true,
            stream: Stream::Stdout,
        }
    }

    /// Builds `program` for the host and runs it. Also builds it for every other supported
    /// target whose runtime, linker and emulator are installed, runs that under qemu, and asserts
    /// it behaves exactly like the host executable.
    fn build_and_run(program: &Program) -> Output {
        let host = Target::host().expect("tests run on a supported host");
        let expected = build_and_run_on(program, &host, LinkMode::Dynamic, &[]);
        for (target, runner) in cross_targets(LinkMode::Dynamic) {
            let output = build_and_run_on(program, &target, LinkMode::Dynamic, &runner);
            assert_eq!(
                text(&output.stdout),
                text(&expected.stdout),
                "stdout on {target}"
            );
            assert_eq!(
                text(&output.stderr),
                text(&expected.stderr),
                "stderr on {target}"
            );
            assert_eq!(
                output.status.code(),
                expected.status.code(),
                "status on {target}"
            );
        }
        expected
    }

    /// The foreign targets whose executables linked with `mode` can be built and run here, with
    /// their runners.
    fn cross_targets(mode: LinkMode) -> Vec<(Target, Vec<String>)> {
        static READINESS: OnceLock<Vec<readiness::Readiness>> = OnceLock::new();
        READINESS
            .get_or_init(readiness::all)
            .iter()
            .filter(|ready| !ready.target.is_host())
            .filter_map(|ready| {
                let runner = ready.build_and_run(mode).ok()?;
                Some((ready.target.clone(), runner.to_vec()))
            })
            .collect()
    }

    fn build_and_run_on(
        program: &Program,
        target: &Target,
        mode: LinkMode,
        runner: &[String],
    ) -> Output {
        let (_dir, exe) = build_in_temp_dir(program, target, mode);
        let mut command = match runner.split_first() {
            Some((emulator, args)) => {
                let mut command = Command::new(emulator);
                command.args(args).arg(&exe);
                command
            }
            None => Command::new(&exe),
        };
        command
            .output()
            .unwrap_or_else(|e| panic!("running the {target} executable failed: {e}"))
    }

    /// Builds `program` into a new temporary directory, which the caller keeps alive.
    fn build_in_temp_dir(
        program: &Program,
        target: &Target,
        mode: LinkMode,
    ) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let exe = dir.path().join("program");
        let options = BuildOptions {
            output: exe.clone(),
            target: Some(target.name.to_string()),
            link_mode: mode,
        };
        build(program, &options)
            .unwrap_or_else(|e| panic!("{mode:?} build for {target} failed: {e}"));
        (dir, exe)
    }

    /// The ELF header's machine field and whether the program headers ask for an interpreter
    /// (the dynamic loader), read from a 64-bit little-endian executable.
    fn elf_machine_and_interpreter(exe: &Path) -> (u16, bool) {
        let bytes = fs::read(exe).expect("read executable");
        assert!(
            bytes.starts_with(b"\x7fELF\x02\x01"),
            "64-bit little-endian ELF"
        );
        let u16_at = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]);
        let u32_at = |at: usize| {
            u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let u64_at = |at: usize| {
            let mut word = [0; 8];
            word.copy_from_slice(&bytes[at..at + 8]);
            u64::from_le_bytes(word)
        };
        const PT_INTERP: u32 = 3;
        let (table, entry_size, count) = (u64_at(0x20) as usize, u16_at(0x36), u16_at(0x38));
        let has_interpreter = (0..usize::from(count)).any(|index| {
            let at = table + index * usize::from(entry_size);
            u32_at(at) == PT_INTERP
        });
        (u16_at(0x12), has_interpreter)
    }

    /// The ELF machine number of a target's executables.
    fn elf_machine(target: &Target) -> u16 {
        match target.arch() {
            "x86_64" => 62,
            "aarch64" => 183,
            other => panic!("no ELF machine number for {other}"),
        }
    }

    #[test]
    fn executables_are_for_their_target_and_static_ones_have_no_loader() {
        let host = Target::host().expect("tests run on a supported host");
        let mut builds = vec![(host.clone(), LinkMode::Dynamic)];
        if readiness::Readiness::of(host.clone())
            .build_and_run(LinkMode::Static)
            .is_ok()
        {
            builds.push((host, LinkMode::Static));
        }
        for mode in [LinkMode::Dynamic, LinkMode::Static] {
            builds.extend(cross_targets(mode).into_iter().map(|(t, _)| (t, mode)));
        }
        for (target, mode) in builds {
            let (_dir, exe) = build_in_temp_dir(&overflow_program(), &target, mode);
            let (machine, has_interpreter) = elf_machine_and_interpreter(&exe);
            assert_eq!(machine, elf_machine(&target), "{target} {mode:?}");
            assert_eq!(
                has_interpreter,
                mode == LinkMode::Dynamic,
                "{target} {mode:?}"
            );
        }
    }

    #[test]
    fn static_executables_behave_like_dynamic_ones() {
        let program = overflow_program();
        let host = Target::host().expect("tests run on a supported host");
        let expected = build_and_run_on(&program, &host, LinkMode::Dynamic, &[]);
        let mut runs = cross_targets(LinkMode::Static);
        if readiness::Readiness::of(host.clone())
            .build_and_run(LinkMode::Static)
            .is_ok()
        {
            runs.push((host, Vec::new()));
        }
        for (target, runner) in runs {
            let output = build_and_run_on(&program, &target, LinkMode::Static, &runner);
            assert_eq!(output.stdout, expected.stdout, "stdout on {target}");
            assert_eq!(output.stderr, expected.stderr, "stderr on {target}");
            assert_eq!(output.status.code(), Some(1), "status on {target}");
        }
    }

    fn text(bytes: &[u8]) -> &str {
        std::str::from_utf8(bytes).expect("UTF-8 output")
    }

    #[test]
    fn prints_every_type_and_exits_zero() {
        let program = Program {
            functions: vec![main_function(
                vec![local(Ty::Int)],
                vec![Block {
                    insts: vec![
                        Inst::Copy {
                            dst: Local(0),
                            src: Operand::Int(i64::MIN),
                        },
                        print(Operand::Local(Local(0)), Ty::Int),
                        print(Operand::Int(42), Ty::Int),
                        print(Operand::Bool(true), Ty::Bool),
                        print(Operand::Bool(false), Ty::Bool),
                        print(Operand::Str(StrId(0)), Ty::Str),
                        Inst::Print {
                            value: Operand::Str(StrId(1)),
                            ty: Ty::Str,
                            newline: false,
                            stream: Stream::Stdout,
                        },
                        print(Operand::Str(StrId(1)), Ty::Str),
                        Inst::Print {
                            value: Operand::Str(StrId(0)),
                            ty: Ty::Str,
                            newline: true,
                            stream: Stream::Stderr,
                        },
                    ],
                    term: Term::Return(None),
                    handler: None,
                }],
            )],
            entry: FuncId(0),
            strings: vec!["héllo, world".into(), "".into()],
            sites: vec![],
            arrays: Vec::new(),
            structs: Vec::new(),
        };
        let output = build_and_run(&program);
        assert_eq!(
            text(&output.stdout),
            "-9223372036854775808\n42\ntrue\nfalse\nhéllo, world\n\n"
        );
        assert_eq!(text(&output.stderr), "héllo, world\n");
        assert_eq!(output.status.code(), Some(0));
    }

    #[test]
    fn recursive_fib_prints_its_result() {
        let s = SiteId(0);
        let n = Operand::Local(Local(0));
        let fib = Function {
            name: "fib".into(),
            param_count: 1,
            ret: Ty::Int,
            locals: vec![
                local(Ty::Int),
                local(Ty::Bool),
                local(Ty::Int),
                local(Ty::Int),
            ],
            blocks: vec![
                Block {
                    insts: vec![Inst::Binary {
                        dst: Local(1),
                        op: BinaryOp::LtInt,
                        lhs: n,
                        rhs: Operand::Int(2),
                        site: s,
                    }],
                    term: Term::Branch {
                        cond: Operand::Local(Local(1)),
                        then_to: BlockId(1),
                        else_to: BlockId(2),
                    },
                    handler: None,
                },
                Block {
                    insts: vec![],
                    term: Term::Return(Some(n)),
                    handler: None,
                },
                Block {
                    insts: vec![
                        Inst::Binary {
                            dst: Local(2),
                            op: BinaryOp::SubInt,
                            lhs: n,
                            rhs: Operand::Int(1),
                            site: s,
                        },
                        Inst::Call {
                            dst: Some(Local(2)),
                            func: FuncId(1),
                            args: vec![Operand::Local(Local(2))],
                            site: s,
                        },
                        Inst::Binary {
                            dst: Local(3),
                            op: BinaryOp::SubInt,
                            lhs: n,
                            rhs: Operand::Int(2),
                            site: s,
                        },
                        Inst::Call {
                            dst: Some(Local(3)),
                            func: FuncId(1),
                            args: vec![Operand::Local(Local(3))],
                            site: s,
                        },
                        Inst::Binary {
                            dst: Local(2),
                            op: BinaryOp::AddInt,
                            lhs: Operand::Local(Local(2)),
                            rhs: Operand::Local(Local(3)),
                            site: s,
                        },
                    ],
                    term: Term::Return(Some(Operand::Local(Local(2)))),
                    handler: None,
                },
            ],
        };
        let main = main_function(
            vec![local(Ty::Int)],
            vec![Block {
                insts: vec![
                    Inst::Call {
                        dst: Some(Local(0)),
                        func: FuncId(1),
                        args: vec![Operand::Int(25)],
                        site: s,
                    },
                    print(Operand::Local(Local(0)), Ty::Int),
                ],
                term: Term::Return(None),
                handler: None,
            }],
        );
        let program = Program {
            functions: vec![main, fib],
            entry: FuncId(0),
            strings: vec![],
            sites: vec![Site {
                file: "fib.kl".into(),
                line: 3,
                col: 12,
            }],
            arrays: Vec::new(),
            structs: Vec::new(),
        };
        let output = build_and_run(&program);
        assert_eq!(text(&output.stdout), "75025\n");
        assert_eq!(output.status.code(), Some(0));
    }

    /// `print("before"); let x = 9223372036854775807; println(x + 1);`
    fn overflow_program() -> Program {
        Program {
            functions: vec![main_function(
                vec![local(Ty::Int)],
                vec![Block {
                    insts: vec![
                        Inst::Print {
                            value: Operand::Str(StrId(0)),
                            ty: Ty::Str,
                            newline: true,
                            stream: Stream::Stdout,
                        },
                        Inst::Copy {
                            dst: Local(0),
                            src: Operand::Int(i64::MAX),
                        },
                        Inst::Binary {
                            dst: Local(0),
                            op: BinaryOp::AddInt,
                            lhs: Operand::Local(Local(0)),
                            rhs: Operand::Int(1),
                            site: SiteId(1),
                        },
                        print(Operand::Local(Local(0)), Ty::Int),
                    ],
                    term: Term::Return(None),
                    handler: None,
                }],
            )],
            entry: FuncId(0),
            strings: vec!["before".into()],
            sites: vec![
                Site {
                    file: "other.kl".into(),
                    line: 1,
                    col: 1,
                },
                Site {
                    file: "overflow.kl".into(),
                    line: 2,
                    col: 9,
                },
            ],
            arrays: Vec::new(),
            structs: Vec::new(),
        }
    }

    #[test]
    fn overflow_faults_with_the_exact_message() {
        let output = build_and_run(&overflow_program());
        assert_eq!(text(&output.stdout), "before\n");
        assert_eq!(
            text(&output.stderr),
            "overflow.kl:2:9: integer overflow: 9223372036854775807 + 1 does not fit in int\n"
        );
        assert_eq!(output.status.code(), Some(1));
    }

    /// `fn div(int a, int b) -> int { return a / b; }` etc., called from main with the given
    /// constants hidden behind a call so nothing folds.
    fn fault_program(op: BinaryOp, a: i64, b: i64) -> Program {
        let s = SiteId(0);
        let f = Function {
            name: "f".into(),
            param_count: 2,
            ret: Ty::Int,
            locals: vec![local(Ty::Int), local(Ty::Int)],
            blocks: vec![Block {
                insts: vec![Inst::Binary {
                    dst: Local(0),
                    op,
                    lhs: Operand::Local(Local(0)),
                    rhs: Operand::Local(Local(1)),
                    site: s,
                }],
                term: Term::Return(Some(Operand::Local(Local(0)))),
                handler: None,
            }],
        };
        let main = main_function(
            vec![local(Ty::Int)],
            vec![Block {
                insts: vec![
                    Inst::Call {
                        dst: Some(Local(0)),
                        func: FuncId(1),
                        args: vec![Operand::Int(a), Operand::Int(b)],
                        site: s,
                    },
                    print(Operand::Local(Local(0)), Ty::Int),
                ],
                term: Term::Return(None),
                handler: None,
            }],
        );
        Program {
            functions: vec![main, f],
            entry: FuncId(0),
            strings: vec![],
            sites: vec![Site {
                file: "f.kl".into(),
                line: 4,
                col: 2,
            }],
            arrays: Vec::new(),
            structs: Vec::new(),
        }
    }

    #[test]
    fn integer_faults_and_their_boundaries() {
        let cases: &[(BinaryOp, i64, i64, &str, &str)] = &[
            (
                BinaryOp::DivInt,
                7,
                0,
                "",
                "f.kl:4:2: division by zero: 7 / 0\n",
            ),
            (
                BinaryOp::RemInt,
                7,
                0,
                "",
                "f.kl:4:2: division by zero: 7 % 0\n",
            ),
            (
                BinaryOp::DivInt,
                i64::MIN,
                -1,
                "",
                "f.kl:4:2: integer overflow: -9223372036854775808 / -1 does not fit in int\n",
            ),
            (BinaryOp::RemInt, i64::MIN, -1, "0\n", ""),
            (
                BinaryOp::MulInt,
                i64::MAX,
                2,
                "",
                "f.kl:4:2: integer overflow: 9223372036854775807 * 2 does not fit in int\n",
            ),
            (
                BinaryOp::SubInt,
                i64::MIN,
                1,
                "",
                "f.kl:4:2: integer overflow: -9223372036854775808 - 1 does not fit in int\n",
            ),
            (
                BinaryOp::Shl,
                1,
                64,
                "",
                "f.kl:4:2: integer overflow: 1 << 64: shift amount must be in 0..64\n",
            ),
            (
                BinaryOp::Shr,
                1,
                -1,
                "",
                "f.kl:4:2: integer overflow: 1 >> -1: shift amount must be in 0..64\n",
            ),
            (BinaryOp::Shr, -8, 1, "-4\n", ""),
        ];
        for &(op, a, b, stdout, stderr) in cases {
            let output = build_and_run(&fault_program(op, a, b));
            assert_eq!(text(&output.stdout), stdout, "{op:?} {a} {b}");
            assert_eq!(text(&output.stderr), stderr, "{op:?} {a} {b}");
            assert_eq!(
                output.status.code(),
                Some(if stderr.is_empty() { 0 } else { 1 }),
                "{op:?} {a} {b}"
            );
        }
    }

    /// `fn f(int x) -> int { return <lhs> <op> <rhs>; } println(f(x));` where an operand is
    /// either `x` or a constant, so the lowering sees the constant but nothing folds.
    fn operand_program(op: Option<BinaryOp>, lhs: Operand, rhs: Operand, x: i64) -> Program {
        let s = SiteId(0);
        let inst = match op {
            Some(op) => Inst::Binary {
                dst: Local(1),
                op,
                lhs,
                rhs,
                site: s,
            },
            None => Inst::Unary {
                dst: Local(1),
                op: crate::ir::UnaryOp::NegInt,
                src: lhs,
                site: s,
            },
        };
        let f = Function {
            name: "f".into(),
            param_count: 1,
            ret: Ty::Int,
            locals: vec![local(Ty::Int), local(Ty::Int)],
            blocks: vec![Block {
                insts: vec![inst],
                term: Term::Return(Some(Operand::Local(Local(1)))),
                handler: None,
            }],
        };
        let main = main_function(
            vec![local(Ty::Int)],
            vec![Block {
                insts: vec![
                    Inst::Call {
                        dst: Some(Local(0)),
                        func: FuncId(1),
                        args: vec![Operand::Int(x)],
                        site: s,
                    },
                    print(Operand::Local(Local(0)), Ty::Int),
                ],
                term: Term::Return(None),
                handler: None,
            }],
        );
        Program {
            functions: vec![main, f],
            entry: FuncId(0),
            strings: vec![],
            sites: vec![Site {
                file: "c.kl".into(),
                line: 7,
                col: 5,
            }],
            arrays: Vec::new(),
            structs: Vec::new(),
        }
    }

    /// An operation (`None`: negation), its operands, the value of `x`, and the printed result or
    /// the fault message.
    type OperandCase = (Option<BinaryOp>, Operand, Operand, i64, Result<i64, String>);

    #[test]
    fn checks_specialised_for_constant_operands() {
        use BinaryOp::*;
        let x = Operand::Local(Local(0));
        let int = Operand::Int;
        let fits = "does not fit in int";
        let (max, min) = (i64::MAX, i64::MIN);
        let cases: Vec<OperandCase> = vec![
            (Some(AddInt), x, int(1), max - 1, Ok(max)),
            (
                Some(AddInt),
                x,
                int(1),
                max,
                Err(format!("integer overflow: {max} + 1 {fits}")),
            ),
            (
                Some(AddInt),
                int(1),
                x,
                max,
                Err(format!("integer overflow: 1 + {max} {fits}")),
            ),
            (Some(AddInt), x, int(-1), min + 1, Ok(min)),
            (
                Some(AddInt),
                x,
                int(-1),
                min,
                Err(format!("integer overflow: {min} + -1 {fits}")),
            ),
            (Some(AddInt), x, int(0), max, Ok(max)),
            (Some(SubInt), x, int(1), min + 1, Ok(min)),
            (
                Some(SubInt),
                x,
                int(1),
                min,
                Err(format!("integer overflow: {min} - 1 {fits}")),
            ),
            (
                Some(SubInt),
                x,
                int(-1),
                max,
                Err(format!("integer overflow: {max} - -1 {fits}")),
            ),
            (Some(SubInt), x, int(min), -1, Ok(max)),
            (
                Some(SubInt),
                x,
                int(min),
                0,
                Err(format!("integer overflow: 0 - {min} {fits}")),
            ),
            (
                Some(SubInt),
                int(0),
                x,
                min,
                Err(format!("integer overflow: 0 - {min} {fits}")),
            ),
            (
                Some(DivInt),
                x,
                int(0),
                5,
                Err("division by zero: 5 / 0".into()),
            ),
            (
                Some(DivInt),
                x,
                int(-1),
                min,
                Err(format!("integer overflow: {min} / -1 {fits}")),
            ),
            (Some(DivInt), x, int(-1), max, Ok(-max)),
            (
                Some(DivInt),
                int(min),
                x,
                -1,
                Err(format!("integer overflow: {min} / -1 {fits}")),
            ),
            (Some(DivInt), x, int(7), -50, Ok(-7)),
            (
                Some(RemInt),
                x,
                int(0),
                5,
                Err("division by zero: 5 % 0".into()),
            ),
            (Some(RemInt), x, int(-1), min, Ok(0)),
            (Some(RemInt), x, int(7), -50, Ok(-1)),
            (
                Some(Shl),
                x,
                int(64),
                1,
                Err("integer overflow: 1 << 64: shift amount must be in 0..64".into()),
            ),
            (Some(Shl), x, int(63), 1, Ok(min)),
            (Some(Shr), int(-64), x, 3, Ok(-8)),
            (
                Some(Shr),
                int(-64),
                x,
                -3,
                Err("integer overflow: -64 >> -3: shift amount must be in 0..64".into()),
            ),
            (
                None,
                x,
                x,
                min,
                Err(format!("integer overflow: -({min}) {fits}")),
            ),
            (None, x, x, max, Ok(-max)),
        ];
        for (op, lhs, rhs, value, expected) in cases {
            let output = build_and_run(&operand_program(op, lhs, rhs, value));
            let what = format!("{op:?} {lhs:?} {rhs:?} with x = {value}");
            match expected {
                Ok(result) => {
                    assert_eq!(text(&output.stdout), format!("{result}\n"), "{what}");
                    assert_eq!(output.status.code(), Some(0), "{what}");
                }
                Err(message) => {
                    assert_eq!(
                        text(&output.stderr),
                        format!("c.kl:7:5: {message}\n"),
                        "{what}"
                    );
                    assert_eq!(output.status.code(), Some(1), "{what}");
                }
            }
        }
    }

    #[test]
    fn exit_flushes_and_sets_the_status() {
        let program = Program {
            functions: vec![main_function(
                vec![],
                vec![Block {
                    insts: vec![print(Operand::Int(1), Ty::Int)],
                    term: Term::Exit(Operand::Int(300)),
                    handler: None,
                }],
            )],
            entry: FuncId(0),
            strings: vec![],
            sites: vec![],
            arrays: Vec::new(),
            structs: Vec::new(),
        };
        let output = build_and_run(&program);
        assert_eq!(text(&output.stdout), "1\n");
        assert_eq!(output.status.code(), Some(300 & 0xff));
    }

    #[test]
    fn unknown_target_is_a_clear_error() {
        let options = BuildOptions {
            output: PathBuf::from("/nonexistent/x"),
            target: Some("mips-unknown-linux-gnu".into()),
            link_mode: LinkMode::Dynamic,
        };
        let error = build(&overflow_program(), &options).expect_err("unsupported target");
        assert!(error.contains("not supported"), "{error}");
    }

    #[test]
    fn missing_output_directory_is_a_clear_error() {
        let options = BuildOptions {
            output: PathBuf::from("/nonexistent-dir/for/sure/x"),
            target: None,
            link_mode: LinkMode::Static,
        };
        let error = build(&overflow_program(), &options).expect_err("cannot write output");
        assert_eq!(
            error,
            "cannot write the executable `/nonexistent-dir/for/sure/x`: the directory \
             `/nonexistent-dir/for/sure` does not exist"
        );
    }

    #[test]
    fn bare_file_names_go_to_the_current_directory() {
        assert_eq!(check_output_directory(Path::new("program")), Ok(()));
    }
}
