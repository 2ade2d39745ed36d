//! `FileReader::seek_to` on pcapng: after seeking to an offset that `bytes_read` returned, the
//! packets that follow are exactly those of a full read (frame numbers, timestamps, link types,
//! interfaces, bytes), and the TUI's re-decode of a PDU late in a pcapng file finds the same
//! MMS PDU as the full load.

use mmscope::capture::writer::Format;
use mmscope::capture::{CaptureError, FileReader, LinkType, PacketSource};
use mmscope::generator::{self, Config, Mode};
use mmscope::model::Timestamp;
use mmscope::pipeline::{self, Event, Options};
use std::path::{Path, PathBuf};

/// One packet of a full read, with `bytes_read()` right after it was handed out.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    frame: u64,
    after: u64,
    time: Timestamp,
    link_type: LinkType,
    interface: u32,
    orig_len: u32,
    data: Vec<u8>,
}

fn drain(reader: &mut FileReader) -> Vec<Seen> {
    let mut out = Vec::new();
    while let Some(p) = reader.next_packet() {
        let p = p.unwrap_or_else(|e| panic!("read error: {e}"));
        let (frame, time, link_type, interface, orig_len, data) = (
            p.frame,
            p.time,
            p.link_type,
            p.interface,
            p.orig_len,
            p.data.to_vec(),
        );
        out.push(Seen {
            frame,
            after: reader.bytes_read(),
            time,
            link_type,
            interface,
            orig_len,
            data,
        });
    }
    out
}

fn full_read(path: &Path) -> Vec<Seen> {
    drain(&mut FileReader::open(path).unwrap())
}

/// Seek a fresh reader to just after `all[i]` and check that the rest equals `all[i + 1..]`.
fn check_seek_after(path: &Path, all: &[Seen], i: usize) {
    let mut reader = FileReader::open(path).unwrap();
    assert!(reader.seek_to(all[i].after, all[i].frame).unwrap());
    let rest = drain(&mut reader);
    assert_eq!(
        rest.len(),
        all.len() - i - 1,
        "{}: packets after frame {}",
        path.display(),
        all[i].frame
    );
    for (got, want) in rest.iter().zip(&all[i + 1..]) {
        assert_eq!(
            got,
            want,
            "{}: after seeking past frame {}",
            path.display(),
            all[i].frame
        );
    }
}

fn shipped_pcapngs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcapng"))
        .collect();
    v.sort();
    v
}

#[test]
fn shipped_pcapngs_seek_to_every_packet_boundary() {
    let files = shipped_pcapngs();
    assert!(files.len() >= 10, "the shipped pcapng captures: {files:?}");
    for path in files {
        let all = full_read(&path);
        assert!(all.len() > 3, "{}", path.display());
        for i in 0..all.len() {
            check_seek_after(&path, &all, i);
        }
    }
}

/// Seeking several times on one reader, backwards and forwards, also lands exactly.
#[test]
fn one_reader_seeks_back_and_forth() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/net_http_reorder.pcapng");
    let all = full_read(&path);
    let n = all.len();
    let mut reader = FileReader::open(&path).unwrap();
    for i in [n - 2, n / 2, 0, n - 3, 1, n / 3] {
        assert!(reader.seek_to(all[i].after, all[i].frame).unwrap());
        // Read three packets, then seek elsewhere with the last packet still pending.
        for want in &all[i + 1..(i + 4).min(n)] {
            let p = reader.next_packet().unwrap().unwrap();
            assert_eq!(
                (p.frame, p.time, p.data),
                (want.frame, want.time, &want.data[..])
            );
        }
    }
}

fn generated_pcapng(dir: &Path, size: u64) -> PathBuf {
    let path = dir.join(format!("mms-{size}.pcapng"));
    let cfg = Config {
        size,
        mode: Mode::Mms,
        seed: 7,
        ..Config::default()
    };
    generator::generate_file(&cfg, &path, Format::Pcapng, None).unwrap();
    path
}

fn tempdir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mmscope-seek-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn generated_multi_mb_pcapng_seeks_exactly() {
    let dir = tempdir("gen");
    let path = generated_pcapng(&dir, 8 << 20);
    let all = full_read(&path);
    let n = all.len();
    assert!(n > 5000, "{n} packets");
    for i in [0, 1, 4095, n / 3, n / 2, n - 1000, n - 2, n - 1] {
        check_seek_after(&path, &all, i);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---- hand-built pcapng: two sections of opposite byte order, IDBs between packets ----------

fn block(big: bool, ty: u32, body: &[u8]) -> Vec<u8> {
    let u32b = |v: u32| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut body = body.to_vec();
    while !body.len().is_multiple_of(4) {
        body.push(0);
    }
    let len = 12 + body.len() as u32;
    let mut b = Vec::new();
    b.extend(u32b(ty));
    b.extend(u32b(len));
    b.extend(body);
    b.extend(u32b(len));
    b
}

fn shb(big: bool) -> Vec<u8> {
    let mut body = Vec::new();
    if big {
        body.extend(0x1A2B_3C4Du32.to_be_bytes());
        body.extend(1u16.to_be_bytes());
        body.extend(0u16.to_be_bytes());
    } else {
        body.extend(0x1A2B_3C4Du32.to_le_bytes());
        body.extend(1u16.to_le_bytes());
        body.extend(0u16.to_le_bytes());
    }
    body.extend((-1i64).to_le_bytes()); // section length unknown (same bytes either order)
    block(big, 0x0A0D_0D0A, &body)
}

/// IDB with optional if_tsresol (code 9) and if_tsoffset (code 14).
fn idb(big: bool, link: u16, tsresol: Option<u8>, tsoffset: Option<i64>) -> Vec<u8> {
    let u16b = |v: u16| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let u32b = |v: u32| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut body = Vec::new();
    body.extend(u16b(link));
    body.extend(u16b(0));
    body.extend(u32b(0)); // snaplen 0: no limit
    if let Some(r) = tsresol {
        body.extend(u16b(9));
        body.extend(u16b(1));
        body.extend([r, 0, 0, 0]);
    }
    if let Some(o) = tsoffset {
        body.extend(u16b(14));
        body.extend(u16b(8));
        body.extend(if big {
            o.to_be_bytes()
        } else {
            o.to_le_bytes()
        });
    }
    body.extend([0, 0, 0, 0]); // opt_endofopt
    block(big, 1, &body)
}

fn epb(big: bool, iface: u32, ts: u64, data: &[u8]) -> Vec<u8> {
    let u32b = |v: u32| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut body = Vec::new();
    body.extend(u32b(iface));
    body.extend(u32b((ts >> 32) as u32));
    body.extend(u32b(ts as u32));
    body.extend(u32b(data.len() as u32));
    body.extend(u32b(data.len() as u32 + 10));
    body.extend(data);
    block(big, 6, &body)
}

/// A name resolution block, to be skipped.
fn nrb(big: bool) -> Vec<u8> {
    block(big, 4, &[0, 0, 0, 0])
}

fn hand_built() -> Vec<u8> {
    let mut f = Vec::new();
    // Section 1, little-endian: Ethernet in ns, then (after two packets) raw IP in 2^-10 s
    // with an offset of 1000 s.
    f.extend(shb(false));
    f.extend(idb(false, 1, Some(9), None));
    f.extend(epb(
        false,
        0,
        1_700_000_000_123_456_789,
        b"section1 iface0 a",
    ));
    f.extend(epb(
        false,
        0,
        1_700_000_001_000_000_001,
        b"section1 iface0 b",
    ));
    f.extend(idb(false, 101, Some(0x8A), Some(1000)));
    f.extend(nrb(false));
    f.extend(epb(false, 1, (5u64 << 10) | 512, b"section1 iface1"));
    f.extend(epb(
        false,
        0,
        1_700_000_002_000_000_000,
        b"section1 iface0 c",
    ));
    // Section 2, big-endian: Linux SLL in µs (default resolution); its interface 0 is new.
    f.extend(shb(true));
    f.extend(nrb(true));
    f.extend(idb(true, 113, None, Some(-7)));
    f.extend(epb(true, 0, 1_600_000_000_250_000, b"section2 iface0 a"));
    f.extend(idb(true, 1, Some(3), None));
    f.extend(epb(true, 1, 42_001, b"section2 iface1"));
    f.extend(epb(true, 0, 1_600_000_001_000_001, b"section2 iface0 b"));
    f
}

#[test]
fn hand_built_sections_and_interfaces_survive_a_seek() {
    let dir = tempdir("hand");
    let path = dir.join("two-sections.pcapng");
    std::fs::write(&path, hand_built()).unwrap();
    let all = full_read(&path);
    // The full read itself decodes what was written.
    let seen: Vec<(u64, LinkType, i64, u32, &[u8])> = all
        .iter()
        .map(|s| (s.frame, s.link_type, s.time.secs, s.time.nanos, &s.data[..]))
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                1,
                LinkType(1),
                1_700_000_000,
                123_456_789,
                &b"section1 iface0 a"[..]
            ),
            (2, LinkType(1), 1_700_000_001, 1, &b"section1 iface0 b"[..]),
            (3, LinkType(101), 1005, 500_000_000, &b"section1 iface1"[..]),
            (4, LinkType(1), 1_700_000_002, 0, &b"section1 iface0 c"[..]),
            (
                5,
                LinkType(113),
                1_600_000_000 - 7,
                250_000_000,
                &b"section2 iface0 a"[..]
            ),
            (6, LinkType(1), 42, 1_000_000, &b"section2 iface1"[..]),
            (
                7,
                LinkType(113),
                1_600_000_001 - 7,
                1000,
                &b"section2 iface0 b"[..]
            ),
        ]
    );
    for i in 0..all.len() {
        check_seek_after(&path, &all, i);
    }

    // Offsets that are not where a packet ends: inside a block, beyond the file.
    let mut reader = FileReader::open(&path).unwrap();
    let inside = all[1].after + 4;
    match reader.seek_to(inside, 2) {
        Err(CaptureError::BadLength { offset, .. }) => assert_eq!(offset, all[1].after),
        other => panic!("seek into a block: {other:?}"),
    }
    let len = std::fs::metadata(&path).unwrap().len();
    let mut reader = FileReader::open(&path).unwrap();
    assert!(matches!(
        reader.seek_to(len + 4, 7),
        Err(CaptureError::Truncated { .. })
    ));
    // The end of the file itself is a boundary: nothing follows.
    let mut reader = FileReader::open(&path).unwrap();
    assert!(reader.seek_to(len, 7).unwrap());
    assert!(reader.next_packet().is_none());
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---- the TUI's re-decode ---------------------------------------------------------------------

/// Full load with the index the TUI builds from progress events.
fn load(path: &Path) -> (Vec<mmscope::model::PduRecord>, Vec<(u64, u64)>) {
    let mut pdus = Vec::new();
    let mut index = Vec::new();
    pipeline::run_file(
        path,
        &Options {
            keep_dissection: true,
        },
        &mut |ev| match ev {
            Event::Pdu(p) => pdus.push(*p),
            Event::Progress { packets, bytes, .. } => index.push((packets, bytes)),
            Event::Note(_) => {}
        },
    )
    .unwrap();
    (pdus, index)
}

#[test]
fn tui_redecode_of_a_late_pdu_in_pcapng_matches_the_full_load() {
    let dir = tempdir("tui");
    let path = generated_pcapng(&dir, 20 << 20);
    let (pdus, index) = load(&path);
    assert!(
        pdus.len() > 100 && index.len() > 3,
        "{} PDUs, {} index points",
        pdus.len(),
        index.len()
    );
    // A few PDUs late in the file, each with an index point before its first frame.
    let late: Vec<_> = pdus[pdus.len() - 40..].iter().step_by(7).collect();
    let mut via_seek = 0;
    for target in late {
        let first = target.frames.first().copied().unwrap_or(target.frame);
        let &(frame, offset) = index.iter().rev().find(|&&(f, _)| f < first).unwrap();
        // The index point is one the reader can seek to (so redecode does not fall back to a
        // read from the start): the frame after it is the one a full read gives.
        let mut reader = FileReader::open(&path).unwrap();
        assert!(reader.seek_to(offset, frame).unwrap());
        assert_eq!(reader.next_packet().unwrap().unwrap().frame, frame + 1);
        via_seek += 1;

        let got = mmscope::tui::loader::redecode(&path, &index, target)
            .unwrap_or_else(|| panic!("PDU of frame {} not decoded again", target.frame));
        assert!(!mmscope::tui::loader::is_stub(&got));
        // The MMS layer (the last) and the bytes it refers to are those of the full load.
        let mms_got = got.layers.last().unwrap();
        let mms_want = target.dissection.layers.last().unwrap();
        assert_eq!(mms_got, mms_want, "frame {}", target.frame);
        assert_eq!(got.buffers.last(), target.dissection.buffers.last());
    }
    assert!(via_seek >= 5);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Time of a re-decode of the last PDU of a ~200 MB pcapng, through the index (seek) and from
/// the start (what pcapng did before seeking worked). Run by hand:
/// `cargo test --release --test seek_pcapng -- --ignored --nocapture`.
#[test]
#[ignore]
fn measure_redecode_time_200mb_pcapng() {
    let dir = tempdir("measure");
    let path = generated_pcapng(&dir, 200 << 20);
    let (pdus, index) = load(&path);
    let target = pdus.last().unwrap();
    let &(frame, offset) = index
        .iter()
        .rev()
        .find(|&&(f, _)| f < target.frames[0])
        .unwrap();
    let t = std::time::Instant::now();
    let mut reader = FileReader::open(&path).unwrap();
    assert!(reader.seek_to(offset, frame).unwrap());
    eprintln!(
        "seek_to({offset}, {frame}) alone (walks {} MB of block headers): {:?}",
        offset >> 20,
        t.elapsed()
    );
    let t = std::time::Instant::now();
    let seek = mmscope::tui::loader::redecode(&path, &index, target).unwrap();
    let with_seek = t.elapsed();
    let t = std::time::Instant::now();
    let full = mmscope::tui::loader::redecode(&path, &[], target).unwrap();
    let from_start = t.elapsed();
    assert_eq!(seek.layers.last(), full.layers.last());
    eprintln!(
        "200 MB pcapng, last PDU (frame {}): re-decode with index {:?}, from the start {:?}",
        target.frame, with_seek, from_start
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
