#![no_main]
//! Fuzz target `wtp`: see `harness::wtp` for what the input means.

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::wtp(data));
