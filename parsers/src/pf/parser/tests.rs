//! Table-driven tests per production: input, expected piece, leftover.
