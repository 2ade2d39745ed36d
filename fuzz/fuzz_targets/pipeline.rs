#![no_main]
//! Fuzz target `pipeline`: see `harness::pipeline` for what the input means.

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::pipeline(data));
