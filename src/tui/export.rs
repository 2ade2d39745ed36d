//! Exporting the transactions shown in the TUI. One function, so that the CLI's exporter can take
//! over when it exists (`crate::export`): the TUI only ever calls [`export_transactions`].

use crate::model::Transaction;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Write `txs` to `path` as JSON Lines (one transaction object a line, the keys of
/// `mmscope transactions --json`). Returns how many were written.
pub fn export_transactions(path: &Path, txs: &[&Transaction]) -> std::io::Result<usize> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    for t in txs {
        serde_json::to_writer(&mut out, t)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(txs.len())
}
