//! JSON, CSV and Mermaid exports of the wap_mm1_full transactions (built after MANIFEST.md).

#[path = "correlate_support.rs"]
mod support;

use mmscope::correlate;
use mmscope::export::{CSV_COLUMNS, Format, Timeline};
use support::*;

fn export(format: Format) -> String {
    let pdus = wap_mm1_full(false);
    let txs = correlate::correlate(&pdus);
    let t = Timeline {
        source: "wap_mm1_full.pcapng",
        transactions: &txs,
        pdus: &pdus,
    };
    let mut out = Vec::new();
    t.write(format, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn json_has_one_object_per_transaction_with_its_pdus() {
    let v: serde_json::Value = serde_json::from_str(&export(Format::Json)).unwrap();
    let txs = v.as_array().unwrap();
    assert_eq!(txs.len(), 3);
    let s = &txs[0];
    assert_eq!(s["kind"], "send");
    assert_eq!(s["transaction_id"], "F-SEND-0001");
    assert_eq!(s["message_id"], "F-MSG-0001@mmsc.lab");
    assert_eq!(s["frames"], serde_json::json!([4, 5, 8, 10, 11]));
    assert_eq!(s["outcome"], "ok");
    assert_eq!(s["status"], "Ok");
    assert_eq!(s["start_utc"], "2026-01-01T00:00:00.003779Z");
    assert_eq!(s["story"], 0);
    let recs = s["records"].as_array().unwrap();
    assert_eq!(recs.len(), 5);
    assert_eq!(recs[1]["transport"], "http");
    assert_eq!(recs[1]["role"], "leg");
    assert_eq!(recs[1]["copy_of"], 0);
    assert_eq!(recs[4]["role"], "retransmission");
    assert_eq!(recs[4]["frame"], 11);
    assert_eq!(recs[0]["from"], "<insert-address-token>");
    let r = &txs[2];
    assert_eq!(r["kind"], "retrieve");
    assert_eq!(r["transaction_id"], serde_json::Value::Null);
    assert_eq!(r["content_location"], F_CL);
    assert_eq!(r["note"], "");
}

#[test]
fn csv_has_one_row_per_pdu_in_capture_order() {
    let csv = export(Format::Csv);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], CSV_COLUMNS.join(","));
    assert_eq!(lines.len(), 1 + 11);
    let col = |name: &str| CSV_COLUMNS.iter().position(|c| *c == name).unwrap();
    let frames: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').nth(col("frame")).unwrap())
        .collect();
    assert_eq!(
        frames,
        [
            "4", "5", "8", "10", "11", "17", "21", "32", "34", "40", "41"
        ]
    );
    let tx_of: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').nth(col("tx_index")).unwrap())
        .collect();
    assert_eq!(
        tx_of,
        ["0", "0", "0", "0", "0", "1", "1", "2", "2", "1", "1"]
    );
    // The PAP submission's URI has no comma; a quoted field would keep the column count.
    let row17: Vec<&str> = lines[6].split(',').collect();
    assert_eq!(row17.len(), CSV_COLUMNS.len());
    assert_eq!(row17[col("transport")], "pap");
    assert_eq!(row17[col("uri")], "/wappush?username=mmsc&password=lab");
    assert_eq!(row17[col("tx_kind")], "notification");
    assert_eq!(row17[col("time_utc")], "2026-01-01T00:00:07.591861Z");
    let row11: Vec<&str> = lines[5].split(',').collect();
    assert_eq!(row11[col("role")], "retransmission");
    assert_eq!(row11[col("copy_of")], "3");
}

#[test]
fn mermaid_draws_endpoints_and_pdus_safely() {
    let m = export(Format::Mermaid);
    let lines: Vec<&str> = m.lines().collect();
    assert_eq!(lines[0], "sequenceDiagram");
    assert_eq!(lines[1], "    participant P0 as 127.0.0.1:54886");
    assert_eq!(lines[2], "    participant P1 as 127.0.0.1:9201");
    let arrows: Vec<&&str> = lines.iter().filter(|l| l.contains(">>")).collect();
    assert_eq!(arrows.len(), 11);
    assert_eq!(
        *arrows[0],
        "    P0->>P1: m-send-req F-SEND-0001 [f4 +0.000s tx 0]"
    );
    assert!(arrows[2].contains("-->>") && arrows[2].contains("m-send-conf F-SEND-0001"));
    assert!(arrows[4].ends_with("(retransmission)"), "{}", arrows[4]);
    assert!(
        lines.contains(&"    Note over P0,P3: tx 0 send F-SEND-0001: Ok"),
        "{m}"
    );
    // Nothing that would end a statement or open markup reaches the diagram.
    let entity = regex_free_entities_ok;
    for l in &lines[1..] {
        assert!(
            !l.contains('<') && !l.contains('>') || l.contains(">>"),
            "{l}"
        );
        assert!(entity(l), "{l}");
    }
    assert_eq!(
        mmscope::export::mermaid_escape("a;b#c<d>"),
        "a#59;b#35;c#60;d#62;"
    );
}

/// Every `#` and `;` in a line belongs to an entity code `#NNN;`.
fn regex_free_entities_ok(line: &str) -> bool {
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'#' => {
                let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
                if digits == 0 || b.get(i + 1 + digits) != Some(&b';') {
                    return false;
                }
                i += digits + 2;
            }
            b';' => return false,
            _ => i += 1,
        }
    }
    true
}
