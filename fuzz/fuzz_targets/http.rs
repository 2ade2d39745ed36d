#![no_main]
//! Fuzz target `http`: see `harness::http` for what the input means.

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::http(data));
