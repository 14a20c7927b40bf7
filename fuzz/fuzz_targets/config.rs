//! The config reader on arbitrary input: see `fuzz/checks/driftwall.rs`.
#![no_main]

#[path = "../checks/driftwall.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::config(data));
