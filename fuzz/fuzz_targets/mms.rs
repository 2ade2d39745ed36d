#![no_main]
//! Fuzz target `mms`: see `harness::mms` for what the input means.

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::mms(data));
