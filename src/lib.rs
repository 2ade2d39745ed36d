//! mmscope: a protocol analyzer for MMS (Multimedia Messaging Service) traffic.
//!
//! The data path, one module a stage:
//! capture → net (link layer, IP, defragmentation, TCP reassembly) → http / wap (WTP, WSP) →
//! codec (WSP value encodings, headers, multipart) + mms (the PDU dissector) → pipeline (the
//! glue that turns packets into [`model::PduRecord`]s) → correlate (transactions) → export,
//! filter and tui on top.
//!
//! Every parser is pure: bytes in, typed values with byte ranges out, no I/O. The one output model
//! is [`tree::Dissection`].

pub mod capture;
pub mod cli;
pub mod codec;
pub mod correlate;
pub mod export;
pub mod filter;
pub mod generator;
pub mod http;
pub mod mms;
pub mod model;
pub mod net;
pub mod pipeline;
pub mod tree;
pub mod tui;
pub mod wap;
