#![no_main]
//! Fuzz target `wsp`: see `harness::wsp` for what the input means.

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::wsp(data));
