//! Target ISAs with Keel's code-generation settings.
//!
//! Both drivers optimise for speed (`opt_level=speed`) and probe large stack frames inline
//! (`probestack_strategy=inline`), so no frame ever calls a `__cranelift_probestack` helper that
//! would not link. They differ in two ways: the JIT compiles for this very machine (its CPU
//! features, absolute addresses, `is_pic=false`), while native executables are position
//! independent (`is_pic=true`, for PIE) and use the target's baseline features, so they run on
//! any machine of the architecture. The Cranelift verifier runs inside `define_function` in debug
//! builds only.
//!
//! Functions too large for the optimiser (whose cost grows with the square of their length) are
//! compiled with an [`unoptimized`] copy of the ISA.
//!
//! What this module does not do: decide which targets Keel supports (that is `aot::target`).

use cranelift_codegen::isa::{self, OwnedTargetIsa, TargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use target_lexicon::Triple;

use super::CodegenError;

/// Whether the code will run in this process or be linked into an executable.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Driver {
    Jit,
    Aot,
}

fn flags(driver: Driver) -> Result<settings::Flags, CodegenError> {
    let mut builder = settings::builder();
    let verifier = if cfg!(debug_assertions) {
        "true"
    } else {
        "false"
    };
    let pic = if driver == Driver::Aot {
        "true"
    } else {
        "false"
    };
    let settings = [
        ("opt_level", "speed"),
        ("enable_verifier", verifier),
        ("is_pic", pic),
        // JIT code may land far from the runtime functions it calls: no near-call assumptions.
        ("use_colocated_libcalls", "false"),
        ("enable_probestack", "true"),
        ("probestack_strategy", "inline"),
    ];
    for (name, value) in settings {
        builder
            .set(name, value)
            .map_err(|e| CodegenError::general(format!("setting {name}={value}: {e}")))?;
    }
    Ok(settings::Flags::new(builder))
}

/// The ISA of the machine this compiler runs on, with its CPU features, for the JIT.
pub fn jit_isa() -> Result<OwnedTargetIsa, CodegenError> {
    let builder = cranelift_native::builder().map_err(|e| {
        CodegenError::general(format!("the JIT does not support this machine: {e}"))
    })?;
    builder
        .finish(flags(Driver::Jit)?)
        .map_err(|e| CodegenError::general(format!("building the host ISA: {e}")))
}

/// The ISA for `triple` with baseline CPU features and position-independent code, for native
/// executables.
pub fn aot_isa(triple: Triple) -> Result<OwnedTargetIsa, CodegenError> {
    let name = triple.to_string();
    let builder = isa::lookup(triple)
        .map_err(|e| CodegenError::general(format!("no code generator for target {name}: {e}")))?;
    builder
        .finish(flags(Driver::Aot)?)
        .map_err(|e| CodegenError::general(format!("building the ISA for target {name}: {e}")))
}

/// A copy of `isa` (same target, CPU features and settings) that does not optimise, for
/// functions too large for the optimiser (see `codegen::lower_program`).
pub fn unoptimized(isa: &dyn TargetIsa) -> Result<OwnedTargetIsa, CodegenError> {
    let error = |e: &dyn std::fmt::Display| {
        CodegenError::general(format!("building an unoptimised ISA: {e}"))
    };
    let mut builder = isa::lookup(isa.triple().clone()).map_err(|e| error(&e))?;
    for value in isa.isa_flags() {
        builder
            .set(value.name, &value.value_string())
            .map_err(|e| error(&e))?;
    }
    let mut shared = settings::builder();
    for value in isa.flags().iter() {
        let text = if value.name == "opt_level" {
            "none".to_string()
        } else {
            value.value_string()
        };
        shared.set(value.name, &text).map_err(|e| error(&e))?;
    }
    builder
        .finish(settings::Flags::new(shared))
        .map_err(|e| error(&e))
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    #[test]
    fn aot_isas_exist_for_both_linux_targets() {
        for name in ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"] {
            let triple = Triple::from_str(name).expect("valid triple");
            let isa = aot_isa(triple).expect("ISA available");
            assert!(isa.flags().is_pic());
            assert_eq!(isa.flags().opt_level(), settings::OptLevel::Speed);
        }
    }

    #[test]
    fn unoptimized_copies_keep_everything_but_the_opt_level() {
        for isa in [
            jit_isa().expect("host ISA"),
            aot_isa(Triple::from_str("aarch64-unknown-linux-gnu").expect("triple"))
                .expect("ISA available"),
        ] {
            let copy = unoptimized(&*isa).expect("copy");
            assert_eq!(copy.flags().opt_level(), settings::OptLevel::None);
            assert_eq!(copy.flags().is_pic(), isa.flags().is_pic());
            assert_eq!(copy.triple(), isa.triple());
            let features = |isa: &dyn TargetIsa| -> Vec<String> {
                isa.isa_flags().iter().map(|v| v.to_string()).collect()
            };
            assert_eq!(features(&*copy), features(&*isa));
        }
    }

    #[test]
    fn jit_isa_is_not_pic() {
        let isa = jit_isa().expect("host ISA");
        assert!(!isa.flags().is_pic());
    }
}
