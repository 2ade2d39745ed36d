//! Cross-check of generated captures with an independent decoder: tshark must decode them
//! without a Malformed packet or an expert warning, and find exactly the MMS PDUs the
//! generator says it wrote (same types, transaction ids and message ids, in the same frames).
//! Skipped, saying why, when tshark is not installed.

use mmscope::capture::writer::Format;
use mmscope::generator::{self, Config, Mode, mms::message_type};
use std::path::{Path, PathBuf};
use std::process::Command;

fn tshark_available() -> bool {
    Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn tshark(path: &Path, filter: &str, fields: &[&str]) -> String {
    let conf = std::env::temp_dir().join(format!("mmscope-ws-{}", std::process::id()));
    std::fs::create_dir_all(&conf).unwrap();
    let mut cmd = Command::new("tshark");
    cmd.env("TZ", "UTC")
        .env("WIRESHARK_CONFIG_DIR", &conf)
        .args(["-n", "-2", "-o", "tcp.reassemble_out_of_order:TRUE", "-r"])
        .arg(path)
        .args(["-Y", filter]);
    if !fields.is_empty() {
        cmd.args(["-T", "fields"]);
        for f in fields {
            cmd.args(["-e", f]);
        }
    }
    let out = cmd.output().expect("running tshark");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn generate(name: &str, cfg: &Config, format: Format) -> (PathBuf, generator::Truth, String) {
    let dir = std::env::temp_dir().join(format!("mmscope-gen-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let mut log = Vec::new();
    let truth = generator::generate_file(cfg, &path, format, Some(&mut log)).unwrap();
    (path, truth, String::from_utf8(log).unwrap())
}

/// `impaired`: the capture has retransmissions and out-of-order segments on purpose, which
/// tshark rightly reports as expert warnings; only Malformed counts then.
fn check(path: &Path, truth: &generator::Truth, log: &str, impaired: bool) {
    let filter = if impaired {
        "_ws.malformed"
    } else {
        "_ws.malformed || _ws.expert.severity >= warning"
    };
    let bad = tshark(path, filter, &[]);
    assert!(bad.is_empty(), "tshark reports problems:\n{bad}");

    let rows = tshark(
        path,
        "mmse",
        &[
            "mmse.message_type",
            "mmse.transaction_id",
            "mmse.message_id",
            "frame.number",
        ],
    );
    let seen: Vec<String> = rows
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let code = u8::from_str_radix(f[0].trim_start_matches("0x"), 16).unwrap();
            let dash = |s: Option<&&str>| match s {
                Some(s) if !s.is_empty() => s.to_string(),
                _ => "-".to_string(),
            };
            format!(
                "{}\t{}\t{}\t{}",
                message_type::name(code),
                dash(f.get(1)),
                dash(f.get(2)),
                f[3]
            )
        })
        .collect();
    let expected: Vec<String> = log
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    assert_eq!(expected.len() as u64, truth.pdus);
    assert_eq!(seen.len(), expected.len(), "PDU count, tshark vs truth");
    assert_eq!(seen, expected, "PDUs in capture order, tshark vs truth");
    // And per type, as the truth summary gives them.
    for (t, n) in &truth.pdus_by_type {
        let count = seen
            .iter()
            .filter(|r| r.starts_with(&format!("{t}\t")))
            .count() as u64;
        assert_eq!(count, *n, "{t}");
    }
}

#[test]
fn tshark_agrees_on_mms_mode_capture() {
    if !tshark_available() {
        eprintln!("skipped: tshark is not installed");
        return;
    }
    let cfg = Config {
        size: 4 << 20,
        seed: 11,
        ..Config::default()
    };
    let (path, truth, log) = generate("mms.pcapng", &cfg, Format::Pcapng);
    assert!(truth.messages >= 10);
    // Both retrieval paths are present.
    assert!(truth.pdus_by_transport["wsp"] > 0);
    assert!(truth.pdus_by_transport["http"] > 0);
    check(&path, &truth, &log, false);
    std::fs::remove_file(path).ok();
}

#[test]
fn tshark_agrees_on_impaired_capture() {
    if !tshark_available() {
        eprintln!("skipped: tshark is not installed");
        return;
    }
    let cfg = Config {
        size: 4 << 20,
        seed: 11,
        impair: 0.05,
        ..Config::default()
    };
    let (path, truth, log) = generate("impaired.pcapng", &cfg, Format::Pcapng);
    let retransmitted = tshark(
        &path,
        "tcp.analysis.retransmission || tcp.analysis.out_of_order",
        &["frame.number"],
    );
    assert!(
        retransmitted.lines().count() > 20,
        "TCP impairments present"
    );
    let nacks = tshark(&path, "wtp.pdu_type == 7", &["frame.number"]);
    let resent = tshark(&path, "wtp.RID == 1", &["frame.number"]);
    assert!(nacks.lines().count() > 0, "WTP Negative Acks present");
    assert!(resent.lines().count() >= nacks.lines().count());
    check(&path, &truth, &log, true);
    std::fs::remove_file(path).ok();
}

#[test]
fn tshark_agrees_on_mixed_mode_capture() {
    if !tshark_available() {
        eprintln!("skipped: tshark is not installed");
        return;
    }
    let cfg = Config {
        size: 12 << 20,
        seed: 5,
        mode: Mode::Mixed,
        mms_share: 0.1,
        ..Config::default()
    };
    let (path, truth, log) = generate("mixed.pcap", &cfg, Format::Pcap);
    assert!(truth.background_flows > 0);
    assert!(truth.messages > 0);
    check(&path, &truth, &log, false);
    std::fs::remove_file(path).ok();
}
