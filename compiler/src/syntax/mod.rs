//! Front end: syntax (being written).
