//! The targets `keel build` can produce executables for, and parsing of `--target`.
//!
//! A target is named by its Rust triple (`x86_64-unknown-linux-gnu`,
//! `aarch64-unknown-linux-gnu`): the same name picks the Cranelift ISA, the runtime library built
//! into `keel`, and the C compiler driver that links (the `cc` crate's rules, `CC_<triple>`).
//! Spellings target-lexicon understands for the same platform (`aarch64-linux-gnu`,
//! `arm64-unknown-linux-gnu`) are accepted and normalised.
//!
//! What this module does not do: check that a runtime or a linker exists for the target.
//! [`Target::runner`] says how to run a target's executables here (qemu-user for a foreign
//! architecture), for `keel targets` and the tests.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use target_lexicon::{Architecture, Environment, OperatingSystem, Triple};

use super::link::LinkMode;

/// Rust triples of the supported targets.
pub const SUPPORTED: &[&str] = &["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"];

/// A supported target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The canonical Rust triple, one of [`SUPPORTED`].
    pub name: &'static str,
    pub triple: Triple,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl Target {
    /// `--target`'s value, or the host when it is absent.
    pub fn resolve(requested: Option<&str>) -> Result<Target, String> {
        match requested {
            Some(text) => Target::parse(text),
            None => Target::host(),
        }
    }

    /// The machine this compiler was built for.
    pub fn host() -> Result<Target, String> {
        let host = Triple::host();
        Target::from_triple(&host).ok_or_else(|| {
            format!(
                "native executables cannot be built on this machine ({host}) yet; supported targets \
                 are {}",
                SUPPORTED.join(", ")
            )
        })
    }

    /// Parses a target triple given by the user.
    pub fn parse(text: &str) -> Result<Target, String> {
        let supported = SUPPORTED.join(", ");
        let triple = Triple::from_str(text.trim()).map_err(|e| {
            format!("unknown target `{text}` ({e}); supported targets are {supported}")
        })?;
        Target::from_triple(&triple).ok_or_else(|| {
            format!("target `{text}` is not supported; supported targets are {supported}")
        })
    }

    /// Whether executables for this target run on the machine this compiler was built for.
    pub fn is_host(&self) -> bool {
        Target::host().is_ok_and(|host| host.name == self.name)
    }

    /// The architecture part of the triple (`x86_64`, `aarch64`), as qemu and Debian name it.
    pub fn arch(&self) -> &'static str {
        self.name.split('-').next().unwrap_or(self.name)
    }

    /// The Debian/Ubuntu packages that cross-link for this target from another architecture:
    /// its C compiler driver and its C library (shared and static).
    pub fn cross_packages(&self) -> &'static str {
        match self.arch() {
            "aarch64" => "gcc-aarch64-linux-gnu libc6-dev-arm64-cross",
            _ => "gcc-x86-64-linux-gnu libc6-dev-amd64-cross",
        }
    }

    /// The command prefix that runs this target's executables here: empty on the host; for
    /// another architecture `qemu-<arch>`, and for a dynamically linked executable also
    /// `-L /usr/<arch>-linux-gnu`, the target's C library in the Debian layout. Or why they
    /// cannot run here.
    pub fn runner(&self, mode: LinkMode) -> Result<Vec<String>, String> {
        if self.is_host() {
            return Ok(Vec::new());
        }
        let arch = self.arch();
        let qemu = format!("qemu-{arch}");
        if super::link::find_program(Path::new(&qemu)).is_none() {
            return Err(format!(
                "{qemu} is not installed (Debian/Ubuntu: `apt-get install qemu-user`)"
            ));
        }
        if mode != LinkMode::Dynamic {
            return Ok(vec![qemu]);
        }
        let sysroot = format!("/usr/{arch}-linux-gnu");
        if !Path::new(&sysroot).join("lib").is_dir() {
            return Err(format!(
                "{qemu} needs {arch}'s shared C library in {sysroot} (Debian/Ubuntu: \
                 `apt-get install {}`), or build without --libc",
                self.cross_packages()
            ));
        }
        Ok(vec![qemu, "-L".to_string(), sysroot])
    }

    fn from_triple(triple: &Triple) -> Option<Target> {
        let linux_gnu = triple.operating_system == OperatingSystem::Linux
            && triple.environment == Environment::Gnu;
        if !linux_gnu {
            return None;
        }
        let name = match triple.architecture {
            Architecture::X86_64 => SUPPORTED[0],
            Architecture::Aarch64(_) => SUPPORTED[1],
            _ => return None,
        };
        let triple = Triple::from_str(name).ok()?;
        Some(Target { name, triple })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_names_parse_to_themselves() {
        for name in SUPPORTED {
            assert_eq!(Target::parse(name).map(|t| t.name), Ok(*name));
        }
    }

    #[test]
    fn other_spellings_are_normalised() {
        assert_eq!(
            Target::parse("aarch64-linux-gnu").map(|t| t.name),
            Ok("aarch64-unknown-linux-gnu")
        );
        assert_eq!(
            Target::parse("arm64-unknown-linux-gnu").map(|t| t.name),
            Ok("aarch64-unknown-linux-gnu")
        );
    }

    #[test]
    fn unsupported_targets_say_what_is_supported() {
        let error = Target::parse("riscv64gc-unknown-linux-gnu").expect_err("unsupported");
        assert!(error.contains("is not supported"), "{error}");
        assert!(error.contains("aarch64-unknown-linux-gnu"), "{error}");
        let error = Target::parse("x86_64-unknown-linux-musl").expect_err("unsupported");
        assert!(error.contains("is not supported"), "{error}");
        let error = Target::parse("bogus").expect_err("unknown");
        assert!(error.starts_with("unknown target `bogus`"), "{error}");
    }

    #[test]
    fn architectures_and_cross_packages_follow_debian_names() {
        let arm = Target::parse("aarch64-unknown-linux-gnu").expect("supported");
        let intel = Target::parse("x86_64-unknown-linux-gnu").expect("supported");
        assert_eq!((arm.arch(), intel.arch()), ("aarch64", "x86_64"));
        assert_eq!(
            arm.cross_packages(),
            "gcc-aarch64-linux-gnu libc6-dev-arm64-cross"
        );
        assert_eq!(
            intel.cross_packages(),
            "gcc-x86-64-linux-gnu libc6-dev-amd64-cross"
        );
    }

    #[test]
    fn host_executables_run_directly_and_foreign_ones_under_qemu() {
        for name in SUPPORTED {
            let target = Target::parse(name).expect("supported");
            for mode in [LinkMode::Dynamic, LinkMode::Static] {
                match target.runner(mode) {
                    Ok(runner) if target.is_host() => assert!(runner.is_empty()),
                    Ok(runner) => {
                        assert_eq!(runner[0], format!("qemu-{}", target.arch()));
                        assert_eq!(runner.len(), if mode == LinkMode::Static { 1 } else { 3 });
                        assert_eq!(
                            target.runner(LinkMode::Freestanding),
                            Ok(vec![runner[0].clone()])
                        );
                    }
                    Err(reason) => {
                        assert!(!target.is_host(), "{reason}");
                        assert!(reason.contains("apt-get install"), "{reason}");
                    }
                }
            }
        }
    }

    #[test]
    fn absent_target_means_host() {
        if let Ok(host) = Target::host() {
            assert_eq!(Target::resolve(None), Ok(host.clone()));
            assert!(host.is_host());
        }
    }
}
