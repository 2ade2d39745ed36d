#![no_main]
//! Fuzz target `capture`: see `harness::capture` for what the input means.

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::capture(data));
