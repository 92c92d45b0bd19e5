//! The expressions `benches/eval.rs` evaluates end to end (parse, check, lower, compile to
//! bytecode, run on the VM) with `keel::embed`: the four of FluentAI's published end-to-end
//! figures, with those figures, in nanoseconds.

/// Each benchmark's expression and FluentAI's published end-to-end time for it.
pub const EXPRESSIONS: [(&str, &str, f64); 4] = [
    ("literal", "42", 241.0),
    ("addition", "1 + 2", 428.0),
    ("array", "[1, 2, 3, 4, 5]", 1_410.0),
    ("arithmetic", "(2 * 3) + ((4 * 5) - (10 / 2))", 1_120.0),
];
