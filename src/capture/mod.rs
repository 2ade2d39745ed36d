//! Reading (and writing) packet captures.
//!
//! [`FileReader`] streams pcap and pcapng files through one reusable buffer and hands out
//! [`Packet`]s that borrow from it (a lending iterator: call [`PacketSource::next_packet`] until it
//! returns `None`). [`live::LiveSource`] does the same for a live interface through libpcap, so
//! the pipeline only sees a [`PacketSource`] and does not care where packets come from.

pub mod live;
mod reader;
pub mod writer;

pub use reader::{FileFormat, FileReader, ReaderOptions};

/// The capture files shipped in `captures/`, sorted by name: unit tests that must hold on every
/// real capture go over them.
#[cfg(test)]
pub(crate) fn shipped_captures() -> Vec<std::path::PathBuf> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/captures");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("pcap" | "pcapng")
            )
        })
        .collect();
    files.sort();
    files
}

use crate::model::Timestamp;
use std::fmt;

/// A link-layer header type (LINKTYPE_* of the tcpdump.org registry, as written in pcap/pcapng).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkType(pub u32);

impl LinkType {
    /// BSD loopback: 4-byte address family in the byte order of the capturing host.
    pub const NULL: LinkType = LinkType(0);
    pub const ETHERNET: LinkType = LinkType(1);
    /// DLT_RAW as written by some BSDs (12) and OpenBSD (14): raw IPv4/IPv6.
    pub const RAW_DLT12: LinkType = LinkType(12);
    pub const RAW_DLT14: LinkType = LinkType(14);
    pub const RAW: LinkType = LinkType(101);
    /// OpenBSD loopback: 4-byte address family, network byte order.
    pub const LOOP: LinkType = LinkType(108);
    pub const LINUX_SLL: LinkType = LinkType(113);
    pub const IPV4: LinkType = LinkType(228);
    pub const IPV6: LinkType = LinkType(229);
    pub const LINUX_SLL2: LinkType = LinkType(276);

    /// The short name tshark/capinfos use, or `None` for a type mmscope does not decode.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            LinkType::NULL => "null",
            LinkType::ETHERNET => "ether",
            LinkType::RAW | LinkType::RAW_DLT12 | LinkType::RAW_DLT14 => "rawip",
            LinkType::LOOP => "loop",
            LinkType::LINUX_SLL => "linux-sll",
            LinkType::IPV4 => "rawip4",
            LinkType::IPV6 => "rawip6",
            LinkType::LINUX_SLL2 => "linux-sll2",
            _ => return None,
        })
    }
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n} ({})", self.0),
            None => write!(f, "link type {}", self.0),
        }
    }
}

/// One captured packet. `data` borrows the source's buffer until the next call to
/// `next_packet`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    /// 1-based frame number, as Wireshark counts (over all sections and interfaces of a file).
    pub frame: u64,
    pub time: Timestamp,
    pub link_type: LinkType,
    /// The captured bytes (possibly cut by the snaplen).
    pub data: &'a [u8],
    /// The length of the packet on the wire.
    pub orig_len: u32,
    /// Interface index (pcapng: within the current section; pcap and live: 0).
    pub interface: u32,
    /// File offset of the record/block (0 for live capture), for error messages.
    pub file_offset: u64,
}

/// Anything packets come from: a file or a live interface.
pub trait PacketSource {
    /// The next packet, an error (after which the source returns `None`), or `None` at the end.
    fn next_packet(&mut self) -> Option<Result<Packet<'_>, CaptureError>>;
    /// Bytes consumed so far (file sources; 0 for live).
    fn bytes_read(&self) -> u64 {
        0
    }
    /// Total size when known (file sources).
    fn total_bytes(&self) -> Option<u64> {
        None
    }
}

/// What went wrong reading a capture, and where.
#[derive(Debug)]
pub enum CaptureError {
    Io {
        path: String,
        error: std::io::Error,
    },
    IsDirectory {
        path: String,
    },
    Empty {
        path: String,
    },
    /// The first bytes match neither pcap nor pcapng.
    NotACapture {
        path: String,
        first_bytes: Vec<u8>,
    },
    /// A header or record that the file ends in the middle of.
    Truncated {
        what: &'static str,
        offset: u64,
        frame: u64,
        needed: u64,
        available: u64,
    },
    /// A length field that cannot be right (larger than the snaplen/limit, too small for the
    /// block, not a multiple of 4, …).
    BadLength {
        what: &'static str,
        offset: u64,
        frame: u64,
        length: u64,
        limit: u64,
    },
    /// A structure mmscope does not support (e.g. pcapng major version 2, unknown interface).
    Unsupported {
        what: String,
        offset: u64,
    },
    /// Live capture (libpcap) error.
    Live(String),
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureError::Io { path, error } => write!(f, "{path}: {error}"),
            CaptureError::IsDirectory { path } => {
                write!(f, "{path}: is a directory, not a capture file")
            }
            CaptureError::Empty { path } => write!(f, "{path}: empty file (0 bytes)"),
            CaptureError::NotACapture { path, first_bytes } => {
                write!(f, "{path}: not a pcap or pcapng capture file (first bytes:")?;
                for b in first_bytes {
                    write!(f, " {b:02x}")?;
                }
                write!(f, ")")
            }
            CaptureError::Truncated {
                what,
                offset,
                frame,
                needed,
                available,
            } => write!(
                f,
                "truncated {what} at file offset {offset} (frame {frame}): needs {needed} bytes, \
                 only {available} left in the file"
            ),
            CaptureError::BadLength {
                what,
                offset,
                frame,
                length,
                limit,
            } => write!(
                f,
                "bad {what} at file offset {offset} (frame {frame}): length {length}, limit {limit}"
            ),
            CaptureError::Unsupported { what, offset } => {
                write!(f, "unsupported {what} at file offset {offset}")
            }
            CaptureError::Live(m) => write!(f, "live capture: {m}"),
        }
    }
}

impl std::error::Error for CaptureError {}
