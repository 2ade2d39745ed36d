//! Every limit of docs/ROBUSTNESS.md, hit on purpose with real bytes: the parser stops at the
//! bound, says so with a precise message, and keeps what came before.

#[path = "../fuzz/harness.rs"]
mod harness;

use harness::PacketBuilder;
use mmscope::capture::{CaptureError, FileReader, LinkType, PacketSource, ReaderOptions};
use mmscope::codec::primitives::uintvar;
use mmscope::codec::{ErrorKind, decode_headers, decode_multipart};
use mmscope::model::Timestamp;
use mmscope::tree::{Buffer, Dissection, Node, Severity};
use std::io::Cursor;
use std::time::Instant;

fn dissect(pdu: &[u8]) -> (Dissection, mmscope::model::MmsSummary) {
    let mut d = Dissection::default();
    let id = d.add_buffer(Buffer::new("PDU", pdu.to_vec()));
    let s = mmscope::mms::dissect(&mut d, id);
    (d, s)
}

fn experts<'a>(d: &'a Dissection, name: &str) -> Vec<&'a Node> {
    d.layers
        .iter()
        .flat_map(|l| l.walk())
        .filter(|n| n.expert.is_some() && n.name == name)
        .collect()
}

#[test]
fn uintvar_overflow_and_truncation() {
    // 5 octets whose value needs 33 bits (first octet 0x90 > 0x8F).
    let e = uintvar(&[0x90, 0x80, 0x80, 0x80, 0x00], 0).unwrap_err();
    assert_eq!((e.kind, e.offset), (ErrorKind::Overflow, 0));
    // The largest legal one: 0x8F FF FF FF 7F = u32::MAX.
    assert_eq!(
        uintvar(&[0x8F, 0xFF, 0xFF, 0xFF, 0x7F], 0).unwrap(),
        (u32::MAX, 5)
    );
    // Six octets: the 5th still has its continuation bit.
    let e = uintvar(&[0x81, 0x80, 0x80, 0x80, 0x80, 0x00], 0).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Overflow);
    // Continuation bit on the last octet of the buffer: truncated, at the missing octet.
    let e = uintvar(&[0x00, 0x81, 0x82], 1).unwrap_err();
    assert_eq!((e.kind, e.offset), (ErrorKind::Truncated, 3));
}

#[test]
fn lengths_past_the_end_allocate_nothing_and_say_where() {
    // m-retrieve-conf whose multipart declares 2^32-1 entries and a first part of 2^32-1
    // header octets, in a 20-byte PDU.
    let mut pdu = vec![0x8C, 0x84, 0x8D, 0x92, 0x84, 0xA3];
    pdu.extend([0x8F, 0xFF, 0xFF, 0xFF, 0x7F]); // nEntries
    pdu.extend([0x8F, 0xFF, 0xFF, 0xFF, 0x7F]); // HeadersLen
    pdu.extend([0x05, 0x83, 0x00]);
    let t = Instant::now();
    let (d, s) = dissect(&pdu);
    assert!(t.elapsed().as_millis() < 500);
    assert!(s.errors >= 1);
    let text = format!("{:?}", d.layers);
    assert!(text.contains("4294967295"), "{text}");
    let m = decode_multipart(&pdu, 6..pdu.len(), 0);
    assert_eq!(m.declared_entries, u32::MAX);
    assert!(m.parts.len() <= 1);
    assert!(!m.errors.is_empty());
}

#[test]
fn mms_header_field_count_is_bounded() {
    // 200 000 X-Mms-Priority fields (2 octets each): 1024 decoded, the rest said.
    let mut pdu = vec![0x8C, 0x80, 0x98, b'T', 0, 0x8D, 0x92];
    for _ in 0..200_000 {
        pdu.extend([0x8F, 0x80]);
    }
    let t = Instant::now();
    let (d, _) = dissect(&pdu);
    assert!(t.elapsed().as_secs() < 5);
    let limit = experts(&d, "limit");
    assert_eq!(limit.len(), 1);
    assert_eq!(limit[0].expert, Some(Severity::Warning));
    assert!(
        limit[0]
            .display
            .starts_with("more than 1024 header fields: the 397958 octets from byte 2049"),
        "{}",
        limit[0].display
    );
    let fields = d.layers[0].children.len();
    assert!(fields < 1024 + 1100, "{fields} nodes");
}

#[test]
fn wsp_header_count_is_bounded() {
    // 10 000 Short-cut-shift-delimiters (one octet each, a "header" each).
    let block = vec![0x01u8; 10_000];
    let h = decode_headers(&block, 0..block.len());
    assert_eq!(h.headers.len(), mmscope::codec::headers::MAX_HEADERS);
    let e = h.error.unwrap();
    assert_eq!((e.kind, e.offset), (ErrorKind::Limit, 256));
    assert_eq!(h.end, 256);
}

/// A WSP multipart with one part whose data is `inner` (content type multipart/mixed).
fn wrap_multipart(inner: &[u8]) -> Vec<u8> {
    let mut m = vec![0x01, 0x01];
    let mut len = Vec::new();
    let mut n = inner.len();
    len.push((n & 0x7F) as u8);
    n >>= 7;
    while n > 0 {
        len.insert(0, 0x80 | (n & 0x7F) as u8);
        n >>= 7;
    }
    m.extend(len);
    m.push(0xA3); // application/vnd.wap.multipart.mixed
    m.extend_from_slice(inner);
    m
}

#[test]
fn multipart_nesting_depth_is_bounded() {
    // 20 levels of multipart in multipart, a text part at the bottom.
    let mut body = vec![0x01, 0x01, 0x02, 0x83, b'h', b'i'];
    for _ in 0..20 {
        body = wrap_multipart(&body);
    }
    let mut pdu = vec![0x8C, 0x84, 0x8D, 0x92, 0x84, 0xA3];
    pdu.extend(&body);
    let (d, _) = dissect(&pdu);
    let text = format!("{:#?}", d.layers);
    assert!(
        text.contains("multipart nesting deeper than 8"),
        "no depth note in {text}"
    );
}

#[test]
fn multipart_part_count_is_bounded() {
    // 1100 empty parts (headers length 1: text/plain, data length 0).
    let mut body = vec![0x88, 0x4C]; // uintvar 1100
    for _ in 0..1100 {
        body.extend([0x01, 0x00, 0x83]);
    }
    let m = decode_multipart(&body, 0..body.len(), 0);
    assert_eq!(m.parts.len(), mmscope::codec::multipart::MAX_PARTS);
    assert!(
        m.errors
            .iter()
            .any(|e| e.kind == ErrorKind::Limit && e.offset == 2 + 3 * 1000),
        "{:?}",
        m.errors
    );
}

#[test]
fn gzip_bomb_stops_at_max_decoded() {
    use flate2::{Compression, write::GzEncoder};
    use mmscope::http::{Config, Direction, HttpConnection, HttpEvent};
    use std::io::Write;
    // 32 MB of zeros gzip to ~32 KB (a 1000:1 bomb; the test build is unoptimised).
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..32 {
        gz.write_all(&zeros).unwrap();
    }
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 1 << 20);
    let cfg = Config {
        max_decoded: 1 << 20,
        ..Config::default()
    };
    let mut c = HttpConnection::new(cfg);
    c.feed(Direction::ClientToServer, b"GET /m HTTP/1.1\r\n\r\n", 1);
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.wap.mms-message\r\n\
         Content-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        bomb.len()
    );
    let mut resp = head.into_bytes();
    resp.extend(&bomb);
    let t = Instant::now();
    let evs = c.feed(Direction::ServerToClient, &resp, 2);
    assert!(t.elapsed().as_secs() < 10);
    let m = evs
        .into_iter()
        .find_map(|e| match e {
            HttpEvent::Message(m) => Some(m),
            _ => None,
        })
        .expect("the response");
    assert!(m.body_truncated);
    assert_eq!(m.body().len(), 1 << 20);
    let notes: Vec<_> = m.notes.iter().map(|n| n.message.clone()).collect();
    assert!(
        notes.iter().any(|n| n.contains("1048576")),
        "no note names the limit: {notes:?}"
    );
}

fn tcp_pkt(src: [u8; 4], dst: [u8; 4], sport: u16, seq: u32, flags: u8, data: &[u8]) -> Vec<u8> {
    PacketBuilder::ipv4(
        6,
        src,
        dst,
        1,
        &PacketBuilder::tcp(sport, 80, seq, 0, flags, data),
    )
}

fn notes(evs: &[mmscope::net::Event]) -> Vec<String> {
    evs.iter()
        .filter_map(|e| match e {
            mmscope::net::Event::Note { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn tcp_flows_beyond_the_limit_evict_the_oldest_with_a_note() {
    use mmscope::net::{Decoder, Limits};
    let mut limits = Limits::default();
    limits.tcp.max_flows = 3;
    let mut dec = Decoder::new(limits);
    let mut out = Vec::new();
    for i in 0..5u16 {
        let p = tcp_pkt([10, 0, 0, 1], [10, 0, 0, 2], 1000 + i, 1, 0x02, b"");
        dec.decode_owned(
            u64::from(i) + 1,
            Timestamp::default(),
            LinkType::RAW,
            0,
            &p,
            &mut out,
        );
    }
    let n = notes(&out);
    assert_eq!(
        n.iter()
            .filter(|m| m.contains("evicted: more than 3 open flows"))
            .count(),
        2,
        "{n:?}"
    );
    assert!(
        n[0].contains("10.0.0.1:1000"),
        "the oldest goes first: {n:?}"
    );
    assert_eq!(dec.state().0, 3);
}

#[test]
fn tcp_out_of_order_buffer_per_direction_is_bounded() {
    use mmscope::net::{Decoder, Limits};
    let mut limits = Limits::default();
    limits.tcp.max_buffered_per_direction = 10_000;
    let mut dec = Decoder::new(limits);
    let mut out = Vec::new();
    let (c, s) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    let t = Timestamp::default();
    dec.decode_owned(
        1,
        t,
        LinkType::RAW,
        0,
        &tcp_pkt(c, s, 999, 100, 0x02, b""),
        &mut out,
    );
    // A hole at 101..1101, then 20 segments of 1000 bytes beyond it.
    let data = [b'x'; 1000];
    for i in 0..20u32 {
        let p = tcp_pkt(c, s, 999, 1101 + i * 1000, 0x10, &data);
        dec.decode_owned(2 + u64::from(i), t, LinkType::RAW, 0, &p, &mut out);
    }
    assert!(dec.state().2 <= 10_000, "buffered {}", dec.state().2);
    let gaps: Vec<_> = out
        .iter()
        .filter_map(|e| match e {
            mmscope::net::Event::TcpGap(g) => Some((g.len, g.to_string())),
            _ => None,
        })
        .collect();
    assert!(!gaps.is_empty(), "the hole was not given up");
    assert_eq!(gaps[0].0, 1000, "{gaps:?}");
}

#[test]
fn wtp_segment_count_and_open_messages_are_bounded() {
    use mmscope::wap::wtp::{SarLimits, SarOutcome, WtpReassembler, parse_wtp};
    use std::net::SocketAddr;
    let a: SocketAddr = "10.0.0.1:2000".parse().unwrap();
    let b: SocketAddr = "10.0.0.2:9201".parse().unwrap();
    let limits = SarLimits {
        max_segments: 4,
        max_bytes: 1 << 20,
        max_open: 2,
        remember_completed: 8,
    };
    let mut sar = WtpReassembler::new(limits);
    // Invoke (GTR=0, TTR=0: more segments follow), TID 5, then segments PSN 1..5.
    let invoke = [0x08, 0x00, 0x05, 0x12, b'a'];
    let pdus = parse_wtp(&invoke).unwrap();
    assert!(matches!(
        sar.push(a, b, &pdus[0], &invoke, 1),
        SarOutcome::Pending { .. }
    ));
    let mut rejected = None;
    for psn in 1..6u8 {
        // Segmented Invoke: type 5, GTR=0 TTR=0, TID 5, PSN.
        let seg = [0x28, 0x00, 0x05, psn, b'b'];
        let pdus = parse_wtp(&seg).unwrap();
        if let SarOutcome::Rejected(msg) = sar.push(a, b, &pdus[0], &seg, 1 + u64::from(psn)) {
            rejected = Some((psn, msg));
            break;
        }
    }
    let (psn, msg) = rejected.expect("a segment past max_segments is refused");
    assert_eq!(psn, 4, "{msg}");
    assert!(msg.contains('4'), "{msg}");
    // Three more open messages with max_open 2: the oldest are given up, visibly.
    for tid in 10..13u8 {
        let inv = [0x08, 0x00, tid, 0x12, b'a'];
        let p = parse_wtp(&inv).unwrap();
        sar.push(a, b, &p[0], &inv, 100 + u64::from(tid));
    }
    let evicted = sar.take_evicted();
    assert!(!evicted.is_empty());
    assert!(evicted.iter().all(|m| !m.complete && !m.notes.is_empty()));
}

#[test]
fn pcap_record_length_limits() {
    let data = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/captures/http_mm1_basic.pcap"
    ))
    .unwrap();
    // Frame 1's captured length: 1 GB (past the snaplen and the file).
    let mut bad = data.clone();
    bad[32..36].copy_from_slice(&(1u32 << 30).to_le_bytes());
    let mut r = FileReader::from_reader(Cursor::new(bad), "x.pcap", None, ReaderOptions::default())
        .unwrap();
    match r.next_packet() {
        Some(Err(CaptureError::BadLength {
            offset,
            frame,
            length,
            ..
        })) => assert_eq!((offset, frame, length), (24, 1, 1 << 30)),
        other => panic!("{other:?}"),
    }
    // Without the snaplen check, the max_record bound still holds.
    let mut bad = data.clone();
    bad[32..36].copy_from_slice(&(300_000u32).to_le_bytes());
    let opts = ReaderOptions {
        enforce_snaplen: false,
        ..ReaderOptions::default()
    };
    let mut r = FileReader::from_reader(Cursor::new(bad), "x.pcap", None, opts).unwrap();
    match r.next_packet() {
        Some(Err(CaptureError::BadLength { limit, .. })) => assert_eq!(limit, 256 * 1024),
        other => panic!("{other:?}"),
    }
}

#[test]
fn filter_size_and_nesting_are_bounded() {
    use mmscope::filter::Filter;
    // 30 000 nested parentheses overflowed the stack (a crash, not an error).
    let deep = format!(
        "{}type == send-req{}",
        "(".repeat(30_000),
        ")".repeat(30_000)
    );
    let e = Filter::parse(&deep).unwrap_err();
    assert_eq!(e.offset, 1024);
    assert!(e.message.contains("at most 1024"), "{}", e.message);
    let deep = format!("{}type == send-req{}", "(".repeat(100), ")".repeat(100));
    let e = Filter::parse(&deep).unwrap_err();
    assert_eq!(e.offset, 64);
    assert!(e.message.contains("nested too deep"), "{}", e.message);
    let nots = format!("{}type == send-req", "not ".repeat(200));
    let e = Filter::parse(&nots).unwrap_err();
    assert_eq!(e.offset, 64 * 4);
    // Within the bounds all is well: 63 levels, 300 juxtaposed words.
    let ok = format!("{}type == send-req{}", "(".repeat(63), ")".repeat(63));
    assert!(Filter::parse(&ok).is_ok());
    assert!(Filter::parse(&"lab ".repeat(300)).is_ok());
}

#[test]
fn tcp_out_of_order_buffer_over_all_flows_is_bounded() {
    use mmscope::net::{Decoder, Limits};
    let mut limits = Limits::default();
    limits.tcp.max_buffered_total = 5_000;
    let mut dec = Decoder::new(limits);
    let mut out = Vec::new();
    let (c, s) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    let t = Timestamp::default();
    let data = [b'y'; 1000];
    let mut frame = 0;
    // Three connections, each with a hole at its start and 2000 bytes behind it: 6000 > 5000.
    for port in [1001u16, 1002, 1003] {
        frame += 1;
        let syn = tcp_pkt(c, s, port, 100, 0x02, b"");
        dec.decode_owned(frame, t, LinkType::RAW, 0, &syn, &mut out);
        for k in 0..2u32 {
            frame += 1;
            let p = tcp_pkt(c, s, port, 1101 + k * 1000, 0x10, &data);
            dec.decode_owned(frame, t, LinkType::RAW, 0, &p, &mut out);
        }
    }
    assert!(dec.state().2 <= 5_000, "buffered {}", dec.state().2);
    let n = notes(&out);
    let over: Vec<_> = n
        .iter()
        .filter(|m| {
            m.contains("over the total limit of 5000 over all flows; its holes are skipped")
        })
        .collect();
    assert_eq!(over.len(), 1, "{n:?}");
    assert!(
        over[0].contains("2000 bytes buffered out of order"),
        "{over:?}"
    );
}

#[test]
fn deflate_bombs_zlib_and_raw_stop_at_the_limit() {
    use flate2::Compression;
    use flate2::write::{DeflateEncoder, ZlibEncoder};
    use mmscope::http::body::{ContentCoding, decode_content};
    use std::io::Write;
    let zeros = vec![0u8; 1 << 20];
    let mut z = ZlibEncoder::new(Vec::new(), Compression::best());
    let mut r = DeflateEncoder::new(Vec::new(), Compression::best());
    for _ in 0..16 {
        z.write_all(&zeros).unwrap();
        r.write_all(&zeros).unwrap();
    }
    for (bomb, raw) in [(z.finish().unwrap(), false), (r.finish().unwrap(), true)] {
        let d = decode_content(ContentCoding::Deflate, &bomb, 100_000);
        assert_eq!(d.data.len(), 100_000, "raw {raw}");
        assert!(d.truncated_at_limit && d.error.is_none(), "raw {raw}");
        assert_eq!(d.raw_deflate, raw);
    }
}
