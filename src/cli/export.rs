//! `mmscope export`: the timeline of a capture's transactions as JSON, CSV, Mermaid or HTML.

use super::CliResult;
use super::transactions::{FilterArgs, read_pdus};
use crate::correlate;
use crate::export::{Format, Timeline};
use crate::model::Transaction;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Output format.
    #[arg(long, short = 'F', value_enum, default_value = "json")]
    pub format: Format,
    /// Write to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "OUT")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub filters: FilterArgs,
    /// Capture file (pcap or pcapng).
    pub file: PathBuf,
}

pub fn run(args: Args) -> CliResult {
    let filter = args.filters.build()?;
    let pdus = read_pdus(&args.file)?;
    let txs: Vec<Transaction> = correlate::correlate(&pdus)
        .into_iter()
        .filter(|t| filter.matches_transaction(t, &pdus))
        .collect();
    let source = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| args.file.display().to_string());
    let timeline = Timeline {
        source: &source,
        transactions: &txs,
        pdus: &pdus,
    };
    match &args.output {
        Some(path) => {
            let f = File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let mut w = BufWriter::new(f);
            timeline.write(args.format, &mut w)?;
            w.flush().map_err(|e| format!("{}: {e}", path.display()))?;
        }
        None => {
            let mut w = super::buffered_stdout();
            match timeline.write(args.format, &mut w).and_then(|_| w.flush()) {
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
                r => r?,
            }
        }
    }
    Ok(())
}
