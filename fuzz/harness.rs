//! The entry points the fuzz targets drive, shared with `tests/robust_regressions.rs` (which
//! includes this file with `#[path]`), so every input a fuzzer found replays under plain
//! `cargo test` through exactly the code the fuzzer ran.
//!
//! Each function takes arbitrary bytes and must return without panicking, hanging or
//! allocating without bound. Where the input is turned into something structured (packets,
//! a split script), the derivation is deterministic and documented beside the function.
#![allow(dead_code)]

use std::io::Cursor;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use mmscope::capture::{FileReader, LinkType, PacketSource, ReaderOptions};
use mmscope::model::Timestamp;
use mmscope::tree::{Buffer, Dissection};

/// A harness entry point.
pub type Target = fn(&[u8]);

/// Every target by name, for the regression replayer (`tests/data/regress/<target>/*`).
pub const TARGETS: &[(&str, Target)] = &[
    ("capture", capture),
    ("net_link", net_link),
    ("tcp_reassembly", tcp_reassembly),
    ("http", http),
    ("wtp", wtp),
    ("wsp", wsp),
    ("mms", mms),
    ("multipart", multipart),
    ("filter", filter),
    ("pipeline", pipeline),
];

/// Most packets read from one fuzz input (a 1-byte record repeats cheaply; this keeps one
/// execution short, not correctness).
const MAX_PACKETS: usize = 10_000;

/// pcap / pcapng reader over the raw input, read to the end or to the first error.
pub fn capture(data: &[u8]) {
    let Ok(mut r) = FileReader::from_reader(
        Cursor::new(data),
        "fuzz",
        Some(data.len() as u64),
        ReaderOptions::default(),
    ) else {
        return;
    };
    let _ = (r.format(), r.link_type());
    for _ in 0..MAX_PACKETS {
        match r.next_packet() {
            Some(Ok(p)) => {
                assert!(p.data.len() <= 256 * 1024, "record past max_record");
            }
            Some(Err(e)) => {
                let _ = e.to_string();
                break;
            }
            None => break,
        }
    }
}

const LINK_TYPES: &[LinkType] = &[
    LinkType::ETHERNET,
    LinkType::RAW,
    LinkType::LINUX_SLL,
    LinkType::LINUX_SLL2,
    LinkType::NULL,
    LinkType::LOOP,
    LinkType::IPV4,
    LinkType::IPV6,
    LinkType::RAW_DLT12,
    LinkType::RAW_DLT14,
    LinkType(147), // unsupported: must be a note, once
];

/// Link layer + IP (+ defragmentation, TCP, UDP): byte 0 picks the link type, then frames of
/// `u16 length` + bytes follow (so fragments of one datagram can meet in one input).
pub fn net_link(data: &[u8]) {
    let Some((&sel, mut rest)) = data.split_first() else {
        return;
    };
    let link = LINK_TYPES[sel as usize % LINK_TYPES.len()];
    let mut dec = mmscope::net::Decoder::default();
    let mut out = Vec::new();
    let mut frame = 0u64;
    while !rest.is_empty() && frame < MAX_PACKETS as u64 {
        let (len, body) = if rest.len() >= 2 {
            (u16::from_be_bytes([rest[0], rest[1]]) as usize, &rest[2..])
        } else {
            (rest.len(), rest)
        };
        let len = len.min(body.len());
        frame += 1;
        let time = Timestamp {
            secs: frame as i64,
            nanos: 0,
        };
        dec.decode_owned(frame, time, link, 0, &body[..len], &mut out);
        out.clear();
        rest = &body[len..];
    }
    dec.finish(&mut out);
}

/// Builds IPv4 + TCP/UDP packets (no checksums: the decoder does not verify them).
pub struct PacketBuilder;

impl PacketBuilder {
    pub fn ipv4(proto: u8, src: [u8; 4], dst: [u8; 4], ident: u16, l4: &[u8]) -> Vec<u8> {
        let total = (20 + l4.len()).min(u16::MAX as usize);
        let mut p = Vec::with_capacity(total);
        p.extend_from_slice(&[0x45, 0]);
        p.extend_from_slice(&(total as u16).to_be_bytes());
        p.extend_from_slice(&ident.to_be_bytes());
        p.extend_from_slice(&[0x40, 0, 64, proto, 0, 0]);
        p.extend_from_slice(&src);
        p.extend_from_slice(&dst);
        p.extend_from_slice(&l4[..total - 20]);
        p
    }

    pub fn tcp(sport: u16, dport: u16, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
        let mut t = Vec::with_capacity(20 + payload.len());
        t.extend_from_slice(&sport.to_be_bytes());
        t.extend_from_slice(&dport.to_be_bytes());
        t.extend_from_slice(&seq.to_be_bytes());
        t.extend_from_slice(&ack.to_be_bytes());
        t.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        t.extend_from_slice(payload);
        t
    }

    pub fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
        let mut u = Vec::with_capacity(8 + payload.len());
        u.extend_from_slice(&sport.to_be_bytes());
        u.extend_from_slice(&dport.to_be_bytes());
        u.extend_from_slice(&((8 + payload.len()).min(u16::MAX as usize) as u16).to_be_bytes());
        u.extend_from_slice(&[0, 0]);
        u.extend_from_slice(payload);
        u
    }
}

const CLIENT: [u8; 4] = [10, 0, 0, 1];
const SERVER: [u8; 4] = [10, 0, 0, 2];

/// A segment script: records of 6 bytes `dir|flags, seq_delta(i16 BE), ack_delta(u8), len(u16 BE)`
/// then `len` payload bytes. dir (bit 7) picks the direction; flags (low 6 bits) are the TCP
/// flags as they are (so SYN/FIN/RST in any order); the sequence number is the direction's
/// running next-sequence plus `seq_delta` (so overlaps, holes and retransmissions all happen).
fn segments(data: &[u8], dport: u16, mut emit: impl FnMut(u64, Vec<u8>)) {
    let mut next = [1000u32, 50_000u32];
    let mut rest = data;
    let mut frame = 0u64;
    while rest.len() >= 6 && frame < MAX_PACKETS as u64 {
        let dir = (rest[0] >> 7) as usize;
        let flags = rest[0] & 0x3f;
        let delta = i16::from_be_bytes([rest[1], rest[2]]) as i32;
        let ack_delta = rest[3] as u32;
        let len = (u16::from_be_bytes([rest[4], rest[5]]) as usize).min(rest.len() - 6);
        let payload = &rest[6..6 + len];
        rest = &rest[6 + len..];
        let seq = next[dir].wrapping_add(delta as u32);
        let ack = next[1 - dir].wrapping_add(ack_delta);
        let (src, dst, sport, dport) = if dir == 0 {
            (CLIENT, SERVER, 40000, dport)
        } else {
            (SERVER, CLIENT, dport, 40000)
        };
        let tcp = PacketBuilder::tcp(sport, dport, seq, ack, flags, payload);
        frame += 1;
        emit(frame, PacketBuilder::ipv4(6, src, dst, frame as u16, &tcp));
        let syn_fin = u32::from(flags & 0x03 != 0);
        next[dir] = seq.wrapping_add(len as u32).wrapping_add(syn_fin);
    }
}

/// TCP reassembly: the segment script of [`segments`] through the network decoder, with small
/// limits so eviction and hole-skipping paths run too.
pub fn tcp_reassembly(data: &[u8]) {
    use mmscope::net::{Decoder, Limits};
    let mut limits = Limits::default();
    limits.tcp.max_buffered_per_direction = 4096;
    limits.tcp.max_buffered_total = 8192;
    limits.tcp.max_flows = 4;
    let mut dec = Decoder::new(limits);
    let mut out = Vec::new();
    segments(data, 80, |frame, pkt| {
        let time = Timestamp {
            secs: frame as i64 / 4,
            nanos: 0,
        };
        dec.decode_owned(frame, time, LinkType::RAW, 0, &pkt, &mut out);
        out.clear();
    });
    dec.finish(&mut out);
}

/// HTTP/1.x connection: a split script. Byte 0 is a seed; the rest is cut into pieces whose
/// sizes, directions and kinds (data, gap, close) come from a tiny LCG over the seed, so one
/// byte string is both the stream content and many ways to cut it.
pub fn http(data: &[u8]) {
    use mmscope::http::{Config, Direction, HttpConnection};
    let Some((&seed, rest)) = data.split_first() else {
        return;
    };
    let cfg = Config {
        max_message: 64 * 1024,
        max_decoded: 64 * 1024,
        max_pending: 8,
        // Both ways of undoing codings: by the parser, or later by the user (as the pipeline).
        defer_codings: seed & 0x80 != 0,
        // Both ways of taking bodies in: all buffered, or those that cannot carry MMS dropped.
        discard_non_mms_bodies: seed & 0x40 != 0,
    };
    let mut conn = HttpConnection::new(cfg);
    let mut state = u32::from(seed) | 1;
    let mut step = || {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
        state >> 8
    };
    let mut pos = 0usize;
    let mut frame = 0u64;
    while pos < rest.len() {
        let r = step();
        let dir = if r & 1 == 0 {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        };
        let len = 1 + (r as usize >> 1) % 97;
        let end = (pos + len).min(rest.len());
        frame += 1;
        let evs = match (r >> 12) % 32 {
            0 => conn.gap(dir, len as u64),
            1 => conn.close(dir),
            _ => {
                let e = conn.feed(dir, &rest[pos..end], frame);
                pos = end;
                e
            }
        };
        drain_http(evs);
    }
    drain_http(conn.close(Direction::ClientToServer));
    drain_http(conn.close(Direction::ServerToClient));
}

fn drain_http(evs: Vec<mmscope::http::HttpEvent>) {
    use mmscope::http::HttpEvent;
    for ev in evs {
        if let HttpEvent::Message(mut m) = ev {
            m.undo_codings();
            // The dissection a record would carry: exercises mime, bodies, ranges.
            let (d, _) = m.dissection();
            let _ = (m.summary(), m.frames(), m.transport_notes(), d.layers.len());
        }
    }
}

fn addr(last: u8, port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, last)), port)
}

/// WTP: every PDU of a datagram parsed, data-carrying ones pushed into the reassembler; the
/// input is a sequence of `u16 BE length` + datagram, alternating sender. Then the same datagrams
/// through the WAP decoder (WTP + WSP, connection-oriented), which owns the same state machine.
pub fn wtp(data: &[u8]) {
    use mmscope::wap::wtp::{SarLimits, WtpReassembler, parse_wtp};
    use mmscope::wap::{WapDecoder, WapMode};
    let limits = SarLimits {
        max_segments: 256,
        max_bytes: 64 * 1024,
        max_open: 8,
        remember_completed: 8,
    };
    let mut sar = WtpReassembler::new(limits);
    let mut dec = WapDecoder::new(limits);
    let (a, b) = (addr(1, 40000), addr(2, 9201));
    let mut rest = data;
    let mut frame = 0u64;
    while rest.len() >= 2 && frame < MAX_PACKETS as u64 {
        let len = (u16::from_be_bytes([rest[0], rest[1]]) as usize).min(rest.len() - 2);
        let dgram = &rest[2..2 + len];
        rest = &rest[2 + len..];
        frame += 1;
        let (src, dst) = if frame.is_multiple_of(2) {
            (b, a)
        } else {
            (a, b)
        };
        if let Ok(pdus) = parse_wtp(dgram) {
            for pdu in &pdus {
                let _ = (pdu.summary(dgram), pdu.tree(dgram), pdu.psn(dgram));
                if pdu.pdu_type.carries_data()
                    && let mmscope::wap::wtp::SarOutcome::Complete(m) =
                        sar.push(src, dst, pdu, dgram, frame)
                {
                    let _ = m.tree();
                }
            }
        }
        let _ = sar.take_evicted();
        let _ = dec.datagram(WapMode::ConnectionOriented, src, dst, dgram, frame);
    }
    for m in sar.flush() {
        let _ = m.tree();
    }
    let _ = dec.finish();
}

/// WSP: the input as a connectionless and as a connection-oriented PDU, plus its header block
/// decoded on its own.
pub fn wsp(data: &[u8]) {
    use mmscope::wap::wsp::parse_wsp;
    for cl in [false, true] {
        if let Ok(pdu) = parse_wsp(data, 0..data.len(), cl) {
            let _ = (
                pdu.summary(),
                pdu.tree(data),
                pdu.media_type(),
                pdu.body(data),
            );
        }
    }
    let block = mmscope::codec::headers::decode_headers(data, 0..data.len());
    let _ = format!("{block:?}");
    // And through the connectionless WAP decoder (push or WSP/CL port), which adds the
    // WSP/MMS glue and the MMS dissector when the content type says so.
    let mut dec = mmscope::wap::WapDecoder::default();
    let _ = dec.datagram(
        mmscope::wap::WapMode::Connectionless,
        addr(1, 40000),
        addr(2, 2948),
        data,
        1,
    );
    let _ = dec.finish();
}

/// The MMS PDU dissector over the whole input.
pub fn mms(data: &[u8]) {
    let mut d = Dissection::default();
    let id = d.add_buffer(Buffer::new("MMS", data.to_vec()));
    let summary = mmscope::mms::dissect(&mut d, id);
    // Every node's range must lie in its buffer (the TUI and JSON consumers slice with them),
    // except the one-byte "data ends here" marker of a truncation error, which sits just past
    // the last byte (codec::CodecError::node).
    for layer in &d.layers {
        for n in layer.walk() {
            let buf = n.buffer as usize;
            let len = d.buffers.get(buf).map_or(0, |b| b.data.len());
            let marker = n.expert.is_some() && n.range.len() == 1 && n.range.start == len;
            assert!(
                n.range.start <= n.range.end && (n.range.end <= len || marker),
                "node {:?} range {:?} outside buffer {buf} of {len} bytes",
                n.name,
                n.range
            );
        }
    }
    let _ = serde_json::to_string(&summary);
}

/// WSP multipart (byte 0 > 127: nested depth start) and MIME multipart (byte 0 = boundary
/// length, then the boundary, then the body).
pub fn multipart(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let m = mmscope::codec::multipart::decode_multipart(rest, 0..rest.len(), (sel >> 6) as usize);
    let _ = format!("{m:?}");
    let blen = (sel as usize % 40).min(rest.len());
    let boundary = String::from_utf8_lossy(&rest[..blen]).into_owned();
    let mp = mmscope::http::mime::parse_multipart(&rest[blen..], &boundary);
    let _ = format!("{mp:?}");
}

/// The filter language: parse the input; when it parses, evaluate it against the PDUs and
/// transactions of a shipped capture.
pub fn filter(data: &[u8]) {
    use mmscope::filter::Filter;
    let Ok(expr) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(f) = Filter::parse(expr) else {
        return;
    };
    let (pdus, txs) = sample_analysis();
    for p in pdus {
        let _ = f.matches_pdu(p);
    }
    for t in txs {
        let _ = f.matches_transaction(t, pdus);
    }
}

fn sample_analysis() -> &'static (
    Vec<mmscope::model::PduRecord>,
    Vec<mmscope::model::Transaction>,
) {
    static SAMPLE: std::sync::OnceLock<(
        Vec<mmscope::model::PduRecord>,
        Vec<mmscope::model::Transaction>,
    )> = std::sync::OnceLock::new();
    SAMPLE.get_or_init(|| {
        let mut pdus = Vec::new();
        for cap in [
            &include_bytes!("../captures/http_mm1_basic.pcapng")[..],
            &include_bytes!("../captures/wap_mm1_full.pcapng")[..],
        ] {
            let mut r =
                FileReader::from_reader(Cursor::new(cap), "sample", None, ReaderOptions::default())
                    .expect("shipped capture");
            let base = pdus.len();
            mmscope::pipeline::run_source(&mut r, &Default::default(), &mut |ev| {
                if let mmscope::pipeline::Event::Pdu(mut p) = ev {
                    p.index += base;
                    pdus.push(*p);
                }
            })
            .expect("shipped capture runs");
        }
        let txs = mmscope::correlate::correlate(&pdus);
        (pdus, txs)
    })
}

/// The whole pipeline on a pcap built from the input: byte 0 picks the carrier (HTTP on TCP
/// port 80, WSP/CO over WTP on UDP 9201, WSP/CL on 9200, push on 2948), the rest is the
/// segment script of [`segments`] (for UDP, each record's payload is one datagram). The pcap
/// is read back through the file reader, so record framing is exercised too.
pub fn pipeline(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let mut pcap = Vec::new();
    pcap.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    pcap.extend_from_slice(&[2, 0, 4, 0]);
    pcap.extend_from_slice(&[0; 8]);
    pcap.extend_from_slice(&65535u32.to_le_bytes());
    pcap.extend_from_slice(&u32::from(LinkType::RAW.0 as u16).to_le_bytes());
    let mut record = |frame: u64, pkt: Vec<u8>| {
        pcap.extend_from_slice(&(frame as u32 / 8).to_le_bytes());
        pcap.extend_from_slice(&(frame as u32 % 8 * 1000).to_le_bytes());
        pcap.extend_from_slice(&(pkt.len() as u32).to_le_bytes());
        pcap.extend_from_slice(&(pkt.len() as u32).to_le_bytes());
        pcap.extend_from_slice(&pkt);
    };
    match sel % 4 {
        0 => segments(rest, 80, record),
        n => {
            let port = [9201u16, 9200, 2948][n as usize - 1];
            segments(rest, port, |frame, tcp_pkt| {
                // Re-wrap the script's payload as UDP between the same hosts.
                let client_to_server = tcp_pkt[12..16] == CLIENT;
                let payload = &tcp_pkt[40..];
                let (src, dst, sp, dp) = if client_to_server {
                    (CLIENT, SERVER, 40000, port)
                } else {
                    (SERVER, CLIENT, port, 40000)
                };
                let udp = PacketBuilder::udp(sp, dp, payload);
                record(frame, PacketBuilder::ipv4(17, src, dst, frame as u16, &udp));
            })
        }
    }
    let Ok(mut r) = FileReader::from_reader(
        Cursor::new(&pcap[..]),
        "fuzz.pcap",
        None,
        Default::default(),
    ) else {
        return;
    };
    let opts = mmscope::pipeline::Options {
        keep_dissection: true,
    };
    let mut pdus = Vec::new();
    let _ = mmscope::pipeline::run_source(&mut r, &opts, &mut |ev| {
        if let mmscope::pipeline::Event::Pdu(p) = ev {
            pdus.push(*p);
        }
    });
    let txs = mmscope::correlate::correlate(&pdus);
    for p in &pdus {
        let _ = serde_json::to_string(p);
    }
    let _ = serde_json::to_string(&txs);
}
