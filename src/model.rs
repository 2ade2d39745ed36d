//! Records passed between the stages above the parsers: what the pipeline found (one
//! [`PduRecord`] per MMS PDU on the wire), what correlation made of them ([`Transaction`]), and
//! the whole [`Analysis`] of a capture that the TUI and the exports read.
//!
//! Field names here are the JSON keys users script against (`mmscope pdus --json`,
//! `mmscope transactions --json`): a key, once named, never changes its meaning.
//!
//! Texts are [`CompactString`]s, held inline up to 24 bytes (ids, addresses, type and status
//! names, part names: most of a record). A record is made on the pipeline's upper thread and
//! dropped on another one, and every heap block freed on a thread other than its allocator's
//! costs the allocator two cache misses (docs/PERFORMANCE.md, round 6).

use crate::tree::Dissection;
use compact_str::CompactString;
use serde::Serialize;
use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr, SocketAddrV4};

/// Capture timestamp: seconds and nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    pub secs: i64,
    pub nanos: u32,
}

impl Timestamp {
    pub fn as_f64(self) -> f64 {
        self.secs as f64 + self.nanos as f64 / 1e9
    }

    /// Seconds from `self` to `later` (negative if `later` is earlier).
    pub fn seconds_until(self, later: Timestamp) -> f64 {
        (later.secs - self.secs) as f64 + (later.nanos as f64 - self.nanos as f64) / 1e9
    }

    /// Whether `later` is less than a second after `self` (or before it): what
    /// `seconds_until(later) < 1.0` says, in integers. The net layer asks it for every packet
    /// (expiry runs once per capture second), where the float division was a visible stall.
    pub fn within_a_second_of(self, later: Timestamp) -> bool {
        let nanos = i128::from(later.secs - self.secs) * 1_000_000_000 + i128::from(later.nanos)
            - i128::from(self.nanos);
        nanos < 1_000_000_000
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_f64())
    }
}

/// The `Display` text of an IPv4 socket address, `a.b.c.d:port`, written into `buf` digit by
/// digit: through the formatting machinery, the two addresses of each record and the endpoints
/// of each transaction were an eighth of `transactions --json`'s main thread.
pub fn socket_addr_v4_text<'b>(a: &SocketAddrV4, buf: &'b mut [u8; 21]) -> &'b str {
    std::str::from_utf8(socket_addr_v4_ascii(a, buf)).expect("digits, dots and a colon")
}

/// [`socket_addr_v4_text`] as its ASCII bytes, for a writer that copies them as they are: the
/// check that they are UTF-8 was a third of the cost of the text.
pub fn socket_addr_v4_ascii<'b>(a: &SocketAddrV4, buf: &'b mut [u8; 21]) -> &'b [u8] {
    fn put(buf: &mut [u8], v: u16) -> usize {
        let digits = match v {
            0..10 => 1,
            10..100 => 2,
            100..1000 => 3,
            1000..10000 => 4,
            _ => 5,
        };
        let mut v = v;
        for b in buf[..digits].iter_mut().rev() {
            *b = b'0' + (v % 10) as u8;
            v /= 10;
        }
        digits
    }
    let mut n = 0;
    for (i, octet) in a.ip().octets().into_iter().enumerate() {
        if i > 0 {
            buf[n] = b'.';
            n += 1;
        }
        // An octet's (at most three) digits in place: as cheap as the port's count and loop
        // was dear for them.
        if octet >= 100 {
            buf[n] = b'0' + octet / 100;
            n += 1;
        }
        if octet >= 10 {
            buf[n] = b'0' + octet / 10 % 10;
            n += 1;
        }
        buf[n] = b'0' + octet % 10;
        n += 1;
    }
    buf[n] = b':';
    n += 1;
    n += put(&mut buf[n..], a.port());
    &buf[..n]
}

/// The `Display` text of a socket address ([`socket_addr_v4_text`] for IPv4).
pub fn socket_addr_string(a: &SocketAddr) -> CompactString {
    match a {
        SocketAddr::V4(v4) => CompactString::from(socket_addr_v4_text(v4, &mut [0; 21])),
        SocketAddr::V6(_) => compact_str::format_compact!("{a}"),
    }
}

/// A socket address as serde prints it for JSON (its `Display` text), IPv4 without the
/// formatting machinery.
fn serialize_socket_addr<S: serde::Serializer>(a: &SocketAddr, s: S) -> Result<S::Ok, S::Error> {
    match a {
        SocketAddr::V4(v4) => s.serialize_str(socket_addr_v4_text(v4, &mut [0; 21])),
        SocketAddr::V6(_) => a.serialize(s),
    }
}

/// How an MMS PDU travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transport {
    /// HTTP/1.x body (MM1 over HTTP, or the gateway's leg to the MMSC).
    Http,
    /// WSP over WTP (connection-oriented, UDP 9201) or connectionless WSP (UDP 9200).
    Wsp,
    /// WSP Push / ConfirmedPush (WAP push to the handset, UDP 2948 or in a session).
    WspPush,
    /// A PAP push submission (multipart/related HTTP POST to a Push Proxy Gateway).
    Pap,
    /// A raw PDU file given to `mmscope decode`.
    File,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Http => "http",
            Transport::Wsp => "wsp",
            Transport::WspPush => "wsp-push",
            Transport::Pap => "pap",
            Transport::File => "file",
        }
    }
}

/// A decoder's text as a record's: a name from the tables (`Cow::Borrowed`) is referred to, not
/// copied; a decoded text is held inline when it is short, and keeps its buffer when it is long.
pub fn record_text(text: Cow<'static, str>) -> CompactString {
    match text {
        Cow::Borrowed(name) => CompactString::const_new(name),
        Cow::Owned(text) => CompactString::from(text),
    }
}

/// The request or reply an MMS PDU came with (HTTP or WSP).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Carrier {
    /// "POST", "GET", "Reply", "Push", "ConfirmedPush", …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<CompactString>,
    /// HTTP status code, or the WSP reply status mapped to its HTTP equivalent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Request line or status line as a human reads it.
    pub summary: CompactString,
    /// Identifies the exchange this PDU belongs to within its flow, so that a request and its
    /// response can be paired: (flow id, exchange number) for HTTP, (peer, WTP TID) for WSP.
    #[serde(skip)]
    pub exchange: Option<(u64, u64)>,
    /// True for a response/reply, false for a request.
    pub is_response: bool,
}

/// One body part of an MMS message, as listed in `parts` of `mmscope pdus --json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartSummary {
    pub content_type: CompactString,
    pub size: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_location: Option<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_id: Option<CompactString>,
}

/// The headline fields of an MMS PDU, lifted out of its dissector tree.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MmsSummary {
    /// OMA name, e.g. "m-send-req"; "unknown-0xNN" for a type code not in the tables.
    pub message_type: Option<CompactString>,
    #[serde(skip)]
    pub message_type_code: Option<u8>,
    pub transaction_id: Option<CompactString>,
    pub message_id: Option<CompactString>,
    /// "1.2"
    pub mms_version: Option<CompactString>,
    /// Address, or "<insert-address-token>" when the client asked the MMSC to insert it.
    pub from: Option<CompactString>,
    pub to: Vec<CompactString>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cc: Vec<CompactString>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bcc: Vec<CompactString>,
    pub content_location: Option<CompactString>,
    pub subject: Option<CompactString>,
    /// Absolute Date header, seconds since the epoch.
    pub date: Option<i64>,
    /// X-Mms-Status name (m-notifyresp-ind, m-delivery-ind), e.g. "Retrieved".
    pub status: Option<CompactString>,
    /// X-Mms-Response-Status name, e.g. "Ok", "Error-service-denied".
    pub response_status: Option<CompactString>,
    pub response_text: Option<CompactString>,
    /// X-Mms-Retrieve-Status name.
    pub retrieve_status: Option<CompactString>,
    /// X-Mms-Read-Status name.
    pub read_status: Option<CompactString>,
    /// X-Mms-Store-Status name (m-mbox-store-conf, m-mbox-upload-conf), e.g. "Success"; the key
    /// is present only when the PDU carries the header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_status: Option<CompactString>,
    /// X-Mms-Cancel-Status name (m-cancel-conf), e.g. "Cancel Request corrupted"; the key is
    /// present only when the PDU carries the header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_status: Option<CompactString>,
    pub message_size: Option<u64>,
    /// Content-Type of the body (media type only).
    pub content_type: Option<CompactString>,
    pub parts: Vec<PartSummary>,
    /// Number of expert notes of severity error in the PDU's tree.
    pub errors: usize,
    pub warnings: usize,
}

/// One MMS PDU found on the wire.
#[derive(Debug, Clone, Serialize)]
pub struct PduRecord {
    /// Position in capture order, 0-based.
    pub index: usize,
    /// Number of the frame that completed the PDU (1-based, as Wireshark counts).
    pub frame: u64,
    /// Every frame that carried bytes of the PDU.
    pub frames: Vec<u64>,
    pub time: Timestamp,
    #[serde(serialize_with = "serialize_socket_addr")]
    pub src: SocketAddr,
    #[serde(serialize_with = "serialize_socket_addr")]
    pub dst: SocketAddr,
    pub transport: Transport,
    pub carrier: Carrier,
    #[serde(flatten)]
    pub mms: MmsSummary,
    /// Set when this PDU is the same bytes sent again (WTP RID, TCP/HTTP retransmission, a
    /// duplicate of record `index`), so it is flagged and not double-counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retransmission_of: Option<usize>,
    /// Transport-level problems met on the way (gaps, missing WTP segments, decompression
    /// errors), each saying where.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transport_notes: Vec<String>,
    /// The full decode: carrier layers and the MMS PDU. Dropped by the streaming batch path
    /// once the record is printed.
    #[serde(skip)]
    pub dissection: Dissection,
}

impl PduRecord {
    pub fn src_ip(&self) -> IpAddr {
        self.src.ip()
    }
}

/// How a transaction ended, said plainly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Completed with a success status ("Ok", "Retrieved", …).
    Ok,
    /// Completed with an error status; the status name is in `Transaction::status`.
    Failed,
    /// Started but its closing PDU is not in the capture (capture ended or PDU lost).
    Incomplete,
    /// A response or indication whose request is not in the capture.
    Orphan,
}

/// Kinds of MMS transaction (OMA-MMS-CTR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransactionKind {
    /// m-send-req → m-send-conf
    Send,
    /// m-notification-ind → m-notifyresp-ind
    Notification,
    /// GET Content-Location → m-retrieve-conf → m-acknowledge-ind
    Retrieve,
    /// m-delivery-ind (to the originator)
    DeliveryReport,
    /// m-read-rec-ind / m-read-orig-ind
    ReadReport,
    /// m-forward-req → m-forward-conf
    Forward,
    /// m-mbox-* req → conf
    Mbox,
    /// m-delete-req → m-delete-conf
    Delete,
    /// m-cancel-req → m-cancel-conf
    Cancel,
    /// PDUs that fit no known exchange
    Other,
}

/// One MMS transaction as a lab engineer reasons about it.
#[derive(Debug, Clone, Serialize)]
pub struct Transaction {
    /// Position in the analysis, 0-based.
    pub index: usize,
    pub kind: TransactionKind,
    pub transaction_id: Option<CompactString>,
    pub message_id: Option<CompactString>,
    pub content_location: Option<CompactString>,
    /// Indices into `Analysis::pdus`, in capture order (retransmissions included, flagged there).
    pub pdus: Vec<usize>,
    /// Frame numbers of those PDUs, in order.
    pub frames: Vec<u64>,
    /// OMA message type names of those PDUs, in order.
    pub message_types: Vec<CompactString>,
    pub start: Timestamp,
    pub end: Timestamp,
    /// Seconds from start to end.
    pub duration: f64,
    pub outcome: Outcome,
    /// The status that decided the outcome (response/retrieve/status name), or a plain word
    /// such as "incomplete" or "orphan".
    pub status: CompactString,
    /// Endpoints involved, "ip:port", in order of first appearance.
    pub endpoints: Vec<CompactString>,
    /// Message story this transaction belongs to (a message's whole life across transactions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub story: Option<usize>,
}

/// Counters shown in status lines and summaries.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stats {
    pub packets: u64,
    pub bytes: u64,
    pub pdus: u64,
    pub transactions: u64,
    /// Frames or PDUs with an error (malformed, gap, undecodable).
    pub errors: u64,
}

/// Everything known about a capture.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    pub source: String,
    pub pdus: Vec<PduRecord>,
    pub transactions: Vec<Transaction>,
    pub stats: Stats,
    /// Problems reading the capture itself (truncated record, unknown link type), each saying
    /// where (frame number, file offset).
    pub capture_notes: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_a_second_of_agrees_with_seconds_until() {
        let t = |secs, nanos| Timestamp { secs, nanos };
        let base = t(1_767_225_600, 500_000_000);
        for later in [
            base,
            t(1_767_225_601, 499_999_999),
            t(1_767_225_601, 500_000_000),
            t(1_767_225_601, 500_000_001),
            t(1_767_225_600, 999_999_999),
            t(1_767_225_599, 0),
            t(1_767_225_602, 0),
            t(0, 0),
            t(i64::MAX / 4, 999_999_999),
        ] {
            assert_eq!(
                base.within_a_second_of(later),
                base.seconds_until(later) < 1.0,
                "{later:?}"
            );
        }
    }

    #[test]
    fn socket_addresses_print_as_display_prints_them() {
        let mut addrs: Vec<SocketAddr> = Vec::new();
        for octet in [0, 1, 9, 10, 99, 100, 199, 255] {
            for port in [0, 9, 10, 99, 100, 999, 1000, 9999, 10000, 65535] {
                addrs.push(SocketAddr::from(([octet, 255 - octet, 10, octet], port)));
            }
        }
        addrs.push("[2001:db8::1]:8080".parse().unwrap());
        addrs.push("[::ffff:10.0.0.1]:80".parse().unwrap());
        addrs.push("[fe80::1%3]:9201".parse().unwrap());
        for a in addrs {
            assert_eq!(socket_addr_string(&a), a.to_string());
            // as serde_json prints the field, with or without serialize_with
            #[derive(Serialize)]
            struct Ours(#[serde(serialize_with = "serialize_socket_addr")] SocketAddr);
            assert_eq!(
                serde_json::to_string(&Ours(a)).unwrap(),
                serde_json::to_string(&a).unwrap()
            );
        }
    }
}
