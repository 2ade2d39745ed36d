#![no_main]
//! Fuzz target `net_link`: see `harness::net_link` for what the input means.

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::net_link(data));
