#![no_main]
//! Fuzz target `tcp_reassembly`: see `harness::tcp_reassembly` for what the input means.

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::tcp_reassembly(data));
