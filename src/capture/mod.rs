//! Reading (and writing) packet captures.

pub mod writer;
