//! `mmscope`: open the TUI on a capture, or run one of the batch subcommands.

use clap::{Parser, Subcommand};
use mmscope::cli;
use std::path::PathBuf;
use std::process::ExitCode;

/// mimalloc instead of the system allocator: the pipeline allocates and frees many short-lived
/// buffers (reassembled segments, message bodies, tree nodes), where glibc's malloc took ~20 %
/// of the run time on MMS traffic (docs/PERFORMANCE.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "mmscope",
    version,
    about = "MMS protocol analyzer: per-transaction decode of MMS over HTTP and WAP (WSP/WTP)",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Capture file (pcap or pcapng) to open in the TUI.
    #[arg(conflicts_with = "interfaces")]
    file: Option<PathBuf>,
    /// List the interfaces live capture can use (name, flags, addresses, description).
    #[arg(long)]
    list_interfaces: bool,
    #[command(flatten)]
    live: cli::live::LiveArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Decode one raw MMS PDU file (application/vnd.wap.mms-message) and print its tree.
    Decode(cli::decode::Args),
    /// List every MMS PDU found in a capture.
    Pdus(cli::pdus::Args),
    /// Group the PDUs of a capture into MMS transactions.
    Transactions(cli::transactions::Args),
    /// Write the timeline of a capture's transactions as JSON, CSV, Mermaid or HTML.
    Export(cli::export::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Decode(a)) => cli::decode::run(a),
        Some(Command::Pdus(a)) => cli::pdus::run(a),
        Some(Command::Transactions(a)) => cli::transactions::run(a),
        Some(Command::Export(a)) => cli::export::run(a),
        None if cli.list_interfaces => cli::live::print_interfaces(),
        None => match (cli.live.capture_options(), cli.file) {
            (Err(e), _) => Err(e.into()),
            (Ok(Some(capture)), _) => mmscope::tui::run_live(&capture),
            (Ok(None), Some(file)) => mmscope::tui::run_file(&file),
            (Ok(None), None) => Err(
                "no capture given: mmscope FILE, mmscope -i IFACE, or see mmscope --help".into(),
            ),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mmscope: {e}");
            ExitCode::from(2)
        }
    }
}
