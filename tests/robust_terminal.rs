//! Terminal safety: a hostile PDU (escape sequences, BEL, backspace, DEL and C1 controls in the
//! transaction id, From, To, Subject, a part's Content-Location and text, the HTTP URI and a
//! header) never reaches the terminal raw: not through `decode`, `pdus`, `transactions` text
//! output, nor the TUI; JSON output stays valid JSON with the controls escaped; a part saved
//! from it never leaves the chosen folder.

#[path = "../fuzz/harness.rs"]
mod harness;

use harness::PacketBuilder;
use mmscope::tui::{App, buffer_text, render_to_buffer};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Everything a terminal could act on: ESC (CSI, OSC), BEL, BS, DEL, UTF-8 C1 CSI (U+009B).
const NASTY: &str = "\x1b[31mRED\x1b]0;pwned\x07\u{9b}2J\x7f\x08";

/// An m-send-req (OMA-MMS-ENC 1.2) with control characters in every text field and one part
/// named `../../etc/<ESC>passwd`.
fn hostile_pdu() -> Vec<u8> {
    let text_field = |code: u8, s: &str| {
        let mut v = vec![code];
        v.extend_from_slice(s.as_bytes());
        v.push(0);
        v
    };
    let mut pdu = vec![0x8C, 0x80];
    pdu.extend(text_field(0x98, "T\x1b[5m1"));
    pdu.extend([0x8D, 0x92]);
    let from = "+1555\x1b[1m/TYPE=PLMN\0";
    pdu.extend([0x89, 1 + from.len() as u8, 0x80]);
    pdu.extend_from_slice(from.as_bytes());
    pdu.extend(text_field(0x97, "+1666\x07/TYPE=PLMN"));
    // Subject as an Encoded-string-value with charset UTF-8 (so the C1 control is a character).
    let subject = format!("Sub{NASTY}");
    pdu.extend([0x96, (1 + subject.len() + 1) as u8, 0xEA]);
    pdu.extend_from_slice(subject.as_bytes());
    pdu.push(0);
    pdu.extend([0x84, 0xA3]); // application/vnd.wap.multipart.mixed
    let mut headers = vec![0x83]; // text/plain
    headers.extend(text_field(0x8E, "../../etc/\x1bpasswd"));
    let data = b"hi\x1b[2J";
    pdu.extend([1, headers.len() as u8, data.len() as u8]);
    pdu.extend(headers);
    pdu.extend_from_slice(data);
    pdu
}

/// A pcap (raw IPv4) of one HTTP POST carrying the PDU, and its response, on a full TCP
/// connection.
fn hostile_pcap() -> Vec<u8> {
    let pdu = hostile_pdu();
    let mut req = format!(
        "POST /mms\x1b[2J?x=\x07 HTTP/1.1\r\nHost: mmsc\r\nX-Evil: a\x1b]0;t\x07b\r\n\
         Content-Type: application/vnd.wap.mms-message\r\nContent-Length: {}\r\n\r\n",
        pdu.len()
    )
    .into_bytes();
    req.extend_from_slice(&pdu);
    let conf = [
        0x8C, 0x81, 0x98, b'T', 0x1B, b'[', b'5', b'm', b'1', 0, 0x8D, 0x92, 0x92, 0x80,
    ];
    let mut resp = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.wap.mms-message\r\n\
         Content-Length: {}\r\n\r\n",
        conf.len()
    )
    .into_bytes();
    resp.extend_from_slice(&conf);
    let (c, s) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    let pkts = [
        PacketBuilder::ipv4(
            6,
            c,
            s,
            1,
            &PacketBuilder::tcp(40000, 80, 100, 0, 0x02, b""),
        ),
        PacketBuilder::ipv4(
            6,
            s,
            c,
            2,
            &PacketBuilder::tcp(80, 40000, 500, 101, 0x12, b""),
        ),
        PacketBuilder::ipv4(
            6,
            c,
            s,
            3,
            &PacketBuilder::tcp(40000, 80, 101, 501, 0x18, &req),
        ),
        PacketBuilder::ipv4(
            6,
            s,
            c,
            4,
            &PacketBuilder::tcp(80, 40000, 501, 101 + req.len() as u32, 0x18, &resp),
        ),
    ];
    let mut pcap = Vec::new();
    pcap.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    pcap.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    pcap.extend_from_slice(&65535u32.to_le_bytes());
    pcap.extend_from_slice(&101u32.to_le_bytes());
    for (i, p) in pkts.iter().enumerate() {
        pcap.extend_from_slice(&(1_700_000_000u32 + i as u32).to_le_bytes());
        pcap.extend_from_slice(&0u32.to_le_bytes());
        pcap.extend_from_slice(&(p.len() as u32).to_le_bytes());
        pcap.extend_from_slice(&(p.len() as u32).to_le_bytes());
        pcap.extend_from_slice(p);
    }
    pcap
}

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mmscope-robust-term-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(name: &str, data: &[u8]) -> PathBuf {
    let p = scratch().join(name);
    std::fs::write(&p, data).unwrap();
    p
}

/// Raw terminal controls in `text`: C0 except newline, DEL, C1.
fn raw_controls(text: &str) -> Vec<char> {
    text.chars()
        .filter(|&c| c != '\n' && c.is_control())
        .collect()
}

fn run(args: &[&str]) -> (String, String, Option<i32>) {
    let o = Command::new(env!("CARGO_BIN_EXE_mmscope"))
        .args(args)
        .output()
        .unwrap();
    (
        String::from_utf8(o.stdout).expect("stdout is UTF-8"),
        String::from_utf8(o.stderr).expect("stderr is UTF-8"),
        o.status.code(),
    )
}

#[test]
fn decode_text_escapes_every_control() {
    let p = write("hostile.mms", &hostile_pdu());
    let (out, err, code) = run(&["decode", p.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(raw_controls(&out), Vec::<char>::new(), "{out}");
    assert!(out.contains("X-Mms-Transaction-Id: T\\u{1b}[5m1"), "{out}");
    assert!(out.contains("From: +1555\\u{1b}[1m/TYPE=PLMN"), "{out}");
    assert!(out.contains("To: +1666\\u{7}/TYPE=PLMN"), "{out}");
    assert!(
        out.contains("Subject: Sub\\u{1b}[31mRED\\u{1b}]0;pwned\\u{7}\\u{9b}2J\\u{7f}\\u{8}"),
        "{out}"
    );
    assert!(
        out.contains("Content-Location: ../../etc/\\u{1b}passwd"),
        "{out}"
    );
}

#[test]
fn decode_json_is_valid_and_keeps_the_text_exactly() {
    let p = write("hostile-json.mms", &hostile_pdu());
    let (out, _, code) = run(&["decode", "--json", p.to_str().unwrap()]);
    assert_eq!(code, Some(0));
    // serde escapes C0 controls; nothing below 0x20 but newline is raw.
    assert!(
        !out.chars().any(|c| (c as u32) < 0x20 && c != '\n'),
        "{out}"
    );
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(v["subject"], format!("Sub{NASTY}"));
}

#[test]
fn pdus_and_transactions_escape_text_and_keep_json_valid() {
    let p = write("hostile.pcap", &hostile_pcap());
    let path = p.to_str().unwrap();
    let (out, err, code) = run(&["pdus", path]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.lines().count(), 2, "{out}{err}");
    assert_eq!(raw_controls(&out), Vec::<char>::new(), "{out}");
    assert_eq!(raw_controls(&err), Vec::<char>::new(), "{err}");
    assert!(out.contains("tid=T\\u{1b}[5m1"), "{out}");
    assert!(out.contains("subject=\"Sub\\u{1b}[31mRED"), "{out}");

    let (out, err, code) = run(&["pdus", "--json", path]);
    assert_eq!(code, Some(0), "{err}");
    for line in out.lines() {
        assert!(!line.chars().any(|c| (c as u32) < 0x20), "{line}");
        let v: serde_json::Value = serde_json::from_str(line).expect("valid JSON line");
        assert_eq!(v["transaction_id"], "T\x1b[5m1");
    }

    let (out, err, code) = run(&["transactions", path]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(raw_controls(&out), Vec::<char>::new(), "{out}");
    assert!(out.contains("T\\u{1b}[5m1"), "{out}");
    let (out, _, _) = run(&["transactions", "--json", path]);
    for line in out.lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("valid JSON line");
    }
    // The diagram and page formats escape controls; CSV keeps the exact text (it is data for
    // spreadsheets and scripts, docs/ROBUSTNESS.md), quoted only where CSV needs it.
    for format in ["mermaid", "html"] {
        let (out, err, code) = run(&["export", "-F", format, path]);
        assert_eq!(code, Some(0), "{format}: {err}");
        assert_eq!(raw_controls(&out), Vec::<char>::new(), "{format}: {out}");
    }
    // JSON: serde escapes C0 (DEL and C1 are legal raw in JSON strings and stay so).
    let (out, _, _) = run(&["export", "-F", "json", path]);
    assert!(
        !out.chars().any(|c| (c as u32) < 0x20 && c != '\n'),
        "{out}"
    );
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert!(v.to_string().contains("T\\u001b[5m1"), "{v}");
    let (out, _, _) = run(&["export", "-F", "csv", path]);
    assert!(out.contains(",Sub\x1b[31mRED"), "{out}");
}

#[test]
fn tui_draws_no_raw_control_in_any_pane() {
    let p = write("hostile-tui.pcap", &hostile_pcap());
    let analysis = mmscope::pipeline::analyze_file(&p).unwrap();
    assert_eq!(analysis.pdus.len(), 2);
    let mut app = App::with_analysis(analysis);
    // Browse: open the transaction, move to the tree, expand it all, walk down to the part,
    // view it, the ladder, the PDU list mode, the notes. (No key that writes files.)
    let mut keys = vec![KeyCode::Enter, KeyCode::Tab, KeyCode::Down, KeyCode::Enter];
    keys.extend([KeyCode::Tab, KeyCode::Char('*')]);
    keys.extend([KeyCode::Down; 12]);
    keys.extend([
        KeyCode::Char('v'),
        KeyCode::Esc,
        KeyCode::Char('d'),
        KeyCode::Esc,
    ]);
    keys.extend([KeyCode::Char('p'), KeyCode::Down, KeyCode::Enter]);
    keys.extend([KeyCode::Char('!'), KeyCode::Esc]);
    let mut seen = String::new();
    for k in keys {
        app.on_key(KeyEvent::new(k, KeyModifiers::NONE));
        let b = render_to_buffer(&mut app, 120, 40);
        for cell in b.content() {
            assert!(
                !cell.symbol().chars().any(char::is_control),
                "raw control {:?} drawn after {k:?}:\n{}",
                cell.symbol(),
                buffer_text(&b)
            );
        }
        seen.push_str(&buffer_text(&b));
    }
    // The hostile text was on screen, escaped.
    assert!(seen.contains("T\\u{1b}[5m1"), "{seen}");
}

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[test]
fn saved_part_names_never_leave_the_folder() {
    use mmscope::tui::parts::{sanitize_file_name, save_bytes};
    let dir = scratch().join("saved");
    std::fs::create_dir_all(&dir).unwrap();
    let long = "a".repeat(5000);
    let hostile = [
        "../../etc/passwd",
        "/etc/passwd",
        "..\\..\\boot.ini",
        "a\0b.txt",
        "\0",
        long.as_str(),
        ".",
        "..",
        "....",
        "",
        "x/../../..",
        "\x1b[31m.jpg",
        "C:\\Windows\\system32\\x.dll",
    ];
    for name in hostile {
        let path = save_bytes(&dir, name, b"data").unwrap();
        assert_eq!(path.parent(), Some(dir.as_path()), "{name:?} -> {path:?}");
        let file = path.file_name().unwrap().to_str().unwrap();
        assert!(
            !file.starts_with('.'),
            "{name:?} -> hidden or dot name {file}"
        );
        assert!(file.len() <= 110, "{name:?} -> {} chars", file.len());
        assert!(
            file.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)),
            "{name:?} -> {file:?}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"data");
    }
    assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
    assert_eq!(sanitize_file_name("a\0b.txt"), "a_b.txt");
    // Nothing was written outside the folder.
    assert!(!scratch().join("passwd").exists());
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        hostile.len(),
        "one file per save, none elsewhere"
    );
}

#[test]
fn the_hostile_part_gets_a_plain_name() {
    // The part of the hostile PDU is named by its Content-Location "../../etc/\x1bpasswd".
    let p = write("hostile-part.pcap", &hostile_pcap());
    let analysis = mmscope::pipeline::analyze_file(&p).unwrap();
    let d = &analysis.pdus[0].dissection;
    let mut names = Vec::new();
    for layer in &d.layers {
        for n in layer.walk() {
            if let Some(info) = mmscope::tui::parts::part_info(n, &[]) {
                names.push(info.file_name(analysis.pdus[0].frame));
            }
        }
    }
    assert!(names.iter().any(|n| n == "_passwd"), "{names:?}");
    let dir = scratch().join("saved-part");
    std::fs::create_dir_all(&dir).unwrap();
    for n in &names {
        let path = mmscope::tui::parts::save_bytes(&dir, n, b"x").unwrap();
        assert!(path.starts_with(&dir) && path.parent() == Some(Path::new(&dir)));
    }
}

#[test]
fn every_node_of_the_hostile_dissection_is_display_safe() {
    // The TUI tree, `decode` and the notes all draw `Node::name` and `Node::display`: check
    // them all, HTTP layer (URI, X-Evil header) included, rather than only what a browse shows.
    let p = write("hostile-nodes.pcap", &hostile_pcap());
    let analysis = mmscope::pipeline::analyze_file(&p).unwrap();
    let mut saw_uri = false;
    for pdu in &analysis.pdus {
        for layer in &pdu.dissection.layers {
            for n in layer.walk() {
                assert_eq!(raw_controls(&n.name), Vec::<char>::new(), "{n:?}");
                assert_eq!(raw_controls(&n.display), Vec::<char>::new(), "{n:?}");
                saw_uri |= n.display.contains("/mms\\u{1b}[2J?x=\\u{7}");
            }
        }
        for note in &pdu.transport_notes {
            assert_eq!(raw_controls(note), Vec::<char>::new(), "{note}");
        }
    }
    assert!(saw_uri, "the request URI is in the HTTP layer, escaped");
}
