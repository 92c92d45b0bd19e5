//! Keel: a compiler for a small, statically typed language with one typed IR and three backends.
//!
//! The pipeline (see `docs/architecture.md`): [`syntax`] turns source into an AST, [`sema`] resolves
//! names, checks types and lowers the AST to the [`ir`], and each backend consumes only the IR:
//! [`vm`] (register bytecode interpreter), [`jit`] (Cranelift, in-process) and [`aot`] (Cranelift
//! object file linked with the runtime into a native executable). [`codegen`] is the Cranelift
//! lowering the JIT and AOT drivers share. [`driver`] is the command-line interface, [`repl`] the interactive session, [`embed`] the
//! library API for running Keel inside a Rust program, [`timing`] the `--time-passes` report.
//!
//! The library does no I/O of its own except in [`driver`] and in the backends' run/build entry
//! points; every error of the front end is a [`diag::Diagnostic`].

pub mod aot;
pub mod codegen;
pub mod diag;
pub mod driver;
pub mod embed;
pub mod ir;
pub mod jit;
pub mod repl;
pub mod sema;
pub mod syntax;
pub mod timing;
pub mod vm;
