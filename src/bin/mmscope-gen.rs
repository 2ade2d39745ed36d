//! `mmscope-gen`: write a large, deterministic, realistic MMS capture and its ground truth.
//!
//!     mmscope-gen --size 1G --mode mixed --seed 42 -o big.pcap [--format pcap|pcapng]
//!
//! Next to the capture it writes `OUT.truth.json` (counts of PDUs by type, transactions by
//! kind, …) and `OUT.truth.tsv` (one row per PDU in capture order: type, transaction id,
//! message id), and prints the JSON summary on stdout.

use clap::{Parser, ValueEnum};
use mmscope::capture::writer::Format;
use mmscope::generator::{self, Config, Mode};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Clone, Copy, ValueEnum)]
enum ModeArg {
    /// MMS traffic only.
    Mms,
    /// MMS about 2 % of the bytes; the rest web, TLS, DNS, RTP.
    Mixed,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    /// pcap, microsecond timestamps.
    Pcap,
    /// pcap, nanosecond timestamps.
    PcapNs,
    /// pcapng (nanosecond timestamps).
    Pcapng,
}

#[derive(Parser)]
#[command(
    name = "mmscope-gen",
    version,
    about = "Generate a large, realistic, deterministic MMS capture with its ground truth"
)]
struct Args {
    /// Target file size, e.g. 200M, 1G (binary multiples). Scenarios under way when it is
    /// reached are completed, so the file ends slightly larger.
    #[arg(long, value_parser = generator::parse_size, default_value = "100M")]
    size: u64,
    #[arg(long, value_enum, default_value = "mms")]
    mode: ModeArg,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Output file.
    #[arg(short = 'o', long)]
    output: PathBuf,
    /// Default: from the output's extension (.pcapng → pcapng, else pcap).
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Scenarios in progress at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Share of the bytes that MMS makes up in mixed mode.
    #[arg(long, default_value_t = 0.02)]
    mms_share: f64,
    /// Impairment probability: per TCP data segment, a retransmission or an out-of-order swap;
    /// per WTP segment, a loss answered by a Negative Ack and a resend.
    #[arg(long, default_value_t = 0.0)]
    impair: f64,
    /// Do not write OUT.truth.tsv (the per-PDU list).
    #[arg(long)]
    no_tsv: bool,
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let format = match args.format {
        Some(FormatArg::Pcap) => Format::Pcap,
        Some(FormatArg::PcapNs) => Format::PcapNanos,
        Some(FormatArg::Pcapng) => Format::Pcapng,
        None if args.output.extension().is_some_and(|e| e == "pcapng") => Format::Pcapng,
        None => Format::Pcap,
    };
    let cfg = Config {
        size: args.size,
        mode: match args.mode {
            ModeArg::Mms => Mode::Mms,
            ModeArg::Mixed => Mode::Mixed,
        },
        seed: args.seed,
        concurrency: args.concurrency,
        mms_share: args.mms_share,
        impair: args.impair,
        ..Config::default()
    };
    let side = |ext: &str| {
        let mut p = args.output.clone().into_os_string();
        p.push(ext);
        PathBuf::from(p)
    };
    let mut tsv = if args.no_tsv {
        None
    } else {
        let path = side(".truth.tsv");
        let file = File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Some(BufWriter::new(file))
    };
    let started = Instant::now();
    let log = tsv.as_mut().map(|w| w as &mut dyn Write);
    let truth = generator::generate_file(&cfg, &args.output, format, log)?;
    if let Some(mut t) = tsv {
        t.flush()?;
    }
    let secs = started.elapsed().as_secs_f64();
    let json = serde_json::to_string_pretty(&truth)?;
    std::fs::write(side(".truth.json"), format!("{json}\n"))?;
    println!("{json}");
    eprintln!(
        "mmscope-gen: wrote {} ({} packets, {:.1} MB) in {:.2} s ({:.1} MB/s)",
        args.output.display(),
        truth.packets,
        truth.file_bytes as f64 / 1e6,
        secs,
        truth.file_bytes as f64 / 1e6 / secs.max(1e-9)
    );
    Ok(())
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mmscope-gen: {e}");
            ExitCode::from(2)
        }
    }
}
