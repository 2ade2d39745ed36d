//! The command-line subcommands. Each file is one subcommand; `main.rs` only parses arguments.

pub mod decode;
pub mod export;
pub mod live;
pub mod pdus;
pub mod transactions;

/// Errors reported to the user on stderr, with a non-zero exit code.
pub type CliResult = Result<(), Box<dyn std::error::Error>>;

/// Standard output for printing many lines: written 64 KiB at a time. (`BufWriter`'s default of
/// 8 KiB made about 9 000 `write` calls per GB of MMS-only capture for `transactions --json`; a
/// reader such as jq on the other end of a pipe is woken once per call.)
pub(crate) fn buffered_stdout() -> std::io::BufWriter<std::io::StdoutLock<'static>> {
    std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock())
}
