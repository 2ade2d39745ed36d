#![no_main]
//! Fuzz target `multipart`: see `harness::multipart` for what the input means.

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::multipart(data));
