//! The ahead-of-time backend (stub, being written).
use std::path::PathBuf;

use crate::ir::Program;

/// What `keel build` was asked to produce.
pub struct BuildOptions {
    /// Where the executable goes.
    pub output: PathBuf,
    /// Target triple; `None` means the host.
    pub target: Option<String>,
}

/// Compiles `program` to a native executable.
pub fn build(_program: &Program, _options: &BuildOptions) -> Result<(), String> {
    Err("native builds are not written yet".into())
}
