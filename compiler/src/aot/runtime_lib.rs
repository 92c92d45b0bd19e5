//! The runtime static libraries built into `keel`, two per target: the freestanding runtime (for
//! executables without a C library, the default) and the one linked with glibc (`--libc`).
//!
//! `compiler/build.rs` compiles `runtime/` for the target `keel` is built for and for every other
//! supported target whose Rust standard library is installed, and generates the tables included
//! here. `keel build` writes the chosen library next to the object file and links both.
//!
//! What this module does not do: build libraries at run time (that would need a Rust toolchain on
//! the user's machine).

use super::link::LinkMode;
use super::target::Target;

include!(concat!(env!("OUT_DIR"), "/runtime_libs.rs"));

/// The name of the library an executable of `mode` links, as `build.rs` names it.
fn flavor(mode: LinkMode) -> &'static str {
    match mode {
        LinkMode::Freestanding => "freestanding",
        LinkMode::Dynamic | LinkMode::Static => "libc",
    }
}

/// The runtime static library (`.a` bytes) for executables of `mode` for `target`.
pub fn for_target(target: &Target, mode: LinkMode) -> Result<&'static [u8], String> {
    let flavor = flavor(mode);
    if let Some((_, _, bytes)) = BUILT
        .iter()
        .find(|(name, kind, _)| *name == target.name && *kind == flavor)
    {
        return Ok(bytes);
    }
    let reason = MISSING
        .iter()
        .find(|(name, kind, _)| *name == target.name && *kind == flavor)
        .map_or("it was not attempted", |(_, _, reason)| reason);
    Err(format!(
        "this keel has no {flavor} runtime library for {target}: {reason}\n\
         help: run `rustup target add {target}`, then rebuild keel (`cargo build`)"
    ))
}

/// Targets whose runtime library of `mode` is built into this `keel`.
pub fn available(mode: LinkMode) -> Vec<&'static str> {
    let flavor = flavor(mode);
    BUILT
        .iter()
        .filter(|(_, kind, _)| *kind == flavor)
        .map(|(name, _, _)| *name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_runtime_is_built_in_and_is_an_archive() {
        let host = Target::host().expect("tests run on a supported host");
        for mode in [LinkMode::Freestanding, LinkMode::Dynamic] {
            let bytes = for_target(&host, mode).expect("host runtime is always built");
            assert!(bytes.starts_with(b"!<arch>\n"));
            assert!(available(mode).contains(&host.name));
        }
    }
}
