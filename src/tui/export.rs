//! Exporting the transactions shown in the TUI, in the format the file name asks for: the
//! timeline exports of `mmscope export` (`crate::export`: `.json`, `.csv`, `.mmd`/`.mermaid`,
//! `.html`) or JSON Lines (`.jsonl`, and any other name): one transaction object a line, the
//! keys of `mmscope transactions --json`.

use crate::export::{Format, Timeline};
use crate::model::{PduRecord, Transaction};
use std::io::{BufWriter, Write};
use std::path::Path;

/// The timeline format for a file name, or `None` for JSON Lines.
pub fn format_for(path: &Path) -> Option<Format> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "json" => Some(Format::Json),
        "csv" => Some(Format::Csv),
        "mmd" | "mermaid" => Some(Format::Mermaid),
        "html" | "htm" => Some(Format::Html),
        _ => None,
    }
}

/// Write the transactions `txs` (whose `pdus` index into `pdus`) of capture `source` to `path`,
/// in the format its extension names ([`format_for`]). Returns how many were written.
pub fn export_transactions(
    path: &Path,
    source: &str,
    txs: &[Transaction],
    pdus: &[PduRecord],
) -> std::io::Result<usize> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    match format_for(path) {
        Some(format) => {
            let timeline = Timeline {
                source,
                transactions: txs,
                pdus,
            };
            timeline.write(format, &mut out)?;
        }
        None => {
            for t in txs {
                serde_json::to_writer(&mut out, t)?;
                out.write_all(b"\n")?;
            }
        }
    }
    out.flush()?;
    Ok(txs.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::fixture;

    #[test]
    fn the_extension_picks_the_format() {
        let a = fixture::http_mm1_basic();
        let dir = std::env::temp_dir().join(format!("mmscope-tui-export-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, check) in [
            ("t.jsonl", "\"transaction_id\":\"H-SEND-0001\""),
            ("t.json", "H-SEND-0001"),
            ("t.csv", "H-RETR-0001"),
            ("t.mmd", "sequenceDiagram"),
            ("t.html", "<html"),
        ] {
            let path = dir.join(name);
            let n = export_transactions(&path, &a.source, &a.transactions, &a.pdus).unwrap();
            assert_eq!(n, 3);
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(text.contains(check), "{name}: {text}");
        }
        let lines = std::fs::read_to_string(dir.join("t.jsonl")).unwrap();
        assert_eq!(lines.lines().count(), 3);
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("t.json")).unwrap()).unwrap();
        assert_eq!(json.as_array().unwrap().len(), 3);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
