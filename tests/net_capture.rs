//! Capture reader: the shipped captures against tshark's view of them, and synthetic files in
//! every variant of pcap / pcapng (byte orders, resolutions, block types) and every kind of
//! broken file.

use mmscope::capture::{
    CaptureError, FileFormat, FileReader, LinkType, PacketSource, ReaderOptions,
};
use mmscope::model::Timestamp;
use std::io::Cursor;

/// Frames of a file: (frame, time, link type, data, orig_len, interface, offset), and the error
/// that ended it, if any.
type Frame = (u64, Timestamp, LinkType, Vec<u8>, u32, u32, u64);

fn read_all<R: std::io::Read>(mut r: FileReader<R>) -> (Vec<Frame>, Option<CaptureError>) {
    let mut out = Vec::new();
    while let Some(p) = r.next_packet() {
        match p {
            Ok(p) => out.push((
                p.frame,
                p.time,
                p.link_type,
                p.data.to_vec(),
                p.orig_len,
                p.interface,
                p.file_offset,
            )),
            Err(e) => {
                assert!(r.next_packet().is_none(), "nothing after an error");
                return (out, Some(e));
            }
        }
    }
    (out, None)
}

fn open(name: &str) -> FileReader {
    FileReader::open(format!("{}/captures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn ts(secs: i64, nanos: u32) -> Timestamp {
    Timestamp { secs, nanos }
}

/// Counts, first/last timestamps and link types as `tshark -r F -T fields -e frame.time_epoch`
/// and capinfos show them.
#[test]
fn shipped_captures_match_tshark() {
    let cases: &[(&str, u64, Timestamp, Timestamp, LinkType, u32)] = &[
        (
            "any_sll2_http_mm1.pcapng",
            44,
            ts(1795554956, 563656133),
            ts(1795554956, 589847284),
            LinkType::LINUX_SLL2,
            80,
        ),
        (
            "http_mm1_basic.pcap",
            44,
            ts(1795554883, 984770000),
            ts(1795554884, 14357000),
            LinkType::ETHERNET,
            74,
        ),
        (
            "http_mm1_basic.pcapng",
            44,
            ts(1795554883, 984770810),
            ts(1795554884, 14357972),
            LinkType::ETHERNET,
            74,
        ),
        (
            "http_mm1_chunked.pcapng",
            56,
            ts(1795554886, 587353731),
            ts(1795554886, 620706746),
            LinkType::ETHERNET,
            74,
        ),
        (
            "http_mm1_gzip.pcapng",
            44,
            ts(1795554887, 887714625),
            ts(1795554887, 914984269),
            LinkType::ETHERNET,
            74,
        ),
        (
            "http_mm1_ipv6.pcapng",
            44,
            ts(1795554891, 709620494),
            ts(1795554891, 736674313),
            LinkType::ETHERNET,
            94,
        ),
        (
            "http_mm1_keepalive.pcapng",
            21,
            ts(1795554885, 275024195),
            ts(1795554885, 320012036),
            LinkType::ETHERNET,
            74,
        ),
        (
            "http_mm1_large_send.pcapng",
            26,
            ts(1795554890, 446094968),
            ts(1795554890, 447732239),
            LinkType::ETHERNET,
            74,
        ),
        (
            "net_http_reorder.pcapng",
            173,
            ts(1795554933, 400666205),
            ts(1795554933, 527196067),
            LinkType::ETHERNET,
            74,
        ),
        (
            "net_wsp_co_sar_loss.pcapng",
            53,
            ts(1795554948, 377822077),
            ts(1795554948, 962773314),
            LinkType::ETHERNET,
            71,
        ),
        (
            "wap_mm1_full.pcapng",
            47,
            ts(1795554912, 850270156),
            ts(1795554927, 628931541),
            LinkType::ETHERNET,
            71,
        ),
        (
            "wap_push_ppg.pcapng",
            33,
            ts(1795554897, 622642864),
            ts(1795554899, 717909571),
            LinkType::ETHERNET,
            74,
        ),
        (
            "wap_wsp_cl.pcapng",
            14,
            ts(1795554911, 466027241),
            ts(1795554911, 546280685),
            LinkType::ETHERNET,
            78,
        ),
        (
            "wap_wsp_co_sar_get.pcapng",
            74,
            ts(1795554900, 911711155),
            ts(1795554908, 585787315),
            LinkType::ETHERNET,
            71,
        ),
    ];
    for &(name, count, first, last, link, first_len) in cases {
        let r = open(name);
        let size = r.total_bytes().unwrap();
        let (frames, err) = read_all(r);
        assert!(err.is_none(), "{name}: {err:?}");
        assert_eq!(frames.len() as u64, count, "{name}");
        assert_eq!(frames[0].1, first, "{name} frame 1 time");
        assert_eq!(frames.last().unwrap().1, last, "{name} last frame time");
        assert!(frames.iter().all(|f| f.2 == link), "{name} link type");
        assert_eq!(frames[0].3.len() as u32, first_len, "{name} frame 1 length");
        assert_eq!(frames[0].4, first_len, "{name} frame 1 orig length");
        for (i, f) in frames.iter().enumerate() {
            assert_eq!(f.0, i as u64 + 1, "{name}: frames numbered from 1");
            assert!(f.6 < size);
        }
    }
}

#[test]
fn pcap_and_pcapng_copies_carry_the_same_bytes_and_progress_reaches_the_file_size() {
    let (a, _) = read_all(open("http_mm1_basic.pcap"));
    let (b, _) = read_all(open("http_mm1_basic.pcapng"));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.3, y.3, "frame {}", x.0);
        // Same second and microsecond: the pcap copy is the pcapng truncated to µs.
        assert_eq!(x.1.secs, y.1.secs);
        assert_eq!(x.1.nanos / 1000, y.1.nanos / 1000);
    }
    let mut r = open("http_mm1_basic.pcap");
    assert_eq!(
        r.format(),
        FileFormat::Pcap {
            nanos: false,
            big_endian: false
        }
    );
    // pcap header (24) + 16 per record + data.
    let expected_offset_2 = 24 + 16 + a[0].3.len() as u64;
    let total = r.total_bytes().unwrap();
    let mut offsets = Vec::new();
    while let Some(p) = r.next_packet() {
        offsets.push(p.unwrap().file_offset);
    }
    assert_eq!(offsets[0], 24);
    assert_eq!(offsets[1], expected_offset_2);
    assert_eq!(r.bytes_read(), total);
}

// ---- synthetic files -------------------------------------------------------------------------

fn w16(v: &mut Vec<u8>, x: u16, be: bool) {
    v.extend_from_slice(&if be { x.to_be_bytes() } else { x.to_le_bytes() });
}
fn w32(v: &mut Vec<u8>, x: u32, be: bool) {
    v.extend_from_slice(&if be { x.to_be_bytes() } else { x.to_le_bytes() });
}

fn pcap_header(be: bool, nanos: bool, snaplen: u32, link: u32) -> Vec<u8> {
    let mut v = Vec::new();
    w32(&mut v, if nanos { 0xA1B2_3C4D } else { 0xA1B2_C3D4 }, be);
    w16(&mut v, 2, be);
    w16(&mut v, 4, be);
    w32(&mut v, 0, be);
    w32(&mut v, 0, be);
    w32(&mut v, snaplen, be);
    w32(&mut v, link, be);
    v
}

fn pcap_record(v: &mut Vec<u8>, be: bool, secs: u32, frac: u32, data: &[u8], orig: u32) {
    w32(v, secs, be);
    w32(v, frac, be);
    w32(v, data.len() as u32, be);
    w32(v, orig, be);
    v.extend_from_slice(data);
}

fn reader(bytes: Vec<u8>) -> Result<FileReader<Cursor<Vec<u8>>>, CaptureError> {
    let n = bytes.len() as u64;
    FileReader::from_reader(
        Cursor::new(bytes),
        "test",
        Some(n),
        ReaderOptions::default(),
    )
}

#[test]
fn pcap_both_byte_orders_and_resolutions() {
    for be in [false, true] {
        for nanos in [false, true] {
            let mut f = pcap_header(be, nanos, 65535, 101);
            pcap_record(&mut f, be, 1_700_000_000, 123_456, b"\x45abc", 60);
            pcap_record(&mut f, be, 1_700_000_001, 999_999, b"xyz", 3);
            let (frames, err) = read_all(reader(f).unwrap());
            assert!(err.is_none());
            assert_eq!(frames.len(), 2);
            let scale = if nanos { 1 } else { 1000 };
            assert_eq!(frames[0].1, ts(1_700_000_000, 123_456 * scale));
            assert_eq!(frames[1].1, ts(1_700_000_001, 999_999 * scale));
            assert_eq!(frames[0].2, LinkType::RAW);
            assert_eq!(frames[0].3, b"\x45abc");
            assert_eq!(frames[0].4, 60);
            assert_eq!(frames[1].6, 24 + 16 + 4);
        }
    }
}

#[test]
fn truncated_pcap_gives_the_packets_before_and_a_precise_error() {
    let mut f = pcap_header(false, false, 65535, 1);
    pcap_record(&mut f, false, 1, 0, &[1u8; 100], 100);
    pcap_record(&mut f, false, 2, 0, &[2u8; 100], 100);
    let second_offset = 24 + 16 + 100;
    f.truncate(second_offset + 16 + 40); // cut in the middle of frame 2's data
    let (frames, err) = read_all(reader(f.clone()).unwrap());
    assert_eq!(frames.len(), 1);
    match err {
        Some(CaptureError::Truncated {
            offset,
            frame,
            needed,
            available,
            ..
        }) => {
            assert_eq!(offset, second_offset as u64);
            assert_eq!(frame, 2);
            assert_eq!(needed, 116);
            assert_eq!(available, 56);
        }
        e => panic!("{e:?}"),
    }
    // Cut inside the record header.
    f.truncate(second_offset + 7);
    let (frames, err) = read_all(reader(f).unwrap());
    assert_eq!(frames.len(), 1);
    let msg = err.unwrap().to_string();
    assert!(
        msg.contains(&format!("file offset {second_offset}")),
        "{msg}"
    );
    assert!(msg.contains("frame 2"), "{msg}");
}

#[test]
fn oversized_record_is_refused_not_allocated() {
    let mut f = pcap_header(false, false, 1000, 1);
    pcap_record(&mut f, false, 1, 0, &[0u8; 10], 10);
    // A record claiming 2 GB.
    w32(&mut f, 2, false);
    w32(&mut f, 0, false);
    w32(&mut f, 0x8000_0000, false);
    w32(&mut f, 0x8000_0000, false);
    let (frames, err) = read_all(reader(f).unwrap());
    assert_eq!(frames.len(), 1);
    match err {
        Some(CaptureError::BadLength {
            length,
            limit,
            frame,
            offset,
            ..
        }) => {
            assert_eq!((length, limit, frame, offset), (0x8000_0000, 1000, 2, 50));
        }
        e => panic!("{e:?}"),
    }
    // Larger than the snaplen (and the snaplen check can be switched off).
    let mut f = pcap_header(false, false, 64, 1);
    pcap_record(&mut f, false, 1, 0, &[0u8; 100], 100);
    let (frames, err) = read_all(reader(f.clone()).unwrap());
    assert!(frames.is_empty());
    assert!(matches!(
        err,
        Some(CaptureError::BadLength {
            length: 100,
            limit: 64,
            ..
        })
    ));
    let lenient = ReaderOptions {
        enforce_snaplen: false,
        ..Default::default()
    };
    let r = FileReader::from_reader(Cursor::new(f), "t", None, lenient).unwrap();
    let (frames, err) = read_all(r);
    assert!(err.is_none());
    assert_eq!(frames.len(), 1);
}

#[test]
fn garbage_empty_and_directory_are_clear_errors() {
    let e = reader(b"GET / HTTP/1.1\r\n".to_vec()).err().unwrap();
    let msg = e.to_string();
    assert!(matches!(e, CaptureError::NotACapture { .. }));
    assert!(msg.contains("47 45 54 20"), "{msg}");
    assert!(matches!(
        reader(Vec::new()).err().unwrap(),
        CaptureError::Empty { .. }
    ));
    let dir = std::env::temp_dir();
    let e = FileReader::open(&dir).err().unwrap();
    assert!(matches!(e, CaptureError::IsDirectory { .. }), "{e}");
    assert!(e.to_string().contains("directory"));
    let e = FileReader::open("/nonexistent/x.pcap").err().unwrap();
    assert!(matches!(e, CaptureError::Io { .. }));
    // A pcap magic with a cut header.
    let e = reader(pcap_header(false, false, 0, 1)[..10].to_vec())
        .err()
        .unwrap();
    assert!(
        matches!(
            e,
            CaptureError::Truncated {
                needed: 24,
                available: 10,
                ..
            }
        ),
        "{e}"
    );
}

// pcapng builder
fn block(be: bool, ty: u32, body: &[u8]) -> Vec<u8> {
    let pad = (4 - body.len() % 4) % 4;
    let len = 12 + body.len() + pad;
    let mut v = Vec::new();
    w32(&mut v, ty, be);
    w32(&mut v, len as u32, be);
    v.extend_from_slice(body);
    v.extend(std::iter::repeat_n(0, pad));
    w32(&mut v, len as u32, be);
    v
}
fn shb(be: bool) -> Vec<u8> {
    let mut b = Vec::new();
    w32(&mut b, 0x1A2B_3C4D, be);
    w16(&mut b, 1, be);
    w16(&mut b, 0, be);
    b.extend_from_slice(&[0xFF; 8]); // section length unknown
    block(be, 0x0A0D_0D0A, &b)
}
fn idb(be: bool, link: u16, snaplen: u32, tsresol: Option<u8>, tsoffset: Option<u64>) -> Vec<u8> {
    let mut b = Vec::new();
    w16(&mut b, link, be);
    w16(&mut b, 0, be);
    w32(&mut b, snaplen, be);
    // an if_name option first, to check option walking
    w16(&mut b, 2, be);
    w16(&mut b, 3, be);
    b.extend_from_slice(b"lo\0\0");
    if let Some(r) = tsresol {
        w16(&mut b, 9, be);
        w16(&mut b, 1, be);
        b.extend_from_slice(&[r, 0, 0, 0]);
    }
    if let Some(o) = tsoffset {
        w16(&mut b, 14, be);
        w16(&mut b, 8, be);
        // u64 in section byte order
        b.extend_from_slice(&if be { o.to_be_bytes() } else { o.to_le_bytes() });
    }
    w16(&mut b, 0, be);
    w16(&mut b, 0, be);
    block(be, 1, &b)
}
fn epb(be: bool, iface: u32, ts: u64, data: &[u8], orig: u32) -> Vec<u8> {
    let mut b = Vec::new();
    w32(&mut b, iface, be);
    w32(&mut b, (ts >> 32) as u32, be);
    w32(&mut b, ts as u32, be);
    w32(&mut b, data.len() as u32, be);
    w32(&mut b, orig, be);
    b.extend_from_slice(data);
    b.extend(std::iter::repeat_n(0, (4 - data.len() % 4) % 4));
    block(be, 6, &b)
}

#[test]
fn pcapng_interfaces_resolutions_block_types_and_sections() {
    for be in [false, true] {
        let mut f = shb(be);
        f.extend(idb(be, 1, 0, None, None)); // iface 0: ethernet, µs
        f.extend(idb(be, 276, 262144, Some(9), None)); // iface 1: SLL2, ns
        f.extend(idb(be, 101, 0, Some(0x80 | 10), Some(100))); // iface 2: raw, 2^-10, +100 s
        f.extend(epb(be, 0, 1_700_000_000_123_456, b"eth", 60));
        f.extend(block(be, 0x0000_0BAD, b"unknown block, skipped")); // custom/unknown
        f.extend(block(be, 5, &[0u8; 20])); // interface statistics block: skipped
        f.extend(epb(be, 1, 1_700_000_000_987_654_321, b"sll2 frame", 10));
        f.extend(epb(be, 2, (1_000 << 10) | 512, b"raw", 3)); // 1000.5 s + 100
        // Simple packet block on interface 0: orig len 8, 5 bytes of data in the padded body.
        let mut spb = Vec::new();
        w32(&mut spb, 5, be);
        spb.extend_from_slice(b"spb!!");
        f.extend(block(be, 3, &spb));
        // Obsolete packet block: iface u16, drops u16, ts, caplen, origlen, data.
        let mut pb = Vec::new();
        w16(&mut pb, 1, be);
        w16(&mut pb, 0, be);
        let t: u64 = 5_000_000_001;
        w32(&mut pb, (t >> 32) as u32, be);
        w32(&mut pb, t as u32, be);
        w32(&mut pb, 2, be);
        w32(&mut pb, 2, be);
        pb.extend_from_slice(b"pb");
        f.extend(block(be, 2, &pb));
        // A second section, in the other byte order, with its own interface 0.
        f.extend(shb(!be));
        f.extend(idb(!be, 113, 0, Some(3), None));
        f.extend(epb(!be, 0, 42_001, b"sll", 3));
        let (frames, err) = read_all(reader(f).unwrap());
        assert!(err.is_none(), "{err:?}");
        let got: Vec<_> = frames
            .iter()
            .map(|f| (f.0, f.1, f.2, f.3.clone(), f.4, f.5))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    1,
                    ts(1_700_000_000, 123_456_000),
                    LinkType::ETHERNET,
                    b"eth".to_vec(),
                    60,
                    0
                ),
                (
                    2,
                    ts(1_700_000_000, 987_654_321),
                    LinkType::LINUX_SLL2,
                    b"sll2 frame".to_vec(),
                    10,
                    1
                ),
                (
                    3,
                    ts(1100, 500_000_000),
                    LinkType::RAW,
                    b"raw".to_vec(),
                    3,
                    2
                ),
                (4, ts(0, 0), LinkType::ETHERNET, b"spb!!".to_vec(), 5, 0),
                (5, ts(5, 1), LinkType::LINUX_SLL2, b"pb".to_vec(), 2, 1),
                (
                    6,
                    ts(42, 1_000_000),
                    LinkType::LINUX_SLL,
                    b"sll".to_vec(),
                    3,
                    0
                ),
            ],
            "big endian: {be}"
        );
    }
}

#[test]
fn pcapng_errors_say_where() {
    let mut f = shb(false);
    f.extend(idb(false, 1, 0, None, None));
    let first = f.len() as u64;
    f.extend(epb(false, 0, 1, b"ok", 2));
    let second = f.len() as u64;
    f.extend(epb(false, 3, 1, b"no such interface", 17));
    let (frames, err) = read_all(reader(f.clone()).unwrap());
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].6, first);
    let msg = err.unwrap().to_string();
    assert!(
        msg.contains("interface 3") && msg.contains(&second.to_string()),
        "{msg}"
    );
    // Truncated block.
    f.truncate(second as usize + 20);
    let (frames, err) = read_all(reader(f).unwrap());
    assert_eq!(frames.len(), 1);
    assert!(
        matches!(err, Some(CaptureError::Truncated { offset, frame: 2, .. }) if offset == second),
        "{err:?}"
    );
    // Mismatched trailing length.
    let mut f = shb(false);
    f.extend(idb(false, 1, 0, None, None));
    let mut b = epb(false, 0, 1, b"ok", 2);
    let n = b.len();
    b[n - 4] ^= 0x10;
    f.extend(b);
    let (_, err) = read_all(reader(f).unwrap());
    assert!(
        matches!(err, Some(CaptureError::BadLength { .. })),
        "{err:?}"
    );
    // Unsupported major version.
    let mut f = shb(false);
    f[12] = 2;
    let (_, err) = read_all(reader(f).unwrap());
    assert!(
        matches!(err, Some(CaptureError::Unsupported { .. })),
        "{err:?}"
    );
}

#[test]
fn large_stream_is_read_with_a_bounded_buffer() {
    // 20 000 records of 1000 bytes through a reader that hands out 7 bytes per read call.
    struct Trickle(Cursor<Vec<u8>>);
    impl std::io::Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(7);
            self.0.read(&mut buf[..n])
        }
    }
    let mut f = pcap_header(true, true, 0, 1);
    for i in 0..20_000u32 {
        let data = vec![(i % 251) as u8; 1000];
        pcap_record(&mut f, true, i, 0, &data, 1000);
    }
    let r = FileReader::from_reader(Trickle(Cursor::new(f)), "t", None, Default::default());
    let mut r = r.unwrap();
    let mut n = 0u32;
    while let Some(p) = r.next_packet() {
        let p = p.unwrap();
        assert_eq!(p.time.secs, n as i64);
        assert!(p.data.iter().all(|&b| b == (n % 251) as u8));
        n += 1;
    }
    assert_eq!(n, 20_000);
    assert!(r.buffer_size() <= 256 * 1024, "buffer {}", r.buffer_size());
}

#[test]
fn real_capture_cut_mid_record_gives_the_frames_before_and_where_it_broke() {
    for name in ["http_mm1_basic.pcap", "http_mm1_basic.pcapng"] {
        let path = format!("{}/captures/{name}", env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(&path).unwrap();
        let (frames, _) = read_all(open(name));
        let tenth = frames[9].6 as usize;
        let cut = bytes[..tenth + 20].to_vec();
        let tmp =
            std::env::temp_dir().join(format!("mmscope-net-cut-{}-{name}", std::process::id()));
        std::fs::write(&tmp, &cut).unwrap();
        let (got, err) = read_all(FileReader::open(&tmp).unwrap());
        std::fs::remove_file(&tmp).unwrap();
        assert_eq!(got.len(), 9, "{name}");
        assert_eq!(got, frames[..9].to_vec(), "{name}");
        match err {
            Some(CaptureError::Truncated {
                offset,
                frame,
                available,
                ..
            }) => {
                assert_eq!((offset, frame, available), (tenth as u64, 10, 20), "{name}");
            }
            e => panic!("{name}: {e:?}"),
        }
    }
}

/// Corrupted files never panic and never make the reader allocate beyond its limit.
#[test]
fn corrupted_files_never_panic() {
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for name in [
        "http_mm1_basic.pcapng",
        "http_mm1_basic.pcap",
        "any_sll2_http_mm1.pcapng",
    ] {
        let path = format!("{}/captures/{name}", env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(path).unwrap();
        for _ in 0..300 {
            let mut b = bytes.clone();
            for _ in 0..6 {
                // Hit the headers more often than the payloads.
                let i = (next() as usize % b.len()) / if next() % 2 == 0 { 1 } else { 16 };
                b[i] = next() as u8;
            }
            let cut = b.len() - next() as usize % 64;
            b.truncate(cut);
            let Ok(mut r) = reader(b) else { continue };
            while let Some(p) = r.next_packet() {
                if p.is_err() {
                    break;
                }
            }
            assert!(r.buffer_size() <= 512 * 1024, "{}", r.buffer_size());
        }
    }
}
