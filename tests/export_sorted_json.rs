//! `transactions --json` prints its lines with `export::transaction_line`, which writes sorted
//! keys without building a `serde_json::Value`. Its bytes must be exactly what printing the
//! `Value` (`export::transaction_json`, whose maps sort keys) gives, for every transaction of
//! every shipped capture.

use mmscope::export::{transaction_json, transaction_line};
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
            checked += 1;
        }
    }
    assert!(checked >= 34, "only {checked} transactions in captures/");
}
