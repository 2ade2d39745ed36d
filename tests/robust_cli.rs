//! Bad files through the real binary: every command names the file, says what is wrong and
//! where, and exits 2 when nothing could be read, 0 with a warning on stderr when part of the
//! capture could be read (docs/ROBUSTNESS.md, "Bad files").

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CAPTURE_COMMANDS: &[&str] = &["pdus", "transactions", "export"];

fn mmscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mmscope"))
        .args(args)
        .output()
        .expect("run mmscope")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mmscope-robust-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn capture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("captures")
            .join(name),
    )
    .unwrap()
}

/// Run each capture command on `path`; check the exit code and that stderr holds every one of
/// `needles` and the file name.
fn check_all(path: &Path, code: i32, needles: &[&str]) {
    let p = path.to_str().unwrap();
    for cmd in CAPTURE_COMMANDS {
        let o = mmscope(&[cmd, p]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(code), "{cmd} {p}: stderr {err}");
        assert!(
            err.contains(p),
            "{cmd}: stderr does not name the file: {err}"
        );
        for n in needles {
            assert!(err.contains(n), "{cmd}: stderr lacks {n:?}: {err}");
        }
    }
}

#[test]
fn nonexistent_file() {
    let p = scratch("does-not-exist.pcap");
    check_all(&p, 2, &["No such file"]);
    let o = mmscope(&["decode", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("does-not-exist.pcap: cannot read: No such file"));
}

#[test]
fn directory() {
    let p = scratch("a-directory");
    std::fs::create_dir_all(&p).unwrap();
    check_all(&p, 2, &["is a directory"]);
    let o = mmscope(&["decode", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is a directory"), "{}", stderr(&o));
}

#[test]
fn empty_file() {
    let p = scratch("empty.pcap");
    std::fs::write(&p, b"").unwrap();
    check_all(&p, 2, &["empty file (0 bytes)"]);
    let o = mmscope(&["decode", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("empty.pcap: empty file (0 bytes)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn not_a_capture() {
    let p = scratch("notes.txt");
    std::fs::write(&p, b"GET / HTTP/1.1\r\n").unwrap();
    // The first bytes are shown in hex so the user can see what the file is.
    check_all(&p, 2, &["not a pcap or pcapng capture file", "47 45 54 20"]);
}

#[test]
fn header_then_cut_record_header() {
    // A pcap header and 6 bytes of the first record header: no packet at all could be read.
    let data = capture("http_mm1_basic.pcap");
    let p = scratch("cut-first-record.pcap");
    std::fs::write(&p, &data[..30]).unwrap();
    check_all(
        &p,
        2,
        &[
            "truncated pcap record header at file offset 24 (frame 1)",
            "needs 16 bytes, only 6",
        ],
    );
}

#[test]
fn header_only_pcap_is_valid_but_said() {
    let data = capture("http_mm1_basic.pcap");
    let p = scratch("header-only.pcap");
    std::fs::write(&p, &data[..24]).unwrap();
    check_all(&p, 0, &["holds no packets"]);
}

#[test]
fn truncated_pcap_mid_record_gives_partial_results() {
    // Cut inside the record of frame 4 (offset 286, 802 bytes): frames 1-3 are read.
    let data = capture("http_mm1_basic.pcap");
    let p = scratch("cut-mid-record.pcap");
    std::fs::write(&p, &data[..1000]).unwrap();
    check_all(
        &p,
        0,
        &[
            "truncated pcap record at file offset 286 (frame 4)",
            "needs 802 bytes, only 714 left in the file; reading stopped there: the 3 packets before it are analysed",
        ],
    );
}

#[test]
fn truncated_pcapng_mid_block_gives_partial_results() {
    // A whole capture except its last 100 bytes: every complete PDU before the cut is listed.
    let data = capture("http_mm1_basic.pcapng");
    let full = mmscope(&["pdus", "--json", "captures/http_mm1_basic.pcapng"]);
    let p = scratch("cut.pcapng");
    std::fs::write(&p, &data[..data.len() - 100]).unwrap();
    let o = mmscope(&["pdus", "--json", p.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("truncated pcapng"), "{err}");
    assert!(
        err.contains("at file offset") && err.contains("(frame "),
        "{err}"
    );
    let n_full = String::from_utf8_lossy(&full.stdout).lines().count();
    let n_cut = String::from_utf8_lossy(&o.stdout).lines().count();
    assert!(
        n_full >= 2 && n_cut >= 1 && n_cut <= n_full,
        "{n_cut} of {n_full}"
    );
}

#[test]
fn unknown_link_type_is_a_warning_naming_it() {
    // The link type field of the pcap header set to 147 (DLT_USER0).
    let mut data = capture("http_mm1_basic.pcap");
    data[20..24].copy_from_slice(&147u32.to_le_bytes());
    let p = scratch("dlt147.pcap");
    std::fs::write(&p, &data).unwrap();
    check_all(
        &p,
        0,
        &["link type 147 is not supported", "first in frame 1"],
    );
    let o = mmscope(&["pdus", p.to_str().unwrap()]);
    assert!(o.stdout.is_empty());
}

#[test]
fn record_longer_than_snaplen_is_named() {
    // Frame 1's captured length set past the file's snaplen.
    let mut data = capture("http_mm1_basic.pcap");
    let snaplen = u32::from_le_bytes(data[16..20].try_into().unwrap());
    data[24 + 8..24 + 12].copy_from_slice(&(snaplen + 1).to_le_bytes());
    let p = scratch("past-snaplen.pcap");
    std::fs::write(&p, &data).unwrap();
    check_all(
        &p,
        2,
        &[
            "at file offset 24 (frame 1)",
            &format!("length {}", snaplen + 1),
        ],
    );
}

#[test]
fn decode_refuses_what_is_not_a_file_of_bounded_size() {
    // /dev/zero never ends: the read is bounded, the message says so.
    if Path::new("/dev/zero").exists() {
        let o = mmscope(&["decode", "/dev/zero"]);
        assert_eq!(o.status.code(), Some(2));
        assert!(
            stderr(&o).contains("/dev/zero: larger than"),
            "{}",
            stderr(&o)
        );
    }
}

#[test]
fn decode_of_non_mms_bytes_says_why_in_the_tree() {
    let p = scratch("not-mms.bin");
    std::fs::write(&p, b"hello\n").unwrap();
    let o = mmscope(&["decode", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("byte 0 is 0x68, not X-Mms-Message-Type (0x8C)"),
        "{out}"
    );
}

#[test]
fn tui_refuses_what_is_no_capture_before_touching_the_terminal() {
    let dir = scratch("tui-dir");
    std::fs::create_dir_all(&dir).unwrap();
    let empty = scratch("tui-empty.pcap");
    std::fs::write(&empty, b"").unwrap();
    let text = scratch("tui-text.txt");
    std::fs::write(&text, b"hello world\n").unwrap();
    for (p, what) in [
        (dir, "is a directory"),
        (empty, "empty file"),
        (text, "not a pcap or pcapng"),
        (scratch("tui-missing.pcap"), "No such file"),
    ] {
        let o = mmscope(&[p.to_str().unwrap()]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{}: {err}", p.display());
        assert!(
            err.contains(p.to_str().unwrap()) && err.contains(what),
            "{err}"
        );
        // Nothing was written to the terminal (no alternate screen, no raw mode).
        assert!(
            o.stdout.is_empty(),
            "{:?}",
            String::from_utf8_lossy(&o.stdout)
        );
    }
}
