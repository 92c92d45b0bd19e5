//! The Cranelift lowering shared by the JIT and AOT drivers (stub, being written).
