//! Front end: sema (being written).
