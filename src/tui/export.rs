//! Exporting the transactions shown in the TUI. One function, so that the timeline exporter
//! (`crate::export::Timeline`, when it is there) can take over: the TUI only ever calls
//! [`export_transactions`], with the same inputs a `Timeline` takes.

use crate::model::{PduRecord, Transaction};
use std::io::{BufWriter, Write};
use std::path::Path;

/// Write the transactions `txs` (whose `pdus` index into `pdus`) of capture `source` to `path`
/// as JSON Lines: one transaction object a line, the keys of `mmscope transactions --json`.
/// Returns how many were written.
pub fn export_transactions(
    path: &Path,
    source: &str,
    txs: &[Transaction],
    pdus: &[PduRecord],
) -> std::io::Result<usize> {
    let _ = (source, pdus);
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    for t in txs {
        serde_json::to_writer(&mut out, t)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(txs.len())
}
