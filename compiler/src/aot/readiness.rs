//! What this `keel` can build and run for each supported target on this machine: whether the
//! target's runtime libraries are built in, which ELF linker links freestanding executables (the
//! default), which C compiler driver links `--libc` ones, whether `--static` works (the target's
//! `libc.a` is there), and how the executables run here (directly, or under qemu-user). `keel
//! targets` prints it; the program-suite harness skips what cannot work.
//!
//! What this module does not do: print anything, or build anything (it asks the C compiler
//! driver where `libc.a` is, nothing more).

use std::fmt;
use std::path::PathBuf;

use super::link::{self, ElfLinker, LinkMode, Linker};
use super::runtime_lib;
use super::target::{Target, SUPPORTED};

/// The facts about one target on this machine.
#[derive(Clone, Debug)]
pub struct Readiness {
    pub target: Target,
    /// Whether the freestanding runtime library for the target is built into this `keel`.
    pub runtime: Result<(), String>,
    /// Whether the runtime library for `--libc` executables is.
    pub libc_runtime: Result<(), String>,
    /// The ELF linker of freestanding executables (the same for every target).
    pub elf_linker: Result<ElfLinker, String>,
    /// The C compiler driver that links `--libc` executables for the target.
    pub linker: Result<Linker, String>,
    /// The target's static C library, which `--static` needs.
    pub static_libc: Result<PathBuf, String>,
    /// How dynamically linked executables run here.
    pub dynamic_runner: Result<Vec<String>, String>,
    /// How statically linked executables run here.
    pub static_runner: Result<Vec<String>, String>,
}

/// The first thing missing for building or running a target's executables here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gap {
    /// No runtime library for the target in this `keel`.
    Runtime(String),
    /// No ELF linker (freestanding executables).
    ElfLinker(String),
    /// No C compiler driver for the target.
    Linker(String),
    /// No static C library for the target (only `--static` needs it).
    StaticLibc(String),
    /// Executables for the target cannot run on this machine.
    Runner(String),
}

impl Gap {
    /// A few words naming what is missing, e.g. for a skipped test.
    pub fn summary(&self) -> &'static str {
        match self {
            Gap::Runtime(_) => "no runtime library",
            Gap::ElfLinker(_) => "no ELF linker",
            Gap::Linker(_) => "no C compiler driver",
            Gap::StaticLibc(_) => "no static libc",
            Gap::Runner(_) => "cannot run here",
        }
    }

    /// The full explanation, with what to install.
    pub fn reason(&self) -> &str {
        match self {
            Gap::Runtime(reason)
            | Gap::ElfLinker(reason)
            | Gap::Linker(reason)
            | Gap::StaticLibc(reason)
            | Gap::Runner(reason) => reason,
        }
    }
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.summary(), self.reason())
    }
}

impl Readiness {
    /// Looks at what this machine has for `target`.
    pub fn of(target: Target) -> Readiness {
        let linker = link::find_linker(&target);
        let static_libc = match &linker {
            Ok(_) => link::find_static_libc(&target),
            Err(reason) => Err(reason.clone()),
        };
        Readiness {
            runtime: runtime_lib::for_target(&target, LinkMode::Freestanding).map(|_| ()),
            libc_runtime: runtime_lib::for_target(&target, LinkMode::Dynamic).map(|_| ()),
            elf_linker: link::find_elf_linker(),
            linker,
            static_libc,
            dynamic_runner: target.runner(LinkMode::Dynamic),
            static_runner: target.runner(LinkMode::Static),
            target,
        }
    }

    /// Whether `keel build --target` (freestanding) works for this target here (runtime and
    /// ELF linker present).
    pub fn can_build(&self) -> bool {
        self.runtime.is_ok() && self.elf_linker.is_ok()
    }

    /// The command prefix that runs this target's executables linked with `mode` here, once
    /// they are built; or the first thing missing for building or running them.
    pub fn build_and_run(&self, mode: LinkMode) -> Result<&[String], Gap> {
        if mode == LinkMode::Freestanding {
            self.runtime.clone().map_err(Gap::Runtime)?;
            self.elf_linker
                .as_ref()
                .map_err(|e| Gap::ElfLinker(e.clone()))?;
        } else {
            self.libc_runtime.clone().map_err(Gap::Runtime)?;
            self.linker.as_ref().map_err(|e| Gap::Linker(e.clone()))?;
        }
        let runner = match mode {
            LinkMode::Dynamic => &self.dynamic_runner,
            LinkMode::Freestanding => &self.static_runner,
            LinkMode::Static => {
                self.static_libc
                    .as_ref()
                    .map_err(|e| Gap::StaticLibc(e.clone()))?;
                &self.static_runner
            }
        };
        runner
            .as_ref()
            .map(Vec::as_slice)
            .map_err(|e| Gap::Runner(e.clone()))
    }
}

/// Every supported target, the host first.
pub fn all() -> Vec<Readiness> {
    let mut targets: Vec<Target> = SUPPORTED
        .iter()
        .filter_map(|name| Target::parse(name).ok())
        .collect();
    targets.sort_by_key(|target| !target.is_host());
    targets.into_iter().map(Readiness::of).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_supported_target_is_listed_host_first() {
        let all = all();
        assert_eq!(all.len(), SUPPORTED.len());
        let host = Target::host().expect("tests run on a supported host");
        assert_eq!(all[0].target, host);
    }

    #[test]
    fn the_host_can_build_and_runs_its_executables_directly() {
        let host = Readiness::of(Target::host().expect("tests run on a supported host"));
        assert_eq!(host.runtime, Ok(()));
        assert_eq!(host.libc_runtime, Ok(()));
        assert_eq!(host.dynamic_runner, Ok(Vec::new()));
        assert_eq!(host.static_runner, Ok(Vec::new()));
        if host.elf_linker.is_ok() {
            assert!(host.can_build());
            assert_eq!(host.build_and_run(LinkMode::Freestanding), Ok(&[][..]));
        }
        if host.linker.is_ok() {
            assert_eq!(host.build_and_run(LinkMode::Dynamic), Ok(&[][..]));
        }
    }

    #[test]
    fn the_first_gap_is_reported_in_build_order() {
        let mut readiness = Readiness::of(Target::host().expect("supported host"));
        readiness.libc_runtime = Err("no runtime".into());
        readiness.linker = Err("no linker".into());
        let gap = readiness.build_and_run(LinkMode::Static).expect_err("gap");
        assert_eq!(gap, Gap::Runtime("no runtime".into()));
        readiness.libc_runtime = Ok(());
        let gap = readiness.build_and_run(LinkMode::Dynamic).expect_err("gap");
        assert_eq!(gap.summary(), "no C compiler driver");
        assert_eq!(gap.reason(), "no linker");
        // Freestanding executables need neither.
        if readiness.elf_linker.is_ok() {
            assert!(readiness.can_build());
        }
        readiness.elf_linker = Err("no lld".into());
        let gap = readiness
            .build_and_run(LinkMode::Freestanding)
            .expect_err("gap");
        assert_eq!(gap.summary(), "no ELF linker");
        assert!(!readiness.can_build());
    }

    #[test]
    fn static_libc_is_needed_only_for_static_links() {
        let mut readiness = Readiness::of(Target::host().expect("supported host"));
        if readiness.linker.is_err() {
            return;
        }
        readiness.static_libc = Err("no libc.a".into());
        assert_eq!(readiness.build_and_run(LinkMode::Dynamic), Ok(&[][..]));
        assert_eq!(
            readiness.build_and_run(LinkMode::Static),
            Err(Gap::StaticLibc("no libc.a".into()))
        );
    }
}
