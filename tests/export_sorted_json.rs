//! `transactions --json` prints its lines with `export::transaction_line`, which writes sorted
//! keys without building a `serde_json::Value`. Its bytes must be exactly what printing the
//! `Value` (`export::transaction_json`, whose maps sort keys) gives, for every transaction of
//! every shipped capture, from the capture's records or from the transaction's own.

use mmscope::export::{transaction_json, transaction_line, transaction_line_with_records};
use mmscope::model::PduRecord;
use mmscope::pipeline::analyze_file;

#[test]
fn transaction_lines_equal_their_value_printed() {
    let mut checked = 0;
    for entry in std::fs::read_dir("captures").unwrap() {
        let path = entry.unwrap().path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext != "pcap" && ext != "pcapng" {
            continue;
        }
        let a = analyze_file(&path).unwrap();
        for tx in &a.transactions {
            let mut line = Vec::new();
            transaction_line(&mut line, tx, &a.pdus).unwrap();
            let mut want = serde_json::to_vec(&transaction_json(tx, &a.pdus)).unwrap();
            want.push(b'\n');
            assert_eq!(
                String::from_utf8_lossy(&line),
                String::from_utf8_lossy(&want),
                "{} transaction {}",
                path.display(),
                tx.index
            );
            // The streaming path gives the records themselves, not the capture's slice.
            let recs: Vec<&PduRecord> = tx.pdus.iter().map(|&i| &a.pdus[i]).collect();
            let mut streamed = Vec::new();
            transaction_line_with_records(&mut streamed, tx, &recs).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&streamed),
                String::from_utf8_lossy(&want),
                "{} transaction {} from its records",
                path.display(),
                tx.index
            );
            checked += 1;
        }
    }
    assert!(checked >= 34, "only {checked} transactions in captures/");
}
