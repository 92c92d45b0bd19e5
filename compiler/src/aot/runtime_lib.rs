//! The runtime static libraries built into `keel`, one per target.
//!
//! `compiler/build.rs` compiles `runtime/` for the target `keel` is built for and for every other
//! supported target whose Rust standard library is installed, and generates the tables included
//! here. `keel build` writes the chosen library next to the object file and links both.
//!
//! What this module does not do: build libraries at run time (that would need a Rust toolchain on
//! the user's machine).

use super::target::Target;

include!(concat!(env!("OUT_DIR"), "/runtime_libs.rs"));

/// The runtime static library (`.a` bytes) for `target`.
pub fn for_target(target: &Target) -> Result<&'static [u8], String> {
    if let Some((_, bytes)) = BUILT.iter().find(|(name, _)| *name == target.name) {
        return Ok(bytes);
    }
    let reason = MISSING
        .iter()
        .find(|(name, _)| *name == target.name)
        .map_or("it was not attempted", |(_, reason)| reason);
    Err(format!(
        "this keel has no runtime library for {target}: {reason}\n\
         help: run `rustup target add {target}`, then rebuild keel (`cargo build`)"
    ))
}

/// Targets whose runtime library is built into this `keel`.
pub fn available() -> Vec<&'static str> {
    BUILT.iter().map(|(name, _)| *name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_runtime_is_built_in_and_is_an_archive() {
        let host = Target::host().expect("tests run on a supported host");
        let bytes = for_target(&host).expect("host runtime is always built");
        assert!(bytes.starts_with(b"!<arch>\n"));
        assert!(available().contains(&host.name));
    }
}
