//! The evaluator as it was before issue 17's optimisations (main at
//! c3aae63): a frozen copy of `src/eval/{set,interfaces,program,walk,
//! connection}.rs`, kept only as the reference the property test
//! (`tests/eval_property.rs`) holds the optimised evaluator to. Never edit
//! it to follow the code under optimisation: a change of results in
//! `src/eval` must show up as a failure there, and be decided on purpose
//! (then this copy is refreshed from the new code, with a commit saying why).

#![allow(dead_code, clippy::all)]

pub mod connection;
pub mod interfaces;
pub mod program;
pub mod set;
pub mod walk;
