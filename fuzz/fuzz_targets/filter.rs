#![no_main]
//! Fuzz target `filter`: see `harness::filter` for what the input means.

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::filter(data));
