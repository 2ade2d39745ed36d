//! End to end: `mmscope pdus --json` on every shipped capture yields exactly the PDUs that
//! captures/MANIFEST.md lists (ground truth from the lab), in order, with their fields; where
//! tshark 4.0.17 showed the PDU, mmscope names the same completing frame.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One row of a MANIFEST ground-truth table.
#[derive(Debug)]
struct TruthRow {
    message_type: String,
    transaction_id: Option<String>,
    message_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    content_location: Option<String>,
    carried_in: String,
    tshark_frame: Option<u64>,
}

fn dash(s: &str) -> Option<String> {
    let s = s.trim();
    (s != "-" && !s.is_empty()).then(|| s.to_string())
}

fn manifest_rows(capture: &str) -> Vec<TruthRow> {
    let manifest = std::fs::read_to_string(root().join("captures/MANIFEST.md")).unwrap();
    let heading = format!("### ### {capture}");
    let start = manifest
        .lines()
        .position(|l| l.trim() == heading)
        .unwrap_or_else(|| panic!("{capture} not in MANIFEST"));
    let mut rows = Vec::new();
    for line in manifest.lines().skip(start + 1) {
        if line.starts_with("### ### ") {
            break;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | # | PDU | type | tid | mid | From / To | CL | carried in | tx | tshark frame | ...
        if cells.len() < 12 || cells[1].parse::<u32>().is_err() {
            continue;
        }
        let (from, to) = cells[6].split_once(" / ").unwrap();
        rows.push(TruthRow {
            message_type: cells[3].to_string(),
            transaction_id: dash(cells[4]),
            message_id: dash(cells[5]),
            from: dash(from),
            to: dash(to),
            content_location: dash(cells[7]),
            carried_in: cells[8].to_string(),
            tshark_frame: cells[10].parse().ok(),
        });
    }
    rows
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn pdus_json(capture: &Path) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_mmscope"))
        .args(["pdus", "--json"])
        .arg(capture)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "mmscope pdus failed on {}: {}",
        capture.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON object"))
        .collect()
}

fn opt_str(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn expected_transport(carried_in: &str) -> &'static str {
    if carried_in.starts_with("PAP") {
        "pap"
    } else if carried_in.starts_with("WSP Push") {
        "wsp-push"
    } else if carried_in.starts_with("WSP") {
        "wsp"
    } else {
        "http"
    }
}

fn check_capture(capture: &str) {
    let rows = manifest_rows(capture);
    assert!(!rows.is_empty(), "no ground truth rows for {capture}");
    let got = pdus_json(&root().join("captures").join(capture));
    let summary: Vec<String> = got
        .iter()
        .map(|p| format!("{} {}", p["frame"], p["message_type"]))
        .collect();
    assert_eq!(
        got.len(),
        rows.len(),
        "{capture}: expected {} PDUs, got {summary:?}",
        rows.len()
    );
    for (i, (row, pdu)) in rows.iter().zip(&got).enumerate() {
        let ctx = format!("{capture} PDU #{}", i + 1);
        assert_eq!(
            opt_str(pdu, "message_type").as_deref(),
            Some(row.message_type.as_str()),
            "{ctx}"
        );
        assert_eq!(
            opt_str(pdu, "transaction_id"),
            row.transaction_id,
            "{ctx} transaction_id"
        );
        assert_eq!(
            opt_str(pdu, "message_id"),
            row.message_id,
            "{ctx} message_id"
        );
        assert_eq!(opt_str(pdu, "from"), row.from, "{ctx} from");
        let to: Vec<String> = pdu["to"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(to.first().cloned(), row.to, "{ctx} to");
        assert_eq!(
            opt_str(pdu, "content_location"),
            row.content_location,
            "{ctx} content_location"
        );
        assert_eq!(
            pdu["transport"].as_str(),
            Some(expected_transport(&row.carried_in)),
            "{ctx} transport ({})",
            row.carried_in
        );
        if let Some(frame) = row.tshark_frame {
            assert_eq!(pdu["frame"].as_u64(), Some(frame), "{ctx}: tshark's frame");
        }
        assert!(
            pdu["time"].as_f64().unwrap() > 1.7e9,
            "{ctx} time is epoch seconds"
        );
        assert!(
            pdu["src"].as_str().unwrap().contains(':'),
            "{ctx} src is ip:port"
        );
        assert_eq!(pdu["errors"].as_u64(), Some(0), "{ctx}: no error node");
    }
}

/// The truth TSV (one row per PDU on the wire) agrees with the MANIFEST tables.
fn check_tsv(capture: &str) {
    let tsv = std::fs::read_to_string(root().join("captures").join(format!("{capture}.truth.tsv")))
        .unwrap();
    let got = pdus_json(&root().join("captures").join(capture));
    let want: Vec<Vec<String>> = tsv
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.split('\t').map(String::from).collect())
        .collect();
    let have: Vec<Vec<String>> = got
        .iter()
        .map(|p| {
            vec![
                opt_str(p, "message_type").unwrap_or_default(),
                opt_str(p, "transaction_id").unwrap_or_else(|| "-".into()),
                opt_str(p, "message_id").unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    assert_eq!(have, want, "{capture} against its truth.tsv");
}

macro_rules! capture_tests {
    ($($name:ident => $file:expr),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                check_capture($file);
                check_tsv($file);
            }
        )*
    };
}

capture_tests! {
    http_mm1_basic_pcapng => "http_mm1_basic.pcapng",
    http_mm1_basic_pcap => "http_mm1_basic.pcap",
    http_mm1_keepalive => "http_mm1_keepalive.pcapng",
    http_mm1_chunked => "http_mm1_chunked.pcapng",
    http_mm1_gzip => "http_mm1_gzip.pcapng",
    http_mm1_ipv6 => "http_mm1_ipv6.pcapng",
    http_mm1_large_send => "http_mm1_large_send.pcapng",
    any_sll2_http_mm1 => "any_sll2_http_mm1.pcapng",
    net_http_reorder => "net_http_reorder.pcapng",
    net_wsp_co_sar_loss => "net_wsp_co_sar_loss.pcapng",
    wap_push_ppg => "wap_push_ppg.pcapng",
    wap_wsp_co_sar_get => "wap_wsp_co_sar_get.pcapng",
    wap_wsp_cl => "wap_wsp_cl.pcapng",
    wap_mm1_full => "wap_mm1_full.pcapng",
}

#[test]
fn retransmitted_send_conf_is_flagged_not_listed_twice() {
    // wap_mm1_full: the gateway re-sends the WTP Result carrying m-send-conf (RID=1, frame 11).
    let out = Command::new(env!("CARGO_BIN_EXE_mmscope"))
        .args(["pdus", "--json", "--retransmissions"])
        .arg(root().join("captures/wap_mm1_full.pcapng"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let all: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let retrans: Vec<&Value> = all
        .iter()
        .filter(|p| !p["retransmission_of"].is_null())
        .collect();
    assert_eq!(retrans.len(), 1, "one retransmission in wap_mm1_full");
    assert_eq!(retrans[0]["frame"].as_u64(), Some(11));
    assert_eq!(retrans[0]["message_type"].as_str(), Some("m-send-conf"));
}

#[test]
fn a_file_that_is_not_a_capture_is_an_error_with_a_message() {
    let out = Command::new(env!("CARGO_BIN_EXE_mmscope"))
        .args(["pdus", "--json"])
        .arg(root().join("captures/MANIFEST.md"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("MANIFEST.md"), "names the file: {err}");
}
