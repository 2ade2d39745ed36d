//! End-to-end: the shipped captures through the pipeline and correlation, against the ground
//! truth of captures/MANIFEST.md ("Transactions (which PDUs correlate)" and the per-capture
//! tables; frame numbers are tshark's frame of the (reassembled) PDU).

use mmscope::correlate;
use mmscope::model::{Outcome, PduRecord, Transaction, TransactionKind};
use mmscope::pipeline::{self, Event, Options};
use std::path::Path;
use std::process::Command;

use Outcome::*;
use TransactionKind::*;

struct Want {
    kind: TransactionKind,
    tid: Option<&'static str>,
    msgid: Option<&'static str>,
    types: &'static [&'static str],
    frames: &'static [u64],
    outcome: Outcome,
    status: &'static str,
}

const fn w(
    kind: TransactionKind,
    tid: Option<&'static str>,
    msgid: Option<&'static str>,
    types: &'static [&'static str],
    frames: &'static [u64],
    outcome: Outcome,
    status: &'static str,
) -> Want {
    Want {
        kind,
        tid,
        msgid,
        types,
        frames,
        outcome,
        status,
    }
}

fn read(file: &str) -> Vec<PduRecord> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(file);
    let mut pdus = Vec::new();
    pipeline::run_file(&path, &Options::default(), &mut |ev| {
        if let Event::Pdu(p) = ev {
            pdus.push(*p)
        }
    })
    .unwrap_or_else(|e| panic!("{file}: {e}"));
    pdus
}

fn check(file: &str, want: &[Want]) -> (Vec<PduRecord>, Vec<Transaction>) {
    let pdus = read(file);
    let txs = correlate::correlate(&pdus);
    let show = |t: &Transaction| {
        format!(
            "{:?} tid={:?} msgid={:?} {:?} {:?} {:?} {}",
            t.kind, t.transaction_id, t.message_id, t.message_types, t.frames, t.outcome, t.status
        )
    };
    let got: Vec<String> = txs.iter().map(show).collect();
    assert_eq!(txs.len(), want.len(), "{file}: {got:#?}");
    for (t, w) in txs.iter().zip(want) {
        let msg = format!("{file}: {}", show(t));
        assert_eq!(t.kind, w.kind, "{msg}");
        assert_eq!(t.transaction_id.as_deref(), w.tid, "{msg}");
        assert_eq!(t.message_id.as_deref(), w.msgid, "{msg}");
        assert_eq!(t.message_types, w.types, "{msg}");
        assert_eq!(t.frames, w.frames, "{msg}");
        assert_eq!(t.outcome, w.outcome, "{msg}");
        assert_eq!(t.status, w.status, "{msg}");
    }
    (pdus, txs)
}

const H_MSG: Option<&str> = Some("H-MSG-0001@mmsc.lab");

/// The MM1-over-HTTP flow of the http_mm1_* files: S, N (orphan m-notifyresp-ind: its
/// notification is pushed in wap_push_ppg.pcapng), R with acknowledgement.
fn http_flow(f: [u64; 5]) -> [Want; 3] {
    // Leak the frame lists: the expectations are static for the test's life.
    let s: &'static [u64] = Box::leak(Box::new([f[0], f[1]]));
    let n: &'static [u64] = Box::leak(Box::new([f[2]]));
    let r: &'static [u64] = Box::leak(Box::new([f[3], f[4]]));
    [
        w(
            Send,
            Some("H-SEND-0001"),
            H_MSG,
            &["m-send-req", "m-send-conf"],
            s,
            Ok,
            "Ok",
        ),
        w(
            Notification,
            Some("H-NOTIF-0001"),
            None,
            &["m-notifyresp-ind"],
            n,
            Orphan,
            "orphan",
        ),
        w(
            Retrieve,
            Some("H-RETR-0001"),
            H_MSG,
            &["m-retrieve-conf", "m-acknowledge-ind"],
            r,
            Ok,
            "Ok",
        ),
    ]
}

fn check_http_flow(file: &str, f: [u64; 5]) {
    let (_, txs) = check(file, &http_flow(f));
    assert_eq!(
        txs[0].story, txs[2].story,
        "{file}: the retrieved message is the one sent"
    );
    assert!(txs[0].story.is_some());
    assert_eq!(txs[1].story, None);
}

#[test]
fn http_mm1_basic() {
    check_http_flow("http_mm1_basic.pcapng", [4, 8, 16, 30, 38]);
    check_http_flow("http_mm1_basic.pcap", [4, 8, 16, 30, 38]);
}

#[test]
fn http_mm1_variants() {
    check_http_flow("http_mm1_keepalive.pcapng", [4, 8, 10, 15, 17]);
    check_http_flow("http_mm1_chunked.pcapng", [4, 10, 18, 42, 50]);
    check_http_flow("http_mm1_gzip.pcapng", [4, 8, 16, 30, 38]);
    check_http_flow("http_mm1_ipv6.pcapng", [4, 8, 16, 30, 38]);
    check_http_flow("any_sll2_http_mm1.pcapng", [4, 8, 16, 30, 38]);
}

#[test]
fn http_mm1_large_send() {
    check(
        "http_mm1_large_send.pcapng",
        &[w(
            Send,
            Some("L-SEND-0001"),
            Some("L-MSG-0001@mmsc.lab"),
            &["m-send-req", "m-send-conf"],
            &[17, 22],
            Ok,
            "Ok",
        )],
    );
}

#[test]
fn wap_mm1_full() {
    let f_msg = Some("F-MSG-0001@mmsc.lab");
    let (pdus, txs) = check(
        "wap_mm1_full.pcapng",
        &[
            w(
                Send,
                Some("F-SEND-0001"),
                f_msg,
                &[
                    "m-send-req",
                    "m-send-req",
                    "m-send-conf",
                    "m-send-conf",
                    "m-send-conf",
                ],
                &[4, 5, 8, 10, 11],
                Ok,
                "Ok",
            ),
            w(
                Notification,
                Some("F-NOTIF-0001"),
                None,
                &[
                    "m-notification-ind",
                    "m-notification-ind",
                    "m-notifyresp-ind",
                    "m-notifyresp-ind",
                ],
                &[17, 21, 40, 41],
                Ok,
                "Retrieved",
            ),
            w(
                Retrieve,
                None,
                f_msg,
                &["m-retrieve-conf", "m-retrieve-conf"],
                &[32, 34],
                Ok,
                "Ok",
            ),
        ],
    );
    let roles: Vec<&str> = correlate::pdu_roles(&txs[0], &pdus)
        .iter()
        .map(|r| r.as_str())
        .collect();
    assert_eq!(roles, ["first", "leg", "first", "leg", "retransmission"]);
    assert_eq!(
        txs[1].content_location.as_deref(),
        Some("http://127.0.0.1/mms/F-MSG-0001")
    );
    assert_eq!(
        txs[2].content_location.as_deref(),
        Some("http://127.0.0.1/mms/F-MSG-0001"),
        "the GET names the notification's Content-Location (needs carrier.uri on the reply)"
    );
    assert!(
        txs.iter().all(|t| t.story == Some(0)),
        "one story: {txs:#?}"
    );
}

#[test]
fn wap_push_ppg() {
    let nt: &[&str] = &["m-notification-ind", "m-notification-ind"];
    check(
        "wap_push_ppg.pcapng",
        &[
            w(
                Notification,
                Some("P-NOTIF-0001"),
                None,
                nt,
                &[4, 11],
                Incomplete,
                "incomplete",
            ),
            w(
                Notification,
                Some("H-NOTIF-0001"),
                None,
                nt,
                &[15, 19],
                Incomplete,
                "incomplete",
            ),
            w(
                DeliveryReport,
                None,
                H_MSG,
                &["m-delivery-ind", "m-delivery-ind"],
                &[26, 30],
                Ok,
                "Retrieved",
            ),
        ],
    );
}

#[test]
fn wap_wsp_co_sar_get() {
    check(
        "wap_wsp_co_sar_get.pcapng",
        &[w(
            Retrieve,
            Some("W-RETR-0001"),
            Some("W-MSG-0001@mmsc.lab"),
            &[
                "m-retrieve-conf",
                "m-retrieve-conf",
                "m-acknowledge-ind",
                "m-acknowledge-ind",
            ],
            &[14, 61, 67, 68],
            Ok,
            "Ok",
        )],
    );
}

#[test]
fn wap_wsp_cl() {
    check(
        "wap_wsp_cl.pcapng",
        &[
            w(
                Retrieve,
                None,
                Some("C-MSG-0001@mmsc.lab"),
                &["m-retrieve-conf", "m-retrieve-conf"],
                &[5, 7],
                Ok,
                "Ok",
            ),
            w(
                Send,
                Some("C-SEND-0001"),
                Some("C-MSG-0003@mmsc.lab"),
                &["m-send-req", "m-send-req", "m-send-conf", "m-send-conf"],
                &[8, 9, 12, 14],
                Ok,
                "Ok",
            ),
        ],
    );
}

#[test]
fn net_http_reorder() {
    check(
        "net_http_reorder.pcapng",
        &[
            w(
                Send,
                Some("N-SEND-0001"),
                Some("N-MSG-0001@mmsc.lab"),
                &["m-send-req", "m-send-conf"],
                &[48, 66],
                Ok,
                "Ok",
            ),
            w(
                Retrieve,
                Some("N-RETR-0001"),
                Some("N-MSG-0001@mmsc.lab"),
                &["m-retrieve-conf", "m-acknowledge-ind"],
                &[154, 166],
                Ok,
                "Ok",
            ),
        ],
    );
}

#[test]
fn net_wsp_co_sar_loss() {
    check(
        "net_wsp_co_sar_loss.pcapng",
        &[w(
            Retrieve,
            Some("W-RETR-0001"),
            Some("W-MSG-0001@mmsc.lab"),
            &["m-retrieve-conf"],
            &[51],
            Incomplete,
            "incomplete",
        )],
    );
}

fn mmscope(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mmscope"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run mmscope")
}

#[test]
fn cli_transactions_json_lines() {
    let out = mmscope(&["transactions", "--json", "captures/wap_mm1_full.pcapng"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["kind"], "send");
    assert_eq!(lines[0]["transaction_id"], "F-SEND-0001");
    assert_eq!(lines[0]["frames"], serde_json::json!([4, 5, 8, 10, 11]));
    assert_eq!(
        lines[1]["content_location"],
        "http://127.0.0.1/mms/F-MSG-0001"
    );
    assert_eq!(
        lines[2]["message_types"],
        serde_json::json!(["m-retrieve-conf", "m-retrieve-conf"])
    );
    for l in &lines {
        for key in [
            "kind",
            "transaction_id",
            "message_id",
            "content_location",
            "frames",
            "message_types",
            "start",
            "end",
            "status",
        ] {
            assert!(l.get(key).is_some(), "{key} missing in {l}");
        }
    }
    let out = mmscope(&[
        "transactions",
        "--json",
        "--type",
        "send-conf",
        "captures/wap_mm1_full.pcapng",
    ]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 1);
}

#[test]
fn cli_errors_and_exports() {
    let out = mmscope(&[
        "transactions",
        "--filter",
        "type == ",
        "captures/wap_mm1_full.pcapng",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("character 8"), "{err}");
    let out = mmscope(&["transactions", "captures/does-not-exist.pcapng"]);
    assert!(!out.status.success());
    assert!(!out.stderr.is_empty());
    for (fmt, needle) in [
        ("json", "\"F-SEND-0001\""),
        ("csv", "tx_index,tx_kind"),
        ("mermaid", "sequenceDiagram"),
        ("html", "<svg"),
    ] {
        let out = mmscope(&["export", "--format", fmt, "captures/wap_mm1_full.pcapng"]);
        assert!(
            out.status.success(),
            "{fmt}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(needle),
            "{fmt}"
        );
    }
}
